"""Split the input columns into contiguous blocks, one per codebook."""

import numpy as np


def codebook_bounds(n_features, n_codebooks):
    """Boundaries of the contiguous column block of each codebook.

    The ``n_features % n_codebooks`` first blocks are one column wider than the
    others, so block widths differ by at most one and cover ``[0, n_features)``
    without gaps. Columns are never permuted.

    Parameters
    ----------
    n_features : int
        Number of input columns, ``D``.
    n_codebooks : int
        Number of codebooks, ``C``, with ``1 <= C <= D``.

    Returns
    -------
    bounds : ndarray of shape (n_codebooks + 1,), dtype=np.intp
        Codebook ``c`` owns the columns ``bounds[c]:bounds[c + 1]``.

    Examples
    --------
    >>> codebook_bounds(7, 3)
    array([0, 3, 5, 7])
    """
    if not 1 <= n_codebooks <= n_features:
        raise ValueError(
            f"n_codebooks must be in [1, n_features={n_features}], got {n_codebooks}."
        )
    width, n_wide = divmod(n_features, n_codebooks)
    widths = np.full(n_codebooks, width, dtype=np.intp)
    widths[:n_wide] += 1
    return np.concatenate([[0], np.cumsum(widths)]).astype(np.intp)
