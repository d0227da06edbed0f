#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for a multi-tenant SaaS gateway: services blog, chatbot, settings
# and billing; roles owner, editor and viewer; tenants acme (every service)
# and globex (blog only); the tenant in X-Tenant-Id.  A table of who ->
# request -> answer, and anonymous access to public routes under
# "authz optional".

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

    authz_role role_owner   blog:* chatbot:* settings:* billing:*;
    authz_role role_editor  blog:posts.read blog:posts.create
                            blog:posts.update chatbot:slots.read;
    authz_role role_viewer  blog:posts.read chatbot:slots.read;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        authz on;
        authz_key_file %%KEYDIR%%/jwks.json;
        authz_issuer https://manager.test;
        authz_audience api.test;

        add_header X-Authz-Error $authz_error always;

        location /api/blog/ {
            authz_tenant $http_x_tenant_id;
            authz_service blog;

            authz_rule GET HEAD   /api/blog/posts/**  blog:posts.read;
            authz_rule POST       /api/blog/posts     blog:posts.create;
            authz_rule PUT PATCH  /api/blog/posts/*   blog:posts.update;
            authz_rule DELETE     /api/blog/posts/*
                                  blog:posts.delete|blog:posts.admin;
            authz_rule GET        "/api/blog/users/{sub}/drafts"
                                  blog:drafts.read;

            proxy_pass http://%%ECHO%%;
        }

        location /api/chatbot/ {
            authz_tenant $http_x_tenant_id;
            authz_service chatbot;

            authz_rule GET HEAD     /api/chatbot/slots/**  chatbot:slots.read;
            authz_rule POST PUT PATCH DELETE
                                    /api/chatbot/slots/**  chatbot:slots.write;

            proxy_pass http://%%ECHO%%;
        }

        location /api/settings/ {
            authz_tenant $http_x_tenant_id;
            authz_service settings;

            authz_rule GET HEAD   /api/settings/profile
                                  settings:profile.read;
            authz_rule PUT PATCH  /api/settings/profile
                                  settings:profile.update;
            authz_rule *          /api/settings/members/**
                                  settings:members.manage;

            proxy_pass http://%%ECHO%%;
        }

        location /api/billing/ {
            authz_tenant $http_x_tenant_id;
            authz_service billing;

            authz_rule GET HEAD  /api/billing/invoices/**
                                 billing:invoices.read;
            authz_rule *         /api/billing/payment-method
                                 billing:payment.manage;

            proxy_pass http://%%ECHO%%;
        }

        location /api/public/ {
            authz optional;

            authz_rule GET HEAD  /api/public/status       public;
            authz_rule GET       /api/public/blog/*/feed  public;
            authz_rule GET       /api/public/me           profile:me.read;

            proxy_pass http://%%ECHO%%;
        }
    }
}

EOF

$t->run->plan(72);

###############################################################################

my @all = map { ('--service', $_) } qw(blog chatbot settings billing);

# authz-mint (libjwt): alice owns acme, carol views acme, an expired owner

my $alice = cli('--sub', 'alice', '--role', 'role_owner', @all);
my $carol = cli('--sub', 'carol', '--role', 'role_viewer', @all);
my $expired = cli('--sub', 'alice', '--role', 'role_owner', @all,
    '--iat', '-20m', '--exp', '-10m');

# Crypt::JWT: bob edits acme, dave edits globex, a forged owner

my %acme = map { $_ => { enabled => JSON::PP::true() } }
    qw(blog chatbot settings billing);

my $bob = mint(iss => 'https://manager.test', sub => 'bob',
    roles => ['role_editor'], services => \%acme);
my $dave = mint(iss => 'https://manager.test', sub => 'dave',
    tid => 'globex', roles => ['role_editor'],
    services => { blog => { enabled => JSON::PP::true() },
        chatbot => { enabled => JSON::PP::false() } });
my $forged = mint(iss => 'https://manager.test', sub => 'mallory',
    roles => ['role_owner'], services => \%acme, _key => 'k2', _kid => 'k1');

# carol's signature under an owner's payload

my @c = split /\./, $carol;
my @a = split /\./, $alice;
my $swapped = "$c[0].$a[1].$c[2]";

my %who = (alice => $alice, bob => $bob, carol => $carol, dave => $dave,
    expired => $expired, forged => $forged, swapped => $swapped,
    anonymous => undef);

# who, method, path, answer[, X-Tenant-Id (default: the token's tenant)]
# answer: "200 <X-User-Id>@<X-Tenant-Id upstream>", or
# "<status> <error> <scope alternatives>"

my $scope = '403 insufficient_scope';

