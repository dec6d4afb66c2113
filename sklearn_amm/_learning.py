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
"""

import numpy as np

from ._blocks import codebook_bounds
from ._hash_tree import MAX_NODES, N_LEVELS, learn_hash_tree, product_targets
from ._prototypes import bucket_means, one_hot_codes, ridge_refit

# Targets of the split search during backfitting: enough for the residual of
# a typical block of columns, few enough that a pass costs about one fit.
MAX_BACKFIT_TARGETS = 32


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
):
    """Learn the trees and prototypes of every codebook.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), dtype=float64
        Training rows.
    weights : ndarray of shape (n_features, n_outputs) or None
        The known matrix; None is the identity.
    n_codebooks : int
        Number of codebooks, at most ``n_features``.
    n_candidate_dims, split_objective, optimize_prototypes, ridge_alpha, \
n_refinement_passes
        See :class:`~sklearn_amm.MaddnessTransformer`.

    Returns
    -------
    bounds : ndarray of shape (n_codebooks + 1,)
    split_dims : ndarray of shape (n_codebooks, 4), dtype=np.intp
        Absolute input columns.
    thresholds : ndarray of shape (n_codebooks, 4, 8)
    prototypes : ndarray of shape (n_codebooks, 16, n_features)
    """
    n_features = X.shape[1]
    bounds = codebook_bounds(n_features, n_codebooks)
    split_dims = np.zeros((n_codebooks, N_LEVELS), dtype=np.intp)
    thresholds = np.zeros((n_codebooks, N_LEVELS, MAX_NODES))
    codes = np.empty((X.shape[0], n_codebooks), dtype=np.uint8)

    def set_tree(c, targets=None, column_weights=None):
        start, stop = bounds[c], bounds[c + 1]
        dims, thresholds[c], codes[:, c] = learn_hash_tree(
            X[:, start:stop], n_candidate_dims, targets, column_weights
        )
        split_dims[c] = start + dims

    for c in range(n_codebooks):
        if split_objective == "product" and weights is not None:
            block = slice(bounds[c], bounds[c + 1])
            set_tree(c, *product_targets(X[:, block], weights[block]))
        else:
            set_tree(c)
    prototypes = _prototypes(X, codes, bounds, optimize_prototypes, ridge_alpha)

    for _ in range(n_refinement_passes):
        _backfit_trees(X, weights, codes, bounds, prototypes, set_tree)
        prototypes = _prototypes(X, codes, bounds, optimize_prototypes, ridge_alpha)
    return bounds, split_dims, thresholds, prototypes


def _prototypes(X, codes, bounds, optimize, alpha):
    prototypes = bucket_means(X, codes, bounds)
    if optimize:
        prototypes = ridge_refit(X, codes, prototypes, alpha)
    return prototypes


def _backfit_trees(X, weights, codes, bounds, prototypes, set_tree):
    """One backfitting pass: relearn each tree on the others' residual product.

    After codebook ``c``'s tree is relearned, its contribution becomes the
    mean residual of each new leaf (the best constant per leaf), so the next
    codebook sees an up-to-date residual. The leaf values only steer the
    trees (the prototypes are refit afterwards), so with many outputs the
    whole pass runs in the residual's leading principal coordinates.
    """
    Y = X if weights is None else X @ weights
    # Per codebook, the value each leaf adds to the product: (C, 16, n_outputs).
    leaf_values = prototypes.copy() if weights is None else prototypes @ weights
    residual = Y.copy()
    for c in range(codes.shape[1]):
        residual -= leaf_values[c][codes[:, c]]
    basis = _principal_basis(residual)
    if basis is not None:
        # Projection is linear: adding and removing leaf values commutes with it.
        residual = residual @ basis
        leaf_values = leaf_values @ basis
    for c in range(codes.shape[1]):
        residual += leaf_values[c][codes[:, c]]
        start, stop = bounds[c], bounds[c + 1]
        if weights is None:
            column_weights = np.ones(stop - start)
        else:
            column_weights = np.einsum("ij,ij->i", weights[start:stop], weights[start:stop])
        set_tree(c, residual, column_weights)
        leaf_values[c] = _leaf_means(residual, codes[:, c])
        residual -= leaf_values[c][codes[:, c]]


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

    Returns
    -------
    basis : ndarray of shape (n_outputs, max_targets) or None
    """
    if residual.shape[1] <= max_targets:
        return None
    centred = residual - residual.mean(axis=0)
    _, eigenvectors = np.linalg.eigh(centred.T @ centred)
    return eigenvectors[:, -max_targets:]


def _leaf_means(values, leaves):
    """Mean of ``values`` over the rows of each of the 16 leaves (0 when empty)."""
    leaf_rows = one_hot_codes(leaves[:, None]).T
    counts = np.asarray(leaf_rows.sum(axis=1)).ravel()
    return (leaf_rows @ values) / np.maximum(counts, 1)[:, None]
