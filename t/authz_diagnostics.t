#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for the diagnostics of SPEC 5: distinct reasons for a token
# without a tenant or a services claim; the deny line carries the
# refused alg, iss or aud value (escaped, capped at 64 bytes) and the
# name of a claim of the wrong shape; authz_log_level; authz_leeway's
# default of 60s and its 10 minute ceiling; configuration errors name
# their directive.

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

        add_header X-Reason $authz_reason always;
        add_header X-Error $authz_error always;

        location / {
            proxy_pass http://%%ECHO%%;
        }

        location /tenant/ {
            authz_tenant $http_x_tenant;
            proxy_pass http://%%ECHO%%;
        }

        location /svc/ {
            authz_service blog;
            proxy_pass http://%%ECHO%%;
        }

        location /notice/ {
            authz_log_level notice;
            authz_service blog;
            proxy_pass http://%%ECHO%%;
        }

        location /early/ {
            authz_tenant $http_x_tenant;

            # the reason read in the rewrite phase, then in the log phase
            set $early "$authz_tenant";
            error_page 403 = @denied;
            proxy_pass http://%%ECHO%%;
        }

        location @denied {
            authz off;
            add_header X-Reason $authz_reason always;
            return 403 "reason=$authz_reason early=$early\n";
        }
    }
}

EOF

$t->run->plan(32);

###############################################################################

my $now = time;

# tenant: absent is not "another tenant"

is_deeply(deny('/tenant/x', mint(tid => undef), 'acme'),
    [403, 'tenant_mismatch', 'token has no tenant'], 'no tenant claim');
is_deeply(deny('/tenant/x', mint(tid => 'globex'), 'acme'),
    [403, 'tenant_mismatch', 'token is for another tenant'],
    'another tenant');
is($t->req('GET', '/tenant/x', token => mint(),
    headers => ['X-Tenant' => 'acme'])->{status}, 200, 'same tenant');
like($t->error_log(nodebug => 1), qr/access forbidden: tenant_mismatch \(token has no tenant\), sub: "alice", tenant: "-"/,
    'log: token has no tenant');

# across an internal redirect (error_page), with a variable read early

my $r = $t->req('GET', '/early/x', token => mint(tid => undef),
    headers => ['X-Tenant' => 'acme']);
is($r->{status}, 403, 'no tenant, error_page');
like($r->{body}, qr/^reason=token has no tenant early=$/m,
    'error_page location sees the reason; the early read saw no tenant');

# services: absent is not "not enabled"

is_deeply(deny('/svc/x', mint(services => undef)),
    [403, 'service_disabled', 'token has no services claim'],
    'no services claim');
is_deeply(deny('/svc/x', mint(services => { chatbot => { enabled => JSON::PP::true } })),
    [403, 'service_disabled', 'service not enabled for the tenant'],
    'service not enabled');
is_deeply(deny('/svc/x', mint(services => [])),
    [403, 'service_disabled', 'service not enabled for the tenant'],
    'empty services array: present, nothing enabled');

# the refused value is in the log line: alg, iss, aud

deny('/', mint(_alg => 'RS512'));
like($t->error_log(nodebug => 1), qr/invalid token: algorithm not allowed \("alg" not allowed\), kid: "[^"]*", alg: "RS512"/,
    'log: the refused alg');

deny('/', mint(iss => 'https://issuer.test/'));
like($t->error_log(nodebug => 1), qr/issuer not accepted .*, iss: "https:\/\/issuer\.test\/" expected "https:\/\/issuer\.test"/,
    'log: the refused iss, and the expected one');

deny('/', mint(aud => 'http://api.test'));
like($t->error_log(nodebug => 1), qr/audience not accepted .*, aud: "http:\/\/api\.test" expected "api\.test"/,
    'log: the refused aud');

deny('/', mint(aud => ['x', 'y']));
like($t->error_log(nodebug => 1), qr/, aud: "\[\\"x\\",\\"y\\"\]" expected "api\.test"/,
    'log: an aud array, compact JSON, escaped');

