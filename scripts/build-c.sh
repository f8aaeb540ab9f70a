#!/usr/bin/env bash
# Builds the C/C++ examples and C tests against include/wskit.h, each linked twice: to the shared
# library (target/c/NAME) and to the static one (target/c/NAME.static), with the production
# warning set. Usage: scripts/build-c.sh [--lib-dir DIR] [--no-cargo]
#   --lib-dir DIR  where libwskit.so/.a are (default target/release, built here with cargo)
#   --no-cargo     do not run `cargo build --release` first
# Extra flags for every compile: CFLAGS_EXTRA (e.g. "-fsanitize=address,undefined -g"), and
# WSKIT_C_OUT (default target/c).
set -euo pipefail
cd "$(dirname "$0")/.."

lib_dir=target/release
run_cargo=1
while [ $# -gt 0 ]; do
  case $1 in
    --lib-dir) lib_dir=$2; shift 2 ;;
    --no-cargo) run_cargo=0; shift ;;
    *) echo "build-c: unknown argument $1" >&2; exit 2 ;;
  esac
done
for tool in gcc g++; do
  command -v "$tool" >/dev/null || { echo "build-c: $tool is required (apt-get install build-essential)" >&2; exit 1; }
done
if [ "$run_cargo" = 1 ]; then
  cargo build --release --locked >&2
fi
lib_dir=$(cd "$lib_dir" && pwd)
out=${WSKIT_C_OUT:-target/c}
mkdir -p "$out/lib"
# Lay the shared library out as install.sh does: the SONAME (libwskit.so.0.2) must resolve.
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
major=${version%%.*}
abi=$major
[ "$major" = 0 ] && abi=$(echo "$version" | cut -d. -f1,2)
cp -f "$lib_dir/libwskit.so" "$out/lib/libwskit.so.$version"
ln -sf "libwskit.so.$version" "$out/lib/libwskit.so.$abi"
ln -sf "libwskit.so.$abi" "$out/lib/libwskit.so"
shared_dir=$(cd "$out/lib" && pwd)
CFLAGS="-std=c99 -Wall -Wextra -Werror -pedantic -g -Iinclude ${CFLAGS_EXTRA:-}"
CXXFLAGS="-std=c++17 -Wall -Wextra -Werror -pedantic -g -Iinclude -Ibindings/c ${CFLAGS_EXTRA:-}"
SHARED="-L$shared_dir -Wl,-rpath,$shared_dir -lwskit -lpthread"
STATIC="$lib_dir/libwskit.a -lpthread -ldl -lm"

build() { # build SRC NAME
  local src=$1 name=$2 cc=gcc flags=$CFLAGS
  case $src in *.cpp) cc=g++; flags=$CXXFLAGS ;; esac
  $cc $flags "$src" -o "$out/$name" $SHARED
  $cc $flags "$src" -o "$out/$name.static" $STATIC
}

for src in examples/c/*.c tests/c/*.c; do
  build "$src" "$(basename "${src%.c}")"
done
for src in examples/cpp/*.cpp; do
  build "$src" "$(basename "${src%.cpp}")_cpp"
done
# The header must also compile as C++.
g++ -std=c++17 -Wall -Wextra -Werror -pedantic -Iinclude -x c++ -fsyntax-only tests/c/header_compiles.c
echo "build-c: built into $out (libraries from $lib_dir)" >&2
