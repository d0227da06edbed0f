#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# The authz_status zone over many reloads that rename every zone label:
# the zone keeps the size it was given, so after a few generations it is
# full and the slots of labels no configuration names any more are taken
# again.  Every generation's labels count from zero and exactly, the
# label that every configuration keeps ("default") goes on counting,
# and no label of an earlier generation is answered.

###############################################################################

use warnings;
use strict;

use Test::More;

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);
use AuthzMetrics qw(parse_prometheus series);

###############################################################################

my $t = AuthzTest->new(workers => 2)->has('module');

# 150 labels a generation: the zone (1 MB at least) holds some 1,900
my ($labels, $generations) = (150, 16);

$t->write_file_expand('nginx.conf', conf(0));
$t->run->plan(4 * $generations + 1);

###############################################################################

my $token = mint();
my $default = 0;

for my $g (0 .. $generations - 1) {
    if ($g) {
        $t->write_file_expand('nginx.conf', conf($g));
        reload();
    }

    $t->get("/l$_/", token => $token) for 1 .. $labels;
    $t->get('/', token => $token) for 0 .. $g;
    $default += $g + 1;

    my $s = parse_prometheus($t->get('/authz_status')->{body});

    is_deeply($s->{errors}, [], "generation $g: valid");

    is_deeply([grep { value($s, "g${g}_$_") != 1 } 1 .. $labels], [],
        "generation $g: each label counted once, from zero");

    is(value($s, 'default'), $default, "generation $g: default goes on");

    my @old = grep { /^authz_requests_total\0result=allow\0zone=g(\d+)_/
        && $1 != $g } keys %{ $s->{samples} };
    is(scalar @old, 0, "generation $g: no label of another generation");
}

like($t->error_log, qr/authz status zone is full: the counters of zone/,
    'slots were taken again');

###############################################################################

sub value {
    my ($s, $zone) = @_;
    return $s->{samples}{ series('authz_requests_total', zone => $zone,
        result => 'allow') } // -1;
}

sub conf {
    my ($g) = @_;

    my $locations = join '', map {
        "        location /l$_/ { authz_status_zone g${g}_$_; "
        . "proxy_pass http://%%ECHO%%; }\n"
    } 1 .. $labels;

    return <<"EOF";

%%TEST_GLOBALS%%


events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        authz on;
        authz_key_file %%KEYDIR%%/k1.pub kid=k1;

        location / {
            proxy_pass http://%%ECHO%%;
        }

$locations
        location = /authz_status {
            authz off;
            authz_status;
        }
    }
}

EOF
}

# a reload, then the old workers gone: every answer is the new one's
sub reload {
    my $exited = sub {
        scalar(() = $t->error_log =~ /worker process \d+ exited/g);
    };
    my $n = $exited->();

    $t->reload;

    for (1 .. 200) {
        return if $exited->() >= $n + 2;
        select undef, undef, undef, 0.05;
    }

    fail('old workers did not exit');
}

###############################################################################
