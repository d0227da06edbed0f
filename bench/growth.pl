#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# What a request costs as the work grows, into bench/growth.csv (for
# make bench-plot): instructions of the access handler per request
# (callgrind, bench/callgrind.pl) for a cache hit and for no cache,
# against the number of permissions (4, 64, 1024, 4096), the number of
# rules (1, 50, 200, the matching one last) and the token size (a
# padding claim); and the cache zone against the number of distinct
# live tokens: entries a 1m zone holds, and the share of hits when a
# working set of W tokens is sent round after round (LRU).
#
#   perl bench/growth.pl [--requests 50] [--csv bench/growth.csv]

use warnings;
use strict;

use FindBin;
use lib "$FindBin::Bin/lib";
use lib "$FindBin::Bin/../t/lib";
use AuthzTest qw(:all);
use AuthzBench qw(bench_token bench_send);
use Getopt::Long;
use Test::More;

my %o = (requests => 50, csv => "$FindBin::Bin/growth.csv");
GetOptions(\%o, 'requests=i', 'csv=s')
    or die "usage: see the header of $0\n";

my @rows;

my @curves = (
    (map { [ 'permissions', $_, "--perms $_" ] } 4, 64, 1024, 4096),
    (map { [ 'rules', $_, "--rules $_" ] } 1, 50, 200),
    (map { [ 'token_bytes', $_, "--pad $_" ] } 0, 3000, 15000, 45000),
);

for my $c (@curves) {
    my ($curve, $x, $args) = @$c;
    my $out = `perl $FindBin::Bin/callgrind.pl --requests $o{requests} \\
        --only hit,nocache $args 2>/dev/null`;
    die "callgrind.pl $args failed:\n$out" if $?;

    my ($size) = $out =~ /token: (\d+) bytes/;
    my ($hit) = $out =~ /^hit\s+(\d+)/m;
    my ($miss) = $out =~ /^nocache\s+(\d+)/m;
    $x = $size if $curve eq 'token_bytes';

    print "$curve $x: token $size bytes, hit $hit, no cache $miss\n";
    push @rows, [ $curve, $x, $size, $hit, $miss ];
}

# the zone: a 1m zone, working sets of W tokens sent twice

$ENV{AUTHZ_TEST_LOGLEVEL} = 'error';

my $t = AuthzTest->new;
$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    access_log off;
    authz_cache zone=z:1m ttl=600s;

    server {
        listen 127.0.0.1:%%PORT_8080%%;

        authz on;
        authz_key_file %%KEYDIR%%/k1.pub kid=k1;

        location / {
            empty_gif;
        }

        location = /status {
            authz off;
            authz_status;
        }
    }
}

EOF
$t->run;

my $port = $t->port(8080);
my @pool = map { bench_token("z$_") } 1 .. 2400;
for my $w (150, 300, 450, 600, 1200, 2400) {
    my @set = @pool[0 .. $w - 1];

    bench_send($port, '/x', @set);
    my $s0 = status();
    bench_send($port, '/x', @set);
    my $s1 = status();

    my $hits = $s1->{hit} - $s0->{hit};
    my $ratio = $hits / $w;

    printf "zone 1m, working set %d: %d entries, hit ratio %.2f, "
        . "%d evictions\n", $w, $s1->{entries}, $ratio,
        $s1->{evictions} - $s0->{evictions};
    push @rows, [ 'zone_hit_ratio', $w, $s1->{entries}, $ratio,
        $s1->{evictions} - $s0->{evictions} ];

    # a fresh zone for the next working set

    $t->restart;
}

open my $f, '>', $o{csv} or die "$o{csv}: $!\n";
print $f "# curve,x,a,b,c: permissions/rules/token_bytes: x,token bytes,"
    . "hit instructions,no-cache instructions; zone_hit_ratio: working set,"
    . "entries,hit ratio,evictions\n";
print $f join(',', @$_), "\n" for @rows;
close $f;

print "wrote $o{csv}\n";

$t->stop;
done_testing();

###############################################################################

sub status {
    my $r = $t->get('/status');
    my %s;
    ($s{hit}) = $r->{body} =~ /^authz_cache_lookups_total\{result="hit"\} (\d+)/m;
    ($s{entries}) = $r->{body} =~ /^authz_cache_entries (\d+)/m;
    ($s{evictions}) = $r->{body} =~ /^authz_cache_evictions_total (\d+)/m;
    $s{$_} //= 0 for keys %s;
    return \%s;
}

###############################################################################
