"""Accuracy of the wrappers on Fashion-MNIST, a large real evaluation set.

Usage::

    tools/fetch_fashion_mnist.sh         # once: unpacks the training files
    python benchmarks/fashion_mnist.py [--quick]

Only the 60,000 training images are read
(:func:`sklearn_amm.datasets.load_fashion_mnist_train`); they are split into
50,000 training and 10,000 validation rows (stratified, ``random_state=0``),
and every accuracy below is on the validation rows. Pixels are scaled to
[0, 1]. One thread (threadpoolctl). Two tasks:

(a) ``LogisticRegression`` (multinomial, ``C=1``, lbfgs, ``max_iter=300``)
    on the 784 pixels, wrapped in ``MaddnessClassifier`` through
    ``FrozenEstimator``: only MADDNESS is fitted, on its 10 scores.
    ``C=1`` is scikit-learn's default; with 50,000 rows for 7,850
    coefficients the penalty matters little. lbfgs may stop at 300
    iterations before ``tol``; the script prints the iterations used.
(b) ``RBFSampler(n_components=1000)`` + the same ``LogisticRegression``
    fitted on the exact random features, against ``MaddnessRBFSampler``
    (same ``gamma`` and ``random_state``, so the same random projection)
    under two heads. The frozen head is the one fitted on the exact
    features, kept as it is: its loss is the cost of approximating the
    784 x 1000 projection alone, as for a model trained once on exact
    features and served with the approximate sampler swapped in. The
    refitted head is a new ``LogisticRegression`` fitted on the
    approximate features of all 50,000 training rows, whatever number of
    rows MADDNESS learned from: what a user gets from
    ``make_pipeline(MaddnessRBFSampler(...), LogisticRegression(...))``
    fitted on the training rows (exactly that at 50,000 rows), a head
    fitted to the features it will be served. ``gamma`` is the median
    heuristic, ``1 / median ||x - x'||^2`` over 2000 training rows.

For C in {8, 16, 32} and MADDNESS learned from 5,000, 20,000 or all 50,000
training rows (the exact models always use all 50,000), the tables give the
exact and approximate accuracy and the drop in points; task (a) is run
three times, with the defaults (``random_state=0`` for the fine-tuning),
with ``table_objective="product"`` and with ``"log_loss"`` (tables fitted
to the labels on the codes), task (b) with the frozen and the
refitted head. ``--quick`` runs C=16 on 5,000 rows only. ``--options``
instead fits task (a) at C=16 on all 50,000 rows once per entry of
``OPTIONS``: the library's defaults, then each learning option changed
alone. ``--deep-trees`` prints an estimate, from a
NumPy sketch rather than the library, of trees of 5 and 6 levels (32 and 64
leaves), which the kernels do not support.
"""

import argparse
import time

import numpy as np
from scipy import sparse
from sklearn.frozen import FrozenEstimator
from sklearn.kernel_approximation import RBFSampler
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from sklearn_amm import MaddnessClassifier, MaddnessRBFSampler
from sklearn_amm.datasets import load_fashion_mnist_train

N_CODEBOOKS = [8, 16, 32]
TRAINING_ROWS = [5000, 20000, 50000]
# The defaults, then each MaddnessClassifier option changed alone.
OPTIONS = {
    "defaults": {},
    "float tables": dict(quantize_luts=False),
    "ridge_alpha=0.1": dict(ridge_alpha=0.1),
    "ridge_alpha=10": dict(ridge_alpha=10.0),
    "ridge_alpha=100": dict(ridge_alpha=100.0),
    "no ridge prototypes": dict(optimize_prototypes=False),
    "0 refinement passes": dict(n_refinement_passes=0),
    "3 refinement passes": dict(n_refinement_passes=3),
    "1 candidate column": dict(n_candidate_dims=1),
    "16 candidate columns": dict(n_candidate_dims=16),
    "reconstruction splits": dict(split_objective="reconstruction"),
    "sum aggregation": dict(aggregation="sum"),
    "log-loss tables": dict(table_objective="log_loss"),
    "product tables": dict(table_objective="product"),
}
N_VALIDATION = 10000
N_COMPONENTS = 1000


def log(message, start=time.perf_counter()):
    print(f"[{time.perf_counter() - start:7.1f} s] {message}", flush=True)


def fashion_split():
    """50,000 training and 10,000 validation rows, pixels in [0, 1]."""
    X, y = load_fashion_mnist_train(dtype=np.float32)
    X /= 255
    return train_test_split(X, y, test_size=N_VALIDATION, stratify=y, random_state=0)


