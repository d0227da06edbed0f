#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# authz_status under load, 4 workers: the counters, summed over the
# workers, are exact.
#
# First a fixed number of requests from 8 concurrent clients, whose kinds
# the test knows: every delta equals what the clients sent.  Then wrk
# (64 connections) sends a mix of allowed, anonymous and denied requests
# for a few seconds: every delta equals what nginx logged, request by
# request, in an access log of $authz_result and $authz_error; and the
# answers wrk counted agree, but for the requests still in flight when
# wrk stopped (at most one per connection).

###############################################################################

use warnings;
use strict;

use Test::More;

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);
use AuthzMetrics qw(parse_prometheus series family_sum);
use POSIX ();

###############################################################################

# nginx's debug log would grow by gigabytes under this load
$ENV{AUTHZ_TEST_LOGLEVEL} = 'notice'
    if ($ENV{AUTHZ_TEST_LOGLEVEL} // 'debug') eq 'debug';

my ($wrk) = grep { -x } map { "$_/wrk" } split /:/, $ENV{PATH} // '';
plan(skip_all => 'wrk is missing (apt-get install -y wrk)') unless $wrk;

my $t = AuthzTest->new(workers => 4)->has('module');

my $conns = 64;

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%


events {
    worker_connections 1024;
}

http {
    %%TEST_GLOBALS_HTTP%%

    authz_cache zone=tokens:1m;

    log_format authz '$pid $uri "$authz_result" "$authz_error"';

    server {
        listen       127.0.0.1:%%PORT_8080%% backlog=1024;
        server_name  localhost;

        access_log %%TESTDIR%%/load.log authz;

        authz on;
        authz_key_file %%KEYDIR%%/k1.pub kid=k1;

        add_header X-Result $authz_result always;

        location / {
            empty_gif;
        }

        location /scope/ {
            authz_require blog:posts.read;
            empty_gif;
        }

        location /opt/ {
            authz optional;
            empty_gif;
        }

        location = /authz_status {
            authz off;
            authz_status;
        }
    }
}

EOF

$t->run->plan(13);

###############################################################################

my $good = mint(sub => 'loader', permissions => ['blog:posts.read']);
my @p = split /\./, mint(sub => 'forger');
my $forged = "$p[0].$p[1]." . substr($p[2], 0, -4) . 'AAAA';
my $noperm = mint(sub => 'weak');

# [ path, token, result, error ]
my @kinds = (
    ['/a', $good, 'allow'],
    ['/a', undef, 'deny', 'missing_token'],
    ['/a', $forged, 'deny', 'invalid_token'],
    ['/scope/', $noperm, 'deny', 'insufficient_scope'],
    ['/opt/', undef, 'anonymous'],
    ['/opt/', $good, 'allow'],
);

# 8 clients, 100 requests each, kinds in turn: exact

my $s0 = scrape();
my ($clients, $each) = (8, 100);
my %sent;

for my $c (0 .. $clients - 1) {
    for my $i (0 .. $each - 1) {
        my $k = $kinds[($c + $i) % @kinds];
        $sent{result}{ $k->[2] }++;
        $sent{error}{ $k->[3] }++ if $k->[3];
    }
}

my @pids;

for my $c (0 .. $clients - 1) {
    my $pid = fork // die "fork: $!";

    if ($pid == 0) {
        my $bad = 0;
        for my $i (0 .. $each - 1) {
            my $k = $kinds[($c + $i) % @kinds];
            my $r = $t->get($k->[0], defined $k->[1] ? (token => $k->[1]) : ());
            $bad++ unless ($r->{headers}{'x-result'} // '') eq $k->[2];
        }
        POSIX::_exit($bad ? 1 : 0);
    }

    push @pids, $pid;
}

my $failed = 0;
for (@pids) {
    waitpid $_, 0;
    $failed++ if $?;
}

is($failed, 0, 'every client got the answers it expected');

my $s1 = scrape();

is_deeply({ map { $_ => delta($s0, $s1, 'authz_requests_total',
        zone => 'default', result => $_) } qw(allow deny anonymous) },
    { allow => 0, deny => 0, anonymous => 0, %{ $sent{result} } },
    'requests: what the clients sent');

is_deeply({ map { $_ => delta($s0, $s1, 'authz_denials_total',
        zone => 'default', error => $_) } keys %{ $sent{error} } },
    $sent{error}, 'denials: what the clients sent');

my %served = map { /^(\d+) / ? ($1 => 1) : () }
    split /\n/, $t->read_file('load.log') // '';
ok(keys %served > 1, 'answered by ' . keys(%served) . ' workers');

###############################################################################

# wrk: every request that nginx logged is counted, once

truncate $t->testdir . '/load.log', 0 or die "truncate: $!";

my $lua = join "\n", 'local kinds = {',
    (map { sprintf '  { path = "%s", token = %s },', $_->[0],
        defined $_->[1] ? "\"$_->[1]\"" : 'nil' } @kinds),
    '}', <<'EOF';
local threads = {}
local i = 0
counts = {}

setup = function(thread)
    table.insert(threads, thread)
end

request = function()
    i = i + 1
    local k = kinds[(i % #kinds) + 1]
    local h = {}
    if k.token then
        h["Authorization"] = "Bearer " .. k.token
    end
    return wrk.format("GET", k.path, h)
end

response = function(status, headers, body)
    local r = headers["X-Result"] or "none"
    counts[r] = (counts[r] or 0) + 1
end

done = function(summary, latency, requests)
    for _, thread in ipairs(threads) do
        for k, v in pairs(thread:get("counts")) do
            io.write(string.format("result %s %d\n", k, v))
        end
    end
    io.write(string.format("requests %d\n", summary.requests))
end
EOF

$t->write_file('mix.lua', $lua);

my $w0 = scrape();
my $port = $t->port(8080);
my $out = `$wrk -t2 -c$conns -d3s -s @{[ $t->testdir ]}/mix.lua http://127.0.0.1:$port/ 2>&1`;

my %wrk;
$wrk{$1} += $2 while $out =~ /^result (\S+) (\d+)$/mg;
my ($wrk_total) = $out =~ /^requests (\d+)$/m;

ok($wrk_total && $wrk_total > 1000, 'wrk made ' . ($wrk_total // 0)
    . ' requests') or diag($out);

# requests in flight or still queued when wrk stops are finished and
# logged by nginx a little later: the numbers are compared once they
# have stayed the same for three polls in a row (one scrape and one
# read of the log each)

my ($w1, $log, $counted, $same, $last) = (undef, undef, 0, 0, -1);

for (1 .. 100) {
    $w1 = scrape();
    $log = logged();
    $counted = family_sum($w1, 'authz_requests_total')
        - family_sum($w0, 'authz_requests_total');

    $same = ($counted == $log->{total} && $counted == $last) ? $same + 1 : 0;
    $last = $counted;
    last if $same == 2;

    select undef, undef, undef, 0.1;
}

is($counted, $log->{total}, "counted $counted, logged $log->{total}");

is_deeply({ map { $_ => delta($w0, $w1, 'authz_requests_total',
        zone => 'default', result => $_) } qw(allow deny anonymous) },
    { allow => 0, deny => 0, anonymous => 0, %{ $log->{result} } },
    'requests by result: as logged');

is_deeply({ map { $_ => delta($w0, $w1, 'authz_denials_total',
        zone => 'default', error => $_) } keys %{ $log->{error} } },
    $log->{error}, 'denials by error: as logged');

is(family_sum($w1, 'authz_denials_total')
    - family_sum($w0, 'authz_denials_total'),
    delta($w0, $w1, 'authz_requests_total', zone => 'default',
        result => 'deny'), 'sum of denials is the deny count');

my $answered = 0;
$answered += $_ for values %wrk;
is($answered, $wrk_total, 'wrk counted every answer it read');

ok($counted >= $wrk_total && $counted <= $wrk_total + $conns,
    "counted $counted: wrk's $wrk_total and at most $conns in flight");

for my $r (qw(allow anonymous)) {
    my $d = delta($w0, $w1, 'authz_requests_total', zone => 'default',
        result => $r);
    my $seen = $wrk{$r} // 0;
    ok($d >= $seen && $d <= $seen + $conns, "$r: $d counted, $seen seen");
}

###############################################################################

sub scrape {
    return parse_prometheus($t->get('/authz_status')->{body});
}

sub delta {
    my ($a, $b, $name, %labels) = @_;

    my $d = 0;
    for my $k (grep { /^\Q$name\E\0/ } keys %{ $b->{samples} }) {
        my (undef, @kv) = split /\0/, $k;
        my %l = map { split /=/, $_, 2 } @kv;
        next if grep { !defined $l{$_} || $l{$_} ne $labels{$_} }
            keys %labels;
        $d += $b->{samples}{$k} - ($a->{samples}{$k} // 0);
    }

    return $d;
}

# the requests of the access log but the status requests, by result and
# error (nginx logs an empty value as "-")
sub logged {
    my %n = (total => 0, result => {}, error => {});

    for (split /\n/, $t->read_file('load.log') // '') {
        my ($uri, $result, $error) = /^\d+ (\S+) "([^"]*)" "([^"]*)"$/
            or next;
        next if $uri eq '/authz_status';
        $n{total}++;
        $n{result}{$result}++;
        $n{error}{$error}++ if $error ne '-';
    }

    return \%n;
}

###############################################################################
