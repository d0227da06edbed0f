#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Tests for authz_key_request: a fetch that outlives its deadline lets
# another fetch go; when the older one answers last, its keys never
# replace the newer set (a provider that rotated in between would
# otherwise have its new key dropped by a late, stale answer).

###############################################################################

use warnings;
use strict;

use Test::More;
use POSIX ();
use Time::HiRes qw(time sleep);

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);
use AuthzIdP;

###############################################################################

my $t = AuthzTest->new;

# two providers behind one upstream, taken in turn: the first fetch goes
# to the slow one (old key k1), the second to the quick one (new key k2)

mkdir $t->testdir . "/$_" for qw(slow quick);
my $slow = AuthzIdP->new($t->testdir . '/slow');
my $quick = AuthzIdP->new($t->testdir . '/quick');
my ($SLOW, $QUICK) = ($slow->port, $quick->port);

$t->write_file_expand('nginx.conf', <<"CONF");

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    authz_key_cache zone=keys:1m;

    upstream idp {
        server 127.0.0.1:$SLOW;
        server 127.0.0.1:$QUICK;
    }

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location / {
            authz on;
            authz_key_request /_jwks kid_refresh=1s wait=2s;
            proxy_pass http://%%ECHO%%;
        }

        location = /_jwks {
            internal;
            proxy_pass_request_headers off;
            proxy_pass_request_body off;
            proxy_method GET;
            proxy_set_header Accept-Encoding "";
            proxy_read_timeout 30s;
            proxy_next_upstream off;
            subrequest_output_buffer_size 64k;
            proxy_pass http://idp/jwks;
        }
    }
}

CONF

$slow->publish('k1')->mode('slow:12')->start;
$quick->publish('k2')->start;
$t->run->plan(6);

###############################################################################

my $start = time();

# the first request makes the slow fetch and waits for its subrequest

my $out = $t->testdir . '/first';
my $pid = fork // die "fork: $!";

if ($pid == 0) {
    my $r = $t->get('/', token => mint(), timeout => 30);
    open my $f, '>', $out or die;
    print $f $r->{status} // 'none';
    close $f;
    POSIX::_exit(0);
}

ok($slow->wait_fetches(1, 5), 'the slow provider got the first fetch');

# past the fetch deadline (10 s): the next request may fetch again

sleep(10.5 - (time() - $start)) if time() - $start < 10.5;

is($t->get('/', token => mint(_key => 'k2'))->{status}, 200,
    'a fetch after the deadline of the first: the new key verifies');
is($quick->fetches, 1, 'the quick provider got the second fetch');

# the slow answer (k1 only) arrives after the quick one

waitpid $pid, 0;
sleep(0.2);

is($t->get('/', token => mint(_key => 'k2'))->{status}, 200,
    'after the late answer of the first fetch: the new key still verifies');
is($t->get('/', token => mint())->{status}, 401,
    'the late answer did not install the old key');

like($t->error_log, qr/a late answer of an older fetch ignored/,
    'the late answer logged');

$slow->stop;
$quick->stop;

###############################################################################
