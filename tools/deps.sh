#!/bin/sh
# Copyright (C) ngx_http_authz_module authors
#
# Installs the Debian packages that are missing.  Run as root on Debian
# 12; elsewhere, or as another user, it only tells what is missing.
#
#     sh tools/deps.sh               the build, the tests, the demo and
#                                    the benchmark (make test, make demo)
#     sh tools/deps.sh --build-deps  the build dependencies of
#                                    debian/control and build-essential
#                                    (make deb), as "apt-get build-dep"
#
# AUTHZ_EXTRA_PKGS adds packages to the first list.
#
# When it installs nginx itself (it was not installed before), the new
# nginx service, which Debian starts on port 80, is stopped and disabled:
# neither the tests nor a package build need it.  An nginx that was
# installed before is never touched.

set -e

root=$(cd "$(dirname "$0")/.." && pwd)

# another apt run (a concurrent package test) may hold the dpkg lock
LOCK="-o DPkg::Lock::Timeout=300"
APT_OPTS="-y -qq --no-install-recommends $LOCK"

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null \
        | grep -q "install ok installed"
}

# stops and disables a service this run installed: nginx (the package
# "nginx" holds /usr/sbin/nginx; nginx-core and the other flavours
# depend on it) on port 80, prometheus on port 9090
quiet_service() {
    [ "$2" = no ] || return 0
    installed "$1" || return 0

    echo "deps: $1 was not installed before:" \
         "stopping and disabling the service Debian started"

    if [ -d /run/systemd/system ]; then
        systemctl disable --now "$1" >/dev/null 2>&1 || true
    else
        invoke-rc.d "$1" stop >/dev/null 2>&1 || true
        update-rc.d "$1" disable >/dev/null 2>&1 || true
    fi
}

quiet_nginx() {
    quiet_service nginx "$had_nginx"
    quiet_service prometheus "$had_prometheus"
}

# apt_get WHAT ARGS...: "apt-get ARGS" as root, otherwise tells
apt_get() {
    what=$1
    shift

    if [ "$(id -u)" != 0 ]; then
        echo "deps: missing $what" >&2
        echo "deps: run as root, or: apt-get $*" >&2
        exit 1
    fi

    echo "deps: installing $what"
    apt-get update -qq $LOCK
    # shellcheck disable=SC2086
    apt-get $APT_OPTS "$@" >/dev/null
    quiet_nginx
}

had_nginx=no
if installed nginx; then
    had_nginx=yes
fi

had_prometheus=no
if installed prometheus; then
    had_prometheus=yes
fi

export DEBIAN_FRONTEND=noninteractive


if [ "${1:-}" = --build-deps ]; then

    # dpkg-checkbuilddeps (dpkg-dev) checks build-essential as well
    if command -v dpkg-checkbuilddeps >/dev/null 2>&1 \
       && (cd "$root" && dpkg-checkbuilddeps) >/dev/null 2>&1
    then
        exit 0
    fi

    apt_get "the build dependencies of debian/control" build-dep "$root"
    exit 0
fi


# prometheus: for its promtool, which t/authz_status.t runs on the
# answer of authz_status (the server itself is never started);
# libio-socket-ssl-perl: the TLS client of t/authz_binding.t;
# valgrind: t/authz_red12b.t counts instructions with callgrind
PKGS="nginx-core nginx-dev libjwt-dev libjansson-dev libssl-dev
      libcrypt-jwt-perl wrk openssl make gcc libc6-dev perl curl
      prometheus libio-socket-ssl-perl valgrind"
PKGS="$PKGS ${AUTHZ_EXTRA_PKGS:-}"

missing=""
for p in $PKGS; do
    if ! installed "$p"; then
        missing="$missing $p"
    fi
done

[ -z "$missing" ] && exit 0

# shellcheck disable=SC2086
apt_get "Debian packages:$missing" install $missing
