#!/usr/bin/env bash
# The package as users get it: build the sdist, build the wheel from that
# sdist (so a file missing from the sdist, a header say, fails the build),
# install the wheel into a clean virtual environment and run the test suite
# against the installed package, not the source tree.
#
# Usage, from anywhere:
#
#     bash tools/test_wheel.sh [pytest arguments]
#
# PYTHON (default python3) is the interpreter that makes the environments.
# The build runs in pip's isolated build environment with the requirements
# pyproject.toml names, like any installer's. The tests run from a copy of
# the repository without its sklearn_amm/ folder: the README, the docs and
# the benchmarks some tests read are there, and the only sklearn_amm Python
# can import is the installed one (checked before the run).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/sklearn_amm_wheel.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# The tracked files only: a build from the working tree could pick up
# compiled modules or generated C files that a clean checkout lacks.
mkdir "$WORK/src"
git -C "$ROOT" ls-files -z | (cd "$ROOT" && xargs -0 cp --parents -t "$WORK/src")

"$PYTHON" -m venv "$WORK/build-env"
"$WORK/build-env/bin/pip" install -q build
"$WORK/build-env/bin/python" -m build --outdir "$WORK/dist" "$WORK/src"
ls -l "$WORK/dist"

# Every hand-written header the kernels include must be in the sdist.
sdist="$(ls "$WORK"/dist/*.tar.gz)"
tar -tzf "$sdist" > "$WORK/sdist-files.txt"
missing=0
for header in $(cd "$ROOT" && git ls-files 'sklearn_amm/*.h' 'sklearn_amm/*.pxd'); do
    if ! grep -q "/$header\$" "$WORK/sdist-files.txt"; then
        echo "sdist lacks $header"
        missing=1
    fi
done
[ "$missing" -eq 0 ]

wheel="$(ls "$WORK"/dist/*.whl)"
"$PYTHON" -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q "${wheel}[test]"

# The tests, the README, the docs and the benchmarks, but not the package.
mkdir "$WORK/tests-root"
(cd "$WORK/src" && cp -r tests doc benchmarks README.md pyproject.toml "$WORK/tests-root/")
cd "$WORK/tests-root"
location="$("$WORK/venv/bin/python" -c 'import sklearn_amm; print(sklearn_amm.__file__)')"
echo "testing the installed package at $location"
case "$location" in
    "$WORK/venv/"*) ;;
    *) echo "sklearn_amm was not imported from the clean environment"; exit 1 ;;
esac
"$WORK/venv/bin/python" -m pytest -q "$@"
