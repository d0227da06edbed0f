#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for key formats, end to end: SPKI PEM, PKCS#1 PEM, an X.509
# certificate, a JWKS, a single JWK, several authz_key_file lines
# (rotation), a JWKS printed by authz-mint, key selection by "kid",
# and key inheritance from the server level.  Key sets of 10 and 64
# keys: a token is tried against two keys at most.  RSA-8192, the
# largest key, verifies; keys over the limits are skipped in a JWKS.

###############################################################################

use warnings;
use strict;

use Test::More;

use Fcntl qw(:flock);
use File::Basename qw(dirname);
use File::Path qw(make_path);
use JSON::PP;

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);

###############################################################################

my $t = AuthzTest->new->has('module', 'mint');
my $kd = keydir();

# a JWKS made by the minting tool, kids m1 (k1) and m2 (k2)

$t->write_file('mint-jwks.json', mint_cli('--jwks', "$kd/k1.pub",
    '--kid', 'm1', '--jwks', "$kd/k2.pub", '--kid', 'm2') . "\n");

# key sets where k1, the signer, is the third key and the 64th

my %jwk = map { $_->{kid} => $_ }
    @{ decode_json($t->read_file("$kd/jwks.json"))->{keys} };

$t->write_file('many.json', jwks(map {
    { %{ $jwk{$_ eq 'c' ? 'k1' : 'k2'} }, kid => $_ }
} 'a' .. 'j'));
$t->write_file('many64.json', jwks(map {
    { %{ $jwk{$_ == 64 ? 'k1' : 'k2'} }, kid => "k$_" }
} 1 .. 64));

# RSA-8192, generated once and kept under build/; a key of 8193 bits
# and one with e = 3 from hand-made numbers: refused, never signed with

my $big = rsa8192();

$t->write_file('k8192.jwk', encode_json({ kty => 'RSA', kid => 'big',
    n => b64url($big->{n}), e => 'AQAB' }));
$t->write_file('skip.json', jwks(
    { kty => 'RSA', kid => 'big',
        n => b64url("\x01" . "\x5a" x 1023 . "\x5b"), e => 'AQAB' },
    $jwk{k1},
    { %{ $jwk{k2} }, kid => 'e3', e => 'Aw' }));

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        authz on;
        authz_key_file %%KEYDIR%%/k1.pub kid=k1;

        location / {
            proxy_pass http://%%ECHO%%;
        }

        location /override/ {
            authz_key_file %%KEYDIR%%/k2.pub kid=k2;
            proxy_pass http://%%ECHO%%;
        }

        location /spki/ {
            authz_key_file %%KEYDIR%%/k1.pub kid=k1;
            proxy_pass http://%%ECHO%%;
        }

        location /pkcs1/ {
            authz_key_file %%KEYDIR%%/k1.rsapub kid=k1;
            proxy_pass http://%%ECHO%%;
        }

        location /cert/ {
            authz_key_file %%KEYDIR%%/k1.crt kid=k1;
            proxy_pass http://%%ECHO%%;
        }

        location /jwks/ {
            authz_key_file %%KEYDIR%%/jwks.json;
            proxy_pass http://%%ECHO%%;
        }

        location /jwk/ {
            authz_key_file %%KEYDIR%%/k1.jwk;
            proxy_pass http://%%ECHO%%;
        }

        location /rotate/ {
            authz_key_file %%KEYDIR%%/k1.pub kid=k1;
            authz_key_file %%KEYDIR%%/k2.pub kid=k2;
            proxy_pass http://%%ECHO%%;
        }

        location /nokid/ {
            authz_key_file %%KEYDIR%%/k1.pub;
            authz_key_file %%KEYDIR%%/k2.pub;
            proxy_pass http://%%ECHO%%;
        }

        location /minted/ {
            authz_key_file %%TESTDIR%%/mint-jwks.json;
            proxy_pass http://%%ECHO%%;
        }

        location /many/ {
            authz_key_file %%TESTDIR%%/many.json;
            proxy_pass http://%%ECHO%%;
        }

        location /many64/ {
            authz_key_file %%TESTDIR%%/many64.json;
            proxy_pass http://%%ECHO%%;
        }

        location /fallback/ {
            authz_key_file %%KEYDIR%%/k1.pub kid=k1;
            authz_key_file %%KEYDIR%%/k2.pub;
            proxy_pass http://%%ECHO%%;
        }

        location /rsa8192/ {
            authz_key_file %%TESTDIR%%/k8192.jwk;
            proxy_pass http://%%ECHO%%;
        }

        location /rsa8192pem/ {
            authz_key_file %%TESTDIR%%/k8192.pub kid=big;
            proxy_pass http://%%ECHO%%;
        }

        location /skip/ {
            authz_key_file %%TESTDIR%%/skip.json;
            proxy_pass http://%%ECHO%%;
        }
    }
}

