#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for the items of permissions and roles claims (SPEC 1): an item
# that is not an OAuth 2 scope token without "," is ignored (never
# forwarded, grants nothing) with one info line naming the claim; only
# a claim of the wrong shape invalidates the token; a roles claim the
# configuration never uses (no authz_role, no $authz_roles) is never
# read.  Also several permissions claims, JSON Pointer claim names and
# the info line for a configured claim the token does not have.

###############################################################################

use warnings;
use strict;

use Test::More;
use JSON::PP ();

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);

###############################################################################

my $t = AuthzTest->new->has('module');

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
        authz_issuer https://issuer.test;
        authz_audience api.test;

        add_header X-Authz-Reason $authz_reason always;

        location / {
            proxy_pass http://%%ECHO%%;
        }

        location /blog/ {
            authz_rule GET /blog/** blog:posts.read;
            proxy_pass http://%%ECHO%%;
        }

        location /scope/ {
            authz_permissions_claim scope;
            authz_rule GET /scope/url/** https://api.local/blog.read;
            authz_rule GET /scope/cognito/** orders-api/read;
            authz_rule GET /scope/** blog:posts.read;

            # read in the rewrite phase, before the access phase
            set $early $authz_permissions;
            proxy_set_header X-Early $early;
            proxy_pass http://%%ECHO%%/early?p=$early&;
        }

        location /union/ {
            authz_permissions_claim permissions scope scp;
            proxy_pass http://%%ECHO%%;
        }

        location /kc/ {
            authz_permissions_claim resource_access.com.example.orders.roles;
            proxy_pass http://%%ECHO%%;
        }

        location /ptr/ {
            authz_permissions_claim /resource_access/com.example.orders/roles;
            authz_rule GET /ptr/** orders:read;
            proxy_pass http://%%ECHO%%;
        }

        location /tilde/ {
            authz_permissions_claim /a~1b/c~0d;
            proxy_pass http://%%ECHO%%;
        }

        location /redirect/ {
            authz_permissions_claim scope;
            authz_rule GET /redirect/** blog:posts.read;
            try_files /nonexistent @named;
        }

        location @named {
            authz_permissions_claim scope;
            proxy_pass http://%%ECHO%%;
        }
    }
}

EOF

$t->run->plan(44);

###############################################################################

# the roles claim is not used here: whatever it holds, it is never read

for my $roles (['Sales Team'], ['sales,eu'], { 'Sales Team' => {} },
    'a b,c', 42, ["\x01"])
{
    my $name = ref $roles ? JSON::PP->new->canonical->encode($roles)
        : "$roles";
    is(status('/x', mint(roles => $roles)), 200, "unused roles $name");
}

is(status('/x', mint(roles => ['sales'])), 200, 'unused roles plain');

# invalid items of an array are ignored, the rest grants

my $r = $t->get('/blog/x', token => mint(permissions => ['blog:posts.read',
    'a b', 'x,y', "c\x01", "caf\x{e9}", 'a' x 257, 5, {}, ['n'], undef,
    'blog:posts.read', 'p' x 256]));
is($r->{status}, 200, 'invalid items ignored: allowed');
is(parse_echo($r)->{'x-user-permissions'}, 'blog:posts.read,' . 'p' x 256,
    'invalid items never forwarded');
like($t->error_log, qr/\[info\].*authz: 9 invalid items of claim "permissions" ignored/,
    'one info line names the claim and the count');

is(status('/blog/x', mint(permissions => ['blog:posts.read,blog:x'])), 403,
    'a comma-joined item grants nothing');
is(status('/blog/x', mint(permissions => ['blog:posts.read blog:x'])), 403,
    'a space in an array item grants nothing');

# the wrong shape invalidates the token

$r = $t->get('/blog/x', token => mint(permissions => 42));
is($r->{status}, 401, 'permissions a number: 401');
like($r->{headers}{'www-authenticate'}, qr/error_description="invalid claim"/,
    'permissions a number: invalid claim');
like($t->error_log, qr/invalid claim \(permissions claim has a bad shape\).*claim: "permissions"/,
    'the log names the claim of the wrong shape');
is(status('/blog/x', mint(permissions => { 'blog:posts.read' => 1 })), 401,
    'permissions an object: 401');

# OAuth 2 "scope": URL-style scopes and Cognito scopes are permissions

my $scope = mint(scope => 'blog:posts.read https://api.local/blog.read');

$r = $t->get('/scope/x', token => $scope);
is($r->{status}, 200, 'scope with a URL scope');
is(parse_echo($r)->{'x-user-permissions'},
    'blog:posts.read,https://api.local/blog.read', 'scope forwarded');
is(parse_echo($r)->{args}, 'p=blog:posts.read,https://api.local/blog.read&',
    'scope read in the rewrite phase');
is(status('/scope/url/x', $scope), 200, 'a URL scope required');
is(status('/scope/url/x', mint(scope => 'blog:posts.read')), 403,
    'a URL scope missing');
is(status('/scope/cognito/x', mint(scope => 'orders-api/read')), 200,
    'a Cognito scope');
is(status('/scope/cognito/x', mint(scope => 'orders-api/write')), 403,
    'another Cognito scope');

$r = $t->get('/scope/x', token => mint(scope => "blog:posts.read a\\b q\"x"));
is($r->{status}, 200, 'scope string with invalid items');
is(parse_echo($r)->{'x-user-permissions'}, 'blog:posts.read',
    'scope string: invalid items dropped');
like($t->error_log, qr/authz: 2 invalid items of claim "scope" ignored/,
    'the log names the configured claim "scope"');

$r = $t->get('/scope/x', token => mint(scope => ['blog:posts.read']));
is($r->{status}, 200, 'scope as an array');

$r = $t->get('/scope/x', token => mint(scope => 7));
is($r->{status}, 401, 'scope a number');
like($t->error_log, qr/claim: "scope"/, 'scope a number: claim named');

# several claims: their union, in token order, duplicates removed

$r = $t->get('/union/x', token => mint(permissions => ['a:b', 'c:d'],
    scope => 'c:d e:f', scp => ['g:h', 'a:b']));
is($r->{status}, 200, 'union of three claims');
is(parse_echo($r)->{'x-user-permissions'}, 'a:b,c:d,e:f,g:h',
    'union in claim order, deduplicated');
is(status('/union/x', mint(scp => 5)), 401,
    'one claim of the wrong shape invalidates');

# a dotted name whose keys hold dots: never found, and the log says so

$r = $t->get('/kc/x', token => mint(resource_access => {
    'com.example.orders' => { roles => ['orders:read'] } }));
is($r->{status}, 200, 'dotted name through keys with dots');
is(parse_echo($r)->{'x-user-permissions'}, '', 'dotted name: nothing');
like($t->error_log,
    qr/\[info\].*authz: claim "resource_access\.com\.example\.orders\.roles" not found in the token/,
    'info line: configured claim not found');

# the JSON Pointer finds it

$r = $t->get('/ptr/x', token => mint(resource_access => {
    'com.example.orders' => { roles => ['orders:read', 'orders:write'] } }));
is($r->{status}, 200, 'JSON Pointer claim');
is(parse_echo($r)->{'x-user-permissions'}, 'orders:read,orders:write',
    'JSON Pointer claim forwarded');
is(status('/ptr/x', mint(resource_access => {
    'com.example.orders' => { roles => ['orders:write'] } })), 403,
    'JSON Pointer claim without the permission');
is(status('/ptr/x', mint(resource_access => [])), 403,
    'JSON Pointer through an array');

$r = $t->get('/tilde/x', token => mint('a/b' => { 'c~d' => ['t:1'] }));
is(parse_echo($r)->{'x-user-permissions'}, 't:1', 'JSON Pointer ~1 and ~0');

# an internal redirect keeps the identity

$r = $t->get('/redirect/x', token => $scope);
is($r->{status}, 200, 'internal redirect');
is(parse_echo($r)->{'x-user-permissions'},
    'blog:posts.read,https://api.local/blog.read',
    'internal redirect: scope forwarded');
is(status('/redirect/x', mint(scope => 'x:y')), 403,
    'internal redirect: denied before');

# a client cannot smuggle items through the header

$r = $t->req('GET', '/blog/x', token => mint(permissions => ['a b',
    'blog:posts.read']), headers => ['X-User-Permissions' => 'admin:*']);
is(parse_echo($r)->{'x-user-permissions'}, 'blog:posts.read',
    'client header replaced');

###############################################################################

sub status {
    my ($uri, $token) = @_;
    return $t->get($uri, token => $token)->{status};
}

###############################################################################