def logistic_head():
    # max_iter=300 bounds the single-threaded fit to a minute or two; the
    # iterations used are printed, so a model stopped early is visible.
    return LogisticRegression(C=1.0, max_iter=300)


def median_gamma(X, n_rows=2000):
    """The median heuristic ``1 / median ||x - x'||^2`` over pairs of rows.

    The pairs of ``n_rows`` random rows, or of all rows if ``X`` has fewer.
    """
    rows = X[np.random.default_rng(0).permutation(len(X))[:n_rows]].astype(np.float64)
    squared = (rows**2).sum(axis=1)
    distances = squared[:, None] + squared[None, :] - 2 * rows @ rows.T
    return float(1 / np.median(distances[np.triu_indices(len(rows), k=1)]))


def rows_order(n_rows):
    return np.random.default_rng(1).permutation(n_rows)


def fitted_logistic(X_train, X_val, y_train, y_val):
    exact = logistic_head().fit(X_train, y_train)
    log(f"logistic regression fitted ({exact.n_iter_[0]} iterations), "
        f"validation accuracy {exact.score(X_val, y_val):.4f}")
    return exact


def logistic_task(exact, X_train, X_val, y_train, y_val, grid, options):
    exact_accuracy = exact.score(X_val, y_val)
    order = rows_order(len(X_train))
    results = {}
    for C, n_rows in grid:
        rows = order[:n_rows]
        clf = MaddnessClassifier(FrozenEstimator(exact), n_codebooks=C, **options)
        clf.fit(X_train[rows], y_train[rows])
        results[C, n_rows] = (exact_accuracy, clf.score(X_val, y_val))
        log(f"  C={C} rows={n_rows}: {results[C, n_rows][1]:.4f}")
    return results


def rbf_task(X_train, X_val, y_train, y_val, grid, options):
    gamma = median_gamma(X_train)
    sampler = RBFSampler(gamma=gamma, n_components=N_COMPONENTS, random_state=0)
    features = sampler.fit_transform(X_train)
    head = logistic_head().fit(features, y_train)
    exact_accuracy = head.score(sampler.transform(X_val), y_val)
    log(f"RBF (gamma={gamma:.4f}) + logistic regression fitted "
        f"({head.n_iter_[0]} iterations), "
        f"validation accuracy {exact_accuracy:.4f}")
    order = rows_order(len(X_train))
    frozen, refitted = {}, {}
    for C, n_rows in grid:
        # In their original order, so that on all the training rows the
        # refitted head is exactly the one the pipeline fits.
        rows = np.sort(order[:n_rows])
        approx = MaddnessRBFSampler(
            gamma=gamma, n_components=N_COMPONENTS, random_state=0, n_codebooks=C,
            **options,
        ).fit(X_train[rows])
        features = approx.transform(X_val)
        frozen[C, n_rows] = (exact_accuracy, head.score(features, y_val))
        # The head a pipeline fits: on the approximate features of every
        # training row, whatever number of rows MADDNESS learned from.
        refit = logistic_head().fit(approx.transform(X_train), y_train)
        refitted[C, n_rows] = (exact_accuracy, refit.score(features, y_val))
        log(f"  C={C} rows={n_rows}: frozen head {frozen[C, n_rows][1]:.4f}, "
            f"refitted head {refitted[C, n_rows][1]:.4f} "
            f"({refit.n_iter_[0]} iterations)")
    return frozen, refitted


def print_table(title, results, names=("MADDNESS",)):
    """One row per (C, rows); per entry of ``results``, accuracy and drop."""
    if isinstance(results, dict):
        results = [results]
    print(f"\n{title}: validation accuracy in % (10,000 rows), drop in points")
    print(f"{'C':>3} {'rows':>6} {'exact':>7} "
          + " ".join(f"{name:>16} {'drop':>6}" for name in names))
    for key in results[0]:
        C, n_rows = key
        exact = results[0][key][0]
        cells = " ".join(
            f"{100 * result[key][1]:>16.2f} {100 * (exact - result[key][1]):>6.2f}"
            for result in results
        )
        print(f"{C:>3} {n_rows:>6} {100 * exact:>7.2f} {cells}")


# --- Estimate only, not the library: trees deeper than the kernels' 4 levels.


