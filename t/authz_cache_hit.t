#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for cache hits that skip decoding (authz_cache, SPEC 7): a hit
# gives exactly the answer a miss would.  Two nginx run the same
# configuration, one with authz_cache and one without; every token is
# first sent to one location (a miss, which stores the entry under that
# location's claim settings) and then to every location, each of which
# changes the answer in its own way (claim names, roles claim, scope
# levels, leeway, issuer, audience, token size, algorithms, keys, exp
# required, tenant, services, rules, conditions, revocation), directly
# and across internal redirects.  Every answer of the cached nginx
# (status, WWW-Authenticate, $authz_error, $authz_reason, the forwarded
# identity and the claim variables) must equal the uncached one.
# Also the directives of the claims and keys work (token type, binding,
# several permissions claims and JSON Pointers, wildcards, forwarded
# permissions, claim headers, issuer-bound keys, ES256), a fetched key
# set (authz_key_request) with a key rotated away while its token is
# cached, and the info line of ignored items, logged as often as
# without the cache.

###############################################################################

use warnings;
use strict;

use Test::More;

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);
use AuthzIdP;
use AuthzCacheHit qw(cache_hit_conf cache_hit_list cache_hit_answer);
use JSON::PP;

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

my $now = time();

my $c = AuthzTest->new->has('module');
my $n = AuthzTest->new;

# one provider for both: the fetched set of /remote/

my $idp = AuthzIdP->new($c->testdir);
my $IDP = $idp->port;
$idp->publish('k1', 'k2');
$idp->start;

for my $t ($c, $n) {
    cache_hit_list($t, $now, []);
    $t->write_file_expand('nginx.conf',
        cache_hit_conf($t == $c ? 'authz_cache zone=hits:1m ttl=60s;' : '',
            $IDP));
    $t->run;
}

my @locations = qw(/a/x /claims/x /roles/x /levels/x /leeway0/x /iss/x
    /aud/x /tenant/x /svc/x /svcblog/x /rules/own/x /rules/t/acme/x
    /rules/t/globex/x /k2/x /size/x /alg/x /optexp/x /cond/x /redir/x
    /err/x /accel/x /vars/x /typ/x /bindignore/x /bindmtls/x /ec/x
    /ecrs/x /issok/x /issbound/x /perms2/x /wild/x /fwd/x /hdr/x
    /remote/x /errtyp/x /redirbind/x);

# where a token is first sent, and so stored

my @firsts = qw(/a/x /claims/x /levels/x /leeway0/x /optexp/x /k2/x
    /redir/x /bindignore/x /ecrs/x /perms2/x /remote/x);

# the tokens: each changes the answer somewhere

my %base = (sub => 'alice', tid => 'acme', jti => 'tok-ok',
    permissions => ['blog:posts.read', 'orders:read:org'],
    services => { blog => { enabled => JSON::PP::true },
        chatbot => { enabled => JSON::PP::false } },
    roles => ['role_viewer'], groups => ['role_editor'],
    scope => 'blog:posts.read orders:read:team', org => 'globex',
    svc => ['chatbot'], custom => 'hello', flag => 1);

my %tokens = (
    plain => sub { mint(%base, @_) },
    revoked => sub { mint(%base, jti => 'tok-revoked', @_) },
    nbf => sub { mint(%base, nbf => $now + 30, @_) },
    iat => sub { mint(%base, iat => $now + 30, @_) },
    noexp => sub { mint(%base, exp => undef, @_) },
    audarray => sub { mint(%base, aud => ['x.test', 'api.test'],
        iss => 'https://other.test', @_) },
    tenant => sub { mint(%base, tid => 'globex', sub => 'bob',
        roles => ['role_editor', 'role_editor'], @_) },
    nothing => sub { mint(sub => 'carol', @_) },
    k2 => sub { mint(%base, _key => 'k2', @_) },
    nokid => sub { mint(%base, _kid => undef, @_) },
    flag0 => sub { mint(%base, flag => 0, @_) },
    atjwt => sub { mint(%base, _header => { typ => 'at+jwt' }, @_) },
    notyp => sub { mint(%base, _header => { typ => undef }, @_) },
    cnf => sub { mint(%base, cnf => { 'x5t#S256' => 'A' x 43 }, @_) },
    es256 => sub { mint(%base, _key => 'ec', _alg => 'ES256', @_) },
    items => sub { mint(%base, permissions => ['blog:posts.read', 17, '',
        'orders:read:org'], @_) },
    extra => sub { mint(%base, ext => { perms => ['blog:posts.delete'] },
        @_) },
    wild => sub { mint(%base, permissions => ['blog:*', '*'], @_) },
);

