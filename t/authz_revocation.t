#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for authz_revocation_file (SPEC 12): each rule kind and their
# combinations through real requests; the 401 and its deny line; cache
# hits and internal redirects revoked too; hot reload by rename, seen
# by every worker without an nginx reload; a broken or missing file at
# run time keeps the last list and is logged once per change; max_age
# answers 503; "nginx -t" on bad files and at the limits.

###############################################################################

use warnings;
use strict;

use Test::More;

use POSIX ();

use JSON::PP ();
use Time::HiRes ();

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

my $WORKERS = 2;
my $t = AuthzTest->new(workers => $WORKERS)->has('module', 'mint');

my $now = time();
my $T = $now - 100;              # the time of the time rules
my $file = $t->testdir . '/revoked.json';

write_list({
    generated_at => $now,
    jti => { 'tok-1' => $now + 600, "q\"x\x01" => $now + 600,
        'old' => $now - 3600 },
    sub => { bob => $T, zed => $T - 50 },
    tenant => { globex => $T, initech => $T + 20 },
    iat_before => 0,
});

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    authz_cache zone=tokens:1m;
    authz_revocation_file %%TESTDIR%%/revoked.json check=200ms max_age=1h;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        authz on;
        authz_key_file %%KEYDIR%%/k1.pub kid=k1;

        add_header X-Error $authz_error always;
        add_header X-Reason $authz_reason always;
        add_header X-Cache $authz_cache always;

        location / {
            proxy_pass http://%%ECHO%%;
        }

        location /optional/ {
            authz optional;
            proxy_pass http://%%ECHO%%;
        }

        location /redirect/ {
            authz off;
            try_files /nonexistent @protected;
        }

        location @protected {
            proxy_pass http://%%ECHO%%;
        }
    }
}

EOF

$t->run->plan(103);

###############################################################################

# the 401 of a revoked token

my $r = $t->get('/', token => mint(jti => 'tok-1'));
is($r->{status}, 401, 'jti listed: 401');
like($r->{headers}{'www-authenticate'},
    qr/error="invalid_token", error_description="token revoked"/,
    'jti listed: WWW-Authenticate');
is($r->{headers}{'x-error'}, 'invalid_token', 'jti listed: $authz_error');
is($r->{headers}{'x-reason'}, 'token revoked', 'jti listed: $authz_reason');
is($r->{body}, '{"error":"invalid_token","error_description":'
    . '"token revoked"}', 'jti listed: JSON body');

ok(logged('[info] ', 'authz: invalid token: token revoked (by jti), '
    . 'sub: "alice", tenant: "acme", jti: "tok-1", kid: "k1", alg: "RS256"'),
    'deny line with sub, tenant and jti');

is(status(jti => 'tok-2'), 200, 'jti not listed');
is(status(jti => "q\"x\x01"), 401, 'jti with a quote and a control byte');
ok(logged('jti: "q\\x22x\\x01"'), 'jti escaped in the deny line');
is(status(jti => 'x' x 100, sub => 'zed', iat => $T - 60), 401,
    'long jti revoked by sub');
ok(logged('jti: "' . 'x' x 64 . '..."'), 'jti capped in the deny line');
is(status(jti => 'tok-1', sub => 'x"kid:"y'), 401, 'sub with quotes revoked');
ok(logged('sub: "x\\"kid:\\"y", tenant: "acme", jti: "tok-1"'),
    'sub escaped in the revocation line: no forged field');

# sub: every session before T

is(status(sub => 'bob', iat => $T - 1), 401, 'sub: iat < T');
is(status(sub => 'bob', iat => $T), 200, 'sub: iat == T');
is(status(sub => 'bob', iat => $T + 1), 200, 'sub: iat > T');
is(status(sub => 'bob', iat => undef), 401, 'sub: no iat');
is(status(sub => 'Bob', iat => $T - 1), 200, 'sub: compared exactly');
ok(logged('token revoked (by sub), sub: "bob", tenant: "acme"'),
    'sub deny line');

# tenant

