#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for authz_status and authz_status_zone: a scripted mix of allows,
# anonymous requests and every kind of denial gives exact counter deltas
# per zone, result, error and reason; a request is counted once across
# internal redirects; the status requests are not counted; the answer is
# valid Prometheus text (our strict reader, and promtool when installed)
# and its JSON form has the same numbers; GET and HEAD only,
# Cache-Control: no-store; access control on the location; no label
# value ever comes from a token; cache counters; counters survive a
# reload; configuration errors.

###############################################################################

use warnings;
use strict;

use Test::More;

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);
use AuthzMetrics qw(:DEFAULT parse_prometheus parse_json_metrics series
    promtool family_sum);

###############################################################################

my $t = AuthzTest->new(workers => 2)->has('module');

my $conf = <<'EOF';

%%TEST_GLOBALS%%


events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    authz_cache zone=tokens:32k ttl=300s;

    add_header X-Error $authz_error always;
    add_header X-Reason $authz_reason always;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        authz on;
        authz_key_file %%KEYDIR%%/k1.pub kid=k1;
        authz_issuer https://issuer.test;
        authz_audience api.test;

        location / {
            proxy_pass http://%%ECHO%%;
        }

        location /small/ {
            authz_max_token_size 256;
            proxy_pass http://%%ECHO%%;
        }

        location /opt/ {
            authz optional;
            proxy_pass http://%%ECHO%%;
        }

        location /scope/ {
            authz_status_zone api;
            authz_require blog:posts.read;
            proxy_pass http://%%ECHO%%;
        }

        location /tenant/ {
            authz_status_zone api;
            authz_tenant $http_x_tenant;
            proxy_pass http://%%ECHO%%;
        }

        location /svc/ {
            authz_service blog;
            proxy_pass http://%%ECHO%%;
        }

        location /rules/ {
            authz_rule GET "/rules/t/{tenant}" blog:posts.read;
            authz_rule GET "/rules/u/{sub}" blog:posts.read;
            proxy_pass http://%%ECHO%%;
        }

        location /cond/ {
            authz_condition $arg_ok;
            proxy_pass http://%%ECHO%%;
        }

        location /sat/ {
            satisfy any;
            allow 127.0.0.1;
            deny all;
            proxy_pass http://%%ECHO%%;
        }

        location /try/ {
            try_files /nonexistent @named;
        }

        location @named {
            authz_status_zone named;
            proxy_pass http://%%ECHO%%;
        }

        location /err/ {
            error_page 401 = /fallback;
            proxy_pass http://%%ECHO%%;
        }

        location = /fallback {
            authz off;
            return 200 "fallback\n";
        }

        location /err2/ {
            error_page 401 = /protected;
            proxy_pass http://%%ECHO%%;
        }

        location = /protected {
            authz_status_zone protected;
            proxy_pass http://%%ECHO%%;
        }

        location = /authz_status {
            authz off;
            authz_status;
            allow 127.0.0.1;
            deny all;
        }

        location = /jwt_status {
            authz_require metrics:read;
            authz_status;
        }
    }

    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  localhost;

        authz_status_zone "odd \"zone\" \\ name";

        set_real_ip_from 127.0.0.1;
        real_ip_header X-Forwarded-For;

        authz on;
        authz_key_file %%KEYDIR%%/k1.pub kid=k1;

        location / {
            proxy_pass http://%%ECHO%%;
        }

        location = /authz_status {
            authz off;
            authz_status;
            allow 127.0.0.1;
            deny all;
        }
    }
}

EOF

$t->write_file_expand('nginx.conf', $conf);
$t->run->plan(58);

###############################################################################

my $now = time();
my $good = mint(permissions => ['blog:posts.read', 'metrics:read'],
    services => ['blog']);
my @p = split /\./, mint();
my $forged = "$p[0].$p[1]." . substr($p[2], 0, -4) . 'AAAA';

# [ method path, %request, status, zone, result, error, reason ]

