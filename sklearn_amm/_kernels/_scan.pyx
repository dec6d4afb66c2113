"""Scan and aggregate packed codes: the entries of uint8 tables the codes select,
combined per row and output (scan.h has the definition).

Two entry points over buffers the caller allocates, with the same inputs:
``scan_totals`` writes the integer totals (or, into uint8, the group averages
``total / width`` of a single averaging group), ``scan_dequantized`` writes
``float(total) * multiplier[m] + shift[m]``. Each output element depends on one
row only, so any thread count gives the same bits.
"""

from cython cimport floating
from cython.parallel cimport prange
from libc.stdint cimport int32_t, uint8_t, uint16_t

from sklearn_amm._kernels._c_scan cimport (
    AMM_OUT_FLOAT32,
    AMM_OUT_FLOAT64,
    AMM_OUT_INT32,
    AMM_OUT_UINT8,
    AMM_OUT_UINT16,
    AMM_ROWS_PER_BLOCK,
    AMM_SCAN_AVERAGE,
    AMM_SCAN_GROUP_SIZE,
    AMM_SCAN_MAX_U16_CODEBOOKS,
    AMM_SCAN_SUM,
    amm_scan_blocks,
    amm_scan_chunk_blocks,
    amm_scan_n_padded,
    amm_scan_problem,
    check_dequantization,
    check_scan_buffers,
)

ctypedef fused totals_t:
    uint8_t
    uint16_t
    int32_t

# Work per thread before a second one is worth waking, in (row block, output,
# code column) steps of about 0.7 ns each with AVX2: some 20 us. Below that,
# starting and joining threads costs more than it saves, and far more on a
# busy machine, where a thread can wait a whole scheduler slice to run.
cdef enum:
    MIN_STEPS_PER_THREAD = 1 << 15

ROWS_PER_BLOCK = AMM_ROWS_PER_BLOCK
MAX_UINT16_CODEBOOKS = AMM_SCAN_MAX_U16_CODEBOOKS
# Codebooks averaged together in one uint8 tree.
GROUP_SIZE = AMM_SCAN_GROUP_SIZE


def n_padded_codebooks(int n_codebooks):
    """Codebooks in the packed layout (the C twin of ``_layout.n_padded_codebooks``)."""
    return amm_scan_n_padded(n_codebooks)


def chunk_rows(int n_codebooks):
    """Rows of the kernels' cache chunks (row blocks scanned together per tile)."""
    cdef Py_ssize_t blocks = amm_scan_chunk_blocks(amm_scan_n_padded(n_codebooks))
    return blocks * AMM_ROWS_PER_BLOCK


