#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for internal redirects and error pages: the identity of an
# allowed request survives try_files, named locations and error_page
# redirects; a denied request's fallback gets none; error_page replaces
# the JSON body of a denial; HEAD and auth_delay.

###############################################################################

use warnings;
use strict;

use Test::More;

use Time::HiRes qw(time);

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

my $t = AuthzTest->new->has('module', 'mint');

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

        # error_page 403 = @fallback: the fallback of a denied request

        location /denied/ {
            authz on;
            authz_require blog:posts.admin;
            error_page 403 = @fallback;
            proxy_pass http://%%ECHO%%;
        }

        location /login/ {
            authz on;
            error_page 401 = @fallback;
            proxy_pass http://%%ECHO%%;
        }

        location @fallback {
            proxy_pass http://%%ECHO%%;
        }

        # try_files to a named location

        location /tf/ {
            authz on;
            root %%TESTDIR%%;
            try_files /nonexistent @backend;
        }

        location @backend {
            proxy_pass http://%%ECHO%%;
        }

        location /tf-strict/ {
            authz on;
            root %%TESTDIR%%;
            try_files /nonexistent @strict;
        }

        location @strict {
            authz on;
            authz_require blog:posts.admin;
            proxy_pass http://%%ECHO%%;
        }

        location /tf-notoken/ {
            authz on;
            authz_forward_token off;
            root %%TESTDIR%%;
            try_files /nonexistent @protected;
        }

        location @protected {
            authz on;
            proxy_pass http://%%ECHO%%;
        }

        # error_page 404 = /other from an upstream's 404

        location /nf/ {
            authz on;
            proxy_intercept_errors on;
            error_page 404 = /other/;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /other/ {
            proxy_pass http://%%ECHO%%;
        }

        location /nf-strict/ {
            authz on;
            proxy_intercept_errors on;
            error_page 404 = /strict/;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /strict/ {
            authz on;
            authz_require blog:posts.admin;
            proxy_pass http://%%ECHO%%;
        }

        # error pages for the module's own answers

        location /page/ {
            authz on;
            authz_require blog:posts.admin;
            error_page 401 /401.json;
            error_page 403 /errors/403.html;
            proxy_pass http://%%ECHO%%;
        }

        location = /401.json {
            root %%TESTDIR%%;
            types {
                application/json json;
            }
        }

        location /errors/ {
            root %%TESTDIR%%;
        }

        location /json/ {
            authz on;
            authz_require blog:posts.admin;
            proxy_pass http://%%ECHO%%;
        }

        location /delay/ {
            authz on;
            auth_delay 1s;
            proxy_pass http://%%ECHO%%;
        }
    }

    # an upstream that has nothing

    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  localhost;

        location / {
            return 404;
        }
    }
}

EOF

$t->write_file('401.json', qq({"error":"login required","see":"/login"}\n));
$t->write_file('errors/403.html', "<p>no entry</p>\n");

$t->run->plan(42);

###############################################################################

my $kd = keydir();
my @spoof = ('X-User-Id' => 'mallory', 'X-Tenant-Id' => 'evil',
    'x-user-permissions' => '*', 'X-User-Services' => 'all');

my $reader = mint(permissions => ['blog:posts.read'], services => ['blog']);
my $admin = mint_cli('--key', "$kd/k1.key", '--kid', 'k1',
    '--iss', 'https://issuer.test', '--sub', 'root', '--tenant', 'acme',
    '--perm', 'blog:posts.admin', '--service', 'blog');

# error_page 403 = @fallback: the fallback gets no identity

my $r = $t->get('/denied/x', token => $reader, headers => [@spoof]);
my $e = parse_echo($r);
is($r->{status}, 200, 'denied: fallback answers');
is($e->{uri}, '/denied/x', 'denied: fallback proxied');
is(ids($e), '|||', 'denied: no identity in fallback');

$e = parse_echo($t->get('/denied/x', token => $admin, headers => [@spoof]));
is(ids($e), 'root|acme|blog:posts.admin|blog', 'denied: allowed token');

$r = $t->get('/login/x', headers => [@spoof]);
is($r->{status}, 200, 'no token: fallback answers');
is(ids(parse_echo($r)), '|||', 'no token: no identity in fallback');

$r = $t->get('/login/x', token => mint(_kid => 'k2'), headers => [@spoof]);
is(ids(parse_echo($r)), '|||', 'invalid token: no identity in fallback');

$r = $t->get('/login/x', token => $reader, headers => [@spoof]);
is(ids(parse_echo($r)), 'alice|acme|blog:posts.read|blog',
    'login: allowed token');

# try_files /nonexistent @backend

