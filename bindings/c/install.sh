#!/usr/bin/env bash
# Installs libwskit for C/C++ users: bindings/c/install.sh [PREFIX] (default /usr/local).
#   PREFIX/lib/libwskit.so.X.Y.Z, libwskit.so.ABI -> (SONAME), libwskit.so -> (link time), libwskit.a
#   (ABI is X.Y while X is 0, since every 0.x minor may change the ABI; X from 1.0 on)
#   PREFIX/include/wskit.h, wskit.hpp
#   PREFIX/lib/pkgconfig/wskit.pc          (pkg-config --cflags --libs wskit)
#   PREFIX/lib/cmake/wskit/wskitConfig*.cmake   (find_package(wskit))
# Builds the release library first unless WSKIT_NO_BUILD=1 (then target/release, or WSKIT_LIB_DIR,
# must hold it).
set -euo pipefail
cd "$(dirname "$0")/../.."
prefix=${1:-/usr/local}
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
major=${version%%.*}
abi=$major
[ "$major" = 0 ] && abi=$(echo "$version" | cut -d. -f1,2)
lib_dir=${WSKIT_LIB_DIR:-target/release}
if [ "${WSKIT_NO_BUILD:-0}" != 1 ]; then
  cargo build --release --locked
fi
install -d "$prefix/lib" "$prefix/include" "$prefix/lib/pkgconfig" "$prefix/lib/cmake/wskit"
install -m 755 "$lib_dir/libwskit.so" "$prefix/lib/libwskit.so.$version"
ln -sf "libwskit.so.$version" "$prefix/lib/libwskit.so.$abi"
ln -sf "libwskit.so.$abi" "$prefix/lib/libwskit.so"
install -m 644 "$lib_dir/libwskit.a" "$prefix/lib/libwskit.a"
install -m 644 include/wskit.h bindings/c/wskit.hpp "$prefix/include/"
subst() { sed -e "s|@PREFIX@|$prefix|g" -e "s|@VERSION@|$version|g" -e "s|@MAJOR@|$major|g" -e "s|@ABI@|$abi|g" -e "s|@ABI_MINOR@|$(echo "$version" | cut -d. -f2)|g" "$1"; }
subst bindings/c/wskit.pc.in >"$prefix/lib/pkgconfig/wskit.pc"
subst bindings/c/wskitConfig.cmake.in >"$prefix/lib/cmake/wskit/wskitConfig.cmake"
subst bindings/c/wskitConfigVersion.cmake.in >"$prefix/lib/cmake/wskit/wskitConfigVersion.cmake"
if [ "$(id -u)" = 0 ] && command -v ldconfig >/dev/null && [ "$prefix" = /usr/local ]; then
  ldconfig
fi
echo "install: wskit $version installed into $prefix"