deny('/', mint(iss => qq{evil"\n} . 'A' x 100));
my ($line) = $t->error_log =~ /(issuer not accepted [^\n]*, iss: "evil[^\n]*)/;
ok(defined $line, 'log: hostile iss on one line');
like($line // '', qr/iss: "evil\\"\\nA{58}" expected/,
    'log: hostile iss escaped, capped at 64 bytes');

deny('/', mint(iss => undef));
like($t->error_log(nodebug => 1), qr/issuer not accepted [^\n]*, iss: "" expected/,
    'log: an absent iss');

deny('/', mint(services => 'blog'));
like($t->error_log(nodebug => 1), qr/invalid claim \(services claim has a bad shape or value\)[^\n]*, claim: "services"/,
    'log: the claim of the wrong shape');

# authz_log_level

deny('/notice/x', mint(services => undef));
like($t->error_log(nodebug => 1), qr/\[notice\][^\n]*access forbidden: service_disabled \(token has no services claim\)/,
    'authz_log_level notice');
like($t->error_log(nodebug => 1), qr/\[info\][^\n]*access forbidden: service_disabled \(token has no services claim\)/,
    'the default level is info');

# authz_leeway: 60s by default

is($t->get('/', token => mint(exp => $now - 30))->{status}, 200,
    'expired 30 s ago: within the default leeway');
is($t->get('/', token => mint(exp => $now - 90))->{status}, 401,
    'expired 90 s ago: beyond the default leeway');
is($t->get('/', token => mint(nbf => $now + 30))->{status}, 200,
    'nbf in 30 s: within the default leeway');

# configuration errors name the directive, the file and the line

my @conf = (
    ['authz_rule GET /api/x;',
        qr/"authz_rule": no requirement after "\/api\/x" .* in \S+nginx_t\.conf:\d+/],
    ['authz_rule GET /a/b* x;', qr/"authz_rule": invalid pattern/],
    ['authz_require a||b;', qr/"authz_require": invalid requirement/],
    ['authz_leeway 11m;', qr/"authz_leeway" directive must not be more than 10m/],
    ['authz_permissions_claim /a~2b;',
        qr/"authz_permissions_claim": invalid claim name "\/a~2b"/],
    ['authz_tenant_claim /a~;', qr/"authz_tenant_claim" directive must be/],
    ['authz_claim_header X-User-Id sub;',
        qr/"authz_claim_header": invalid header name "X-User-Id"/],
    ['authz_token_type "a,b";', qr/"authz_token_type": invalid token type/],
    ['authz_token_binding dpop;', qr/"authz_token_binding": invalid value "dpop", it must be one of "refuse", "ignore", "mtls"/],
);

for my $c (@conf) {
    my ($rc, $out) = $t->nginx_t(conf($c->[0]));
    ok($rc != 0 && $out =~ $c->[1], "nginx -t: $c->[0]") or diag($out);
}

my ($rc, $out) = $t->nginx_t(conf('authz_leeway 10m;'));
is($rc, 0, 'nginx -t: authz_leeway 10m') or diag($out);

###############################################################################

# [status, $authz_error, $authz_reason]
sub deny {
    my ($uri, $token, $tenant) = @_;

    my $r = $t->req('GET', $uri, token => $token,
        headers => [defined $tenant ? ('X-Tenant' => $tenant) : ()]);

    return [$r->{status}, $r->{headers}{'x-error'}, $r->{headers}{'x-reason'}];
}

sub conf {
    my ($line) = @_;

    return <<"EOF";

%%TEST_GLOBALS%%

events {
}

http {
    server {
        listen 127.0.0.1:%%PORT_8081%%;

        location / {
            authz on;
            authz_key_file %%KEYDIR%%/k1.pub kid=k1;
            $line
            empty_gif;
        }
    }
}

EOF
}

###############################################################################