EOF

$t->run->plan(73);

###############################################################################

my $k1 = mint();
my $k2 = mint(_key => 'k2');
my $k2_by_k1 = mint(_key => 'k1', _kid => 'k2');
my $k1_by_k2 = mint(_key => 'k2', _kid => 'k1');

# SPKI "PUBLIC KEY" with kid=

is(st('/spki/', $k1), 200, 'spki');
invalid('/spki/', $k1_by_k2, 'signature verification failed',
    'spki other signer');
invalid('/spki/', $k2, 'unknown key id', 'spki unknown kid');

# PKCS#1 "RSA PUBLIC KEY"

is(st('/pkcs1/', $k1), 200, 'pkcs1');
invalid('/pkcs1/', $k1_by_k2, 'signature verification failed',
    'pkcs1 other signer');

# X.509 certificate

is(st('/cert/', $k1), 200, 'certificate');
invalid('/cert/', $k1_by_k2, 'signature verification failed',
    'certificate other signer');

# JWKS: the kid selects the key

is(st('/jwks/', $k1), 200, 'jwks k1');
is(st('/jwks/', $k2), 200, 'jwks k2');
invalid('/jwks/', $k2_by_k1, 'signature verification failed',
    'jwks kid k2 signed by k1');
invalid('/jwks/', $k1_by_k2, 'signature verification failed',
    'jwks kid k1 signed by k2');
invalid('/jwks/', mint(_kid => 'k3'), 'unknown key id', 'jwks unknown kid');
is(st('/jwks/', mint(_kid => undef)), 200, 'jwks no kid k1');
is(st('/jwks/', mint(_key => 'k2', _kid => undef)), 200, 'jwks no kid k2');

# a single JWK: its own kid

is(st('/jwk/', $k1), 200, 'jwk');
invalid('/jwk/', $k2, 'unknown key id', 'jwk unknown kid');
invalid('/jwk/', $k1_by_k2, 'signature verification failed',
    'jwk other signer');

# two authz_key_file lines: old and new kid both accepted

is(st('/rotate/', $k1), 200, 'rotation old key');
is(st('/rotate/', $k2), 200, 'rotation new key');
invalid('/rotate/', $k2_by_k1, 'signature verification failed',
    'rotation kid k2 signed by k1');
invalid('/rotate/', mint(_key => 'k1', _kid => 'k3'), 'unknown key id',
    'rotation unknown kid');

# a token without kid is tried against every key, in order

is(st('/rotate/', mint(_kid => undef)), 200, 'no kid first key');
is(st('/rotate/', mint(_key => 'k2', _kid => undef)), 200,
    'no kid second key');
invalid('/rotate/', mint(_key => 'weak', _kid => undef),
    'signature verification failed', 'no kid no key verifies');

# keys without kid: a token naming a kid that no key has is tried
# against them (SPEC 10: one PEM file, an IdP that sets kid)

is(st('/nokid/', mint(_kid => undef)), 200, 'kidless keys no kid k1');
is(st('/nokid/', mint(_key => 'k2', _kid => undef)), 200,
    'kidless keys no kid k2');
is(st('/nokid/', $k1), 200, 'kidless keys token with kid k1');
is(st('/nokid/', $k2), 200, 'kidless keys token with kid k2');
invalid('/nokid/', mint(_key => 'weak', _kid => 'k1'),
    'signature verification failed', 'kidless keys token with kid forged');

# a JWKS made by authz-mint, tokens made by authz-mint (libjwt)

my @cli = ('--iss', 'https://issuer.test', '--aud', 'api.test',
    '--sub', 'bob', '--tenant', 'globex', '--ttl', '5m');

