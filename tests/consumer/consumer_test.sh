#!/usr/bin/env bash
# mtcache as projects outside this tree get it. Each mode builds and runs find_package/main.cpp,
# a program that includes <mtcache/mtcache.hpp> only and checks a few answers of an embedded
# cache (no Redis), in a temporary directory that is removed afterwards.
#
#   consumer_test.sh installed CMAKE CXX SOURCE_DIR BUILD_DIR
#     `cmake --install BUILD_DIR` into a temporary prefix; checks that exactly the public
#     headers were installed (none from store/, redis/ or a detail/ folder) and that no text
#     file installed names the source or build tree (the library's debug info may); then
#     builds the program with find_package(mtcache) (find_package/CMakeLists.txt) and with
#     `CXX ... $(pkg-config --cflags --libs mtcache)`.
#   consumer_test.sh add_subdirectory CMAKE CXX SOURCE_DIR
#     configures add_subdirectory/CMakeLists.txt, which adds SOURCE_DIR and checks that no
#     test, benchmark or example target came along, and compiles the program against it.
#     Linking it means building the library again from scratch (about 3.5 CPU minutes at
#     -O0), which the regular build covers already; MTCACHE_CONSUMER_FULL_BUILD=1 does that
#     too and runs the program.
set -euo pipefail

mode=$1
cmake=$2
cxx=$3
source_dir=$(cd "$4" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/mtcache-consumer.XXXXXX")
trap 'rm -rf "$work"' EXIT

step() { echo "--- $*"; }
fail() {
  echo "FAILED: $*" >&2
  exit 1
}

# Configures a copy of one of the consumer projects (Makefiles, so that single objects can be
# built by name).
configure() {
  local project=$1
  shift
  mkdir -p "$work/$project"
  cp "$here/$project/CMakeLists.txt" "$here/find_package/main.cpp" "$work/$project/"
  "$cmake" -S "$work/$project" -B "$work/$project/build" -G "Unix Makefiles" \
    -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF "$@" \
    >"$work/$project.configure.log" 2>&1 ||
    { cat "$work/$project.configure.log"; fail "configuring the $project project"; }
}

build_and_run() {
  local project=$1
  "$cmake" --build "$work/$project/build" -j2 || fail "building the $project project"
  "$work/$project/build/app" || fail "running the $project program"
}

case $mode in
installed)
  build_dir=$(cd "$5" && pwd)
  prefix="$work/prefix"

  step "cmake --install into a temporary prefix"
  "$cmake" --install "$build_dir" --prefix "$prefix" >/dev/null
  (cd "$prefix" && find . -type f | sort)

  step "installed headers: the public ones, exactly"
  expected=$(cd "$source_dir" &&
    find messages codec actors runtime -name '*.hpp' -not -path '*/detail/*' \
      -not -path runtime/mtcache.hpp | sed 's|^|mtcache/|'
    echo mtcache/mtcache.hpp)
  installed=$(cd "$prefix/include" && find . -type f | sed 's|^\./||')
  if private=$(grep -E '(^|/)(detail|store|redis)/' <<<"$installed"); then
    fail "private headers installed: $private"
  fi
  if ! diff <(sort <<<"$expected") <(sort <<<"$installed"); then
    fail "installed headers differ from the public headers of the source tree (< missing, > extra)"
  fi
  if grep -rlIF -e "$source_dir" -e "$build_dir" "$prefix"; then
    fail "installed files name the source or build tree"
  fi

  step "find_package(mtcache 0.1)"
  configure find_package -DCMAKE_PREFIX_PATH="$prefix"
  build_and_run find_package

  step "pkg-config --cflags --libs mtcache"
  command -v pkg-config >/dev/null || fail "pkg-config is not installed"
  pc=$(find "$prefix" -name mtcache.pc)
  [[ -n $pc ]] || fail "no mtcache.pc installed"
  export PKG_CONFIG_PATH
  PKG_CONFIG_PATH="$(dirname "$pc")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
  flags=$(pkg-config --cflags --libs mtcache)
  echo "$flags"
  mkdir -p "$work/pkg-config"
  # shellcheck disable=SC2086 # the flags are words
  "$cxx" -std=c++17 -o "$work/pkg-config/app" "$here/find_package/main.cpp" $flags ||
    fail "building with pkg-config's flags"
  # A shared libmtcache (BUILD_SHARED_LIBS) is found at run time through the path.
  LD_LIBRARY_PATH="$(pkg-config --variable=libdir mtcache)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    "$work/pkg-config/app" || fail "running the pkg-config build"
  ;;
add_subdirectory)
  step "add_subdirectory($source_dir)"
  configure add_subdirectory -DMTCACHE_SOURCE_DIR="$source_dir"
  if [[ ${MTCACHE_CONSUMER_FULL_BUILD:-0} == 1 ]]; then
    build_and_run add_subdirectory
  else
    "$cmake" --build "$work/add_subdirectory/build" --target main.cpp.o ||
      fail "compiling the add_subdirectory program"
  fi
  ;;
*)
  fail "unknown mode $mode"
  ;;
esac
echo "--- $mode: passed"
