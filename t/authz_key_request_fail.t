#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for authz_key_request failures: a provider down at start is 503
# key_unavailable with Retry-After, and backs off; every kind of bad
# response keeps the good keys; a provider down while warm serves the
# last keys until max_stale, then 503; one error line per change of
# state; max-age never lengthens refresh; a verified-token cache entry
# of a key that left the set does not hit; nginx -t checks.

###############################################################################

use warnings;
use strict;

use Test::More;

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);
use AuthzIdP;

###############################################################################

my $t = AuthzTest->new(workers => 2);
my $idp = AuthzIdP->new($t->testdir);
my $IDP = $idp->port;

my $jwks = <<"LOC";
            internal;
            authz off;
            proxy_pass_request_headers off;
            proxy_pass_request_body off;
            proxy_method GET;
            proxy_set_header Accept-Encoding "";
            subrequest_output_buffer_size 128k;
            proxy_pass http://127.0.0.1:$IDP/jwks;
LOC

$t->write_file_expand('nginx.conf', <<"CONF");

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    authz_key_cache zone=keys:1m;
    authz_cache zone=tokens:1m;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        authz on;
        add_header X-Cache \$authz_cache always;

        location / {
            authz_key_request /_jwks refresh=1s kid_refresh=1s wait=3s;
            proxy_pass http://%%ECHO%%;
        }

        location /stale/ {
            authz_key_request /_jwks2 refresh=1s max_stale=3s wait=2s;
            proxy_pass http://%%ECHO%%;
        }

        location = /_jwks {
$jwks
        }

        location = /_jwks2 {
$jwks
        }
    }
}

CONF

$idp->mode('500');
$idp->start;
$t->run->plan(37);

###############################################################################

my $tok = mint(_key => 'k1', sub => 'alice');

# down at start: 503 key_unavailable with Retry-After, then backoff

my $r = $t->get('/', token => $tok);
is($r->{status}, 503, 'down at start: 503');
like($r->{headers}{'retry-after'} // '', qr/^\d+$/, 'Retry-After');
like($r->{body}, qr/"error":"key_unavailable"/, 'key_unavailable');
is($idp->fetches, 1, 'one fetch');
is(st('/', $tok), 503, 'inside the backoff: 503');
is($idp->fetches, 1, 'inside the backoff: no fetch');

# a missing token is still 401, not 503

is($t->get('/')->{status}, 401, 'no token: 401');

# recovery

$idp->mode('ok');
sleep 2;
is(st('/', $tok), 200, 'recovered');
is($idp->fetches, 2, 'with one more fetch');

# each bad response keeps the good keys: k2 is published in most of
# them, and the k1 token stays valid

for my $mode (qw(500 404 invalid empty enc dupkid gzip big drop)) {
    $idp->publish('k2');
    $idp->mode($mode);
    sleep 1;
    my $n = $idp->fetches;
    st('/', $tok);
    $idp->wait_fetches($n + 1, 5);
    select undef, undef, undef, 0.3;
    is(st('/', $tok), 200, "bad response $mode: old keys kept");

    $idp->mode('ok');
    $idp->publish('k1');
    sleep 2;
    $n = $idp->fetches;
    st('/', $tok);
    $idp->wait_fetches($n + 1, 5);
}

my $log = $t->error_log(nodebug => 1);
my $errors = () = $log =~ /\[error\].*authz key set "\/_jwks": fetch failed/g;
is($errors, 10, 'one error line per change of state');
like($log, qr/\[notice\].*"\/_jwks": fetched again/, 'recovery logged');

# Cache-Control: max-age never lengthens refresh (1s here)

$idp->mode('maxage:600');
sleep 2;
my $n = $idp->fetches;
st('/', $tok);
$idp->wait_fetches($n + 1, 5);
$idp->mode('ok');
sleep 2;
st('/', $tok);
ok($idp->wait_fetches($n + 2, 5), 'max-age does not lengthen refresh');

# a cached verification made with a key that left the set does not hit:
# kid "k1" now names k2's key

sleep 2;
$n = $idp->fetches;
st('/', $tok);
$idp->wait_fetches($n + 1, 5);
is($t->get('/', token => $tok)->{headers}{'x-cache'}, 'hit', 'cached');
$idp->publish('k2:k1');
sleep 2;
$n = $idp->fetches;
st('/', $tok);
$idp->wait_fetches($n + 1, 5);
select undef, undef, undef, 0.3;
$r = $t->get('/', token => $tok);
is($r->{status}, 401, 'rotated away: the cached token is refused');
isnt($r->{headers}{'x-cache'}, 'hit', 'no cache hit');
is(st('/', mint(_key => 'k2', _kid => 'k1')), 200, 'the new key verifies');

# down while warm: the last keys until max_stale (3s), then 503

$idp->mode('ok');
$idp->publish('k1');
is(st('/stale/', $tok), 200, 'stale location warm');
$idp->mode('500');
sleep 1;
is(st('/stale/', $tok), 200, 'down, within max_stale: 200');
sleep 4;
$r = $t->get('/stale/', token => $tok);
is($r->{status}, 503, 'down, past max_stale: 503');
ok($r->{headers}{'retry-after'}, 'with Retry-After');

# nginx -t

$n = $idp->fetches;
my ($rc, $out) = $t->nginx_t(conf(''));
is($rc, 0, 'authz on with only authz_key_request keys')
    or diag($out);
is($idp->fetches, $n, 'nginx -t fetches nothing');

($rc, $out) = $t->nginx_t(conf('', 'no cache'));
like($out, qr/"authz_key_request" requires "authz_key_cache".*nginx_t\.conf:\d+/,
    'authz_key_cache required');

for my $bad ('refresh=0', 'max_size=10', 'wait=2m', 'bogus=1', 'kid_refresh=x') {
    ($rc, $out) = $t->nginx_t(conf($bad));
    like($out, qr/\[emerg\] \d+#\d+: invalid parameter "\Q$bad\E".*nginx_t\.conf:11/, "bad $bad");
}

$t->stop;
$idp->stop;

###############################################################################

sub st {
    my ($uri, $token) = @_;
    return $t->get($uri, token => $token)->{status} // 0;
}

sub conf {
    my ($param, $nocache) = @_;
    my $cache = $nocache ? '' : 'authz_key_cache zone=k:64k;';
    return <<"CONF";
%%TEST_GLOBALS%%

events {
}

http {
    $cache
    server {
        listen       127.0.0.1:%%PORT_8081%%;
        authz on;
        authz_key_request /_jwks $param;
        location / {
            proxy_pass http://127.0.0.1:1;
        }
        location = /_jwks {
            internal;
            proxy_pass http://127.0.0.1:$IDP/jwks;
        }
    }
}
CONF
}

###############################################################################
