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
conditioned; the authors' float32 version loses precision on large or
offset data (spec pitfall P12).

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


def optimal_split(X_bucket, dim):
    """Best threshold on column ``dim`` for the rows of one bucket.

    Only cuts between two distinct values of ``X_bucket[:, dim]`` are
    considered, so the chosen split is exactly the one the ``x > threshold``
    rule produces (the authors' search can cut between equal values, which no
    threshold can realise; spec pitfall P10).

    Parameters
    ----------
    X_bucket : ndarray of shape (n_rows, n_columns), dtype=float64
        The bucket's rows, restricted to the codebook's columns.
    dim : int
        Column of ``X_bucket`` to split on.

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
    return optimal_split_sorted(X_sorted[:, dim], X_sorted)


def optimal_split_sorted(values, targets):
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

    Returns
    -------
    threshold : float
    loss : float
        See :func:`optimal_split`.
    """
    n_rows = targets.shape[0]
    if n_rows < 2:
        return np.inf, 0.0
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
    best = int(np.argmax(gain))
    loss = max(total_sse - float(gain[best]), 0.0)
    return split_threshold(values[best], values[best + 1]), loss
