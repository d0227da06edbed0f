#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for authz_rule matching: exact and wildcard grants, "a|b"
# alternatives, several requirements, first match, public routes,
# authz_rules_default, methods (a GET rule covers HEAD), patterns,
# inheritance, authz_require (also inside limit_except), scope levels
# and role expansion; the "nginx -t" warning for "authz_rules_default
# allow" beside rules that name some methods only.

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

    authz_role role_editor blog:posts.read blog:posts.update;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        authz on;
        authz_key_file %%KEYDIR%%/k1.pub kid=k1;
        authz_issuer https://issuer.test;
        authz_audience api.test;

        location /p/ {
            authz_rule GET /p/read    blog:posts.read;
            authz_rule PUT /p/update  blog:posts.update;
            authz_rule GET /p/drafts  blog:drafts.read;
            authz_rule GET /p/blogx   blogx:posts.read;
            authz_rule GET /p/alt     blog:posts.delete|blog:posts.admin;
            authz_rule GET /p/both    blog:posts.read chatbot:slots.read;
            authz_rule GET /p/public  public;
            proxy_pass http://%%ECHO%%;
        }

        location /order/ {
            authz_rule GET /order/**     public;
            authz_rule GET /order/secret admin:secret.read;
            proxy_pass http://%%ECHO%%;
        }

        location /order2/ {
            authz_rule GET /order2/secret admin:secret.read;
            authz_rule GET /order2/**     public;
            proxy_pass http://%%ECHO%%;
        }

        location /bind/ {
            authz_rule GET "/bind/u/{sub}/x"     p:own;
            authz_rule GET "/bind/t/{tenant}/x"  p:own;
            authz_rule GET /bind/**              public;
            proxy_pass http://%%ECHO%%;
        }

        location /deny/ {
            authz_rule GET /deny/a public;
            proxy_pass http://%%ECHO%%;
        }

        location /allow/ {
            authz_rules_default allow;
            authz_rule GET /allow/a x:y.z;
            proxy_pass http://%%ECHO%%;
        }

        location /m/ {
            authz_rule GET       /m/get     public;
            authz_rule POST      /m/post    public;
            authz_rule PUT PATCH /m/put     public;
            authz_rule DELETE    /m/delete  public;
            authz_rule OPTIONS   /m/options public;
            authz_rule *         /m/any     public;
            proxy_pass http://%%ECHO%%;
        }

        location /m2/ {
            authz_rules_default allow;
            authz_rule GET POST /m2/x m:x.read;
            proxy_pass http://%%ECHO%%;
        }

        location /head/ {
            authz_rule GET  /head/get   h:read;
            authz_rule HEAD /head/only  h:read;
            authz_rule POST /head/post  h:write;
            proxy_pass http://%%ECHO%%;
        }

        location /pat/ {
            authz_rule GET /pat/posts/**    p:globstar;
            authz_rule GET /pat/one/*       p:star;
            authz_rule GET /pat/mid/*/edit  p:middle;
            authz_rule GET /pat/slash/      p:slash;
            authz_rule GET /pat/noslash     p:noslash;
            authz_rule GET /pat/**/export   p:export;
            proxy_pass http://%%ECHO%%;
        }

        location /req/ {
            authz_rule GET /req/** blog:posts.read;
            authz_require audit:log.read;
            proxy_pass http://%%ECHO%%;
        }

        location /le/ {
            authz_rule * /le/** public;
            limit_except GET {
                authz_require blog:posts.write;
            }
            proxy_pass http://%%ECHO%%;
        }

        location /lvl/ {
            authz_scope_levels own team org all;
            authz_rule GET /lvl/own   orders:read:own;
            authz_rule GET /lvl/team  orders:read:team;
            authz_rule GET /lvl/org   orders:read:org;
            authz_rule GET /lvl/all   orders:read:all;
            authz_rule GET /lvl/write orders:write:team;
            proxy_pass http://%%ECHO%%;
        }

        location /nolvl/ {
            authz_rule GET /nolvl/team orders:read:team;
            proxy_pass http://%%ECHO%%;
        }
    }

    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  localhost;

        authz on;
        authz_key_file %%KEYDIR%%/k1.pub kid=k1;

        authz_rule GET /inh/** inh:read;

        location /inh/ {
            proxy_pass http://%%ECHO%%;
        }

        location /inh/own/ {
            authz_rule GET /inh/own/** own:read;
            proxy_pass http://%%ECHO%%;
        }
    }
}

EOF

$t->run->plan(141);

###############################################################################

my $none = tok();

# exact grants

is(v('GET', '/p/read', tok('blog:posts.read')), '200', 'exact grant');
is(v('GET', '/p/read', tok('blog:posts.update')),
    '403 insufficient_scope blog:posts.read', 'other permission');
is(v('GET', '/p/read', tok('blog:posts.rea')),
    '403 insufficient_scope blog:posts.read', 'prefix is not a grant');
is(v('GET', '/p/read', tok('blog:posts.read.x')),
    '403 insufficient_scope blog:posts.read', 'extension is not a grant');
is(v('GET', '/p/read', tok('BLOG:POSTS.READ')),
    '403 insufficient_scope blog:posts.read', 'grants are case-sensitive');

my $r = $t->get('/p/read', token => $none);
is($r->{headers}{'www-authenticate'}, 'Bearer realm="api", '
    . 'error="insufficient_scope", scope="blog:posts.read"',
    'insufficient scope challenge');
is($r->{body}, '{"error":"insufficient_scope",'
    . '"error_description":"permission missing"}', 'insufficient scope body');

# wildcard grants

is(v('GET', '/p/read', tok('*')), '200', 'star grants all');
is(v('GET', '/p/blogx', tok('*')), '200', 'star grants other service');
is(v('GET', '/p/read', tok('blog:*')), '200', 'service wildcard');
is(v('GET', '/p/drafts', tok('blog:*')), '200', 'service wildcard resource');
is(v('GET', '/p/blogx', tok('blog:*')),
    '403 insufficient_scope blogx:posts.read', 'blog:* not blogx');
is(v('GET', '/p/read', tok('blog:posts.*')), '200', 'resource wildcard');
is(v('GET', '/p/alt', tok('blog:posts.*')), '200',
    'resource wildcard alternative');
is(v('GET', '/p/drafts', tok('blog:posts.*')),
    '403 insufficient_scope blog:drafts.read', 'resource wildcard other');
is(v('GET', '/p/read', tok('bl*g')),
    '403 insufficient_scope blog:posts.read', 'inner star grants nothing');
is(v('GET', '/p/read', tok('blog*')),
    '403 insufficient_scope blog:posts.read', 'partial star grants nothing');
is(v('GET', '/p/read', tok('blog:posts.read*')),
    '403 insufficient_scope blog:posts.read', 'trailing star glued');

# alternatives

is(v('GET', '/p/alt', tok('blog:posts.delete')), '200', 'first alternative');
is(v('GET', '/p/alt', tok('blog:posts.admin')), '200', 'second alternative');
$r = $t->get('/p/alt', token => tok('blog:posts.read'));
is($r->{status}, 403, 'no alternative');
is($r->{headers}{'www-authenticate'}, 'Bearer realm="api", '
    . 'error="insufficient_scope", scope="blog:posts.delete blog:posts.admin"',
    'scope names both alternatives');

# several requirements

is(v('GET', '/p/both', tok('blog:posts.read', 'chatbot:slots.read')), '200',
    'both requirements');
is(v('GET', '/p/both', tok('blog:posts.read')),
    '403 insufficient_scope chatbot:slots.read', 'second requirement missing');
is(v('GET', '/p/both', tok('chatbot:slots.read')),
    '403 insufficient_scope blog:posts.read', 'first requirement missing');

# public routes

is(v('GET', '/p/public', $none), '200', 'public with a token');
$r = $t->get('/p/public');
is($r->{status}, 401, 'public still needs a token under authz on');
is($r->{headers}{'www-authenticate'}, 'Bearer realm="api"',
    'public missing token challenge');

# first match wins

is(v('GET', '/order/secret', $none), '200', 'broad rule first shadows');
is(v('GET', '/order2/secret', $none),
    '403 insufficient_scope admin:secret.read', 'narrow rule first');
is(v('GET', '/order2/secret', tok('admin:secret.read')), '200',
    'narrow rule first granted');
is(v('GET', '/order2/other', $none), '200', 'broad rule second');

# a failed binding decides too: no fall-through to a later rule

is(v('GET', '/bind/u/alice/x', tok('p:own')), '200', 'sub binding');
is(v('GET', '/bind/u/bob/x', tok('p:own')), '403 forbidden',
    'sub binding no fall-through');
is(v('GET', '/bind/t/acme/x', tok('p:own')), '200', 'tenant binding');
is(v('GET', '/bind/t/globex/x', tok('p:own')), '403 tenant_mismatch',
    'tenant binding no fall-through');
is(v('GET', '/bind/u/bob/y', $none), '200', 'later rule after a miss');

# authz_rules_default

$r = $t->get('/deny/b', token => tok('*'));
is($r->{status}, 403, 'default deny');
is($r->{body}, '{"error":"forbidden","error_description":"no rule matched"}',
    'default deny body');
ok(!exists $r->{headers}{'www-authenticate'}, 'default deny no challenge');
like($r->{headers}{'content-type'}, qr{^application/json}, 'default deny json');
is(v('GET', '/deny/a', $none), '200', 'default deny matched rule');
is(v('GET', '/allow/b', $none), '200', 'default allow');
is(v('GET', '/allow/a', $none), '403 insufficient_scope x:y.z',
    'default allow matched rule still checked');
is($t->get('/allow/b')->{status}, 401, 'default allow still needs a token');

# methods

is(v('GET', '/m/get', $none), '200', 'get');
is(v('HEAD', '/m/get', $none), '200', 'head implied by get');
is(v('POST', '/m/get', $none), '403 forbidden', 'post on a get rule');
is(v('POST', '/m/post', $none), '200', 'post');
is(v('GET', '/m/post', $none), '403 forbidden', 'get on a post rule');
is(v('PUT', '/m/put', $none), '200', 'put');
is(v('PATCH', '/m/put', $none), '200', 'patch');
is(v('DELETE', '/m/put', $none), '403 forbidden', 'delete on put patch rule');
is(v('DELETE', '/m/delete', $none), '200', 'delete');
is(v('OPTIONS', '/m/options', $none), '200', 'options');
is(v('GET', '/m/options', $none), '403 forbidden', 'get on an options rule');
is(v('GET', '/m/any', $none), '200', 'any method get');
is(v('DELETE', '/m/any', $none), '200', 'any method delete');
is(v('PROPFIND', '/m/any', $none), '200', 'any method propfind');
is(v('PROPFIND', '/m/get', $none), '403 forbidden', 'propfind no match');
is(v('FOO', '/m/any', $none), '200', 'any method unknown to nginx');
is(v('FOO', '/m/get', $none), '403 forbidden', 'unknown method no match');
is(v('PROPFIND', '/m2/x', $none), '200',
    'propfind no match default allow');
is(v('GET', '/m2/x', $none), '403 insufficient_scope m:x.read',
    'get matched where propfind did not');
is(parse_echo($t->req('PROPFIND', '/m/any', token => $none))->{method},
    'PROPFIND', 'propfind reaches upstream');

# HEAD: a GET rule covers it, as "limit_except GET" does; nothing else
# does ("403 scope" is the rule's answer, a bare "403" the default's)

is(v('GET', '/head/only', $none), '403 forbidden', 'get not implied by head');
is(v('GET', '/head/only', tok('h:read')), '403 forbidden',
    'get not implied by head, permission held');
is(v('HEAD', '/head/post', tok('h:write')), '403', 'head not by post');
is(v('HEAD', '/head/get', $none), '403 h:read', 'head takes the get rule');
is($t->req('HEAD', '/head/get', token => $none)->{headers}
    {'www-authenticate'}, 'Bearer realm="api", '
    . 'error="insufficient_scope", scope="h:read"', 'head get rule challenge');
is(v('HEAD', '/head/get', tok('h:read')), '200', 'head get rule granted');
is(v('GET', '/head/get', tok('h:read')), '200', 'get rule granted');
is(v('HEAD', '/head/only', tok('h:read')), '200', 'head rule granted');
is(v('HEAD', '/head/only', $none), '403 h:read', 'head rule checked');

# patterns: a token without permissions tells which rule matched

is(v('GET', '/pat/posts', $none), '403 insufficient_scope p:globstar',
    'globstar zero segments');
is(v('GET', '/pat/posts/1', $none), '403 insufficient_scope p:globstar',
    'globstar one segment');
is(v('GET', '/pat/posts/1/comments/2', $none),
    '403 insufficient_scope p:globstar', 'globstar several segments');
is(v('GET', '/pat/postsx', $none), '403 forbidden', 'globstar not a prefix');
is(v('GET', '/pat/posts/1', tok('p:globstar')), '200', 'globstar granted');

is(v('GET', '/pat/one/1', $none), '403 insufficient_scope p:star',
    'star one segment');
is(v('GET', '/pat/one', $none), '403 forbidden', 'star not zero segments');
is(v('GET', '/pat/one/', $none), '403 forbidden', 'star not empty segment');
is(v('GET', '/pat/one/1/2', $none), '403 forbidden',
    'star not two segments');

is(v('GET', '/pat/mid/7/edit', $none), '403 insufficient_scope p:middle',
    'middle star');
is(v('GET', '/pat/mid/edit', $none), '403 forbidden', 'middle star missing');
is(v('GET', '/pat/mid/7/8/edit', $none), '403 forbidden',
    'middle star two segments');
is(v('GET', '/pat/mid/7/edit', tok('p:middle')), '200',
    'middle star granted');

is(v('GET', '/pat/slash/', $none), '403 insufficient_scope p:slash',
    'trailing slash');
is(v('GET', '/pat/slash', $none), '403 forbidden',
    'trailing slash required');
is(v('GET', '/pat/noslash', $none), '403 insufficient_scope p:noslash',
    'no trailing slash');
is(v('GET', '/pat/noslash/', $none), '403 forbidden',
    'no trailing slash extra slash');

is(v('GET', '/pat/export', $none), '403 insufficient_scope p:export',
    'middle globstar zero');
is(v('GET', '/pat/a/b/export', $none), '403 insufficient_scope p:export',
    'middle globstar two');
is(v('GET', '/pat/a/export/1', $none), '403 forbidden',
    'middle globstar anchored');

# inheritance from the server level

is(v('GET', '/inh/x', $none, port => 8081), '403 insufficient_scope inh:read',
    'server rules inherited');
is(v('GET', '/inh/x', tok('inh:read'), port => 8081), '200',
    'server rules inherited granted');
is(v('GET', '/inh/own/x', tok('inh:read'), port => 8081),
    '403 insufficient_scope own:read', 'location rules replace');
is(v('GET', '/inh/own/x', tok('own:read'), port => 8081), '200',
    'location rules replace granted');

# authz_require in addition to a rule

is(v('GET', '/req/x', tok('blog:posts.read')),
    '403 insufficient_scope audit:log.read', 'require after rule');
is(v('GET', '/req/x', tok('audit:log.read')),
    '403 insufficient_scope blog:posts.read', 'rule before require');
is(v('GET', '/req/x', tok('blog:posts.read', 'audit:log.read')), '200',
    'rule and require');

# authz_require inside limit_except

is(v('GET', '/le/x', $none), '200', 'limit_except get excepted');
is(v('HEAD', '/le/x', $none), '200', 'limit_except head excepted');
is(v('POST', '/le/x', $none), '403 insufficient_scope blog:posts.write',
    'limit_except post');
is(v('DELETE', '/le/x', $none), '403 insufficient_scope blog:posts.write',
    'limit_except delete');
is(v('POST', '/le/x', tok('blog:posts.write')), '200',
    'limit_except post granted');
is(v('POST', '/le/x', tok('blog:*')), '200', 'limit_except post wildcard');

# scope levels

my $org = tok('orders:read:org');

is(v('GET', '/lvl/own', $org), '200', 'level org grants own');
is(v('GET', '/lvl/team', $org), '200', 'level org grants team');
is(v('GET', '/lvl/org', $org), '200', 'level org grants org');
is(v('GET', '/lvl/all', $org), '403 insufficient_scope orders:read:all',
    'level org not all');
is(v('GET', '/lvl/write', $org), '403 insufficient_scope orders:write:team',
    'level other prefix');
is(v('GET', '/lvl/all', tok('orders:read:all')), '200', 'level all');
is(v('GET', '/lvl/team', tok('orders:read:own')),
    '403 insufficient_scope orders:read:team', 'level own not team');
is(v('GET', '/lvl/team', tok('orders:read:boss')),
    '403 insufficient_scope orders:read:team', 'unknown level');
is(v('GET', '/nolvl/team', $org), '403 insufficient_scope orders:read:team',
    'no levels configured');

# "authz_rules_default allow" beside a rule for some methods: other
# methods on the rule's paths pass without any permission; "nginx -t"
# warns once, naming the rule's pattern, file and line, and succeeds

no_warning('default deny', location => ['authz_rule GET /a x:y;']);
no_warning('rules for every method', location => [
    'authz_rules_default allow;', 'authz_rule * /a x:y;']);
no_warning('public rules only', location => [
    'authz_rules_default allow;', 'authz_rule GET /a public;']);
no_warning('covered by a * rule of the same pattern', location => [
    'authz_rules_default allow;', 'authz_rule GET /a/* x:y;',
    'authz_rule * /a/* x:z;']);
no_warning('covered by a * rule of a prefix', location => [
    'authz_rules_default allow;', 'authz_rule GET /a/b/* x:y;',
    'authz_rule * /a/** x:z;']);
no_warning('covered by * /**', location => [
    'authz_rule GET "/t/{tenant}/x" x:y;', 'authz_rules_default allow;',
    'authz_rule * /** public;']);
no_warning('default allow without rules', server => [
    'authz_rules_default allow;']);

warns('rule then default', location => [
    'authz_rule GET /a x:y;  #!', 'authz_rules_default allow;'],
    pattern => '/a', where => ' in location "/"');
warns('default then rule', location => [
    'authz_rules_default allow;', 'authz_rule * /b x:y;',
    'authz_rule GET POST /a/* x:y;  #!'],
    pattern => '/a/*', where => ' in location "/"');
warns('every named method', location => [
    'authz_rules_default allow;', 'authz_rule GET HEAD POST PUT PATCH '
    . 'DELETE OPTIONS TRACE CONNECT /a x:y;  #!'],
    pattern => '/a', where => ' in location "/"');
warns('a * rule of another prefix', location => [
    'authz_rules_default allow;', 'authz_rule GET /a/b x:y;  #!',
    'authz_rule * /b/** x:y;'],
    pattern => '/a/b', where => ' in location "/"');
warns('a * rule of a longer prefix', location => [
    'authz_rules_default allow;', 'authz_rule GET /a/b x:y;  #!',
    'authz_rule * /a/b/c/** x:y;'],
    pattern => '/a/b', where => ' in location "/"');
warns('default from the server', server => ['authz_rules_default allow;'],
    location => ['authz_rule GET "/t/{tenant}/**" x:y;  #!'],
    pattern => '/t/{tenant}/**', where => ' in location "/"');
warns('rules from the server', server => ['authz_rule GET /s x:y;  #!'],
    other => ['authz_rules_default allow;'],
    pattern => '/s', where => ' in location "/other/"');
warns('both from the server, once', server => [
    'authz_rules_default allow;', 'authz_rule DELETE /s x:y;  #!'],
    pattern => '/s', where => '');

# the running nginx warned for /allow/ and /m2/ when it started

like($t->error_log(nodebug => 1), qr/\[warn\].*"authz_rules_default\ allow"
    \ in\ location\ "\/m2\/".*\ the\ rule\ for\ "\/m2\/x"\ names\ only/x,
    'running nginx warned');

# roles, tokens from authz-mint

my $editor = cli('--role', 'role_editor');

is(v('GET', '/p/read', $editor), '200', 'role grants read');
is(v('PUT', '/p/update', $editor), '200', 'role grants update');
is(v('GET', '/p/alt', $editor),
    '403 insufficient_scope blog:posts.delete blog:posts.admin',
    'role grants no more');
is(parse_echo($t->get('/p/read', token => $editor))->{'x-user-permissions'},
    'blog:posts.read,blog:posts.update', 'role permissions forwarded');
is(v('GET', '/p/both', cli('--role', 'role_editor',
    '--perm', 'chatbot:slots.read')), '200', 'role and permissions');
is(v('GET', '/p/read', cli('--role', 'role_ghost')),
    '403 insufficient_scope blog:posts.read', 'unknown role adds nothing');
is(v('GET', '/p/read', cli('--role', 'role_ghost', '--role', 'role_editor')),
    '200', 'unknown role beside a known one');
is(v('GET', '/p/read', cli('--perm', 'blog:posts.read')), '200',
    'authz-mint exact grant');
is(v('GET', '/p/read', cli('--perm', 'blog:*')), '200',
    'authz-mint wildcard grant');

###############################################################################

# a token from Crypt::JWT with these permissions
sub tok {
    return mint(permissions => [@_]);
}

# a token from authz-mint (libjwt)
sub cli {
    return mint_cli('--key', keydir() . '/k1.key', '--kid', 'k1',
        '--iss', 'https://issuer.test', '--aud', 'api.test',
        '--sub', 'alice', '--tenant', 'acme', @_);
}

# a configuration with snippets (lists of lines) for the server level,
# location / and location /other/; a line marked "#!" is the one a
# warning should name
sub conf {
    my (%s) = @_;

    my $conf = <<'EOF';
%%TEST_GLOBALS%%
events {
}
http {
    %%TEST_GLOBALS_HTTP%%
    server {
        listen 127.0.0.1:%%PORT_8082%%;
        authz on;
        authz_key_file %%KEYDIR%%/k1.pub kid=k1;
        %%SERVER%%
        location / {
            %%LOCATION%%
            proxy_pass http://%%ECHO%%;
        }
        location /other/ {
            %%OTHER%%
            proxy_pass http://%%ECHO%%;
        }
    }
}
EOF

    for my $k (qw(server location other)) {
        my $v = join "\n            ", @{ $s{$k} // [] };
        $conf =~ s/%%\U$k\E%%/$v/;
    }

    return $conf;
}

# "nginx -t": (passed, output, its "authz_rules_default allow" warnings)
sub default_warnings {
    my ($conf) = @_;

    my ($rc, $out) = $t->nginx_t($conf);
    my @w = grep { /\[warn\].*"authz_rules_default allow"/ } split /\n/, $out;

    return ($rc == 0 && $out =~ /test is successful/, $out, @w);
}

sub no_warning {
    my ($name, %s) = @_;

    my ($good, $out, @w) = default_warnings(conf(%s));
    ok($good && !@w, "no warning: $name") or diag($out);
}

sub warns {
    my ($name, %s) = @_;

    my $conf = conf(%s);
    my @lines = split /\n/, $conf;
    my ($line) = grep { $lines[$_ - 1] =~ /#!/ } 1 .. @lines;
    my $file = $t->testdir . '/nginx_t.conf';
    my $where = $s{where} // '';

    my ($good, $out, @w) = default_warnings($conf);

    ok($good && @w == 1 && $w[0] =~ /\[warn\]\ \d+\#\d+:
        \ "authz_rules_default\ allow"\Q$where\E\ lets\ requests\ pass
        \ without\ any\ permission\ when\ no\ rule\ names\ their\ method:
        \ the\ rule\ for\ "\Q$s{pattern}\E"\ names\ only\ some\ methods,
        \ other\ methods\ on\ its\ paths\ pass\ .*
        \ in\ \Q$file\E:$line$/x,
        "warning: $name") or diag("expected line $line:\n$out");
}

# "200", or "403 <error> <scope alternatives>" as far as present
sub v {
    my ($method, $uri, $token, %opt) = @_;

    my $r = $t->req($method, $uri, token => $token, %opt);
    my $s = $r->{status} // 'none';

    return $s if $s eq '200';

    $s .= " $1" if $r->{body} =~ /^\{"error":"([^"]+)"/;
    $s .= " $1" if ($r->{headers}{'www-authenticate'} // '')
        =~ /scope="([^"]*)"/;

    return $s;
}

###############################################################################
