"""The learning, table and reference modules, checked against known answers.

Grouped by step of the method; each group checks a property that holds by
construction (block widths, optimal splits, exact ridge solutions, exactly
representable data, ...) on small inputs whose answer is known without
running the code under test.
"""

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from sklearn_amm import MaddnessTransformer, _reference
from sklearn_amm._blocks import codebook_bounds
from sklearn_amm._encoding import thresholds_for_dtype
from sklearn_amm._hash_tree import _candidate_dims, learn_hash_tree, tree_sse
from sklearn_amm._prototypes import bucket_means, one_hot_codes, ridge_refit
from sklearn_amm._split_search import optimal_split, split_threshold
from sklearn_amm._tables import build_tables, quantize_tables


def _sse(rows):
    """Within-group SSE summed over all columns, computed directly."""
    if len(rows) == 0:
        return 0.0
    return float(((rows - rows.mean(axis=0)) ** 2).sum())


def _brute_force_split(X, dim):
    """O(n^2) search over every cut between two distinct values of ``X[:, dim]``.

    Returns the smallest loss and, for that cut, the two values it separates
    and the rows that go right. With fewer than two distinct values nothing
    can be cut: the loss is the bucket's SSE and no row goes right.
    """
    values = np.unique(X[:, dim])
    best = (_sse(X), None, None, np.zeros(len(X), dtype=bool))
    for lower, upper in zip(values[:-1], values[1:]):
        right = X[:, dim] > lower
        loss = _sse(X[~right]) + _sse(X[right])
        if best[1] is None or loss < best[0]:
            best = (loss, lower, upper, right)
    return best


def _nmse(Y, Y_hat):
    return float(np.mean((Y - Y_hat) ** 2) / np.var(Y))


# ---------------------------------------------------------------------------
# Codebook blocks


@pytest.mark.parametrize(
    "n_features, n_codebooks", [(27, 16), (7, 3), (16, 4), (5, 5), (1, 1), (100, 7)]
)
def test_codebook_bounds_cover_features_contiguously(n_features, n_codebooks):
    bounds = codebook_bounds(n_features, n_codebooks)
    widths = np.diff(bounds)

    assert bounds[0] == 0 and bounds[-1] == n_features
    assert len(widths) == n_codebooks
    assert widths.min() >= 1
    assert widths.max() - widths.min() <= 1
    # Wider blocks first: the widths never increase.
    assert np.all(np.diff(widths) <= 0)


def test_codebook_bounds_of_a_3x3_rgb_patch():
    # The paper's 3x3 RGB filters: D=27 split in C=16 blocks as evenly as
    # possible, wider first, is 11 blocks of width 2, then 5 of width 1.
    widths = np.diff(codebook_bounds(27, 16))
    np.testing.assert_array_equal(widths, [2] * 11 + [1] * 5)
    np.testing.assert_array_equal(codebook_bounds(7, 3), [0, 3, 5, 7])


@pytest.mark.parametrize("n_codebooks", [0, -1, 28])
def test_codebook_bounds_rejects_invalid_n_codebooks(n_codebooks):
    with pytest.raises(ValueError, match="n_codebooks must be in"):
        codebook_bounds(27, n_codebooks)


# ---------------------------------------------------------------------------
# Split search: the cumulative-SSE search finds the brute-force optimum


def test_optimal_split_toy():
    # Two clusters {0, 1} and {10, 11}: the cut between 1 and 10 leaves an
    # SSE of 0.5 on each side, at the midpoint 5.5.
    X = np.array([[10.0], [0.0], [11.0], [1.0]])
    threshold, loss = optimal_split(X, 0)
    assert threshold == 5.5
    assert loss == pytest.approx(1.0, rel=1e-12)


