"""The compiled split search must return what the NumPy reference returns.

``split_level`` scores every bucket of a tree level at once; its oracle is
``optimal_split_sorted`` called on each bucket's rows. Thresholds are values
of the data or midpoints of two of them, so they must agree exactly whenever
both pick the same cut. The losses are sums of squares whose rounding depends
on the order of the additions: where the data make every sum exact (integer
targets, buckets of a power-of-two size), the kernel must agree to the bit;
elsewhere to a relative 1e-9 of the bucket's SSE, the accuracy the search
promises (tests/test_reference.py), and to the bit again where NumPy adds in
the order the kernel follows (x86-64).
"""

import numpy as np
import pytest

from sklearn_amm._hash_tree import (
    _candidate_dims,
    _stable_argsort,
    learn_hash_tree,
    product_targets,
)
from sklearn_amm._kernels._split import split_level
from sklearn_amm._split_search import optimal_split_sorted


def _kernel_splits(values, targets, nodes, n_nodes):
    """Thresholds and losses of every bucket, from one call of the kernel."""
    thresholds = np.full(n_nodes, np.nan)
    losses = np.full(n_nodes, np.nan)
    sorted_rows = np.argsort(values, kind="stable")
    split_level(
        values, np.ascontiguousarray(targets), sorted_rows, nodes, thresholds, losses
    )
    return thresholds, losses


def _reference_splits(values, targets, nodes, n_nodes):
    """The same, bucket by bucket, with the NumPy reference."""
    sorted_rows = np.argsort(values, kind="stable")
    splits = []
    for node in range(n_nodes):
        rows = sorted_rows[nodes[sorted_rows] == node]
        splits.append(optimal_split_sorted(values[rows], targets[rows]))
    thresholds, losses = np.array(splits).T
    return thresholds, losses


def _bucket_sse(targets, nodes, n_nodes):
    return np.array(
        [
            ((t - t.mean(axis=0)) ** 2).sum() if len(t) else 0.0
            for t in (targets[nodes == node] for node in range(n_nodes))
        ]
    )


def _dyadic_problem(rng, n_targets, values_kind):
    """Eight buckets of 0, 1, 2, 4, ..., 64 rows with small integer targets.

    Bucket means are then multiples of 1/64, and every sum the search forms
    (centred values, prefix sums, their squares and their totals) is exact in
    float64, in any order. Gains that tie, tie exactly.
    """
    sizes = [0, 1, 2, 4, 8, 16, 32, 64]
    nodes = rng.permutation(np.repeat(np.arange(8), sizes)).astype(np.intp)
    n_samples = len(nodes)
    targets = rng.integers(-8, 9, size=(n_samples, n_targets)).astype(np.float64)
    if values_kind == "distinct":
        values = rng.permutation(n_samples) * 0.75 - 20.0
    elif values_kind == "ties":
        values = rng.integers(0, 4, size=n_samples).astype(np.float64)
    else:
        values = np.full(n_samples, 2.5)
    return values, targets, nodes


@pytest.mark.parametrize("n_targets", [0, 1, 2, 3, 8, 9, 33])
@pytest.mark.parametrize("values_kind", ["distinct", "ties", "constant"])
@pytest.mark.parametrize("seed", range(3))
def test_split_level_equals_reference_bit_for_bit_on_exact_data(
    n_targets, values_kind, seed
):
    rng = np.random.default_rng(seed)
    values, targets, nodes = _dyadic_problem(rng, n_targets, values_kind)
    thresholds, losses = _kernel_splits(values, targets, nodes, 8)
    expected_thresholds, expected_losses = _reference_splits(values, targets, nodes, 8)

    np.testing.assert_array_equal(thresholds, expected_thresholds)
    np.testing.assert_array_equal(losses, expected_losses)
    # The empty and the one-row bucket cannot be split and lose nothing.
    for size in (0, 1):
        node = np.flatnonzero(np.bincount(nodes, minlength=8) == size)[0]
        assert (thresholds[node], losses[node]) == (np.inf, 0.0)
    if values_kind == "constant":
        assert np.all(np.isinf(thresholds))


