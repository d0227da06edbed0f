#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for authz_forward_permissions (all | service: only the
# permissions of the location's authz_service, plus "*" where it is a
# wildcard), the warn line when X-User-Permissions would exceed 8 KB,
# and authz_wildcards off (a "*" in a grant is a plain character).

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

    large_client_header_buffers 4 64k;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        authz on;
        authz_key_file %%KEYDIR%%/k1.pub kid=k1;
        authz_max_token_size 64k;
        authz_forward_permissions service;

        location / {
            authz_forward_permissions all;
            proxy_pass http://%%ECHO%%;
        }

        location /blog/ {
            authz_service blog;
            authz_rule GET /blog/** blog:posts.read;
            proxy_pass http://%%ECHO%%;
        }

        location /nosvc/ {
            proxy_pass http://%%ECHO%%;
        }

        location /nowild/ {
            authz_wildcards off;
            authz_service blog;
            authz_rule GET /nowild/** blog:posts.read;
            proxy_pass http://%%ECHO%%;
        }

        location /redirect/ {
            authz_service blog;
            try_files /nonexistent @named;
        }

        location @named {
            authz_service chatbot;
            proxy_pass http://%%ECHO%%;
        }
    }
}

EOF

$t->run->plan(14);

###############################################################################

my $true = JSON::PP::true;
my $svc = { blog => { enabled => $true }, chatbot => { enabled => $true } };
my @p = ('blog:posts.read', 'chatbot:slots.read', 'blog:*', 'blogx:a',
    '*', 'blog', 'https://api/blog');

my $r = $t->get('/x', token => mint(permissions => \@p, services => $svc));
is(perms($r), join(',', @p), 'all: every permission');

$r = $t->get('/blog/x', token => mint(permissions => \@p, services => $svc));
is($r->{status}, 200, 'service: allowed');
is(perms($r), 'blog:posts.read,blog:*,*', 'service: blog and "*" only');
is($t->get('/blog/x', token => mint(permissions => ['chatbot:slots.read'],
    services => $svc))->{status}, 403, 'service: denied as before');

$r = $t->get('/nosvc/x', token => mint(permissions => \@p));
is(perms($r), '', 'service without authz_service: none');

$r = $t->get('/redirect/x', token => mint(permissions => \@p,
    services => $svc));
is(perms($r), 'chatbot:slots.read,*',
    'internal redirect: the service of the named location');

# authz_wildcards off

is($t->get('/nowild/x', token => mint(permissions => ['*'],
    services => $svc))->{status}, 403, 'wildcards off: "*" grants nothing');
is($t->get('/nowild/x', token => mint(permissions => ['blog:*'],
    services => $svc))->{status}, 403,
    'wildcards off: "blog:*" grants nothing');
$r = $t->get('/nowild/x', token => mint(permissions => ['blog:posts.read',
    'blog:*', '*'], services => $svc));
is($r->{status}, 200, 'wildcards off: the exact permission');
is(perms($r), 'blog:posts.read,blog:*', 'wildcards off: "*" not forwarded');
is($t->get('/blog/x', token => mint(permissions => ['blog:*'],
    services => $svc))->{status}, 200, 'wildcards on: "blog:*" grants');

# the 8 KB warning

my @many = map { sprintf 'blog:resource%04d.read', $_ } 1 .. 400;

$r = $t->get('/x', token => mint(permissions => \@many));
is($r->{status}, 200, 'a long X-User-Permissions');
like($t->error_log(nodebug => 1),
    qr/\[warn\][^\n]*authz: X-User-Permissions is 9199 bytes, more than 8192/,
    'warn line names the size');

$r = $t->get('/blog/x', token => mint(permissions => ['blog:posts.read',
    @many[0 .. 9], map { "chatbot:r$_" } 1 .. 600], services => $svc));
is(perms($r), join(',', 'blog:posts.read', @many[0 .. 9]),
    'service: short again');

###############################################################################

sub perms {
    return parse_echo($_[0])->{'x-user-permissions'} // '';
}

###############################################################################
