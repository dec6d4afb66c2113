"""Encode rows into 4-bit codes: the Cython entry points of the C encoder.

For codebook ``c`` the tree compares column ``split_dims[c, t]`` at level
``t``, and the node reached so far picks the threshold::

    node = 0
    for t in range(4):
        node = 2 * node + (X[n, split_dims[c, t]] > thresholds[c, t, node])
    codes[n, c] = node

so the level-0 decision is the most significant bit of the code. Only
comparisons are involved, so the result is exact: every SIMD level and every
thread count give the same codes. The C core (``encode.c`` and one file per
SIMD level) holds the loops; this module checks the buffers and spreads row
blocks over OpenMP threads.

``encode_scan_dequantized`` also runs the scan (``scan.h``) on each task's
codes as soon as they are written, while they are in cache: one parallel
region from rows to products, and no array of codes for all the rows.
"""

from cython cimport floating
from cython.parallel cimport prange, threadid
from libc.stddef cimport ptrdiff_t

import numpy as np

cimport numpy as cnp

cnp.import_array()

ctypedef cnp.intp_t intp_t
ctypedef cnp.uint8_t uint8_t

# The output of the fused encode and scan, independent of X's dtype: a
# classifier wants float64 decision values from float32 rows, and writing
# them directly saves converting a whole float32 result afterwards.
ctypedef fused out_floating:
    float
    double


cdef extern from "cpu_features.h" nogil:
    int amm_cpu_supports(int level)
    int amm_openmp_max_threads()


cdef extern from "scan.h" nogil:
    enum:
        AMM_SCAN_SUM
        AMM_SCAN_AVERAGE
        AMM_OUT_FLOAT32
        AMM_OUT_FLOAT64

    ctypedef struct amm_scan_problem:
        const uint8_t *codes
        const uint8_t *tables
        ptrdiff_t n_samples
        int n_codebooks
        int n_padded
        int n_outputs
        int mode
        int output
        void *out
        ptrdiff_t out_stride
        const void *multiplier
        const void *shift

    int amm_scan_n_padded(int n_codebooks)
    void amm_scan_blocks(const amm_scan_problem *problem, ptrdiff_t block_begin,
                         ptrdiff_t block_end, int level)


cdef extern from "encode.h" nogil:
    enum:
        AMM_ROWS_PER_BLOCK
        AMM_TREE_DEPTH
        AMM_TREE_WIDTH

    ctypedef struct amm_encode_problem:
        const char *X
        ptrdiff_t row_stride
        ptrdiff_t col_stride
        ptrdiff_t n_samples
        ptrdiff_t n_features
        ptrdiff_t n_codebooks
        const ptrdiff_t *split_offsets
        const void *thresholds
        ptrdiff_t n_pairs
        int by_rows

    int amm_encode_blocks_f32(
        const amm_encode_problem *problem, ptrdiff_t block_begin,
        ptrdiff_t block_end, uint8_t *out, int level)
    int amm_encode_blocks_f64(
        const amm_encode_problem *problem, ptrdiff_t block_begin,
        ptrdiff_t block_end, uint8_t *out, int level)
    void amm_unpack_blocks(
        const uint8_t *packed, ptrdiff_t n_pairs, ptrdiff_t n_rows,
        ptrdiff_t n_codebooks, uint8_t *codes, ptrdiff_t codes_row_stride)


# Bytes of packed codes one parallel task writes, at most. A task walks its
# rows once per pair of codebooks (reading each split column as one long
# contiguous run, which the hardware prefetcher follows best), writing 32
# bytes per block each time: its codes must stay in L2 (512 KiB on Zen 3)
# meanwhile.
#
# And at least MIN_TASK_BLOCKS blocks (1024 rows, about 10 us of work) per
# task, so that small inputs run serially rather than pay for waking threads.
cdef enum:
    TASK_CODE_BYTES = 128 * 1024
    MIN_TASK_BLOCKS = 32


