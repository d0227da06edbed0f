#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for key formats, end to end: SPKI PEM, PKCS#1 PEM, an X.509
# certificate, a JWKS, a single JWK, several authz_key_file lines
# (rotation), a JWKS printed by authz-mint, key selection by "kid",
# and key inheritance from the server level.

###############################################################################

use warnings;
use strict;

use Test::More;

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);

###############################################################################

my $t = AuthzTest->new->has('module', 'mint');
my $kd = keydir();

# a JWKS made by the minting tool, kids m1 (k1) and m2 (k2)

$t->write_file('mint-jwks.json', mint_cli('--jwks', "$kd/k1.pub",
    '--kid', 'm1', '--jwks', "$kd/k2.pub", '--kid', 'm2') . "\n");

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
    }
}

EOF

$t->run->plan(52);

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

# the log names the reason and the kid

my $log = $t->error_log(nodebug => 1);
like($log, qr/authz: invalid token: unknown key id .*kid: "k3"/,
    'unknown kid logged');
like($log, qr/authz: invalid token: signature verification failed/,
    'bad signature logged');
unlike(join("\n", grep { /authz/ } split /\n/, $log), qr/\Q$k1\E/,
    'token not logged by the module');

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

###############################################################################
