"""What a fitted estimator computes depends on its fitted state only.

``set_params`` on a fitted estimator changes what the next ``fit`` does,
never the output of the fitted model: every method after fit reads fitted
attributes (or private values resolved at fit), not the parameters.
"""

import copy

import numpy as np
import pytest
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.linear_model import Lasso, LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import RobustScaler, StandardScaler
from sklearn.svm import LinearSVC

from sklearn_amm import (
    MaddnessClassifier,
    MaddnessClassifierCV,
    MaddnessNystroem,
    MaddnessProjection,
    MaddnessRBFSampler,
    MaddnessRegressor,
    MaddnessSkewedChi2Sampler,
    MaddnessTransformer,
)
from sklearn_amm._estimators import all_estimators

from cv_timings import fixed_timings

N_FEATURES = 12
# Options every MADDNESS parameter is fitted with in the "other" variants,
# so that each parameter is changed after fit in both directions.
OTHER_TABLES = {
    "quantize_luts": False,
    "aggregation": "sum",
    "lut_scaling": "shared",
    "optimize_prototypes": False,
    "split_objective": "reconstruction",
    "n_refinement_passes": 0,
    "n_candidate_dims": 2,
    "ridge_alpha": 3.0,
}


def _weights(seed):
    return np.random.default_rng(seed).normal(size=(N_FEATURES, 4))


def _variants():
    """name -> unfitted estimator: every class, with default and other options."""
    small = {"n_codebooks": 4}
    return {
        "transformer": MaddnessTransformer(_weights(0), **small),
        "transformer-other": MaddnessTransformer(_weights(0), **small, **OTHER_TABLES),
        "classifier": MaddnessClassifier(LogisticRegression(), **small),
        "classifier-product": MaddnessClassifier(
            LogisticRegression(), table_objective="product", **small
        ),
        "classifier-fallback": MaddnessClassifier(
            LogisticRegression(), fallback_loss=0.02, random_state=0, **small
        ),
        "classifier-other": MaddnessClassifier(
            LinearSVC(), table_objective="log_loss", **small, **OTHER_TABLES
        ),
        "classifier-fine-tuned": MaddnessClassifier(
            LogisticRegression(), table_objective="fine_tuned", random_state=0, **small
        ),
        "classifier-scaler-pipeline": MaddnessClassifier(
            make_pipeline(StandardScaler(), LogisticRegression()),
            fallback_loss=0.02,
            random_state=0,
            **small,
        ),
        "regressor": MaddnessRegressor(Ridge(), **small),
        "regressor-scaler-pipeline": MaddnessRegressor(
            make_pipeline(RobustScaler(), Ridge()), **small, **OTHER_TABLES
        ),
        "rbf": MaddnessRBFSampler(n_components=10, random_state=0, **small),
        "skewed-chi2": MaddnessSkewedChi2Sampler(
            n_components=10, random_state=0, **small, **OTHER_TABLES
        ),
        "nystroem": MaddnessNystroem(n_components=10, random_state=0, **small),
        "nystroem-poly": MaddnessNystroem(
            "poly", degree=2, coef0=0.5, n_components=10, random_state=0, **small
        ),
        "projection": MaddnessProjection(PCA(n_components=3), **small),
        "projection-scaler-pipeline": MaddnessProjection(
            make_pipeline(StandardScaler(), PCA(n_components=3)), **small
        ),
        # Fitted under fixed timings (see ``fitted``): the fine-tuned tables
        # at 2 codebooks, no row falling back.
        "classifier-cv": MaddnessClassifierCV(
            LogisticRegression(), n_codebooks=(2, 4), random_state=0
        ),
        # The product tables at 4 codebooks, most rows falling back.
        "classifier-cv-fallback": MaddnessClassifierCV(
            LogisticRegression(),
            n_codebooks=(2, 4),
            table_objectives=("product",),
            random_state=0,
        ),
    }


def test_variants_hold_every_estimator_class():
    classes = {type(estimator) for estimator in _variants().values()}
    assert classes == set(all_estimators())


