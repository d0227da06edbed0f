#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# The revocation families of authz_status, summed over two workers:
# authz_revocation_hits_total{kind} counts refused tokens by the rule
# that matched, authz_revocation_reloads_total{result} the reads of the
# file by the workers, authz_revocation_entries{kind} the list the
# answering worker has.

###############################################################################

use warnings;
use strict;

use Test::More;

use Time::HiRes ();

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);
use AuthzMetrics qw(parse_prometheus series);

###############################################################################

my $WORKERS = 2;
my $t = AuthzTest->new(workers => $WORKERS)->has('module');
my $now = time;
my $file = $t->testdir . '/revoked.json';

write_list(qq({"generated_at": $now, "sub": {"bob": @{[$now + 1]}},)
    . qq( "jti": {"tok-1": @{[$now + 600]}}}));

$t->write_file_expand('nginx.conf', <<"EOF");

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    authz_revocation_file $file check=100ms;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        authz_key_file  %%KEYDIR%%/k1.pub kid=k1;

        location / {
            authz on;
            proxy_pass http://%%ECHO%%;
        }

        location = /authz_status {
            authz_status;
        }
    }
}

EOF

$t->run->plan(10);

###############################################################################

my $s = scrape();
is_deeply($s->{errors}, [], 'valid text format');
is(join(' ', map { value($s, 'authz_revocation_entries', kind => $_) }
    qw(jti sub tenant iat_before)), '1 1 0 0', 'entries by kind');

is($t->get('/', token => mint(sub => 'bob', iat => $now - 5))->{status},
    401, 'revoked by sub');
is($t->get('/', token => mint(jti => 'tok-1', sub => 'x'))->{status}, 401,
    'revoked by jti');
is($t->get('/', token => mint(sub => 'alice'))->{status}, 200, 'not revoked');

$s = scrape();
is(join(' ', map { value($s, 'authz_revocation_hits_total', kind => $_) }
    qw(jti sub tenant iat_before)), '1 1 0 0', 'hits by kind');

# a new list, then a broken one: each worker reads each once

write_list(qq({"generated_at": $now, "tenant": {"acme": $now}}));
ok(poll(sub { reloads('ok') == $WORKERS }), 'every worker read the new list')
    or diag(reloads('ok'));

write_list('{"sub": ');
ok(poll(sub { reloads('failed') == $WORKERS }),
    'every worker refused the broken list') or diag(reloads('failed'));

$s = scrape();
is(value($s, 'authz_revocation_reloads_total', result => 'ok'), $WORKERS,
    'reloads ok, summed over the workers');
is(value($s, 'authz_revocation_entries', kind => 'tenant'), 1,
    'entries of the last good list');

###############################################################################

sub scrape {
    return parse_prometheus($t->get('/authz_status')->{body});
}

sub value {
    my ($s, $name, %labels) = @_;
    return $s->{samples}{ series($name, %labels) } // -1;
}

sub reloads {
    return value(scrape(), 'authz_revocation_reloads_total',
        result => $_[0]);
}

sub poll {
    my ($cond) = @_;
    for (1 .. 100) {
        return 1 if $cond->();
        Time::HiRes::sleep(0.1);
    }
    return 0;
}

# atomically, by rename, with a new mtime
sub write_list {
    my ($text) = @_;
    my $tmp = "$file.tmp";
    open my $fh, '>', $tmp or die "open $tmp: $!";
    print $fh $text;
    close $fh or die "close $tmp: $!";
    chmod 0644, $tmp;
    rename $tmp, $file or die "rename: $!";
}

###############################################################################
