"""Scalers before a linear model in a pipeline, folded into the thresholds.

The codes of raw rows under the folded thresholds must be those of the
scaled rows under the learned ones, bit for bit, for float32 and float64
rows; predictions must be those of the linear model wrapped alone and
fitted on the scaled rows; predict must not run the scalers.
"""

import tracemalloc

import joblib
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.random_projection import GaussianRandomProjection
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    MaxAbsScaler,
    MinMaxScaler,
    PolynomialFeatures,
    RobustScaler,
    StandardScaler,
)

from sklearn_amm import (
    MaddnessClassifier,
    MaddnessClassifierCV,
    MaddnessProjection,
    MaddnessRegressor,
)
from sklearn_amm._encoding import encode_rows, thresholds_for_dtype
from sklearn_amm._scaler_folding import fold_thresholds

from cv_timings import fixed_timings

# Some scalers leave columns of very different scales (with_std=False...),
# on which the logistic regression converges slowly: no matter here.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

N_FEATURES = 10
CONSTANT = 3  # a constant column


def _data(n_samples=300, seed=0):
    """Columns of very different scales and offsets, one constant, 3 classes."""
    rng = np.random.default_rng(seed)
    scales = np.logspace(-4, 5, N_FEATURES)
    X = rng.normal(size=(n_samples, N_FEATURES)) * scales + scales * rng.normal(
        size=N_FEATURES
    )
    X[:, CONSTANT] = 2.5
    score = (X - X.mean(axis=0)) / (X.std(axis=0) + 1e-300)
    y = (score[:, 0] + score[:, 1] > 0).astype(int) + (score[:, 4] > 0.5)
    return X, y


SCALERS = {
    "standard": [StandardScaler()],
    "standard-no-mean": [StandardScaler(with_mean=False)],
    "standard-no-std": [StandardScaler(with_std=False)],
    "minmax": [MinMaxScaler()],
    "minmax-range": [MinMaxScaler(feature_range=(-3.0, 0.25))],
    "minmax-clip": [MinMaxScaler(clip=True)],
    "maxabs": [MaxAbsScaler()],
    "robust": [RobustScaler()],
    "robust-quantiles": [RobustScaler(quantile_range=(10.0, 90.0), unit_variance=True)],
    "robust-no-centering": [RobustScaler(with_centering=False)],
    "robust-no-scaling": [RobustScaler(with_scaling=False)],
    "standard-then-minmax-clip": [StandardScaler(), MinMaxScaler(clip=True)],
    "standard-copy-false": [StandardScaler(copy=False)],
}


def _pipeline(name, head=None):
    steps = [clone(step) for step in SCALERS[name]]
    return make_pipeline(*steps, head or LogisticRegression(max_iter=300))


def _scale(clf, X):
    """The fitted scalers applied first, as the pipeline would."""
    return clf.estimator_[:-1].transform(X.copy())


def _probe_rows(X, clf, dtype):
    """Rows on, and next to, every finite folded threshold, plus the training rows.

    Each threshold's value ``x*``, the float just above and the one just
    below, in its column of a copy of a training row: the values where a
    folded threshold off by one float would change the code.
    """
    X = X.astype(dtype)
    folded = clf.folded_thresholds_[np.dtype(dtype).name]
    dims = np.broadcast_to(clf.maddness_.split_dims_[:, :, None], folded.shape)
    finite = np.isfinite(folded)
    rows = []
    for column, value in zip(dims[finite], folded[finite]):
        for probe in (
            value,
            np.nextafter(value, dtype(np.inf)),
            np.nextafter(value, dtype(-np.inf)),
        ):
            row = X[len(rows) % len(X)].copy()
            row[column] = probe
            rows.append(row)
    return np.vstack([X, np.array(rows, dtype=dtype)])


