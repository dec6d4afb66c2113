"""Property tests: every compiled kernel against the NumPy reference, on inputs
hypothesis draws, at every SIMD level this CPU supports.

The inputs reach where hand-picked cases do not: any number of rows and
codebooks, float32 and float64, C and Fortran order, strided, reversed,
read-only and memory-mapped arrays, and values at the edges of the float
types (huge, subnormal, signed zeros, infinities, NaN, constant columns,
all-equal rows). Every comparison is exact: the encoder only compares, the
scan adds integers, and the de-quantization rounds as NumPy does.

The number of examples per test comes from the hypothesis profile chosen in
``conftest.py`` (SKLEARN_AMM_HYPOTHESIS_PROFILE=ci for many more).
"""

import contextlib
import itertools
import os
import tempfile

import numpy as np
import pytest
import sklearn

pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402
from sklearn_amm._kernels._cpu import openmp_max_threads  # noqa: E402
from sklearn_amm._kernels._encode import encode_codes, encode_packed  # noqa: E402

from sklearn_amm import MaddnessTransformer, _reference, _simd  # noqa: E402
from sklearn_amm._aggregation import (  # noqa: E402
    aggregate_dequantized,
    aggregate_group_averages,
    aggregate_totals,
    encode_and_aggregate_dequantized,
)
from sklearn_amm._encoding import thresholds_for_dtype  # noqa: E402
from sklearn_amm._layout import (  # noqa: E402
    n_padded_codebooks,
    pack_codes,
    pad_tables,
    unpack_codes,
)

SIMD_LEVELS = [
    pytest.param(_simd.LEVELS[name], id=name) for name in _simd.available_levels()
]
LAYOUTS = ["C", "F", "C-strided", "F-strided", "reversed", "read-only", "memmap"]
MODES = {"sum": _reference.aggregate_sum, "average": _reference.aggregate_average}


# ---- strategies ----


def special_values(dtype):
    """Values at the edges of ``dtype``: each is a boundary some kernel meets."""
    info = np.finfo(dtype)
    edges = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        1e30,
        -1e30,
        float(info.max),
        -float(info.max),
        float(info.tiny),  # smallest normal
        float(info.smallest_subnormal),
        -float(info.smallest_subnormal),
        np.inf,
        -np.inf,
        np.nan,
    ]
    # Rounded to ``dtype``: hypothesis wants values the dtype holds exactly.
    return [float(dtype(value)) for value in edges]


def values(dtype):
    """Any float of ``dtype`` (NaN and infinities too), specials often."""
    width = 32 if dtype == np.float32 else 64
    largest = float(np.finfo(dtype).max)
    return st.one_of(
        # Bounded, so that no draw is a float64 too large for float32 (which
        # hypothesis would reject); infinities and NaN come from the edges.
        st.floats(min_value=-largest, max_value=largest, width=width),
        st.sampled_from(special_values(dtype)),
        st.integers(-3, 3).map(float),  # ties between rows and thresholds
    )


@st.composite
def value_matrices(draw, dtype, max_rows=130, max_features=12, finite=False):
    """(n_samples, n_features) values with a structure the encoder must not
    trip over: plain, constant columns, all-equal rows, or a few distinct
    values."""
    n_samples = draw(st.integers(0, max_rows))
    n_features = draw(st.integers(1, max_features))
    elements = values(dtype)
    if finite:
        width = 32 if dtype == np.float32 else 64
        elements = st.floats(width=width, allow_nan=False, allow_infinity=False)
    X = draw(hnp.arrays(dtype, (n_samples, n_features), elements=elements))
    structure = draw(st.sampled_from(["plain", "constant columns", "equal rows"]))
    if structure == "constant columns" and n_samples:
        X[:] = X[0]
    elif structure == "equal rows" and n_samples:
        X[:] = X[:, :1]
    return X


@st.composite
def trees(draw, X, max_codebooks=40):
    """split_dims and float64 thresholds for the columns of ``X``.

    Thresholds are values of ``X`` (ties), their float64 neighbours (which
    float32 rounding must not move across a value), edge values, and NaN
    (never learned, but "not greater" must still send every row left).
    """
    n_features = X.shape[1]
    n_codebooks = draw(st.integers(1, max_codebooks))
    split_dims = draw(
        hnp.arrays(np.intp, (n_codebooks, 4), elements=st.integers(0, n_features - 1))
    )
    pool = [float(v) for v in np.unique(X)[:50]] if X.size else [0.0]
    near = st.sampled_from(pool).flatmap(lambda v: st.sampled_from(neighbours(v)))
    # A few drawn values spread over the (C, 4, 8) nodes by a drawn seed:
    # drawing up to 1280 thresholds one by one would make each example slow.
    choices = draw(
        st.lists(st.one_of(near, values(np.float64)), min_size=1, max_size=12)
    )
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    thresholds = np.array(choices)[rng.integers(len(choices), size=(n_codebooks, 4, 8))]
    return split_dims, thresholds


