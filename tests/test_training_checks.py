"""Warnings about the training rows: too few of them, or scored rows unlike them."""

import warnings

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from sklearn_amm import MaddnessRegressor, MaddnessTransformer, _training_checks
from sklearn_amm.exceptions import FewTrainingRowsWarning, OutsideTrainingRangeWarning


@pytest.fixture(scope="module")
def rows():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 16)) @ rng.normal(size=(16, 16))
    weights = rng.normal(size=(16, 3))
    return X, weights


def test_min_training_rows():
    # One row per leaf of a tree; with the ridge refit, one per table entry.
    assert _training_checks.min_training_rows(8, optimize_prototypes=False) == 16
    assert _training_checks.min_training_rows(8, optimize_prototypes=True) == 128
    assert _training_checks.min_training_rows(1, optimize_prototypes=True) == 16


@pytest.mark.parametrize("n_samples", [1, 2, 15])
@pytest.mark.parametrize("optimize_prototypes", [False, True])
def test_fit_on_fewer_rows_than_leaves_warns(rows, n_samples, optimize_prototypes):
    X, weights = rows
    amm = MaddnessTransformer(
        weights, n_codebooks=4, optimize_prototypes=optimize_prototypes
    )
    with pytest.warns(FewTrainingRowsWarning, match=f"fitted on {n_samples} row"):
        amm.fit(X[:n_samples])


def test_ridge_refit_on_fewer_rows_than_table_entries_warns(rows):
    X, weights = rows
    amm = MaddnessTransformer(weights, n_codebooks=8)
    with pytest.warns(
        FewTrainingRowsWarning, match=r"16 \* n_codebooks_ = 128 table entries"
    ):
        amm.fit(X[:127])
    with warnings.catch_warnings():
        warnings.simplefilter("error", FewTrainingRowsWarning)
        amm.fit(X[:128])
        # Leaf means need one row per leaf only.
        amm.set_params(optimize_prototypes=False).fit(X[:16])


def test_the_threshold_counts_the_codebooks_used(rows):
    # n_codebooks is clamped to the 16 features: 16 * 16 rows, not 16 * 40.
    X, weights = rows
    with warnings.catch_warnings():
        warnings.simplefilter("error", FewTrainingRowsWarning)
        MaddnessTransformer(weights, n_codebooks=40).fit(X[:256])


def test_wrappers_warn_too(rows):
    X, _ = rows
    y = X[:, 0]
    with pytest.warns(FewTrainingRowsWarning):
        MaddnessRegressor(Ridge(), n_codebooks=4).fit(X[:10], y[:10])


def test_warning_points_at_the_callers_line(rows):
    X, weights = rows
    with pytest.warns(FewTrainingRowsWarning) as record:
        MaddnessTransformer(weights, n_codebooks=4).fit(X[:3])
    assert record[0].filename == __file__


def test_training_range_covers_only_the_split_columns(rows):
    X, weights = rows
    amm = MaddnessTransformer(weights, n_codebooks=4).fit(X[:1000])
    columns, low, high, n_samples = amm._split_column_range
    np.testing.assert_array_equal(columns, np.unique(amm.split_dims_))
    np.testing.assert_array_equal(low, X[:1000, columns].min(axis=0))
    np.testing.assert_array_equal(high, X[:1000, columns].max(axis=0))
    assert n_samples == 1000


def test_expected_outside_share():
    assert _training_checks.expected_outside_share(1, 999) == 2 / 1000
    assert _training_checks.expected_outside_share(16, 999) == 32 / 1000
    assert _training_checks.expected_outside_share(16, 10) == 1.0


def test_held_out_rows_like_the_training_rows_do_not_warn(rows):
    # Some held-out rows do leave the training range, by chance only.
    X, weights = rows
    amm = MaddnessTransformer(weights, n_codebooks=8).fit(X[:2000])
    columns, low, high, _ = amm._split_column_range
    held_out = X[2000:]
    assert ((held_out[:, columns] < low) | (held_out[:, columns] > high)).any()
    with warnings.catch_warnings():
        warnings.simplefilter("error", OutsideTrainingRangeWarning)
        amm.score(held_out)
        amm.score(X[:2000])


@pytest.mark.parametrize("scale", [3.0, -5.0])
def test_score_of_rows_beyond_the_training_range_warns(rows, scale):
    X, weights = rows
    amm = MaddnessTransformer(weights, n_codebooks=8).fit(X[:2000])
    with pytest.warns(
        OutsideTrainingRangeWarning, match=r"\d+ of 1000 row\(s\) hold values outside"
    ) as record:
        score = amm.score(scale * X[2000:])
    assert record[0].filename == __file__
    # What the warning is about: the approximation saturates (R² 0.93 on
    # the held-out rows, 0.68 on 3 times them, 0.50 on -5 times them).
    assert score < amm.score(X[2000:]) - 0.2


def test_one_shifted_column_is_enough(rows):
    X, weights = rows
    amm = MaddnessTransformer(weights, n_codebooks=8).fit(X[:2000])
    shifted = X[2000:].copy()
    column = amm.split_dims_[0, 0]
    shifted[:, column] += 10 * np.ptp(X[:, column])
    with pytest.warns(OutsideTrainingRangeWarning, match="1000 of 1000 row"):
        amm.score(shifted)


def test_transform_never_checks_the_range(rows):
    X, weights = rows
    amm = MaddnessTransformer(weights, n_codebooks=8).fit(X[:2000])
    with warnings.catch_warnings():
        warnings.simplefilter("error", OutsideTrainingRangeWarning)
        amm.transform(100 * X[2000:])
