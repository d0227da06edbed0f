#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for authz_key_request: a cold start fetches once, whatever the
# number of requests and workers; rotations (pre-published, emergency);
# a flood of unknown kids bounded by kid_refresh; what the provider
# sees; reload keeps the set; a large POST; variables read before the
# access phase; internal redirects between locations of other sources.

###############################################################################

use warnings;
use strict;

use Test::More;
use Time::HiRes ();

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);
use AuthzIdP;
use AuthzMetrics qw(parse_prometheus series);

###############################################################################

my $t = AuthzTest->new(workers => 4);
my $idp = AuthzIdP->new($t->testdir);
my $IDP = $idp->port;

$t->write_file_expand('nginx.conf', <<"CONF");

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    authz_key_cache zone=keys:1m;
    client_max_body_size 8m;
    limit_req_zone \$authz_sub zone=per_sub:1m rate=1000r/s;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        authz on;
        authz_key_request /_jwks kid_refresh=2s wait=5s;

        location / {
            proxy_pass http://%%ECHO%%;
        }

        location /var/ {
            set \$early \$authz_sub;
            limit_req zone=per_sub burst=100;
            add_header X-Early "[\$early]" always;
            proxy_pass http://%%ECHO%%;
        }

        location /file/ {
            authz_key_file %%KEYDIR%%/k2.pub kid=k2;
            error_page 401 = \@remote;
            proxy_pass http://%%ECHO%%;
        }

        location \@remote {
            proxy_pass http://%%ECHO%%;
        }

        location /file1/ {
            authz_key_file %%KEYDIR%%/k1.pub kid=k1;
            error_page 401 = \@remote;
            proxy_pass http://%%ECHO%%;
        }

        location /remote-first/ {
            error_page 401 = \@file1;
            proxy_pass http://%%ECHO%%;
        }

        location \@file1 {
            authz_key_file %%KEYDIR%%/k1.pub kid=k1;
            proxy_pass http://%%ECHO%%;
        }

        location /iss/ {
            authz_key_request /_jwks2 issuer=https://issuer.test;
            add_header X-Key-Source \$authz_key_source always;
            proxy_pass http://%%ECHO%%;
        }

        location /try/ {
            authz_key_file %%KEYDIR%%/k2.pub kid=k2;
            try_files /nonexistent \@remote;
        }

        location = /authz_status {
            authz off;
            authz_status;
        }

        location /cold/ {
            authz_key_request /_jwks2;
            proxy_pass http://%%ECHO%%;
        }

        location = /_jwks2 {
            internal;
            proxy_pass_request_headers off;
            proxy_pass_request_body off;
            proxy_method GET;
            proxy_set_header Accept-Encoding "";
            client_max_body_size 0;
            proxy_pass http://127.0.0.1:$IDP/jwks;
        }

        location = /_jwks {
            internal;
            proxy_pass_request_headers off;
            proxy_pass_request_body off;
            proxy_method GET;
            proxy_set_header Accept-Encoding "";
            client_max_body_size 0;
            subrequest_output_buffer_size 64k;
            proxy_pass http://127.0.0.1:$IDP/jwks;
        }
    }
}

CONF

$idp->start;
$t->run->plan(36);

###############################################################################

# negatives first: nothing was fetched at start, forged tokens fail

is($idp->fetches, 0, 'no fetch at start');
is(st('/', raw_jwt('{"alg":"RS256","kid":"k1"}', '{"sub":"x"}',
    sig => "\0" x 256)), 401, 'forged token refused');
is($idp->fetches, 1, 'cold set fetched once');
is(st('/', 'garbage'), 401, 'malformed token');
is(st('/', mint(_key => 'k1', exp => time - 100)), 401, 'expired token');

# warm: 500 requests over 4 workers, no more fetch

my $tok = mint(_key => 'k1', sub => 'alice');
my %s = parallel(10, 50, sub { st('/', $tok) });
is_deeply(\%s, { 200 => 500 }, '500 requests allowed');
is($idp->fetches, 1, 'still one fetch');

# the provider never sees the client's credentials or identity headers

my @h = map { $_->{headers} } $idp->requests;
ok(!grep({ exists $_->{authorization} || exists $_->{cookie}
    || grep { /^x-user-/ } keys %$_ } @h), 'provider sees no credentials');

# a variable read before the access phase on a warm set

is($t->get('/var/', token => $tok)->{headers}{'x-early'}, '[alice]',
    'variable before access');

# unknown kid, window open: one fetch, then 401 at once inside the window

sleep 2;
my $k2 = mint(_key => 'k2', sub => 'bob');
is(st('/', $k2), 401, 'unknown kid after one fetch');
is($idp->fetches, 2, 'unknown kid fetched once');
is(st('/', $k2), 401, 'unknown kid inside the window: 401 at once');
is($idp->fetches, 2, 'no fetch inside the window');

# emergency rotation: the new key is published, its first token is 200

sleep 2;
$idp->publish('k2');
my $t0 = Time::HiRes::time();
is(st('/', $k2), 200, 'rotated key accepted');
diag(sprintf 'rotation: first token of the new key answered in %.1f ms',
    (Time::HiRes::time() - $t0) * 1000) if $ENV{TEST_VERBOSE};
