#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for combining the module with other access modules through
# "satisfy": allow/deny of the access module and auth_basic, under
# "satisfy all" and "satisfy any".

###############################################################################

use warnings;
use strict;

use Test::More;

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);

use MIME::Base64 qw(encode_base64);

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

my $t = AuthzTest->new->has('module', 'mint');

my $hash = `openssl passwd -apr1 secret`;
chomp $hash;
plan(skip_all => 'no openssl passwd -apr1') unless $hash =~ /^\$apr1\$/;

$t->write_file('htpasswd', "bob:$hash\n");

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        authz_key_file  %%KEYDIR%%/k1.pub kid=k1;
        authz_issuer    https://issuer.test;

        add_header X-Authz-Result $authz_result always;

        location /all-allow/ {
            authz on;
            satisfy all;
            allow 127.0.0.1;
            deny all;
            proxy_pass http://%%ECHO%%;
        }

        location /any-allow-up/ {
            authz on;
            authz_require blog:posts.admin;
            satisfy any;
            allow 127.0.0.1;
            deny all;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /all-deny/ {
            authz on;
            satisfy all;
            deny all;
            proxy_pass http://%%ECHO%%;
        }

        location /any-allow/ {
            authz on;
            satisfy any;
            allow 127.0.0.1;
            deny all;
            proxy_pass http://%%ECHO%%;
        }

        location /any-deny/ {
            authz on;
            satisfy any;
            deny all;
            proxy_pass http://%%ECHO%%;
        }

        location /any-deny-require/ {
            authz on;
            authz_require blog:posts.admin;
            satisfy any;
            deny all;
            proxy_pass http://%%ECHO%%;
        }

        location /any-opt/ {
            authz optional;
            satisfy any;
            deny all;
            proxy_pass http://%%ECHO%%;
        }

        location /basic/ {
            authz on;
            authz_token $http_x_token;
            auth_basic "staff";
            auth_basic_user_file %%TESTDIR%%/htpasswd;
            satisfy all;
            proxy_pass http://%%ECHO%%;
        }

        location /basic-any/ {
            authz on;
            authz_token $http_x_token;
            auth_basic "staff";
            auth_basic_user_file %%TESTDIR%%/htpasswd;
            satisfy any;
            proxy_pass http://%%ECHO%%;
        }
    }

    # an upstream with answers of its own

    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  localhost;

        default_type text/plain;

        location /any-allow-up/401 {
            return 401 "upstream says no\n";
        }

        location /any-allow-up/403 {
            return 403 "upstream forbids\n";
        }
    }
}

EOF

$t->run->plan(49);

###############################################################################

my $kd = keydir();
my @spoof = ('X-User-Id' => 'mallory', 'x-tenant-id' => 'evil',
    'X-User-Permissions' => '*', 'X-User-Services' => 'all');

my $token = mint(permissions => ['blog:posts.read'], services => ['blog']);
my $cli = mint_cli('--key', "$kd/k1.key", '--kid', 'k1',
    '--iss', 'https://issuer.test', '--sub', 'carol', '--tenant', 'acme',
    '--perm', 'blog:posts.admin');
my $basic = 'Basic ' . encode_base64('bob:secret', '');
my $badpw = 'Basic ' . encode_base64('bob:wrong', '');

# satisfy all, allow 127.0.0.1: the token is still required

my $r = $t->get('/all-allow/', headers => [@spoof]);
is($r->{status}, 401, 'all allow: no token');
like($r->{body}, qr/"error":"missing_token"/, 'all allow: no token json');
$r = $t->get('/all-allow/', token => $token);
is($r->{status}, 200, 'all allow: token');
is(ids($r), 'alice|acme|blog:posts.read|blog', 'all allow: identity');

# satisfy all, deny all: the access module's 403

$r = $t->get('/all-deny/', token => $token);
is($r->{status}, 403, 'all deny: token');
ok(!exists $r->{headers}{'www-authenticate'}, 'all deny: no challenge');
unlike($r->{body}, qr/"error"|x-user-id/, 'all deny: not json, not proxied');

# satisfy any, allow 127.0.0.1: passes without a token, anonymous

$r = $t->get('/any-allow/', headers => [@spoof]);
is($r->{status}, 200, 'any allow: no token');
is(ids($r), '|||', 'any allow: spoofed stripped, no identity');
is($r->{headers}{'x-authz-result'}, 'deny', 'any allow: result deny');
ok(!exists $r->{headers}{'www-authenticate'}, 'any allow: no challenge');

$r = $t->get('/any-allow/', token => mint(_kid => 'k9'), headers => [@spoof]);
is($r->{status}, 200, 'any allow: invalid token');
is(ids($r), '|||', 'any allow: invalid token, no identity');

# regression (was a bug): the module's JSON denial replaces the body of an upstream
# answer that has the same status, where another module allowed the
# request ("satisfy any"): the upstream's own 401 or 403 is lost

