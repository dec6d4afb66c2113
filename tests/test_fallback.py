"""The exact fallback of MaddnessClassifier for rows of uncertain decision."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_digits
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC
from sklearn.model_selection import train_test_split

from sklearn_amm import MaddnessClassifier
from sklearn_amm._fallback import (
    calibrate,
    exact_rows,
    held_out_rows,
    linear_scores,
    top_two_margin,
)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("n_classes", [2, 3, 7])
def test_top_two_margin_is_the_gap_between_the_two_largest(order, n_classes):
    rng = np.random.default_rng(n_classes)
    scores = np.asarray(rng.normal(size=(101, n_classes)), order=order)
    scores[::7, 1] = scores[::7, 0]  # ties give a zero margin
    expected = np.diff(np.sort(scores, axis=1)[:, -2:], axis=1).ravel()
    assert_allclose(top_two_margin(scores), expected)
    assert_allclose(top_two_margin(scores[:, 0]), np.abs(scores[:, 0]))


def test_calibration_takes_the_smallest_fallback_that_holds_from_there_on():
    # Margins 0..9; the approximate class is wrong on the rows of margin 1
    # and 6, the exact one on the row of margin 3.
    scores = np.arange(10.0)
    approx = np.ones(10, bool)
    approx[[1, 6]] = False
    exact = np.ones(10, bool)
    exact[3] = False
    exact_estimate = {"n_standard_errors": 0.0}
    # Without fallback: 2 rows lost, 1 gained.
    assert calibrate(scores, approx, exact, None).loss == pytest.approx(0.1)
    # 0.1 is met with no fallback at all.
    assert calibrate(scores, approx, exact, 0.1, **exact_estimate).threshold == 0.0
    # 0.0 is met once rows 0..6 fall back; rows 0..1 alone dip to
    # 0.0 by luck of row 3 and are not taken.
    calibration = calibrate(scores, approx, exact, 0.0, **exact_estimate)
    assert calibration.threshold == 7.0
    assert calibration.fraction == pytest.approx(0.7)
    assert calibration.loss == 0.0
    assert calibration.loss_without_fallback == pytest.approx(0.1)
    # With one standard error, 0.1 is no longer met without fallback: the
    # three differing rows give sqrt(3) / 10 = 0.17 of error.
    with_margin = calibrate(scores, approx, exact, 0.1)
    assert with_margin.threshold > 0.0
    assert with_margin.loss + np.sqrt(
        np.sum(np.isin(np.arange(10), [1, 3, 6]) & (scores >= with_margin.threshold))
    ) / 10 <= 0.1 + 1e-12
    # Weights count like repeated rows.
    weight = np.ones(10)
    weight[6] = 3.0
    assert calibrate(scores, approx, exact, None, weight).loss == pytest.approx(3 / 12)


def test_exact_rows_overwrites_only_the_uncertain_rows():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 6)).astype(np.float32)
    coef, intercept = rng.normal(size=(3, 6)), rng.normal(size=3)
    scores = rng.normal(size=(50, 3))
    before = scores.copy()
    rows = exact_rows(scores, X, 0.5, linear_scores(coef, intercept))
    uncertain = top_two_margin(before) < 0.5
    assert_array_equal(rows, np.flatnonzero(uncertain))
    assert_array_equal(scores[~uncertain], before[~uncertain])
    assert_allclose(scores[uncertain], X[uncertain] @ coef.T + intercept, rtol=1e-5)
    assert exact_rows(scores, X, 0.0, linear_scores(coef, intercept)).size == 0


def test_held_out_rows_are_stratified_and_disjoint():
    y = np.repeat([0, 1, 2], [50, 30, 20])
    learn, held_out = held_out_rows(y, 0.2, 0)
    assert len(held_out) == 20
    assert np.intersect1d(learn, held_out).size == 0
    assert_array_equal(np.bincount(y[held_out]), [10, 6, 4])
    # A class of one row cannot be stratified: a plain split instead.
    learn, held_out = held_out_rows(np.append(y, 3), 0.2, 0)
    assert len(learn) + len(held_out) == 101


@pytest.mark.parametrize("table_objective", ["product", "fine_tuned"])
def test_fallback_rows_get_the_exact_scores_and_the_others_keep_theirs(
    digits, table_objective
):
    X_train, X_test, y_train, _ = digits
    params = dict(n_codebooks=4, table_objective=table_objective, random_state=0)
    head = LogisticRegression(max_iter=1000)
    plain = MaddnessClassifier(head, **params).fit(X_train, y_train)
    clf = MaddnessClassifier(head, fallback_loss=0.0, **params).fit(X_train, y_train)
    assert clf.fallback_threshold_ > 0
    assert 0 < clf.fallback_fraction_ < 1
    assert clf.validation_loss_ <= 0.0
    mask = clf.fallback_mask(X_test)
    assert 0 < mask.mean() < 1
    scores = clf.decision_function(X_test)
    inner = clf.estimator_
    assert_allclose(scores[mask], inner.decision_function(X_test[mask]), rtol=1e-12)
    assert_array_equal(scores[~mask], plain.decision_function(X_test)[~mask])
    # predict, predict_proba and decision_function agree.
    predicted = clf.predict(X_test)
    assert_array_equal(predicted, clf.classes_[scores.argmax(axis=1)])
    assert_array_equal(predicted, clf.classes_[clf.predict_proba(X_test).argmax(axis=1)])
    assert_array_equal(predicted[mask], inner.predict(X_test[mask]))


def test_fallback_buys_back_accuracy(digits):
    X_train, X_test, y_train, y_test = digits
    head = LogisticRegression(max_iter=1000)
    exact = head.fit(X_train, y_train).score(X_test, y_test)
    params = dict(n_codebooks=2, table_objective="product")
    plain = MaddnessClassifier(head, **params).fit(X_train, y_train)
    clf = MaddnessClassifier(head, fallback_loss=0.0, random_state=0, **params)
    clf.fit(X_train, y_train)
    assert plain.score(X_test, y_test) < exact - 0.05
    assert clf.score(X_test, y_test) > exact - 0.02


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
def test_fallback_in_both_orders_and_dtypes(digits, dtype, order):
    X_train, X_test, y_train, _ = digits
    clf = MaddnessClassifier(
        LogisticRegression(max_iter=1000), n_codebooks=4, fallback_loss=0.0,
        random_state=0,
    ).fit(X_train, y_train)
    expected = clf.predict(X_test)
    rows = np.asarray(X_test, dtype=dtype, order=order)
    assert_array_equal(clf.predict(rows), expected)
    assert_array_equal(clf.fallback_mask(rows), clf.fallback_mask(X_test))


def test_binary_fallback_on_the_score_itself(digits):
    X_train, X_test, y_train, _ = digits
    y_binary = y_train >= 5
    clf = MaddnessClassifier(
        LogisticRegression(max_iter=1000), n_codebooks=2, table_objective="product",
        fallback_loss=0.0, random_state=0,
    ).fit(X_train, y_binary)
    scores = clf.decision_function(X_test)
    assert scores.ndim == 1
    mask = clf.fallback_mask(X_test)
    assert mask.any()
    assert_allclose(
        scores[mask], clf.estimator_.decision_function(X_test[mask]), rtol=1e-12
    )
    assert_array_equal(clf.predict(X_test), clf.classes_[(scores > 0).astype(int)])


def test_fallback_is_thread_safe(digits):
    X_train, X_test, y_train, _ = digits
    clf = MaddnessClassifier(
        LogisticRegression(max_iter=1000), n_codebooks=4, fallback_loss=0.0,
        random_state=0,
    ).fit(X_train, y_train)
    chunks = np.array_split(np.tile(X_test, (4, 1)), 16)
    expected = [clf.predict_proba(chunk) for chunk in chunks]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(clf.predict_proba, chunks))
    for result, reference in zip(results, expected):
        assert_array_equal(result, reference)


def test_no_fallback_by_default(digits):
    X_train, X_test, y_train, _ = digits
    clf = MaddnessClassifier(
        LinearSVC(), n_codebooks=4, table_objective="product"
    ).fit(X_train, y_train)
    assert clf.fallback_threshold_ == 0.0
    assert clf.validation_loss_ is None
    assert not clf.fallback_mask(X_test).any()


def test_frozen_model_is_shared_by_the_calibration(digits):
    X_train, X_test, y_train, _ = digits
    head = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    coef = head.coef_.copy()
    clf = MaddnessClassifier(
        FrozenEstimator(head), n_codebooks=4, fallback_loss=0.005, random_state=0
    ).fit(X_train, y_train)
    assert_array_equal(head.coef_, coef)
    assert clf.validation_loss_ <= 0.005
    mask = clf.fallback_mask(X_test)
    assert_array_equal(clf.predict(X_test)[mask], head.predict(X_test[mask]))


def test_non_finite_value_in_a_falling_back_row_is_an_error(digits):
    # The approximate scores read only the split columns; the exact product
    # of a falling-back row reads all of them, so a NaN elsewhere must raise
    # rather than give a NaN score.
    X_train, X_test, y_train, _ = digits
    clf = MaddnessClassifier(
        LogisticRegression(max_iter=1000), n_codebooks=4, table_objective="product",
        fallback_loss=0.0, random_state=0,
    ).fit(X_train, y_train)
    row = np.flatnonzero(clf.fallback_mask(X_test))[0]
    unread = np.setdiff1d(np.arange(X_test.shape[1]), clf.maddness_.split_dims_)
    rows = X_test.copy()
    rows[row, unread[0]] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.predict(rows)
    # In a row that keeps its approximate score, such a value is never read.
    kept = np.flatnonzero(~clf.fallback_mask(X_test))[0]
    rows = X_test.copy()
    rows[kept, unread[0]] = np.nan
    assert_array_equal(clf.predict(rows), clf.predict(X_test))
