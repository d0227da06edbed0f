#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# wrk benchmarks of the module against plain nginx proxying, in one run,
# as ratios.  One nginx (one worker, pinned to CPU 0) serves every
# scenario on its own port and proxies to an upstream server block in
# the same worker; wrk runs pinned to CPU 1.  Scenarios are interleaved
# over ROUNDS rounds and the median is reported.
#
#   perl bench/bench.pl [--duration 4] [--rounds 7] [--connections 32]
#                       [--tokens 10000] [--rss 1000000] [--csv FILE]
#                       [--warmup 1]
#
# Each measured run follows an unmeasured one of --warmup seconds of
# the same scenario.  A ratio is the median over the rounds of the
# ratio to (a) within the round; "cpu" is the same for the worker's
# time on the CPU per request (/proc/PID/schedstat), the issue's
# "worker us/req".
#
# Every scenario sends the same 911-byte Bearer token (issue 12: "the
# same tokens"), the plain proxy included, which reads it and forwards
# it as the module does: the ratios are the cost of authorizing, not of
# receiving a larger request.  (p) is the plain proxy without a token,
# for reference: nginx's own cost of a 911-byte header.
# (r) is (b) sent through the Lua script of (c) and (d): what the
# script costs wrk, apart from the 10,000 tokens.
# (h), plain proxying with the four identity headers set by static
# proxy_set_header lines, is the ceiling of what forwarding an identity
# costs.  kjdev/nginx-auth-jwt, the best open-source module measured in
# issue 12, cannot be downloaded on this machine: it has no row.

use warnings;
use strict;

use FindBin;
use lib "$FindBin::Bin/lib";
use lib "$FindBin::Bin/../t/lib";
use AuthzTest qw(:all);
use AuthzBench qw(bench_token bench_forged bench_expired bench_servers);
use Getopt::Long;
use File::Spec;
use POSIX qw(floor);
use IO::Socket::INET;
use Test::More;

my %o = (duration => 4, rounds => 7, connections => 32, rss => 0,
    tokens => 10000, csv => '', warmup => 1);
GetOptions(\%o, 'duration=i', 'rounds=i', 'connections=i', 'rss=i',
    'tokens=i', 'csv=s', 'warmup=i') or die "usage: see the header of $0\n";

# the harness may change the directory
$o{csv} = File::Spec->rel2abs($o{csv}) if $o{csv};

# 200 rules, the matching one last: the worst realistic table

my $rules = join "\n", map {
    "            authz_rule GET /api/svc$_/items/* svc$_:items.read;"
} 1 .. 199;
$rules .= "\n            authz_rule GET /api/bench/** bench:items.read;";

$ENV{AUTHZ_TEST_LOGLEVEL} = 'error';

# two gateways in one run: without the cache (a c e g), with it (b d f)

my $t = gateway('');
my $tc = gateway('authz_cache zone=bench:64m ttl=300s;');
my $dir = $t->testdir;

my $n = $o{tokens};
print "minting $n tokens...\n";

my @tokens = map { bench_token($_) } 1 .. $n;

$t->write_file('tokens.txt', join("\n", @tokens) . "\n");
$t->write_file('one.txt', "$tokens[0]\n");

my $one = $tokens[0];
my $forged = bench_forged();
my $expired = bench_expired();

printf "token: %d bytes\n", length $one;

# wrk rotates through the tokens, one per request; the requests are
# formatted once, in init: formatting each in request() made the
# script, on wrk's CPU, the limit of the rotating scenarios

$t->write_file('rotate.lua', <<'EOF');
local reqs = {}
local i = 0
init = function(args)
    for line in io.lines(args[1]) do
        reqs[#reqs + 1] = wrk.format("GET", nil,
            {["Authorization"] = "Bearer " .. line})
    end
end
request = function()
    i = i % #reqs + 1
    return reqs[i]
end
EOF

my $pa = $t->port(8080);
my $pc = $tc->port(8080);

# the worker serving each gateway: its time on the CPU per request
# (/proc/PID/schedstat, nanoseconds) is the second measure, which the
# machine's noise moves far less than requests per second

my %worker = ($pa => worker_pid($t), $pc => worker_pid($tc));