@pytest.mark.parametrize("n_targets", [1, 2, 7, 32, 300])
@pytest.mark.parametrize("values_kind", ["continuous", "ties"])
@pytest.mark.parametrize(
    "scale, offset", [(1.0, 0.0), (1e-100, 0.0), (1e100, 0.0), (1.0, 1e8)]
)
def test_split_level_matches_reference_on_random_data(
    n_targets, values_kind, scale, offset
):
    # Continuous targets: two gains equal to within rounding would take a
    # coincidence, so both searches pick the same cut and the thresholds are
    # equal; the losses differ by the rounding of the sums. 300 targets
    # over about 50 rows per bucket go past einsum's chunk of 8192 values.
    rng = np.random.default_rng(n_targets)
    n_samples, n_nodes = 200, 5
    nodes = rng.integers(0, n_nodes, size=n_samples).astype(np.intp)
    nodes[:2] = [3, 3]  # bucket 3 has at least two rows
    nodes[nodes == 4] = 3  # bucket 4 is empty
    values = rng.normal(size=n_samples) * scale
    if values_kind == "ties":
        values = np.round(values / scale * 2) * scale
    targets = offset + scale * (
        rng.normal(size=(n_samples, n_targets))
        @ rng.normal(size=(n_targets, n_targets))
    )
    thresholds, losses = _kernel_splits(values, targets, nodes, n_nodes)
    expected_thresholds, expected_losses = _reference_splits(
        values, targets, nodes, n_nodes
    )

    np.testing.assert_array_equal(thresholds, expected_thresholds)
    sse = _bucket_sse(targets, nodes, n_nodes)
    np.testing.assert_array_less(np.abs(losses - expected_losses), 1e-9 * sse + 1e-300)
    assert np.all(np.isfinite(thresholds[:4])) and thresholds[4] == np.inf


def _sum_squares_in_kernel_order(x):
    """``sum(x**2)`` in the order the kernel adds it (see ``_split.pyx``).

    Chunks of 8192 values; in each, two lanes take blocks of eight values
    last pair first, then the rest in pairs.
    """
    total = 0.0
    for start in range(0, len(x), 8192):
        squares = x[start : start + 8192] ** 2
        lanes = [0.0, 0.0]
        n_whole = len(squares) // 8 * 8
        for block in squares[:n_whole].reshape(-1, 4, 2):
            for lane in (0, 1):
                lanes[lane] = block[0, lane] + (
                    block[1, lane] + (block[2, lane] + (block[3, lane] + lanes[lane]))
                )
        for i, square in enumerate(squares[n_whole:]):
            lanes[i % 2] = square + lanes[i % 2]
        total = total + (lanes[0] + lanes[1])
    return total


def _numpy_sums_in_kernel_order():
    """Whether this NumPy's einsum adds squares as the kernel does."""
    rng = np.random.default_rng(0)
    for shape in [(3, 7), (20, 33), (700, 13)]:
        P = rng.normal(size=shape)
        if np.einsum("ij,ij->", P, P) != _sum_squares_in_kernel_order(P.ravel()):
            return False
        if any(
            np.einsum("ij,ij->i", P, P) != [_sum_squares_in_kernel_order(p) for p in P]
        ):
            return False
    return True


