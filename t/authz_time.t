#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for registered claims: exp, nbf and iat with and without
# authz_leeway, authz_require_exp, authz_issuer and authz_audience.

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
        authz_leeway 0s;    # the default is 60s: exact times here
        authz_key_file %%KEYDIR%%/k1.pub kid=k1;

        location / {
            proxy_pass http://%%ECHO%%;
        }

        location /leeway/ {
            authz_leeway 30s;
            proxy_pass http://%%ECHO%%;
        }

        location /noexp/ {
            authz_require_exp off;
            proxy_pass http://%%ECHO%%;
        }

        location /iss/ {
            authz_issuer https://a.test https://b.test;
            proxy_pass http://%%ECHO%%;
        }

        location /aud/ {
            authz_audience api.test other.test;
            proxy_pass http://%%ECHO%%;
        }
    }
}

EOF

$t->run->plan(60);

###############################################################################

my $kd = keydir();
my $now = time();

# exp

is(st('/', mint(exp => $now + 600)), 200, 'exp in the future');
invalid('/', mint(exp => $now - 5), 'token expired', 'expired by 5 s');
is(st('/leeway/', mint(exp => $now - 5)), 200, 'expired within leeway');
invalid('/leeway/', mint(exp => $now - 60), 'token expired',
    'expired beyond leeway');
invalid('/', mint(exp => $now), 'token expired', 'exp now');

invalid('/', claims_raw(exp => '"' . ($now + 600) . '"'), 'invalid claim',
    'exp as string');
invalid('/noexp/', claims_raw(exp => '"' . ($now + 600) . '"'),
    'invalid claim', 'exp as string, exp not required');
invalid('/', claims_raw(exp => 'true'), 'invalid claim', 'exp as boolean');
invalid('/', claims_raw(exp => 'null'), 'invalid claim', 'exp null');
invalid('/', claims_raw(exp => '[' . ($now + 600) . ']'), 'invalid claim',
    'exp as array');
is(st('/', claims_raw(exp => ($now + 600) . '.5')), 200, 'exp float');
invalid('/', claims_raw(exp => ($now - 5) . '.5'), 'token expired',
    'exp float in the past');
invalid('/', claims_raw(exp => '-1'), 'token expired', 'exp negative');
invalid('/', claims_raw(exp => '-1e300'), 'token expired',
    'exp very negative');
is(st('/', claims_raw(exp => '1000000000000000')), 200, 'exp huge');
is(st('/', claims_raw(exp => '1e15')), 200, 'exp huge exponent form');

# no exp

invalid('/', mint(exp => undef), 'token has no expiry', 'no exp');
is(st('/noexp/', mint(exp => undef)), 200, 'no exp, not required');
invalid('/noexp/', mint(exp => $now - 5), 'token expired',
    'exp checked when not required');

# nbf

invalid('/', mint(nbf => $now + 60), 'token not yet valid', 'nbf in 60 s');
invalid('/leeway/', mint(nbf => $now + 60), 'token not yet valid',
    'nbf in 60 s beyond leeway');
invalid('/', mint(nbf => $now + 10), 'token not yet valid', 'nbf in 10 s');
is(st('/leeway/', mint(nbf => $now + 10)), 200, 'nbf within leeway');
is(st('/', mint(nbf => undef)), 200, 'nbf optional');
is(st('/', claims_raw(nbf => ($now - 1) . '.25')), 200, 'nbf float');
invalid('/', claims_raw(nbf => "\"$now\""), 'invalid claim',
    'nbf as string');

# iat

invalid('/', mint(iat => $now + 60, nbf => $now), 'token issued in the future',
    'iat in the future');
invalid('/leeway/', mint(iat => $now + 60, nbf => $now),
    'token issued in the future', 'iat in the future beyond leeway');
is(st('/leeway/', mint(iat => $now + 10, nbf => $now)), 200,
    'iat within leeway');
is(st('/', mint(iat => undef)), 200, 'iat optional');
is(st('/', mint(iat => $now - 86400)), 200, 'iat in the past');
invalid('/', claims_raw(iat => "\"$now\""), 'invalid claim',
    'iat as string');

# tokens from authz-mint

my @k1 = ('--key', "$kd/k1.key", '--kid', 'k1', '--sub', 'bob',
    '--tenant', 'acme');