is(status(tid => 'globex', iat => $T - 1), 401, 'tenant: iat < T');
is(status(tid => 'globex', iat => $T), 200, 'tenant: iat == T');
is(status(tid => 'globex', iat => undef), 401, 'tenant: no iat');
is(status(tid => 'acme', iat => undef), 200, 'other tenant, no iat');

# combinations: the latest applicable T wins

is(status(sub => 'bob', tid => 'initech', iat => $T + 10), 401,
    'sub T, later tenant T: the tenant revokes');
is(status(sub => 'bob', tid => 'initech', iat => $T + 20), 200,
    'sub T, later tenant T: issued at the later T passes');
is(status(sub => 'zed', tid => 'globex', iat => $T - 10), 401,
    'sub T, later tenant T, iat between');
is(status(sub => 'bob', tid => 'globex', iat => $T), 200,
    'same T twice, iat == T');
is(status(sub => 'zed', tid => 'acme', iat => $T - 49), 200,
    'sub T only, iat after it');
is(status(jti => 'tok-1', sub => 'carol', iat => $now), 401,
    'jti revokes a token no time rule names');

# revoked under "authz optional" too, and across an internal redirect

is(status_at('/optional/', jti => 'tok-1'), 401, 'optional: revoked');
is(status_at('/optional/', jti => 'tok-2'), 200, 'optional: allowed');
is(status_at('/redirect/', jti => 'tok-1'), 401,
    'try_files to a named location: revoked');
like($t->get('/redirect/', token => mint(jti => 'tok-2'))->{body},
    qr/x-user-id=alice/, 'try_files to a named location: allowed');

# cache hits are checked too

my $cached = mint(jti => 'tok-1', sub => 'dora');
is(header('x-cache', $cached), 'miss', 'revoked token: first a miss');
$r = $t->get('/', token => $cached);
is($r->{headers}{'x-cache'}, 'hit', 'revoked token: then a hit');
is($r->{status}, 401, 'revoked on a cache hit');

my $carol = mint(sub => 'carol', iat => $now - 10);
is(header('x-cache', $carol), 'miss', 'carol: a miss');
is(header('x-cache', $carol), 'hit', 'carol: a hit');

###############################################################################

# hot reload: a rename is seen by every worker, without an nginx reload

my $master = $t->read_file('nginx.pid');
my %pids = worker_pids();

my $loaded = count(qr/revocation file ".*" loaded/);

write_list({ generated_at => $now, sub => { carol => $now } });

my $start = Time::HiRes::time();
ok(poll(sub { status(token => $carol) == 401 }),
    'hot reload: revoked after a rename');
my $first = Time::HiRes::time() - $start;

ok(poll(sub { count(qr/revocation file ".*" loaded/) >= $loaded + $WORKERS }),
    'hot reload: every worker loaded the new list');
my $all = Time::HiRes::time() - $start;

note(sprintf('rename to first 401: %.0f ms, to every worker: %.0f ms',
    $first * 1000, $all * 1000));
ok($all < 5, 'hot reload: within a few checks of 200ms');

$r = $t->get('/', token => $carol);
is($r->{status}, 401, 'carol: revoked');
is($r->{headers}{'x-cache'}, 'hit', 'carol: revoked on a hit');
is(status(jti => 'tok-1'), 200, 'the old list is gone');

is($t->read_file('nginx.pid'), $master, 'hot reload: same master');
my %now = worker_pids();
is(join(',', sort keys %now), join(',', sort keys %pids),
    'hot reload: same workers');
ok(logged('[notice] ', 'authz: revocation file "' . $file . '" loaded: '
    . '0 jti, 1 sub, 0 tenant entries, 0 pruned, 0 kB, in '),
    'reload logged');

# iat_before: everybody issued before T

update_list({ generated_at => $now, iat_before => $T });
is(status(iat => $T - 1), 401, 'iat_before: iat < T');
is(status(iat => $T), 200, 'iat_before: iat == T');
is(status(iat => undef), 401, 'iat_before: no iat');
is(status(sub => 'carol', iat => $now), 200, 'carol is back');

# a jti entry past its exp (and the leeway) is pruned at load

update_list({ generated_at => $now, jti => { gone => $now - 3600,
    kept => $now - 60 } });