def encode_packed(
    const floating[:, :] X,
    const intp_t[:, ::1] split_dims,
    const floating[:, :, ::1] thresholds,
    uint8_t[:, :, ::1] packed,
    int level,
):
    """Write the codes of every row, packed for the scan, into ``packed``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), dtype={float32, float64}
        Input rows, any strides, read only. Not copied.
    split_dims : ndarray of shape (n_codebooks, 4), dtype=np.intp
        Column of ``X`` compared at each level of each tree.
    thresholds : ndarray of shape (n_codebooks, 4, 8), dtype=X.dtype
        ``thresholds[c, t, node]``; level ``t`` uses only its first ``2**t``
        entries. A row goes right when its value is strictly greater.
    packed : ndarray of shape (n_blocks, n_pairs, 32), dtype=np.uint8
        Output, overwritten: ``packed[b, j, r]`` holds codebook ``2j`` in its
        low nibble and ``2j + 1`` in its high nibble for row ``32b + r``;
        ``n_blocks = ceil(n_samples / 32)``, ``n_pairs >= ceil(n_codebooks /
        2)``. Codebooks past ``n_codebooks`` and rows past ``n_samples`` get
        code 0 (see :mod:`sklearn_amm._layout`).
    level : int
        SIMD level (:mod:`sklearn_amm._simd`); the CPU must support it.

    Returns
    -------
    nonfinite : bool
        Whether any value compared, that is any value of a split column
        (``X[:, split_dims]``), is NaN or infinite. The codes are written
        all the same: NaN goes left, infinities compare as numbers.
    """
    cdef Py_ssize_t n_samples = X.shape[0]
    cdef Py_ssize_t n_blocks = (n_samples + AMM_ROWS_PER_BLOCK - 1) // AMM_ROWS_PER_BLOCK
    cdef int nonfinite = 0
    _check_trees(X.shape[1], split_dims, thresholds, level)
    if (
        packed.shape[0] != n_blocks
        or packed.shape[1] < (split_dims.shape[0] + 1) // 2
        or packed.shape[2] != AMM_ROWS_PER_BLOCK
    ):
        raise ValueError(
            f"packed must have shape ({n_blocks}, n_pairs >= "
            f"{(split_dims.shape[0] + 1) // 2}, {AMM_ROWS_PER_BLOCK}), got "
            f"({packed.shape[0]}, {packed.shape[1]}, {packed.shape[2]})"
        )
    if n_blocks == 0:
        return False

    cdef ptrdiff_t[:, ::1] split_offsets = _split_offsets(split_dims, X.strides[1])
    cdef amm_encode_problem problem = _problem(
        X, split_offsets, thresholds, packed.shape[1]
    )
    cdef Py_ssize_t blocks_per_task = _blocks_per_task(n_blocks, packed.shape[1])
    cdef Py_ssize_t n_tasks = (n_blocks + blocks_per_task - 1) // blocks_per_task
    cdef Py_ssize_t task, begin, end
    with nogil:
        if n_tasks == 1:
            # No parallel region: waking threads costs more than the work.
            nonfinite = _encode_blocks(
                &problem, 0, n_blocks, &packed[0, 0, 0], level, <floating> 0
            )
        else:
            # nonfinite is a reduction: each thread counts its tasks' reports.
            for task in prange(n_tasks, schedule="static"):
                begin = task * blocks_per_task
                end = min(begin + blocks_per_task, n_blocks)
                nonfinite += _encode_blocks(
                    &problem, begin, end, &packed[begin, 0, 0], level, <floating> 0
                )
    return nonfinite != 0


def encode_codes(
    const floating[:, :] X,
    const intp_t[:, ::1] split_dims,
    const floating[:, :, ::1] thresholds,
    uint8_t[:, ::1] codes,
    int level,
):
    """Write the code of every row in every codebook into ``codes``.

    Parameters
    ----------
    X, split_dims, thresholds, level
        As in :func:`encode_packed`.
    codes : ndarray of shape (n_samples, n_codebooks), dtype=np.uint8
        Output, overwritten with codes in ``0..15``.

    Returns
    -------
    nonfinite : bool
        As in :func:`encode_packed`.
    """
    cdef Py_ssize_t n_samples = X.shape[0]
    cdef Py_ssize_t n_codebooks = split_dims.shape[0]
    cdef Py_ssize_t n_blocks = (n_samples + AMM_ROWS_PER_BLOCK - 1) // AMM_ROWS_PER_BLOCK
    cdef Py_ssize_t n_pairs = (n_codebooks + 1) // 2
    _check_trees(X.shape[1], split_dims, thresholds, level)
    if codes.shape[0] != n_samples or codes.shape[1] != n_codebooks:
        raise ValueError(
            f"codes must have shape ({n_samples}, {n_codebooks}), got "
            f"({codes.shape[0]}, {codes.shape[1]})"
        )
    if n_samples == 0 or n_codebooks == 0:
        return False

    cdef ptrdiff_t[:, ::1] split_offsets = _split_offsets(split_dims, X.strides[1])
    cdef amm_encode_problem problem = _problem(X, split_offsets, thresholds, n_pairs)
    cdef int nonfinite = 0
    # The kernels write the packed layout; each thread packs a task's blocks
    # into its own scratch, then unpacks them into the rows of ``codes``.
    cdef Py_ssize_t blocks_per_task = _blocks_per_task(n_blocks, n_pairs)
    cdef uint8_t[:, ::1] scratch = np.empty(
        (max(amm_openmp_max_threads(), 1), blocks_per_task * n_pairs * AMM_ROWS_PER_BLOCK),
        dtype=np.uint8,
    )
    cdef Py_ssize_t n_tasks = (n_blocks + blocks_per_task - 1) // blocks_per_task
    cdef Py_ssize_t task, begin, end, first_row
    with nogil:
        if n_tasks == 1:
            nonfinite = _encode_unpacked(
                &problem, 0, n_blocks, &scratch[0, 0], &codes[0, 0], level, <floating> 0
            )
        else:
            for task in prange(n_tasks, schedule="static"):
                begin = task * blocks_per_task
                end = min(begin + blocks_per_task, n_blocks)
                first_row = begin * AMM_ROWS_PER_BLOCK
                nonfinite += _encode_unpacked(
                    &problem, begin, end, &scratch[threadid(), 0], &codes[first_row, 0],
                    level, <floating> 0,
                )
    return nonfinite != 0


