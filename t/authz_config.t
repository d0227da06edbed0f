#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for configuration checks: "nginx -t" fails on every bad key
# file and bad directive value, and names the file, the line and the
# reason; a valid configuration passes.

###############################################################################

use warnings;
use strict;

use Test::More;

use FindBin;
use MIME::Base64 ();
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);

###############################################################################

my $t = AuthzTest->new->has('module', 'mint');

my $ec_jwk = '{"kty":"EC","crv":"P-256","kid":"e1",'
    . '"x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",'
    . '"y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}';
my $rsa_jwk = do {
    my $j = $t->read_file(keydir() . '/k1.jwk');
    $j =~ s/\s+//g;
    $j;
};

$t->write_file('notakey.pem', "this is not a key\n");
$t->write_file('truncated.pem', "-----BEGIN PUBLIC KEY-----\nMIIBIjAN\n");
$t->write_file('ec-jwks.json', qq{{"keys":[$ec_jwk]}\n});
$t->write_file('mixed-jwks.json', qq{{"keys":[$rsa_jwk,$ec_jwk]}\n});

# a JWKS of N copies of k1 under kids a1..aN: at most 64 keys

for my $n (62, 63, 64, 65) {
    my @keys = map { $rsa_jwk =~ s/"kid":"k1"/"kid":"a$_"/r } 1 .. $n;
    $t->write_file("jwks$n.json", '{"keys":[' . join(',', @keys) . "]}\n");
}

$t->write_file('two.pem', $t->read_file(keydir() . '/k1.pub')
    . $t->read_file(keydir() . '/k2.pub'));

(my $enc_jwk = $rsa_jwk) =~ s/"use":"sig"/"use":"enc"/;
$t->write_file('enc-jwks.json', qq{{"keys":[$enc_jwk]}\n});

# RSA keys of 8192 bits at most, e = 65537 only: made from hand-made
# moduli (odd, the top bit set), which need not be valid for signing

for my $k ([8192, 65537], [8193, 65537], [16384, 65537], [2048, 3],
    [2048, 65539], [2048, 4294967295])
{
    my ($bits, $e) = @$k;
    $t->write_file("rsa$bits-e$e.pem", pem_spki(modulus($bits), $e));
    $t->write_file("rsa$bits-e$e.jwk", jwk(modulus($bits), $e, 'made'));
}

$t->write_file('big-jwks.json', '{"keys":[' . join(',',
    jwk(modulus(8193), 65537, 'big'), $rsa_jwk,
    jwk(modulus(2048), 3, 'e3')) . "]}\n");
$t->write_file('big-only-jwks.json',
    '{"keys":[' . jwk(modulus(16384), 65537, 'huge') . "]}\n");

# keys without kid: a token is tried against two at most (SPEC 10)

$t->write_file('three.pem', $t->read_file('two.pem')
    . $t->read_file(keydir() . '/k1.pub'));
(my $nokid_jwk = $rsa_jwk) =~ s/"kid":"k1",?//;
$t->write_file('nokid3-jwks.json',
    '{"keys":[' . join(',', ($nokid_jwk) x 3) . "]}\n");
$t->write_file('nokid2-jwks.json',
    '{"keys":[' . join(',', ($nokid_jwk) x 2) . "]}\n");

$t->plan(78);

###############################################################################

# key files

fails('missing key file',
    location => 'authz_key_file %%TESTDIR%%/nope.pem kid=k1;',
    qr/open\(\) ".*\/nope\.pem" failed \(2: No such file or directory\)/);
fails('not a key',
    location => 'authz_key_file %%TESTDIR%%/notakey.pem kid=k1;',
    qr/authz key file ".*\/notakey\.pem": no PEM or JWKS content/);
fails('truncated pem',
    location => 'authz_key_file %%TESTDIR%%/truncated.pem kid=k1;',
    qr/authz key file ".*\/truncated\.pem": .*PEM/);
