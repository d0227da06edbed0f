#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests of the example configurations in docs/examples/: gateway.conf
# (the multi-tenant SaaS gateway of docs/rules.md, used by make demo) and
# audit-log.conf (docs/audit-log.md).  Each passes "nginx -t" with its
# placeholders replaced, then runs in front of an echo upstream: the
# outcomes of docs/rules.md, and an audit log of one valid JSON object
# per request.

###############################################################################

use warnings;
use strict;

use Test::More;

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);

use JSON::PP;

###############################################################################

my $t = AuthzTest->new->has(qw(module mint));

my $examples = "$FindBin::Bin/../docs/examples";

# the issuer key of the examples: k1, as a JWKS with kid "dev-1"
my $kd = keydir();
$t->write_file('keys/jwks.json',
    mint_cli('--jwks', "$kd/k1.pub", '--kid', 'dev-1') . "\n");

# gateway.conf's revocation list, relative to the configuration file
$t->write_file('revoked.json', "{}\n");

my $gateway = example('gateway.conf');
my $audit = example('audit-log.conf');

$t->write_file_expand('nginx.conf', $gateway);
$t->run->plan(72);

###############################################################################

my $true = JSON::PP::true;
my $false = JSON::PP::false;

my @iss = (iss => 'https://manager.local', aud => 'api.local',
    _kid => 'dev-1');
my @cli = ('--key', "$kd/k1.key", '--kid', 'dev-1',
    '--iss', 'https://manager.local', '--aud', 'api.local');

my $acme = { blog => { enabled => $true }, chatbot => { enabled => $false },
    settings => { enabled => $true }, billing => { enabled => $true } };
my @acme = ('--service', 'blog', '--service', 'chatbot=false',
    '--service', 'settings', '--service', 'billing');

my $editor = 'blog:posts.read,blog:posts.create,blog:posts.update,'
    . 'blog:drafts.read,chatbot:slots.read,chatbot:slots.write,'
    . 'settings:profile.read,billing:invoices.read:own';

# "nginx -t" on both examples

for (['gateway.conf', $gateway], ['audit-log.conf', $audit]) {
    my ($rc, $out) = $t->nginx_t($_->[1]);
    is($rc, 0, "$_->[0]: nginx -t") or diag($out);
    like($out, qr/test is successful/, "$_->[0]: test is successful");
}

# gateway.conf: the users of docs/rules.md

my $alice = mint(@iss, sub => 'alice', tid => 'acme', roles => ['role_owner'],
    services => $acme);
my $bob = mint(@iss, sub => 'bob', tid => 'acme', roles => ['role_editor'],
    services => $acme);
my $carol = mint_cli(@cli, '--sub', 'carol', '--tenant', 'acme',
    '--role', 'role_viewer', @acme);
my $dave = mint_cli(@cli, '--sub', 'dave', '--tenant', 'globex',
    '--role', 'role_owner', '--service', 'blog', '--service', 'chatbot');
my $erin = mint_cli(@cli, '--sub', 'erin', '--tenant', 'acme',
    '--perm', 'billing:invoices.read:all', @acme);
my $ops = mint(@iss, sub => 'ops', tid => 'platform',
    permissions => ['*', 'platform:tenants.any'],
    services => { blog => { enabled => $true } });
my $star = mint(@iss, sub => 'ops', tid => 'platform', permissions => ['*'],
    services => { blog => { enabled => $true } });

# the outcomes table of docs/rules.md

outcome($alice, GET => '/api/blog/acme/posts', 200);
outcome($alice, GET => '/api/chatbot/acme/slots', 403, 'service_disabled');
outcome($bob, PUT => '/api/blog/acme/posts/17', 200);
outcome($bob, DELETE => '/api/blog/acme/posts/17', 403, 'insufficient_scope');
outcome($carol, PUT => '/api/blog/acme/posts/17', 403, 'insufficient_scope');
outcome($bob, GET => '/api/blog/acme/users/bob/drafts', 200);
outcome($bob, GET => '/api/blog/acme/users/alice/drafts', 403, 'forbidden');
outcome($dave, GET => '/api/blog/acme/posts', 403, 'tenant_mismatch');
outcome($ops, GET => '/api/blog/acme/posts', 200);
outcome($bob, GET => '/api/billing/acme/users/bob/invoices', 200);
outcome($bob, GET => '/api/billing/acme/invoices', 403, 'insufficient_scope');
outcome($erin, GET => '/api/billing/acme/invoices', 200);
outcome($alice, PUT => '/api/settings/acme/members/bob', 200);
outcome($bob, PUT => '/api/settings/acme/members/bob', 403,
    'insufficient_scope');
