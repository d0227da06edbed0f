#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for authz_tenant: the tenant a request addresses, from a header,
# an argument or a regex capture, must equal the token's tenant; an
# empty value denies; authz_tenant_bypass is matched exactly; the client's
# X-Tenant-Id is replaced upstream; authz_deny_status 404.

###############################################################################

use warnings;
use strict;

use Test::More;

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);

###############################################################################

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

        authz on;
        authz_key_file %%KEYDIR%%/k1.pub kid=k1;
        authz_issuer https://issuer.test;
        authz_audience api.test;
        authz_tenant_bypass platform:tenants.any;

        add_header X-Authz-Error $authz_error always;

        location /h/ {
            authz_tenant $http_x_tenant_id;
            proxy_pass http://%%ECHO%%;
        }

        location /a/ {
            authz_tenant $arg_tenant;
            proxy_pass http://%%ECHO%%;
        }

        location ~ ^/t/(?<tenant>[^/]+)/ {
            authz_tenant $tenant;
            proxy_pass http://%%ECHO%%;
        }

        location /n/ {
            authz_tenant $http_x_tenant_id;
            authz_deny_status 404;
            authz_rule GET /n/x     public;
            authz_rule GET /n/admin admin:users.read;
            proxy_pass http://%%ECHO%%;
        }
    }
}

EOF

$t->run->plan(62);

###############################################################################

my $acme = mint();
my $globex = cli('--sub', 'dave', '--tenant', 'globex');

# tenant from a header

my $r = h('/h/x', $acme, 'acme');
is($r->{status}, 200, 'header same tenant');
is(parse_echo($r)->{'x-tenant-id'}, 'acme', 'header same tenant upstream');
ok(!exists $r->{headers}{'x-authz-error'}, 'header same tenant no error');

$r = h('/h/x', $acme, 'globex');
is($r->{status}, 403, 'header other tenant');
is($r->{headers}{'x-authz-error'}, 'tenant_mismatch',
    'header other tenant error variable');
like($r->{body},
    qr/^\{"error":"tenant_mismatch","error_description":"[^"]+"\}$/,
    'header other tenant body');
ok(!exists $r->{headers}{'www-authenticate'},
    'header other tenant no challenge');
unlike($r->{body}, qr/uri=/, 'header other tenant not upstream');

is(err(h('/h/x', $acme)), '403 tenant_mismatch', 'header missing');
is(err(h('/h/x', $acme, '')), '403 tenant_mismatch', 'header empty');
is(err(h('/h/x', $acme, 'ACME')), '403 tenant_mismatch', 'header case');
is(err(h('/h/x', $acme, 'acme,globex')), '403 tenant_mismatch',
    'header list');
is(err(h('/h/x', $globex, 'globex')), '200', 'header globex token');
is(err(h('/h/x', $globex, 'acme')), '403 tenant_mismatch',
    'header globex token acme');
is(err($t->get('/h/x', headers => ['X-Tenant-Id' => 'acme'])),
    '401 missing_token', 'header without token');

# tenant from an argument

is(err($t->get('/a/x?tenant=acme', token => $acme)), '200', 'arg same tenant');
is(err($t->get('/a/x?tenant=globex', token => $acme)), '403 tenant_mismatch',
    'arg other tenant');
is(err($t->get('/a/x', token => $acme)), '403 tenant_mismatch', 'arg missing');
is(err($t->get('/a/x?tenant=', token => $acme)), '403 tenant_mismatch',
    'arg empty');
is(err($t->get('/a/x?tenant=globex&tenant=acme', token => $acme)),
    '403 tenant_mismatch', 'arg first of two');
is(err($t->get('/a/x?tenant=acme', token => $acme,
    headers => ['X-Tenant-Id' => 'globex'])), '200', 'arg ignores header');

# tenant from a regex capture

$r = $t->get('/t/acme/x', token => $acme);
is($r->{status}, 200, 'capture same tenant');
is(parse_echo($r)->{uri}, '/t/acme/x', 'capture same tenant upstream');
is(err($t->get('/t/globex/x', token => $acme)), '403 tenant_mismatch',
    'capture other tenant');
is(err($t->get('/t/%61cme/x', token => $acme)), '200', 'capture decoded');
is(err($t->get('/t/acme%2F..%2Fglobex/x', token => $acme)),
    '403 tenant_mismatch', 'capture encoded traversal');
is(err($t->get('/t/globex/../acme/x', token => $acme)), '200',
    'capture after dot segments');
is(err($t->get('/t/acme/x', token => $globex)), '403 tenant_mismatch',
    'capture globex token');

# authz_tenant_bypass: only the exact permission

my $ops = cli('--perm', 'platform:tenants.any');

$r = h('/h/x', $ops, 'globex');
is($r->{status}, 200, 'bypass header');
is(parse_echo($r)->{'x-tenant-id'}, 'acme',
    'bypass upstream gets the token tenant');
