#!/bin/sh
# Copyright (C) ngx_http_authz_module authors
#
# Installs the OpenID provider of t/authz_oidc.t: oidc-provider, at the
# version pinned in tools/oidc/package.json, from the npm registry with
# the machine's npm, into build/oidc/node_modules (build/ is git-ignored),
# and copies tools/oidc/provider.js beside it.  Nothing is installed
# when that version is there already.
#
#     sh tools/oidc/setup.sh
#
# Exit status: 0 installed (or there already); 2 node or npm missing;
# 3 the npm registry cannot be reached (npm ping fails); 1 any other
# failure.  The last line of the output says why.  No package-lock is
# written: the version is pinned in package.json.

set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
src=$root/tools/oidc
dir=${AUTHZ_OIDC_DIR:-$root/build/oidc}

for c in node npm; do
    if ! command -v "$c" >/dev/null 2>&1; then
        echo "oidc: $c not found (Debian: apt-get install nodejs npm)"
        exit 2
    fi
done

want=$(sed -n 's/.*"oidc-provider": *"\([^"]*\)".*/\1/p' "$src/package.json")
have=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' \
       "$dir/node_modules/oidc-provider/package.json" 2>/dev/null | head -1)

mkdir -p "$dir" || exit 1
cp "$src/provider.js" "$src/package.json" "$dir/" || exit 1

if [ -n "$want" ] && [ "$have" = "$want" ]; then
    echo "oidc: oidc-provider $have is installed in $dir"
    exit 0
fi

# a short answer when the registry is out of reach (no network in CI)
if ! npm ping --fetch-timeout=10000 --fetch-retries=0 >"$dir/npm-ping.log" 2>&1
then
    tail -3 "$dir/npm-ping.log"
    echo "oidc: the npm registry cannot be reached (npm ping failed)"
    exit 3
fi

# installs into a fresh directory, then renames: never a half install
tmp=$(mktemp -d "$dir/install.XXXXXX") || exit 1
cp "$src/package.json" "$tmp/" || exit 1

start=$(date +%s)
if ! (cd "$tmp" && npm install --no-audit --no-fund --no-package-lock \
          --ignore-scripts --omit=dev --loglevel=error >npm.log 2>&1)
then
    tail -20 "$tmp/npm.log"
    rm -rf "$tmp"
    echo "oidc: npm install oidc-provider@$want failed"
    exit 1
fi

rm -rf "$dir/node_modules"
mv "$tmp/node_modules" "$dir/node_modules" || exit 1
rm -rf "$tmp"

echo "oidc: installed oidc-provider $want into $dir" \
     "in $(( $(date +%s) - start )) s"