my @table = (
    [alice => GET => '/api/blog/posts', '200 alice@acme'],
    [alice => GET => '/api/blog/posts/1', '200 alice@acme'],
    [alice => POST => '/api/blog/posts', '200 alice@acme'],
    [alice => PUT => '/api/blog/posts/1', '200 alice@acme'],
    [alice => DELETE => '/api/blog/posts/1', '200 alice@acme'],
    [alice => GET => '/api/blog/users/alice/drafts', '200 alice@acme'],
    [alice => GET => '/api/blog/users/bob/drafts', '403 forbidden'],
    [alice => GET => '/api/blog/comments', '403 forbidden'],
    [alice => GET => '/api/chatbot/slots', '200 alice@acme'],
    [alice => POST => '/api/chatbot/slots/1', '200 alice@acme'],
    [alice => GET => '/api/settings/profile', '200 alice@acme'],
    [alice => PUT => '/api/settings/members/bob', '200 alice@acme'],
    [alice => GET => '/api/billing/invoices', '200 alice@acme'],
    [alice => HEAD => '/api/billing/invoices', '200'],
    [alice => POST => '/api/billing/payment-method', '200 alice@acme'],
    [alice => GET => '/api/billing/invoices', '403 tenant_mismatch', 'globex'],

    [bob => GET => '/api/blog/posts/1', '200 bob@acme'],
    [bob => HEAD => '/api/blog/posts/1', '200'],
    [bob => POST => '/api/blog/posts', '200 bob@acme'],
    [bob => PATCH => '/api/blog/posts/1', '200 bob@acme'],
    [bob => DELETE => '/api/blog/posts/1',
        "$scope blog:posts.delete blog:posts.admin"],
    [bob => GET => '/api/blog/users/bob/drafts', "$scope blog:drafts.read"],
    [bob => GET => '/api/chatbot/slots', '200 bob@acme'],
    [bob => POST => '/api/chatbot/slots', "$scope chatbot:slots.write"],
    [bob => GET => '/api/settings/profile', "$scope settings:profile.read"],
    [bob => GET => '/api/billing/invoices', "$scope billing:invoices.read"],
    [bob => GET => '/api/blog/posts/1', '403 tenant_mismatch', 'globex'],
    [bob => GET => '/api/blog/posts/1', '403 tenant_mismatch', ''],

    [carol => GET => '/api/blog/posts/1', '200 carol@acme'],
    [carol => POST => '/api/blog/posts', "$scope blog:posts.create"],
    [carol => PUT => '/api/blog/posts/1', "$scope blog:posts.update"],
    [carol => GET => '/api/chatbot/slots/1', '200 carol@acme'],
    [carol => DELETE => '/api/settings/members/bob',
        "$scope settings:members.manage"],
    [carol => GET => '/api/blog/posts/1', '403 tenant_mismatch', 'globex'],

    [dave => GET => '/api/blog/posts/1', '200 dave@globex'],
    [dave => PUT => '/api/blog/posts/1', '200 dave@globex'],
    [dave => GET => '/api/chatbot/slots', '403 service_disabled'],
    [dave => GET => '/api/settings/profile', '403 service_disabled'],
    [dave => GET => '/api/billing/invoices', '403 service_disabled'],
    [dave => GET => '/api/blog/posts/1', '403 tenant_mismatch', 'acme'],

    [expired => GET => '/api/blog/posts/1', '401 invalid_token'],
    [forged => GET => '/api/blog/posts/1', '401 invalid_token'],
    [swapped => GET => '/api/blog/posts/1', '401 invalid_token'],
    [anonymous => GET => '/api/blog/posts/1', '401 missing_token', 'acme'],
);

for my $row (@table) {
    my ($who, $method, $path, $want, $tenant) = @$row;
    $tenant //= $who eq 'dave' ? 'globex' : 'acme';

    is(v($method, $path, $who{$who}, ['X-Tenant-Id' => $tenant]), $want,
        "$who $method $path" . ($tenant eq ($who eq 'dave' ? 'globex' : 'acme')
            ? '' : " tenant '$tenant'"));
}

# the reasons of the 401s

like(challenge('GET', '/api/blog/posts/1', $expired),
    qr/error_description="token expired"/, 'expired challenge');
like(challenge('GET', '/api/blog/posts/1', $forged),
    qr/error_description="signature verification failed"/, 'forged challenge');
like(challenge('GET', '/api/blog/posts/1', $swapped),
    qr/error_description="signature verification failed"/,
    'swapped payload challenge');

# spoofed identity headers are ignored and replaced

my @spoof = ('X-Tenant-Id' => 'acme', 'X-User-Permissions' => 'blog:*,*',
    'X-User-Id' => 'alice', 'X-User-Services' => 'blog,billing');

is(v('PUT', '/api/blog/posts/1', $carol, \@spoof),
    "$scope blog:posts.update", 'spoofed permissions ignored');
is(v('GET', '/api/billing/invoices', $carol, \@spoof),
    "$scope billing:invoices.read", 'spoofed permissions ignored billing');