is(st('/', mint_cli(@k1, '--ttl', '90s')), 200, 'cli ttl');
invalid('/', mint_cli(@k1, '--exp', '-10'), 'token expired', 'cli expired');
is(st('/leeway/', mint_cli(@k1, '--exp', '-10')), 200,
    'cli expired within leeway');
invalid('/', mint_cli(@k1, '--nbf', '+1h'), 'token not yet valid',
    'cli nbf in an hour');
invalid('/', mint_cli(@k1, '--iat', '+1h', '--nbf', '-1m'),
    'token issued in the future', 'cli iat in an hour');
invalid('/', mint_cli(@k1, '--no-exp'), 'token has no expiry', 'cli no exp');
is(st('/noexp/', mint_cli(@k1, '--no-exp')), 200, 'cli no exp not required');
invalid('/', mint_cli(@k1, '--json', '{"exp":"soon"}'), 'invalid claim',
    'cli exp as string');

# authz_issuer: exact match of one of the values

is(st('/iss/', mint(iss => 'https://a.test')), 200, 'issuer a');
is(st('/iss/', mint(iss => 'https://b.test')), 200, 'issuer b');
is(st('/iss/', mint_cli(@k1, '--iss', 'https://b.test')), 200,
    'cli issuer b');
invalid('/iss/', mint(iss => 'https://c.test'), 'issuer not accepted',
    'other issuer');
invalid('/iss/', mint(iss => undef), 'issuer not accepted', 'no issuer');
invalid('/iss/', mint(iss => 'https://a.tes'), 'issuer not accepted',
    'issuer prefix');
invalid('/iss/', mint(iss => 'https://a.test/'), 'issuer not accepted',
    'issuer extended');
invalid('/iss/', mint(iss => 'HTTPS://A.TEST'), 'issuer not accepted',
    'issuer case');
invalid('/iss/', mint(iss => ['https://a.test']), 'issuer not accepted',
    'issuer as array');
is(st('/', mint(iss => 'https://c.test')), 200, 'issuer not configured');

# authz_audience: a string, or an array holding one of the values

is(st('/aud/', mint(aud => 'api.test')), 200, 'audience string');
is(st('/aud/', mint(aud => 'other.test')), 200, 'audience second value');
is(st('/aud/', mint(aud => ['x.test', 'other.test'])), 200,
    'audience array');
is(st('/aud/', mint_cli(@k1, '--aud', 'x.test', '--aud', 'api.test')), 200,
    'cli audience array');
invalid('/aud/', mint(aud => undef), 'audience not accepted',
    'no audience');
invalid('/aud/', mint(aud => 'evil.test'), 'audience not accepted',
    'wrong audience');
invalid('/aud/', mint(aud => ['x.test', 'y.test']), 'audience not accepted',
    'wrong audience array');
invalid('/aud/', mint(aud => []), 'audience not accepted',
    'empty audience array');
invalid('/aud/', mint(aud => 'api.test.evil'), 'audience not accepted',
    'audience prefix');
is(st('/', mint(aud => 'evil.test')), 200, 'audience not configured');

###############################################################################

sub st {
    my ($uri, $token) = @_;
    return $t->get($uri, token => $token)->{status};
}

sub invalid {
    my ($uri, $token, $desc, $name) = @_;

    my $r = $t->get($uri, token => $token);
    my $h = $r->{headers}{'www-authenticate'} // '';

    ok($r->{status} == 401
        && $h eq 'Bearer realm="api", error="invalid_token", '
            . qq{error_description="$desc"}
        && $r->{body} =~ /"error_description":"\Q$desc\E"/
        && $r->{body} !~ /x-user-id/,
        $name) or diag("$r->{status} $h $r->{body}");
}

# a token signed by k1 from the default claims as JSON, with some of
# them replaced by exact JSON texts

sub claims_raw {
    my (%json) = @_;

    my %c = (iss => '"https://issuer.test"', aud => '"api.test"',
        sub => '"alice"', tid => '"acme"', iat => $now, nbf => $now,
        exp => $now + 600, %json);

    return raw_jwt('{"alg":"RS256","typ":"JWT","kid":"k1"}',
        '{' . join(',', map { qq{"$_":$c{$_}} } sort keys %c) . '}');
}

###############################################################################
