#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for the verified-token cache (authz_cache): hit and miss, expiry
# on hit, eviction in a tiny zone, forged tokens never cached, sharing
# between workers, reload, and a hit only where the key is trusted.

###############################################################################

use warnings;
use strict;

use Test::More;

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);

###############################################################################

my $t = AuthzTest->new(workers => 2);

my $conf = <<'EOF';

%%TEST_GLOBALS%%


events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    authz_cache zone=tokens:32k ttl=60s;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        authz on;
        authz_leeway 0s;    # the default is 60s: exact times here
        authz_key_file %%KEYDIR%%/k1.pub kid=k1;
        authz_key_file %%KEYDIR%%/k2.pub kid=k2;

        add_header X-Cache $authz_cache always;

        location / {
            proxy_pass http://%%ECHO%%;
        }

        location /k2/ {
            authz_key_file %%KEYDIR%%/k2.pub;
            proxy_pass http://%%ECHO%%;
        }

        location /off/ {
            authz off;
            proxy_pass http://%%ECHO%%;
        }

        location /redirect/ {
            try_files /nonexistent @backend;
        }

        location @backend {
            proxy_pass http://%%ECHO%%;
        }
    }
}

EOF

$t->write_file_expand('nginx.conf', $conf);
$t->run->plan(28);

###############################################################################

my $tok = mint(sub => 'carol');

is(cache('/', $tok), 'miss', 'first use is a miss');
is(cache('/', $tok), 'hit', 'second use is a hit');

my $r = $t->get('/', token => $tok);
is($r->{status}, 200, 'hit allowed');
like($r->{body}, qr/x-user-id=carol/, 'hit forwards identity');

is(cache('/off/', $tok), 'off', 'off where authz is off');

# an internal redirect keeps what the cache said

my $redir = mint(sub => 'gina');
is(cache('/redirect/', $redir), 'miss', 'miss kept across a redirect');
is(cache('/redirect/', $redir), 'hit', 'hit kept across a redirect');
like($t->get('/redirect/', token => $redir)->{body}, qr/x-user-id=gina/,
    'identity after the redirect');

# a cli-minted token is cached as well

my $cli = mint_cli('--key', keydir() . '/k1.key', '--kid', 'k1',
    '--sub', 'dave', '--ttl', '60');
is(cache('/', $cli), 'miss', 'cli token miss');
is(cache('/', $cli), 'hit', 'cli token hit');

# a forged token never enters the cache

my @p = split /\./, mint(sub => 'mallory');
my $forged = "$p[0].$p[1]." . substr($p[2], 0, -4) . 'AAAA';
$r = $t->get('/', token => $forged);
$r = $t->get('/', token => $forged);
is($r->{status}, 401, 'forged refused twice');
isnt($r->{headers}{'x-cache'}, 'hit', 'forged never a hit');

# the lookup hash covers the token's last bytes (its signature): a
# cached token's signature under another payload has the same hash and
# must be told apart by the bytes, never served as a hit

# (same length as well: "carol" and "mallo", so only the bytes differ)

my @c = split /\./, $tok;
my $other = (split /\./, mint(sub => 'mallo'))[1];
my $pasted = "$c[0].$other.$c[2]";
$r = $t->get('/', token => $pasted);
is(length $pasted, length $tok, 'pasted token has the cached length');
is($r->{status}, 401, 'cached signature under another payload refused');
my @bad = map {
    "$c[0]." . (split /\./, mint(sub => sprintf 'm%04d', $_))[1] . ".$c[2]"
} 1 .. 20;
is(scalar(grep { length $_ == length $tok } @bad), 20, 'all of that length');
is(scalar(grep { $t->get('/', token => $_)->{status} == 401 } @bad), 20,
    '20 payloads under one cached signature refused');
is(cache('/', $tok), 'hit', 'the cached token is still a hit after them');

# a hit counts only where the verifying key is trusted

$r = $t->get('/k2/', token => $tok);
is($r->{status}, 401, 'cached token refused where its key is not trusted');

# expiry is honoured on a hit: claims are still checked

my $short = mint(exp => time() + 2);
is(cache('/', $short), 'miss', 'short token miss');
is(cache('/', $short), 'hit', 'short token hit');
sleep 3;
$r = $t->get('/', token => $short);
is($r->{status}, 401, 'expired after a hit');

# workers share entries: one miss only, whichever worker answers

my $shared = mint(sub => 'erin');
my @states = map { cache('/', $shared) } 1 .. 20;
is(scalar(grep { $_ eq 'miss' } @states), 1, 'one miss among 20 requests');

# eviction: a 32k zone holds far fewer than 600 entries

my $first = mint(sub => 'u0');
cache('/', $first);
cache('/', mint(sub => "u$_")) for 1 .. 600;
is(cache('/', $first), 'miss', 'least recently used entry evicted');
is(cache('/', $tok), 'miss', 'old entry evicted too');

# a large entry (two pages) in a zone full of small ones: as many of
# the least recently used go as it takes

my $large = mint(sub => 'large', pad => 'x' x 4000);
is(cache('/', $large), 'miss', 'large token miss in a full zone');
is(cache('/', $large), 'hit', 'large token stored in a full zone');

# a reload keeps the zone and its entries

my $kept = mint(sub => 'frank');
cache('/', $kept);
$t->reload;
is(cache('/', $kept), 'hit', 'entry survives a reload');

my $log = $t->error_log(nodebug => 1);
unlike($log, qr/ngx_slab_alloc\(\) failed/, 'no allocation failure logged');

###############################################################################

sub cache {
    my ($uri, $token) = @_;
    return $t->get($uri, token => $token)->{headers}{'x-cache'} || '';
}

###############################################################################
