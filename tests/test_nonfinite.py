"""NaN and infinity at prediction time: what doc/user_guide/in_practice.rst
promises, for every estimator, memory order, dtype and SIMD level.

* In a column some tree splits on: scikit-learn's ValueError by default;
  under ``assume_finite=True`` a defined, finite result (NaN goes left like
  -inf, an infinity compares as the number it is), the same at every level.
* In a column no tree reads: no error and no effect, with or without
  ``assume_finite`` (except for the estimators whose output reads whole
  rows, which check every value as scikit-learn does).
"""

import numpy as np
import pytest
from sklearn import config_context
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression, Ridge

from sklearn_amm import (
    MaddnessClassifier,
    MaddnessClassifierCV,
    MaddnessNystroem,
    MaddnessProjection,
    MaddnessRBFSampler,
    MaddnessRegressor,
    MaddnessSkewedChi2Sampler,
    MaddnessTransformer,
    _simd,
)
from sklearn_amm._estimators import all_estimators

from cv_timings import fixed_timings

N_FEATURES = 12
LEVELS = _simd.available_levels()
VALUES = {"nan": np.nan, "inf": np.inf, "-inf": -np.inf}


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, N_FEATURES)) @ rng.normal(size=(N_FEATURES, N_FEATURES))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    return X, y


def _estimators():
    """name -> (fitted estimator, prediction methods, reads every column)."""
    X, y = _data()
    weights = np.random.default_rng(1).normal(size=(N_FEATURES, 5))
    # Few codebooks over many columns, so that some columns go unread.
    common = {"n_codebooks": 2}
    # MADDNESS is kept: fitted under fixed timings, with any loss accepted.
    # Without fallback, whose rows are scored from every column.
    with fixed_timings():
        classifier_cv = MaddnessClassifierCV(
            LogisticRegression(),
            max_accuracy_loss=1.0,
            n_codebooks=(2,),
            fallback=False,
            random_state=0,
        ).fit(X, y)
    assert classifier_cv.best_estimator_ is not None
    return {
        "transformer": (MaddnessTransformer(weights, **common).fit(X), ["transform", "encode"], False),
        "transformer-float-tables": (
            MaddnessTransformer(weights, quantize_luts=False, **common).fit(X),
            ["transform"],
            False,
        ),
        "classifier": (
            MaddnessClassifier(LogisticRegression(), **common).fit(X, y),
            ["decision_function", "predict", "predict_proba"],
            False,
        ),
        "regressor": (MaddnessRegressor(Ridge(), **common).fit(X, y), ["predict"], False),
        "rbf": (MaddnessRBFSampler(n_components=16, random_state=0, **common).fit(X), ["transform"], False),
        "skewed-chi2": (
            MaddnessSkewedChi2Sampler(n_components=16, skewedness=100.0, random_state=0, **common).fit(X),
            ["transform"],
            False,
        ),
        "projection": (MaddnessProjection(PCA(n_components=3), **common).fit(X), ["transform"], False),
        "nystroem": (MaddnessNystroem(n_components=16, random_state=0, **common).fit(X), ["transform"], True),
        "classifier-cv": (
            classifier_cv,
            ["decision_function", "predict", "predict_proba", "fallback_mask"],
            False,
        ),
    }


ESTIMATORS = _estimators()


def test_cases_hold_every_estimator_class():
    classes = {type(estimator) for estimator, _, _ in ESTIMATORS.values()}
    assert classes == set(all_estimators())


def _split_dims(estimator):
    estimator = getattr(estimator, "best_estimator_", estimator)
    return getattr(estimator, "maddness_", estimator).split_dims_


def _rows(dtype, order):
    X, _ = _data()
    return np.asarray(X[:70], dtype=dtype, order=order)


def _outside_domain(name, value):
    """The skewed chi2 kernel is defined for X > -skewedness only: -inf is
    its own error (as in scikit-learn's SkewedChi2Sampler), anywhere."""
    return name == "skewed-chi2" and value == "-inf"


