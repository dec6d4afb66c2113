"""Prototypes: bucket means, then an optional joint ridge refit.

Each codebook ``c`` has 16 prototypes, one per leaf of its hash tree. A row is
approximated by the sum of the prototypes its codes select::

    X_hat[n] = sum_c prototypes[c, codes[n, c]]

MADDNESS-PQ keeps the bucket means, which are zero outside the codebook's own
columns. MADDNESS refits all prototypes of all codebooks jointly by ridge
regression of the residual on the one-hot code matrix ``G`` (n_samples x 16C),
which lets every prototype use every column.
"""

import numpy as np
import scipy.linalg
import scipy.sparse

from ._hash_tree import N_LEAVES


def bucket_means(X, codes, bounds):
    """Prototypes equal to the mean of each leaf's rows on the codebook's columns.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Training rows.
    codes : ndarray of shape (n_samples, n_codebooks)
        Leaf of each row in each codebook's tree.
    bounds : ndarray of shape (n_codebooks + 1,)
        Column blocks, see :func:`~sklearn_amm._blocks.codebook_bounds`.

    Returns
    -------
    prototypes : ndarray of shape (n_codebooks, 16, n_features), dtype=float64
        Zero outside each codebook's block, and zero for an empty leaf.
    """
    n_samples, n_features = X.shape
    n_codebooks = codes.shape[1]
    prototypes = np.zeros((n_codebooks, N_LEAVES, n_features))
    for c in range(n_codebooks):
        start, stop = bounds[c], bounds[c + 1]
        leaf_rows = one_hot_codes(codes[:, c : c + 1]).T
        counts = np.asarray(leaf_rows.sum(axis=1)).ravel()
        sums = leaf_rows @ X[:, start:stop]
        nonempty = counts > 0
        prototypes[c, nonempty, start:stop] = sums[nonempty] / counts[nonempty, None]
    return prototypes


def one_hot_codes(codes):
    """Sparse one-hot design ``G``: ``G[n, 16 * c + codes[n, c]] = 1``.

    Returns
    -------
    G : scipy.sparse.csr_matrix of shape (n_samples, 16 * n_codebooks)
        Exactly ``n_codebooks`` ones per row.
    """
    n_samples, n_codebooks = codes.shape
    columns = codes.astype(np.intp) + N_LEAVES * np.arange(n_codebooks)
    indptr = np.arange(0, n_samples * n_codebooks + 1, n_codebooks)
    data = np.ones(n_samples * n_codebooks)
    return scipy.sparse.csr_matrix(
        (data, columns.ravel(), indptr), shape=(n_samples, N_LEAVES * n_codebooks)
    )


def ridge_refit(X, codes, prototypes, alpha=1.0):
    """Jointly refit all prototypes by ridge regression on the one-hot codes.

    Solves ``W = argmin ||R - G W||^2 + alpha ||W||^2`` for the residual
    ``R = X - G P0`` of the starting prototypes ``P0`` and returns
    ``P0 + W``. This is ``argmin ||X - G P||^2 + alpha ||P - P0||^2``: the
    penalty pulls towards the bucket means, so a rare or empty leaf keeps its
    mean instead of shrinking to zero. ``alpha > 0`` is needed because the 16
    columns of each codebook in ``G`` sum to one, so ``G`` is rank deficient.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Training rows.
    codes : ndarray of shape (n_samples, n_codebooks)
        Codes of the training rows.
    prototypes : ndarray of shape (n_codebooks, 16, n_features)
        Starting prototypes ``P0`` (the bucket means).
    alpha : float, default=1.0
        Ridge penalty, > 0.

    Returns
    -------
    prototypes : ndarray of shape (n_codebooks, 16, n_features)
        Dense refitted prototypes.
    """
    n_codebooks, n_leaves, n_features = prototypes.shape
    G = one_hot_codes(codes)
    flat = prototypes.reshape(n_codebooks * n_leaves, n_features)
    residual = X - G @ flat
    gram = (G.T @ G).toarray()
    gram.flat[:: gram.shape[0] + 1] += alpha
    correction = scipy.linalg.solve(gram, G.T @ residual, assume_a="pos")
    return (flat + correction).reshape(prototypes.shape)