@pytest.fixture(scope="module", params=sorted(SCALERS))
def fitted(request):
    X, y = _data()
    # Fine-tuned thresholds are any floats, not midpoints of training values.
    clf = MaddnessClassifier(
        _pipeline(request.param),
        n_codebooks=4,
        table_objective="fine_tuned",
        random_state=0,
    ).fit(X, y)
    return request.param, clf, X, y


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
def test_codes_are_those_of_scaling_first(fitted, dtype, order):
    name, clf, X, _ = fitted
    rows = np.asarray(_probe_rows(X, clf, dtype), order=order)
    scaled = _scale(clf, rows)
    folded = clf.folded_thresholds_[np.dtype(dtype).name]
    assert folded.dtype == dtype
    codes = encode_rows(rows, clf.maddness_.split_dims_, folded)
    assert_array_equal(codes, clf.maddness_.encode(scaled))
    # And so the decision values, with the scalers never run.
    assert_array_equal(clf.decision_function(rows), _unfolded_decision(clf, scaled))


def _unfolded_decision(clf, scaled):
    """The wrapper's decision values of rows already scaled, unfolded thresholds."""
    scores = clf.maddness_._transform(scaled, np.float64, clf._intercept)
    return scores.ravel() if scores.shape[1] == 1 else scores


def test_predict_does_not_run_the_scalers(fitted, monkeypatch):
    _, clf, X, _ = fitted
    expected = clf.decision_function(X)
    for step in clf.estimator_[:-1]:
        monkeypatch.setattr(step, "transform", _no_call)
    assert_array_equal(clf.decision_function(X), expected)
    assert_array_equal(clf.predict(X), clf.classes_[expected.argmax(axis=1)])


def _no_call(*args, **kwargs):
    raise AssertionError("the scaler ran at predict")


def test_predict_makes_no_copy_of_the_rows():
    X, y = _data(2000)
    clf = MaddnessClassifier(
        _pipeline("standard"), n_codebooks=4, table_objective="product"
    ).fit(X, y)
    for rows in (np.asfortranarray(X, dtype=np.float32), X):
        clf.decision_function(rows)  # warm caches
        tracemalloc.start()
        scores = clf.decision_function(rows)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        # The decision values and little else: a copy of the rows, or
        # their scaled values, would take rows.nbytes more.
        assert peak < scores.nbytes + rows.nbytes / 2


def test_copy_false_scaler_leaves_the_training_rows():
    X, y = _data()
    X_fit = X.copy()
    clf = MaddnessClassifier(
        _pipeline("standard-copy-false"), n_codebooks=4, table_objective="product"
    ).fit(X_fit, y)
    assert_array_equal(X_fit, X)
    reference = MaddnessClassifier(
        _pipeline("standard"), n_codebooks=4, table_objective="product"
    ).fit(X, y)
    assert_array_equal(clf.decision_function(X), reference.decision_function(X))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fold_thresholds_at_scaled_values_of_floats(dtype):
    """Thresholds equal to scaled values of floats, the hardest ties.

    A threshold ``t = f(x)`` for a float ``x``: ``x`` goes left, the next
    float may go either way. Also thresholds beyond a clipped range, and
    infinite ones.
    """
    X, _ = _data()
    rng = np.random.default_rng(3)
    for scaler in (StandardScaler(), MinMaxScaler(clip=True), RobustScaler()):
        scaler.fit(X.astype(dtype))
        raw = (X[rng.integers(0, len(X), 64)] * rng.uniform(0.5, 2, (64, 1))).astype(
            dtype
        )
        dims = rng.integers(0, N_FEATURES, (4, 4))
        dims[0, 0] = CONSTANT
        ties = scaler.transform(raw)[np.arange(64), dims.ravel()[np.arange(64) % 16]]
        thresholds = (
            np.concatenate(
                [ties, rng.normal(size=56) * 3, [-2.0, 2.0, -np.inf, np.inf] * 2]
            )
            .reshape(4, 4, 8)
            .astype(np.float64)
        )
        folded = fold_thresholds([("s", scaler)], dims, thresholds, N_FEATURES, dtype)
        columns = np.broadcast_to(dims[:, :, None], thresholds.shape).ravel()
        values = np.concatenate([raw.ravel(), folded[np.isfinite(folded)]])
        values = np.concatenate(
            [
                values,
                np.nextafter(values, dtype(np.inf)),
                np.nextafter(values, dtype(-np.inf)),
            ]
        ).astype(dtype)
        values = values[np.isfinite(values)]
        for column in np.unique(columns):
            probes = np.zeros((len(values), N_FEATURES), dtype=dtype)
            probes[:, column] = values
            scaled = scaler.transform(probes)[:, column]
            at = columns == column
            t = thresholds_for_dtype(thresholds.ravel()[at], scaled.dtype)
            expected = scaled[:, None] > t
            actual = values[:, None] > folded.ravel()[at]
            assert_array_equal(actual, expected, err_msg=type(scaler).__name__)


