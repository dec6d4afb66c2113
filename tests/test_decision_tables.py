"""Tests of MaddnessClassifier(table_objective="log_loss"): tables fitted for the decision."""

import io

import joblib
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_digits
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV
from sklearn.svm import LinearSVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_amm import MaddnessClassifier
from sklearn_amm._decision_tables import TABLE_PRIOR_VARIANCE
from sklearn_amm._prototypes import one_hot_codes
from sklearn_amm._tables import build_tables


@parametrize_with_checks(
    [MaddnessClassifier(LogisticRegression(), table_objective="log_loss")]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:1200], X[1200:], y[:1200], y[1200:]


@pytest.fixture(scope="module")
def fitted_head(digits):
    X_train, _, y_train, _ = digits
    return LogisticRegression(max_iter=2000).fit(X_train, y_train)


def objective_gradient(clf, X, y, sample_weight=None):
    """Gradient of the penalised log loss at the fitted float tables, and its scale.

    Written from the definition: ``G.T @ (P - Y) + (T - T_product) / variance``
    for the tables, ``sum(P - Y)`` for the intercepts, rows weighted.
    """
    weight = np.ones(len(y)) if sample_weight is None else sample_weight
    design = one_hot_codes(clf.maddness_.encode(X))
    proba = clf.predict_proba(X)
    residual = (proba - (clf.classes_[:, None] == y).T) * weight[:, None]
    if len(clf.classes_) == 2:
        residual = residual[:, 1:]
    tables = clf.maddness_.luts_.reshape(residual.shape[1], -1)
    product = build_tables(clf.maddness_.prototypes_, clf.maddness_.weights_)
    deviation = tables - clf.table_temperature_ * product.reshape(tables.shape)
    gradient = np.concatenate([
        ((design.T @ residual).T + deviation / TABLE_PRIOR_VARIANCE).ravel(),
        residual.sum(axis=0),
    ])
    return gradient, np.abs(design.T @ np.abs(residual)).max()


@pytest.mark.parametrize("n_classes", [2, 10])
def test_tables_minimise_the_penalised_log_loss(digits, n_classes):
    """Float tables: the gradient of the objective vanishes at the fitted tables."""
    X_train, X_test, y_train, _ = digits
    y_train = y_train % n_classes
    clf = MaddnessClassifier(
        LogisticRegression(max_iter=2000),
        n_codebooks=8,
        quantize_luts=False,
        table_objective="log_loss",
    ).fit(X_train, y_train)
    scores = clf.decision_function(X_test)
    assert scores.shape == ((len(X_test),) if n_classes == 2 else (len(X_test), 10))
    gradient, scale = objective_gradient(clf, X_train, y_train)
    assert np.abs(gradient).max() < 1e-3 * scale


def test_quantized_tables_follow_the_float_ones(digits):
    """8-bit tables de-quantize to within their rounding of the float decision."""
    X_train, X_test, y_train, _ = digits
    # The exact sum of the 8-bit entries: no averaging error on top of theirs.
    params = dict(n_codebooks=16, table_objective="log_loss", aggregation="sum")
    exact = MaddnessClassifier(LogisticRegression(max_iter=2000), quantize_luts=False,
                               **params).fit(X_train, y_train)
    quantized = MaddnessClassifier(LogisticRegression(max_iter=2000), **params)
    quantized.fit(X_train, y_train)
    difference = np.abs(quantized.decision_function(X_test)
                        - exact.decision_function(X_test))
    # Each of the 16 entries is within half a step of its float value.
    steps = 1 / quantized.maddness_.lut_scale_
    assert np.all(difference <= 16 * steps / 2 + 1e-9)
    assert np.mean(quantized.predict(X_test) == exact.predict(X_test)) > 0.97


def test_invariant_to_the_scale_of_the_inner_scores(digits, fitted_head):
    """Scores ten times larger: a tenth of the temperature, the same tables.

    The trees split on the product's SSE, which scales uniformly, and the
    prior is centred on the rescaled product: only log-odds matter.
    """
    X_train, X_test, y_train, _ = digits
    scaled = LogisticRegression()
    scaled.coef_ = 10 * fitted_head.coef_
    scaled.intercept_ = 10 * fitted_head.intercept_
    scaled.classes_ = fitted_head.classes_
    fits = [
        MaddnessClassifier(FrozenEstimator(model), quantize_luts=False,
                           table_objective="log_loss").fit(X_train, y_train)
        for model in (fitted_head, scaled)
    ]
    assert_allclose(fits[1].table_temperature_, fits[0].table_temperature_ / 10,
                    rtol=1e-3)
    # Equal up to L-BFGS's stopping tolerance, in units of log-odds.
    assert_allclose(fits[1].decision_function(X_test), fits[0].decision_function(X_test),
                    rtol=1e-2, atol=0.1)
    assert np.mean(fits[1].predict(X_test) == fits[0].predict(X_test)) > 0.995


