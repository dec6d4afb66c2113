"""Time and peak memory of MaddnessTransformer.fit on a large float32 input.

Usage::

    python benchmarks/fit_cost.py N_ROWS [N_THREADS] [F]

X is ``N(0, 1)^(N_ROWS x 64) @ N(0, 1)^(64 x 512)`` in float32 (C order, or
Fortran order with ``F``), the known matrix 512 x 10, C=16. Prints the fit's
wall time with threads limited by threadpoolctl, then the traced peak memory
(tracemalloc, which NumPy reports its buffers to) of a second fit, as a
multiple of the input's bytes.
"""

import sys
import time
import tracemalloc

import numpy as np
from threadpoolctl import threadpool_limits

from sklearn_amm import MaddnessTransformer


def main():
    n_rows = int(sys.argv[1])
    n_threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n_rows, 64)).astype(np.float32) @ rng.normal(
        size=(64, 512)
    ).astype(np.float32)
    if "F" in sys.argv[3:]:
        X = np.asfortranarray(X)
    W = rng.normal(size=(512, 10))
    with threadpool_limits(n_threads):
        start = time.perf_counter()
        MaddnessTransformer(W, n_codebooks=16).fit(X)
        seconds = time.perf_counter() - start
        tracemalloc.start()
        MaddnessTransformer(W, n_codebooks=16).fit(X)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    print(
        f"{n_rows} x 512 float32, C=16, {n_threads} thread(s): fit {seconds:.2f} s, "
        f"peak {peak / 1e6:.0f} MB = {peak / X.nbytes:.2f}x the input "
        f"({X.nbytes / 1e6:.0f} MB)"
    )


if __name__ == "__main__":
    main()
