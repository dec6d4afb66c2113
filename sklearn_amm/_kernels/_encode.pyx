"""Encode rows into 4-bit codes: the Cython entry points of the C encoder.

For codebook ``c`` the tree compares column ``split_dims[c, t]`` at depth
``t``, and the node reached so far picks the threshold::

    node = 0
    for t in range(4):
        node = 2 * node + (X[n, split_dims[c, t]] > thresholds[c, t, node])
    codes[n, c] = node

so the depth-0 decision is the most significant bit of the code. Only
comparisons are involved, so the result is exact: every SIMD level and every
thread count give the same codes. The C core (the driver ``encode.c`` and
one file of column kernels per instruction set) holds the loops; this module
checks the buffers, allocates each thread's scratch and spreads row blocks
(of 32 rows) over the ``n_threads`` OpenMP threads the caller asks for.

``encode_scan_dequantized`` also runs the scan (``scan.h``) on each task's
codes as soon as they are written, while they are in cache: one parallel
region from rows to products, and no array of codes for all the rows.
"""

from cython cimport floating
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cython.parallel cimport prange, threadid
from libc.stddef cimport ptrdiff_t

from ._c_encode cimport (
    AMM_ROWS_PER_ROW_BLOCK,
    AMM_TREE_DEPTH,
    AMM_TREE_WIDTH,
    amm_encode_problem,
    amm_encode_row_blocks,
    amm_encode_scratch_bytes,
    amm_unpack_row_blocks,
)
# The fused encode and scan fills a scan problem of its own.
from ._c_cpu cimport amm_cpu_supports
from ._c_scan cimport (
    AMM_OUT_FLOAT32,
    AMM_OUT_FLOAT64,
    AMM_SCAN_AVERAGE,
    AMM_SCAN_SUM,
    amm_scan_blocks,
    amm_scan_n_padded,
    amm_scan_problem,
    check_dequantization,
    check_scan_buffers,
)

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


# Bytes of packed codes one parallel task writes, at most. A task walks its
# rows once per pair of codebooks (reading each split column as one long
# contiguous run, which the hardware prefetcher follows best), writing 32
# bytes per row block each time: its codes must stay in L2 (512 KiB on Zen 3)
# meanwhile.
#
# And at least MIN_TASK_ROW_BLOCKS row blocks (1024 rows, about 10 us of
# work) per task, so that small inputs run serially rather than pay for
# waking threads.
cdef enum:
    TASK_CODE_BYTES = 128 * 1024
    MIN_TASK_ROW_BLOCKS = 32
    # Each thread's scratch starts this many bytes after the previous one's:
    # no two threads write to one cache line.
    SCRATCH_ALIGNMENT = 64