def _check_split_against_brute_force(X, dim):
    threshold, loss = optimal_split(X, dim)
    best_loss, lower, upper, _ = _brute_force_split(X, dim)
    # Both losses are float64 sums of O(n d) squares; the search subtracts a
    # gain from the total SSE, so its absolute error is a few ulps of the
    # total, far below 1e-9 of it.
    atol = 1e-9 * _sse(X)
    assert loss == pytest.approx(best_loss, rel=1e-9, abs=atol)
    # The threshold separates two adjacent distinct values, and the partition
    # it produces under the `x > t` rule has the minimal loss.
    assert lower <= threshold < upper
    right = X[:, dim] > threshold
    assert _sse(X[~right]) + _sse(X[right]) == pytest.approx(
        best_loss, rel=1e-9, abs=atol
    )
    return threshold, lower, upper


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("dim", [0, 2])
def test_optimal_split_matches_brute_force_continuous(seed, dim):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, 3)) * [1.0, 3.0, 0.5] + [0.0, 100.0, -7.0]
    threshold, lower, upper = _check_split_against_brute_force(X, dim)
    # Tie-free data: the best cut is unique, so the threshold is its midpoint.
    assert threshold == pytest.approx((lower + upper) / 2, rel=1e-15, abs=1e-15)
    _, _, _, best_right = _brute_force_split(X, dim)
    np.testing.assert_array_equal(X[:, dim] > threshold, best_right)


@pytest.mark.parametrize("seed", range(5))
def test_optimal_split_matches_brute_force_with_ties(seed):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 4, size=(60, 3)).astype(np.float64)
    for dim in range(3):
        _check_split_against_brute_force(X, dim)


def test_optimal_split_constant_column_cannot_split():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    X[:, 1] = 2.5
    threshold, loss = optimal_split(X, 1)
    assert threshold == np.inf
    # Nothing moves, so the loss is the whole bucket's SSE over all columns.
    assert loss == pytest.approx(_sse(X), rel=1e-12)


def test_optimal_split_single_row():
    assert optimal_split(np.array([[3.0, -1.0]]), 0) == (np.inf, 0.0)


def test_optimal_split_two_rows():
    threshold, loss = optimal_split(np.array([[1.0, 5.0], [3.0, -5.0]]), 0)
    assert threshold == 2.0
    assert loss == 0.0

    X_tied = np.array([[1.0, 5.0], [1.0, -5.0]])
    threshold, loss = optimal_split(X_tied, 0)
    assert threshold == np.inf
    assert loss == pytest.approx(50.0, rel=1e-12)


@pytest.mark.parametrize("lower", [1.0, -5.0, 0.0, 1e300, -3.5e-310])
def test_split_threshold_adjacent_floats_returns_lower(lower):
    # No float lies strictly between two adjacent floats, so the only valid
    # threshold with lower <= t < upper is lower itself.
    upper = np.nextafter(lower, np.inf)
    assert split_threshold(lower, upper) == lower


@pytest.mark.parametrize(
    "lower, upper", [(0.0, 1.0), (-3.0, 5.0), (1.0, 1.0 + 2**-50), (-1e308, 1e308)]
)
def test_split_threshold_lies_in_half_open_interval(lower, upper):
    threshold = split_threshold(lower, upper)
    assert lower <= threshold < upper


# ---------------------------------------------------------------------------
# Hash trees: the loss by level, and the learned buckets are the encoding


def _continuous_block(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(500, 5)) @ rng.normal(size=(5, 5))


def _tied_block(seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 4, size=(500, 4)).astype(np.float64)


def _constant_columns_block(seed=0):
    X = _continuous_block(seed)[:, :4]
    X[:, 0] = 1.0
    X[:, 2] = -3.0
    return X


BLOCKS = {
    "continuous": _continuous_block,
    "ties": _tied_block,
    "constant-columns": _constant_columns_block,
    "all-constant": lambda seed=0: np.full((50, 3), 4.0),
    "few-rows": lambda seed=0: _continuous_block(seed)[:7],
}


