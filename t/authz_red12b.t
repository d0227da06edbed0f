#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# Red-team tests of issue 12 (the JSON reader of our own, the signature
# path): the audience check walks an "aud" array whose elements are not
# all scalars.  authz_json_array_get() is O(i) on such an array, so the
# loop "for j: authz_json_array_get(aud, j)" is quadratic in the token
# size; the check runs before the signature for a payload of up to 4096
# encoded bytes, so an unsigned token reaches it.

###############################################################################

use warnings;
use strict;

use Test::More;

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);

###############################################################################

my $t = AuthzTest->new->has('module');

$t->write_file_expand('nginx.conf', <<'EOF');

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
        authz_issuer https://issuer.test;
        authz_audience a1.test a2.test a3.test a4.test;

        location / {
            proxy_pass http://%%ECHO%%;
        }

        # the check after internal redirects, in the final location
        location /tf/ {
            authz off;
            try_files /nonexistent @aud;
        }

        location /ep/ {
            authz off;
            error_page 404 = @aud;
            return 404;
        }

        location @aud {
            authz_audience a5.test;
            proxy_pass http://%%ECHO%%;
        }
    }
}

EOF

$t->run;

###############################################################################

my $r;
my $now = time;
my $hdr = '{"alg":"RS256","typ":"JWT","kid":"k1"}';

# an "aud" array of m elements, the first one a container (not flat)

sub aud_payload {
    my ($m, $last) = @_;
    return '{"iss":"https://issuer.test","sub":"alice","exp":'
        . ($now + 600) . ',"aud":[[]' . (',1' x $m) . ",\"$last\"]}";
}

# negative cases first: forged and non-matching

$r = $t->get('/x', token => raw_jwt($hdr, aud_payload(1400, 'a4.test'),
    sig => 'x' x 256));
is($r->{status}, 401, 'long non-flat aud, forged signature: 401');

$r = $t->get('/x', token => raw_jwt($hdr, aud_payload(1400, 'other')));
is($r->{status}, 401, 'long non-flat aud, signed, no audience: 401');
like($t->error_log(nodebug => 1), qr/audience not accepted/,
    'long non-flat aud: audience not accepted');

$r = $t->get('/x', token => raw_jwt($hdr, '{"iss":"https://issuer.test",'
    . '"exp":' . ($now + 600) . ',"aud":[{"a4.test":1},["a4.test"],5]}'));
is($r->{status}, 401, 'aud only inside nested values: 401');

# the same answers as jansson's index walk gave

$r = $t->get('/x', token => raw_jwt($hdr, aud_payload(1400, 'a4.test')));
is($r->{status}, 200, 'long non-flat aud, signed, last element matches: 200');

$r = $t->get('/x', token => raw_jwt($hdr, '{"iss":"https://issuer.test",'
    . '"exp":' . ($now + 600) . ',"aud":[{"x":[1,{}]},null,"a2.test"]}'));
is($r->{status}, 200, 'aud after an object and null: 200');

# internal redirects: the audience of the final location

for my $u ('/tf/x', '/ep/x') {
    $r = $t->get($u, token => raw_jwt($hdr, aud_payload(1400, 'a4.test')));
    is($r->{status}, 401, "$u: aud of another location, redirected: 401");

    $r = $t->get($u, token => raw_jwt($hdr, aud_payload(1400, 'a5.test')));
    is($r->{status}, 200, "$u: long non-flat aud, redirected: 200");
}

$t->stop;

# the audience check costs instructions linear in the length of "aud":
# callgrind counts those of authz_token_check_claims() for m and 2m
# elements (deterministic counts, not time); quadratic doubles the ratio
# (valgrind: make test installs it, tools/deps.sh)

{
    my $vg = `sh -c 'command -v valgrind'`;
    chomp $vg;
    ok($vg, 'valgrind is installed (tools/deps.sh)');

    my $root = "$FindBin::Bin/..";
    my $dir = $t->testdir;
    my $src = "$dir/aud.c";

    open my $fh, '>', $src or die "$src: $!";
    print $fh <<'EOF';
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "authz_json.h"
#include "authz_jwt.h"

int
main(int argc, char **argv)
{
    int                   rc;
    long                  len;
    FILE                 *f;
    authz_str_t           aud[4];
    authz_token_t         tok;
    unsigned char        *data, *scratch;
    authz_verify_conf_t   c;

    f = fopen(argv[1], "rb");
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    rewind(f);
    data = malloc(len);
    scratch = malloc(len);
    if (fread(data, 1, len, f) != (size_t) len) {
        return 2;
    }
    fclose(f);

    aud[0].data = (const unsigned char *) "a1.test";
    aud[1].data = (const unsigned char *) "a2.test";
    aud[2].data = (const unsigned char *) "a3.test";
    aud[3].data = (const unsigned char *) "a4.test";
    aud[0].len = aud[1].len = aud[2].len = aud[3].len = 7;

    memset(&c, 0, sizeof(c));
    c.algs = AUTHZ_ALG_RS256;
    c.max_size = 65536;
    c.audiences = aud;
    c.naudiences = 4;

    rc = authz_token_decode(&tok, data, len, scratch, &c);
    if (rc == AUTHZ_OK) {
        rc = authz_token_check_claims(&tok, &c, 1000000000);
    }

    printf("%d\n", rc);
    authz_token_free(&tok);

    return 0;
}
EOF
    close $fh;

    my @core = glob "$root/ngx_http_authz_module/authz_*.c";
    my $bin = "$dir/aud";
    my $out = `cc -O1 -g -I $root/ngx_http_authz_module $src @core -ljansson -lcrypto -o $bin 2>&1`;
    ok($? == 0, 'driver compiles') or diag($out);

    my %ir;

    for my $m (700, 1400) {
        my $tok = raw_jwt('{"alg":"RS256"}', aud_payload($m, 'other'),
            sig => 'x' x 256);
        open my $tf, '>', "$dir/tok$m" or die;
        print $tf $tok;
        close $tf;

        my $cg = "$dir/cg$m.out";
        my $res = `valgrind --tool=callgrind --callgrind-out-file=$cg --toggle-collect=authz_token_check_claims $bin $dir/tok$m 2>/dev/null`;
        open my $cf, '<', $cg or die "$cg: $!";
        ($ir{$m}) = map { /^(?:summary|totals):\s*(\d+)/ ? $1 : () } <$cf>;
        close $cf;
        diag("aud of $m elements: rc $res" . "check_claims: $ir{$m} Ir");
    }

    ok($ir{700} && $ir{1400}, 'callgrind counted the audience check');
    cmp_ok(($ir{700} ? $ir{1400} / $ir{700} : 99), '<', 2.6,
        "aud of 1400 elements costs less than 2.6 x 700 ($ir{1400} vs"
        . " $ir{700} instructions)");
}

done_testing();