$r = $t->get('/tf/x', token => $reader, headers => [@spoof]);
is($r->{status}, 200, 'try_files: named location');
is(ids(parse_echo($r)), 'alice|acme|blog:posts.read|blog',
    'try_files: identity forwarded');

$r = $t->get('/tf/x', token => $admin);
is(ids(parse_echo($r)), 'root|acme|blog:posts.admin|blog',
    'try_files: authz-mint token');

$r = $t->get('/tf/x', headers => [@spoof]);
is($r->{status}, 401, 'try_files: no token');
unlike($r->{body}, qr/mallory/, 'try_files: no token not proxied');

$r = $t->get('/tf-strict/x', token => $reader);
is($r->{status}, 403, 'try_files: checks of the named location');
like($r->{body}, qr/"error":"insufficient_scope"/,
    'try_files: named location json');

is(ids(parse_echo($t->get('/tf-strict/x', token => $admin))),
    'root|acme|blog:posts.admin|blog', 'try_files: named location allows');

# regression (was a bug): "authz_forward_token off" removes Authorization from the request
# in the first location; the named location (authz on) looks for the
# token again, finds none, and answers 401 missing_token to a request
# whose token was verified and allowed

$r = $t->get('/tf-notoken/x', token => $reader);
is($r->{status}, 200, 'try_files: forward_token off, protected named location');
is(ids(parse_echo($r)), 'alice|acme|blog:posts.read|blog',
    'try_files: forward_token off, identity kept');

# error_page 404 = /other/ after the upstream's 404

$r = $t->get('/nf/x', token => $reader, headers => [@spoof]);
$e = parse_echo($r);
is($r->{status}, 200, 'error_page 404: redirected');
is($e->{uri}, '/other/', 'error_page 404: other location');
is(ids($e), 'alice|acme|blog:posts.read|blog',
    'error_page 404: identity forwarded');
like($e->{authorization}, qr/^Bearer /, 'error_page 404: token forwarded');

$r = $t->get('/nf-strict/x', token => $reader);
is($r->{status}, 403, 'error_page 404: checks of the new location');
is(ids(parse_echo($t->get('/nf-strict/x', token => $admin))),
    'root|acme|blog:posts.admin|blog', 'error_page 404: new location allows');

# error_page for the module's statuses

$r = $t->get('/page/x');
is($r->{status}, 401, 'error_page 401: status');
is($r->{headers}{'www-authenticate'}, 'Bearer realm="api"',
    'error_page 401: challenge');
is($r->{body}, qq({"error":"login required","see":"/login"}\n),
    'error_page 401: body');

$r = $t->get('/page/x', token => 'a.b.c');
like($r->{headers}{'www-authenticate'}, qr/error="invalid_token"/,
    'error_page 401: invalid token challenge');
is($r->{body}, qq({"error":"login required","see":"/login"}\n),
    'error_page 401: invalid token body');

$r = $t->get('/page/x', token => $reader);
is($r->{status}, 403, 'error_page 403: status');
is($r->{headers}{'www-authenticate'}, 'Bearer realm="api", '
    . 'error="insufficient_scope", scope="blog:posts.admin"',
    'error_page 403: challenge');
is($r->{body}, "<p>no entry</p>\n", 'error_page 403: body');

# without error_page: JSON

$r = $t->get('/json/x');
is($r->{status}, 401, 'json 401');
like($r->{headers}{'content-type'}, qr{^application/json}, 'json type');
is($r->{body}, '{"error":"missing_token","error_description":'
    . '"no token was provided"}', 'json body');
is($r->{headers}{'content-length'}, length $r->{body}, 'json length');

# HEAD

$r = $t->req('HEAD', '/json/x');
ok($r->{status} == 401 && $r->{headers}{'www-authenticate'}, 'head 401');
is($r->{body}, '', 'head no body');

$r = $t->req('HEAD', '/json/x', token => $reader);
ok($r->{status} == 403 && $r->{body} eq '', 'head 403 no body');

# auth_delay

my $start = time();
$r = $t->get('/delay/x');
my $took = time() - $start;
ok($took >= 0.9, 'auth_delay delays the 401') or diag("took $took s");
ok($r->{status} == 401 && $r->{body} =~ /"error":"missing_token"/,
    'auth_delay 401 json');

$start = time();
$r = $t->get('/delay/x', token => $reader);
$took = time() - $start;
ok($r->{status} == 200 && $took < 0.9, 'auth_delay: allowed not delayed')
    or diag("$r->{status} took $took s");

###############################################################################

# the identity headers of an echo response, "|"-joined

sub ids {
    my ($e) = @_;
    return join '|', map { $e->{$_} // '' }
        qw(x-user-id x-tenant-id x-user-permissions x-user-services);
}

###############################################################################