def test_hash_tree_toy_recovers_sixteen_values():
    # One column holding 0..15, ten times each: every level splits that
    # column at the median of each node, so the leaf id is the value itself.
    X = np.repeat(np.arange(16.0), 10)[:, None]
    split_dims, thresholds, leaves = learn_hash_tree(X)

    np.testing.assert_array_equal(split_dims, [0, 0, 0, 0])
    np.testing.assert_array_equal(thresholds[0, :1], [7.5])
    np.testing.assert_array_equal(thresholds[1, :2], [3.5, 11.5])
    np.testing.assert_array_equal(thresholds[2, :4], [1.5, 5.5, 9.5, 13.5])
    np.testing.assert_array_equal(thresholds[3], np.arange(8) * 2 + 0.5)
    # Padding past the 2**t nodes of level t is +inf.
    assert np.all(np.isinf(thresholds[0, 1:]))
    np.testing.assert_array_equal(leaves, X[:, 0])


@pytest.mark.parametrize("block", sorted(BLOCKS))
@pytest.mark.parametrize("seed", [0, 1])
def test_hash_tree_loss_never_increases_by_level(block, seed):
    X = BLOCKS[block](seed)
    _, _, leaves = learn_hash_tree(X)
    # leaves >> (4 - level) is the node each row sits in after `level` splits.
    losses = [tree_sse(X, leaves >> (4 - level)) for level in range(5)]
    # tree_sse is a sum of float64 squares; the slack covers rounding only.
    slack = 1e-9 * losses[0]
    assert all(b <= a + slack for a, b in zip(losses, losses[1:]))
    if block in ("continuous", "ties"):
        # Non-degenerate data: the tree must actually reduce the loss.
        assert losses[-1] < 0.5 * losses[0]


@pytest.mark.parametrize("block", sorted(BLOCKS))
@pytest.mark.parametrize("seed", [0, 1])
def test_hash_tree_leaves_equal_encoding(block, seed):
    X = BLOCKS[block](seed)
    split_dims, thresholds, leaves = learn_hash_tree(X)
    codes = _reference.encode(X, split_dims[None], thresholds[None])

    np.testing.assert_array_equal(codes[:, 0], leaves)
    assert codes.dtype == np.uint8
    assert codes.min() >= 0 and codes.max() <= 15


def test_hash_tree_with_ties_uses_many_leaves():
    # With ties, a cut between equal values would be unrealisable; the learner
    # must still find 16 leaves on 4 columns of values 0..3 (4**4 patterns).
    _, _, leaves = learn_hash_tree(_tied_block())
    assert len(np.unique(leaves)) == 16


def test_hash_tree_all_constant_block_sends_everything_left():
    X = np.full((20, 3), 4.0)
    _, thresholds, leaves = learn_hash_tree(X)
    assert np.all(np.isinf(thresholds))
    np.testing.assert_array_equal(leaves, 0)


def test_candidate_dims_are_the_largest_variance_columns():
    rng = np.random.default_rng(0)
    scales = np.array([1.0, 5.0, 0.1, 3.0, 2.0, 4.0])
    X = rng.normal(size=(1000, 6)) * scales
    candidates = _candidate_dims([X], 4)
    # Smallest SSE first, so the best column is tried first on a tie.
    np.testing.assert_array_equal(candidates, [4, 3, 5, 1])

    # With two buckets the per-column SSE is summed over the buckets.
    halves = [X[X[:, 1] <= 0], X[X[:, 1] > 0]]
    column_sse = sum(((b - b.mean(axis=0)) ** 2).sum(axis=0) for b in halves)
    expected = np.argsort(column_sse)[-4:]
    np.testing.assert_array_equal(_candidate_dims(halves, 4), expected)


def test_hash_tree_first_level_only_tries_candidate_dims():
    # All rows are driven by one sign s. Columns 0-3 carry 3 s plus heavy noise,
    # so they split the two groups imperfectly; column 4 holds 0.1 s exactly,
    # which splits them perfectly, but its variance is the smallest.
    rng = np.random.default_rng(0)
    s = rng.choice([-1.0, 1.0], size=2000)
    X = np.column_stack(
        [3 * s + 1.5 * rng.normal(size=2000) for _ in range(4)] + [0.1 * s]
    )
    split_dims_4, _, _ = learn_hash_tree(X, n_candidate_dims=4)
    split_dims_5, _, _ = learn_hash_tree(X, n_candidate_dims=5)
    assert split_dims_4[0] in (0, 1, 2, 3)
    assert split_dims_5[0] == 4


