#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Randomized tests for internal redirects (issue 9, item 6): generated
# servers of 3 to 6 locations chained by try_files, error_page (401 and
# 403, with "=" and without, to named and normal locations) and
# X-Accel-Redirect, each location with its own mode, token source and
# key set, with variable reads at server level, before the access phase
# and in the access log; every kind of token (valid with k1 or k2,
# expired, forged, absent) in every source the server reads, and
# spoofed identity headers on every request.
#
# The invariant: the upstream never receives an identity that is not
# carried by a token that verified, with a key the forwarding location
# trusts, from that location's own token source (an "authz off"
# location may only pass on the identity of an allow with no refusal
# after it, as t/authz_redirect.t and docs/design.md have it).  Also:
# the status and the forwarding location are the ones nginx's redirect
# rules give (t/lib/AuthzRedirect.pm is the model), no 5xx, no crash,
# and what the access log and a response header read of the request
# after the chain is never freed memory.
#
# AUTHZ_REDIRECT_SEED (default 1), AUTHZ_REDIRECT_CONFIGS (default 500),
# AUTHZ_REDIRECT_ONLY=17,42 (just those), AUTHZ_REDIRECT_FULL=1 (all
# 125 combinations where a server reads three sources),
# AUTHZ_REDIRECT_PER_NGINX (servers per nginx, 100),
# AUTHZ_REDIRECT_OFF=strict (an "authz off" location forwards no
# identity even after an allowed one), AUTHZ_REDIRECT_DIAG (detailed
# reports per failure class, 3), AUTHZ_REDIRECT_VERBOSE=1 (every
# request with what the model expected).

###############################################################################

use warnings;
use strict;

use Test::More;

use File::Path ();
use JSON::PP ();
use Time::HiRes ();

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);
use AuthzRedirect qw(generate pinned render_server render_http requests
    simulate check check_memory eff ident_str);

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

# thousands of requests: the debug log would be hundreds of megabytes
$ENV{AUTHZ_TEST_LOGLEVEL} ||= 'info';

