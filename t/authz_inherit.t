#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for configuration inheritance: http, server, location and nested
# locations.  Scalars are inherited unless set; lists (authz_issuer,
# authz_key_file, authz_require) are inherited only by a level that has
# none of its own, and a level's own list replaces the inherited one.

###############################################################################

use warnings;
use strict;

use Test::More;

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

    authz           on;
    authz_realm     "top";
    authz_key_file  %%KEYDIR%%/k1.pub kid=k1;
    authz_issuer    https://issuer.test https://old.test;

    # server level: realm and a requirement of its own

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        authz_realm    "srv";
        authz_require  blog:posts.read;

        location / {
            proxy_pass http://%%ECHO%%;
        }

        location /off/ {
            authz off;
            proxy_pass http://%%ECHO%%;
        }

        location /iss/ {
            authz_issuer https://new.test;
            proxy_pass http://%%ECHO%%;
        }

        location /key/ {
            authz_key_file %%KEYDIR%%/k2.pub kid=k2;
            proxy_pass http://%%ECHO%%;
        }

        location /req/ {
            authz_require crm:leads.read;
            proxy_pass http://%%ECHO%%;
        }

        location /nested/ {
            proxy_pass http://%%ECHO%%;

            location /nested/x/ {
                proxy_pass http://%%ECHO%%;
            }
        }

        location /outer/ {
            authz_realm    "outer";
            authz_require  crm:leads.read;
            authz_issuer   https://new.test;
            proxy_pass http://%%ECHO%%;

            location /outer/inner/ {
                proxy_pass http://%%ECHO%%;
            }

            location /outer/open/ {
                authz off;
                proxy_pass http://%%ECHO%%;
            }

            location /outer/deep/ {
                authz_realm    "deep";
                authz_require  blog:posts.read;
                proxy_pass http://%%ECHO%%;

                location /outer/deep/er/ {
                    authz optional;
                    proxy_pass http://%%ECHO%%;
                }
            }
        }
    }

    # nothing at server level: all from http

    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  localhost;

        location / {
            proxy_pass http://%%ECHO%%;
        }

        location /off/ {
            authz off;
            proxy_pass http://%%ECHO%%;
        }
    }

    # authz off and another key at server level

    server {
        listen       127.0.0.1:%%PORT_8082%%;
        server_name  localhost;

        authz           off;
        authz_key_file  %%KEYDIR%%/k2.pub kid=k2;

        location / {
            proxy_pass http://%%ECHO%%;
        }

        location /on/ {
            authz on;
            proxy_pass http://%%ECHO%%;
        }
    }
}

EOF

$t->run->plan(48);

###############################################################################

my $kd = keydir();
my @p = (permissions => ['blog:posts.read']);

# authz on at http: inherited by servers and locations

is(st('/', port => 8081), 401, 'http on: server without settings');
is(wa('/', port => 8081), 'Bearer realm="top"', 'http realm inherited');
is(st('/', port => 8081, token => mint()), 200, 'http: token accepted');
is(st('/off/', port => 8081), 200, 'location off cancels http on');
is(parse_echo($t->get('/off/', port => 8081, token => mint()))->{'x-user-id'},
    '', 'location off: no identity');

is(st('/', token => mint(@p)), 200, 'server: token accepted');
is(wa('/'), 'Bearer realm="srv"', 'server realm');
is(st('/off/'), 200, 'location off cancels server');

is(st('/', port => 8082), 200, 'server off cancels http on');
is(st('/on/', port => 8082), 401, 'location on under server off');
is(wa('/on/', port => 8082), 'Bearer realm="top"',
    'realm from http through server off');

# authz_realm at server level in a nested location

is(wa('/nested/x/'), 'Bearer realm="srv"', 'nested location realm');
is(wa('/outer/inner/'), 'Bearer realm="outer"', 'realm from outer location');
is(wa('/outer/deep/er/', token => 'x.y.z'), 'Bearer realm="deep", '
    . 'error="invalid_token", error_description="malformed token"',
    'realm of the innermost level');

# authz_issuer: http list; a location's list replaces it

is(st('/', token => mint(@p)), 200, 'issuer: first of http list');
is(st('/', token => mint(@p, iss => 'https://old.test')), 200,
    'issuer: second of http list');
is(err('/', token => mint(@p, iss => 'https://new.test')),
    'issuer not accepted', 'issuer: not in http list');

is(st('/iss/', token => mint(@p, iss => 'https://new.test')), 200,
    'issuer: location list');
is(err('/iss/', token => mint(@p)), 'issuer not accepted',
    'issuer: location list replaces http list');
is(err('/iss/', token => mint(@p, iss => 'https://old.test')),
    'issuer not accepted', 'issuer: location list replaces, second');
is(st('/outer/inner/', token => mint_cli('--key', "$kd/k1.key",
    '--kid', 'k1', '--iss', 'https://new.test', '--perm', 'crm:leads.read')),
    200, 'issuer: nested location inherits outer list');