@pytest.mark.skipif(
    not _numpy_sums_in_kernel_order(),
    reason="NumPy's einsum adds in another order here (another SIMD width, or FMA)",
)
@pytest.mark.parametrize("n_targets", [1, 2, 9, 32, 300])
@pytest.mark.parametrize("values_kind", ["continuous", "ties"])
def test_split_level_is_numpy_to_the_bit(n_targets, values_kind):
    # Where NumPy adds in the kernel's order (x86-64), every sum is the same,
    # so even ties that only rounding breaks are broken alike, and learned
    # trees do not depend on which search ran. Buckets of 3 to 1500 rows take
    # one target's mean through every branch of NumPy's pairwise sum; 300
    # targets over 50 rows take the total SSE past einsum's chunk of 8192.
    rng = np.random.default_rng(n_targets)
    sizes = (
        [1500, 900, 400, 100, 37] + [7, 6, 5, 4, 3] * 4 if n_targets < 300 else [50, 50]
    )
    n_nodes = len(sizes)
    nodes = rng.permutation(np.repeat(np.arange(n_nodes), sizes)).astype(np.intp)
    n_samples = len(nodes)
    values = rng.normal(size=n_samples)
    if values_kind == "ties":
        values = np.round(values * 4)
    targets = (
        rng.normal(size=(n_samples, n_targets)) * 10.0 ** rng.uniform(-2, 2, n_targets)
        + 3.0
    )
    thresholds, losses = _kernel_splits(values, targets, nodes, n_nodes)
    expected_thresholds, expected_losses = _reference_splits(
        values, targets, nodes, n_nodes
    )

    np.testing.assert_array_equal(thresholds, expected_thresholds)
    np.testing.assert_array_equal(losses, expected_losses)


def test_split_level_two_rows_and_adjacent_floats():
    # Bucket 0: two rows one ulp apart, whose midpoint rounds up (to the
    # even mantissa), so the threshold is the lower value. Bucket 1: two
    # equal values, no split. Bucket 2: two rows 1e-310 apart around zero
    # (subnormal values).
    lower = np.nextafter(1.0, 2.0)
    assert lower + (np.nextafter(lower, 2.0) - lower) / 2 > lower
    values = np.array([np.nextafter(lower, 2.0), lower, 4.0, 4.0, -1e-310, 1e-310])
    targets = np.array(
        [[1.0, 5.0], [3.0, -5.0], [1.0, 5.0], [1.0, -5.0], [0.0, 0.0], [2.0, 2.0]]
    )
    nodes = np.array([0, 0, 1, 1, 2, 2], dtype=np.intp)
    thresholds, losses = _kernel_splits(values, targets, nodes, 3)

    np.testing.assert_array_equal(thresholds, [lower, np.inf, 0.0])
    np.testing.assert_array_equal(losses, [0.0, 50.0, 0.0])
    np.testing.assert_array_equal(
        (thresholds, losses), _reference_splits(values, targets, nodes, 3)
    )


def test_split_level_perfect_splits_lose_nothing():
    # Two rows per bucket: the split isolates each, so the loss is the total
    # SSE minus an equal gain, which rounding can leave a few ulps below
    # zero. The search clamps it, as the reference does.
    rng = np.random.default_rng(0)
    n_nodes = 500
    values = rng.normal(size=2 * n_nodes)
    targets = rng.normal(size=(2 * n_nodes, 3)) * 10.0 ** rng.uniform(
        -3, 3, size=(2 * n_nodes, 1)
    )
    nodes = np.repeat(np.arange(n_nodes), 2).astype(np.intp)
    thresholds, losses = _kernel_splits(values, targets, nodes, n_nodes)
    assert np.all(losses >= 0.0)
    np.testing.assert_array_less(losses, 1e-12 * _bucket_sse(targets, nodes, n_nodes))
    np.testing.assert_array_equal(
        thresholds, _reference_splits(values, targets, nodes, n_nodes)[0]
    )


def test_split_level_first_of_tied_cuts_wins():
    # Symmetric targets: the cut after the first row and the cut before the
    # last have the same gain exactly; argmax (and the kernel) take the first.
    values = np.array([0.0, 1.0, 2.0, 3.0])
    targets = np.array([[4.0], [0.0], [0.0], [-4.0]])
    nodes = np.zeros(4, dtype=np.intp)
    thresholds, losses = _kernel_splits(values, targets, nodes, 1)
    # The last cut would give 2.5. Either leaves {0, 0, -4} or {4, 0, 0}, of
    # SSE 2 * (4/3)**2 + (8/3)**2 = 32/3, next to a single row.
    assert thresholds[0] == 0.5
    assert losses[0] == pytest.approx(32.0 / 3.0, rel=1e-12)
    np.testing.assert_array_equal(
        (thresholds, losses), _reference_splits(values, targets, nodes, 1)
    )


