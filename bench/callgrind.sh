#!/bin/sh
# Copyright (C) ngx_http_authz_module authors
#
# Instructions per request of the access handler, counted by callgrind
# (repeatable, unlike seconds): (b) one token with the cache, (c) 1,000
# rotating tokens without it.  nginx runs with master_process off under
# callgrind; wrk sends REQUESTS requests to each.
#
#   sh bench/callgrind.sh [REQUESTS]

set -e
cd "$(dirname "$0")/.."

n=${1:-2000}
dir=$(mktemp -d /tmp/authz-cg-XXXXXX)
chmod 0755 "$dir"
keys=$(perl -It/lib -MAuthzTest=keydir -e 'print keydir()')

perl -It/lib -MAuthzTest=:all -e '
    my ($dir, $n) = @ARGV;
    open my $f, ">", "$dir/tokens.txt" or die;
    print $f mint(sub => "u$_", permissions => ["bench:items.read"],
        exp => time() + 3600), "\n" for 1 .. 1000;
' "$dir" "$n"

cat > "$dir/rotate.lua" <<'LUA'
local tokens = {}
local i = 0
init = function(args)
    for line in io.lines(args[1]) do tokens[#tokens + 1] = line end
end
request = function()
    i = i % #tokens + 1
    return wrk.format("GET", nil, {["Authorization"] = "Bearer " .. tokens[i]})
end
LUA

run() {
    name=$1 cache=$2 mode=$3

    cat > "$dir/nginx.conf" <<CONF
load_module $(pwd)/build/ngx_http_authz_module.so;
master_process off;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log error;
events {}
http {
    access_log off;
    $cache
    upstream backend { server 127.0.0.1:18991; keepalive 16; }
    server { listen 127.0.0.1:18991; location / { return 200 "ok\n"; } }
    server {
        listen 127.0.0.1:18990;
        authz on;
        authz_key_file $keys/k1.pub kid=k1;
        authz_issuer https://issuer.test;
        authz_audience api.test;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        location / { authz_require bench:items.read; proxy_pass http://backend; }
    }
}
CONF

    valgrind --tool=callgrind --callgrind-out-file="$dir/$name.cg" \
        nginx -p "$dir" -c "$dir/nginx.conf" > "$dir/$name.vg" 2>&1 &
    vg=$!

    for i in $(seq 50); do
        curl -s -o /dev/null http://127.0.0.1:18990/ && break
        sleep 0.2
    done

    if [ "$mode" = rotate ]; then
        head -n 1 "$dir/tokens.txt" > /dev/null
        wrk -t1 -c1 -d600s -s "$dir/rotate.lua" http://127.0.0.1:18990/x \
            -- "$dir/tokens.txt" > /dev/null 2>&1 &
    else
        tok=$(head -n 1 "$dir/tokens.txt")
        wrk -t1 -c1 -d600s -H "Authorization: Bearer $tok" \
            http://127.0.0.1:18990/x > /dev/null 2>&1 &
    fi
    w=$!

    # count requests through the callgrind-slowed worker, then stop
    sleep 1
    start=$(date +%s)
    while :; do
        sleep 5
        [ $(( $(date +%s) - start )) -ge $(( n / 100 + 10 )) ] && break
    done
    kill $w 2>/dev/null || true
    kill -QUIT $vg
    wait $vg 2>/dev/null || true

    reqs=$(callgrind_annotate --inclusive=yes "$dir/$name.cg" 2>/dev/null \
           | awk '/ngx_http_authz_access_handler/ {print; exit}')
    # callgrind compresses names: "cfn=(id) name" once, "cfn=(id)" after
    count() {
        perl -ne '
            BEGIN { $f = shift }
            $id = $1 if /^c?fn=\((\d+)\) \Q$f\E$/;
            $in = defined $id && /^cfn=\($id\)/ ? 1 : /^cfn=/ ? 0 : $in;
            $n += $1 if $in && /^calls=(\d+)/;
            END { print $n + 0 }' "$1" "$dir/$name.cg"
    }

    calls=$(count ngx_http_authz_access_handler)
    mallocs=$(count malloc)
    frees=$(count free)
    ir=$(echo "$reqs" | awk '{gsub(",", "", $1); print $1}')
    echo "$name: $calls access handler calls, $(( ir / calls )) instructions per call (inclusive);" \
         "process-wide malloc $mallocs, free $frees"
}

run b "authz_cache zone=cg:1m;" one
run c "" rotate

rm -rf "$dir"
