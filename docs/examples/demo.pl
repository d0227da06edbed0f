#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors
#
# The demo of ngx_http_authz_module: starts nginx with
# docs/examples/gateway.conf on 127.0.0.1 in front of a demo upstream (a
# server block of the same nginx that echoes the identity headers it
# receives), sends a scripted set of requests with tokens minted by
# build/authz-mint, prints a table of the outcomes, and stops nginx.
#
#     perl docs/examples/demo.pl                 (make demo)
#     perl docs/examples/demo.pl --foreground    (make run)
#
# With --foreground, the same gateway runs in the foreground, on port
# 8080 when it is free, until Ctrl-C.
#
# Needs build/ngx_http_authz_module.so, build/authz-mint and keys/dev/
# (make demo and make run build them and generate the keys first).
# Environment: AUTHZ_NGINX (the nginx binary, default /usr/sbin/nginx).
#
# Core Perl modules only.  The exit status is 0 when every scenario got
# the expected answer, 1 otherwise.

use strict;
use warnings;

use Cwd ();
use Digest::SHA qw(hmac_sha256);
use Errno ();
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use IO::Select ();
use IO::Socket::INET ();
use JSON::PP ();
use MIME::Base64 qw(encode_base64 decode_base64);
use POSIX ();
use Time::HiRes ();

$| = 1;

my $ROOT = Cwd::abs_path(dirname(__FILE__) . '/../..');
my $REL = sub { my $p = shift; $p =~ s{^\Q$ROOT\E/}{}; $p };

my $NGINX  = $ENV{AUTHZ_NGINX} || '/usr/sbin/nginx';
my $MODULE = "$ROOT/build/ngx_http_authz_module.so";
my $MINT   = "$ROOT/build/authz-mint";
my $KEYS   = "$ROOT/keys/dev";
my $CONF   = "$ROOT/docs/examples/gateway.conf";

# what gateway.conf expects of the tokens
my $ISS = 'https://manager.local';
my $AUD = 'api.local';
my $KID = 'dev-1';

my $mode = @ARGV == 0 ? 'demo'
    : @ARGV == 1 && $ARGV[0] eq '--foreground' ? 'run'
    : usage();

sub usage {
    print STDERR "usage: perl docs/examples/demo.pl [--foreground]\n";
    exit 2;
}

sub fail {
    print STDERR "demo: @_\n";
    exit 1;
}

for ([$NGINX, 'nginx'], [$MODULE, 'the module'], [$MINT, 'authz-mint']) {
    -e $_->[0] or fail("$_->[1] not found at $_->[0]; run \"make demo\"");
}
for (qw(private.pem public.pem jwks.json)) {
    -r "$KEYS/$_" or fail("$KEYS/$_ is missing; run"
        . " \"sh keys/gen-dev-keys.sh build/authz-mint\" (make demo does)");
}


###############################################################################
# the nginx instance; stopped at exit, on errors and on Ctrl-C

my ($DIR, $NGINX_PID, $CHILD);

END {
    local ($?, $!);
    stop_nginx();
}

sub stop_nginx {
    my $child = $CHILD;
    my $pid = $CHILD || $NGINX_PID || read_pid();
    ($CHILD, $NGINX_PID) = (undef, undef);
    return unless $pid && $pid > 1;

    kill 'TERM', $pid;
    unless (wait_gone($pid, $child, 5)) {
        kill 'KILL', $pid;
        wait_gone($pid, $child, 2);
    }
}

# waits until nginx's master has exited: our child (foreground) or a
# daemon, for which a zombie not yet reaped by init counts as gone
sub wait_gone {
    my ($pid, $child, $secs) = @_;

    my $deadline = Time::HiRes::time() + $secs;
    while (Time::HiRes::time() < $deadline) {
        if ($child) {
            return 1 if waitpid($pid, POSIX::WNOHANG()) != 0;
        } else {
            open my $fh, '<', "/proc/$pid/stat" or return 1;
            my $stat = <$fh> // '';
            return 1 if !kill(0, $pid) || $stat =~ /^\d+ \(.*\) Z/s;
        }
        Time::HiRes::sleep(0.05);
    }

    return 0;
}

sub read_pid {
    my ($dir) = @_ ? @_ : ($DIR);
    return undef unless $dir && open my $fh, '<', "$dir/nginx.pid";
    my $pid = <$fh> // '';
    return $pid =~ /^(\d+)/ ? $1 : undef;
}


