"""The de-quantization constants, by hand and against the NumPy reference."""

import numpy as np
import pytest

from sklearn_amm import _reference
from sklearn_amm._tables import dequantization_constants


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shared_constants_by_hand(dtype):
    # Exactly representable: 1 / 4 and 1 + 2 - 2 / 4.
    multiplier, shift = dequantization_constants(np.array([1.0, 2.0]), 4.0, 2.0, dtype)
    assert type(multiplier) is dtype and type(shift) is dtype
    assert (multiplier, shift) == (0.25, 2.5)


def test_per_output_constants_by_hand():
    offsets = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 0.5]])
    multiplier, shift = dequantization_constants(
        offsets, np.array([2.0, 8.0]), 4.0, np.float64
    )
    np.testing.assert_array_equal(multiplier, [0.5, 0.125])
    np.testing.assert_array_equal(shift, [6.0 - 2.0, -0.5 - 0.5])


def test_shared_scale_with_per_output_bias_gives_arrays():
    multiplier, shift = dequantization_constants(
        np.array([1.0, 1.0]), 2.0, np.array([0.0, 2.0, 4.0]), np.float32
    )
    assert multiplier.dtype == shift.dtype == np.float32
    np.testing.assert_array_equal(multiplier, [0.5, 0.5, 0.5])
    np.testing.assert_array_equal(shift, [2.0, 1.0, 0.0])


def test_constants_are_rounded_once_to_the_dtype():
    """1 / 3 in float64, then rounded to float32: not 1 / 3 computed in float32."""
    multiplier, shift = dequantization_constants(
        np.array([0.1, 0.2]), 3.0, 1.0, np.float32
    )
    assert multiplier == np.float32(1.0 / 3.0)
    assert shift == np.float32(0.1 + 0.2 - 1.0 / 3.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("per_output", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_applied_constants_are_the_references_dequantize(dtype, per_output, seed):
    rng = np.random.default_rng(seed)
    n_outputs, n_codebooks = 4, 7
    totals = rng.integers(0, 255 * n_codebooks, size=(50, n_outputs))
    if per_output:
        offsets = rng.normal(size=(n_outputs, n_codebooks))
        scale = rng.uniform(1.0, 300.0, size=n_outputs)
    else:
        offsets = rng.normal(size=n_codebooks)
        scale = rng.uniform(1.0, 300.0)
    bias = _reference.averaging_bias(n_codebooks)
    multiplier, shift = dequantization_constants(offsets, scale, bias, dtype)
    Y_hat = totals.astype(dtype) * multiplier + shift
    assert Y_hat.dtype == dtype
    np.testing.assert_array_equal(
        Y_hat, _reference.dequantize(totals, offsets, scale, bias, dtype)
    )