outcome($alice, GET => '/api/blog/acme/comments', 403, 'forbidden');
outcome(undef, GET => '/api/blog/acme/posts', 401, 'missing_token');
outcome(undef, GET => '/public/blog/acme/feed', 200);
outcome(undef, GET => '/public/admin', 403, 'forbidden');
outcome($dave, GET => '/public/blog/acme/feed', 200);

# more of the configuration

outcome($star, GET => '/api/blog/acme/posts', 403, 'tenant_mismatch');
outcome($dave, GET => '/api/chatbot/globex/slots/1', 200);
outcome($dave, GET => '/api/settings/globex/profile', 403,
    'service_disabled');
outcome($carol, HEAD => '/api/blog/acme/posts/1', 200);
outcome($carol, GET => '/api/settings/acme/profile', 200);
outcome($bob, GET => '/api/blog/acme/posts/%2E%2E/%2E%2E/globex/posts', 403,
    'tenant_mismatch');
outcome($bob, GET => '/nothing', 404);
outcome(undef, GET => '/public/status', 200);

# the identity headers bob's allowed request carries upstream, with the
# token of docs/rules.md (its members in that order)

my $bob_doc = raw_jwt('{"alg":"RS256","typ":"JWT","kid":"dev-1"}',
    '{"iss":"https://manager.local","aud":"api.local","sub":"bob",'
    . '"tid":"acme","exp":' . (time + 600) . ',"permissions":[],'
    . '"roles":["role_editor"],'
    . '"services":{"blog":{"enabled":true},"chatbot":{"enabled":false},'
    . '"settings":{"enabled":true},"billing":{"enabled":true}}}');

my $r = $t->req('PUT', '/api/blog//acme/posts/17?x=1', token => $bob_doc,
    body => '', headers => ['X-User-Id' => 'admin',
        'X-User-Permissions' => 'blog:*', 'X-User-Services' => 'billing']);
my $e = parse_echo($r);
is($r->{status}, 200, 'bob: PUT allowed');
is($e->{'x-user-id'}, 'bob', 'bob: X-User-Id');
is($e->{'x-tenant-id'}, 'acme', 'bob: X-Tenant-Id');
is($e->{'x-user-permissions'}, $editor, 'bob: X-User-Permissions from the role');
is($e->{'x-user-services'}, 'blog,settings,billing', 'bob: X-User-Services');
is($e->{authorization}, '', 'authz_forward_token off');
is($e->{uri}, '/api/blog/acme/posts/17', 'normalized URI upstream');
is($e->{args}, 'x=1', 'query string upstream');

$e = parse_echo($t->get('/public/status',
    headers => ['X-User-Id' => 'admin', 'X-Tenant-Id' => 'globex']));
is($e->{'x-user-id'} . $e->{'x-tenant-id'}, '', 'anonymous: spoofed stripped');

$e = parse_echo($t->get('/public/status', token => $carol));
is($e->{'x-user-id'}, 'carol', 'public route with a token: identity');

# challenges and token checks

$r = $t->req('DELETE', '/api/blog/acme/posts/17', token => $bob);
is($r->{headers}{'www-authenticate'}, 'Bearer realm="api", '
    . 'error="insufficient_scope", scope="blog:posts.delete blog:posts.admin"',
    'scope names both alternatives');

$r = $t->get('/api/blog/acme/posts');
is($r->{headers}{'www-authenticate'}, 'Bearer realm="api"',
    'missing token challenge');

my $now = time;