###############################################################################
# ports, the scratch directory and the configuration

sub free_port {
    my (%taken) = map { $_ => 1 } @_;
    for (1 .. 100) {
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
            LocalPort => 0, Proto => 'tcp', ReuseAddr => 1)
            or fail("cannot bind a port on 127.0.0.1: $@");
        my $port = $s->sockport;
        close $s;
        return $port unless $taken{$port};
    }
    fail('no free port');
}

sub port_is_free {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
        LocalPort => $port, Proto => 'tcp', ReuseAddr => 1) or return 0;
    close $s;
    return !can_connect($port);
}

sub can_connect {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $port, Proto => 'tcp', Timeout => 1);
    close $s if $s;
    return !!$s;
}

sub slurp {
    my ($path) = @_;
    open my $fh, '<', $path or fail("open $path: $!");
    local $/;
    return scalar <$fh>;
}

sub spew {
    my ($path, $text) = @_;
    open my $fh, '>', $path or fail("open $path: $!");
    print $fh $text;
    close $fh or fail("write $path: $!");
    chmod 0644, $path;
}

# build/demo/<mode>: a fresh directory each time, unless a gateway
# started from it is still running
sub scratch_dir {
    my $dir = "$ROOT/build/demo/$mode";

    if (-e "$dir/nginx.pid") {
        my $pid = read_pid($dir);
        fail("an nginx started from $dir is still running (pid $pid);"
            . " stop it first") if $pid && kill 0, $pid;
    }

    remove_tree($dir);
    make_path($dir, { mode => 0755 });
    # nginx workers run as nobody when we are root: they must read it
    chmod 0755, "$ROOT/build/demo", $dir;

    return $dir;
}

# gateway.conf with its placeholders replaced, and the demo upstream
# appended to the http block
sub write_config {
    my ($dir, $port, $up) = @_;

    my $conf = slurp($CONF);
    my %ph = (MODULE => $MODULE, KEYS => $KEYS, PORT => $port,
        UPSTREAM => "127.0.0.1:$up");
    $conf =~ s/%%(MODULE|KEYS|PORT|UPSTREAM)%%/$ph{$1}/g;
    fail("$CONF: unknown placeholder $1") if $conf =~ /(%%\w+%%)/;

    my $upstream = <<"EOF";

    # the demo upstream (added by docs/examples/demo.pl): answers every
    # request with the identity headers the gateway forwarded

    server {
        listen      127.0.0.1:$up;
        access_log  off;

        location / {
            default_type  text/plain;
            return  200 "uid=\$http_x_user_id tid=\$http_x_tenant_id perms=\$http_x_user_permissions svc=\$http_x_user_services\\n";
        }

        # the issuer's JWKS endpoint of the demo: the gateway fetches it
        location = /.well-known/jwks.json {
            default_type  application/json;
            alias  $dir/published-jwks.json;
        }
    }
EOF

    # the last "}" of the file closes the http block
    $conf =~ s/\}[^}]*\z/$upstream}\n/
        or fail("$CONF: no closing brace of the http block");

    spew("$dir/nginx.conf", $conf);
    revoke($dir, {});
    publish($dir, "$KEYS/jwks.json");
}

# the JWKS the demo issuer publishes, replaced the atomic way
sub publish {
    my ($dir, @files) = @_;

    my @keys = map { @{ JSON::PP->new->decode(slurp($_))->{keys} } } @files;
    spew("$dir/published-jwks.json.tmp",
        JSON::PP->new->canonical->encode({ keys => \@keys }) . "\n");
    rename "$dir/published-jwks.json.tmp", "$dir/published-jwks.json"
        or fail("rename $dir/published-jwks.json: $!");
}

# the revocation list, written the atomic way: a new file renamed over it
sub revoke {
    my ($dir, $list) = @_;

    my $text = JSON::PP->new->canonical->encode({ generated_at => time(),
        %$list });
    spew("$dir/revoked.json.tmp", "$text\n");
    rename "$dir/revoked.json.tmp", "$dir/revoked.json"
        or fail("rename $dir/revoked.json: $!");
}

sub nginx_cmd {
    my ($dir, @global) = @_;
    return ($NGINX, '-p', "$dir/", '-c', "$dir/nginx.conf",
        '-e', "$dir/error.log", @global ? ('-g', join ' ', @global) : ());
}