fails('rsa 1024',
    location => 'authz_key_file %%KEYDIR%%/weak.pub kid=k1;',
    qr/authz key file ".*\/weak\.pub": RSA key of 1024 bits, at least 2048/);
fails('ec key, ES256 not enabled',
    location => "authz_key_file %%KEYDIR%%/ec.pub kid=k1;\n authz on;",
    qr/authz key file ".*\/ec\.pub": key "k1" verifies ES256, and (?#
    )"authz_algorithms" enables none of them where it is used/);
fails('private key',
    location => 'authz_key_file %%KEYDIR%%/k1.key kid=k1;',
    qr/authz key file ".*\/k1\.key": private key found/);
fails('jwks with an ec key, ES256 not enabled',
    location => "authz_key_file %%TESTDIR%%/ec-jwks.json;\n authz on;",
    qr/authz key file ".*\/ec-jwks\.json": no key verifies an algorithm/);
passes('jwks with rsa and ec keys, ES256 not enabled: the ec key unused',
    location => "authz_key_file %%TESTDIR%%/mixed-jwks.json;\n authz on;");
fails('bad kid param',
    location => 'authz_key_file %%KEYDIR%%/k1.pub key=k1;',
    qr/invalid parameter "key=k1"/);
fails('empty kid param',
    location => 'authz_key_file %%KEYDIR%%/k1.pub kid=;',
    qr/invalid parameter "kid="/);
fails('kid param on a jwks',
    location => 'authz_key_file %%KEYDIR%%/jwks.json kid=k1;',
    qr/"kid=" applies to PEM keys only/);
fails('jwks without a signing key',
    location => 'authz_key_file %%TESTDIR%%/enc-jwks.json;',
    qr/authz key file ".*\/enc-jwks\.json": no usable signing key/);
passes('64 keys', location => 'authz_key_file %%TESTDIR%%/jwks64.json;');
fails('65 keys',
    location => 'authz_key_file %%TESTDIR%%/jwks65.json;',
    qr/authz key file ".*\/jwks65\.json": too many keys \(at most 64\)/);
fails('65 keys in two files',
    location => "authz_key_file %%TESTDIR%%/jwks63.json;\n"
        . "            authz_key_file %%KEYDIR%%/jwks.json;  #!",
    qr/authz key file ".*\/jwks\.json": too many keys \(at most 64\)/);

# regression (was a bug): a kid named twice was refused inside one JWKS
# but accepted across authz_key_file lines and for a PEM file of two
# keys with kid=, where a token with that kid was verified by either
# key; now refused everywhere: a kid names one key
fails('duplicate kid in two files',
    location => "authz_key_file %%KEYDIR%%/k1.pub kid=k1;\n"
        . "            authz_key_file %%KEYDIR%%/k2.pub kid=k1;  #!",
    qr/duplicate kid "k1"/);
fails('duplicate kid in one pem file',
    location => 'authz_key_file %%TESTDIR%%/two.pem kid=k1;',
    qr/duplicate kid "k1"/);

# RSA-8192 at most, e = 65537: a PEM file or a single JWK over them
# fails; a JWKS skips such a key with a notice naming it and why

passes('rsa 8192 pem',
    location => 'authz_key_file %%TESTDIR%%/rsa8192-e65537.pem kid=k;');
passes('rsa 8192 jwk',
    location => 'authz_key_file %%TESTDIR%%/rsa8192-e65537.jwk;');
fails('rsa 8193 pem',
    location => 'authz_key_file %%TESTDIR%%/rsa8193-e65537.pem kid=k;',
    qr/authz key file ".*\/rsa8193-e65537\.pem": RSA key of 8193 bits, /
    . qr/at most 8192 allowed/);
fails('rsa 16384 pem',
    location => 'authz_key_file %%TESTDIR%%/rsa16384-e65537.pem kid=k;',
    qr/RSA key of 16384 bits, at most 8192 allowed/);
