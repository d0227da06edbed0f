#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for the algorithms and key types of SPEC 14, through nginx:
# RSA, EC P-256, EC P-384 and Ed25519 keys against every algorithm
# (only the diagonal verifies), JWS ECDSA signatures as R || S only,
# a JWK "alg" binding its key, PEM EC and Ed25519 keys accepted only
# where their algorithm is enabled, a provider JWKS with keys of other
# uses, types and shapes (one notice each), a PEM key without kid and
# an IdP that sets one, the issuer binding of SPEC 10 (the B2B case),
# $authz_key_source, and locations of different algorithms chained by
# error_page and try_files.

###############################################################################

use warnings;
use strict;

use Test::More;

use Crypt::JWT qw(encode_jwt);
use Crypt::PK::ECC;
use Crypt::PK::Ed25519;
use Crypt::PK::RSA;
use JSON::PP;

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

my $t = AuthzTest->new->has('module');
my $kd = keydir();
my $d = $t->testdir;
my $json = JSON::PP->new->canonical;

# the keys: k1 (RSA-2048) and ec (P-256) of the harness, a P-384 and an
# Ed25519 key made here

for my $k (['ec384', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
    ['ed', 'ed25519'], ['ed2', 'ed25519'])
{
    my ($name, $alg, @opt) = @$k;
    system('openssl', 'genpkey', '-algorithm', $alg, @opt,
        '-out', "$d/$name.key") == 0
    and system('openssl', 'pkey', '-in', "$d/$name.key", '-pubout',
        '-out', "$d/$name.pub") == 0
    or die "openssl: cannot make $name\n";
}

my %pk = (
    rsa => Crypt::PK::RSA->new("$kd/k1.key"),
    ec256 => Crypt::PK::ECC->new("$kd/ec.key"),
    ec384 => Crypt::PK::ECC->new("$d/ec384.key"),
    ed => Crypt::PK::Ed25519->new("$d/ed.key"),
    ed2 => Crypt::PK::Ed25519->new("$d/ed2.key"),
);

my @algs = qw(RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 Ed25519 EdDSA);
my %diag = (
    rsa => { map { $_ => 1 } qw(RS256 RS384 RS512 PS256 PS384 PS512) },
    ec256 => { ES256 => 1 }, ec384 => { ES384 => 1 },
    ed => { Ed25519 => 1, EdDSA => 1 },
);

# JWKs of the keys

my %jwk = map {
    my $j = $pk{$_}->export_key_jwk('public', 1);
    delete $j->{$_} for grep { $_ ne 'kty' && $_ ne 'crv' && $_ ne 'x'
        && $_ ne 'y' && $_ ne 'n' && $_ ne 'e' } keys %$j;
    $_ => { %$j, kid => $_ };
} keys %pk;

# a provider JWKS: two usable keys next to keys of other uses, types
# and shapes (each skipped with a notice), and an RSA key bound to RS512

$t->write_file('provider.json', $json->encode({ keys => [
    { %{ $jwk{rsa} }, kid => 'sig-rsa', use => 'sig', alg => 'RS256' },
    { %{ $jwk{ec256} }, kid => 'sig-ec', use => 'sig' },
    { %{ $jwk{rsa} }, kid => 'enc-rsa', use => 'enc', alg => 'RSA-OAEP' },
    { %{ $jwk{ec256} }, kid => 'wrap', key_ops => ['wrapKey'] },
    { %{ $jwk{ec256} }, kid => 'short', x => 'AAAA' },
    { kty => 'OKP', crv => 'X25519', kid => 'x25519',
        x => 'hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo' },
    { kty => 'oct', kid => 'hmac', k => 'c2VjcmV0' },
    { %{ $jwk{ec256} }, kid => 'off-curve', y => $jwk{ec256}{x} },
    { %{ $jwk{rsa} }, kid => 'confused', alg => 'ES256' },
    { %{ $jwk{rsa} }, kid => 'r512', alg => 'RS512' },
    { %{ $jwk{ed} }, kid => 'sig-ed' },
]}));

# a PEM file of each key

$t->write_file('rsa.pub', $t->read_file("$kd/k1.pub"));
$t->write_file('ec256.pub', $t->read_file("$kd/ec.pub"));

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    add_header X-Key-Source "$authz_key_source" always;
    add_header X-Kid "$authz_kid" always;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        authz on;
        authz_algorithms RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384
                         Ed25519 EdDSA;

        # keys of every type: where a location enables fewer algorithms,
        # it names its own keys (a PEM key none of whose algorithms is
        # enabled where it is used fails nginx -t)

        authz_key_file %%TESTDIR%%/rsa.pub kid=rsa;
        authz_key_file %%TESTDIR%%/ec256.pub kid=ec256;
        authz_key_file %%TESTDIR%%/ec384.pub kid=ec384;
        authz_key_file %%TESTDIR%%/ed.pub kid=ed;

        location /matrix/ {
            proxy_pass http://%%ECHO%%;
        }

        # $authz_key_source read in the rewrite phase, before access

        location /early/ {
            set $early "$authz_key_source";
            add_header X-Early "$early" always;   # replaces the http's
            proxy_pass http://%%ECHO%%;
        }

        location /provider/ {
            authz_key_file %%TESTDIR%%/provider.json;
            proxy_pass http://%%ECHO%%;
        }

        location /provider-rs256/ {
            authz_algorithms RS256 EdDSA;
            authz_key_file %%TESTDIR%%/provider.json;
            proxy_pass http://%%ECHO%%;
        }

        # one PEM key without kid, an IdP that sets one

        location /idp/ {
            authz_algorithms ES256;
            authz_key_file %%TESTDIR%%/ec256.pub;
            proxy_pass http://%%ECHO%%;
        }

        # the B2B gateway: two providers, two issuers

        location /b2b/ {
            authz_algorithms RS256 ES256;
            authz_issuer https://a.test https://b.test;
            authz_key_file %%TESTDIR%%/rsa.pub kid=a issuer=https://a.test;
            authz_key_file %%TESTDIR%%/ec256.pub issuer=https://b.test kid=b;
            proxy_pass http://%%ECHO%%;
        }

        location /b2b-unbound/ {
            authz_algorithms RS256 ES256;
            authz_issuer https://a.test https://b.test;
            authz_key_file %%TESTDIR%%/rsa.pub kid=a;
            authz_key_file %%TESTDIR%%/ec256.pub kid=b;
            proxy_pass http://%%ECHO%%;
        }

        # an ES256 location and an RS256 location, chained

        location /es/ {
            authz_algorithms ES256;
            authz_key_file %%TESTDIR%%/ec256.pub kid=ec256;
            error_page 401 = @rs;
            proxy_pass http://%%ECHO%%;
        }

        location /rs/ {
            authz_algorithms RS256;
            authz_key_file %%TESTDIR%%/rsa.pub kid=rsa;
            error_page 401 = @es;
            proxy_pass http://%%ECHO%%;
        }

        location /es-then-rs/ {
            authz_algorithms ES256;
            authz_key_file %%TESTDIR%%/ec256.pub kid=ec256;
            try_files /nonexistent @rs;
        }

        location @rs {
            authz_algorithms RS256;
            authz_key_file %%TESTDIR%%/rsa.pub kid=rsa;
            proxy_pass http://%%ECHO%%;
        }

        location @es {
            authz_algorithms ES256;
            authz_key_file %%TESTDIR%%/ec256.pub kid=ec256;
            proxy_pass http://%%ECHO%%;
        }
    }
}