outcome(mint(@iss, sub => 'bob', tid => 'acme', roles => ['role_editor'],
    services => $acme, iat => $now - 300, exp => $now - 10),
    GET => '/api/blog/acme/posts/1', 200, undef, 'leeway 30s');
invalid(mint_cli(@cli, '--sub', 'bob', '--tenant', 'acme', '--role',
    'role_editor', @acme, '--iat', '-5m', '--exp', '-60'), 'token expired');
invalid(mint(@iss, sub => 'bob', tid => 'acme', roles => ['role_editor'],
    services => $acme, iss => 'https://issuer.test'), 'issuer not accepted');
invalid(mint(@iss, sub => 'bob', tid => 'acme', roles => ['role_editor'],
    services => $acme, aud => 'api.test'), 'audience not accepted');
invalid(mint(@iss, sub => 'bob', tid => 'acme', roles => ['role_editor'],
    services => $acme, _kid => 'dev-2'), 'unknown key id');
invalid(mint(@iss, sub => 'bob', tid => 'acme', roles => ['role_editor'],
    services => $acme, _key => 'k2'), 'signature verification failed');
invalid(hs256_with_pubkey(@iss, _kid => 'dev-1', sub => 'bob',
    tid => 'acme', roles => ['role_editor'], services => $acme),
    'algorithm not allowed');

###############################################################################

# audit-log.conf: the same issuer, a JSON access log

$t->write_file_expand('nginx.conf', $audit);
$t->restart;

my $jti = '0123456789abcdef0123456789abcdef';
my $bob2 = mint_cli(@cli, '--sub', 'bob', '--tenant', 'acme',
    '--perm', 'blog:posts.read', '--perm', 'blog:posts.update',
    '--service', 'blog', '--jti', $jti);
my @sig = split /\./, $bob2;

my @requests = (
    [GET => '/api/blog/acme/posts/1', $bob2, 200],
    [POST => '/api/blog/acme/posts', $bob2, 403],
    [GET => '/api/blog/acme/posts/1?token=secret', "$sig[0].$sig[1].AAAA", 401],
    [GET => '/api/blog/acme/posts/1', undef, 401],
    [GET => '/public/status', undef, 200],
    [GET => '/api/blog/acme/posts/2', mint(@iss, sub => 'carol', tid => 'acme',
        permissions => ['blog:posts.read'],
        services => { blog => { enabled => $true } }), 200],
);

for (@requests) {
    my ($method, $uri, $token, $status) = @$_;
    is($t->req($method, $uri, token => $token, body => '')->{status}, $status,
        "audit: $method $uri");
}

my @fields = qw(authz_error authz_reason authz_result jti kid method
    permissions remote_addr status sub tenant time uri);

my @log = lines('audit.log');
is(scalar @log, scalar @requests, 'audit: one line per request');

my $json = JSON::PP->new;
my @rec = map { eval { $json->decode($_) } } @log;
is(scalar(grep { ref eq 'HASH' } @rec), scalar @log,
    'audit: every line is a JSON object') or diag(join "\n", @log);
is_deeply([map { join ' ', sort keys %$_ } @rec],
    [(join ' ', @fields) x @rec], 'audit: the fields');

my @summary = map { join ' ', @$_{qw(method uri status authz_result
    authz_error sub tenant kid)} } @rec;

is_deeply(\@summary, [
    'GET /api/blog/acme/posts/1 200 allow  bob acme dev-1',
    'POST /api/blog/acme/posts 403 deny insufficient_scope bob acme dev-1',
    'GET /api/blog/acme/posts/1 401 deny invalid_token   dev-1',
    'GET /api/blog/acme/posts/1 401 deny missing_token   ',
    'GET /public/status 200 anonymous    ',
    'GET /api/blog/acme/posts/2 200 allow  carol acme dev-1',
], 'audit: decisions and identities');

is($rec[0]{jti}, $jti, 'audit: jti');
is($rec[0]{permissions}, 'blog:posts.read,blog:posts.update',
    'audit: permissions');
is($rec[0]{authz_reason}, '', 'audit: no reason when allowed');
is($rec[1]{authz_reason}, 'permission missing', 'audit: reason of a 403');
is($rec[2]{authz_reason}, 'signature verification failed',
    'audit: reason of a 401');
