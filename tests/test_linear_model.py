"""Tests of MaddnessClassifier and MaddnessRegressor."""

import inspect
import io

import joblib
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import config_context
from sklearn.datasets import (
    load_digits,
    make_blobs,
    make_multilabel_classification,
    make_regression,
)
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import (
    Lasso,
    LinearRegression,
    LogisticRegression,
    Perceptron,
    Ridge,
    RidgeClassifier,
    SGDClassifier,
)
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.svm import SVC, LinearSVC
from sklearn.tree import DecisionTreeRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_amm import (
    MaddnessClassifier,
    MaddnessNystroem,
    MaddnessProjection,
    MaddnessRBFSampler,
    MaddnessRegressor,
    MaddnessSkewedChi2Sampler,
    MaddnessTransformer,
)
from sklearn_amm import _reference
from sklearn_amm._labels import row_argmax
from sklearn_amm._maddness_params import MADDNESS_PARAMETERS
from sklearn_amm._probability import inner_links

WRAPPERS = [
    MaddnessClassifier,
    MaddnessRegressor,
    MaddnessRBFSampler,
    MaddnessSkewedChi2Sampler,
    MaddnessNystroem,
    MaddnessProjection,
]


@parametrize_with_checks(
    [
        MaddnessClassifier(LogisticRegression()),
        MaddnessRegressor(Ridge()),
        MaddnessClassifier(make_pipeline(StandardScaler(), LogisticRegression())),
        MaddnessRegressor(make_pipeline(MinMaxScaler(clip=True), Ridge())),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def cube_rows(binary_cube):
    """Rows MADDNESS reconstructs exactly with 4 codebooks (see conftest).

    With float tables (``quantize_luts=False``) the approximate product is
    then the exact one up to float rounding.
    """
    return binary_cube[0][:300]


def easy_classification(n_classes, seed=0):
    X, y = make_blobs(
        n_samples=400, n_features=16, centers=n_classes, random_state=seed
    )
    return X, y


@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_maddness_parameters_match_transformer(wrapper):
    """Same names, defaults and documentation as MaddnessTransformer."""
    expected = inspect.signature(MaddnessTransformer).parameters
    params = inspect.signature(wrapper).parameters
    # Every option of the transformer but the matrix itself is forwarded.
    assert set(MADDNESS_PARAMETERS) == set(expected) - {"weights"}
    for name in MADDNESS_PARAMETERS:
        assert params[name].default == expected[name].default
        assert params[name].kind == inspect.Parameter.KEYWORD_ONLY
        assert f"\n    {name} : " in wrapper.__doc__
    assert "{maddness_parameters}" not in wrapper.__doc__


# Separable points give probabilities of exactly 0, whose log both warn.
@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize(
    "estimator",
    [
        LogisticRegression(),
        SGDClassifier(loss="log_loss", random_state=0),
        SGDClassifier(loss="modified_huber", random_state=0),
        LinearDiscriminantAnalysis(),
    ],
    ids=lambda est: f"{type(est).__name__}-{getattr(est, 'loss', '')}",
)
def test_links_reproduce_inner_model(estimator, n_classes):
    """On exact decision values the links give the inner model's probabilities."""
    X, y = easy_classification(n_classes)
    X = X + np.random.default_rng(0).normal(scale=3.0, size=X.shape)
    estimator.fit(X, y)
    proba_link, log_link = inner_links(estimator)
    proba = proba_link(estimator.decision_function(X))
    assert_allclose(proba, estimator.predict_proba(X), rtol=1e-12, atol=1e-15)
    assert_allclose(
        log_link(proba.copy()), estimator.predict_log_proba(X), rtol=1e-12
    )


@pytest.mark.parametrize("n_classes", [2, 3])
def test_classifier_exact_on_reconstructable_rows(binary_cube, n_classes):
    """Float tables and exactly reconstructed rows reproduce the inner model."""
    X = cube_rows(binary_cube)
    y = (X > 0) @ np.arange(16) % n_classes
    clf = MaddnessClassifier(
        LogisticRegression(),
        n_codebooks=4,
        quantize_luts=False,
        table_objective="product",
    ).fit(X, y)
    inner = clf.estimator_
    assert_allclose(clf.decision_function(X), inner.decision_function(X), atol=1e-12)
    assert_allclose(clf.predict_proba(X), inner.predict_proba(X), atol=1e-12)
    assert_allclose(clf.predict_log_proba(X), inner.predict_log_proba(X), atol=1e-9)
    assert_array_equal(clf.predict(X), inner.predict(X))


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize(
    "estimator",
    [
        LogisticRegression(),
        LinearSVC(),
        RidgeClassifier(),
        SGDClassifier(random_state=0),
        Perceptron(random_state=0),
    ],
    ids=lambda est: type(est).__name__,
)
def test_classifier_agrees_with_inner_model(estimator, n_classes):
    X, y = easy_classification(n_classes)
    names = np.array(["ant", "bee", "cat", "dog"])
    labels = names[y]
    clf = MaddnessClassifier(estimator, n_codebooks=8).fit(X, labels)
    assert_array_equal(clf.classes_, names[:n_classes])
    scores = clf.decision_function(X)
    assert scores.shape == clf.estimator_.decision_function(X).shape
    agreement = np.mean(clf.predict(X) == clf.estimator_.predict(X))
    assert agreement > 0.97
    assert clf.score(X, labels) > 0.9


def test_classifier_binary_scores_are_one_column():
    X, y = easy_classification(2)
    clf = MaddnessClassifier(LogisticRegression(), n_codebooks=8).fit(X, y)
    scores = clf.decision_function(X)
    assert scores.shape == (X.shape[0],)
    assert_array_equal(clf.predict(X), clf.classes_[(scores > 0).astype(int)])
    assert_allclose(clf.predict_proba(X)[:, 1], 1 / (1 + np.exp(-scores)))


def test_predict_proba_only_with_a_known_link():
    X, y = easy_classification(3)
    product = {"table_objective": "product"}
    assert hasattr(MaddnessClassifier(LogisticRegression(), **product), "predict_proba")
    assert not hasattr(MaddnessClassifier(LinearSVC(), **product), "predict_proba")
    # Tables fitted to the labels are a logistic model of their own.
    assert hasattr(MaddnessClassifier(LinearSVC()), "predict_proba")
    hinge = MaddnessClassifier(SGDClassifier(), **product).fit(X, y)
    assert not hasattr(hinge, "predict_proba")
    assert not hasattr(hinge, "predict_log_proba")

    class ProbaSVC(LinearSVC):
        def predict_proba(self, X):
            return np.ones((len(X), len(self.classes_))) / len(self.classes_)

    with pytest.raises(AttributeError) as excinfo:
        MaddnessClassifier(ProbaSVC(), **product).fit(X, y).predict_proba(X)
    assert "link" in str(excinfo.value.__cause__)


@pytest.mark.parametrize(
    "estimator",
    [LinearRegression(), Ridge(), Lasso(alpha=0.01), Ridge(fit_intercept=False)],
    ids=repr,
)
@pytest.mark.parametrize("n_targets", [1, 3])
def test_regressor_single_and_multi_output(estimator, n_targets):
    X, y = make_regression(
        n_samples=500, n_features=16, n_targets=n_targets, noise=1.0, random_state=0
    )
    reg = MaddnessRegressor(estimator, n_codebooks=8).fit(X, y)
    exact = reg.estimator_.predict(X)
    approx = reg.predict(X)
    assert approx.shape == exact.shape
    residual = ((approx - exact) ** 2).sum()
    assert residual < 0.1 * ((exact - exact.mean(axis=0)) ** 2).sum()


def test_regressor_exact_on_reconstructable_rows(binary_cube):
    X = cube_rows(binary_cube)
    Y = X @ np.random.default_rng(1).normal(size=(16, 2)) + [1.0, -2.0]
    reg = MaddnessRegressor(LinearRegression(), n_codebooks=4, quantize_luts=False)
    reg.fit(X, Y)
    assert_allclose(reg.predict(X), reg.estimator_.predict(X), atol=1e-12)
    assert_allclose(reg.score(X, Y), 1.0)


def test_regressor_keeps_column_target_shape():
    X, y = make_regression(n_samples=200, n_features=8, random_state=0)
    reg = MaddnessRegressor(LinearRegression()).fit(X, y.reshape(-1, 1))
    assert reg.predict(X).shape == (200, 1)


def test_frozen_estimator_is_not_refitted():
    X, y = easy_classification(3)
    inner = LogisticRegression().fit(X[:200], y[:200])
    coef = inner.coef_.copy()
    clf = MaddnessClassifier(
        FrozenEstimator(inner), n_codebooks=8, table_objective="product"
    )
    clf.fit(X[200:], (y[200:] + 1) % 3)  # other labels: would move coef_
    assert clf.estimator_.estimator is inner
    assert_array_equal(inner.coef_, coef)
    assert_array_equal(clf.classes_, inner.classes_)
    assert np.mean(clf.predict(X) == inner.predict(X)) > 0.97
    assert clf.predict_proba(X).shape == (400, 3)


def test_frozen_estimator_learns_maddness_from_unlabeled_rows():
    # The documented way to fit on more rows than were labeled: the frozen
    # model's own predictions as y, which may miss some of its classes.
    X, y = easy_classification(3)
    inner = LogisticRegression().fit(X[:200], y[:200])
    rows = X[200:][inner.predict(X[200:]) != 2]
    clf = MaddnessClassifier(FrozenEstimator(inner), n_codebooks=8)
    clf.fit(rows, inner.predict(rows))
    assert_array_equal(clf.classes_, inner.classes_)
    # A class without rows: "auto" cannot fit tables to the labels.
    assert clf.table_objective_ == "product"
    amm = MaddnessTransformer(inner.coef_.T, n_codebooks=8).fit(rows)
    assert_array_equal(clf.maddness_.split_thresholds_, amm.split_thresholds_)
    assert_array_equal(clf.maddness_.luts_, amm.luts_)
    assert np.mean(clf.predict(rows) == inner.predict(rows)) > 0.97


def test_frozen_estimator_fitted_on_dataframe():
    pd = pytest.importorskip("pandas")
    X, y = make_regression(n_samples=200, n_features=8, random_state=0)
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(8)])
    inner = Ridge().fit(df, y)
    reg = MaddnessRegressor(FrozenEstimator(inner)).fit(df, y)
    assert_array_equal(reg.feature_names_in_, df.columns)
    assert reg.predict(df).shape == (200,)


