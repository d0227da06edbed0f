#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for authz_token_type (the JOSE "typ", RFC 7515 4.1.9: compared
# case-insensitively, an "application/" prefix ignored; a token without
# "typ" fails where the directive is set; "at+jwt" is RFC 9068), and
# for the variables $authz_alg, $authz_typ and $authz_iat, also read in
# an earlier phase and across an internal redirect.

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
        authz_algorithms RS256 RS384;

        add_header X-Reason $authz_reason always;
        add_header X-Vars "$authz_alg|$authz_typ|$authz_iat" always;

        location / {
            proxy_pass http://%%ECHO%%;
        }

        location /at/ {
            authz_token_type at+jwt;

            # read in the rewrite phase, before the access phase
            set $early "$authz_typ|$authz_alg";
            proxy_pass http://%%ECHO%%/early?e=$early&;
        }

        location /two/ {
            authz_token_type application/at+jwt JWT;
            proxy_pass http://%%ECHO%%;
        }

        location /redirect/ {
            authz_token_type at+jwt;
            try_files /nonexistent @named;
        }

        location @named {
            authz_token_type at+jwt;
            proxy_pass http://%%ECHO%%;
        }
    }
}

EOF

$t->run->plan(21);

###############################################################################

# refused first: no typ, another typ, typ not a string

my $r = $t->get('/at/x', token => mint(_header => { typ => undef }));
is($r->{status}, 401, 'no typ refused');
like($r->{headers}{'www-authenticate'},
    qr/error_description="token type not accepted"/, 'no typ: the reason');

$r = $t->get('/at/x', token => mint());
is($r->{status}, 401, 'typ JWT refused where at+jwt is required');
like($t->error_log(nodebug => 1),
    qr/token type not accepted \("typ" not accepted\).*, typ: "JWT" expected "at\+jwt"/,
    'log: the refused typ and the expected one');

is(status('/at/x', mint(_header => { typ => 'jwt+at' })), 401,
    'typ jwt+at refused');
is(status('/at/x', mint(_header => { typ => 'application/' })), 401,
    'typ "application/" alone refused');
is(status('/at/x', mint(_header => { typ => 'at+jwtx' })), 401,
    'typ at+jwtx refused');
is(status('/at/x', mint(_header => { typ => 7 })), 401,
    'typ a number refused');

# accepted

$r = $t->get('/at/x', token => mint(_header => { typ => 'at+jwt' }));
is($r->{status}, 200, 'typ at+jwt');
is(parse_echo($r)->{args}, 'e=at+jwt|RS256&',
    '$authz_typ and $authz_alg read in the rewrite phase');
is(status('/at/x', mint(_header => { typ => 'AT+JWT' })), 200,
    'typ AT+JWT: case-insensitive');
is(status('/at/x', mint(_header => { typ => 'application/at+jwt' })), 200,
    'typ application/at+jwt');
is(status('/at/x', mint(_header => { typ => 'Application/AT+jwt' })), 200,
    'typ Application/AT+jwt');
is(status('/two/x', mint(_header => { typ => 'at+jwt' })), 200,
    'configured with the prefix, token without');
is(status('/two/x', mint()), 200, 'second accepted type');
is(status('/two/x', mint(_header => { typ => 'dpop+jwt' })), 401,
    'neither accepted type');

# without authz_token_type any typ, or none, is fine

is(status('/x', mint(_header => { typ => undef })), 200,
    'no authz_token_type: no typ fine');

# the variables

my $iat = time - 5;
$r = $t->get('/x', token => mint(_alg => 'RS384', iat => $iat,
    _header => { typ => 'at+jwt' }));
is($r->{headers}{'x-vars'}, "RS384|at+jwt|$iat",
    '$authz_alg, $authz_typ, $authz_iat');
$r = $t->get('/x', token => mint(iat => 1.5e9 + 0.75,
    _header => { typ => undef }));
is($r->{headers}{'x-vars'}, 'RS256||1500000000',
    'no typ: empty $authz_typ; a fractional iat truncated');

# an internal redirect evaluates again under the named location

is(status('/redirect/x', mint(_header => { typ => 'at+jwt' })), 200,
    'internal redirect, at+jwt');
is(status('/redirect/x', mint()), 401, 'internal redirect, JWT refused');

###############################################################################

sub status {
    my ($uri, $token) = @_;
    return $t->get($uri, token => $token)->{status};
}

###############################################################################
