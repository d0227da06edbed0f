#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Red team of issue 10 (fetched key sets): hostile configurations and
# provider answers found in review, each with the behaviour it must have.

###############################################################################

use warnings;
use strict;

use Test::More;

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);
use AuthzIdP;

###############################################################################

my $t = AuthzTest->new(workers => 1);
my $idp = AuthzIdP->new($t->testdir);
mkdir $t->testdir . "/2";
my $idp2 = AuthzIdP->new($t->testdir . "/2");
mkdir $t->testdir . "/slow";
my $slow = AuthzIdP->new($t->testdir . "/slow");
my ($IDP, $IDP2, $SLOW) = ($idp->port, $idp2->port, $slow->port);

sub jwks_loc {
    my ($port) = @_;
    return <<"LOC";
            internal;
            authz off;
            proxy_pass_request_headers off;
            proxy_pass_request_body off;
            proxy_method GET;
            proxy_set_header Accept-Encoding "";
            subrequest_output_buffer_size 128k;
            proxy_pass http://127.0.0.1:$port/jwks;
LOC
}

my ($L1, $L2) = (jwks_loc($IDP), jwks_loc($IDP2));

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

        # two cold sets, and an upstream slower than the 50 ms poll

        location /two-slow/ {
            authz_key_request /_jwks_a2;
            authz_key_request /_jwks_b2;
            proxy_pass http://127.0.0.1:$SLOW/;
        }

        location = /_jwks_a2 {
$L1
        }

        location = /_jwks_b2 {
$L2
        }

        location /two/ {
            authz_key_request /_jwks_a;
            authz_key_request /_jwks_b;
            proxy_pass http://%%ECHO%%;
        }

        location = /_jwks_a {
$L1
        }

        location = /_jwks_b {
$L2
        }

        location /chunked/ {
            authz_key_request /_jwks_c;
            proxy_pass http://%%ECHO%%;
        }

        location = /_jwks_c {
            proxy_http_version 1.1;
$L1
        }
    }
}

CONF

$idp->publish('k1');
$idp2->publish('k2');
$idp->start;
$idp2->start;
$slow->mode('slow:0.5');
$slow->start;
$t->run->plan(8);

###############################################################################

my $r = $t->get('/two/', token => mint(_key => 'k2', sub => 'bob'));
is($r->{status}, 200, 'two cold sets: a key of the second verifies');
$r = $t->get('/two/', token => mint(_key => 'k1', sub => 'alice'));
is($r->{status}, 200, 'two cold sets: a key of the first verifies');
is($idp->fetches, 1, 'one fetch of the first');
is($idp2->fetches, 1, 'one fetch of the second');

# two waited fetches at once: the wake-up of the first must not run the
# phases again once the request is past the access phase

$r = $t->get('/two-slow/', token => mint(_key => 'k2', sub => 'bob'));
is($r->{status}, 200, 'two cold sets, slow upstream: 200');
is($slow->fetches, 1, 'two cold sets, slow upstream: one upstream request');
diag($t->error_log(nodebug => 1)) if $ENV{TEST_VERBOSE};

# a provider that answers chunked (HTTP/1.1 upstream): the decoded body

$idp->mode('chunked');
$r = $t->get('/chunked/', token => mint(_key => 'k1', sub => 'alice'));
is($r->{status}, 200, 'chunked answer: keys usable');
is($idp->fetches, 3, 'chunked answer: one fetch');
$idp->mode('ok');

$t->stop;
$idp->stop;
$idp2->stop;
$slow->stop;

###############################################################################
