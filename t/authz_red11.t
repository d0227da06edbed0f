#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Red-team tests of issue 11 (claims as providers issue them): hostile
# permission items, wildcards off, JSON Pointer edge cases, roles objects,
# token type and binding edge cases, header values taken from the JOSE
# header of a token that is then refused.

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

    authz_role admin blog:posts.delete;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        authz on;
        authz_key_file %%KEYDIR%%/k1.pub kid=k1;

        location / {
            proxy_pass http://%%ECHO%%;
        }

        location /scope/ {
            authz_permissions_claim scope permissions;
            proxy_pass http://%%ECHO%%;
        }

        location /nowild/ {
            authz_wildcards off;
            authz_require blog:posts.read;
            proxy_pass http://%%ECHO%%;
        }

        location /nowildsvc/ {
            authz_wildcards off;
            authz_service blog;
            authz_forward_permissions service;
            proxy_pass http://%%ECHO%%;
        }

        location /svc/ {
            authz_service blog;
            authz_forward_permissions service;
            proxy_pass http://%%ECHO%%;
        }

        location /ptr/ {
            authz_permissions_claim /a/b~1c/0 /~0x /;
            proxy_pass http://%%ECHO%%;
        }

        location /ptr2/ {
            authz_permissions_claim /arr/-;
            authz_tenant_claim /arr/01;
            proxy_pass http://%%ECHO%%;
        }

        location /roles/ {
            authz_require blog:posts.delete;
            proxy_pass http://%%ECHO%%;
        }

        location /typ/ {
            authz_token_type at+jwt;
            proxy_pass http://%%ECHO%%;
        }

        location /mtls/ {
            authz_token_binding mtls;
            proxy_pass http://%%ECHO%%;
        }

        location /ignore/ {
            authz_token_binding ignore;
            proxy_pass http://%%ECHO%%;
        }

        location /typvar/ {
            add_header X-Typ $authz_typ always;
            error_page 401 = @anon;
            proxy_pass http://%%ECHO%%;
        }

        location /typhdr/ {
            add_header X-Typ $authz_typ always;
            proxy_pass http://%%ECHO%%;
        }

        location @anon {
            authz off;
            proxy_set_header X-Typ $authz_typ;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }
    }

    server {
        listen       127.0.0.1:%%PORT_8082%%;
        server_name  localhost;

        authz on;
        authz_key_file %%KEYDIR%%/k1.pub kid=k1;
        authz_claim_header X-User-Email email;

        location / {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        # a level of its own: the server's X-User-Email is not forwarded
        # here, but a client's copy must not pass either
        location /groups/ {
            authz_claim_header X-Groups groups;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /groups/off/ {
            authz off;
            authz_claim_header X-Groups groups;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /redirect/ {
            authz_claim_header X-Other sub;
            error_page 404 = @groups;
            proxy_intercept_errors on;
            proxy_pass http://127.0.0.1:%%PORT_8081%%/404;
        }

        location @groups {
            authz_claim_header X-Groups groups;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }
    }

    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  localhost;

        location / {
            default_type text/plain;
            return 200 "typ=$http_x_typ
injected=$http_x_injected
email=$http_x_user_email
groups=$http_x_groups
other=$http_x_other
";
        }

        location /404 {
            return 404;
        }
    }
}

EOF

$t->run;

###############################################################################

sub echo { parse_echo($_[0]) }
my $r;

# permission items that break the header: none forwarded

$r = $t->get('/x', token => mint(permissions => ['ok:a', 'a"b', 'a\\b',
    'a b', 'x' x 256, 'y' x 257, "\x{e9}t\x{e9}", 'a,b', "a\tb", '', 5,
    { a => 1 }, ['n'], 'ok:a', JSON::PP::true]));
is($r->{status}, 200, 'hostile items: 200');
is(echo($r)->{'x-user-permissions'}, 'ok:a,' . 'x' x 256,
    'hostile items: only the valid, deduplicated');

$r = $t->get('/scope/x', token => mint(scope => "  r1   r2,r3 \tr4  r1 ",
    permissions => ['r2', 'p1']));
is(echo($r)->{'x-user-permissions'}, 'r1,r2,p1', 'scope string split');

# wildcards off

$r = $t->get('/nowild/x', token => mint(permissions => ['*', 'blog:*',
    'blog:posts.*']));
is($r->{status}, 403, 'wildcards off: no wildcard grant');

$r = $t->get('/nowildsvc/x', token => mint(permissions => ['*', 'blog:*',
    'chat:x'], services => ['blog']));
is(echo($r)->{'x-user-permissions'}, 'blog:*',
    'wildcards off, service: "*" not forwarded');

$r = $t->get('/svc/x', token => mint(permissions => ['*', 'blogx:a',
    'blog:a', 'blog', 'chat:x'], services => ['blog']));
is(echo($r)->{'x-user-permissions'}, '*,blog:a',
    'service: * and the service only');

# JSON Pointer

$r = $t->get('/ptr/x', token => mint(a => { 'b/c' => [['p1', 'p2']] },
    '~x' => ['p3'], '' => ['p4']));
is($r->{status}, 200, 'pointer: 200');
is(echo($r)->{'x-user-permissions'}, 'p1,p2,p3,p4', 'pointer: ~1 ~0 empty');

$r = $t->get('/ptr2/x', token => mint(arr => ['t1', 't2']));
is($r->{status}, 200, 'pointer: - and leading zero resolve to nothing');
is(echo($r)->{'x-tenant-id'}, '', 'pointer: leading zero is no index');

# roles object with hostile values

# the member names of a roles object are the roles, whatever the values
# (documented: ZITADEL's values are objects); a value of false grants too

$r = $t->get('/roles/x', token => mint(roles => { admin => JSON::PP::false }));
is($r->{status}, 200, 'roles object: member names, values not used');

$r = $t->get('/roles/x', token => mint(roles => 'user admin'));
is($r->{status}, 200, 'roles string');

# token type

for my $typ ('application/at+jwt', 'APPLICATION/AT+JWT', 'At+JwT') {
    $r = $t->get('/typ/x', token => mint(_header => { typ => $typ }));
    is($r->{status}, 200, "typ $typ accepted");
}

for my $typ ('at+jwt; charset=x', 'application/', 'application/at+jwt ',
    'jwt', 'application/application/at+jwt')
{
    $r = $t->get('/typ/x', token => mint(_header => { typ => $typ }));
    is($r->{status}, 401, "typ '$typ' refused");
}

$r = $t->get('/typ/x', token => mint(_header => { typ => ['at+jwt'] }));
is($r->{status}, 401, 'typ array refused');

# binding

$r = $t->get('/x', token => mint(cnf => { jkt => 'abc' }));
is($r->{status}, 401, 'cnf jkt refused by default');
$r = $t->get('/mtls/x', token => mint(cnf => { jkt => 'abc' }));
is($r->{status}, 401, 'cnf jkt under mtls refused');
$r = $t->get('/mtls/x', token => mint(cnf => 'x'));
is($r->{status}, 401, 'cnf string under mtls refused');
$r = $t->get('/mtls/x', token => mint(cnf => { 'x5t#S256' => 'abc' }));
is($r->{status}, 401, 'mtls over plain http refused');
my $exp = time + 600;
$r = $t->get('/x', token => raw_jwt('{"alg":"RS256","kid":"k1"}',
    '{"sub":"alice","exp":' . $exp . ',"cnf":null}'));
is($r->{status}, 401, 'cnf null refused by default');
$r = $t->get('/x', token => raw_jwt('{"alg":"RS256","kid":"k1"}',
    '{"sub":"alice","exp":' . $exp . ',"cnf":{}}'));
is($r->{status}, 401, 'cnf {} refused by default');
$r = $t->get('/mtls/x', token => raw_jwt('{"alg":"RS256","kid":"k1"}',
    '{"sub":"alice","exp":' . $exp . ',"cnf":{"x5t#S256":null}}'));
is($r->{status}, 401, 'cnf x5t#S256 null under mtls refused');
$r = $t->get('/ignore/x', token => mint(cnf => { jkt => 'abc' }));
is($r->{status}, 200, 'cnf ignored');

# $authz_typ of a refused token: no header injection on the deny path

my $hdr = '{"alg":"RS256","kid":"k1","typ":"JWT\r\nX-Injected: 1"}';
my $tok = raw_jwt($hdr, '{"sub":"alice","exp":' . (time + 600) . '}',
    sig => 'forged');
$r = $t->get('/typvar/x', token => $tok);
is($r->{status}, 200, 'typ with CRLF: the fallback answers');
unlike($r->{body}, qr/injected=1/, 'typ with CRLF: no header upstream');
$r = $t->get('/typhdr/x', token => $tok);
is($r->{status}, 401, 'typ with CRLF: 401');
ok(!exists $r->{headers}{'x-injected'}, 'typ with CRLF: no response header');
unlike($r->{raw}, qr/\r\nX-Injected/i, 'typ with CRLF: no CRLF in the response');


# authz_claim_header at two levels: the location's list replaces the
# server's for forwarding, but client copies of every name go

my @spoof = ('X-User-Email' => 'root@evil', 'X-Groups' => 'admins',
    'X-Other' => 'evil');
my $ct = mint(email => 'alice@example.com', groups => ['sales']);

$r = $t->get('/x', port => 8082, headers => \@spoof, token => $ct);
is(echo($r)->{email}, 'alice@example.com', 'claim header: server level');

$r = $t->get('/groups/x', port => 8082, headers => \@spoof,
    token => $ct);
is(echo($r)->{groups}, 'sales', 'claim header: location level');
is(echo($r)->{email}, '', 'claim header: client copy of the server level'
    . ' name removed where a location sets its own');

$r = $t->get('/groups/off/x', port => 8082, headers => \@spoof);
is($r->{status}, 200, 'claim header, authz off: 200');
is(echo($r)->{email}, '', 'claim header, authz off: server level name'
    . ' removed');
is(echo($r)->{groups}, '', 'claim header, authz off: own name removed');

$r = $t->get('/redirect/x', port => 8082, headers => \@spoof,
    token => $ct);
is(echo($r)->{groups}, 'sales', 'claim header, error_page: set');
is(echo($r)->{email}, '', 'claim header, error_page: server name removed');
is(echo($r)->{other}, '', 'claim header, error_page: first location\'s'
    . ' header removed');

# sub and tenant in the deny line: a '"' cannot end the field

$r = $t->get('/roles/x', token => mint(sub => 'x"requirement:"none',
    tid => 'a"b\\'));
is($r->{status}, 403, 'sub with a quote: 403');
like($t->error_log(nodebug => 1),
    qr/sub: "x\\"requirement:\\"none", tenant: "a\\"b\\\\", requirement: "blog/,
    'sub and tenant escaped in the deny line');

# a signed token with such a typ is refused too; a printable one is not

$r = $t->get('/typhdr/x', token => mint(_header => { typ => "JWT\nX: 1" }));
is($r->{status}, 401, 'signed typ with LF: 401');
ok(!exists $r->{headers}{'x-typ'}, 'signed typ with LF: $authz_typ empty');
like($t->error_log(nodebug => 1), qr/"typ" has a bad character/,
    'signed typ with LF: the reason logged');

$r = $t->get('/typhdr/x', token => mint(_header => { typ => 'at+jwt; a="b"' }));
is($r->{status}, 200, 'printable typ with spaces and quotes: 200');
is($r->{headers}{'x-typ'}, 'at+jwt; a="b"', 'printable typ: $authz_typ');

$t->done_testing();
