#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for token verification: every kind of invalid token is a 401
# with error="invalid_token", and never reaches the upstream.

###############################################################################

use warnings;
use strict;

use Test::More;
use MIME::Base64 qw(encode_base64);

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);

###############################################################################

my $t = AuthzTest->new;

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    large_client_header_buffers 4 32k;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        authz on;
        authz_key_file %%KEYDIR%%/k1.pub kid=k1;
        authz_key_file %%KEYDIR%%/k2.pub kid=k2;
        authz_issuer https://issuer.test;
        authz_audience api.test;

        location / {
            proxy_pass http://%%ECHO%%;
        }

        location /small/ {
            authz_max_token_size 600;
            proxy_pass http://%%ECHO%%;
        }

        location /ps/ {
            authz_algorithms RS256 PS256;
            proxy_pass http://%%ECHO%%;
        }

        location /noexp/ {
            authz_require_exp off;
            proxy_pass http://%%ECHO%%;
        }
    }
}

EOF

$t->run->plan(50);

###############################################################################

my $now = time();
my $good = mint();

like_ok($good, 200, 'valid token');
like(body($good), qr/x-user-id=alice/, 'identity forwarded');

# no token at all

my $r = $t->get('/');
is($r->{status}, 401, 'no token');
is($r->{headers}{'www-authenticate'}, 'Bearer realm="api"',
    'no token challenge');
like($r->{body}, qr/"error":"missing_token"/, 'no token body');
like($r->{headers}{'content-type'}, qr{application/json}, 'json body');

# signature

my @p = split /\./, $good;
my $sig = b64url_decode($p[2]);
substr($sig, 10, 1) ^= "\x01";
invalid("$p[0].$p[1]." . b64url($sig), 'signature bit flipped');
invalid("$p[0].$p[1]." . b64url(substr($sig, 1)), 'signature too short');
invalid("$p[0].$p[1].", 'empty signature');
invalid(mint(_key => 'k2', _kid => 'k1'), 'signed by another key');
invalid(mint(_key => 'weak', _kid => 'k1'), 'signed by a weak key');

# forged payload under the original signature

my $payload = b64url('{"iss":"https://issuer.test","aud":"api.test",'
    . '"sub":"mallory","tid":"acme","exp":' . ($now + 600)
    . ',"permissions":["*"]}');
invalid("$p[0].$payload.$p[2]", 'payload swapped');

# algorithms

invalid(raw_jwt('{"alg":"none","kid":"k1"}', claims_json(), alg => 'none'),
    'alg none');
invalid(raw_jwt('{"alg":"none","kid":"k1"}', claims_json()),
    'alg none with a signature');
invalid(hs256_with_pubkey(claims()), 'hs256 signed with the public key');
invalid(raw_jwt('{"alg":"HS256","kid":"k1"}', claims_json()),
    'hs256 header');
invalid(raw_jwt('{"kid":"k1"}', claims_json()), 'no alg');
invalid(raw_jwt('{"alg":"rs256","kid":"k1"}', claims_json()),
    'lowercase alg');
invalid(raw_jwt('{"alg":"RS512","kid":"k1"}', claims_json()),
    'rs512 not allowed');
invalid(mint(_alg => 'PS256'), 'ps256 not allowed by default');
is($t->get('/ps/', token => mint(_alg => 'PS256'))->{status}, 200,
    'ps256 allowed where configured');

# key selection

invalid(mint(_kid => 'k9'), 'unknown kid');
invalid(mint(_kid => '../../etc/passwd'), 'kid path traversal');
invalid(mint(_kid => "x' OR '1'='1"), 'kid sql');
invalid(mint(_kid => 'k' x 300), 'kid too long');
is($t->get('/', token => mint(_kid => undef))->{status}, 200,
    'no kid: keys tried in order');
is($t->get('/', token => mint(_key => 'k2', _kid => undef))->{status}, 200,
    'no kid: second key');
invalid(raw_jwt('{"alg":"RS256","kid":"k1","crit":["exp"]}', claims_json()),
    'crit header');
