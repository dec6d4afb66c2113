"""Target mode: the fastest MADDNESS classifier that keeps a stated accuracy."""

import time
import warnings
from dataclasses import KW_ONLY
from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    clone,
)
from sklearn.frozen import FrozenEstimator
from sklearn.kernel_approximation import Nystroem, RBFSampler, SkewedChi2Sampler
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_method_params,
    _check_sample_weight,
    validate_data,
)
from threadpoolctl import threadpool_limits

from ._constraints import NumberInterval
from ._decision_classifier import DecisionClassifierMixin
from ._doc_link import DocLinkMixin
from ._docstrings import fill_docstring
from ._fallback import calibrate, exact_rows, falls_back, held_out_rows, linear_scores
from ._classifier import MaddnessClassifier
from ._fourier_features import MaddnessRBFSampler, MaddnessSkewedChi2Sampler
from ._labels import labels_from_scores
from ._linear_base import dense_coef, dense_intercept
from ._maddness_params import estimator_dataclass
from ._nystroem import MaddnessNystroem
from ._persistence import VersionedStateMixin
from ._probability import classifier_links, inner_links
from ._scaler_folding import pipeline_fit_params, pipeline_parts
from ._table_objective import LABEL_OBJECTIVES
from ._validation import check_fitted, validate_rows
from ._wrapper_base import inner_fit_context, positional_call
from .exceptions import AccuracyTargetWarning

# Timings of each candidate on the held-out rows: the median of this many
# runs, after one run that pages in its buffers.
_N_TIMINGS = 5


def _median_seconds(function):
    """Median time of ``function()`` on one thread.

    One thread for the exact model's BLAS and for MADDNESS alike: the
    speed-up per core is what stays true when the caller runs predictions
    in parallel, and it does not depend on what else the machine runs.
    """
    with threadpool_limits(limits=1):
        function()
        times = []
        for _ in range(_N_TIMINGS):
            start = time.perf_counter()
            function()
            times.append(time.perf_counter() - start)
    return float(np.median(times))


# The kernel approximations a pipeline's step may be replaced by: the
# MADDNESS wrappers take the same parameters, so they draw the same
# random features.
_SAMPLERS = {
    RBFSampler: MaddnessRBFSampler,
    SkewedChi2Sampler: MaddnessSkewedChi2Sampler,
    Nystroem: MaddnessNystroem,
}


def _kernel_step(estimator):
    """Index of the kernel approximation in a pipeline, or None for a linear model.

    A pipeline with a step among ``_SAMPLERS`` must have exactly one,
    followed by steps that end with a classifier with
    ``decision_function``. One with none is a linear model after scalers,
    which MaddnessClassifier folds into its thresholds (and rejects
    otherwise).
    """
    if not isinstance(estimator, Pipeline):
        return None
    indices = [
        i for i, (_, step) in enumerate(estimator.steps) if type(step) in _SAMPLERS
    ]
    if not indices:
        pipeline_parts(estimator)
        return None
    if len(indices) != 1:
        raise ValueError(
            "A pipeline given to MaddnessClassifierCV must hold exactly one of "
            f"{', '.join(cls.__name__ for cls in _SAMPLERS)}, whose product "
            f"MADDNESS approximates; this one holds {len(indices)}."
        )
    return indices[0]


def _proba_links(model):
    """The ``(proba, log_proba)`` links of a fitted candidate, or raise AttributeError."""
    if isinstance(model, Pipeline):
        return inner_links(model.steps[-1][1])
    return classifier_links(model)


