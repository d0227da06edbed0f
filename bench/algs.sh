#!/bin/sh
# Copyright (C) ngx_http_authz_module authors
#
# The verify cost of each algorithm, in instructions counted by
# callgrind (repeatable on a busy machine) and, with --time, in
# microseconds per token: one valid token per algorithm, its one key
# (kid=k), the core in the glue's order (bench/token_cost.c), the
# ratio to RS256.  Keys: RSA-2048 (e = 65537), EC P-256, EC P-384,
# Ed25519, made here with openssl; tokens signed by Crypt::JWT, valid
# for a year.
#
#   sh bench/algs.sh [--time] [--keep DIR]
#
# ECDSA and EdDSA verification take a time that depends on the key and
# the signature (public values): two runs with new keys differ by up to
# a few percent.  --keep DIR makes the keys and tokens in DIR the first
# time and reuses them afterwards, so that two builds are compared on
# the same ones; AUTHZ_SRC=DIR measures the core sources in DIR (e.g.
# an older commit: git archive REV ngx_http_authz_module | tar -x -C
# /tmp/old).

set -e
cd "$(dirname "$0")/.."

timed=0
keep=

while [ $# -gt 0 ]; do
    case $1 in
    --time) timed=1 ;;
    --keep) keep=${2:?--keep DIR}; shift ;;
    *) echo "usage: sh bench/algs.sh [--time] [--keep DIR]" >&2; exit 1 ;;
    esac
    shift
done

src=${AUTHZ_SRC:-ngx_http_authz_module}

tmp=$(mktemp -d /tmp/authz-algs-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

dir=${keep:-$tmp}
mkdir -p "$dir"

bin=$tmp/token_cost
cc -std=c99 -O -g -Wall -Wextra -Werror -I "$src" \
    bench/token_cost.c "$src"/authz_*.c -ljansson -lcrypto \
    -o "$bin"

gen() {
    [ -s "$dir/$name.pub" ] && return 0
    openssl genpkey "$@" -out "$dir/$name.key" 2>/dev/null
    openssl pkey -in "$dir/$name.key" -pubout -out "$dir/$name.pub"
}

name=rsa;   gen -algorithm RSA -pkeyopt rsa_keygen_bits:2048
name=ec256; gen -algorithm EC -pkeyopt ec_paramgen_curve:P-256
name=ec384; gen -algorithm EC -pkeyopt ec_paramgen_curve:P-384
name=ed;    gen -algorithm ed25519

perl -MCrypt::JWT=encode_jwt -MCrypt::PK::RSA -MCrypt::PK::ECC \
     -MCrypt::PK::Ed25519 -e '
    my ($dir) = @ARGV;
    my $now = time;
    my %c = (iss => "https://issuer.test", aud => "api.test",
        sub => "user_8f3a", tid => "acme", iat => $now, nbf => $now,
        exp => $now + 365 * 86400, permissions => [qw(blog:posts.read)],
        services => { blog => { enabled => \1 } });

    for (["RS256", "rsa", "RSA"], ["PS256", "rsa", "RSA"],
         ["ES256", "ec256", "ECC"], ["ES384", "ec384", "ECC"],
         ["EdDSA", "ed", "Ed25519"])
    {
        my ($alg, $key, $class) = @$_;
        next if -s "$dir/$alg.tok";
        my $pk = "Crypt::PK::$class"->new("$dir/$key.key");
        open my $f, ">", "$dir/$alg.tok" or die;
        print $f encode_jwt(payload => \%c, alg => $alg, key => $pk,
            extra_headers => { kid => "k", typ => "JWT" });
        close $f;
    }
' "$dir"

reps=50
base=

for alg in RS256 PS256 ES256 ES384 EdDSA; do
    case $alg in
    RS* | PS*) key=rsa ;;
    ES256) key=ec256 ;;
    ES384) key=ec384 ;;
    *) key=ed ;;
    esac

    v=$(valgrind --tool=callgrind --toggle-collect=token_cost_measure \
            --callgrind-out-file="$tmp/$alg.cg" \
            "$bin" -r $reps -a "$alg" -k "k:$dir/$key.pub" "$dir/$alg.tok" \
            2>/dev/null)
    ir=$(sed -n 's/^\(summary\|totals\): *\([0-9]*\).*/\2/p' \
         "$tmp/$alg.cg" | head -1)
    ir=$(( ir / reps ))
    [ -z "$base" ] && base=$ir

    line=$(printf '%-6s %-7s %9d instructions %6s x RS256   %s' "$alg" "$key" \
           "$ir" "$(echo "$ir $base" | awk '{printf "%.2f", $1 / $2}')" "$v")

    if [ $timed = 1 ]; then
        t=$("$bin" -t -r 2000 -a "$alg" -k "k:$dir/$key.pub" \
                "$dir/$alg.tok" | sed 's/.*, \([0-9]*\) ns$/\1/')
        line="$line   $(( t / 1000 )) us"
    fi

    echo "$line"
done
