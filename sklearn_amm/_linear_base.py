"""What the MADDNESS linear models share: approximating ``X @ coef_.T``.

The model may follow per-feature scalers in a pipeline: MADDNESS then
approximates the product of the scaled rows, with the scalers folded into
its thresholds (see ``_scaler_folding``).
"""

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, MetaEstimatorMixin
from sklearn.utils.validation import validate_data

from ._doc_link import DocLinkMixin
from ._fallback import linear_scores
from ._maddness_interface import approximate_product, fit_maddness
from ._persistence import VersionedStateMixin
from ._scaler_folding import (
    check_scalers,
    copies_input,
    fold_fitted_thresholds,
    pipeline_fit_params,
    pipeline_parts,
    scale_rows,
)
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
        """Fit the inner model and ``maddness_``.

        Returns the validated ``X``; ``X_head``, the rows the linear model
        reads (``X`` scaled by the pipeline's scalers, ``X`` itself for a
        model); and the fitted scaler steps (None for a model). MADDNESS
        learns from ``X_head``, as it would for the linear model alone
        fitted on it; :meth:`_fold_scalers` then carries its thresholds
        over to the raw rows.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        # Before fitting anything: a pipeline of other steps is an error.
        scalers, _ = pipeline_parts(self.estimator)
        # The inner model is fitted on the validated array, the rows MADDNESS
        # learns from; feature names are checked by the wrapper. A scaler
        # with copy=False would scale X itself in place.
        fit_rows = X if scalers is None or copies_input(scalers) else X.copy()
        self.estimator_ = self._fit_estimator(
            fit_rows, y, pipeline_fit_params(self.estimator, fit_params)
        )
        scalers, head = pipeline_parts(self.estimator_)
        X_head = X
        if scalers is not None:
            check_scalers(scalers, X.shape[1])
            X_head = scale_rows(scalers, X)
        if not hasattr(head, "coef_"):
            raise ValueError(
                f"{type(unfrozen(head)).__name__} has no coef_ after fit: "
                "only linear models can be wrapped."
            )
        coef = dense_coef(head)
        self._check_coef_shape(coef, X.shape[1])
        # Models without an intercept_ attribute have none.
        intercept = dense_intercept(head, len(coef))
        rows = X_head[:_N_CHECK_ROWS]
        output = positional_call(getattr(head, self._linear_method), rows)
        check_affine_match(
            output,
            rows,
            coef.T,
            intercept,
            f"The {self._linear_method} of {type(unfrozen(head)).__name__}",
        )
        self._check_prediction_rule(head, rows, output)
        self._intercept = intercept
        # The exact product, for the rows that fall back to it.
        self._exact_coef = coef
        self._exact_intercept = intercept.copy()
        self.maddness_ = fit_maddness(
            self, X_head, coef.T, fit_params.get("sample_weight")
        )
        return X, X_head, scalers

    def _fold_scalers(self, X, X_head, scalers):
        """Set ``folded_thresholds_``, once ``maddness_``'s thresholds are final."""
        self.folded_thresholds_ = (
            None
            if scalers is None
            else fold_fitted_thresholds(scalers, self.maddness_, X, X_head)
        )

    def _check_coef_shape(self, coef, n_features):
        if coef.shape[1] != n_features:
            raise ValueError(
                f"The estimator's coef_ has {coef.shape[1]} features, but X has "
                f"{n_features} features."
            )

    def _check_prediction_rule(self, head, rows, output):
        """Raise if the linear model's predict is not derived from ``output``."""

    def _scores(self, X):
        """Approximate ``X @ coef_.T + intercept_`` for validated X, 2-D.

        float64 for any input, as the inner models return.
        """
        # The scan writes float64 with the intercepts in its shift: adding
        # them, or converting float32 scores, would be a second array of the
        # output's size, whose page faults cost more than the product itself
        # (decision_function at the CIFAR-100 shape took 2.7x transform).
        folded = self.folded_thresholds_
        return approximate_product(
            self.maddness_,
            X,
            np.float64,
            self._intercept,
            None if folded is None else folded[X.dtype.name],
        )

    def _exact_scores(self):
        """The exact model's scores of rows, for the rows that fall back.

        With scalers, the fitted pipeline's own: its values bit for bit.
        """
        if self.folded_thresholds_ is not None:
            model = self.estimator_
            return lambda rows: positional_call(
                getattr(model, self._linear_method), rows
            )
        return linear_scores(self._exact_coef, self._exact_intercept)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # MADDNESS compares dense feature values with thresholds.
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags
