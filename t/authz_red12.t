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
my $long = 'u' x 3000;

my $c = AuthzTest->new->has('module');
my $n = AuthzTest->new;

# one provider for both: the fetched set of /remote/

my $idp = AuthzIdP->new($c->testdir);
my $IDP = $idp->port;

# the locations of these tests, besides the shared ones

my $more = <<'LOC';
        location /subclaim/ {
            authz_tenant_claim org;
            authz_rule GET "/subclaim/{sub}" public;
            authz_rule GET /subclaim/** blog:posts.read;
            proxy_pass http://%%ECHO%%;
        }

        location /rulesub/ {
            authz_rule GET "/rulesub/{sub}" blog:posts.read;
            authz_rules_default allow;
            proxy_pass http://%%ECHO%%;
        }
LOC

# the list: also a sub and a tenant, an empty and a numeric jti

sub write_list {
    my ($t, $jti) = @_;
    cache_hit_list($t, $now, ['', 17, @$jti],
        sub => { mallory => $now }, tenant => { evil => $now });
}

sub conf {
    my ($cache) = @_;
    return cache_hit_conf($cache, $IDP, $more);
}
$idp->publish('k1', 'k2');
$idp->start;

for my $t ($c, $n) {
    write_list($t, []);
    $t->write_file_expand('nginx.conf',
        conf($t == $c ? 'authz_cache zone=hits:1m ttl=60s;' : ''));
    $t->run;
}

my @locations = qw(/a/x /claims/x /roles/x /levels/x /leeway0/x /iss/x
    /aud/x /tenant/x /svc/x /svcblog/x /rules/own/x /rules/t/acme/x
    /rules/t/globex/x /k2/x /size/x /alg/x /optexp/x /cond/x /redir/x
    /err/x /accel/x /vars/x /typ/x /bindignore/x /bindmtls/x /ec/x
    /ecrs/x /issok/x /issbound/x /perms2/x /wild/x /fwd/x /hdr/x
    /remote/x /errtyp/x /redirbind/x /subclaim/x /rulesub/x);

# where a token is first sent, and so stored

my @firsts = qw(/a/x /claims/x /subclaim/x /leeway0/x /optexp/x
    /bindignore/x /typ/x);

# the tokens: each changes the answer somewhere

my %base = (sub => 'alice', tid => 'acme', jti => 'tok-ok',
    permissions => ['blog:posts.read', 'orders:read:org'],
    services => { blog => { enabled => JSON::PP::true },
        chatbot => { enabled => JSON::PP::false } },
    roles => ['role_viewer'], groups => ['role_editor'],
    scope => 'blog:posts.read orders:read:team', org => 'globex',
    svc => ['chatbot'], custom => 'hello', flag => 1);

my $many = [ map { "blog:p$_" } 1 .. 600 ];
my $hdr = '{"alg":"RS256","kid":"k1","typ":"JWT"}';
my $p = sub { my ($extra) = @_; '{"sub":"alice","tid":"acme","iss":"https://issuer.test","aud":"api.test","exp":' . ($now + 3600) . ',"permissions":["blog:posts.read","orders:read:org"],"services":{"blog":{"enabled":true}},"custom":"hello","flag":1' . $extra . '}' };

my %tokens = (
    subrev => sub { mint(%base, sub => 'mallory', iat => $now - 100, @_) },
    tenrev => sub { mint(%base, tid => 'evil', iat => $now - 100, @_) },
    customsub => sub { mint(%base, custom => 'mallory', iat => $now - 100, @_) },
    orgrev => sub { mint(%base, org => 'evil', iat => $now - 100, @_) },
    noiat => sub { mint(%base, sub => 'mallory', iat => undef, @_) },
    audmixed => sub { mint(%base, aud => [17, 'api.test', undef, 'x.test'], @_) },
    issnum => sub { mint(%base, iss => 17, @_) },
    comma => sub { mint(%base, permissions => ['blog:posts.read,blog:posts.delete'], @_) },
    longsub => sub { mint(%base, sub => $long, @_) },
    many => sub { mint(%base, permissions => $many, @_) },
    nullnbf => sub { my %a = @_; raw_jwt($hdr, $p->(',"nbf":null,"iat":null,"nonce":"' . $a{nonce} . '"')) },
    floatiat => sub { my %a = @_; raw_jwt($hdr, $p->(',"iat":' . ($now + 59.5) . ',"nonce":"' . $a{nonce} . '"')) },
    nulsub => sub { my %a = @_; raw_jwt($hdr, $p->(',"nonce":"' . $a{nonce} . '"') =~ s/"alice"/"al\\u0000ice"/r) },
    typ64 => sub { mint(%base, _header => { typ => 'at+jwt' . ('x' x 58) }, @_) },
    typcase => sub { mint(%base, _header => { typ => 'application/AT+JWT' }, @_) },
    emptyjti => sub { mint(%base, jti => '', @_) },
    numjti => sub { mint(%base, jti => 17, @_) },
    subobj => sub { mint(%base, sub => { a => 1 }, @_) },
    tenempty => sub { mint(%base, tid => '', @_) },
    svcnull => sub { mint(%base, services => undef, @_) },
    rolesdup => sub { mint(%base, roles => ['role_viewer', 'role_editor', 'role_viewer'], groups => 'role_editor', @_) },
);

my $groups = 0;
my ($hits, $mismatch) = (0, 0);

# and "no alerts" of each nginx

plan(tests => keys(%tokens) * @firsts + 6 + 6 + 2 + 3);

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

ok($hits > 100, "hits: $hits");

my $full = () = $c->error_log =~ /authz cache hit with claims/g;
ok($full > 20, "hits with claims: $full");

# revocation of a cached token: a hit checks the list again

my $tok = mint(%base, jti => 'tok-later');
my @before = map { (cache_hit_answer($c, $_, $tok))[0] } qw(/a/x /claims/x);
like($before[0], qr/^200\|/, 'cached before revocation');

write_list($_, ['tok-later']) for $c, $n;
sleep 1;

is_deeply([ map { (cache_hit_answer($c, $_, $tok))[0] } qw(/a/x /claims/x) ],
    [ map { (cache_hit_answer($n, $_, $tok))[0] } qw(/a/x /claims/x) ],
    'revoked while cached: as without the cache');
like((cache_hit_answer($c, '/a/x', $tok))[0], qr/^401\|/, 'revoked while cached');

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


# a reload that changes the claim settings and the role table: entries
# made under the old configuration must answer as the new one does

my @cached = map { mint(%base, nonce => "reload $_") } 1 .. 3;
my @pre;
for my $tok (@cached) {
    push @pre, map { "$_ " . (cache_hit_answer($c, $_, $tok))[0] }
        qw(/a/x /roles/x /claims/x /subclaim/x);
}

for my $t ($c, $n) {
    my $conf = conf($t == $c ? 'authz_cache zone=hits:1m ttl=60s;' : '');
    $conf =~ s/authz_role role_viewer blog:posts.read;/authz_role role_viewer blog:posts.update;/;
    $conf =~ s/authz_roles_claim groups;\n            authz_require blog:posts.update;/authz_require blog:posts.update;/;
    $conf =~ s/authz_permissions_claim scope;/authz_permissions_claim permissions;/;
    $t->write_file_expand('nginx.conf', $conf);
    $t->reload;
}
select undef, undef, undef, 0.5;

my (@rgot, @rwant, $rhits);
for my $tok (@cached) {
    for my $path (qw(/a/x /roles/x /claims/x /subclaim/x)) {
        my ($a, $cache) = cache_hit_answer($c, $path, $tok);
        $rhits++ if $cache eq 'hit';
        push @rgot, "$path $a";
        push @rwant, "$path " . (cache_hit_answer($n, $path, $tok))[0];
    }
}
is_deeply(\@rgot, \@rwant, 'reload with other claim settings: as without the cache');
ok($rhits, "hits after reload: $rhits");
isnt(join("\n", @rgot), join("\n", @pre), 'the reload changed answers');

$idp->stop;

###############################################################################