def _best_level_split(column, targets, nodes, n_nodes):
    """Per-node thresholds on one column minimising the targets' within-child SSE."""
    thresholds = np.full(n_nodes, np.inf)
    loss = 0.0
    for node in range(n_nodes):
        rows = np.flatnonzero(nodes == node)
        if len(rows) < 2:
            continue
        order = rows[np.argsort(column[rows], kind="stable")]
        values, node_targets = column[order], targets[order]
        sums = np.cumsum(node_targets, axis=0)
        squares = np.cumsum((node_targets**2).sum(axis=1))
        counts = np.arange(1, len(order) + 1)
        total, total_square = sums[-1], squares[-1]
        # SSE of the left part (first k rows) plus the right part, for k = 1..n-1.
        left = squares[:-1] - (sums[:-1] ** 2).sum(axis=1) / counts[:-1]
        right_sums = total - sums[:-1]
        right = (total_square - squares[:-1]
                 - (right_sums**2).sum(axis=1) / (len(order) - counts[:-1]))
        sse = np.where(values[1:] > values[:-1], left + right, np.inf)
        k = int(np.argmin(sse))
        if np.isfinite(sse[k]):
            thresholds[node] = (values[k] + values[k + 1]) / 2
            loss += sse[k]
        else:
            loss += squares[-1] - (total**2).sum() / len(order)
    return thresholds, loss


def _deep_tree(X_block, targets, column_weights, n_levels, n_candidates=4):
    # Candidates as in the library: the columns whose within-node SSE,
    # weighted by ||W[j]||**2, is largest.
    nodes = np.zeros(len(X_block), dtype=np.intp)
    tree = []
    for level in range(n_levels):
        n_nodes = 2**level
        counts = np.bincount(nodes, minlength=n_nodes)
        means = np.zeros((n_nodes, X_block.shape[1]))
        np.add.at(means, nodes, X_block)
        means /= np.maximum(counts, 1)[:, None]
        column_sse = ((X_block - means[nodes]) ** 2).sum(axis=0) * column_weights
        best = None
        for dim in np.argsort(-column_sse, kind="stable")[:n_candidates]:
            thresholds, loss = _best_level_split(X_block[:, dim], targets, nodes, n_nodes)
            if best is None or loss < best[2]:
                best = (dim, thresholds, loss)
        dim, thresholds = best[:2]
        tree.append((dim, thresholds))
        nodes = 2 * nodes + (X_block[:, dim] > thresholds[nodes])
    return tree, nodes


def _encode_deep(X_block, tree):
    nodes = np.zeros(len(X_block), dtype=np.intp)
    for dim, thresholds in tree:
        nodes = 2 * nodes + (X_block[:, dim] > thresholds[nodes])
    return nodes


def deep_tree_estimate(exact, X_train, y_train, X_val, y_val, n_codebooks, n_levels):
    """Accuracy under ``2**n_levels``-leaf trees, with two kinds of float tables.

    A plain NumPy sketch of MADDNESS with deeper trees: the columns are cut
    into ``n_codebooks`` contiguous blocks; each tree splits on the block's
    contribution to the model's scores (the product objective), one column
    per level and a threshold per node. The first accuracy uses as each
    leaf's table entry the mean contribution of its training rows (no ridge
    refit, no 8-bit quantisation); the second fits the tables to the labels
    on the one-hot leaves (scikit-learn's LogisticRegression, C=1), like
    ``table_objective="log_loss"`` without its prior. Not the library: an
    estimate of what deeper trees could give, compared with the same sketch
    at 4 levels.
    """
    W = exact.coef_.T
    scores = np.tile(exact.intercept_, (len(X_val), 1))
    n_leaves = 2**n_levels
    train_leaves, val_leaves = [], []
    for block in np.array_split(np.arange(X_train.shape[1]), n_codebooks):
        X_block = X_train[:, block].astype(np.float64)
        contribution = X_block @ W[block]
        tree, leaves = _deep_tree(
            X_block, contribution, (W[block] ** 2).sum(axis=1), n_levels
        )
        counts = np.bincount(leaves, minlength=n_leaves)
        table = np.zeros((n_leaves, W.shape[1]))
        np.add.at(table, leaves, contribution)
        # An empty leaf (no training row) gets the block's mean contribution.
        table = np.where(counts[:, None] > 0, table / np.maximum(counts, 1)[:, None],
                         contribution.mean(axis=0))
        codes = _encode_deep(X_val[:, block].astype(np.float64), tree)
        scores += table[codes]
        train_leaves.append(leaves)
        val_leaves.append(codes)
    mean_accuracy = float(np.mean(exact.classes_[scores.argmax(axis=1)] == y_val))

    def one_hot(leaves):
        leaves = np.array(leaves).T
        n_rows, n_blocks = leaves.shape
        columns = (leaves + n_leaves * np.arange(n_blocks)).ravel()
        rows = np.repeat(np.arange(n_rows), n_blocks)
        return sparse.csr_matrix((np.ones(len(columns)), (rows, columns)),
                                 shape=(n_rows, n_leaves * n_blocks))

    tables = LogisticRegression(C=1.0, max_iter=1000).fit(one_hot(train_leaves), y_train)
    return mean_accuracy, float(tables.score(one_hot(val_leaves), y_val))