EOF

$t->run->plan(142);

###############################################################################

my $now = time;
my %claims = (iss => 'https://issuer.test', sub => 'alice', tid => 'acme',
    iat => $now, exp => $now + 600);

# the full cross-type matrix: each key signs with each algorithm (or,
# for an algorithm of another type, with its own scheme under that
# alg); with the key's kid and without any: only the diagonal verifies

for my $key (qw(rsa ec256 ec384 ed)) {
    for my $alg (@algs) {
        next if $diag{$key}{$alg};

        for my $kid ($key, undef) {
            my $r = $t->get('/matrix/', token => token($key, $alg, $kid));
            ok($r->{status} == 401 && $r->{body} !~ /x-user-id/
                && ($r->{headers}{'x-key-source'} // '') eq '',
                "$key key, $alg token, " . ($kid ? 'kid' : 'no kid')
                . ': 401') or diag("$r->{status} $r->{body}");
        }
    }
}

for my $key (qw(rsa ec256 ec384 ed)) {
    for my $alg (sort keys %{ $diag{$key} }) {
        my $r = $t->get('/matrix/', token => token($key, $alg, $key));
        ok($r->{status} == 200 && $r->{body} =~ /^x-user-id=alice$/m
            && $r->{headers}{'x-key-source'} eq 'file'
            && $r->{headers}{'x-kid'} eq $key, "$key key, $alg token: 200")
            or diag("$r->{status} $r->{body}");
    }
}

# tokens signed by Crypt::JWT (ES256, ES384, PS256, EdDSA)

for my $c (['ec256', 'ES256'], ['ec384', 'ES384'], ['rsa', 'PS256'],
    ['ed', 'EdDSA'])
{
    my ($key, $alg) = @$c;
    my $jwt = encode_jwt(payload => \%claims, alg => $alg, key => $pk{$key},
        extra_headers => { kid => $key });
    is(st('/matrix/', $jwt), 200, "Crypt::JWT $alg");
}

# ECDSA: R || S of exactly 64 or 96 bytes, scalars in [1, n - 1]

my $n256 = pack 'H*', 'ffffffff00000000ffffffffffffffff'
    . 'bce6faada7179e84f3b9cac2fc632551';
my $good = token('ec256', 'ES256', 'ec256');
my ($h, $p, $s) = split /\./, $good;
my $rs = b64url_decode($s);
my $der = Crypt::PK::ECC->new("$kd/ec.key")->sign_message("$h.$p", 'SHA256');

invalid('/matrix/', "$h.$p." . b64url($der), 'signature verification failed',
    'ES256 signature in DER refused');
invalid('/matrix/', "$h.$p." . b64url($rs . "\0"),
    'signature verification failed', 'ES256 signature of 65 bytes refused');
invalid('/matrix/', "$h.$p." . b64url(substr($rs, 0, 63)),
    'signature verification failed', 'ES256 signature of 63 bytes refused');
invalid('/matrix/', "$h.$p." . b64url("\0" x 64),
    'signature verification failed', 'ES256 signature all zero refused');
invalid('/matrix/', "$h.$p." . b64url($n256 . substr($rs, 32)),
    'signature verification failed', 'ES256 r = n refused');
invalid('/matrix/', "$h.$p." . b64url(substr($rs, 0, 32) . $n256),
    'signature verification failed', 'ES256 s = n refused');
invalid('/matrix/', "$h.$p." . b64url(substr($rs, 0, 32) . "\0" x 32),
    'signature verification failed', 'ES256 s = 0 refused');
invalid('/matrix/', "$h.$p." . b64url(substr($rs, 0, 32)
    . pack('H*', unpack('H*', $n256) =~ s/51$/52/r)),
    'signature verification failed', 'ES256 s = n + 1 refused');
is(st('/matrix/', $good), 200, 'ES256 R || S verifies');

# Ed25519: 64 bytes exactly; another Ed25519 key does not verify

my $ed = token('ed', 'EdDSA', 'ed');
($h, $p, $s) = split /\./, $ed;
invalid('/matrix/', "$h.$p." . b64url(b64url_decode($s) . "\0"),
    'signature verification failed', 'Ed25519 signature of 65 bytes refused');
invalid('/matrix/', token('ed2', 'EdDSA', 'ed'),
    'signature verification failed', 'Ed25519 signature of another key');

# none and HS256 keyed with the public key text: never

invalid('/matrix/', raw_jwt('{"alg":"none","kid":"ec256"}',
    $json->encode(\%claims), sig => "\x01" x 64), 'algorithm not allowed',
    'alg none refused');
invalid('/matrix/', hs('ec256'), 'algorithm not allowed',
    'HS256 with the EC public key refused');
invalid('/matrix/', hs('ed'), 'algorithm not allowed',
    'HS256 with the Ed25519 public key refused');

# a provider JWKS: the usable keys verify, a key's "alg" binds it

is(st('/provider/', token('rsa', 'RS256', 'sig-rsa')), 200,
    'provider jwks: rsa key');
is(st('/provider/', token('ec256', 'ES256', 'sig-ec')), 200,
    'provider jwks: ec key');
is(st('/provider/', token('ed', 'Ed25519', 'sig-ed')), 200,
    'provider jwks: ed25519 key');
is(st('/provider/', token('rsa', 'RS512', 'r512')), 200,
    'key marked RS512: RS512 verifies');
invalid('/provider/', token('rsa', 'RS256', 'r512'), 'unknown key id',
    'key marked RS512: RS256 refused');
invalid('/provider/', token('rsa', 'PS512', 'r512'), 'unknown key id',
    'key marked RS512: PS512 refused');
invalid('/provider/', token('rsa', 'PS256', 'sig-rsa'), 'unknown key id',
    'key marked RS256: PS256 refused');
invalid('/provider/', token('rsa', 'RS256', 'confused'), 'unknown key id',
    'rsa key marked ES256: skipped');
invalid('/provider/', token('rsa', 'RS256', 'enc-rsa'), 'unknown key id',
    'encryption key skipped');
invalid('/provider/', token('ec256', 'ES256', 'wrap'), 'unknown key id',
    'key_ops without verify: skipped');

# where ES256 is not enabled the EC key is unused, the others work

invalid('/provider-rs256/', token('ec256', 'ES256', 'sig-ec'),
    'algorithm not allowed', 'ES256 not enabled: refused');
is(st('/provider-rs256/', token('rsa', 'RS256', 'sig-rsa')), 200,
    'provider jwks, RS256 location: rsa key');
is(st('/provider-rs256/', token('ed', 'EdDSA', 'sig-ed')), 200,
    'provider jwks, RS256 EdDSA location: ed25519 key');

# a PEM key without kid, a token whose kid no key has

is(st('/idp/', token('ec256', 'ES256', 'idp-key-7')), 200,
    'pem key without kid, token kid from the IdP');
is(st('/idp/', token('ec256', 'ES256', undef)), 200,
    'pem key without kid, token without kid');
invalid('/idp/', token('ec384', 'ES384', 'idp-key-7'), 'algorithm not allowed',
    'pem key without kid, ES384 token');

# SPEC 10 issuer binding: a token signed by B's key that claims A

my %a = (iss => 'https://a.test');
my %b = (iss => 'https://b.test');

invalid('/b2b/', token('ec256', 'ES256', 'b', %a),
    'key not valid for this issuer', 'b2b: B signs for A: 401');
invalid('/b2b/', token('rsa', 'RS256', 'a', %b),
    'key not valid for this issuer', 'b2b: A signs for B: 401');
invalid('/b2b/', token('ec256', 'ES256', 'b', iss => undef),
    'issuer not accepted', 'b2b: B signs without iss: 401');
invalid('/b2b/', token('ec256', 'ES256', 'b', iss => 'https://c.test'),
    'issuer not accepted', 'b2b: B signs for C: issuer not accepted');
is(st('/b2b/', token('ec256', 'ES256', 'b', %b)), 200, 'b2b: B for B');
is(st('/b2b/', token('rsa', 'RS256', 'a', %a)), 200, 'b2b: A for A');

# without the binding the same forged-issuer token passes: the reason
# for issuer= (docs/security.md)

is(st('/b2b-unbound/', token('ec256', 'ES256', 'b', %a)), 200,
    'b2b without binding: B signs for A: 200');

my $r;

# $authz_key_source read before the access phase: the token verified
# then, once; empty for a token no key verified

$r = $t->get('/early/', token => token('ed', 'Ed25519', 'ed'));
ok($r->{status} == 200 && ($r->{headers}{'x-early'} // '') eq 'file'
    && $r->{body} =~ /^x-user-id=alice$/m,
    '$authz_key_source in the rewrite phase: file')
    or diag("$r->{status} " . join ' ', map { "$_=$r->{headers}{$_}" }
        sort keys %{ $r->{headers} });
$r = $t->get('/early/', token => token('ed2', 'Ed25519', 'ed'));
ok($r->{status} == 401 && ($r->{headers}{'x-early'} // '') eq '',
    '$authz_key_source in the rewrite phase, forged token: empty');

# chains of locations with other algorithms

my $es = token('ec256', 'ES256', 'ec256');
my $rs256 = token('rsa', 'RS256', 'rsa');

$r = $t->get('/es/', token => $rs256);
ok($r->{status} == 200 && $r->{headers}{'x-kid'} eq 'rsa'
    && $r->{body} =~ /^x-user-id=alice$/m,
    'RS256 token: 401 in the ES256 location, 200 in its error_page @rs');
$r = $t->get('/rs/', token => $es);
ok($r->{status} == 200 && $r->{headers}{'x-kid'} eq 'ec256'
    && $r->{body} =~ /^x-user-id=alice$/m,
    'ES256 token: 401 in the RS256 location, 200 in its error_page @es');
$r = $t->get('/es-then-rs/', token => $es);
ok($r->{status} == 401 && $r->{body} !~ /x-user-id/,
    'ES256 token: allowed by the ES256 location, 401 after try_files @rs');
$r = $t->get('/es-then-rs/', token => $rs256);
ok($r->{status} == 401, 'RS256 token: 401 in the ES256 location');

# the notices of the provider JWKS, one per skipped key

my $log = $t->error_log(nodebug => 1);

for my $c (['enc-rsa', qr/"use" is not "sig"/],
    ['wrap', qr/"key_ops" lacks "verify"/],
    ['short', qr/"x" is not 32 bytes/],
    ['x25519', qr/OKP curve "X25519" is not supported/],
    ['hmac', qr/kty "oct" is not supported/],
    ['off-curve', qr/bad EC key/],
    ['confused', qr/"alg" "ES256" does not fit the key type/])
{
    my ($kid, $re) = @$c;
    like($log, qr/\[notice\] .*provider\.json": key "\Q$kid\E": $re.*, key (?#
        )skipped/, "notice: $kid skipped");
}

like($log, qr/\[notice\] .*provider\.json": key "sig-ec", alg not enabled/,
    'notice: ec key not used where ES256 is not enabled');
like($log, qr/\[warn\] .*"authz_issuer" values without "issuer=" on (?#
    ).*rsa\.pub"/, 'warning: two sources, two issuers, no binding');
unlike($log, qr/\[warn\] .*"issuer=" on .*ec256\.pub"/,
    'no warning where every source is bound');

# nginx -t: a PEM EC or Ed25519 key only where its algorithm is enabled

nginx_t_fails('ec key, RS256 only', 'authz_key_file %%TESTDIR%%/ec256.pub;',
    qr/ec256\.pub": the key verifies ES256, and "authz_algorithms" enables (?#
    )none of them where it is used/);
nginx_t_fails('ed25519 key, RS256 only',
    'authz_key_file %%TESTDIR%%/ed.pub;',
    qr/ed\.pub": the key verifies Ed25519 EdDSA, and "authz_algorithms"/);
nginx_t_fails('p-384 key, ES256 only',
    "authz_algorithms ES256;\n authz_key_file %%TESTDIR%%/ec384.pub;",
    qr/ec384\.pub": the key verifies ES384,/);
nginx_t_fails('ed25519 jwk marked EdDSA, Ed25519 only',
    "authz_algorithms Ed25519;\n authz_key_file %%TESTDIR%%/ed.jwk;",
    qr/ed\.jwk": key "ed" verifies EdDSA,/,
    'ed.jwk' => $json->encode({ %{ $jwk{ed} }, alg => 'EdDSA' }));
nginx_t_fails('jwks of keys none enabled',
    "authz_algorithms ES384;\n authz_key_file %%TESTDIR%%/provider.json;",
    qr/provider\.json": no key verifies an algorithm that/);
nginx_t_fails('single jwk with a contradicting alg',
    "authz_algorithms RS256;\n authz_key_file %%TESTDIR%%/bad.jwk;",
    qr/bad\.jwk": key "rsa": "alg" "ES256" does not fit the key type/,
    'bad.jwk' => $json->encode({ %{ $jwk{rsa} }, alg => 'ES256' }));
nginx_t_fails('single ec jwk off the curve',
    "authz_algorithms ES256;\n authz_key_file %%TESTDIR%%/off.jwk;",
    qr/off\.jwk": key "ec256": bad EC key: the point is not on the curve/,
    'off.jwk' => $json->encode({ %{ $jwk{ec256} },
        y => $jwk{ec256}{x} }));
nginx_t_fails('authz_algorithms HS256',
    'authz_algorithms RS256 HS256;',
    qr/algorithm "HS256" is refused/);
nginx_t_fails('authz_algorithms ES512',
    'authz_algorithms ES512;',
    qr/algorithm "ES512" is not supported: only RS256, .*EdDSA are allowed/);
nginx_t_fails('authz_key_file bad parameter',
    'authz_key_file %%TESTDIR%%/rsa.pub issuer;',
    qr/invalid parameter "issuer"/);
nginx_t_fails('authz_key_file two kids',
    'authz_key_file %%TESTDIR%%/rsa.pub kid=a kid=b;',
    qr/invalid parameter "kid=b"/);

nginx_t_passes('ec key, ES256', "authz_algorithms ES256;\n"
    . 'authz_key_file %%TESTDIR%%/ec256.pub;');
nginx_t_passes('ed25519 key, EdDSA', "authz_algorithms EdDSA;\n"
    . 'authz_key_file %%TESTDIR%%/ed.pub;');
nginx_t_passes('ed25519 key, Ed25519', "authz_algorithms Ed25519;\n"
    . 'authz_key_file %%TESTDIR%%/ed.pub;');
nginx_t_passes('ec key at http, ES256 in the location',
    'authz_algorithms ES256;', http => 'authz_key_file %%TESTDIR%%/ec256.pub;');

###############################################################################

sub st {
    my ($uri, $token) = @_;
    return $t->get($uri, token => $token)->{status};
}

sub invalid {
    my ($uri, $token, $desc, $name) = @_;

    my $r = $t->get($uri, token => $token);
    my $h = $r->{headers}{'www-authenticate'} // '';

    ok($r->{status} == 401
        && $h eq 'Bearer realm="api", error="invalid_token", '
            . qq{error_description="$desc"}
        && $r->{body} !~ /x-user-id/,
        $name) or diag("$r->{status} $h $r->{body}");
}

# a token of alg signed by key: with the alg's own scheme where the key
# has it, with the key's own scheme otherwise; kid undef: none

sub token {
    my ($key, $alg, $kid, %c) = @_;

    my %hdr = (alg => $alg, typ => 'JWT');
    $hdr{kid} = $kid if defined $kid;
    my %p = (%claims, %c);
    delete @p{ grep { !defined $p{$_} } keys %p };

    my $input = b64url($json->encode(\%hdr)) . '.'
        . b64url($json->encode(\%p));
    my $pk = $pk{$key};
    my ($bits) = $alg =~ /(\d+)$/;
    my $hash = ($alg =~ /^[RPE]S/) ? "SHA$bits" : 'SHA256';
    my $sig;

    if ($key eq 'rsa') {
        $sig = $alg =~ /^PS/ ? $pk->sign_message($input, $hash, 'pss', $bits / 8)
            : $pk->sign_message($input, $hash, 'v1.5');

    } elsif ($key =~ /^ec/) {
        $sig = $pk->sign_message_rfc7518($input,
            $key eq 'ec384' ? 'SHA384' : 'SHA256');

    } else {
        $sig = $pk->sign_message($input);
    }

    return "$input." . b64url($sig);
}

sub hs {
    my ($key) = @_;

    require Digest::SHA;
    my $input = b64url('{"alg":"HS256","kid":"' . $key . '"}') . '.'
        . b64url($json->encode(\%claims));
    my $pem = $t->read_file("$key.pub");

    return "$input." . b64url(Digest::SHA::hmac_sha256($input, $pem));
}

sub conf_t {
    my ($location, %s) = @_;

    return <<"EOF";
%%TEST_GLOBALS%%
events {
}
http {
    %%TEST_GLOBALS_HTTP%%
    @{[ $s{http} // '' ]}
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location / {
            authz on;
            $location
            proxy_pass http://%%ECHO%%;
        }
    }
}
EOF
}

sub nginx_t_fails {
    my ($name, $location, $re, %files) = @_;

    $t->write_file($_, $files{$_}) for keys %files;

    my ($rc, $out) = $t->nginx_t(conf_t($location));
    ok($rc != 0 && $out =~ /\[emerg\] .*$re/ && $out =~ /nginx_t\.conf:\d+/,
        "nginx -t: $name") or diag($out);
}

sub nginx_t_passes {
    my ($name, $location, %s) = @_;

    my ($rc, $out) = $t->nginx_t(conf_t($location, %s));
    ok($rc == 0 && $out =~ /test is successful/, "nginx -t: $name")
        or diag($out);
}

###############################################################################
