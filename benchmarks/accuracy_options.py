"""Accuracy of each learning and aggregation option on five tasks.

Usage::

    python benchmarks/accuracy_options.py [--quick]

For C in {8, 16, 32}, prints one row per task and one column per option:
the paper's configuration, each option changed alone, the library's
defaults, and the defaults with MaddnessClassifier's
``table_objective="log_loss"`` (``logloss``; softmax-head tasks only, "nan"
elsewhere). Classification tasks report mean accuracy over 5 stratified folds
(the exact model's accuracy is printed beside them); regression-like tasks
report NMSE = mean((Y - Y_hat)**2) / var(Y) on held-out rows (lower is
better).
"""

import argparse
import time

import numpy as np
from scipy.ndimage import zoom
from sklearn.datasets import load_digits
from sklearn.frozen import FrozenEstimator
from sklearn.kernel_approximation import Nystroem
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

from sklearn_amm import MaddnessClassifier, MaddnessTransformer
from sklearn_amm.datasets import load_image_filter_task, make_low_rank_product

PAPER = dict(
    aggregation="average",
    lut_scaling="shared",
    split_objective="reconstruction",
    n_candidate_dims=4,
    n_refinement_passes=0,
)
# Each option changed alone from the paper's configuration, then
# combinations. "defaults" is whatever the library's defaults are.
OPTIONS = {
    "paper": {},
    "sum": dict(aggregation="sum"),
    "per_out": dict(lut_scaling="per_output"),
    "product": dict(split_objective="product"),
    "dims8": dict(n_candidate_dims=8),
    "refine1": dict(n_refinement_passes=1),
    "po+prod": dict(lut_scaling="per_output", split_objective="product"),
    "po+pr+r1": dict(
        lut_scaling="per_output", split_objective="product", n_refinement_passes=1
    ),
    "all": dict(
        aggregation="sum",
        lut_scaling="per_output",
        split_objective="product",
        n_refinement_passes=1,
    ),
    "defaults": None,
    # The library's defaults with MaddnessClassifier's tables fitted to the
    # labels: only for the tasks whose model is the wrapped softmax head.
    "logloss": "log_loss",
    # MaddnessClassifier exactly as a user gets it, its table objective at
    # its default ("auto": fine-tuned when every class has training rows);
    # random_state fixes the fine-tuning's minibatches.
    "clf": "classifier_defaults",
}


def amm_params(option):
    if OPTIONS[option] is None:
        return {}
    if OPTIONS[option] == "log_loss":
        return {"table_objective": "log_loss"}
    if OPTIONS[option] == "classifier_defaults":
        return {"table_objective": "auto", "random_state": 0}
    return {**PAPER, **OPTIONS[option]}


def _product_task(task):
    """A task whose tables only reproduce a product: no log-loss tables (NaN)."""

    def run(C, params):
        if "table_objective" in params:
            return np.nan
        return task(C, params)

    run.__doc__ = task.__doc__
    return run


def nmse(Y, Y_hat):
    return float(np.mean((Y - Y_hat) ** 2) / np.var(Y))


def synthetic_task(C, params):
    X_train, X_test, B = make_low_rank_product()
    amm = MaddnessTransformer(B, n_codebooks=C, **params).fit(X_train)
    return nmse(X_test @ B, amm.transform(X_test))


def image_filter_task(C, params, n_train=20000):
    X_train, X_test, B = load_image_filter_task("dog")
    rows = np.random.default_rng(0).choice(len(X_train), n_train, replace=False)
    amm = MaddnessTransformer(B, n_codebooks=C, **params).fit(X_train[rows])
    return nmse(X_test @ B, amm.transform(X_test))


def _folds(X, y):
    return StratifiedKFold(5, shuffle=True, random_state=0).split(X, y)


def softmax_head_accuracy(X, y, C, params):
    """Mean accuracy of a multinomial logistic regression whose X @ coef_.T is approximated."""
    exact, approx = [], []
    for train, test in _folds(X, y):
        model = LogisticRegression(max_iter=2000).fit(X[train], y[train])
        exact.append(model.score(X[test], y[test]))
        if "table_objective" in params:
            wrapped = MaddnessClassifier(FrozenEstimator(model), n_codebooks=C, **params)
            approx.append(wrapped.fit(X[train], y[train]).score(X[test], y[test]))
            continue
        amm = MaddnessTransformer(model.coef_.T, n_codebooks=C, **params).fit(X[train])
        scores = amm.transform(X[test]) + model.intercept_
        approx.append(np.mean(model.classes_[np.argmax(scores, axis=1)] == y[test]))
    return float(np.mean(approx)), float(np.mean(exact))


def digits_task(C, params):
    X, y = load_digits(return_X_y=True)
    return softmax_head_accuracy(X, y, C, params)


def digits784_task(C, params):
    """Digits upsampled to 28 x 28 = 784 pixels, the shape of an MNIST softmax head."""
    X, y = load_digits(return_X_y=True)
    images = zoom(X.reshape(-1, 8, 8), (1, 3.5, 3.5), order=1)
    return softmax_head_accuracy(images.reshape(len(X), -1), y, C, params)


def rbf_kernel_task(C, params, gamma=0.02, n_components=300):
    """Nystroem RBF features + logistic regression; the kernel's dot products are approximated."""
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    exact, approx = [], []
    for train, test in _folds(X, y):
        features = Nystroem(gamma=gamma, n_components=n_components, random_state=0)
        features.fit(X[train])
        model = LogisticRegression(max_iter=2000).fit(features.transform(X[train]), y[train])
        exact.append(model.score(features.transform(X[test]), y[test]))
        centres = features.components_
        amm = MaddnessTransformer(centres.T, n_codebooks=C, **params).fit(X[train])
        dots = amm.transform(X[test])
        sq_dist = (X[test] ** 2).sum(1)[:, None] + (centres**2).sum(1)[None] - 2 * dots
        kernel = np.exp(-gamma * np.maximum(sq_dist, 0))
        scores = model.decision_function(kernel @ features.normalization_.T)
        approx.append(np.mean(model.classes_[np.argmax(scores, axis=1)] == y[test]))
    return float(np.mean(approx)), float(np.mean(exact))


TASKS = {
    "synthetic NMSE": _product_task(synthetic_task),
    "image DoG NMSE": _product_task(image_filter_task),
    "digits logreg acc": digits_task,
    "digits784 softmax acc": digits784_task,
    "digits RBF acc": _product_task(rbf_kernel_task),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only C = 16")
    parser.add_argument(
        "--options", nargs="+", choices=list(OPTIONS), help="only these columns"
    )
    parser.add_argument("--tasks", nargs="+", choices=list(TASKS), help="only these rows")
    args = parser.parse_args()
    options = args.options or list(OPTIONS)
    tasks = {name: TASKS[name] for name in args.tasks or TASKS}
    n_codebooks = [16] if args.quick else [8, 16, 32]
    print(f"defaults: {MaddnessTransformer().get_params()}")
    header = f"{'task':<22} {'C':>3} {'exact':>7} " + " ".join(f"{o:>9}" for o in options)
    print(header)
    start = time.perf_counter()
    for task_name, task in tasks.items():
        for C in n_codebooks:
            exact = ""
            cells = []
            for option in options:
                result = task(C, amm_params(option))
                if isinstance(result, tuple):
                    result, exact = result
                cells.append(f"{result:>9.4f}")
            exact = f"{exact:>7.4f}" if exact != "" else f"{'':>7}"
            print(f"{task_name:<22} {C:>3} {exact} " + " ".join(cells), flush=True)
    print(f"total time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
