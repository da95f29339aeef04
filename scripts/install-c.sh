#!/usr/bin/env bash
# Builds libmesos (bindings/c, release) and installs it under a prefix with its header and
# a pkg-config file:
#   <prefix>/lib/libmesos.so, <prefix>/lib/libmesos.a
#   <prefix>/include/mesos/mesos.h
#   <prefix>/lib/pkgconfig/mesos.pc
#
#   bash scripts/install-c.sh [prefix]        # default /usr/local
#
# Then: cc app.c $(pkg-config --cflags --libs mesos) (with PKG_CONFIG_PATH=<prefix>/lib/pkgconfig
# when the prefix is not a system one).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"
prefix="${1:-/usr/local}"
mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"

cargo build --release -p mesos-c
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"
install -d "$prefix/lib/pkgconfig" "$prefix/include/mesos"
install -m 0755 "$target/release/libmesos.so" "$prefix/lib/"
install -m 0644 "$target/release/libmesos.a" "$prefix/lib/"
install -m 0644 include/mesos/mesos.h "$prefix/include/mesos/"
sed -e "s|@PREFIX@|$prefix|" -e "s|@LIBDIR@|$prefix/lib|" \
    -e "s|@INCLUDEDIR@|$prefix/include|" -e "s|@VERSION@|$version|" \
    bindings/c/mesos.pc.in > "$prefix/lib/pkgconfig/mesos.pc"
echo "installed libmesos $version under $prefix"
