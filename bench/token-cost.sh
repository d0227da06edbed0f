#!/bin/sh
# Copyright (C) ngx_http_authz_module authors
#
# What refusing a bad token costs, against accepting a valid one, in
# instructions counted by callgrind (repeatable on a busy machine, unlike
# seconds).  The core runs in the glue's order (bench/token_cost.c) with
# two RSA-2048 keys, kid=k1 and kid=k2, authz_issuer, authz_audience and
# 60 s of leeway.  Each scenario prints its verdict, its instructions
# per token and the ratio to (a).
#
#   sh bench/token-cost.sh [--time | --nginx]
#
# --time also runs each scenario natively and prints microseconds per
# token (noisy on a shared machine; callgrind's counts are the result).
# --nginx measures the module instead: build/ngx_http_authz_module.so in
# nginx under callgrind (master_process off), 20 requests per scenario
# to 127.0.0.1, the instructions of the access handler per request
# (inclusive: glue, core, and the SHA-256 of the authz_cache lookup),
# without and with authz_cache (where (a) is then a cache hit); the
# ratios are to (a) without the cache.
# AUTHZ_SRC=DIR measures the core sources in DIR instead (e.g. an older
# commit: git archive REV ngx_http_authz_module | tar -x -C /tmp/old).
#
# The largest accepted size is read from the bound of
# authz_max_token_size in ngx_http_authz_module.c; the forged tokens
# carry the JSON that costs jansson the most per byte ([0,0,0,...]).

set -e
cd "$(dirname "$0")/.."

timed=0
[ "${1:-}" = --time ] && timed=1
nginx=0
[ "${1:-}" = --nginx ] && nginx=1

src=${AUTHZ_SRC:-ngx_http_authz_module}
dir=$(mktemp -d /tmp/authz-tc-XXXXXX)
trap 'rm -rf "$dir"' EXIT

bin=$dir/token_cost
mkdir "$dir/tok"
cc -std=c99 -O -g -Wall -Wextra -Werror -I "$src" bench/token_cost.c \
    "$src"/authz_*.c -ljansson -lcrypto -o "$bin"

# "must be between 16 and 64k": the ceiling, in bytes

max=$(sed -n 's/.*must be between 16 and \([0-9]*[km]\).*/\1/p' \
      "$src/ngx_http_authz_module.c")
[ -z "$max" ] && \
max=$(sed -n 's/.*must be between 16 and \([0-9]*[km]\).*/\1/p' \
      ngx_http_authz_module/ngx_http_authz_module.c)
case $max in
*k) max=$(( ${max%k} * 1024 )) ;;
*m) max=$(( ${max%m} * 1024 * 1024 )) ;;
esac

keys=$(perl -It/lib -MAuthzTest=keydir -e 'print keydir()')

