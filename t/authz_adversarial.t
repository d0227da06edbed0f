#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# An adversarial matrix beyond authz_token.t, authz_time.t and
# authz_paths.t: hostile kid values, JSON nested 1,000 deep, huge and
# boundary permission arrays, control characters in forwarded claims,
# odd NumericDates, Authorization header shapes, a token in a cookie and
# in the header at once, HTTP/1.0 without Host, oversize headers and
# HTTP/2.  Every row asserts the exact status; a 401 row also asserts
# error="invalid_token" (with the exact error_description where the
# module's reason is fixed) and that the request never reached the echo
# upstream, by its body and, at the end, by the echo server's access log.
# At the end the error log must hold no alert or crit and the worker
# must never have been restarted.
#
# The matrix runs three times: without the verified-token cache, then
# twice with it (authz_cache): a token that is signed but otherwise
# invalid is stored on its first use and is a cache hit on the second,
# where the claims must still be checked.  Rows for the cache follow.

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

$t->write_file_expand('authz.conf', <<'EOF');
        authz on;
        authz_key_file %%KEYDIR%%/k1.pub kid=k1;
        authz_key_file %%KEYDIR%%/k2.pub kid=k2;
        authz_issuer https://issuer.test;
        authz_audience api.test;
EOF

my $conf = <<'EOF';

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    # http level, so that the echo upstream too accepts the request
    # headers of a 4,096-permission token (X-User-Permissions and the
    # forwarded Authorization); the gateways set their own below
    large_client_header_buffers 4 80k;

    %%CACHE%%

    # nginx's defaults: 8k header buffers, 8k tokens
    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        # the echo server alone writes access.log
        access_log %%TESTDIR%%/gateway.log;
        large_client_header_buffers 4 8k;

        include %%TESTDIR%%/authz.conf;

        add_header X-Authz-Cache $authz_cache always;

        location / {
            proxy_pass http://%%ECHO%%;
        }

        location /cookie/ {
            authz_token $cookie_at;
            proxy_pass http://%%ECHO%%;
        }
    }

    # a 10 KB kid fits; X_User_Id is a header here, and must be stripped
    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  localhost;

        access_log %%TESTDIR%%/gateway.log;
        large_client_header_buffers 4 64k;
        underscores_in_headers on;

        include %%TESTDIR%%/authz.conf;
        authz_max_token_size 64k;

        location / {
            proxy_pass http://%%ECHO%%;
        }

        location /small/ {
            authz_max_token_size 8k;
            proxy_pass http://%%ECHO%%;
        }
    }

    # 4,097 short permissions fit (the ceiling of authz_max_token_size)
    server {
        listen       127.0.0.1:%%PORT_8082%%;
        server_name  localhost;

        access_log %%TESTDIR%%/gateway.log;
        large_client_header_buffers 4 80k;

        include %%TESTDIR%%/authz.conf;
        authz_max_token_size 64k;

        location / {
            proxy_pass http://%%ECHO%%;
        }
    }

    # HTTP/2 over cleartext (prior knowledge)
    server {
        listen       127.0.0.1:%%PORT_8083%% http2;
        server_name  localhost;

        access_log %%TESTDIR%%/gateway.log;

        include %%TESTDIR%%/authz.conf;

        location / {
            proxy_pass http://%%ECHO%%;
        }
    }
}

EOF

###############################################################################

my $kd = keydir();
my $now = time();
my $N = 0;              # request number, "?n=N" in every request
my @denied;             # request numbers that must not reach the echo
my $P = '';             # test name prefix of the current pass

my @cli = ('--key', "$kd/k1.key", '--kid', 'k1', '--iss', 'https://issuer.test',
    '--aud', 'api.test');
my @acme = ('--tenant', 'acme');

my $good = mint(permissions => ['blog:posts.read']);
my $good_cli = mint_cli(@cli, @acme, '--sub', 'carol',
    '--perm', 'blog:posts.read');

my $MALFORMED = 'malformed token';
my $CLAIM = 'invalid claim';
my $KID = 'unknown key id';
my $TRUE = JSON::PP::true();

(my $plain = $conf) =~ s/%%CACHE%%//;
$t->write_file_expand('nginx.conf', $plain);
$t->run->plan(573);

matrix();
phase_checks(0);

# the same matrix with the verified-token cache

(my $cached = $conf) =~ s/%%CACHE%%/authz_cache zone=adv:1m ttl=60s;/;
$t->write_file_expand('nginx.conf', $cached);

my $offset = length $t->error_log;
$t->restart;

# first use of each token: a miss (stored when signed); second: a hit for
# every signed token, the claims checked again

