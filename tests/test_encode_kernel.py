"""The compiled encoder must give exactly the codes of the NumPy reference.

Encoding only compares values, so every test here asks for bit-exact
equality, at every SIMD level this CPU supports (the kernels take the level
as an argument) and for both outputs: the packed layout the scan reads
(checked against ``_layout.pack_codes`` of the reference codes) and the
plain (n_samples, n_codebooks) codes.
"""

import ctypes
import mmap
import sys

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from sklearn_amm import _simd
from sklearn_amm._encoding import encode_packed_rows, encode_rows, thresholds_for_dtype
from sklearn_amm._kernels._cpu import openmp_max_threads
from sklearn_amm._kernels._encode import encode_codes, encode_packed
from sklearn_amm._layout import n_padded_codebooks, pack_codes
from sklearn_amm._reference import encode as reference_encode

N_LEVELS = 4
MAX_NODES = 8
LAYOUTS = ["C", "F", "C-strided", "F-strided", "reversed"]
SIMD_LEVELS = [
    pytest.param(_simd.LEVELS[name], id=name) for name in _simd.available_levels()
]


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


def _codes(X, split_dims, thresholds, level):
    codes = np.full((X.shape[0], split_dims.shape[0]), 255, dtype=np.uint8)
    encode_codes(X, split_dims, thresholds, codes, level, openmp_max_threads())
    return codes


