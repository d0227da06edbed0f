#!/bin/sh
# Copyright (C) ngx_http_authz_module authors
#
# make test-valgrind: the t/ suite with nginx (master and workers) under
# valgrind memcheck.  Fails on any memcheck error and on any leak
# "definitely lost" in a stack that goes through the module.  The
# randomized redirect test runs 100 configurations here (500 in make
# test): memcheck makes each request some 20 times slower.

set -e
cd "$(dirname "$0")/.."

logs=$(pwd)/build/valgrind
rm -rf "$logs"
mkdir -p "$logs"
chmod 0777 "$logs"

AUTHZ_NGINX_PREFIX_CMD="valgrind --tool=memcheck --leak-check=full \
--show-leak-kinds=definite --errors-for-leak-kinds=none \
--num-callers=30 --trace-children=no --child-silent-after-fork=no \
--log-file=$logs/vg.%p.log" \
AUTHZ_TEST_TIMEOUT=60 \
AUTHZ_REDIRECT_CONFIGS=${AUTHZ_REDIRECT_CONFIGS:-100} \
    prove -j1 -r t/authz_*.t || status=$?

errors=$(grep -l "ERROR SUMMARY: [1-9]" "$logs"/vg.*.log 2>/dev/null || true)

# a loss record whose stack names a function of the module (nginx core
# leaks a few bytes of its own at exit, e.g. in ngx_set_environment)
module_leaks=$(perl -ne '
    if (/definitely lost in loss record/) { $in = 1; $rec = $_; next }
    if ($in) {
        $rec .= $_;
        if (/^==\d+== $/) {
            print "$ARGV\n$rec" if $rec =~ /\b(authz_|ngx_http_authz_)/;
            $in = 0;
        }
    }' "$logs"/vg.*.log)

echo "valgrind: $(ls "$logs" | wc -l) process logs in $logs"

if [ -n "$errors" ] || [ -n "$module_leaks" ]; then
    echo "valgrind: memcheck errors in:" $errors
    echo "$module_leaks"
    exit 1
fi

echo "valgrind: no memcheck error, no definite leak from the module"
exit ${status:-0}