# runs a command, returns (exit status, stdout and stderr)
sub run_cmd {
    my (@cmd) = @_;

    my $pid = open(my $fh, '-|') // fail("fork: $!");
    unless ($pid) {
        open STDERR, '>&', \*STDOUT;
        exec { $cmd[0] } @cmd or print "exec $cmd[0]: $!\n";
        POSIX::_exit(127);
    }
    my $out = do { local $/; <$fh> } // '';
    close $fh;

    return ($? >> 8, $out);
}

sub check_config {
    my ($dir) = @_;
    my ($rc, $out) = run_cmd($NGINX, '-t', '-p', "$dir/",
        '-c', "$dir/nginx.conf", '-e', 'stderr');
    return if $rc == 0;
    $out =~ s/^/    /mg;
    fail("nginx -t failed on $dir/nginx.conf:\n$out");
}

sub wait_ports {
    my (@ports) = @_;
    my $deadline = Time::HiRes::time() + 10;
    while (Time::HiRes::time() < $deadline) {
        return 1 unless grep { !can_connect($_) } @ports;
        if ($CHILD && waitpid($CHILD, POSIX::WNOHANG()) > 0) {
            $CHILD = undef;
            return 0;
        }
        Time::HiRes::sleep(0.05);
    }
    return 0;
}