is($idp->fetches, 3, 'with one fetch');
is(st('/', $tok), 401, 'old key gone');

# flood of random kids: bounded by kid_refresh (2s) across the workers

# for 5 s, the window open at the start

sleep 2;
my $before = $idp->fetches;
my $start = time;
my $forged = mint(_key => 'k2', _kid => 'r0');
%s = parallel(4, 1, sub {
    my @r;
    while (time - $start < 5 && @r < 1500) {
        (my $tok = $forged) =~ s/^[^.]+/b64url(
            qq({"alg":"RS256","typ":"JWT","kid":"r) . int(rand(1e9)) . '"}')/e;
        push @r, st('/', $tok);
    }
    return @r;
});
my $secs = time - $start + 1;
my $n = 0;
$n += $_ for values %s;
is_deeply([keys %s], [401], "$n random kids refused");
diag(sprintf '%d random-kid requests in %d s: %d fetches', $n, $secs,
    $idp->fetches - $before) if $ENV{TEST_VERBOSE};
cmp_ok($idp->fetches - $before, '>=', 1, 'random kids: a fetch when the'
    . ' window is open');
cmp_ok($idp->fetches - $before, '<=', int($secs / 2) + 1,
    "random kids: at most one fetch per kid_refresh ($secs s)");

# a large POST to a location whose set is cold: the fetch is a
# subrequest of a request with a 5 MB body

$before = $idp->fetches;
my $r = $t->post('/cold/', token => $k2, body => 'x' x (5 * 1024 * 1024));
is($r->{status}, 200, '5 MB POST on a cold set');
is($idp->fetches, $before + 1, 'cold set of the POST fetched once');

# internal redirects: a file-key location falls back to the remote one

is(st('/file/', $k2), 200, 'file key location');
is(get_echo('/try/', $k2)->{'x-user-id'}, 'bob', 'try_files to remote set');

# reload keeps the set: no fetch after it

$before = $idp->fetches;
$t->reload;
sleep 1;
%s = parallel(4, 10, sub { st('/', $k2) });
is_deeply(\%s, { 200 => 40 }, 'allowed after reload');
is($idp->fetches, $before, 'no fetch after reload');
is(st('/', $tok), 401, 'old key still gone after reload');

# metrics: the fetches by source and result, the keys, the last success

my $m = parse_prometheus($t->get('/authz_status')->{body});
is_deeply($m->{errors}, [], 'valid metrics');
my $ok = ($m->{samples}{series('authz_key_fetches_total', source => '/_jwks',
    result => 'ok')} // 0) + ($m->{samples}{series('authz_key_fetches_total',
    source => '/_jwks2', result => 'ok')} // 0);
is($ok, $idp->fetches, 'fetches counted');
is($m->{samples}{series('authz_keys', source => '/_jwks')}, 1, 'keys');
cmp_ok($m->{samples}{series('authz_key_set_last_success_timestamp_seconds',
    source => '/_jwks')} // 0, '>', time - 3600, 'last success');

# internal redirects between key sources, both ways: each location
# verifies with its own keys, the identity is the token's of the
# location that allowed

is(get_echo('/file1/', $k2)->{'x-user-id'}, 'bob',
    'file key refuses, error_page to the remote set allows');
is(get_echo('/remote-first/', $tok)->{'x-user-id'}, 'alice',
    'remote set refuses, error_page to the file key allows');
is(st('/file1/', mint(_key => 'k2', _kid => 'k1')), 401,
    'forged in both sources: 401');

# issuer= binds the fetched keys; $authz_key_source names the set

$r = $t->get('/iss/', token => $k2);
is($r->{status}, 200, 'issuer binding: the issuer of the set');
is($r->{headers}{'x-key-source'}, '/_jwks2', '$authz_key_source');
is(st('/iss/', mint(_key => 'k2', sub => 'bob', iss => 'https://other')),
    401, 'issuer binding: another issuer refused');

$t->stop;
$idp->stop;

###############################################################################

sub st {
    my ($uri, $token) = @_;
    return $t->get($uri, token => $token)->{status} // 0;
}

sub get_echo {
    my ($uri, $token) = @_;
    return parse_echo($t->get($uri, token => $token));
}

# $procs processes, $n calls each; a hash of result => count
sub parallel {
    my ($procs, $n, $code) = @_;
    my @pipes;
    for (1 .. $procs) {
        pipe(my $rd, my $wr) or die;
        my $pid = fork // die;
        if (!$pid) {
            close $rd;
            srand($$ ^ time);
            print $wr join(' ', map { $code->() } 1 .. $n), ' ';
            close $wr;
            POSIX::_exit(0);
        }
        close $wr;
        push @pipes, [$pid, $rd];
    }
    my %count;
    for (@pipes) {
        my ($pid, $rd) = @$_;
        local $/;
        $count{$_}++ for split ' ', <$rd> // '';
        waitpid $pid, 0;
    }
    return %count;
}

###############################################################################
