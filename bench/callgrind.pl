#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Instructions per request, counted by callgrind: repeatable on a busy
# machine, unlike seconds.  For each scenario one nginx runs under
# callgrind (master_process off) with the configuration of
# bench/bench.pl (issuer, audience, one authz_require, proxy_pass with
# keepalive to an upstream server block of the same nginx); one warm-up
# request, then collection is switched on (callgrind_control -i on) and
# REQUESTS requests are sent over one keep-alive connection.
#
#   perl bench/callgrind.pl [--requests 200] [--only hit,miss] [--csv F]
#                           [--module build/ngx_http_authz_module.so]
#                           [--perms N] [--rules N] [--pad BYTES]
#
# --perms N: tokens with N permissions (short ones, "s:r.1f"); --rules
# N: the location has N rules, the matching one last; --pad BYTES: a
# claim of that many bytes (token size).  bench/growth.pl runs these.
#
# Prints per scenario: the access handler's instructions per request
# (inclusive), the whole process's instructions per request (nginx,
# proxying and the upstream included), and malloc calls per request.

use warnings;
use strict;

use FindBin;
use lib "$FindBin::Bin/lib";
use lib "$FindBin::Bin/../t/lib";
use AuthzTest qw(keydir);
use AuthzBench qw(bench_token bench_forged bench_expired bench_send
    bench_servers);
use Getopt::Long;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use Cwd qw(getcwd);
use POSIX ();

my %o = (requests => 200, only => '', perms => 0, rules => 0, pad => 0,
    module => getcwd() . '/build/ngx_http_authz_module.so');
GetOptions(\%o, 'requests=i', 'only=s', 'csv=s', 'module=s', 'perms=i',
    'rules=i', 'pad=i') or die "usage: see the header of $0\n";

my %extra;
$extra{permissions} = [ 'bench:items.read',
    map { sprintf 's:r.%x', $_ } 1 .. $o{perms} - 1 ] if $o{perms};
$extra{pad} = 'x' x $o{pad} if $o{pad};

my $rules = join '', map {
    "            authz_rule GET /api/svc$_/items/* svc$_:items.read;\n"
} 1 .. $o{rules} - 1;
$rules .= "            authz_rule GET /** bench:items.read;\n" if $o{rules};

my $n = $o{requests};
my $keys = keydir();
my $dir = tempdir('/tmp/authz-cg-XXXXXX', CLEANUP => !$ENV{AUTHZ_BENCH_KEEP});
print "callgrind files in $dir\n" if $ENV{AUTHZ_BENCH_KEEP};
chmod 0755, $dir;

print "minting tokens...\n";

my @distinct = map { bench_token($_, %extra) } 1 .. $n + 1;
my $one = bench_token(0, %extra);
my $forged = bench_forged();
my $expired = bench_expired();

printf "token: %d bytes\n", length $one;

my $cache = 'authz_cache zone=cg:16m;';

# name, cache, path, warm-up token, measured tokens, expected status

# plain and headers send the token too (as bench/bench.pl does): they
# pay nginx's parse of the same Authorization header; plain_notoken
# is nginx without it

my @scenarios = (
    [ 'plain_notoken', '', '/plain/x', undef, [ (undef) x $n ], 200 ],
    [ 'plain', '', '/plain/x', $one, [ ($one) x $n ], 200 ],
    [ 'headers', '', '/headers/x', $one, [ ($one) x $n ], 200 ],
    [ 'hit', $cache, '/x', $one, [ ($one) x $n ], 200 ],
    [ 'miss', $cache, '/x', $distinct[$n], [ @distinct[0 .. $n - 1] ], 200 ],
    [ 'nocache', '', '/x', $distinct[$n], [ @distinct[0 .. $n - 1] ], 200 ],
    [ 'badsig', '', '/x', $forged, [ ($forged) x $n ], 401 ],
    [ 'expired', '', '/x', $expired, [ ($expired) x $n ], 401 ],
);

