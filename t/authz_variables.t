#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for the $authz_* variables: values in a JSON access log
# (log_format escape=json), in add_header and in proxy_set_header;
# $authz_result, $authz_error and $authz_reason for every kind of
# denial; reading a variable before the access phase (limit_req_zone,
# set, map) verifies the token then, once.

###############################################################################

use warnings;
use strict;

use Test::More;

use JSON::PP;
use Time::HiRes qw(sleep);

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

    log_format authz escape=json
        '{"uri":"$request_uri","status":"$status",'
        '"sub":"$authz_sub","tenant":"$authz_tenant",'
        '"permissions":"$authz_permissions","services":"$authz_services",'
        '"roles":"$authz_roles","kid":"$authz_kid","jti":"$authz_jti",'
        '"exp":"$authz_exp","iss":"$authz_iss",'
        '"email":"$authz_claim_email","groups":"$authz_claim_groups",'
        '"meta":"$authz_claim_meta","mixed":"$authz_claim_mixed",'
        '"count":"$authz_claim_count","flag":"$authz_claim_flag",'
        '"nul":"$authz_claim_nul","missing":"$authz_claim_missing",'
        '"evil":"$authz_claim_evil","evil2":"$authz_claim_evil2",'
        '"quote":"$authz_claim_quote","given":"$authz_claim_givenName",'
        '"result":"$authz_result","error":"$authz_error",'
        '"reason":"$authz_reason","cache":"$authz_cache"}';

    limit_req_zone $authz_tenant zone=t:1m rate=1r/m;

    map $authz_tenant $tenant_class {
        default  none;
        acme     gold;
        globex   silver;
    }

    authz_role role_editor blog:posts.read blog:posts.update;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        access_log %%TESTDIR%%/authz.log authz;

        authz on;
        authz_key_file %%KEYDIR%%/k1.pub kid=k1;

        location /on/ {
            add_header X-Sub "$authz_sub" always;
            add_header X-Meta "$authz_claim_meta" always;
            add_header X-Evil "[$authz_claim_evil]" always;
            add_header X-Result "$authz_result" always;
            proxy_pass http://%%ECHO%%;
        }

        location /off/ {
            authz off;
            add_header X-Result "$authz_result" always;
            proxy_pass http://%%ECHO%%;
        }

        location /opt/ {
            authz optional;
            add_header X-Result "$authz_result" always;
            proxy_pass http://%%ECHO%%;
        }

        location /optreq/ {
            authz optional;
            authz_require blog:posts.read;
            proxy_pass http://%%ECHO%%;
        }

        location /req/ {
            authz_require blog:posts.delete;
            proxy_pass http://%%ECHO%%;
        }

        location /small/ {
            authz_max_token_size 600;
            proxy_pass http://%%ECHO%%;
        }

        location /iss/ {
            authz_issuer https://other.test;
            proxy_pass http://%%ECHO%%;
        }

        location /aud/ {
            authz_audience other.test;
            proxy_pass http://%%ECHO%%;
        }

        location /tenant/ {
            authz_tenant $http_x_tenant_id;
            proxy_pass http://%%ECHO%%;
        }

        location /svc/ {
            authz_service chat;
            proxy_pass http://%%ECHO%%;
        }

        location /cond/ {
            authz_condition $arg_ok;
            proxy_pass http://%%ECHO%%;
        }

        location /rules/ {
            authz_rule GET /rules/open public;
            authz_rule GET "/rules/t/{tenant}" blog:posts.read;
            authz_rule GET "/rules/u/{sub}" blog:posts.read;
            proxy_pass http://%%ECHO%%;
        }

        location /limit/ {
            limit_req zone=t nodelay;    # burst 0: nginx 1.22 refuses "burst=0"
            proxy_set_header Cookie "class=$tenant_class";
            proxy_pass http://%%ECHO%%;
        }

        location /map/ {
            proxy_set_header Cookie "class=$tenant_class; sub=$authz_sub";
            proxy_pass http://%%ECHO%%;
        }

        location /ep/ {
            authz_require blog:posts.delete;
            error_page 403 /denied;
            proxy_pass http://%%ECHO%%;
        }

        location = /denied {
            authz off;
            proxy_pass http://%%ECHO%%;
        }

        location /early/ {
            set $early $authz_tenant;
            add_header X-Early "[$early]" always;
            proxy_pass http://%%ECHO%%;
        }
    }

    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  localhost;

        access_log %%TESTDIR%%/authz.log authz;

        authz on;
        authz_key_file %%KEYDIR%%/k1.pub kid=k1;

        set $early $authz_sub;
        add_header X-Early "[$early]" always;

        location / {
            proxy_pass http://%%ECHO%%;
        }

        location /k2/ {
            authz_key_file %%KEYDIR%%/k2.pub kid=k2;
            proxy_pass http://%%ECHO%%;
        }
    }
}