is(err('/outer/inner/', token => mint(permissions => ['crm:leads.read'])),
    'issuer not accepted', 'issuer: nested location, http list gone');

# authz_key_file: the same

is(st('/', token => mint(@p, _key => 'k2')), 401, 'key: k2 not at http');
is(err('/', token => mint(@p, _key => 'k2')), 'unknown key id',
    'key: k2 unknown');
is(st('/key/', token => mint(@p, _key => 'k2')), 200, 'key: location key');
is(err('/key/', token => mint(@p)), 'unknown key id',
    'key: location list replaces http list');
is(err('/key/', token => mint(@p, _kid => undef)),
    'signature verification failed', 'key: k1 not tried without kid');

is(st('/on/', port => 8082, token => mint(_key => 'k2')), 200,
    'key: server list');
is(err('/on/', port => 8082, token => mint()), 'unknown key id',
    'key: server list replaces http list');
is(st('/on/', port => 8082, token => mint_cli('--key', "$kd/k2.key",
    '--kid', 'k2', '--iss', 'https://issuer.test')), 200,
    'key: server list, authz-mint token');

# authz_require: server level inherited; replaced by a location's own

is(st('/nested/x/', token => mint(@p)), 200, 'require: inherited, met');
is(st('/nested/x/', token => mint()), 403, 'require: inherited, unmet');
like(wa('/nested/x/', token => mint()), qr/scope="blog:posts\.read"$/,
    'require: inherited requirement named');
is(st('/req/', token => mint(permissions => ['crm:leads.read'])), 200,
    'require: location list replaces server list');
like(wa('/req/', token => mint(@p)), qr/scope="crm:leads\.read"$/,
    'require: location requirement only');
is(st('/', port => 8081, token => mint()), 200,
    'require: none in another server');

# nested locations

is(st('/outer/inner/', token => mint(iss => 'https://new.test',
    permissions => ['crm:leads.read'])), 200, 'nested: outer requirement met');
like(wa('/outer/inner/', token => mint(iss => 'https://new.test', @p)),
    qr/realm="outer".*scope="crm:leads\.read"$/,
    'nested: outer requirement, not server one');
is(st('/outer/open/'), 200, 'nested: authz off');
is(parse_echo($t->get('/outer/open/', headers => ['X-User-Id' => 'mallory']))
    ->{'x-user-id'}, '', 'nested: authz off still strips');
is(st('/outer/deep/', token => mint(iss => 'https://new.test', @p)), 200,
    'nested: deep requirement replaces outer');
like(wa('/outer/deep/', token => mint(iss => 'https://new.test',
    permissions => ['crm:leads.read'])), qr/realm="deep".*scope="blog:posts\.read"$/,
    'nested: deep requirement named');
is(st('/outer/deep/er/'), 401, 'nested: optional, inherited require');
is(wa('/outer/deep/er/'), 'Bearer realm="deep"',
    'nested: optional, missing token');

# where the key must be configured: every level where the module is
# enabled and that serves requests

my ($rc, $out) = $t->nginx_t(<<'EOF');
%%TEST_GLOBALS%%
events {
}
http {
    authz on;
    server {
        listen 127.0.0.1:%%PORT_8090%%;
        location / {
            authz_key_file %%KEYDIR%%/k1.pub kid=k1;
        }
        location /b/ {
        }
    }
}
EOF

isnt($rc, 0, 'http on, a location without a key');
like($out, qr/\[emerg\].*"authz" requires "authz_key_file" in \S+nginx_t\.conf:\d+/,
    'http on, a location without a key: message');

# regression (was a bug): docs/directives.md (authz): "a key must be configured at the same
# level or above ... This also holds for authz on at the http and server
# levels"; a server without locations serves every request with its
# server-level configuration, yet "nginx -t" accepts it without any key
# (every request then gets 401)

($rc, $out) = $t->nginx_t(<<'EOF');
%%TEST_GLOBALS%%
events {
}
http {
    authz on;
    server {
        listen 127.0.0.1:%%PORT_8090%%;
        root %%TESTDIR%%;
    }
}
EOF

isnt($rc, 0, 'http on, a server without locations and without a key')
    or diag($out);

($rc, $out) = $t->nginx_t(<<'EOF');
%%TEST_GLOBALS%%
events {
}
http {
    authz_key_file %%KEYDIR%%/k1.pub kid=k1;
    server {
        listen 127.0.0.1:%%PORT_8090%%;
        location / {
            authz on;
        }
    }
}
EOF

is($rc, 0, 'location on, key at http') or diag($out);

###############################################################################

sub st {
    return $t->get(@_)->{status};
}

sub wa {
    return $t->get(@_)->{headers}{'www-authenticate'} // '';
}

# the error_description of a 401

sub err {
    my $r = $t->get(@_);
    return '' unless $r->{status} == 401;
    return ($r->{headers}{'www-authenticate'} // '')
        =~ /error_description="([^"]*)"/ ? $1 : '';
}

###############################################################################
