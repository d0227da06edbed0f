#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests of the Debian package (debian/, make deb): builds the source
# package and libnginx-mod-http-authz and authz-mint with
# dpkg-buildpackage, installs them into the machine's Debian nginx with
# apt, checks that Debian's default configuration loads the module
# through modules-enabled, sends requests through a configuration that
# loads it only that way, with tokens of the installed authz-mint, runs
# the package's autopkgtest, then removes and purges the packages.
#
# Root only: it changes the system, and undoes what it did, also when a
# test fails or on HUP, INT or TERM.  It skips, before building, when the
# packages are installed already or a module installed by hand (files
# that no package owns) would be replaced and deleted by the purge.  One
# run at a time on a machine: the install-to-purge part holds
# /run/lock/authz-deb-test.lock.

###############################################################################

use warnings;
use strict;

use Test::More;

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);

use Cwd ();
use Fcntl qw(:flock);
use POSIX ();

###############################################################################

my $ROOT = Cwd::abs_path("$FindBin::Bin/..");
my @PKGS = qw(libnginx-mod-http-authz authz-mint);
my $LINK = '/etc/nginx/modules-enabled/50-mod-http-authz.conf';
my $AVAILABLE = '/usr/share/nginx/modules-available/mod-http-authz.conf';
my $SO = '/usr/lib/nginx/modules/ngx_http_authz_module.so';
my $LOAD = 'load_module modules/ngx_http_authz_module.so;';
my @APT = ('apt-get', '-y', '-q', '--no-install-recommends',
    '-o', 'DPkg::Lock::Timeout=300');

plan(skip_all => 'not root: the package test installs packages'
    . ' (make test as root runs it)') if $> != 0;

if (my @set = grep { $ENV{$_} } qw(AUTHZ_MODULE AUTHZ_NGINX
    AUTHZ_NGINX_PREFIX_CMD AUTHZ_STATIC))
{
    plan(skip_all => "@set set: the package test runs Debian's nginx with"
        . ' the packaged module, in plain make test');
}

my $t = AuthzTest->new(module => '');
my $d = $t->testdir;

$ENV{AUTHZ_MINT} = '/usr/bin/authz-mint';
$ENV{DEBIAN_FRONTEND} = 'noninteractive';

# a signal ends the test through END, which undoes the installation;
# a dead reader of our output (prove killed by a hangup) must not kill
# us before that

my ($installed, $child, $child_waits, $pidfile);

$SIG{$_} = sub { die "killed by SIG$_[0]\n" } for qw(HUP INT TERM);
$SIG{PIPE} = 'IGNORE';

END {
    local $?;
    local @SIG{qw(HUP INT TERM)} = ('IGNORE') x 3;

    # a command interrupted by a signal: a build is stopped, apt is
    # waited for (never killed inside dpkg)
    if ($child) {
        kill 'TERM', -$child unless $child_waits;
        waitpid $child, 0;
        $child = undef;
    }

    run(@APT, 'purge', @PKGS) if $installed;

    # "nginx -t" on Debian's configuration leaves an empty /run/nginx.pid
    unlink '/run/nginx.pid'
        if defined $pidfile && !$pidfile && -z '/run/nginx.pid';
}

# the packages must not be on this machine already, unless another run
# of this test (which holds the lock) has installed them; files of a
# module installed by hand would be replaced, then deleted by the purge

my $lockdir = -d '/run/lock' ? '/run/lock' : '/tmp';
open my $lock, '>>', "$lockdir/authz-deb-test.lock" or die "lock: $!";

skip_unless_clean('');
if (flock $lock, LOCK_EX | LOCK_NB) {
    skip_if_installed('');
    flock $lock, LOCK_UN;
}

# the build, before the lock: each checkout builds its own packages

my ($build_rc) = do {
    local @ENV{qw(MAKEFLAGS MFLAGS MAKELEVEL)};
    delete @ENV{qw(MAKEFLAGS MFLAGS MAKELEVEL)};
    run('make', '-C', $ROOT, 'deb');
};
$t->write_file('make-deb.log', $t->read_file('cmd.out'));

my $version = (run('dpkg-parsechangelog', '-l', "$ROOT/debian/changelog",
    '-S', 'Version'))[1];
my $arch = (run('dpkg', '--print-architecture'))[1];
chomp($version, $arch);
$version =~ s/^\d+://;
my %deb = map { $_ => "$ROOT/build/${_}_${version}_$arch.deb" } @PKGS;
my $dsc = "$ROOT/build/libnginx-mod-http-authz_$version.dsc";

# one package test at a time on this machine, whichever checkout runs it

flock $lock, LOCK_EX or die "flock: $!";