my $SEED = $ENV{AUTHZ_REDIRECT_SEED} // 1;
my $CONFIGS = $ENV{AUTHZ_REDIRECT_CONFIGS} || 500;
my $PER = $ENV{AUTHZ_REDIRECT_PER_NGINX} || 100;
my $FULL = $ENV{AUTHZ_REDIRECT_FULL} ? 1 : 0;
my $STRICT_OFF = ($ENV{AUTHZ_REDIRECT_OFF} // '') eq 'strict';
my $DIAG = $ENV{AUTHZ_REDIRECT_DIAG} // 3;
my $VERBOSE = $ENV{AUTHZ_REDIRECT_VERBOSE};
my @ONLY = grep { length } split /[,\s]+/, $ENV{AUTHZ_REDIRECT_ONLY} // '';

die "AUTHZ_REDIRECT_SEED must be an integer\n" unless $SEED =~ /^\d+$/;

my @indexes = @ONLY ? @ONLY : 0 .. $CONFIGS - 1;
my @batches;
push @batches, [splice @indexes, 0, $PER] while @indexes;

# the test directories of a long run live in build/, where nobody else
# cleans up
unless ($ENV{TMPDIR}) {
    $ENV{TMPDIR} = "$FindBin::Bin/../build/tmp";
    File::Path::make_path($ENV{TMPDIR}, { mode => 0755 });
}

my $t = AuthzTest->new->has('module');

my $nconfigs = map { @$_ } @batches;
plan(tests => 2 * $nconfigs + @batches);

my %TOKENS = tokens();
my (%classes, $started);

###############################################################################

$started = Time::HiRes::time();
my $nreq = 0;

for my $batch (@batches) {
    $t //= AuthzTest->new;

    my @cfgs = map { $_ == 0 ? pinned(0) : generate($SEED, $_) } @$batch;
    my %o = (port => $t->port(8080), echo => $t->port(8081),
        accel => $t->port(8082), keydir => keydir(), testdir => $t->testdir);

    $t->write_file_expand('nginx.conf', nginx_conf(\@cfgs, %o));
    $t->run;
    my ($master) = ($t->read_file('nginx.pid') // '') =~ /^(\d+)/;

    my @done = map { send_requests($t, $_) } @cfgs;
    my $log = read_log($t);

    for my $d (@done) {
        $nreq += @{ $d->{reqs} };
        assert_config($d, $log, \%o);
    }

    my $dir = $t->testdir;
    $t->stop;
    undef $t;

    # the harness stops nginx by its pid file: if the test directory
    # went away, this nginx would be left running
    kill 'TERM', $master if $master && (slurp("/proc/$master/cmdline")
        // '') =~ /nginx.*\Q$dir\E/s;
}

diag(sprintf 'seed %s: %d configurations, %d requests in %.1f s',
    $SEED, $nconfigs, $nreq, Time::HiRes::time() - $started);
summary();

###############################################################################

# the requests of one server, with what the model expects of each
sub send_requests {
    my ($t, $cfg) = @_;

    my $i = $cfg->{index};
    my @done;
    my @reqs = requests($cfg, $SEED, $FULL);

    for my $k (0 .. $#reqs) {
        my $q = $reqs[$k];
        my %tok = request_tokens($q);
        my @h = request_headers($cfg, $q, \%tok);
        push @h, 'X-Authz-Req' => "$i.$k";

        my $r = $t->get("/c$i/l0/x", headers => \@h);
        my $e = $r->{body} =~ /^echo\n/ ? parse_lines($r->{body}) : undef;

        push @done, { k => $k, q => $q, tok => \%tok, r => $r, e => $e,
            m => simulate($cfg, \%tok) };
    }

    return { cfg => $cfg, reqs => \@done };
}

# two assertions per server: the invariant; the status, the forwarding
# location and what the log and response headers read of the request
sub assert_config {
    my ($d, $log, $o) = @_;

    my $cfg = $d->{cfg};
    my $i = $cfg->{index};
    my (@inv, @other);

    for my $f (@{ $d->{reqs} }) {
        my @p = check($cfg, $f->{tok}, $f->{m}, $f->{r}{status}, $f->{e},
            $STRICT_OFF);

        if (!$log) {
            push @p, ['harness', 'the access log is gone (test directory '
                . 'removed while nginx ran?)'];

        } elsif (defined $f->{r}{status}) {
            my $line = $log->{"$i.$f->{k}"};
            push @p, $line ? check_memory($f->{tok}, $line)
                : ['memory', 'no access log line'];
            push @p, check_memory($f->{tok}, [['X-Srv-User', 'sub',
                $f->{r}{headers}{'x-srv-user'}]]);
        }

        note(describe($cfg, { %$f, class => 'problems',
            text => scalar @p })) if $VERBOSE;

        for my $p (@p) {
            my $fail = { %$f, class => $p->[0], text => $p->[1] };
            push @{ $p->[0] =~ /^identity/ ? \@inv : \@other }, $fail;
        }
    }

    my $n = @{ $d->{reqs} };
    ok(!@inv, "config $i: upstream identity invariant ($n requests)");
    ok(!@other, "config $i: status, route and memory ($n requests)");
    report($cfg, $o, [@inv, @other]) if @inv || @other;
}

# the access log: request id => [name, kind, value] of each field;
# undef when the file is gone
sub read_log {
    my ($t) = @_;

    my @names = (['$authz_sub', 'sub'], ['$authz_tenant', 'tid'],
        ['$authz_claim_sub', 'sub'], ['$authz_iss', 'iss'],
        ['$authz_kid', 'kid'], ['logged X-User-Id', 'sub'],
        ['logged X-Tenant-Id', 'tid'], ['logged X-User-Permissions', 'perms'],
        ['$authz_map_tenant', 'map']);
    my %log;

    my $text = $t->read_file('vars.log') // return undef;

    for my $line (split /\n/, $text) {
        my ($id, @v) = split /\|/, $line, -1;
        pop @v if @v && $v[-1] eq '';
        $log{$id} = @v == @names
            ? [map { [@{ $names[$_] }, $v[$_]] } 0 .. $#names]
            : [['access log line', 'none', $line]];
    }

    return \%log;
}

sub request_tokens {
    my ($q) = @_;

    my %tok;
    for my $src (qw(bearer xtok cookie)) {
        my ($kind, $v) = ($q->{kind}{$src}, $q->{variant}{$src});
        next if $kind eq 'absent';
        my $name = $kind eq 'v1' ? ($v % 2 ? 'v1a' : 'v1p')
            : $kind eq 'v2' ? ($v % 2 ? 'v2a' : 'v2p')
            : $kind eq 'exp' ? ($v % 2 ? 'exp1' : 'exp2')
            : ('fz', 'fw', 'fs')[$v];
        $tok{$src} = $TOKENS{"$src-$name"};
    }

    if (my $same = $q->{same}) {
        $tok{ $same->[1] } = $tok{ $same->[0] };
    }

    return %tok;
}

sub request_headers {
    my ($cfg, $q, $tok) = @_;

    my @h = (Host => "c$cfg->{index}.test");
    push @h, Authorization => "Bearer $tok->{bearer}{jwt}" if $tok->{bearer};
    push @h, 'X-Token' => $tok->{xtok}{jwt} if $tok->{xtok};
    push @h, Cookie => "at=$tok->{cookie}{jwt}" if $tok->{cookie};

    my @spoof = ('X-User-Id' => 'spoof-uid', 'X-Tenant-Id' => 'spoof-tid',
        'X-User-Permissions' => '*,app:admin',
        'X-User-Services' => 'spoof-svc');
    for (my $j = 0; $j < @spoof; $j += 2) {
        my $name = $q->{spoof_case} == 1 ? lc $spoof[$j]
            : $q->{spoof_case} == 2 ? uc $spoof[$j] : $spoof[$j];
        push @h, $name => $spoof[$j + 1];
    }

    return @h;
}

sub slurp {
    my ($path) = @_;
    open my $fh, '<', $path or return undef;
    local $/;
    return scalar <$fh>;
}

sub parse_lines {
    my ($body) = @_;
    return { map { /^([^=]+)=(.*)$/ ? ($1 => $2) : () } split /\n/, $body };
}

###############################################################################

sub nginx_conf {
    my ($cfgs, %o) = @_;

    my $servers = join "\n", map { render_server($_, %o) } @$cfgs;
    $servers =~ s/^/    /mg;

    my $echo = join '\n', 'echo', 'loc=$http_x_authz_loc',
        'uid=$http_x_user_id', 'tid=$http_x_tenant_id',
        'perms=$http_x_user_permissions', 'svc=$http_x_user_services',
        'vsub=$http_x_authz_sub', '';

    return <<"EOF" . render_http() . <<"EOF2" . $servers . "}\n";

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server_names_hash_bucket_size  64;
    server_names_hash_max_size     65536;

EOF

    # the upstream: echoes what it received, at rewrite, before any
    # access handler could strip it

    server {
        listen       127.0.0.1:$o{echo};
        server_name  echo;
        access_log   off;
        authz_strip_headers off;

        location / {
            default_type text/plain;
            return 200 "$echo";
        }
    }

    # answers with X-Accel-Redirect to the location named in X-Next

    server {
        listen       127.0.0.1:$o{accel};
        server_name  accel;
        access_log   off;
        authz_strip_headers off;

        location / {
            add_header X-Accel-Redirect \$http_x_next always;
            return 200 "accel\\n";
        }
    }

EOF2
}

###############################################################################

# the pool: per source, valid tokens signed with k1 and k2 (with and
# without app:admin, with and without kid), expired ones, and forgeries
# (a zero signature, a key never configured, a signature spliced from a
# valid token); every token carries an identity of its own
sub tokens {
    my %pool;
    my $now = time;
    my $json = JSON::PP->new->canonical;

    for my $src (qw(bearer xtok cookie)) {
        my %def;
        for my $name (qw(v1a v1p v2a v2p exp1 exp2 fz fw fs)) {
            my $n = "$src-$name";
            my $admin = $name =~ /a$|^f/;
            my %id = (sub => $n, tid => "t-$n",
                perms => [ "p.$n", $admin ? ('app:admin') : (),
                    $name =~ /^f/ ? ('*') : () ],
                svc => ["s-$n"]);
            # valid for a week: "make test-redirects" runs for a while
            my %c = (sub => $id{sub}, tid => $id{tid},
                permissions => $id{perms}, services => $id{svc},
                exp => $now + 7 * 86400);
            my %tok = (name => $n, admin => $admin,
                id => { %id, perms => join(',', @{ $id{perms} }),
                    svc => join(',', @{ $id{svc} }) });

            if ($name =~ /^v(\d)(a|p)$/) {
                @tok{qw(signer jwt)} = ("k$1", mint(%c, _key => "k$1",
                    _kid => $2 eq 'a' ? "k$1" : undef));
                $tok{desc} = "valid, k$1, " . ($2 eq 'a'
                    ? "kid k$1, app:admin" : 'no kid');

            } elsif ($name =~ /^exp(\d)$/) {
                @tok{qw(signer expired)} = ("k$1", 1);
                $tok{jwt} = mint(%c, _key => "k$1", exp => $now - 3600,
                    iat => $now - 7200, nbf => $now - 7200);
                $tok{desc} = "expired an hour ago, k$1";

            } else {
                $tok{forged} = 1;
                my $payload = $json->encode({ %c,
                    iss => 'https://issuer.test', aud => 'api.test' });
                my $hdr = '{"alg":"RS256","typ":"JWT","kid":"k1"}';

                if ($name eq 'fz') {
                    $tok{jwt} = raw_jwt('{"alg":"RS256"}', $payload,
                        sig => "\0" x 256);
                    $tok{desc} = 'forged, signature of 256 zero bytes';
                } elsif ($name eq 'fw') {
                    $tok{jwt} = raw_jwt($hdr, $payload, key => 'weak');
                    $tok{desc} = 'forged, kid k1, signed with a key '
                        . 'never configured';
                } else {
                    my $sig = (split /\./, $pool{"$src-v1a"}{jwt})[2];
                    $tok{jwt} = raw_jwt($hdr, $payload, sig => '')
                        =~ s/\.$/.$sig/r;
                    $tok{desc} = 'forged, kid k1, signature spliced from '
                        . "$src-v1a";
                }
            }

            $pool{$n} = \%tok;
        }
    }

    return %pool;
}

###############################################################################

# one failing configuration: the reproduction command, the server, the
# first failing requests; counts per class for the summary
sub report {
    my ($cfg, $o, $fails) = @_;

    my $i = $cfg->{index};
    my %seen;

    for my $f (@$fails) {
        my $c = $classes{ $f->{class} } //= { configs => {}, requests => 0 };
        $c->{requests}++;
        $seen{ $f->{class} } = 1 unless $c->{configs}{$i}++;
    }

    my $cmd = join ' ', (map { "$_=$ENV{$_}" }
            grep { defined $ENV{$_} } qw(AUTHZ_MODULE AUTHZ_NGINX)),
        "AUTHZ_REDIRECT_SEED=$SEED AUTHZ_REDIRECT_ONLY=$i",
        ($FULL ? 'AUTHZ_REDIRECT_FULL=1' : ()),
        ($STRICT_OFF ? 'AUTHZ_REDIRECT_OFF=strict' : ()),
        'prove -v t/authz_redirect_random.t';

    my $detail = grep { keys %{ $classes{$_}{configs} } <= $DIAG } keys %seen;

    unless ($detail) {
        diag("config $i: " . @$fails . " failures ("
            . join(', ', sort keys %seen) . "); reproduce: $cmd");
        return;
    }

    my %req_seen;
    my @show = grep { !$req_seen{ $_->{k} }++ } @$fails;

    diag("seed $SEED, config $i"
        . ($cfg->{pinned} ? ' (the reproduction of issue 9)' : '')
        . ": " . @$fails . " failures; reproduce with\n    $cmd\n"
        . "(AUTHZ_TEST_LEAVE=1 keeps nginx.conf and error.log)\n"
        . render_server($cfg, %$o));

    for my $f (@show[0 .. ($#show < 1 ? $#show : 1)]) {
        diag(describe($cfg, $f));
    }
}

sub describe {
    my ($cfg, $f) = @_;

    my @lines = ("request $f->{k}: GET /c$cfg->{index}/l0/x"
        . " Host: c$cfg->{index}.test, spoofed X-User-* headers");

    for my $src (qw(bearer xtok cookie)) {
        my $tok = $f->{tok}{$src};
        my $where = { bearer => 'Authorization: Bearer',
            xtok => 'X-Token:', cookie => 'Cookie: at=' }->{$src};
        push @lines, "  $where "
            . ($tok ? "<$tok->{name}: $tok->{desc}>" : '(absent)');
    }

    my $m = $f->{m};
    push @lines, "  model: @{ $m->{trace} } => $m->{status}"
        . (defined $m->{fwd} ? " from l$m->{fwd}, identity \""
            . ident_str($m->{ident} // $m->{carried}) . '"' : '');
    push @lines, "  got: " . ($f->{r}{status} // 'no response')
        . ($f->{e} ? " from $f->{e}{loc}, X-User-Id \"$f->{e}{uid}\","
            . " X-Tenant-Id \"$f->{e}{tid}\", X-User-Permissions"
            . " \"$f->{e}{perms}\", X-User-Services \"$f->{e}{svc}\","
            . " \$authz_sub \"$f->{e}{vsub}\"" : '');
    push @lines, "  $f->{class}: $f->{text}";

    return join "\n", @lines;
}

sub summary {
    return unless %classes;

    my @l = ("failure classes (seed $SEED):");
    for my $c (sort keys %classes) {
        my @cfgs = sort { $a <=> $b } keys %{ $classes{$c}{configs} };
        push @l, sprintf '  %-60s %d configs, %d requests; e.g. %s', $c,
            scalar @cfgs, $classes{$c}{requests},
            join(',', @cfgs[0 .. ($#cfgs < 4 ? $#cfgs : 4)]);
    }

    diag(join "\n", @l);
}

###############################################################################
