#!/bin/sh
# Copyright (C) ngx_http_authz_module authors
#
# Installs the Debian packages the build, the tests and the demo need,
# when one is missing.  Run as root on Debian 12; elsewhere it only tells.

set -e

# prometheus: for its promtool, which t/authz_status.t runs on the
# answer of authz_status (the server itself is never started)
PKGS="nginx-core nginx-dev libjwt-dev libjansson-dev libssl-dev
      libcrypt-jwt-perl wrk openssl make gcc libc6-dev perl curl
      prometheus"
PKGS="$PKGS $AUTHZ_EXTRA_PKGS"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
         | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "deps: missing Debian packages:$missing" >&2
    echo "deps: run as root, or: apt-get install$missing" >&2
    exit 1
fi

echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null

# the packaged nginx starts itself on :80, prometheus on :9090; the tests
# need neither service
if command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now nginx >/dev/null 2>&1 || true
    systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
