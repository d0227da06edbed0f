package AuthzIdP;

# Copyright (C) ngx_http_authz_module authors
#
# A fake identity provider for the authz_key_request tests: a forked
# HTTP server on 127.0.0.1 (core Perl modules) serving a JWKS of the
# harness's keys, counting fetches and recording their request headers,
# controlled out of band through files in its directory:
#
#     my $idp = AuthzIdP->new($t->testdir);   # before $t->run: port()
#     $idp->publish('k1');                     # the JWKS served
#     $idp->mode('500');                       # the next answers
#     $idp->start; ... $idp->fetches; $idp->headers(-1); $idp->stop;
#
# Modes: ok, 500, 404, slow:SECONDS, invalid, empty, enc, dupkid, gzip,
# big, maxage:N, drop (closes the connection in the middle of the body),
# chunked (Transfer-Encoding: chunked, in two chunks).

use strict;
use warnings;

use Crypt::PK::RSA ();
use IO::Socket::INET ();
use JSON::PP ();
use POSIX ();
use Time::HiRes ();

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest ();

sub new {
    my ($class, $dir) = @_;

    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
        Proto => 'tcp', Listen => 128, ReuseAddr => 1) or die "listen: $@";

    my $self = bless { dir => "$dir/idp", sock => $s, port => $s->sockport,
        owner => $$ }, $class;
    mkdir $self->{dir};
    $self->mode('ok');
    $self->publish('k1');
    _write("$self->{dir}/log", '');

    return $self;
}

sub port { return $_[0]{port} }

sub mode {
    my ($self, $mode) = @_;
    _write("$self->{dir}/mode", $mode);
    return $self;
}

# the JWKS: keys of the harness by name (k1, k2), kid = name, or
# "name:kid" for another kid
sub publish {
    my ($self, @names) = @_;
    my @keys = map { /^(\w+):(.+)$/ ? _jwk($1, kid => $2) : _jwk($_) } @names;
    _write("$self->{dir}/jwks", JSON::PP->new->canonical->encode(
        { keys => \@keys }));
    return $self;
}

sub _jwk {
    my ($name, %extra) = @_;
    my $jwk = Crypt::PK::RSA->new(AuthzTest::keydir() . "/$name.pub")
        ->export_key_jwk('public', 1);
    return { kty => 'RSA', n => $jwk->{n}, e => $jwk->{e}, kid => $name,
        alg => 'RS256', use => 'sig', %extra };
}

# the requests received so far: a list of { "request line", headers }
sub requests {
    my ($self) = @_;
    my @r;
    for my $block (split /\n\n/, _read("$self->{dir}/log")) {
        my ($line, @h) = split /\r?\n/, $block;
        next unless defined $line;
        push @r, { line => $line,
            headers => { map { /^([^:]+):\s*(.*)$/ ? (lc $1 => $2) : () } @h } };
    }
    return @r;
}

sub fetches { return scalar(my @r = $_[0]->requests) }

# waits until at least $n fetches were received (up to $timeout s)
sub wait_fetches {
    my ($self, $n, $timeout) = @_;
    my $end = Time::HiRes::time() + ($timeout // 10);
    while (Time::HiRes::time() < $end) {
        return 1 if $self->fetches >= $n;
        Time::HiRes::sleep(0.05);
    }
    return 0;
}

sub start {
    my ($self) = @_;

    my $pid = fork // die "fork: $!";
    if ($pid) {
        $self->{pid} = $pid;
        close $self->{sock};
        return $self;
    }

    $SIG{PIPE} = 'IGNORE';
    while (my $c = $self->{sock}->accept) {
        eval { $self->_serve($c) };
        close $c;
    }
    POSIX::_exit(0);
}

sub stop {
    my ($self) = @_;
    return unless $self->{pid} && $self->{owner} == $$;
    kill 'TERM', $self->{pid};
    waitpid $self->{pid}, 0;
    delete $self->{pid};
}

sub DESTROY { $_[0]->stop }

sub _serve {
    my ($self, $c) = @_;

    my $head = '';
    while ($head !~ /\r\n\r\n/) {
        my $n = sysread $c, my $buf, 4096;
        last unless $n;
        $head .= $buf;
    }
    $head =~ s/\r\n\r\n.*//s;

    open my $log, '>>', "$self->{dir}/log" or die;
    print $log "$head\n\n";
    close $log;

    my $mode = _read("$self->{dir}/mode");
    my $jwks = _read("$self->{dir}/jwks");
    my $json = JSON::PP->new->canonical;
    my ($status, $body, @h) = (200, $jwks);

    if ($mode =~ /^slow:([\d.]+)$/) {
        Time::HiRes::sleep($1);
    } elsif ($mode eq '500' || $mode eq '404') {
        ($status, $body) = ($mode, "{\"error\":\"$mode\"}");
    } elsif ($mode eq 'invalid') {
        $body = '{"keys": [';
    } elsif ($mode eq 'empty') {
        $body = '{"keys":[]}';
    } elsif ($mode eq 'enc') {
        $body = $json->encode({ keys => [ _jwk('k1', use => 'enc'),
            _jwk('k2', use => 'enc') ] });
    } elsif ($mode eq 'dupkid') {
        my $a = _jwk('k1');
        my $b = _jwk('k2', kid => 'k1');
        $body = $json->encode({ keys => [ $a, $b ] });
    } elsif ($mode eq 'gzip') {
        push @h, 'Content-Encoding: gzip';
    } elsif ($mode eq 'big') {
        $body = $json->encode({ keys => [ _jwk('k1'), _jwk('k2') ],
            pad => 'x' x 70000 });
    } elsif ($mode =~ /^maxage:(\d+)$/) {
        push @h, "Cache-Control: public, max-age=$1";
    }

    my $resp = "HTTP/1.1 $status X\r\nContent-Type: application/json\r\n"
        . join('', map { "$_\r\n" } @h)
        . 'Content-Length: ' . length($body) . "\r\nConnection: close\r\n\r\n";

    if ($mode eq 'chunked') {
        my $half = int(length($body) / 2);
        my @c = (substr($body, 0, $half), substr($body, $half));
        syswrite $c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            . "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            . join('', map { sprintf("%x\r\n%s\r\n", length $_, $_) } @c)
            . "0\r\n\r\n";
        return;
    }

    if ($mode eq 'drop') {
        syswrite $c, $resp . substr($body, 0, length($body) / 2);
        return;
    }

    syswrite $c, $resp . $body;
}

sub _write {
    my ($path, $content) = @_;
    open my $fh, '>', "$path.tmp" or die "open $path: $!";
    print $fh $content;
    close $fh;
    rename "$path.tmp", $path or die "rename $path: $!";
}

sub _read {
    my ($path) = @_;
    open my $fh, '<', $path or return '';
    local $/;
    return scalar(<$fh>) // '';
}

1;
