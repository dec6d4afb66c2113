"""Accuracy of MaddnessClassifier's defaults on Fashion-MNIST, and with a scaler.

Usage::

    tools/fetch_fashion_mnist.sh         # once: unpacks the training files
    python benchmarks/accuracy_targets.py [--sections defaults standardized]

The split and the head are those of ``benchmarks/fashion_mnist.py``:
50,000 training and 10,000 validation rows of the training files
(stratified, ``random_state=0``), pixels in [0, 1], ``LogisticRegression(C=1,
max_iter=300)``. The exact model is that head fitted on the 50,000 rows;
every loss is its validation accuracy minus the approximate one, in points,
on the 10,000 validation rows, which nothing here fits or calibrates on.

Sections:

``defaults``
    ``MaddnessClassifier(FrozenEstimator(head), n_codebooks=C)`` with
    nothing else changed, C in {8, 16, 32}, ``random_state`` 0 and 1 (the
    fine-tuning's minibatches), with the fit time.
``standardized``
    ``StandardScaler`` then the head, against pixels/255, on 20,000
    training / 10,000 validation rows of the training files, defaults at
    C = 16 and 32 and product tables beside them.
``rbf_target``
    ``MaddnessClassifierCV`` around the pipeline ``RBFSampler(1000)`` (the
    median heuristic's ``gamma``, ``random_state=0``) then the head, asked
    for at most 1 point: what it chose, the validation loss against the
    exact pipeline, the share of rows scored exactly and the speed-up of
    ``predict`` (float32 and float64, C order, where the exact pipeline's
    cosine dominates).

The exact fallback (``fallback_loss``) and the target mode
(``MaddnessClassifierCV``) are measured by ``benchmarks/accuracy_vs_speed.py``,
on the same split, beside the other options.

Speed: ``predict`` on the 10,000 validation rows against the exact head's
``predict`` on the same array, one thread (threadpoolctl), medians of 25
runs, float32 in Fortran and C order and float64 in C order.
"""

import argparse
import subprocess
import time

import numpy as np
from sklearn.frozen import FrozenEstimator
from sklearn.kernel_approximation import RBFSampler
from sklearn.pipeline import make_pipeline
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sklearn_amm import MaddnessClassifier, MaddnessClassifierCV
from sklearn_amm.datasets import load_fashion_mnist_train

N_REPEATS = 25
LAYOUTS = {
    "F f32": (np.float32, "F"),
    "C f32": (np.float32, "C"),
    "C f64": (np.float64, "C"),
}


def log(message, start=time.perf_counter()):
    print(f"[{time.perf_counter() - start:7.1f} s] {message}", flush=True)


def cpu_name():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    except OSError:
        return "unknown CPU"
    for line in out.splitlines():
        if line.startswith("Model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def head():
    return LogisticRegression(C=1.0, max_iter=300)


def median_seconds(function):
    function()
    times = []
    for _ in range(N_REPEATS):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def speedups(model, exact, X):
    """Speed-up of ``model.predict`` over ``exact.predict`` per layout."""
    cells = []
    for name, (dtype, order) in LAYOUTS.items():
        rows = np.asarray(X, dtype=dtype, order=order)
        with threadpool_limits(limits=1):
            exact_s = median_seconds(lambda: exact.predict(rows))
            model_s = median_seconds(lambda: model.predict(rows))
        cells.append(f"{name} {exact_s * 1e3:.2f}/{model_s * 1e3:.2f} ms = "
                     f"{exact_s / model_s:.1f}x")
    return "; ".join(cells)


def fashion_split(n_train=50000):
    X, y = load_fashion_mnist_train(dtype=np.float32)
    X /= 255
    X_train, X_val, y_train, y_val = train_test_split(
        X, y, test_size=10000, stratify=y, random_state=0
    )
    return X_train[:n_train], X_val, y_train[:n_train], y_val


def defaults(exact, X_train, X_val, y_train, y_val, exact_acc):
    for C in (8, 16, 32):
        for seed in (0, 1):
            start = time.perf_counter()
            clf = MaddnessClassifier(
                FrozenEstimator(exact), n_codebooks=C, random_state=seed
            ).fit(X_train, y_train)
            fit_s = time.perf_counter() - start
            loss = 100 * (exact_acc - clf.score(X_val, y_val))
            log(f"defaults C={C} seed={seed} ({clf.table_objective_}): loss "
                f"{loss:.2f} points, fit {fit_s:.1f} s")
        log(f"  speed C={C}: {speedups(clf, exact, X_val)}")


def standardized():
    X_train, X_val, y_train, y_val = fashion_split(20000)
    scaler = StandardScaler().fit(X_train)
    for name, (train, val) in {
        "pixels/255": (X_train, X_val),
        "standardized": (scaler.transform(X_train), scaler.transform(X_val)),
    }.items():
        exact = head().fit(train, y_train)
        exact_acc = exact.score(val, y_val)
        for objective in ("auto", "product"):
            for C in (16, 32):
                clf = MaddnessClassifier(
                    FrozenEstimator(exact), n_codebooks=C, table_objective=objective,
                    random_state=0,
                ).fit(train, y_train)
                loss = 100 * (exact_acc - clf.score(val, y_val))
                log(f"{name} exact {100 * exact_acc:.2f} C={C} {objective}: loss "
                    f"{loss:.2f} points")


def rbf_target():
    from fashion_mnist import N_COMPONENTS, median_gamma

    X_train, X_val, y_train, y_val = fashion_split()
    pipeline = make_pipeline(
        RBFSampler(gamma=median_gamma(X_train), n_components=N_COMPONENTS,
                   random_state=0),
        head(),
    )
    start = time.perf_counter()
    search = MaddnessClassifierCV(
        pipeline, max_accuracy_loss=0.01, random_state=0, verbose=1
    ).fit(X_train, y_train)
    fit_s = time.perf_counter() - start
    exact = search.estimator_
    exact_acc = exact.score(X_val, y_val)
    loss = 100 * (exact_acc - search.score(X_val, y_val))
    share = search.fallback_mask(X_val).mean()
    log(f"RBF pipeline exact {100 * exact_acc:.2f}%; target 1 point: chose "
        f"C={search.n_codebooks_}, held-out estimate "
        f"{100 * search.validation_loss_:.2f}, validation loss {loss:.2f} points, "
        f"{100 * share:.1f}% of validation rows exact, fit {fit_s:.0f} s")
    log(f"  speed: {speedups(search, exact, X_val)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sections", nargs="+", choices=["defaults", "standardized", "rbf_target"],
        default=["defaults", "standardized"],
    )
    args = parser.parse_args()
    log(f"CPU: {cpu_name()}")
    # BLAS on one thread throughout: the inner models' fits are then the
    # same whatever else runs, and the timings compare one core with one.
    with threadpool_limits(limits=1, user_api="blas"):
        run(args)


def run(args):
    if "defaults" in args.sections:
        X_train, X_val, y_train, y_val = fashion_split()
        exact = head().fit(X_train, y_train)
        exact_acc = exact.score(X_val, y_val)
        log(f"exact head: validation accuracy {100 * exact_acc:.2f}%")
        defaults(exact, X_train, X_val, y_train, y_val, exact_acc)
    if "standardized" in args.sections:
        standardized()
    if "rbf_target" in args.sections:
        rbf_target()


if __name__ == "__main__":
    main()
