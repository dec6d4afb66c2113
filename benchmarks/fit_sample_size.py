"""Test NMSE against the number of training rows MADDNESS is fitted on.

Usage::

    python benchmarks/fit_sample_size.py

Data too large for one machine are fitted on a uniform sample of their rows
(see doc/dask.rst); this measures how large the sample must be. For each size,
three samples are drawn without replacement from a large training pool, as
``X[np.sort(rng.choice(n, size, replace=False))]`` (the same recipe works on
a dask array), and the test NMSE ``mean((Y - Y_hat)**2) / var(Y)`` of each
fit is reported: the median and the range of the three. The last row of each
task fits the whole pool once.

Tasks (``sklearn_amm.datasets``):

* ``low-rank``: ``make_low_rank_product(n_train=100000)``, 64 columns, 16
  outputs; tested on its 4000 test rows, from the same distribution.
* ``image``: ``load_image_filter_task("dog", crop=None)``, 75 columns, 2
  outputs. The 269028 5x5 RGB patches of the first photo are split at random
  into a pool of 219028 rows to sample from and 50000 held-out rows (same
  photo); the 269028 patches of the second photo are a second test set (other
  photo), whose error is dominated by the difference between the photos.
  Last, for the first sample of two sizes, the held-out rows' reconstruction
  NMSE (``weights=None``: what the default learner minimizes) and their
  product NMSE with ``split_objective="product"``.

MADDNESS with its default parameters (16 codebooks). BLAS runs on one thread.
"""

import time

import numpy as np
from threadpoolctl import threadpool_limits

from sklearn_amm import MaddnessTransformer
from sklearn_amm.datasets import load_image_filter_task, make_low_rank_product

SAMPLE_SIZES = [1000, 2000, 5000, 10000, 20000, 50000]
N_DRAWS = 3
N_HELD_OUT = 50000


def nmse(Y, Y_hat):
    return float(np.mean((Y - Y_hat) ** 2) / np.var(Y))


def fit_nmse(X_train, test_sets, B):
    """NMSE on each ``(X_test, Y_test)`` of MADDNESS fitted on ``X_train``."""
    estimator = MaddnessTransformer(B).fit(X_train)
    return [nmse(Y, estimator.transform(X)) for X, Y in test_sets]


def report(name, X_pool, test_sets, B):
    """Print the NMSE on each named test set against the number of rows."""
    n_pool = X_pool.shape[0]
    sets = [(X, X.astype(np.float64) @ B) for X in test_sets.values()]
    print(
        f"\n{name}: pool of {n_pool} rows x {X_pool.shape[1]} columns, "
        f"{B.shape[1]} outputs; test sets: "
        + ", ".join(f"{label} ({X.shape[0]} rows)" for label, X in test_sets.items())
    )
    print(
        f"{'rows':>8} "
        + " ".join(f"{label + ': median (min-max)':>34}" for label in test_sets)
        + f" {'fit s':>6}"
    )
    for size in SAMPLE_SIZES:
        scores = []
        start = time.perf_counter()
        for draw in range(N_DRAWS):
            rng = np.random.default_rng(draw)
            rows = np.sort(rng.choice(n_pool, size=size, replace=False))
            scores.append(fit_nmse(X_pool[rows], sets, B))
        seconds = (time.perf_counter() - start) / N_DRAWS
        # One cell per test set: the median and range over the draws.
        per_set = zip(*scores, strict=True)
        cells = [f"{np.median(s):.4f} ({min(s):.4f}-{max(s):.4f})" for s in per_set]
        print(f"{size:>8} " + " ".join(f"{c:>34}" for c in cells) + f" {seconds:>6.1f}")
    start = time.perf_counter()
    scores = fit_nmse(X_pool, sets, B)
    seconds = time.perf_counter() - start
    print(
        f"{n_pool:>8} "
        + " ".join(f"{s:>34.4f}" for s in scores)
        + f" {seconds:>6.1f}  (whole pool)"
    )


def report_objectives(X_pool, X_held_out, B, sizes=(2000, 50000)):
    """What the learner minimizes, against the product error, first draw only.

    For each size: the reconstruction NMSE of the held-out rows
    (``weights=None``), what the default splits and prototypes are learned
    for; and the product NMSE with ``split_objective="product"``, whose
    splits are learned on ``X @ B``.
    """
    Y_held_out = X_held_out.astype(np.float64) @ B
    X_held_out = X_held_out.astype(np.float64)
    for size in sizes:
        rng = np.random.default_rng(0)
        X_train = X_pool[np.sort(rng.choice(X_pool.shape[0], size, replace=False))]
        rebuilt = MaddnessTransformer(None, quantize_luts=False).fit(X_train)
        product = MaddnessTransformer(B, split_objective="product").fit(X_train)
        print(
            f"{size} rows: reconstruction NMSE "
            f"{nmse(X_held_out, rebuilt.transform(X_held_out)):.4f}, "
            'product NMSE with split_objective="product" '
            f"{nmse(Y_held_out, product.transform(X_held_out)):.4f} (held-out rows)"
        )


def main():
    with threadpool_limits(1):
        X_train, X_test, B = make_low_rank_product(n_train=100000)
        report("low-rank", X_train, {"test": X_test}, B)

        X_photo, X_other_photo, B = load_image_filter_task("dog", crop=None)
        held_out = np.zeros(X_photo.shape[0], dtype=bool)
        held_out[
            np.random.default_rng(100).choice(held_out.size, N_HELD_OUT, replace=False)
        ] = True
        test_sets = {"same photo": X_photo[held_out], "other photo": X_other_photo}
        report("image", X_photo[~held_out], test_sets, B)
        report_objectives(X_photo[~held_out], X_photo[held_out], B)


if __name__ == "__main__":
    main()
