"""The split search with row weights: its reference, and the compiled search.

A weight ``k`` must count as ``k`` copies of the row, and the compiled
search must return what the reference returns: to the bit where NumPy adds
a row's squares in the kernel's order (x86-64; see test_split_kernel.py),
the thresholds always.
"""

import numpy as np
import pytest

from sklearn_amm._kernels._split import level_column_sse, split_level
from sklearn_amm._split_search import optimal_split, optimal_split_sorted


def _sum_squares_in_kernel_order(x):
    """``sum(x**2)`` for up to 8192 values, in the kernel's order: two lanes
    take blocks of eight values last pair first, then the rest in pairs."""
    squares = x**2
    lanes = [0.0, 0.0]
    n_whole = len(squares) // 8 * 8
    for block in squares[:n_whole].reshape(-1, 4, 2):
        for lane in (0, 1):
            lanes[lane] = block[0, lane] + (
                block[1, lane] + (block[2, lane] + (block[3, lane] + lanes[lane]))
            )
    for i, square in enumerate(squares[n_whole:]):
        lanes[i % 2] = square + lanes[i % 2]
    return lanes[0] + lanes[1]


def _numpy_row_sums_in_kernel_order():
    rng = np.random.default_rng(0)
    for shape in [(3, 7), (20, 33), (50, 300)]:
        P = rng.normal(size=shape)
        if any(
            np.einsum("ij,ij->i", P, P) != [_sum_squares_in_kernel_order(p) for p in P]
        ):
            return False
    return True


def _kernel_splits(values, targets, nodes, n_nodes, weights):
    thresholds = np.full(n_nodes, np.nan)
    losses = np.full(n_nodes, np.nan)
    sorted_rows = np.argsort(values, kind="stable")
    split_level(
        values,
        np.ascontiguousarray(targets),
        sorted_rows,
        nodes,
        thresholds,
        losses,
        weights,
    )
    return thresholds, losses


def _reference_splits(values, targets, nodes, n_nodes, weights):
    sorted_rows = np.argsort(values, kind="stable")
    splits = []
    for node in range(n_nodes):
        rows = sorted_rows[nodes[sorted_rows] == node]
        splits.append(optimal_split_sorted(values[rows], targets[rows], weights[rows]))
    thresholds, losses = np.array(splits).T
    return thresholds, losses


def _problem(seed, n_targets, values_kind, weights_kind):
    rng = np.random.default_rng(seed)
    sizes = [0, 1, 2, 3, 7, 40, 300, 1200]
    nodes = rng.permutation(np.repeat(np.arange(8), sizes)).astype(np.intp)
    n_samples = len(nodes)
    values = rng.normal(size=n_samples)
    if values_kind == "ties":
        values = np.round(values * 3)
    targets = (
        rng.normal(size=(n_samples, n_targets)) * 10.0 ** rng.uniform(-2, 2, n_targets)
        + 3.0
    )
    if weights_kind == "integers":
        weights = rng.integers(1, 6, size=n_samples).astype(np.float64)
    else:
        weights = rng.exponential(size=n_samples) * 10.0 ** rng.uniform(-3, 3)
    return values, targets, nodes, weights


@pytest.mark.parametrize("n_targets", [0, 1, 2, 9, 32, 300])
@pytest.mark.parametrize("values_kind", ["continuous", "ties"])
@pytest.mark.parametrize("weights_kind", ["integers", "continuous"])
def test_weighted_kernel_returns_the_reference_thresholds(
    n_targets, values_kind, weights_kind
):
    values, targets, nodes, weights = _problem(
        n_targets, n_targets, values_kind, weights_kind
    )
    thresholds, losses = _kernel_splits(values, targets, nodes, 8, weights)
    expected_thresholds, expected_losses = _reference_splits(
        values, targets, nodes, 8, weights
    )

    np.testing.assert_array_equal(thresholds, expected_thresholds)
    np.testing.assert_allclose(losses, expected_losses, rtol=1e-9, atol=1e-300)
    # The empty and the one-row bucket cannot be split and lose nothing.
    assert (thresholds[0], losses[0]) == (np.inf, 0.0)
    assert (thresholds[1], losses[1]) == (np.inf, 0.0)


