"""The prototypes' sums, weighted means and ridge refit, and its singular limit."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from sklearn_amm import MaddnessTransformer
from sklearn_amm._blocks import codebook_bounds
from sklearn_amm._kernels._leaf_sums import add_leaf_sums, leaf_cooccurrence
from sklearn_amm._prototypes import (
    bucket_means,
    leaf_statistics,
    one_hot_codes,
    ridge_refit,
)


def _problem(seed=0, n_samples=500, n_features=7, n_codebooks=3, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = (rng.normal(size=(n_samples, n_features)) * 3 + 1).astype(dtype)
    codes = rng.integers(0, 16, size=(n_samples, n_codebooks)).astype(np.uint8)
    codes[:, 0] = np.minimum(codes[:, 0], 13)  # leaves 14 and 15 are empty
    return X, codes, rng.exponential(size=n_samples)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("layout", ["C", "F"])
def test_leaf_statistics_are_the_weighted_normal_equations(dtype, weighted, layout):
    X, codes, weights = _problem(dtype=dtype)
    X = np.asarray(X, order=layout)
    weights = weights if weighted else None
    G = one_hot_codes(codes).toarray()
    W = np.ones(len(X)) if weights is None else weights
    gram, sums = leaf_statistics(X, codes, weights)
    np.testing.assert_allclose(gram, G.T @ (W[:, None] * G), rtol=1e-12)
    np.testing.assert_allclose(
        sums, G.T @ (W[:, None] * X.astype(np.float64)), rtol=1e-10, atol=1e-10
    )
    if not weighted:
        # Counts are exact.
        np.testing.assert_array_equal(gram, G.T @ G)


def test_leaf_statistics_do_not_depend_on_threads_or_block_width(monkeypatch):
    import sklearn_amm._prototypes as prototypes

    X, codes, weights = _problem(n_features=300)
    expected = leaf_statistics(X, codes, weights)
    monkeypatch.setattr(prototypes, "_BLOCK_SUM_BYTES", 8 * 48 * 8)  # 8 columns
    with ThreadPoolExecutor(3) as executor:
        result = leaf_statistics(X, codes, weights, executor)
    for a, b in zip(expected, result):
        np.testing.assert_array_equal(a, b)


def test_weighted_bucket_means():
    X, codes, weights = _problem()
    bounds = codebook_bounds(7, 3)
    prototypes = bucket_means(X, codes, bounds, weights)
    for c in range(3):
        start, stop = bounds[c], bounds[c + 1]
        for leaf in range(16):
            rows = codes[:, c] == leaf
            expected = np.zeros(7)
            if rows.any():
                expected[start:stop] = np.average(
                    X[rows, start:stop], axis=0, weights=weights[rows]
                )
            np.testing.assert_allclose(prototypes[c, leaf], expected, rtol=1e-12)


@pytest.mark.parametrize("alpha", [1e-3, 1.0, 50.0])
def test_weighted_ridge_matches_its_closed_form(alpha):
    X, codes, weights = _problem()
    bounds = codebook_bounds(7, 3)
    P0 = bucket_means(X, codes, bounds, weights).reshape(48, 7)
    G = one_hot_codes(codes).toarray()
    gram = G.T @ (weights[:, None] * G) + alpha * np.eye(48)
    expected = np.linalg.solve(gram, G.T @ (weights[:, None] * X) + alpha * P0)
    refit = ridge_refit(X, codes, P0.reshape(3, 16, 7), alpha, weights).reshape(48, 7)
    np.testing.assert_allclose(
        refit, expected, rtol=0, atol=1e-9 * np.abs(expected).max()
    )


def test_integer_weights_refit_as_repeated_rows():
    X, codes, _ = _problem()
    counts = np.random.default_rng(1).integers(1, 4, size=len(X))
    bounds = codebook_bounds(7, 3)
    P0 = bucket_means(X, codes, bounds, counts.astype(float))
    weighted = ridge_refit(X, codes, P0, 0.5, counts.astype(float))
    repeated = ridge_refit(
        np.repeat(X, counts, axis=0), np.repeat(codes, counts, axis=0), P0, 0.5
    )
    np.testing.assert_allclose(weighted, repeated, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("alpha", [1e-300, 1e-200, 1e-30])
def test_singular_ridge_gives_the_least_norm_correction(alpha):
    # With alpha this small the system is singular in float64: the 16
    # columns of each codebook in G sum to one, and empty leaves have no
    # rows at all. The refit is then the limit of the ridge solution as
    # alpha goes to 0: P0 plus the least-norm least-squares correction, which
    # leaves the empty leaves at P0.
    X, codes, _ = _problem()
    bounds = codebook_bounds(7, 3)
    P0 = bucket_means(X, codes, bounds)
    P0[0, 15] = 7.0  # an empty leaf keeps its start
    G = one_hot_codes(codes).toarray()
    flat = P0.reshape(48, 7)
    correction, *_ = np.linalg.lstsq(G, X - G @ flat, rcond=None)
    refit = ridge_refit(X, codes, P0, alpha)
    np.testing.assert_allclose(refit.reshape(48, 7), flat + correction, atol=1e-9)
    np.testing.assert_allclose(refit[0, 15], P0[0, 15], rtol=1e-12)


def test_fit_with_a_vanishing_ridge_alpha():
    # ridge_alpha=1e-300 made the Cholesky factorisation fail (LinAlgError).
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 4)) @ rng.normal(size=(4, 12))
    W = rng.normal(size=(12, 3))
    vanishing = MaddnessTransformer(
        W, n_codebooks=4, ridge_alpha=1e-300, quantize_luts=False
    ).fit(X)
    small = MaddnessTransformer(
        W, n_codebooks=4, ridge_alpha=1e-6, quantize_luts=False
    ).fit(X)
    assert np.isfinite(vanishing.prototypes_).all()
    Y = X @ W
    error = np.mean((vanishing.transform(X) - Y) ** 2)
    assert error == pytest.approx(np.mean((small.transform(X) - Y) ** 2), rel=1e-4)


def test_leaf_sums_reject_inconsistent_arguments():
    X, codes, weights = _problem()
    out = np.zeros((48, 7))
    with pytest.raises(ValueError, match="500 rows"):
        add_leaf_sums(X, codes[:10], None, 0, out)
    with pytest.raises(ValueError, match="sample_weight must have 500"):
        add_leaf_sums(X, codes, weights[:5], 0, out)
    with pytest.raises(ValueError, match="not all columns"):
        add_leaf_sums(X, codes, None, 3, out)
    with pytest.raises(ValueError, match="48 rows"):
        add_leaf_sums(X, codes, None, 0, np.zeros((16, 7)))
    bad = codes.copy()
    bad[7, 2] = 16
    with pytest.raises(ValueError, match=r"codes\[7\]"):
        add_leaf_sums(X, bad, None, 0, out)
    with pytest.raises(ValueError, match=r"codes\[7\]"):
        leaf_cooccurrence(bad, None)
    with pytest.raises(ValueError, match="sample_weight must have 500"):
        leaf_cooccurrence(codes, weights[:5])
