#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for the request state across internal redirects (issue 9): each
# location evaluates its own token source with its own keys, and never
# inherits a verification, an identity or a header value from another
# evaluation; variables read earlier with another configuration lend
# nothing; nginx's cached $http_x_user_id is forgotten when the module
# replaces the header; "authz_tenant" sees what the client sent.

###############################################################################

use warnings;
use strict;

use Test::More;

use POSIX ();

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

my $t = AuthzTest->new->has('module');

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    limit_req_zone $http_x_user_id zone=peruser:1m rate=1000r/s;
    limit_req_zone $binary_remote_addr zone=once:1m rate=1r/m;
    log_format lim '$status sub=$authz_sub';

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        root %%TESTDIR%%;

        authz_key_file  %%KEYDIR%%/k1.pub kid=k1;

        # a token verified in /a/, a forged one in the named locations

        location /a/ {
            authz on;
            try_files /nonexistent @b;
        }

        location @b {
            authz on;
            authz_token $http_x_token;
            error_page 401 = @c;
            proxy_pass http://%%ECHO%%;
        }

        location @c {
            authz on;
            authz_token $http_x_token;
            proxy_pass http://%%ECHO%%;
        }

        # the tenant check after a redirect

        location /t/ {
            authz on;
            try_files /nonexistent @t;
        }

        location @t {
            authz on;
            authz_tenant $http_x_tenant_id;
            proxy_pass http://%%ECHO%%;
        }

        location /tq/ {
            authz on;
            try_files /nonexistent @tq;
        }

        location @tq {
            authz on;
            authz_tenant $http_x_tenant_id;
            authz_forward off;
            authz_strip_headers off;
            proxy_pass http://%%ECHO%%;
        }

        # $http_x_user_id read in preaccess, before the headers change

        location /lr/ {
            authz on;
            limit_req zone=peruser burst=10;
            proxy_set_header X-User-Id $http_x_user_id;
            proxy_pass http://%%ECHO%%;
        }

        # an anonymous request after an allowed location

        location /an/ {
            authz on;
            try_files /nonexistent @anon;
        }

        location @anon {
            authz optional;
            authz_token $http_x_other;
            proxy_pass http://%%ECHO%%;
        }

        # a public rule that binds {tenant}

        location /pub/ {
            authz optional;
            authz_rule GET "/pub/t/{tenant}/**" public;
            authz_rule *   /pub/**              blog:posts.read;
            proxy_pass http://%%ECHO%%;
        }

        # authz_deny_status 404 and "satisfy any"

        location /sa/ {
            satisfy any;
            allow 127.0.0.1;
            deny all;
            authz on;
            authz_deny_status 404;
            authz_require blog:posts.admin;
            proxy_pass http://%%ECHO%%;
        }

        location /sn/ {
            satisfy any;
            deny all;
            authz on;
            authz_deny_status 404;
            authz_require blog:posts.admin;
            proxy_pass http://%%ECHO%%;
        }

        location /sn-page/ {
            satisfy any;
            deny all;
            authz on;
            authz_deny_status 404;
            authz_require blog:posts.admin;
            error_page 404 /404.html;
            proxy_pass http://%%ECHO%%;
        }

        location = /404.html {
        }

        # a 404 denial, then a location whose own "deny" answers 403

        location /s404/ {
            authz on;
            authz_deny_status 404;
            authz_require blog:posts.admin;
            error_page 404 = @s403;
            proxy_pass http://%%ECHO%%;
        }

        location @s403 {
            satisfy any;
            deny all;
            proxy_pass http://%%ECHO%%;
        }

        # chained error pages

        location /ce/ {
            authz on;
            error_page 401 /ce-err/;
            proxy_pass http://%%ECHO%%;
        }

        location /ce-err/ {
            authz on;
            authz_token $http_x_token;
            error_page 401 /page.json;
            proxy_pass http://%%ECHO%%;
        }

        location /cr/ {
            authz on;
            recursive_error_pages on;
            error_page 401 /cr-err/;
            proxy_pass http://%%ECHO%%;
        }

        location /cr-err/ {
            authz on;
            authz_token $http_x_token;
            recursive_error_pages on;
            error_page 401 /page.json;
            proxy_pass http://%%ECHO%%;
        }

        location = /page.json {
        }

        # a token from a cookie: a client's Bearer header does not travel

        location /ck/ {
            authz on;
            authz_token $cookie_at;
            proxy_pass http://%%ECHO%%;
        }

        # the allowing location does not forward: nor does its fallback

        location /fo/ {
            authz on;
            authz_forward off;
            try_files /nonexistent @fo;
        }

        location @fo {
            proxy_pass http://%%ECHO%%;
        }

        # variables where the module is off, after a denial

        location /dn/ {
            authz on;
            authz_require blog:posts.admin;
            error_page 403 = @dn;
            proxy_pass http://%%ECHO%%;
        }

        location @dn {
            proxy_pass http://%%ECHO%%/dn/?sub=$authz_sub;
        }

        # a denial by limit_req: no verification for the log line

        location /lim/ {
            authz on;
            limit_req zone=once;
            access_log %%TESTDIR%%/lim.log lim;
            proxy_pass http://%%ECHO%%;
        }

        # satisfy any with auth_basic and authz_forward_token off

        location /basic/ {
            satisfy any;
            auth_basic "staff";
            auth_basic_user_file %%TESTDIR%%/htpasswd;
            authz on;
            authz_forward_token off;
            proxy_pass http://%%ECHO%%;
        }

        location = /version {
            add_header X-Authz-Version $authz_version;
            empty_gif;
        }

        # identity headers under names CGI maps onto the same parameter

        location /raw/ {
            authz on;
            proxy_pass http://127.0.0.1:%%PORT_8083%%;
        }

        location /raw-off/ {
            proxy_pass http://127.0.0.1:%%PORT_8083%%;
        }
    }

    # variables read at the server level with the server's configuration

    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  localhost;

        ignore_invalid_headers off;

        authz on;
        authz_key_file  %%KEYDIR%%/k1.pub kid=k1;
        authz_token $http_x_token;

        set $early $authz_sub;

        location /v/ {
            authz_token off;
            proxy_pass http://%%ECHO%%/v/?early=$early;
        }

        location /v2/ {
            authz_token off;
            authz_key_file  %%KEYDIR%%/k2.pub kid=k2;
            proxy_pass http://%%ECHO%%/v2/?early=$early;
        }
    }

    server {
        listen       127.0.0.1:%%PORT_8082%%;
        server_name  localhost;

        ignore_invalid_headers off;
        underscores_in_headers on;

        authz_key_file  %%KEYDIR%%/k1.pub kid=k1;

        location /raw/ {
            authz on;
            proxy_pass http://127.0.0.1:%%PORT_8083%%;
        }

        location /raw-off/ {
            proxy_pass http://127.0.0.1:%%PORT_8083%%;
        }
    }
}

EOF

$t->write_file('page.json', qq({"page":"operator"}\n));
$t->write_file('htpasswd', "staff:{PLAIN}secret\n");
$t->write_file('404.html', "<p>operator 404</p>\n");

# an upstream that answers with the raw request it received

my $raw_port = $t->port(8083);
my $raw_pid = raw_upstream($raw_port);

$t->run->plan(54);

###############################################################################

my $bob = mint(sub => 'bob', tid => 'acme',
    permissions => ['blog:posts.read'], services => ['blog']);
my $forged = raw_jwt('{"alg":"RS256"}',
    '{"sub":"root","tid":"victim","exp":9999999999,"permissions":["*"]}',
    sig => "\0" x 256);
my $k2 = mint(sub => 'eve', _key => 'k2', _kid => 'k2');
my @spoof = ('X-User-Id' => 'mallory', 'X-Tenant-Id' => 'evil',
    'X-User-Permissions' => '*', 'X-User-Services' => 'all');

# 1. the signature bypass: verified in /a/, forged in @b and @c

my $r = $t->get('/a/x', token => $bob, headers => ['X-Token' => $forged]);
is($r->{status}, 401, 'bypass: forged token after a redirect is 401');
unlike($r->{body}, qr/root|victim/, 'bypass: forged identity not proxied');
like($t->error_log, qr/authz: invalid token: signature verification failed/,
    'bypass: the forged signature is logged');

$r = $t->get('/a/x', token => $bob, headers => ['X-Token' => $bob, @spoof]);
is(ids(parse_echo($r)), 'bob|acme|blog:posts.read|blog',
    'bypass: the same valid token in both sources');

$r = $t->get('/a/x', token => $forged, headers => ['X-Token' => $bob]);
is($r->{status}, 401, 'bypass: forged token in the first location');

$r = $t->get('/a/x', token => $bob, headers => ['X-Token' => $k2]);
is($r->{status}, 401, 'bypass: other key in the named location');
unlike($r->{body}, qr/eve/, 'bypass: other key identity not proxied');

# 2. the tenant check after a redirect: the client's X-Tenant-Id

$r = $t->get('/t/x', token => $bob, headers => ['X-Tenant-Id' => 'acme']);
is($r->{status}, 200, 'tenant after redirect: allowed');
is(ids(parse_echo($r)), 'bob|acme|blog:posts.read|blog',
    'tenant after redirect: identity');

for (1 .. 3) {
    $r = $t->get('/t/x', token => $bob, headers => ['X-Tenant-Id' => 'acme']);
}
is($r->{status}, 200, 'tenant after redirect: allowed every time');

$r = $t->get('/t/x', token => $bob, headers => ['X-Tenant-Id' => 'other']);
is($r->{status}, 403, 'tenant after redirect: client tenant compared');
like($r->{body}, qr/"error":"tenant_mismatch"/,
    'tenant after redirect: tenant_mismatch');

$r = $t->get('/t/x', token => $bob);
is($r->{status}, 403, 'tenant after redirect: no tenant sent');
like($r->{body}, qr/tenant_mismatch/, 'tenant after redirect: names none');

$r = $t->get('/tq/x', token => $bob, headers => ['X-Tenant-Id' => 'acme']);
is($r->{status}, 200, 'forward off after redirect: allowed');
is(ids(parse_echo($r)), '|||',
    'forward off after redirect: no identity of the first location');

# 3. $http_x_user_id cached in preaccess

$r = $t->get('/lr/x', token => $bob, headers => ['X-User-Id' => 'admin']);
is($r->{status}, 200, 'variable cache: allowed');
is(parse_echo($r)->{'x-user-id'}, 'bob',
    'variable cache: $http_x_user_id is the verified sub');

# an anonymous request after an allowed location carries no identity

$r = $t->get('/an/x', token => $bob, headers => [@spoof]);
is($r->{status}, 200, 'anonymous after redirect: allowed');
is(ids(parse_echo($r)), '|||', 'anonymous after redirect: no identity');

# a public rule that binds {tenant}

$r = $t->get('/pub/t/other/x');
is($r->{status}, 200, 'public binding: anonymous');
$r = $t->get('/pub/t/other/x', token => $bob);
is($r->{status}, 200, 'public binding: token of another tenant');
$r = $t->get('/pub/t/acme/x', token => $bob);
is($r->{status}, 200, 'public binding: token of the tenant');
$r = $t->get('/pub/other/x');
is($r->{status}, 401, 'public binding: other rule needs a token');

# authz_deny_status 404 under "satisfy any"

$r = $t->get('/sa/x');
is($r->{status}, 200, 'satisfy any, 404: allow list admits without token');
$r = $t->get('/sa/x', token => $bob);
is($r->{status}, 200, 'satisfy any, 404: allow list admits a weak token');

$r = $t->get('/sn/x', token => $bob);
is($r->{status}, 404, 'satisfy any, 404: final answer is 404');
unlike($r->{body}, qr/insufficient_scope|blog:posts/,
    'satisfy any, 404: nothing tells the resource exists');
ok(!defined $r->{headers}{'www-authenticate'},
    'satisfy any, 404: no challenge');
$r = $t->get('/sn/x');
is($r->{status}, 401, 'satisfy any, 404: no token is 401');
$r = $t->get('/sn-page/x', token => $bob);
is($r->{status} . ' ' . $r->{body}, "404 <p>operator 404</p>\n",
    'satisfy any, 404: error_page 404');

$r = $t->get('/s404/x', token => $bob);
is($r->{status}, 403, 'deny 404, then another location denies: its 403');

# chained error pages

$r = $t->get('/ce/x');
is($r->{status}, 401, 'chained error_page: 401');
is($r->{body}, '{"error":"missing_token","error_description":'
    . '"no token was provided"}', 'chained error_page: json body');

$r = $t->get('/cr/x');
is($r->{status} . ' ' . $r->{body}, qq(401 {"page":"operator"}\n),
    'recursive error_page: operator page');

# variables read at the server level with the server's configuration

my $r8081 = sub { $t->get(@_, port => 8081) };
my $alice = mint(permissions => ['blog:posts.read'], services => ['blog']);

$r = $r8081->('/v/x', token => $alice, headers => ['X-Token' => $forged]);
is($r->{status}, 200, 'early read: location verifies its own source');
my $e = parse_echo($r);
is("$e->{args}|$e->{'x-user-id'}", 'early=|alice',
    'early read: forged token lends nothing');

$r = $r8081->('/v/x', token => $forged, headers => ['X-Token' => $bob]);
is($r->{status}, 401, 'early read: valid early token lends nothing');

$r = $r8081->('/v/x', token => $alice, headers => ['X-Token' => $alice]);
$e = parse_echo($r);
is("$r->{status} $e->{args}|$e->{'x-user-id'}", '200 early=alice|alice',
    'early read: same token, same answer');

$r = $r8081->('/v2/x', token => $alice, headers => ['X-Token' => $alice]);
is($r->{status}, 401,
    'early read: verified with a key the location does not trust');

# header names that CGI would map onto an identity parameter

for my $port (8080, 8082) {
    $r = $t->get('/raw/x', port => $port, token => $bob, headers => [
        'X.User.Id' => 'mallory', 'X_Tenant_Id' => 'evil',
        'x-user-permissions' => '*', 'X~User~Services' => 'all',
        'X-User-Id[]' => 'mallory', 'x_tenant_id[0]' => 'evil']);
    my $seen = join ',', grep { /^x.user.|^x.tenant./i } split /\r\n/,
        $r->{body};
    is($seen, 'X-User-Id: bob,X-Tenant-Id: acme,'
        . 'X-User-Permissions: blog:posts.read,X-User-Services: blog',
        "cgi names: only the verified identity ($port)");
}

$r = $t->get('/raw-off/x', port => 8082, headers => ['X.User.Id' => 'mal']);
unlike($r->{body}, qr/mal/i, 'cgi names: stripped where authz is off');

# a cookie token: the client's Bearer header is removed, Basic stays

$r = $t->get('/ck/x', token => $forged, headers => ['Cookie' => "at=$bob"]);
$e = parse_echo($r);
is("$r->{status} $e->{'x-user-id'} <$e->{authorization}>", '200 bob <>',
    'authz_token: client Bearer header not forwarded');
$r = $t->get('/ck/x', headers => ['Cookie' => "at=$bob",
    'Authorization' => 'Basic c3RhZmY6c2VjcmV0']);
is(parse_echo($r)->{authorization}, 'Basic c3RhZmY6c2VjcmV0',
    'authz_token: other schemes forwarded');

# authz_forward off where the request was allowed holds after a redirect

$r = $t->get('/fo/x', token => $bob, headers => [@spoof]);
is("$r->{status} " . ids(parse_echo($r)), '200 |||',
    'forward off, then an authz off location: no identity');

# $authz_sub where the module is off, after a denial: empty

$r = $t->get('/dn/x', token => $bob);
is("$r->{status} " . parse_echo($r)->{args}, '200 sub=',
    'off location after a denial: no identity in variables');

# limit_req refuses before the access phase: the log line verifies nothing

$t->get('/lim/x', token => $forged);
my $before = () = $t->error_log =~ /authz evaluation state/g;
$r = $t->get('/lim/x', token => $forged);
my $after = () = $t->error_log =~ /authz evaluation state/g;
SKIP: {
    skip 'no debug log', 1 unless $before;
    is("$r->{status} " . ($after - $before), '503 0',
        'limit_req 503: no verification for the access log');
}

# satisfy any: auth_basic still sees its credentials

$r = $t->get('/basic/x', headers => ['Authorization' => 'Basic c3RhZmY6c2VjcmV0']);
is("$r->{status} " . parse_echo($r)->{authorization},
    '200 Basic c3RhZmY6c2VjcmV0',
    'forward_token off: auth_basic under satisfy any');
$r = $t->get('/basic/x', token => $bob);
is("$r->{status} <" . parse_echo($r)->{authorization} . '>', '200 <>',
    'forward_token off: the bearer token is removed');

# a kid chosen to forge log fields is escaped and cut

my $inject = raw_jwt('{"alg":"RS256","kid":"k9\\", sub: \\"admin\\" client: 10.1.2.3"}',
    '{"sub":"x","exp":9999999999}', sig => "\0" x 256);
$t->get('/a/x', token => $inject);
like($t->error_log, qr/kid: "k9\\", sub: \\"admin\\" client: 10\.1\.2\.3"/,
    'kid: quotes escaped in the log line');

# $authz_version: the version of debian/changelog without its revision

my ($changelog) = $t->read_file("$FindBin::Bin/../debian/changelog")
    =~ /^\S+ \((?:\d+:)?([^)]*)-[^-)]*\)/;
is($t->get('/version')->{headers}{'x-authz-version'}, $changelog,
    '$authz_version');

# a server-level "if" never reaches the access phase: no key needed there

my ($rc, $out) = $t->nginx_t(if_conf(
    'authz_key_file %%KEYDIR%%/k1.pub kid=k1;'));
is($rc, 0, 'server-level if: nginx -t passes') or diag($out);

($rc, $out) = $t->nginx_t(if_conf(''));
like($out, qr/"authz" requires "authz_key_file" in .*nginx_t\.conf:8$/m,
    'server-level if: a location without a key still fails');

###############################################################################

END {
    if ($raw_pid) {
        kill 'TERM', $raw_pid;
        waitpid $raw_pid, 0;
    }
}

# a server with "authz on" and an "if" block, a location with the key line

sub if_conf {
    my ($key) = @_;

    return <<"EOF";
%%TEST_GLOBALS%%
events {
}
http {
    %%TEST_GLOBALS_HTTP%%
    server {
        listen 127.0.0.1:%%PORT_8090%%;
        authz on;
        if (\$request_method = TRACE) {
            set \$x 1;
        }
        location / {
            $key
            if (\$x) {
                set \$y 1;
            }
            empty_gif;
        }
    }
}
EOF
}

# the identity headers of an echo response, "|"-joined

sub ids {
    my ($e) = @_;
    return join '|', map { $e->{$_} // '' }
        qw(x-user-id x-tenant-id x-user-permissions x-user-services);
}

# a child that answers every request with the request head it received

sub raw_upstream {
    my ($port) = @_;

    my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
        LocalPort => $port, Listen => 16, ReuseAddr => 1)
        or die "listen $port: $!";

    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if ($pid) {
        close $listen;
        return $pid;
    }

    # the child leaves without the END blocks of the test and harness
    $SIG{TERM} = sub { POSIX::_exit(0) };

    # never outlive the test, whatever happens to it
    alarm 120;

    while (my $c = $listen->accept) {
        my $head = '';
        while (my $line = <$c>) {
            last if $line eq "\r\n";
            $head .= $line;
        }
        print $c "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
            . "Content-Length: " . length($head) . "\r\n"
            . "Connection: close\r\n\r\n$head";
        close $c;
    }

    POSIX::_exit(0);
}

###############################################################################
