#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for authz_token_binding: a sender-constrained token (one with a
# "cnf" claim) is refused by default; "ignore" accepts it as a bearer
# token; "mtls" checks RFC 8705 cnf."x5t#S256" against the SHA-256 of
# the DER client certificate of the TLS connection.  Certificates are
# made with openssl at test time; the client is IO::Socket::SSL.

###############################################################################

use warnings;
use strict;

use Test::More;
use Digest::SHA qw(sha256);

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);

###############################################################################

# IO::Socket::SSL (Debian libio-socket-ssl-perl, in tools/deps.sh), or
# else (or with AUTHZ_TEST_S_CLIENT=1) "openssl s_client"
my $HAVE_SSL = !$ENV{AUTHZ_TEST_S_CLIENT} && eval { require IO::Socket::SSL; 1 };

my $t = AuthzTest->new->has('module');
my $d = $t->testdir;

for my $name (qw(server c1 c2)) {
    system("openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=$name "
        . "-days 2 -keyout $d/$name.key -out $d/$name.crt -batch "
        . ">$d/openssl.out 2>&1") == 0
        or die "openssl req $name failed\n";
}

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        listen       127.0.0.1:%%PORT_8443%% ssl;
        server_name  localhost;

        ssl_certificate      %%TESTDIR%%/server.crt;
        ssl_certificate_key  %%TESTDIR%%/server.key;
        ssl_verify_client    optional_no_ca;

        authz on;
        authz_key_file %%KEYDIR%%/k1.pub kid=k1;

        add_header X-Reason $authz_reason always;

        location / {
            proxy_pass http://%%ECHO%%;
        }

        location /ignore/ {
            authz_token_binding ignore;
            proxy_pass http://%%ECHO%%;
        }

        location /mtls/ {
            authz_token_binding mtls;

            # read in the rewrite phase, before the access phase
            set $early $authz_sub;
            proxy_pass http://%%ECHO%%/early?e=$early&;
        }

        location /redirect/ {
            authz_token_binding mtls;
            try_files /nonexistent @named;
        }

        location @named {
            authz_token_binding mtls;
            proxy_pass http://%%ECHO%%;
        }
    }
}

EOF

$t->run->plan(16);

###############################################################################

my $x1 = thumbprint("$d/c1.crt");
my $x2 = thumbprint("$d/c2.crt");
my $bound = mint(cnf => { 'x5t#S256' => $x1 });

# refuse (the default)

my $r = $t->get('/x', token => $bound);
is($r->{status}, 401, 'refuse: a token with cnf');
is($r->{headers}{'x-reason'}, 'sender-constrained token refused',
    'refuse: the reason');
is($t->get('/x', token => mint(cnf => { jkt => 'abc' }))->{status}, 401,
    'refuse: a DPoP-bound token');
is($t->get('/x', token => mint())->{status}, 200, 'refuse: bearer token');

# ignore

is($t->get('/ignore/x', token => $bound)->{status}, 200,
    'ignore: a token with cnf');

# mtls, without TLS or without a client certificate

is($t->get('/mtls/x', token => $bound)->{status}, 401,
    'mtls: plain HTTP');
is(tls('/mtls/x', $bound)->{status}, 401, 'mtls: no client certificate');
is(tls('/mtls/x', $bound, 'c2')->{status}, 401,
    'mtls: another client certificate');
is(tls('/mtls/x', mint(cnf => { 'x5t#S256' => $x1 . 'A' }), 'c1')
    ->{status}, 401, 'mtls: a longer thumbprint');
is(tls('/mtls/x', mint(cnf => { jkt => $x1 }), 'c1')->{status}, 401,
    'mtls: a DPoP binding');
like($t->error_log(nodebug => 1),
    qr/sender-constrained token refused \(client certificate does not match/,
    'mtls: log line');

# mtls, the right certificate

$r = tls('/mtls/x', $bound, 'c1');
is($r->{status}, 200, 'mtls: the bound certificate');
is(parse_echo($r)->{args}, 'e=alice&', 'mtls: variable read early');
is(tls('/mtls/x', mint(cnf => { 'x5t#S256' => $x2 }), 'c2')->{status}, 200,
    'mtls: the other certificate, its own token');
is(tls('/mtls/x', mint(), 'c2')->{status}, 200,
    'mtls: a bearer token without cnf');

# an internal redirect checks again

is(tls('/redirect/x', $bound, 'c2')->{status}, 401,
    'mtls, internal redirect: another certificate');

###############################################################################

# base64url(SHA-256(DER certificate)), RFC 8705 3.1
sub thumbprint {
    my ($pem) = @_;

    my $der = `openssl x509 -in $pem -outform DER`;
    die "openssl x509 $pem failed\n" if $? || !length $der;

    return b64url(sha256($der));
}

# a request over TLS to %%PORT_8443%%, with the client certificate $cert
sub tls {
    my ($uri, $token, $cert) = @_;

    my $req = "GET $uri HTTP/1.0\r\nHost: localhost\r\n"
        . "Authorization: Bearer $token\r\n\r\n";

    return s_client($req, $cert) unless $HAVE_SSL;

    my $s = IO::Socket::SSL->new(PeerAddr => '127.0.0.1',
        PeerPort => $t->port(8443), Timeout => 10,
        SSL_verify_mode => IO::Socket::SSL::SSL_VERIFY_NONE(),
        $cert ? (SSL_cert_file => "$d/$cert.crt",
            SSL_key_file => "$d/$cert.key") : ());

    unless ($s) {
        diag('TLS connect failed: ' . IO::Socket::SSL::errstr());
        return {};
    }

    print $s $req;

    my $raw = '';
    while (1) {
        my $n = sysread $s, my $buf, 65536;
        last unless $n;
        $raw .= $buf;
    }

    close $s;

    return parse_response($raw);
}

sub s_client {
    my ($req, $cert) = @_;

    $t->write_file('req.txt', $req);

    my $cmd = 'openssl s_client -quiet -ign_eof -connect 127.0.0.1:'
        . $t->port(8443)
        . ($cert ? " -cert $d/$cert.crt -key $d/$cert.key" : '')
        . " < $d/req.txt 2>/dev/null";

    return parse_response(scalar `$cmd`);
}

###############################################################################