invalid(raw_jwt('{"alg":"RS256","kid":"k1","crit":[]}', claims_json()),
    'empty crit header');
is($t->get('/', token => raw_jwt('{"alg":"RS256","kid":"k1",'
    . '"jku":"http://127.0.0.1:1/jwks"}', claims_json()))->{status}, 200,
    'jku ignored');

# structure and encoding

invalid('abc', 'not a jws');
invalid("$p[0].$p[1]", 'two parts');
invalid("$p[0].$p[1].$p[2].x", 'four parts');
invalid("$p[0]=.$p[1].$p[2]", 'padding');
(my $plus = $good) =~ s/-/+/g; ($plus =~ /\+/) or $plus = "+$plus";
invalid($plus, 'base64 alphabet');
invalid(raw_jwt('{"alg":"RS256","kid":"k1"}', '[1,2]'), 'payload array');
invalid(raw_jwt('{"alg":"RS256","kid":"k1"}', '{"sub":"a","sub":"b",'
    . '"exp":' . ($now + 600) . '}'), 'duplicate claim');
invalid(raw_jwt('{"alg":"RS256","alg":"RS256","kid":"k1"}', claims_json()),
    'duplicate header');
invalid(raw_jwt('{"alg":"RS256","kid":"k1"}', '{"exp":' . ($now + 600)
    . ',"x":' . ('[' x 20) . (']' x 20) . '}'), 'nesting too deep');
invalid(raw_jwt('{"alg":"RS256","kid":"k1"}', 'not json'), 'payload not json');
invalid(raw_jwt('{"alg":"RS256","kid":"k1"}', '{"sub":"a\u0000b","exp":'
    . ($now + 600) . '}'), 'nul in a claim');

# size

my $big = mint(pad => 'x' x 600);
invalid($big, 'oversize token', '/small/');
is($t->get('/', token => $big)->{status}, 200, 'same token under 8k');
invalid(mint(pad => 'x' x 9000), 'oversize for the default 8k');

# authorization header shapes

$r = $t->get('/', headers => [Authorization => "bearer $good"]);
is($r->{status}, 200, 'scheme is case-insensitive');
$r = $t->get('/', headers => [Authorization => "Bearer  $good"]);
is($r->{status}, 401, 'two spaces');
$r = $t->get('/', headers => [Authorization => "Basic dXNlcjpwYXNz"]);
is($r->{status}, 401, 'basic scheme');

$r = $t->http("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
    . "Authorization: Bearer $good\r\nAuthorization: Bearer $good\r\n\r\n");
like($r, qr{^HTTP/1\.1 400}, 'two authorization headers refused by nginx');

# the log says why, never the token

my $log = $t->error_log(nodebug => 1);
like($log, qr/authz: invalid token: unknown key id/, 'reason logged');
unlike(join("\n", grep { /authz/ } split /\n/, $log), qr/\Q$p[2]\E/,
    'signature not logged by the module');

###############################################################################

sub claims {
    return (iss => 'https://issuer.test', aud => 'api.test', sub => 'alice',
        tid => 'acme', exp => $now + 600, permissions => []);
}

sub claims_json {
    return '{"iss":"https://issuer.test","aud":"api.test","sub":"alice",'
        . '"tid":"acme","exp":' . ($now + 600) . ',"permissions":[]}';
}

sub body {
    return $t->get('/', token => shift)->{body};
}

sub like_ok {
    my ($token, $status, $name) = @_;
    is($t->get('/', token => $token)->{status}, $status, $name);
}

sub invalid {
    my ($token, $name, $uri) = @_;

    my $r = $t->get($uri || '/', token => $token);

    ok($r->{status} == 401
        && ($r->{headers}{'www-authenticate'} || '')
            =~ /^Bearer realm="api", error="invalid_token", error_description="[^"]+"$/
        && $r->{body} !~ /x-user-id/,
        $name) or diag("$r->{status} "
            . ($r->{headers}{'www-authenticate'} || '') . " $r->{body}");
}

###############################################################################
