#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for authz_claim_header NAME CLAIM: the claim forwarded as its own
# header (strings as they are, arrays comma-joined, objects as compact
# JSON, numbers as JSON text, nothing unsafe, empty when absent); client
# copies of NAME removed wherever the directive applies, authz off
# included, and $http_NAME read in an earlier phase forgotten; across
# internal redirects.

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

        authz_claim_header X-User-Oid oid;
        authz_claim_header X-User-Email email;
        authz_claim_header X-Groups groups;
        authz_claim_header X-Org /org/com.example/id;
        authz_claim_header X-Extra extra;

        location / {
            # $http_x_user_email read in the rewrite phase (the client's),
            # again in the content phase (the token's)
            set $early $http_x_user_email;
            proxy_set_header X-Early $early;
            proxy_set_header X-Late $http_x_user_email;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /off/ {
            authz off;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /other/ {
            authz_claim_header X-Sub-Copy sub;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /redirect/ {
            try_files /nonexistent @named;
        }

        location @named {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }
    }

    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  localhost;

        location / {
            default_type text/plain;
            return 200 "oid=$http_x_user_oid
email=$http_x_user_email
groups=$http_x_groups
org=$http_x_org
extra=$http_x_extra
subcopy=$http_x_sub_copy
early=$http_x_early
late=$http_x_late
count=$http_x_count
";
        }
    }
}

EOF

$t->run->plan(24);

###############################################################################

my $spoof = ['X-User-Oid' => 'root', 'X-User-Email' => 'evil@x',
    'x-groups' => 'admins', 'X-ORG' => 'evil', 'X-Sub-Copy' => 'root'];

# refused tokens forward nothing

my $r = $t->req('GET', '/x', headers => $spoof);
is($r->{status}, 401, 'no token: 401');
unlike($r->{body}, qr/oid=/, 'no token: not upstream');

# values

$r = $t->req('GET', '/x', headers => $spoof, token => mint(
    oid => '00000000-0000-0000-0000-000000000001',
    email => 'alice@example.com', groups => ['sales', 'eu,x', 'ops', 5],
    org => { 'com.example' => { id => 'org-7' } },
    extra => { a => [1, 'b'], c => JSON::PP::true }));
is($r->{status}, 200, 'claim headers: allowed');

my $e = parse_echo($r);
is($e->{oid}, '00000000-0000-0000-0000-000000000001', 'string claim');
is($e->{email}, 'alice@example.com', 'client copy replaced');
is($e->{groups}, 'sales,ops', 'array joined, unsafe items left out');
is($e->{org}, 'org-7', 'JSON Pointer claim');
is($e->{extra}, '{"a":[1,"b"],"c":true}', 'object as compact JSON');
is($e->{early}, 'evil@x', 'rewrite phase saw the client header');
is($e->{late}, 'alice@example.com',
    '$http_x_user_email forgotten after the change');

# absent or unsafe values: the header is sent empty

$r = $t->req('GET', '/x', headers => $spoof, token => mint(
    email => "a\r\nX-Evil: 1", groups => 'a,b', extra => 7));
$e = parse_echo($r);
is($e->{oid}, '', 'absent claim: empty, client copy gone');
is($e->{email}, '', 'CR LF: empty');
is($e->{groups}, '', 'a string with a comma: empty');
is($e->{extra}, '7', 'a number as JSON text');
is($e->{org}, '', 'JSON Pointer absent: empty');

$r = $t->get('/x', token => mint(email => "caf\x{e9}\@x"));
is(parse_echo($r)->{email}, '', 'non-ASCII: empty');

# where the directive applies, authz off included, client copies go

$r = $t->req('GET', '/off/x', headers => $spoof);
$e = parse_echo($r);
is($r->{status}, 200, 'authz off: passes');
is(join('|', @$e{qw(oid email groups org)}), '|||',
    'authz off: client copies removed');

# a location with its own list: only its names are forwarded, but client
# copies of the inherited names still go (an upstream trusts them)

$r = $t->req('GET', '/other/x', headers => $spoof, token => mint(oid => 'o1'));
$e = parse_echo($r);
is($e->{subcopy}, 'alice', 'own list: sub forwarded');
is($e->{oid}, '', 'own list: inherited names not set, client copies removed');

# an internal redirect

$r = $t->req('GET', '/redirect/x', headers => $spoof,
    token => mint(oid => 'o2', email => 'b@example.com'));
$e = parse_echo($r);
is($r->{status}, 200, 'internal redirect');
is($e->{oid}, 'o2', 'internal redirect: claim header');
is($e->{email}, 'b@example.com', 'internal redirect: client copy replaced');

# a header the client sends twice

$r = $t->req('GET', '/x', token => mint(oid => 'o3'),
    headers => ['X-User-Oid' => 'a', 'X-User-Oid' => 'b']);
is(parse_echo($r)->{oid}, 'o3', 'two client copies: both removed');

###############################################################################