my $r = $t->get('/minted/', token => mint_cli('--key', "$kd/k1.key",
    '--kid', 'm1', @cli));
is($r->{status}, 200, 'cli token m1');
like($r->{body}, qr/^x-user-id=bob$/m, 'cli token identity');
like($r->{body}, qr/^x-tenant-id=globex$/m, 'cli token tenant');

is(st('/minted/', mint_cli('--key', "$kd/k2.key", '--kid', 'm2', @cli)),
    200, 'cli token m2');
invalid('/minted/', mint_cli('--key', "$kd/k2.key", '--kid', 'm1', @cli),
    'signature verification failed', 'cli token m1 signed by k2');
is(st('/minted/', mint_cli('--key', "$kd/k2.key", @cli)), 200,
    'cli token no kid');
invalid('/minted/', mint_cli('--key', "$kd/k1.key", '--kid', 'k1', @cli),
    'unknown key id', 'cli token unknown kid');

# Crypt::JWT tokens with the same keys

is(st('/minted/', mint(_key => 'k1', _kid => 'm1')), 200, 'crypt-jwt m1');
is(st('/minted/', mint(_key => 'k2', _kid => 'm2')), 200, 'crypt-jwt m2');
invalid('/minted/', mint(_key => 'k1', _kid => 'm2'),
    'signature verification failed', 'crypt-jwt m2 signed by k1');

# authz-mint tokens against the PEM formats

my $cli_k1 = mint_cli('--key', "$kd/k1.key", '--kid', 'k1', @cli);

is(st('/pkcs1/', $cli_k1), 200, 'cli token pkcs1');
is(st('/cert/', $cli_k1), 200, 'cli token certificate');
is(st('/jwks/', $cli_k1), 200, 'cli token jwks');
is(st('/jwk/', $cli_k1), 200, 'cli token jwk');

# inheritance: server-level keys, replaced by a location's own

is(st('/', $k1), 200, 'server key inherited');
invalid('/', $k2, 'unknown key id', 'server key only');
is(st('/override/', $k2), 200, 'location key');
invalid('/override/', $k1, 'unknown key id', 'server key replaced');
invalid('/override/', mint(_kid => undef), 'signature verification failed',
    'server key replaced no kid');
is(st('/', $cli_k1), 200, 'cli token server key');

# at most two keys per token (SPEC 10): without kid, the first two of
# ten or of 64 keys; the signer, third or last, is never tried, and
# verifies the same token once its kid names it

my $k1_nokid = mint(_kid => undef);
my @f = split /\./, $k1_nokid;
my $forged = "$f[0]." . b64url('{"sub":"mallory","exp":' . (time + 600)
    . '}') . ".$f[2]";

invalid('/many/', $k1_nokid, 'signature verification failed',
    'ten keys, no kid, signer third: not tried');
is(st('/many/', mint(_kid => 'c')), 200, 'ten keys, the third by its kid');
is(st('/many/', mint(_key => 'k2', _kid => undef)), 200,
    'ten keys, no kid, signer first');
is(st('/many/', mint(_key => 'k2', _kid => 'b')), 200,
    'ten keys, the second by its kid');
invalid('/many/', $forged, 'signature verification failed',
    'ten keys, forged without kid');
invalid('/many/', mint(_kid => 'k'), 'unknown key id',
    'ten keys, all with a kid: unknown kid');

invalid('/many64/', $k1_nokid, 'signature verification failed',
    '64 keys, no kid, signer last: not tried');
is(st('/many64/', mint(_kid => 'k64')), 200, '64 keys, the last by its kid');
invalid('/many64/', $forged, 'signature verification failed',
    '64 keys, forged without kid');

# a kid that no key has: the keys without kid only

is(st('/fallback/', mint(_key => 'k2', _kid => 'idp-9')), 200,
    'unknown kid, the key without kid verifies');
invalid('/fallback/', mint(_kid => 'idp-9'), 'signature verification failed',
    'unknown kid, the key with a kid is not tried');
invalid('/fallback/', mint(_key => 'k2', _kid => 'k1'),
    'signature verification failed', 'known kid, no fallback');
is(st('/fallback/', $k1), 200, 'known kid');
is(st('/fallback/', mint(_key => 'k2', _kid => undef)), 200,
    'no kid, second key');

# RSA-8192: the largest key verifies, as a JWK and as a PEM file

