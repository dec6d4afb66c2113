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


def quantize_tables(tables):
    """Quantize float tables to uint8 with per-codebook offsets and one shared scale.

    ``quantized = rint((tables - offsets[c]) * scale)`` where ``offsets[c]``
    is the smallest entry of codebook ``c`` over all outputs and ``scale =
    255 / gap`` maps the widest codebook range ``gap`` onto 0..255. (The
    authors round the scale down to a power of two times 255, which can waste
    up to half of the 8-bit range; nothing downstream needs a power of two.)
    Each entry then de-quantizes to within ``0.5 / scale`` of its float value.

    Parameters
    ----------
    tables : ndarray of shape (n_outputs, n_codebooks, 16)
        Float tables from :func:`build_tables`.

    Returns
    -------
    quantized : ndarray of shape (n_outputs, n_codebooks, 16), dtype=uint8
    offsets : ndarray of shape (n_codebooks,), dtype=float64
    scale : float
        Quantized units per unit of the tables. When every codebook is
        constant (``gap == 0``, e.g. all-zero weights) the quantized tables are
        zero, the offsets alone are exact and the scale is 1.
    """
    offsets = tables.min(axis=(0, 2))
    gap = float((tables.max(axis=(0, 2)) - offsets).max())
    if not np.isfinite(gap):
        raise ValueError(
            "The lookup tables are not finite: the training data or the weights "
            "are too large for float64 products."
        )
    # Below 1e-300 the gap is treated as zero: 255 / gap could overflow, and
    # the offsets alone are then exact to within the gap.
    scale = 255.0 / gap if gap > 1e-300 else 1.0
    scaled = np.rint((tables - offsets[:, None]) * scale)
    quantized = np.clip(scaled, 0, 255).astype(np.uint8)
    return quantized, offsets, scale
