"""Parameters given as NumPy scalars, and booleans where numbers are expected.

``GridSearchCV`` over ``np.arange(...)`` or ``np.linspace(...)`` sets NumPy
scalars (``np.int64``, ``np.float64``, ``np.bool_``); every estimator must
fit and predict with them as with Python numbers. A bool given for a count
or a penalty is rejected at validation.
"""

from numbers import Integral, Real

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler, StandardScaler
from sklearn.utils._param_validation import InvalidParameterError, Interval

from sklearn_amm import (
    MaddnessClassifier,
    MaddnessClassifierCV,
    MaddnessNystroem,
    MaddnessProjection,
    MaddnessRBFSampler,
    MaddnessRegressor,
    MaddnessSkewedChi2Sampler,
    MaddnessTransformer,
    _reference,
)
from sklearn_amm._estimators import all_estimators

from cv_timings import fixed_timings

N_FEATURES = 8


def _estimators():
    """One of each public estimator, small enough for its 60-row folds."""
    weights = np.random.default_rng(0).normal(size=(N_FEATURES, 3))
    small = {"n_codebooks": 2}
    return [
        MaddnessTransformer(weights, **small),
        MaddnessClassifier(LogisticRegression(), **small),
        MaddnessClassifier(
            make_pipeline(StandardScaler(), LogisticRegression()), **small
        ),
        MaddnessRegressor(Ridge(), **small),
        MaddnessRegressor(make_pipeline(MaxAbsScaler(), Ridge()), **small),
        MaddnessRBFSampler(n_components=10, random_state=0, **small),
        MaddnessSkewedChi2Sampler(n_components=10, random_state=0, **small),
        MaddnessNystroem(kernel="poly", n_components=10, random_state=0, **small),
        MaddnessProjection(PCA(n_components=3), **small),
        # Any loss accepted, so that the choice rests on the (fixed) timings
        # alone: the 12 held-out rows of a fold bound the loss above 1%.
        MaddnessClassifierCV(
            LogisticRegression(),
            max_accuracy_loss=1.0,
            n_codebooks=(2,),
            random_state=0,
        ),
    ]


ESTIMATORS = _estimators()
IDS = [type(estimator).__name__ for estimator in ESTIMATORS]


def test_cases_hold_every_estimator_class():
    classes = {type(estimator) for estimator in ESTIMATORS}
    assert classes == set(all_estimators())


# NumPy values of every integer, float and boolean parameter, as a grid
# search over np.arange or np.array sets them. Iterating over these arrays
# yields np.int64, np.float64 and np.bool_ scalars.
NUMPY_VALUES = {
    "n_codebooks": np.arange(1, 3),
    "n_candidate_dims": np.arange(1, 3),
    "n_refinement_passes": np.arange(0, 2),
    "verbose": np.arange(0, 2),
    "ridge_alpha": np.array([0.5, 2.0]),
    "optimize_prototypes": np.array([False, True]),
    "quantize_luts": np.array([False, True]),
    "n_components": np.arange(2, 4),
    "random_state": np.arange(0, 2),
    "gamma": np.array([0.5, 2.0]),
    "skewedness": np.array([0.5, 2.0]),
    "coef0": np.array([0.0, 1.5]),
    "degree": np.array([2.0, 3.0]),
    # One value: n_jobs=2 would start worker processes for nothing.
    "n_jobs": np.arange(1, 2),
    "fallback_loss": np.array([0.0, 0.05]),
    "validation_fraction": np.array([0.2, 0.3]),
    "max_accuracy_loss": np.array([0.5, 1.0]),
    "fallback": np.array([False, True]),
}


def _numeric_parameters(estimator):
    """Parameters whose constraints take numbers or booleans (or random_state)."""
    names = set()
    for name, options in estimator._parameter_constraints.items():
        for constraint in options:
            if (
                isinstance(constraint, Interval)
                or constraint in (Integral, Real, "boolean", "random_state")
            ):
                names.add(name)
    return names


def _data(estimator):
    rng = np.random.default_rng(1)
    X = rng.random((120, N_FEATURES))  # positive, for the skewed chi2 logarithm
    if isinstance(estimator, (MaddnessClassifier, MaddnessClassifierCV)):
        return X, np.arange(120) % 3
    if isinstance(estimator, MaddnessRegressor):
        return X, X @ rng.normal(size=N_FEATURES)
    return X, None


