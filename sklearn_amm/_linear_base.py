"""What the MADDNESS linear models share: approximating ``X @ coef_.T``."""

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, MetaEstimatorMixin
from sklearn.utils.validation import validate_data

from ._doc_link import DocLinkMixin
from ._maddness_interface import approximate_product, fit_maddness
from ._persistence import VersionedStateMixin
from ._wrapper_base import (
    InnerEstimatorWrapper,
    check_affine_match,
    positional_call,
    unfrozen,
)

# Training rows on which the inner model's own output is compared with the
# product read from its coefficients: enough to catch a non-linear model,
# few enough to cost nothing next to fitting.
_N_CHECK_ROWS = 32


def dense_coef(estimator):
    """``coef_`` as a 2-D float64 array of shape (n_outputs, n_features)."""
    coef = estimator.coef_
    if sparse.issparse(coef):
        # After ``sparsify()``; the tables are built once, so densify.
        coef = coef.toarray()
    coef = np.asarray(coef, dtype=np.float64)
    return coef.reshape(1, -1) if coef.ndim == 1 else coef


def dense_intercept(estimator, n_outputs):
    """``intercept_`` as a float64 array of shape (n_outputs,); 0 where there is none."""
    intercept = np.asarray(getattr(estimator, "intercept_", 0.0), dtype=np.float64)
    return np.broadcast_to(intercept, (n_outputs,)).copy()


class BaseMaddnessLinearModel(
    VersionedStateMixin,
    DocLinkMixin,
    InnerEstimatorWrapper,
    MetaEstimatorMixin,
    BaseEstimator,
):
    """Fit the inner linear model, then MADDNESS on ``X`` with ``B = coef_.T``."""

    # The inner method whose output must be ``X @ coef_.T + intercept_``.
    _linear_method = None

    def _fit(self, X, y, fit_params):
        """Fit the inner model and ``maddness_``; return the validated ``X``."""
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        # The inner model is fitted on the validated array, the rows MADDNESS
        # learns from; feature names are checked by the wrapper.
        self.estimator_ = self._fit_estimator(X, y, fit_params)
        if not hasattr(self.estimator_, "coef_"):
            raise ValueError(
                f"{type(unfrozen(self.estimator_)).__name__} has no coef_ after fit: "
                "only linear models can be wrapped."
            )
        coef = dense_coef(self.estimator_)
        self._check_coef_shape(coef, X.shape[1])
        # Models without an intercept_ attribute have none.
        intercept = dense_intercept(self.estimator_, len(coef))
        rows = X[:_N_CHECK_ROWS]
        output = positional_call(getattr(self.estimator_, self._linear_method), rows)
        check_affine_match(
            output,
            rows,
            coef.T,
            intercept,
            f"The {self._linear_method} of {type(unfrozen(self.estimator_)).__name__}",
        )
        self._check_prediction_rule(rows, output)
        self._intercept = intercept
        # The exact product, for the rows that fall back to it.
        self._exact_coef = coef
        self._exact_intercept = intercept.copy()
        self.maddness_ = fit_maddness(self, X, coef.T, fit_params.get("sample_weight"))
        return X

    def _check_coef_shape(self, coef, n_features):
        if coef.shape[1] != n_features:
            raise ValueError(
                f"The estimator's coef_ has {coef.shape[1]} features, but X has "
                f"{n_features} features."
            )

    def _check_prediction_rule(self, rows, output):
        """Raise if the inner model's predict is not derived from ``output``."""

    def _scores(self, X):
        """Approximate ``X @ coef_.T + intercept_`` for validated X, 2-D.

        float64 for any input, as the inner models return.
        """
        # The scan writes float64 with the intercepts in its shift: adding
        # them, or converting float32 scores, would be a second array of the
        # output's size, whose page faults cost more than the product itself
        # (decision_function at the CIFAR-100 shape took 2.7x transform).
        return approximate_product(self.maddness_, X, np.float64, self._intercept)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # MADDNESS compares dense feature values with thresholds.
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags
