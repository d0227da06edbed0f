#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for authz_key_request waits: 50 parallel cold requests on one
# worker all finish with one fetch (fetch state is per request, never
# in the configuration); a slow provider is waited for; a variable read
# before the access phase on a cold set does not wait and the access
# phase still verifies; a single-flight refresh under 200 concurrent
# requests; a pre-published rotation needs no kid-triggered fetch.

###############################################################################

use warnings;
use strict;

use Test::More;

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);
use AuthzIdP;
use IO::Socket::INET;

###############################################################################

my $t = AuthzTest->new(workers => 1);
my $idp = AuthzIdP->new($t->testdir);
my $IDP = $idp->port;

$t->write_file_expand('nginx.conf', <<"CONF");

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    authz_key_cache zone=keys:1m;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        authz on;

        location / {
            authz_key_request /_jwks refresh=5s kid_refresh=60s wait=5s;
            proxy_pass http://%%ECHO%%;
        }

        location /var/ {
            authz_key_request /_jwks2 kid_refresh=60s wait=5s;
            set \$early \$authz_sub;
            add_header X-Early "[\$early]" always;
            proxy_pass http://%%ECHO%%;
        }

        location = /_jwks {
            internal;
            authz off;
            proxy_pass_request_headers off;
            proxy_pass_request_body off;
            proxy_method GET;
            proxy_set_header Accept-Encoding "";
            proxy_pass http://127.0.0.1:$IDP/jwks;
        }

        location /neg/ {
            authz_key_request /_jwks3 kid_refresh=60s wait=5s;
            proxy_pass http://%%ECHO%%;
        }

        location /abort/ {
            authz_key_request /_jwks4 kid_refresh=60s wait=5s;
            proxy_pass http://%%ECHO%%;
        }

        location = /_jwks4 {
            internal;
            authz off;
            proxy_pass_request_headers off;
            proxy_pass_request_body off;
            proxy_method GET;
            proxy_set_header Accept-Encoding "";
            proxy_pass http://127.0.0.1:$IDP/jwks;
        }

        location = /_jwks3 {
            internal;
            authz off;
            proxy_pass_request_headers off;
            proxy_pass_request_body off;
            proxy_method GET;
            proxy_set_header Accept-Encoding "";
            proxy_pass http://127.0.0.1:$IDP/jwks;
        }

        location = /_jwks2 {
            internal;
            authz off;
            proxy_pass_request_headers off;
            proxy_pass_request_body off;
            proxy_method GET;
            proxy_set_header Accept-Encoding "";
            proxy_pass http://127.0.0.1:$IDP/jwks;
        }
    }
}

CONF

$idp->mode('slow:1');
$idp->start;
$t->run->plan(17);

###############################################################################

my $tok = mint(_key => 'k1', sub => 'alice');

# negative first: a token of a key the provider does not have

is(st('/neg/', mint(_key => 'k2')), 401, 'unknown key on a cold set');
is($idp->fetches, 1, 'one fetch for it');

# 50 parallel cold requests on one worker, provider answering in 1 s

my %s = parallel(50, 1, sub { st('/', $tok) });
is_deeply(\%s, { 200 => 50 }, '50 parallel cold requests allowed');
is($idp->fetches, 2, 'with one fetch');

# a variable read before the access phase does not wait: it is empty
# there, and the access phase verifies with the fetched keys

$idp->mode('ok');
my $r = $t->get('/var/', token => $tok);
is($r->{status}, 200, 'variable location allowed');
is($r->{headers}{'x-early'}, '[]', 'variable read early is empty');
is(parse_echo($r)->{'x-user-id'}, 'alice', 'identity forwarded');
is($t->get('/var/', token => $tok)->{headers}{'x-early'}, '[alice]',
    'variable read early on a warm set');
is($idp->fetches, 3, 'one fetch for the variable location');

# stale-while-revalidate: 200 concurrent requests after refresh (5 s):
# all allowed, one background fetch

sleep 6;
my $before = $idp->fetches;
$idp->mode('slow:1');
%s = parallel(20, 10, sub { st('/', $tok) });
is_deeply(\%s, { 200 => 200 }, '200 requests on a stale set allowed');
$idp->wait_fetches($before + 1, 5);
sleep 1;
is($idp->fetches, $before + 1, 'one background refresh');

# a pre-published rotation: k2 is in the set before its first token;
# the periodic refresh picks it up, no kid-triggered fetch

$idp->mode('ok');
$idp->publish('k1', 'k2');
sleep 6;
$before = $idp->fetches;
is(st('/', $tok), 200, 'old key still accepted');
$idp->wait_fetches($before + 1, 5);
my $k2 = mint(_key => 'k2', sub => 'bob');
is(st('/', $k2), 200, 'pre-published key accepted');
is($idp->fetches, $before + 1, 'no kid-triggered fetch');

# a client that goes away while its request fetches a cold set: the
# fetch is released without a backoff, the next request fetches again

$idp->mode('slow:1');
$before = $idp->fetches;
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
    PeerPort => $t->port(8080), Proto => 'tcp') or die "connect: $@";
print $s "GET /abort/ HTTP/1.1\r\nHost: localhost\r\n"
    . "Authorization: Bearer $tok\r\n\r\n";
select undef, undef, undef, 0.3;
close $s;
select undef, undef, undef, 0.2;
is(st('/abort/', $tok), 200, 'after an aborted client: allowed');
is($idp->fetches, $before + 2, 'the aborted fetch was not a failure');
unlike($t->error_log(nodebug => 1), qr/"\/_jwks4": fetch failed/,
    'no failure logged');

$t->stop;
$idp->stop;

###############################################################################

sub st {
    my ($uri, $token) = @_;
    return $t->get($uri, token => $token)->{status} // 0;
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
            print $wr join(' ', map { $code->() } 1 .. $n);
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
