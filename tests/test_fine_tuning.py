"""Tests of the end-to-end fine-tuning of thresholds, tables and intercepts."""

import tracemalloc
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import log_softmax

from sklearn_amm import _reference
from sklearn_amm._decision_tables import log_loss_tables
from sklearn_amm._encoding import encode_rows
from sklearn_amm._fine_tuning import (
    _leaf_memberships,
    _loss_and_gradients,
    _offsets,
    fine_tune,
)

# Few epochs and large batches keep every fit below a second.
FAST = dict(n_epochs_soft=4, n_epochs_hard=2, batch_size=128)
TRUE_THRESHOLD = 0.3


def _random_thresholds(rng, n_codebooks, unsplit=()):
    """Thresholds in the encoder's layout: padding, and ``unsplit`` nodes, +inf."""
    thresholds = np.full((n_codebooks, 4, 8), np.inf)
    for level in range(4):
        size = (n_codebooks, 2**level)
        thresholds[:, level, : 2**level] = rng.normal(scale=0.5, size=size)
    for node in unsplit:
        thresholds[node] = np.inf
    return thresholds


def _trainable(thresholds):
    """The nodes fine-tuning trains, for columns of unit spread."""
    ones = np.ones(thresholds.shape[:2])
    return _offsets(thresholds, ones, -5 * ones, 5 * ones)[0]


def _hard_log_loss(X, class_indices, split_dims, thresholds, tables, intercept):
    """Mean training log loss of the model that runs: comparisons, then tables."""
    codes = encode_rows(X, split_dims, thresholds)
    scores = _reference.aggregate_float(codes, tables) + intercept
    if scores.shape[1] == 1:
        scores = np.hstack([np.zeros_like(scores), scores])
    return -log_softmax(scores, axis=1)[np.arange(len(X)), class_indices].mean()


@pytest.fixture(scope="module")
def task():
    """Labels decided by two columns' thresholds; the trees split on them first.

    Two codebooks; codebook 0's root compares column 0 and codebook 1's
    root column 4, the columns that decide the class (3 classes, 5% noise).
    The starting root thresholds are 0.6 std away from the true ones, and
    the starting tables the best ones for those thresholds.
    """
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 8)).astype(np.float32)
    y = (X[:, 0] > TRUE_THRESHOLD).astype(np.intp) + (X[:, 4] > -TRUE_THRESHOLD)
    noisy = rng.random(len(y)) < 0.05
    y[noisy] = rng.integers(0, 3, noisy.sum())
    split_dims = np.array([[0, 1, 2, 3], [4, 5, 6, 7]], dtype=np.intp)
    thresholds = _random_thresholds(rng, 2, unsplit=[(0, 2, 3), (1, 3, 5)])
    thresholds[:, 0, 0] = [TRUE_THRESHOLD + 0.6, -TRUE_THRESHOLD - 0.6]
    codes = encode_rows(X, split_dims, thresholds)
    tables, intercept, _ = log_loss_tables(
        codes, y, 3, np.zeros((3, 2, 16)), np.zeros(3)
    )
    return X, y, split_dims, thresholds, tables, intercept


def _fit(task, **kwargs):
    X, y, split_dims, thresholds, tables, intercept = task
    options = {**FAST, "random_state": 0, **kwargs}
    X = options.pop("X", X)
    tables = options.pop("tables", tables)
    intercept = options.pop("intercept", intercept)
    return fine_tune(X, y, 3, split_dims, thresholds, tables, intercept, **options)


