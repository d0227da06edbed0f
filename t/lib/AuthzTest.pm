package AuthzTest;

# Copyright (C) ngx_http_authz_module authors
#
# A small, self-written test harness for ngx_http_authz_module, shaped
# like the nginx-tests API: each test file boots one nginx from an inline
# config, talks raw HTTP over 127.0.0.1, mints tokens at test time, and
# gets an automatic "no alerts" check of the error log when nginx stops.
#
#     my $t = AuthzTest->new->has('module')->plan(3);
#     $t->write_file_expand('nginx.conf', <<'EOF');
#     %%TEST_GLOBALS%%
#     events {}
#     http {
#         %%TEST_GLOBALS_HTTP%%
#         server {
#             listen 127.0.0.1:%%PORT_8080%%;
#             location / { proxy_pass http://%%ECHO%%; }
#         }
#     }
#     EOF
#     $t->run;
#     is($t->get('/', token => mint())->{status}, 200, 'allowed');
#
# Environment: AUTHZ_MODULE (the .so; '' loads none), AUTHZ_NGINX (the
# binary), AUTHZ_NGINX_PREFIX_CMD (e.g. "valgrind -q"; nginx then runs
# with "daemon off" as our child), AUTHZ_TEST_LOGLEVEL (error_log level,
# default debug), AUTHZ_TEST_LEAVE (keep the test directory),
# AUTHZ_TEST_KEYS (key directory), AUTHZ_TEST_TIMEOUT (seconds, 10),
# AUTHZ_MINT (the authz-mint binary).

use strict;
use warnings;

# loaded before our END block is compiled, so that our END (which adds
# the "no alerts" test) runs before Test::Builder's own END
use Test::More ();

use Carp qw(croak);
use Cwd ();
use Crypt::JWT ();
use Crypt::PK::ECC ();
use Crypt::PK::RSA ();
use Digest::SHA qw(hmac_sha256);
use Exporter qw(import);
use Fcntl qw(:flock);
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use File::Spec ();
use File::Temp qw(tempdir);
use IO::Select ();
use IO::Socket::INET ();
use JSON::PP ();
use MIME::Base64 qw(encode_base64 decode_base64);
use POSIX qw(WNOHANG);
use Scalar::Util qw(blessed weaken);
use Time::HiRes ();

our @EXPORT_OK = qw(http http_get req get post parse_response parse_echo
    keydir b64url b64url_decode mint raw_jwt hs256_with_pubkey mint_cli
    have_mint);
our %EXPORT_TAGS = (all => \@EXPORT_OK);

my $ROOT = Cwd::abs_path(dirname(__FILE__) . '/../..');

my @KEYFILES = qw(k1.key k1.pub k2.key k2.pub k1.rsapub k1.crt
    weak.key weak.pub ec.key ec.pub jwks.json k1.jwk);

# what the echo server reports, one "name=value" line each
my @ECHO = (
    [uri => '$uri'], [args => '$args'], [method => '$request_method'],
    (map { [$_ => '$http_' . ($_ =~ tr/-/_/r)] } qw(x-user-id x-tenant-id
        x-user-permissions x-user-services authorization cookie)),
);

my (@OBJECTS, $CURRENT, $KEYDIR, %PK);

sub _timeout { return $ENV{AUTHZ_TEST_TIMEOUT} || 10 }
sub _nginx { return $ENV{AUTHZ_NGINX} || '/usr/sbin/nginx' }


############################################################################
# the object: a test directory, its ports and one nginx

sub new {
    my ($class, %opt) = @_;

    my $dir = tempdir('authz-t-XXXXXX', TMPDIR => 1,
        CLEANUP => $ENV{AUTHZ_TEST_LEAVE} ? 0 : 1);

    # workers run as nobody when we are root: they must read what we write
    chmod 0755, $dir or die "chmod $dir: $!";

    my $module = exists $opt{module} ? $opt{module}
        : $ENV{AUTHZ_MODULE} // "$ROOT/build/ngx_http_authz_module.so";
    $module = File::Spec->rel2abs($module) if $module;

    my @prefix = split ' ', $ENV{AUTHZ_NGINX_PREFIX_CMD} // '';

    my $self = bless {
        workers => $opt{workers},
        testdir => $dir, module => $module || '', prefix => \@prefix,
        ports => {}, used => {}, owner => $$,
    }, $class;

    push @OBJECTS, $self;
    weaken($OBJECTS[-1]);
    weaken($CURRENT = $self);

    return $self;
}