@pytest.mark.parametrize(
    "wrapper, estimator, message",
    [
        (MaddnessClassifier, SVC(kernel="linear"), "rows|not the product"),
        (MaddnessRegressor, DecisionTreeRegressor(), "no coef_"),
    ],
)
def test_rejects_models_that_are_not_linear(wrapper, estimator, message):
    X, y = easy_classification(4)
    with pytest.raises(ValueError, match=message):
        wrapper(estimator).fit(X, y)


def test_rejects_multilabel_targets():
    X, Y = make_multilabel_classification(n_samples=200, n_features=10, random_state=0)
    with pytest.raises(ValueError, match="multilabel"):
        MaddnessClassifier(RidgeClassifier()).fit(X, Y)


def test_fit_params_reach_inner_estimator():
    X, y = easy_classification(3)
    weights = np.random.default_rng(0).uniform(size=len(y))
    expected = LogisticRegression().fit(X, y, sample_weight=weights).coef_
    clf = MaddnessClassifier(LogisticRegression()).fit(X, y, sample_weight=weights)
    assert_allclose(clf.estimator_.coef_, expected)
    with config_context(enable_metadata_routing=True):
        inner = LogisticRegression().set_fit_request(sample_weight=True)
        clf = MaddnessClassifier(inner).fit(X, y, sample_weight=weights)
    assert_allclose(clf.estimator_.coef_, expected)


