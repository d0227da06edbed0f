#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# What the counters of authz_status cost on the cached-token path: two
# gateways with the verified-token cache, one without authz_status (no
# zone, nothing counted) and one with it (every request counted in the
# log phase), and plain proxying for the ratios; one worker each, pinned
# to CPU 0, wrk pinned to CPU 1, interleaved rounds, medians.
#
#   perl bench/status.pl [--duration 5] [--rounds 5] [--connections 32]

use warnings;
use strict;

use FindBin;
use lib "$FindBin::Bin/../t/lib";
use AuthzTest qw(:all);
use Getopt::Long;
use POSIX qw(floor);
use Test::More;

my %o = (duration => 5, rounds => 5, connections => 32);
GetOptions(\%o, 'duration=i', 'rounds=i', 'connections=i')
    or die "usage: see the header of $0\n";

$ENV{AUTHZ_TEST_LOGLEVEL} = 'error';

my $off = gateway('');
my $on = gateway('server { listen 127.0.0.1:%%PORT_8091%%; '
    . 'location = /authz_status { authz_status; } }');

my $token = mint(sub => 'bench', permissions => ['bench:items.read'],
    exp => time() + 3600);

my @scenarios = (
    ['a', 'plain nginx proxy', $off, '/plain/x', undef],
    ['b', 'authz, one token, cache', $off, '/x', $token],
    ['s', 'authz, one token, cache, authz_status', $on, '/x', $token],
);

for my $s (@scenarios) {
    my $st = $s->[2]->get($s->[3], defined $s->[4] ? (token => $s->[4]) : ())
        ->{status} // 0;
    die "($s->[0]) answers $st\n" unless $st == 200;
}

my %res;

for my $round (1 .. $o{rounds}) {
    for my $s (@scenarios) {
        push @{ $res{ $s->[0] } }, wrk($s->[2], @$s[3, 4]);
    }
}

my %med;
for my $k (keys %res) {
    my @r = sort { $a <=> $b } @{ $res{$k} };
    $med{$k} = $r[floor($#r / 2)];
}

printf "%-4s %-40s %10s %7s   %s\n", '', 'scenario', 'req/s', 'ratio',
    'rounds';
for my $s (@scenarios) {
    printf "%-4s %-40s %10.0f %7.3f   %s\n", "($s->[0])", $s->[1],
        $med{ $s->[0] }, $med{ $s->[0] } / $med{a},
        join ' ', map { sprintf '%.0f', $_ } @{ $res{ $s->[0] } };
}
printf "\n(s)/(b) = %.3f\n", $med{s} / $med{b};

my $counted = $on->get('/authz_status', port => 8091)->{body}
    =~ /^authz_requests_total\{zone="default",result="allow"\} (\d+)$/m
    ? $1 : '?';
print "authz_requests_total{result=\"allow\"} of (s): $counted\n";
print "wrk: 1 thread, $o{connections} connections, $o{duration}s each, "
    . "median of $o{rounds} interleaved rounds; nginx 1 worker on CPU 0, "
    . "wrk on CPU 1\n";

$off->stop;
$on->stop;

done_testing();

###############################################################################

sub gateway {
    my ($extra) = @_;

    my $g = AuthzTest->new;

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
    authz_cache zone=bench:16m ttl=300s;

    upstream backend {
        server 127.0.0.1:%%PORT_8090%%;
        keepalive 64;
    }

    server {
        listen 127.0.0.1:%%PORT_8090%%;
        location / {
            return 200 "ok\\n";
        }
    }

    $extra

    server {
        listen 127.0.0.1:%%PORT_8080%%;

        authz on;
        authz_key_file %%KEYDIR%%/k1.pub kid=k1;
        authz_issuer https://issuer.test;
        authz_audience api.test;

        proxy_http_version 1.1;
        proxy_set_header Connection "";

        location / {
            authz_require bench:items.read;
            proxy_pass http://backend;
        }

        location /plain/ {
            authz off;
            proxy_pass http://backend;
        }
    }
}

EOF

    return $g->run;
}

sub wrk {
    my ($g, $path, $token) = @_;

    my $url = 'http://127.0.0.1:' . $g->port(8080) . $path;
    my @cmd = ('taskset', '-c', '1', 'wrk', '-t1', "-c$o{connections}",
        "-d$o{duration}s", defined $token
            ? ('-H', "Authorization: Bearer $token") : (), $url);

    my $out = `@{[ join ' ', map { "'$_'" } @cmd ]} 2>&1`;
    my ($rps) = $out =~ /Requests\/sec:\s+([\d.]+)/;
    die "wrk failed:\n$out" unless defined $rps;

    return $rps;
}

###############################################################################