fails('rsa 8193 jwk',
    location => 'authz_key_file %%TESTDIR%%/rsa8193-e65537.jwk;',
    qr/authz key file ".*\/rsa8193-e65537\.jwk": key "made": RSA key of /
    . qr/8193 bits, at most 8192 allowed/);
fails('rsa e 3 pem',
    location => 'authz_key_file %%TESTDIR%%/rsa2048-e3.pem kid=k;',
    qr/RSA public exponent is not 65537/);
fails('rsa e 65539 pem',
    location => 'authz_key_file %%TESTDIR%%/rsa2048-e65539.pem kid=k;',
    qr/RSA public exponent is not 65537/);
fails('rsa e 2^32-1 jwk',
    location => 'authz_key_file %%TESTDIR%%/rsa2048-e4294967295.jwk;',
    qr/key "made": RSA public exponent is not 65537/);
fails('jwks of a 16384-bit key only',
    location => 'authz_key_file %%TESTDIR%%/big-only-jwks.json;',
    qr/authz key file ".*\/big-only-jwks\.json": no usable signing key/);
like($t->read_file('nginx_t.out'), re(qr/\[notice\] .*authz key file "\S+/
    . qr/\/big-only-jwks\.json": key "huge": RSA key of 16384 bits, at most/
    . qr/ 8192 allowed, key skipped/), 'jwks of a 16384-bit key only: notice');

my ($rc, $out) = $t->nginx_t(conf(
    location => 'authz_key_file %%TESTDIR%%/big-jwks.json;'));
ok($rc == 0 && $out =~ /test is successful/,
    'jwks with keys over the limits loads') or diag($out);
like($out, re(qr/\[notice\] .*key "big": RSA key of 8193 bits, at most /
    . qr/8192 allowed, key skipped in \S+nginx_t\.conf:\d+/),
    'jwks: notice for 8193 bits');
like($out, re(qr/\[notice\] .*key "e3": RSA public exponent is not 65537, /
    . qr/key skipped/), 'jwks: notice for e = 3');

# at most two keys without kid at one level: the line of the key file
# that brings the third; levels are not concatenated

fails('three keys without kid',
    location => "authz_key_file %%KEYDIR%%/k1.pub;\n"
        . "            authz_key_file %%KEYDIR%%/k2.pub;\n"
        . "            authz_key_file %%KEYDIR%%/k1.crt;  #!",
    qr/"authz_key_file" ".*\/k1\.crt": 3 keys without "kid" at one level, /
    . qr/at most 2 \(a token is tried against two keys at most: give every /
    . qr/key a kid\)/);
fails('pem file of three keys without kid',
    location => 'authz_key_file %%TESTDIR%%/three.pem;',
    qr/"authz_key_file" ".*\/three\.pem": 3 keys without "kid"/);
fails('jwks of three keys without kid',
    server => 'authz_key_file %%TESTDIR%%/nokid3-jwks.json;',
    qr/"authz_key_file" ".*\/nokid3-jwks\.json": 3 keys without "kid"/);
fails('two keys without kid, then one more',
    http => "authz_key_file %%TESTDIR%%/nokid2-jwks.json;\n"
        . "    authz_key_file %%KEYDIR%%/k1.pub kid=k1;\n"
        . "    authz_key_file %%KEYDIR%%/k2.pub;  #!",
    qr/"authz_key_file" ".*\/k2\.pub": 3 keys without "kid"/);
passes('two keys without kid and 62 with',
    location => "authz_key_file %%TESTDIR%%/nokid2-jwks.json;\n"
        . "            authz_key_file %%TESTDIR%%/jwks62.json;");
passes('two keys without kid at each level',
    http => 'authz_key_file %%TESTDIR%%/two.pem;',
    server => 'authz_key_file %%TESTDIR%%/nokid2-jwks.json;',
    location => "authz_key_file %%KEYDIR%%/k1.pub;\n"
        . "            authz_key_file %%KEYDIR%%/k2.pub;");