$r = $t->get('/any-allow-up/401');
is($r->{status}, 401, 'any allow: upstream 401');
is($r->{body}, "upstream says no\n", 'any allow: upstream 401 body kept');
like($r->{headers}{'content-type'}, qr{^text/plain},
    'any allow: upstream 401 type kept');

$r = $t->get('/any-allow-up/403', token => $token);
is($r->{body}, "upstream forbids\n", 'any allow: upstream 403 body kept');

# satisfy any, deny all: the token decides

$r = $t->get('/any-deny/', token => $token, headers => [@spoof]);
is($r->{status}, 200, 'any deny: token');
is(ids($r), 'alice|acme|blog:posts.read|blog', 'any deny: identity');
is($r->{headers}{'x-authz-result'}, 'allow', 'any deny: result allow');

$r = $t->get('/any-deny/', token => $cli);
is(ids($r), 'carol|acme|blog:posts.admin|', 'any deny: authz-mint token');

$r = $t->get('/any-deny/', headers => [@spoof]);
is($r->{status}, 401, 'any deny: no token, 401 wins over 403');
is($r->{headers}{'www-authenticate'}, 'Bearer realm="api"',
    'any deny: no token challenge');
is($r->{body}, '{"error":"missing_token","error_description":'
    . '"no token was provided"}', 'any deny: no token json');

$r = $t->get('/any-deny/', token => mint(exp => time() - 60));
is($r->{status}, 401, 'any deny: expired token');
like($r->{headers}{'www-authenticate'}, qr/error_description="token expired"/,
    'any deny: expired token challenge');

$r = $t->get('/any-deny-require/', token => $token);
is($r->{status}, 403, 'any deny: insufficient scope');
like($r->{body}, qr/"error":"insufficient_scope"/,
    'any deny: insufficient scope json');
is($t->get('/any-deny-require/', token => $cli)->{status}, 200,
    'any deny: scope met');

# authz optional, satisfy any, deny all: anonymous grants nothing

$r = $t->get('/any-opt/', headers => [@spoof]);
is($r->{status}, 403, 'any optional: anonymous denied');
unlike($r->{body}, qr/mallory|x-user-id/, 'any optional: not proxied');
is($r->{headers}{'x-authz-result'}, 'anonymous', 'any optional: result');

$r = $t->get('/any-opt/', token => $token);
is($r->{status}, 200, 'any optional: token');
is(ids($r), 'alice|acme|blog:posts.read|blog', 'any optional: identity');

is($t->get('/any-opt/', token => 'x.y.z')->{status}, 401,
    'any optional: invalid token');

# auth_basic and the module, satisfy all: both are required

$r = $t->get('/basic/', headers => [Authorization => $basic,
    'X-Token' => $token, @spoof]);
is($r->{status}, 200, 'basic all: both');
is(ids($r), 'alice|acme|blog:posts.read|blog', 'basic all: identity');
is(parse_echo($r)->{authorization}, $basic, 'basic all: basic forwarded');

$r = $t->get('/basic/', headers => [Authorization => $basic]);
is($r->{status}, 401, 'basic all: password only');
like($r->{headers}{'www-authenticate'}, qr/^Bearer realm="api"/,
    'basic all: password only, bearer challenge');

$r = $t->get('/basic/', headers => ['X-Token' => $token]);
is($r->{status}, 401, 'basic all: token only');
is($r->{headers}{'www-authenticate'}, 'Basic realm="staff"',
    'basic all: token only, basic challenge');

$r = $t->get('/basic/', headers => [Authorization => $badpw,
    'X-Token' => $token]);
is($r->{status}, 401, 'basic all: wrong password');

$r = $t->get('/basic/', headers => [Authorization => $basic,
    'X-Token' => mint(_key => 'k2', _kid => 'k1')]);
is($r->{status}, 401, 'basic all: bad token');

# auth_basic and the module, satisfy any: either is enough

$r = $t->get('/basic-any/', headers => [Authorization => $basic, @spoof]);
is($r->{status}, 200, 'basic any: password only');
is(ids($r), '|||', 'basic any: password only, no identity');

$r = $t->get('/basic-any/', headers => ['X-Token' => $token]);
is(ids($r), 'alice|acme|blog:posts.read|blog', 'basic any: token only');

$r = $t->get('/basic-any/');
is($r->{status}, 401, 'basic any: neither');
like($r->{headers}{'www-authenticate'} // '',
    qr/^(?=.*Bearer realm="api")(?=.*Basic realm="staff")/,
    'basic any: neither, both challenges');

###############################################################################

# the identity headers the echo server got, "|"-joined

sub ids {
    my ($r) = @_;
    my $e = parse_echo($r);
    return join '|', map { $e->{$_} // '' }
        qw(x-user-id x-tenant-id x-user-permissions x-user-services);
}

###############################################################################