# ---------------------------------------------------------------------------
# Prototypes and the ridge refit


def _random_codes(n_samples, n_codebooks, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 16, size=(n_samples, n_codebooks)).astype(np.uint8)


def test_one_hot_codes_structure():
    codes = _random_codes(300, 3)
    G = one_hot_codes(codes)
    dense = G.toarray()

    assert G.shape == (300, 48)
    np.testing.assert_array_equal(dense.sum(axis=1), 3)
    rows = np.arange(300)
    for c in range(3):
        np.testing.assert_array_equal(dense[rows, 16 * c + codes[:, c]], 1)

    gram = (G.T @ G).toarray()
    for c in range(3):
        block = gram[16 * c : 16 * (c + 1), 16 * c : 16 * (c + 1)]
        counts = np.bincount(codes[:, c], minlength=16)
        np.testing.assert_array_equal(block, np.diag(counts))


def test_bucket_means_toy():
    # Two codebooks over 3 columns: codebook 0 owns columns 0-1, codebook 1
    # owns column 2.
    X = np.array([[1.0, 2.0, 10.0], [3.0, 4.0, 20.0], [5.0, 6.0, 30.0]])
    codes = np.array([[0, 7], [0, 7], [5, 2]], dtype=np.uint8)
    prototypes = bucket_means(X, codes, np.array([0, 2, 3]))

    expected = np.zeros((2, 16, 3))
    expected[0, 0, :2] = [2.0, 3.0]
    expected[0, 5, :2] = [5.0, 6.0]
    expected[1, 7, 2] = 15.0
    expected[1, 2, 2] = 30.0
    np.testing.assert_array_equal(prototypes, expected)


def _ridge_problem(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(400, 6)) @ rng.normal(size=(6, 6))
    bounds = codebook_bounds(6, 3)
    leaves = [learn_hash_tree(X[:, bounds[c] : bounds[c + 1]])[2] for c in range(3)]
    codes = np.column_stack(leaves).astype(np.uint8)
    return X, codes, bucket_means(X, codes, bounds)


@pytest.mark.parametrize("alpha", [1e-3, 1.0, 50.0])
def test_ridge_refit_matches_closed_form_and_sklearn(alpha):
    X, codes, P0 = _ridge_problem()
    G = one_hot_codes(codes).toarray()
    flat0 = P0.reshape(48, 6)
    residual = X - G @ flat0

    closed_form = flat0 + np.linalg.solve(G.T @ G + alpha * np.eye(48), G.T @ residual)
    ridge = Ridge(alpha=alpha, fit_intercept=False).fit(G, residual)
    from_sklearn = flat0 + ridge.coef_.T

    refit = ridge_refit(X, codes, P0, alpha=alpha).reshape(48, 6)
    # The systems are well conditioned (alpha >= 1e-3 against leaf counts of
    # tens of rows), so independent solvers agree to ~1e-12 relative.
    scale = np.abs(closed_form).max()
    np.testing.assert_allclose(refit, closed_form, rtol=0, atol=1e-9 * scale)
    np.testing.assert_allclose(refit, from_sklearn, rtol=0, atol=1e-9 * scale)


def test_ridge_refit_keeps_empty_leaves_at_their_start():
    # An empty leaf has no rows in G: the penalty alone decides, pulling it to P0.
    X, codes, P0 = _ridge_problem()
    codes[:, 0] = np.minimum(codes[:, 0], 14)  # leaf 15 of codebook 0 is now empty
    P0[0, 15] = 7.0
    refit = ridge_refit(X, codes, P0, alpha=1.0)
    np.testing.assert_allclose(refit[0, 15], 7.0, rtol=1e-12)


