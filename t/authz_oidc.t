#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# End to end against a real OpenID provider: oidc-provider from the npm
# registry (tools/oidc/setup.sh installs it into build/oidc, git-ignored;
# without node or npm, or without the registry, the file is skipped and
# says why), configured by tools/oidc/provider.js for the client
# credentials grant with RFC 8707 resource indicators, issuing RS256
# RFC 9068 access tokens ("typ": "at+jwt").  A second provider process
# with the same key and issuer runs two hours in the past, for expired
# tokens.  The test is the client: discovery, the jwks_uri (saved for
# authz_key_file), tokens from the token endpoint by a real HTTP POST with
# client_secret_basic.  Then through nginx: a token for the orders API
# passes (200, X-User-Id = the client id, its scopes as permissions);
# a token for another resource (wrong aud), an expired one, a tampered
# one, one signed by another key are 401; a missing scope is 403.  Two
# more nginx configurations check the same tokens with
# "authz_token_type at+jwt" and with the key set fetched live from the
# jwks_uri (authz_key_request).  The node processes are stopped by pid.

###############################################################################

use warnings;
use strict;

use Test::More;

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);

use Crypt::JWT qw(encode_jwt);
use Crypt::PK::RSA;
use JSON::PP;
use MIME::Base64 qw(encode_base64);
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);

###############################################################################

my $t = AuthzTest->new->has('module');

my $ROOT = "$FindBin::Bin/..";
my $OIDC = $ENV{AUTHZ_OIDC_DIR} || "$ROOT/build/oidc";

# the provider: installed at test time (once; a few seconds)

my $start = time;
my $setup = `AUTHZ_OIDC_DIR='$OIDC' sh '$ROOT/tools/oidc/setup.sh' 2>&1`;
my $rc = $? >> 8;
my ($why) = $setup =~ /([^\n]*)\n*\z/;

plan(skip_all => "no OpenID provider: $why") if $rc == 2 || $rc == 3;
die "tools/oidc/setup.sh failed (exit $rc):\n$setup" if $rc;

diag(sprintf "%s (setup: %.1f s)", $why, time - $start);

my $json = JSON::PP->new->canonical;

my $CLIENT = 'orders-service';
my $SECRET = 'orders-service-secret-7d1f0c2b9a';
my $ORDERS = 'https://api.example.com/orders';
my $BILLING = 'https://api.example.com/billing';

my $port = $t->port('idp');
my $issuer = "http://127.0.0.1:$port";
my $key = keydir() . '/k2.key';

my %NODE;
END { stop_node($_) for keys %NODE }

# killed: the providers go too (they also exit when this process is gone)
for my $sig (qw(INT TERM HUP PIPE)) {
    $SIG{$sig} = sub { stop_node($_) for keys %NODE; exit 1 };
}

start_node('idp', $port, $issuer, $key);
start_node('idp_past', $t->port('idp_past'), $issuer, $key, -7200);

# discovery and the key set, as a client and an operator would get them