def test_float32_input():
    X, y = easy_classification(3)
    clf = MaddnessClassifier(LogisticRegression(), n_codebooks=8)
    clf.fit(X.astype(np.float32), y)
    assert np.mean(clf.predict(X.astype(np.float32)) == clf.predict(X)) > 0.99


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "wrapper, inner",
    [(MaddnessClassifier, LogisticRegression()), (MaddnessRegressor, Ridge())],
)
def test_scores_are_float64_product_plus_intercept(wrapper, inner, dtype):
    # float64 like the inner models, whatever the rows' dtype: the scan
    # de-quantizes the totals in float64 with the intercepts in its shift.
    X, y = easy_classification(3)
    product = {"table_objective": "product"} if wrapper is MaddnessClassifier else {}
    model = wrapper(inner, n_codebooks=8, **product).fit(X, y)
    rows = X.astype(dtype)
    method = "decision_function" if wrapper is MaddnessClassifier else "predict"
    scores = getattr(model, method)(rows)
    assert scores.dtype == np.float64
    amm = model.maddness_
    _, multiplier, shift = amm._scan_constants(np.float64)
    totals = _reference.aggregate_average(amm.encode(rows), amm.luts_)
    expected = totals * multiplier + (shift + model.estimator_.intercept_)
    assert_array_equal(scores, expected.reshape(scores.shape))
    # Within float32 rounding of the product in X's dtype plus the intercept.
    assert_allclose(
        scores,
        (amm.transform(rows) + model.estimator_.intercept_).reshape(scores.shape),
        rtol=1e-6 if dtype == np.float32 else 1e-14,
        atol=1e-5 if dtype == np.float32 else 1e-12,
    )
    # A second call must get an array of its own, and leave the first
    # result as it was.
    again = getattr(model, method)(rows)
    assert not np.shares_memory(again, scores)
    assert_array_equal(again, scores)
    assert_array_equal(scores, expected.reshape(scores.shape))