sub error_log_tail {
    my ($dir) = @_;
    open my $fh, '<', "$dir/error.log" or return '';
    my @l = <$fh>;
    return join '', map { "    $_" } @l[($#l > 20 ? $#l - 20 : 0) .. $#l];
}


###############################################################################
# tokens

sub b64url {
    my $s = encode_base64($_[0], '');
    $s =~ tr{+/}{-_};
    $s =~ s/=+$//;
    return $s;
}

sub b64url_decode {
    my $s = $_[0] =~ tr{-_}{+/}r;
    return decode_base64($s . '=' x (-length($s) % 4));
}

sub mint_args {
    return ('--key', "$KEYS/private.pem", '--kid', $KID,
        '--iss', $ISS, '--aud', $AUD, @_);
}

sub mint {
    my @cmd = ($MINT, mint_args(@_));
    my ($rc, $out) = run_cmd(@cmd);
    $out =~ s/\s+\z//;
    fail("@cmd: exit $rc\n$out") if $rc || $out !~ /^[\w-]+\.[\w-]+\.[\w-]+$/;
    return $out;
}

# the same header and payload, another signature
sub resign {
    my ($token, $header, $sign) = @_;
    my (undef, $payload) = split /\./, $token;
    my $input = b64url($header) . '.' . $payload;
    return "$input." . b64url($sign->($input));
}

sub forge {
    my ($token) = @_;
    my ($h, $p, $s) = split /\./, $token;
    my $sig = b64url_decode($s);
    substr($sig, $_, 1) = chr(ord(substr $sig, $_, 1) ^ 0x5a) for 10 .. 13;
    return "$h.$p." . b64url($sig);
}


###############################################################################
# foreground: make run

if ($mode eq 'run') {
    $DIR = scratch_dir();
    my $port = port_is_free(8080) ? 8080 : free_port();
    my $up = free_port($port);
    write_config($DIR, $port, $up);
    check_config($DIR);

    my @mint = ($REL->($MINT), mint_args('--sub', 'bob', '--tenant', 'acme',
        '--ttl', '15m', '--role', 'role_editor', '--service', 'blog',
        '--service', 'chatbot=false', '--service', 'settings',
        '--service', 'billing'));
    s{^\Q$ROOT\E/}{} for @mint;
    my $mint = shift @mint;
    while (my ($o, $v) = splice @mint, 0, 2) {
        $mint .= length($mint) - rindex($mint, "\n") > 50
            ? " \\\n        $o $v" : " $o $v";
    }

    print <<"EOF";
ngx_http_authz_module: the gateway of docs/examples/gateway.conf on
http://127.0.0.1:$port/ in front of a demo upstream on 127.0.0.1:$up that
echoes the identity headers it receives.

  config:  ${\ $REL->("$DIR/nginx.conf")}
  logs:    ${\ $REL->("$DIR/error.log")}, ${\ $REL->("$DIR/access.log")}

A token for bob, an editor of tenant acme (valid 15 minutes):

  token=\$($mint)

A request:

  curl -i -H "Authorization: Bearer \$token" http://127.0.0.1:$port/api/blog/acme/posts/17

(PUT is allowed, DELETE is 403; /api/blog/globex/... is tenant_mismatch.)
Ctrl-C stops nginx.

EOF

    STDOUT->flush;
    STDERR->flush;

    $CHILD = fork // fail("fork: $!");
    unless ($CHILD) {
        # the same process group: Ctrl-C reaches nginx too
        open STDIN, '<', '/dev/null';
        my @cmd = nginx_cmd($DIR, 'daemon off;');
        exec { $cmd[0] } @cmd or print STDERR "exec $cmd[0]: $!\n";
        POSIX::_exit(127);
    }

    my $stopping = 0;
    $SIG{INT} = $SIG{TERM} = $SIG{HUP} = sub {
        $stopping = 1;
        kill 'TERM', $CHILD if $CHILD;
    };

    unless (wait_ports($port, $up)) {
        fail("nginx did not start:\n" . error_log_tail($DIR));
    }
    print "nginx is running (pid $CHILD).\n";

    while ($CHILD) {
        my $r = waitpid $CHILD, 0;
        next if $r == -1 && $!{EINTR};
        my $st = $?;
        $CHILD = undef;
        if (!$stopping) {
            fail("nginx exited (status " . ($st >> 8) . "):\n"
                . error_log_tail($DIR));
        }
    }

    print "\nnginx stopped.\n";
    exit 0;
}


###############################################################################
# the scenarios: make demo

$DIR = scratch_dir();
my $port = free_port();
my $up = free_port($port);
write_config($DIR, $port, $up);

$SIG{INT} = $SIG{TERM} = $SIG{HUP} = sub {
    print STDERR "\ndemo: interrupted, stopping nginx\n";
    exit 130;
};

print "ngx_http_authz_module demo: nginx with docs/examples/gateway.conf"
    . " on 127.0.0.1:$port,\n"
    . "upstream echo on 127.0.0.1:$up; config and logs in "
    . $REL->($DIR) . "/\n\n";

check_config($DIR);

{
    my ($rc, $out) = run_cmd(nginx_cmd($DIR));
    fail("nginx failed to start (exit $rc):\n$out" . error_log_tail($DIR))
        if $rc;
    $NGINX_PID = read_pid();
    wait_ports($port, $up)
        or fail("nginx did not start:\n" . error_log_tail($DIR));
}

my @all = ('--service', 'blog', '--service', 'chatbot=false',
    '--service', 'settings', '--service', 'billing');

my %tok = (
    alice => mint('--sub', 'alice', '--tenant', 'acme',
        '--role', 'role_owner', @all),
    bob => mint('--sub', 'bob', '--tenant', 'acme',
        '--role', 'role_editor', @all),
    carol => mint('--sub', 'carol', '--tenant', 'acme',
        '--role', 'role_viewer', @all),
    dave => mint('--sub', 'dave', '--tenant', 'globex',
        '--role', 'role_owner', '--service', 'blog', '--service', 'chatbot',
        '--service', 'settings=false', '--service', 'billing=false'),
    ops => mint('--sub', 'ops', '--tenant', 'platform',
        '--perm', '*', '--perm', 'platform:tenants.any',
        '--service', 'blog'),
    expired => mint('--sub', 'bob', '--tenant', 'acme',
        '--role', 'role_editor', @all, '--iat', '-20m', '--exp', '-60'),
);

my $pub = slurp("$KEYS/public.pem");
$tok{forged} = forge($tok{bob});
$tok{none} = resign($tok{bob}, qq({"alg":"none","kid":"$KID","typ":"JWT"}),
    sub { '' });
$tok{hs256} = resign($tok{bob}, qq({"alg":"HS256","kid":"$KID","typ":"JWT"}),
    sub { hmac_sha256($_[0], $pub) });

my $owner = 'blog:*,chatbot:*,settings:*,billing:*';
my $viewer = 'blog:posts.read,chatbot:slots.read,settings:profile.read';

# [ scenario, token, method, path, expected status and error,
#   extra headers, expected X-User-Permissions upstream ]
my @scenarios = (
    ['owner',             'alice', DELETE => '/api/blog/acme/posts/17', 200],
    ['owner',             'alice', PUT => '/api/settings/acme/members/bob', 200],
    ['owner, no rule',    'alice', GET => '/api/blog/acme/comments',
        '403 forbidden'],
    ['editor',            'bob',   PUT => '/api/blog/acme/posts/17', 200],
    ['editor',            'bob',   DELETE => '/api/blog/acme/posts/17',
        '403 insufficient_scope'],
    ['editor, own drafts', 'bob',  GET => '/api/blog/acme/users/bob/drafts', 200],
    ['editor, drafts of alice', 'bob', GET => '/api/blog/acme/users/alice/drafts',
        '403 forbidden'],
    ['editor, own invoices', 'bob', GET => '/api/billing/acme/users/bob/invoices',
        200],
    ['editor, all invoices', 'bob', GET => '/api/billing/acme/invoices',
        '403 insufficient_scope'],
    ['viewer',            'carol', GET => '/api/blog/acme/posts/17', 200],
    ['viewer',            'carol', PUT => '/api/blog/acme/posts/17',
        '403 insufficient_scope'],
    ['viewer',            'carol', GET => '/api/settings/acme/profile', 200],
    ['viewer',            'carol', PUT => '/api/settings/acme/profile',
        '403 insufficient_scope'],
    ['another tenant',    'bob',   GET => '/api/blog/globex/posts/1',
        '403 tenant_mismatch'],
    ['another tenant, ../', 'bob', GET => '/api/blog/acme/posts/%2E%2E/%2E%2E/globex/posts',
        '403 tenant_mismatch'],
    ['globex owner',      'dave',  GET => '/api/chatbot/globex/slots/1', 200],
    ['disabled service',  'dave',  GET => '/api/settings/globex/profile',
        '403 service_disabled'],
    ['disabled service',  'alice', GET => '/api/chatbot/acme/slots',
        '403 service_disabled'],
    ['operator bypass',   'ops',   GET => '/api/blog/acme/posts', 200],
    ['expired',           'expired', GET => '/api/blog/acme/posts/17',
        '401 invalid_token'],
    ['forged signature',  'forged', GET => '/api/blog/acme/posts/17',
        '401 invalid_token'],
    ['alg none',          'none',  GET => '/api/blog/acme/posts/17',
        '401 invalid_token'],
    ['HS256, public key as secret', 'hs256', GET => '/api/blog/acme/posts/17',
        '401 invalid_token'],
    ['spoofed X-User-*',  'carol', GET => '/api/blog/acme/posts/17', 200,
        ['X-User-Permissions' => $owner, 'X-User-Id' => 'admin'], $viewer],
    ['anonymous, public', undef,   GET => '/public/status', 200, [], ''],
    ['anonymous, public', undef,   GET => '/public/blog/acme/feed', 200, [], ''],
    ['anonymous, not public', undef, GET => '/public/admin', '403 forbidden'],
    ['anonymous',         undef,   GET => '/api/blog/acme/posts/17',
        '401 missing_token'],
    ['spoofed, anonymous', undef,  GET => '/public/status', 200,
        ['X-User-Id' => 'admin', 'X-User-Permissions' => $owner], ''],
);

my $json = JSON::PP->new;
my (@rows, $failed);

for my $s (@scenarios) {
    my ($name, $who, $method, $path, $expect, $hdrs, $perms) = @$s;
    my @h = @{ $hdrs // [] };
    push @h, Authorization => "Bearer $tok{$who}" if defined $who;

    my $r = request($method, $path, @h);
    my ($got, $saw) = ($r->{status} // 'no answer', '');

    if (($r->{status} // 0) == 200) {
        $saw = $r->{body} =~ s/\s+\z//r;
    } elsif (($r->{headers}{'content-type'} // '') =~ m{application/json}) {
        my $b = eval { $json->decode($r->{body}) } // {};
        $got .= " $b->{error}" if defined $b->{error};
        $saw = join ': ', grep { defined } @$b{qw(error error_description)};
    } else {
        $saw = $r->{status_line} // '';
    }

    my $ok = $got eq $expect;
    if ($ok && defined $perms) {
        my ($p) = $saw =~ /\bperms=(\S*)/;
        $ok = defined $p && $p eq $perms;
        $saw .= "  (expected perms=$perms)" unless $ok;
    }
    if ($ok && $got eq '200' && defined $who && $saw !~ /\buid=\Q$who\E /
        && $who =~ /^(alice|bob|carol|dave|ops)$/)
    {
        ($ok, $saw) = (0, "$saw  (expected uid=$who)");
    }

    $failed++ unless $ok;
    my $user = defined $who ? ($who =~ /^(expired|forged|none|hs256)$/ ? 'bob*'
        : $who) : '-';
    push @rows, [$ok ? '' : '!!', $name, $user, "$method $path", $expect,
        $got, $saw];
}

# bob is revoked mid-run: every token of his issued before now (the next
# second: his token may carry this very second as its iat), by a rename
# of the list, without a reload; carol goes on

{
    my $t0 = Time::HiRes::time();
    revoke($DIR, { sub => { bob => time() + 1 } });

    my $r;
    do {
        Time::HiRes::sleep(0.05);
        $r = request(PUT => '/api/blog/acme/posts/17',
            Authorization => "Bearer $tok{bob}");
    } until (($r->{status} // 0) == 401
             || Time::HiRes::time() - $t0 > 5);

    my $ms = (Time::HiRes::time() - $t0) * 1000;
    my $got = $r->{status} // 'no answer';
    my $b = eval { $json->decode($r->{body}) } // {};
    $got .= " $b->{error}" if defined $b->{error};

    my $ok = $got eq '401 invalid_token'
             && ($b->{error_description} // '') eq 'token revoked';
    $failed++ unless $ok;
    push @rows, [$ok ? '' : '!!', sprintf('bob revoked, %.0f ms later', $ms),
        'bob', 'PUT /api/blog/acme/posts/17', '401 invalid_token', $got,
        join ': ', grep { defined } @$b{qw(error error_description)}];

    $r = request(GET => '/api/blog/acme/posts/17',
        Authorization => "Bearer $tok{carol}");
    $ok = ($r->{status} // 0) == 200;
    $failed++ unless $ok;
    push @rows, [$ok ? '' : '!!', 'after bob\'s revocation', 'carol',
        'GET /api/blog/acme/posts/17', 200, $r->{status} // 'no answer',
        $r->{body} =~ s/\s+\z//r];
}

# a key rotation: the issuer signs with a new key "dev-2"; before it is
# published its tokens are refused, once it is, the first one is
# accepted after exactly one fetch of the JWKS, with no reload

{
    my ($rc, $out) = run_cmd('openssl', 'genpkey', '-algorithm', 'RSA',
        '-pkeyopt', 'rsa_keygen_bits:2048', '-out', "$DIR/dev-2.pem");
    fail("openssl genpkey: $out") if $rc;
    ($rc, $out) = run_cmd('openssl', 'pkey', '-in', "$DIR/dev-2.pem",
        '-pubout', '-out', "$DIR/dev-2.pub");
    fail("openssl pkey: $out") if $rc;
    ($rc, $out) = run_cmd($MINT, '--jwks', "$DIR/dev-2.pub", '--kid', 'dev-2');
    fail("authz-mint --jwks: $out") if $rc;
    spew("$DIR/dev-2.jwks.json", $out);

    my ($mrc, $new) = run_cmd($MINT, '--key', "$DIR/dev-2.pem", '--kid',
        'dev-2', '--iss', $ISS, '--aud', $AUD, '--sub', 'erin', '--tenant',
        'acme', '--role', 'role_viewer', @all);
    $new =~ s/\s+\z//;
    fail("authz-mint: $new") if $mrc;

    my $master = read_pid();
    my $path = '/api/blog/acme/posts/17';

    for my $step (['new key dev-2, not published', '401 invalid_token', 1],
                  ['new key dev-2, published', 200, 1])
    {
        my ($name, $expect, $want) = @$step;

        if ($expect eq '200') {
            publish($DIR, "$KEYS/jwks.json", "$DIR/dev-2.jwks.json");
            Time::HiRes::sleep(1.1);    # past kid_refresh=1s
        }

        my $before = key_fetches();
        my $r = request(GET => $path, Authorization => "Bearer $new");
        my $fetches = key_fetches() - $before;

        my $got = $r->{status} // 'no answer';
        my $saw;
        if ($got eq '200') {
            $saw = $r->{body} =~ s/\s+\z//r;
        } else {
            my $b = eval { $json->decode($r->{body}) } // {};
            $got .= " $b->{error}" if defined $b->{error};
            $saw = join ': ', grep { defined } @$b{qw(error error_description)};
        }
        $saw .= "; $fetches JWKS fetch" . ($fetches == 1 ? '' : 'es')
            . (read_pid() == $master ? ', no reload' : ', RELOADED');

        my $ok = $got eq $expect && $fetches == $want
            && read_pid() == $master;
        $failed++ unless $ok;
        push @rows, [$ok ? '' : '!!', $name, 'erin', "GET $path", $expect,
            $got, $saw];
    }
}

# the counters after the scenarios, as Prometheus would scrape them
my $scrape = request(GET => '/authz_status');

stop_nginx();

print_table(['', 'scenario', 'token', 'request', 'expected', 'got',
    'upstream saw / error'], @rows);

print "\nbob* = bob's editor token, expired, with a flipped signature,"
    . " re-signed with\nalg none, or HS256 keyed with the public key PEM."
    . "  The spoofed requests also send\nX-User-Id: admin and"
    . " X-User-Permissions: $owner.\n"
    . "Then bob is revoked (\"sub\": {\"bob\": now} in revoked.json,"
    . " renamed over the list,\nno reload), and the issuer rotates to a new"
    . " key dev-2 (erin's token): refused\nwhile unpublished, accepted once"
    . " published, with one JWKS fetch and no reload.\n";
print "\nGET /authz_status after the scenarios (docs/metrics.md), the series"
    . " that are not 0:\n\n",
    grep { !/^#/ && !/ 0$/ } split /^/, $scrape->{body} // '';

printf "\n%d scenarios, %s. Config and logs: %s/\n", scalar @rows,
    $failed ? "$failed MISMATCHED (marked !!)" : 'all as expected',
    $REL->($DIR);

exit($failed ? 1 : 0);


###############################################################################

sub print_table {
    my (@rows) = @_;

    my @w = (0) x @{ $rows[0] };
    for my $r (@rows) {
        for my $i (0 .. $#$r - 1) {
            $w[$i] = length $r->[$i] if length $r->[$i] > ($w[$i] // 0);
        }
    }

    my $line = sub {
        my ($r) = @_;
        my $s = join '  ', map { sprintf "%-*s", $w[$_], $r->[$_] }
            0 .. $#$r - 1;
        print "$s  $r->[-1]\n" =~ s/ +\n\z/\n/r;
    };

    $line->($rows[0]);
    $line->([map { '-' x ($w[$_] || length $rows[0][$_]) } 0 .. $#{ $rows[0] }]);
    $line->($_) for @rows[1 .. $#rows];
}

# the successful fetches of the issuer's JWKS so far (authz_status)
sub key_fetches {
    my $r = request(GET => '/authz_status');
    my ($n) = ($r->{body} // '') =~ /^authz_key_fetches_total\{source="\/_authz\/jwks",result="ok"\} (\d+)$/m;
    return $n // 0;
}

# one HTTP/1.0 request to the gateway; { status, status_line, headers, body }
sub request {
    my ($method, $path, @h) = @_;

    my $raw = "$method $path HTTP/1.0\r\nHost: localhost\r\n";
    while (my ($k, $v) = splice @h, 0, 2) {
        $raw .= "$k: $v\r\n";
    }
    $raw .= "Content-Length: 0\r\n" if $method =~ /^(POST|PUT|PATCH)$/;
    $raw .= "\r\n";

    local $SIG{PIPE} = 'IGNORE';
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
        Proto => 'tcp', Timeout => 5) or return {};
    binmode $s;
    print $s $raw;

    my ($resp, $sel) = ('', IO::Select->new($s));
    while ($sel->can_read(5)) {
        my $n = sysread $s, my $buf, 65536;
        last unless $n;
        $resp .= $buf;
    }
    close $s;

    my ($head, $body) = split /\r\n\r\n/, $resp, 2;
    my %r = (body => $body // '', headers => {});
    return \%r unless defined $head
        && $head =~ s{^(HTTP/\d\.\d (\d{3})[^\r\n]*)(?:\r\n)?}{};
    @r{qw(status_line status)} = ($1, $2);
    for (split /\r\n/, $head) {
        $r{headers}{ lc $1 } = $2 if /^([^:]+):\s*(.*)$/;
    }

    return \%r;
}