@pytest.mark.parametrize("alpha", [1e-3, 1.0, 100.0])
def test_ridge_refit_never_increases_training_error(alpha):
    # P minimises ||X - G P||^2 + alpha ||P - P0||^2, and P = P0 is a candidate
    # with penalty 0, so ||X - G P||^2 <= ||X - G P0||^2 for every alpha > 0
    # (not just up to alpha). Only float rounding can break it: 1e-12 relative.
    X, codes, P0 = _ridge_problem(seed=1)
    G = one_hot_codes(codes)
    before = ((X - G @ P0.reshape(48, 6)) ** 2).sum()
    after = ((X - G @ ridge_refit(X, codes, P0, alpha).reshape(48, 6)) ** 2).sum()
    assert after <= before * (1 + 1e-12)
    if alpha <= 1.0:
        # On this correlated data the refit must gain something.
        assert after < 0.99 * before


# ---------------------------------------------------------------------------
# Float tables: a sum of entries is the product of the reconstruction


@pytest.mark.parametrize("n_outputs", [1, 3])
def test_float_tables_decompose_the_product(n_outputs):
    rng = np.random.default_rng(0)
    n_codebooks, n_features = 5, 9
    P = rng.normal(size=(n_codebooks, 16, n_features))
    B = rng.normal(size=(n_features, n_outputs))
    codes = _random_codes(200, n_codebooks)

    reconstruction = sum(P[c, codes[:, c]] for c in range(n_codebooks))
    expected = reconstruction @ B
    Y_hat = _reference.aggregate_float(codes, build_tables(P, B))
    # Two orders of summing ~50 products of O(1) terms: 1e-10 relative is
    # loose against float64 rounding.
    np.testing.assert_allclose(Y_hat, expected, rtol=1e-10, atol=1e-10)


def test_identity_tables_are_the_prototypes():
    rng = np.random.default_rng(0)
    P = rng.normal(size=(3, 16, 4))
    tables = build_tables(P)
    assert tables.shape == (4, 3, 16)
    assert tables.flags.c_contiguous
    for d in range(4):
        np.testing.assert_array_equal(tables[d], P[:, :, d])


# ---------------------------------------------------------------------------
# Exactly representable data (the binary cube of conftest)


def test_binary_cube_trees_isolate_every_corner(binary_cube):
    X, _ = binary_cube
    for c in range(4):
        block = X[:, 4 * c : 4 * c + 4]
        _, _, leaves = learn_hash_tree(block)
        # 16 leaves, each holding exactly one corner.
        assert len(np.unique(leaves)) == 16
        for leaf in range(16):
            assert len(np.unique(block[leaves == leaf], axis=0)) == 1


@pytest.mark.parametrize("optimize_prototypes", [True, False])
@pytest.mark.parametrize("use_weights", [True, False])
def test_binary_cube_float_tables_are_exact(
    binary_cube, optimize_prototypes, use_weights
):
    X, B = binary_cube
    weights = B if use_weights else None
    amm = MaddnessTransformer(
        weights,
        n_codebooks=4,
        optimize_prototypes=optimize_prototypes,
        quantize_luts=False,
    ).fit(X)
    Y = X @ B if use_weights else X
    assert _nmse(Y, amm.transform(X)) < 1e-9


def test_binary_cube_quantized_average_is_close(binary_cube):
    X, B = binary_cube
    amm = MaddnessTransformer(B, n_codebooks=4).fit(X)
    # Only the uint8 rounding and the averaging tree remain (NMSE 1.7e-4
    # with the defaults).
    assert _nmse(X @ B, amm.transform(X)) < 1e-2


# ---------------------------------------------------------------------------
# Table quantization


def _random_tables(seed=0):
    rng = np.random.default_rng(seed)
    # Codebook ranges differ by up to 10x and sit at different offsets.
    spreads = np.array([1.0, 10.0, 0.5, 3.0])
    offsets = np.array([5.0, -2.0, 0.0, 100.0])
    return rng.normal(size=(3, 4, 16)) * spreads[:, None] + offsets[:, None]