EOF

$t->run->plan(78);

###############################################################################

my $now = time();
my $kd = keydir();
my $id = 0;

# every variable from one token, written as exact JSON

my $token = raw_jwt('{"alg":"RS256","typ":"JWT","kid":"k1"}', '{'
    . '"iss":"https://issuer.test","aud":"api.test","sub":"alice",'
    . '"tid":"acme","iat":' . $now . ',"nbf":' . $now . ','
    . '"exp":' . ($now + 600) . ',"jti":"jti-42",'
    . '"permissions":["blog:posts.read","crm:leads.read","blog:posts.read"],'
    . '"services":{"blog":{"enabled":true},"chat":{"enabled":false},'
    . '"crm":{"enabled":true}},'
    . '"roles":["role_editor","role_unknown"],'
    . '"email":"alice@example.com","groups":["admins","devs"],'
    . '"meta":{"plan":"pro","seats":5,"tags":["a","b"]},'
    . '"mixed":[1,"a",true],"count":42,"flag":true,"nul":null,'
    . '"evil":"a\nb","evil2":["x","y\u0001"],"quote":"say \"hi\"",'
    . '"givenName":"Alice"}');

my ($r, $l) = logged('/on/', token => $token);

is($r->{status}, 200, 'allowed');
is($l->{sub}, 'alice', 'sub');
is($l->{tenant}, 'acme', 'tenant');
is($l->{permissions}, 'blog:posts.read,crm:leads.read,blog:posts.update',
    'permissions with roles, duplicates removed');
is(parse_echo($r)->{'x-user-permissions'}, $l->{permissions},
    'permissions as forwarded');
is($l->{services}, 'blog,crm', 'services enabled');
is($l->{roles}, 'role_editor,role_unknown', 'roles');
is($l->{kid}, 'k1', 'kid');
is($l->{jti}, 'jti-42', 'jti');
is($l->{exp}, $now + 600, 'exp');
is($l->{iss}, 'https://issuer.test', 'iss');
is($l->{email}, 'alice@example.com', 'claim string');
is($l->{groups}, 'admins,devs', 'claim array joined');
is($l->{meta}, '{"plan":"pro","seats":5,"tags":["a","b"]}',
    'claim object as compact json');
is($l->{mixed}, '[1,"a",true]', 'claim mixed array as json');
is($l->{count}, '42', 'claim number');
is($l->{flag}, 'true', 'claim boolean');
is($l->{nul}, '', 'claim null');
is($l->{missing}, '', 'claim missing');
is($l->{evil}, '', 'claim with a newline not found');
is($l->{evil2}, '', 'claim array with a control character not found');
is($l->{quote}, 'say "hi"', 'claim with a quote');

# regression (was a bug): nginx lowercases variable names, and the module then looks up
# the claim "givenname": $authz_claim_givenName is empty although the
# token has "givenName" (SPEC 6: any top-level claim)
is($l->{given}, 'Alice', 'claim name with upper case letters');
is($l->{result}, 'allow', 'result allow');
is($l->{error} . $l->{reason}, '', 'no error on allow');
is($l->{cache}, 'off', 'cache off');

is($r->{headers}{'x-sub'}, 'alice', 'sub in add_header');
is($r->{headers}{'x-meta'}, '{"plan":"pro","seats":5,"tags":["a","b"]}',
    'claim object in add_header');
is($r->{headers}{'x-evil'}, '[]', 'newline claim in add_header');
is($r->{headers}{'x-result'}, 'allow', 'result in add_header');

# a token from authz-mint

($r, $l) = logged('/on/', token => mint_cli('--key', "$kd/k1.key",
    '--kid', 'k1', '--iss', 'https://cli.test', '--sub', 'bob',
    '--tenant', 'globex', '--perm', 'crm:leads.read', '--role', 'role_editor',
    '--service', 'crm', '--service', 'blog=false', '--jti', 'cli-1',
    '--claim', 'email=bob@example.com', '--json', '{"groups":["ops"]}'));

