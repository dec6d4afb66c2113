"""Validation of the rows given to a fitted estimator, without a pass over X.

MADDNESS exists to make products fast by reading only the ``4 *
n_codebooks`` split columns of ``X``. scikit-learn's ``validate_data`` reads
all of it (the finite check) and, on a few hundred rows, costs more than
the product itself (about 100 us in scikit-learn 1.9, most of it looking
for dataframes of several libraries). So, for the estimators whose output
depends only on the split columns:

* a float32 or float64 ndarray of the fitted width, to an estimator fitted
  without feature names, is returned as it is, with no pass over it;
* any other input goes through ``validate_data`` with
  ``ensure_all_finite=False``, which converts it or raises its usual error;
* NaN and infinity are found by the encoder instead, among the values it
  compares (no measurable cost), and :func:`raise_if_nonfinite` raises
  scikit-learn's usual error for them. A non-finite value in a column no
  tree reads cannot reach the output, so it is not an error, whatever the
  container.

Estimators whose output reads every value of ``X`` (the Nystroem and
skewed-chi2 wrappers use norms or logarithms of the whole row) ask for the
full check with ``check_finite=True``.
"""

import numpy as np
from sklearn import get_config
from sklearn.utils import assert_all_finite
from sklearn.utils.validation import check_is_fitted, validate_data


def check_fitted(estimator):
    """``check_is_fitted(estimator)``, at no cost once the estimator is fitted.

    scikit-learn's check asks for the estimator's tags and looks through
    all its attributes for one ending in an underscore: about 10 us a call,
    as much as the kernels take on a few hundred rows. Every fit in this
    package sets ``n_features_in_`` (through ``validate_data``), which
    answers the question by itself; an estimator without it gets
    scikit-learn's check, and so its error when it is not fitted.

    Parameters
    ----------
    estimator : estimator instance

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    """
    if "n_features_in_" not in vars(estimator):
        check_is_fitted(estimator)


def validate_rows(estimator, X, *, check_finite=False):
    """``validate_data(estimator, X, dtype=[float64, float32], reset=False)``.

    Returns ``X`` unchanged, without calling ``validate_data``, when that
    is what ``validate_data`` would return: ``X`` is exactly an
    ``np.ndarray`` (not a subclass), 2-D, float32 or float64, with at least
    one row and ``n_features_in_`` columns, and the estimator saw no feature
    names at fit. Every other input, including every invalid one, goes
    through ``validate_data``.

    Parameters
    ----------
    estimator : fitted estimator
        Has ``n_features_in_``.
    X : object
        The rows to check.
    check_finite : bool, default=False
        Whether to check here that every value is finite (unless
        ``assume_finite`` is set), as ``validate_data`` does. False for
        estimators whose output reads only the split columns: the encoder
        checks those, and the caller's encoding helper raises.

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
        and not (check_finite and not get_config()["assume_finite"] and not _sum_is_finite(X))
    ):
        return X
    return validate_data(
        estimator,
        X,
        dtype=[np.float64, np.float32],
        reset=False,
        ensure_all_finite=check_finite,
    )


def _sum_is_finite(X):
    # scikit-learn's own first test: the sum of a finite array is finite
    # unless it overflows, and needs no temporary array. A non-finite sum
    # sends X to validate_data, which then checks element by element.
    with np.errstate(over="ignore"):
        return bool(np.isfinite(X.sum()))


def raise_if_nonfinite(nonfinite, X, split_dims):
    """Raise scikit-learn's error if the encoder compared NaN or infinity.

    Parameters
    ----------
    nonfinite : bool
        The encoder's report: a value of a split column of ``X`` was NaN or
        infinite.
    X : ndarray of shape (n_samples, n_features)
        The rows encoded.
    split_dims : ndarray of shape (n_codebooks, 4)
        The columns the encoder compared.

    Raises
    ------
    ValueError
        If ``nonfinite`` and ``assume_finite`` is not set, with the message
        ``validate_data`` gives ("Input X contains NaN.", or "... infinity
        ..."), about the split columns only: the others never reach the
        output.
    """
    if not nonfinite or get_config()["assume_finite"]:
        return
    # Only on the error path: a copy of the split columns, for the message.
    # scikit-learn's first check sums them, and +inf plus -inf would warn
    # "invalid value" on top of the error.
    with np.errstate(invalid="ignore"):
        assert_all_finite(X[:, np.unique(split_dims)], input_name="X")
    raise ValueError("Input X contains NaN or infinity.")  # pragma: no cover
