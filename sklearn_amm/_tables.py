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


def quantize_tables(tables, per_output=False, reachable=None):
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

    Returns
    -------
    quantized : ndarray of shape (n_outputs, n_codebooks, 16), dtype=uint8
    offsets : ndarray of shape (n_codebooks,) or (n_outputs, n_codebooks)
        The value of a zero entry; 2-D when ``per_output``.
    scale : float or ndarray of shape (n_outputs,)
        Quantized units per unit of the tables. Where every range is zero
        (``gap == 0``, e.g. all-zero weights) the quantized tables are zero,
        the offsets alone are exact and the scale is 1.
    """
    if reachable is None:
        reachable = np.ones(tables.shape[1:], dtype=bool)
    lows = np.where(reachable, tables, np.inf)
    highs = np.where(reachable, tables, -np.inf)
    if per_output:
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