@pytest.mark.skipif(
    not _numpy_row_sums_in_kernel_order(),
    reason="NumPy's einsum adds in another order here (another SIMD width, or FMA)",
)
@pytest.mark.parametrize("n_targets", [0, 1, 2, 9, 32, 300])
@pytest.mark.parametrize("values_kind", ["continuous", "ties"])
@pytest.mark.parametrize("weights_kind", ["integers", "continuous"])
def test_weighted_kernel_is_the_reference_to_the_bit(
    n_targets, values_kind, weights_kind
):
    values, targets, nodes, weights = _problem(
        n_targets, n_targets, values_kind, weights_kind
    )
    np.testing.assert_array_equal(
        _kernel_splits(values, targets, nodes, 8, weights),
        _reference_splits(values, targets, nodes, 8, weights),
    )


@pytest.mark.parametrize("seed", range(5))
def test_integer_weights_split_as_repeated_rows(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(60, 3))
    X[:, 1] = np.round(X[:, 1])  # ties
    counts = rng.integers(1, 5, size=60)
    repeated = np.repeat(X, counts, axis=0)
    for dim in range(3):
        threshold, loss = optimal_split(X, dim, counts.astype(np.float64))
        expected_threshold, expected_loss = optimal_split(repeated, dim)
        assert threshold == expected_threshold
        assert loss == pytest.approx(expected_loss, rel=1e-10)


def test_unit_weights_split_as_no_weights():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    for dim in range(4):
        threshold, loss = optimal_split(X, dim, np.ones(200))
        expected_threshold, expected_loss = optimal_split(X, dim)
        assert threshold == expected_threshold
        assert loss == pytest.approx(expected_loss, rel=1e-12)


def test_a_light_right_child_keeps_its_weight():
    # The last row weighs 1e-17 next to 1: as total - left, its weight would
    # round to zero and its cut would score an infinite gain. Summed from the
    # end it is exact, and isolating that row gains almost nothing.
    values = np.array([0.0, 1.0, 2.0, 3.0])
    targets = np.array([[0.0], [1.0], [0.0], [1.0]])
    weights = np.array([1.0, 1.0, 1.0, 1e-17])
    threshold, loss = optimal_split_sorted(values, targets, weights)
    assert np.isfinite(loss)
    assert threshold in (0.5, 1.5)
    kernel = _kernel_splits(values, targets, np.zeros(4, dtype=np.intp), 1, weights)
    assert kernel[0][0] == threshold


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan, np.inf])
def test_search_rejects_weights_that_are_not_positive_and_finite(bad):
    values = np.arange(4.0)
    targets = np.ones((4, 2))
    weights = np.array([1.0, bad, 1.0, 1.0])
    with pytest.raises(ValueError, match="positive, finite"):
        optimal_split_sorted(values, targets, weights)
    with pytest.raises(ValueError, match=r"sample_weight\[1\]"):
        _kernel_splits(values, targets, np.zeros(4, dtype=np.intp), 1, weights)
    with pytest.raises(ValueError, match="4 entries"):
        _kernel_splits(values, targets, np.zeros(4, dtype=np.intp), 1, np.ones(3))


@pytest.mark.parametrize("weighted", [False, True])
def test_level_column_sse_is_the_sse_around_node_means(weighted):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 6)) * [1, 10, 0.1, 1, 1, 1] + 1e4
    nodes = rng.integers(0, 5, size=500).astype(np.intp)
    nodes[nodes == 3] = 4  # node 3 is empty
    weights = rng.exponential(size=500) if weighted else np.ones(500)
    expected = np.zeros(6)
    for node in range(5):
        rows = nodes == node
        if rows.any():
            mean = np.average(X[rows], axis=0, weights=weights[rows])
            expected += (weights[rows, None] * (X[rows] - mean) ** 2).sum(axis=0)
    column_sse = level_column_sse(X, nodes, 5, weights if weighted else None)
    np.testing.assert_allclose(column_sse, expected, rtol=1e-9)


def test_level_column_sse_rejects_bad_nodes():
    X = np.ones((4, 2))
    with pytest.raises(ValueError, match=r"nodes\[2\] = 7"):
        level_column_sse(X, np.array([0, 1, 7, 0]), 2)
    with pytest.raises(ValueError, match="4 entries"):
        level_column_sse(X, np.zeros(3, dtype=np.intp), 1)
    with pytest.raises(ValueError, match="sample_weight"):
        level_column_sse(X, np.zeros(4, dtype=np.intp), 1, np.ones(5))
