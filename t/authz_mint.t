#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests of build/authz-mint, the minting tool (keys/README): exit
# statuses and messages, the tokens it signs (checked independently with
# Crypt::JWT), the JWKS it prints, and the module accepting both.

###############################################################################

use warnings;
use strict;

use Test::More;

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);

use Crypt::JWT qw(decode_jwt);
use Crypt::PK::RSA;
use JSON::PP;
use POSIX ();

###############################################################################

my $t = AuthzTest->new->has(qw(module mint));

my $kd = keydir();
my $MINT = $ENV{AUTHZ_MINT} || "$FindBin::Bin/../build/authz-mint";

# the module's keys: the JWKS authz-mint prints for k1 and k2
$t->write_file('mint-jwks.json', mint_cli('--jwks', "$kd/k1.pub",
    '--kid', 'dev-1', '--jwks', "$kd/k2.pub", '--kid', 'dev-2') . "\n");

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        authz           on;
        authz_key_file  %%TESTDIR%%/mint-jwks.json;
        authz_issuer    https://manager.local;
        authz_audience  api.local;

        location / {
            proxy_pass  http://%%ECHO%%;
        }

        location /blog/ {
            authz_service  blog;
            authz_require  blog:posts.read;
            proxy_pass     http://%%ECHO%%;
        }
    }
}

EOF

$t->run->plan(124);

###############################################################################

my $json = JSON::PP->new->canonical;
my $k1 = Crypt::PK::RSA->new("$kd/k1.pub");
my $k2 = Crypt::PK::RSA->new("$kd/k2.pub");
my @iss = ('--iss', 'https://manager.local', '--aud', 'api.local');

# --help, and bad arguments: exit 2, a message, nothing on stdout

my ($rc, $out, $err) = cli('--help');
is($rc, 0, '--help: exit 0');
like($out, qr/^usage: authz-mint --key PRIVATE\.pem/, '--help: usage');
is($err, '', '--help: nothing on stderr');

for (
    [['--bogus'], qr/unknown option "--bogus"/, 'unknown option'],
    [['--key', "$kd/k1.key", '--ttl', '5x'], qr/bad --ttl "5x"/, 'bad --ttl'],
    [['--key', "$kd/k1.key", '--ttl', '-5m'], qr/--ttl/, 'negative --ttl'],
    [['--key', "$kd/k1.key", '--claim', 'plan'], qr/bad --claim "plan"/,
        '--claim without ='],
    [['--key', "$kd/k1.key", '--json', '[1, 2]'], qr/not a JSON object/,
        '--json array'],
    [['--key', "$kd/k1.key", '--json', '{"a":'], qr/--json/,
        '--json not JSON'],
    [['--key', "$kd/k1.key", '--exp', 'soon'], qr/bad --exp "soon"/,
        'bad --exp'],
    [['--key', "$kd/k1.key", '--sub', 'a', '--sub', 'b'],
        qr/"--sub" is given more than once/, '--sub twice'],
    [['--key'], qr/"--key" requires a value/, '--key without a value'],
    [[], qr/either --key or --jwks is required/, 'no arguments'],
    [['--jwks', "$kd/k1.pub", '--kid', 'a', '--kid', 'b'],
        qr/one --kid per --jwks/, 'two --kid for one --jwks'],
)
{
    my ($args, $re, $name) = @$_;
    ($rc, $out, $err) = cli(@$args);
    is($rc, 2, "$name: exit 2");
    like($err, qr/^authz-mint: .*$re/s, "$name: message") or diag($err);
    is($out, '', "$name: no output");
}

# unsuitable keys: exit 1, a message naming the file, no key material

my $orc = system('openssl', 'pkey', '-in', "$kd/k1.key", '-aes256',
    '-passout', 'pass:secret', '-out', $t->testdir . '/enc.key');

for (
    [['--key', $t->testdir . '/none.pem'], qr/No such file/, 'missing key'],
    [['--key', "$kd/ec.key"], qr/not an RSA key/, 'EC key'],
    [['--key', "$kd/k1.pub"], qr/not a private key/, 'public key'],
    [['--key', $t->testdir . '/enc.key'], qr/no unencrypted PEM key/,
        'encrypted key'],
    [['--jwks', "$kd/ec.pub"], qr/not an RSA key/, 'EC key for --jwks'],
    [['--jwks', $t->testdir . '/none.pem'], qr/No such file/,
        'missing key for --jwks'],
)
{
    my ($args, $re, $name) = @$_;
    ($rc, $out, $err) = cli(@$args);
    is($rc, 1, "$name: exit 1");
    like($err, qr/^authz-mint: \Q$args->[1]\E: .*$re/, "$name: message")
        or diag($err);
    ok($out eq '' && $err !~ /BEGIN|[A-Za-z0-9+\/]{40}/, "$name: no key")
        or diag("encrypting k1.key: exit $orc");
}

