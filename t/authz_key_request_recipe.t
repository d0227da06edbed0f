#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests of the internal location recipe of docs/remote-keys.md, read
# from docs/examples/remote-keys.conf with only the provider's URL
# replaced: what the provider receives (GET, no client headers, no
# body, no compression), a large upload on a cold set, and the
# proxy_cache variant as an outage buffer.

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

open my $fh, '<', "$FindBin::Bin/../docs/examples/remote-keys.conf" or die;
my $recipe = do { local $/; <$fh> };
close $fh;

my $url = 'https://idp.example.com/.well-known/jwks.json';
$recipe =~ s/\Q$url\E/http:\/\/127.0.0.1:$IDP\/jwks/
    or die "no $url in docs/examples/remote-keys.conf\n";
$t->write_file('remote-keys.conf', $recipe);

(my $cached = $recipe) =~ s/# (proxy_cache(?:_valid|_use_stale)? .*)/$1/g;
$cached =~ s{location = /_authz/jwks}{location = /_authz/jwks_cached};
$t->write_file('remote-keys-cached.conf', $cached);

$t->write_file_expand('nginx.conf', <<"CONF");

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    authz_key_cache zone=authz_keys:1m;
    proxy_cache_path %%TESTDIR%%/jwks_cache keys_zone=jwks:1m;
    client_max_body_size 8m;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        authz on;
        authz_key_request /_authz/jwks;

        location / {
            proxy_pass http://%%ECHO%%;
        }

        location /cached/ {
            authz_key_request /_authz/jwks_cached refresh=1s max_stale=1s;
            proxy_pass http://%%ECHO%%;
        }

        include %%TESTDIR%%/remote-keys.conf;
        include %%TESTDIR%%/remote-keys-cached.conf;
    }
}

CONF

$idp->start;
$t->run->plan(8);

###############################################################################

my $tok = mint(_key => 'k1', sub => 'alice');

# negative first: a forged token, on the cold set, with client headers
# that must not reach the provider

my $r = $t->post('/', headers => { Cookie => 'session=secret',
    'X-User-Id' => 'mallory', 'Accept-Encoding' => 'gzip' },
    token => mint(_key => 'k2', _kid => 'k1'),
    body => 'x' x (5 * 1024 * 1024));
is($r->{status}, 401, 'forged token with a 5 MB body refused');
is($idp->fetches, 1, 'one fetch');

my ($req) = $idp->requests;
like($req->{line}, qr{^GET /jwks HTTP/1\.[01]$}, 'provider: GET');
my @leak = grep { /^(?:authorization|cookie|x-user-|content-length|
    accept-encoding)/x } keys %{ $req->{headers} };
is_deeply(\@leak, [], 'provider: no client headers, no body');

is(st('/', $tok), 200, 'allowed');

# the proxy_cache variant: the provider goes down, the cached answer
# keeps the set alive past max_stale

is(st('/cached/', $tok), 200, 'cached location warm');
$idp->mode('500');
sleep 3;
is(st('/cached/', $tok), 200, 'provider down: the cache keeps the set');
is(st('/', $tok), 200, 'uncached location: within max_stale');

$t->stop;
$idp->stop;

###############################################################################

sub st {
    my ($uri, $token) = @_;
    return $t->get($uri, token => $token)->{status} // 0;
}

###############################################################################
