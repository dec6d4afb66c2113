"""How a fitted MaddnessTransformer computes its product, past validation.

Float tables are aggregated in NumPy a chunk of rows at a time
(:func:`float_product`); quantized tables go through the fused compiled
encoder and scan, whose padded tables and de-quantization constants
(:func:`scan_inputs`) are derived once from the fitted attributes.
"""

import numpy as np

from ._aggregation import aggregate_float, dequantization_arrays
from ._encoding import encode_rows
from ._layout import ROWS_PER_BLOCK, averaging_bias, pad_tables

# Bytes of codes per chunk of rows when transform aggregates float tables:
# the memory it needs beyond X and its result stays a few megabytes however
# many rows there are (the codes of 10 million rows at C=16 take 160 MB),
# while each chunk is large enough that waking the encoder's threads, which
# can take a scheduler slice on a busy machine, costs little. (Quantized
# tables need no chunks: the fused kernel keeps codes per thread.)
_FLOAT_CHUNK_CODE_BYTES = 1 << 22


def _chunk_rows(budget, row_cost):
    """Rows per chunk: as many as ``budget`` allows at ``row_cost`` each.

    A multiple of the encoder's 32-row blocks when there is room for one, so
    that only the last chunk ends in a partial block.
    """
    rows = max(1, budget // row_cost)
    return rows if rows < ROWS_PER_BLOCK else rows - rows % ROWS_PER_BLOCK


def _row_chunks(X, chunk_rows):
    """``(rows, X[rows])`` for consecutive slices of ``chunk_rows`` rows.

    ``X`` itself when it fits in one chunk, so that the kernels get the
    caller's array (no new view) in the common case.
    """
    n_samples = X.shape[0]
    if n_samples <= chunk_rows:
        yield slice(0, n_samples), X
        return
    for start in range(0, n_samples, chunk_rows):
        rows = slice(start, start + chunk_rows)
        yield rows, X[rows]


def float_product(X, split_dims, thresholds, tables, dtype, offset=None):
    """The product of validated rows from float tables, plus ``offset``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Validated rows.
    split_dims, thresholds : ndarray
        The fitted trees (``split_dims_``, ``split_thresholds_``).
    tables : ndarray of shape (n_outputs, n_codebooks, 16), dtype=float64
        The fitted float tables.
    dtype : type
        The result's, float32 or float64.
    offset : ndarray of shape (n_outputs,), default=None
        Added to every row.

    Returns
    -------
    Y_hat : ndarray of shape (n_samples, n_outputs)
    """
    n_outputs, n_codebooks = tables.shape[:2]
    Y_hat = np.empty((X.shape[0], n_outputs), dtype=dtype)
    chunk = _chunk_rows(_FLOAT_CHUNK_CODE_BYTES, n_codebooks)
    for rows, X_rows in _row_chunks(X, chunk):
        codes = encode_rows(X_rows, split_dims, thresholds)
        aggregate_float(codes, tables, out=Y_hat[rows])
    if offset is not None:
        Y_hat += offset.astype(dtype, copy=False)
    return Y_hat


def output_biases(luts, aggregation):
    """Averaging bias per output, in quantized units: (n_outputs,) array.

    Parameters
    ----------
    luts : ndarray of shape (n_outputs, n_codebooks, 16), dtype=uint8
        The quantized tables.
    aggregation : {"average", "sum"}
        How the entries are combined; only averaging has a bias.
    """
    n_outputs, n_codebooks = luts.shape[:2]
    # The bias assumes a pair of entries has an odd sum half the time.
    # An output whose tables are all zero (e.g. a zero column of weights)
    # never rounds, so its average is exact and has no bias.
    if aggregation != "average":
        return np.zeros(n_outputs)
    bias = averaging_bias(n_codebooks)
    return np.where(luts.any(axis=(1, 2)), bias, 0.0)


def scan_inputs(luts, lut_offsets, lut_scale):
    """What the compiled scan needs, computed once at fit.

    Parameters
    ----------
    luts : ndarray of shape (n_outputs, n_codebooks, 16), dtype=uint8
        The quantized tables.
    lut_offsets, lut_scale : ndarray or float
        Their fitted offsets and scale.

    Returns
    -------
    scan : tuple
        ``(tables, constants)``: the quantized tables zero-padded to the
        packed layout, and ``constants[aggregation][dtype] = (multiplier,
        shift)`` for both float dtypes and both aggregations: transform
        uses the fitted one, and the benchmarks and tests time or check
        the other against the same tables.
    """
    constants = {
        aggregation: dequantization_arrays(
            lut_offsets, lut_scale, output_biases(luts, aggregation), luts.shape[0]
        )
        for aggregation in ("average", "sum")
    }
    return pad_tables(luts), constants