@fill_docstring
@estimator_dataclass
class MaddnessClassifierCV(
    VersionedStateMixin,
    DocLinkMixin,
    DecisionClassifierMixin,
    ClassifierMixin,
    MetaEstimatorMixin,
    BaseEstimator,
):
    """The fastest :class:`MaddnessClassifier` within a stated accuracy loss.

    State the accuracy you accept to lose against the exact linear model;
    fit finds the fastest configuration that keeps it on training rows it
    held out from learning. It holds out ``validation_fraction`` of the
    rows (stratified), fits the inner model and, for each number of
    codebooks and table objective, a MaddnessClassifier on the other rows,
    then measures on the held-out rows the accuracy lost against the exact
    model and the time of ``predict``. A candidate meets the target when
    that loss plus one standard error of the estimate is within it. With
    ``fallback=True`` each candidate also gets the smallest exact fallback
    (see ``MaddnessClassifier``'s ``fallback_loss``) that meets the target,
    and its time includes the rows that fall back. The candidate of the best
    measured speed-up among those meeting the target is refitted on all
    rows, the inner model too, keeping its fallback threshold.

    If no candidate meets the target faster than the exact model, the
    exact model itself is kept (``best_estimator_`` is None, every
    prediction is the inner model's) and an
    :class:`~sklearn_amm.exceptions.AccuracyTargetWarning` says so.

    Parameters
    ----------
    estimator : estimator object
        A linear classifier, possibly after per-feature scalers in a
        :class:`~sklearn.pipeline.Pipeline` (folded into the thresholds, as
        for :class:`MaddnessClassifier`), or a pipeline holding one kernel
        approximation (``RBFSampler``, ``SkewedChi2Sampler`` or
        ``Nystroem``) and ending with a classifier. For the latter, each
        candidate replaces the sampler by its MADDNESS wrapper (same
        parameters, so the same random features) with ``n_codebooks``
        codebooks and fits the pipeline, whose classifier then learns from
        the approximate features (steps before the sampler still run);
        rows that fall back get the exact pipeline's decision values, and
        ``table_objectives`` is not used. An unfitted estimator is fitted
        on the learning rows for the search (so the held-out rows are new to
        it, as test rows are) and on all rows at the end; a
        :class:`~sklearn.frozen.FrozenEstimator` is used as is, and if it was
        fitted on the held-out rows the measured loss is pessimistic.

    max_accuracy_loss : float in [0, 1], default=0.01
        Largest accepted loss of accuracy against the exact model, as a
        fraction (0.01 is one point), measured on the held-out rows.

    n_codebooks : tuple of int, default=(8, 16, 32, 64)
        The numbers of codebooks tried; values above the number of features
        are lowered to it.

    table_objectives : tuple of str, default=("fine_tuned",)
        The ``table_objective`` values of MaddnessClassifier tried. The
        objective changes accuracy, not speed; ``"fine_tuned"`` is the most
        accurate and the slowest to fit.

    fallback : bool, default=True
        Whether candidates may score their uncertain rows exactly.

    validation_fraction : float in (0, 1), default=0.2
        Share of the training rows held out to measure the loss.

    random_state : int, RandomState instance or None, default=None
        Draws the held-out rows and the fine-tuning's minibatches.

    verbose : int, default=0
        Prints each candidate's loss and speed-up when positive.

    Attributes
    ----------
    estimator_ : estimator object
        The inner classifier fitted on all rows (the FrozenEstimator itself
        if one was given).

    best_estimator_ : MaddnessClassifier, Pipeline or None
        The chosen configuration fitted on all rows (for a pipeline, the
        pipeline with the MADDNESS sampler), or None when the exact model is
        kept.

    n_codebooks_ : int or None
        Chosen number of codebooks (None: exact model).

    table_objective_ : str or None
        Chosen table objective (None: exact model, or a pipeline).

    fallback_threshold_ : float
        Rows whose top-two approximate margin is below it are scored
        exactly (0.0: none).

    validation_loss_ : float
        Accuracy lost against the exact model on the held-out rows by the
        chosen configuration, fallback included (0.0 for the exact model).

    fallback_fraction_ : float
        Share of the held-out rows that fell back.

    speedup_ : float
        Measured speed-up of the chosen configuration's ``predict`` over the
        exact model's on the held-out rows (their layout and dtype, one run
        of the fit: timings vary between runs, and so, between candidates
        of about equal speed, may the choice).

    cv_results_ : dict of ndarray
        One entry per candidate: ``n_codebooks``, ``table_objective``,
        ``loss_without_fallback``, ``loss``, ``fallback_fraction``,
        ``fallback_threshold``, ``predict_seconds``, ``speedup`` and
        ``meets_target``; ``exact_predict_seconds`` holds the exact model's
        time.

    classes_ : ndarray of shape (n_classes,)
        Class labels.

    {feature_attributes}

    See Also
    --------
    MaddnessClassifier : One configuration, chosen by hand.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_amm import MaddnessClassifierCV
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MaddnessClassifierCV(
    ...     LogisticRegression(max_iter=1000), max_accuracy_loss=0.02,
    ...     n_codebooks=(8, 16), random_state=0,
    ... ).fit(X[:1500] / 16, y[:1500])
    >>> bool(clf.validation_loss_ <= 0.02)
    True
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "decision_function"])],
        "max_accuracy_loss": [NumberInterval(Real, 0, 1, closed="both")],
        "n_codebooks": ["array-like"],
        "table_objectives": ["array-like"],
        "fallback": ["boolean"],
        "validation_fraction": [NumberInterval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    estimator: object
    _: KW_ONLY
    max_accuracy_loss: float = 0.01
    n_codebooks: tuple[int, ...] = (8, 16, 32, 64)
    table_objectives: tuple[str, ...] = ("fine_tuned",)
    fallback: bool = True
    validation_fraction: float = 0.2
    random_state: int | np.random.RandomState | None = None
    verbose: int = 0

    def _candidates(self, n_features):
        """``(n_codebooks, table_objective)`` pairs, fewest codebooks first."""
        values = np.asarray(self.n_codebooks).ravel()
        if values.size == 0 or not all(
            isinstance(v, Integral) and not isinstance(v, (bool, np.bool_)) and v >= 1
            for v in values.tolist()
        ):
            raise ValueError(
                f"n_codebooks must be a non-empty sequence of positive integers; "
                f"got {self.n_codebooks!r}."
            )
        objectives = [str(o) for o in np.asarray(self.table_objectives).ravel()]
        allowed = MaddnessClassifier._parameter_constraints["table_objective"][0]
        for objective in objectives:
            if not allowed.is_satisfied_by(objective):
                raise ValueError(
                    f"table_objectives must hold values among {allowed}; got "
                    f"{objective!r}."
                )
        if not objectives:
            raise ValueError("table_objectives must not be empty.")
        codebooks = sorted({min(int(v), n_features) for v in values.tolist()})
        if _kernel_step(self.estimator) is not None:
            objectives = [None]
        return [(c, objective) for objective in objectives for c in codebooks]

    def _candidate(self, head, n_codebooks, objective):
        """An unfitted candidate: MADDNESS around the fitted ``head``."""
        index = _kernel_step(self.estimator)
        if index is None:
            return MaddnessClassifier(
                FrozenEstimator(head),
                n_codebooks=n_codebooks,
                table_objective=objective,
                random_state=self.random_state,
            )
        pipeline = clone(self.estimator)
        name, sampler = pipeline.steps[index]
        pipeline.steps[index] = (
            name,
            _SAMPLERS[type(sampler)](**sampler.get_params(), n_codebooks=n_codebooks),
        )
        return pipeline

    def _head_fit_params(self, fit_params):
        """The fit parameters of the inner estimator itself."""
        if _kernel_step(self.estimator) is not None:
            return fit_params
        return pipeline_fit_params(self.estimator, fit_params)

    @staticmethod
    def _exact_scores(model):
        """The exact decision values of rows, for the rows that fall back."""
        if isinstance(model, Pipeline):
            return lambda rows: positional_call(model.decision_function, rows)
        coef = dense_coef(model)
        return linear_scores(coef, dense_intercept(model, len(coef)))

    @inner_fit_context
    def fit(self, X, y, **fit_params):
        """Search the configurations, then refit the fastest on all rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.
        y : array-like of shape (n_samples,)
            Target labels.
        **fit_params : dict
            Passed to the inner estimator's ``fit``; a ``sample_weight``
            among them also weighs the MADDNESS learning and the measured
            loss.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        candidates = self._candidates(X.shape[1])
        weight = fit_params.get("sample_weight")
        if weight is not None:
            weight = _check_sample_weight(weight, X, dtype=np.float64)
        learn, held_out = held_out_rows(
            y, float(self.validation_fraction), self.random_state
        )
        # One copy of the learning rows for every candidate.
        X_learn, y_learn = X[learn], y[learn]
        # A pipeline of scalers takes sample_weight for its linear model
        # (see MaddnessClassifier); the candidates translate it themselves.
        head_params = self._head_fit_params(fit_params)
        head = clone(self.estimator).fit(
            X_learn, y_learn, **_check_method_params(X, head_params, learn)
        )
        rows, labels = X[held_out], y[held_out]
        held_weight = None if weight is None else weight[held_out]
        learn_weight = None if weight is None else weight[learn]
        exact_correct = np.asarray(positional_call(head.predict, rows)) == labels
        exact_seconds = _median_seconds(lambda: positional_call(head.predict, rows))
        exact_scores = self._exact_scores(head)
        max_loss = float(self.max_accuracy_loss)
        results = []
        finished = set()
        for n_codebooks, objective in candidates:
            if objective in finished:
                continue
            candidate = self._candidate(head, n_codebooks, objective)
            candidate.fit(X_learn, y_learn, **_check_method_params(X, fit_params, learn))
            scores = positional_call(candidate.decision_function, rows)
            approx_correct = labels_from_scores(candidate.classes_, scores) == labels
            calibration = calibrate(
                scores,
                approx_correct,
                exact_correct,
                max_loss if self.fallback else None,
                held_weight,
            )

            def predict(candidate=candidate, threshold=calibration.threshold):
                scores = positional_call(candidate.decision_function, rows)
                exact_rows(scores, rows, threshold, exact_scores)
                return labels_from_scores(candidate.classes_, scores)

            seconds = _median_seconds(predict)
            result = dict(
                n_codebooks=n_codebooks,
                table_objective=objective,
                loss_without_fallback=calibration.loss_without_fallback,
                loss=calibration.loss,
                fallback_fraction=calibration.fraction,
                fallback_threshold=calibration.threshold,
                predict_seconds=seconds,
                speedup=exact_seconds / seconds,
                meets_target=calibration.loss_bound <= max_loss + 1e-12,
            )
            results.append(result)
            if self.verbose:
                print(
                    f"[MaddnessClassifierCV] C={n_codebooks} {objective or ''}: loss "
                    f"{100 * calibration.loss_without_fallback:.2f} points, with "
                    f"{100 * calibration.fraction:.1f}% of rows exact "
                    f"{100 * calibration.loss:.2f}; speed-up "
                    f"{result['speedup']:.1f}x"
                )
            # More codebooks cost more time: once the target is met without
            # any fallback, the larger candidates of this objective cannot be
            # faster.
            if result["meets_target"] and calibration.fraction == 0.0:
                finished.add(objective)
        self.cv_results_ = {
            key: np.asarray([result[key] for result in results])
            for key in results[0]
        }
        self.cv_results_["exact_predict_seconds"] = exact_seconds
        eligible = [r for r in results if r["meets_target"] and r["speedup"] > 1.0]
        self.estimator_ = clone(self.estimator).fit(X, y, **head_params)
        self.classes_ = self.estimator_.classes_
        if not eligible:
            warnings.warn(
                f"No configuration lost at most {100 * max_loss:.2f} accuracy points "
                "while predicting faster than the exact model (see cv_results_); "
                "the exact model is kept.",
                AccuracyTargetWarning,
            )
            self.best_estimator_ = None
            self.n_codebooks_ = self.table_objective_ = None
            self.fallback_threshold_ = self.fallback_fraction_ = 0.0
            self.validation_loss_ = 0.0
            self.speedup_ = 1.0
            return self
        best = max(eligible, key=lambda r: r["speedup"])
        self.n_codebooks_ = int(best["n_codebooks"])
        objective = best["table_objective"]
        self.table_objective_ = None if objective is None else str(objective)
        self.fallback_threshold_ = float(best["fallback_threshold"])
        self.fallback_fraction_ = float(best["fallback_fraction"])
        self.validation_loss_ = float(best["loss"])
        self.speedup_ = float(best["speedup"])
        self.best_estimator_ = self._candidate(
            self.estimator_, self.n_codebooks_, self.table_objective_
        ).fit(X, y, **fit_params)
        return self

    def _validate_rows(self, X):
        # The exact model reads every value of every row.
        return validate_rows(self, X, check_finite=self.best_estimator_ is None)

    def _fallen_row_scores(self):
        """The exact decision values of the rows that fall back.

        A linear model's coefficients are read from ``best_estimator_``,
        which densified them at fit, rather than again at every call.
        """
        best = self.best_estimator_
        if isinstance(best, Pipeline):
            return self._exact_scores(self.estimator_)
        return best._exact_scores()

    def decision_function(self, X):
        """Decision values: approximate, exact for the rows that fall back.

        {rows_parameters}

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            As :meth:`MaddnessClassifier.decision_function`; the inner
            model's own when the exact model was kept.
        """
        check_fitted(self)
        X = self._validate_rows(X)
        return self._decision_function(X)

    def _decision_function(self, X):
        if self.best_estimator_ is None:
            return positional_call(self.estimator_.decision_function, X)
        scores = positional_call(self.best_estimator_.decision_function, X)
        exact_rows(
            scores, X, self.fallback_threshold_, self._fallen_row_scores()
        )
        return scores

    def _probabilities_available(self):
        if hasattr(self, "estimator_"):
            if self.best_estimator_ is None:
                return hasattr(self.estimator_, "predict_proba")
            _proba_links(self.best_estimator_)
            return True
        if isinstance(self.estimator, Pipeline):
            inner_links(self.estimator.steps[-1][1])
            return True
        if all(objective in LABEL_OBJECTIVES for objective in self.table_objectives):
            return True
        inner_links(self.estimator)
        return True

    def _probability_links(self):
        return _proba_links(self.best_estimator_)

    def _probabilities(self, X, log):
        if self.best_estimator_ is None:
            exact = self.estimator_
            method = exact.predict_log_proba if log else exact.predict_proba
            return positional_call(method, self._validate_rows(X))
        return super()._probabilities(X, log)

    def fallback_mask(self, X):
        """Which rows are scored exactly.

        {rows_parameters}

        Returns
        -------
        mask : ndarray of shape (n_samples,), dtype=bool
            All True when the exact model was kept.
        """
        check_fitted(self)
        X = self._validate_rows(X)
        if self.best_estimator_ is None:
            return np.ones(X.shape[0], dtype=bool)
        scores = positional_call(self.best_estimator_.decision_function, X)
        return falls_back(scores, self.fallback_threshold_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        # The choice between candidates of about equal speed depends on
        # timings measured during fit.
        tags.non_deterministic = True
        return tags
