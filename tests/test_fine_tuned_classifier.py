"""MaddnessClassifier(table_objective="fine_tuned"): trees and tables trained for the decision."""

import joblib
import numpy as np
import pytest
from scipy.special import softmax
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split

from sklearn_amm import MaddnessClassifier


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


def _fit(digits, objective, **params):
    X_train, _, y_train, _ = digits
    clf = MaddnessClassifier(
        LogisticRegression(max_iter=2000),
        n_codebooks=8,
        table_objective=objective,
        random_state=0,
        **params,
    )
    return clf.fit(X_train, y_train)


def test_fine_tuning_lowers_the_training_log_loss(digits):
    X_train, _, y_train, _ = digits
    log_loss_tables = _fit(digits, "log_loss")
    fine_tuned = _fit(digits, "fine_tuned")
    before = log_loss(y_train, log_loss_tables.predict_proba(X_train))
    after = log_loss(y_train, fine_tuned.predict_proba(X_train))
    assert after < before
    # Only the thresholds moved: the split columns are those of the product.
    np.testing.assert_array_equal(
        fine_tuned.maddness_.split_dims_, log_loss_tables.maddness_.split_dims_
    )
    assert not np.array_equal(
        fine_tuned.maddness_.split_thresholds_,
        log_loss_tables.maddness_.split_thresholds_,
    )


def test_fine_tuned_predictions_are_consistent(digits):
    _, X_test, _, y_test = digits
    clf = _fit(digits, "fine_tuned")
    scores = clf.decision_function(X_test)
    np.testing.assert_allclose(clf.predict_proba(X_test), softmax(scores, axis=1))
    np.testing.assert_array_equal(clf.predict(X_test), clf.classes_[scores.argmax(axis=1)])
    # Held-out accuracy: the digits head keeps most of the exact model's.
    assert clf.score(X_test, y_test) > 0.85


def test_fine_tuning_is_reproducible_and_persists(digits, tmp_path):
    _, X_test, _, _ = digits
    first = _fit(digits, "fine_tuned")
    second = _fit(digits, "fine_tuned")
    np.testing.assert_array_equal(
        first.decision_function(X_test), second.decision_function(X_test)
    )
    path = tmp_path / "clf.joblib"
    joblib.dump(first, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(
        loaded.decision_function(X_test), first.decision_function(X_test)
    )


def test_fine_tuned_binary(digits):
    X_train, X_test, y_train, _ = digits
    keep = y_train < 2
    clf = MaddnessClassifier(
        LogisticRegression(max_iter=2000),
        n_codebooks=4,
        table_objective="fine_tuned",
        random_state=0,
    ).fit(X_train[keep], y_train[keep])
    assert clf.decision_function(X_test).shape == (len(X_test),)
    assert clf.predict_proba(X_test).shape == (len(X_test), 2)