def _packed(X, split_dims, thresholds, level, n_pairs=None):
    n_codebooks = split_dims.shape[0]
    if n_pairs is None:
        n_pairs = n_padded_codebooks(n_codebooks) // 2
    n_blocks = -(-X.shape[0] // 32)
    # Filled with a value no code pair can leave behind by accident.
    packed = np.full((n_blocks, n_pairs, 32), 0xA5, dtype=np.uint8)
    encode_packed(X, split_dims, thresholds, packed, level, openmp_max_threads())
    return packed


def _expected_packed(codes, n_codebooks):
    if codes.shape[0] == 0:
        return np.zeros((0, n_padded_codebooks(n_codebooks) // 2, 32), np.uint8)
    return pack_codes(codes)


def _assert_both_outputs_exact(X, split_dims, thresholds, level, expected):
    kernel_thresholds = thresholds_for_dtype(thresholds, X.dtype)
    np.testing.assert_array_equal(
        _codes(X, split_dims, kernel_thresholds, level), expected
    )
    np.testing.assert_array_equal(
        _packed(X, split_dims, kernel_thresholds, level),
        _expected_packed(expected, split_dims.shape[0]),
    )


@pytest.mark.parametrize("level", SIMD_LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["C", "F"])
def test_encode_toy(level, dtype, layout):
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
    expected = np.array(
        [[9, 0], [6, 8], [2, 14], [15, 15], [0, 7], [0, 0]], dtype=np.uint8
    )

    np.testing.assert_array_equal(_codes(X, split_dims, thresholds, level), expected)
    packed = _packed(X, split_dims, thresholds, level)
    # One block, one byte per row: codebook 0 low, codebook 1 high; rows 6..31 are 0.
    assert packed.shape == (1, 1, 32)
    np.testing.assert_array_equal(packed[0, 0, :6], expected[:, 0] | expected[:, 1] << 4)
    np.testing.assert_array_equal(packed[0, 0, 6:], 0)


@pytest.mark.parametrize("level", SIMD_LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_samples", [0, 1, 31, 32, 33, 100, 1000])
@pytest.mark.parametrize("n_codebooks", [1, 2, 3, 4, 8, 15, 16, 17, 32, 64])
def test_encode_matches_reference(level, dtype, n_samples, n_codebooks):
    rng = np.random.default_rng(1000 * n_samples + n_codebooks)
    X, split_dims, thresholds = _random_problem(rng, n_samples, n_codebooks, dtype)
    # The reference compares the float32 values with the float64 thresholds
    # exactly, so this also checks the rounding of the thresholds.
    expected = reference_encode(X, split_dims, thresholds)

    for layout in LAYOUTS:
        _assert_both_outputs_exact(
            _with_layout(X, layout), split_dims, thresholds, level, expected
        )


@pytest.mark.parametrize("level", SIMD_LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_codebooks", [3, 16])
def test_encode_matches_reference_many_rows(level, dtype, n_codebooks):
    # Many parallel tasks, and a last block that is not full.
    rng = np.random.default_rng(n_codebooks)
    X, split_dims, thresholds = _random_problem(rng, 70000, n_codebooks, dtype)
    expected = reference_encode(X, split_dims, thresholds)

    for layout in ["C", "F"]:
        _assert_both_outputs_exact(
            _with_layout(X, layout), split_dims, thresholds, level, expected
        )


@pytest.mark.parametrize("level", SIMD_LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_features", [7, 9, 300])
def test_encode_rows_short_and_long_next_to_the_splits(level, dtype, n_features):
    # C-order rows are staged either by transposing whole rows (short rows)
    # or by copying the split values (long rows): both, with column counts
    # that do and do not fill the last group of 8 (float32) or 4 (float64).
    rng = np.random.default_rng(n_features)
    X = rng.standard_normal((301, n_features)).astype(dtype)
    split_dims = rng.integers(0, n_features, size=(5, N_LEVELS)).astype(np.intp)
    thresholds = rng.standard_normal((5, N_LEVELS, MAX_NODES)) / 3
    expected = reference_encode(X, split_dims, thresholds)

    for layout in LAYOUTS:
        _assert_both_outputs_exact(
            _with_layout(X, layout), split_dims, thresholds, level, expected
        )


@pytest.mark.parametrize("level", SIMD_LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_encode_non_finite_values(level, dtype):
    # inf and -inf in X and in the thresholds; NaN in X and in the
    # thresholds goes left (the comparison is false), as in the reference.
    rng = np.random.default_rng(3)
    X, split_dims, thresholds = _random_problem(rng, 500, 17, dtype)
    X[::7, ::2] = np.inf
    X[1::7, 1::2] = -np.inf
    X[2::7] = np.nan
    thresholds[::3, :, :] = -np.inf
    thresholds[1::3, 1:3, :] = np.inf
    thresholds[2::5, 3, :] = np.nan
    expected = reference_encode(X, split_dims, thresholds)

    for layout in LAYOUTS:
        _assert_both_outputs_exact(
            _with_layout(X, layout), split_dims, thresholds, level, expected
        )


# Doubles at the edges of float: the largest float, the midpoint above it
# (which rounds up to infinity) and its neighbours, numbers no float holds,
# and numbers that round to zero or to the smallest floats.
_FLOAT_MAX = float(np.finfo(np.float32).max)
_HALFWAY = float.fromhex("0x1.ffffffp127")  # between the largest float and 2**128
_FLOAT_EDGES = np.array(
    [
        _FLOAT_MAX,
        np.nextafter(_FLOAT_MAX, np.inf),
        _HALFWAY,
        np.nextafter(_HALFWAY, 0),
        np.nextafter(_HALFWAY, np.inf),
        2.0**128,
        1e300,
        np.finfo(np.float64).max,
        1e-300,
        5e-324,
        0.0,
        float(np.finfo(np.float32).smallest_subnormal),
        float(np.finfo(np.float32).smallest_subnormal) / 2,
        np.nextafter(float(np.finfo(np.float32).smallest_subnormal) / 2, 1),
    ]
)


@pytest.mark.parametrize("level", SIMD_LEVELS)
def test_encode_doubles_beyond_and_below_the_float_range(level):
    # Staged double rows may be compared as floats, with the doubles encoded
    # again where that cannot tell: these finite values round to infinity,
    # to zero or to a float shared with their threshold, and must give the
    # double comparison's codes without being reported as non-finite.
    rng = np.random.default_rng(11)
    edges = np.concatenate([_FLOAT_EDGES, -_FLOAT_EDGES])
    n_codebooks = 9
    X, split_dims, _ = _random_problem(rng, 333, n_codebooks, np.float64)
    X = np.where(rng.random(X.shape) < 0.5, rng.choice(edges, size=X.shape), X)
    thresholds = rng.choice(edges, size=(n_codebooks, N_LEVELS, MAX_NODES))
    expected = reference_encode(X, split_dims, thresholds)
    for layout in LAYOUTS:
        X_layout = _with_layout(X, layout)
        _assert_both_outputs_exact(X_layout, split_dims, thresholds, level, expected)
        assert not encode_codes(
            X_layout,
            split_dims,
            thresholds,
            np.empty((X.shape[0], n_codebooks), np.uint8),
            level,
            1,
        )


@pytest.mark.parametrize("level", SIMD_LEVELS)
@pytest.mark.parametrize("n_features", [5, 27, 75])
def test_encode_doubles_that_round_to_their_thresholds(level, n_features):
    # Every value is within a few double steps, or half a float step, of a
    # threshold of its column, so that it rounds to the same float as the
    # threshold in most comparisons: only the doubles can tell the way.
    rng = np.random.default_rng(n_features)
    n_samples, n_codebooks = 257, 12
    split_dims = rng.integers(0, n_features, size=(n_codebooks, N_LEVELS)).astype(np.intp)
    thresholds = rng.standard_normal((n_codebooks, N_LEVELS, MAX_NODES)) * 10.0 ** rng.integers(
        -3, 4, size=(n_codebooks, N_LEVELS, MAX_NODES)
    )
    X = rng.standard_normal((n_samples, n_features))
    for c in range(n_codebooks):
        for t in range(N_LEVELS):
            rows = rng.random(n_samples) < 0.6
            nodes = rng.integers(0, 2**t, size=rows.sum())
            near = thresholds[c, t, nodes]
            half_float_step = np.abs(near) * float(np.finfo(np.float32).eps) / 2
            offsets = np.where(
                rng.random(rows.sum()) < 0.5,
                rng.integers(-3, 4, size=rows.sum()) * np.spacing(near),
                rng.uniform(-1.5, 1.5, size=rows.sum()) * half_float_step,
            )
            X[rows, split_dims[c, t]] = near + offsets
    expected = reference_encode(X, split_dims, thresholds)
    for layout in LAYOUTS:
        _assert_both_outputs_exact(
            _with_layout(X, layout), split_dims, thresholds, level, expected
        )


@pytest.mark.parametrize("level", SIMD_LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_encode_below_16_with_infinite_thresholds(level, dtype):
    rng = np.random.default_rng(2)
    X, split_dims, thresholds = _random_problem(rng, 500, 17, dtype)
    X[::7] = np.inf
    X[1::7] = -np.inf
    # Only -inf values are not greater than -inf: those rows always go left,
    # all the others always go right.
    thresholds[:] = -np.inf
    expected = np.full((500, 17), 15, dtype=np.uint8)
    expected[1::7] = 0

    for layout in LAYOUTS:
        codes = _codes(_with_layout(X, layout), split_dims, thresholds.astype(dtype), level)
        np.testing.assert_array_equal(codes, expected)


@pytest.mark.parametrize("level", SIMD_LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_encode_read_only_and_broadcast_input(level, dtype):
    rng = np.random.default_rng(0)
    X, split_dims, thresholds = _random_problem(rng, 300, 5, dtype)
    kernel_thresholds = thresholds_for_dtype(thresholds, dtype)
    kernel_thresholds.flags.writeable = False
    split_dims.flags.writeable = False
    for layout in LAYOUTS:
        X_view = _with_layout(X, layout)
        X_view.flags.writeable = False
        np.testing.assert_array_equal(
            _codes(X_view, split_dims, kernel_thresholds, level),
            reference_encode(X, split_dims, thresholds),
        )
    # Every row the same memory: a row stride of 0.
    X_broadcast = np.broadcast_to(X[7], X.shape)
    np.testing.assert_array_equal(
        _packed(X_broadcast, split_dims, kernel_thresholds, level),
        pack_codes(reference_encode(X_broadcast, split_dims, thresholds)),
    )


@pytest.mark.parametrize("level", SIMD_LEVELS)
def test_encode_packed_zeroes_extra_pairs(level):
    # More byte columns than the codebooks need: the extra ones hold code 0.
    rng = np.random.default_rng(4)
    X, split_dims, thresholds = _random_problem(rng, 70, 5, np.float32)
    kernel_thresholds = thresholds_for_dtype(thresholds, np.float32)

    packed = _packed(X, split_dims, kernel_thresholds, level, n_pairs=7)

    expected = np.zeros((3, 7, 32), dtype=np.uint8)
    expected[:, :3] = pack_codes(reference_encode(X, split_dims, thresholds))[:, :3]
    np.testing.assert_array_equal(packed, expected)


@pytest.mark.parametrize("level", SIMD_LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["C", "F"])
def test_encode_thread_count_invariance(level, dtype, layout):
    rng = np.random.default_rng(1)
    # Many tasks, and a last block that is not full.
    X, split_dims, thresholds = _random_problem(rng, 20000 + 17, 16, dtype)
    X = _with_layout(X, layout)
    kernel_thresholds = thresholds_for_dtype(thresholds, dtype)

    outputs = []
    for n_threads in [1, 2, None]:
        with threadpool_limits(limits=n_threads, user_api="openmp"):
            outputs.append(
                (
                    _codes(X, split_dims, kernel_thresholds, level),
                    _packed(X, split_dims, kernel_thresholds, level),
                )
            )
    for codes, packed in outputs[1:]:
        np.testing.assert_array_equal(codes, outputs[0][0])
        np.testing.assert_array_equal(packed, outputs[0][1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_encoding_wrappers_match_reference(dtype, layout):
    # The Python side: float64 thresholds, the active level, both layouts.
    rng = np.random.default_rng(5)
    X, split_dims, thresholds = _random_problem(rng, 333, 19, dtype)
    expected = reference_encode(X, split_dims, thresholds)
    X = _with_layout(X, layout)

    np.testing.assert_array_equal(encode_rows(X, split_dims, thresholds), expected)
    np.testing.assert_array_equal(
        encode_packed_rows(X, split_dims, thresholds, 19), pack_codes(expected)
    )


def test_encode_packed_rows_checks_the_codebook_count():
    X = np.zeros((10, 6))
    with pytest.raises(ValueError, match="codebooks"):
        encode_packed_rows(X, np.zeros((3, 4), dtype=np.intp), np.zeros((3, 4, 8)), 4)


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
        encode_codes(X, split_dims, thresholds, codes, _simd.active_level(), 1)


@pytest.mark.parametrize(
    "packed_shape",
    [(2, 2, 32), (1, 1, 32), (1, 2, 16)],  # blocks, pairs, rows per block
)
def test_encode_packed_shape_mismatch_raises(packed_shape):
    X = np.zeros((10, 6))
    split_dims = np.zeros((3, 4), dtype=np.intp)
    packed = np.zeros(packed_shape, dtype=np.uint8)
    with pytest.raises(ValueError, match="must have shape"):
        encode_packed(X, split_dims, np.zeros((3, 4, 8)), packed, _simd.active_level(), 1)


@pytest.mark.parametrize("bad_dim", [-1, 6])
def test_encode_rejects_split_dims_outside_x(bad_dim):
    X = np.zeros((10, 6))
    split_dims = np.zeros((3, 4), dtype=np.intp)
    split_dims[1, 2] = bad_dim
    codes = np.zeros((10, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="not a column"):
        encode_codes(X, split_dims, np.zeros((3, 4, 8)), codes, _simd.active_level(), 1)


def test_encode_rejects_levels_the_cpu_lacks():
    unsupported = [
        level for level in _simd.LEVELS.values()
        if _simd.level_name(level) not in _simd.available_levels()
    ] + [99]
    X = np.zeros((10, 6))
    split_dims = np.zeros((3, 4), dtype=np.intp)
    codes = np.zeros((10, 3), dtype=np.uint8)
    for level in unsupported:
        with pytest.raises(ValueError, match="not supported"):
            encode_codes(X, split_dims, np.zeros((3, 4, 8)), codes, level, 1)


def test_encode_rejects_thresholds_of_another_dtype():
    X = np.zeros((10, 6), dtype=np.float32)
    split_dims = np.zeros((3, 4), dtype=np.intp)
    thresholds = np.zeros((3, 4, 8), dtype=np.float64)
    codes = np.zeros((10, 3), dtype=np.uint8)
    with pytest.raises((TypeError, ValueError)):
        encode_codes(X, split_dims, thresholds, codes, _simd.active_level(), 1)


@pytest.mark.parametrize("level", SIMD_LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("n_samples", [5, 64, 100])
def test_encode_reports_non_finite_split_values(level, dtype, bad, n_samples):
    # The flag is set iff a value in a split column is not finite, wherever
    # the row falls: in a full row block (SIMD kernel) or the tail (scalar), in
    # either half of a 16-lane vector. A non-finite value outside the split
    # columns is never compared and must not set it.
    rng = np.random.default_rng(5)
    X, split_dims, thresholds = _random_problem(rng, n_samples, 5, dtype)
    kernel_thresholds = thresholds_for_dtype(thresholds, X.dtype)
    unused = sorted(set(range(X.shape[1])) - set(split_dims.ravel().tolist()))
    split = int(split_dims[3, 2])
    for layout in LAYOUTS:
        clean = X.copy()
        if unused:
            clean[:, unused[0]] = bad
        args = (split_dims, kernel_thresholds)
        n_threads = openmp_max_threads()
        packed = np.zeros((-(-n_samples // 32), 3, 32), np.uint8)
        codes = np.zeros((n_samples, 5), np.uint8)
        assert not encode_packed(_with_layout(clean, layout), *args, packed, level, n_threads)
        assert not encode_codes(_with_layout(clean, layout), *args, codes, level, n_threads)
        for row in {0, min(17, n_samples - 1), n_samples - 1}:
            dirty = clean.copy()
            dirty[row, split] = bad
            assert encode_packed(_with_layout(dirty, layout), *args, packed, level, n_threads)
            assert encode_codes(_with_layout(dirty, layout), *args, codes, level, n_threads)
            np.testing.assert_array_equal(codes, reference_encode(dirty, split_dims, thresholds))


@pytest.mark.parametrize("level", SIMD_LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_samples", [64, 100])
def test_encode_huge_finite_values_are_finite(level, dtype, n_samples):
    # The SIMD kernels check their values with a running sum of products,
    # which overflows on values this large: the flag must then come from the
    # values themselves (clear when all are finite, set when one is not),
    # and the codes stay exact.
    rng = np.random.default_rng(11)
    X, split_dims, thresholds = _random_problem(rng, n_samples, 5, dtype)
    scale = np.finfo(dtype).max / 8
    X = (X * scale).astype(dtype)
    X[0, split_dims[0, 0]] = np.finfo(dtype).max
    X[-1, split_dims[-1, -1]] = -np.finfo(dtype).max
    thresholds = thresholds * scale
    kernel_thresholds = thresholds_for_dtype(thresholds, X.dtype)
    args = (split_dims, kernel_thresholds)
    n_threads = openmp_max_threads()
    packed = np.zeros((-(-n_samples // 32), 3, 32), np.uint8)
    codes = np.zeros((n_samples, 5), np.uint8)
    for layout in LAYOUTS:
        assert not encode_packed(_with_layout(X, layout), *args, packed, level, n_threads)
        assert not encode_codes(_with_layout(X, layout), *args, codes, level, n_threads)
        np.testing.assert_array_equal(codes, reference_encode(X, split_dims, thresholds))
        for bad in [np.nan, np.inf]:
            dirty = X.copy()
            dirty[n_samples // 2, split_dims[2, 1]] = bad
            assert encode_packed(_with_layout(dirty, layout), *args, packed, level, n_threads)
            assert encode_codes(_with_layout(dirty, layout), *args, codes, level, n_threads)


@pytest.mark.parametrize("level", SIMD_LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_samples", [3, 4, 5, 31, 35, 36, 63, 70])
def test_encode_partial_last_block(level, dtype, n_samples):
    # The rows past the last full block of 32 (read by masked loads where
    # the SIMD kernels read X in place, F order; else by the scalar kernel):
    # their codes are exact, the rows past the data get code 0 (checked in
    # the packed output, filled with another value first), and a NaN or an
    # infinity in a split column of those rows alone is reported, one in
    # any other column not.
    rng = np.random.default_rng(n_samples)
    n_codebooks = 17
    X, split_dims, thresholds = _random_problem(rng, n_samples, n_codebooks, dtype)
    kernel_thresholds = thresholds_for_dtype(thresholds, X.dtype)
    n_threads = openmp_max_threads()
    n_pairs = n_padded_codebooks(n_codebooks) // 2
    packed = np.empty((-(-n_samples // 32), n_pairs, 32), np.uint8)
    unused = np.setdiff1d(np.arange(X.shape[1]), split_dims)
    for layout in LAYOUTS:
        _assert_both_outputs_exact(
            _with_layout(X, layout),
            split_dims,
            thresholds,
            level,
            reference_encode(X, split_dims, thresholds),
        )
        for bad in [np.nan, np.inf, -np.inf]:
            for column in [split_dims[-1, -1], *unused[:1]]:
                dirty = X.copy()
                dirty[-1, column] = bad
                nonfinite = encode_packed(
                    _with_layout(dirty, layout),
                    split_dims,
                    kernel_thresholds,
                    packed,
                    level,
                    n_threads,
                )
                assert nonfinite == (column in split_dims)
                expected = reference_encode(dirty, split_dims, thresholds)
                np.testing.assert_array_equal(packed, _expected_packed(expected, n_codebooks))


@pytest.mark.skipif(sys.platform == "win32", reason="needs mprotect")
@pytest.mark.parametrize("level", SIMD_LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_samples", [1, 7, 33, 63])
def test_encode_partial_last_block_reads_nothing_past_x(level, dtype, n_samples):
    # F-ordered X ends exactly where an unreadable page begins, and a tree
    # splits on its last column, so a kernel that read that column past the
    # last row would crash the run.
    page = mmap.PAGESIZE
    n_features, n_codebooks = 11, 5
    rng = np.random.default_rng(n_samples)
    X = rng.standard_normal((n_samples, n_features)).astype(dtype)
    split_dims = rng.integers(0, n_features, size=(n_codebooks, N_LEVELS)).astype(np.intp)
    split_dims[-1, 1] = n_features - 1
    thresholds = rng.standard_normal((n_codebooks, N_LEVELS, MAX_NODES)) / 3
    n_bytes = X.nbytes
    n_pages = -(-n_bytes // page)
    region = mmap.mmap(-1, (n_pages + 1) * page)
    guard = ctypes.addressof(ctypes.c_char.from_buffer(region)) + n_pages * page
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    prot_none = 0  # the mmap module does not name it
    assert libc.mprotect(guard, page, prot_none) == 0, ctypes.get_errno()
    try:
        at_end = np.frombuffer(region, dtype, X.size, n_pages * page - n_bytes)
        X_at_end = at_end.reshape(X.shape, order="F")
        X_at_end[...] = X
        _assert_both_outputs_exact(
            X_at_end, split_dims, thresholds, level, reference_encode(X, split_dims, thresholds)
        )
        del at_end, X_at_end
    finally:
        libc.mprotect(guard, page, mmap.PROT_READ | mmap.PROT_WRITE)
    region.close()
