"""The compiled encoder must give exactly the codes of the NumPy reference.

Encoding only compares values, so every test here asks for bit-exact equality.
"""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from sklearn_amm._kernels._encode import encode_codes
from sklearn_amm._reference import encode as reference_encode

N_LEVELS = 4
MAX_NODES = 8
LAYOUTS = ["C", "F", "C-strided", "F-strided", "reversed"]


def _float32_round_down(thresholds):
    """Largest float32 <= each float64 threshold.

    For a float32 value x, ``x > float32_round_down(t)`` equals ``x > t``
    computed exactly in float64, which is how the Python side feeds float32
    input to the kernel.
    """
    rounded = thresholds.astype(np.float32)
    return np.where(
        rounded.astype(np.float64) > thresholds,
        np.nextafter(rounded, np.float32(-np.inf)),
        rounded,
    )


def _kernel_thresholds(thresholds, dtype):
    if dtype == np.float32:
        return _float32_round_down(thresholds)
    return thresholds.astype(dtype)


def _with_layout(X, layout):
    """A view of the values of ``X`` with the requested memory layout."""
    if layout == "C":
        return np.ascontiguousarray(X)
    if layout == "F":
        return np.asfortranarray(X)
    # A view into a larger buffer whose other entries are NaN, which sends
    # a row left: reading them would show up as wrong codes.
    n_samples, n_features = X.shape
    order = "F" if layout == "F-strided" else "C"
    shape = (2 * n_samples + 1, 3 * n_features)
    buffer = np.full(shape, np.nan, dtype=X.dtype, order=order)
    if layout == "reversed":
        view = buffer[-2::-2, ::-3]
    else:
        view = buffer[1::2, 1::3]
    view[...] = X
    return view


def _random_problem(rng, n_samples, n_codebooks, dtype):
    """Data with ties, and thresholds on, and one ulp around, data values.

    Returns X in ``dtype`` and float64 thresholds of shape (C, 4, 8) whose
    padding entries are NaN (never read).
    """
    n_features = int(rng.integers(n_codebooks + 1, 3 * n_codebooks + 5))
    if n_codebooks > 1 and n_features % n_codebooks == 0:
        n_features += 1
    X = rng.standard_normal((n_samples, n_features))
    # Values on a coarse grid make ties between rows and with thresholds.
    on_grid = rng.random(X.shape) < 0.3
    X[on_grid] = np.round(2 * X[on_grid]) / 2
    X = X.astype(dtype)

    split_dims = rng.integers(0, n_features, size=(n_codebooks, N_LEVELS))
    split_dims[::2, 2] = split_dims[::2, 0]  # a column used at two levels
    split_dims[0, 0] = n_features - 1
    split_dims[-1, -1] = 0
    split_dims = split_dims.astype(np.intp)

    thresholds = np.full((n_codebooks, N_LEVELS, MAX_NODES), np.nan)
    for c in range(n_codebooks):
        for t in range(N_LEVELS):
            column = X[:, split_dims[c, t]] if n_samples else np.zeros(1, dtype)
            for node in range(2**t):
                value = column[rng.integers(len(column))]
                thresholds[c, t, node] = _threshold_near(rng, value, dtype)
    return X, split_dims, thresholds


def _threshold_near(rng, value, dtype):
    """``value``, a neighbour of it, a float64 just off it, or another number."""
    # Python floats, so that NumPy does not round the sum to float32.
    step = float(np.finfo(dtype).eps) * abs(float(value)) / 3
    choice = rng.integers(7)
    if choice == 0:
        return value
    if choice == 1:
        return np.nextafter(value, dtype(np.inf))
    if choice == 2:
        return np.nextafter(value, dtype(-np.inf))
    if choice == 3:
        # Strictly between two neighbouring float32s when ``value`` is one:
        # only rounding toward -inf keeps the comparison exact.
        return float(value) + step
    if choice == 4:
        return float(value) - step
    if choice == 5:
        return rng.standard_normal()
    return rng.choice([np.inf, -np.inf, 0.0])


