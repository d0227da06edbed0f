#!/bin/sh
# Copyright (C) ngx_http_authz_module authors
#
# Debian's nginx with the sanitizer runtimes preloaded, for a module built
# with -fsanitize=address,undefined (make test-asan).  Reports go to
# stderr, which nginx sends to its error log, where the harness looks.

asan=$(gcc -print-file-name=libasan.so)
ubsan=$(gcc -print-file-name=libubsan.so)

# nginx itself does not free everything at exit: leaks are valgrind's job
ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:$ASAN_OPTIONS" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:$UBSAN_OPTIONS" \
LD_PRELOAD="$asan $ubsan" \
exec /usr/sbin/nginx "$@"