@pytest.mark.parametrize("order", ["F", "C"])
@pytest.mark.parametrize("shape", [(0, 3), (1, 3), (37, 3), (500, 10), (40, 65)])
def test_row_argmax_matches_numpy(order, shape):
    rng = np.random.default_rng(0)
    # Few distinct values, so that most rows have tied maxima.
    scores = np.asarray(rng.integers(0, 4, size=shape), dtype=np.float64, order=order)
    assert_array_equal(row_argmax(scores), scores.argmax(axis=1))
    scores = np.asarray(rng.normal(size=shape), order=order)
    assert_array_equal(row_argmax(scores), scores.argmax(axis=1))


def digits_subset():
    X, y = load_digits(return_X_y=True)
    return X[:400], y[:400]


def test_grid_search_over_inner_and_maddness_parameters():
    X, y = digits_subset()
    search = GridSearchCV(
        # Product tables follow the inner model, whose C then matters.
        MaddnessClassifier(LogisticRegression(max_iter=1000), table_objective="product"),
        {"estimator__C": [1e-4, 0.01], "n_codebooks": [2, 16]},
        cv=2,
    ).fit(X, y)
    results = search.cv_results_
    assert len(results["params"]) == 4
    # Both parameters reach the fitted estimators: more codebooks and a
    # less regularized model both help here.
    assert search.best_params_ == {"estimator__C": 0.01, "n_codebooks": 16}
    best = search.best_estimator_
    assert best.estimator_.C == 0.01
    assert best.maddness_.n_codebooks_ == 16


def test_joblib_round_trip_of_a_fitted_pipeline():
    X, y = digits_subset()
    pipe = make_pipeline(
        StandardScaler(), MaddnessClassifier(LogisticRegression(max_iter=500))
    ).fit(X, y)
    buffer = io.BytesIO()
    joblib.dump(pipe, buffer)
    buffer.seek(0)
    loaded = joblib.load(buffer)
    assert_array_equal(loaded.predict(X), pipe.predict(X))
    assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))


def test_auto_tables_fine_tune_only_with_enough_rows_per_entry():
    X, y = easy_classification(3)  # 400 rows
    few = MaddnessClassifier(LogisticRegression(), n_codebooks=8).fit(X, y)
    assert few.table_objective_ == "product"  # 400 < 6 * 16 * 8
    enough = MaddnessClassifier(LogisticRegression(), n_codebooks=4, random_state=0)
    assert enough.fit(X, y).table_objective_ == "fine_tuned"  # 400 >= 384
    # Rows of zero weight do not count.
    weight = np.ones(len(X))
    weight[:100] = 0
    assert enough.fit(X, y, sample_weight=weight).table_objective_ == "product"
