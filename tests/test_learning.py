"""Tests of the codebook learner's options beyond the paper."""

import numpy as np
import pytest

from sklearn_amm import MaddnessTransformer
from sklearn_amm._hash_tree import learn_hash_tree, product_targets, tree_sse
from sklearn_amm._learning import _principal_basis, learn_codebooks
from sklearn_amm._reference import aggregate_float, encode
from sklearn_amm._tables import build_tables


def _sse(rows):
    return float(((rows - rows.mean(axis=0)) ** 2).sum()) if len(rows) else 0.0


def test_product_targets_have_the_sse_of_the_product():
    rng = np.random.default_rng(0)
    X_block = rng.normal(size=(300, 5))
    W_block = rng.normal(size=(5, 40))  # more outputs than columns
    targets, column_weights = product_targets(X_block, W_block)
    assert targets.shape[1] <= X_block.shape[1]
    np.testing.assert_allclose(column_weights, (W_block**2).sum(axis=1))
    for groups in (np.zeros(300, int), rng.integers(0, 7, size=300)):
        product_sse = sum(_sse((X_block @ W_block)[groups == g]) for g in np.unique(groups))
        target_sse = sum(_sse(targets[groups == g]) for g in np.unique(groups))
        assert target_sse == pytest.approx(product_sse, rel=1e-9)


def test_product_objective_splits_on_the_columns_that_matter():
    # Column 0 has the largest variance but a zero weight: reconstruction
    # splits on it, the product objective never does.
    rng = np.random.default_rng(1)
    X_block = rng.normal(size=(2000, 3)) * [10.0, 1.0, 1.0]
    W_block = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    dims, _, _ = learn_hash_tree(X_block)
    assert dims[0] == 0
    dims, thresholds, leaves = learn_hash_tree(X_block, 4, *product_targets(X_block, W_block))
    assert 0 not in dims
    # Leaves are still what encoding gives.
    codes = encode(X_block, dims[None], thresholds[None])
    np.testing.assert_array_equal(codes[:, 0], leaves)


@pytest.mark.parametrize("split_objective", ["reconstruction", "product"])
def test_refinement_passes_keep_learning_equal_to_encoding(synthetic_task, split_objective):
    X_train, _, B = synthetic_task
    X = X_train[:3000]
    bounds, split_dims, thresholds, prototypes = learn_codebooks(
        X, B, 8, split_objective=split_objective, n_refinement_passes=1
    )
    assert np.all(np.diff(bounds) > 0)
    # Every split column lies in its codebook's block.
    for c in range(8):
        assert np.all((bounds[c] <= split_dims[c]) & (split_dims[c] < bounds[c + 1]))
    assert np.isfinite(prototypes).all()


def test_refinement_passes_lower_the_product_error(synthetic_task):
    X_train, X_test, B = synthetic_task
    Y = X_test @ B
    errors = []
    for passes in (0, 1, 2):
        _, split_dims, thresholds, prototypes = learn_codebooks(
            X_train[:8000], B, 16, n_refinement_passes=passes
        )
        Y_hat = aggregate_float(encode(X_test, split_dims, thresholds), build_tables(prototypes, B))
        errors.append(np.mean((Y - Y_hat) ** 2) / np.var(Y))
    # Measured 0.050, 0.033, 0.023 for 0, 1 and 2 passes.
    assert errors[1] < 0.8 * errors[0]
    assert errors[2] < errors[1]


def test_product_objective_equals_reconstruction_without_weights(make_low_rank):
    X = make_low_rank(500, 24)
    kwargs = dict(n_codebooks=6, quantize_luts=False)
    a = MaddnessTransformer(**kwargs, split_objective="reconstruction").fit(X)
    b = MaddnessTransformer(**kwargs, split_objective="product").fit(X)
    np.testing.assert_array_equal(a.split_dims_, b.split_dims_)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))


def test_refinement_without_weights_reconstructs_better(make_low_rank):
    X = make_low_rank(3000, 32)
    scores = [
        MaddnessTransformer(n_codebooks=8, n_refinement_passes=p, quantize_luts=False)
        .fit(X[:2000])
        .score(X[2000:])
        for p in (0, 1)
    ]
    assert scores[1] > scores[0]


def test_principal_basis_keeps_the_sse_of_a_low_rank_residual():
    # A residual of rank 5 spread over 50 outputs: its leading principal
    # directions carry all of it, so every partition keeps its SSE. With
    # few outputs the residual is used as it is (no basis).
    rng = np.random.default_rng(0)
    residual = rng.normal(size=(400, 5)) @ rng.normal(size=(5, 50)) + 3.0
    basis = _principal_basis(residual, max_targets=8)
    assert basis.shape == (50, 8)
    leaves = rng.integers(0, 16, size=400)
    np.testing.assert_allclose(
        tree_sse(residual @ basis, leaves), tree_sse(residual, leaves), rtol=1e-10
    )
    assert _principal_basis(residual[:, :8], max_targets=8) is None
