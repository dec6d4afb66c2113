"""Readable NumPy reference of the inference steps of MADDNESS.

This module is the oracle every compiled kernel is tested against, and the
place to step through the method with a debugger. Speed is not a goal here:
each function does one step, the obvious way.

The steps, for rows ``X`` and a known matrix ``B`` (``weights``)::

    codes  = encode(X, split_dims, thresholds)          # g(A): comparisons only
    tables = build_tables(prototypes, B)                # h(B), offline
    q, offsets, scale = quantize_tables(
        tables, reachable=reachable_leaves(thresholds)
    )                                                   # uint8 tables
    totals = aggregate_average(codes, q)                # f: adds bytes
    Y_hat  = dequantize(totals, offsets, scale, bias=averaging_bias(C))

The learning steps (trees, prototypes) and the table steps are pure NumPy
too; they live in their own modules and are re-exported here so this one
module covers the whole method.
"""

import operator

import numpy as np

from ._blocks import codebook_bounds
from ._hash_tree import N_LEVELS, learn_hash_tree, reachable_leaves
from ._prototypes import bucket_means, ridge_refit
from ._split_search import optimal_split
from ._tables import build_tables, quantize_tables

__all__ = [
    "codebook_bounds",
    "optimal_split",
    "learn_hash_tree",
    "bucket_means",
    "ridge_refit",
    "build_tables",
    "reachable_leaves",
    "quantize_tables",
    "encode",
    "aggregate_sum",
    "aggregate_average",
    "averaging_groups",
    "averaging_bias",
    "dequantize",
    "aggregate_float",
]

# Codebooks averaged together in uint8 before their averages are added in a
# wider integer: the authors' choice, which keeps the rounding noise of the
# averaging tree bounded while letting one 8-bit register hold a group.
GROUP_SIZE = 16


def encode(X, split_dims, thresholds):
    """Codes of the rows: walk each codebook's 4-level tree.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Rows to encode, float32 or float64.
    split_dims : ndarray of shape (n_codebooks, 4)
        Column of ``X`` compared at each level of each tree.
    thresholds : ndarray of shape (n_codebooks, 4, 8)
        ``thresholds[c, t, node]``; the comparison ``x > t`` sends a row right.
        The comparison is exact (NumPy compares float32 with float64 by
        widening the float32 value).

    Returns
    -------
    codes : ndarray of shape (n_samples, n_codebooks), dtype=uint8
        Leaf ids 0..15; the level-0 decision is the most significant bit.
    """
    n_samples = X.shape[0]
    n_codebooks = split_dims.shape[0]
    codes = np.zeros((n_samples, n_codebooks), dtype=np.uint8)
    for c in range(n_codebooks):
        node = np.zeros(n_samples, dtype=np.intp)
        for level in range(N_LEVELS):
            x = X[:, split_dims[c, level]]
            goes_right = x > thresholds[c, level, node]
            node = 2 * node + goes_right
        codes[:, c] = node
    return codes


def _lookup(codes, tables):
    """``values[n, m, c] = tables[m, c, codes[n, c]]``."""
    n_codebooks = codes.shape[1]
    return tables[:, np.arange(n_codebooks), codes].transpose(1, 0, 2)


def aggregate_sum(codes, tables):
    """Exact integer sum of the uint8 table entries the codes select.

    Returns
    -------
    totals : ndarray of shape (n_samples, n_outputs), dtype=int64
        ``totals[n, m] = sum_c tables[m, c, codes[n, c]]``.
    """
    return _lookup(codes, tables).sum(axis=2, dtype=np.int64)


def averaging_groups(n_codebooks):
    """Sizes of the groups of consecutive codebooks averaged together in uint8.

    Groups hold 16 codebooks, the last one the remainder. A group of ``g``
    codebooks is averaged by a binary tree of width ``2**ceil(log2(g))``,
    padded with codebooks whose entries are all zero.

    Returns
    -------
    sizes : list of int
    widths : list of int
        The padded tree width of each group (a power of two).
    """
    sizes, widths = [], []
    remaining = operator.index(n_codebooks)
    while remaining > 0:
        size = min(GROUP_SIZE, remaining)
        width = 1
        while width < size:
            width *= 2
        sizes.append(size)
        widths.append(width)
        remaining -= size
    return sizes, widths


