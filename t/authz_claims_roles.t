#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for the roles claim where roles matter (SPEC 2): with authz_role
# configured the claim is read as an array, a space-separated string or
# an object whose member names are the roles (ZITADEL); invalid items
# are ignored with one info line; a wrong shape invalidates the token.
# A second instance without authz_role reads the claim because
# $authz_roles is used.

###############################################################################

use warnings;
use strict;

use Test::More;

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

    authz_role editor blog:posts.read blog:posts.update;
    authz_role viewer blog:posts.read;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        authz on;
        authz_key_file %%KEYDIR%%/k1.pub kid=k1;

        location / {
            authz_rule GET /** blog:posts.read;
            proxy_pass http://%%ECHO%%;
        }

        location /zitadel/ {
            authz_roles_claim urn:zitadel:iam:org:project:roles;
            authz_rule GET /** blog:posts.update;
            proxy_pass http://%%ECHO%%;
        }

        location /kc/ {
            authz_roles_claim /resource_access/com.example.app/roles;
            authz_rule GET /** blog:posts.update;
            proxy_pass http://%%ECHO%%;
        }
    }
}

EOF

$t->run->plan(15);

###############################################################################

# refused first: the wrong shape

my $r = $t->get('/x', token => mint(roles => 42));
is($r->{status}, 401, 'roles a number: 401');
like($t->error_log(nodebug => 1), qr/invalid claim \(roles claim has a bad shape\)[^\n]*claim: "roles"/,
    'log names the roles claim');
is($t->get('/x', token => mint(roles => ['nobody']))->{status}, 403,
    'an unknown role grants nothing');
is($t->get('/x', token => mint(roles => ['viewer,editor']))->{status}, 403,
    'a comma-joined role grants nothing');

# the array form, with an Okta group name that has a space

$r = $t->get('/x', token => mint(roles => ['Sales Team', 'viewer']));
is($r->{status}, 200, 'roles array, one invalid item');
is(parse_echo($r)->{'x-user-permissions'}, 'blog:posts.read',
    'role expanded');
like($t->error_log(nodebug => 1),
    qr/\[info\][^\n]*authz: 1 invalid item of claim "roles" ignored/,
    'info line for the dropped role');

# the string form

is($t->get('/x', token => mint(roles => 'x viewer'))->{status}, 200,
    'roles as a space-separated string');

# ZITADEL: an object of role names, under a top-level name with colons

$r = $t->get('/zitadel/x', token => mint('urn:zitadel:iam:org:project:roles'
    => { editor => { '2071' => 'acme.zitadel.cloud' }, 'bad role' => {} }));
is($r->{status}, 200, 'ZITADEL roles object');
is(parse_echo($r)->{'x-user-permissions'},
    'blog:posts.read,blog:posts.update', 'ZITADEL roles expanded');
is($t->get('/zitadel/x', token => mint('urn:zitadel:iam:org:project:roles'
    => { viewer => {} }))->{status}, 403, 'ZITADEL viewer only');

# Keycloak client roles through a JSON Pointer

is($t->get('/kc/x', token => mint(resource_access => { 'com.example.app'
    => { roles => ['editor'] } }))->{status}, 200, 'Keycloak client roles');

$t->stop;

# $authz_roles alone makes the claim matter

my $t2 = AuthzTest->new->has('module');

$t2->write_file_expand('nginx.conf', <<'EOF');

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
            add_header X-Roles $authz_roles always;
            proxy_pass http://%%ECHO%%;
        }
    }
}

EOF

$t2->run;

$r = $t2->get('/x', token => mint(roles => { a => 1, 'b c' => 2 }));
is($r->{headers}{'x-roles'}, 'a', '$authz_roles: the claim is read');
is($t2->get('/x', token => mint(roles => 42))->{status}, 401,
    '$authz_roles used: a wrong shape invalidates');

###############################################################################