@pytest.mark.parametrize("table_objective", ["product", "log_loss", "fine_tuned"])
@pytest.mark.parametrize("quantize_luts", [True, False])
def test_predictions_are_those_of_the_model_fitted_on_scaled_rows(
    table_objective, quantize_luts
):
    X, y = _data()
    params = dict(
        n_codebooks=4,
        table_objective=table_objective,
        quantize_luts=quantize_luts,
        random_state=0,
    )
    clf = MaddnessClassifier(_pipeline("robust-quantiles"), **params).fit(X, y)
    scaled = _scale(clf, X)
    reference = MaddnessClassifier(LogisticRegression(max_iter=300), **params).fit(
        scaled, y
    )
    assert_array_equal(
        clf.maddness_.split_thresholds_, reference.maddness_.split_thresholds_
    )
    assert_array_equal(clf.maddness_.luts_, reference.maddness_.luts_)
    for dtype in (np.float32, np.float64):
        rows, scaled_rows = X.astype(dtype), _scale(clf, X.astype(dtype))
        for method in ("decision_function", "predict", "predict_proba"):
            assert_array_equal(
                getattr(clf, method)(rows),
                getattr(reference, method)(scaled_rows),
                err_msg=f"{method} {dtype.__name__}",
            )


def test_regressor_predictions_are_those_of_the_model_fitted_on_scaled_rows():
    X, _ = _data()
    y = np.column_stack([X[:, 0] * 1e3, X[:, 5] / 100])
    params = dict(n_codebooks=4)
    reg = MaddnessRegressor(_pipeline("minmax-clip", Ridge()), **params).fit(X, y)
    reference = MaddnessRegressor(Ridge(), **params).fit(_scale(reg, X), y)
    for dtype in (np.float32, np.float64):
        rows = np.asfortranarray(X, dtype=dtype)
        assert_array_equal(reg.predict(rows), reference.predict(_scale(reg, rows)))


def test_nested_pipelines_are_opened():
    X, y = _data()
    nested = Pipeline(
        [
            ("scale", make_pipeline(StandardScaler(), "passthrough")),
            ("skip", "passthrough"),
            ("model", make_pipeline(MaxAbsScaler(), LogisticRegression(max_iter=300))),
        ]
    )
    clf = MaddnessClassifier(nested, n_codebooks=4, table_objective="product").fit(X, y)
    flat = MaddnessClassifier(
        make_pipeline(
            StandardScaler(), MaxAbsScaler(), LogisticRegression(max_iter=300)
        ),
        n_codebooks=4,
        table_objective="product",
    ).fit(X, y)
    assert_array_equal(clf.decision_function(X), flat.decision_function(X))


@pytest.mark.parametrize(
    "pipeline, step",
    [
        (make_pipeline(PCA(3), LogisticRegression()), "'pca' of the pipeline is a PCA"),
        (
            make_pipeline(StandardScaler(), PolynomialFeatures(), LogisticRegression()),
            "'polynomialfeatures' of the pipeline is a PolynomialFeatures",
        ),
        (
            make_pipeline(
                make_pipeline(StandardScaler(), PCA(3)), LogisticRegression()
            ),
            "'pipeline__pca' of the pipeline is a PCA",
        ),
    ],
)
def test_other_steps_are_an_error_naming_the_step(pipeline, step):
    X, y = _data()
    with pytest.raises(ValueError, match=f"[Ss]tep {step}"):
        MaddnessClassifier(pipeline, n_codebooks=4).fit(X, y)


