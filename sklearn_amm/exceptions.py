"""Warnings that sklearn-amm's estimators give, to filter or catch by class."""

from ._persistence import InconsistentVersionWarning

__all__ = [
    "AccuracyTargetWarning",
    "FewTrainingRowsWarning",
    "InconsistentVersionWarning",
    "OutsideTrainingRangeWarning",
]


class AccuracyTargetWarning(UserWarning):
    """No approximate configuration met the accuracy target faster than exact.

    :class:`~sklearn_amm.MaddnessClassifierCV` then keeps the exact model:
    predictions are right but not faster. Accept a larger loss, allow more
    codebooks or the exact fallback, or fit on more rows.
    """


class FewTrainingRowsWarning(UserWarning):
    """An estimator was fitted on too few rows for its hash trees or tables.

    Fitting succeeds, but with fewer rows than a hash tree has leaves some
    leaves get no training row, and with fewer rows than the tables have
    entries per output the joint refit of the prototypes is underdetermined:
    the approximation of new rows is then poor. Fit on more rows, or lower
    ``n_codebooks``.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from sklearn_amm import MaddnessTransformer
    >>> from sklearn_amm.exceptions import FewTrainingRowsWarning
    >>> X = np.random.default_rng(0).normal(size=(8, 4))
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     amm = MaddnessTransformer(n_codebooks=2).fit(X)
    >>> caught[0].category is FewTrainingRowsWarning
    True
    """


class OutsideTrainingRangeWarning(UserWarning):
    """Scored rows leave the range seen at fit in the columns the trees split on.

    A value below (above) every training value of a split column goes the
    way of the smallest (largest) training value at every comparison on
    that column, so such rows reach the extreme leaves: their approximation
    stays at those leaves' prototypes however far out they lie, while the
    exact product keeps growing. A few rows do so by chance; the warning
    is given when many more do, a sign that the rows are not like the
    training rows (another scale, a shifted distribution).
    """