@pytest.mark.parametrize("n_outputs", [1, 3])
@pytest.mark.parametrize("hard", [False, True])
def test_gradients_match_finite_differences(n_outputs, hard):
    # In the hard (straight-through) mode only the tables' and intercepts'
    # gradients are true gradients; the thresholds' are checked soft only.
    rng = np.random.default_rng(1)
    n_rows, n_codebooks = 9, 3
    n_classes = 2 if n_outputs == 1 else n_outputs
    xs = rng.normal(size=(n_rows, n_codebooks, 4))
    thresholds = _random_thresholds(rng, n_codebooks, unsplit=[(1, 2, 1), (2, 1, 0)])
    trainable = _trainable(thresholds)
    tables = rng.normal(size=(n_outputs, n_codebooks, 16))
    intercept = rng.normal(size=n_outputs)
    labels = rng.integers(0, n_classes, n_rows)
    weight = rng.uniform(0.2, 3, n_rows)
    widths = rng.uniform(0.3, 1.0, (n_codebooks, 4))

    def loss(thr, tab, b):
        return _loss_and_gradients(
            xs, labels, weight, thr, tab, b, widths, trainable, hard
        )

    _, d_thr, d_tables, d_intercept = loss(thresholds, tables, intercept)
    checks = [(tables, d_tables), (intercept, d_intercept)]
    if not hard:
        checks.append((thresholds, d_thr))
    for which, (param, analytic) in enumerate(checks):
        numeric = np.zeros_like(param)
        for index in zip(*np.nonzero(np.isfinite(param))):
            values = []
            for step in (1e-6, -1e-6):
                moved = [thresholds, tables, intercept]
                moved[[1, 2, 0][which]] = param.copy()
                moved[[1, 2, 0][which]][index] += step
                values.append(loss(*moved)[0])
            numeric[index] = (values[0] - values[1]) / 2e-6
        assert_allclose(analytic, numeric, atol=1e-8)
    # Untrained nodes (+inf, padding) get no gradient.
    assert not d_thr[~trainable].any()
    assert np.abs(d_thr[trainable]).max() > 1e-3


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_hard_forward_is_the_encoder(dtype):
    # The straight-through forward pass must be the model that will run:
    # one-hot leaves equal to the compiled encoder's and the reference's codes.
    rng = np.random.default_rng(2)
    X = rng.normal(size=(500, 12)).astype(dtype)
    split_dims = rng.integers(0, 12, size=(5, 4))
    thresholds = _random_thresholds(rng, 5, unsplit=[(0, 1, 1), (3, 2, 0)])
    X[:7, split_dims[1, 0]] = thresholds[1, 0, 0]  # ties go left
    trainable = _trainable(thresholds)
    xs = X[:, split_dims.ravel()].astype(np.float64).reshape(500, 5, 4)
    leaves, _ = _leaf_memberships(xs, thresholds, np.full((5, 4), 0.1), trainable, True)
    codes = encode_rows(X, split_dims, thresholds)
    assert_array_equal(codes, _reference.encode(X, split_dims, thresholds))
    assert_array_equal(leaves, np.eye(16)[codes])


def test_fine_tuning_lowers_the_training_loss(task):
    X, y, split_dims, thresholds, tables, intercept = task
    before = _hard_log_loss(X, y, split_dims, thresholds, tables, intercept)
    thr, new_tables, new_intercept = _fit(task)
    after = _hard_log_loss(X, y, split_dims, thr, new_tables, new_intercept)
    # The starting tables were already the best for the starting thresholds,
    # so the gain comes from moving the thresholds towards the true ones.
    assert after < 0.8 * before
    assert_allclose(thr[:, 0, 0], [TRUE_THRESHOLD, -TRUE_THRESHOLD], atol=0.15)
    # The returned tables are fitted to the returned thresholds' codes: the
    # same tables with the starting thresholds do worse.
    stale = _hard_log_loss(X, y, split_dims, thresholds, new_tables, new_intercept)
    assert after < stale


