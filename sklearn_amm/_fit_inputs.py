"""The inputs of ``MaddnessTransformer.fit``, checked before any learning.

The weights, the sample weights and the range of the training rows: each
check raises what scikit-learn's own validation would miss, even under
``assume_finite=True``, because the learning cannot recover from it.
"""

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.validation import _check_sample_weight


def check_split_search_range(X, weights=None):
    """Raise a ValueError if the split search's float64 sums would overflow.

    For a column of range ``r`` over ``n`` rows, the within-bucket SSE is at
    most ``n * r**2 / 4`` and the squared partial sums of the search are at
    most ``n`` times the SSE, so ``n**2 * sum(r**2) / 4`` bounds every
    intermediate. Past about 1e150 it overflows, and the search would
    silently score splits with ``inf`` or ``nan`` (or find no split at all).
    The searches on products (the product objective, backfitting) score
    ``X @ weights``, whose ranges are at most those of ``X`` times the norm
    of ``weights``, so the bound is multiplied by its squared norm.

    NaN or infinity in ``X`` makes the bound non-finite too: they reach this
    point only under ``assume_finite=True``, which skips scikit-learn's
    check, and get their own message (nothing can be learned from them).
    """
    n_samples = X.shape[0]
    with np.errstate(over="ignore", invalid="ignore"):
        # In float64 whatever X's dtype: float32 ranges and squares overflow
        # long before the float64 search does.
        ranges = X.max(axis=0).astype(np.float64) - X.min(axis=0)
        bound = np.sum(np.square(ranges)) * (n_samples**2 / 4)
        if weights is not None:
            bound *= max(1.0, np.sum(np.square(weights)))
    if not np.isfinite(bound):
        if not np.isfinite(X).all():
            raise ValueError(
                "Input X contains NaN or infinity, which fit cannot learn from, "
                "even under assume_finite=True."
            )
        raise ValueError(
            "X is too large to learn from: the squared deviations of its "
            "columns (times the squared norm of weights), summed over the "
            "rows, overflow float64. Rescale X (for example with "
            "StandardScaler) or weights before fitting."
        )


def positive_weight_rows(X, sample_weight):
    """Validated weights, and the rows and weights of the positive ones.

    A row of weight 0 must change nothing, but the split search would still
    see its value: a threshold could fall between it and its neighbour
    instead of midway between two rows that count. Dropping it makes the fit
    that of the other rows exactly.
    """
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True
    )
    # Checked even under assume_finite, which skips check_array's test.
    if not np.isfinite(sample_weight).all():
        raise ValueError(
            "Input sample_weight contains NaN or infinity, which fit cannot use."
        )
    positive = sample_weight > 0
    if not positive.all():
        X, sample_weight = X[positive], sample_weight[positive]
    return X, sample_weight


def validate_weights(weights, n_features):
    """A float64 copy of the ``weights`` parameter, or None for the identity.

    Parameters
    ----------
    weights : array-like of shape (n_features, n_outputs) or None
        The estimator's ``weights`` parameter.
    n_features : int
        Number of columns of the training rows.

    Returns
    -------
    weights : ndarray of shape (n_features, n_outputs) or None
    """
    if weights is None:
        return None
    weights = check_array(weights, dtype=np.float64, input_name="weights", copy=True)
    # Checked even under assume_finite (which skips check_array's test):
    # the tables of non-finite weights are meaningless, and weights are
    # small next to the fit.
    if not np.isfinite(weights).all():
        raise ValueError(
            "Input weights contains NaN or infinity, which fit cannot use, "
            "even under assume_finite=True."
        )
    if weights.shape[0] != n_features:
        raise ValueError(
            f"weights has {weights.shape[0]} rows, but X has {n_features} "
            "features: weights must have shape (n_features, n_outputs)."
        )
    return weights