def aggregate_average(codes, tables):
    """Sum of table entries estimated by uint8 averaging trees, as the scan kernel does.

    Within a group, adjacent entries are averaged pairwise with
    ``(a + b + 1) >> 1`` (the ``avg_epu8`` instruction) until one byte is
    left; that byte times the tree width estimates the group's sum. The group
    estimates are added exactly. Rounding up makes the estimate biased; see
    :func:`averaging_bias`.

    Returns
    -------
    totals : ndarray of shape (n_samples, n_outputs), dtype=int64
        The uncorrected estimate of :func:`aggregate_sum`.
    """
    values = _lookup(codes, tables).astype(np.int64)
    n_samples, n_outputs, n_codebooks = values.shape
    totals = np.zeros((n_samples, n_outputs), dtype=np.int64)
    start = 0
    for size, width in zip(*averaging_groups(n_codebooks)):
        tree = np.zeros((n_samples, n_outputs, width), dtype=np.int64)
        tree[:, :, :size] = values[:, :, start : start + size]
        while tree.shape[2] > 1:
            tree = (tree[:, :, 0::2] + tree[:, :, 1::2] + 1) >> 1
        totals += tree[:, :, 0] * width
        start += size
    return totals


def averaging_bias(n_codebooks):
    """Expected excess of :func:`aggregate_average` over the exact sum.

    A node at level ``l`` of an averaging tree (level 1 averages two
    entries) rounds up half the time, adding 0.5 with probability 1/2, i.e.
    0.25 in its own units and ``0.25 * 2**l`` once scaled back to a sum. A
    node whose leaves are all zero padding never rounds. Summing over the
    nodes of every group gives the bias, ``C / 4 * log2(16)`` for full groups
    as in the paper. It is subtracted exactly, as a float, so no fraction is
    left over (the authors truncate it to an integer, leaving 0.5 for C = 2).

    Returns
    -------
    bias : float
        In quantized units.
    """
    bias = 0.0
    for size, width in zip(*averaging_groups(n_codebooks)):
        # The tree of aggregate_average, level by level: which of its nodes
        # have a real (not padding) codebook below them.
        real = np.arange(width) < size
        span = 1
        while real.size > 1:
            real = real[0::2] | real[1::2]
            span *= 2
            bias += 0.25 * span * int(np.count_nonzero(real))
    return bias


def dequantize(totals, offsets, scale, bias=0.0, dtype=np.float64):
    """Map quantized totals back to the units of the product.

    ``Y_hat = (totals - bias) / scale + sum(offsets)``, computed as
    ``totals * (1 / scale) + (sum(offsets) - bias / scale)`` in ``dtype``:
    one multiply and one add per output, the form the fused kernels use.

    Parameters
    ----------
    totals : ndarray of shape (n_samples, n_outputs)
        From :func:`aggregate_sum` or :func:`aggregate_average`.
    offsets : ndarray of shape (n_codebooks,) or (n_outputs, n_codebooks)
        Per-codebook table offsets, shared or per output.
    scale : float or ndarray of shape (n_outputs,)
        Table scale, shared or per output.
    bias : float or ndarray of shape (n_outputs,), default=0.0
        Expected excess of the aggregation, in quantized units.
    dtype : {np.float32, np.float64}, default=np.float64
        Output dtype.

    Returns
    -------
    Y_hat : ndarray of shape (n_samples, n_outputs), dtype=dtype
    """
    # Each constant rounded to ``dtype`` once, as the fused kernels take them.
    scale = np.asarray(scale, dtype=np.float64)
    multiplier = (1.0 / scale).astype(dtype)
    shift = (np.sum(offsets, axis=-1) - np.asarray(bias) / scale).astype(dtype)
    return totals.astype(dtype) * multiplier + shift


def aggregate_float(codes, tables, dtype=np.float64):
    """Exact sum of float table entries (the product of the reconstruction).

    Returns
    -------
    Y_hat : ndarray of shape (n_samples, n_outputs), dtype=dtype
    """
    return _lookup(codes, tables).sum(axis=2).astype(dtype)
