"""Accuracy (and speed) of the wrappers on the two real-data tasks of the docs.

Usage::

    python benchmarks/wrappers_accuracy.py

Prints three tables.

1. Digits, ``MaddnessClassifier`` around a fitted ``LogisticRegression``
   (10 classes, 64 pixels), for C in {4, 8, 16, 32}: test accuracy of the
   exact model and of the wrapper on one stratified 75/25 split, the mean
   accuracy loss over 30 such splits with its standard error, its min and
   max, and the speed-up of the
   wrapper's ``decision_function`` over the exact one on the test rows
   (450) and on the test rows repeated to 45000. Times use one thread
   (threadpoolctl) and are medians of 9 repeats.
2. Digits at C=16, with MADDNESS learned from a random quarter, half,
   three quarters or all of the 1347 training rows (the exact model always
   uses all of them): mean loss and standard error over the same 30 splits.
   Single splits of 450 test digits move the loss by a point or more, so
   30 splits are needed to tell 1.5 points from 1.7.
3. The paper's image filters (``sklearn_amm.datasets.load_image_filter_task``):
   224x224 centre crops of scikit-learn's two sample photos, channel-major
   patches, trained on the patches of ``china.jpg`` and tested on those of
   ``flower.jpg``. 1 - NMSE, with ``NMSE = mean((Y - Y_hat)**2) / var(Y)``,
   for the Sobel pair (3x3, D=27) and the pair of Gaussians with sigma 1 and
   2 (5x5, D=75; "DoG" also scores the difference of the two outputs, the
   band-pass itself), MADDNESS against MADDNESS-PQ. With D=27 the Sobel
   task has at most 27 codebooks, so C=32 uses 27.
"""

import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from sklearn_amm import MaddnessClassifier, MaddnessTransformer
from sklearn_amm.datasets import load_image_filter_task

N_CODEBOOKS = [4, 8, 16, 32]
N_SPLITS = 30
ROW_FRACTIONS = [0.25, 0.5, 0.75, 1.0]
N_REPEATS = 9
TILES = 100


def median_seconds(function, n_repeats=N_REPEATS):
    times = []
    for _ in range(n_repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def digits_split(random_state):
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=random_state
    )
    exact = LogisticRegression(max_iter=5000).fit(X_train, y_train)
    return X_train, X_test, y_train, y_test, exact


def wrapped(exact, X_train, y_train, n_codebooks):
    """The wrapper around the already fitted model: only MADDNESS is fitted."""
    return MaddnessClassifier(FrozenEstimator(exact), n_codebooks=n_codebooks).fit(
        X_train, y_train
    )


def accuracy_losses():
    """Exact minus approximate test accuracy in points over N_SPLITS splits.

    Returns one array of losses per C, and one per fraction of the training
    rows MADDNESS is learned from (at C=16).
    """
    losses = {C: [] for C in N_CODEBOOKS}
    row_losses = {fraction: [] for fraction in ROW_FRACTIONS}
    for seed in range(N_SPLITS):
        X_train, X_test, y_train, y_test, exact = digits_split(seed)
        exact_accuracy = exact.score(X_test, y_test)
        for C in N_CODEBOOKS:
            clf = wrapped(exact, X_train, y_train, C)
            losses[C].append(exact_accuracy - clf.score(X_test, y_test))
        order = np.random.default_rng(seed).permutation(len(X_train))
        for fraction in ROW_FRACTIONS:
            rows = order[: int(fraction * len(X_train))]
            clf = wrapped(exact, X_train[rows], y_train[rows], 16)
            row_losses[fraction].append(exact_accuracy - clf.score(X_test, y_test))
    return in_points(losses), in_points(row_losses), len(X_train)


def in_points(losses):
    """Accuracy differences (fractions) as arrays of percentage points."""
    return {key: 100 * np.array(values) for key, values in losses.items()}


def standard_error(values):
    return values.std(ddof=1) / np.sqrt(len(values))


def digits_table():
    X_train, X_test, y_train, y_test, exact = digits_split(random_state=0)
    X_large = np.tile(X_test, (TILES, 1))
    losses, row_losses, n_train = accuracy_losses()
    print("Digits, LogisticRegression (10 classes, D=64): accuracy in %, split 0;")
    print(f"loss = exact - MADDNESS in points over {N_SPLITS} splits "
          "(mean, standard error, min, max); speed-up of decision_function, 1 thread")
    print(f"{'C':>3} {'exact':>6} {'MADDNESS':>9} {'loss mean':>9} {'s.e.':>5} "
          f"{'min':>5} {'max':>5} {'x N=450':>8} {'x N=45000':>10}")
    for C in N_CODEBOOKS:
        clf = wrapped(exact, X_train, y_train, C)
        speedups = [
            median_seconds(lambda: exact.decision_function(X))
            / median_seconds(lambda: clf.decision_function(X))
            for X in (X_test, X_large)
        ]
        loss = losses[C]
        print(f"{C:>3} {100 * exact.score(X_test, y_test):>6.2f} "
              f"{100 * clf.score(X_test, y_test):>9.2f} {loss.mean():>9.2f} "
              f"{standard_error(loss):>5.2f} {loss.min():>5.2f} {loss.max():>5.2f} "
              f"{speedups[0]:>8.3f} {speedups[1]:>10.3f}")

    print(f"\nDigits, C=16, MADDNESS learned from part of the {n_train} training "
          f"rows: loss in points over {N_SPLITS} splits")
    print(f"{'rows':>5} {'loss mean':>9} {'s.e.':>5}")
    for fraction, loss in row_losses.items():
        print(f"{int(fraction * n_train):>5} {loss.mean():>9.2f} "
              f"{standard_error(loss):>5.2f}")


def one_minus_nmse(Y, Y_hat):
    return 1 - float(np.mean((Y - Y_hat) ** 2) / np.var(Y))


def image_filter_table():
    print("\nImage filters, train china.jpg / test flower.jpg, 224x224 crops: 1 - NMSE")
    print(f"{'filters':<8} {'C':>3} {'MADDNESS':>9} {'MADDNESS-PQ':>12} "
          f"{'DoG MADDNESS':>13} {'DoG PQ':>7}")
    for filters in ["sobel", "dog"]:
        X_train, X_test, B = load_image_filter_task(filters)
        Y = X_test.astype(np.float64) @ B
        for C in N_CODEBOOKS:
            scores = []
            for optimize in [True, False]:
                amm = MaddnessTransformer(
                    B, n_codebooks=C, optimize_prototypes=optimize
                ).fit(X_train)
                Y_hat = amm.transform(X_test).astype(np.float64)
                scores.append((one_minus_nmse(Y, Y_hat), Y_hat))
            row = f"{filters:<8} {C:>3} {scores[0][0]:>9.4f} {scores[1][0]:>12.4f}"
            if filters == "dog":
                band = [one_minus_nmse(Y[:, 0] - Y[:, 1], Yh[:, 0] - Yh[:, 1])
                        for _, Yh in scores]
                row += f" {band[0]:>13.4f} {band[1]:>7.4f}"
            print(row)


def main():
    # One thread for everything: the timings compare single-core speed, and
    # multithreaded BLAS only slows the small fits down on a busy machine.
    with threadpool_limits(1):
        digits_table()
        image_filter_table()


if __name__ == "__main__":
    main()
