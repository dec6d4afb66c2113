"""Sums over the leaves of every codebook: the normal equations of the prototypes.

With ``G`` the one-hot code matrix (``G[n, 16 * c + codes[n, c]] = 1``) and
``w`` the row weights, the prototypes solve a linear system made of
``G.T @ diag(w) @ G`` (how much weight each pair of leaves shares) and
``G.T @ diag(w) @ X`` (the weighted sum of each leaf's rows). ``G`` has
``n_codebooks`` ones per row, so both are scatter-adds: each row is added to
one row of the result per codebook. This is a sixteenth of the work of a
product with ``G`` stored dense, and needs neither ``G`` nor a float64 copy
of ``X``.

Every entry adds the rows in row order, so the sums do not depend on how
the columns are divided between threads.
"""

import numpy as np

cimport numpy as cnp

cnp.import_array()

ctypedef fused floating:
    float
    double

cdef enum:
    N_LEAVES = 16


def add_leaf_sums(
    const floating[:, :] X,
    const cnp.uint8_t[:, ::1] codes,
    const double[::1] sample_weight,
    Py_ssize_t start,
    double[:, ::1] out,
):
    """Add the weighted rows of every leaf of every codebook, on some columns.

    ``out[16 * c + codes[i, c], j] += sample_weight[i] * X[i, start + j]``
    for every row ``i``, codebook ``c`` and ``j < out.shape[1]``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), dtype=float32 or float64
        Training rows, any layout. Read only.
    codes : ndarray of shape (n_samples, n_codebooks), dtype=uint8
        Leaves, 0..15. Read only.
    sample_weight : ndarray of shape (n_samples,), dtype=float64 or None
        Weight of each row; None weighs every row 1. Read only.
    start : int
        First column of ``X`` summed.
    out : ndarray of shape (16 * n_codebooks, n_columns), dtype=float64
        C-contiguous; the sums are added to it.
    """
    cdef Py_ssize_t n_samples = X.shape[0]
    cdef Py_ssize_t n_codebooks = codes.shape[1]
    cdef Py_ssize_t n_columns = out.shape[1]
    if codes.shape[0] != n_samples:
        raise ValueError(
            f"codes must have {n_samples} rows (those of X), got {codes.shape[0]}"
        )
    if sample_weight is not None and sample_weight.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight must have {n_samples} entries (the rows of X), got "
            f"{sample_weight.shape[0]}"
        )
    if start < 0 or start + n_columns > X.shape[1]:
        raise ValueError(
            f"columns {start}..{start + n_columns - 1} are not all columns of X "
            f"({X.shape[1]})"
        )
    if out.shape[0] != N_LEAVES * n_codebooks:
        raise ValueError(
            f"out must have {N_LEAVES * n_codebooks} rows (16 per codebook), got "
            f"{out.shape[0]}"
        )
    cdef bint weighted = sample_weight is not None
    cdef double[::1] row_buffer = np.empty(max(n_columns, 1))
    cdef double *row = &row_buffer[0]
    cdef Py_ssize_t i, c, j, leaf, bad_row = -1
    cdef double weight
    cdef double *sums
    with nogil:
        for i in range(n_samples):
            # The row's values once in float64, then added to one leaf per
            # codebook: a loop over contiguous doubles, which vectorises.
            if weighted:
                weight = sample_weight[i]
                for j in range(n_columns):
                    row[j] = weight * X[i, start + j]
            else:
                for j in range(n_columns):
                    row[j] = X[i, start + j]
            for c in range(n_codebooks):
                leaf = codes[i, c]
                if leaf >= N_LEAVES:
                    bad_row = i
                    break
                sums = &out[N_LEAVES * c + leaf, 0]
                for j in range(n_columns):
                    sums[j] += row[j]
            if bad_row >= 0:
                break
    if bad_row >= 0:
        raise ValueError(f"codes[{bad_row}] holds a leaf outside 0..15")


def leaf_cooccurrence(const cnp.uint8_t[:, ::1] codes, const double[::1] sample_weight):
    """``G.T @ diag(sample_weight) @ G``: the weight shared by every pair of leaves.

    Parameters
    ----------
    codes : ndarray of shape (n_samples, n_codebooks), dtype=uint8
        Leaves, 0..15. Read only.
    sample_weight : ndarray of shape (n_samples,), dtype=float64 or None
        Weight of each row; None weighs every row 1 (the entries are then
        counts, exact in float64). Read only.

    Returns
    -------
    gram : ndarray of shape (16 * n_codebooks, 16 * n_codebooks), dtype=float64
        Symmetric; the diagonal holds each leaf's total weight.
    """
    cdef Py_ssize_t n_samples = codes.shape[0]
    cdef Py_ssize_t n_codebooks = codes.shape[1]
    cdef Py_ssize_t size = N_LEAVES * n_codebooks
    if sample_weight is not None and sample_weight.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight must have {n_samples} entries (the rows of codes), got "
            f"{sample_weight.shape[0]}"
        )
    gram_array = np.zeros((size, size))
    cdef double[:, ::1] gram = gram_array
    cdef bint weighted = sample_weight is not None
    cdef Py_ssize_t i, c, other, row_index, bad_row = -1
    cdef double weight = 1.0
    with nogil:
        for i in range(n_samples):
            if weighted:
                weight = sample_weight[i]
            for c in range(n_codebooks):
                if codes[i, c] >= N_LEAVES:
                    bad_row = i
                    break
            if bad_row >= 0:
                break
            # The upper triangle (codebook pairs c <= other), mirrored below.
            for c in range(n_codebooks):
                row_index = N_LEAVES * c + codes[i, c]
                for other in range(c, n_codebooks):
                    gram[row_index, N_LEAVES * other + codes[i, other]] += weight
        if bad_row < 0:
            for row_index in range(size):
                for other in range((row_index // N_LEAVES + 1) * N_LEAVES, size):
                    gram[other, row_index] = gram[row_index, other]
    if bad_row >= 0:
        raise ValueError(f"codes[{bad_row}] holds a leaf outside 0..15")
    return gram_array
