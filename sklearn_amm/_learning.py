"""Learn all codebooks: hash trees, then prototypes, optionally refined.

The order follows the paper: each codebook's tree is learned on its own
block of columns, prototypes start as leaf means and are refit jointly by
ridge. Two options go beyond the paper (both measured in
``benchmarks/accuracy_options.py``):

* ``split_objective="product"``: when the known matrix ``W`` is given, trees
  minimise the SSE of the block's contribution to the product,
  ``X[:, block] @ W[block]``, rather than of ``X[:, block]``.
* ``n_refinement_passes``: backfitting. Each pass relearns every tree, in
  turn, on what the other codebooks leave of the product (their current
  table entries subtracted from ``X @ W``), then refits the prototypes.

Memory: ``X`` is read in its own dtype. Each tree works on a float64 copy
of its own block of columns, and every pass over all the rows (products,
residuals) goes a chunk of rows at a time, so that no float64 array as
large as ``X`` is ever made.

Threads: the trees of the first pass are independent, and are learned in
``n_threads`` threads; backfitting is sequential by nature, so its trees
score their candidate columns in parallel instead. The prototypes' sums are
split by columns. Every parallel part computes the same numbers, in the
same order, as the sequential code, so the model does not depend on the
number of threads. The passes of backfitting over all the rows, mostly
matrix products, run in one thread: BLAS threads those products itself.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

import numpy as np
from sklearn.utils.parallel import _get_threadpool_controller

from ._blocks import codebook_bounds
from ._hash_tree import MAX_NODES, N_LEVELS, learn_hash_tree, product_targets
from ._prototypes import bucket_means, leaf_statistics, one_hot_codes, ridge_refit

# Targets of the split search during backfitting: enough for the residual of
# a typical block of columns, few enough that a pass costs about one fit.
MAX_BACKFIT_TARGETS = 32

# Below this many rows the work of a tree, a chunk or a column block is so
# short that handing it to a thread (waking it may take a scheduler slice on
# a busy machine) costs more than it saves.
_MIN_ROWS_FOR_THREADS = 8192

# Bytes of float64 values per chunk of rows when a pass over all the rows
# (products, residuals) needs them: about a megabyte however many rows, per
# thread, which keeps the fit's memory well below that of X.
_CHUNK_BYTES = 1 << 20


def learn_codebooks(
    X,
    weights,
    n_codebooks,
    *,
    n_candidate_dims=4,
    split_objective="reconstruction",
    optimize_prototypes=True,
    ridge_alpha=1.0,
    n_refinement_passes=0,
    sample_weight=None,
    n_threads=1,
    verbose=0,
):
    """Learn the trees and prototypes of every codebook.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), dtype=float32 or float64
        Training rows.
    weights : ndarray of shape (n_features, n_outputs) or None
        The known matrix; None is the identity.
    n_codebooks : int
        Number of codebooks, at most ``n_features``.
    n_candidate_dims, split_objective, optimize_prototypes, ridge_alpha, \
