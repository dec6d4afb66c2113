"""Encode rows into 4-bit codes by walking each codebook's 4-level hash tree.

For codebook ``c`` the tree compares column ``split_dims[c, t]`` at level
``t``, and the node reached so far picks the threshold::

    node = 0
    for t in range(4):
        node = 2 * node + (X[n, split_dims[c, t]] > thresholds[c, t, node])
    codes[n, c] = node

so the level-0 decision is the most significant bit of the code. Only
comparisons are involved, so the result is exact: any loop order and any
thread count give the same codes.
"""

from cython cimport floating
from cython.parallel cimport prange

cimport numpy as cnp

cnp.import_array()

ctypedef cnp.intp_t intp_t
ctypedef cnp.uint8_t uint8_t

cdef enum:
    N_LEVELS = 4
    MAX_NODES = 8  # nodes of the deepest level; the thresholds' last axis
    # Rows per parallel task: enough to amortize scheduling, few enough that
    # a block's codes stay in L1 while every tree is walked over it. Speed
    # barely changes from 64 to 4096 rows.
    ROWS_PER_BLOCK = 256


def encode_codes(
    const floating[:, :] X,
    const intp_t[:, ::1] split_dims,
    const floating[:, :, ::1] thresholds,
    uint8_t[:, ::1] codes,
):
    """Write the code of every row in every codebook into ``codes``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), dtype={float32, float64}
        Input rows, any strides, read only. Not copied.
    split_dims : ndarray of shape (n_codebooks, 4), dtype=np.intp
        Column of ``X`` compared at each level of each tree, in
        ``[0, n_features)``. Not checked.
    thresholds : ndarray of shape (n_codebooks, 4, 8), dtype=X.dtype
        ``thresholds[c, t, node]``; level ``t`` uses only its first ``2**t``
        entries. A row goes right when its value is strictly greater.
    codes : ndarray of shape (n_samples, n_codebooks), dtype=np.uint8
        Output, overwritten with codes in ``0..15``.
    """
    cdef Py_ssize_t n_samples = X.shape[0]
    cdef Py_ssize_t n_codebooks = split_dims.shape[0]
    # Cheap checks only, but a mismatch here would write out of bounds.
    if split_dims.shape[1] != N_LEVELS:
        raise ValueError(
            f"split_dims must have shape (n_codebooks, {N_LEVELS}), got "
            f"({split_dims.shape[0]}, {split_dims.shape[1]})"
        )
    if (
        thresholds.shape[0] != n_codebooks
        or thresholds.shape[1] != N_LEVELS
        or thresholds.shape[2] != MAX_NODES
    ):
        raise ValueError(
            f"thresholds must have shape ({n_codebooks}, {N_LEVELS}, "
            f"{MAX_NODES}), got ({thresholds.shape[0]}, "
            f"{thresholds.shape[1]}, {thresholds.shape[2]})"
        )
    if codes.shape[0] != n_samples or codes.shape[1] != n_codebooks:
        raise ValueError(
            f"codes must have shape ({n_samples}, {n_codebooks}), got "
            f"({codes.shape[0]}, {codes.shape[1]})"
        )

    cdef Py_ssize_t n_blocks = (n_samples + ROWS_PER_BLOCK - 1) // ROWS_PER_BLOCK
    cdef Py_ssize_t block, start, end
    # When a row's values are closer together than a column's, walking one
    # row at a time reuses the cache lines it loads; otherwise (column-major
    # input) walking a column over a block of rows streams contiguous memory.
    cdef bint by_rows = abs(X.strides[1]) <= abs(X.strides[0])

    with nogil:
        for block in prange(n_blocks, schedule="static"):
            start = block * ROWS_PER_BLOCK
            end = min(start + ROWS_PER_BLOCK, n_samples)
            if by_rows:
                _encode_by_rows(X, split_dims, thresholds, codes, start, end)
            else:
                _encode_by_columns(X, split_dims, thresholds, codes, start, end)


cdef void _encode_by_rows(
    const floating[:, :] X,              # IN
    const intp_t[:, ::1] split_dims,     # IN
    const floating[:, :, ::1] thresholds,  # IN
    uint8_t[:, ::1] codes,               # OUT
    Py_ssize_t start,
    Py_ssize_t end,
) noexcept nogil:
    """Codes of rows ``start:end``, one row at a time."""
    cdef Py_ssize_t n, c, t, node
    for n in range(start, end):
        for c in range(split_dims.shape[0]):
            node = 0
            for t in range(N_LEVELS):
                node = 2 * node + (
                    X[n, split_dims[c, t]] > thresholds[c, t, node]
                )
            codes[n, c] = <uint8_t> node


cdef void _encode_by_columns(
    const floating[:, :] X,              # IN
    const intp_t[:, ::1] split_dims,     # IN
    const floating[:, :, ::1] thresholds,  # IN
    uint8_t[:, ::1] codes,               # OUT
    Py_ssize_t start,
    Py_ssize_t end,
) noexcept nogil:
    """Codes of rows ``start:end``, one tree at a time."""
    # The tree is copied into locals: the uint8 stores to ``codes`` may alias
    # anything, so reading it through the memoryviews would reload it per row.
    cdef Py_ssize_t dims[N_LEVELS]
    cdef const floating *level_thresholds[N_LEVELS]
    cdef Py_ssize_t n, c, t, node
    for c in range(split_dims.shape[0]):
        for t in range(N_LEVELS):
            dims[t] = split_dims[c, t]
            level_thresholds[t] = &thresholds[c, t, 0]
        for n in range(start, end):
            node = 0
            for t in range(N_LEVELS):
                node = 2 * node + (X[n, dims[t]] > level_thresholds[t][node])
            codes[n, c] = <uint8_t> node