perl -It/lib -MAuthzTest=:all -MJSON::PP -e '
    my ($dir, $max) = @ARGV;
    my $now = time;

    sub out {
        my ($name, $t) = @_;
        open my $f, ">", "$dir/tok/$name" or die "$dir/tok/$name: $!";
        print $f $t;
        close $f;
    }

    my %c = (sub => "user_8f3a", tid => "acme",
        permissions => [qw(blog:posts.read blog:posts.update
            blog:posts.create chatbot:slots.read orders:read:team)],
        services => { blog => { enabled => JSON::PP::true },
            chatbot => { enabled => JSON::PP::false } },
        roles => ["role_editor"], jti => "9b1c2f3e4d5a6b7c8d9e0f1a2b3c4d5e");

    my $valid = mint(%c);
    out("a-valid", $valid);
    out("b-expired", mint(%c, iat => $now - 7200, nbf => $now - 7200,
        exp => $now - 3600));

    my @p = split /\./, $valid;
    out("c-forged", "$p[0].$p[1]." . b64url("\x11" x 256));

    # a header and a payload of [0,0,...] padded to exact encoded sizes

    my $sig = b64url("\x11" x 256);

    my $json = sub {
        my ($head, $enc) = @_;
        my $room = int($enc * 3 / 4);
        my $n = int(($room - length($head) - 3) / 2);
        my $j = $head . "[" . join(",", (0) x ($n > 0 ? $n : 0)) . "]}";
        $j .= " " while length(b64url($j . " ")) <= $enc;
        return $j;
    };

    my $pay = qq({"iss":"https://issuer.test","aud":"api.test",)
        . qq("sub":"forger","exp":@{[$now + 600]},"x":);

    my $big = sub {
        my ($hdr) = @_;
        my $h = b64url($hdr);
        return "$h." . b64url($json->($pay,
            $max - length($h) - length($sig) - 2)) . ".$sig";
    };

    out("d-forged-max", $big->(q({"alg":"RS256","kid":"k1"})));
    out("e-forged-max-nokid", $big->(q({"alg":"RS256"})));

    # the most a token costs before its signature is checked: the
    # largest header and payload parsed first, no kid (two keys tried)

    out("f-forged-parsed", b64url($json->(q({"alg":"RS256","x":), 2048))
        . "." . b64url($json->($pay, 4096)) . ".$sig");
' "$dir" "$max"

echo "largest accepted token: $max bytes; core sources: $src"

if [ $nginx = 1 ]; then
    port=$(perl -MIO::Socket::INET -e '
        print IO::Socket::INET->new(LocalAddr => "127.0.0.1:0")->sockport')

    # ngx_http_authz_access_handler: inclusive instructions / calls

    handler() {
        perl -e '
            my ($f) = @ARGV;
            open my $fh, "<", $f or die "$f: $!";
            my (%name, $fn, $cfn, $calls, $ir, $n);
            while (<$fh>) {
                if (/^(c?)fn=\((\d+)\)(?: (.*))?$/) {
                    $name{$2} = $3 if defined $3;
                    if ($1) { $cfn = $name{$2} } else { $fn = $name{$2} }
                    next;
                }
                if (/^calls=(\d+)/) { $calls = $1; next }
                if (defined $calls) {
                    my @c = split;
                    if (($cfn // "") eq "ngx_http_authz_access_handler") {
                        $n += $calls;
                        $ir += $c[1];
                    }
                    undef $calls;
                }
            }
            printf "%d %d\n", $n // 0, $ir // 0;
        ' "$1"
    }

    # ratios to (a) without the cache: with it, (a) is a cache hit

    base=
    for cache in "" "authz_cache zone=tc:1m;"; do
        echo "${cache:-no cache}:"
        for f in "$dir"/tok/*; do
            name=$(basename "$f")
            cat > "$dir/nginx.conf" <<CONF
load_module $(pwd)/build/ngx_http_authz_module.so;
master_process off;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log error;
events {}
http {
    access_log off;
    large_client_header_buffers 4 80k;
    $cache
    server {
        listen 127.0.0.1:$port;
        authz on;
        authz_key_file $keys/k1.pub kid=k1;
        authz_key_file $keys/k2.pub kid=k2;
        authz_issuer https://issuer.test;
        authz_audience api.test;
        authz_leeway 60s;
        authz_max_token_size $max;
        location / { empty_gif; }
    }
}
CONF
            valgrind --tool=callgrind --callgrind-out-file="$dir/$name.ngx" \
                nginx -p "$dir" -c "$dir/nginx.conf" > "$dir/vg.log" 2>&1 &
            vg=$!

            # ready when it accepts a connection (no request: not counted)

            for i in $(seq 150); do
                perl -MIO::Socket::INET -e 'exit !IO::Socket::INET->new(
                    PeerAddr => "127.0.0.1:$ARGV[0]")' "$port" && break
                sleep 0.2
            done

            tok=$(cat "$f")
            for i in $(seq 20); do
                st=$(curl -s -o /dev/null -w '%{http_code}' \
                     -H "Authorization: Bearer $tok" \
                     "http://127.0.0.1:$port/x")
            done

            # graceful, then less so: callgrind writes its file at exit

            kill -QUIT $vg
            for i in $(seq 100); do
                kill -0 $vg 2>/dev/null || break
                [ $i = 50 ] && kill -TERM $vg
                sleep 0.2
            done
            wait $vg 2>/dev/null || true

            set -- $(handler "$dir/$name.ngx")
            ir=$(( $2 / $1 ))
            [ -z "$base" ] && base=$ir
            printf '%-20s %9d instructions %7s x (a)   %s\n' "$name" "$ir" \
                "$(echo "$ir $base" | awk '{printf "%.2f", $1 / $2}')" "$st"
        done
    done

    exit 0
fi

base=
for f in "$dir"/tok/*; do
    name=$(basename "$f")
    size=$(wc -c < "$f")
    reps=20
    [ "$size" -gt 16384 ] && reps=3
    [ "$size" -gt 262144 ] && reps=1

    v=$(valgrind --tool=callgrind --toggle-collect=token_cost_measure \
            --callgrind-out-file="$dir/$name.cg" \
            "$bin" -r $reps -s "$max" -k "k1:$keys/k1.pub" \
            -k "k2:$keys/k2.pub" "$f" 2>/dev/null)
    ir=$(sed -n 's/^\(summary\|totals\): *\([0-9]*\).*/\2/p' \
         "$dir/$name.cg" | head -1)
    ir=$(( ir / reps ))
    [ -z "$base" ] && base=$ir

    line=$(printf '%-20s %9d instructions %7s x (a)   %s' "$name" "$ir" \
           "$(echo "$ir $base" | awk '{printf "%.2f", $1 / $2}')" "$v")

    if [ $timed = 1 ]; then
        t=$("$bin" -t -r $(( reps * 100 )) -s "$max" -k "k1:$keys/k1.pub" \
                -k "k2:$keys/k2.pub" "$f" | sed 's/.*, \([0-9]*\) ns$/\1/')
        line="$line   $(( t / 1000 )) us"
    fi

    echo "$line"
done