# a token, checked with Crypt::JWT

my $now = time;
my $token = mint_cli('--key', "$kd/k1.key", '--kid', 'dev-1', @iss,
    '--sub', 'alice', '--tenant', 'acme', '--ttl', '2h',
    '--perm', 'blog:posts.update', '--perm', 'blog:posts.read',
    '--perm', 'billing:invoices.read:own',
    '--service', 'blog', '--service', 'chatbot=false', '--service', 'billing',
    '--role', 'role_editor', '--role', 'role_viewer');

like($token, qr/^[\w-]+\.[\w-]+\.[\w-]+$/, 'token: compact JWS');

my ($h, $c) = eval { decode_jwt(token => $token, key => $k1,
    decode_header => 1, verify_exp => 1) };
ok($c, 'token: verifies with the public key') or diag($@);
$h //= {};
$c //= {};

is_deeply($h, { alg => 'RS256', kid => 'dev-1', typ => 'JWT' },
    'token: header');
is(JSON::PP->new->decode(b64url_decode((split /\./, $token)[0]))->{kid},
    'dev-1', 'token: kid header');
is(b64url_decode((split /\./, $token)[0]),
    '{"alg":"RS256","kid":"dev-1","typ":"JWT"}', 'token: header text');
is("$c->{iss} $c->{aud} $c->{sub} $c->{tid}",
    'https://manager.local api.local alice acme', 'token: iss aud sub tid');
ok(abs($c->{iat} - $now) <= 5, 'token: iat now');
is($c->{nbf}, $c->{iat}, 'token: nbf = iat');
is($c->{exp} - $c->{iat}, 7200, 'token: exp = iat + ttl');
like($c->{jti}, qr/^[0-9a-f]{32}$/, 'token: jti 16 bytes in hex');
is_deeply($c->{permissions},
    ['blog:posts.update', 'blog:posts.read', 'billing:invoices.read:own'],
    'token: permissions in command line order');
is($json->encode($c->{services}), '{"billing":{"enabled":true},'
    . '"blog":{"enabled":true},"chatbot":{"enabled":false}}',
    'token: services object, booleans');
is_deeply($c->{roles}, ['role_editor', 'role_viewer'], 'token: roles');
is(join(' ', sort keys %$c),
    'aud exp iat iss jti nbf permissions roles services sub tid',
    'token: claims');

# defaults and options

$c = claims('--key', "$kd/k1.key");
is(join(' ', sort keys %$c), 'exp iat jti nbf permissions services',
    'default: claims');
is($c->{exp} - $c->{iat}, 900, 'default: ttl 15m');
is($json->encode([$c->{permissions}, $c->{services}]), '[[],{}]',
    'default: empty permissions and services');
is(header('--key', "$kd/k1.key")->{kid}, undef, 'default: no kid');
isnt(claims('--key', "$kd/k1.key")->{jti}, $c->{jti}, 'default: jti random');

$c = claims('--key', "$kd/k1.key", '--aud', 'a', '--aud', 'b');
is_deeply($c->{aud}, ['a', 'b'], '--aud twice: array');