skip_if_installed(' (checked again under the lock)');
skip_unless_clean(' (checked again under the lock)');

$pidfile = -e '/run/nginx.pid' ? 1 : 0;

$t->plan(52);

my ($rc, $out);

###############################################################################

is($build_rc, 0, 'make deb') or do {
    diag(tail($t->read_file('make-deb.log'), 40));
    die "make deb failed\n";
};

# the packages: the module depends on the ABI of the nginx-dev it was
# built with, which the installed nginx provides

my $abi = $t->read_file(
    '/usr/share/nginx/src/debian/libnginx-mod.abisubstvars') // '';
$abi = $abi =~ /^nginx:abi=(\S+)/m ? $1 : 'no nginx:abi';

like(field($deb{'libnginx-mod-http-authz'}, 'Depends'),
    qr/(?:^|, )\Q$abi\E(?:,|$)/, "depends on $abi");
like((run('dpkg-query', '-W', '-f', '${Provides}', 'nginx'))[1],
    qr/(?:^|, )\Q$abi\E(?:,|$)/, "the installed nginx provides $abi");
is(field($deb{'libnginx-mod-http-authz'}, 'Recommends'), 'nginx',
    'recommends nginx');
is(field($deb{'libnginx-mod-http-authz'}, 'Version'), $version,
    'version of the changelog');

my $files = (run('dpkg-deb', '-c', $deb{'libnginx-mod-http-authz'}))[1];

for ($SO, $AVAILABLE, map { "/usr/share/doc/libnginx-mod-http-authz/$_" }
    qw(copyright README.md.gz directives.md.gz examples/gateway.conf
    examples/sites-available/api))
{
    like($files, qr/ \.\Q$_\E$/m, "module package: $_");
}
like($files,
    qr{ \./usr/share/doc/libnginx-mod-http-authz/README\.Debian(?:\.gz)?$}m,
    'module package: README.Debian');

# the example site of README.Debian is the one in deployment.md

