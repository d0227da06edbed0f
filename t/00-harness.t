#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests of the test harness itself (t/lib/AuthzTest.pm): nginx start and
# stop, requests and response parsing, the echo server, "nginx -t", keys
# and token minting.  The module is not loaded here.

###############################################################################

use strict;
use warnings;

use Test::More;

use FindBin;
use lib "$FindBin::Bin/lib";

use AuthzTest qw(:all);

use Crypt::JWT qw(decode_jwt);
use Crypt::PK::RSA;
use Digest::SHA qw(hmac_sha256);
use JSON::PP;

###############################################################################

my $t = AuthzTest->new(module => 0)->plan(51);

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location / {
            proxy_pass http://%%ECHO%%;
        }

        location /chunked {
            proxy_pass http://%%ECHO%%;
            sub_filter_types text/plain;
            sub_filter uri= URI=;
        }

        location /direct {
            return 200 "direct\n";
        }
    }

    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  localhost;

        location / {
            return 204;
        }
    }
}

EOF

$t->run;

###############################################################################

# ports and placeholders

is($t->port(8080), $t->port(8080), 'port stable');
isnt($t->port(8080), $t->port(8081), 'ports distinct');
like($t->read_file('nginx.conf'), qr/listen\s+127\.0\.0\.1:${\$t->port(8080)};/,
    'port expanded');
unlike($t->read_file('nginx.conf'), qr/%%|load_module/, 'all expanded');
like($t->read_file('nginx.conf'), qr/\A\n[^\n]*daemon o(n|ff);[^\n]*\n\nevents/,
    'globals on one line');
ok(-d $t->testdir && (stat $t->testdir)[2] & 0004, 'testdir world readable');

# requests through the echo server

my $r = $t->get('/some/path?a=1&b=2', headers => [
    'X-User-Id' => 'bob', 'X-Tenant-Id' => 'other',
    Cookie => 'a=1', Cookie => 'b=2',
]);
my $e = parse_echo($r->{body});

is($r->{status}, 200, 'get status');
is($r->{headers}{'content-type'}, 'text/plain', 'get content type');
is($e->{uri}, '/some/path', 'echo uri');
is($e->{args}, 'a=1&b=2', 'echo args');
is($e->{method}, 'GET', 'echo method');
is($e->{'x-user-id'}, 'bob', 'echo header');
is($e->{'x-tenant-id'}, 'other', 'echo second header');
is($e->{cookie}, 'a=1; b=2', 'duplicate headers in order');
is($e->{authorization}, '', 'echo no authorization');
is_deeply(parse_echo($r), $e, 'parse_echo of a response');

$e = parse_echo($t->get('/', token => 'abc.def.ghi')->{body});
is($e->{authorization}, 'Bearer abc.def.ghi', 'token option');

$r = $t->post('/form', body => 'x=1',
    headers => { 'Content-Type' => 'application/x-www-form-urlencoded' });
is(parse_echo($r)->{method}, 'POST', 'post');

$r = $t->req('DELETE', '/thing/1');
is(parse_echo($r)->{method}, 'DELETE', 'req method');

$r = $t->get('/chunked/x');
is($r->{headers}{'transfer-encoding'}, 'chunked', 'chunked response');
like($r->{body}, qr/^URI=\/chunked\/x\nargs=\n/, 'chunked body decoded');

is($t->get('/', port => 8081)->{status}, 204, 'second port');

# raw requests

like(http("GET /direct HTTP/1.0\r\n\r\n"), qr{^HTTP/1\.1 200 .*\r\n\r\ndirect\n\z}s,
    'raw http/1.0 without host');
like($t->http("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
    qr{^HTTP/1\.1 400 }, 'raw duplicate host');
like(http_get('/direct'), qr/direct/, 'http_get');

$r = parse_response("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"
    . "Transfer-Encoding: chunked\r\nX-A: 1\r\nx-a: 2\r\n\r\n"
    . "3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n");
is($r->{status}, 200, 'parse 1xx skipped');
is($r->{headers}{'x-a'}, '1, 2', 'parse repeated header');
is($r->{body}, 'abcde', 'parse chunked');

# nginx -t, with nginx running

my ($rc, $out) = $t->nginx_t(<<'EOF');
%%TEST_GLOBALS%%
events {
}
http {
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        bogus_directive on;
    }
}
EOF