def neighbours(value):
    """``value`` and the float64s on either side of it."""
    with np.errstate(over="ignore"):  # the neighbours of the largest float
        return [value, np.nextafter(value, np.inf), np.nextafter(value, -np.inf)]


@contextlib.contextmanager
def layout(X, name):
    """A view of the values of ``X`` with the memory layout ``name``."""
    if name == "C":
        yield np.ascontiguousarray(X)
    elif name == "F":
        yield np.asfortranarray(X)
    elif name == "read-only":
        view = np.array(X, order="F")
        view.flags.writeable = False
        yield view
    elif name == "memmap":
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "X.dat")
            shape = X.shape if X.size else (1, X.shape[1])
            written = np.memmap(path, dtype=X.dtype, mode="w+", shape=shape)
            written[: X.shape[0]] = X
            written.flush()
            del written
            mapped = np.memmap(path, dtype=X.dtype, mode="r", shape=shape)
            yield mapped[: X.shape[0]]
            del mapped
    else:
        # Views into a larger buffer of NaN, which sends a row left: reading
        # a value outside the view shows up as a wrong code.
        n_samples, n_features = X.shape
        order = "F" if name == "F-strided" else "C"
        buffer = np.full(
            (2 * n_samples + 1, 3 * n_features), np.nan, dtype=X.dtype, order=order
        )
        view = buffer[-2::-2, ::-3] if name == "reversed" else buffer[1::2, 1::3]
        view[...] = X
        yield view


def _split_values_nonfinite(X, split_dims):
    """Whether a value of a split column of X is NaN or infinite."""
    return not np.isfinite(X[:, np.unique(split_dims)]).all()


def dequantized(totals, multiplier, shift):
    """``float(total) * multiplier + shift``, rounded twice in the dtype."""
    with np.errstate(all="ignore"):
        expected = totals.astype(multiplier.dtype)
        expected *= multiplier
        expected += shift
    return expected


# ---- encoder ----