my @mix = (
    ['/a', {}, 401, 'default', 'deny', 'missing_token',
        'no token was provided'],
    ['/a', { token => 'abc' }, 401, 'default', 'deny', 'invalid_token',
        'malformed token'],
    ['/a', { headers => [Authorization => 'Basic YTpi'] }, 401, 'default',
        'deny', 'invalid_token', 'malformed token'],
    ['/small/', { token => $good }, 401, 'default', 'deny', 'invalid_token',
        'token too large'],
    ['/a', { token => hs256_with_pubkey() }, 401, 'default', 'deny',
        'invalid_token', 'algorithm not allowed'],
    ['/a', { token => mint(_header => { crit => ['exp'] }) }, 401,
        'default', 'deny', 'invalid_token', 'unsupported critical header'],
    ['/a', { token => mint(_kid => 'nope') }, 401, 'default', 'deny',
        'invalid_token', 'unknown key id'],
    ['/a', { token => $forged }, 401, 'default', 'deny', 'invalid_token',
        'signature verification failed'],
    ['/a', { token => mint(iat => $now - 7200, nbf => $now - 7200,
        exp => $now - 3600) }, 401, 'default', 'deny', 'invalid_token',
        'token expired'],
    ['/a', { token => mint(nbf => $now + 3600, exp => $now + 7200) }, 401,
        'default', 'deny', 'invalid_token', 'token not yet valid'],
    ['/a', { token => mint(iat => $now + 3600, exp => $now + 7200) }, 401,
        'default', 'deny', 'invalid_token', 'token issued in the future'],
    ['/a', { token => mint(exp => undef) }, 401, 'default', 'deny',
        'invalid_token', 'token has no expiry'],
    ['/a', { token => mint(iss => 'https://evil.test') }, 401, 'default',
        'deny', 'invalid_token', 'issuer not accepted'],
    ['/a', { token => mint(aud => 'other.test') }, 401, 'default', 'deny',
        'invalid_token', 'audience not accepted'],
    ['/a', { token => mint(sub => 42) }, 401, 'default', 'deny',
        'invalid_token', 'invalid claim'],
    ['/scope/', { token => mint() }, 403, 'api', 'deny',
        'insufficient_scope', 'permission missing'],
    ['/tenant/', { token => $good }, 403, 'api', 'deny', 'tenant_mismatch',
        'request names no tenant'],
    ['/tenant/', { token => $good, headers => ['X-Tenant' => 'globex'] }, 403,
        'api', 'deny', 'tenant_mismatch', 'token is for another tenant'],
    ['/rules/t/globex', { token => $good }, 403, 'default', 'deny',
        'tenant_mismatch', 'path names another tenant'],
    ['/svc/', { token => mint(services => []) }, 403, 'default', 'deny',
        'service_disabled', 'service not enabled for the tenant'],
    ['/cond/', { token => $good }, 403, 'default', 'deny', 'forbidden',
        'condition not met'],
    ['/rules/other', { token => $good }, 403, 'default', 'deny', 'forbidden',
        'no rule matched'],
    ['/rules/u/bob', { token => $good }, 403, 'default', 'deny',
        'forbidden', 'path names another user'],

    ['/a', { token => $good }, 200, 'default', 'allow'],
    ['/a', { token => $good }, 200, 'default', 'allow'],
    ['/scope/', { token => $good }, 200, 'api', 'allow'],
    ['/tenant/', { token => $good, headers => ['X-Tenant' => 'acme'] }, 200,
        'api', 'allow'],
    ['/rules/u/alice', { token => $good }, 200, 'default', 'allow'],
    ['/cond/?ok=1', { token => $good }, 200, 'default', 'allow'],
    ['/opt/', {}, 200, 'default', 'anonymous'],
    ['/opt/', { token => $good }, 200, 'default', 'allow'],

    # internal redirects: one count, for the final decision

    ['/try/x', { token => $good }, 200, 'named', 'allow'],
    ['/err/', {}, 200, 'default', 'deny', 'missing_token',
        'no token was provided'],
    ['/err2/', {}, 401, 'protected', 'deny', 'missing_token',
        'no token was provided'],

    # "satisfy any": another module admits it, the module's decision
    # is still a denial, as $authz_result says

    ['/sat/', {}, 200, 'default', 'deny', 'missing_token',
        'no token was provided'],

    # the other server: a configured label that needs escaping

    ['/b', { port => 8081 }, 401, 'odd "zone" \\ name', 'deny',
        'missing_token', 'no token was provided'],
    ['/b', { port => 8081, token => $good }, 200, 'odd "zone" \\ name',
        'allow'],
);

my $before = scrape();

is_deeply($before->{errors}, [], 'valid before')
    or diag(explain($before->{errors}));

my (%want, @wrong);

