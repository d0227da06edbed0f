#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for token verification: every kind of invalid token is a 401
# with error="invalid_token", and never reaches the upstream.  Large
# tokens: up to the 64k ceiling, their payload parsed only after the
# signature; small ones have their claims checked first.

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

    large_client_header_buffers 4 80k;

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

        location /big/ {
            authz_max_token_size 64k;
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

$t->run->plan(63);

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

# the order of the checks: claims first for a small payload, so an
# expired token is refused whatever its signature; the signature first
# for a payload over 4096 encoded bytes

my $late = ($now - 3600);
my $expired = mint(iat => $late - 600, nbf => $late - 600, exp => $late);
my @e = split /\./, $expired;

invalid_as("$e[0].$e[1].$p[2]", 'token expired',
    'small, expired and forged: expired');

my $big_ok = mint(pad => 'x' x 10000);
my @b = split /\./, $big_ok;
my $big_expired = mint(pad => 'x' x 10000, iat => $late - 600,
    nbf => $late - 600, exp => $late);
my @be = split /\./, $big_expired;

$r = $t->get('/big/', token => $big_ok);
ok($r->{status} == 200 && $r->{body} =~ /^x-user-id=alice$/m,
    'large payload verified, then parsed');
invalid_as($big_expired, 'token expired', 'large and expired', '/big/');
invalid_as("$be[0].$be[1].$p[2]", 'signature verification failed',
    'large, expired and forged: signature first', '/big/');
invalid_as("$b[0].$b[1].$p[2]", 'signature verification failed',
    'large and forged', '/big/');
invalid_as(mint(_kid => undef, pad => 'x' x 10000, sub => 'x')
    =~ s/\.[^.]+$/.$p[2]/r, 'signature verification failed',
    'large and forged, no kid', '/big/');
invalid_as(raw_jwt('{"alg":"RS256","kid":"k1"}', '[' . '1,' x 3000 . '1]'),
    'malformed token', 'large signed array', '/big/');
invalid_as(raw_jwt('{"alg":"RS256","kid":"k1"}', '{"exp":' . ($now + 600)
    . ',"x":' . '[' x 20 . ']' x 20 . ',"pad":"' . 'x' x 5000 . '"}'),
    'malformed token', 'large signed, nesting too deep', '/big/');

# the ceiling, 64k, and the header, 2048 encoded bytes

my $t64k = sized(65536);
is(length($t64k), 65536, 'a token of 65536 bytes');
is($t->get('/big/', token => $t64k)->{status}, 200, 'token of 64k');
invalid_as(sized(65537), 'token too large', 'token of 64k + 1', '/big/');

my $hdr = '{"alg":"RS256","kid":"k1","x":"';
is($t->get('/', token => raw_jwt($hdr . 'x' x 1500 . '"}', claims_json()))
    ->{status}, 200, 'header of 2040 characters');
invalid_as(raw_jwt($hdr . 'x' x 1506 . '"}', claims_json()),
    'malformed token', 'header of 2050 characters');

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

# an RS256 token of exactly $len bytes (spaces after the header JSON
# make every length reachable)

sub sized {
    my ($len) = @_;

    for my $sp (0 .. 3) {
        my $h = b64url('{"alg":"RS256","kid":"k1"}' . ' ' x $sp);
        my $head = substr(claims_json(), 0, -1) . ',"pad":"';
        my $p = $len - length($h) - 2 - 342;
        next if $p % 4 == 1;
        my $n = int($p * 3 / 4) - length($head) - 2;
        my $tok = raw_jwt('{"alg":"RS256","kid":"k1"}' . ' ' x $sp,
            $head . 'x' x $n . '"}');
        return $tok if length $tok == $len;
    }

    die "no token of $len bytes\n";
}

# a 401 with exactly this error_description

sub invalid_as {
    my ($token, $desc, $name, $uri) = @_;

    my $r = $t->get($uri || '/', token => $token);

    ok($r->{status} == 401
        && ($r->{headers}{'www-authenticate'} || '') eq 'Bearer realm="api", '
            . qq{error="invalid_token", error_description="$desc"}
        && $r->{body} !~ /x-user-id/,
        $name) or diag("$r->{status} "
            . ($r->{headers}{'www-authenticate'} || '') . " $r->{body}");
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