@pytest.mark.parametrize("seed", range(3))
def test_quantize_tables_range_and_error(seed):
    tables = _random_tables(seed)
    q, offsets, scale = quantize_tables(tables)

    assert q.dtype == np.uint8 and q.shape == tables.shape
    np.testing.assert_array_equal(offsets, tables.min(axis=(0, 2)))
    gaps = tables.max(axis=(0, 2)) - offsets
    assert scale == pytest.approx(255.0 / gaps.max(), rel=1e-15)
    # Every codebook's minimum maps to 0, the widest one's maximum to 255.
    np.testing.assert_array_equal(q.min(axis=(0, 2)), 0)
    assert q[:, np.argmax(gaps)].max() == 255

    dequantized = q / scale + offsets[:, None]
    # Rounding to the nearest integer costs at most 0.5 quantized units; the
    # float products add a few ulps of the table magnitudes.
    slack = 1e-12 * (np.abs(tables).max() + gaps.max())
    assert np.abs(dequantized - tables).max() <= 0.5 / scale + slack


def test_quantize_tables_constant_tables():
    # gap == 0: every quantized entry is 0, the offsets are the exact values
    # and the scale is 1.
    tables = np.broadcast_to(np.array([0.0, 1.5, -2.25])[:, None], (2, 3, 16)).copy()
    q, offsets, scale = quantize_tables(tables)
    np.testing.assert_array_equal(q, 0)
    np.testing.assert_array_equal(offsets, [0.0, 1.5, -2.25])
    assert scale == 1.0

    q, offsets, scale = quantize_tables(np.zeros((1, 2, 16)))
    np.testing.assert_array_equal(q, 0)
    np.testing.assert_array_equal(offsets, 0.0)
    assert scale == 1.0


@pytest.mark.parametrize("seed", range(3))
def test_quantize_tables_per_output(seed):
    # Output 1 spans a thousandth of output 0's range: with one shared scale
    # it gets a few levels, with its own scale all 256.
    tables = _random_tables(seed)
    tables[1] *= 1e-3
    q, offsets, scale = quantize_tables(tables, per_output=True)

    assert offsets.shape == (3, 4) and scale.shape == (3,)
    np.testing.assert_array_equal(offsets, tables.min(axis=2))
    gaps = tables.max(axis=2) - offsets
    np.testing.assert_allclose(scale, 255.0 / gaps.max(axis=1), rtol=1e-15)
    for m in range(3):
        assert q[m].max() == 255
    np.testing.assert_array_equal(q.min(axis=2), 0)

    dequantized = q / scale[:, None, None] + offsets[:, :, None]
    error = np.abs(dequantized - tables).max(axis=(1, 2))
    slack = 1e-12 * (np.abs(tables).max() + gaps.max())
    assert (error <= 0.5 / scale + slack).all()
    _, _, shared_scale = quantize_tables(tables)
    assert error[1] < 0.5 / shared_scale / 100


def test_quantize_tables_ignores_unreachable_leaves():
    tables = _random_tables(0)
    reachable = np.ones((4, 16), dtype=bool)
    reachable[2, 5] = False
    tables[:, 2, 5] = 1e6  # an empty leaf's entry, never read
    q, offsets, scale = quantize_tables(tables, reachable=reachable)
    q_ref, offsets_ref, scale_ref = quantize_tables(
        np.where(reachable, tables, tables[:, :, :1])
    )
    np.testing.assert_array_equal(offsets, offsets_ref)
    assert scale == scale_ref
    np.testing.assert_array_equal(q[:, reachable], q_ref[:, reachable])
    np.testing.assert_array_equal(q[:, 2, 5], 0)


