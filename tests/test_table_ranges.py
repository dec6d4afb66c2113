"""Quantization ranges chosen for the rows that read the tables.

A table entry read by one training row in fifty thousand should not set
the 8-bit step of every table of its output: ``quantize_tables`` with
``leaf_counts`` chooses each output's scale and offsets to minimise the
expected squared error over the training rows (clipping of rarely read
extreme entries against finer steps for all the others).
"""

import numpy as np
import pytest

from sklearn_amm._tables import ROUNDING_VARIANCE, quantize_tables, robust_ranges


def _dequantize(quantized, offsets, scale):
    return quantized / scale[:, None, None] + offsets[:, :, None]


def _row_weighted_mse(tables, approx, counts):
    return float((((tables - approx) ** 2) * counts).sum() / counts.sum())


def _outlier_tables(rng, n_outputs=3, n_codebooks=8):
    # Typical entries of spread about 1, read by many rows; one leaf of
    # codebook 0 read by a single row has entries a hundred times larger,
    # as a rare pixel does after standardization.
    tables = rng.normal(size=(n_outputs, n_codebooks, 16))
    tables[:, 0, 5] = 150.0 * rng.choice([-1.0, 1.0], size=n_outputs)
    counts = rng.integers(200, 5000, size=(n_codebooks, 16)).astype(np.float64)
    counts[0, 5] = 1.0
    return tables, counts


@pytest.mark.parametrize("aggregation", ["sum", "average"])
def test_rare_extreme_entry_no_longer_sets_the_step(aggregation):
    rng = np.random.default_rng(0)
    tables, counts = _outlier_tables(rng)
    variance = ROUNDING_VARIANCE[aggregation]
    old = quantize_tables(tables, per_output=True)
    new = quantize_tables(
        tables, per_output=True, leaf_counts=counts, rounding_variance=variance
    )

    def expected_error(quantized, offsets, scale):
        # What a row's product suffers per codebook: the entry's own error
        # (clipping and rounding) plus the aggregation's rounding noise.
        entries = _row_weighted_mse(tables, _dequantize(quantized, offsets, scale), counts)
        noise = (variance - 1 / 12) * np.mean(1 / scale**2)
        return entries + noise

    assert expected_error(*new) < expected_error(*old)
    assert np.all(new[2] > old[2])
    if aggregation == "average":
        # Averaging's rounding noise weighs the step most: the chosen step
        # is many times finer and the error less than half.
        assert expected_error(*new) < expected_error(*old) / 2
        assert np.all(new[2] > 10 * old[2])


def test_without_counts_nothing_changes():
    rng = np.random.default_rng(1)
    tables, _ = _outlier_tables(rng)
    quantized, offsets, scale = quantize_tables(tables, per_output=True)
    lows = tables.min(axis=2)
    np.testing.assert_array_equal(offsets, lows)
    np.testing.assert_allclose(scale, 255 / (tables.max(axis=2) - lows).max(axis=1))
    assert quantized.max() == 255


def test_uniform_counts_and_no_outlier_keep_the_full_range():
    # With no rare extreme entry, clipping only loses: the full range wins.
    rng = np.random.default_rng(2)
    tables = rng.uniform(-1, 1, size=(2, 4, 16))
    counts = np.full((4, 16), 1000.0)
    _, offsets, scale = quantize_tables(tables, per_output=True)
    _, robust_offsets, robust_scale = quantize_tables(
        tables, per_output=True, leaf_counts=counts
    )
    np.testing.assert_allclose(robust_scale, scale)
    np.testing.assert_allclose(robust_offsets, offsets)


@pytest.mark.parametrize("aggregation", ["sum", "average"])
def test_chosen_range_beats_every_gap_on_the_grid(aggregation):
    # robust_ranges minimises clipping SSE + rounding noise: no gap on its
    # grid with the max-range offsets does better under that same cost.
    rng = np.random.default_rng(3)
    tables, counts = _outlier_tables(rng, n_outputs=2, n_codebooks=4)
    lows, highs = tables.min(axis=2), tables.max(axis=2)
    variance = ROUNDING_VARIANCE[aggregation]
    offsets, gaps = robust_ranges(tables, counts, lows, highs, variance)
    n_rows = counts.sum() / counts.shape[0]

    def cost(offset, gap):
        below = np.maximum(offset[:, None] - tables_o, 0.0)
        above = np.maximum(tables_o - (offset + gap)[:, None], 0.0)
        clipping = ((below**2 + above**2) * counts).sum()
        return clipping + n_rows * counts.shape[0] * variance * (gap / 255) ** 2

    for output in range(2):
        tables_o = tables[output]
        best = cost(offsets[output], gaps[output])
        full = (highs[output] - lows[output]).max()
        for fraction in np.geomspace(1.0, 0.01, 24):
            assert best <= cost(lows[output], full * fraction) * (1 + 1e-9)


def test_unreachable_leaves_are_ignored():
    rng = np.random.default_rng(4)
    tables, counts = _outlier_tables(rng)
    reachable = np.ones(counts.shape, dtype=bool)
    reachable[0, 5] = False
    counts_masked = counts.copy()
    quantized, _, _ = quantize_tables(
        tables, per_output=True, reachable=reachable, leaf_counts=counts_masked
    )
    assert np.all(quantized[:, 0, 5] == 0)


def test_rare_standardized_values_keep_the_typical_rows_resolved():
    # Columns that are zero except in a few rows (a border pixel) become
    # huge in those rows once standardized, and a model weighs them heavily:
    # leaves of one or two training rows then hold extreme table entries.
    # Scaling each output to its widest table left the typical rows a few
    # 8-bit steps (normalized error 2.2 against 0.05 with float tables);
    # weighing entries by the rows that read them brings it under 0.5.
    from sklearn.preprocessing import StandardScaler

    from sklearn_amm import MaddnessTransformer

    rng = np.random.default_rng(0)
    n_rows, n_features, n_rare = 12000, 64, 16
    X = rng.normal(size=(n_rows, 8)) @ rng.normal(size=(8, n_features))
    X[:, :n_rare] = (rng.random((n_rows, n_rare)) < 0.0005) * rng.uniform(
        1, 2, size=(n_rows, n_rare)
    )
    typical = (X[10000:, :n_rare] == 0).all(axis=1)
    X = StandardScaler().fit_transform(X)
    W = rng.normal(size=(n_features, 5))
    W[:n_rare] *= 4
    amm = MaddnessTransformer(W, n_codebooks=16).fit(X[:10000])
    X_test = X[10000:][typical]
    Y = X_test @ W
    nmse = np.mean((amm.transform(X_test) - Y) ** 2) / Y.var()
    assert nmse < 0.6