def _output_score(estimator, X, y=None):
    """A scorer for every estimator: it calls the method that uses the fit."""
    if hasattr(estimator, "decision_function"):
        output = estimator.decision_function(X)
    elif hasattr(estimator, "predict"):
        output = estimator.predict(X)
    else:
        output = estimator.transform(X)
    assert np.isfinite(output).all()
    return -float(np.abs(output).mean())


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_grid_search_over_numpy_values_of_every_numeric_parameter(estimator):
    names = _numeric_parameters(estimator)
    assert names <= set(NUMPY_VALUES), names - set(NUMPY_VALUES)
    # One grid per parameter: each value is tried with the others at their
    # defaults, and every fit must succeed (error_score="raise").
    grid = [{name: NUMPY_VALUES[name]} for name in sorted(names)]
    X, y = _data(estimator)
    search = GridSearchCV(
        estimator, grid, cv=2, scoring=_output_score, error_score="raise"
    )
    with fixed_timings():  # MaddnessClassifierCV's choice rests on them
        search.fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert len(search.cv_results_["params"]) == sum(
        len(NUMPY_VALUES[name]) for name in names
    )


def test_grid_search_over_np_arange_of_n_codebooks_fits_every_candidate():
    # 12 fits of 3 candidates: all succeed, none are lost to error_score.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 16))
    weights = rng.normal(size=(16, 3))
    search = GridSearchCV(
        MaddnessTransformer(weights),
        {"n_codebooks": np.arange(4, 17, 4)},
        cv=3,
        error_score="raise",
    ).fit(X)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.n_codebooks_ in (4, 8, 12, 16)


@pytest.mark.parametrize(
    "params",
    [
        {"n_codebooks": np.int64(8)},
        {"n_codebooks": np.int32(20)},  # clamped to n_features
        {"n_candidate_dims": np.int64(2), "n_refinement_passes": np.int64(1)},
        {"ridge_alpha": np.float64(0.5), "optimize_prototypes": np.bool_(True)},
        {"quantize_luts": np.bool_(False)},
        {"aggregation": np.str_("sum"), "lut_scaling": np.str_("shared")},
    ],
)
def test_numpy_scalar_parameters_give_the_python_value_fit(params):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 16))
    weights = rng.normal(size=(16, 3))
    as_python = {name: value.item() for name, value in params.items()}
    ours = MaddnessTransformer(weights, **params).fit(X)
    python = MaddnessTransformer(weights, **as_python).fit(X)
    # Fitted values are Python ints, whatever the parameter's type.
    assert type(ours.n_codebooks_) is int
    assert ours.n_codebooks_ == python.n_codebooks_
    np.testing.assert_array_equal(ours.transform(X), python.transform(X))


@pytest.mark.parametrize("n_codebooks", [np.int64(5), np.int32(17), np.uint8(40)])
def test_reference_averaging_takes_numpy_integers(n_codebooks):
    assert _reference.averaging_groups(n_codebooks) == _reference.averaging_groups(
        int(n_codebooks)
    )
    assert _reference.averaging_bias(n_codebooks) == _reference.averaging_bias(
        int(n_codebooks)
    )


def _interval_parameters(estimator):
    """Parameters validated by a numeric interval (or as any int)."""
    return sorted(
        name
        for name, options in estimator._parameter_constraints.items()
        if any(isinstance(c, Interval) or c is Integral for c in options)
    )


@pytest.mark.parametrize(
    "estimator, name",
    [
        (estimator, name)
        for estimator in ESTIMATORS
        for name in _interval_parameters(estimator)
    ],
    ids=[
        f"{type(estimator).__name__}-{name}"
        for estimator in ESTIMATORS
        for name in _interval_parameters(estimator)
    ],
)
@pytest.mark.parametrize("value", [True, np.bool_(True), False])
def test_booleans_are_rejected_for_numeric_parameters(estimator, name, value):
    X, y = _data(estimator)
    estimator = clone(estimator).set_params(**{name: value})
    with pytest.raises(
        InvalidParameterError, match=rf"The '{name}' parameter .*\(not a bool\)"
    ):
        estimator.fit(X, y)


def test_n_codebooks_true_gets_a_clear_error():
    X = np.random.default_rng(0).normal(size=(100, 8))
    with pytest.raises(
        InvalidParameterError,
        match=r"'n_codebooks' parameter of MaddnessTransformer must be an int in "
        r"the range \[1, inf\) \(not a bool\). Got True instead.",
    ):
        MaddnessTransformer(n_codebooks=True).fit(X)