sub testdir { return $_[0]{testdir} }
sub module { return $_[0]{module} }

sub plan {
    my ($self, $n) = @_;
    $self->{planned} = 1;
    Test::More::plan(tests => $n + 1);   # +1: "no alerts"
    return $self;
}

# skip the whole file unless every feature is there: 'module', 'mint'
sub has {
    my ($self, @features) = @_;

    for my $f (@features) {
        # AUTHZ_STATIC=1: the module is built into AUTHZ_NGINX
        my $have = $f eq 'module' ? ($ENV{AUTHZ_STATIC}
                || ($self->{module} && -f $self->{module}))
            : $f eq 'mint' ? have_mint()
            : croak "unknown feature \"$f\"";
        Test::More::plan(skip_all => "no $f") unless $have;
    }

    return $self;
}

# a stable free port per placeholder number (8080 in %%PORT_8080%%)
sub port {
    my ($self, $n) = @_;

    return $self->{ports}{$n} //= do {
        my %taken = map { $_ => 1 } grep { defined } values %{ $self->{ports} };
        my $port;
        for (1 .. 100) {
            my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                LocalPort => 0, Proto => 'tcp') or die "bind: $@";
            $port = $s->sockport;
            close $s;
            last unless $taken{$port};
        }
        $port;
    };
}

sub _path {
    my ($self, $name) = @_;
    return $name =~ m{^/} ? $name : "$self->{testdir}/$name";
}

sub write_file {
    my ($self, $name, $content) = @_;

    my $path = $self->_path($name);
    make_path(dirname($path), { mode => 0755 });
    _write($path, $content);

    return $self;
}

sub write_file_expand {
    my ($self, $name, $content) = @_;
    return $self->write_file($name, $self->_expand($content, $name));
}

sub read_file {
    my ($self, $name) = @_;
    my $path = $self->_path($name);
    return -e $path ? _slurp($path) : undef;
}

# the error log; with nodebug => 1 without "[debug]" lines (nginx's own
# debug lines dump every request header, Authorization included)
sub error_log {
    my ($self, %opt) = @_;
    my $log = $self->read_file('error.log') // '';
    $log =~ s/^.* \[debug\] .*\n//mg if $opt{nodebug};
    return $log;
}

# replaces the placeholders; records which ports nginx.conf listens on
sub _expand {
    my ($self, $text, $name) = @_;

    my $used = $self->{used}{$name} = {};
    my $tag = $name eq 'nginx_t.conf' ? 'nginx_t' : 'nginx';

    $text =~ s/%%TEST_GLOBALS%%/$self->_globals($tag)/ge;
    $used->{echo} = 1 if $text =~ s/%%TEST_GLOBALS_HTTP%%/$self->_globals_http/ge;
    $text =~ s/%%PORT_(\d+)%%/$used->{$1} = 1, $self->port($1)/ge;
    $text =~ s/%%ECHO%%/'127.0.0.1:' . $self->port('echo')/ge;
    $text =~ s/%%TESTDIR%%/$self->{testdir}/g;
    $text =~ s/%%KEYDIR%%/keydir()/ge;

    return $text;
}

