"""Validation of the rows given to a fitted estimator, cheap for plain arrays.

MADDNESS exists to make small products fast, and on a few hundred rows
scikit-learn's ``validate_data`` costs more than the product: about 100 us
in scikit-learn 1.9, most of it looking for dataframes of several libraries.
For the common input (a float32 or float64 ndarray of the fitted width, to
an estimator fitted without feature names) it returns ``X`` itself after
checking that the values are finite, so that check is all that needs doing.
"""

import numpy as np
from sklearn import get_config
from sklearn.utils.validation import validate_data


def validate_rows(estimator, X):
    """``validate_data(estimator, X, dtype=[float64, float32], reset=False)``.

    Returns ``X`` unchanged, without calling ``validate_data``, when that
    is what ``validate_data`` would return: ``X`` is exactly an
    ``np.ndarray`` (not a subclass), 2-D, float32 or float64, with at least
    one row and ``n_features_in_`` columns, the estimator saw no feature
    names at fit, and the values are finite (or ``assume_finite`` is set).
    Every other input, including every invalid one, goes through
    ``validate_data``, which converts it or raises its usual error.

    Finiteness is tested the way scikit-learn tests it first: the sum of a
    finite array is finite unless it overflows, so only a non-finite sum
    needs the element-wise check, which ``validate_data`` then makes. The
    sum needs no temporary array, so memory stays bounded for large ``X``.

    Parameters
    ----------
    estimator : fitted estimator
        Has ``n_features_in_``.
    X : object
        The rows to check.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features_in_), float32 or float64
    """
    if (
        type(X) is np.ndarray
        and X.ndim == 2
        and (X.dtype == np.float32 or X.dtype == np.float64)
        and X.shape[0] > 0
        and X.shape[1] == estimator.n_features_in_
        and not hasattr(estimator, "feature_names_in_")
        and (get_config()["assume_finite"] or _sum_is_finite(X))
    ):
        return X
    return validate_data(estimator, X, dtype=[np.float64, np.float32], reset=False)


def _sum_is_finite(X):
    # An overflowing sum is not an error here: validate_data then checks
    # element by element, as scikit-learn does after the same first test.
    with np.errstate(over="ignore"):
        return bool(np.isfinite(X.sum()))
