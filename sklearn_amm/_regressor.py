"""MaddnessRegressor: a linear regressor whose product is approximated with MADDNESS."""

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils import get_tags
from sklearn.utils._param_validation import HasMethods

from ._docstrings import fill_docstring
from ._linear_base import BaseMaddnessLinearModel
from ._maddness_interface import MADDNESS_PARAMETER_CONSTRAINTS
from ._scaler_folding import pipeline_parts
from ._validation import check_fitted, validate_rows
from ._wrapper_base import inner_fit_context, unfrozen


@fill_docstring
class MaddnessRegressor(RegressorMixin, BaseMaddnessLinearModel):
    """A linear regressor whose ``X @ coef_.T`` is approximated with MADDNESS.

    Fits a clone of ``estimator`` (or uses an already fitted one wrapped in
    :class:`~sklearn.frozen.FrozenEstimator`), then fits a
    :class:`~sklearn_amm.MaddnessTransformer` on the training rows with
    ``weights=coef_.T``. Predictions are the approximate product plus
    ``intercept_``, with the inner model's output shape.

    Parameters
    ----------
    estimator : estimator object
        A linear regressor whose ``predict`` is ``X @ coef_.T + intercept_``,
        such as :class:`~sklearn.linear_model.Ridge`,
        :class:`~sklearn.linear_model.LinearRegression` or
        :class:`~sklearn.linear_model.Lasso`, single or multi-output. This is
        checked on a few training rows at fit.

        {scaler_pipeline}

    {maddness_parameters}

    Attributes
    ----------
    {inner_estimator_attribute}

    maddness_ : MaddnessTransformer
        Approximates ``X @ estimator_.coef_.T`` (of the scaled rows, for a
        pipeline of scalers).

    {folded_thresholds_attribute}

    {feature_attributes}

    See Also
    --------
    MaddnessClassifier : The same for linear classifiers.
    MaddnessTransformer : The approximate product itself.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn_amm import MaddnessRegressor
    >>> X, y = make_regression(n_samples=2000, n_features=32, random_state=0)
    >>> reg = MaddnessRegressor(Ridge(), n_codebooks=16).fit(X, y)
    >>> reg.predict(X[:3]).shape
    (3,)
    >>> bool(reg.score(X, y) > 0.5)
    True
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"])],
        **MADDNESS_PARAMETER_CONSTRAINTS,
    }

    _linear_method = "predict"

    @inner_fit_context
    def fit(self, X, y, **fit_params):
        """Fit the inner regressor, then MADDNESS on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows, also used to learn the MADDNESS encoding.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target values.
        {inner_fit_params}

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X, X_head, scalers = self._fit(X, y, fit_params)
        self._fold_scalers(X, X_head, scalers)
        # A 1-D coef_ means the inner model predicts a 1-D array.
        _, head = pipeline_parts(self.estimator_)
        self._ravel = np.ndim(unfrozen(head).coef_) == 1
        return self

    def predict(self, X):
        """Approximate predictions ``X @ coef_.T + intercept_``.

        {rows_parameters}

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            The shape of the inner model's predictions. With quantized tables
            (``quantize_luts=True``, the default) the 2-D array is
            column-major (Fortran-ordered), as the compiled scan writes it
            one target at a time; ``np.ascontiguousarray`` gives a row-major
            copy where one is needed.
        """
        check_fitted(self)
        X = validate_rows(self, X)
        y_pred = self._scores(X)
        return y_pred.ravel() if self._ravel else y_pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # See MaddnessClassifier.__sklearn_tags__ for why not self.estimator.
        inner = get_tags(unfrozen(self.estimator))
        tags.target_tags.multi_output = inner.target_tags.multi_output
        if inner.regressor_tags is not None:
            tags.regressor_tags.poor_score = inner.regressor_tags.poor_score
        return tags
