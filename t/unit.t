#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Core unit tests: builds each t/unit/test_*.c with the sanitizers against
# the nginx-free core (ngx_http_authz_module/authz_*.c), runs it, and
# reports every line of its TAP output as a test, one subtest per file.

###############################################################################

use strict;
use warnings;

use Test::More;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path);
use POSIX ();

###############################################################################

my $root = abs_path(dirname(__FILE__) . '/..');
chdir $root or die "chdir $root: $!";

my @tests = sort glob 't/unit/test_*.c';
my @core = sort glob 'ngx_http_authz_module/authz_*.c';
my @cc = (split(' ', $ENV{CC} || 'cc'),
    qw(-std=c99 -Wall -Wextra -Werror -g -O1),
    '-fsanitize=address,undefined', '-fno-sanitize-recover=all',
    qw(-I ngx_http_authz_module));

make_path('build/unit');

plan(tests => @tests || 1);

ok(0, 'no t/unit/test_*.c found') unless @tests;

for my $src (@tests) {
    my ($name) = $src =~ m{([^/]+)\.c$};
    subtest $name => sub { unit($src, "build/unit/$name") };
}

###############################################################################

sub unit {
    my ($src, $bin) = @_;

    unlink $bin;
    my ($status, $out) = run([@cc, $src, @core, qw(-ljansson -lcrypto -o),
        $bin]);

    unless (ok($status == 0, 'compile')) {
        diag($out);
        return;
    }

    ($status, $out) = run([$bin], 300);

    my ($planned, $count, $failing) = (undef, 0, 0);

    for my $line (split /\n/, $out) {
        if ($line =~ /^1\.\.(\d+)/) {
            $planned = $1;

        } elsif ($line =~ /^(not )?ok\b(?:\s+\d+)?(?:\s*-)?\s*(.*)$/) {
            $count++;
            $failing = !!$1;
            ok(!$1, $2);

        } elsif ($line =~ /^#/ && !$failing) {
            note($line);

        } else {
            # "#   failed at" after a "not ok", sanitizer reports, stray text
            diag($line);
        }
    }

    ok($status == 0, 'exit status 0')
        or diag(describe($status));
    ok(defined $planned && $planned == $count,
        "ran $count of " . ($planned // 'no plan'));
}

# runs a command, stderr merged into stdout: ($?, output); kills it after
# $timeout seconds if given
sub run {
    my ($cmd, $timeout) = @_;

    my $pid = open(my $fh, '-|') // die "fork: $!";

    if ($pid == 0) {
        open STDERR, '>&', \*STDOUT or POSIX::_exit(126);
        exec { $cmd->[0] } @$cmd or print "exec $cmd->[0]: $!\n";
        POSIX::_exit(127);
    }

    local $SIG{ALRM} = sub { kill 'KILL', $pid };
    alarm($timeout // 0);
    my $out = do { local $/; <$fh> } // '';
    close $fh;
    my $status = $?;
    alarm(0);

    return ($status, $out);
}

sub describe {
    my ($status) = @_;
    return $status & 127 ? 'killed by signal ' . ($status & 127)
        : 'exit status ' . ($status >> 8);
}

###############################################################################