# checked when locations are merged: the line is the "authz" line, or
# at least the location lacking keys (not the end of the http block)
fails('authz on without keys',
    location => 'authz on;',
    qr/"authz" requires "authz_key_file"/,
    line => ['authz on;', 'location / {']);
fails('authz on inherited without keys',
    server => 'authz on;',
    qr/"authz" requires "authz_key_file"/,
    line => ['authz on;', 'location / {']);
passes('authz on with keys in the location',
    server => 'authz on;',
    location => 'authz_key_file %%KEYDIR%%/k1.pub kid=k1;');
fails('authz invalid value',
    location => 'authz maybe;',
    qr/invalid value "maybe"/);

# algorithms

fails('algorithm none',
    location => 'authz_algorithms none;',
    qr/algorithm "none" is refused/);
fails('algorithm NONE',
    location => 'authz_algorithms RS256 NONE;',
    qr/algorithm "NONE" is refused/);
fails('algorithm hs256',
    location => 'authz_algorithms RS256 HS256;',
    qr/algorithm "HS256" is refused/);
fails('algorithm hs512 lowercase',
    location => 'authz_algorithms hs512;',
    qr/algorithm "hs512" is refused/);
fails('algorithm foo',
    location => 'authz_algorithms FOO;',
    qr/algorithm "FOO" is not supported/);

# values

fails('deny status 500',
    location => 'authz_deny_status 500;',
    qr/invalid value "500", it must be 403 or 404/);
fails('max token size 1',
    location => 'authz_max_token_size 1;',
    qr/"authz_max_token_size" directive must be between 16 and 64k/);
fails('max token size 15',
    location => 'authz_max_token_size 15;',
    qr/"authz_max_token_size" directive must be between 16 and 64k/);
passes('max token size 16', location => 'authz_max_token_size 16;');
passes('max token size 64k', location => 'authz_max_token_size 64k;');
passes('max token size 65536', location => 'authz_max_token_size 65536;');
fails('max token size 65537',
    location => 'authz_max_token_size 65537;',
    qr/"authz_max_token_size" directive must be between 16 and 64k/);
fails('max token size 1m',
    location => 'authz_max_token_size 1m;',
    qr/"authz_max_token_size" directive must be between 16 and 64k/);
fails('duplicate algorithms',
    location => "authz_algorithms RS256;\n"
        . "            authz_algorithms PS256;  #!",
    qr/"authz_algorithms" directive is duplicate/);
fails('duplicate deny status',
    location => "authz_deny_status 403;\n"
        . "            authz_deny_status 404;  #!",
    qr/"authz_deny_status" directive is duplicate/);
fails('empty issuer',
    location => 'authz_issuer "";',
    qr/empty value/);
fails('realm with a quote',
    location => q{authz_realm 'a"b';},
    qr/"authz_realm" directive has a character not allowed/);
fails('duplicate role',
    http => "authz_role r1 a:b;\n    authz_role r1 c:d;  #!",
    qr/role "r1" is duplicate/);
fails('role invalid permission',
    http => 'authz_role r1 a:b a,b;',
    qr/invalid permission "a,b"/);
fails('duplicate scope level',
    location => 'authz_scope_levels own team org own;',
    qr/scope level "own" is duplicate/);

# rules

fails('rule unknown method',
    location => 'authz_rule GET FETCH /a x:y;',
    qr/unknown method "FETCH"/);

# a word with a "/" is a pattern, not a method
fails('pattern without leading slash',
    location => 'authz_rule GET api/x x:y;',
    qr/pattern.*"api\/x"|"api\/x".*pattern/);
fails('partial segment wildcard',
    location => 'authz_rule GET /a/b* x:y;',
    qr/invalid pattern "\/a\/b\*": .*whole segments/);
fails('dot segment',
    location => 'authz_rule GET /a/../b x:y;',
    qr/invalid pattern "\/a\/\.\.\/b": "\." or "\.\." segment/);