def deep_table(X_train, X_val, y_train, y_val):
    exact = fitted_logistic(X_train, X_val, y_train, y_val)
    exact_accuracy = exact.score(X_val, y_val)
    print(f"\nESTIMATE (NumPy sketch, float tables, not the library): "
          f"(a) at {len(X_train)} rows")
    print(f"{'C':>3} {'levels':>6} {'leaves':>6} {'bytes':>5} {'exact':>7} "
          f"{'leaf means':>10} {'drop':>6} {'log-loss':>8} {'drop':>6}")
    for C in (16, 32):
        for n_levels in (4, 5, 6):
            means, fitted = deep_tree_estimate(
                exact, X_train, y_train, X_val, y_val, C, n_levels
            )
            log(f"  C={C} levels={n_levels}: {means:.4f} {fitted:.4f}")
            print(f"{C:>3} {n_levels:>6} {2**n_levels:>6} {C * n_levels / 8:>5g} "
                  f"{100 * exact_accuracy:>7.2f} {100 * means:>10.2f} "
                  f"{100 * (exact_accuracy - means):>6.2f} {100 * fitted:>8.2f} "
                  f"{100 * (exact_accuracy - fitted):>6.2f}", flush=True)
    print("bytes: code bits per row / 8 (the kernels store 4-bit codes only)")


def options_table(X_train, X_val, y_train, y_val):
    exact = fitted_logistic(X_train, X_val, y_train, y_val)
    grid = [(16, len(X_train))]
    results = {}
    for name, options in OPTIONS.items():
        log(name)
        results[name] = logistic_task(exact, X_train, X_val, y_train, y_val, grid, options)
    print(f"\n(a) LogisticRegression, C=16, {len(X_train)} rows: one option changed")
    print(f"{'option':<24} {'exact':>7} {'MADDNESS':>9} {'drop':>6}")
    for name, result in results.items():
        exact, approx = result[16, len(X_train)]
        print(f"{name:<24} {100 * exact:>7.2f} {100 * approx:>9.2f} "
              f"{100 * (exact - approx):>6.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="C=16, 5,000 rows only")
    parser.add_argument("--options", action="store_true",
                        help="task (a) at C=16 on 50,000 rows, one fit per option")
    parser.add_argument("--deep-trees", action="store_true",
                        help="ESTIMATE of 5- and 6-level trees (NumPy sketch, "
                        "about 4 minutes)")
    parser.add_argument("--task", choices=["logistic", "rbf", "both"], default="both")
    args = parser.parse_args()
    grid = [(16, 5000)] if args.quick else [
        (C, n_rows) for C in N_CODEBOOKS for n_rows in TRAINING_ROWS
    ]
    with threadpool_limits(1):
        X_train, X_val, y_train, y_val = fashion_split()
        log(f"{len(X_train)} training and {len(X_val)} validation rows")
        if args.deep_trees:
            deep_table(X_train, X_val, y_train, y_val)
            return
        if args.options:
            options_table(X_train, X_val, y_train, y_val)
            return
        if args.task in ("logistic", "both"):
            exact = fitted_logistic(X_train, X_val, y_train, y_val)
            results = [
                logistic_task(exact, X_train, X_val, y_train, y_val, grid, options)
                for options in (
                    {"random_state": 0},
                    OPTIONS["product tables"],
                    OPTIONS["log-loss tables"],
                )
            ]
            print_table("(a) LogisticRegression on pixels", results,
                        names=("defaults", "product tables", "log-loss tables"))
        if args.task in ("rbf", "both"):
            results = rbf_task(X_train, X_val, y_train, y_val, grid, {})
            print_table(f"(b) RBFSampler({N_COMPONENTS}) + LogisticRegression", results,
                        names=("frozen head", "refitted head"))


if __name__ == "__main__":
    main()
