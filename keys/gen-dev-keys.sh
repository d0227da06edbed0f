#!/bin/sh
#
# Copyright (C) ngx_http_authz_module authors
#
# Generates the development key pair and its JWKS, each only if absent:
#
#     DIR/private.pem   RSA 2048, PKCS#8 "PRIVATE KEY", mode 0600
#     DIR/public.pem    SPKI "PUBLIC KEY", mode 0644
#     DIR/jwks.json     JWKS of public.pem with kid "dev-1", mode 0644
#
# usage: keys/gen-dev-keys.sh MINT [DIR]
#
#     MINT  the authz-mint binary (build/authz-mint), used for jwks.json
#     DIR   where the keys go (default: keys/dev, next to this script)
#
# These keys are for development and tests only and are never deployed.
# keys/dev/ is git-ignored.  Running the script again changes nothing;
# remove DIR to start over with a new key pair.

set -eu

me=gen-dev-keys.sh
kid=dev-1

if [ $# -lt 1 ] || [ $# -gt 2 ] || [ -z "$1" ]; then
    echo "usage: $0 MINT [DIR]   (MINT: the authz-mint binary)" >&2
    exit 2
fi

mint=$1
dir=${2:-$(dirname "$0")/dev}

private=$dir/private.pem
public=$dir/public.pem
jwks=$dir/jwks.json
tmp=

cleanup() {
    if [ -n "$tmp" ]; then
        rm -f "$tmp"
    fi
}

trap cleanup EXIT
trap 'exit 1' HUP INT TERM

die() {
    echo "$me: $*" >&2
    exit 1
}

command -v openssl >/dev/null 2>&1 || die "openssl not found"

if [ ! -d "$dir" ]; then
    mkdir -p "$dir"
    chmod 0755 "$dir"
    echo "$me: created $dir"
fi

# every file is written to a temporary name in DIR, then renamed into
# place, so an interrupted run never leaves a half-written key behind

if [ ! -f "$private" ]; then

    # a public key or JWKS left without its private key is stale

    if [ -f "$public" ] || [ -f "$jwks" ]; then
        die "$public or $jwks exists without $private; remove $dir" \
            "to generate a new key pair"
    fi

    tmp=$dir/.private.pem.$$
    (umask 077 && openssl genpkey -algorithm RSA \
                     -pkeyopt rsa_keygen_bits:2048 -out "$tmp" 2>/dev/null) \
        || die "openssl genpkey failed"
    chmod 0600 "$tmp"
    mv -f "$tmp" "$private"
    tmp=
    echo "$me: generated $private (RSA 2048, PKCS#8)"
fi

if [ ! -f "$public" ]; then
    tmp=$dir/.public.pem.$$
    openssl pkey -in "$private" -pubout -out "$tmp" 2>/dev/null \
        || die "openssl pkey -pubout failed on $private"
    chmod 0644 "$tmp"
    mv -f "$tmp" "$public"
    tmp=
    echo "$me: generated $public (SPKI)"

else
    # refuse to go on with a public key from another pair

    openssl pkey -in "$private" -pubout 2>/dev/null | cmp -s - "$public" \
        || die "$public does not match $private; remove $dir" \
               "to generate a new key pair"
fi

if [ ! -f "$jwks" ]; then
    if [ ! -x "$mint" ] || [ -d "$mint" ]; then
        die "$mint is not an executable; build it first:" \
            "cc -std=c99 -O2 -Wall -Wextra -Werror -o build/authz-mint" \
            "keys/authz-mint.c -ljwt -ljansson -lcrypto"
    fi

    tmp=$dir/.jwks.json.$$
    "$mint" --jwks "$public" --kid "$kid" > "$tmp" \
        || die "$mint --jwks $public failed"
    chmod 0644 "$tmp"
    mv -f "$tmp" "$jwks"
    tmp=
    echo "$me: generated $jwks (kid \"$kid\")"
fi