def encode_packed(
    const floating[:, :] X,
    const intp_t[:, ::1] split_dims,
    const floating[:, :, ::1] thresholds,
    uint8_t[:, :, ::1] packed,
    int simd_level,
    int n_threads,
):
    """Write the codes of every row, packed for the scan, into ``packed``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), dtype={float32, float64}
        Input rows, any strides, read only. Not copied.
    split_dims : ndarray of shape (n_codebooks, 4), dtype=np.intp
        Column of ``X`` compared at each depth of each tree.
    thresholds : ndarray of shape (n_codebooks, 4, 8), dtype=X.dtype
        ``thresholds[c, t, node]``; depth ``t`` uses only its first ``2**t``
        entries. A row goes right when its value is strictly greater.
    packed : ndarray of shape (n_row_blocks, n_pairs, 32), dtype=np.uint8
        Output, overwritten: ``packed[b, j, r]`` holds codebook ``2j`` in its
        low nibble and ``2j + 1`` in its high nibble for row ``32b + r``;
        ``n_row_blocks = ceil(n_samples / 32)``, ``n_pairs >= ceil(n_codebooks /
        2)``. Codebooks past ``n_codebooks`` and rows past ``n_samples`` get
        code 0 (see :mod:`sklearn_amm._layout`).
    simd_level : int
        SIMD level (:mod:`sklearn_amm._simd`); the CPU must support it.
    n_threads : int
        OpenMP threads to share the rows among (any count gives the same
        result).

    Returns
    -------
    nonfinite : bool
        Whether any value compared, that is any value of a split column
        (``X[:, split_dims]``), is NaN or infinite. The codes are written
        all the same: NaN goes left, infinities compare as numbers.
    """
    cdef Py_ssize_t n_samples = X.shape[0]
    cdef Py_ssize_t n_row_blocks = (n_samples + AMM_ROWS_PER_ROW_BLOCK - 1) // AMM_ROWS_PER_ROW_BLOCK
    _check_trees(X.shape[1], split_dims, thresholds, simd_level)
    if (
        packed.shape[0] != n_row_blocks
        or packed.shape[1] < (split_dims.shape[0] + 1) // 2
        or packed.shape[2] != AMM_ROWS_PER_ROW_BLOCK
    ):
        raise ValueError(
            f"packed must have shape ({n_row_blocks}, n_pairs >= "
            f"{(split_dims.shape[0] + 1) // 2}, {AMM_ROWS_PER_ROW_BLOCK}), got "
            f"({packed.shape[0]}, {packed.shape[1]}, {packed.shape[2]})"
        )
    if n_row_blocks == 0:
        return False

    cdef bytes split_offsets = _split_offsets(split_dims, X.strides[1])
    cdef amm_encode_problem problem = _problem(
        X, split_offsets, split_dims.shape[0], thresholds, packed.shape[1]
    )
    cdef _Job job = _job(&problem, n_row_blocks, simd_level)
    job.packed = &packed[0, 0, 0]
    return _encode(&job, n_threads, False)


def encode_codes(
    const floating[:, :] X,
    const intp_t[:, ::1] split_dims,
    const floating[:, :, ::1] thresholds,
    uint8_t[:, ::1] codes,
    int simd_level,
    int n_threads,
):
    """Write the code of every row in every codebook into ``codes``.

    Parameters
    ----------
    X, split_dims, thresholds, simd_level, n_threads
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
    cdef Py_ssize_t n_row_blocks = (n_samples + AMM_ROWS_PER_ROW_BLOCK - 1) // AMM_ROWS_PER_ROW_BLOCK
    cdef Py_ssize_t n_pairs = (n_codebooks + 1) // 2
    _check_trees(X.shape[1], split_dims, thresholds, simd_level)
    if codes.shape[0] != n_samples or codes.shape[1] != n_codebooks:
        raise ValueError(
            f"codes must have shape ({n_samples}, {n_codebooks}), got "
            f"({codes.shape[0]}, {codes.shape[1]})"
        )
    if n_samples == 0 or n_codebooks == 0:
        return False

    cdef bytes split_offsets = _split_offsets(split_dims, X.strides[1])
    cdef amm_encode_problem problem = _problem(
        X, split_offsets, n_codebooks, thresholds, n_pairs
    )
    # The kernels write the packed layout; each thread packs a task's row
    # blocks into its scratch, then unpacks them into the rows of ``codes``.
    cdef _Job job = _job(&problem, n_row_blocks, simd_level)
    job.codes = &codes[0, 0]
    return _encode(&job, n_threads, True)


def encode_scan_dequantized(
    const floating[:, :] X,
    const intp_t[:, ::1] split_dims,
    const floating[:, :, ::1] thresholds,
    const uint8_t[:, :, ::1] tables,
    bint average,
    const out_floating[::1] multiplier,
    const out_floating[::1] shift,
    out_floating[:, :] out,
    int simd_level,
    int n_threads,
):
    """Write the de-quantized approximate products of every row into ``out``.

    The same result as :func:`encode_packed` followed by
    ``_scan.scan_dequantized``, bit for bit, with codes that live only in a
    per-thread buffer of at most ``TASK_CODE_BYTES``.

    Parameters
    ----------
    X, split_dims, thresholds, simd_level, n_threads
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
    cdef Py_ssize_t n_row_blocks = (n_samples + AMM_ROWS_PER_ROW_BLOCK - 1) // AMM_ROWS_PER_ROW_BLOCK
    _check_trees(X.shape[1], split_dims, thresholds, simd_level)
    _check_scan_buffers(n_samples, n_codebooks, tables, multiplier, shift, out)
    if n_row_blocks == 0:
        return False

    cdef Py_ssize_t n_pairs = tables.shape[1] // 2
    cdef bytes split_offsets = _split_offsets(split_dims, X.strides[1])
    cdef amm_encode_problem encoding = _problem(
        X, split_offsets, n_codebooks, thresholds, n_pairs
    )
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

    # Each thread scans the codes of its task's rows as soon as it has
    # written them, in its scratch.
    cdef _Job job = _job(&encoding, n_row_blocks, simd_level)
    job.scan = &scan
    job.out_itemsize = sizeof(out_floating)
    return _encode(&job, n_threads, True)