def test_hard_epochs_fit_the_tables_to_the_codes(task):
    # Straight-through epochs alone, thresholds frozen: the tables, started
    # at zero, end close to the best tables for the codes (the L-BFGS fit;
    # the intercepts alone would leave the loss near the classes' entropy, 1.05).
    X, y, split_dims, thresholds, best_tables, best_intercept = task
    thr, tables, intercept = _fit(
        task, n_epochs_soft=0, n_epochs_hard=4, learning_rate_thresholds=0.0,
        tables=np.zeros((3, 2, 16)), intercept=np.zeros(3),
    )
    assert_array_equal(thr, thresholds)
    best = _hard_log_loss(X, y, split_dims, thresholds, best_tables, best_intercept)
    loss = _hard_log_loss(X, y, split_dims, thresholds, tables, intercept)
    assert loss < best + 0.03


def test_leaf_structure_is_kept(task):
    X, _, _, thresholds, _, _ = task
    thr, _, _ = _fit(task, learning_rate_thresholds=5.0)
    assert_array_equal(np.isinf(thr), np.isinf(thresholds))
    moved = np.isfinite(thr) & (thr != thresholds)
    assert moved.sum() >= 20
    # Even with a huge learning rate, thresholds stay in their columns' range.
    columns = np.array([[0, 1, 2, 3], [4, 5, 6, 7]])
    low = X.min(axis=0)[columns][:, :, None]
    high = X.max(axis=0)[columns][:, :, None]
    finite = np.isfinite(thr)
    assert np.all((thr >= low) & (thr <= high) | ~finite)


def test_deterministic_under_random_state(task):
    first, second, other = _fit(task), _fit(task), _fit(task, random_state=1)
    for a, b in zip(first, second):
        assert_array_equal(a, b)
    assert not np.array_equal(first[1], other[1])


def test_dtypes_and_orders_give_the_same_result(task):
    X = task[0]
    results = [
        _fit(task, X=variant)
        for variant in (X, np.asfortranarray(X), X.astype(np.float64),
                        np.asfortranarray(X, dtype=np.float64))
    ]
    for result in results[1:]:
        for a, b in zip(results[0], result):
            assert_array_equal(a, b)


def test_zero_weights_are_absent_rows(task):
    # Zero-weight rows are dropped before shuffling, so the minibatches and
    # the columns' statistics are those of the remaining rows: the results
    # are identical, not merely close.
    X, y, split_dims, thresholds, tables, intercept = task
    weight = np.ones(len(X))
    weight[::3] = 0
    kept = weight > 0
    weighted = _fit(task, sample_weight=weight)
    subset = fine_tune(X[kept], y[kept], 3, split_dims, thresholds, tables, intercept,
                       **FAST, random_state=0)
    for a, b in zip(weighted, subset):
        assert_array_equal(a, b)


def test_integer_weights_are_repeated_rows(task):
    # With minibatches, a weighted row and its copies land in different
    # batches, so the two runs differ by the batches' composition. With one
    # batch holding every row, each step's gradient is the same sum: the
    # results agree up to rounding.
    X, y, split_dims, thresholds, tables, intercept = task
    rows = np.arange(600)
    weight = np.random.default_rng(3).integers(1, 4, len(rows))
    repeated = np.repeat(rows, weight)
    options = dict(FAST, batch_size=len(repeated), random_state=0)
    weighted = fine_tune(X[rows], y[rows], 3, split_dims, thresholds, tables,
                         intercept, sample_weight=weight.astype(float), **options)
    copies = fine_tune(X[repeated], y[repeated], 3, split_dims, thresholds, tables,
                       intercept, **options)
    for a, b in zip(weighted, copies):
        assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    unweighted = fine_tune(X[rows], y[rows], 3, split_dims, thresholds, tables,
                           intercept, **options)
    assert not np.allclose(weighted[1], unweighted[1])


def test_binary(task):
    X, y, split_dims, thresholds, _, _ = task
    y = (y == 2).astype(np.intp)
    codes = encode_rows(X, split_dims, thresholds)
    tables, intercept, _ = log_loss_tables(
        codes, y, 2, np.zeros((1, 2, 16)), np.zeros(1)
    )
    thr, new_tables, new_intercept = fine_tune(
        X, y, 2, split_dims, thresholds, tables, intercept, **FAST, random_state=0
    )
    assert new_tables.shape == (1, 2, 16) and new_intercept.shape == (1,)
    before = _hard_log_loss(X, y, split_dims, thresholds, tables, intercept)
    after = _hard_log_loss(X, y, split_dims, thr, new_tables, new_intercept)
    assert after < 0.8 * before
    # Only codebook 1's root (column 4) decides y here.
    assert abs(thr[1, 0, 0] + TRUE_THRESHOLD) < 0.15


