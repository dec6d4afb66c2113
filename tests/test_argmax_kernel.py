"""The compiled row argmax (``_kernels/_argmax.pyx``) against ``np.argmax``."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from sklearn_amm._kernels._argmax import column_argmax
from sklearn_amm._labels import row_argmax

# Around the kernel's chunk of 1024 rows, and tiny sizes.
N_SAMPLES = [0, 1, 2, 31, 1023, 1024, 1025, 2049, 5000]


def argmax(scores, n_threads=2):
    indices = np.empty(scores.shape[0], dtype=np.intp)
    column_argmax(np.ascontiguousarray(scores.T), indices, n_threads)
    return indices


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_samples", N_SAMPLES)
@pytest.mark.parametrize("n_outputs", [1, 2, 3, 10, 65])
def test_matches_numpy(dtype, n_samples, n_outputs):
    rng = np.random.default_rng(n_samples * 100 + n_outputs)
    # Few distinct values: most rows have tied maxima, and the first wins.
    tied = rng.integers(0, 4, size=(n_samples, n_outputs)).astype(dtype)
    assert_array_equal(argmax(tied), tied.argmax(axis=1))
    spread = rng.normal(size=(n_samples, n_outputs)).astype(dtype)
    assert_array_equal(argmax(spread), spread.argmax(axis=1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_non_finite_values_as_numpy(dtype):
    rng = np.random.default_rng(1)
    specials = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0], dtype=dtype)
    scores = rng.choice(specials, size=(3000, 5))
    assert_array_equal(argmax(scores), scores.argmax(axis=1))
    extremes = np.array([np.finfo(dtype).max, -np.finfo(dtype).max,
                         np.finfo(dtype).tiny, -np.finfo(dtype).tiny], dtype=dtype)
    scores = rng.choice(extremes, size=(3000, 4))
    assert_array_equal(argmax(scores), scores.argmax(axis=1))


def test_same_result_on_any_thread_count():
    scores = np.random.default_rng(2).normal(size=(10_000, 7))
    results = []
    for n_threads in (1, 2):
        results.append(argmax(scores, n_threads))
    assert_array_equal(results[0], results[1])


@pytest.mark.parametrize("order", ["F", "C"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_row_argmax_any_layout(order, dtype):
    """The wrapper's helper: the kernel for F-ordered floats, NumPy otherwise."""
    scores = np.asarray(
        np.random.default_rng(3).integers(0, 5, size=(1500, 6)), dtype=dtype, order=order
    )
    assert_array_equal(row_argmax(scores), scores.argmax(axis=1))


def test_rejects_bad_shapes():
    with pytest.raises(ValueError, match="at least one output"):
        column_argmax(np.empty((0, 5)), np.empty(5, dtype=np.intp), 1)
    with pytest.raises(ValueError, match="out must have 5 entries"):
        column_argmax(np.zeros((2, 5)), np.empty(4, dtype=np.intp), 1)