n_refinement_passes
        See :class:`~sklearn_amm.MaddnessTransformer`.
    sample_weight : ndarray of shape (n_samples,), default=None
        Positive, finite weight of each row in every sum the learning
        makes; None weighs every row 1.
    n_threads : int, default=1
        Threads to learn with (one for fewer than ``_MIN_ROWS_FOR_THREADS``
        rows). The result does not depend on it.
    verbose : int, default=0
        1 prints a line per step, 2 also one per codebook.

    Returns
    -------
    bounds : ndarray of shape (n_codebooks + 1,)
    split_dims : ndarray of shape (n_codebooks, 4), dtype=np.intp
        Absolute input columns.
    thresholds : ndarray of shape (n_codebooks, 4, 8)
    prototypes : ndarray of shape (n_codebooks, 16, n_features)
    """
    bounds = codebook_bounds(X.shape[1], n_codebooks)
    row_weights, alpha = _scaled_weights(sample_weight, ridge_alpha)
    if X.shape[0] < _MIN_ROWS_FOR_THREADS:
        n_threads = 1
    executor = ThreadPoolExecutor(n_threads) if n_threads > 1 else None
    try:
        learner = _Learner(X, bounds, n_candidate_dims, row_weights, executor, verbose)
        product = split_objective == "product" and weights is not None
        learner.first_pass(weights if product else None)
        prototypes = learner.prototypes(optimize_prototypes, alpha)
        for refinement in range(n_refinement_passes):
            learner.backfit(weights, prototypes, refinement, n_refinement_passes)
            prototypes = learner.prototypes(optimize_prototypes, alpha)
    finally:
        if executor is not None:
            executor.shutdown()
    return bounds, learner.split_dims, learner.thresholds, prototypes


def _scaled_weights(sample_weight, alpha):
    """Row weights with largest 1, and the ridge penalty scaled alike.

    Trees and means do not change when all weights are multiplied by a
    constant; the ridge solution does not either when ``alpha`` is too. With
    the largest weight 1, the sums of the learning are bounded as without
    weights, however large the weights given.

    Weights below the float64 epsilon (2**-52) of the largest are raised to
    it. Next to the largest row such a row counts for nothing either way, but
    a split that set apart only such rows would be scored on the rounding
    error of the sums of the others, divided by their tiny weight.

    Weights all equal give None: the unweighted learning, the same up to
    rounding.
    """
    if sample_weight is None:
        return None, alpha
    sample_weight = np.asarray(sample_weight, dtype=np.float64)
    scale = sample_weight.max()
    row_weights = np.maximum(sample_weight / scale, np.finfo(np.float64).eps)
    if np.all(row_weights == 1.0):
        row_weights = None
    return row_weights, alpha / scale


class _Learner:
    """The state the learning steps share: the trees so far, the codes, the threads."""

    def __init__(self, X, bounds, n_candidate_dims, row_weights, executor, verbose):
        self.X = X
        self.bounds = bounds
        self.n_candidate_dims = n_candidate_dims
        self.row_weights = row_weights
        self.executor = executor
        self.verbose = verbose
        n_codebooks = len(bounds) - 1
        self.split_dims = np.zeros((n_codebooks, N_LEVELS), dtype=np.intp)
        self.thresholds = np.zeros((n_codebooks, N_LEVELS, MAX_NODES))
        self.codes = np.empty((X.shape[0], n_codebooks), dtype=np.uint8)
        # Statistics of the last prototype fit: their column sums are the
        # weighted sums of X, which backfitting needs.
        self.statistics = None

    @property
    def n_codebooks(self):
        return len(self.bounds) - 1

    def log(self, level, message):
        if self.verbose >= level:
            print(f"[MaddnessTransformer] {message}")

    def block(self, c):
        """Codebook ``c``'s columns, as a contiguous float64 copy."""
        start, stop = self.bounds[c], self.bounds[c + 1]
        return np.ascontiguousarray(self.X[:, start:stop], dtype=np.float64)

    def learn_tree(self, c, block, targets=None, column_weights=None, executor=None):
        dims, self.thresholds[c], self.codes[:, c] = learn_hash_tree(
            block,
            self.n_candidate_dims,
            targets,
            column_weights,
            self.row_weights,
            executor,
        )
        self.split_dims[c] = self.bounds[c] + dims

    def first_pass(self, weights):
        """Learn every tree on its block (its contribution to the product if
        ``weights`` is given), the codebooks in parallel."""
        started = time.perf_counter()

        def learn(c):
            tree_started = time.perf_counter()
            block = self.block(c)
            if weights is None:
                self.learn_tree(c, block)
            else:
                start, stop = self.bounds[c], self.bounds[c + 1]
                self.learn_tree(c, block, *product_targets(block, weights[start:stop]))
            return time.perf_counter() - tree_started

        mapper = map if self.executor is None else self.executor.map
        with self.threaded():
            for c, elapsed in enumerate(mapper(learn, range(self.n_codebooks))):
                self.log(
                    2,
                    f"codebook {c + 1}/{self.n_codebooks} learned ({elapsed:.2f} s)",
                )
        self.log(
            1,
            f"trees of {self.n_codebooks} codebooks learned "
            f"({time.perf_counter() - started:.2f} s)",
        )

    def prototypes(self, optimize, alpha):
        """Bucket means of the current trees, refit by ridge if ``optimize``."""
        started = time.perf_counter()
        with self.threaded():
            self.statistics = leaf_statistics(
                self.X, self.codes, self.row_weights, self.executor
            )
        prototypes = bucket_means(
            self.X, self.codes, self.bounds, statistics=self.statistics
        )
        if optimize:
            prototypes = ridge_refit(
                self.X, self.codes, prototypes, alpha, statistics=self.statistics
            )
        what = "refit by ridge" if optimize else "set to the leaf means"
        self.log(1, f"prototypes {what} ({time.perf_counter() - started:.2f} s)")
        return prototypes

    def backfit(self, weights, prototypes, refinement, n_refinements):
        """One backfitting pass: relearn each tree on the others' residual product.

        After codebook ``c``'s tree is relearned, its contribution becomes the
        mean residual of each new leaf (the best constant per leaf), so the next
        codebook sees an up-to-date residual. The leaf values only steer the
        trees (the prototypes are refit afterwards), so with many outputs the
        whole pass runs in the residual's leading principal coordinates.
        """
        started = time.perf_counter()
        # Per codebook, the value each leaf adds to the product: (C, 16, n_outputs).
        leaf_values = prototypes.copy() if weights is None else prototypes @ weights
        basis = None
        if leaf_values.shape[2] > MAX_BACKFIT_TARGETS:
            basis = _leading_directions(self.residual_scatter(weights, leaf_values))
        residual = self.residual(weights, leaf_values, basis)
        if basis is not None:
            # Projection is linear: adding and removing leaf values commutes with it.
            leaf_values = leaf_values @ basis
        with self.threaded():
            self.relearn_trees(
                weights, residual, leaf_values, refinement, n_refinements
            )
        self.log(
            1,
            f"refinement pass {refinement + 1}/{n_refinements}: trees relearned "
            f"({time.perf_counter() - started:.2f} s)",
        )

    def relearn_trees(self, weights, residual, leaf_values, refinement, n_refinements):
        """The trees of a backfitting pass, one codebook after the other."""
        for c in range(self.n_codebooks):
            tree_started = time.perf_counter()
            residual += leaf_values[c][self.codes[:, c]]
            start, stop = self.bounds[c], self.bounds[c + 1]
            if weights is None:
                column_weights = np.ones(stop - start)
            else:
                column_weights = np.einsum(
                    "ij,ij->i", weights[start:stop], weights[start:stop]
                )
            self.learn_tree(c, self.block(c), residual, column_weights, self.executor)
            leaf_values[c] = _leaf_means(residual, self.codes[:, c], self.row_weights)
            residual -= leaf_values[c][self.codes[:, c]]
            self.log(
                2,
                f"refinement pass {refinement + 1}/{n_refinements}: codebook "
                f"{c + 1}/{self.n_codebooks} relearned "
                f"({time.perf_counter() - tree_started:.2f} s)",
            )

    def threaded(self):
        """Context of the parts that run in the threads: BLAS on one thread.

        Their own BLAS calls are small (products and eigendecompositions of
        a block's columns), and BLAS's threads would only compete with the
        learning's: OpenBLAS's keep spinning for a while after each call.
        The limit applies without threads too, so that BLAS, whose
        eigendecompositions can round differently on another number of
        threads, computes the same numbers either way. Only the main thread
        sets it: threadpoolctl's limits are process-wide, and those of
        fits running at once in other threads would undo one another.
        """
        if threading.current_thread() is not threading.main_thread():
            return nullcontext()
        return _get_threadpool_controller().limit(limits=1, user_api="blas")

    def chunks(self, n_values_per_row):
        """Slices of consecutive rows, about ``_CHUNK_BYTES`` of float64 values each.

        They depend on the data's shape only, never on the number of threads.
        """
        n_samples = self.X.shape[0]
        size = max(1, _CHUNK_BYTES // (8 * max(n_values_per_row, 1)))
        return [slice(start, start + size) for start in range(0, n_samples, size)]

    def product_rows(self, rows, weights, leaf_values):
        """``X[rows] @ weights`` minus every codebook's leaf values, in float64.

        The leaf values are subtracted codebook after codebook, the order the
        backfitting loop adds them back and removes them in.
        """
        X_rows = self.X[rows]
        product = X_rows.astype(np.float64) if weights is None else X_rows @ weights
        for c in range(self.n_codebooks):
            product -= leaf_values[c][self.codes[rows, c]]
        return product

    def residual(self, weights, leaf_values, basis=None):
        """What the codebooks leave of ``X @ weights``, times ``basis`` if given."""
        n_outputs = leaf_values.shape[2]
        width = n_outputs if basis is None else basis.shape[1]
        residual = np.empty((self.X.shape[0], width))

        for rows in self.chunks(max(self.X.shape[1], n_outputs)):
            part = self.product_rows(rows, weights, leaf_values)
            residual[rows] = part if basis is None else part @ basis
        return residual

    def residual_scatter(self, weights, leaf_values):
        """Weighted scatter matrix of the residual about its mean, by chunks of rows.

        The mean needs no pass over the rows: the weighted column sums of
        ``X`` are those of the leaf sums of any one codebook, in the
        statistics of the prototype fit these leaf values come from, and
        each codebook's leaves subtract their values in proportion to their
        weight.
        """
        gram, sums = self.statistics
        leaf_weights = np.diag(gram).reshape(self.n_codebooks, -1)
        total_weight = leaf_weights[0].sum()
        mean = sums[: leaf_weights.shape[1]].sum(axis=0) / total_weight
        if weights is not None:
            mean = mean @ weights
        mean -= np.einsum("ck,cko->o", leaf_weights / total_weight, leaf_values)

        n_outputs = leaf_values.shape[2]
        scatter = np.zeros((n_outputs, n_outputs))
        for rows in self.chunks(max(self.X.shape[1], n_outputs)):
            part = self.product_rows(rows, weights, leaf_values)
            part -= mean
            if self.row_weights is None:
                scatter += part.T @ part
            else:
                scatter += part.T @ (self.row_weights[rows, None] * part)
        return scatter


def _principal_basis(residual, max_targets=MAX_BACKFIT_TARGETS):
    """Leading principal directions of the residual, or None if it is narrow.

    The split search costs time in proportion to the number of targets, and
    a residual has one per output (512 for the identity on 512 columns). Its
    within-leaf SSE is the sum of the SSEs of its principal coordinates, so
    splits scored on the leading ones see most of it. The basis is computed
    once per pass, from the residual of all codebooks: each tree's own
    residual differs from it by one codebook's contribution, and one
    eigendecomposition per tree would cost more than the trees themselves.
    With at most ``max_targets`` outputs the residual is used as it is.

    This is the in-memory form of what backfitting computes by chunks of
    rows (:meth:`_Learner.residual_scatter`).

    Returns
    -------
    basis : ndarray of shape (n_outputs, max_targets) or None
    """
    if residual.shape[1] <= max_targets:
        return None
    centred = residual - residual.mean(axis=0)
    return _leading_directions(centred.T @ centred, max_targets)


def _leading_directions(scatter, max_targets=MAX_BACKFIT_TARGETS):
    """The eigenvectors of the ``max_targets`` largest eigenvalues, as columns."""
    _, eigenvectors = np.linalg.eigh(scatter)
    return eigenvectors[:, -max_targets:]


def _leaf_means(values, leaves, sample_weight=None):
    """(Weighted) mean of ``values`` over the rows of each of the 16 leaves (0 when empty)."""
    leaf_rows = one_hot_codes(leaves[:, None]).T
    if sample_weight is None:
        totals = np.asarray(leaf_rows.sum(axis=1)).ravel()
        sums = leaf_rows @ values
    else:
        totals = leaf_rows @ sample_weight
        sums = leaf_rows @ (sample_weight[:, None] * values)
    return sums / np.where(totals > 0, totals, 1.0)[:, None]