ok(logged('loaded: 1 jti, 0 sub, 0 tenant entries, 1 pruned'),
    'jti past its exp pruned');
is(status(jti => 'kept'), 401, 'jti in its leeway kept');

###############################################################################

# a broken file at run time keeps the last good list, logged once per change

my $log_mark = length $t->error_log;

update_list('{"sub": {"erin": 1}');
is(count(qr/not loaded/, $log_mark), $WORKERS, 'partial file: logged');
sleep_checks();
is(count(qr/not loaded/, $log_mark), $WORKERS, 'partial file: once a worker');
ok(logged('[error] ', 'authz: revocation file "' . $file . '" not loaded, '
    . 'the previous list of 1 entries stays: unexpected end of input '
    . 'at line 1, column 20'), 'partial file: the reason and its position');
is(status(jti => 'kept'), 401, 'partial file: the last list stays');

update_list('{"sub": {"erin": "yesterday"}}');
is(count(qr/not loaded/, $log_mark), 2 * $WORKERS,
    'another bad file: logged again');
like(log_since($log_mark), qr/expected a number at line 1, column 18/,
    'another bad file: the reason');

unlink $file;
ok(poll(sub { count(qr/not loaded/, $log_mark) >= 3 * $WORKERS }),
    'missing file: logged');