for my $m (@mix) {
    my ($path, $o, $status, $zone, $result, $error, $reason) = @$m;

    my $r = $t->get($path, %$o);

    push @wrong, "$path: status $r->{status}, not $status"
        if ($r->{status} // 0) != $status;
    push @wrong, "$path: reason \"" . ($r->{headers}{'x-reason'} // '')
        . "\", not \"$reason\""
        if defined $reason && $path !~ m{^/err}
            && ($r->{headers}{'x-reason'} // '') ne $reason;

    $want{ series('authz_requests_total', zone => $zone,
        result => $result) }++;
    $want{ series('authz_denials_total', zone => $zone, error => $error,
        reason => $reason) }++ if defined $error;
}

is_deeply(\@wrong, [], 'every request got the answer it was meant to');

# the status requests themselves, also one behind authz: never counted

$t->get('/authz_status');
$t->get('/authz_status?format=json');
is($t->get('/jwt_status', token => $good)->{status}, 200,
    'status behind authz');
is($t->get('/jwt_status', token => mint())->{status}, 403,
    'status behind authz refused');
$t->get('/authz_status', port => 8081);

my $after = scrape();

is_deeply($after->{errors}, [], 'valid after')
    or diag(explain($after->{errors}));

my @diff = deltas($before, $after, \%want, 'authz_requests_total');
is_deeply(\@diff, [], 'exact deltas of authz_requests_total')
    or diag(explain(\@diff));

@diff = deltas($before, $after, \%want, 'authz_denials_total');
is_deeply(\@diff, [], 'exact deltas of authz_denials_total')
    or diag(explain(\@diff));

is(family_sum($after, 'authz_denials_total'),
    family_sum($after, 'authz_requests_total', result => 'deny'),
    'sum of denials is the deny count');

for my $zone ('default', 'api', 'named', 'protected', 'odd "zone" \\ name') {
    is(family_sum($after, 'authz_denials_total', zone => $zone),
        family_sum($after, 'authz_requests_total', zone => $zone,
            result => 'deny'), "denials sum per zone: $zone");
}

# the whole label set is closed: the rows the module can give, per zone

my @zones = sort map { /^authz_requests_total\0result=allow\0zone=(.*)$/s
    ? $1 : () } keys %{ $after->{samples} };
is_deeply(\@zones, [sort 'default', 'api', 'named', 'protected',
    'odd "zone" \\ name'], 'zone labels are the configured ones');

###############################################################################

# the answer itself

my $r = $t->get('/authz_status');
is($r->{status}, 200, 'status 200');
is($r->{headers}{'content-type'}, 'text/plain; version=0.0.4',
    'prometheus content type');
is($r->{headers}{'cache-control'}, 'no-store', 'no-store');
is($r->{headers}{'content-length'}, length $r->{body}, 'content length');

is_deeply(parse_prometheus($r->{body})->{order}, [qw(authz_requests_total
    authz_denials_total authz_cache_lookups_total authz_cache_evictions_total
    authz_cache_entries authz_build_info authz_revocation_entries
    authz_revocation_hits_total authz_revocation_reloads_total)],
    'families, in order');

like($r->{body}, qr/^authz_build_info\{version="[0-9.]+",
    nginx="1\.\d+\.\d+",openssl="[0-9][^"]*"\}\ 1$/mx, 'build info');

like($r->{body}, qr/^authz_requests_total
    \{zone="odd\ \\"zone\\"\ \\\\\ name",result="allow"\}\ 1$/mx,
    'label value escaped');

SKIP: {
    my ($rc, $out) = promtool($r->{body});
    skip 'promtool is not installed (Debian package prometheus)', 1
        unless defined $rc;
    is($rc, 0, 'promtool check metrics') or diag($out);
}

SKIP: {
    my ($rc, $out) = promtool(undef,
        "$FindBin::Bin/../docs/examples/authz-alerts.yml");
    skip 'promtool is not installed (Debian package prometheus)', 2
        unless defined $rc;
    is($rc, 0, 'promtool check rules on the example alerts') or diag($out);

    my $test = "$FindBin::Bin/../docs/examples/authz-alerts.test.yml";
    $out = `promtool test rules '$test' 2>&1`;
    is($? >> 8, 0, 'promtool test rules: the example alerts fire')
        or diag($out);
}

# JSON: the same numbers, with nothing moving in between

my $text = parse_prometheus($t->get('/authz_status')->{body});
$r = $t->get('/authz_status?format=json');
is($r->{headers}{'content-type'}, 'application/json', 'json content type');
is($r->{headers}{'cache-control'}, 'no-store', 'json no-store');

my $json = parse_json_metrics($r->{body});
is_deeply($json->{errors}, [], 'json parses');
is_deeply($json->{samples}, $text->{samples}, 'json has the same numbers');
is_deeply({ map { $_ => [@{ $json->{families}{$_} }{qw(type help)}] }
        keys %{ $json->{families} } },
    { map { $_ => [@{ $text->{families}{$_} }{qw(type help)}] }
        keys %{ $text->{families} } }, 'json has the same types and help');

is($t->get('/authz_status?format=prometheus')->{body},
    $t->get('/authz_status')->{body}, 'format=prometheus');
is($t->get('/authz_status?format=xml')->{status}, 400, 'unknown format');

# methods

$r = $t->req('HEAD', '/authz_status');
is($r->{status}, 200, 'head');
is($r->{body}, '', 'head without body');
ok($r->{headers}{'content-length'} > 0, 'head content length');

$r = $t->post('/authz_status', body => 'x');
is($r->{status}, 405, 'post refused');
is($r->{headers}{allow}, 'GET, HEAD', 'allow header');
is($t->req('DELETE', '/authz_status')->{status}, 405, 'delete refused');

# access control: "allow 127.0.0.1; deny all;" (the client address is
# set from X-Forwarded-For on the second server)

is($t->get('/authz_status', port => 8081)->{status}, 200, 'allowed client');
is($t->get('/authz_status', port => 8081,
    headers => ['X-Forwarded-For' => '192.0.2.7'])->{status}, 403,
    'other client refused');

###############################################################################

# no label value comes from a token: hostile sub, tenant and kid

my $hostile = 'HOSTILE"} 1' . "\n" . 'authz_requests_total{zone="x';
my @bad = (
    mint(sub => 'HOSTILE"}{zone="evil', tid => 'HOSTILE\\"'),
    mint(sub => $hostile),
    mint(tid => $hostile),
    mint(_kid => 'HOSTILE"},kid'),
    mint(_kid => $hostile),
    mint(iss => 'HOSTILE'),
    'HOSTILE.HOSTILE.HOSTILE',
);

$t->get('/a', token => $_) for @bad;
$t->get('/scope/', token => $_) for @bad;

my $body = $t->get('/authz_status')->{body}
    . $t->get('/authz_status?format=json')->{body};
unlike($body, qr/HOSTILE|evil/, 'no token byte in any label');
is_deeply(parse_prometheus($t->get('/authz_status')->{body})->{errors}, [],
    'still valid after hostile tokens');

###############################################################################

# the verified-token cache: lookups, entries, evictions

my $c0 = scrape();
my $fresh = mint(sub => 'cache-me');
$t->get('/a', token => $fresh);
$t->get('/a', token => $fresh);
my $c1 = scrape();

is(delta($c0, $c1, 'authz_cache_lookups_total', result => 'miss'), 1,
    'cache miss counted');
is(delta($c0, $c1, 'authz_cache_lookups_total', result => 'hit'), 1,
    'cache hit counted');
is(delta($c0, $c1, 'authz_cache_entries'), 1, 'cache entry counted');

# an internal redirect evaluates the token again in the new location:
# verified before in the request, it is neither looked up nor stored again

my $r0 = scrape();
$t->get('/try/x', token => mint(sub => 'redirected'));
my $r1 = scrape();

is(delta($r0, $r1, 'authz_cache_lookups_total', result => 'miss'), 1,
    'redirect: one lookup');
is(delta($r0, $r1, 'authz_cache_entries'), 1, 'redirect: one entry');

$t->get('/a', token => mint(sub => "many$_")) for 1 .. 400;
my $c2 = scrape();

my $evicted = delta($c1, $c2, 'authz_cache_evictions_total');
ok($evicted > 0, "evictions counted ($evicted)");
is(value($c2, 'authz_cache_entries'),
    value($c1, 'authz_cache_entries') + 401 - $evicted,
    'entries: stored less evicted');

###############################################################################

# a reload keeps the counters; a new label leaves the others alone

my $k0 = scrape();
reload();
my $k1 = scrape();
is(value($k1, 'authz_requests_total', zone => 'api', result => 'allow'),
    value($k0, 'authz_requests_total', zone => 'api', result => 'allow'),
    'counters survive a reload');

(my $renamed = $conf) =~ s/authz_status_zone named;/authz_status_zone renamed;/;
$t->write_file_expand('nginx.conf', $renamed);
reload();
$t->get('/try/x', token => $good);
my $k2 = scrape();

is(value($k2, 'authz_requests_total', zone => 'renamed', result => 'allow'),
    1, 'new label counts from zero');
is(value($k2, 'authz_requests_total', zone => 'default', result => 'deny'),
    value($k0, 'authz_requests_total', zone => 'default', result => 'deny'),
    'other labels keep their counters');
ok(!exists $k2->{samples}{series('authz_requests_total', zone => 'named',
    result => 'allow')}, 'a label no longer configured is gone');

###############################################################################

# every (error, reason) the module gives has its own row: a reason added
# to ngx_http_authz_deny() callers or to authz_strerror() without a row
# would only count as "other"

my %rows = map { ("$_->[0]\0$_->[1]" => 1) } source_rows();
my @missing = grep { !$rows{$_} } source_reasons();
is_deeply([map { s/\0/: /r } @missing], [], 'every reason has a row');

###############################################################################

# configuration errors

my ($rc, $out) = $t->nginx_t(conf_with('authz_status_zone a; '
    . 'authz_status_zone b;'));
like($out, qr/"authz_status_zone" directive is duplicate/, 'duplicate zone');

($rc, $out) = $t->nginx_t(conf_with('authz_status_zone "";'));
like($out, qr/invalid zone name/, 'empty zone name');

($rc, $out) = $t->nginx_t(conf_with('authz_status_zone "' . ('z' x 65)
    . '";'));
like($out, qr/invalid zone name/, 'zone name too long');

($rc, $out) = $t->nginx_t(conf_with("authz_status_zone \"a\tb\";"));
like($out, qr/only printable ASCII/, 'control character in zone name');

($rc, $out) = $t->nginx_t(conf_with('authz_status on;'));
like($out, qr/invalid number of arguments in "authz_status"/,
    'authz_status takes no argument');

$t->stop;

###############################################################################

# a reload, then the old workers gone: every answer is the new one's
sub reload {
    my $exited = sub {
        scalar(() = $t->error_log =~ /worker process \d+ exited/g);
    };
    my $n = $exited->();

    $t->reload;

    for (1 .. 200) {
        return if $exited->() >= $n + 2;
        select undef, undef, undef, 0.05;
    }

    fail('old workers did not exit');
}

sub scrape {
    return parse_prometheus($t->get('/authz_status')->{body});
}

sub value {
    my ($s, $name, %labels) = @_;
    return $s->{samples}{ series($name, %labels) } // 0;
}

sub delta {
    my ($a, $b, $name, %labels) = @_;
    return value($b, $name, %labels) - value($a, $name, %labels);
}

# every series of the family whose delta is not the wanted one
sub deltas {
    my ($a, $b, $want, $family) = @_;

    my %keys = map { $_ => 1 } grep { /^\Q$family\E\0/ }
        keys %{ $a->{samples} }, keys %{ $b->{samples} }, keys %$want;
    my @diff;

    for my $k (sort keys %keys) {
        my $d = ($b->{samples}{$k} // 0) - ($a->{samples}{$k} // 0);
        my $w = $want->{$k} // 0;
        push @diff, (join ' ', split /\0/, $k) . ": $d, wanted $w"
            if $d != $w;
    }

    return @diff;
}

sub source {
    my ($name) = @_;
    open my $fh, '<', "$FindBin::Bin/../ngx_http_authz_module/$name"
        or die "open $name: $!";
    local $/;
    return <$fh>;
}

# the rows of ngx_http_authz_status_reasons[]
sub source_rows {
    my $c = source('ngx_http_authz_status.c');
    my @rows;
    push @rows, [$1, $2] while $c =~
        /\{\s*ngx_string\("([^"]*)"\),\s*ngx_string\("([^"]*)"\)\s*\}/g;
    return @rows;
}

# "error\0reason" of every denial in the sources
sub source_reasons {
    my (%given, @strerror);

    my $jwt = source('authz_jwt.c');
    my ($body) = $jwt =~ /^authz_strerror\(.*?\n\{(.*?)\n\}/ms;
    @strerror = grep { !/^(?:ok|internal error|invalid token)$/ }
        ($body // '') =~ /return "([^"]*)";/g;

    for my $f (glob "$FindBin::Bin/../ngx_http_authz_module/*.c") {
        (my $name = $f) =~ s{.*/}{};
        my $c = source($name);

        while ($c =~ /ngx_http_authz_deny\(([^;]*)\);/g) {
            my $args = $1;
            my @s = $args =~ /"((?:[^"\\]|\\.)*)"/g;
            next unless @s;

            if (@s >= 2) {
                $given{"$s[0]\0$s[1]"} = 1;

            } elsif ($args =~ /authz_strerror/) {
                $given{"$s[0]\0$_"} = 1 for @strerror;
            }
        }
    }

    return sort keys %given;
}

sub conf_with {
    my ($directives) = @_;

    return <<"EOF";
%%TEST_GLOBALS%%
events {
}
http {
    server {
        listen 127.0.0.1:%%PORT_8090%%;
        location / {
            $directives
            authz_status;
        }
    }
}
EOF
}

###############################################################################
