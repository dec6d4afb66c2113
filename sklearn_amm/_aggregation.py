"""Approximate products from codes: the sums of the table entries they select.

``Y_hat[n, m] = sum_c tables[m, c, codes[n, c]]``, for each kind of table:

* float tables (``quantize_luts=False``): :func:`aggregate_float` adds the
  float64 entries in NumPy;
* uint8 tables: the compiled scan reads packed codes (:mod:`._layout`) and
  tables zero-padded to the packed layout, and writes one row of results
  per output, arrays of shape (n_outputs, n_samples), so that the 32
  results of a row block for one output are adjacent. Their transpose is
  the (n_samples, n_outputs) product, in Fortran order, without a copy.

The scan gives three kinds of result:

* integer totals (:func:`aggregate_totals`), the exact sum of the entries or
  its estimate by uint8 averaging trees, e.g. for an argmax that needs no
  de-quantization;
* with one averaging group (16 codebooks or fewer), the group averages alone
  as uint8, ``total / width`` (:func:`aggregate_group_averages`): what the
  authors' kernel writes, with the same argmax as the totals;
* de-quantized floats ``float(total) * multiplier[m] + shift[m]``
  (:func:`aggregate_dequantized`), the constants of
  :func:`dequantization_arrays`, fused into the kernel's write.

:func:`encode_and_aggregate_dequantized` gives the last from rows rather than
codes: it encodes them in the same pass, so that the codes of all the rows
never exist at once. It is what ``transform`` runs on quantized tables.
"""

import numpy as np

from ._encoding import run_encoder
from ._kernels._cpu import openmp_max_threads
from ._kernels._encode import encode_scan_dequantized
from ._kernels._scan import MAX_UINT16_CODEBOOKS, scan_dequantized, scan_totals
from ._layout import GROUP_SIZE, n_padded_codebooks
from ._simd import active_level
from ._tables import dequantization_constants

FLOAT_DTYPES = (np.float32, np.float64)

# Rows per chunk when float tables are aggregated, sized so that the gathered
# table entries of one chunk stay around a few megabytes.
_FLOAT_CHUNK_ENTRIES = 1 << 22