my $e = parse_echo($t->get('/api/blog/posts/1', token => $carol,
    headers => \@spoof));
is($e->{'x-user-id'}, 'carol', 'spoofed user replaced');
is($e->{'x-user-permissions'}, 'blog:posts.read,chatbot:slots.read',
    'spoofed permissions replaced');
is($e->{'x-user-services'}, 'billing,blog,chatbot,settings',
    'spoofed services replaced');   # libjwt writes the keys sorted

$e = parse_echo($t->get('/api/blog/posts/1', token => $bob,
    headers => ['X-Tenant-Id' => 'acme']));
is($e->{'x-user-permissions'}, 'blog:posts.read,blog:posts.create,'
    . 'blog:posts.update,chatbot:slots.read', 'editor permissions forwarded');

$e = parse_echo($t->get('/api/blog/posts/1', token => $dave,
    headers => ['X-Tenant-Id' => 'globex']));
is($e->{'x-user-services'}, 'blog', 'globex services forwarded');

# public routes under "authz optional"

is(v('GET', '/api/public/status'), '200 @', 'anonymous public');
is(v('HEAD', '/api/public/status'), '200', 'anonymous public head');
is(v('GET', '/api/public/blog/acme/feed'), '200 @', 'anonymous public feed');

my $r = $t->get('/api/public/me');
is(v($r), '401 missing_token', 'anonymous non-public rule');
is($r->{headers}{'www-authenticate'}, 'Bearer realm="api"',
    'anonymous non-public challenge');
is($r->{headers}{'x-authz-error'}, 'missing_token',
    'anonymous non-public error variable');

$r = $t->get('/api/public/admin');
is(v($r), '403 forbidden', 'anonymous no rule');
ok(!exists $r->{headers}{'www-authenticate'}, 'anonymous no rule no challenge');
is(v('POST', '/api/public/status'), '403 forbidden',
    'anonymous public other method');
is(v('GET', '/api/public/blog/feed'), '403 forbidden',
    'anonymous public pattern mismatch');

is(v('GET', '/api/public/status', $bob), '200 bob@acme',
    'token on a public route');
is(v('GET', '/api/public/me', $bob), "$scope profile:me.read",
    'token on a non-public rule');
is(v('GET', '/api/public/me', mint(iss => 'https://manager.test',
    permissions => ['profile:me.read'])), '200 alice@acme',
    'token with the permission');
is(v('GET', '/api/public/status', $expired), '401 invalid_token',
    'expired token on a public route');
is(v('GET', '/api/public/status', $forged), '401 invalid_token',
    'forged token on a public route');

$e = parse_echo($t->get('/api/public/status', headers => \@spoof));
is(join('|', map { $e->{$_} } qw(x-user-id x-tenant-id x-user-permissions
    x-user-services)), '|||', 'anonymous spoofed headers stripped');

# the log

my $log = $t->error_log(nodebug => 1);
like($log, qr/authz:\ access\ forbidden:\ service_disabled\ \([^)]+\),
    \ sub:\ "dave",\ tenant:\ "globex"/x, 'service disabled logged');
like($log, qr/authz:\ access\ forbidden:\ insufficient_scope\ \([^)]+\),
    \ sub:\ "bob",\ tenant:\ "acme",
    \ requirement:\ "blog:posts\.delete\|blog:posts\.admin"/x,
    'insufficient scope logged');

###############################################################################

# a token from authz-mint (libjwt), kid k1 of the JWKS
sub cli {
    return mint_cli('--key', keydir() . '/k1.key', '--kid', 'k1',
        '--iss', 'https://manager.test', '--aud', 'api.test',
        '--tenant', 'acme', @_);
}

sub challenge {
    my ($method, $path, $token) = @_;
    return $t->req($method, $path, token => $token,
        headers => ['X-Tenant-Id' => 'acme'])->{headers}{'www-authenticate'}
        // '';
}

# "200 <x-user-id>@<x-tenant-id>" ("200" without a body), or
# "<status> <error> <scope alternatives>"; takes a response or
# (method, path, token, headers)
sub v {
    my ($r, $path, $token, $headers) = @_;

    $r = $t->req($r, $path, token => $token, headers => $headers // [])
        unless ref $r;

    my $s = $r->{status} // 'none';

    if ($s eq '200') {
        return $s if $r->{body} eq '';
        my $e = parse_echo($r);
        return "200 " . ($e->{'x-user-id'} // '?') . '@'
            . ($e->{'x-tenant-id'} // '?');
    }

    $s .= " $1" if $r->{body} =~ /^\{"error":"([^"]+)"/;
    $s .= " $1" if ($r->{headers}{'www-authenticate'} // '')
        =~ /scope="([^"]*)"/;

    return $s;
}

###############################################################################