def test_dequantize_per_output_matches_one_output_at_a_time():
    rng = np.random.default_rng(0)
    totals = rng.integers(0, 4000, size=(7, 3))
    offsets = rng.normal(size=(3, 5))
    scale = np.array([2.0, 300.0, 0.5])
    bias = np.array([1.5, 1.5, 0.0])
    Y_hat = _reference.dequantize(totals, offsets, scale, bias)
    for m in range(3):
        expected = _reference.dequantize(
            totals[:, m : m + 1], offsets[m], scale[m], bias[m]
        )
        np.testing.assert_array_equal(Y_hat[:, m : m + 1], expected)


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_quantize_tables_rejects_non_finite(bad):
    tables = _random_tables()
    tables[1, 2, 3] = bad
    with pytest.raises(ValueError, match="not finite"):
        quantize_tables(tables)


# ---------------------------------------------------------------------------
# Aggregation: exact sums, averaging trees, their bias, de-quantization


def test_aggregate_sum_toy():
    rng = np.random.default_rng(0)
    tables = rng.integers(0, 256, size=(2, 3, 16)).astype(np.uint8)
    codes = np.array([[0, 15, 7], [3, 3, 3], [15, 0, 1]], dtype=np.uint8)
    expected = np.zeros((3, 2), dtype=np.int64)
    for n in range(3):
        for m in range(2):
            for c in range(3):
                expected[n, m] += int(tables[m, c, codes[n, c]])
    totals = _reference.aggregate_sum(codes, tables)
    assert totals.dtype == np.int64
    np.testing.assert_array_equal(totals, expected)


def _tables_with_rows(rows):
    """One output; row n's codebook c has entry ``rows[n][c]`` at code n."""
    rows = np.asarray(rows)
    n_samples, n_codebooks = rows.shape
    tables = np.zeros((1, n_codebooks, 16), dtype=np.uint8)
    tables[0, :, :n_samples] = rows.T
    codes = np.repeat(np.arange(n_samples, dtype=np.uint8)[:, None], n_codebooks, 1)
    return codes, tables


@pytest.mark.parametrize(
    "rows, expected",
    [
        # C = 2: 2 * ((a + b + 1) >> 1).
        ([[3, 4], [3, 5], [0, 0], [255, 255], [0, 1]], [8, 8, 0, 510, 2]),
        # C = 3, padded to 4 with a zero codebook: ((a, b), (c, 0)).
        # [1, 2, 5]: (1+2+1)>>1 = 2, (5+0+1)>>1 = 3, (2+3+1)>>1 = 3, times 4.
        # [255, 255, 255]: 255, 128, (255+128+1)>>1 = 192, times 4.
        ([[1, 2, 5], [255, 255, 255], [0, 0, 0]], [12, 768, 0]),
        # C = 4: ((a, b), (c, d)). [1, 0, 0, 0]: 1, 0, 1 -> 4.
        ([[1, 0, 0, 0], [2, 4, 6, 8]], [4, 20]),
    ],
)
def test_aggregate_average_toy(rows, expected):
    codes, tables = _tables_with_rows(rows)
    totals = _reference.aggregate_average(codes, tables)
    np.testing.assert_array_equal(totals[:, 0], expected)


def test_aggregate_average_seventeen_codebooks():
    # Groups of 16 and 1. The first group, 0 1 0 1 ..., averages to 1 at the
    # first level and stays 1: 16 * 1. The lone 17th codebook is exact.
    rows = [[0, 1] * 8 + [7], [255] * 16 + [255], [0] * 16 + [9]]
    codes, tables = _tables_with_rows(rows)
    totals = _reference.aggregate_average(codes, tables)
    np.testing.assert_array_equal(totals[:, 0], [16 + 7, 16 * 255 + 255, 9])
    assert _reference.averaging_groups(17) == ([16, 1], [16, 1])