$c = claims('--key', "$kd/k1.key", '--tenant-claim', 'org', '--tenant', 'x');
is(($c->{org} // '') . ':' . ($c->{tid} // 'none'), 'x:none', '--tenant-claim');

$c = claims('--key', "$kd/k1.key", '--claim', 'plan=123', '--claim',
    'exp=456');
is($json->encode([$c->{plan}, $c->{exp}]), '["123","456"]',
    '--claim: strings, registered claims replaced');

$c = claims('--key', "$kd/k1.key", '--json',
    '{"n":1.5,"b":true,"o":{"x":[1,null]},"permissions":"a b"}');
is($json->encode([@$c{qw(n b o permissions)}]),
    '[1.5,true,{"x":[1,null]},"a b"]', '--json: types kept');

$c = claims('--key', "$kd/k1.key", '--unset', 'permissions', '--no-exp',
    '--unset', 'jti');
is(join(' ', sort keys %$c), 'iat nbf services', '--unset, --no-exp');

$c = claims('--key', "$kd/k1.key", '--iat', '1795320000', '--nbf', '+1h',
    '--exp', '-5m', '--jti', 'abc');
$now = time;
is($c->{iat}, 1795320000, '--iat epoch');
ok(abs($c->{nbf} - $now - 3600) <= 5, '--nbf +1h');
ok(abs($c->{exp} - $now + 300) <= 5, '--exp -5m');
is($c->{jti}, 'abc', '--jti');

$c = claims('--key', "$kd/k1.key", '--claim', 'x=1', '--unset', 'x',
    '--json', '{"x":2}');
is($c->{x}, 2, 'command line order: the last one wins');

($h, $c) = eval { decode_jwt(token => mint_cli('--key', "$kd/k1.key",
    '--alg', 'RS384', '--sub', 'x'), key => $k1, decode_header => 1) };
is(($h // {})->{alg} . ' ' . ($c // {})->{sub}, 'RS384 x', '--alg RS384');

$c = claims('--key', "$kd/k1.key", '--sub=alice', '--perm=a:b');
is("$c->{sub} @{ $c->{permissions} }", 'alice a:b', '--option=value');

# the JWKS

my $jwks_text = mint_cli('--jwks', "$kd/k1.pub", '--kid', 'dev-1');
unlike($jwks_text, qr/\n/, 'jwks: one line');
my $jwks = eval { decode_json($jwks_text) } // {};
my $jwk = $jwks->{keys}[0] // {};
my $ref = $k1->export_key_jwk('public', 1);

is(scalar @{ $jwks->{keys} // [] }, 1, 'jwks: one key');
is(join(' ', map { "$_=" . ($jwk->{$_} // '') } qw(kty use alg kid)),
    'kty=RSA use=sig alg=RS256 kid=dev-1', 'jwks: members');
ok($jwk->{n} eq $ref->{n} && $jwk->{e} eq $ref->{e}, 'jwks: n and e');
unlike($jwk->{n} . $jwk->{e}, qr/[=+\/]/, 'jwks: base64url without padding');

my $tok1 = mint_cli('--key', "$kd/k1.key", '--kid', 'dev-1', @iss,
    '--sub', 'bob', '--tenant', 'acme');

$c = eval { decode_jwt(token => $tok1, kid_keys => $jwks_text) };
is(($c // {})->{sub}, 'bob', 'jwks: verifies the token (kid_keys)')
    or diag($@);
$c = eval { decode_jwt(token => $tok1, kid_keys => $jwks) };
is(($c // {})->{sub}, 'bob', 'jwks: verifies the token (decoded)');
ok(!eval { decode_jwt(token => mint_cli('--key', "$kd/k2.key", '--kid',
    'dev-1', '--sub', 'bob'), kid_keys => $jwks_text) },
    'jwks: rejects a token of another key');
ok(!eval { decode_jwt(token => mint_cli('--key', "$kd/k1.key", '--kid',
    'dev-2', '--sub', 'bob'), kid_keys => $jwks_text) },
    'jwks: rejects an unknown kid');

$jwk = eval { decode_json(mint_cli('--jwks', "$kd/k1.key"))->{keys}[0] } // {};
is(join(' ', sort keys %$jwk), 'alg e kty n use',
    'jwks of a private key: public members, no kid');
is($jwk->{n}, $ref->{n}, 'jwks of a private key: n');

for my $f (qw(k1.rsapub k1.crt)) {
    $jwk = eval { decode_json(mint_cli('--jwks', "$kd/$f"))->{keys}[0] } // {};
    is($jwk->{n}, $ref->{n}, "jwks of $f");
}

$jwks = eval { decode_json(mint_cli('--jwks', "$kd/k1.pub", '--jwks',
    "$kd/k2.pub", '--kid', 'a', '--kid', 'b', '--alg', 'RS512')) } // {};
is(join(' ', map { "$_->{kid}:$_->{alg}" } @{ $jwks->{keys} // [] }),
    'a:RS512 b:RS512', 'jwks: two keys, kids in order, --alg');
is(($jwks->{keys}[1] // {})->{n}, $k2->export_key_jwk('public', 1)->{n},
    'jwks: the second key');

($rc, $out) = cli('--jwks', "$kd/weak.pub");
is($rc, 0, 'jwks: key size not checked');

# the module accepts the JWKS and the tokens

my @svc = ('--service', 'blog', '--service', 'chatbot=false',
    '--service', 'billing');

my $r = $t->get('/blog/1', token => mint_cli('--key', "$kd/k1.key",
    '--kid', 'dev-1', @iss, '--sub', 'alice', '--tenant', 'acme',
    '--perm', 'blog:posts.update', '--perm', 'blog:posts.read',
    '--perm', 'blog:posts.update', '--role', 'role_x', @svc));
my $e = parse_echo($r);
is($r->{status}, 200, 'module: token of authz-mint accepted');
is($e->{'x-user-id'}, 'alice', 'module: X-User-Id');
is($e->{'x-tenant-id'}, 'acme', 'module: X-Tenant-Id');
is($e->{'x-user-permissions'}, 'blog:posts.update,blog:posts.read',
    'module: X-User-Permissions in order, duplicates removed');
is($e->{'x-user-services'}, 'billing,blog', 'module: X-User-Services');

is(st(mint_cli('--key', "$kd/k2.key", '--kid', 'dev-2', @iss, '--sub', 'b',
    '--tenant', 'acme')), 200, 'module: second key of the JWKS');
is(st(mint(iss => 'https://manager.local', aud => 'api.local',
    _kid => 'dev-1')), 200, 'module: Crypt::JWT token, same JWKS');
is(st(mint_cli('--key', "$kd/k1.key", @iss, '--sub', 'b', '--tenant', 'a')),
    200, 'module: token without kid');
is(st(mint_cli('--key', "$kd/k1.key", '--kid', 'dev-1', @iss,
    '--aud', 'api.other', '--sub', 'b', '--tenant', 'a')), 200,
    'module: aud array');

$e = parse_echo($t->get('/', token => mint_cli('--key', "$kd/k1.key",
    '--kid', 'dev-1', @iss, '--sub', 'b', '--tenant', 'a',
    '--json', '{"permissions":"blog:posts.read blog:posts.update"}')));
is($e->{'x-user-permissions'}, 'blog:posts.read,blog:posts.update',
    'module: permissions as a string');

$e = parse_echo($t->get('/', token => mint_cli('--key', "$kd/k1.key",
    '--kid', 'dev-1', @iss, '--sub', 'b', '--tenant', 'a',
    '--unset', 'permissions')));
is($e->{'x-user-id'} . '/' . $e->{'x-user-permissions'}, 'b/',
    'module: no permissions claim');

my @base = ('--key', "$kd/k1.key", '--kid', 'dev-1', @iss, '--sub', 'b',
    '--tenant', 'a');

invalid([@base, '--exp', '-5m'], 'token expired');
invalid([@base, '--nbf', '+1h'], 'token not yet valid');
invalid([@base, '--iat', '+1h', '--nbf', '-1m'],
    'token issued in the future');
invalid([@base, '--no-exp'], 'token has no expiry');
invalid([@base, '--alg', 'RS384'], 'algorithm not allowed');
invalid([@base, '--claim', 'exp=1795320000'], 'invalid claim');
# an item "a,b" is ignored (SPEC 1); a claim of the wrong shape is invalid
invalid([@base, '--json', '{"permissions":7}'], 'invalid claim');
invalid([@base, '--json', '{"services":[1]}'], 'invalid claim');
invalid(['--key', "$kd/k2.key", '--kid', 'dev-1', @iss, '--sub', 'b',
    '--tenant', 'a'], 'signature verification failed');
invalid(['--key', "$kd/k1.key", '--kid', 'dev-3', @iss, '--sub', 'b',
    '--tenant', 'a'], 'unknown key id');
invalid(['--key', "$kd/k1.key", '--kid', 'dev-1', '--iss', 'x',
    '--aud', 'api.local', '--sub', 'b', '--tenant', 'a'],
    'issuer not accepted');

is($t->get('/blog/1', token => mint_cli(@base, '--perm', 'blog:posts.read',
    '--service', 'blog=false'))->{status}, 403, 'module: service false');

###############################################################################

# runs authz-mint: (exit status, stdout, stderr)
sub cli {
    my (@args) = @_;

    my $d = $t->testdir;
    STDOUT->flush;
    STDERR->flush;

    my $pid = fork // die "fork: $!";
    unless ($pid) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', "$d/cli.out" or POSIX::_exit(126);
        open STDERR, '>', "$d/cli.err" or POSIX::_exit(126);
        exec { $MINT } $MINT, @args or POSIX::_exit(127);
    }
    waitpid $pid, 0;
    my $rc = $? & 127 ? 128 + ($? & 127) : $? >> 8;

    return ($rc, $t->read_file('cli.out') // '', $t->read_file('cli.err') // '');
}

sub claims {
    my $c = eval { decode_jwt(token => mint_cli(@_), key => $k1,
        verify_exp => 0, verify_nbf => 0, verify_iat => 0) };
    diag($@) unless $c;
    return $c // {};
}

sub header {
    my ($hdr) = eval { decode_jwt(token => mint_cli(@_), key => $k1,
        decode_header => 1) };
    return $hdr // {};
}

sub st {
    my ($token) = @_;
    return $t->get('/', token => $token)->{status};
}

sub invalid {
    my ($args, $reason) = @_;

    my $r = $t->get('/', token => mint_cli(@$args));
    is("$r->{status} " . ($r->{headers}{'www-authenticate'} // ''),
        '401 Bearer realm="api", error="invalid_token", '
        . "error_description=\"$reason\"",
        "module: $reason (@$args[4 .. $#$args])");
}

###############################################################################