fails('empty requirement',
    location => 'authz_rule GET /a a||b;',
    qr/invalid requirement "a\|\|b": empty requirement/);
fails('star in a required permission',
    location => 'authz_rule GET /a blog:posts.*;',
    qr/invalid requirement "blog:posts\.\*": "\*" in a required permission/);
fails('star in authz_require',
    location => 'authz_require *;',
    qr/invalid requirement "\*": "\*" in a required permission/);
fails('unknown binding',
    location => 'authz_rule GET "/a/{foo}" x:y;',
    qr/invalid pattern "\/a\/\{foo\}": unknown binding/);
fails('rule without requirement',
    location => 'authz_rule GET /a;',
    qr/no requirement after "\/a"/);
fails('public with a requirement',
    location => 'authz_rule GET /a public x:y;',
    qr/"public" cannot be combined with requirements/);
fails('condition not a variable',
    location => 'authz_condition $arg_a foo;',
    qr/"foo" is not a variable/);

# contexts

fails('rule at http level',
    http => 'authz_rule GET /a x:y;',
    qr/"authz_rule" directive is not allowed here/);
fails('role in a location',
    location => 'authz_role r1 a:b;',
    qr/"authz_role" directive is not allowed here/);

# a valid configuration with every directive passes

($rc, $out) = $t->nginx_t(conf(
    http => join("\n    ",
        'authz_role role_editor blog:posts.read blog:posts.update;',
        'authz_role role_viewer blog:posts.read;',
        'authz_leeway 30s;',
        'authz_key_file %%KEYDIR%%/jwks.json;'),
    server => join("\n        ",
        'authz on;',
        'authz_key_file %%KEYDIR%%/k1.pub kid=p1;',
        'authz_key_file %%KEYDIR%%/k1.crt kid=c1;',
        'authz_key_file %%KEYDIR%%/k1.jwk;',
        'authz_algorithms RS256 PS256;',
        'authz_issuer https://a.test https://b.test;',
        'authz_audience api.test;',
        'authz_realm "my api";',
        'authz_require_exp on;',
        'authz_max_token_size 16k;',
        'authz_permissions_claim realm_access.roles;',
        'authz_tenant_claim org;',
        'authz_services_claim svc;',
        'authz_roles_claim groups;',
        'authz_scope_levels own team org all;',
        'authz_tenant_bypass platform:tenants.any;',
        'authz_forward on;',
        'authz_forward_token off;',
        'authz_strip_headers on;',
        'authz_deny_status 404;'),
    location => join("\n            ",
        'authz_token $cookie_access_token;',
        'authz_service blog;',
        'authz_tenant $http_x_tenant_id;',
        'authz_rule GET HEAD /api/blog/posts/** blog:posts.read;',
        'authz_rule PUT PATCH /api/blog/posts/* '
            . 'blog:posts.update|blog:posts.admin;',
        'authz_rule * "/api/blog/t/{tenant}/**" blog:posts.read;',
        'authz_rule GET "/api/blog/users/{sub}/drafts" blog:drafts.read;',
        'authz_rule GET /api/blog/health public;',
        'authz_rules_default deny;',
        'authz_require blog:read orders:read:team;',
        'authz_condition $arg_a $http_x_b;',
        'limit_except GET { authz_require blog:posts.admin; }'),
));
is($rc, 0, 'valid configuration') or diag($out);
like($out, qr/syntax is ok.*test is successful/s, 'valid configuration output');

# and the same keys in a running nginx

$t->write_file_expand('nginx.conf', conf(
    http => 'authz_key_file %%KEYDIR%%/k1.rsapub kid=k1;',
    server => 'authz on;',
    location => 'authz_require blog:posts.read;'));
$t->run;

is($t->get('/', token => mint(permissions => ['blog:posts.read']))->{status},
    200, 'valid configuration runs');
is($t->get('/', token => mint())->{status}, 403, 'valid configuration denies');