is($rec[2]{jti} . $rec[2]{sub} . $rec[2]{permissions}, '',
    'audit: no claims of an invalid token');
ok((grep { $_->{status} =~ /^\d+$/ && !ref $_->{status} } @rec) == @rec,
    'audit: status is a number');
like($rec[0]{time}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/,
    'audit: time is ISO 8601');
is($rec[0]{remote_addr}, '127.0.0.1', 'audit: remote_addr');

my $all = join "\n", @log;
unlike($all, qr/\Q$sig[2]\E|\Q$sig[1]\E/, 'audit: no token logged');
unlike($all, qr/secret/, 'audit: no query string logged');

my @deny = map { $json->decode($_) } lines('deny.log');
is_deeply([map { "$_->{status} $_->{authz_error}" } @deny],
    ['403 insufficient_scope', '401 invalid_token', '401 missing_token'],
    'deny.log: denials only');

###############################################################################

# an example file with its placeholders replaced, and an echo upstream
# added to its http block (the demo upstream of make demo)
sub example {
    my ($name) = @_;

    open my $fh, '<', "$examples/$name" or die "open $examples/$name: $!";
    my $conf = do { local $/; <$fh> };
    close $fh;

    my %ph = (MODULE => $t->module, KEYS => '%%TESTDIR%%/keys',
        PORT => '%%PORT_8080%%', UPSTREAM => '%%ECHO%%');
    # a static build (AUTHZ_STATIC=1) has the module inside nginx
    $conf =~ s/^load_module %%MODULE%%;\n//m unless $t->module;
    $conf =~ s/%%(MODULE|KEYS|PORT|UPSTREAM)%%/$ph{$1}/g;
    die "$name: unknown placeholder $1\n" if $conf =~ /%%(\w+)%%/
        && $1 !~ /^(TESTDIR|PORT_8080|ECHO)$/;

    # nginx runs in the foreground under AUTHZ_NGINX_PREFIX_CMD
    $conf =~ s/^(pid\s)/daemon off;\n$1/m if $ENV{AUTHZ_NGINX_PREFIX_CMD};

    my $echo = join '', map { "$_=\$" . echo_var($_) . '\n' }
        qw(uri args method x-user-id x-tenant-id x-user-permissions
            x-user-services authorization);

    # the last "}" closes the http block
    my $end = rindex $conf, '}';
    die "$name: no closing brace of the http block\n" if $end < 0;
    substr($conf, $end, 0) = "    server {\n        listen  %%ECHO%%;\n"
        . "        access_log off;\n"
        . "        location / { default_type text/plain;"
        . " return 200 \"$echo\"; }\n    }\n";

    return $conf;
}

sub echo_var {
    my ($n) = @_;
    return { uri => 'uri', args => 'args', method => 'request_method' }->{$n}
        // 'http_' . ($n =~ tr/-/_/r);
}

sub outcome {
    my ($token, $method, $uri, $status, $error, $name) = @_;

    my $r = $t->req($method, $uri, token => $token,
        body => $method =~ /^(POST|PUT|PATCH)$/ ? '' : undef);
    my $got = $r->{status} // 'none';
    if (defined $error) {
        my $b = eval { decode_json($r->{body}) } // {};
        $got .= ' ' . ($b->{error} // '');
    }

    my $who = defined $token ? eval {
        decode_json(b64url_decode((split /\./, $token)[1]))->{sub} } : '-';

    is($got, join(' ', grep { defined } $status, $error),
        $name // "$who: $method $uri");
}

sub invalid {
    my ($token, $reason) = @_;

    my $r = $t->get('/api/blog/acme/posts/1', token => $token);
    is("$r->{status} " . ($r->{headers}{'www-authenticate'} // ''),
        '401 Bearer realm="api", error="invalid_token", '
        . "error_description=\"$reason\"", "invalid: $reason");
}

sub lines {
    my ($name) = @_;
    return grep { length } split /\n/, $t->read_file($name) // '';
}

###############################################################################