def scan_totals(
    const uint8_t[:, :, ::1] codes,
    const uint8_t[:, :, ::1] tables,
    Py_ssize_t n_samples,
    int n_codebooks,
    bint average,
    totals_t[:, :] out,
    int level,
    int n_threads,
):
    """Write the integer totals of every row and output into ``out``.

    Parameters
    ----------
    codes : ndarray of shape (n_blocks, n_padded // 2, 32), dtype=np.uint8
        Packed codes (``_layout.pack_codes``), ``n_blocks = ceil(n_samples / 32)``.
    tables : ndarray of shape (n_outputs, n_padded, 16), dtype=np.uint8
        Tables zero-padded to ``n_padded = n_padded_codebooks(n_codebooks)``
        (``_layout.pad_tables``). Padding tables must be all zero.
    n_samples : int
        Rows; codes of rows past it are ignored.
    n_codebooks : int
        The real number of codebooks ``C``, which sets the averaging groups.
    average : bool
        Averaging tree (``_reference.aggregate_average``) if True, exact sum
        (``_reference.aggregate_sum``) if False.
    out : ndarray of shape (n_outputs, n_samples), dtype={np.uint16, np.int32, np.uint8}
        Output; each row contiguous, any distance between rows. uint16 holds
        any total when ``n_padded <= 256`` (at most ``255 * n_padded``);
        int32 always. uint8, for ``average`` with ``n_codebooks <= 16``
        only, gets the root of the one averaging tree, ``total / width``, as
        the authors' kernel writes it.
    level : int
        SIMD level (``_simd``), one this CPU supports.
    n_threads : int
        Most OpenMP threads to run on (fewer for little work); any number
        gives the same bits.
    """
    cdef int output
    if totals_t is uint8_t:
        output = AMM_OUT_UINT8
        if not average or n_codebooks > 16:
            raise ValueError(
                "uint8 output holds the root of a single averaging tree: it "
                f"needs average=True and n_codebooks <= 16, got {average} and "
                f"{n_codebooks}"
            )
    elif totals_t is uint16_t:
        output = AMM_OUT_UINT16
    else:
        output = AMM_OUT_INT32
    if totals_t is uint16_t and tables.shape[1] > AMM_SCAN_MAX_U16_CODEBOOKS:
        raise ValueError(
            f"uint16 totals need at most {AMM_SCAN_MAX_U16_CODEBOOKS} padded "
            f"codebooks, got {tables.shape[1]}: use int32"
        )
    cdef int n_padded = _check_codes(codes, n_samples, n_codebooks)
    check_scan_buffers(tables.shape, n_padded, out.shape, out.strides[1],
                       sizeof(totals_t), n_samples)
    _scan(codes, tables, n_samples, n_codebooks, average, output,
          &out[0, 0] if out.shape[0] > 0 and out.shape[1] > 0 else NULL,
          out.strides[0] // sizeof(totals_t), NULL, NULL, level, n_threads)


def scan_dequantized(
    const uint8_t[:, :, ::1] codes,
    const uint8_t[:, :, ::1] tables,
    Py_ssize_t n_samples,
    int n_codebooks,
    bint average,
    const floating[::1] multiplier,
    const floating[::1] shift,
    floating[:, :] out,
    int level,
    int n_threads,
):
    """Write ``float(total) * multiplier[m] + shift[m]`` for every row and output.

    The multiply and the add each round once in the output dtype, as
    ``_reference.dequantize`` does, so the results are bit-identical to it.

    Parameters
    ----------
    codes, tables, n_samples, n_codebooks, average, level, n_threads
        As in :func:`scan_totals`.
    multiplier, shift : ndarray of shape (n_outputs,), dtype=out.dtype
        Per-output de-quantization constants.
    out : ndarray of shape (n_outputs, n_samples), dtype={np.float32, np.float64}
        Output; each row contiguous, any distance between rows.
    """
    cdef int output = AMM_OUT_FLOAT32 if floating is float else AMM_OUT_FLOAT64
    cdef int n_padded = _check_codes(codes, n_samples, n_codebooks)
    check_scan_buffers(tables.shape, n_padded, out.shape, out.strides[1],
                       sizeof(floating), n_samples)
    check_dequantization(multiplier.shape[0], shift.shape[0], out.shape[0])
    if out.shape[0] == 0 or out.shape[1] == 0:
        return
    _scan(codes, tables, n_samples, n_codebooks, average, output, &out[0, 0],
          out.strides[0] // sizeof(floating), &multiplier[0], &shift[0], level,
          n_threads)


cdef int _check_codes(
    const uint8_t[:, :, ::1] codes, Py_ssize_t n_samples, int n_codebooks
) except -1:
    """The padded codebooks of a valid ``codes``; else ValueError (a
    mismatch would make the scan read out of bounds)."""
    if n_codebooks < 1:
        raise ValueError(f"n_codebooks must be >= 1, got {n_codebooks}")
    cdef int n_padded = amm_scan_n_padded(n_codebooks)
    cdef Py_ssize_t n_blocks = (
        (n_samples + AMM_ROWS_PER_BLOCK - 1) // AMM_ROWS_PER_BLOCK
    )
    if (
        codes.shape[0] != n_blocks
        or codes.shape[1] != n_padded // 2
        or codes.shape[2] != AMM_ROWS_PER_BLOCK
    ):
        raise ValueError(
            f"codes must have shape ({n_blocks}, {n_padded // 2}, "
            f"{AMM_ROWS_PER_BLOCK}) for {n_samples} rows and {n_codebooks} "
            f"codebooks, got ({codes.shape[0]}, {codes.shape[1]}, {codes.shape[2]})"
        )
    return n_padded


cdef void _scan(
    const uint8_t[:, :, ::1] codes,
    const uint8_t[:, :, ::1] tables,
    Py_ssize_t n_samples,
    int n_codebooks,
    bint average,
    int output,
    void *out,
    Py_ssize_t out_stride,
    const void *multiplier,
    const void *shift,
    int level,
    int n_threads,
) noexcept:
    cdef amm_scan_problem problem
    cdef Py_ssize_t n_blocks = codes.shape[0]
    if n_blocks == 0 or tables.shape[0] == 0:
        return
    problem.codes = &codes[0, 0, 0]
    problem.tables = &tables[0, 0, 0]
    problem.n_samples = n_samples
    problem.n_codebooks = n_codebooks
    problem.n_padded = tables.shape[1]
    problem.n_outputs = tables.shape[0]
    problem.mode = AMM_SCAN_AVERAGE if average else AMM_SCAN_SUM
    problem.output = output
    problem.out = out
    problem.out_stride = out_stride
    problem.multiplier = multiplier
    problem.shift = shift

    # One contiguous range of blocks per thread (static schedule): each
    # thread streams its own rows and the work is even.
    cdef Py_ssize_t steps = n_blocks * problem.n_outputs * (problem.n_padded // 2)
    cdef Py_ssize_t n_tasks = min(
        max(n_threads, 1), n_blocks, max(1, steps // MIN_STEPS_PER_THREAD)
    )
    cdef Py_ssize_t per_task = (n_blocks + n_tasks - 1) // n_tasks
    cdef Py_ssize_t task
    with nogil:
        if n_tasks == 1:
            amm_scan_blocks(&problem, 0, n_blocks, level)
        else:
            for task in prange(n_tasks, schedule="static", num_threads=n_tasks):
                amm_scan_blocks(
                    &problem,
                    task * per_task,
                    min((task + 1) * per_task, n_blocks),
                    level,
                )