my ($site) = ($t->read_file("$ROOT/docs/deployment.md") // '')
    =~ /^```nginx\n(# \/etc\/nginx\/sites-available\/api:.*?)^```$/ms;
is($site, $t->read_file("$ROOT/debian/examples/sites-available/api"),
    'deployment.md shows examples/sites-available/api');

# the upgrade note: after dh_nginx's part of the postinst

run('dpkg-deb', '-e', $deb{'libnginx-mod-http-authz'}, "$d/control");
like($t->read_file('control/postinst') // '',
    qr/dh_nginx.*\n# End automatically added section\n.*keeps the module/s,
    'postinst: dh_nginx, then the upgrade note');

# the source package (3.0 (quilt), with the orig tarball of make deb)

($rc, $out) = run('dpkg-source', '-x', $dsc, "$d/source");
ok($rc == 0 && -f "$d/source/debian/changelog" && -f "$d/source/config",
    'source package: dpkg-source -x') or diag(tail($out, 20));

$files = (run('dpkg-deb', '-c', $deb{'authz-mint'}))[1];

for (qw(/usr/bin/authz-mint /usr/share/man/man1/authz-mint.1.gz
    /usr/share/doc/authz-mint/copyright))
{
    like($files, qr/ \.\Q$_\E$/m, "authz-mint package: $_");
}

# installed as users install it: apt with the .deb files

$installed = 1;
($rc, $out) = run(@APT, 'install', @deb{@PKGS});
is($rc, 0, 'apt-get install') or diag(tail($out, 20));

is(status($_), "installed $version", "$_ installed") for @PKGS;
is(readlink($LINK), $AVAILABLE, 'enabled in modules-enabled');
is($t->read_file($AVAILABLE), "$LOAD\n", 'load file');
ok(-f $SO, 'module in /usr/lib/nginx/modules');

# Debian's default configuration loads it

($rc, $out) = run('nginx', '-t');
ok($rc == 0 && $out =~ /test is successful/, 'nginx -t, Debian defaults')
    or diag($out);
like((run('nginx', '-T'))[1], qr/^# configuration file \Q$LINK\E:\n\Q$LOAD\E$/m,
    'nginx -T: loaded through modules-enabled');

# the man page (read from the package: an image may leave out
# /usr/share/man) names every option of --help

($rc, $out) = run('/usr/bin/authz-mint', '--help');
my %opts = map { $_ => 1 } $out =~ /^\s+(--[a-z-]+)/mg;
run('dpkg-deb', '-x', $deb{'authz-mint'}, "$d/authz-mint-deb");
my $man = (run('zcat', "$d/authz-mint-deb/usr/share/man/man1/"
    . 'authz-mint.1.gz'))[1] =~ s/\\-/-/gr;
my @missing = grep { $man !~ /\Q$_\E\b/ } sort keys %opts;
ok($rc == 0 && keys %opts > 20 && !@missing,
    'man page names every option of --help') or diag("missing: @missing");

# requests through nginx with only modules-enabled loading the module,
# keys and tokens of the installed authz-mint

# "load_module modules/..." is relative to the prefix, the test directory
# here: like Debian's prefix (/usr/share/nginx), it links to the modules

symlink('/usr/lib/nginx/modules', "$d/modules") or die "symlink: $!";

my $kd = keydir();
$t->write_file('jwks.json',
    mint_cli('--jwks', "$kd/k1.pub", '--kid', 'deb-1') . "\n");

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

include /etc/nginx/modules-enabled/*.conf;

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        authz           on;
        authz_key_file  %%TESTDIR%%/jwks.json;
        authz_issuer    https://manager.local;
        authz_audience  api.local;

        location /blog/ {
            authz_service  blog;
            authz_require  blog:posts.read;
            proxy_pass     http://%%ECHO%%;
        }
    }

    # a site that uses no directive of the module
    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  localhost;

        location / {
            proxy_pass  http://%%ECHO%%;
        }
    }
}

EOF

$t->run;

my @base = ('--kid', 'deb-1', '--iss', 'https://manager.local',
    '--aud', 'api.local', '--sub', 'alice', '--tenant', 'acme',
    '--service', 'blog');
my $token = mint_cli('--key', "$kd/k1.key", @base,
    '--perm', 'blog:posts.read', '--perm', 'blog:comments.read');

my $r = $t->get('/blog/1');
is($r->{status}, 401, 'no token: 401');
like($r->{headers}{'www-authenticate'} // '', qr/^Bearer realm=/,
    'no token: WWW-Authenticate');

$r = $t->get('/blog/1', token => $token);
my $e = parse_echo($r);
is($r->{status}, 200, 'token of authz-mint: 200');
is($e->{'x-user-id'}, 'alice', 'X-User-Id');
is($e->{'x-tenant-id'}, 'acme', 'X-Tenant-Id');
is($e->{'x-user-permissions'}, 'blog:posts.read,blog:comments.read',
    'X-User-Permissions');
is($e->{'x-user-services'}, 'blog', 'X-User-Services');

$e = parse_echo($t->get('/blog/1', token => $token,
    headers => ['X-User-Id' => 'mallory', 'X-Tenant-Id' => 'evil']));
is("$e->{'x-user-id'} $e->{'x-tenant-id'}", 'alice acme',
    'client copies replaced');

is($t->get('/blog/1', token => mint_cli('--key', "$kd/k1.key", @base,
    '--perm', 'blog:posts.update'))->{status}, 403, 'no permission: 403');
is($t->get('/blog/1', token => mint_cli('--key', "$kd/k2.key", @base,
    '--perm', 'blog:posts.read'))->{status}, 401, 'other key: 401');

# a site without any directive of the module: client identity headers
# are removed there too (authz_strip_headers, on by default)

$e = parse_echo($t->get('/', port => 8081,
    headers => ['X-User-Id' => 'mallory', 'X-User-Permissions' => '*']));
is(join('|', map { $e->{$_} // 'none' } qw(x-user-id x-user-permissions)),
    '|', 'no authz directives: client identity headers removed');

$t->stop;

# the version of debian/changelog, logged by the installed module at start

my ($upstream) = $version =~ /^(.*)-[^-]+$/;
like($t->error_log, qr/\[notice\] .*authz module \Q$upstream\E$/m,
    "installed module logs its version $upstream");

# the autopkgtest: an nginx of its own with the example site, on free
# ports (the machine's nginx service may run meanwhile)

mkdir "$d/autopkgtest" or die "mkdir: $!";
{
    local $ENV{AUTOPKGTEST_TMP} = "$d/autopkgtest";
    local $ENV{AUTHZ_TEST_PORT} = $t->port('autopkgtest');
    local $ENV{AUTHZ_TEST_BACKEND_PORT} = $t->port('autopkgtest-backend');

    ($rc, $out) = run('sh', "$ROOT/debian/tests/gateway");
    ok($rc == 0 && $out =~ /all checks passed/, 'autopkgtest')
        or diag($out);
}

# removed: the link is kept aside, as with Debian's own modules

($rc, $out) = run(@APT, 'remove', 'libnginx-mod-http-authz');
is($rc, 0, 'apt-get remove') or diag(tail($out, 20));
ok(!-e $LINK && -l "$LINK.removed", 'removed: link set aside');
($rc, $out) = run('nginx', '-t');
ok($rc == 0 && $out =~ /test is successful/, 'removed: nginx -t')
    or diag($out);

# but a site that uses the module no longer loads (README.Debian: take
# such sites out before removing the package)

($rc, $out) = $t->nginx_t(<<'EOF');

%%TEST_GLOBALS%%

include /etc/nginx/modules-enabled/*.conf;

events {
}

http {
    server {
        listen  127.0.0.1:%%PORT_8081%%;
        authz   on;
    }
}

EOF
ok($rc != 0 && $out =~ /unknown directive "authz"/,
    'removed: a site with authz directives fails nginx -t') or diag($out);

# purged: nothing left

($rc, $out) = run(@APT, 'purge', @PKGS);
is($rc, 0, 'apt-get purge') or diag(tail($out, 20));
$installed = 0 unless $rc;

like(status($_), qr/^not-installed /, "$_ purged") for @PKGS;
is(join(' ', glob('/etc/nginx/modules-enabled/*authz*')), '',
    'purged: no modules-enabled link');
ok(!-e $SO && !-e $AVAILABLE && !-e '/usr/bin/authz-mint',
    'purged: files removed');
($rc, $out) = run('nginx', '-t');
ok($rc == 0 && $out =~ /test is successful/, 'purged: nginx -t')
    or diag($out);
unlike((run('nginx', '-T'))[1], qr/authz/, 'purged: nginx -T');

###############################################################################

# runs a command in a process group of its own: (exit code, stdout and
# stderr), also kept in cmd.out; END deals with a command that a signal
# interrupted: apt and dpkg are waited for, anything else is stopped
sub run {
    my (@cmd) = @_;

    STDOUT->flush;
    STDERR->flush;

    my $pid = fork // die "fork: $!";
    unless ($pid) {
        $SIG{$_} = 'DEFAULT' for qw(HUP INT TERM PIPE);
        POSIX::setpgid(0, 0);
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', "$d/cmd.out" or POSIX::_exit(126);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(126);
        exec { $cmd[0] } @cmd or POSIX::_exit(127);
    }

    ($child, $child_waits) = ($pid, $cmd[0] =~ /^(?:apt-get|dpkg)$/);
    waitpid $pid, 0;
    my $rc = $? & 127 ? 128 + ($? & 127) : $? >> 8;
    $child = undef;

    return ($rc, $t->read_file('cmd.out') // '');
}

sub field {
    my ($deb, $name) = @_;
    my $v = (run('dpkg-deb', '-f', $deb, $name))[1];
    chomp $v;
    return $v;
}

# "installed 0.2.0-1", "config-files 0.2.0-1", "not-installed "
sub status {
    my ($pkg) = @_;
    my ($rc, $s) = run('dpkg-query', '-W', '-f',
        '${db:Status-Status} ${Version}', $pkg);
    return $rc == 0 ? $s : 'not-installed ';
}

sub removed {
    my ($pkg) = @_;
    return status($pkg) =~ /^(?:not-installed|config-files) /;
}

sub skip_if_installed {
    my ($when) = @_;

    my @have = grep { !removed($_) } @PKGS;
    plan(skip_all => "@have installed on this machine$when: the test"
        . " installs and purges the packages; run apt-get purge @have first")
        if @have;
}

# files that installing the packages would replace and purging them
# would delete, though no package owns them: a module (or authz-mint)
# installed by hand, a load file or modules-enabled entry written by
# hand; the package's own modules-enabled link (made by its postinst,
# owned by no package) counts only while dpkg knows the package
sub skip_unless_clean {
    my ($when) = @_;

    my @stray = grep { (-e || -l) && !owned($_) }
        $SO, $AVAILABLE, '/usr/bin/authz-mint';

    my $known = status('libnginx-mod-http-authz') !~ /^not-installed /;

    for my $f (glob('/etc/nginx/modules-enabled/*')) {
        my $target = readlink($f) // '';
        my $text = -f $f ? $t->read_file($f) // '' : '';
        next unless "$f $target $text" =~ /authz/;
        next if $known && $target eq $AVAILABLE
            && ($f eq $LINK || $f eq "$LINK.removed");
        push @stray, $f;
    }

    plan(skip_all => "files of a module installed by hand$when, owned by"
        . " no package: @stray; the package would replace them or load the"
        . ' module twice, and its purge would delete them') if @stray;
}

sub owned {
    my ($path) = @_;
    my ($rc, $out) = run('dpkg-query', '-S', $path);
    return $rc == 0 && $out =~ /: \Q$path\E$/m;
}

sub tail {
    my ($text, $n) = @_;
    my @l = split /\n/, $text // '';
    return join "\n", @l > $n ? @l[-$n .. -1] : @l;
}

###############################################################################
