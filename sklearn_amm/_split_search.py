"""Best threshold on one column for one bucket: the cumulative-SSE search.

A split sends the rows with ``x[dim] > threshold`` to the right child and the
others to the left child. Its loss is the sum, over **all** columns of the
bucket, of the squared deviations of each child's rows from the child's mean
(the within-children SSE). The best split minimises that loss.

Sorting the rows by ``x[dim]`` makes every candidate split a prefix/suffix cut,
and running sums make the loss of all ``n - 1`` cuts available in one pass.
With the rows centred on the bucket mean (so the column sums are zero) the
loss of the cut after sorted position ``i`` is::

    total_sse - ||S(i)||^2 * n / ((i + 1) * (n - i - 1))

where ``S(i)`` is the vector of column sums of the first ``i + 1`` sorted,
centred rows: the suffix sums are ``-S(i)``, and ``SSE = sum(x^2) - sum(x)^2 /
count`` for each child. Centring in float64 keeps the subtraction well
conditioned: the same formula on uncentred float32 sums (the authors' code)
cancels catastrophically once the values are large or far from zero.

With row weights ``w`` the SSE of a child is ``sum(w * ||x - mean_w||^2)``
around its weighted mean, and the same algebra gives, with ``S(i)`` now the
sums of ``w * centred`` and ``W_left``, ``W_right`` the children's weights::

    total_sse - ||S(i)||^2 / W_left - ||S(i)||^2 / W_right

which for unit weights is the formula above. Integer weights so give the
split of the rows repeated that many times.

The tree learner runs the compiled version of :func:`optimal_split_sorted`,
``split_level`` in ``sklearn_amm/_kernels/_split.pyx``, which scores all the
buckets of a tree level in one call and returns the same results; this module
is its readable reference and the oracle of its tests
(``tests/test_split_kernel.py``).
"""

import numpy as np


def split_threshold(lower, upper):
    """A threshold ``t`` with ``lower <= t < upper``, as close to the middle as possible.

    The midpoint of two adjacent floating-point numbers can round up to
    ``upper``; the threshold then falls back to ``lower``, which still
    separates the two values under the ``x > t`` rule.
    """
    mid = lower + (upper - lower) / 2
    if not lower <= mid < upper:
        return lower
    return mid


def optimal_split(X_bucket, dim, sample_weight=None):
    """Best threshold on column ``dim`` for the rows of one bucket.

    Only cuts between two distinct values of ``X_bucket[:, dim]`` are
    considered, so the chosen split is exactly the one the ``x > threshold``
    rule produces. (A cut between two equal values, which the authors'
    search can choose, splits rows that no threshold can tell apart: the
    tree would not route the training rows as the search assumed.)

    Parameters
    ----------
    X_bucket : ndarray of shape (n_rows, n_columns), dtype=float64
        The bucket's rows, restricted to the codebook's columns.
    dim : int
        Column of ``X_bucket`` to split on.
    sample_weight : ndarray of shape (n_rows,), default=None
        Positive weight of each row; None weighs every row 1.

    Returns
    -------
    threshold : float
        ``+inf`` when the column has fewer than two distinct values in the
        bucket: every row then stays in the left child.
    loss : float
        Within-children SSE of the split (the bucket's own SSE when it cannot
        be split).
    """
    order = np.argsort(X_bucket[:, dim], kind="stable")
    X_sorted = X_bucket[order]
    weights = None if sample_weight is None else np.asarray(sample_weight)[order]
    return optimal_split_sorted(X_sorted[:, dim], X_sorted, weights)


def optimal_split_sorted(values, targets, sample_weight=None):
    """Best cut of rows sorted (stably) by the split column.

    The tree learner sorts each candidate column once for all buckets and
    passes each bucket's rows in that order, which avoids a sort per bucket.
    The loss is measured on ``targets``, which need not be the split columns:
    :func:`optimal_split` passes the bucket's own columns (reconstruction),
    the product-aware learner passes the codebook's contribution to the
    product.

    Parameters
    ----------
    values : ndarray of shape (n_rows,)
        The split column, sorted in increasing order.
    targets : ndarray of shape (n_rows, n_targets), dtype=float64
        The rows whose within-children SSE is minimised, in the same order.
    sample_weight : ndarray of shape (n_rows,), default=None
        Positive weight of each row, in the same order; None weighs every
        row 1. The weighted search is a formula of its own (see the module
        docstring): unit weights give the unweighted split, with losses
        equal to within rounding only.

    Returns
    -------
    threshold : float
    loss : float
        See :func:`optimal_split`.
    """
    n_rows = targets.shape[0]
    if n_rows < 2:
        return np.inf, 0.0
    if sample_weight is not None:
        return _weighted_split_sorted(values, targets, sample_weight)
    centred = targets - targets.mean(axis=0)
    total_sse = float(np.einsum("ij,ij->", centred, centred))

    distinct = values[:-1] < values[1:]
    if not distinct.any():
        return np.inf, total_sse

    prefix_sums = np.cumsum(centred[:-1], axis=0)
    n_left = np.arange(1, n_rows, dtype=np.float64)
    gain = np.einsum("ij,ij->i", prefix_sums, prefix_sums)
    gain *= n_rows / (n_left * (n_rows - n_left))
    gain[~distinct] = -np.inf
    return _best_cut(values, gain, total_sse)


def _weighted_split_sorted(values, targets, sample_weight):
    """:func:`optimal_split_sorted` with row weights.

    Every sum over rows is a running sum (``cumsum``), which adds in row
    order on every platform, so that the compiled search can follow it to
    the bit. The right child's weights are summed from the last row: as a
    difference ``total - left`` they would lose a light right child to the
    rounding of a heavy left one. (Its sum ``-S`` still comes from the
    left, so a child lighter than about ``eps**2`` times the total is
    scored on rounding error: the learner keeps every weight above ``eps``
    times the largest.)
    """
    weights = np.asarray(sample_weight, dtype=np.float64)
    if not np.all((weights > 0) & np.isfinite(weights)):
        raise ValueError("The split search needs positive, finite sample weights.")
    weight_left = np.cumsum(weights)
    weight_right = np.cumsum(weights[::-1])[::-1]
    mean = np.cumsum(weights[:, None] * targets, axis=0)[-1] / weight_left[-1]
    centred = targets - mean
    row_sse = weights * np.einsum("ij,ij->i", centred, centred)
    total_sse = float(np.cumsum(row_sse)[-1])

    distinct = values[:-1] < values[1:]
    if not distinct.any():
        return np.inf, total_sse

    prefix_sums = np.cumsum(weights[:-1, None] * centred[:-1], axis=0)
    squared_norms = np.einsum("ij,ij->i", prefix_sums, prefix_sums)
    gain = squared_norms / weight_left[:-1] + squared_norms / weight_right[1:]
    gain[~distinct] = -np.inf
    return _best_cut(values, gain, total_sse)


def _best_cut(values, gain, total_sse):
    """Threshold and loss of the cut of largest gain (the first on a tie)."""
    best = int(np.argmax(gain))
    loss = max(total_sse - float(gain[best]), 0.0)
    return split_threshold(values[best], values[best + 1]), loss