def encode_scan_dequantized(
    const floating[:, :] X,
    const intp_t[:, ::1] split_dims,
    const floating[:, :, ::1] thresholds,
    const uint8_t[:, :, ::1] tables,
    bint average,
    const out_floating[::1] multiplier,
    const out_floating[::1] shift,
    out_floating[:, :] out,
    int level,
):
    """Write the de-quantized approximate products of every row into ``out``.

    The same result as :func:`encode_packed` followed by
    ``_scan.scan_dequantized``, bit for bit, with codes that live only in a
    per-thread buffer of at most ``TASK_CODE_BYTES``.

    Parameters
    ----------
    X, split_dims, thresholds, level
        As in :func:`encode_packed`; ``n_codebooks = split_dims.shape[0]``.
    tables : ndarray of shape (n_outputs, n_padded, 16), dtype=np.uint8
        Quantized tables zero-padded to ``n_padded =
        _layout.n_padded_codebooks(n_codebooks)`` (``_layout.pad_tables``).
    average : bool
        Averaging trees if True, exact sums if False (``scan.h``).
    multiplier, shift : ndarray of shape (n_outputs,), dtype=out.dtype
        Output ``m`` is ``float(total) * multiplier[m] + shift[m]``, in the
        output's dtype.
    out : ndarray of shape (n_outputs, n_samples), dtype={np.float32, np.float64}
        Output, in either dtype whatever X's; each row contiguous, any
        distance between rows.

    Returns
    -------
    nonfinite : bool
        As in :func:`encode_packed`; ``out`` is written all the same.
    """
    cdef Py_ssize_t n_samples = X.shape[0]
    cdef Py_ssize_t n_codebooks = split_dims.shape[0]
    cdef Py_ssize_t n_blocks = (n_samples + AMM_ROWS_PER_BLOCK - 1) // AMM_ROWS_PER_BLOCK
    _check_trees(X.shape[1], split_dims, thresholds, level)
    _check_scan_buffers(n_samples, n_codebooks, tables, multiplier, shift, out)
    if n_blocks == 0:
        return False

    cdef Py_ssize_t n_pairs = tables.shape[1] // 2
    cdef ptrdiff_t[:, ::1] split_offsets = _split_offsets(split_dims, X.strides[1])
    cdef amm_encode_problem encoding = _problem(X, split_offsets, thresholds, n_pairs)
    cdef amm_scan_problem scan
    scan.codes = NULL  # each task points it at its own codes
    scan.tables = &tables[0, 0, 0]
    scan.n_samples = n_samples
    scan.n_codebooks = <int> n_codebooks
    scan.n_padded = <int> tables.shape[1]
    scan.n_outputs = <int> tables.shape[0]
    scan.mode = AMM_SCAN_AVERAGE if average else AMM_SCAN_SUM
    scan.output = AMM_OUT_FLOAT32 if out_floating is float else AMM_OUT_FLOAT64
    scan.out = &out[0, 0]
    scan.out_stride = out.strides[0] // sizeof(out_floating)
    scan.multiplier = &multiplier[0]
    scan.shift = &shift[0]

    cdef Py_ssize_t blocks_per_task = _blocks_per_task(n_blocks, n_pairs)
    cdef Py_ssize_t n_tasks = (n_blocks + blocks_per_task - 1) // blocks_per_task
    cdef int n_threads = max(amm_openmp_max_threads(), 1)
    cdef uint8_t[:, ::1] codes = np.empty(
        (n_threads, blocks_per_task * n_pairs * AMM_ROWS_PER_BLOCK), dtype=np.uint8
    )
    cdef Py_ssize_t task, begin, end
    cdef int nonfinite = 0
    with nogil:
        if n_tasks == 1:
            nonfinite = _encode_scan_task(&encoding, &scan, 0, n_blocks, &codes[0, 0],
                                          level, <floating> 0, <out_floating> 0)
        else:
            # num_threads pins the team to the rows of ``codes``.
            for task in prange(n_tasks, schedule="static", num_threads=n_threads):
                begin = task * blocks_per_task
                end = min(begin + blocks_per_task, n_blocks)
                nonfinite += _encode_scan_task(&encoding, &scan, begin, end,
                                               &codes[threadid(), 0], level, <floating> 0,
                                               <out_floating> 0)
    return nonfinite != 0


