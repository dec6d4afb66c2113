#!/usr/bin/env bash
# Memory safety of the compiled kernels: build them with AddressSanitizer and
# UndefinedBehaviorSanitizer in a scratch copy of the source tree, then run
# the kernel tests. Any out-of-bounds read or write, use after free,
# misaligned access, signed overflow or other undefined behaviour in the
# kernels aborts the run with a report.
#
# Usage, from anywhere:
#
#     bash tools/sanitize.sh [pytest arguments, default: the kernel tests]
#
# The kernel tests call every kernel at every SIMD level this CPU supports
# (the level is one of their parameters), and the estimator tests among them
# force each level too, so one run covers them all. SANITIZE_EVERY_LEVEL=1
# runs the tests again with each level forced by SKLEARN_AMM_SIMD, as a user
# would. It takes about three minutes to build and two to test on two cores.
#
# It needs gcc or clang with libasan and libubsan, and a Python (PYTHON,
# default python3) with the build and test requirements installed (numpy,
# Cython, setuptools, scikit-learn, pytest, hypothesis), e.g. a virtual
# environment made by `pip install -e ".[test]"`. The working tree and its
# compiled modules are left untouched.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
# The build and the tests run from a scratch copy: a relative path to the
# interpreter (e.g. .venv/bin/python) must be made absolute first.
if [[ "$PYTHON" == */* ]]; then
    PYTHON="$(cd "$(dirname "$PYTHON")" && pwd)/$(basename "$PYTHON")"
fi
CC="${CC:-gcc}"
TESTS=("$@")
if [ "${#TESTS[@]}" -eq 0 ]; then
    TESTS=(
        tests/test_encode_kernel.py
        tests/test_scan_kernel.py
        tests/test_simd.py
        tests/test_properties.py
        tests/test_fuzz.py
        tests/test_threads.py
        tests/test_argmax_kernel.py
        tests/test_weighted_split.py
        tests/test_prototypes.py
    )
fi

SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/sklearn-amm-sanitize.XXXXXX")"
trap 'rm -rf "$SCRATCH"' EXIT

echo "== copying the sources to $SCRATCH"
"$PYTHON" - "$ROOT" "$SCRATCH/src" <<'PY'
import shutil
import sys

# Sources only: no compiled modules, build trees, environments or docs output.
shutil.copytree(
    sys.argv[1],
    sys.argv[2],
    ignore=shutil.ignore_patterns(
        "*.so", "*.pyd", "build", ".venv", "venv", ".git", ".asv", "_build",
        "auto_examples", "__pycache__", ".hypothesis", ".pytest_cache",
    ),
)
PY
cd "$SCRATCH/src"

# setup.py turns SKLEARN_AMM_SANITIZE into the compile and link flags.
echo "== building the kernels with -fsanitize=address,undefined"
CC="$CC" SKLEARN_AMM_SANITIZE=address,undefined \
    "$PYTHON" setup.py build_ext --inplace --parallel 2 > "$SCRATCH/build.log" 2>&1 \
    || { cat "$SCRATCH/build.log"; exit 1; }

# The ASan runtime must be loaded before anything else, and Python is not
# built with it: preload it. Leak detection is off because CPython keeps
# objects alive until exit by design; PYTHONMALLOC=malloc routes Python's own
# allocations through ASan too.
LIBASAN="$("$CC" -print-file-name=libasan.so)"
if [ ! -e "$LIBASAN" ]; then
    echo "sanitize.sh: $CC has no libasan.so (install libasan for it)" >&2
    exit 1
fi
for module in sklearn_amm/_kernels/*.so; do
    # grep without -q reads all of ldd's output (pipefail and SIGPIPE).
    if ! ldd "$module" | grep libasan > /dev/null; then
        echo "sanitize.sh: $module is not linked with AddressSanitizer" >&2
        exit 1
    fi
done
export LD_PRELOAD="$LIBASAN"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export PYTHONMALLOC=malloc
export PYTHONPATH="$SCRATCH/src"
export OPENBLAS_NUM_THREADS=1

LEVELS="$("$PYTHON" -c 'from sklearn_amm import _simd; print(" ".join(_simd.available_levels()))')"
FORCED=("")
if [ "${SANITIZE_EVERY_LEVEL:-0}" != "0" ]; then
    read -r -a FORCED <<< "$LEVELS"
fi
start=$SECONDS
for level in "${FORCED[@]}"; do
    echo "== SKLEARN_AMM_SIMD=${level:-(unset)}: ${TESTS[*]}"
    SKLEARN_AMM_SIMD="$level" "$PYTHON" -m pytest -q -p no:cacheprovider "${TESTS[@]}"
done
echo "== the sanitizers found nothing; kernels run at: $LEVELS ($((SECONDS - start)) s)"
