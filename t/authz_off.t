#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for "off", which cancels an inherited authz_service,
# authz_tenant, authz_tenant_bypass, authz_token, authz_require and
# authz_condition.

###############################################################################

use warnings;
use strict;

use Test::More;

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);

###############################################################################

my $t = AuthzTest->new;

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    map $arg_ok $ok {
        default  0;
        yes      1;
    }

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        authz on;
        authz_key_file %%KEYDIR%%/k1.pub kid=k1;
        authz_token $http_x_token;
        authz_service billing;
        authz_tenant $http_x_tenant;
        authz_tenant_bypass platform:any;
        authz_require billing:invoices.read;
        authz_condition $ok;

        location /all/ {
            proxy_pass http://%%ECHO%%;
        }

        location /none/ {
            authz_token off;
            authz_service off;
            authz_tenant off;
            authz_tenant_bypass off;
            authz_require off;
            authz_condition off;
            proxy_pass http://%%ECHO%%;
        }

        location /bypass/ {
            authz_service off;
            authz_require off;
            authz_condition off;
            proxy_pass http://%%ECHO%%;
        }

        location /nobypass/ {
            authz_service off;
            authz_require off;
            authz_condition off;
            authz_tenant_bypass off;
            proxy_pass http://%%ECHO%%;
        }
    }
}

EOF

$t->run->plan(13);

###############################################################################

my $plain = mint(tid => 'acme');
my $full = mint_cli('--key', keydir() . '/k1.key', '--kid', 'k1',
    '--tenant', 'acme', '--service', 'billing',
    '--perm', 'billing:invoices.read');
my $op = mint(tid => 'platform', permissions => ['platform:any']);

# everything inherited applies

is(st('/all/?ok=yes', 'X-Token' => $full, 'X-Tenant' => 'acme'), 200,
    'all inherited checks pass');
is(st('/all/?ok=yes', 'X-Token' => $plain, 'X-Tenant' => 'acme'), 403,
    'inherited service and requirement deny');
is(st('/all/', 'X-Token' => $full, 'X-Tenant' => 'acme'), 403,
    'inherited condition denies');

# all cancelled: only a valid bearer token is needed

is(st('/none/', Authorization => "Bearer $plain"), 200,
    'everything cancelled');
is(st('/none/', 'X-Token' => $plain), 401,
    'authz_token off reads the bearer header again');
is(st('/none/', Authorization => 'Bearer x.y.z'), 401,
    'still a valid token required');

# authz_tenant_bypass off

is(st('/bypass/', 'X-Token' => $op, 'X-Tenant' => 'acme'), 200,
    'inherited bypass');
is(st('/nobypass/', 'X-Token' => $op, 'X-Tenant' => 'acme'), 403,
    'bypass cancelled');
is(st('/nobypass/', 'X-Token' => $plain, 'X-Tenant' => 'acme'), 200,
    'tenant still checked');

# "off" stands alone

my ($rc, $out) = $t->nginx_t(conf("authz_require off;\n"
    . "            authz_require a:b;"));
isnt($rc, 0, 'require after off refused');
like($out, qr/"authz_require" directive cannot be combined with "authz_require off" in \S+:\d+/,
    'require after off: message');

($rc, $out) = $t->nginx_t(conf("authz_condition \$ok;\n"
    . "            authz_condition off;"));
isnt($rc, 0, 'off after a condition refused');
like($out, qr/"authz_condition" directive is duplicate in \S+:\d+/,
    'off after a condition: message');

###############################################################################

sub conf {
    my ($lines) = @_;

    return <<"END";

%%TEST_GLOBALS%%

events {
}

http {
    map \$arg_ok \$ok {
        default  0;
    }

    server {
        listen       127.0.0.1:%%PORT_8081%%;
        authz on;
        authz_key_file %%KEYDIR%%/k1.pub kid=k1;

        location / {
            $lines
        }
    }
}

END
}

sub st {
    my ($uri, @h) = @_;
    return $t->get($uri, headers => \@h)->{status};
}

###############################################################################