cdef inline int _encode_scan_task(
    const amm_encode_problem *encoding,  # IN
    const amm_scan_problem *scan,        # IN: the whole problem; codes unset
    Py_ssize_t begin,
    Py_ssize_t end,
    uint8_t *codes,                      # scratch: (end - begin, n_pairs, 32)
    int level,
    floating dtype_tag,                  # X's dtype
    out_floating out_tag,                # the output's
) noexcept nogil:
    """Encode blocks [begin, end) into ``codes``, then scan them into ``out``.

    The scan sees the task's blocks as a problem of their own: its codes
    start at block ``begin``, and so do its rows of the output.
    """
    cdef amm_scan_problem task = scan[0]
    cdef Py_ssize_t first_row = begin * AMM_ROWS_PER_BLOCK
    cdef int nonfinite = _encode_blocks(encoding, begin, end, codes, level, dtype_tag)
    if task.n_outputs == 0:
        return nonfinite
    task.codes = codes
    task.n_samples = min(scan.n_samples - first_row, (end - begin) * AMM_ROWS_PER_BLOCK)
    task.out = (<out_floating *> scan.out) + first_row
    amm_scan_blocks(&task, 0, end - begin, level)
    return nonfinite


cdef int _check_scan_buffers(
    Py_ssize_t n_samples,
    Py_ssize_t n_codebooks,
    const uint8_t[:, :, ::1] tables,
    const out_floating[::1] multiplier,
    const out_floating[::1] shift,
    out_floating[:, :] out,
) except -1:
    """Raise ValueError on any shape the fused scan would read or write
    out of bounds with (``_scan._check_shapes`` for the separate scan)."""
    if n_codebooks < 1:
        raise ValueError(f"split_dims must hold at least one codebook, got {n_codebooks}")
    cdef int n_padded = amm_scan_n_padded(<int> n_codebooks)
    if tables.shape[1] != n_padded or tables.shape[2] != 16:
        raise ValueError(
            f"tables must have shape (n_outputs, {n_padded}, 16), got "
            f"({tables.shape[0]}, {tables.shape[1]}, {tables.shape[2]})"
        )
    if out.shape[0] != tables.shape[0] or out.shape[1] != n_samples:
        raise ValueError(
            f"out must have shape ({tables.shape[0]}, {n_samples}), got "
            f"({out.shape[0]}, {out.shape[1]})"
        )
    if out.strides[1] != sizeof(out_floating) and n_samples > 1:
        raise ValueError("out must have contiguous rows (out.strides[1] == itemsize)")
    if multiplier.shape[0] != tables.shape[0] or shift.shape[0] != tables.shape[0]:
        raise ValueError(
            f"multiplier and shift must have shape ({tables.shape[0]},), got "
            f"({multiplier.shape[0]},) and ({shift.shape[0]},)"
        )
    return 0


cdef inline int _encode_blocks(
    const amm_encode_problem *problem,   # IN
    Py_ssize_t begin,
    Py_ssize_t end,
    uint8_t *out,                        # OUT
    int level,
    floating dtype_tag,                  # picks the float32 or float64 kernel
) noexcept nogil:
    """Encode blocks [begin, end); 1 if a value compared was not finite."""
    if floating is float:
        return amm_encode_blocks_f32(problem, begin, end, out, level) != 0
    else:
        return amm_encode_blocks_f64(problem, begin, end, out, level) != 0