is_deeply([ @$l{qw(status sub tenant permissions services roles jti iss
    email groups)} ], [ 200, 'bob', 'globex',
    'crm:leads.read,blog:posts.read,blog:posts.update', 'crm', 'role_editor',
    'cli-1', 'https://cli.test', 'bob@example.com', 'ops' ],
    'cli token variables') or diag(explain($l));

# $authz_result

($r, $l) = logged('/off/', token => $token);
ok($r->{status} == 200 && $l->{result} eq 'off'
    && $r->{headers}{'x-result'} eq 'off', 'result off');
is($l->{sub} . $l->{tenant} . $l->{email}, '', 'no identity where off');

($r, $l) = logged('/off/');
is($l->{result}, 'off', 'result off without token');

($r, $l) = logged('/opt/');
ok($r->{status} == 200 && $l->{result} eq 'anonymous'
    && $r->{headers}{'x-result'} eq 'anonymous', 'result anonymous');
is($l->{sub} . $l->{error}, '', 'anonymous has no identity and no error');

($r, $l) = logged('/opt/', token => $token);
ok($r->{status} == 200 && $l->{result} eq 'allow' && $l->{sub} eq 'alice',
    'result allow where optional');

($r, $l) = logged('/opt/', token => mint(exp => $now - 60));
ok($r->{status} == 401 && $l->{result} eq 'deny'
    && $l->{error} eq 'invalid_token', 'result deny where optional');

# $authz_error and $authz_reason of every denial

denied('/on/', undef, 401, 'missing_token', 'no token was provided',
    'no token');
denied('/on/', 'abc', 401, 'invalid_token', 'malformed token', 'malformed');
denied('/on/', mint(_key => 'k2'), 401, 'invalid_token', 'unknown key id',
    'unknown kid');
denied('/on/', mint(_key => 'k2', _kid => 'k1'), 401, 'invalid_token',
    'signature verification failed', 'bad signature');
denied('/on/', mint(exp => $now - 60), 401, 'invalid_token',
    'token expired', 'expired');
denied('/on/', mint(permissions => 7), 401, 'invalid_token',
    'invalid claim', 'bad permissions claim');
denied('/on/', mint(nbf => $now + 600), 401, 'invalid_token',
    'token not yet valid', 'not yet valid');
denied('/on/', mint(iat => $now + 600, nbf => $now), 401, 'invalid_token',
    'token issued in the future', 'issued in the future');
denied('/on/', mint(exp => undef), 401, 'invalid_token',
    'token has no expiry', 'no expiry');
denied('/on/', mint(_alg => 'PS256'), 401, 'invalid_token',
    'algorithm not allowed', 'algorithm');
denied('/on/', raw_jwt('{"alg":"RS256","kid":"k1","crit":["x"]}',
    '{"sub":"alice","tid":"acme","exp":' . ($now + 600) . '}'), 401,
    'invalid_token', 'unsupported critical header', 'crit');
denied('/small/', mint(pad => 'x' x 600), 401, 'invalid_token',
    'token too large', 'too large');
denied('/iss/', $token, 401, 'invalid_token', 'issuer not accepted',
    'issuer');
denied('/aud/', $token, 401, 'invalid_token', 'audience not accepted',
    'audience');
denied('/on/', undef, 401, 'invalid_token', 'malformed token',
    'basic scheme', headers => [Authorization => 'Basic dXNlcjpwYXNz']);
denied('/optreq/', undef, 401, 'missing_token', 'no token was provided',
    'optional, requirement without token');
denied('/req/', $token, 403, 'insufficient_scope', 'permission missing',
    'insufficient scope');
denied('/tenant/', $token, 403, 'tenant_mismatch',
    'token is for another tenant', 'tenant mismatch',
    headers => ['X-Tenant-Id' => 'globex']);
denied('/tenant/', $token, 403, 'tenant_mismatch', 'request names no tenant',
    'no tenant');
denied('/svc/', $token, 403, 'service_disabled',
    'service not enabled for the tenant', 'service disabled');
denied('/cond/', $token, 403, 'forbidden', 'condition not met',
    'condition');
denied('/rules/other', $token, 403, 'forbidden', 'no rule matched',
    'no rule');