@pytest.mark.parametrize("scale", [0.0, -1.0])
def test_a_frozen_scaler_of_non_positive_scale_is_an_error(scale):
    X, y = _data()
    scaler = StandardScaler().fit(X)
    scaler.scale_ = scaler.scale_.copy()
    scaler.scale_[2] = scale
    model = LogisticRegression().fit(X, y)
    pipeline = FrozenEstimator(make_pipeline(scaler, model))
    with pytest.raises(ValueError, match="Step 'standardscaler'.*scale_"):
        MaddnessClassifier(pipeline, n_codebooks=4).fit(X, y)


def test_frozen_pipeline_is_used_as_is():
    X, y = _data()
    pipeline = _pipeline("standard").fit(X, y)
    clf = MaddnessClassifier(
        FrozenEstimator(pipeline), n_codebooks=4, table_objective="product"
    ).fit(X, y)
    assert clf.estimator_.estimator is pipeline
    reference = MaddnessClassifier(
        _pipeline("standard"), n_codebooks=4, table_objective="product"
    ).fit(X, y)
    assert_array_equal(clf.decision_function(X), reference.decision_function(X))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fallback_rows_are_the_exact_pipelines(dtype):
    X, y = _data(400)
    clf = MaddnessClassifier(
        _pipeline("standard"), n_codebooks=2, fallback_loss=0.0, random_state=0
    ).fit(X, y)
    rows = np.asfortranarray(X, dtype=dtype)
    mask = clf.fallback_mask(rows)
    assert 0 < mask.sum() < len(rows)
    scores = clf.decision_function(rows)
    assert_array_equal(scores[mask], clf.estimator_.decision_function(rows[mask]))
    assert_array_equal(scores[~mask], _unfolded_decision(clf, _scale(clf, rows))[~mask])


def test_classifier_cv_folds_the_scalers():
    X, y = _data(400)
    with fixed_timings():
        search = MaddnessClassifierCV(
            _pipeline("standard"),
            n_codebooks=(2, 4),
            table_objectives=("product",),
            max_accuracy_loss=0.0,
            random_state=0,
        ).fit(X, y)
    best = search.best_estimator_
    assert isinstance(best, MaddnessClassifier)
    assert best.folded_thresholds_ is not None
    mask = search.fallback_mask(X)
    scores = search.decision_function(X)
    if mask.any():
        assert_array_equal(scores[mask], search.estimator_.decision_function(X[mask]))
    assert_array_equal(scores[~mask], best.decision_function(X[~mask]))
    assert search.predict_proba(X).shape == (len(X), 3)
    weight = np.random.default_rng(4).integers(1, 3, len(X)).astype(float)
    with fixed_timings():
        weighted = clone(search).fit(X, y, sample_weight=weight)
    assert weighted.best_estimator_.folded_thresholds_ is not None


def test_joblib_round_trip(tmp_path):
    X, y = _data()
    clf = MaddnessClassifier(_pipeline("minmax-clip"), n_codebooks=4).fit(X, y)
    joblib.dump(clf, tmp_path / "clf.joblib")
    loaded = joblib.load(tmp_path / "clf.joblib")
    for name, folded in clf.folded_thresholds_.items():
        assert_array_equal(loaded.folded_thresholds_[name], folded)
    for rows in (X, X.astype(np.float32)):
        assert_array_equal(loaded.predict_proba(rows), clf.predict_proba(rows))


def test_params_of_the_pipeline_and_grid_search():
    X, y = _data()
    clf = MaddnessClassifier(_pipeline("standard"), n_codebooks=4)
    params = clf.get_params()
    assert params["estimator__logisticregression__C"] == 1.0
    assert params["estimator__standardscaler__with_mean"] is True
    clf.set_params(estimator__logisticregression__C=np.float64(0.5))
    assert clone(clf).get_params()["estimator__logisticregression__C"] == 0.5
    search = GridSearchCV(
        clf,
        {
            "estimator__logisticregression__C": np.array([0.1, 10.0]),
            "estimator__standardscaler__with_mean": [False, True],
            "n_codebooks": np.arange(2, 4),
        },
        cv=2,
        error_score="raise",
    ).fit(X, y)
    assert search.best_estimator_.folded_thresholds_ is not None
    assert len(search.cv_results_["params"]) == 8


