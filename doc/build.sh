#!/usr/bin/env bash
# Build the documentation with warnings as errors and run every doctest.
#
# Usage, from the repository root (or anywhere: the script finds the root):
#
#     bash doc/build.sh
#
# It installs nothing. It needs sklearn-amm installed with its doc, examples
# and test extras, e.g. ``pip install -e ".[doc,examples,test]"`` (add
# ``dask`` to run the dask examples too), and uses the ``python`` on PATH
# unless PYTHON is set. The HTML lands in doc/_build/html. No network is
# needed (see doc/conf.py for intersphinx).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python}"
cd "$ROOT"

# The docs' examples are small problems on which BLAS threads buy nothing, and
# on a busy two-core machine OpenBLAS threads spinning on them can slow a
# scikit-learn fit down a hundredfold. Timings in the docs are single-threaded
# anyway. Set OPENBLAS_NUM_THREADS yourself to override.
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"

echo "== sklearn-amm imported from: $("$PYTHON" -c 'import sklearn_amm; print(sklearn_amm.__file__)')"
start=$SECONDS

# Examples that need an optional dependency run only when it is installed.
doctest_modules=(sklearn_amm)
doctest_pages=(doc/index.rst doc/user_guide)
if "$PYTHON" -c "import dask.array, dask.dataframe" 2>/dev/null; then
    doctest_pages+=(doc/dask.rst)
else
    echo "== dask is not installed: skipping the examples of map_row_chunks and doc/dask.rst"
    doctest_modules+=(--deselect "sklearn_amm/_dask.py::sklearn_amm._dask.map_row_chunks")
fi

echo "== docstring examples (doctests of the package)"
"$PYTHON" -m pytest -q -p no:cacheprovider --doctest-modules "${doctest_modules[@]}"

echo "== user-guide doctests (the worked example and the other >>> blocks)"
"$PYTHON" -m pytest -q -p no:cacheprovider --doctest-glob='*.rst' "${doctest_pages[@]}"

echo "== Sphinx HTML build, warnings as errors"
"$PYTHON" -m sphinx -W --keep-going -b html doc doc/_build/html

echo "== docs built and doctests passed in $((SECONDS - start)) s: doc/_build/html/index.html"
