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

        location /exact/ {
            authz_key_request /_jwks_e max_size=2k;
            proxy_pass http://%%ECHO%%;
        }

        location = /_jwks_e {
$L1
        }

        location /over/ {
            authz_key_request /_jwks_o max_size=2k;
            proxy_pass http://%%ECHO%%;
        }

        location = /_jwks_o {
$L1
        }

        # the fetch location of docs/providers.md as an operator may
        # write it: client headers passed, no client_max_body_size 0,
        # no Content-Length ""; an upload location allows large bodies

        location /upload/ {
            client_max_body_size 10m;
            authz_key_request /_jwks_u;
            proxy_pass http://%%ECHO%%;
        }

        location = /_jwks_u {
            internal;
            authz off;
            proxy_pass http://127.0.0.1:$IDP2/jwks;
        }

        location /upload2/ {
            authz_key_request /_jwks_u2;
            proxy_pass http://%%ECHO%%;
        }

        location = /_jwks_u2 {
            internal;
            authz off;
            proxy_pass http://127.0.0.1:$IDP2/jwks;
        }

        # the default subrequest_output_buffer_size (one page): a larger
        # key set fails the fetch, and only the fetch

        location /bigbody/ {
            authz_key_request /_jwks_big;
            proxy_pass http://%%ECHO%%;
        }

        location = /_jwks_big {
            internal;
            authz off;
            proxy_pass_request_headers off;
            proxy_pass http://127.0.0.1:$IDP/jwks;
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
$t->run->plan(29);

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

# a provider that answers chunked (HTTP/1.1 upstream): the decoded body

$idp->mode('chunked');
$r = $t->get('/chunked/', token => mint(_key => 'k1', sub => 'alice'));
is($r->{status}, 200, 'chunked answer: keys usable');
is($idp->fetches, 3, 'chunked answer: one fetch');
$idp->mode('ok');

# the fetch is not the client's request: none of its headers, nor the
# length of its body, reaches the provider or fails the fetch (413)

my $n = $idp2->fetches;
$r = $t->req('POST', '/upload/', token => mint(_key => 'k2', sub => 'bob'),
    headers => [ Cookie => 'session=secret', 'X-User-Id' => 'mallory',
        'Content-Length' => 2000000 ], timeout => 5);
isnt($r->{status}, 503, 'a large upload does not fail the fetch');
is($idp2->fetches, $n + 1, 'one fetch for the upload');
$r = $t->req('POST', '/upload2/', token => mint(_key => 'k2', sub => 'bob'),
    headers => [ Cookie => 'session=secret', 'X-User-Id' => 'mallory' ],
    body => '0123456789', timeout => 5);
is($r->{status}, 200, 'a small upload, a fetch with the client headers');
is($idp2->fetches, $n + 2, 'one fetch for it');
my $h = ($idp2->requests)[-1]{headers};
ok(!exists $h->{authorization} && !exists $h->{cookie}
    && !exists $h->{'x-user-id'}, 'no client header reaches the provider')
    or diag(explain $h);
ok(!exists $h->{'content-length'}, 'nor the length of the client body');
like(($idp2->requests)[-1]{line}, qr/^GET /, 'the fetch is a GET');

# a body of exactly max_size is accepted, one byte more is not

sub jwks_of_size {
    my ($size) = @_;
    $idp->publish('k1');
    my $jwks = $t->read_file('idp/jwks');
    $jwks =~ s/^\{/{"pad":"",/ or die;
    my $pad = 'x' x ($size - length $jwks);
    $jwks =~ s/"pad":""/"pad":"$pad"/;
    open my $fh, '>', $t->testdir . '/idp/jwks' or die;
    print $fh $jwks;
    close $fh;
    return length $jwks;
}

is(jwks_of_size(2048), 2048, 'a JWKS of 2048 bytes');
$n = $idp->fetches;
is($t->get('/exact/', token => mint(_key => 'k1'))->{status}, 200,
    'max_size: a body of exactly max_size is accepted');
is(jwks_of_size(2049), 2049, 'a JWKS of 2049 bytes');
$r = $t->get('/over/', token => mint(_key => 'k1'));
is($r->{status}, 503, 'max_size + 1: refused, no key');
is($idp->fetches, $n + 2, 'one fetch each');
like($t->error_log(nodebug => 1), qr/"\/_jwks_o": fetch failed \(too_large\)/,
    'max_size + 1: too_large');

# a key set over subrequest_output_buffer_size: nginx closes the
# connection of the request that fetched it ("too big subrequest
# response"); the fetch counts as failed and backs off, so that the
# next requests are 503 at once instead of fetching, and being closed,
# one after the other

jwks_of_size(20000);
$n = $idp->fetches;
$t->get('/bigbody/', token => mint(_key => 'k1'));
$r = $t->get('/bigbody/', token => mint(_key => 'k1'));
is($r->{status}, 503, 'a set over subrequest_output_buffer_size: 503');
is($idp->fetches, $n + 1, 'after one fetch, then backoff');
like($t->error_log(nodebug => 1), qr/"\/_jwks_big": fetch failed/,
    'the fetch failed') or diag(join "\n", grep { /_jwks_big/ } split /\n/, $t->error_log(nodebug => 1));
$idp->publish('k1');

# two servers without server_name and one URI share one set: nginx -t
# says so, with both places; two names do not share

sub two_servers {
    my ($name1, $name2) = @_;
    return <<"C";
%%TEST_GLOBALS%%
events {
}
http {
    %%TEST_GLOBALS_HTTP%%
    authz_key_cache zone=keys:1m;
    server {
        listen 127.0.0.1:%%PORT_8081%%;
        $name1
        authz on;
        authz_key_request /_jwks;
        location = /_jwks { authz off; proxy_pass http://127.0.0.1:$IDP/; }
    }
    server {
        listen 127.0.0.1:%%PORT_8082%%;
        $name2
        authz on;
        authz_key_request /_jwks;
        location = /_jwks { authz off; proxy_pass http://127.0.0.1:$IDP2/; }
    }
}
C
}

my ($rc, $out) = $t->nginx_t(two_servers('', ''));
like($out, qr/\[warn\].*"authz_key_request \/_jwks" in \S+nginx_t\.conf:11 and in \S+nginx_t\.conf:18 of another server share one key set/,
    'nginx -t: two servers share one set') or diag($out);
($rc, $out) = $t->nginx_t(two_servers('server_name a;', 'server_name b;'));
unlike($out, qr/share one key set/, 'nginx -t: two names, two sets');

# the answer must fit the buffer of the location that fetches it

like($out, qr/\[warn\].*"authz_key_request \/_jwks" in \S+nginx_t\.conf:11: the "subrequest_output_buffer_size" of its location \(\d+\) is smaller than max_size \(65536\)/,
    'nginx -t: subrequest_output_buffer_size below max_size');
($rc, $out) = $t->nginx_t(two_servers('server_name a; subrequest_output_buffer_size 64k;',
    'server_name b; subrequest_output_buffer_size 64k;'));
unlike($out, qr/subrequest_output_buffer_size/, 'nginx -t: a buffer of max_size')
    or diag($out);
is($rc, 0, 'nginx -t: ok');

$t->stop;
$idp->stop;
$idp2->stop;
$slow->stop;

###############################################################################