@pytest.mark.parametrize("n_codebooks", [4, 16])
def test_training_log_loss_below_the_product_tables(digits, fitted_head, n_codebooks):
    """The fit starts from the product tables and only lowers the penalised loss."""
    X_train, _, y_train, _ = digits
    losses = {}
    for objective in ("product", "log_loss"):
        clf = MaddnessClassifier(
            FrozenEstimator(fitted_head),
            n_codebooks=n_codebooks,
            quantize_luts=False,
            table_objective=objective,
        ).fit(X_train, y_train)
        losses[objective] = log_loss(y_train, clf.predict_proba(X_train))
    assert losses["log_loss"] < losses["product"]


def test_trees_are_those_of_the_product(digits, fitted_head):
    X_train, X_test, y_train, _ = digits
    fits = [
        MaddnessClassifier(FrozenEstimator(fitted_head), table_objective=objective)
        .fit(X_train, y_train)
        for objective in ("product", "log_loss")
    ]
    assert_array_equal(fits[0].maddness_.split_dims_, fits[1].maddness_.split_dims_)
    assert_array_equal(fits[0].maddness_.encode(X_test), fits[1].maddness_.encode(X_test))
    assert not np.array_equal(fits[0].maddness_.luts_, fits[1].maddness_.luts_)


def test_probabilities_without_an_inner_link(digits):
    """The fitted tables are a logistic model: predict_proba exists for LinearSVC too."""
    X_train, X_test, y_train, _ = digits
    product = MaddnessClassifier(LinearSVC(), table_objective="product")
    assert not hasattr(product, "predict_proba")
    clf = MaddnessClassifier(LinearSVC(), table_objective="log_loss").fit(X_train, y_train)
    proba = clf.predict_proba(X_test)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X_test))
    assert_allclose(clf.predict_log_proba(X_test), np.log(proba))


def test_sample_weight_weights_the_table_fit(digits, fitted_head):
    """The weighted gradient vanishes, and rows of weight zero do not count."""
    X_train, X_test, y_train, _ = digits
    weight = np.random.default_rng(0).uniform(0.5, 2.0, len(y_train))
    weight[::3] = 0.0
    # Four codebooks: rows the tables misclassify keep the gradient's terms
    # large enough to compare with.
    params = dict(n_codebooks=4, quantize_luts=False, table_objective="log_loss")
    clf = MaddnessClassifier(FrozenEstimator(fitted_head), **params)
    clf.fit(X_train, y_train, sample_weight=weight)
    gradient, scale = objective_gradient(clf, X_train, y_train, weight)
    assert np.abs(gradient).max() < 1e-3 * scale
    # The frozen head and the trees ignore y: only the table fit sees it.
    relabelled = y_train.copy()
    relabelled[::3] = (relabelled[::3] + 1) % 10
    other = MaddnessClassifier(FrozenEstimator(fitted_head), **params)
    other.fit(X_train, relabelled, sample_weight=weight)
    assert_allclose(other.decision_function(X_test), clf.decision_function(X_test))
    unweighted = MaddnessClassifier(FrozenEstimator(fitted_head), **params)
    unweighted.fit(X_train, y_train)
    assert not np.allclose(unweighted.decision_function(X_test),
                           clf.decision_function(X_test))


def test_string_labels_in_the_inner_order(digits):
    X_train, X_test, y_train, y_test = digits
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven",
                      "eight", "nine"], dtype=object)
    clf = MaddnessClassifier(LogisticRegression(max_iter=2000),
                             table_objective="log_loss").fit(X_train, names[y_train])
    assert clf.score(X_test, names[y_test]) > 0.8


def test_every_class_of_the_inner_model_is_needed(digits, fitted_head):
    X_train, _, y_train, _ = digits
    rows = y_train != 3
    clf = MaddnessClassifier(FrozenEstimator(fitted_head), table_objective="log_loss")
    with pytest.raises(ValueError, match="1 of its 10 classes .*3.* have no row in y"):
        clf.fit(X_train[rows], y_train[rows])
    with pytest.raises(ValueError, match="not fitted with, e.g. 11"):
        clf.fit(X_train, np.where(y_train == 3, 11, y_train))


def test_persistence_and_grid_search(digits):
    X_train, X_test, y_train, y_test = digits
    clf = MaddnessClassifier(LogisticRegression(max_iter=2000), table_objective="log_loss")
    clf.fit(X_train, y_train)
    buffer = io.BytesIO()
    joblib.dump(clf, buffer)
    buffer.seek(0)
    loaded = joblib.load(buffer)
    assert_array_equal(loaded.decision_function(X_test), clf.decision_function(X_test))
    assert hasattr(clf, "table_temperature_")
    clf.set_params(table_objective="product").fit(X_train, y_train)
    assert not hasattr(clf, "table_temperature_")
    search = GridSearchCV(
        MaddnessClassifier(LogisticRegression(max_iter=2000), n_codebooks=8),
        {"table_objective": ["product", "log_loss"]},
        cv=3,
    ).fit(X_train, y_train)
    assert search.best_params_["table_objective"] in ("product", "log_loss")
    assert search.score(X_test, y_test) > 0.8