my $disc = idp_json('GET', '/.well-known/openid-configuration');
is($disc->{issuer}, $issuer, 'discovery: issuer');
my ($jwks_path) = ($disc->{jwks_uri} // '') =~ m{^\Q$issuer\E(/.*)$};
my ($token_path) = ($disc->{token_endpoint} // '') =~ m{^\Q$issuer\E(/.*)$};
ok($jwks_path && $token_path, 'discovery: jwks_uri and token_endpoint');
ok(grep({ $_ eq 'client_secret_basic' }
    @{ $disc->{token_endpoint_auth_methods_supported} // [] }),
    'discovery: client_secret_basic');

my $jwks = idp_json('GET', $jwks_path);
is_deeply([map { "$_->{kty} $_->{kid} $_->{alg} $_->{use}" }
    @{ $jwks->{keys} // [] }], ['RSA oidc-test-1 RS256 sig'],
    'jwks_uri: one RS256 signing key');
$t->write_file('idp.jwks', $json->encode($jwks));

# tokens from the token endpoint

my ($res, $tok);

($res, $tok) = token_request('idp', secret => 'not-the-secret');
is($res->{status}, 401, 'token endpoint: wrong client secret: 401');

my $orders = token_request('idp', resource => $ORDERS,
    scope => 'orders:read orders:write');
my $billing = token_request('idp', resource => $BILLING,
    scope => 'billing:read');
my $past = token_request('idp_past', resource => $ORDERS,
    scope => 'orders:read orders:write');

my ($h, $p) = decode($orders);
is_deeply($h, { alg => 'RS256', typ => 'at+jwt', kid => 'oidc-test-1' },
    'orders token: RFC 9068 header');
is_deeply([@$p{qw(iss aud sub client_id scope tid)}],
    [$issuer, $ORDERS, $CLIENT, $CLIENT, 'orders:read orders:write', 'acme'],
    'orders token: claims');
is(decode($billing)->{aud}, $BILLING, 'billing token: aud');
ok(decode($past)->{exp} < time - 3600, 'past token: expired an hour ago');

# forged from the real token: the payload changed under the provider's
# signature, and the same payload signed by a key the provider never had
my ($hb, $pb, $sb) = split /\./, $orders;
my $more = { %$p, scope => 'orders:read orders:write orders:delete' };
my $tampered = join '.', $hb, b64url($json->encode($more)), $sb;
my $other_key = encode_jwt(payload => $json->encode($more), alg => 'RS256',
    key => Crypt::PK::RSA->new(keydir() . '/k1.key'),
    extra_headers => { typ => 'at+jwt', kid => 'oidc-test-1' });

###############################################################################

# 1. the key set as a file (authz_key_file)

run_nginx($t, keys => "authz_key_file %%TESTDIR%%/idp.jwks;");
check($t, 'key file');
$t->stop;

# 2. the same with RFC 9068's token type enforced

my $t2 = AuthzTest->new;
$t2->write_file('idp.jwks', $json->encode($jwks));
if (run_nginx($t2, keys => "authz_key_file %%TESTDIR%%/idp.jwks;",
    extra => 'authz_token_type at+jwt;'))
{
    check($t2, 'at+jwt');
    $t2->stop;
}

# 3. the key set fetched live from the jwks_uri (authz_key_request)

my $t3 = AuthzTest->new;
if (run_nginx($t3, http => 'authz_key_cache zone=authz_keys:1m;',
    keys => <<"EOF"))
        authz_key_request /_authz/jwks;

        location = /_authz/jwks {
            internal;
            proxy_pass_request_headers off;
            proxy_pass_request_body off;
            proxy_method GET;
            proxy_set_header Accept-Encoding "";
            proxy_pass $disc->{jwks_uri};
        }
EOF
{
    check($t3, 'authz_key_request');
    $t3->stop;
}

stop_node($_) for sort keys %NODE;

diag(sprintf 'total: %.1f s', time - $start);

done_testing();

###############################################################################

sub run_nginx {
    my ($t, %o) = @_;

    my $conf = <<"EOF";

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    @{[ $o{http} // '' ]}

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        add_header X-Authz-Reason \$authz_reason always;

$o{keys}

        location /api/orders {
            authz on;
            @{[ $o{extra} // '' ]}
            authz_issuer $issuer;
            authz_audience $ORDERS;
            authz_permissions_claim scope;
            authz_tenant_claim tid;
            authz_services_claim services;
            authz_service orders;

            authz_rule GET HEAD /api/orders/**  orders:read;
            authz_rule DELETE   /api/orders/*   orders:delete;

            proxy_pass http://%%ECHO%%;
        }
    }
}

EOF

    my ($rc, $out) = $t->nginx_t($conf);
    my $what = $o{extra} ? $o{extra} : $o{http} ? 'authz_key_request'
        : 'authz_key_file';
    unless (is($rc, 0, "$what: nginx -t")) {
        diag($out);
        return 0;
    }

    $t->write_file_expand('nginx.conf', $conf);
    $t->run;

    return 1;
}

sub check {
    my ($t, $what) = @_;

    my $r;

    # negatives first

    $r = $t->get('/api/orders/1', token => $billing);
    is($r->{status}, 401, "$what: token for another resource: 401");
    like($r->{headers}{'x-authz-reason'} // '', qr/audience/,
        "$what: token for another resource: audience");

    $r = $t->get('/api/orders/1', token => $past);
    is($r->{status}, 401, "$what: expired token: 401");
    like($r->{headers}{'x-authz-reason'} // '', qr/expired/,
        "$what: expired token: expired");

    for (['tampered payload', $tampered], ['signed by another key', $other_key],
        ['signature cut', "$hb.$pb."])
    {
        $r = $t->req('DELETE', '/api/orders/1', token => $_->[1]);
        is($r->{status}, 401, "$what: $_->[0]: 401");
        unlike($r->{body}, qr/x-user-id=/, "$what: $_->[0]: not forwarded");
    }

    $r = $t->get('/api/orders/1');
    is($r->{status}, 401, "$what: no token: 401");

    $r = $t->req('DELETE', '/api/orders/1', token => $orders);
    is($r->{status}, 403, "$what: scope missing: 403");
    like($r->{headers}{'www-authenticate'} // '',
        qr/insufficient_scope", scope="orders:delete"/,
        "$what: scope missing: insufficient_scope");

    # the real token

    $r = $t->get('/api/orders/1', token => $orders,
        headers => ['X-User-Id' => 'spoofed', 'X-Tenant-Id' => 'spoofed']);
    is($r->{status}, 200, "$what: orders token: 200")
        or diag('reason: ' . ($r->{headers}{'x-authz-reason'} // ''));
    my $e = parse_echo($r);
    is($e->{'x-user-id'}, $CLIENT, "$what: X-User-Id is the client id");
    is($e->{'x-tenant-id'}, 'acme', "$what: X-Tenant-Id");
    is($e->{'x-user-permissions'}, 'orders:read,orders:write',
        "$what: X-User-Permissions");
    is($e->{'x-user-services'}, 'orders', "$what: X-User-Services");
}

###############################################################################
# the provider processes

sub start_node {
    my ($name, $port, $issuer, $key, $offset) = @_;

    my $log = $t->testdir . "/$name.log";
    my @cmd = ('node', "$OIDC/provider.js", $port, $issuer, $key,
        $offset // 0);

    my $pid = fork // die "fork: $!";
    unless ($pid) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $log or POSIX::_exit(126);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(126);
        exec @cmd or POSIX::_exit(127);
    }
    $NODE{$pid} = $name;

    my $deadline = time + 15;
    while (time < $deadline) {
        last if ($t->read_file("$name.log") // '') =~ /^listening /m;
        if (waitpid($pid, WNOHANG) > 0) {
            delete $NODE{$pid};
            die "$name exited:\n" . ($t->read_file("$name.log") // '');
        }
        sleep 0.05;
    }

    ($t->read_file("$name.log") // '') =~ /^listening /m
        or die "$name did not start:\n" . ($t->read_file("$name.log") // '');
}

sub stop_node {
    my ($pid) = @_;

    return unless delete $NODE{$pid};
    kill 'TERM', $pid;

    for (1 .. 100) {
        return if waitpid($pid, WNOHANG) != 0;
        sleep 0.05;
    }

    kill 'KILL', $pid;
    waitpid $pid, 0;
}

###############################################################################
# the client side

sub idp_json {
    my ($method, $path) = @_;
    my $r = $t->req($method, $path, port => 'idp',
        headers => [Host => "127.0.0.1:$port"]);
    is($r->{status}, 200, "$method $path: 200");
    return eval { $json->decode($r->{body}) } // {};
}

# POST to the token endpoint (client credentials, client_secret_basic);
# in list context (response, access token), else the access token
sub token_request {
    my ($idp, %o) = @_;

    my $secret = delete $o{secret} // $SECRET;
    my %form = (grant_type => 'client_credentials', %o);
    my $body = join '&', map { "$_=" . form_escape($form{$_}) }
        sort keys %form;

    # RFC 6749 2.3.1: both form-encoded, then Basic
    my $basic = encode_base64(form_escape($CLIENT) . ':'
        . form_escape($secret), '');

    my $r = $t->req('POST', $token_path, port => $idp, body => $body,
        headers => [Host => "127.0.0.1:$port",
            Authorization => "Basic $basic",
            'Content-Type' => 'application/x-www-form-urlencoded',
            Accept => 'application/json']);

    my $at = (eval { $json->decode($r->{body}) } // {})->{access_token};

    return ($r, $at) if wantarray;

    ok($at, "token endpoint: a token for $form{resource} from $idp")
        or diag($r->{raw});
    return $at // '';
}

sub form_escape {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9*\-._ ])/sprintf '%%%02X', ord $1/ge;
    $s =~ tr/ /+/;
    return $s;
}

# the decoded header and payload (in scalar context the payload)
sub decode {
    my ($jwt) = @_;
    my ($h, $p) = map { eval { $json->decode(b64url_decode($_)) } // {} }
        (split /\./, $jwt // '')[0, 1];
    return wantarray ? ($h, $p) : $p;
}

###############################################################################
