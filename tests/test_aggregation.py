"""Aggregation of codes into products: float tables, and the scan's inputs.

The compiled scan itself is checked in test_scan_kernel.py; here, the NumPy
aggregation of float tables against the reference and values worked out by
hand, and the constants and dtypes the scan is given.
"""

import tracemalloc

import numpy as np
import pytest

from sklearn_amm import MaddnessTransformer, _aggregation, _reference
from sklearn_amm._aggregation import (
    aggregate_float,
    dequantization_arrays,
    totals_dtype,
)
from sklearn_amm._tables import dequantization_constants


def _codes_and_tables(n_samples, n_outputs, n_codebooks, seed=0):
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 16, size=(n_samples, n_codebooks), dtype=np.uint8)
    tables = rng.normal(size=(n_outputs, n_codebooks, 16)) * 10.0 ** rng.integers(
        -3, 4, size=(n_outputs, n_codebooks, 1)
    )
    return codes, tables


def test_float_aggregation_by_hand():
    # tables[m, c, k] = 100 * m + 10 * c + k: every sum is an exact integer.
    m, c, k = np.meshgrid(np.arange(2), np.arange(3), np.arange(16), indexing="ij")
    tables = (100.0 * m + 10.0 * c + k).astype(np.float64)
    codes = np.array([[0, 0, 0], [15, 1, 2], [3, 3, 3]], dtype=np.uint8)
    out = np.empty((3, 2))
    assert aggregate_float(codes, tables, out) is out
    # Row n, output m: 300 * m + 30 + sum of its codes.
    np.testing.assert_array_equal(out, [[30, 330], [48, 348], [39, 339]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_codebooks", [1, 7, 16, 33])
def test_float_aggregation_is_the_reference(dtype, n_codebooks):
    codes, tables = _codes_and_tables(300, 5, n_codebooks)
    out = aggregate_float(codes, tables, np.empty((300, 5), dtype=dtype))
    np.testing.assert_array_equal(
        out, _reference.aggregate_float(codes, tables, dtype=dtype)
    )


@pytest.mark.parametrize("rows_per_chunk", [1, 7, 64])
def test_float_aggregation_in_chunks_is_the_same(monkeypatch, rows_per_chunk):
    n_outputs, n_codebooks = 3, 9
    codes, tables = _codes_and_tables(200, n_outputs, n_codebooks, seed=1)
    monkeypatch.setattr(
        _aggregation, "_FLOAT_CHUNK_ENTRIES", rows_per_chunk * n_outputs * n_codebooks
    )
    out = aggregate_float(codes, tables, np.full((200, n_outputs), np.nan))
    np.testing.assert_array_equal(out, _reference.aggregate_float(codes, tables))


def test_float_aggregation_holds_one_chunk_of_entries_at_a_time(monkeypatch):
    # The gathered entries of a chunk must be freed before the next chunk
    # gathers its own: holding two at once doubled the peak memory of a long
    # transform on float tables.
    n_outputs, n_codebooks, rows_per_chunk = 4, 8, 4096
    codes, tables = _codes_and_tables(5 * rows_per_chunk, n_outputs, n_codebooks)
    monkeypatch.setattr(
        _aggregation,
        "_FLOAT_CHUNK_ENTRIES",
        rows_per_chunk * n_outputs * n_codebooks,
    )
    out = np.empty((codes.shape[0], n_outputs))
    chunk_entry_bytes = rows_per_chunk * n_outputs * n_codebooks * 8
    tracemalloc.start()
    try:
        aggregate_float(codes, tables, out)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # One chunk's entries, plus its index array and sums (a quarter of it).
    assert peak < 1.5 * chunk_entry_bytes


def test_float_aggregation_of_no_rows():
    codes, tables = _codes_and_tables(0, 2, 4)
    assert aggregate_float(codes, tables, np.empty((0, 2))).shape == (0, 2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_tables_transform_is_the_reference_in_chunks(
    make_low_rank, monkeypatch, dtype
):
    """transform of float tables: the reference's encode, then its sums."""
    X = make_low_rank(600, 24)
    B = np.random.default_rng(1).normal(size=(24, 5))
    amm = MaddnessTransformer(B, n_codebooks=6, quantize_luts=False).fit(X[:400])
    X_new = X[400:].astype(dtype)
    monkeypatch.setattr(_aggregation, "_FLOAT_CHUNK_ENTRIES", 7 * 5 * 6)
    codes = _reference.encode(X_new, amm.split_dims_, amm.split_thresholds_)
    np.testing.assert_array_equal(
        amm.transform(X_new), _reference.aggregate_float(codes, amm.luts_, dtype)
    )


@pytest.mark.parametrize("per_output", [False, True])
def test_dequantization_arrays_hold_the_constants_per_output(per_output):
    rng = np.random.default_rng(0)
    n_outputs, n_codebooks = 4, 5
    if per_output:
        offsets = rng.normal(size=(n_outputs, n_codebooks))
        scale = rng.uniform(1.0, 100.0, size=n_outputs)
    else:
        offsets, scale = rng.normal(size=n_codebooks), 37.0
    bias = np.array([2.5, 0.0, 2.5, 2.5])
    constants = dequantization_arrays(offsets, scale, bias, n_outputs)
    assert set(constants) == {np.float32, np.float64}
    for dtype, (multiplier, shift) in constants.items():
        assert multiplier.shape == shift.shape == (n_outputs,)
        assert multiplier.dtype == shift.dtype == dtype
        expected = dequantization_constants(offsets, scale, bias, dtype)
        np.testing.assert_array_equal(multiplier, expected[0])
        np.testing.assert_array_equal(shift, expected[1])


def test_float32_constants_of_too_wide_tables_are_infinite_without_warning():
    """Computed ahead for float32 rows that may never come: no overflow warning."""
    with np.errstate(over="raise"):
        constants = dequantization_arrays(np.array([1e300, 1e300]), 1e-300, 0.0, 2)
    multiplier, shift = constants[np.float32]
    assert np.isposinf(multiplier).all() and np.isposinf(shift).all()
    assert np.isfinite(constants[np.float64][0]).all()


@pytest.mark.parametrize(
    "n_codebooks, dtype",
    [(1, np.uint16), (255, np.uint16), (256, np.uint16), (257, np.int32)],
)
def test_totals_dtype_holds_255_per_padded_codebook(n_codebooks, dtype):
    # 255 * 256 < 2**16; 257 codebooks pad to 258.
    assert totals_dtype(n_codebooks) == dtype