my @scenarios = (
    [ 'a', 'plain nginx proxy', "http://127.0.0.1:$pa/plain/x", $one ],
    [ 'h', 'plain proxy + 4 static headers',
        "http://127.0.0.1:$pa/headers/x", $one ],
    [ 'p', 'plain nginx proxy, no token', "http://127.0.0.1:$pa/plain/x" ],
    [ 'b', 'authz, one token, cache', "http://127.0.0.1:$pc/x", $one ],
    [ 'c', "authz, $n tokens, no cache", "http://127.0.0.1:$pa/x", 'rotate' ],
    [ 'd', "authz, $n tokens, cache", "http://127.0.0.1:$pc/x", 'rotate' ],
    [ 'r', 'authz, one token through the script, cache',
        "http://127.0.0.1:$pc/x", 'rotate1' ],
    [ 'e', 'bad signature, no cache', "http://127.0.0.1:$pa/x", $forged ],
    [ 'g', 'expired token, no cache', "http://127.0.0.1:$pa/x", $expired ],
    [ 'f', 'authz, 200 rules, cache', "http://127.0.0.1:$pc/api/bench/x",
        $one ],
);

my %expect = (a => 200, h => 200, p => 200, r => 200, b => 200, c => 200, d => 200, e => 401, g => 401,
    f => 200);

for my $s (@scenarios) {
    my $st = probe(@$s[2, 3]);
    printf "check (%s) %s\n", $s->[0], $st;
    die "($s->[0]) answers $st, not $expect{$s->[0]}\n"
        if $st != $expect{ $s->[0] };
}

# the cache holds every token before (d) is measured

wrk($scenarios[3][2], 'rotate', 3);

my %res;

for my $round (1 .. $o{rounds}) {
    for my $s (@scenarios) {
        wrk($s->[2], $s->[3], $o{warmup}) if $o{warmup};
        push @{ $res{ $s->[0] } }, wrk($s->[2], $s->[3], $o{duration});
    }
}

