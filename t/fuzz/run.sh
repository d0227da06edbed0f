#!/bin/sh

# Copyright (C) ngx_http_authz_module authors
#
# sh t/fuzz/run.sh SECONDS [TARGET ...]
#
# Builds the libFuzzer targets (clang, ASan, UBSan) into build/fuzz/ and
# runs each one for SECONDS on build/fuzz/corpus-TARGET, a scratch copy of
# t/fuzz/corpus/TARGET: what the fuzzer finds stays out of the repository
# (copy an input worth keeping into t/fuzz/corpus/TARGET by hand).
# TARGET is token, rules, key, jwks, http, revocation or json; all seven by
# default, one after the other (start one run.sh per target to use several
# cores).
#
# Prints one line per target with the executions and the coverage
# (cov: edges, ft: features) of the final stats; the whole libFuzzer
# output is in build/fuzz/fuzz_TARGET.log.  Exits 1 if a target found a
# crash, a leak, a UBSan report or a timeout; the input is kept as
# build/fuzz/TARGET-crash-<sha1> (leak-, timeout-, oom-).

set -u

usage() {
    echo "usage: sh t/fuzz/run.sh SECONDS" \
         "[token|rules|key|jwks|http|revocation|json ...]" >&2
    exit 2
}

case ${1:-} in
'' | *[!0-9]*) usage ;;
esac

seconds=$1
shift

targets=${*:-token rules key jwks http revocation json}

cd "$(dirname "$0")/../.." || exit 2

CLANG=${CLANG:-clang}
out=build/fuzz
status=0

# the first line that says what went wrong
finding='ERROR: [A-Za-z]*Sanitizer|ERROR: libFuzzer|runtime error:|^fuzz_'

mkdir -p $out || exit 2

for t in $targets; do

    case $t in
    token | rules | key | jwks | http | revocation | json) ;;
    *) usage ;;
    esac

    bin=$out/fuzz_$t
    log=$out/fuzz_$t.log
    corpus=$out/corpus-$t

    if ! $CLANG -g -O1 -fsanitize=fuzzer,address,undefined \
            -fno-sanitize-recover=all -DAUTHZ_LIBFUZZER \
            -I ngx_http_authz_module t/fuzz/fuzz_$t.c \
            ngx_http_authz_module/authz_*.c -ljansson -lcrypto -o $bin
    then
        echo "fuzz_$t: build failed (libFuzzer: apt-get install" \
             "libclang-rt-14-dev)"
        status=1
        continue
    fi

    mkdir -p $corpus && cp t/fuzz/corpus/$t/* $corpus/ || exit 2

    # a hang is a finding too: -timeout makes it one

    $bin -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
        -artifact_prefix=$out/$t- $corpus > $log 2>&1
    rc=$?

    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' $log | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' $log | tail -1)
    stats=$(grep ' cov: ' $log | tail -1)
    cov=$(echo "$stats" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$stats" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    corp=$(echo "$stats" | sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p')

    summary="execs ${execs:-?} (${speed:-?}/s) cov ${cov:-?} ft ${ft:-?}"
    summary="$summary corpus ${corp:-?}"

    if [ $rc -eq 0 ]; then
        echo "fuzz_$t: ok, $summary"
        continue
    fi

    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' $log | tail -1)

    echo "fuzz_$t: FAILED (exit $rc), $summary"
    echo "fuzz_$t: input ${artifact:-not written}, log $log"
    grep -m 1 -E "$finding" $log | sed "s/^/fuzz_$t: /"

    status=1
done

exit $status