$P = 'cache miss: ';
matrix();

$P = 'cache hit: ';
matrix();

$P = 'cache: ';
cache_rows();
phase_checks($offset);

###############################################################################

sub matrix {

    # sanity: both token sources are accepted

    allow('valid mint token', $good);
    allow('valid authz-mint token', $good_cli, sub => 'carol');

    # kid: path traversal, SQL, NUL, control characters, wrong types, 10 KB

    deny("kid $_->[0]", mint(_kid => $_->[1]), $KID) for
        ['traversal ../k1', '../k1'],
        ['traversal k1/../k1', 'k1/../k1'],
        ['absolute key path', "$kd/k1.pub"],
        ['file name k1.pub', 'k1.pub'],
        ['/dev/stdin', '/dev/stdin'],
        ['sql quote', "k1' OR '1'='1"],
        ['sql comment', "k1'; DROP TABLE keys; --"],
        ['upper case K1', 'K1'],
        ['k1 with trailing space', 'k1 '],
        ['256 chars', 'k' x 256];

    deny("kid $_->[0]", raw_jwt($_->[1], claims_json()), $MALFORMED) for
        ['nul \\u0000', '{"alg":"RS256","kid":"\u0000"}'],
        ['k1\\u0000', '{"alg":"RS256","kid":"k1\u0000"}'],
        ['k1\\u0000 then ../x', '{"alg":"RS256","kid":"k1\u0000../x"}'],
        ['\\u0001', '{"alg":"RS256","kid":"k1\u0001"}'],
        ['newline', '{"alg":"RS256","kid":"k1\n"}'],
        ['del \\u007f', '{"alg":"RS256","kid":"k1\u007f"}'],
        ['utf-8', '{"alg":"RS256","kid":"k1\u00e9"}'],
        ['empty', '{"alg":"RS256","kid":""}'],
        ['null', '{"alg":"RS256","kid":null}'],
        ['number', '{"alg":"RS256","kid":1}'],
        ['array', '{"alg":"RS256","kid":["k1"]}'],
        ['object', '{"alg":"RS256","kid":{"k1":1}}'],
        ['257 chars', '{"alg":"RS256","kid":"' . ('k' x 257) . '"}'];

    my $longkid = mint(_kid => 'k' x 10240);
    deny('kid 10 KB', $longkid, $MALFORMED, port => 8081);
    deny('kid 10 KB over authz_max_token_size', $longkid, 'token too large',
        port => 8081, path => '/small/');
    deny('kid 10 KB, k1 then padding', mint(_kid => 'k1' . ' ' x 10238),
        $MALFORMED, port => 8081);

    # JSON nested 1,000 deep; the depth scan skips brackets inside strings

    my $deep_a = '[' x 1000 . ']' x 1000;
    my $deep_o = '{"a":' x 1000 . '1' . '}' x 1000;

    deny('payload arrays 1000 deep', payload_jwt(x => $deep_a), $MALFORMED);
    deny('payload objects 1000 deep', payload_jwt(x => $deep_o), $MALFORMED,
        port => 8081);
    deny('payload permissions 1000 deep',
        payload_jwt(permissions => '[' x 1000 . '"a"' . ']' x 1000),
        $MALFORMED);
    deny('header arrays 1000 deep',
        raw_jwt('{"alg":"RS256","kid":"k1","x":' . $deep_a . '}',
            claims_json()), $MALFORMED);
    deny('header objects 1000 deep',
        raw_jwt('{"alg":"RS256","kid":"k1","x":' . $deep_o . '}',
            claims_json()), $MALFORMED, port => 8081);
    deny('payload unbalanced 1000 open', payload_jwt(x => '[' x 1000),
        $MALFORMED);
    deny('payload 17 levels', payload_jwt(x => '[' x 16 . ']' x 16),
        $MALFORMED);
    allow('payload 16 levels', payload_jwt(x => '[' x 15 . ']' x 15));
    deny('header 17 levels', raw_jwt('{"alg":"RS256","kid":"k1","x":'
        . '[' x 16 . ']' x 16 . '}', claims_json()), $MALFORMED);
    allow('header 16 levels', raw_jwt('{"alg":"RS256","kid":"k1","x":'
        . '[' x 15 . ']' x 15 . '}', claims_json()));
    allow('1000 brackets inside a string',
        payload_jwt(x => '"' . '[{' x 1000 . '"'));
    allow('brackets after an escaped quote',
        payload_jwt(x => '"\\"' . '[' x 1000 . '"'));
    allow('authz-mint: brackets inside a string',
        mint_cli(@cli, @acme, '--sub', 'carol', '--claim', 'x=' . '[' x 1000),
        sub => 'carol');
    deny('authz-mint: 1000 deep claim',
        mint_cli(@cli, @acme, '--json', '{"x":' . $deep_a . '}'), $MALFORMED);

    # permissions: 4,097 (> 4096) refused, 4,096 accepted and forwarded
    # whole; short names, so that 4,097 fit in a 64k token

    my @p4097 = map { "p:a.$_" } 1 .. 4097;
    my @p4096 = @p4097[0 .. 4095];

    deny('4,097 permissions', mint(permissions => \@p4097), $CLAIM,
        port => 8082);
    deny('4,097 copies of one permission',
        mint(permissions => [('p:a.b') x 4097]), $CLAIM, port => 8082);
    deny('4,097 permissions in one string', mint(permissions => "@p4097"),
        $CLAIM, port => 8082);
    deny('authz-mint: 4,097 permissions',
        mint_cli(@cli, @acme, map({ ('--perm', $_) } @p4097)),
        $CLAIM, port => 8082);

    my $e = allow('4,096 permissions', mint(permissions => \@p4096),
        port => 8082);
    perms_ok('4,096 permissions forwarded whole', $e, \@p4096);

    $e = allow('authz-mint: 4,096 permissions',
        mint_cli(@cli, @acme, '--sub', 'carol', map { ('--perm', $_) } @p4096),
        port => 8082, sub => 'carol');
    perms_ok('authz-mint: 4,096 permissions forwarded whole', $e, \@p4096);

    $e = allow('4,096 permissions in one string',
        mint(permissions => join('  ', @p4096)), port => 8082);
    perms_ok('4,096 permissions in one string forwarded whole', $e, \@p4096);

    # control characters in forwarded claims: sub, tid and a permission

    for my $c (['\u0000', 'nul'], ['\u0001', '\u0001'], ['\u007f', 'del'],
        ['\n', 'newline'], ['\r', 'carriage return'])
    {
        my ($j, $what) = @$c;

        # a NUL never gets past jansson (JSON_ALLOW_NUL unset): malformed
        my $want = $what eq 'nul' ? $MALFORMED : $CLAIM;

        deny("$what in sub", payload_jwt(sub => qq{"ali${j}ce"}), $want);
        deny("$what in tid", payload_jwt(tid => qq{"ac${j}me"}), $want);
        # an invalid item of a permissions claim is ignored (SPEC 1)

        if ($what eq 'nul') {
            deny("$what in a permission", payload_jwt(permissions =>
                qq{["blog:posts.read","blog:${j}x"]}), $want);
            next;
        }

        perms_ok("$what in a permission: item ignored",
            allow("$what in a permission", payload_jwt(permissions =>
                qq{["blog:posts.read","blog:${j}x"]})), ['blog:posts.read']);
    }

    deny('authz-mint: \u0001 in sub',
        mint_cli(@cli, @acme, '--sub', "ali\x01ce"), $CLAIM);
    deny('authz-mint: newline in tid',
        mint_cli(@cli, '--sub', 'carol', '--tenant', "ac\nme"), $CLAIM);
    $e = allow('authz-mint: CRLF header injection in a permission',
        mint_cli(@cli, @acme, '--sub', 'carol',
            '--perm', "a\r\nX-User-Id: root"), sub => 'carol');
    is($e->{'x-user-permissions'}, '',
        "${P}authz-mint: CRLF item never forwarded");
    deny('tab in sub', mint(sub => "ali\tce"), $CLAIM);
    deny('utf-8 in sub', mint(sub => "al\x{e9}"), $CLAIM);
    deny('comma in sub', mint(sub => 'alice,root'), $CLAIM);
    deny('comma in tid', mint(tid => 'acme,globex'), $CLAIM);
    deny('space in sub', mint(sub => 'alice root'), $CLAIM);
    deny('empty sub', mint(sub => ''), $CLAIM);
    deny('sub as number', payload_jwt(sub => '42'), $CLAIM);

    # a permission with a comma or a space

    # SPEC 1: such an item is ignored, never forwarded, grants nothing

    for my $c (['comma in a permission',
            mint(permissions => ['blog:posts.read,admin:*', 'x:y'])],
        ['space in a permission',
            mint(permissions => ['blog:posts.read admin:*', 'x:y'])],
        ['comma in the permission string',
            mint(permissions => 'blog:posts.read,admin:* x:y')],
        ['authz-mint: comma in a permission',
            mint_cli(@cli, @acme, '--sub', 'alice',
                '--perm', 'blog:posts.read,admin:*', '--perm', 'x:y')],
        ['authz-mint: space in a permission',
            mint_cli(@cli, @acme, '--sub', 'alice',
                '--perm', 'blog:posts.read admin:*', '--perm', 'x:y')],
        ['empty permission', mint(permissions => ['', 'x:y'])],
        ['permission as number', payload_jwt(permissions => '[1,"x:y"]')])
    {
        perms_ok("$c->[0]: ignored", allow($c->[0], $c->[1]), ['x:y']);
    }

    perms_ok('semicolon in a permission: a scope token',
        allow('semicolon in a permission', mint(permissions => ['blog;x'])),
        ['blog;x']);
    deny('permissions as a number', payload_jwt(permissions => '1'),
        $CLAIM);

    # the space-separated string form splits on spaces (not an injection)

    $e = allow('permission string with spaces',
        mint(permissions => ' blog:posts.read   admin:users.read '));
    is($e->{'x-user-permissions'}, 'blog:posts.read,admin:users.read',
        "${P}permission string forwarded comma-joined");

    # NumericDates

    deny('exp as a string', payload_jwt(exp => '"' . ($now + 600) . '"'),
        $CLAIM);
    deny('exp as a numeric string with exponent', payload_jwt(exp => '"1e300"'),
        $CLAIM);
    allow('exp as a float', payload_jwt(exp => ($now + 600) . '.75'));
    allow('exp 1e300 (a valid, far NumericDate)', payload_jwt(exp => '1e300'));
    allow('exp 1.7976931348623157e308 (DBL_MAX)',
        payload_jwt(exp => '1.7976931348623157e308'));
    deny('exp 1e400 (overflows a double)', payload_jwt(exp => '1e400'),
        $MALFORMED);
    deny('exp beyond int64', payload_jwt(exp => '99999999999999999999'),
        $MALFORMED);
    deny('exp negative', payload_jwt(exp => '-1'), 'token expired');
    deny('exp -1e300', payload_jwt(exp => '-1e300'), 'token expired');
    deny('exp -0.0', payload_jwt(exp => '-0.0'), 'token expired');
    deny('exp 0', payload_jwt(exp => '0'), 'token expired');
    deny('authz-mint: exp negative',
        mint_cli(@cli, @acme, '--json', '{"exp":-1}'), 'token expired');
    deny('iat far in the future', mint(iat => $now + 86400 * 365 * 100,
        nbf => $now), 'token issued in the future');
    deny('iat 1e300', payload_jwt(iat => '1e300'),
        'token issued in the future');
    deny('authz-mint: iat far in the future',
        mint_cli(@cli, @acme, '--iat', '+3650d', '--nbf', '-1m', '--ttl', '1h'),
        'token issued in the future');
    deny('nbf 1e300', payload_jwt(nbf => '1e300'), 'token not yet valid');
    allow('nbf -1e300', payload_jwt(nbf => '-1e300'));

    # the Authorization header

    my $head = "GET /?n=%N% HTTP/1.1\r\nHost: localhost\r\n"
        . "Connection: close\r\n";

    my $r = raw($head . "Authorization: Bearer $good\r\n"
        . "Authorization: Bearer $good\r\n\r\n");
    status_ok('two identical Authorization headers', $r, 400);

    $r = raw($head . "authorization: Bearer $good\r\n"
        . "AUTHORIZATION: Bearer $good_cli\r\n\r\n");
    status_ok('two Authorization headers, other case', $r, 400);

    $r = raw($head . "Authorization: Bearer $good\r\nAuthorization:\r\n\r\n");
    status_ok('a valid and an empty Authorization header', $r, 400);

    allow('lowercase bearer', undef,
        headers => [Authorization => "bearer $good"]);
    allow('upper case BEARER', undef,
        headers => [Authorization => "BEARER $good_cli"], sub => 'carol');
    allow('spaces before the scheme (nginx skips them)', undef,
        headers => [Authorization => "   Bearer $good"]);

    # nginx removes trailing spaces (not tabs) from header values
    allow('trailing space (nginx trims it)', undef,
        headers => [Authorization => "Bearer $good "]);
    allow('trailing spaces (nginx trims them)', undef,
        headers => [Authorization => "Bearer $good   "]);

    deny('two spaces', undef, $MALFORMED,
        headers => [Authorization => "Bearer  $good"]);
    deny('tab separator', undef, $MALFORMED,
        headers => [Authorization => "Bearer\t$good"]);
    deny('space and tab', undef, $MALFORMED,
        headers => [Authorization => "Bearer \t$good"]);
    deny('trailing tab', undef, $MALFORMED,
        headers => [Authorization => "Bearer $good\t"]);
    deny('a space inside the token', undef, $MALFORMED,
        headers => [Authorization => "Bearer $good x"]);
    deny('two tokens comma-separated', undef, $MALFORMED,
        headers => [Authorization => "Bearer $good,Bearer $good"]);
    deny('scheme only', undef, $MALFORMED,
        headers => [Authorization => 'Bearer']);
    deny('scheme and a space only (trimmed)', undef, $MALFORMED,
        headers => [Authorization => 'Bearer ']);
    deny('empty Authorization', undef, $MALFORMED,
        headers => [Authorization => '']);
    deny('Bearer without a space', undef, $MALFORMED,
        headers => [Authorization => "Bearer$good"]);
    deny('Bearer: prefix', undef, $MALFORMED,
        headers => [Authorization => "Bearer: $good"]);
    deny('token scheme', undef, $MALFORMED,
        headers => [Authorization => "Token $good"]);
    deny('high bytes in the token', undef, $MALFORMED,
        headers => [Authorization => "Bearer $good\xff"]);

    # authz_token $cookie_at: only the cookie counts

    allow('cookie: bad header, good cookie', undef, path => '/cookie/',
        headers => [Authorization => 'Bearer forged.forged.forged',
            Cookie => "at=$good"]);
    allow('cookie: no header, authz-mint cookie', undef, path => '/cookie/',
        headers => [Cookie => "x=1; at=$good_cli; y=2"], sub => 'carol');
    deny('cookie: good header, bad cookie', undef, $MALFORMED,
        path => '/cookie/',
        headers => [Authorization => "Bearer $good", Cookie => 'at=forged']);
    deny('cookie: good header, expired cookie', undef, 'token expired',
        path => '/cookie/', headers => [Authorization => "Bearer $good",
            Cookie => 'at=' . mint(exp => $now - 60)]);
    deny('cookie: good header, cookie for another cookie name', undef,
        undef, path => '/cookie/', missing => 1,
        headers => [Authorization => "Bearer $good", Cookie => "xat=$good"]);

    # HTTP/1.0 without Host

    $r = raw("GET /?n=%N% HTTP/1.0\r\nAuthorization: Bearer $good\r\n\r\n",
        allowed => 1);
    status_ok('HTTP/1.0 without Host, valid token', $r, 200);
    is(parse_echo($r)->{'x-user-id'}, 'alice',
        "${P}HTTP/1.0 without Host: identity forwarded");

    $r = raw("GET /?n=%N% HTTP/1.0\r\n\r\n");
    status_ok('HTTP/1.0 without Host, no token', $r, 401);
    is($r->{headers}{'www-authenticate'}, 'Bearer realm="api"',
        "${P}HTTP/1.0 without Host: missing token challenge");

    $r = raw("GET /?n=%N% HTTP/1.0\r\n"
        . "Authorization: Bearer $good_cli.x\r\n\r\n");
    status_ok('HTTP/1.0 without Host, four-part token', $r, 401);

    # a 16 KB Authorization where the header buffers are nginx's 8k default:
    # nginx's own "Request Header Or Cookie Too Large", never a 5xx

    $r = raw($head . 'Authorization: Bearer ' . ('A' x 16384) . "\r\n\r\n");
    ok(defined $r->{status} && $r->{status} =~ /^(400|494)$/
        && $r->{body} !~ /^uri=/m, "${P}16 KB Authorization, default buffers")
        or diag($r->{status} // 'no answer');

    $r = raw($head . "Authorization: Bearer $good\r\n"
        . 'X-Pad: ' . ('A' x 16384) . "\r\n\r\n");
    ok(defined $r->{status} && $r->{status} =~ /^(400|494)$/
        && $r->{body} !~ /^uri=/m, "${P}valid token and a 16 KB header")
        or diag($r->{status} // 'no answer');

    # more limits: services (256) and roles (4096), as arrays and objects

    my @s257 = map { "svc$_" } 1 .. 257;

    deny('257 services', mint(services => \@s257), $CLAIM, port => 8082);
    deny('257 services as an object',
        mint(services => { map { $_ => { enabled => $TRUE } } @s257 }),
        $CLAIM, port => 8082);
    $e = allow('256 services', mint(services => [@s257[0 .. 255]]),
        port => 8082);
    is($e->{'x-user-services'}, join(',', @s257[0 .. 255]),
        "${P}256 services forwarded whole");

    # no authz_role and no $authz_roles here: the roles claim is never
    # read, whatever it holds (SPEC 2; t/authz_claims_roles.t reads it)

    allow('4,097 roles, unused', mint(roles => [map { "r$_" } 1 .. 4097]),
        port => 8082);
    allow('a role with a comma, unused', mint(roles => ['role_a,role_b']));
    deny('a service named with a comma',
        mint(services => { 'blog,admin' => { enabled => $TRUE } }),
        $CLAIM);
    deny('a service with "enabled": "true"',
        payload_jwt(services => '{"blog":{"enabled":"true"}}'), $CLAIM);

    # duplicate names spelled differently: jansson compares decoded names

    deny('sub twice, once as \u0075',
        payload_jwt(sub => '"alice","s\u0075b":"root"'), $MALFORMED);
    deny('permissions twice, once escaped',
        payload_jwt(permissions => '[],"perm\u0069ssions":["*"]'), $MALFORMED);
    deny('kid twice, once escaped',
        raw_jwt('{"alg":"RS256","kid":"k9","k\u0069d":"k1"}', claims_json()),
        $MALFORMED);
    deny('alg twice, once escaped',
        raw_jwt('{"alg":"none","\u0061lg":"RS256","kid":"k1"}', claims_json()),
        $MALFORMED);
    deny('nul in a claim name', payload_jwt('x\u0000' => '1'), $MALFORMED);
    deny('trailing data after the payload object',
        raw_jwt('{"alg":"RS256","kid":"k1"}', claims_json() . '{"sub":"root"}'),
        $MALFORMED);

    # header-level tricks nginx answers itself, or that must not spoof

    $r = raw("GET /?n=%N% HTTP/1.0\r\nAuthorization: Bearer\r\n $good\r\n\r\n");
    status_ok('obs-fold continuation line', $r, 400);

    $r = raw("GET /?n=%N% HTTP/1.0\r\nAuthorization : Bearer $good\r\n\r\n");
    status_ok('space before the colon', $r, 400);

    $r = raw("GET /?n=%N% HTTP/1.0\r\nAuthorization:Bearer $good\r\n\r\n",
        allowed => 1);
    status_ok('no space after the colon', $r, 200);

    $r = raw("GET /?n=%N% HTTP/1.0\r\nAuthorization: Bearer $good\0\r\n\r\n");
    status_ok('nul byte after the token', $r, 400);

    $e = allow('underscore variants of the identity headers', $good,
        port => 8081,
        headers => [X_User_Id => 'root', 'X-USER_PERMISSIONS' => '*',
            x_tenant_id => 'globex', 'X-User-Services' => 'admin']);
    ok($e->{'x-user-permissions'} eq 'blog:posts.read'
        && $e->{'x-user-services'} eq '',
        "${P}underscore variants stripped (underscores_in_headers on)");

    # two "at" cookies: nginx's $cookie_at is the first one

    allow('cookie: good then expired', undef, path => '/cookie/',
        headers => [Cookie => "at=$good; at=" . mint(exp => $now - 60)]);
    deny('cookie: expired then good', undef, 'token expired',
        path => '/cookie/',
        headers => [Cookie => 'at=' . mint(exp => $now - 60) . "; at=$good"]);

    # HTTP/2

    SKIP: {
        my $why = curl_h2_missing();
        skip "HTTP/2 tests: $why", 9 if $why;

        my $h = h2($good, ['X-User-Id: root', 'X-Tenant-Id: globex',
            'X-User-Permissions: *', 'X-User-Services: admin']);
        is($h->{status}, 200, "${P}h2: valid token");
        is($h->{version}, '2', "${P}h2: spoken");
        my $e = parse_echo($h->{body});
        is($e->{'x-user-id'}, 'alice', "${P}h2: identity forwarded");
        is($e->{'x-user-permissions'}, 'blog:posts.read',
            "${P}h2: spoofed x-user-permissions stripped");
        ok($e->{'x-tenant-id'} eq 'acme' && $e->{'x-user-services'} eq '',
            "${P}h2: spoofed tenant and services stripped");

        $h = h2($good_cli);
        is(parse_echo($h->{body})->{'x-user-id'}, 'carol',
            "${P}h2: authz-mint token");

        my @p = split /\./, $good;
        my $sig = b64url_decode($p[2]);
        substr($sig, 0, 1) ^= "\x01";
        $h = h2("$p[0].$p[1]." . b64url($sig), ['X-User-Id: root']);
        ok($h->{status} == 401 && ($h->{headers}{'www-authenticate'} // '') eq
            'Bearer realm="api", error="invalid_token", '
                . 'error_description="signature verification failed"'
            && $h->{body} !~ /^uri=/m, "${P}h2: forged token")
            or diag("$h->{status} $h->{body}");

        $h = h2(undef, ['Authorization: Bearer ' . mint(exp => $now - 60),
            'X-User-Id: root']);
        ok($h->{status} == 401 && $h->{body} =~ /"error":"invalid_token"/
            && $h->{body} !~ /^uri=/m, "${P}h2: expired token")
            or diag("$h->{status} $h->{body}");

        $h = h2(undef, ["Authorization: Bearer $good",
            "Authorization: Bearer $good"]);
        ok($h->{status} == 400 && $h->{body} !~ /^uri=/m,
            "${P}h2: two Authorization headers")
            or diag("$h->{status} $h->{body}");
    }

}

sub cache_rows {

    # a hit skips the signature only

    is(cache_state($good), 'hit', "${P}a valid token is cached");

    my $fresh = mint(sub => 'dave');
    is(cache_state($fresh), 'miss', "${P}first use: miss");
    is(cache_state($fresh), 'hit', "${P}second use: hit");

    my @p = split /\./, $fresh;
    my $sig = b64url_decode($p[2]);
    substr($sig, 5, 1) ^= "\x01";
    deny('signature of a cached token flipped', "$p[0].$p[1]." . b64url($sig),
        'signature verification failed');
    (my $swapped = b64url_decode($p[1])) =~ s/"dave"/"root"/;
    deny('payload swapped under a cached signature',
        "$p[0]." . b64url($swapped) . ".$p[2]",
        'signature verification failed');

    # a signed token with a bad sub: stored, and still refused on a hit
    my $bad = mint(sub => "ali\x01ce");
    deny('bad sub, first use', $bad, $CLAIM);
    deny('bad sub, cache hit', $bad, $CLAIM);

    # the cache entry lives min(exp, ttl); exp beyond time_t is a far
    # NumericDate, the entry lives ttl

    my $far = payload_jwt(exp => '9.2e18');
    cache_state($far);
    is(cache_state($far), 'hit', "${P}exp 9.2e18: cached");

    for my $exp ('1e19', '1e300') {
        my $tok = payload_jwt(exp => $exp, sub => qq{"far$exp"});
        cache_state($tok);

        # BUG: ngx_http_authz_handler.c passes "(time_t) tok.exp" to
        # ngx_http_authz_cache_store(): a double beyond the time_t range
        # is undefined behaviour (x86-64 gives INT64_MIN), the entry is
        # dropped as already expired and every use is a miss
        is(cache_state($tok), 'hit', "${P}exp $exp: cached");
    }
}

# the X-Authz-Cache answer of a valid token (200 asserted)
sub cache_state {
    my ($token) = @_;

    my ($r) = request($token);
    is($r->{status}, 200, "${P}valid token, cache state")
        or diag(substr($r->{body}, 0, 200));

    return $r->{headers}{'x-authz-cache'} // '';
}

sub phase_checks {
    my ($offset) = @_;

    # nothing denied reached the echo upstream

    my %seen = map { $_ => 1 }
        ($t->read_file('access.log') // '') =~ /[?&]n=(\d+)/g;
    my @leaked = grep { $seen{$_} } @denied;
    ok(@denied > 100 && !@leaked,
        "${P}no denied request in the echo access log")
        or diag('leaked requests: ' . join(' ', @leaked));

    # no alert nor crit, no crash, the worker never restarted

    my $log = substr $t->error_log, $offset;
    $log =~ s/^.* \[debug\] .*\n//mg;

    unlike($log, qr/\[(alert|crit|emerg)\]/, "${P}no alert or crit");
    unlike($log, qr/exited on signal/, "${P}no worker crash");
    is(scalar(() = $log =~ /start worker process \d+/g), 1,
        "${P}one worker, never restarted");
}

###############################################################################

sub claims_json {
    return '{"iss":"https://issuer.test","aud":"api.test","sub":"alice",'
        . '"tid":"acme","exp":' . ($now + 600) . ',"permissions":[]}';
}

# a k1 token from the default claims as JSON texts, some replaced
sub payload_jwt {
    my (%json) = @_;

    my %c = (iss => '"https://issuer.test"', aud => '"api.test"',
        sub => '"alice"', tid => '"acme"', iat => $now, nbf => $now,
        exp => $now + 600, permissions => '[]', %json);

    return raw_jwt('{"alg":"RS256","typ":"JWT","kid":"k1"}',
        '{' . join(',', map { qq{"$_":$c{$_}} } sort keys %c) . '}');
}

sub request {
    my ($token, %o) = @_;

    my $id = ++$N;
    my $r = $t->get(($o{path} // '/') . "?n=$id", token => $token,
        port => $o{port}, headers => $o{headers});

    return ($r, $id);
}

# 401 invalid_token (or missing_token with missing => 1), never upstream
sub deny {
    my ($name, $token, $desc, %o) = @_;

    my ($r, $id) = request($token, %o);
    push @denied, $id;

    my $h = $r->{headers}{'www-authenticate'} // '';
    my $hok = $o{missing} ? $h eq 'Bearer realm="api"'
        : defined $desc ? $h eq 'Bearer realm="api", error="invalid_token", '
            . qq{error_description="$desc"}
        : $h =~ /^Bearer\ realm="api",\ error="invalid_token",
            \ error_description="[^"]+"$/x;

    my $err = $o{missing} ? 'missing_token' : 'invalid_token';

    ok(($r->{status} // 0) == 401 && $hok
        && $r->{body} =~ /^\{"error":"$err"/ && $r->{body} !~ /^uri=/m,
        "$P$name") or diag(($r->{status} // 'no answer') . " $h "
            . substr($r->{body}, 0, 200));
}

# 200 with the token's identity forwarded; returns the echo lines
sub allow {
    my ($name, $token, %o) = @_;

    my ($r) = request($token, %o);
    my $e = parse_echo($r);
    my $sub = $o{sub} // 'alice';

    ok(($r->{status} // 0) == 200 && ($e->{'x-user-id'} // '') eq $sub
        && ($e->{'x-tenant-id'} // '') eq 'acme', "$P$name")
        or diag(($r->{status} // 'no answer') . ' '
            . ($r->{headers}{'www-authenticate'} // '') . ' '
            . substr($r->{body}, 0, 200));

    return $e;
}

sub perms_ok {
    my ($name, $e, $want) = @_;

    my $got = $e->{'x-user-permissions'} // '';
    my $commas = $got =~ tr/,//;

    ok($commas == @$want - 1 && $got eq join(',', @$want), "$P$name")
        or diag("commas: $commas, length " . length($got));
}

# a raw request, "%N%" replaced by a fresh request number; a request
# number is recorded as denied unless allowed => 1
sub raw {
    my ($raw, %o) = @_;

    my $id = ++$N;
    $raw =~ s/%N%/$id/g;
    push @denied, $id unless $o{allowed};

    return parse_response($t->http($raw, port => $o{port}));
}

sub status_ok {
    my ($name, $r, $want) = @_;

    my $ok = ($r->{status} // 0) == $want;
    $ok &&= $r->{body} !~ /^uri=/m if $want != 200;
    $ok &&= ($r->{headers}{'www-authenticate'} // '') =~ /^Bearer realm="api"/
        if $want == 401;

    ok($ok, "$P$name") or diag(($r->{status} // 'no answer') . ' '
        . substr($r->{body}, 0, 200));
}

sub curl_h2_missing {
    my $v = `curl --version 2>/dev/null`;
    return 'curl is missing (apt-get install -y curl)' unless $v;
    return 'curl lacks HTTP/2 support' unless $v =~ /^Features:.*\bHTTP2\b/m;
    return '';
}

# GET over HTTP/2 with prior knowledge; { status, version, headers, body }
sub h2 {
    my ($token, $headers) = @_;

    my $id = ++$N;
    push @denied, $id;      # allowed ones are removed by the caller's check

    my $dir = $t->testdir;
    my @h = map { ('-H', $_) } @{ $headers // [] };
    push @h, '-H', "Authorization: Bearer $token" if defined $token;

    open my $fh, '-|', 'curl', '-sS', '--http2-prior-knowledge',
        '--max-time', $ENV{AUTHZ_TEST_TIMEOUT} || 10,
        '-D', "$dir/h2.head", '-o', "$dir/h2.body",
        '-w', '%{http_version}', @h,
        'http://127.0.0.1:' . $t->port(8083) . "/?n=$id"
        or die "curl: $!";
    my $version = do { local $/; <$fh> } // '';
    close $fh;

    my $head = $t->read_file('h2.head') // '';
    my %r = (version => $version, body => $t->read_file('h2.body') // '',
        headers => {});

    $r{status} = $head =~ m{^HTTP/\S+ (\d{3})} ? $1 : 0;
    for (split /\r?\n/, $head) {
        $r{headers}{ lc $1 } = $2 if /^([^:]+):\s*(.*?)\s*$/;
    }

    @denied = grep { $_ != $id } @denied if $r{status} == 200;

    return \%r;
}

###############################################################################