sub _globals {
    my ($self, $tag) = @_;

    my $d = $self->{testdir};
    my $log = $tag eq 'nginx' ? 'error' : $tag;
    my $level = $ENV{AUTHZ_TEST_LOGLEVEL} || 'debug';
    my @l;

    push @l, "load_module $self->{module};" if $self->{module};
    push @l, "pid $d/$tag.pid;", "error_log $d/$log.log $level;";
    push @l, @{ $self->{prefix} } ? 'daemon off;' : 'daemon on;';
    push @l, 'master_process on;',
        'worker_processes ' . ($self->{workers} // 1) . ';';
    push @l, 'user nobody nogroup;' if $> == 0;

    # one line, so that nginx's "in nginx.conf:N" matches the heredoc line
    return join ' ', @l;
}

sub _globals_http {
    my ($self) = @_;

    my $d = $self->{testdir};
    my $body = join '', map { "$_->[0]=$_->[1]\\n" } @ECHO;
    my $echo = $self->port('echo');

    return join ' ', "access_log $d/access.log;",
        (map { "${_}_temp_path $d/${_}_temp;" }
            qw(client_body proxy fastcgi uwsgi scgi)),
        "server { listen 127.0.0.1:$echo;",
        "location / { default_type text/plain; return 200 \"$body\"; } }";
}


############################################################################
# starting and stopping nginx

sub run {
    my ($self) = @_;

    croak 'nginx is already running' if $self->{running};

    my $d = $self->{testdir};
    my @cmd = (@{ $self->{prefix} }, _nginx(), '-p', "$d/",
        '-c', "$d/nginx.conf", '-e', "$d/error.log");

    unlink "$d/nginx.pid";
    $self->{started} = $self->{running} = 1;
    my $pid = _spawn(\@cmd, "$d/nginx.out");

    if (@{ $self->{prefix} }) {
        $self->{child} = $pid;          # "daemon off": our child

    } else {
        waitpid $pid, 0;                # the master has daemonized
        if ($?) {
            $self->{running} = 0;
            $self->_failed("nginx exited with status " . ($? >> 8));
        }
    }

    $self->_wait_started;

    return $self;
}

sub _wait_started {
    my ($self) = @_;

    my $used = $self->{used}{'nginx.conf'} || {};
    my @ports = map { $self->port($_) } grep { $used->{$_} } 8080, 'echo';

    _poll(sub {
        if ($self->{child} && waitpid($self->{child}, WNOHANG) > 0) {
            ($self->{child}, $self->{running}) = (0, 0);
            $self->_failed('nginx exited with status ' . ($? >> 8));
        }
        return $self->_pid && !grep { !_can_connect($_) } @ports;
    }) or $self->_failed('nginx did not start in ' . _timeout() . ' s');
}

# calls $cond every 50 ms until it is true (1) or the timeout passes (0)
sub _poll {
    my ($cond) = @_;

    my $deadline = Time::HiRes::time() + _timeout();
    do {
        return 1 if $cond->();
        Time::HiRes::sleep(0.05);
    } while (Time::HiRes::time() < $deadline);

    return 0;
}

sub _failed {
    my ($self, $why) = @_;
    die "$why\n" . ($self->read_file('nginx.out') // '')
        . "--- error.log:\n" . $self->error_log;
}

sub _can_connect {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $port, Proto => 'tcp', Timeout => 1);
    close $s if $s;
    return !!$s;
}

sub _pid {
    my ($self) = @_;
    my $pid = $self->read_file('nginx.pid') // '';
    return $pid =~ /^(\d+)/ ? $1 : undef;
}

# gracefully reloads the configuration (SIGHUP); waits for a new worker
sub reload {
    my ($self) = @_;

    my $workers = sub { scalar(() = $self->error_log =~ /start worker process \d+/g) };
    my ($pid, $before) = ($self->_pid, $workers->());
    croak 'nginx is not running' unless $pid;
    kill 'HUP', $pid;

    _poll(sub { $workers->() > $before })
        or $self->_failed('no new worker after reload');

    return $self;
}

# stops nginx, then runs the "no alerts" check (once per object)
sub stop {
    my ($self) = @_;
    $self->_stop_nginx;
    $self->_check_alerts;
    return $self;
}

# stops and starts again without the "no alerts" check in between
sub restart {
    my ($self) = @_;
    return $self->_stop_nginx->run;
}

sub done_testing {
    my ($self) = @_;
    $self->stop;
    Test::More::done_testing();
}

sub _stop_nginx {
    my ($self) = @_;

    return $self unless $self->{running};
    local ($?, $!);

    my $pid = $self->_pid || $self->{child};
    if ($pid) {
        kill 'TERM', $pid;
        unless ($self->_wait_gone($pid)) {
            kill 'KILL', -$pid, $pid;   # the group: master and workers
            $self->_wait_gone($pid);
        }
    }

    waitpid($self->{child}, 0) if $self->{child};
    ($self->{child}, $self->{running}) = (0, 0);

    return $self;
}

sub _wait_gone {
    my ($self, $pid) = @_;

    return _poll(sub {
        return waitpid($pid, WNOHANG) != 0
            if $self->{child} && $self->{child} == $pid;

        # a zombie not reaped by init counts as gone
        open my $fh, '<', "/proc/$pid/stat" or return 1;
        my $stat = <$fh> // '';
        return !kill(0, $pid) || $stat =~ /^\d+ \(.*\) Z/s;
    });
}

sub _check_alerts {
    my ($self) = @_;

    return if $self->{checked}++;

    my $d = $self->{testdir};
    my @bad;

    for my $f ("$d/error.log", glob("$d/asan.*")) {
        open my $fh, '<', $f or next;
        my $asan = $f =~ m{/asan\.[^/]*$};
        while (my $l = <$fh>) {
            push @bad, $l if $asan
                || $l =~ /\[(?:alert|emerg|crit)\]/
                || $l =~ /AddressSanitizer|runtime error:|LeakSanitizer/;
        }
    }

    Test::More::ok(!@bad, 'no alerts')
        or Test::More::diag(join '', grep { defined } @bad[0 .. 49]);
    Test::More::diag("test directory kept: $d") if $ENV{AUTHZ_TEST_LEAVE};
}

sub _finish {
    my ($self) = @_;
    return if $self->{owner} != $$;
    $self->_stop_nginx;
    $self->_check_alerts if $self->{planned} || $self->{started};
}

sub DESTROY {
    my ($self) = @_;
    return $self->_stop_nginx if ${^GLOBAL_PHASE} eq 'DESTRUCT';
    $self->_finish;
}

END {
    local $?;
    $_->_finish for grep { defined } @OBJECTS;
}

# runs a command with stdout and stderr to $out; returns the child pid
sub _spawn {
    my ($cmd, $out) = @_;

    STDOUT->flush;
    STDERR->flush;

    my $pid = fork // die "fork: $!";
    return $pid if $pid;

    POSIX::setpgid(0, 0);
    open STDIN, '<', '/dev/null';
    open STDOUT, '>>', $out or POSIX::_exit(126);
    open STDERR, '>&', \*STDOUT or POSIX::_exit(126);
    exec { $cmd->[0] } @$cmd or print STDERR "exec $cmd->[0]: $!\n";
    POSIX::_exit(127);
}

# runs a command to completion: (exit code, combined output)
sub _run_cmd {
    my ($cmd, $out) = @_;

    unlink $out;
    waitpid _spawn($cmd, $out), 0;
    my $rc = $? & 127 ? 128 + ($? & 127) : $? >> 8;
    my $text = -e $out ? _slurp($out) : '';

    return ($rc, $text);
}

# "nginx -t" on a config of its own (own pid and error_log files, errors
# on stderr), so that a running instance is left alone
sub nginx_t {
    my ($self, $conf) = @_;

    my $d = $self->{testdir};
    $self->write_file_expand('nginx_t.conf', $conf);

    return _run_cmd([_nginx(), '-t', '-p', "$d/", '-c', "$d/nginx_t.conf",
        '-e', 'stderr'], "$d/nginx_t.out");
}


############################################################################
# requests: functions, or methods of an AuthzTest (default: the newest)

sub _self {
    my ($args) = @_;
    return shift @$args if blessed($args->[0]) && $args->[0]->isa(__PACKAGE__);
    return $CURRENT // croak 'no AuthzTest object';
}

# sends raw bytes to 127.0.0.1:<port of %%PORT_N%%>, reads until EOF
sub http {
    my $self = _self(\@_);
    my ($raw, %opt) = @_;

    my $port = $self->port($opt{port} // 8080);
    my $deadline = Time::HiRes::time() + ($opt{timeout} // _timeout());
    local $SIG{PIPE} = 'IGNORE';

    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
        Proto => 'tcp', Timeout => _timeout());
    unless ($s) {
        Test::More::diag("connect to 127.0.0.1:$port failed: $@");
        return '';
    }

    binmode $s;
    my $sel = IO::Select->new($s);
    my ($off, $resp) = (0, '');

    # an early answer (400, 413) may reset the connection: not an error
    while ($off < length $raw) {
        last unless $sel->can_write($deadline - Time::HiRes::time());
        my $n = syswrite $s, $raw, 65536, $off;
        last unless $n;
        $off += $n;
    }

    while (1) {
        my $left = $deadline - Time::HiRes::time();
        unless ($left > 0 && $sel->can_read($left)) {
            Test::More::diag("timeout reading from 127.0.0.1:$port");
            last;
        }
        my $n = sysread $s, my $buf, 65536;
        last unless $n;
        $resp .= $buf;
    }

    close $s;

    return $resp;
}

sub http_get {
    my $self = _self(\@_);
    my ($uri, %opt) = @_;
    return $self->http("GET $uri HTTP/1.0\r\nHost: localhost\r\n\r\n", %opt);
}

sub req {
    my $self = _self(\@_);
    my ($method, $path, %opt) = @_;

    my $hs = $opt{headers} // [];
    my @h = ref $hs eq 'HASH' ? map { $_ => $hs->{$_} } sort keys %$hs : @$hs;
    my %have;
    for (my $i = 0; $i < @h; $i += 2) {
        $have{ lc $h[$i] } = 1;
    }

    my $body = $opt{body};
    utf8::encode($body) if defined $body && utf8::is_utf8($body);

    unshift @h, Host => 'localhost' unless $have{host};
    push @h, Authorization => "Bearer $opt{token}" if defined $opt{token};
    push @h, Connection => 'close' unless $have{connection};
    push @h, 'Content-Length' => length $body
        if defined $body && !$have{'content-length'}
            && !$have{'transfer-encoding'};

    my $raw = "$method $path HTTP/1.1\r\n";
    for (my $i = 0; $i < @h; $i += 2) {
        $raw .= "$h[$i]: $h[$i + 1]\r\n";
    }
    $raw .= "\r\n" . ($body // '');

    return parse_response($self->http($raw, port => $opt{port},
        timeout => $opt{timeout}));
}

sub get {
    my $self = _self(\@_);
    return $self->req('GET', @_);
}

sub post {
    my $self = _self(\@_);
    return $self->req('POST', @_);
}

# { status, status_line, headers => { lc name => "v1, v2" }, body, raw }
sub parse_response {
    my ($raw) = @_;

    my %r = (raw => $raw, status => undef, headers => {}, body => '');
    my $rest = $raw // '';
    my $head;

    # skip interim 1xx responses (100 Continue)
    do {
        ($head, $rest) = split /\r?\n\r?\n/, $rest, 2;
        return \%r unless defined $head
            && $head =~ s{^(HTTP/\d\.\d (\d{3})[^\r\n]*)\r?\n?}{};
        @r{qw(status_line status)} = ($1, $2);
    } while ($r{status} =~ /^1/ && defined $rest && length $rest);

    for (split /\r?\n/, $head) {
        next unless /^([^:]+):[ \t]*(.*?)[ \t]*$/;
        my $k = lc $1;
        $r{headers}{$k} = exists $r{headers}{$k} ? "$r{headers}{$k}, $2" : $2;
    }

    $rest //= '';
    $rest = _dechunk($rest)
        if ($r{headers}{'transfer-encoding'} // '') =~ /chunked/i;
    $r{body} = $rest;

    return \%r;
}

sub _dechunk {
    my ($s) = @_;
    my $out = '';

    while ($s =~ s/^([0-9a-fA-F]+)[^\r\n]*\r\n//) {
        my $n = hex $1;
        last if $n == 0;
        $out .= substr $s, 0, $n, '';
        $s =~ s/^\r\n//;
    }

    return $out;
}

# the echo server's lines as a hash; takes a body or a req() response
sub parse_echo {
    my ($body) = @_;
    $body = $body->{body} if ref $body eq 'HASH';
    return { map { /^([^=]+)=(.*)$/ ? ($1 => $2) : () } split /\n/, $body // '' };
}


############################################################################
# keys and tokens

sub keydir {
    return $KEYDIR if defined $KEYDIR;

    my $dir = File::Spec->rel2abs($ENV{AUTHZ_TEST_KEYS} || "$ROOT/build/t-keys");
    return $KEYDIR = $dir if _keys_complete($dir);

    # prove -j: one generator, the others wait on the lock
    make_path(dirname($dir));
    open my $lock, '>>', "$dir.lock" or die "open $dir.lock: $!";
    flock $lock, LOCK_EX or die "flock $dir.lock: $!";

    unless (_keys_complete($dir)) {
        die "$dir is incomplete, remove it\n" if -e $dir;
        my $tmp = tempdir('t-keys-XXXXXX', DIR => dirname($dir));
        eval { _gen_keys($tmp); 1 } or do { remove_tree($tmp); die $@ };
        chmod 0755, $tmp;
        rename $tmp, $dir or die "rename $tmp $dir: $!";
    }

    close $lock;

    return $KEYDIR = $dir;
}

sub _keys_complete {
    my ($dir) = @_;
    return !grep { !-s "$dir/$_" } @KEYFILES;
}

sub _gen_keys {
    my ($d) = @_;

    my $rsa = [qw(genpkey -algorithm RSA -pkeyopt)];
    my @steps = (
        [@$rsa, 'rsa_keygen_bits:2048', '-out', "$d/k1.key"],
        [@$rsa, 'rsa_keygen_bits:2048', '-out', "$d/k2.key"],
        [@$rsa, 'rsa_keygen_bits:1024', '-out', "$d/weak.key"],
        [qw(genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out),
            "$d/ec.key"],
        (map { ['pkey', '-pubout', '-in', "$d/$_.key", '-out', "$d/$_.pub"] }
            qw(k1 k2 weak ec)),
        ['rsa', '-RSAPublicKey_out', '-in', "$d/k1.key", '-out', "$d/k1.rsapub"],
        [qw(req -new -x509 -sha256 -days 3650 -subj /CN=authz-test -key),
            "$d/k1.key", '-out', "$d/k1.crt"],
    );

    for my $args (@steps) {
        my ($rc, $out) = _run_cmd(['openssl', @$args], "$d/openssl.out");
        die "openssl @$args: exit $rc\n$out" if $rc;
    }
    unlink "$d/openssl.out";

    my @jwks = map {
        my $jwk = Crypt::PK::RSA->new("$d/$_.pub")->export_key_jwk('public', 1);
        { kty => 'RSA', n => $jwk->{n}, e => $jwk->{e}, kid => $_,
          alg => 'RS256', use => 'sig' }
    } qw(k1 k2);

    my $json = JSON::PP->new->canonical->pretty;
    _write("$d/jwks.json", $json->encode({ keys => \@jwks }));
    _write("$d/k1.jwk", $json->encode($jwks[0]));

    chmod 0644, map { "$d/$_" } @KEYFILES;
}

sub _write {
    my ($path, $content) = @_;
    open my $fh, '>', $path or die "open $path: $!";
    binmode $fh;
    print $fh $content;
    close $fh or die "close $path: $!";
    chmod 0644, $path or die "chmod $path: $!";
}

sub _slurp {
    my ($path) = @_;
    open my $fh, '<', $path or die "open $path: $!";
    binmode $fh;
    local $/;
    return scalar <$fh>;
}

sub b64url {
    my ($s) = @_;
    $s = encode_base64($s, '');
    $s =~ tr{+/}{-_};
    $s =~ s/=+$//;
    return $s;
}

sub b64url_decode {
    my ($s) = @_;
    $s =~ tr{-_}{+/};
    return decode_base64($s . '=' x (-length($s) % 4));
}

# the default claims, overridden by %c; a claim given as undef is removed
sub _claims {
    my (%c) = @_;
    my $now = time;
    my %d = (iss => 'https://issuer.test', aud => 'api.test', sub => 'alice',
        tid => 'acme', iat => $now, nbf => $now, exp => $now + 600,
        permissions => [], services => {}, %c);
    delete @d{ grep { !defined $d{$_} } keys %d };
    return \%d;
}

sub _options {
    my ($c) = @_;
    return map { $_ => delete $c->{$_} }
        grep { exists $c->{$_} } qw(_key _kid _alg _header);
}

sub _private_key {
    my ($name, $alg) = @_;
    my $class = $alg =~ /^ES/ ? 'Crypt::PK::ECC' : 'Crypt::PK::RSA';
    return $PK{"$class $name"} //= $class->new(keydir() . "/$name.key");
}

# mint(%claims, _key => 'k1', _kid => <_key>, _alg => 'RS256', _header => {})
# _kid => undef: no "kid"; _alg 'none'; HS* signs with <_key>.pub's text
sub mint {
    my %c = @_;
    my %o = _options(\%c);

    my $name = $o{_key} // 'k1';
    my $alg = $o{_alg} // 'RS256';
    my %hdr = (typ => 'JWT', kid => exists $o{_kid} ? $o{_kid} : $name,
        %{ $o{_header} // {} });
    delete @hdr{ grep { !defined $hdr{$_} } keys %hdr };

    my $key = $alg eq 'none' ? undef
        : $alg =~ /^HS/ ? _slurp(keydir() . "/$name.pub")
        : _private_key($name, $alg);

    return Crypt::JWT::encode_jwt(payload => _claims(%c), alg => $alg,
        key => $key, extra_headers => \%hdr,
        allow_none => 1);
}

# a token from exact JSON texts; opt: key => 'k1', sig => $bytes, alg => 'none'
sub raw_jwt {
    my ($header, $payload, %opt) = @_;

    utf8::encode($_) for grep { utf8::is_utf8($_) } $header, $payload;
    my $input = b64url($header) . '.' . b64url($payload);

    my $sig = exists $opt{sig} ? $opt{sig}
        : ($opt{alg} // '') eq 'none' ? ''
        : _private_key($opt{key} // 'k1', 'RS256')
            ->sign_message($input, 'SHA256', 'v1.5');

    return "$input." . b64url($sig);
}

# the algorithm-confusion attack: HS256 keyed with the k1.pub PEM text
sub hs256_with_pubkey {
    my %c = @_;
    my %o = _options(\%c);

    my $name = $o{_key} // 'k1';
    my $json = JSON::PP->new->canonical;
    my %hdr = (alg => 'HS256', typ => 'JWT',
        kid => exists $o{_kid} ? $o{_kid} : $name);
    delete $hdr{kid} unless defined $hdr{kid};

    my $input = b64url($json->encode(\%hdr)) . '.'
        . b64url($json->encode(_claims(%c)));
    my $secret = _slurp(keydir() . "/$name.pub");

    return "$input." . b64url(hmac_sha256($input, $secret));
}

sub _mint_bin { return $ENV{AUTHZ_MINT} || "$ROOT/build/authz-mint" }

sub have_mint { return -x _mint_bin() }

sub mint_cli {
    my (@args) = @_;

    open my $fh, '-|', _mint_bin(), @args
        or die "run " . _mint_bin() . ": $!";
    my $out = do { local $/; <$fh> } // '';
    close $fh or die "authz-mint @args: exit " . ($? >> 8) . "\n";
    $out =~ s/^\s+|\s+$//g;

    return $out;
}

1;
