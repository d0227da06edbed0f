#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for identity forwarding: X-User-Id, X-Tenant-Id,
# X-User-Permissions and X-User-Services reach the upstream (proxy,
# auth_request subrequest, fastcgi) on allow only, and client copies of
# them never do, whatever their case or number.

###############################################################################

use warnings;
use strict;

use Test::More;

use IO::Select;
use IO::Socket::INET;
use POSIX ();

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

my $t = AuthzTest->new->has('module', 'mint');

# upstreams of our own: "raw" answers with the request head it got,
# so that every copy of a header is seen; "fcgi" is a FastCGI responder
# that answers with the HTTP_X_* parameters it got

my $helper = start_upstreams($t->port(8081), $t->port(8083));

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    authz_role  role_editor  blog:posts.read blog:posts.update;
    authz_role  role_viewer  blog:posts.read;

    log_format  ids  '$uri id=$http_x_user_id tid=$http_x_tenant_id '
                     'perms=$http_x_user_permissions '
                     'services=$http_x_user_services';

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        authz_key_file  %%KEYDIR%%/k1.pub kid=k1;
        authz_issuer    https://issuer.test;
        authz_audience  api.test;

        location / {
            authz on;
            proxy_pass http://%%ECHO%%;
        }

        location /raw/ {
            authz on;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /opt/ {
            authz optional;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /off/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /keep/ {
            authz_strip_headers off;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /keep-on/ {
            authz on;
            authz_strip_headers off;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /any/ {
            authz on;
            satisfy any;
            allow 127.0.0.1;
            deny all;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /nofwd/ {
            authz on;
            authz_forward off;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /notoken/ {
            authz on;
            authz_forward_token off;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /ar/ {
            authz on;
            auth_request /policy;
            proxy_pass http://%%ECHO%%;
        }

        location = /policy {
            internal;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_pass http://127.0.0.1:%%PORT_8082%%/policy;
        }

        location /fcgi/ {
            authz on;
            fastcgi_pass 127.0.0.1:%%PORT_8083%%;
        }
    }

    # underscores_in_headers on: X_User_Id is another spelling of
    # X-User-Id for nginx's $http_x_user_id, FastCGI and WSGI upstreams

    server {
        listen       127.0.0.1:%%PORT_8084%%;
        server_name  localhost;

        underscores_in_headers on;

        authz_key_file  %%KEYDIR%%/k1.pub kid=k1;
        authz on;

        location /raw/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /fcgi/ {
            fastcgi_pass 127.0.0.1:%%PORT_8083%%;
        }
    }

    # the policy service of auth_request: allows alice only

    server {
        listen       127.0.0.1:%%PORT_8082%%;
        server_name  localhost;

        location / {
            access_log %%TESTDIR%%/policy.log ids;

            if ($http_x_user_id != "alice") {
                return 403;
            }

            return 204;
        }
    }
}

EOF

$t->run->plan(49);

###############################################################################

my $kd = keydir();
my @spoof = ('X-User-Id' => 'mallory', 'X-Tenant-Id' => 'evil',
    'X-User-Permissions' => '*', 'X-User-Services' => 'all',
    'x-user-permissions' => 'admin:*', 'X-USER-ID' => 'root',
    'X-User-Permissions' => 'blog:*', 'x-tenant-id' => 'other',
    'x-user-services' => 'billing');

# values forwarded

my $token = mint(permissions => ['blog:posts.read', 'crm:leads.read'],
    services => { blog => { enabled => JSON::PP::true() } });
my $e = parse_echo($t->get('/', token => $token));

is($e->{'x-user-id'}, 'alice', 'sub forwarded');
is($e->{'x-tenant-id'}, 'acme', 'tenant forwarded');
is($e->{'x-user-permissions'}, 'blog:posts.read,crm:leads.read',
    'permissions forwarded');
is($e->{'x-user-services'}, 'blog', 'services forwarded');

$e = parse_echo($t->get('/', token => mint(sub => 'u_8f3a', tid => 'globex')));
is("$e->{'x-user-id'} $e->{'x-tenant-id'}", 'u_8f3a globex',
    'other sub and tenant');

# effective permissions: token order, duplicates removed, roles appended

$e = parse_echo($t->get('/', token => mint(
    permissions => ['crm:leads.read', 'blog:posts.read', 'crm:leads.read'],
    roles => ['role_editor', 'role_unknown', 'role_editor'])));
is($e->{'x-user-permissions'}, 'crm:leads.read,blog:posts.read,'
    . 'blog:posts.update', 'permissions deduplicated, role appended');

$e = parse_echo($t->get('/', token => mint(permissions => [],
    roles => ['role_viewer', 'role_editor'])));
is($e->{'x-user-permissions'}, 'blog:posts.read,blog:posts.update',
    'roles only, in role order');

$e = parse_echo($t->get('/', token => mint_cli('--key', "$kd/k1.key",
    '--kid', 'k1', '--iss', 'https://issuer.test', '--aud', 'api.test',
    '--sub', 'carol', '--tenant', 'acme', '--perm', 'orders:read:own',
    '--perm', 'blog:posts.update', '--role', 'role_editor',
    '--service', 'orders', '--service', 'chat=false',
    '--service', 'blog')));
is($e->{'x-user-id'}, 'carol', 'authz-mint sub');
is($e->{'x-user-permissions'}, 'orders:read:own,blog:posts.update,'
    . 'blog:posts.read', 'authz-mint permissions and role');
# libjwt writes the members of an object sorted: blog before orders
is($e->{'x-user-services'}, 'blog,orders', 'authz-mint services enabled');

# services: object form (token order, enabled only), array form

$e = parse_echo($t->get('/', token => raw_jwt('{"alg":"RS256","kid":"k1"}',
    claims_json('"services":{"crm":{"enabled":true},'
    . '"chat":{"enabled":false},"blog":{"enabled":true}}'))));
is($e->{'x-user-services'}, 'crm,blog', 'services object');

$e = parse_echo($t->get('/', token => mint(services => ['crm', 'blog', 'crm'])));
is($e->{'x-user-services'}, 'crm,blog', 'services array');

$e = parse_echo($t->get('/', token => mint(services => {
    chat => { enabled => JSON::PP::false() } })));
is($e->{'x-user-services'}, '', 'no service enabled');

# permissions as a space-separated string; no permissions claim

$e = parse_echo($t->get('/', token => mint(
    permissions => ' blog:posts.read  crm:* blog:posts.read ')));
is($e->{'x-user-permissions'}, 'blog:posts.read,crm:*',
    'space-separated permissions comma-joined');

my $h = ids($t->get('/raw/', token => mint(permissions => undef,
    services => undef)));
is_deeply($h, { 'x-user-id' => ['alice'], 'x-tenant-id' => ['acme'],
    'x-user-permissions' => [''], 'x-user-services' => [''] },
    'no permissions claim: empty headers') or diag(explain($h));

# spoofing: client copies never reach the upstream

$token = mint(permissions => ['blog:posts.read'], services => ['blog']);

$h = ids($t->get('/raw/', token => $token, headers => [@spoof]));
is_deeply($h, { 'x-user-id' => ['alice'], 'x-tenant-id' => ['acme'],
    'x-user-permissions' => ['blog:posts.read'],
    'x-user-services' => ['blog'] }, 'spoofed: replaced')
    or diag(explain($h));

$e = parse_echo($t->get('/', token => $token, headers => [@spoof]));
is(join(' ', @$e{qw(x-user-id x-tenant-id x-user-permissions
    x-user-services)}), 'alice acme blog:posts.read blog',
    'spoofed: first copy is the token\'s');

$h = ids($t->get('/opt/', headers => [@spoof]));
is_deeply($h, {}, 'spoofed: optional anonymous') or diag(explain($h));

$h = ids($t->get('/opt/', token => $token, headers => [@spoof]));
is(join(' ', map { @{ $h->{$_} // [] } } sort keys %$h),
    'acme alice blog:posts.read blog', 'spoofed: optional with a token');

$h = ids($t->get('/off/', headers => [@spoof]));
is_deeply($h, {}, 'spoofed: authz off') or diag(explain($h));

$h = ids($t->get('/off/', token => $token, headers => [@spoof]));
is_deeply($h, {}, 'spoofed: authz off with a token') or diag(explain($h));

my $r = $t->get('/raw/', headers => [@spoof]);
ok($r->{status} == 401 && $r->{body} !~ /mallory|^GET/m, 'spoofed: 401');

$r = $t->get('/raw/', token => mint(_kid => 'k9'), headers => [@spoof]);
ok($r->{status} == 401 && $r->{body} !~ /mallory|^GET/m,
    'spoofed: invalid token');

$r = $t->get('/any/', headers => [@spoof]);
is($r->{status}, 200, 'satisfy any: allowed by address');
is_deeply(ids($r), {}, 'spoofed: satisfy any') or diag($r->{body});

# many headers: the list is rebuilt, other headers keep their order

my @many = map { ("X-Other-$_" => "v$_", 'X-User-Id' => "spoof$_") } 1 .. 30;
$r = $t->get('/raw/', token => $token, headers => [@many, @spoof]);
is_deeply(ids($r)->{'x-user-id'}, ['alice'], 'many headers: replaced');
is(join(',', $r->{body} =~ /^X-Other-\d+: (v\d+)\r?$/mg),
    join(',', map { "v$_" } 1 .. 30), 'many headers: others kept in order');

# underscores: nginx drops X_User_Id by default

$r = $t->get('/raw/', token => $token, headers => ['X_User_Id' => 'mallory',
    'X_Tenant_Id' => 'evil']);
is_deeply(ids($r), { 'x-user-id' => ['alice'], 'x-tenant-id' => ['acme'],
    'x-user-permissions' => ['blog:posts.read'],
    'x-user-services' => ['blog'] }, 'underscore spelling dropped')
    or diag($r->{body});

# regression (was a bug): with "underscores_in_headers on", the client's X_User_Id,
# X_Tenant_Id, X_User_Permissions and X_User_Services reach the upstream
# next to the module's headers; nginx's own $http_x_user_id (listed
# first), FastCGI (HTTP_X_USER_ID) and WSGI servers read them as the
# identity headers

my @under = ('X_User_Id' => 'mallory', 'X_Tenant_Id' => 'evil',
    'x_user_permissions' => '*', 'X_USER_SERVICES' => 'all');

$r = $t->get('/raw/', port => 8084, token => $token, headers => [@under]);
is_deeply(ids($r), { 'x-user-id' => ['alice'], 'x-tenant-id' => ['acme'],
    'x-user-permissions' => ['blog:posts.read'],
    'x-user-services' => ['blog'] }, 'underscore spelling removed')
    or diag($r->{body});

$r = $t->get('/fcgi/', port => 8084, token => $token, headers => [@under]);
is($r->{body}, "HTTP_X_USER_ID=alice\nHTTP_X_TENANT_ID=acme\n"
    . "HTTP_X_USER_PERMISSIONS=blog:posts.read\nHTTP_X_USER_SERVICES=blog\n",
    'underscore spelling: fastcgi params');

# authz_strip_headers off

$h = ids($t->get('/keep/', headers => ['X-User-Id' => 'svc', 'x-tenant-id' => 't1']));
is_deeply($h, { 'x-user-id' => ['svc'], 'x-tenant-id' => ['t1'] },
    'strip off: client copies kept where authz off') or diag(explain($h));

$h = ids($t->get('/keep-on/', token => $token, headers => [@spoof]));
is(join(' ', map { @{ $h->{$_} // [] } } sort keys %$h),
    'acme alice blog:posts.read blog',
    'strip off: replaced where the module sets them');

# authz_forward off: nothing forwarded, still stripped

$r = $t->get('/nofwd/', token => $token, headers => [@spoof]);
is($r->{status}, 200, 'forward off: allowed');
is_deeply(ids($r), {}, 'forward off: no identity headers') or diag($r->{body});
like($r->{body}, qr/^Authorization: Bearer \Q$token\E\r?$/mi,
    'forward off: token kept');

# authz_forward_token

$r = $t->get('/raw/', token => $token);
is(scalar(() = $r->{body} =~ /^Authorization: Bearer \Q$token\E\r?$/mgi), 1,
    'token forwarded by default');
is(parse_echo($t->get('/', token => $token))->{authorization},
    "Bearer $token", 'token forwarded to echo');

$r = $t->get('/notoken/', token => $token);
unlike($r->{body}, qr/^Authorization:/mi, 'forward_token off: no token');
is_deeply(ids($r)->{'x-user-id'}, ['alice'], 'forward_token off: identity');

$r = $t->get('/notoken/', headers => [Authorization => "bearer $token"]);
unlike($r->{body}, qr/^Authorization:/mi,
    'forward_token off: lowercase scheme');

# auth_request: the subrequest carries the identity of the main request

$r = $t->get('/ar/x', token => mint(permissions => ['a:b.c', 'd:e']),
    headers => [@spoof]);
is($r->{status}, 200, 'auth_request allowed');
is(parse_echo($r)->{'x-user-id'}, 'alice', 'auth_request main request');

$r = $t->get('/ar/y', token => mint(sub => 'bob'));
is($r->{status}, 403, 'auth_request policy sees sub');

is($t->get('/ar/z')->{status}, 401, 'auth_request no token');

my $log = $t->read_file('policy.log') // '';
like($log, qr{^/policy id=alice tid=acme perms=a:b\.c,d:e services=$}m,
    'auth_request subrequest identity');
like($log, qr{^/policy id=bob tid=acme }m, 'auth_request subrequest bob');
is(scalar(() = $log =~ /^/mg), 2, 'auth_request no subrequest on 401');

# fastcgi: HTTP_X_USER_ID and so on

$r = $t->get('/fcgi/', token => $token, headers => [@spoof]);
is($r->{body}, "HTTP_X_USER_ID=alice\nHTTP_X_TENANT_ID=acme\n"
    . "HTTP_X_USER_PERMISSIONS=blog:posts.read\nHTTP_X_USER_SERVICES=blog\n",
    'fastcgi params');

$r = $t->get('/fcgi/', headers => [@spoof]);
ok($r->{status} == 401 && $r->{body} !~ /HTTP_X/, 'fastcgi no token');

###############################################################################

$t->stop;
stop_upstreams($helper);

###############################################################################

# the payload of a token with the default claims and some more JSON

sub claims_json {
    my ($more) = @_;
    my $now = time();
    return '{"iss":"https://issuer.test","aud":"api.test","sub":"alice",'
        . '"tid":"acme","exp":' . ($now + 600) . ',"permissions":[]'
        . ($more ? ",$more" : '') . '}';
}

# identity headers the raw upstream got: { lc name => [values] }

sub ids {
    my ($r) = @_;
    my %h;

    # X_User_Id counts as X-User-Id: upstreams that map names to
    # variables (nginx, CGI, FastCGI, WSGI) do not tell them apart

    for (split /\r?\n/, $r->{body}) {
        next unless /^(x[-_]user[-_]id|x[-_]tenant[-_]id
            |x[-_]user[-_]permissions|x[-_]user[-_]services)
            :[ \t]*(.*?)[ \t]*$/xi;
        push @{ $h{ lc($1) =~ tr/_/-/r } }, $2;
    }

    return \%h;
}

# a child process serving the raw HTTP and FastCGI upstreams

sub start_upstreams {
    my ($http_port, $fcgi_port) = @_;

    my @ls = map { IO::Socket::INET->new(LocalAddr => '127.0.0.1',
        LocalPort => $_, Listen => 16, ReuseAddr => 1, Proto => 'tcp')
            or die "listen $_: $@" } $http_port, $fcgi_port;

    my $parent = $$;
    my $pid = fork // die "fork: $!";

    if ($pid) {
        close $_ for @ls;
        return $pid;
    }

    my $sel = IO::Select->new(@ls);

    while (getppid() == $parent) {
        for my $l ($sel->can_read(0.5)) {
            my $c = $l->accept or next;
            eval {
                local $SIG{ALRM} = sub { die "timeout\n" };
                alarm 5;
                $l == $ls[0] ? serve_raw($c) : serve_fcgi($c);
                alarm 0;
            };
            close $c;
        }
    }

    POSIX::_exit(0);
}

sub stop_upstreams {
    my ($pid) = @_;
    kill 'TERM', $pid;
    waitpid $pid, 0;
}

sub serve_raw {
    my ($c) = @_;

    my $head = '';
    while ($head !~ /\r\n\r\n/) {
        sysread($c, $head, 4096, length $head) or last;
    }
    $head =~ s/\r\n\r\n.*//s;

    print $c "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
        . "Content-Length: " . length($head) . "\r\n\r\n$head";
}

# FastCGI: BEGIN_REQUEST, PARAMS..., STDIN... in; STDOUT, END_REQUEST out

sub serve_fcgi {
    my ($c) = @_;
    my ($params, $id) = ('', 1);

    binmode $c;

    while (1) {
        read($c, my $hdr, 8) == 8 or return;
        my (undef, $type, $rid, $len, $pad) = unpack 'CCnnC', $hdr;
        my $body = '';
        read($c, $body, $len + $pad) == $len + $pad or return
            if $len + $pad;
        $body = substr $body, 0, $len;
        $id = $rid;
        $params .= $body if $type == 4;
        last if $type == 5 && $len == 0;
    }

    my $out = '';

    while (length $params) {
        my @n;
        for (1, 2) {
            my $n = unpack 'C', $params;
            if ($n & 0x80) {
                $n = unpack('N', $params) & 0x7fffffff;
                substr $params, 0, 4, '';
            } else {
                substr $params, 0, 1, '';
            }
            push @n, $n;
        }
        my $name = substr $params, 0, $n[0], '';
        my $value = substr $params, 0, $n[1], '';
        $out .= "$name=$value\n" if $name =~ /^HTTP_X_(USER|TENANT)_/;
    }

    my $rec = sub { pack('CCnnCx', 1, $_[0], $id, length $_[1], 0) . $_[1] };

    print $c $rec->(6, "Content-Type: text/plain\r\n\r\n$out"),
        $rec->(6, ''), $rec->(3, pack('NCx3', 0, 0));
}

###############################################################################
