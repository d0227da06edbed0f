#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for authz_service (the services claim, object and array forms,
# also inside limit_except; a claim of the wrong shape makes the token
# invalid) and for authz_condition (ABAC through map).

###############################################################################

use warnings;
use strict;

use Test::More;
use JSON::PP ();

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

    map $authz_claim_plan $plan_ok {
        pro      1;
        default  0;
    }

    map $authz_claim_region $region_ok {
        eu       1;
        default  "";
    }

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        authz on;
        authz_key_file %%KEYDIR%%/k1.pub kid=k1;
        authz_issuer https://issuer.test;
        authz_audience api.test;

        add_header X-Authz-Error $authz_error always;

        location / {
            proxy_pass http://%%ECHO%%;
        }

        location /blog/ {
            authz_service blog;
            proxy_pass http://%%ECHO%%;
        }

        location /chatbot/ {
            authz_service chatbot;
            proxy_pass http://%%ECHO%%;
        }

        location /le/ {
            limit_except GET {
                authz_service billing;
            }
            proxy_pass http://%%ECHO%%;
        }

        location /plan/ {
            authz_condition $plan_ok;
            proxy_pass http://%%ECHO%%;
        }

        location /two/ {
            authz_condition $plan_ok $region_ok;
            proxy_pass http://%%ECHO%%;
        }

        location /arg/ {
            authz_condition $arg_ok;
            proxy_pass http://%%ECHO%%;
        }

        location /combo/ {
            authz_service chatbot;
            authz_rule GET /combo/** chatbot:slots.read;
            authz_condition $plan_ok;
            proxy_pass http://%%ECHO%%;
        }
    }
}

EOF

$t->run->plan(63);

###############################################################################

my $true = JSON::PP::true;
my $false = JSON::PP::false;

# the object form

my $obj = mint(services => { blog => { enabled => $true },
    chatbot => { enabled => $false } });

my $r = $t->get('/blog/x', token => $obj);
is($r->{status}, 200, 'object enabled');
is(parse_echo($r)->{'x-user-services'}, 'blog', 'object services forwarded');

$r = $t->get('/chatbot/x', token => $obj);
is($r->{status}, 403, 'object disabled');
is($r->{headers}{'x-authz-error'}, 'service_disabled',
    'object disabled error variable');
like($r->{body},
    qr/^\{"error":"service_disabled","error_description":"[^"]+"\}$/,
    'object disabled body');
ok(!exists $r->{headers}{'www-authenticate'}, 'object disabled no challenge');
unlike($r->{body}, qr/uri=/, 'object disabled not upstream');

# the object form from authz-mint

my $cli = cli('--service', 'blog', '--service', 'chatbot=false',
    '--service', 'settings');

is(err('/blog/x', $cli), '200', 'authz-mint enabled');
is(err('/chatbot/x', $cli), '403 service_disabled', 'authz-mint disabled');
is(parse_echo($t->get('/blog/x', token => $cli))->{'x-user-services'},
    'blog,settings', 'authz-mint services forwarded in order');

# the array form

my $arr = mint(services => ['blog', 'settings']);

is(err('/blog/x', $arr), '200', 'array enabled');
is(err('/chatbot/x', $arr), '403 service_disabled', 'array not listed');
is(parse_echo($t->get('/blog/x', token => $arr))->{'x-user-services'},
    'blog,settings', 'array services forwarded');
is(err('/chatbot/x', cli('--json', '{"services":["chatbot"]}')), '200',
    'array from authz-mint');

# missing or empty services

is(err('/blog/x', mint(services => undef)), '403 service_disabled',
    'no services claim');
is(err('/blog/x', cli('--unset', 'services')), '403 service_disabled',
    'no services claim from authz-mint');
is(err('/blog/x', mint(services => {})), '403 service_disabled',
    'empty object');
is(err('/blog/x', mint(services => [])), '403 service_disabled',
    'empty array');
is(err('/blog/x', mint(services => ['Blog'])), '403 service_disabled',
    'service names are case-sensitive');
is(err('/blog/x', mint(services => ['blogx'])), '403 service_disabled',
    'service name prefix');
is(err('/blog/x', mint(services => ['blog'], permissions => ['*'])),
    '200', 'star permission with the service');
is(err('/chatbot/x', mint(services => ['blog'], permissions => ['*'])),
    '403 service_disabled', 'star permission does not enable a service');
is(err('/x', mint(services => undef)), '200',
    'no services claim where no service is needed');

# authz_service inside limit_except

my $billing = mint(services => ['billing']);

is(err('/le/x', $arr), '200', 'limit_except get');
is(err('/le/x', $arr, 'HEAD'), '200', 'limit_except head');
is(err('/le/x', $arr, 'POST'), '403 service_disabled', 'limit_except post');
is(err('/le/x', $arr, 'DELETE'), '403 service_disabled',
    'limit_except delete');
is(err('/le/x', $billing, 'POST'), '200', 'limit_except post enabled');

# a services claim of the wrong shape makes the token invalid

invalid(mint(services => 'blog'), 'string');
invalid(mint(services => 'blog settings'), 'space-separated string');
invalid(mint(services => { blog => $true }), 'object of booleans');
invalid(mint(services => { blog => { enabled => 'yes' } }),
    'enabled a string');
invalid(mint(services => { blog => { enabled => 1 } }), 'enabled a number');
invalid(mint(services => { blog => {} }), 'enabled missing');
invalid(mint(services => { blog => [] }), 'service an array');
invalid(mint(services => [1]), 'array of numbers');
invalid(mint(services => [['blog']]), 'array of arrays');
invalid(mint(services => ['bl,og']), 'comma in a name');
invalid(mint(services => ['blog settings']), 'space in a name');
invalid(mint(services => ['']), 'empty name');
invalid(mint(services => 17), 'number');
invalid(cli('--json', '{"services":{"blog":true}}'),
    'object of booleans from authz-mint');
invalid(cli('--json', '{"services":{"blog":{"enabled":"yes"}}}'),
    'enabled a string from authz-mint');
invalid(mint(services => { blog => { enabled => 'yes' } }),
    'wrong shape where no service is needed', '/x');

# authz_condition with a map

is(err('/plan/x', mint(plan => 'pro')), '200', 'condition 1');

$r = $t->get('/plan/x', token => mint(plan => 'free'));
is(err($r), '403 forbidden', 'condition 0');
ok(!exists $r->{headers}{'www-authenticate'}, 'condition 0 no challenge');
is(err('/plan/x', mint()), '403 forbidden', 'condition claim missing');
is(err('/plan/x', cli('--claim', 'plan=pro')), '200',
    'condition from authz-mint');
is(err('/plan/x', mint(plan => 'professional')), '403 forbidden',
    'condition other value');
is(err('/plan/x', mint(plan => ['pro'])), '200', 'condition array claim');
is(err('/plan/x', mint(plan => ['pro', 'x'])), '403 forbidden',
    'condition array claim joined');

# two variables: both must hold

is(err('/two/x', mint(plan => 'pro', region => 'eu')), '200',
    'two conditions');
is(err('/two/x', mint(plan => 'pro', region => 'us')), '403 forbidden',
    'second condition empty');
is(err('/two/x', mint(plan => 'free', region => 'eu')), '403 forbidden',
    'first condition 0');
is(err('/two/x', mint(region => 'eu')), '403 forbidden',
    'first condition missing');

# any variable: non-empty and not "0"

is(err('/arg/x?ok=1', mint()), '200', 'arg condition');
is(err('/arg/x?ok=yes', mint()), '200', 'arg condition text');
is(err('/arg/x?ok=0', mint()), '403 forbidden', 'arg condition 0');
is(err('/arg/x?ok=', mint()), '403 forbidden', 'arg condition empty');
is(err('/arg/x?ok=00', mint()), '200', 'arg condition 00 is not 0');

# the service is checked before the rule and the condition

is(err('/combo/x', mint(plan => 'free', services => ['blog'])),
    '403 service_disabled', 'service before condition');
is(err('/combo/x', mint(plan => 'free', services => ['chatbot'],
    permissions => ['chatbot:slots.read'])), '403 forbidden',
    'condition after service and rule');

###############################################################################

# a token from authz-mint (libjwt)
sub cli {
    return mint_cli('--key', keydir() . '/k1.key', '--kid', 'k1',
        '--iss', 'https://issuer.test', '--aud', 'api.test',
        '--sub', 'alice', '--tenant', 'acme', @_);
}

# "200", or "<status> <error>"; takes a response or (uri, token, method)
sub err {
    my ($r, $token, $method) = @_;

    $r = $t->req($method // 'GET', $r, token => $token) unless ref $r;

    my $s = $r->{status} // 'none';

    return $s if $s eq '200';

    $s .= " $1" if $r->{body} =~ /^\{"error":"([^"]+)"/;

    return $s;
}

sub invalid {
    my ($token, $name, $uri) = @_;

    my $r = $t->get($uri // '/blog/x', token => $token);

    ok($r->{status} == 401
        && ($r->{headers}{'www-authenticate'} // '') eq 'Bearer realm="api", '
            . 'error="invalid_token", error_description="invalid claim"'
        && $r->{body} !~ /uri=/,
        "services $name") or diag("$r->{status} "
            . ($r->{headers}{'www-authenticate'} // '') . " $r->{body}");
}

###############################################################################