my $groups = 0;
my ($hits, $mismatch) = (0, 0);

# and "no alerts" of each nginx

plan(tests => keys(%tokens) * @firsts + 6 + 6 + 2);

for my $name (sort keys %tokens) {
    for my $first (@firsts) {

        # a token of its own for each first location: a fresh entry

        my $tok = $tokens{$name}->(nonce => "$name $first");
        my (@got, @want);

        for my $path ($first, @locations, $first) {
            my ($a, $cache) = cache_hit_answer($c, $path, $tok);
            push @got, "$path $a";
            push @want, "$path " . (cache_hit_answer($n, $path, $tok))[0];
            $hits++ if $cache eq 'hit';
        }

        is_deeply(\@got, \@want, "$name, first $first");
    }
}

ok($hits > 2000, "hits: $hits");

my $full = () = $c->error_log =~ /authz cache hit with claims/g;
ok($full > 300, "hits with claims: $full");

# revocation of a cached token: a hit checks the list again

my $tok = mint(%base, jti => 'tok-later');
my @before = map { (cache_hit_answer($c, $_, $tok))[0] } qw(/a/x /claims/x);
like($before[0], qr/^200\|/, 'cached before revocation');

cache_hit_list($_, $now, ['tok-later']) for $c, $n;
sleep 1;

is_deeply([ map { (cache_hit_answer($c, $_, $tok))[0] } qw(/a/x /claims/x) ],
    [ map { (cache_hit_answer($n, $_, $tok))[0] } qw(/a/x /claims/x) ],
    'revoked while cached: as without the cache');
like((cache_hit_answer($c, '/a/x', $tok))[0], qr/^401\|/,
    'revoked while cached');

# expiry while cached, with and without leeway

my $short = mint(%base, exp => time() + 2);
cache_hit_answer($c, '/a/x', $short) for 1 .. 2;
sleep 3;

is_deeply([ map { (cache_hit_answer($c, $_, $short))[0] } qw(/a/x /leeway0/x) ],
    [ map { (cache_hit_answer($n, $_, $short))[0] } qw(/a/x /leeway0/x) ],
    'expired while cached: as without the cache');

# the info line of ignored items: logged on every request, cached or not

my $items = mint(%base, permissions => ['blog:posts.read', 17],
    nonce => 'items-log');
cache_hit_answer($_, '/a/x', $items) for ($c, $c, $c, $n, $n, $n);
my @count = map { scalar(() = $_->error_log
    =~ /invalid items? of claim "\w+" ignored/g) } $c, $n;
ok($count[0] > 0, "ignored items logged: $count[0]");
is($count[0], $count[1], 'ignored items logged as without the cache');

# a fetched key set: a key rotated away while its token is cached

my $k2 = mint(%base, _key => 'k2', nonce => 'rotated');
my @got = map { (cache_hit_answer($c, '/remote/x', $k2))[0] } 1 .. 2;
like($got[0], qr/^200\|/, 'fetched key: accepted');
is((cache_hit_answer($c, '/remote/x', $k2))[1], 'hit', 'fetched key: cached');

$idp->publish('k1');
my $fetched = $idp->fetches;
sleep 2;

# a request after refresh= starts the fetch; then k2 is gone

cache_hit_answer($_, '/remote/x', mint(%base, nonce => 'refresh')) for $c, $n;
$idp->wait_fetches($fetched + 2);
select undef, undef, undef, 0.5;

is_deeply([ map { (cache_hit_answer($_, '/remote/x', $k2))[0] } $c, $n ],
    [ ((cache_hit_answer($n, '/remote/x', $k2))[0]) x 2 ],
    'rotated away while cached: as without the cache');
like((cache_hit_answer($c, '/remote/x', $k2))[0], qr/^401\|/,
    'rotated away while cached: 401');

$idp->stop;

###############################################################################