isnt($rc, 0, 'nginx -t failed');
like($out, qr/\[emerg\] .*unknown directive "bogus_directive" in \S+\/nginx_t\.conf:7/,
    'nginx -t file and line');

($rc, $out) = $t->nginx_t("%%TEST_GLOBALS%%\nevents {}\n"
    . "http { %%TEST_GLOBALS_HTTP%% }\n");
is($rc, 0, 'nginx -t ok') or diag($out);

is($t->get('/direct')->{body}, "direct\n", 'running nginx undisturbed');

like($t->error_log, qr/\[notice\]/, 'error log');
unlike($t->error_log(nodebug => 1), qr/\[debug\]/, 'error log without debug');

# keys

my $kd = keydir();
ok(!grep({ !-s "$kd/$_" || ((stat _)[2] & 0777) != 0644 }
    qw(k1.key k1.pub k2.key k2.pub k1.rsapub k1.crt weak.key weak.pub
    ec.key ec.pub jwks.json k1.jwk)), 'key files 0644');
like($t->read_file("$kd/k1.rsapub"), qr/^-----BEGIN RSA PUBLIC KEY-----/,
    'pkcs#1 public key');
is(Crypt::PK::RSA->new("$kd/weak.pub")->size * 8, 1024, 'weak key size');

my $jwks = decode_json($t->read_file("$kd/jwks.json"));
is(join(',', map { "$_->{kid}:$_->{kty}:$_->{alg}:$_->{use}" } @{ $jwks->{keys} }),
    'k1:RSA:RS256:sig,k2:RSA:RS256:sig', 'jwks');
is($jwks->{keys}[0]{n}, Crypt::PK::RSA->new("$kd/k1.pub")
    ->export_key_jwk('public', 1)->{n}, 'jwks n of k1');

# tokens

my $k1 = Crypt::PK::RSA->new("$kd/k1.pub");
my ($hdr, $claims) = decode_jwt(token => mint(sub => 'bob', jti => undef,
    permissions => ['blog:posts.read']), key => $k1, decode_header => 1);

is("$hdr->{alg} $hdr->{kid}", 'RS256 k1', 'mint header');
is(join(' ', map { $claims->{$_} } qw(iss aud sub tid)),
    'https://issuer.test api.test bob acme', 'mint claims');
ok(abs($claims->{exp} - time - 600) < 5, 'mint exp');

($hdr, $claims) = decode_jwt(token => mint(_key => 'k2', _kid => undef,
    aud => undef), key => Crypt::PK::RSA->new("$kd/k2.pub"),
    decode_header => 1);
ok(!exists $hdr->{kid} && !exists $claims->{aud}, 'mint undef removes');
ok(!eval { decode_jwt(token => mint(_key => 'k2'), key => $k1) },
    'mint k2 not verified by k1');

my @p = split /\./, raw_jwt('{"alg":"RS256","alg":"RS256"}', '{"sub":1}'), -1;
is($#p, 2, 'raw_jwt three parts');
is(b64url_decode($p[0]), '{"alg":"RS256","alg":"RS256"}', 'raw_jwt exact header');
ok($k1->verify_message(b64url_decode($p[2]), "$p[0].$p[1]", 'SHA256', 'v1.5'),
    'raw_jwt signature');
like(raw_jwt('{"alg":"none"}', '{}', alg => 'none'), qr/^[\w-]+\.[\w-]+\.\z/,
    'raw_jwt alg none');

@p = split /\./, hs256_with_pubkey(sub => 'mallory'), -1;
is(decode_json(b64url_decode($p[0]))->{alg}, 'HS256', 'hs256 header');
is(b64url_decode($p[2]), hmac_sha256("$p[0].$p[1]", $t->read_file("$kd/k1.pub")),
    'hs256 keyed with the public key');

SKIP: {
    skip 'no authz-mint', 1 unless have_mint();

    my $token = mint_cli('--key', "$kd/k1.key", '--kid', 'k1',
        '--sub', 'carol', '--tenant', 'acme');
    is(decode_jwt(token => $token, key => $k1)->{sub}, 'carol', 'authz-mint');
}

###############################################################################