denied('/rules/t/globex', $token, 403, 'tenant_mismatch',
    'path names another tenant', 'path tenant');
denied('/rules/u/bob', $token, 403, 'forbidden', 'path names another user',
    'path sub');

($r, $l) = logged('/on/', token => mint(_key => 'k2', _kid => 'k9'));
ok($l->{kid} eq 'k9' && $l->{sub} eq '', 'kid known for an invalid token');

($r, $l) = logged('/req/', token => $token);
ok($l->{sub} eq 'alice' && $l->{tenant} eq 'acme',
    'identity known on a 403');

# after an internal redirect (error_page), the log still has the result

($r, $l) = logged('/ep/', token => $token);
is_deeply([ $r->{status}, @$l{qw(result error sub)} ],
    [ 403, 'deny', 'insufficient_scope', 'alice' ], 'after error_page')
    or diag(explain($l));

# read before the access phase: limit_req_zone $authz_tenant

my $acme = mint(tid => 'acme');
my $globex = mint(tid => 'globex');

$r = $t->get('/limit/', token => $acme);
ok($r->{status} == 200 && parse_echo($r)->{cookie} eq 'class=gold',
    'limit first request');
is($t->get('/limit/', token => mint(tid => 'acme', sub => 'bob'))->{status},
    503, 'limit second request of the tenant');

my $pos = length($t->error_log);

$r = $t->get('/limit/', token => $globex);
ok($r->{status} == 200 && parse_echo($r)->{cookie} eq 'class=silver',
    'limit other tenant');

my $debug = substr($t->error_log, $pos);

is($t->get('/limit/')->{status}, 401, 'limit no token');
is($t->get('/limit/', token => mint(tid => 'acme', exp => $now - 60))
    ->{status}, 401, 'limit invalid token');

# map and set

$r = $t->get('/map/', token => $globex);
is(parse_echo($r)->{cookie}, 'class=silver; sub=alice', 'map');

$r = $t->get('/early/', token => $acme);
ok($r->{status} == 200 && $r->{headers}{'x-early'} eq '[acme]',
    'set in rewrite phase');

$r = $t->get('/early/', token => mint(_key => 'k2', _kid => 'k1'));
ok($r->{status} == 401 && $r->{headers}{'x-early'} eq '[]',
    'set in rewrite phase, invalid token');

# read in the server's rewrite phase, with the server's keys; the
# location's own keys decide access, the server key is not trusted there

$r = $t->get('/', token => $acme, port => 8081);
ok($r->{status} == 200 && $r->{headers}{'x-early'} eq '[alice]',
    'set at server level');
$r = $t->get('/k2/', token => $acme, port => 8081);
is($r->{status}, 401, 'server level read, location keys decide');
$r = $t->get('/k2/', token => mint(_key => 'k2'), port => 8081);
ok($r->{status} == 200 && $r->{headers}{'x-early'} eq '[]',
    'server level read, location keys allow');

# verified once: one access handler run for a request whose variables
# were read in preaccess, in map and in the log

SKIP: {
    skip 'no debug log', 2 unless $debug =~ /\[debug\]/;

    my $allowed = qr/authz allowed sub:"alice" tenant:"globex"/;
    my @h = $debug =~ /\[debug\] .*authz access handler$/mg;
    my @a = $debug =~ /\[debug\] .*$allowed$/mg;

    is(scalar @h, 1, 'access handler once');
    is(scalar @a, 1, 'allowed once');
}

###############################################################################

# a request, and its line of the access log as a hash

sub logged {
    my ($uri, %opt) = @_;

    $id++;
    $uri .= ($uri =~ /\?/ ? '&' : '?') . "id=$id";

    my $r = $t->get($uri, %opt);

    for (1 .. 50) {
        for my $line (split /\n/, $t->read_file('authz.log') // '') {
            next unless index($line, "\"uri\":\"$uri\"") >= 0;
            return ($r, JSON::PP->new->decode($line));
        }
        sleep 0.05;
    }

    diag("$uri not logged");
    return ($r, {});
}

sub denied {
    my ($uri, $token, $status, $error, $reason, $name, %opt) = @_;

    my ($r, $l) = logged($uri, defined $token ? (token => $token) : (),
        %opt);

    is_deeply([ $r->{status}, @$l{qw(status result error reason)} ],
        [ $status, $status, 'deny', $error, $reason ], $name)
        or diag(explain($l));
}

###############################################################################
