#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# The cost of authz_revocation_file with a large list (docs/performance.md):
#
# 1. reload: the list (ENTRIES entries: 90 % jti UUIDs, 9 % sub, 1 %
#    tenant) is rewritten by rename RELOADS times; each worker logs how
#    long its read and parse took ("loaded ... in N ms"), and the wall
#    clock from the rename to the last worker's line is taken too;
# 2. memory: the RSS of each worker after each of those reloads;
# 3. requests: a cached token against a gateway without a list and one
#    with the list, as wrk ratios to plain proxying in the same run
#    (interleaved rounds, median; nginx 1 worker on CPU 0, wrk on CPU 1);
# 4. --callgrind: instructions of the access handler per cached request
#    without a list, with 1,000 entries and with ENTRIES entries.
#
#   perl bench/revocation.pl [--entries 1000000] [--reloads 100]
#       [--workers 2] [--duration 5] [--rounds 3] [--no-wrk] [--callgrind]

use warnings;
use strict;

use FindBin;
use lib "$FindBin::Bin/../t/lib";
use AuthzTest qw(:all);
use Getopt::Long;
use IO::Socket::INET;
use POSIX qw(floor);
use Time::HiRes ();
use Test::More;

my %o = (entries => 1000000, reloads => 100, workers => 2, duration => 5,
    rounds => 3, wrk => 1, callgrind => 0, requests => 500);
GetOptions(\%o, 'entries=i', 'reloads=i', 'workers=i', 'duration=i',
    'rounds=i', 'wrk!', 'callgrind', 'requests=i')
    or die "usage: see the header of $0\n";

$ENV{AUTHZ_TEST_LOGLEVEL} = 'notice';

my $now = time();
my $token = mint(sub => 'bench-user', tid => 'bench-tenant',
    jti => 'bench-0000-jti', permissions => ['bench:items.read'],
    exp => $now + 7200);

print "writing a list of $o{entries} entries...\n";
my $list = list($o{entries}, $now);
printf "%.1f MB\n", length($list) / 1048576;

reloads() if $o{reloads};
requests() if $o{wrk};
callgrind() if $o{callgrind};

done_testing();

###############################################################################