def test_no_warnings_for_extreme_values(task):
    # Scores of +-1e6 and columns of spread 1e-6 or 1e6: the sigmoid and the
    # softmax must saturate quietly.
    X, y, split_dims, thresholds, tables, intercept = task
    X = X.astype(np.float64) * np.array([1e-6, 1, 1, 1, 1e6, 1, 1, 1])
    thresholds = thresholds * np.array([1e-6, 1e6])[:, None, None]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        thr, new_tables, new_intercept = fine_tune(
            X, y, 3, split_dims, thresholds, tables * 1e6, intercept, **FAST
        )
    assert np.isfinite(new_tables).all() and np.isfinite(new_intercept).all()
    assert_array_equal(np.isinf(thr), np.isinf(thresholds))


def test_reads_only_the_split_columns():
    # Memory beyond X stays far below even a float32 copy of it (16 MB):
    # the columns' statistics, read in chunks of rows, take about 5 MB.
    rng = np.random.default_rng(4)
    X = rng.random((10000, 400), dtype=np.float32)
    split_dims = rng.integers(0, 400, size=(8, 4))
    thresholds = _random_thresholds(rng, 8) * 0.1 + 0.5
    y = rng.integers(0, 10, len(X))
    tracemalloc.start()
    fine_tune(X, y, 10, split_dims, thresholds, np.zeros((10, 8, 16)), np.zeros(10),
              n_epochs_soft=1, n_epochs_hard=0, batch_size=256)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 8e6


def test_verbose_prints_each_epoch(task, capsys):
    _fit(task, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 6
    assert "epoch 1/6 (soft" in lines[0] and "epoch 6/6 (hard" in lines[-1]


@pytest.mark.parametrize(
    "change, match",
    [
        (dict(X=np.zeros((0, 8), dtype=np.float32)), "non-empty"),
        (dict(X=np.zeros((10, 8), dtype=np.int64)), "float32 or float64"),
        (dict(split_dims=np.array([[0, 1, 2, 3], [4, 5, 6, 8]])), "columns of X"),
        (dict(thresholds=np.zeros((2, 4, 4))), r"\(n_codebooks, 4, 8\)"),
        (dict(tables=np.zeros((2, 2, 16))), "tables must have shape"),
        (dict(intercept=np.zeros(1)), "intercept"),
        (dict(class_indices=np.full(3000, 3)), "class_indices"),
        (dict(sample_weight=-np.ones(3000)), "sample_weight"),
        (dict(sample_weight=np.zeros(3000)), "not all zero"),
        (dict(nan=True), "NaN or infinity"),
        (dict(tau_end=0.5), "tau_end <= tau_start"),
        (dict(batch_size=0), "batch_size"),
    ],
)
def test_bad_input(task, change, match):
    X, y, split_dims, thresholds, tables, intercept = task
    args = dict(X=X, class_indices=y, split_dims=split_dims, thresholds=thresholds,
                tables=tables, intercept=intercept)
    options = {}
    for key, value in change.items():
        if key in args:
            args[key] = value
        elif key == "nan":
            args["X"] = X.copy()
            args["X"][5, 4] = np.nan
        else:
            options[key] = value
    if len(args["X"]) != len(X) and "class_indices" not in change:
        args["class_indices"] = y[: len(args["X"])]
    with pytest.raises(ValueError, match=match):
        fine_tune(args["X"], args["class_indices"], 3, args["split_dims"],
                  args["thresholds"], args["tables"], args["intercept"],
                  **{**FAST, **options})
