#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for path tricks: encoded slashes and dots, dot segments, merged
# slashes, case, ";" parameters, trailing slashes, query strings and very
# long paths get the answer their normalized path deserves, for rules
# and for {tenant} and {sub} bindings; a denied path never reaches the
# upstream.  The table of issue 9 (200 rules "/api/{tenant}/**/itemN",
# anonymous requests of 8 KB) answers right; what it costs is counted
# in t/unit/test_rules.c and measured by bench/rules.sh, not timed here.

###############################################################################

use warnings;
use strict;

use Test::More;

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);

###############################################################################

my $t = AuthzTest->new->has('module', 'mint');

$t->write_file_expand('api.conf', <<'EOF');
    authz on;
    authz_key_file %%KEYDIR%%/k1.pub kid=k1;
    authz_issuer https://issuer.test;
    authz_audience api.test;
    authz_tenant_bypass platform:tenants.any;

    location / {
        authz_rule GET /health public;
        proxy_pass http://%%ECHO%%;
    }

    location /api/ {
        authz_rule GET /api/blog/posts/*          blog:posts.read;
        authz_rule GET /api/admin/**              admin:users.read;
        authz_rule GET "/api/t/{tenant}/**"       t:items.read;
        authz_rule GET "/api/users/{sub}/drafts"  blog:drafts.read;
        proxy_pass http://%%ECHO%%;
    }
EOF

# issue 9: 200 rules of one shape under "authz optional"

$t->write_file('issue9.conf', join '', map {
    "        authz_rule GET \"/api/{tenant}/**/item$_\" blog:items.read;\n"
} 1 .. 200);

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        include %%TESTDIR%%/api.conf;
    }

    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  localhost;

        large_client_header_buffers 4 128k;

        include %%TESTDIR%%/api.conf;
    }

    server {
        listen       127.0.0.1:%%PORT_8082%%;
        server_name  localhost;

        large_client_header_buffers 4 16k;

        authz optional;
        authz_key_file %%KEYDIR%%/k1.pub kid=k1;
        authz_issuer https://issuer.test;
        authz_audience api.test;

        location /api/ {
            include %%TESTDIR%%/issue9.conf;
            authz_rule GET "/api/{tenant}/**/x/**/item201/**" blog:items.list;
            proxy_pass http://%%ECHO%%;
        }
    }
}

EOF

$t->run->plan(115);

###############################################################################

# alice of acme: may read posts, items of her tenant and her own drafts,
# not /api/admin/**

my $alice = mint(permissions =>
    ['blog:posts.read', 't:items.read', 'blog:drafts.read']);

my $bob = mint_cli('--key', keydir() . '/k1.key', '--kid', 'k1',
    '--iss', 'https://issuer.test', '--aud', 'api.test',
    '--sub', 'bob', '--tenant', 'acme',
    '--perm', 'blog:posts.read', '--perm', 'blog:drafts.read');

my $scope = '403 insufficient_scope admin:users.read';
my $none = '403 forbidden';
my $tenant = '403 tenant_mismatch';

# [ request path, answer, upstream $uri if allowed ]

my @paths = (
    ['/api/blog/posts/1', '200', '/api/blog/posts/1'],
    ['/api/admin/users', $scope],

    # encoded slashes and dots are decoded before matching
    ['/api/blog/posts%2F..%2F..%2Fadmin/x', $scope],
    ['/api/blog/posts/%2E%2E/%2E%2E/admin/x', $scope],
    ['/api/blog/posts/%2e%2e/%2e%2e/admin/x', $scope],
    ['/api/blog/posts/%2E%2E%2F%2E%2E%2Fadmin%2Fx', $scope],
    ['/api/blog/posts%2F1', '200', '/api/blog/posts/1'],
    ['/api/%61dmin/x', $scope],

    # dot segments and merged slashes
    ['/api/blog/./posts/1', '200', '/api/blog/posts/1'],
    ['/api/./admin/x', $scope],
    ['/api/blog/posts/1/../../admin/users', $none],
    ['/api/blog/posts/1/../../../admin/users', $scope],
    ['/api/blog/posts/1/../../../../api/admin/users', $scope],
    ['/api/blog/posts/1/../../../../../api/admin/users', '400'],
    ['/api//blog///posts/1', '200', '/api/blog/posts/1'],
    ['//api/admin/x', $scope],
    ['/api//admin//x', $scope],
    ['/api/blog/posts/x/../1', '200', '/api/blog/posts/1'],

    # case, ";" parameters, trailing slashes
    ['/API/admin/x', $none],
    ['/api/ADMIN/x', $none],
    ['/api/Blog/posts/1', $none],
    ['/api/admin;x=1/users', $none],
    ['/api/blog/posts/..;/..;/admin/x', $none],
    ['/api/blog/posts;x=1/1', $none],
    ['/api/blog/posts/1/', $none],
    ['/api/blog/posts/', $none],
    ['/api/admin/', $scope],

    # the query string is not part of the path
    ['/api/admin/x?/api/blog/posts/1', $scope],
    ['/api/admin/x?a=/../blog/posts/1', $scope],
    ['/api/blog/posts/1?/../../admin/x', '200', '/api/blog/posts/1'],

    # {tenant}: acme is the token's tenant
    ['/api/t/acme/x', '200', '/api/t/acme/x'],
    ['/api/t/ACME/x', $tenant],
    ['/api/t/globex/x', $tenant],
    ['/api/t/acme%2F../globex/x', $tenant],
    ['/api/t/acme/../globex/x', $tenant],
    ['/api/t/acme/%2E%2E/globex/x', $tenant],
    ['/api/t/globex/../acme/x', '200', '/api/t/acme/x'],
    ['/api/t/acme%2Fx', '200', '/api/t/acme/x'],
    ['/api/t/acme;globex/x', $tenant],

    # {sub}: alice is the token's sub
    ['/api/users/alice/drafts', '200', '/api/users/alice/drafts'],
    ['/api/users/bob/drafts', $none],
    ['/api/users/alice/../bob/drafts', $none],
    ['/api/users/alice%2F..%2Fbob/drafts', $none],
    ['/api/users/Alice/drafts', $none],
    ['/api/users/bob%2F..%2Falice/drafts', '200', '/api/users/alice/drafts'],
);

