"""What fit can tell about its training rows, and the warnings it leads to.

Two ways a fit succeeds yet approximates new rows badly, without any
error to show for it:

* too few training rows: :func:`min_training_rows` says how many the trees
  and tables need, and :func:`warn_if_few_rows` warns at fit;
* rows unlike the training rows: :func:`split_column_range` records, at
  fit, the range of the columns the trees compare, and
  :func:`warn_if_outside_range` warns when more scored rows leave it than
  chance explains.
"""

import warnings

import numpy as np

from ._hash_tree import N_LEAVES
from .exceptions import FewTrainingRowsWarning, OutsideTrainingRangeWarning


def min_training_rows(n_codebooks, optimize_prototypes):
    """Fewest training rows for which every table entry has data behind it.

    Each hash tree has ``N_LEAVES`` (16) leaves: with fewer rows, some leaf
    of every tree gets no training row, and a 1-row fit splits nothing at
    all. With the joint ridge refit of the prototypes, each output's
    approximation has ``16 * n_codebooks`` table entries fitted together by
    least squares: with fewer rows than that, the one-hot design matrix has
    more columns than rows, the refit is underdetermined and the penalty
    alone decides the prototypes. (Leaf means, ``optimize_prototypes=False``,
    fit each codebook on its own, so 16 rows are the minimum there.)
    """
    return N_LEAVES * n_codebooks if optimize_prototypes else N_LEAVES


def warn_if_few_rows(estimator_name, n_samples, n_codebooks, optimize_prototypes):
    """Warn with :class:`FewTrainingRowsWarning` below :func:`min_training_rows`."""
    needed = min_training_rows(n_codebooks, optimize_prototypes)
    if n_samples >= needed:
        return
    if optimize_prototypes:
        reason = (
            f"the ridge refit of the prototypes solves for {N_LEAVES} * "
            f"n_codebooks_ = {needed} table entries per output"
        )
    else:
        reason = f"each hash tree has {N_LEAVES} leaves to fill"
    warnings.warn(
        f"{estimator_name} was fitted on {n_samples} row(s), fewer than {needed}: "
        f"{reason}. The approximation of new rows will be poor; fit on at least "
        f"{needed} rows or lower n_codebooks.",
        FewTrainingRowsWarning,
        # Past this function, _resolve_params, fit and scikit-learn's
        # _fit_context wrapper: the line that called fit.
        stacklevel=5,
    )


def split_column_range(X, split_dims):
    """The columns the trees compare, their training range, and the rows it is from.

    Reads only those columns (at most 4 per codebook), not all of ``X``.

    Returns
    -------
    columns : ndarray of shape (n_columns,), dtype=np.intp
        The distinct columns of ``split_dims``, sorted.
    low, high : ndarray of shape (n_columns,), dtype=float64
        Their minimum and maximum over the training rows.
    n_samples : int
        The number of training rows.
    """
    columns = np.unique(split_dims).astype(np.intp)
    values = X[:, columns]
    low = values.min(axis=0).astype(np.float64)
    high = values.max(axis=0).astype(np.float64)
    return columns, low, high, int(X.shape[0])


# How many times the share of rows outside the training range may exceed
# its bound for rows like the training rows before score warns. The bound
# holds on average over training sets; the share a given training set
# leaves outside varies around it: for one column, it exceeds twice its
# mean for about one training set in ten, four times its mean for one in
# three hundred (for continuous data, the probabilities beyond the two
# extremes are nearly independent exponentials).
_OUTSIDE_SHARE_FACTOR = 4


def expected_outside_share(n_columns, n_samples):
    """Bound on the share of new rows outside the training range, for rows like them.

    A new row drawn like ``n_samples`` training rows is as likely as each
    of them to hold a column's largest value, so it lies above the training
    maximum with probability at most ``1 / (n_samples + 1)``, and outside
    the range with at most twice that; over ``n_columns`` columns, at most
    ``2 * n_columns / (n_samples + 1)``. Whatever the distribution: rows
    outside the range are then no sign of a problem, only of chance.
    """
    return min(1.0, 2.0 * n_columns / (n_samples + 1))


def warn_if_outside_range(X, columns, low, high, n_samples):
    """Warn with :class:`OutsideTrainingRangeWarning` if many rows leave the range.

    Some rows fall outside the training range by chance (see
    :func:`expected_outside_share`), and a warning on every held-out score
    would teach users to ignore it. It is given when the share of rows
    outside is several times what chance explains: the rows are not like
    the training rows (another scale, a shifted distribution).

    Parameters
    ----------
    X : ndarray of shape (n_samples_scored, n_features)
        Validated, finite rows.
    columns, low, high, n_samples
        From :func:`split_column_range`.
    """
    values = X[:, columns]
    outside = ((values < low) | (values > high)).any(axis=1)
    n_outside = int(np.count_nonzero(outside))
    expected = expected_outside_share(len(columns), n_samples)
    if n_outside <= _OUTSIDE_SHARE_FACTOR * expected * X.shape[0]:
        return
    warnings.warn(
        f"{n_outside} of {X.shape[0]} row(s) hold values outside the range seen "
        "at fit in the columns the hash trees split on, more than chance explains "
        f"for rows like the {n_samples} training rows. They fall in the extreme "
        "leaves: their approximation saturates at those leaves' prototypes, and "
        "its error grows with the distance from the training range.",
        OutsideTrainingRangeWarning,
        stacklevel=3,  # the line that called score
    )
