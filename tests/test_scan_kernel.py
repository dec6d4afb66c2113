"""The compiled scan against the NumPy reference, bit for bit, at every SIMD level.

The scan (``_kernels/_scan.pyx`` over ``scan.c``) adds or averages the uint8
table entries that packed codes select. Its integer totals must equal
``_reference.aggregate_sum`` / ``aggregate_average`` exactly, and its fused
de-quantization must round exactly as ``_reference.dequantize`` does: one
float multiply, then one float add, in the output dtype.
"""

import itertools
import warnings

import numpy as np
import pytest
import sklearn
from threadpoolctl import threadpool_limits

from sklearn_amm import MaddnessTransformer, _maddness, _reference, _simd
from sklearn_amm._aggregation import (
    aggregate_dequantized,
    aggregate_group_averages,
    aggregate_totals,
    totals_dtype,
)
from sklearn_amm._kernels import _scan
from sklearn_amm._layout import n_padded_codebooks, pack_codes, pad_tables

LEVELS = [_simd.LEVELS[name] for name in _simd.available_levels()]
LEVEL_IDS = [_simd.level_name(level) for level in LEVELS]
MODES = {"sum": _reference.aggregate_sum, "average": _reference.aggregate_average}


def make_problem(n_samples, n_codebooks, n_outputs, seed, tables="spread"):
    """Random codes and uint8 tables; "spread" tables hit both 0 and 255."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 16, size=(n_samples, n_codebooks), dtype=np.uint8)
    if tables == "spread":
        luts = rng.integers(0, 256, size=(n_outputs, n_codebooks, 16), dtype=np.uint8)
        luts.reshape(-1)[::7] = 255
        luts.reshape(-1)[3::11] = 0
    else:
        luts = np.full((n_outputs, n_codebooks, 16), tables, dtype=np.uint8)
    return codes, luts


def constants(n_outputs, dtype, seed):
    """Per-output multipliers and shifts, different for every output."""
    rng = np.random.default_rng(seed)
    multiplier = rng.uniform(-2.0, 2.0, n_outputs).astype(dtype)
    shift = rng.normal(0.0, 100.0, n_outputs).astype(dtype)
    return multiplier, shift


def dequantized_reference(totals, multiplier, shift):
    """``float(total) * multiplier + shift``, rounded twice in the dtype."""
    expected = totals.astype(multiplier.dtype)
    expected *= multiplier
    expected += shift
    return expected


def check_all_outputs(codes, luts, mode, level, n_samples=None):
    """Integer totals and both fused float outputs equal the reference."""
    n_samples = codes.shape[0] if n_samples is None else n_samples
    codes = codes[:n_samples]
    n_outputs, n_codebooks = luts.shape[:2]
    packed, tables = pack_codes(codes), pad_tables(luts)
    average = mode == "average"
    expected = MODES[mode](codes, luts)

    totals = aggregate_totals(packed, tables, n_samples, n_codebooks, average, level)
    assert totals.dtype == totals_dtype(n_codebooks)
    np.testing.assert_array_equal(totals.T, expected)
    for dtype in (np.float32, np.float64):
        multiplier, shift = constants(n_outputs, dtype, seed=n_samples)
        Y_hat = aggregate_dequantized(
            packed, tables, n_samples, n_codebooks, average, multiplier, shift, level
        )
        assert Y_hat.dtype == dtype
        np.testing.assert_array_equal(
            Y_hat.T, dequantized_reference(expected, multiplier, shift)
        )


@pytest.mark.parametrize("level", LEVELS, ids=LEVEL_IDS)
@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("n_codebooks", [1, 2, 3, 4, 8, 15, 16, 17, 32, 64])
@pytest.mark.parametrize("n_outputs", [1, 2, 3, 12, 100])
def test_matches_reference_on_small_inputs(level, mode, n_codebooks, n_outputs):
    codes, luts = make_problem(100, n_codebooks, n_outputs, seed=n_codebooks)
    for n_samples in (1, 31, 32, 33, 100):
        check_all_outputs(codes, luts, mode, level, n_samples)


@pytest.mark.parametrize("level", LEVELS, ids=LEVEL_IDS)
@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize(
    "n_codebooks", [1, 2, 3, 5, 8, 9, 15, 16, 17, 31, 33, 64, 300]
)
def test_row_counts_around_two_blocks(level, mode, n_codebooks):
    # An AVX-512 vector holds the rows of two blocks: these counts leave its
    # second block missing (an odd last block), partial, or full, and the
    # first one partial. 7 outputs leave a partial tile on every path.
    codes, luts = make_problem(97, n_codebooks, 7, seed=12)
    for n_samples in (1, 31, 32, 33, 63, 64, 65, 95, 96, 97):
        check_all_outputs(codes, luts, mode, level, n_samples)


@pytest.mark.parametrize("level", LEVELS, ids=LEVEL_IDS)
@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("tables", [0, 255])
@pytest.mark.parametrize("n_codebooks", [1, 2, 5, 16, 17, 48])
def test_constant_tables(level, mode, tables, n_codebooks):
    # All-255 tables give the largest totals (255 * n_padded at most, where
    # averages sign-extended from bytes would turn negative); all-zero
    # tables give zeros.
    codes, luts = make_problem(70, n_codebooks, 5, seed=1, tables=tables)
    check_all_outputs(codes, luts, mode, level)


@pytest.mark.parametrize("level", LEVELS, ids=LEVEL_IDS)
@pytest.mark.parametrize("n_codebooks", [1, 3, 8, 16, 17, 40, 64])
def test_both_sides_of_every_chunk_boundary(level, n_codebooks):
    # Row blocks are scanned in cache chunks, a few outputs at a time; the
    # rows just before and after a chunk end, and a last partial block in
    # the second chunk, must all land in their own place: an output position
    # computed from the row within the chunk instead of the global row would
    # overwrite the first chunk's rows (the authors' kernel does this for
    # the second output of a tile). At C=40 a chunk is an odd number of
    # blocks.
    chunk = _scan.chunk_rows(n_codebooks)
    codes, luts = make_problem(2 * chunk + 33, n_codebooks, 5, seed=2)
    for n_samples in (chunk - 1, chunk, chunk + 1, 2 * chunk + 33):
        for mode in MODES:
            check_all_outputs(codes, luts, mode, level, n_samples)


@pytest.mark.parametrize("level", LEVELS, ids=LEVEL_IDS)
@pytest.mark.parametrize("n_codebooks", [16, 33])
def test_many_rows(level, n_codebooks):
    codes, luts = make_problem(70000, n_codebooks, 3, seed=3)
    for mode in MODES:
        check_all_outputs(codes, luts, mode, level)


@pytest.mark.parametrize("level", LEVELS, ids=LEVEL_IDS)
@pytest.mark.parametrize("n_codebooks", [255, 256, 257, 300])
def test_more_than_256_padded_codebooks_use_int32(level, n_codebooks):
    # 16-bit sums hold 256 padded codebooks (255 * 256 < 2**16); beyond that
    # the kernel adds 16-bit partial totals in 32 bits.
    expected_dtype = np.uint16 if n_padded_codebooks(n_codebooks) <= 256 else np.int32
    assert totals_dtype(n_codebooks) == expected_dtype
    codes, luts = make_problem(45, n_codebooks, 3, seed=4, tables=255)
    check_all_outputs(codes, luts, "sum", level)
    codes, luts = make_problem(45, n_codebooks, 3, seed=4)
    for mode in MODES:
        check_all_outputs(codes, luts, mode, level)


@pytest.mark.parametrize("level", LEVELS, ids=LEVEL_IDS)
@pytest.mark.parametrize("n_codebooks", [1, 2, 3, 4, 8, 15, 16])
def test_group_averages_are_totals_over_width(level, n_codebooks):
    # One averaging group: the uint8 tree root the authors' kernel writes.
    width = 1 << (n_codebooks - 1).bit_length()
    codes, luts = make_problem(
        2 * _scan.chunk_rows(n_codebooks) + 45, n_codebooks, 6, 10
    )
    for n_samples in (1, 33, 63, 64, 65, 97, 100, codes.shape[0]):
        packed, tables = pack_codes(codes[:n_samples]), pad_tables(luts)
        roots = aggregate_group_averages(packed, tables, n_samples, n_codebooks, level)
        assert roots.dtype == np.uint8
        expected = _reference.aggregate_average(codes[:n_samples], luts)
        np.testing.assert_array_equal(roots.T.astype(np.int64) * width, expected)


def test_group_averages_need_one_group():
    codes, luts = make_problem(40, 17, 2, seed=11)
    packed, tables = pack_codes(codes), pad_tables(luts)
    with pytest.raises(ValueError, match="n_codebooks <= 16"):
        aggregate_group_averages(packed, tables, 40, 17)
    codes, luts = make_problem(40, 16, 2, seed=11)
    packed, tables = pack_codes(codes), pad_tables(luts)
    out = np.empty((2, 40), np.uint8)
    with pytest.raises(ValueError, match="average=True"):
        _scan.scan_totals(packed, tables, 40, 16, False, out, _simd.active_level(), 1)


@pytest.mark.parametrize("level", LEVELS, ids=LEVEL_IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_dequantization_constants(level, dtype):
    # C <= 16 folds the tree width into the multiplier, which is exact only
    # while width * multiplier is finite; past that the kernel must still
    # round like the reference (and give 0 * multiplier + shift for 0).
    info = np.finfo(dtype)
    multiplier = np.array(
        [info.max, info.max / 8, info.tiny / 4, 0.0, -1.5, info.smallest_subnormal],
        dtype=dtype,
    )
    shift = np.array([1.0, -info.max, 0.0, 2.5, np.inf, -0.0], dtype=dtype)
    for n_codebooks in (1, 2, 16, 17):
        codes, luts = make_problem(50, n_codebooks, len(multiplier), seed=5)
        luts[:, :, 0] = 0  # some totals are exactly zero
        codes[:10] = 0
        packed, tables = pack_codes(codes), pad_tables(luts)
        for mode in MODES:
            expected = MODES[mode](codes, luts)
            Y_hat = aggregate_dequantized(
                packed,
                tables,
                50,
                n_codebooks,
                mode == "average",
                multiplier,
                shift,
                level,
            )
            with np.errstate(over="ignore", invalid="ignore"):
                reference = dequantized_reference(expected, multiplier, shift)
            np.testing.assert_array_equal(Y_hat.T, reference)


@pytest.mark.parametrize("level", LEVELS, ids=LEVEL_IDS)
def test_writes_no_row_past_n_samples(level):
    # Rows of the last block past n_samples are computed but never stored:
    # the output may be a view whose rows are followed by other data.
    for n_codebooks, n_samples in itertools.product([3, 16, 40], [1, 31, 45, 64]):
        codes, luts = make_problem(n_samples, n_codebooks, 3, seed=6)
        packed, tables = pack_codes(codes), pad_tables(luts)
        expected = _reference.aggregate_average(codes, luts)
        for dtype in (totals_dtype(n_codebooks), np.int32, np.float32, np.float64):
            buffer = np.full((3, n_samples + 40), 77, dtype=dtype)
            out = buffer[:, :n_samples]
            if np.issubdtype(dtype, np.integer):
                _scan.scan_totals(
                    packed, tables, n_samples, n_codebooks, True, out, level, 1
                )
                np.testing.assert_array_equal(out.T, expected)
            else:
                ones, zeros = np.ones(3, dtype), np.zeros(3, dtype)
                _scan.scan_dequantized(
                    packed,
                    tables,
                    n_samples,
                    n_codebooks,
                    True,
                    ones,
                    zeros,
                    out,
                    level,
                    1,
                )
                np.testing.assert_array_equal(out.T, expected.astype(dtype))
            assert np.all(buffer[:, n_samples:] == 77)


def test_output_is_identical_for_any_thread_count():
    # Each output element depends on one row only; threads split the rows.
    codes, luts = make_problem(70001, 16, 12, seed=7)
    packed, tables = pack_codes(codes), pad_tables(luts)
    multiplier, shift = constants(12, np.float32, seed=7)
    results = []
    for n_threads in (1, 2, 3):
        with threadpool_limits(n_threads, user_api="openmp"):
            results.append(
                (
                    aggregate_totals(packed, tables, 70001, 16, True),
                    aggregate_dequantized(
                        packed, tables, 70001, 16, False, multiplier, shift
                    ),
                )
            )
    for totals, Y_hat in results[1:]:
        np.testing.assert_array_equal(totals, results[0][0])
        np.testing.assert_array_equal(Y_hat, results[0][1])


def test_padding_matches_the_layout():
    for n_codebooks in range(1, 600):
        assert _scan.n_padded_codebooks(n_codebooks) == n_padded_codebooks(n_codebooks)


def test_rejects_inconsistent_shapes():
    codes, luts = make_problem(40, 5, 2, seed=8)
    packed, tables = pack_codes(codes), pad_tables(luts)
    out = np.empty((2, 40), np.uint16)
    level = _simd.active_level()
    with pytest.raises(ValueError, match="codes must have shape"):
        _scan.scan_totals(packed, tables, 70, 5, True, out, level, 1)
    with pytest.raises(ValueError, match="codes must have shape"):
        _scan.scan_totals(packed, tables, 40, 9, True, out, level, 1)
    with pytest.raises(ValueError, match="tables must have shape"):
        _scan.scan_totals(
            packed, np.ascontiguousarray(tables[:, :6]), 40, 5, True, out, level, 1
        )
    with pytest.raises(ValueError, match="out must have shape"):
        _scan.scan_totals(packed, tables, 40, 5, True, out[:1], level, 1)
    with pytest.raises(ValueError, match="out must have contiguous rows"):
        _scan.scan_totals(
            packed, tables, 40, 5, True, np.empty((40, 2), np.uint16).T, level, 1
        )
    with pytest.raises(ValueError, match="n_codebooks must be >= 1"):
        _scan.scan_totals(packed, tables, 40, 0, True, out, level, 1)
    ones = np.ones(3, np.float32)
    with pytest.raises(ValueError, match="multiplier and shift"):
        _scan.scan_dequantized(
            packed,
            tables,
            40,
            5,
            True,
            ones,
            ones,
            np.empty((2, 40), np.float32),
            level,
            1,
        )
    codes, luts = make_problem(40, 257, 2, seed=8)
    with pytest.raises(ValueError, match="uint16 totals need at most 256"):
        _scan.scan_totals(
            pack_codes(codes), pad_tables(luts), 40, 257, True, out, level, 1
        )


# ---- the estimator's transform ----


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(9)
    X = rng.normal(size=(3000, 8)) @ rng.normal(size=(8, 40))
    W = rng.normal(size=(40, 7))
    # Both aggregations fitted: transform uses the one fitted with.
    models = {
        (n_codebooks, aggregation): MaddnessTransformer(
            W, n_codebooks=n_codebooks, aggregation=aggregation
        ).fit(X[:2000])
        for n_codebooks in (5, 16, 17, 40)
        for aggregation in ("average", "sum")
    }
    return X[2000:], models


@pytest.mark.parametrize("n_codebooks", [5, 16, 17, 40])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("assume_finite", [False, True])
def test_transform_is_the_reference_composition(
    fitted, n_codebooks, dtype, order, assume_finite
):
    X_all, models = fitted
    X = np.asarray(X_all[:999], dtype=dtype, order=order)
    for aggregation in ("average", "sum"):
        amm = models[n_codebooks, aggregation]
        codes = _reference.encode(X, amm.split_dims_, amm.split_thresholds_)
        bias = _reference.averaging_bias(n_codebooks) if aggregation == "average" else 0
        expected = _reference.dequantize(
            MODES[aggregation](codes, amm.luts_),
            amm.lut_offsets_,
            amm.lut_scale_,
            bias,
            dtype,
        )
        with sklearn.config_context(assume_finite=assume_finite):
            Y_hat = amm.transform(X)
        assert Y_hat.dtype == dtype
        assert (
            Y_hat.flags.f_contiguous
        )  # the kernel's (n_outputs, n_samples), transposed
        np.testing.assert_array_equal(Y_hat, expected)


@pytest.mark.parametrize("n_codebooks", [5, 16, 17, 40])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
def test_float64_output_with_offset_is_the_reference_composition(
    fitted, n_codebooks, dtype, order
):
    """What the wrappers ask for: float64 from any rows, an offset in the shift."""
    X_all, models = fitted
    X = np.asarray(X_all[:999], dtype=dtype, order=order)
    for aggregation in ("average", "sum"):
        amm = models[n_codebooks, aggregation]
        offset = np.random.default_rng(n_codebooks).normal(size=amm.n_outputs_) * 1e3
        codes = _reference.encode(X, amm.split_dims_, amm.split_thresholds_)
        bias = _reference.averaging_bias(n_codebooks) if aggregation == "average" else 0
        # The de-quantization's constants, in float64 as the result.
        multiplier = 1.0 / np.asarray(amm.lut_scale_)
        shift = np.sum(amm.lut_offsets_, axis=-1) - bias / np.asarray(amm.lut_scale_)
        expected = MODES[aggregation](codes, amm.luts_).astype(np.float64)
        expected *= multiplier
        expected += shift + offset
        Y_hat = amm._transform(X, np.float64, offset)
        assert Y_hat.dtype == np.float64
        np.testing.assert_array_equal(Y_hat, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
def test_transform_reads_x_in_place(fitted, monkeypatch, dtype, order):
    # Under assume_finite the encoder gets the caller's array itself: no
    # copy and no dtype conversion, whatever the memory order.
    X_all, models = fitted
    X = np.asarray(X_all[:100], dtype=dtype, order=order)
    seen = []
    encode = _maddness.encode_and_aggregate_dequantized

    def spy(X_encoded, *args):
        seen.append(X_encoded)
        return encode(X_encoded, *args)

    monkeypatch.setattr(_maddness, "encode_and_aggregate_dequantized", spy)
    with sklearn.config_context(assume_finite=True):
        models[16, "average"].transform(X)
    assert seen[0] is X


def test_transform_fast_path_keeps_feature_name_checks(fitted):
    pd = pytest.importorskip("pandas")
    X_all, models = fitted
    amm = MaddnessTransformer(models[5, "average"].weights_, n_codebooks=5)
    columns = [f"x{i}" for i in range(X_all.shape[1])]
    amm.fit(pd.DataFrame(X_all, columns=columns))
    with sklearn.config_context(assume_finite=True):
        with pytest.warns(UserWarning, match="feature names"):
            amm.transform(X_all)
        with pytest.raises(ValueError, match="features"), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the names, again
            amm.transform(X_all[:, :5])