def test_numpy_scalar_parameters():
    X, y = _data()
    clf = MaddnessClassifier(
        _pipeline("standard"),
        n_codebooks=np.int64(4),
        fallback_loss=np.float64(0.01),
        validation_fraction=np.float32(0.25),
        random_state=np.int32(0),
    ).fit(X, y)
    assert clf.maddness_.n_codebooks_ == 4
    assert clf.predict(X.astype(np.float32)).shape == (len(X),)


def test_models_without_scalers_have_no_folded_thresholds():
    X, y = _data()
    clf = MaddnessClassifier(LogisticRegression(), n_codebooks=4).fit(X, y)
    assert clf.folded_thresholds_ is None


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_split_values_raise(fitted, value):
    _, clf, X, _ = fitted
    rows = X[:5].copy()
    rows[2, clf.maddness_.split_dims_[0, 0]] = value
    with pytest.raises(ValueError, match="Input X contains"):
        clf.predict(rows)


@pytest.mark.parametrize("scaler", ["standard", "minmax-clip", "robust-quantiles"])
def test_projection_folds_the_scalers_it_starts_with(scaler, monkeypatch):
    X, _ = _data()
    params = dict(n_codebooks=4)
    pca = PCA(3, svd_solver="full")
    proj = MaddnessProjection(_pipeline(scaler, clone(pca)), **params).fit(X)
    reference = MaddnessProjection(clone(pca), **params).fit(_scale(proj, X))
    assert_array_equal(proj.weights_, reference.weights_)
    # Rows beyond the training range too, where the clip acts.
    rows = np.vstack([X, 3 * X[:50]])
    raw = [np.asfortranarray(rows, dtype=dtype) for dtype in (np.float32, np.float64)]
    scaled = [proj.estimator_[:-1].transform(rows) for rows in raw]
    for step in proj.estimator_[:-1]:
        monkeypatch.setattr(step, "transform", _no_call)
    for raw_rows, scaled_rows in zip(raw, scaled):
        assert_array_equal(proj.transform(raw_rows), reference.transform(scaled_rows))


def test_projection_of_affine_steps_after_the_scalers():
    """Several affine steps after the scaler: their map is read whole."""
    X, _ = _data()
    steps = [
        StandardScaler(),
        PCA(5, svd_solver="full"),
        GaussianRandomProjection(3, random_state=0),
    ]
    proj = MaddnessProjection(make_pipeline(*steps), n_codebooks=4).fit(X)
    assert proj.folded_thresholds_ is not None
    scaled = proj.estimator_[:1].transform(X)
    reference = MaddnessProjection(make_pipeline(*steps[1:]), n_codebooks=4).fit(scaled)
    assert_array_equal(proj.transform(X), reference.transform(scaled))
    # Without a leading scaler the whole pipeline's map is read, as before.
    unscaled = MaddnessProjection(make_pipeline(*steps[1:]), n_codebooks=4).fit(X)
    assert unscaled.folded_thresholds_ is None


def test_sample_weight_goes_to_the_linear_model_and_maddness():
    X, y = _data()
    weight = np.random.default_rng(4).integers(0, 3, len(X)).astype(float)
    params = dict(n_codebooks=4, table_objective="log_loss")
    clf = MaddnessClassifier(_pipeline("standard"), **params).fit(
        X, y, sample_weight=weight
    )
    reference = MaddnessClassifier(LogisticRegression(max_iter=300), **params).fit(
        _scale(clf, X), y, sample_weight=weight
    )
    assert_array_equal(clf.maddness_.leaf_weights_, reference.maddness_.leaf_weights_)
    assert_array_equal(
        clf.decision_function(X), reference.decision_function(_scale(clf, X))
    )