my %med;
for my $k (keys %res) {
    my @r = sort { $a->{rps} <=> $b->{rps} } @{ $res{$k} };
    $med{$k} = $r[floor($#r / 2)];
}

# a ratio is the median over the rounds of the ratio within each
# round (to (a) of the same round), which drops the drift of the
# machine between rounds; the lowest and highest show the spread

my %ratio;
for my $k (keys %res) {
    my @r = sort { $a <=> $b }
        map { $res{$k}[$_]{rps} / $res{a}[$_]{rps} } 0 .. $#{ $res{$k} };
    $ratio{$k} = { med => $r[floor($#r / 2)], lo => $r[0], hi => $r[-1] };
}

my %cpu;
for my $k (keys %res) {
    my @u = sort { $a <=> $b } map { $_->{us} } @{ $res{$k} };
    my @r = sort { $a <=> $b }
        map { $res{a}[$_]{us} / $res{$k}[$_]{us} } 0 .. $#{ $res{$k} };
    $cpu{$k} = { us => $u[floor($#u / 2)], med => $r[floor($#r / 2)],
        lo => $r[0], hi => $r[-1] };
}

my @ec = sort { $a <=> $b }
    map { $res{e}[$_]{rps} / $res{c}[$_]{rps} } 0 .. $#{ $res{e} };

print "\n";
printf "%-4s %-30s %8s %6s %11s %8s %6s %11s %8s %8s\n", '', 'scenario',
    'req/s', 'ratio', 'spread', 'us/req', 'cpu', 'spread', 'p50', 'p99';
for my $s (@scenarios) {
    my $m = $med{ $s->[0] };
    my $q = $ratio{ $s->[0] };
    my $u = $cpu{ $s->[0] };
    printf "%-4s %-30s %8.0f %6.3f %.3f-%.3f %8.1f %6.3f %.3f-%.3f %8s %8s\n",
        "($s->[0])", substr($s->[1], 0, 30), $m->{rps}, $q->{med}, $q->{lo},
        $q->{hi}, $u->{us}, $u->{med}, $u->{lo}, $u->{hi}, $m->{p50},
        $m->{p99};
}
print "ratio: req/s to (a)'s; cpu: (a)'s worker CPU time per request to "
    . "this one's (us/req)\n";
printf "\n(e)/(c) = %.3f (%.3f-%.3f)\n", $ec[floor($#ec / 2)], $ec[0],
    $ec[-1];

if ($o{csv}) {
    open my $f, '>', $o{csv} or die "$o{csv}: $!\n";
    print $f "scenario,name,rps,ratio,us_per_req,cpu_ratio,p50,p99\n";
    for my $s (@scenarios) {
        my $m = $med{ $s->[0] };
        printf $f "%s,\"%s\",%.0f,%.3f,%.1f,%.3f,%s,%s\n", $s->[0],
            $s->[1], $m->{rps}, $ratio{ $s->[0] }{med}, $cpu{ $s->[0] }{us},
            $cpu{ $s->[0] }{med}, $m->{p50}, $m->{p99};
    }
    close $f;
}
print "wrk: 1 thread, $o{connections} connections, $o{duration}s each, "
    . "$o{rounds} interleaved rounds (req/s: median; ratio: median of "
    . "the rounds' ratios); nginx 1 worker on CPU 0, "
    . "wrk on CPU 1\n";

if ($o{rss}) {
    my $pid = worker_pid($tc);
    my $before = rss($pid);
    my $done = 0;
    while ($done < $o{rss}) {
        $done += wrk($scenarios[3][2], 'rotate', 10)->{requests};
    }
    my $after = rss($pid);
    print "\nworker RSS: $before kB before, $after kB after $done requests"
        . " (rotating $n tokens, cache on)\n";
}

$t->stop;
$tc->stop;

done_testing();

###############################################################################

sub gateway {
    my ($cache) = @_;

    my $g = AuthzTest->new;

    my $servers = bench_servers(up => '%%PORT_8090%%',
        port => '%%PORT_8080%%', keys => '%%KEYDIR%%', extra => <<"EOF");

        location /api/ {
$rules
            proxy_pass http://backend;
        }
EOF

    $g->write_file_expand('nginx.conf', <<"EOF");

%%TEST_GLOBALS%%

worker_cpu_affinity 01;
worker_rlimit_nofile 8192;

events {
    worker_connections 4096;
}

http {
    %%TEST_GLOBALS_HTTP%%

    access_log off;
    $cache

$servers
}

EOF

    return $g->run;
}

sub wrk {
    my ($url, $token, $duration) = @_;

    my @cmd = ('taskset', '-c', '1', 'wrk', '-t1', "-c$o{connections}",
        "-d${duration}s", '--latency');

    if (!defined $token) {
        push @cmd, $url;

    } elsif ($token eq 'rotate') {
        push @cmd, '-s', "$dir/rotate.lua", $url, '--', "$dir/tokens.txt";

    } elsif ($token eq 'rotate1') {
        push @cmd, '-s', "$dir/rotate.lua", $url, '--', "$dir/one.txt";

    } else {
        push @cmd, '-H', "Authorization: Bearer $token", $url;
    }

    my ($port) = $url =~ /:(\d+)\//;
    my $cpu = cpu_ns($worker{$port});

    my $out = `@{[ join ' ', map { "'$_'" } @cmd ]} 2>&1`;

    $cpu = cpu_ns($worker{$port}) - $cpu;

    my %r;
    ($r{rps}) = $out =~ /Requests\/sec:\s+([\d.]+)/;
    ($r{p50}) = $out =~ /^\s+50%\s+(\S+)/m;
    ($r{p99}) = $out =~ /^\s+99%\s+(\S+)/m;
    ($r{requests}) = $out =~ /(\d+) requests in/;
    ($r{non2xx}) = $out =~ /Non-2xx or 3xx responses: (\d+)/;
    die "wrk failed:\n$out" unless defined $r{rps};

    $r{us} = $cpu / 1000 / ($r{requests} || 1);

    return \%r;
}

sub probe {
    my ($url, $token) = @_;

    my ($port, $path) = $url =~ m{^http://[^:]+:(\d+)(/.*)$};
    $token = $tokens[1] if defined $token && $token =~ /^rotate/;

    my $raw = "GET $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        . (defined $token ? "Authorization: Bearer $token\r\n" : '')
        . "\r\n";

    my $sock = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port")
        or die "connect: $!";
    print $sock $raw;
    local $/;
    my $resp = <$sock>;

    return $resp =~ m{^HTTP/1\.\d (\d+)} ? $1 : 0;
}

sub worker_pid {
    my ($g) = @_;
    my $master = $g->read_file('nginx.pid');
    chomp $master;
    my ($w) = `pgrep -P $master` =~ /(\d+)/;
    return $w;
}

sub cpu_ns {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/schedstat" or die "schedstat: $!\n";
    my ($ns) = <$fh> =~ /^(\d+)/;
    return $ns;
}

sub rss {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/status" or return '?';
    while (<$fh>) {
        return $1 if /^VmRSS:\s+(\d+)/;
    }
    return '?';
}

###############################################################################
