"""Probabilities of the MADDNESS classifiers from their decision values.

The links below map decision values to probabilities exactly as the inner
models do in scikit-learn 1.9 (tests compare them on exact decision values).
They use the public functions where those exist (scipy.special.expit,
sklearn.utils.extmath.softmax). scikit-learn has no public function for the
rest: its links are methods of the models that start from X, not from
decision values (LinearClassifierMixin._predict_proba_lr, the modified Huber
branch of SGDClassifier.predict_proba, LinearDiscriminantAnalysis's
predict_log_proba), so the few lines they add are repeated here. Each link
overwrites the scores it is given, which the caller made for it: a second
array of the output's size would be paged in on every call.
"""

import numpy as np
from scipy.special import expit
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.pipeline import Pipeline
from sklearn.utils.extmath import softmax

from ._table_objective import LABEL_OBJECTIVES
from ._wrapper_base import unfrozen


def _binary_proba(proba):
    """The two columns ``[1 - p, p]`` of a binary model's positive-class ``p``."""
    return np.stack([1 - proba, proba], axis=1)


def _normalize_ovr(proba):
    """Rows divided by their sums; a row of zeros becomes uniform.

    The one-vs-rest normalization of LibLinear and scikit-learn. Not
    ``sklearn.preprocessing.normalize(proba, norm="l1")``: that leaves a row
    of zeros at zero, and allocates ``abs(proba)``, an array of the output's
    size.
    """
    proba_sum = proba.sum(axis=1)
    all_zero = proba_sum == 0
    if np.any(all_zero):
        proba[all_zero, :] = 1
        proba_sum[all_zero] = proba.shape[1]
    proba /= proba_sum.reshape((proba.shape[0], -1))
    return proba


def _ovr_proba(proba):
    """Binary columns, or the one-vs-rest normalization of several classes."""
    return _binary_proba(proba) if proba.ndim == 1 else _normalize_ovr(proba)


def _ovr_logistic_proba(scores):
    """SGDClassifier(loss="log_loss"): expit, then the OvR normalization."""
    return _ovr_proba(expit(scores, out=scores))


def _expit_or_softmax_proba(scores):
    """LogisticRegression and LinearDiscriminantAnalysis: binary expit, else softmax."""
    if scores.ndim == 1:
        return _binary_proba(expit(scores, out=scores))
    return softmax(scores, copy=False)


def _modified_huber_proba(scores):
    """SGDClassifier(loss="modified_huber"): ``(clip(scores, -1, 1) + 1) / 2``, then OvR."""
    proba = np.clip(scores, -1, 1, out=scores)
    proba += 1.0
    proba /= 2.0
    return _ovr_proba(proba)


def _log_in_place(proba):
    """``np.log`` into the probabilities' own array, which nothing else holds.

    A second array of the output's size would be paged in on every call,
    which took as long as the scores themselves.
    """
    return np.log(proba, out=proba)


def _log_avoiding_zero(proba):
    """LinearDiscriminantAnalysis: zeros are raised to the smallest normal first."""
    proba[proba == 0.0] += np.finfo(proba.dtype).smallest_normal
    return _log_in_place(proba)


def inner_links(estimator):
    """The ``(proba, log_proba)`` links of a classifier, or raise AttributeError.

    Raises AttributeError, so that ``predict_proba`` is absent, both when
    the inner model has no ``predict_proba`` (e.g. LinearSVC, or
    SGDClassifier with the hinge loss) and when its link is not known here.
    """
    getattr(estimator, "predict_proba")
    model = unfrozen(estimator)
    if isinstance(model, Pipeline):
        # Scalers before the model change its input, not its link.
        return inner_links(model.steps[-1][1])
    if isinstance(model, LogisticRegression):
        return _expit_or_softmax_proba, _log_in_place
    if isinstance(model, LinearDiscriminantAnalysis):
        return _expit_or_softmax_proba, _log_avoiding_zero
    if isinstance(model, SGDClassifier) and model.loss == "log_loss":
        return _ovr_logistic_proba, _log_in_place
    if isinstance(model, SGDClassifier) and model.loss == "modified_huber":
        return _modified_huber_proba, _log_in_place
    raise AttributeError(
        f"{type(model).__name__} has predict_proba, but its link from decision "
        "values to probabilities is not known to MaddnessClassifier. Supported: "
        "LogisticRegression, LogisticRegressionCV, LinearDiscriminantAnalysis and "
        "SGDClassifier with loss='log_loss' or 'modified_huber'."
    )


def classifier_links(clf):
    """The ``(proba, log_proba)`` links of a MaddnessClassifier, or raise AttributeError.

    Tables fitted by log loss are a logistic model of their own, whose
    probabilities exist whatever the inner model; otherwise the inner
    model's links apply. Both are read from the fitted state if any (a
    parameter changed after fit takes effect at the next fit), else from
    the parameters.
    """
    # Before fit, "auto" counts as the label objective it nearly always
    # resolves to.
    objective = getattr(clf, "_table_objective", clf.table_objective)
    if objective in LABEL_OBJECTIVES + ("auto",):
        return _expit_or_softmax_proba, _log_in_place
    return inner_links(getattr(clf, "estimator_", clf.estimator))
