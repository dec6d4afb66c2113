"""Prototypes: bucket means, then an optional joint ridge refit.

Each codebook ``c`` has 16 prototypes, one per leaf of its hash tree. A row is
approximated by the sum of the prototypes its codes select::

    X_hat[n] = sum_c prototypes[c, codes[n, c]]

MADDNESS-PQ keeps the bucket means, which are zero outside the codebook's own
columns. MADDNESS refits all prototypes of all codebooks jointly by ridge
regression of the residual on the one-hot code matrix ``G`` (n_samples x 16C),
which lets every prototype use every column.

Both need only ``G.T @ diag(w) @ G`` and ``G.T @ diag(w) @ X`` (row weights
``w``), which :func:`leaf_statistics` accumulates in float64 from ``X`` in
its own dtype, a block of columns at a time: neither ``G`` nor a float64
copy of ``X`` is ever formed.
"""

import numpy as np
import scipy.linalg
import scipy.sparse
from scipy.linalg import lapack

from ._hash_tree import N_LEAVES
from ._kernels._leaf_sums import add_leaf_sums, leaf_cooccurrence

# Bytes of float64 sums per block of columns: each thread's sums then stay
# in its core's cache while the rows stream past.
_BLOCK_SUM_BYTES = 1 << 18


def leaf_statistics(X, codes, sample_weight=None, executor=None):
    """The two sums the prototypes are solved from.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), dtype=float32 or float64
        Training rows.
    codes : ndarray of shape (n_samples, n_codebooks), dtype=uint8
        Leaf of each row in each codebook's tree.
    sample_weight : ndarray of shape (n_samples,), default=None
        Weight of each row; None weighs every row 1.
    executor : concurrent.futures.Executor, default=None
        If given, blocks of columns are summed in its threads. The sums do
        not depend on it: each entry adds the rows in row order.

    Returns
    -------
    gram : ndarray of shape (16 * n_codebooks, 16 * n_codebooks)
        ``G.T @ diag(w) @ G``; its diagonal is each leaf's total weight.
    sums : ndarray of shape (16 * n_codebooks, n_features)
        ``G.T @ diag(w) @ X``: the weighted sum of each leaf's rows.
    """
    codes = np.ascontiguousarray(codes, dtype=np.uint8)
    if sample_weight is not None:
        sample_weight = np.ascontiguousarray(sample_weight, dtype=np.float64)
    n_features = X.shape[1]
    n_rows = N_LEAVES * codes.shape[1]
    width = max(8, _BLOCK_SUM_BYTES // (8 * n_rows))
    starts = range(0, n_features, width)

    def block_sums(start):
        block = np.zeros((n_rows, min(width, n_features - start)))
        add_leaf_sums(X, codes, sample_weight, start, block)
        return block

    mapper = map if executor is None else executor.map
    blocks = list(mapper(block_sums, starts))
    sums = np.hstack(blocks) if blocks else np.zeros((n_rows, 0))
    return leaf_cooccurrence(codes, sample_weight), sums


def bucket_means(X, codes, bounds, sample_weight=None, statistics=None):
    """Prototypes equal to the mean of each leaf's rows on the codebook's columns.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Training rows.
    codes : ndarray of shape (n_samples, n_codebooks)
        Leaf of each row in each codebook's tree.
    bounds : ndarray of shape (n_codebooks + 1,)
        Column blocks, see :func:`~sklearn_amm._blocks.codebook_bounds`.
    sample_weight : ndarray of shape (n_samples,), default=None
        Weight of each row (weighted means); None weighs every row 1.
    statistics : tuple, default=None
        ``(gram, sums)`` from :func:`leaf_statistics`, if already computed.

    Returns
    -------
    prototypes : ndarray of shape (n_codebooks, 16, n_features), dtype=float64
        Zero outside each codebook's block, and zero for an empty leaf.
    """
    if statistics is None:
        statistics = leaf_statistics(X, codes, sample_weight)
    gram, sums = statistics
    n_features = sums.shape[1]
    n_codebooks = len(bounds) - 1
    leaf_weights = np.diag(gram).reshape(n_codebooks, N_LEAVES)
    sums = sums.reshape(n_codebooks, N_LEAVES, n_features)
    prototypes = np.zeros((n_codebooks, N_LEAVES, n_features))
    for c in range(n_codebooks):
        start, stop = bounds[c], bounds[c + 1]
        nonempty = leaf_weights[c] > 0
        prototypes[c, nonempty, start:stop] = (
            sums[c, nonempty, start:stop] / leaf_weights[c, nonempty, None]
        )
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


def ridge_refit(X, codes, prototypes, alpha=1.0, sample_weight=None, statistics=None):
    """Jointly refit all prototypes by ridge regression on the one-hot codes.

    Returns ``P = argmin ||X - G P||_w^2 + alpha ||P - P0||^2``, where
    ``||.||_w`` weighs row ``n`` by ``sample_weight[n]``: the penalty pulls
    towards the starting prototypes ``P0`` (the bucket means), so a rare or
    empty leaf keeps its mean instead of shrinking to zero. ``alpha > 0`` is
    needed because the 16 columns of each codebook in ``G`` sum to one, so
    ``G`` is rank deficient.

    The correction ``P - P0`` solves ``(G' W G + alpha I) D = G' W X - G' W G
    P0``, a system of ``16 C`` unknowns per column, by Cholesky
    factorisation. When the system is numerically singular (``alpha`` tiny
    next to the leaf weights) the correction is its least-norm solution
    instead, the limit of the ridge solution as ``alpha`` goes to 0: the
    directions ``G`` cannot see then keep their starting value.

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
    sample_weight : ndarray of shape (n_samples,), default=None
        Weight of each row; None weighs every row 1.
    statistics : tuple, default=None
        ``(gram, sums)`` from :func:`leaf_statistics`, if already computed.

    Returns
    -------
    prototypes : ndarray of shape (n_codebooks, 16, n_features)
        Dense refitted prototypes.
    """
    if statistics is None:
        statistics = leaf_statistics(X, codes, sample_weight)
    gram, sums = statistics
    n_codebooks, n_leaves, n_features = prototypes.shape
    flat = prototypes.reshape(n_codebooks * n_leaves, n_features)
    correction = _solve_ridge(gram, alpha, sums - gram @ flat)
    return (flat + correction).reshape(prototypes.shape)


def _solve_ridge(gram, alpha, rhs):
    """``(gram + alpha I)^-1 rhs`` for a positive semi-definite ``gram``.

    Cholesky when the matrix is well enough conditioned for it; otherwise
    the pseudo-inverse, which drops the directions whose eigenvalue is lost
    in rounding rather than dividing noise by (nearly) zero.
    """
    system = gram.copy()
    system.flat[:: system.shape[0] + 1] += alpha
    size = system.shape[0]
    factor, info = lapack.dpotrf(system, lower=False, clean=True)
    if info == 0:
        norm = np.abs(system).sum(axis=0).max()
        rcond, info = lapack.dpocon(factor, norm)
        if info == 0 and rcond > size * np.finfo(np.float64).eps:
            return scipy.linalg.cho_solve((factor, False), rhs, check_finite=False)
    eigenvalues, eigenvectors = scipy.linalg.eigh(system, check_finite=False)
    cutoff = max(eigenvalues[-1], 0.0) * size * np.finfo(np.float64).eps
    kept = eigenvalues > cutoff
    inverse = 1.0 / eigenvalues[kept]
    basis = eigenvectors[:, kept]
    return basis @ (inverse[:, None] * (basis.T @ rhs))
