"""Demo: approximate a bank of image filters with MADDNESS.

Every 5x5 patch of scikit-learn's two bundled photos is multiplied by a pair
of Gaussian filters (sigma 1 and 2, the paper's difference-of-Gaussians
task). MADDNESS learns from the patches of the first photo and approximates
the product for the second; this prints its speed against the exact NumPy
product (both on one thread) and the accuracy it keeps (1 - NMSE).

Run from the repository root::

    python examples/demo.py
"""

import time

import numpy as np
from threadpoolctl import threadpool_limits

from sklearn_amm import MaddnessTransformer
from sklearn_amm.datasets import load_image_filter_task


def median_seconds(function, repeats=7):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main():
    X_train, X_test, B = load_image_filter_task("dog", crop=None)
    B = B.astype(np.float32)
    print(f"train patches: {X_train.shape}, test patches: {X_test.shape}, "
          f"filters: {B.shape}, dtype: {X_test.dtype}")
    # F order puts each input column in one contiguous run, which is what the
    # encoder reads.
    X_test = np.asfortranarray(X_test)

    start = time.perf_counter()
    amm = MaddnessTransformer(B, n_codebooks=16).fit(X_train)
    print(f"fit: {time.perf_counter() - start:.1f} s")

    Y = X_test @ B
    Y_hat = amm.transform(X_test)
    nmse = np.mean((Y - Y_hat) ** 2) / np.var(Y)

    # One thread for both, so the comparison is per core.
    with threadpool_limits(limits=1):
        exact = median_seconds(lambda: X_test @ B)
        approx = median_seconds(lambda: amm.transform(X_test))
    print(f"exact numpy  : {exact * 1e3:8.2f} ms")
    print(f"MADDNESS     : {approx * 1e3:8.2f} ms")
    print(f"speed-up     : {exact / approx:8.2f}x")
    print(f"1 - NMSE     : {1 - nmse:8.4f}")


if __name__ == "__main__":
    main()