def test_split_level_rejects_inconsistent_buffers():
    values = np.arange(4.0)
    targets = np.ones((4, 2))
    rows = np.arange(4, dtype=np.intp)
    nodes = np.zeros(4, dtype=np.intp)
    out = np.empty(2), np.empty(2)
    with pytest.raises(ValueError, match="must have 4 entries"):
        split_level(values[:3], targets, rows, nodes, *out)
    with pytest.raises(ValueError, match="losses must have"):
        split_level(values, targets, rows, nodes, out[0], np.empty(3))
    with pytest.raises(ValueError, match=r"sorted_rows\[2\] = 7 is not a row"):
        split_level(values, targets, np.array([0, 1, 7, 3]), nodes, *out)
    with pytest.raises(ValueError, match=r"sorted_rows\[0\] = 0 .* node"):
        split_level(values, targets, rows, np.array([2, 0, 0, 0]), *out)
    with pytest.raises(ValueError, match="empty"):
        split_level(values, targets, rows, nodes, np.empty(0), np.empty(0))


@pytest.mark.parametrize(
    "kind", ["distinct", "ties", "few ties", "constant", "nan", "nan and ties", "empty"]
)
def test_stable_argsort_is_numpy_stable_argsort(kind):
    rng = np.random.default_rng(0)
    values = rng.normal(size=1000)
    if kind == "ties":
        values = np.round(values)
    elif kind == "few ties":
        values[::100] = values[1]
    elif kind == "constant":
        values[:] = -2.0
    elif kind == "nan":
        values[::7] = np.nan
    elif kind == "nan and ties":
        values[::7] = np.nan
        values[::11] = 0.5
    elif kind == "empty":
        values = values[:0]
    np.testing.assert_array_equal(
        _stable_argsort(values), np.argsort(values, kind="stable")
    )


def _numpy_hash_tree(X_block, targets, column_weights=None):
    """The tree learner with the per-bucket NumPy search: the kernel's oracle in situ."""
    nodes = np.zeros(len(X_block), dtype=np.intp)
    split_dims, all_thresholds = [], []
    for level in range(4):
        buckets = [X_block[nodes == node] for node in range(2**level)]
        best_loss = np.inf
        for dim in _candidate_dims(buckets, 4, column_weights):
            rows = np.argsort(X_block[:, dim], kind="stable")
            splits = [
                optimal_split_sorted(X_block[rows_b, dim], targets[rows_b])
                for rows_b in (rows[nodes[rows] == node] for node in range(2**level))
            ]
            loss = sum(loss for _, loss in splits)
            if loss < best_loss:
                best_loss, best_dim = loss, dim
                best_thresholds = np.array([threshold for threshold, _ in splits])
        split_dims.append(best_dim)
        all_thresholds.append(best_thresholds)
        nodes = 2 * nodes + (X_block[:, best_dim] > best_thresholds[nodes])
    return split_dims, all_thresholds, nodes


@pytest.mark.parametrize("objective", ["reconstruction", "product", "one-target"])
def test_learned_tree_equals_tree_of_numpy_search(objective):
    rng = np.random.default_rng(3)
    X_block = rng.normal(size=(3000, 6)) @ rng.normal(size=(6, 6))
    X_block[:, 2] = np.round(X_block[:, 2])  # ties in one column
    column_weights = None
    if objective == "reconstruction":
        targets = X_block
    elif objective == "product":
        targets, column_weights = product_targets(X_block, rng.normal(size=(6, 20)))
    else:
        targets = X_block @ rng.normal(size=(6, 1))
    expected_dims, expected_thresholds, expected_leaves = _numpy_hash_tree(
        X_block, targets, column_weights
    )
    split_dims, thresholds, leaves = learn_hash_tree(
        X_block, 4, targets, column_weights
    )

    np.testing.assert_array_equal(split_dims, expected_dims)
    for level in range(4):
        np.testing.assert_array_equal(
            thresholds[level, : 2**level], expected_thresholds[level]
        )
    np.testing.assert_array_equal(leaves, expected_leaves)
