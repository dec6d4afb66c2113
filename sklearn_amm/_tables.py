"""Lookup tables: the products of every prototype with the known matrix.

``tables[m, c, k] = prototypes[c, k] @ weights[:, m]``, so that the
approximate product of a row is a sum of table entries, one per codebook::

    (X_hat @ weights)[n, m] = sum_c tables[m, c, codes[n, c]]

For speed the tables are quantized to uint8 with one offset per codebook and
one scale shared by all codebooks and outputs. Sharing the scale means that a
sum of quantized entries is a sum of the real entries up to a single affine
map, which is what lets the scan kernels add (or average) bytes.
"""

import numpy as np


def build_tables(prototypes, weights=None):
    """Float lookup tables for a known matrix.

    Parameters
    ----------
    prototypes : ndarray of shape (n_codebooks, 16, n_features)
        Learned prototypes.
    weights : ndarray of shape (n_features, n_outputs) or None
        The known matrix ``B``; ``None`` means the identity, whose tables are
        the prototypes themselves.

    Returns
    -------
    tables : ndarray of shape (n_outputs, n_codebooks, 16), dtype=float64
        C-contiguous: the 16 entries of one (output, codebook) pair are
        adjacent, the layout of a 16-byte shuffle lookup.
    """
    n_codebooks, n_leaves, n_features = prototypes.shape
    if weights is None:
        return np.ascontiguousarray(prototypes.transpose(2, 0, 1))
    products = prototypes.reshape(n_codebooks * n_leaves, n_features) @ weights
    return np.ascontiguousarray(
        products.T.reshape(weights.shape[1], n_codebooks, n_leaves)
    )


def leaf_weights(codes, sample_weight=None):
    """Summed weight of the rows reaching each leaf of each tree.

    Parameters
    ----------
    codes : ndarray of shape (n_samples, n_codebooks), dtype=uint8
        Leaves of the training rows.
    sample_weight : ndarray of shape (n_samples,), default=None
        None counts every row once.

    Returns
    -------
    weights : ndarray of shape (n_codebooks, 16), dtype=float64
    """
    return np.stack(
        [
            np.bincount(codes[:, c], weights=sample_weight, minlength=16)[:16]
            for c in range(codes.shape[1])
        ]
    ).astype(np.float64, copy=False)


# Variance, in squared quantized units per codebook, of the rounding noise of
# an approximate product: 1/12 for rounding each entry, plus, for uint8
# averaging in groups of 16, the pairwise roundings (a node of level l adds
# 0.5 with probability 1/2: variance 4**l / 16 scaled back to a sum, 16 / 2**l
# such nodes, 30 units per group of 16 codebooks).
ROUNDING_VARIANCE = {"sum": 1 / 12, "average": 1 / 12 + 30 / 16}


def _clipping_sse(tables, counts, low, gap):
    """Row-weighted squared error of clipping each table to [low, low + gap]."""
    below = np.maximum(low[..., None] - tables, 0.0)
    above = np.maximum(tables - (low + gap)[..., None], 0.0)
    return ((below**2 + above**2) * counts).sum(axis=-1)


def _best_offsets(tables, counts, gap, lows, highs, n_iter=48):
    """Per table, the offset of a window of width ``gap`` with least clipping SSE.

    The clipping error is convex in the offset ``o``, its derivative
    ``sum(counts * ((o - t)_+ - (t - o - gap)_+))`` increasing, so bisection
    on its sign over ``[low, high - gap]`` finds the minimum. 48 halvings
    take it to about the rounding of the entries themselves, so that tables
    equal but for their last bits (sums in another order, a weight of 2
    against a repeated row) get offsets equal but for their last bits, not
    a step of the bisection apart. A table no wider than
    the window keeps its smallest entry (nothing clipped); only the wider
    ones are searched.
    """
    offsets = lows.copy()
    wide = highs - lows > gap[:, None]
    if not wide.any():
        return offsets
    outputs, codebooks = np.nonzero(wide)
    entries = tables[outputs, codebooks]
    weights = counts[codebooks]
    width = gap[outputs]
    a = lows[outputs, codebooks]
    b = highs[outputs, codebooks] - width
    for _ in range(n_iter):
        middle = (a + b) / 2
        slope = (
            weights
            * (
                np.maximum(middle[:, None] - entries, 0.0)
                - np.maximum(entries - (middle + width)[:, None], 0.0)
            )
        ).sum(axis=1)
        a = np.where(slope < 0, middle, a)
        b = np.where(slope < 0, b, middle)
    offsets[outputs, codebooks] = (a + b) / 2
    return offsets


