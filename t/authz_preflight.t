#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for authz_bypass_preflight: a CORS preflight (OPTIONS with Origin
# and Access-Control-Request-Method) passes without a token, as an
# anonymous request; client identity headers are still removed and none
# are set, whatever token comes along; anything else is not a preflight.

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

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        authz on;
        authz_key_file %%KEYDIR%%/k1.pub kid=k1;
        authz_bypass_preflight on;

        add_header X-Result $authz_result always;

        location / {
            authz_rule * /** blog:posts.read;
            proxy_pass http://%%ECHO%%;
        }

        location /strict/ {
            authz_bypass_preflight off;
            proxy_pass http://%%ECHO%%;
        }

        location /redirect/ {
            try_files /nonexistent @named;
        }

        location @named {
            proxy_pass http://%%ECHO%%;
        }
    }
}

EOF

$t->run->plan(16);

###############################################################################

my @cors = (Origin => 'https://app.example.com',
    'Access-Control-Request-Method' => 'PUT');
my @spoof = ('X-User-Id' => 'root', 'X-User-Permissions' => '*');

# not a preflight: refused

is($t->req('OPTIONS', '/x', headers => [@spoof])->{status}, 401,
    'OPTIONS without Origin');
is($t->req('OPTIONS', '/x', headers => [Origin => 'https://a'])->{status},
    401, 'OPTIONS with Origin only');
is($t->req('OPTIONS', '/x', headers => ['Access-Control-Request-Method'
    => 'PUT'])->{status}, 401, 'OPTIONS with the method only');
is($t->req('GET', '/x', headers => [@cors])->{status}, 401,
    'GET with the CORS headers');
is($t->req('OPTIONS', '/x', headers => [Origin => '',
    'Access-Control-Request-Method' => 'PUT'])->{status}, 401,
    'OPTIONS with an empty Origin');
is($t->req('OPTIONS', '/strict/x', headers => [@cors])->{status}, 401,
    'authz_bypass_preflight off');

# a preflight

my $r = $t->req('OPTIONS', '/x', headers => [@cors, @spoof]);
is($r->{status}, 200, 'preflight passes without a token');
is($r->{headers}{'x-result'}, 'anonymous', 'preflight: anonymous');

my $e = parse_echo($r);
is($e->{method}, 'OPTIONS', 'preflight reached the upstream');
is($e->{'x-user-id'} . '|' . $e->{'x-user-permissions'}, '|',
    'preflight: client identity headers removed');

$r = $t->req('OPTIONS', '/x', headers => [@cors, @spoof],
    token => mint(permissions => ['blog:posts.read']));
$e = parse_echo($r);
is($r->{status}, 200, 'preflight with a token');
is($e->{'x-user-id'}, '', 'preflight with a token: no identity set');

$r = $t->req('OPTIONS', '/x', headers => [@cors], token => 'garbage');
is($r->{status}, 200, 'preflight with an invalid token: not looked at');

# an internal redirect

$r = $t->req('OPTIONS', '/redirect/x', headers => [@cors, @spoof]);
is($r->{status}, 200, 'preflight, internal redirect');
is(parse_echo($r)->{'x-user-id'}, '',
    'preflight, internal redirect: nothing forwarded');

# a normal request still needs its token

is($t->get('/x', token => mint(permissions => ['blog:posts.read']))
    ->{status}, 200, 'GET with a token');

###############################################################################
