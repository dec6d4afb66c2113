"""The tree learner's own steps: candidate columns, ties between them, sorting."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from sklearn_amm._hash_tree import (
    _candidate_dims,
    _same_division,
    _stable_argsort,
    learn_hash_tree,
)
from sklearn_amm._kernels._split import level_column_sse


@pytest.mark.parametrize(
    "kind", ["distinct", "ties", "signed zeros", "infinities", "one", "empty"]
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stable_argsort_of_float32_values_is_numpy_stable_argsort(kind, dtype):
    # float32 values, and float64 values that float32 holds exactly, take
    # the one-sort path; it must order ties by row like a stable sort.
    rng = np.random.default_rng(0)
    values = rng.normal(size=2000).astype(np.float32)
    if kind == "ties":
        values = np.round(values * 2)
    elif kind == "signed zeros":
        values[::3] = 0.0
        values[1::3] = -0.0
    elif kind == "infinities":
        values[::5] = np.inf
        values[1::7] = -np.inf
    elif kind == "one":
        values = values[:1]
    elif kind == "empty":
        values = values[:0]
    values = values.astype(dtype)
    np.testing.assert_array_equal(
        _stable_argsort(values), np.argsort(values, kind="stable")
    )


def test_stable_argsort_of_values_beyond_float32():
    rng = np.random.default_rng(0)
    values = np.round(rng.normal(size=1000) * 4) + 1e-12  # not float32 values
    values[::9] = 1e300
    np.testing.assert_array_equal(
        _stable_argsort(values), np.argsort(values, kind="stable")
    )


def test_candidates_are_those_of_the_bucket_reference():
    # The learner's candidate SSE (no buckets gathered) ranks the columns as
    # the readable reference does.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 8)) * rng.uniform(0.5, 2.0, size=8) + 100.0
    nodes = rng.integers(0, 8, size=3000).astype(np.intp)
    buckets = [X[nodes == node] for node in range(8)]
    column_weights = rng.uniform(0.5, 1.5, size=8)
    column_sse = level_column_sse(X, nodes, 8)
    np.testing.assert_allclose(
        column_sse, sum(b.var(axis=0) * len(b) for b in buckets), rtol=1e-10
    )
    order = np.argsort(column_sse * column_weights, kind="stable")[-4:]
    np.testing.assert_array_equal(order, _candidate_dims(buckets, 4, column_weights))


def test_same_division_ignores_which_side_a_group_goes():
    nodes = np.array([0, 0, 0, 1, 1, 2, 2])
    sizes = np.bincount(nodes)
    a = np.array([1, 0, 0, 1, 0, 1, 1], dtype=bool)
    assert _same_division(nodes, sizes, a, a)
    # Groups swapped in bucket 0 and 2: the same children.
    b = np.array([0, 1, 1, 1, 0, 0, 0], dtype=bool)
    assert _same_division(nodes, sizes, a, b)
    # Bucket 1 divided otherwise.
    c = np.array([1, 0, 0, 1, 1, 1, 1], dtype=bool)
    assert not _same_division(nodes, sizes, a, c)


@pytest.mark.parametrize("seed", range(4))
def test_mirrored_columns_tie_and_the_first_candidate_wins(seed):
    # Column 1 is column 0 negated: every split on one divides the rows as a
    # split on the other does, children swapped, so the losses are equal but
    # for rounding (the sums run in opposite orders). Both columns have the
    # same SSE, so column 0 is the first candidate, and must win every level
    # instead of the rounding deciding.
    rng = np.random.default_rng(seed)
    x = rng.normal(size=400)
    X_block = np.column_stack([x, -x])
    split_dims, _, _ = learn_hash_tree(X_block)
    np.testing.assert_array_equal(split_dims, 0)


@pytest.mark.parametrize("weighted", [False, True])
def test_parallel_candidates_give_the_same_tree(weighted):
    rng = np.random.default_rng(0)
    X_block = rng.normal(size=(3000, 12)) @ rng.normal(size=(12, 12))
    X_block[:, 3] = np.round(X_block[:, 3])
    weights = rng.exponential(size=3000) if weighted else None
    expected = learn_hash_tree(X_block, 4, sample_weight=weights)
    with ThreadPoolExecutor(3) as executor:
        result = learn_hash_tree(X_block, 4, sample_weight=weights, executor=executor)
    for a, b in zip(expected, result):
        np.testing.assert_array_equal(a, b)


def test_float32_block_gives_the_tree_of_its_float64_copy():
    rng = np.random.default_rng(0)
    X_block = (rng.normal(size=(2000, 6)) @ rng.normal(size=(6, 6))).astype(np.float32)
    for a, b in zip(
        learn_hash_tree(X_block), learn_hash_tree(X_block.astype(np.float64))
    ):
        np.testing.assert_array_equal(a, b)