def robust_ranges(tables, counts, lows, highs, rounding_variance, n_gaps=24,
                  patience=3):
    """Per-output gaps and per-table offsets minimising the expected squared error.

    The expected squared error of an output over the training rows is the
    clipping error of the entries the rows read (each leaf weighted by its
    count of training rows) plus the rounding noise, ``n_rows * n_codebooks
    * rounding_variance * (gap / 255)**2``. The widest table's range as gap
    clips nothing, but then a leaf of one training row with an extreme entry
    sets the step of every table of the output. Gaps are tried on a
    geometric grid from the widest range down to a hundredth of it; an
    output stops once its error has grown ``patience`` steps in a row (the
    clipping error only grows as the gap shrinks).

    Parameters
    ----------
    tables : ndarray of shape (n_outputs, n_codebooks, 16)
    counts : ndarray of shape (n_codebooks, 16)
        Training rows per leaf (0 for unreachable leaves).
    lows, highs : ndarray of shape (n_outputs, n_codebooks)
        Smallest and largest reachable entry of each table.
    rounding_variance : float
        Squared quantized units of rounding noise per codebook and row.

    Returns
    -------
    offsets : ndarray of shape (n_outputs, n_codebooks)
    gaps : ndarray of shape (n_outputs,)
    """
    n_codebooks = tables.shape[1]
    n_rows = counts.sum() / n_codebooks
    full = (highs - lows).max(axis=1)
    best_cost = np.full(full.shape, np.inf)
    best_gaps = full.copy()
    best_offsets = lows.copy()
    worse_steps = np.zeros(full.shape, dtype=np.intp)
    active = np.flatnonzero(full > 1e-300)
    for fraction in np.geomspace(1.0, 0.01, n_gaps):
        if not len(active):
            break
        gap = full[active] * fraction
        offsets = _best_offsets(
            tables[active], counts, gap, lows[active], highs[active]
        )
        cost = _clipping_sse(tables[active], counts, offsets, gap[:, None]).sum(axis=1)
        cost += n_rows * n_codebooks * rounding_variance * (gap / 255) ** 2
        better = cost < best_cost[active]
        best_cost[active[better]] = cost[better]
        best_gaps[active[better]] = gap[better]
        best_offsets[active[better]] = offsets[better]
        worse_steps[active] = np.where(better, 0, worse_steps[active] + 1)
        active = active[worse_steps[active] < patience]
    return best_offsets, best_gaps


