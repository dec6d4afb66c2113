"""MaddnessClassifier: a linear classifier with its product approximated by MADDNESS."""

from numbers import Real

import numpy as np
from sklearn.base import ClassifierMixin, clone
from sklearn.utils import get_tags
from sklearn.utils._param_validation import HasMethods, StrOptions
from sklearn.utils.validation import (
    _check_method_params,
    _check_sample_weight,
    column_or_1d,
)

from ._constraints import NumberInterval
from ._decision_classifier import DecisionClassifierMixin
from ._docstrings import fill_docstring
from ._fallback import calibrate, exact_rows, falls_back, held_out_rows
from ._labels import labels_from_scores
from ._linear_base import BaseMaddnessLinearModel
from ._maddness_interface import MADDNESS_PARAMETER_CONSTRAINTS
from ._maddness_params import estimator_dataclass
from ._probability import classifier_links
from ._table_objective import (
    LABEL_OBJECTIVES,
    fit_label_tables,
    resolve_table_objective,
)
from ._validation import check_fitted, validate_rows
from ._wrapper_base import inner_fit_context, positional_call, unfrozen


@fill_docstring
@estimator_dataclass(kw_only=True)
class MaddnessClassifier(
    DecisionClassifierMixin, ClassifierMixin, BaseMaddnessLinearModel
):
    """A linear classifier whose ``X @ coef_.T`` is approximated with MADDNESS.

    Fits a clone of ``estimator`` (or uses an already fitted one wrapped in
    :class:`~sklearn.frozen.FrozenEstimator`), then fits a
    :class:`~sklearn_amm.MaddnessTransformer` on the training rows with
    ``weights=coef_.T``, whose tables (by default) are then fitted to the
    labels (``table_objective``). Decision values are sums of table entries
    plus intercepts; predictions and probabilities are computed from them
    the way the inner model computes its own. Rows whose decision is
    uncertain can be scored exactly instead, within a stated loss of
    accuracy (``fallback_loss``).

    Parameters
    ----------
    estimator : estimator object
        A linear classifier whose ``decision_function`` is
        ``X @ coef_.T + intercept_``, such as
        :class:`~sklearn.linear_model.LogisticRegression`,
        :class:`~sklearn.svm.LinearSVC`,
        :class:`~sklearn.linear_model.RidgeClassifier` or
        :class:`~sklearn.linear_model.SGDClassifier`. This is checked on a
        few training rows at fit.

        {scaler_pipeline}

    {maddness_parameters}

    table_objective : {"auto", "product", "log_loss", "fine_tuned"}, \
            default="auto"
        What the lookup tables are fitted for, once the trees are learned
        for the product. The encoding and the cost of ``predict`` are the
        same for all four.

        - ``"product"``: to reproduce ``X @ coef_.T``; the decision values
          approximate the inner model's.
        - ``"log_loss"``: to classify the training rows, by a multinomial
          (binary: logistic) regression of ``y`` on the rows' codes, which
          also sets the intercepts, with a prior centred on the product
          tables.
        - ``"fine_tuned"``: the log-loss tables, then the split thresholds,
          tables and intercepts trained together on the log loss by
          minibatch gradient descent through soft comparisons annealed to
          hard ones (a straight-through estimator), so that the trees too
          serve the decision; the split columns and the encoding by
          comparisons are unchanged. About a second per epoch and 10,000
          rows at ``n_codebooks=16`` (12 epochs).
        - ``"auto"``: ``"fine_tuned"`` when every class of the inner model
          has a training row of positive weight and there are at least 6
          training rows per table entry of a class (``96 * n_codebooks``
          rows), else ``"product"``: with fewer rows the fine-tuned
          tables fit the rows' noise (on 1,437 digits they lost 0.2 and
          0.45 points to the product tables at 16 and 32 codebooks), and a
          FrozenEstimator fitted on rows labelled by its own predictions
          may miss a class.

        On 50,000 Fashion-MNIST rows at C=16 the three lose 7.6, 4.8 and 2.7
        accuracy points against the exact logistic regression (see the user
        guide's hyperparameter page). With the label objectives the decision
        values are those of the fitted tables, no longer an approximation of
        the inner model's, and ``predict_proba`` is their softmax (binary:
        expit) whatever the inner model; ``y`` must hold every class of the
        inner model, and ``sample_weight`` given to ``fit`` also weights the
        table fit.

    fallback_loss : float in [0, 1] or None, default=None
        Accuracy the classifier may lose against the exact model, as a
        fraction (0.003 is 0.3 points), bought back by scoring the rows of
        uncertain approximate decision exactly: rows whose two largest
        approximate scores (binary: the score and zero) are closer than
        ``fallback_threshold_`` get the inner model's exact decision values,
        their rows gathered and multiplied with BLAS. Fit calibrates the
        threshold on held-out training rows: a copy of this classifier,
        inner model included (a FrozenEstimator is shared as is), is fitted
        on the other rows, and the threshold is the smallest that keeps its
        loss on the held-out rows, plus one standard error of that estimate
        (so that new rows meet the target more often than not), within
        ``fallback_loss``; then the classifier is fitted on all rows with
        that threshold. The loss is
        measured against labels, so an inner model given already fitted on
        the held-out rows makes it pessimistic (more rows fall back than
        needed); give the unfitted model for an unbiased calibration.
        ``None``: no row falls back.

    validation_fraction : float in (0, 1), default=0.2
        Share of the training rows held out to calibrate ``fallback_loss``
        (stratified by class). Unused when ``fallback_loss`` is None.

    random_state : int, RandomState instance or None, default=None
        Shuffles the minibatches of ``table_objective="fine_tuned"`` and
        draws the held-out rows of ``fallback_loss``; pass an int for
        reproducible fits.

    Attributes
    ----------
    {inner_estimator_attribute}

    maddness_ : MaddnessTransformer
        Approximates ``X @ estimator_.coef_.T`` (of the scaled rows, for a
        pipeline of scalers); with
        ``table_objective="log_loss"``, its tables hold the decision values
        fitted by log loss instead (its ``prototypes_`` are still those of
        the product).

    classes_ : ndarray of shape (n_classes,)
        Class labels, those of ``estimator_``.

    table_objective_ : str
        The objective the tables were fitted for, ``"auto"`` resolved.

    fallback_threshold_ : float
        Rows whose top-two approximate margin is below it are scored
        exactly; 0.0 (no row) unless ``fallback_loss`` is set.

    fallback_fraction_ : float
        Share of the held-out rows that fell back at calibration; 0.0
        unless ``fallback_loss`` is set. :meth:`fallback_mask` tells which
        rows of new data fall back.

    validation_loss_ : float or None
        Accuracy lost against the exact model on the held-out rows, with the
        fallback (a fraction); None unless ``fallback_loss`` is set.

    {folded_thresholds_attribute}

    table_temperature_ : float
        Only with ``table_objective="log_loss"``: the factor fitted to turn
        the product tables' decision values into log-odds; the log-loss
        tables are shrunk towards the product tables times this factor.

    {feature_attributes}

    See Also
    --------
    MaddnessRegressor : The same for linear regressors.
    MaddnessTransformer : The approximate product itself.

    Notes
    -----
    ``predict`` takes the argmax of the de-quantized float scores. With
    uint8 tables the scores are ``totals / scale + shift + intercept_``,
    with ``scale`` and ``shift`` shared by all classes, so the argmax of
    ``totals + scale * intercept_`` would agree (up to float rounding), but
    that only saves one multiply per score and the raw totals alone ignore
    the intercepts, so no separate quantized path is taken.

    ``predict_proba`` and ``predict_log_proba`` exist when the inner model
    has them and its link from decision values is known: LogisticRegression
    (binary expit, multinomial softmax), LinearDiscriminantAnalysis, and
    SGDClassifier with ``loss="log_loss"`` or ``"modified_huber"``,
    or whatever the inner model when ``table_objective="log_loss"``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_amm import MaddnessClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MaddnessClassifier(LogisticRegression(max_iter=1000), n_codebooks=16)
    >>> clf = clf.fit(X[:1500], y[:1500])
    >>> clf.predict_proba(X[1500:1503]).shape
    (3, 10)
    >>> bool(clf.score(X[1500:], y[1500:]) > 0.8)
    True
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "decision_function"])],
        **MADDNESS_PARAMETER_CONSTRAINTS,
        "table_objective": [
            StrOptions({"auto", "product", "log_loss", "fine_tuned"})
        ],
        "fallback_loss": [NumberInterval(Real, 0, 1, closed="both"), None],
        "validation_fraction": [NumberInterval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    }

    _linear_method = "decision_function"

    table_objective: str = "auto"
    fallback_loss: float | None = None
    validation_fraction: float = 0.2
    random_state: int | np.random.RandomState | None = None

    @inner_fit_context
    def fit(self, X, y, **fit_params):
        """Fit the inner classifier, then MADDNESS on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows, also used to learn the MADDNESS encoding.
        y : array-like of shape (n_samples,)
            Target labels.
        {inner_fit_params}

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X, X_head, scalers = self._fit(X, y, fit_params)
        self.classes_ = self.estimator_.classes_
        # The tables and fine-tuned thresholds are those of the linear
        # model's own rows; then folded for the raw rows, which the
        # fallback's calibration scores as predict will.
        self._fit_tables(X_head, y, fit_params)
        self._fold_scalers(X, X_head, scalers)
        self._calibrate_fallback(X, y, fit_params)
        return self

    def _fit_tables(self, X, y, fit_params):
        """Fit the tables of ``table_objective`` once the trees are learned."""
        sample_weight = fit_params.get("sample_weight")
        self._table_objective = resolve_table_objective(
            self.table_objective,
            self.classes_,
            X,
            y,
            sample_weight,
            self.maddness_.n_codebooks_,
        )
        if self._table_objective in LABEL_OBJECTIVES:
            self._intercept, self.table_temperature_ = fit_label_tables(
                self.maddness_,
                X,
                y,
                self.classes_,
                self._intercept,
                sample_weight,
                fine_tuned=self._table_objective == "fine_tuned",
                random_state=self.random_state,
            )
        else:
            # A refit with product tables has no temperature.
            self.__dict__.pop("table_temperature_", None)

    @property
    def table_objective_(self):
        """The objective the tables were fitted for, ``"auto"`` resolved."""
        return self._table_objective

    def _calibrate_fallback(self, X, y, fit_params):
        """Set ``fallback_threshold_`` from a copy fitted without the held-out rows."""
        self.fallback_threshold_ = 0.0
        self.fallback_fraction_ = 0.0
        self.validation_loss_ = None
        if self.fallback_loss is None:
            return
        y = column_or_1d(y, warn=True)
        learn, held_out = held_out_rows(
            y, float(self.validation_fraction), self.random_state
        )
        shadow = clone(self).set_params(fallback_loss=None, verbose=0)
        shadow.fit(X[learn], y[learn], **_check_method_params(X, fit_params, learn))
        weight = fit_params.get("sample_weight")
        if weight is not None:
            weight = _check_sample_weight(weight, X, dtype=np.float64)[held_out]
        rows = X[held_out]
        scores = shadow._decision_function(rows)
        approx = labels_from_scores(shadow.classes_, scores) == y[held_out]
        exact = np.asarray(positional_call(shadow.estimator_.predict, rows)) == y[held_out]
        calibration = calibrate(scores, approx, exact, float(self.fallback_loss), weight)
        self.fallback_threshold_ = calibration.threshold
        self.fallback_fraction_ = calibration.fraction
        self.validation_loss_ = calibration.loss

    def _check_coef_shape(self, coef, n_features):
        super()._check_coef_shape(coef, n_features)
        n_classes = len(self.estimator_.classes_)
        expected = 1 if n_classes == 2 else n_classes
        if coef.shape[0] != expected:
            raise ValueError(
                f"The estimator's coef_ has {coef.shape[0]} rows; a linear "
                f"classifier with {n_classes} classes has {expected}."
            )

    def _check_prediction_rule(self, head, rows, output):
        predicted = positional_call(head.predict, rows)
        expected = labels_from_scores(head.classes_, np.asarray(output))
        if not np.array_equal(np.asarray(predicted), expected):
            raise ValueError(
                f"The predict of {type(unfrozen(head)).__name__} is not "
                "the class of its largest decision value (e.g. multilabel targets); "
                "it cannot be wrapped."
            )

    def decision_function(self, X):
        """Approximate decision values.

        With ``table_objective="product"`` they approximate ``X @ coef_.T +
        intercept_``; with the label objectives they are those of the
        fitted tables. Rows that fall back (``fallback_loss``) get the inner
        model's exact ``X @ coef_.T + intercept_``.

        {rows_parameters}

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            One column per class, or for a binary problem one value, the
            score of ``classes_[1]``, as the inner model returns. With
            quantized tables (``quantize_luts=True``, the default, or a
            label ``table_objective``) the 2-D array is column-major
            (Fortran-ordered), as the compiled scan writes it one class at
            a time; ``np.ascontiguousarray`` gives a row-major copy where one
            is needed.
        """
        check_fitted(self)
        X = validate_rows(self, X)
        return self._decision_function(X)

    def _approximate_scores(self, X):
        """Decision values of validated X with no row falling back."""
        scores = self._scores(X)
        return scores.ravel() if scores.shape[1] == 1 else scores

    def _decision_function(self, X):
        scores = self._approximate_scores(X)
        exact_rows(
            scores,
            X,
            self.fallback_threshold_,
            self._exact_scores(),
        )
        return scores

    def fallback_mask(self, X):
        """Which rows :meth:`predict` scores exactly (see ``fallback_loss``).

        {rows_parameters}

        Returns
        -------
        mask : ndarray of shape (n_samples,), dtype=bool
            True for the rows whose top-two approximate margin is below
            ``fallback_threshold_``; all False when no row falls back.
            ``mask.mean()`` is the share of rows that fall back.
        """
        check_fitted(self)
        X = validate_rows(self, X)
        if not self.fallback_threshold_ > 0:
            return np.zeros(X.shape[0], dtype=bool)
        return falls_back(self._approximate_scores(X), self.fallback_threshold_)

    def _probability_links(self):
        return classifier_links(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # The tags of the model a FrozenEstimator holds are the same, without
        # the deep copy FrozenEstimator makes of them: tags are read on every
        # predict by scikit-learn (its check_is_fitted, scorers), and that
        # copy cost more than the product.
        inner = get_tags(unfrozen(self.estimator)).classifier_tags
        if inner is not None:
            tags.classifier_tags.multi_class = inner.multi_class
            tags.classifier_tags.poor_score = inner.poor_score
        return tags