def _encode(X, split_dims, thresholds):
    codes = np.full((X.shape[0], split_dims.shape[0]), 255, dtype=np.uint8)
    encode_codes(X, split_dims, thresholds, codes)
    return codes


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["C", "F"])
def test_encode_codes_toy(dtype, layout):
    # Codebook 0 reads columns 0, 1, 2, 0 against zero thresholds, so its code
    # is 8*(x0 > 0) + 4*(x1 > 0) + 2*(x2 > 0) + (x0 > 0). Codebook 1 reads
    # column 2 at every level with thresholds forming a binary search over
    # -3.5, -3, ..., 3.5, so its code counts the grid points strictly below x2.
    X = np.array(
        [
            [1.0, -1.0, -10.0],
            [-1.0, 1.0, 0.25],
            [0.0, 0.0, 3.5],
            [1.0, 1.0, 10.0],
            [-1.0, -1.0, 0.0],
            [0.0, -1.0, -3.5],
        ],
        dtype=dtype,
        order=layout,
    )
    split_dims = np.array([[0, 1, 2, 0], [2, 2, 2, 2]], dtype=np.intp)
    thresholds = np.zeros((2, N_LEVELS, MAX_NODES), dtype=dtype)
    thresholds[1, 0, :1] = [0.0]
    thresholds[1, 1, :2] = [-2.0, 2.0]
    thresholds[1, 2, :4] = [-3.0, -1.0, 1.0, 3.0]
    thresholds[1, 3, :8] = [-3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5]

    codes = _encode(X, split_dims, thresholds)

    expected = np.array(
        [[9, 0], [6, 8], [2, 14], [15, 15], [0, 7], [0, 0]], dtype=np.uint8
    )
    np.testing.assert_array_equal(codes, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("n_samples", [0, 1, 31, 33, 100, 1000, 70000])
@pytest.mark.parametrize("n_codebooks", [1, 2, 3, 15, 16, 17])
def test_encode_codes_matches_reference(dtype, layout, n_samples, n_codebooks):
    rng = np.random.default_rng(1000 * n_samples + n_codebooks)
    X, split_dims, thresholds = _random_problem(rng, n_samples, n_codebooks, dtype)

    codes = _encode(
        _with_layout(X, layout),
        split_dims,
        _kernel_thresholds(thresholds, dtype),
    )

    # The reference compares the float32 values with the float64 thresholds
    # exactly, so this also checks the rounding of the thresholds.
    np.testing.assert_array_equal(codes, reference_encode(X, split_dims, thresholds))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_encode_codes_read_only_input(dtype, layout):
    rng = np.random.default_rng(0)
    X, split_dims, thresholds = _random_problem(rng, 300, 5, dtype)
    X_view = _with_layout(X, layout)
    X_view.flags.writeable = False
    split_dims.flags.writeable = False
    kernel_thresholds = _kernel_thresholds(thresholds, dtype)
    kernel_thresholds.flags.writeable = False

    codes = _encode(X_view, split_dims, kernel_thresholds)

    np.testing.assert_array_equal(codes, reference_encode(X, split_dims, thresholds))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_encode_codes_thread_count_invariance(dtype, layout):
    rng = np.random.default_rng(1)
    # Many row blocks, and a last block that is not full.
    X, split_dims, thresholds = _random_problem(rng, 5000 + 17, 16, dtype)
    X = _with_layout(X, layout)
    kernel_thresholds = _kernel_thresholds(thresholds, dtype)

    with threadpool_limits(limits=1, user_api="openmp"):
        codes_1 = _encode(X, split_dims, kernel_thresholds)
    with threadpool_limits(limits=2, user_api="openmp"):
        codes_2 = _encode(X, split_dims, kernel_thresholds)
    codes_default = _encode(X, split_dims, kernel_thresholds)

    np.testing.assert_array_equal(codes_1, codes_2)
    np.testing.assert_array_equal(codes_1, codes_default)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_encode_codes_below_16(dtype, layout):
    rng = np.random.default_rng(2)
    X, split_dims, thresholds = _random_problem(rng, 500, 17, dtype)
    X[::7] = np.inf
    X[1::7] = -np.inf
    # Only -inf values are not greater than -inf: those rows always go left,
    # all the others always go right.
    thresholds[:] = -np.inf

    codes = _encode(_with_layout(X, layout), split_dims, thresholds.astype(dtype))

    assert codes.max() < 16
    expected = np.full_like(codes, 15)
    expected[1::7] = 0
    np.testing.assert_array_equal(codes, expected)


@pytest.mark.parametrize(
    "n_samples_codes, n_codebooks_codes, thresholds_shape, split_dims_shape",
    [
        (9, 3, (3, 4, 8), (3, 4)),  # codes has too many rows
        (10, 2, (3, 4, 8), (3, 4)),  # codes has too few columns
        (10, 3, (2, 4, 8), (3, 4)),  # thresholds for fewer codebooks
        (10, 3, (3, 3, 8), (3, 4)),  # thresholds with 3 levels
        (10, 3, (3, 4, 16), (3, 4)),  # thresholds with 16 nodes per level
        (10, 3, (3, 4, 8), (3, 3)),  # split_dims with 3 levels
    ],
)
def test_encode_codes_shape_mismatch_raises(
    n_samples_codes, n_codebooks_codes, thresholds_shape, split_dims_shape
):
    X = np.zeros((10, 6))
    split_dims = np.zeros(split_dims_shape, dtype=np.intp)
    thresholds = np.zeros(thresholds_shape)
    codes = np.zeros((n_samples_codes, n_codebooks_codes), dtype=np.uint8)
    with pytest.raises(ValueError, match="must have shape"):
        encode_codes(X, split_dims, thresholds, codes)


def test_encode_codes_rejects_thresholds_of_another_dtype():
    X = np.zeros((10, 6), dtype=np.float32)
    split_dims = np.zeros((3, 4), dtype=np.intp)
    thresholds = np.zeros((3, 4, 8), dtype=np.float64)
    codes = np.zeros((10, 3), dtype=np.uint8)
    with pytest.raises((TypeError, ValueError)):
        encode_codes(X, split_dims, thresholds, codes)