my $t8192 = sign8192('{"alg":"RS256","typ":"JWT","kid":"big"}',
    '{"sub":"big","exp":' . (time + 600) . '}');
my @b = split /\./, $t8192;

$r = $t->get('/rsa8192/', token => $t8192);
ok($r->{status} == 200 && $r->{body} =~ /^x-user-id=big$/m, 'rsa-8192 jwk');
is(st('/rsa8192pem/', $t8192), 200, 'rsa-8192 pem');
invalid('/rsa8192/', "$b[0].$f[1].$b[2]", 'signature verification failed',
    'rsa-8192 forged');

# a JWKS skips its keys over the limits, with a notice

is(st('/skip/', $k1), 200, 'jwks with skipped keys, k1');
invalid('/skip/', mint(_kid => 'big'), 'unknown key id',
    'the skipped 8193-bit key is not there');

# the log names the reason and the kid

my $log = $t->error_log(nodebug => 1);
like($log, qr/authz: invalid token: unknown key id .*kid: "k3"/,
    'unknown kid logged');
like($log, qr/authz: invalid token: signature verification failed/,
    'bad signature logged');
unlike(join("\n", grep { /authz/ } split /\n/, $log), qr/\Q$k1\E/,
    'token not logged by the module');
like($log, qr/\[notice\] .*skip\.json": key "big": RSA key of 8193 bits, (?#
    )at most 8192 allowed, key skipped/, '8193-bit key skipped: notice');
like($log, qr/\[notice\] .*skip\.json": key "e3": RSA public exponent is (?#
    )not 65537, key skipped/, 'e = 3 key skipped: notice');

###############################################################################

sub st {
    my ($uri, $token) = @_;
    return $t->get($uri, token => $token)->{status};
}

sub jwks {
    return JSON::PP->new->canonical->encode({ keys => [@_] }) . "\n";
}

# build/t-keys-8192/k8192.{key,pub}: made once, by one test at a time
# (5 primes: seconds, not a minute); returns the modulus

sub rsa8192 {
    my $dir = dirname(keydir()) . '/t-keys-8192';
    my $key = "$dir/k8192.key";

    make_path($dir);
    open my $lock, '>>', "$dir.lock" or die "open $dir.lock: $!";
    flock $lock, LOCK_EX or die "flock $dir.lock: $!";

    unless (-s "$dir/k8192.pub") {
        system('openssl', 'genpkey', '-algorithm', 'RSA', '-pkeyopt',
            'rsa_keygen_bits:8192', '-pkeyopt', 'rsa_keygen_primes:5',
            '-out', "$key.tmp") == 0
        and system('openssl', 'pkey', '-in', "$key.tmp", '-pubout',
            '-out', "$dir/k8192.pub.tmp") == 0
        and rename("$key.tmp", $key)
        and rename("$dir/k8192.pub.tmp", "$dir/k8192.pub")
        or die "cannot make an RSA-8192 key in $dir\n";
        chmod 0644, $key, "$dir/k8192.pub";
    }

    close $lock;

    $t->write_file('k8192.pub', $t->read_file("$dir/k8192.pub"));

    open my $fh, '-|', 'openssl', 'pkey', '-pubin', '-in',
        "$dir/k8192.pub", '-noout', '-text' or die "openssl: $!";
    my $text = do { local $/; <$fh> };
    close $fh;

    my ($hex) = $text =~ /Modulus:\s*\n((?:\s+[0-9a-f:]+\n)+)/
        or die "no modulus in:\n$text";
    $hex =~ s/[\s:]//g;
    $hex =~ s/^(?:00)+//;

    return { key => $key, n => pack('H*', $hex) };
}

# an RS256 token signed with the RSA-8192 key by openssl dgst

sub sign8192 {
    my ($header, $payload) = @_;

    my $input = b64url($header) . '.' . b64url($payload);
    $t->write_file('tbs', $input);

    open my $fh, '-|', 'openssl', 'dgst', '-sha256', '-sign', $big->{key},
        $t->testdir . '/tbs' or die "openssl: $!";
    binmode $fh;
    my $sig = do { local $/; <$fh> };
    close $fh or die "openssl dgst: exit " . ($? >> 8) . "\n";

    return "$input." . b64url($sig);
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

###############################################################################