is(err($t->get('/a/x?tenant=globex', token => $ops)), '200', 'bypass arg');
is(err($t->get('/t/globex/x', token => $ops)), '200', 'bypass capture');
is(err(h('/h/x', $ops)), '403 tenant_mismatch', 'bypass with no tenant');
is(err(h('/h/x', $ops, '')), '403 tenant_mismatch', 'bypass empty tenant');
is(err(h('/h/x', mint(permissions => ['platform:tenants.any']), 'globex')),
    '200', 'bypass crypt-jwt token');

is(err(h('/h/x', mint(permissions => ['*']), 'globex')),
    '403 tenant_mismatch', 'star no bypass');
is(err(h('/h/x', mint(permissions => ['platform:*']), 'globex')),
    '403 tenant_mismatch', 'service wildcard no bypass');
is(err(h('/h/x', mint(permissions => ['platform:tenants.*']), 'globex')),
    '403 tenant_mismatch', 'resource wildcard no bypass');
is(err(h('/h/x', cli('--perm', 'platform:tenants.any.x'), 'globex')),
    '403 tenant_mismatch', 'longer permission no bypass');
is(err(h('/h/x', cli('--perm', 'PLATFORM:TENANTS.ANY'), 'globex')),
    '403 tenant_mismatch', 'upper case no bypass');

# the client's X-Tenant-Id is checked, then replaced upstream

$r = h('/h/x', $acme, 'acme');
is(parse_echo($r)->{'x-tenant-id'}, 'acme', 'client header seen');

$r = $t->get('/h/x', token => $acme, headers => [
    'X-Tenant-Id' => 'acme', 'X-Tenant-Id' => 'globex']);
is(parse_echo($r)->{'x-tenant-id'} // $r->{status}, 'acme',
    'second client header not forwarded');

$r = $t->get('/t/acme/x', token => $acme,
    headers => ['X-Tenant-Id' => 'globex']);
is(parse_echo($r)->{'x-tenant-id'}, 'acme', 'spoofed header replaced');

# authz_deny_status 404

$r = h('/n/x', $acme, 'globex');
is($r->{status}, 404, 'deny 404 tenant mismatch');
like($r->{headers}{'content-type'}, qr{^text/html}, 'deny 404 html');
unlike($r->{body}, qr/"error"|tenant|uri=/, 'deny 404 plain body');
ok(!exists $r->{headers}{'www-authenticate'}, 'deny 404 no challenge');
is($r->{headers}{'x-authz-error'}, 'tenant_mismatch',
    'deny 404 error variable');
like($r->{body}, qr{<title>404 Not Found</title>}, 'deny 404 nginx page');
is(err(h('/n/x', $acme)), '404', 'deny 404 empty tenant');
is(err(h('/n/x', $acme, 'acme')), '200', 'deny 404 same tenant');

$r = h('/n/admin', $acme, 'acme');
is($r->{status}, 404, 'deny 404 insufficient scope');
ok(!exists $r->{headers}{'www-authenticate'},
    'deny 404 insufficient scope no challenge');
is(err(h('/n/other', $acme, 'acme')), '404', 'deny 404 no rule matched');

$r = h('/n/x', undef, 'acme');
is($r->{status}, 401, 'deny 404 missing token stays 401');
is($r->{headers}{'www-authenticate'}, 'Bearer realm="api"',
    'deny 404 missing token challenge');
like($r->{body}, qr/"error":"missing_token"/, 'deny 404 missing token body');

$r = h('/n/x', mint(exp => time() - 60), 'globex');
is($r->{status}, 401, 'deny 404 expired token stays 401');
like($r->{headers}{'www-authenticate'} // '',
    qr/error="invalid_token", error_description="token expired"/,
    'deny 404 expired token challenge');

# the log

my $log = $t->error_log(nodebug => 1);
like($log, qr/authz:\ access\ forbidden:\ tenant_mismatch\ \([^)]+\),
    \ sub:\ "alice",\ tenant:\ "acme"/x, 'mismatch logged');
like($log, qr/authz:\ access\ forbidden:\ tenant_mismatch\ \([^)]+\),
    \ sub:\ "dave",\ tenant:\ "globex"/x, 'mismatch logged globex');
unlike(join("\n", grep { /authz/ } split /\n/, $log), qr/\Q$acme\E/,
    'token not logged by the module');

###############################################################################

# a token from authz-mint (libjwt); sub alice and tenant acme by default
sub cli {
    my (@args) = @_;
    my %given = map { $_ => 1 } grep { /^--/ } @args;

    return mint_cli('--key', keydir() . '/k1.key', '--kid', 'k1',
        '--iss', 'https://issuer.test', '--aud', 'api.test',
        ($given{'--sub'} ? () : ('--sub', 'alice')),
        ($given{'--tenant'} ? () : ('--tenant', 'acme')), @args);
}

# a request with a token and an X-Tenant-Id header (if defined)
sub h {
    my ($uri, $token, $tenant) = @_;
    return $t->get($uri, token => $token,
        headers => [defined $tenant ? ('X-Tenant-Id' => $tenant) : ()]);
}

# "200", or "<status> <error>"
sub err {
    my ($r) = @_;
    my $s = $r->{status} // 'none';

    return $s if $s eq '200';

    $s .= " $1" if $r->{body} =~ /^\{"error":"([^"]+)"/;

    return $s;
}

###############################################################################