@pytest.mark.parametrize("level", SIMD_LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(data=st.data())
def test_encoder_matches_reference(level, dtype, data):
    X = data.draw(value_matrices(dtype), label="X")
    split_dims, thresholds = data.draw(trees(X), label="trees")
    name = data.draw(st.sampled_from(LAYOUTS), label="layout")
    expected = _reference.encode(X, split_dims, thresholds)
    kernel_thresholds = thresholds_for_dtype(thresholds, X.dtype)
    n_codebooks = split_dims.shape[0]
    n_blocks = -(-X.shape[0] // 32)
    # Extra pairs past the codebooks must come out zero, whatever was there.
    n_pairs = n_padded_codebooks(n_codebooks) // 2 + data.draw(st.integers(0, 2))
    with layout(X, name) as X_view:
        codes = np.full((X.shape[0], n_codebooks), 0xEE, dtype=np.uint8)
        codes_nonfinite = encode_codes(
            X_view, split_dims, kernel_thresholds, codes, level, openmp_max_threads()
        )
        packed = np.full((n_blocks, n_pairs, 32), 0xA5, dtype=np.uint8)
        packed_nonfinite = encode_packed(
            X_view, split_dims, kernel_thresholds, packed, level, openmp_max_threads()
        )
    np.testing.assert_array_equal(codes, expected)
    # The report covers exactly the values compared: the split columns.
    assert codes_nonfinite == packed_nonfinite == _split_values_nonfinite(X, split_dims)
    expected_packed = np.zeros_like(packed)
    reference_packed = pack_codes(expected)
    expected_packed[:, : reference_packed.shape[1]] = reference_packed
    np.testing.assert_array_equal(packed, expected_packed)


@given(
    codes=st.integers(0, 100).flatmap(
        lambda n: st.integers(1, 40).flatmap(
            lambda c: hnp.arrays(np.uint8, (n, c), elements=st.integers(0, 15))
        )
    )
)
def test_pack_unpack_round_trip(codes):
    # Zero rows included: pack_codes used to fail on them.
    n_samples, n_codebooks = codes.shape
    packed = pack_codes(codes)
    assert packed.shape == (
        -(-n_samples // 32),
        n_padded_codebooks(n_codebooks) // 2,
        32,
    )
    np.testing.assert_array_equal(unpack_codes(packed, n_samples, n_codebooks), codes)


@pytest.mark.parametrize("n_codebooks", [1, 2, 17])
def test_pack_codes_of_no_rows(n_codebooks):
    # Regression: pack_codes failed on zero rows (a reshape with -1 and 0).
    packed = pack_codes(np.zeros((0, n_codebooks), dtype=np.uint8))
    assert packed.shape == (0, n_padded_codebooks(n_codebooks) // 2, 32)
    assert unpack_codes(packed, 0, n_codebooks).shape == (0, n_codebooks)


# ---- scan ----


@st.composite
def scan_problems(draw, max_codebooks=300):
    """Codes and uint8 tables: random, all 0, all 255, or 0/255 only."""
    n_samples = draw(st.integers(0, 100))
    n_codebooks = draw(st.one_of(st.integers(1, 40), st.integers(240, max_codebooks)))
    n_outputs = draw(st.integers(1, 7))
    codes = draw(
        hnp.arrays(np.uint8, (n_samples, n_codebooks), elements=st.integers(0, 15))
    )
    kind = draw(st.sampled_from(["random", "zeros", "full", "extremes"]))
    shape = (n_outputs, n_codebooks, 16)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if kind == "random":
        luts = rng.integers(0, 256, size=shape, dtype=np.uint8)
    elif kind == "extremes":
        luts = rng.choice(np.array([0, 255], dtype=np.uint8), size=shape)
    else:
        luts = np.full(shape, 0 if kind == "zeros" else 255, dtype=np.uint8)
    return codes, luts


def constants(dtype, n_outputs):
    """Per-output multipliers and shifts, edge values included."""
    elements = values(dtype)
    return st.tuples(
        hnp.arrays(dtype, n_outputs, elements=elements),
        hnp.arrays(dtype, n_outputs, elements=elements),
    )


@pytest.mark.parametrize("level", SIMD_LEVELS)
@pytest.mark.parametrize("mode", sorted(MODES))
@given(problem=scan_problems(), data=st.data())
def test_scan_totals_match_reference(level, mode, problem, data):
    codes, luts = problem
    n_samples, n_codebooks = codes.shape
    expected = MODES[mode](codes, luts)
    packed, tables = pack_codes(codes), pad_tables(luts)
    totals = aggregate_totals(
        packed, tables, n_samples, n_codebooks, mode == "average", level
    )
    np.testing.assert_array_equal(totals.T, expected)
    if mode == "average" and n_codebooks <= 16:
        width = 1 << (n_codebooks - 1).bit_length()
        roots = aggregate_group_averages(packed, tables, n_samples, n_codebooks, level)
        np.testing.assert_array_equal(roots.T.astype(np.int64) * width, expected)


@pytest.mark.parametrize("level", SIMD_LEVELS)
@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(problem=scan_problems(max_codebooks=260), data=st.data())
def test_scan_dequantized_matches_reference(level, mode, dtype, problem, data):
    codes, luts = problem
    n_samples, n_codebooks = codes.shape
    n_outputs = luts.shape[0]
    multiplier, shift = data.draw(constants(dtype, n_outputs), label="constants")
    # The kernel writes into a block of columns of a larger array: the
    # columns around it must keep their sentinel.
    left, right = data.draw(st.integers(0, 40)), data.draw(st.integers(0, 40))
    canvas = np.full((n_outputs, left + n_samples + right), 7.0, dtype=dtype)
    out = canvas[:, left : left + n_samples]
    aggregate_dequantized(
        pack_codes(codes),
        pad_tables(luts),
        n_samples,
        n_codebooks,
        mode == "average",
        multiplier,
        shift,
        level,
        out=out,
    )
    expected = dequantized(MODES[mode](codes, luts), multiplier, shift)
    np.testing.assert_array_equal(out.T, expected)
    assert np.all(canvas[:, :left] == 7.0) and np.all(
        canvas[:, left + n_samples :] == 7.0
    )


@pytest.mark.parametrize("level", SIMD_LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("out_dtype", [np.float32, np.float64])
@given(data=st.data())
def test_fused_encode_and_scan_match_reference(level, dtype, out_dtype, data):
    """Either output dtype from either input dtype."""
    X = data.draw(value_matrices(dtype), label="X")
    split_dims, thresholds = data.draw(trees(X, max_codebooks=20), label="trees")
    n_codebooks = split_dims.shape[0]
    n_outputs = data.draw(st.integers(1, 6), label="n_outputs")
    luts = data.draw(
        hnp.arrays(
            np.uint8, (n_outputs, n_codebooks, 16), elements=st.integers(0, 255)
        ),
        label="luts",
    )
    multiplier, shift = data.draw(constants(out_dtype, n_outputs), label="constants")
    average = data.draw(st.booleans(), label="average")
    name = data.draw(st.sampled_from(LAYOUTS), label="layout")

    def fused(X_view):
        return encode_and_aggregate_dequantized(
            X_view,
            split_dims,
            thresholds,
            pad_tables(luts),
            average,
            multiplier,
            shift,
            level,
        )

    with layout(X, name) as X_view:
        # NaN or infinity in a split column is scikit-learn's error, unless
        # assume_finite is set: then the codes are the reference's.
        if _split_values_nonfinite(X, split_dims):
            with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
                fused(X_view)
        with sklearn.config_context(assume_finite=True):
            Y_hat = fused(X_view)
    assert Y_hat.dtype == out_dtype
    codes = _reference.encode(X, split_dims, thresholds)
    totals = MODES["average" if average else "sum"](codes, luts)
    np.testing.assert_array_equal(Y_hat.T, dequantized(totals, multiplier, shift))


# ---- the estimator, end to end ----


@st.composite
def training_sets(draw):
    """Finite rows at scales from subnormal to 1e30, with the structures of
    spec oracle 11.14, and weights whose output columns differ in scale by
    up to 60 orders of magnitude: one shared 8-bit scale then saturates the
    tables of the small outputs."""
    n_samples = draw(st.integers(1, 80))
    n_features = draw(st.integers(1, 10))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    scale = draw(st.sampled_from([1.0, 1e30, 1e-30, 1e-310, 1e100]))
    structure = draw(
        st.sampled_from(
            ["plain", "integers", "constant column", "equal rows", "one row"]
        )
    )
    if structure == "integers":
        X = np.round(3 * X)
    elif structure == "constant column":
        X[:, rng.integers(n_features)] = 1.0
    elif structure == "equal rows":
        X[:] = X[0]
    elif structure == "one row":
        X = X[:1]
    X *= scale
    n_outputs = draw(st.integers(1, 5))
    weights = rng.standard_normal((n_features, n_outputs))
    weights *= 10.0 ** rng.integers(-30, 31, size=n_outputs)
    return X, weights


# One row too large for float32 whose only split column holds a zero: the
# infinities lie in columns no tree reads, so transform does not raise.
_ONE_ROW = np.array([[-2e100, 4e100, 1e100, -1e100, 0.0, -1e100, -2e100, 1e100]])
_ONE_ROW_WEIGHTS = np.array(
    [[6.3e-19], [9.0e-19], [4.7e-19], [3.3e-18], [1.4e-18], [-7.0e-20], [5.2e-19], [8.7e-20]]
)


@pytest.mark.parametrize("level", SIMD_LEVELS)
@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    data=training_sets(),
    n_codebooks=st.integers(1, 20),
    options=st.sampled_from(
        list(itertools.product(["average", "sum"], ["shared", "per_output"]))
    ),
    dtype=st.sampled_from([np.float32, np.float64]),
    order=st.sampled_from(["C", "F"]),
)
@example(
    data=(_ONE_ROW, _ONE_ROW_WEIGHTS),
    n_codebooks=1,
    options=("average", "shared"),
    dtype=np.float32,
    order="C",
)
def test_transform_is_the_reference_composition(
    level, data, n_codebooks, options, dtype, order
):
    X, weights = data
    aggregation, lut_scaling = options
    amm = MaddnessTransformer(
        weights,
        n_codebooks=n_codebooks,
        aggregation=aggregation,
        lut_scaling=lut_scaling,
    )
    amm.fit(X)
    with np.errstate(over="ignore"):
        X_new = np.asarray(X, dtype=dtype, order=order)
    # Values too large for float32 become infinities. transform checks the
    # values it compares, those of the split columns: an infinity in another
    # column is never read.
    if not np.all(np.isfinite(X_new[:, amm.split_dims_.ravel()])):
        with pytest.raises(ValueError, match="infinity or a value too large"):
            with np.errstate(invalid="ignore"):
                amm.transform(X_new)
        return
    with _simd.simd_level(_simd.level_name(level)), np.errstate(over="ignore"):
        Y_hat = amm.transform(X_new)
    assert Y_hat.shape == (X.shape[0], weights.shape[1]) and Y_hat.dtype == dtype
    codes = _reference.encode(X_new, amm.split_dims_, amm.split_thresholds_)
    with np.errstate(over="ignore", invalid="ignore"):
        expected = _reference.dequantize(
            MODES[aggregation](codes, amm.luts_),
            amm.lut_offsets_,
            amm.lut_scale_,
            amm._bias(),
            dtype,
        )
    np.testing.assert_array_equal(Y_hat, expected)
    # Finite whenever the products fit in the dtype (float64 always does
    # here; float32 overflows past about 3e38).
    if dtype == np.float64 or np.abs(X @ weights).max() < 1e37:
        assert np.all(np.isfinite(Y_hat))