for my $p (@paths) {
    my ($path, $want, $uri) = @$p;
    my $r = $t->get($path, token => $alice);

    is(v($r), $want, "path $path");

    if (defined $uri) {
        is(parse_echo($r)->{uri}, $uri, "path $path upstream");
    } else {
        unlike($r->{body}, qr/^uri=/m, "path $path not upstream");
    }
}

# bob may read his own drafts, not alice's

is(v($t->get('/api/users/bob/drafts', token => $bob)), '200', 'own drafts');
is(v($t->get('/api/users/alice/drafts', token => $bob)), $none,
    'other drafts');

# the bypass permission passes {tenant}, a wildcard does not

my $ops = mint(permissions => ['t:items.read', 'platform:tenants.any']);
is(v($t->get('/api/t/globex/x', token => $ops)), '200', 'bypass binding');
is(v($t->get('/api/t/globex/x', token => mint(permissions => ['*']))),
    $tenant, 'star no bypass binding');
is(v($t->get('/api/users/bob/drafts', token => mint(permissions =>
    ['*', 'platform:tenants.any']))), $none, 'bypass not for sub binding');

# a nul byte is refused by nginx itself

is($t->get('/api/blog/posts/1%00/../../admin/x', token => $alice)->{status},
    400, 'encoded nul');

# very long paths: an answer, never a 5xx

my $long = '/api/blog/posts' . '/a' x 10000;
long_ok($long, 8080, qr/^(401|403|404|414)$/, 'long path default buffers');
long_ok($long, 8081, qr/^403$/, 'long path large buffers');
long_ok('/api/admin' . '/a' x 10000, 8081, qr/^403$/, 'long admin path');
long_ok('/api/' . 'a/../' x 5000 . 'admin/x', 8081, qr/^403$/,
    'long dot segments');
long_ok('/api/' . '*/' x 10000 . 'x', 8081, qr/^403$/, 'long star path');

is(v($t->get('/api/' . 'a/../' x 5000 . 'admin/x', token => $alice,
    port => 8081)), $scope, 'long dot segments resolved');

# issue 9: 8 KB paths against 200 rules, anonymous (no rule matches: 403),
# then matching the last rules: the rule's requirement (anonymous: 401)

# 8 KB in 250 segments: within the 256 segments a location with rules takes
my $a8k = ('/' . 'a' x 31) x 250;
my $reader = mint(permissions => ['blog:items.read']);

is(v($t->get("/api/acme$a8k", port => 8082)), $none, 'issue 9 path');
is(v($t->get("/api/acme$a8k/item", port => 8082)), $none,
    'issue 9 path, item');
is(v($t->get("/api/acme$a8k/item2000", port => 8082)), $none,
    'issue 9 path, item2000');
is(v($t->get("/api/acme$a8k/item200", port => 8082)), '401 missing_token',
    'issue 9 path, last rule, anonymous');
is(v($t->get("/api/acme$a8k/item200", token => $reader, port => 8082)),
    '200', 'issue 9 path, last rule, permission');
is(v($t->get("/api/globex$a8k/item7", token => $reader, port => 8082)),
    $tenant, 'issue 9 path, other tenant');
is(v($t->get("/api/acme$a8k/x/a/item201/a", token => $reader,
    port => 8082)), '403 insufficient_scope blog:items.list',
    'issue 9 path, two globstars');
is(v($t->get("/api/acme/x$a8k/item201", token => $reader, port => 8082)),
    '403 insufficient_scope blog:items.list',
    'issue 9 path, two globstars, far apart');
is(v($t->get("/api/acme/x$a8k/item2010", token => $reader, port => 8082)),
    $none, 'issue 9 path, two globstars, no block');

# more than 256 segments: refused before the table is tried, in any
# location with rules; 256 are taken

my $seg = sub { '/api/acme' . '/a' x ($_[0] - 3) . '/item200' };
my $r = $t->get($seg->(256), token => $reader, port => 8082);
is(v($r), '200', 'path of 256 segments');
$r = $t->get($seg->(257), token => $reader, port => 8082);
is(v($r) . ' ' . ($r->{body} =~ /"error_description":"([^"]*)"/)[0],
    '403 forbidden path has too many segments', 'path of 257 segments');
$r = $t->get($seg->(257), port => 8082);
is(v($r), '403 forbidden', 'path of 257 segments, anonymous');
is(v($t->get('/api/acme' . '/a' x 3990, token => $reader, port => 8082)),
    '403 forbidden', 'issue 9 path of 3992 segments');

###############################################################################

# "200", or "<status> <error> <scope alternatives>" as far as present
sub v {
    my ($r) = @_;
    my $s = $r->{status} // 'none';

    return $s if $s eq '200';

    $s .= " $1" if $r->{body} =~ /^\{"error":"([^"]+)"/;
    $s .= " $1" if ($r->{headers}{'www-authenticate'} // '')
        =~ /scope="([^"]*)"/;

    return $s;
}

sub long_ok {
    my ($path, $port, $want, $name) = @_;

    my $r = $t->get($path, token => $alice, port => $port);

    ok(defined $r->{status} && $r->{status} =~ $want, $name)
        or diag($r->{status} // 'no answer');
}

###############################################################################