cdef int _check_scan_buffers(
    Py_ssize_t n_samples,
    Py_ssize_t n_codebooks,
    const uint8_t[:, :, ::1] tables,
    const out_floating[::1] multiplier,
    const out_floating[::1] shift,
    out_floating[:, :] out,
) except -1:
    """Raise ValueError on any shape the fused scan would read or write
    out of bounds with (the checks the separate scan makes too)."""
    if n_codebooks < 1:
        raise ValueError(f"split_dims must hold at least one codebook, got {n_codebooks}")
    cdef int n_padded = amm_scan_n_padded(<int> n_codebooks)
    check_scan_buffers(tables.shape, n_padded, out.shape, out.strides[1],
                       sizeof(out_floating), n_samples)
    check_dequantization(multiplier.shape[0], shift.shape[0], out.shape[0])
    return 0


cdef int _check_trees(
    Py_ssize_t n_features,
    const intp_t[:, ::1] split_dims,
    const floating[:, :, ::1] thresholds,
    int simd_level,
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
    expected = (n_codebooks, AMM_TREE_DEPTH, AMM_TREE_WIDTH)
    got = (thresholds.shape[0], thresholds.shape[1], thresholds.shape[2])
    if got != expected:
        raise ValueError(f"thresholds must have shape {expected}, got {got}")
    for c in range(n_codebooks):
        for t in range(AMM_TREE_DEPTH):
            if not 0 <= split_dims[c, t] < n_features:
                raise ValueError(
                    f"split_dims[{c}, {t}] = {split_dims[c, t]} is not a column "
                    f"of X, which has {n_features}"
                )
    if not amm_cpu_supports(simd_level):
        raise ValueError(f"SIMD level {simd_level} is not supported by this CPU")
    return 0


cdef struct _Job:
    # One call's work, shared by its tasks: each encodes row blocks
    # [begin, end) into ``packed`` (or into its scratch), then unpacks them
    # into ``codes`` or scans them, when those are set.
    const amm_encode_problem *encoding
    const amm_scan_problem *scan  # the whole problem; codes unset
    Py_ssize_t out_itemsize       # bytes per value of scan.out
    uint8_t *packed
    uint8_t *codes
    int simd_level
    Py_ssize_t n_row_blocks
    Py_ssize_t n_threads
    Py_ssize_t n_tasks
    Py_ssize_t row_blocks_per_task
    # Each thread's row of scratch: its task's packed codes (packed_bytes,
    # 0 when written to ``packed``), then the encoder's (kernel_bytes).
    uint8_t *scratch
    Py_ssize_t scratch_row_bytes
    Py_ssize_t packed_bytes
    size_t kernel_bytes


cdef _Job _job(const amm_encode_problem *encoding, Py_ssize_t n_row_blocks, int simd_level):
    """A job encoding ``n_row_blocks`` row blocks, with no output set yet."""
    cdef _Job job
    job.encoding = encoding
    job.scan = NULL
    job.out_itemsize = 0
    job.packed = NULL
    job.codes = NULL
    job.simd_level = simd_level
    job.n_row_blocks = n_row_blocks
    job.n_threads = 1
    job.n_tasks = 0
    job.row_blocks_per_task = 0
    job.scratch = NULL
    job.scratch_row_bytes = 0
    job.packed_bytes = 0
    job.kernel_bytes = 0
    return job


cdef bint _encode(_Job *job, Py_ssize_t n_threads, bint packs_in_scratch):
    """Plan and run the job; whether a value compared was not finite."""
    cdef int nonfinite
    scratch = _plan(job, n_threads, packs_in_scratch)  # alive until the job ends
    with nogil:
        nonfinite = _run(job)
    return nonfinite != 0


cdef _plan(_Job *job, Py_ssize_t n_threads, bint packs_in_scratch):
    """Share the job's row blocks among ``n_threads`` threads, and allocate
    their scratch; returns the array that holds it (or None), to be kept
    alive while the job runs.

    At most TASK_CODE_BYTES of codes and at least MIN_TASK_ROW_BLOCKS row
    blocks per task; within that, a multiple of the thread count of tasks of
    (nearly) equal size, which a static schedule shares evenly. Any split
    gives the same codes.
    """
    cdef Py_ssize_t row_block_bytes = job.encoding.n_pairs * AMM_ROWS_PER_ROW_BLOCK
    cdef Py_ssize_t max_row_blocks = max(TASK_CODE_BYTES // max(row_block_bytes, 1), 1)
    cdef Py_ssize_t n_tasks = (job.n_row_blocks + max_row_blocks - 1) // max_row_blocks
    job.n_threads = max(n_threads, 1)
    n_tasks = (n_tasks + job.n_threads - 1) // job.n_threads * job.n_threads
    n_tasks = max(min(n_tasks, job.n_row_blocks // MIN_TASK_ROW_BLOCKS), 1)
    job.row_blocks_per_task = max((job.n_row_blocks + n_tasks - 1) // n_tasks, 1)
    job.n_tasks = (job.n_row_blocks + job.row_blocks_per_task - 1) // job.row_blocks_per_task
    job.packed_bytes = (
        _aligned(job.row_blocks_per_task * row_block_bytes) if packs_in_scratch else 0
    )
    job.kernel_bytes = amm_encode_scratch_bytes(job.encoding, job.simd_level)
    job.scratch_row_bytes = _aligned(job.packed_bytes + job.kernel_bytes)
    job.scratch = NULL
    if job.packed_bytes + job.kernel_bytes == 0:
        return None  # most calls (F-order X, into ``packed``): no allocation
    scratch = np.empty((job.n_threads, job.scratch_row_bytes), dtype=np.uint8)
    job.scratch = <uint8_t *> cnp.PyArray_DATA(scratch)
    return scratch


cdef Py_ssize_t _aligned(Py_ssize_t n_bytes):
    """``n_bytes`` rounded up to a multiple of SCRATCH_ALIGNMENT (at least one)."""
    return (max(n_bytes, 1) + SCRATCH_ALIGNMENT - 1) // SCRATCH_ALIGNMENT * SCRATCH_ALIGNMENT


cdef int _run(const _Job *job) noexcept nogil:
    """Run every task of the job; the number of tasks that met a non-finite value."""
    cdef Py_ssize_t task
    cdef int nonfinite = 0
    if job.n_tasks == 1:
        # No parallel region: waking threads costs more than the work.
        return _run_task(job, 0, 0)
    # nonfinite is a reduction: each thread counts its tasks' reports;
    # num_threads pins the team to the rows of the scratch.
    for task in prange(job.n_tasks, schedule="static", num_threads=job.n_threads):
        nonfinite += _run_task(job, task, threadid())
    return nonfinite


cdef int _run_task(const _Job *job, Py_ssize_t task, Py_ssize_t thread) noexcept nogil:
    """Encode the row blocks of one task, then unpack or scan their codes.

    The scan sees the task's row blocks as a problem of their own: its codes
    start at row block ``begin``, and so do its rows of the output.
    """
    cdef const amm_encode_problem *encoding = job.encoding
    cdef Py_ssize_t begin = task * job.row_blocks_per_task
    cdef Py_ssize_t end = min(begin + job.row_blocks_per_task, job.n_row_blocks)
    cdef Py_ssize_t first_row = begin * AMM_ROWS_PER_ROW_BLOCK
    cdef Py_ssize_t n_rows = min(encoding.n_samples - first_row,
                                 (end - begin) * AMM_ROWS_PER_ROW_BLOCK)
    cdef uint8_t *scratch = NULL
    cdef uint8_t *kernel_scratch = NULL
    cdef uint8_t *packed
    cdef amm_scan_problem scan
    cdef int nonfinite
    if job.scratch != NULL:
        scratch = job.scratch + thread * job.scratch_row_bytes
        kernel_scratch = scratch + job.packed_bytes
    if job.packed != NULL:
        packed = job.packed + begin * encoding.n_pairs * AMM_ROWS_PER_ROW_BLOCK
    else:
        packed = scratch
    nonfinite = amm_encode_row_blocks(
        encoding, begin, end, packed, job.simd_level, kernel_scratch, job.kernel_bytes
    ) != 0
    if job.codes != NULL:
        amm_unpack_row_blocks(
            packed, encoding.n_pairs, n_rows, encoding.n_codebooks,
            job.codes + first_row * encoding.n_codebooks, encoding.n_codebooks,
        )
    if job.scan != NULL and job.scan.n_outputs > 0:
        scan = job.scan[0]
        scan.codes = packed
        scan.n_samples = n_rows
        scan.out = (<char *> job.scan.out) + first_row * job.out_itemsize
        amm_scan_blocks(&scan, 0, end - begin, job.simd_level)
    return nonfinite


cdef bytes _split_offsets(const intp_t[:, ::1] split_dims, Py_ssize_t column_stride):
    """Byte offset of each split column from the start of a row, as the
    ``ptrdiff_t`` array [n_codebooks][4] held by a new bytes object; the
    caller keeps the object alive while the kernels read it.

    A loop rather than ``np.asarray(split_dims) * column_stride`` (making an
    array of the memoryview cost about 2 us, half of a small call), into
    bytes rather than a new NumPy array (with its memoryview, about 1 us of
    a 3 to 4 us call on one row block at 16 codebooks). A bytes object just
    made, not yet shared, may be written.
    """
    cdef Py_ssize_t n_splits = split_dims.shape[0] * AMM_TREE_DEPTH
    cdef bytes buffer = PyBytes_FromStringAndSize(NULL, max(n_splits, 1) * sizeof(ptrdiff_t))
    cdef ptrdiff_t *offsets = <ptrdiff_t *> PyBytes_AS_STRING(buffer)
    cdef Py_ssize_t c, t
    for c in range(split_dims.shape[0]):
        for t in range(AMM_TREE_DEPTH):
            offsets[c * AMM_TREE_DEPTH + t] = split_dims[c, t] * column_stride
    return buffer


cdef amm_encode_problem _problem(
    const floating[:, :] X,
    bytes split_offsets,
    Py_ssize_t n_codebooks,
    const floating[:, :, ::1] thresholds,
    Py_ssize_t n_pairs,
):
    cdef amm_encode_problem problem
    problem.X = <const char *> &X[0, 0]
    problem.itemsize = sizeof(floating)
    problem.row_stride = X.strides[0]
    problem.col_stride = X.strides[1]
    problem.n_samples = X.shape[0]
    problem.n_features = X.shape[1]
    problem.n_codebooks = n_codebooks
    problem.split_offsets = (
        <const ptrdiff_t *> PyBytes_AS_STRING(split_offsets) if n_codebooks else NULL
    )
    problem.thresholds = <const void *> &thresholds[0, 0, 0] if thresholds.shape[0] else NULL
    problem.n_pairs = n_pairs
    # Walk the rows one at a time when a row's values are closer together
    # than a column's (C order); otherwise stream down the columns.
    problem.by_rows = abs(X.strides[1]) <= abs(X.strides[0])
    return problem
