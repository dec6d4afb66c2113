"""Linear models whose product ``X @ coef_.T`` is approximated with MADDNESS."""

from numbers import Real

import numpy as np
from scipy import sparse
from scipy.special import expit
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    RegressorMixin,
    _fit_context,
    clone,
)
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.utils import get_tags
from sklearn.utils._param_validation import HasMethods, StrOptions
from sklearn.utils.extmath import softmax
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import (
    _check_method_params,
    _check_sample_weight,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from ._decision_tables import class_indices_of, log_loss_tables
from ._fallback import calibrate, exact_rows, falls_back, held_out_rows, linear_scores
from ._constraints import NumberInterval
from ._fine_tuning import fine_tune
from ._kernels._argmax import column_argmax
from ._kernels._cpu import openmp_max_threads
from ._doc_link import DocLinkMixin
from ._persistence import VersionedStateMixin
from ._tables import build_tables, leaf_weights
from ._validation import validate_rows
from ._wrapper_base import (
    MADDNESS_PARAMETER_CONSTRAINTS,
    InnerEstimatorMixin,
    MaddnessParamsMixin,
    check_affine_match,
    insert_maddness_parameter_docs,
    positional_call,
    unfrozen,
)

# Training rows on which the inner model's own output is compared with the
# product read from its coefficients: enough to catch a non-linear model,
# few enough to cost nothing next to fitting.
_N_CHECK_ROWS = 32


# The links below map decision values to probabilities exactly as the inner
# models do in scikit-learn 1.9 (tests compare them on exact decision values).
# They use the public functions where those exist (scipy.special.expit,
# sklearn.utils.extmath.softmax). scikit-learn has no public function for the
# rest: its links are methods of the models that start from X, not from
# decision values (LinearClassifierMixin._predict_proba_lr, the modified Huber
# branch of SGDClassifier.predict_proba, LinearDiscriminantAnalysis's
# predict_log_proba), so the few lines they add are repeated here. Each link
# overwrites the scores it is given, which the caller made for it: a second
# array of the output's size would be paged in on every call.


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


def _links(estimator):
    """The ``(proba, log_proba)`` links of a classifier, or raise AttributeError.

    Raises AttributeError, so that ``predict_proba`` is absent, both when
    the inner model has no ``predict_proba`` (e.g. LinearSVC, or
    SGDClassifier with the hinge loss) and when its link is not known here.
    """
    getattr(estimator, "predict_proba")
    model = unfrozen(estimator)
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


# "auto" fine-tunes only with at least this many training rows per table
# entry of a class (16 per codebook): with fewer, the fine-tuned thresholds
# and tables fit the rows' noise. On 1,437 digits, fine-tuning lost 0.2
# points to the product tables at 16 codebooks (5.6 rows per entry) and 0.45
# at 32 (2.8), and gained 1.5 at 8 (11); on Fashion-MNIST, 20,000 rows at 32
# codebooks (39 per entry) gain 3.6 points.
_MIN_ROWS_PER_TABLE_ENTRY = 6

# Table objectives whose tables are a logistic model of the labels.
_LABEL_OBJECTIVES = ("log_loss", "fine_tuned")


def _classifier_links(clf):
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
    if objective in _LABEL_OBJECTIVES + ("auto",):
        return _expit_or_softmax_proba, _log_in_place
    return _links(getattr(clf, "estimator_", clf.estimator))


def _labels_cover(classes, y, sample_weight):
    """Whether every class has a training row of positive weight.

    Tables fitted to the labels need every class of the inner model among
    them; a FrozenEstimator may be given rows labelled by its own
    predictions, which can miss some.
    """
    y = np.asarray(y)
    if sample_weight is not None:
        y = y[np.asarray(sample_weight) > 0]
    return bool(np.isin(classes, y).all())


def _inner_has_link(self):
    """``available_if`` check of ``predict_proba`` and ``predict_log_proba``."""
    _classifier_links(self)
    return True


def _labels_from_scores(classes, scores):
    """LinearClassifierMixin.predict: binary sign, else argmax."""
    if scores.ndim == 1:
        indices = (scores > 0).astype(np.intp)
    else:
        indices = _row_argmax(scores)
    return classes.take(indices)


def _row_argmax(scores):
    """``scores.argmax(axis=1)``, without copying column-major scores.

    The scan writes the scores column-major, and NumPy's argmax along rows
    copies such an array to row-major first: a fresh array of the output's
    size, paged in on every call. The compiled kernel reads the transposed,
    C-ordered view in place (see ``_kernels/_argmax.pyx``); it returns what
    ``argmax`` returns, first of equal maxima and NaN included.
    """
    if not scores.flags.f_contiguous or scores.dtype not in (np.float32, np.float64):
        return scores.argmax(axis=1)
    indices = np.empty(scores.shape[0], dtype=np.intp)
    column_argmax(scores.T, indices, openmp_max_threads())
    return indices


def _dense_coef(estimator):
    """``coef_`` as a 2-D float64 array of shape (n_outputs, n_features)."""
    coef = estimator.coef_
    if sparse.issparse(coef):
        # After ``sparsify()``; the tables are built once, so densify.
        coef = coef.toarray()
    coef = np.asarray(coef, dtype=np.float64)
    return coef.reshape(1, -1) if coef.ndim == 1 else coef


def _dense_intercept(estimator, n_outputs):
    """``intercept_`` as a float64 array of shape (n_outputs,); 0 where there is none."""
    intercept = np.asarray(getattr(estimator, "intercept_", 0.0), dtype=np.float64)
    return np.broadcast_to(intercept, (n_outputs,)).copy()


class _BaseMaddnessLinearModel(
    VersionedStateMixin,
    DocLinkMixin,
    InnerEstimatorMixin,
    MaddnessParamsMixin,
    MetaEstimatorMixin,
    BaseEstimator,
):
    """Fit the inner linear model, then MADDNESS on ``X`` with ``B = coef_.T``."""

    # The inner method whose output must be ``X @ coef_.T + intercept_``.
    _linear_method = None

    def __init__(
        self,
        estimator,
        *,
        n_codebooks=16,
        optimize_prototypes=True,
        ridge_alpha=1.0,
        quantize_luts=True,
        aggregation="average",
        lut_scaling="per_output",
        n_candidate_dims=4,
        split_objective="product",
        n_refinement_passes=1,
        verbose=0,
    ):
        self.estimator = estimator
        self.n_codebooks = n_codebooks
        self.optimize_prototypes = optimize_prototypes
        self.ridge_alpha = ridge_alpha
        self.quantize_luts = quantize_luts
        self.aggregation = aggregation
        self.lut_scaling = lut_scaling
        self.n_candidate_dims = n_candidate_dims
        self.split_objective = split_objective
        self.n_refinement_passes = n_refinement_passes
        self.verbose = verbose

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
        coef = _dense_coef(self.estimator_)
        self._check_coef_shape(coef, X.shape[1])
        # Models without an intercept_ attribute have none.
        intercept = _dense_intercept(self.estimator_, len(coef))
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
        self.maddness_ = self._fit_maddness(X, coef.T, fit_params.get("sample_weight"))
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
        return self.maddness_._transform(X, np.float64, self._intercept)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # MADDNESS compares dense feature values with thresholds.
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags


@insert_maddness_parameter_docs
class MaddnessClassifier(ClassifierMixin, _BaseMaddnessLinearModel):
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
    estimator_ : estimator object
        The fitted inner classifier (the FrozenEstimator itself if one was
        given).

    maddness_ : MaddnessTransformer
        Approximates ``X @ estimator_.coef_.T``; with
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

    table_temperature_ : float
        Only with ``table_objective="log_loss"``: the factor fitted to turn
        the product tables' decision values into log-odds; the log-loss
        tables are shrunk towards the product tables times this factor.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

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

    _parameter_constraints: dict = {
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

    def __init__(
        self,
        estimator,
        *,
        n_codebooks=16,
        optimize_prototypes=True,
        ridge_alpha=1.0,
        quantize_luts=True,
        aggregation="average",
        lut_scaling="per_output",
        n_candidate_dims=4,
        split_objective="product",
        n_refinement_passes=1,
        verbose=0,
        table_objective="auto",
        fallback_loss=None,
        validation_fraction=0.2,
        random_state=None,
    ):
        super().__init__(
            estimator,
            n_codebooks=n_codebooks,
            optimize_prototypes=optimize_prototypes,
            ridge_alpha=ridge_alpha,
            quantize_luts=quantize_luts,
            aggregation=aggregation,
            lut_scaling=lut_scaling,
            n_candidate_dims=n_candidate_dims,
            split_objective=split_objective,
            n_refinement_passes=n_refinement_passes,
            verbose=verbose,
        )
        self.table_objective = table_objective
        self.fallback_loss = fallback_loss
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    @_fit_context(
        # The inner estimator's parameters are validated by its own fit.
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y, **fit_params):
        """Fit the inner classifier, then MADDNESS on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows, also used to learn the MADDNESS encoding.
        y : array-like of shape (n_samples,)
            Target labels.
        **fit_params : dict
            Passed to the inner estimator's ``fit`` (routed to it when
            metadata routing is enabled). A ``sample_weight`` among them also
            weighs the rows MADDNESS learns from.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X = self._fit(X, y, fit_params)
        self.classes_ = self.estimator_.classes_
        self._fit_tables(X, y, fit_params)
        self._calibrate_fallback(X, y, fit_params)
        return self

    def _fit_tables(self, X, y, fit_params):
        """Fit the tables of ``table_objective`` once the trees are learned."""
        objective = str(self.table_objective)
        if objective == "auto":
            weight = fit_params.get("sample_weight")
            covered = _labels_cover(self.classes_, y, weight)
            n_rows = len(X) if weight is None else int(np.count_nonzero(np.asarray(weight) > 0))
            enough = n_rows >= _MIN_ROWS_PER_TABLE_ENTRY * 16 * self.maddness_.n_codebooks_
            objective = "fine_tuned" if covered and enough else "product"
        self._table_objective = objective
        if self._table_objective in _LABEL_OBJECTIVES:
            self._fit_log_loss_tables(
                X,
                y,
                fit_params.get("sample_weight"),
                fine_tuned=self._table_objective == "fine_tuned",
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
        approx = _labels_from_scores(shadow.classes_, scores) == y[held_out]
        exact = np.asarray(positional_call(shadow.estimator_.predict, rows)) == y[held_out]
        calibration = calibrate(scores, approx, exact, float(self.fallback_loss), weight)
        self.fallback_threshold_ = calibration.threshold
        self.fallback_fraction_ = calibration.fraction
        self.validation_loss_ = calibration.loss

    def _fit_log_loss_tables(self, X, y, sample_weight, fine_tuned=False):
        """Replace the product tables by tables fitted for the decision.

        The trees stay those learned for the product; the tables and
        intercepts become the multinomial (binary: logistic) regression of
        the labels on the training rows' codes, with a prior centred on the
        product tables (see ``_decision_tables``). With ``fine_tuned``,
        the split thresholds, tables and intercepts are then trained
        together on the same loss (see ``_fine_tuning``); the split columns
        stay those of the product's trees.
        """
        y = column_or_1d(y, warn=True)
        # A FrozenEstimator's fit ignores y, so nothing has checked it yet.
        check_consistent_length(X, y)
        class_indices = class_indices_of(y, np.asarray(self.classes_))
        codes = self.maddness_.encode(X)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        tables, intercept, self.table_temperature_ = log_loss_tables(
            codes,
            class_indices,
            len(self.classes_),
            build_tables(self.maddness_.prototypes_, self.maddness_.weights_),
            self._intercept,
            sample_weight,
        )
        if fine_tuned:
            thresholds, tables, intercept = fine_tune(
                X,
                class_indices,
                len(self.classes_),
                self.maddness_.split_dims_,
                self.maddness_.split_thresholds_,
                tables,
                intercept,
                sample_weight=sample_weight,
                random_state=self.random_state,
            )
            # Before the tables: quantizing them reads which leaves the
            # thresholds make reachable.
            self.maddness_.split_thresholds_ = thresholds
            # The quantization weighs entries by the rows reaching each leaf.
            self.maddness_.leaf_weights_ = leaf_weights(
                self.maddness_.encode(X), sample_weight
            )
        self.maddness_._set_tables(tables)
        self._intercept = intercept

    def _upgrade_state(self, state):
        """A state saved before ``_table_objective``: read it from the tables.

        Fit keeps ``table_temperature_`` exactly when it fitted log-loss
        tables, which is more faithful than the parameter, which may have
        been changed after fit.
        """
        state = super()._upgrade_state(state)
        if "classes_" in state and "_table_objective" not in state:
            log_loss = "table_temperature_" in state
            state["_table_objective"] = "log_loss" if log_loss else "product"
        if "classes_" in state and "fallback_threshold_" not in state:
            # Saved before the exact fallback: no row fell back.
            state.update(
                fallback_threshold_=0.0, fallback_fraction_=0.0, validation_loss_=None
            )
            estimator = state["estimator_"]
            state["_exact_coef"] = _dense_coef(estimator)
            state["_exact_intercept"] = _dense_intercept(
                estimator, len(state["_exact_coef"])
            )
        return state

    def _check_coef_shape(self, coef, n_features):
        super()._check_coef_shape(coef, n_features)
        n_classes = len(self.estimator_.classes_)
        expected = 1 if n_classes == 2 else n_classes
        if coef.shape[0] != expected:
            raise ValueError(
                f"The estimator's coef_ has {coef.shape[0]} rows; a linear "
                f"classifier with {n_classes} classes has {expected}."
            )

    def _check_prediction_rule(self, rows, output):
        predicted = positional_call(self.estimator_.predict, rows)
        expected = _labels_from_scores(self.estimator_.classes_, np.asarray(output))
        if not np.array_equal(np.asarray(predicted), expected):
            raise ValueError(
                f"The predict of {type(unfrozen(self.estimator_)).__name__} is not "
                "the class of its largest decision value (e.g. multilabel targets); "
                "it cannot be wrapped."
            )

    def decision_function(self, X):
        """Approximate decision values.

        With ``table_objective="product"`` they approximate ``X @ coef_.T +
        intercept_``; with the label objectives they are those of the
        fitted tables. Rows that fall back (``fallback_loss``) get the inner
        model's exact ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

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
        check_is_fitted(self)
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
            linear_scores(self._exact_coef, self._exact_intercept),
        )
        return scores

    def fallback_mask(self, X):
        """Which rows :meth:`predict` scores exactly (see ``fallback_loss``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to classify.

        Returns
        -------
        mask : ndarray of shape (n_samples,), dtype=bool
            True for the rows whose top-two approximate margin is below
            ``fallback_threshold_``; all False when no row falls back.
            ``mask.mean()`` is the share of rows that fall back.
        """
        check_is_fitted(self)
        X = validate_rows(self, X)
        if not self.fallback_threshold_ > 0:
            return np.zeros(X.shape[0], dtype=bool)
        return falls_back(self._approximate_scores(X), self.fallback_threshold_)

    def predict(self, X):
        """Predict class labels from the approximate decision values.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to classify.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            ``classes_[1]`` where the binary score is positive, else the
            class of the largest score.
        """
        scores = self.decision_function(X)
        return _labels_from_scores(self.classes_, scores)

    @available_if(_inner_has_link)
    def predict_proba(self, X):
        """Class probabilities from the approximate decision values.

        Only available when the inner model has ``predict_proba`` with a
        known link (see Notes of the class).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to classify.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            In the order of ``classes_``. For more than two classes,
            column-major (Fortran-ordered) when the decision values are (see
            :meth:`decision_function`): the link is applied in place.
        """
        check_is_fitted(self)
        proba_link, _ = _classifier_links(self)
        return proba_link(self.decision_function(X))

    @available_if(_inner_has_link)
    def predict_log_proba(self, X):
        """Logarithm of the class probabilities of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to classify.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            In the order of ``classes_``; column-major (Fortran-ordered)
            when :meth:`predict_proba`'s array is.
        """
        check_is_fitted(self)
        _, log_link = _classifier_links(self)
        return log_link(self.predict_proba(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # The tags of the model a FrozenEstimator holds are the same, without
        # the deep copy FrozenEstimator makes of them: tags are read on every
        # predict (check_is_fitted), and that copy cost more than the product.
        inner = get_tags(unfrozen(self.estimator)).classifier_tags
        if inner is not None:
            tags.classifier_tags.multi_class = inner.multi_class
            tags.classifier_tags.poor_score = inner.poor_score
        return tags


@insert_maddness_parameter_docs
class MaddnessRegressor(RegressorMixin, _BaseMaddnessLinearModel):
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

    {maddness_parameters}

    Attributes
    ----------
    estimator_ : estimator object
        The fitted inner regressor (the FrozenEstimator itself if one was
        given).

    maddness_ : MaddnessTransformer
        Approximates ``X @ estimator_.coef_.T``.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

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

    @_fit_context(
        # The inner estimator's parameters are validated by its own fit.
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y, **fit_params):
        """Fit the inner regressor, then MADDNESS on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows, also used to learn the MADDNESS encoding.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target values.
        **fit_params : dict
            Passed to the inner estimator's ``fit`` (routed to it when
            metadata routing is enabled). A ``sample_weight`` among them also
            weighs the rows MADDNESS learns from.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        self._fit(X, y, fit_params)
        # A 1-D coef_ means the inner model predicts a 1-D array.
        self._ravel = np.ndim(unfrozen(self.estimator_).coef_) == 1
        return self

    def predict(self, X):
        """Approximate predictions ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to predict.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            The shape of the inner model's predictions. With quantized tables
            (``quantize_luts=True``, the default) the 2-D array is
            column-major (Fortran-ordered), as the compiled scan writes it
            one target at a time; ``np.ascontiguousarray`` gives a row-major
            copy where one is needed.
        """
        check_is_fitted(self)
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