cdef inline int _encode_unpacked(
    const amm_encode_problem *problem,   # IN
    Py_ssize_t begin,
    Py_ssize_t end,
    uint8_t *scratch,                    # (end - begin, n_pairs, 32) bytes
    uint8_t *codes,                      # OUT: rows from 32 * begin on
    int level,
    floating dtype_tag,
) noexcept nogil:
    """Codes of blocks [begin, end) packed into scratch, then unpacked."""
    cdef int nonfinite = _encode_blocks(problem, begin, end, scratch, level, dtype_tag)
    amm_unpack_blocks(
        scratch,
        problem.n_pairs,
        min(problem.n_samples - begin * AMM_ROWS_PER_BLOCK, (end - begin) * AMM_ROWS_PER_BLOCK),
        problem.n_codebooks,
        codes,
        problem.n_codebooks,
    )
    return nonfinite


cdef int _check_trees(
    Py_ssize_t n_features,
    const intp_t[:, ::1] split_dims,
    const floating[:, :, ::1] thresholds,
    int level,
) except -1:
    """Raise ValueError on anything that would make the kernels read or write
    out of bounds, or run instructions this CPU lacks."""
    cdef Py_ssize_t n_codebooks = split_dims.shape[0]
    cdef Py_ssize_t c, t
    if split_dims.shape[1] != AMM_TREE_DEPTH:
        raise ValueError(
            f"split_dims must have shape (n_codebooks, {AMM_TREE_DEPTH}), got "
            f"({split_dims.shape[0]}, {split_dims.shape[1]})"
        )
    if (
        thresholds.shape[0] != n_codebooks
        or thresholds.shape[1] != AMM_TREE_DEPTH
        or thresholds.shape[2] != AMM_TREE_WIDTH
    ):
        raise ValueError(
            f"thresholds must have shape ({n_codebooks}, {AMM_TREE_DEPTH}, "
            f"{AMM_TREE_WIDTH}), got ({thresholds.shape[0]}, "
            f"{thresholds.shape[1]}, {thresholds.shape[2]})"
        )
    for c in range(n_codebooks):
        for t in range(AMM_TREE_DEPTH):
            if not 0 <= split_dims[c, t] < n_features:
                raise ValueError(
                    f"split_dims[{c}, {t}] = {split_dims[c, t]} is not a column "
                    f"of X, which has {n_features}"
                )
    if not amm_cpu_supports(level):
        raise ValueError(f"SIMD level {level} is not supported by this CPU")
    return 0


cdef Py_ssize_t _blocks_per_task(Py_ssize_t n_blocks, Py_ssize_t n_pairs):
    """Row blocks per parallel task.

    At most TASK_CODE_BYTES of codes and at least MIN_TASK_BLOCKS blocks per
    task; within that, a multiple of the thread count of tasks of (nearly)
    equal size, which a static schedule shares evenly. Any split gives the
    same codes.
    """
    cdef Py_ssize_t n_threads = max(amm_openmp_max_threads(), 1)
    cdef Py_ssize_t max_blocks = max(TASK_CODE_BYTES // (max(n_pairs, 1) * AMM_ROWS_PER_BLOCK), 1)
    cdef Py_ssize_t n_tasks = (n_blocks + max_blocks - 1) // max_blocks
    n_tasks = (n_tasks + n_threads - 1) // n_threads * n_threads
    n_tasks = max(min(n_tasks, n_blocks // MIN_TASK_BLOCKS), 1)
    return max((n_blocks + n_tasks - 1) // n_tasks, 1)


cdef _split_offsets(const intp_t[:, ::1] split_dims, Py_ssize_t column_stride):
    """Byte offset of each split column from the start of a row."""
    return np.asarray(split_dims, dtype=np.intp) * column_stride


cdef amm_encode_problem _problem(
    const floating[:, :] X,
    const ptrdiff_t[:, ::1] split_offsets,
    const floating[:, :, ::1] thresholds,
    Py_ssize_t n_pairs,
):
    cdef amm_encode_problem problem
    problem.X = <const char *> &X[0, 0]
    problem.row_stride = X.strides[0]
    problem.col_stride = X.strides[1]
    problem.n_samples = X.shape[0]
    problem.n_features = X.shape[1]
    problem.n_codebooks = split_offsets.shape[0]
    problem.split_offsets = &split_offsets[0, 0] if split_offsets.shape[0] else NULL
    problem.thresholds = <const void *> &thresholds[0, 0, 0] if thresholds.shape[0] else NULL
    problem.n_pairs = n_pairs
    # Walk the rows one at a time when a row's values are closer together
    # than a column's (C order); otherwise stream down the columns.
    problem.by_rows = abs(X.strides[1]) <= abs(X.strides[0])
    return problem
