#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for the fuzz targets: each t/fuzz/fuzz_*.c is built with its
# replay main() (gcc, ASan and UBSan, no libFuzzer) and run on its seed
# corpus, t/fuzz/corpus/*/, where crash reproducers stay as regression
# inputs.  Real fuzzing is t/fuzz/run.sh (clang, libFuzzer).

###############################################################################

use warnings;
use strict;

use Test::More;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path);

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

# the repository root, whatever the current directory

chdir(dirname(abs_path(__FILE__)) . '/..') or die "chdir: $!";

my @targets = qw(token rules key jwks http revocation json);

plan(tests => 3 * @targets);

make_path('build/fuzz');

$ENV{ASAN_OPTIONS} = 'detect_leaks=1:abort_on_error=1';
$ENV{UBSAN_OPTIONS} = 'print_stacktrace=1:halt_on_error=1';

for my $t (@targets) {
	my $bin = "build/fuzz/replay_$t";
	my $dir = "t/fuzz/corpus/$t";

	my $log = build($t, $bin);

	ok(defined $log && $log eq '', "$t replay builds")
		or diag($log // 'cc did not run');

	SKIP: {
		skip "$t replay not built", 2 unless -x $bin && defined $log
			&& $log eq '';

		my ($rc, $out, $err) = run($bin, $dir);

		is($rc, 0, "$t corpus runs") or diag($err);

		my @files = corpus($dir);
		my %done = map { $_ => 1 } $out =~ /^ok \d+ - (.*)$/mg;
		my @missed = grep { !$done{$_} } @files;

		ok(@files && !@missed && $out =~ /^1\.\.${\ scalar @files}$/m,
			"$t corpus all ok")
			or diag("not reported ok: @missed\n$err");
	}
}

###############################################################################

# returns the compiler output: '' on success, undef if cc did not run

sub build {
	my ($t, $bin) = @_;

	my @cmd = ($ENV{CC} // 'cc', '-std=c99', '-g', '-O1',
		'-fsanitize=address,undefined', '-fno-sanitize-recover=all',
		'-I', 'ngx_http_authz_module', "t/fuzz/fuzz_$t.c",
		glob('ngx_http_authz_module/authz_*.c'),
		qw(-ljansson -lcrypto -o), $bin);

	open(my $fh, '-|', join(' ', @cmd) . ' 2>&1') or return undef;
	local $/;
	my $log = <$fh> // '';
	close $fh;

	return $? == 0 ? $log : ($log || "cc exited with $?");
}

sub run {
	my ($bin, $dir) = @_;

	my $errfile = "$bin.stderr";

	open(my $fh, '-|', "$bin $dir 2>$errfile") or return (-1, '', $!);
	local $/;
	my $out = <$fh> // '';
	close $fh;
	my $rc = $? >> 8 || $? & 127;

	open(my $ef, '<', $errfile) or return ($rc, $out, '');
	my $err = <$ef> // '';
	close $ef;

	return ($rc, $out, $err);
}

sub corpus {
	my ($dir) = @_;

	opendir(my $dh, $dir) or return ();
	my @files = sort grep { -f "$dir/$_" } readdir($dh);
	closedir $dh;

	return map { "$dir/$_" } @files;
}

###############################################################################