@pytest.mark.parametrize(
    "n_codebooks, bias",
    [
        # Powers of two below 16: C/4 * log2(C).
        (1, 0.0),
        (2, 0.5),
        (4, 2.0),
        (8, 6.0),
        # Multiples of 16: C/4 * log2(16).
        (16, 16.0),
        (32, 32.0),
        (48, 48.0),
        (64, 64.0),
        # Padded groups, counting only nodes with a real entry below them:
        # C=3: level 1 has 2 such nodes (x 0.5), level 2 has 1 (x 1).
        (3, 2.0),
        # C=5 (width 8): 3 nodes x 0.5 + 2 x 1 + 1 x 2.
        (5, 5.5),
        # C=17: a full group, then a lone codebook that is never averaged.
        (17, 16.0),
        # C=24: a full group, then a group of 8.
        (24, 22.0),
    ],
)
def test_averaging_bias_values(n_codebooks, bias):
    assert _reference.averaging_bias(n_codebooks) == bias


@pytest.mark.parametrize("n_codebooks", [2, 4, 8, 16, 32, 64, 3, 5, 17, 24])
def test_averaging_bias_matches_random_tables(n_codebooks):
    # Many outputs, each with its own uniform random table, so the parity of
    # one table's 16 entries cannot skew the mean.
    rng = np.random.default_rng(n_codebooks)
    tables = rng.integers(0, 256, size=(2048, n_codebooks, 16)).astype(np.uint8)
    codes = rng.integers(0, 16, size=(64, n_codebooks)).astype(np.uint8)
    excess = _reference.aggregate_average(codes, tables) - _reference.aggregate_sum(
        codes, tables
    )
    standard_error = excess.std() / np.sqrt(excess.size)
    bias = _reference.averaging_bias(n_codebooks)
    # 4 standard errors: a false alarm about once in 16000 runs, while a
    # wrong formula (e.g. 1.5 instead of 2 for C=3) is off by >= 100 of them.
    assert abs(excess.mean() - bias) < 4 * standard_error


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dequantize_matches_formula(dtype):
    rng = np.random.default_rng(0)
    totals = rng.integers(0, 255 * 16, size=(50, 3))
    offsets = rng.normal(size=16)
    scale, bias = 37.3, 16.0
    Y_hat = _reference.dequantize(totals, offsets, scale, bias, dtype)

    assert Y_hat.dtype == dtype
    expected = (totals - bias) / scale + offsets.sum()
    # One multiply and one add in `dtype`, plus rounding the two constants:
    # a few ulps of the largest term.
    magnitude = np.abs(totals / scale) + abs(offsets.sum()) + bias / scale
    np.testing.assert_array_less(
        np.abs(Y_hat - expected), 4 * np.finfo(dtype).eps * magnitude
    )


# ---------------------------------------------------------------------------
# Thresholds in float32


def test_thresholds_for_dtype_float32_comparisons_are_exact():
    rng = np.random.default_rng(0)
    thresholds = rng.normal(size=(5, 4, 8)) * 10.0 ** rng.integers(-3, 4, (5, 4, 8))
    thresholds[0, 0, :3] = [np.inf, 1.0, -0.0]  # +inf, and exactly representable
    t32 = thresholds_for_dtype(thresholds, np.float32)
    assert t32.dtype == np.float32 and t32.flags.c_contiguous
    assert t32[0, 0, 0] == np.inf

    t64 = thresholds.ravel()
    nearest = t64.astype(np.float32)
    # Random float32 values, plus the float32 neighbours of every threshold:
    # the values where rounding the threshold the wrong way would show.
    x = np.concatenate(
        [
            rng.normal(size=2000).astype(np.float32) * 100,
            nearest,
            np.nextafter(nearest, np.float32(np.inf)),
            np.nextafter(nearest, np.float32(-np.inf)),
        ]
    )
    x = x[np.isfinite(x)]
    for t, t_32 in zip(t64, t32.ravel()):
        np.testing.assert_array_equal(x > t_32, x.astype(np.float64) > t)


def test_thresholds_for_dtype_float64_is_unchanged():
    thresholds = np.random.default_rng(0).normal(size=(2, 4, 8))
    np.testing.assert_array_equal(
        thresholds_for_dtype(thresholds, np.float64), thresholds
    )
