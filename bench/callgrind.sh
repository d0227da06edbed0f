#!/bin/sh
# Copyright (C) ngx_http_authz_module authors
#
# Instructions per request of the access handler and of the whole
# nginx process, counted by callgrind, for plain proxying, plain
# proxying with four static identity headers, a cache hit, a cache
# miss, no cache, a bad signature and an expired token: see
# bench/callgrind.pl.
#
#   sh bench/callgrind.sh [--requests 200] [--only hit,miss] [--csv FILE]

set -e
cd "$(dirname "$0")/.."
exec perl bench/callgrind.pl "$@"