my $cli = mint_cli('--key', keydir() . '/k1.key', '--kid', 'k1',
    '--perm', 'blog:posts.read');
is($t->get('/', token => $cli)->{status}, 200, 'cli token');

###############################################################################

# one regex from pieces joined, multi-line

sub re {
    my $s = join '', @_;
    return qr/$s/m;
}

# an odd modulus of exactly $bits bits

sub modulus {
    my ($bits) = @_;
    my $len = int(($bits + 7) / 8);
    return chr(1 << (($bits - 1) % 8)) . "\x5a" x ($len - 2) . "\x5b";
}

sub jwk {
    my ($n, $e, $kid) = @_;
    return sprintf('{"kty":"RSA","kid":"%s","n":"%s","e":"%s"}', $kid,
        b64url($n), b64url(exponent($e)));
}

# big-endian, without leading zero bytes

sub exponent {
    my ($e) = @_;
    my $b = pack('N', $e);
    $b =~ s/^\0+//;
    return $b;
}

# a "PUBLIC KEY" PEM block, DER written by hand

sub pem_spki {
    my ($n, $e) = @_;

    my $int = sub {
        my ($v) = @_;
        $v = "\0$v" if ord($v) & 0x80;
        return der(0x02, $v);
    };

    my $spki = der(0x30,
        der(0x30, der(0x06, "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01")
            . "\x05\x00")
        . der(0x03, "\0" . der(0x30, $int->($n) . $int->(exponent($e)))));

    my $b64 = MIME::Base64::encode_base64($spki, '');
    $b64 =~ s/(.{1,64})/$1\n/g;

    return "-----BEGIN PUBLIC KEY-----\n$b64-----END PUBLIC KEY-----\n";
}

sub der {
    my ($tag, $body) = @_;

    my $l = length $body;
    my $len = '';

    return chr($tag) . chr($l) . $body if $l < 128;

    while ($l) {
        $len = chr($l & 0xff) . $len;
        $l >>= 8;
    }

    return chr($tag) . chr(0x80 | length $len) . $len . $body;
}

# a configuration with one line for each context; a line of a snippet
# is marked with "#!" where the error is expected, else its first line

sub conf {
    my (%s) = @_;

    my $conf = <<'EOF';
%%TEST_GLOBALS%%
events {
}
http {
    %%TEST_GLOBALS_HTTP%%
    %%HTTP%%
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        %%SERVER%%
        location / {
            %%LOCATION%%
            proxy_pass http://%%ECHO%%;
        }
    }
}
EOF

    for my $k (qw(http server location)) {
        my $v = $s{$k} // '';
        $conf =~ s/%%\U$k\E%%/$v/;
    }

    return $conf;
}

sub passes {
    my ($name, %s) = @_;

    my ($rc, $out) = $t->nginx_t(conf(%s));
    ok($rc == 0 && $out =~ /test is successful/, $name) or diag($out);
}

sub fails {
    my ($name, $where, $snippet, $re, %opt) = @_;

    my $conf = conf($where => $snippet);

    # the expected line: the one marked "#!", or the first line of the
    # snippet; opt line => [texts]: any line holding one of the texts
    my @lines = split /\n/, $conf;
    my ($first) = grep { /#!/ } split /\n/, $snippet;
    ($first) = split /\n/, $snippet unless defined $first;
    my @want = @{ $opt{line} // [$first] };
    my $line = join '|', grep {
        my $l = $lines[$_ - 1];
        grep { index($l, $_) >= 0 } @want;
    } 1 .. @lines;

    my ($rc, $out) = $t->nginx_t($conf);
    my $file = $t->testdir . '/nginx_t.conf';

    ok($rc != 0
        && $out =~ /\[emerg\] \d+#\d+: .*?(?:$re).* in \Q$file\E:(?:$line)$/m
        && $out =~ /test failed/,
        $name) or diag("rc $rc, expected line $line:\n$out");
}

###############################################################################