def _split_and_unread_column(estimator):
    used = np.unique(_split_dims(estimator))
    unread = sorted(set(range(N_FEATURES)) - set(used))
    assert unread, "the fixture needs a column no tree reads"
    return int(_split_dims(estimator)[0, 0]), unread[0]


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
@pytest.mark.parametrize("value", sorted(VALUES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
def test_split_column_raises_by_default(name, value, dtype, order):
    estimator, methods, _ = ESTIMATORS[name]
    split, _ = _split_and_unread_column(estimator)
    X = _rows(dtype, order)
    X[37, split] = VALUES[value]
    message = "Input X contains NaN" if value == "nan" else "Input X contains infinity"
    if _outside_domain(name, value):
        message = "smaller than -skewedness"
    for level in LEVELS:
        with _simd.simd_level(level):
            for method in methods:
                with pytest.raises(ValueError, match=message):
                    getattr(estimator, method)(X)


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
@pytest.mark.parametrize("value", sorted(VALUES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
def test_split_column_under_assume_finite_is_defined(name, value, dtype, order):
    """NaN goes left like -inf, +inf goes right like the largest float; the
    result is finite (for the estimators that read only split columns), the
    same at every SIMD level, and other rows keep theirs."""
    estimator, methods, reads_every_column = ESTIMATORS[name]
    if _outside_domain(name, value):
        pytest.skip("-inf is outside the skewed chi2 kernel's domain")
    split, _ = _split_and_unread_column(estimator)
    X = _rows(dtype, order)
    X_bad = X.copy(order="K")
    X_bad[[0, 37], split] = VALUES[value]
    # The finite value that takes every comparison the same way. (For the
    # skewed chi2 kernel the encoder compares log(X + skewedness), where no
    # finite X stands in for NaN: only finiteness and agreement are checked.)
    stand_in = np.finfo(dtype).max if value == "inf" else -np.finfo(dtype).max
    X_same = X.copy(order="K")
    X_same[[0, 37], split] = stand_in
    has_stand_in = (name != "skewed-chi2" or value == "inf") and not reads_every_column
    for method in methods:
        results = []
        for level in LEVELS:
            with _simd.simd_level(level), config_context(assume_finite=True):
                result = np.asarray(getattr(estimator, method)(X_bad))
                if has_stand_in:
                    expected = np.asarray(getattr(estimator, method)(X_same))
                    np.testing.assert_array_equal(result, expected, err_msg=f"{method} {level}")
                clean = np.asarray(getattr(estimator, method)(X))
            if reads_every_column:
                # Like scikit-learn's Nystroem, the rows' norms carry the
                # value into those rows' outputs; the other rows keep theirs.
                np.testing.assert_array_equal(result[1:37], clean[1:37])
                np.testing.assert_array_equal(result[38:], clean[38:])
            elif result.dtype.kind == "f":
                assert np.all(np.isfinite(result))
            results.append(result)
        for result in results[1:]:
            np.testing.assert_array_equal(result, results[0])


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
@pytest.mark.parametrize("value", sorted(VALUES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("assume_finite", [False, True])
def test_unread_column(name, value, dtype, order, assume_finite):
    """No effect where only the split columns reach the output; scikit-learn's
    error (unless assume_finite) where whole rows do."""
    estimator, methods, reads_every_column = ESTIMATORS[name]
    if _outside_domain(name, value):
        reads_every_column = True  # its domain check reads every value
    _, unread = _split_and_unread_column(estimator)
    X = _rows(dtype, order)
    X_bad = X.copy(order="K")
    X_bad[:, unread] = VALUES[value]
    for level in LEVELS:
        with _simd.simd_level(level), config_context(assume_finite=assume_finite):
            for method in methods:
                if _outside_domain(name, value):
                    with pytest.raises(ValueError, match="smaller than -skewedness"):
                        getattr(estimator, method)(X_bad)
                    continue
                if reads_every_column and not assume_finite:
                    with pytest.raises(ValueError, match="Input X contains"):
                        getattr(estimator, method)(X_bad)
                    continue
                if reads_every_column:
                    continue  # garbage in, as scikit-learn allows under assume_finite
                result = np.asarray(getattr(estimator, method)(X_bad))
                np.testing.assert_array_equal(result, np.asarray(getattr(estimator, method)(X)))


def test_a_row_larger_than_one_thread_task_reports_from_any_task():
    """The report of every parallel task counts, not only the first's."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200_000, 8)).astype(np.float32)
    amm = MaddnessTransformer(n_codebooks=2).fit(X[:2000])
    split = int(amm.split_dims_[1, 3])
    for row in [0, 100_000, 199_999]:
        X_bad = np.asfortranarray(X)
        X_bad[row, split] = np.nan
        with threadpoolctl.threadpool_limits(2):
            with pytest.raises(ValueError, match="Input X contains NaN"):
                amm.transform(X_bad)
