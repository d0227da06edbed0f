#!/bin/sh
# Copyright (C) ngx_http_authz_module authors
#
# What a rule table costs against long URIs (issue 9), in instructions
# per request counted by callgrind: repeatable on a busy machine, where
# seconds are not.  One nginx runs under callgrind with master_process
# off; after a warm-up request the counters are zeroed, N requests of
# one scenario are sent with curl (keepalive, one connection), and the
# counters are dumped: the whole worker's instructions divided by N,
# request parsing and the 403 response included, as wrk would feel it.
#
# Scenarios, all "authz optional" without a token (no token is needed
# to reach the rules), every rule missed (403 "no rule matched"):
#
#   plain   no authz, empty_gif
#   tail    200 x  authz_rule GET "/api/{tenant}/**/itemN"  (the issue's
#           table: a "**" then an anchored tail)
#   mid     200 x  authz_rule GET "/mid/**/a/**/itemN/**"  (blocks between
#           "**": each rule finds "a" at once, then searches the rest of
#           the URI for "itemN": the worst shape there is)
#
#   short URI: /X/acme/a          8 KB URI: /X/acme + 3,990 x /a
#   8 KB in 256 segments: /X/acme + 254 x /a{31}  (the most segments a
#   location with rules takes: a longer path is refused before the
#   table, 403 "path has too many segments")
#
# Usage, from the repository root (the module defaults to the build):
#
#   sh bench/rules.sh [MODULE.so] [N]
#
# The ratio the issue asks for is "tail, 8 KB / tail, short".

set -e
cd "$(dirname "$0")/.."

module=$(readlink -f "${1:-build/ngx_http_authz_module.so}")
n=${2:-10}
port=${AUTHZ_BENCH_PORT:-18995}

dir=$(mktemp -d /tmp/authz-rules-XXXXXX)
chmod 0755 "$dir"
keys=$(perl -It/lib -MAuthzTest=keydir -e 'print keydir()')

# 200 rules, "N" in the pattern replaced by 1..200
table() {
    i=1
    while [ $i -le 200 ]; do
        printf '            authz_rule GET "%s" blog:items.read;\n' \
            "$(echo "$1" | sed "s/N/$i/")"
        i=$((i + 1))
    done
}

rules_tail=$(table '/api/{tenant}/**/itemN')
rules_mid=$(table '/mid/**/a/**/itemN/**')

cat > "$dir/nginx.conf" <<CONF
load_module $module;
master_process off;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log error;
events {}
http {
    access_log off;
    large_client_header_buffers 4 16k;
    server {
        listen 127.0.0.1:$port;
        authz_key_file $keys/k1.pub kid=k1;
        location /plain/ {
            empty_gif;
        }
        location /api/ {
            authz optional;
$rules_tail
            empty_gif;
        }
        location /mid/ {
            authz optional;
$rules_mid
            empty_gif;
        }
    }
}
CONF

long=$(perl -e 'print "/a" x 3990')
wide=$(perl -e 'print "/" . "a" x 31 for 1 .. 254')

valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" \
    /usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf" > "$dir/vg.log" 2>&1 &
vg=$!

trap 'kill $vg 2>/dev/null || true; rm -rf "$dir"' EXIT

for i in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/plain/" && break
    sleep 0.2
done

dumps=0

# instructions per request of one scenario: zero, N requests, dump
measure() {
    name=$1 path=$2 want=$3

    got=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$path")
    if [ "$got" != "$want" ]; then
        echo "$name: answered $got, expected $want" >&2
        exit 1
    fi

    : > "$dir/curl.cfg"
    i=0
    while [ $i -lt "$n" ]; do
        printf 'url = "http://127.0.0.1:%s%s"\noutput = "/dev/null"\n' \
            "$port" "$path" >> "$dir/curl.cfg"
        i=$((i + 1))
    done

    callgrind_control -z $vg > /dev/null 2>&1
    curl -s -K "$dir/curl.cfg"
    callgrind_control -d $vg > /dev/null 2>&1
    dumps=$((dumps + 1))

    total=$(awk '/^(totals|summary):/ { print $2; exit }' \
            "$dir/cg.out.$dumps")
    per=$((total / n))
    eval "ir_$name=$per"
    printf '%-12s %-22s %12d instructions per request\n' "$name" \
        "$(echo "$path" | cut -c1-20)" "$per"
}

measure plain_short /plain/a 200
measure plain_long "/plain$long" 200
measure tail_short /api/acme/a 403
measure tail_long "/api/acme$long" 403
measure mid_short /mid/acme/a 403
measure mid_long "/mid/acme$long" 403
measure plain_wide "/plain$wide" 200
measure tail_wide "/api/acme$wide" 403
measure mid_wide "/mid/acme$wide" 403

ratio() {
    perl -e 'printf "%.2f", $ARGV[0] / $ARGV[1]' "$1" "$2"
}

echo
echo "module: $module, $n requests per scenario"
echo "tail, 8 KB / tail, short:   $(ratio $ir_tail_long $ir_tail_short)" \
     "(the ratio of issue 9)"
echo "mid,  8 KB / mid,  short:   $(ratio $ir_mid_long $ir_mid_short)"
echo "tail, 8 KB in 256 segments / tail, short: $(ratio $ir_tail_wide $ir_tail_short)"
echo "mid,  8 KB in 256 segments / mid,  short: $(ratio $ir_mid_wide $ir_mid_short)" \
     "(the worst shape at the segment limit)"
echo "plain, 8 KB in 256 segments / plain, short: $(ratio $ir_plain_wide $ir_plain_short)"
echo "plain, 8 KB / plain, short: $(ratio $ir_plain_long $ir_plain_short)" \
     "(nginx alone)"
echo "tail, 8 KB / plain, 8 KB:   $(ratio $ir_tail_long $ir_plain_long)"
echo "mid,  8 KB / plain, 8 KB:   $(ratio $ir_mid_long $ir_plain_long)"

kill $vg
wait $vg 2>/dev/null || true