my %only = map { $_ => 1 } split /,/, $o{only};
my @rows;

for my $s (@scenarios) {
    next if %only && !$only{ $s->[0] };
    push @rows, [ $s->[0], measure(@$s) ];
    printf "%-13s %9d instructions in the access handler, %9d in the "
        . "process, %5.1f mallocs per request\n", @{ $rows[-1] };
}

if ($o{csv}) {
    open my $f, '>', $o{csv} or die "$o{csv}: $!\n";
    print $f "scenario,handler_ir,process_ir,mallocs\n";
    printf $f "%s,%d,%d,%.1f\n", @$_ for @rows;
    close $f;
}

###############################################################################

sub measure {
    my ($name, $cache, $path, $warm, $tokens, $expect) = @_;

    my $port = free_port();
    my $up = free_port();

    my $servers = bench_servers(up => $up, port => $port, keys => $keys,
        rules => $rules, extra => '        authz_max_token_size 64k;');

    open my $f, '>', "$dir/nginx.conf" or die "$!\n";
    print $f <<"CONF";
load_module $o{module};
master_process off;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log error;
events {}
http {
    access_log off;
    large_client_header_buffers 4 128k;
    $cache
$servers
}
CONF
    close $f;

    my $out = "$dir/$name.cg";
    my $pid = fork // die "fork: $!\n";

    if ($pid == 0) {
        open STDOUT, '>', "$dir/vg.log";
        open STDERR, '>&', \*STDOUT;
        exec 'valgrind', '--tool=callgrind', '--instr-atstart=no',
            "--callgrind-out-file=$out", 'nginx', '-p', $dir, '-c',
            "$dir/nginx.conf";
        die "exec: $!\n";
    }

    for (1 .. 300) {
        last if IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port");
        select undef, undef, undef, 0.1;
    }

    my ($st) = bench_send($port, $path, $warm);
    die "$name: warm-up answered $st, not $expect\n" if $st != $expect;

    system("callgrind_control -i on $pid > /dev/null") == 0
        or die "callgrind_control failed\n";

    my @st = bench_send($port, $path, @$tokens);
    my @bad = grep { $_ != $expect } @st;
    die "$name: " . @bad . " answers not $expect\n" if @bad;

    # graceful, then less so: callgrind writes its file at exit

    kill 'QUIT', $pid;
    for my $i (1 .. 150) {
        last if waitpid($pid, POSIX::WNOHANG()) == $pid;
        kill 'TERM', $pid if $i == 50;
        kill 'KILL', $pid if $i == 149;
        select undef, undef, undef, 0.2;
    }

    my ($calls, $ir, $total, $mallocs) = parse($out);
    die "$name: $calls handler calls, not $n\n"
        if $name !~ /^(plain|plain_notoken|headers)$/ && $calls != $n;

    return ($calls ? $ir / $calls : 0), $total / $n, $mallocs / $n;
}

# inclusive cost of the calls to the access handler; the total; the
# number of calls to malloc

sub parse {
    my ($file) = @_;
    open my $fh, '<', $file or die "$file: $!\n";

    my (%name, $cfn, $calls, $n, $ir, $total, $mallocs);

    while (<$fh>) {
        if (/^(c?)fn=\((\d+)\)(?: (.*))?$/) {
            $name{$2} = $3 if defined $3;
            $cfn = $name{$2} if $1;
            next;
        }
        if (/^calls=(\d+)/) { $calls = $1; next }
        if (defined $calls) {
            my @c = split;
            if (($cfn // '') eq 'ngx_http_authz_access_handler') {
                $n += $calls;
                $ir += $c[1];
            }
            $mallocs += $calls if ($cfn // '') eq 'malloc';
            undef $calls;
            next;
        }
        $total = $1 if /^(?:summary|totals):\s*(\d+)/;
    }

    return ($n // 0, $ir // 0, $total // 0, $mallocs // 0);
}

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1:0', Listen => 1)
        or die "bind: $!\n";
    return $s->sockport;
}