sub reloads {
    my $g = gateway(workers => $o{workers},
        revocation => 'authz_revocation_file %%TESTDIR%%/list.json '
            . 'check=100ms;');
    my $file = $g->testdir . '/list.json';

    my @pids = workers($g);
    my %rss = map { $_ => [rss($_)] } @pids;
    my (@parse, @wall);

    for my $i (1 .. $o{reloads}) {
        my $mark = loaded($g);

        # a new generated_at: another file, of the same size
        (my $text = $list) =~ s/"generated_at": \d+/"generated_at": @{[
            $now + $i ]}/;
        $g->write_file('list.json.tmp', $text);

        my $start = Time::HiRes::time();
        rename "$file.tmp", $file or die "rename: $!";

        my $deadline = $start + 120;
        Time::HiRes::sleep(0.01) while loaded($g) < $mark + @pids
            && Time::HiRes::time() < $deadline;
        die "reload $i: not every worker loaded the list\n"
            if loaded($g) < $mark + @pids;

        push @wall, (Time::HiRes::time() - $start) * 1000;
        push @parse, ($g->error_log =~ /loaded: .* in (\d+) ms/g)[-@pids ..
            -1];
        push @{ $rss{$_} }, rss($_) for @pids;
    }

    my @info = $g->error_log =~ /(loaded: [^\n]* kB)/;
    print "\nreload of $o{entries} entries, $o{reloads} times, "
        . "$o{workers} workers: $info[0]\n";
    printf "read and parse per worker: median %d ms, min %d, max %d\n",
        median(@parse), min(@parse), max(@parse);
    printf "rename to every worker loaded: median %d ms, max %d "
        . "(check=100ms)\n", median(@wall), max(@wall);

    for my $pid (@pids) {
        my $r = $rss{$pid};
        printf "worker %d RSS (kB): at start %d, after reload 1 %d, "
            . "10 %d, 50 %d, %d %d; min %d, max %d; peak (VmHWM) %d\n",
            $pid, $r->[0], $r->[1], $r->[10] // 0, $r->[50] // 0,
            $o{reloads}, $r->[-1], min(@$r[1 .. $#$r]), max(@$r[1 .. $#$r]),
            hwm($pid);
    }

    $g->stop;
}

sub requests {
    my $ga = gateway(workers => 1, pin => 1, revocation => '');
    my $gb = gateway(workers => 1, pin => 1,
        revocation => 'authz_revocation_file %%TESTDIR%%/list.json;');

    my $pa = $ga->port(8080);
    my $pb = $gb->port(8080);

    my @s = (
        ['a', 'plain nginx proxy', $pa, '/plain/x'],
        ['b', 'cached token, no list', $pa, '/x', $token],
        ['r', "cached token, $o{entries} entries", $pb, '/x', $token],
    );

    for my $s (@s) {
        my $st = status(@$s[2 .. 4]);
        die "($s->[0]) answers $st\n" unless $st == 200;
    }

    my %res;

    for my $round (1 .. $o{rounds}) {
        push @{ $res{ $_->[0] } },
            wrk("http://127.0.0.1:$_->[2]$_->[3]", $_->[4]) for @s;
    }

    my %med = map {
        my @r = sort { $a->{rps} <=> $b->{rps} } @{ $res{$_} };
        $_ => $r[floor($#r / 2)]
    } keys %res;

    print "\n";
    printf "%-4s %-36s %10s %7s %9s %9s\n", '', 'scenario', 'req/s', 'ratio',
        'p50', 'p99';
    for my $s (@s) {
        my $m = $med{ $s->[0] };
        printf "%-4s %-36s %10.0f %7.3f %9s %9s\n", "($s->[0])", $s->[1],
            $m->{rps}, $m->{rps} / $med{a}{rps}, $m->{p50}, $m->{p99};
    }
    printf "\n(r)/(b) = %.3f; rounds: (b) %s, (r) %s\n",
        $med{r}{rps} / $med{b}{rps},
        join(' ', map { sprintf '%.0f', $_->{rps} } @{ $res{b} }),
        join(' ', map { sprintf '%.0f', $_->{rps} } @{ $res{r} });
    print "wrk: 1 thread, 32 connections, $o{duration}s each, median of "
        . "$o{rounds} interleaved rounds; nginx 1 worker on CPU 0, wrk on "
        . "CPU 1\n";

    $ga->stop;
    $gb->stop;
}

# instructions are repeatable where seconds are not

sub callgrind {
    print "\ncallgrind, instructions of the access handler per cached "
        . "request:\n";

    for my $n (0, 1000, $o{entries}) {
        my $g = AuthzTest->new;
        $g->write_file('list.json', list($n, $now));

        my $rev = $n ? "authz_revocation_file $g->{testdir}/list.json;" : '';
        my $conf = config(workers => 1, revocation => $rev);
        $conf =~ s/^%%TEST_GLOBALS%%$/load_module @{[ $g->module ]};
            master_process off; daemon off; pid $g->{testdir}\/nginx.pid;
            error_log $g->{testdir}\/error.log notice;/m;
        $g->write_file_expand('nginx.conf', $conf);

        my $d = $g->testdir;
        my $pid = fork // die "fork: $!";

        if ($pid == 0) {
            open STDOUT, '>', "$d/vg.out";
            open STDERR, '>&', \*STDOUT;
            exec 'valgrind', '--tool=callgrind',
                "--callgrind-out-file=$d/cg.out", '/usr/sbin/nginx',
                '-p', "$d/", '-c', "$d/nginx.conf";
            exit 127;
        }

        my $port = $g->port(8080);
        my $deadline = time() + 600;
        sleep 1 until status($port, '/x', $token) == 200
            || time() > $deadline;

        status($port, '/x', $token) for 1 .. $o{requests};

        kill 'QUIT', $pid;
        waitpid $pid, 0;

        my ($calls, $ir) = handler_cost("$d/cg.out");
        printf "%9d entries: %d instructions per call (%d calls)\n", $n,
            $ir / $calls, $calls;
    }
}

###############################################################################

sub list {
    my ($n, $t) = @_;

    my $nsub = int($n * 0.09);
    my $nten = int($n * 0.01);
    my $njti = $n - $nsub - $nten;

    my @j = map {
        sprintf('"%08x-%04x-4%03x-a%03x-%012x": %d', $_ * 2654435761
            % 4294967296, $_ % 65536, $_ % 4096, ($_ >> 12) % 4096, $_,
            $t + 3600)
    } 0 .. $njti - 1;
    my @s = map { sprintf('"user-%07d": %d', $_, $t - 86400) }
        0 .. $nsub - 1;
    my @n = map { sprintf('"tenant-%05d": %d', $_, $t - 86400) }
        0 .. $nten - 1;

    return qq({"generated_at": $t,\n"jti": {) . join(",\n", @j)
        . qq(},\n"sub": {) . join(",\n", @s)
        . qq(},\n"tenant": {) . join(",\n", @n) . "}}\n";
}

sub config {
    my (%c) = @_;

    my $pin = $c{pin} ? 'worker_cpu_affinity 01;' : '';

    return <<"EOF";
%%TEST_GLOBALS%%

$pin
worker_rlimit_nofile 8192;

events {
    worker_connections 4096;
}

http {
    %%TEST_GLOBALS_HTTP%%

    access_log off;
    authz_cache zone=bench:16m ttl=300s;
    $c{revocation}

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
}

sub gateway {
    my (%c) = @_;

    my $g = AuthzTest->new(workers => $c{workers});
    $g->write_file('list.json', $list);
    $g->write_file_expand('nginx.conf', config(%c));

    return $g->run;
}

# the number of "loaded" lines in the error log
sub loaded {
    my ($g) = @_;
    return scalar(() = $g->error_log =~ /revocation file "[^"]*" loaded/g);
}

sub workers {
    my ($g) = @_;
    my ($master) = $g->read_file('nginx.pid') =~ /(\d+)/;
    return sort { $a <=> $b } `pgrep -P $master` =~ /(\d+)/g;
}

sub wrk {
    my ($url, $tok) = @_;

    my @cmd = ('taskset', '-c', '1', 'wrk', '-t1', '-c32',
        "-d$o{duration}s", '--latency',
        (defined $tok ? ('-H', "Authorization: Bearer $tok") : ()), $url);

    my $out = `@{[ join ' ', map { "'$_'" } @cmd ]} 2>&1`;

    my %r;
    ($r{rps}) = $out =~ /Requests\/sec:\s+([\d.]+)/;
    ($r{p50}) = $out =~ /^\s+50%\s+(\S+)/m;
    ($r{p99}) = $out =~ /^\s+99%\s+(\S+)/m;
    die "wrk failed:\n$out" unless defined $r{rps};
    die "non-2xx answers:\n$out" if $out =~ /Non-2xx/;

    return \%r;
}

sub status {
    my ($port, $path, $tok) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port")
        or return 0;

    print $s "GET $path HTTP/1.0\r\nHost: localhost\r\n"
        . (defined $tok ? "Authorization: Bearer $tok\r\n" : '') . "\r\n";

    local $/;
    my $resp = <$s> // '';

    return $resp =~ m{^HTTP/1\.\d (\d+)} ? $1 : 0;
}

# callgrind compresses names: "fn=(id) name" once, "cfn=(id)" after
sub handler_cost {
    my ($cg) = @_;

    my $f = 'ngx_http_authz_access_handler';
    my ($id, $in, $calls, $ir) = (undef, 0, 0, 0);

    open my $fh, '<', $cg or die "open $cg: $!";
    while (<$fh>) {
        $id = $1 if /^c?fn=\((\d+)\) \Q$f\E$/;
        if (/^cfn=/) {
            $in = defined $id && /^cfn=\($id\)/;
            next;
        }
        if ($in && /^calls=(\d+)/) {
            $calls += $1;
            my $cost = <$fh>;
            $ir += (split ' ', $cost)[1] // 0;
            $in = 0;
        }
    }

    return ($calls, $ir);
}

sub rss { return proc_status($_[0], 'VmRSS') }
sub hwm { return proc_status($_[0], 'VmHWM') }

sub proc_status {
    my ($pid, $field) = @_;
    open my $fh, '<', "/proc/$pid/status" or return 0;
    while (my $l = <$fh>) {
        return $1 if $l =~ /^$field:\s+(\d+)/;
    }
    return 0;
}

sub median {
    my @v = sort { $a <=> $b } @_;
    return $v[floor($#v / 2)];
}

sub min { my $m = shift; $_ < $m and $m = $_ for @_; return $m }
sub max { my $m = shift; $_ > $m and $m = $_ for @_; return $m }

###############################################################################
