#!/usr/bin/env bash
# Build the authors' C++ benchmark binary (`bolt`, from the `cpp/` directory
# of https://github.com/dblalock/bolt at commit e7726a4) outside this
# repository, for benchmarks/vs_authors.py. Nothing of their code enters
# this repository: the sources are extracted into OUT_DIR and built there.
#
# Usage:
#
#     bash tools/build_authors_cpp.sh SRC_GIT_DIR OUT_DIR
#
# SRC_GIT_DIR is a git directory (bare or not) holding commit e7726a4 of
# dblalock/bolt, e.g. made by `git clone --bare
# https://github.com/dblalock/bolt bolt.git`. OUT_DIR (e.g. /tmp/bolt-cpp)
# receives the sources (OUT_DIR/cpp) and the build (OUT_DIR/build); the
# last line printed is the path of the binary, to pass to
# `benchmarks/vs_authors.py --bolt`.
#
# `cpp/` is extracted file by file with `git cat-file` because
# `git archive` fails at that commit: one blob of a Mercurial store that
# was committed along with their vendored copy of Eigen
# (cpp/src/external/eigen/.hg/store/00manifest.d) is missing from the
# repository. The build does not need it, so missing blobs are skipped with
# a message.
#
# Needs git, cmake (3.3 or later), a C++14 compiler and Eigen 3's CMake
# package (Debian/Ubuntu: `apt-get install libeigen3-dev cmake g++`). Their
# CMakeLists.txt only uses that package to satisfy find_package(Eigen3); the
# sources include their own vendored Eigen (cpp/src/external/eigen). About
# two minutes on 2 cores, extraction included. Their code is AVX2-only: the
# build fails on a CPU without AVX2.
#
# Compiler flags, which matter when comparing speeds: the build is cmake's
# Release (-O3 -DNDEBUG) and adds nothing. Their CMakeLists.txt itself
# appends `-std=c++14 -march=native -fno-rtti -ffast-math` to
# CMAKE_CXX_FLAGS; we leave that as it is, so their binary is tuned for the
# CPU it is built on (and runs only on CPUs with the same instructions),
# while sklearn-amm's kernels are compiled for a generic x86-64 and pick
# their SIMD level (SSE, AVX2, AVX-512) when they run.
set -euo pipefail

COMMIT=e7726a4

if [ "$#" -ne 2 ]; then
    echo "usage: $0 SRC_GIT_DIR OUT_DIR" >&2
    exit 2
fi
SRC_GIT_DIR="$1"
OUT_DIR="$2"

if ! git --git-dir="$SRC_GIT_DIR" cat-file -e "$COMMIT^{commit}" 2> /dev/null; then
    echo "$0: $SRC_GIT_DIR is not a git directory holding commit $COMMIT" >&2
    echo "of https://github.com/dblalock/bolt" >&2
    exit 1
fi
for tool in cmake make c++; do
    if ! command -v "$tool" > /dev/null; then
        echo "$0: $tool not found (Debian/Ubuntu: apt-get install cmake g++ make)" >&2
        exit 1
    fi
done

mkdir -p "$OUT_DIR"
OUT_DIR="$(cd "$OUT_DIR" && pwd)"
SOURCES="$OUT_DIR/cpp"
BUILD="$OUT_DIR/build"
if [ -e "$SOURCES" ]; then
    echo "$0: $SOURCES exists; remove it or choose another OUT_DIR" >&2
    exit 1
fi

echo "== extracting cpp/ at $COMMIT into $SOURCES"
n_files=0
n_missing=0
# -z: paths are NUL-terminated, so any file name is safe.
while IFS= read -r -d '' entry; do
    meta="${entry%%$'\t'*}"
    path="${entry#*$'\t'}"
    read -r mode type object <<< "$meta"
    if [ "$type" != blob ]; then
        echo "skipping $path ($type $object: not a file)"
        continue
    fi
    target="$OUT_DIR/$path"
    mkdir -p "$(dirname "$target")"
    if ! git --git-dir="$SRC_GIT_DIR" cat-file -e "$object" 2> /dev/null; then
        echo "skipping $path: blob $object is missing from the repository"
        n_missing=$((n_missing + 1))
        continue
    fi
    if [ "$mode" = 120000 ]; then
        ln -s "$(git --git-dir="$SRC_GIT_DIR" cat-file blob "$object")" "$target"
    else
        git --git-dir="$SRC_GIT_DIR" cat-file blob "$object" > "$target"
        if [ "$mode" = 100755 ]; then
            chmod +x "$target"
        fi
    fi
    n_files=$((n_files + 1))
done < <(git --git-dir="$SRC_GIT_DIR" ls-tree -r -z "$COMMIT" cpp)
echo "extracted $n_files files, skipped $n_missing missing"

echo "== configuring (Release) in $BUILD"
cmake -S "$SOURCES" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release > "$BUILD.cmake.log" 2>&1 \
    || { cat "$BUILD.cmake.log"; exit 1; }
echo "== building the bolt target (log: $BUILD.make.log)"
jobs="$(getconf _NPROCESSORS_ONLN 2> /dev/null || echo 2)"
cmake --build "$BUILD" --target bolt -- -j"$jobs" > "$BUILD.make.log" 2>&1 \
    || { tail -n 40 "$BUILD.make.log"; exit 1; }

echo "== built; run its MADDNESS benchmark with: $BUILD/bolt \"amm mithral\""
echo "$BUILD/bolt"