sleep_checks();
is(count(qr/not loaded/, $log_mark), 3 * $WORKERS, 'missing file: once');
like(log_since($log_mark), qr/stat\(\) failed \(2: No such file/,
    'missing file: the reason');
is(status(jti => 'kept'), 401, 'missing file: the last list stays');

update_list({ generated_at => $now, sub => { erin => $now } });
is(status(sub => 'erin', iat => $now - 1), 401, 'a good file again: loaded');
is(status(jti => 'kept'), 200, 'a good file again: replaces the list');

# a file rewritten in place (same inode, same size) is seen too

my $ino = (stat $file)[1];
update_list({ generated_at => $now, sub => { fred => $now } }, 'in place');
is((stat $file)[1], $ino, 'in place: same inode');
is(status(sub => 'fred', iat => $now - 1), 401, 'in place: loaded');

###############################################################################

# max_age=1h: a list generated 2 hours ago vouches for nobody

update_list({ generated_at => $now - 7200, sub => { erin => $now } });
is(status(), 503, 'stale list: 503');
$r = $t->get('/', token => mint());
is($r->{headers}{'x-error'}, 'revocation_stale', 'stale: $authz_error');
is($r->{body}, '{"error":"revocation_stale","error_description":'
    . '"revocation list too old"}', 'stale: JSON body');
ok(!exists $r->{headers}{'www-authenticate'}, 'stale: no WWW-Authenticate');
is(status(sub => 'erin', iat => $now - 1), 401, 'stale: revoked stays 401');
is($t->get('/')->{status}, 401, 'stale: no token stays 401');
ok(poll(sub { count(qr/is older than max_age/) >= $WORKERS }),
    'stale: logged');
sleep_checks();
is(count(qr/is older than max_age/), $WORKERS, 'stale: logged once a worker');

update_list({ generated_at => $now, sub => {} });
is(status(), 200, 'fresh again: 200');

###############################################################################

# a 1,000,000-entry list, replaced at run time; the last entry counts

SKIP: {
    skip 'slow under valgrind', 3 if $ENV{AUTHZ_NGINX_PREFIX_CMD};

    my $mark = count(qr/revocation file ".*" loaded/);
    update_list(big_list(1000000, 'sub', $now));

    is(count(qr/revocation file ".*" loaded/), $mark + $WORKERS,
        '1,000,000 entries: loaded by every worker');
    my $re = 'loaded: 0 jti, 1000000 sub, 0 tenant entries, 0 pruned, '
        . '(\d+) kB, in (\d+) ms';
    my @ms = log_since(0) =~ /$re/g;
    note("1,000,000 entries: kB and ms of each worker: @ms");
    is(status(sub => 'k0999999', iat => $now - 1), 401,
        '1,000,000 entries: the last one revokes');
    is(status(sub => 'k1000000', iat => $now - 1), 200,
        '1,000,000 entries: one more is not listed');
}

###############################################################################

# an nginx reload reads the list with the new configuration; the new
# workers then follow the file as the old ones did

update_list({ generated_at => $now, sub => { gina => $now } });

my %old = worker_pids();
$t->reload;
ok(poll(sub {
    my %w = worker_pids();
    return keys %w == $WORKERS && !grep { $old{$_} } keys %w;
}), 'nginx reload: the old workers are gone');

is(status(sub => 'gina', iat => $now - 1), 401, 'nginx reload: list read');

update_list({ generated_at => $now, sub => { hank => $now } });
is(status(sub => 'hank', iat => $now - 1), 401,
    'nginx reload: new workers follow the file');
is(status(sub => 'gina', iat => $now - 1), 200,
    'nginx reload: the list replaced');

###############################################################################

# nginx -t

$t->write_file('bad.json', qq{{\n  "sub": {\n    "a" 1\n  }\n}\n});
$t->write_file('subs.json', '{"subs": {}}');
$t->write_file('nogen.json', '{"sub": {}}');
$t->write_file('256.json', '{"sub": {"' . 'k' x 256 . '": 1}}');
$t->write_file('257.json', '{"sub": {"' . 'k' x 257 . '": 1}}');
$t->write_file('old.json', qq{{"generated_at": @{[$now - 7200]}}});
$t->write_file('ms.json', qq{{"generated_at": @{[$now * 1000]}}});
POSIX::mkfifo($t->testdir . '/fifo.json', 0644) or die "mkfifo: $!";

fails('missing file', 'nope.json',
    qr/authz_revocation_file ".*\/nope\.json": open\(\) failed \(2: No such/);
fails('bad json', 'bad.json',
    qr/authz_revocation_file ".*\/bad\.json": expected ":" at line 3, col/);
fails('unknown member', 'subs.json', qr/unknown member at line 1, column 2/);
fails('max_age without generated_at', 'nogen.json max_age=1h',
    qr/no "generated_at" while max_age is set/);
passes('256-byte string', '256.json');
fails('generated_at in milliseconds', 'ms.json max_age=1h',
    qr/"generated_at" is in the future/);

# a FIFO at the path neither blocks nginx -t nor is read

my $fifo_start = time;
fails('a fifo', 'fifo.json', qr/not a regular file/);
ok(time - $fifo_start < 5, 'a fifo: no wait for a writer');
fails('257-byte string', '257.json', qr/string longer than 256 bytes/);
fails('check 0', 'old.json check=0', qr/invalid check "0"/);
fails('check 50ms', 'old.json check=50ms', qr/invalid check "50ms"/);
fails('max_age 0', 'old.json max_age=0', qr/invalid max_age "0"/);
fails('unknown parameter', 'old.json refresh=1s',
    qr/invalid parameter "refresh=1s"/);

my ($rc, $out) = $t->nginx_t(conf('old.json max_age=1h'));
ok($rc == 0 && $out =~ /\[warn\] .*"\S+\/old\.json" is older than max_age/,
    'stale at start: a warning') or diag($out);

($rc, $out) = $t->nginx_t(conf("old.json;\n"
    . "    authz_revocation_file %%TESTDIR%%/old.json"));
ok($rc != 0 && $out =~ /"authz_revocation_file" directive is duplicate/,
    'duplicate');

($rc, $out) = $t->nginx_t(conf('old.json', 'server'));
ok($rc != 0 && $out =~ /"authz_revocation_file" directive is not allowed/,
    'not in server');

# the limits at their boundary

$t->write_file('1m.json', big_list(1000000, 'jti', $now + 600));
$t->write_file('1m1.json', big_list(1000001, 'tenant', $now));
passes('1,000,000 entries', '1m.json');
fails('1,000,001 entries', '1m1.json',
    qr/more than 1000000 entries at line 1, column \d+/);

$t->write_file('64m.json', '{}' . ' ' x (64 * 1024 * 1024 - 2));
$t->write_file('64m1.json', '{}' . ' ' x (64 * 1024 * 1024 - 1));
passes('64 MB', '64m.json');
fails('64 MB and a byte', '64m1.json', qr/larger than 64 MB/);
unlink map { $t->testdir . "/$_" } qw(1m.json 1m1.json 64m.json 64m1.json);

###############################################################################

# an atomic write: a temporary file renamed over the list

sub write_list {
    my ($doc) = @_;

    my $text = ref $doc ? JSON::PP->new->canonical->encode($doc) : $doc;
    $t->write_file('revoked.json.tmp', $text);
    rename("$file.tmp", $file) or die "rename: $!";
}

# a new list, and every worker done with it (loaded or refused)
sub update_list {
    my ($doc, $in_place) = @_;

    my $re = qr/revocation file ".*" (?:loaded|not loaded)/;
    my $mark = count($re);

    if ($in_place) {
        $t->write_file('revoked.json', JSON::PP->new->canonical->encode($doc));

    } else {
        write_list($doc);
    }

    poll(sub { count($re) >= $mark + $WORKERS }, 120)
        or diag('not every worker saw the new list');
}

sub big_list {
    my ($n, $kind, $time) = @_;
    return qq({"generated_at": $now, "$kind": {)
        . join(', ', map { sprintf('"k%07d": %d', $_, $time) } 0 .. $n - 1)
        . '}}';
}

sub status {
    my (%c) = @_;
    return status_at('/', %c);
}

sub status_at {
    my ($uri, %c) = @_;

    my $tok = exists $c{token} ? delete $c{token} : %c ? mint(%c) : mint();
    return $t->get($uri, token => $tok)->{status} // 0;
}

sub header {
    my ($name, $tok) = @_;
    return $t->get('/', token => $tok)->{headers}{$name} // '';
}

# the children of the master: the workers
sub worker_pids {
    my ($master) = $t->read_file('nginx.pid') =~ /(\d+)/;
    my %p;

    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $stat or next;
        my $line = <$fh> // '';
        $p{$1} = 1 if $line =~ /^(\d+) \(.*\) \S+ (\d+) / && $2 == $master;
    }

    return %p;
}

# the error log (without debug lines) holds these texts on one line
sub logged {
    my $text = join '', @_;
    return index($t->error_log(nodebug => 1), $text) >= 0 if @_ == 1;

    my ($level, $rest) = @_;
    return $t->error_log(nodebug => 1) =~ /\Q$level\E.*\Q$rest\E/;
}

# the log after the first $mark bytes, without debug lines
sub log_since {
    my ($mark) = @_;

    my $log = substr($t->error_log, $mark);
    $log =~ s/^.* \[debug\] .*\n//mg;

    return $log;
}

sub count {
    my ($re, $mark) = @_;
    my $log = substr($t->error_log, $mark // 0);
    return scalar(() = $log =~ /$re/g);
}

sub poll {
    my ($cond, $timeout) = @_;

    my $deadline = Time::HiRes::time() + ($timeout // 10);
    do {
        return 1 if $cond->();
        Time::HiRes::sleep(0.05);
    } while (Time::HiRes::time() < $deadline);

    return 0;
}

# three checks of 200ms: enough for a second line, were there one
sub sleep_checks {
    Time::HiRes::sleep(0.7);
}

sub conf {
    my ($args, $where) = @_;

    my $d = "    authz_revocation_file %%TESTDIR%%/$args;";
    my ($http, $server) = ($where // 'http') eq 'server' ? ('', $d)
        : ($d, '');

    return <<"EOF";
%%TEST_GLOBALS%%
events {
}
http {
    %%TEST_GLOBALS_HTTP%%
$http
    server {
        listen 127.0.0.1:%%PORT_8080%%;
$server
        location / {
            proxy_pass http://%%ECHO%%;
        }
    }
}
EOF
}

sub passes {
    my ($name, $args) = @_;

    my ($rc, $out) = $t->nginx_t(conf($args));
    ok($rc == 0, $name) or diag($out);
}

# the error names the directive, the file and the line
sub fails {
    my ($name, $args, $re) = @_;

    my ($rc, $out) = $t->nginx_t(conf($args));
    my $conf = $t->testdir . '/nginx_t.conf';

    ok($rc != 0 && $out =~ /\[emerg\] .*(?:$re).* in \Q$conf\E:6$/m, $name)
        or diag($out);
}

###############################################################################