def aggregate_float(codes, tables, out):
    """Sums of float table entries, a chunk of rows at a time.

    Parameters
    ----------
    codes : ndarray of shape (n_samples, n_codebooks), dtype=np.uint8
        Leaf ids 0..15.
    tables : ndarray of shape (n_outputs, n_codebooks, 16), dtype=np.float64
        Float tables.
    out : ndarray of shape (n_samples, n_outputs)
        Where to write, float32 or float64: each sum is taken in float64,
        over the codebooks in order of NumPy's pairwise summation, then
        rounded to ``out.dtype``.

    Returns
    -------
    out : ndarray of shape (n_samples, n_outputs)
        ``out[n, m] = sum_c tables[m, c, codes[n, c]]``.
    """
    n_samples, n_codebooks = codes.shape
    chunk = max(1, _FLOAT_CHUNK_ENTRIES // (tables.shape[0] * n_codebooks))
    columns = np.arange(n_codebooks)
    for start in range(0, n_samples, chunk):
        rows = slice(start, start + chunk)
        # (n_outputs, rows, n_codebooks), summed over the contiguous last axis.
        # One expression, so that a chunk's entries are freed before the next
        # chunk gathers its own: a name bound to them would keep two chunks
        # alive at once and double the peak memory.
        out[rows] = tables[:, columns, codes[rows]].transpose(1, 0, 2).sum(axis=2)
    return out


def _run_scan(kernel, inputs, out, level):
    """Call a scan kernel on ``inputs``, writing ``out`` at SIMD ``level``.

    ``inputs`` are the kernel's arguments before ``out``: the packed codes,
    the padded tables, the row and codebook counts, the choice of averaging
    and, for de-quantized floats, the multipliers and shifts. The kernel
    runs on as many threads as an OpenMP region would use now (threadpoolctl
    limits included).
    """
    kernel(*inputs, out, active_level() if level is None else level, openmp_max_threads())
    return out


def totals_dtype(n_codebooks):
    """Integer dtype that holds any total of ``n_codebooks`` codebooks.

    A total is at most ``255 * n_padded`` (the averaging tree never exceeds
    the largest entry times the tree width), so uint16 suffices up to 256
    padded codebooks (255 * 256 < 2**16) and int32 beyond.
    """
    if n_padded_codebooks(n_codebooks) <= MAX_UINT16_CODEBOOKS:
        return np.dtype(np.uint16)
    return np.dtype(np.int32)


def aggregate_totals(packed, tables, n_samples, n_codebooks, average, level=None):
    """Integer totals of packed codes.

    Parameters
    ----------
    packed : ndarray of shape (n_blocks, n_padded // 2, 32), dtype=np.uint8
        Codes in the packed layout, ``n_blocks = ceil(n_samples / 32)``.
    tables : ndarray of shape (n_outputs, n_padded, 16), dtype=np.uint8
        Quantized tables zero-padded by :func:`._layout.pad_tables`.
    n_samples : int
        Rows encoded in ``packed``.
    n_codebooks : int
        Codebooks before padding; it sets the averaging groups.
    average : bool
        The averaging tree if True, the exact sum if False.
    level : int, default=None
        SIMD level; None means :func:`._simd.active_level`.

    Returns
    -------
    totals : ndarray of shape (n_outputs, n_samples)
        dtype :func:`totals_dtype`; ``totals.T`` equals the reference's
        (n_samples, n_outputs) totals.
    """
    totals = np.empty((tables.shape[0], n_samples), dtype=totals_dtype(n_codebooks))
    inputs = (packed, tables, n_samples, n_codebooks, average)
    return _run_scan(scan_totals, inputs, totals, level)


def aggregate_dequantized(
    packed,
    tables,
    n_samples,
    n_codebooks,
    average,
    multiplier,
    shift,
    level=None,
    out=None,
):
    """De-quantized totals of packed codes, in the dtype of ``multiplier``.

    Parameters
    ----------
    packed, tables, n_samples, n_codebooks, average, level
        As in :func:`aggregate_totals`.
    multiplier, shift : ndarray of shape (n_outputs,), dtype={np.float32, np.float64}
        Output ``m`` is ``float(total) * multiplier[m] + shift[m]``, with
        two roundings in this dtype; see :func:`dequantization_arrays`.
    out : ndarray of shape (n_outputs, n_samples), default=None
        Where to write, dtype ``multiplier.dtype``, each row contiguous (any
        distance between rows, e.g. a block of columns of a larger array);
        None allocates it.

    Returns
    -------
    Y_hat : ndarray of shape (n_outputs, n_samples), dtype=multiplier.dtype
        ``out`` if given.
    """
    if out is None:
        out = np.empty((tables.shape[0], n_samples), dtype=multiplier.dtype)
    inputs = (packed, tables, n_samples, n_codebooks, average, multiplier, shift)
    return _run_scan(scan_dequantized, inputs, out, level)


def encode_and_aggregate_dequantized(
    X, split_dims, thresholds, tables, average, multiplier, shift, level=None
):
    """De-quantized totals of validated rows, encoded and scanned in one pass.

    What :func:`._encoding.encode_packed_rows` then
    :func:`aggregate_dequantized` give, bit for bit, but each thread scans
    the codes of its rows as soon as it has encoded them: the codes of all
    the rows never exist at once, so the memory used beyond ``X`` and the
    result is a small buffer per thread however many rows there are.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), dtype={np.float32, np.float64}
        Validated rows, any strides. Not copied.
    split_dims : ndarray of shape (n_codebooks, 4)
        Column compared at each level of each tree.
    thresholds : ndarray of shape (n_codebooks, 4, 8)
        Thresholds in any float dtype (see
        :func:`._encoding.thresholds_for_dtype`).
    tables, average, level
        As in :func:`aggregate_totals`.
    multiplier, shift : ndarray of shape (n_outputs,), dtype={np.float32, np.float64}
        As in :func:`aggregate_dequantized`; their dtype, not necessarily
        X's, is the result's.

    Returns
    -------
    Y_hat : ndarray of shape (n_outputs, n_samples), dtype=multiplier.dtype

    Raises
    ------
    ValueError
        If a split column holds NaN or infinity, unless ``assume_finite``
        is set (:func:`._validation.raise_if_nonfinite`).
    """
    Y_hat = np.empty((tables.shape[0], X.shape[0]), dtype=multiplier.dtype)
    scan_inputs = (tables, average, multiplier, shift)
    run_encoder(
        encode_scan_dequantized, X, split_dims, thresholds, scan_inputs, Y_hat, level
    )
    return Y_hat


def aggregate_group_averages(packed, tables, n_samples, n_codebooks, level=None):
    """Roots of the averaging trees, for at most 16 codebooks (one group).

    ``aggregate_average`` is then ``root * width`` with ``width`` the tree
    width (``n_codebooks`` rounded up to a power of two), so the roots carry
    the same information, one byte each: the output format of the authors'
    kernel, the cheapest to write, and enough for an argmax over outputs.

    Parameters
    ----------
    packed, tables, n_samples, n_codebooks, level
        As in :func:`aggregate_totals`; ``n_codebooks <= 16``.

    Returns
    -------
    roots : ndarray of shape (n_outputs, n_samples), dtype=np.uint8
    """
    if n_codebooks > GROUP_SIZE:
        raise ValueError(
            f"group averages need n_codebooks <= {GROUP_SIZE} (one averaging "
            f"group), got {n_codebooks}; use aggregate_totals"
        )
    roots = np.empty((tables.shape[0], n_samples), dtype=np.uint8)
    inputs = (packed, tables, n_samples, n_codebooks, True)
    return _run_scan(scan_totals, inputs, roots, level)


def dequantization_arrays(offsets, scale, bias, n_outputs):
    """Per-output multipliers and shifts of :func:`aggregate_dequantized`.

    ``offsets``, ``scale`` and ``bias`` are shared by all outputs or given
    per output (see :func:`._tables.dequantization_constants`); the scan
    takes one multiplier and one shift per output either way.

    Returns
    -------
    constants : dict
        ``{np.float32: (multiplier, shift), np.float64: (multiplier, shift)}``,
        each array of shape (n_outputs,) in that dtype.
    """
    constants = {}
    for dtype in FLOAT_DTYPES:
        # Computed ahead for both dtypes, so no overflow warning: tables too
        # wide for float32 give the infinite float32 constants of the
        # de-quantization, whether or not float32 rows are ever transformed.
        with np.errstate(over="ignore"):
            multiplier, shift = dequantization_constants(
                offsets, scale, bias, dtype
            )
        constants[dtype] = (
            np.full(n_outputs, multiplier, dtype=dtype),
            np.full(n_outputs, shift, dtype=dtype),
        )
    return constants