# Values to set after fit; the first one different from the fitted value is
# used. Every parameter of every estimator must be listed (checked below).
OTHER_VALUES = {
    "weights": [_weights(1)],
    "n_codebooks": [4, 2],
    "optimize_prototypes": [True, False],
    "ridge_alpha": [1.0, 3.0],
    "quantize_luts": [True, False],
    "aggregation": ["average", "sum"],
    "lut_scaling": ["per_output", "shared"],
    "n_candidate_dims": [4, 2],
    "split_objective": ["product", "reconstruction"],
    "n_refinement_passes": [1, 0],
    "verbose": [0, 1],
    "table_objective": ["product", "log_loss"],
    "fallback_loss": [None, 0.05],
    "validation_fraction": [0.2, 0.3],
    "estimator": [LinearSVC(), LogisticRegression(), Lasso(), TruncatedSVD(2)],
    "gamma": [0.3, 2.0],
    "n_components": [7],
    "random_state": [5],
    "skewedness": [1.0, 3.0],
    "kernel": ["rbf", "cosine"],
    "coef0": [None, 2.0],
    "degree": [None, 4.0],
    "kernel_params": [{"gamma": 0.7}],
    "n_jobs": [None, 1],
    "max_accuracy_loss": [0.01, 0.2],
    "table_objectives": [("fine_tuned",), ("product", "log_loss")],
    "fallback": [True, False],
}


def _other_value(estimator, name):
    current = estimator.get_params(deep=False)[name]
    for value in OTHER_VALUES[name]:
        if name == "estimator":
            # An estimator of the same role (classifier, regressor,
            # transformer) but another class.
            if type(value) is type(current) or not _same_role(value, current):
                continue
            return value
        if isinstance(current, np.ndarray) or isinstance(value, np.ndarray):
            if current is not value:
                return value
            continue
        if value != current:
            return value
    raise AssertionError(f"no other value for {name}={current!r}")


def _same_role(a, b):
    return all(
        hasattr(a, method) == hasattr(b, method)
        for method in ("transform", "decision_function", "predict")
    )


def _outputs(estimator, X):
    """Every output a fitted estimator gives for X (and which methods exist)."""
    outputs = {}
    for method in (
        "transform",
        "encode",
        "decision_function",
        "predict",
        "predict_proba",
        "predict_log_proba",
    ):
        outputs[f"has {method}"] = hasattr(estimator, method)
        if hasattr(estimator, method):
            for dtype in (np.float64, np.float32):
                outputs[method, dtype] = getattr(estimator, method)(X.astype(dtype))
    if isinstance(estimator, MaddnessTransformer):
        outputs["score"] = estimator.score(X)
    if hasattr(estimator, "get_feature_names_out"):
        outputs["feature names"] = estimator.get_feature_names_out()
    return outputs


def _assert_same_outputs(actual, expected):
    assert actual.keys() == expected.keys()
    for key in expected:
        np.testing.assert_array_equal(actual[key], expected[key], err_msg=str(key))


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(2)
    X = rng.random((400, N_FEATURES))  # positive, for the skewed chi2 logarithm
    y = (X[:, 0] + X[:, 1] > 1).astype(int) + (X[:, 2] > 0.5)
    with fixed_timings():
        models = {name: est.fit(X, y) for name, est in _variants().items()}
    return models, X


def test_classifier_cv_variants_keep_maddness_with_and_without_fallback(fitted):
    """The cases the comments of ``_variants`` describe, so both are checked."""
    models, _ = fitted
    plain, fallback = models["classifier-cv"], models["classifier-cv-fallback"]
    assert plain.best_estimator_ is not None and plain.fallback_threshold_ == 0.0
    assert fallback.best_estimator_ is not None and fallback.fallback_fraction_ > 0


CASES = [
    (name, param)
    for name, estimator in _variants().items()
    for param in sorted(estimator.get_params(deep=False))
]


def test_every_parameter_has_other_values():
    for name, param in CASES:
        assert param in OTHER_VALUES, f"{name}: no other value for {param}"


@pytest.mark.parametrize("name, param", CASES, ids=[f"{n}-{p}" for n, p in CASES])
def test_set_params_after_fit_leaves_the_output_unchanged(fitted, name, param):
    models, X = fitted
    # A copy, so that the module's fitted models keep their parameters.
    estimator = copy.deepcopy(models[name])
    expected = _outputs(estimator, X)
    estimator.set_params(**{param: _other_value(estimator, param)})
    _assert_same_outputs(_outputs(estimator, X), expected)


def test_quantize_luts_changed_after_fit_keeps_the_fitted_path(fitted):
    """What the bug looked like: uint8 tables read as float, and the reverse."""
    models, X = fitted
    for name in ("transformer", "transformer-other"):
        amm = copy.deepcopy(models[name])
        expected = amm.transform(X[:2])
        amm.set_params(quantize_luts=not amm.quantize_luts)
        np.testing.assert_array_equal(amm.transform(X[:2]), expected)