def _costs_are_finite(tables, leaf_counts):
    """Whether the squared errors weighed by :func:`robust_ranges` fit in float64.

    Tables too large for that (products near the float64 limit) keep the
    widest range as their gap, and the finiteness check below then says
    what is wrong if even that overflows.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        span = np.max(tables) - np.min(tables)
        bound = np.square(span) * (np.sum(leaf_counts) + 1) * 1e3
    return bool(np.isfinite(bound))


def quantize_tables(
    tables,
    per_output=False,
    reachable=None,
    leaf_counts=None,
    rounding_variance=ROUNDING_VARIANCE["average"],
):
    """Quantize float tables to uint8 with per-codebook offsets.

    ``quantized = rint((tables - offsets) * scale)``. With one shared scale
    (the paper), ``offsets[c]`` is the smallest entry of codebook ``c`` over
    all outputs and ``scale = 255 / gap`` maps the widest codebook range
    ``gap`` onto 0..255. With ``per_output=True`` each output gets its own
    offsets and scale, so an output whose tables span a small range keeps
    the full 8-bit resolution instead of a few levels; a sum of quantized
    entries is still affine in the real sum, output by output, which is all
    the scan needs. (The authors round the scale down to a power of two times
    255, which can waste up to half of the 8-bit range; nothing downstream
    needs a power of two.) Each entry de-quantizes to within ``0.5 / scale``
    of its float value.

    Parameters
    ----------
    tables : ndarray of shape (n_outputs, n_codebooks, 16)
        Float tables from :func:`build_tables`.
    per_output : bool, default=False
        One scale and one set of offsets per output instead of one shared
        scale.
    reachable : ndarray of shape (n_codebooks, 16), dtype=bool, default=None
        Leaves some input can reach (see
        :func:`~sklearn_amm._hash_tree.reachable_leaves`). The entries of
        the others are never read, so they are left out of the offsets and
        scale (an empty leaf's zero prototype would otherwise stretch the
        range) and quantized to 0. None means all leaves.
    leaf_counts : ndarray of shape (n_codebooks, 16), default=None
        Training rows (or their summed weights) reaching each leaf. With
        ``per_output``, each output's scale and offsets then minimise the
        row-weighted squared error (:func:`robust_ranges`): an extreme entry
        read by very few rows is clipped rather than left to set the step of
        every table of its output. None keeps every entry in range.
    rounding_variance : float, default=ROUNDING_VARIANCE["average"]
        Rounding noise per codebook and row, in squared quantized units, of
        the aggregation the tables serve (see ``ROUNDING_VARIANCE``); used
        with ``leaf_counts`` only.

    Returns
    -------
    quantized : ndarray of shape (n_outputs, n_codebooks, 16), dtype=uint8
    offsets : ndarray of shape (n_codebooks,) or (n_outputs, n_codebooks)
        The value of a zero entry; 2-D when ``per_output``.
    scale : float or ndarray of shape (n_outputs,)
        Quantized units per unit of the tables. Where every range is zero
        (``gap == 0``, e.g. all-zero weights) the quantized tables are zero,
        the offsets alone are exact and the scale is 1. With ``leaf_counts``
        entries outside an output's window are clipped to 0 or 255.
    """
    if reachable is None:
        reachable = np.ones(tables.shape[1:], dtype=bool)
    lows = np.where(reachable, tables, np.inf)
    highs = np.where(reachable, tables, -np.inf)
    if per_output and leaf_counts is not None and _costs_are_finite(tables, leaf_counts):
        counts = np.where(reachable, leaf_counts, 0).astype(np.float64)
        offsets, gaps = robust_ranges(
            tables, counts, lows.min(axis=2), highs.max(axis=2), rounding_variance
        )
    elif per_output:
        offsets = lows.min(axis=2)
        gaps = (highs.max(axis=2) - offsets).max(axis=1)
    else:
        offsets = lows.min(axis=(0, 2))
        gaps = np.array([(highs.max(axis=(0, 2)) - offsets).max()])
    if not np.isfinite(gaps).all():
        raise ValueError(
            "The lookup tables are not finite: the training data or the weights "
            "are too large for float64 products."
        )
    # Below 1e-300 a gap is treated as zero: 255 / gap could overflow, and
    # the offsets alone are then exact to within the gap.
    scales = np.where(gaps > 1e-300, 255.0 / np.maximum(gaps, 1e-300), 1.0)
    if per_output:
        scaled = (tables - offsets[:, :, None]) * scales[:, None, None]
        scale = scales
    else:
        scale = float(scales[0])
        scaled = (tables - offsets[:, None]) * scale
    quantized = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    quantized[:, ~reachable] = 0
    return quantized, offsets, scale


def dequantization_constants(offsets, scale, bias, dtype):
    """Multiplier and shift that map quantized totals back to the product.

    The approximate product is ``(totals - bias) / scale + sum(offsets)``,
    computed as ``totals * multiplier + shift`` with ``multiplier = 1 /
    scale`` and ``shift = sum(offsets) - bias / scale``, both rounded to
    ``dtype`` once: one multiply and one add per output, the form the fused
    kernels take.

    Parameters
    ----------
    offsets : ndarray of shape (n_codebooks,) or (n_outputs, n_codebooks)
        From :func:`quantize_tables`, shared or per output.
    scale : float or ndarray of shape (n_outputs,)
        From :func:`quantize_tables`, shared or per output.
    bias : float or ndarray of shape (n_outputs,)
        Expected excess of the aggregation over the exact sum, in quantized
        units (see :func:`~sklearn_amm._layout.averaging_bias`).
    dtype : {np.float32, np.float64}
        Dtype of the products.

    Returns
    -------
    multiplier, shift : dtype or ndarray of shape (n_outputs,)
        Scalars of ``dtype`` for a shared scale and a scalar ``bias``;
        otherwise arrays of shape (n_outputs,), for per-output scales or a
        per-output ``bias``.
    """
    scale = np.asarray(scale, dtype=np.float64)
    multiplier = (1.0 / scale).astype(dtype)
    shift = (np.sum(offsets, axis=-1) - np.asarray(bias) / scale).astype(dtype)
    if multiplier.ndim == 0 and shift.ndim == 0:
        return dtype(multiplier), dtype(shift)
    return np.broadcast_arrays(multiplier, shift)
