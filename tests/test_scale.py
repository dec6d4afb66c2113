"""Scale: ten million rows in bounded extra memory, and indices past 32 bits.

These tests allocate gigabytes, so they are marked slow (``pytest -m
slow``); they need about 12 GB of memory. Peak memory is measured two ways:
the NumPy allocations (tracemalloc sees them all), and the peak resident
set size of the process (Linux ``VmHWM``, reset through
``/proc/self/clear_refs``), which also counts the C kernels' own buffers and
thread stacks.
"""

import os
import tracemalloc

import numpy as np
import pytest

from sklearn_amm import MaddnessTransformer, _reference
from sklearn_amm._aggregation import aggregate_group_averages
from sklearn_amm._layout import pad_tables

pytestmark = pytest.mark.slow

MIB = 2**20


def _random_rows(n_samples, n_features, seed, order="C"):
    """float32 standard normal rows, generated in chunks (no float64 copy)."""
    rng = np.random.default_rng(seed)
    X = np.empty((n_samples, n_features), dtype=np.float32, order=order)
    chunk = 1 << 22
    for start in range(0, n_samples, chunk):
        rows = slice(start, start + chunk)
        X[rows] = rng.standard_normal((X[rows].shape[0], n_features), dtype=np.float32)
    return X


def _status_bytes(key):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return None


def _reset_peak_rss():
    """Reset the peak resident set size; False where Linux does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return _status_bytes("VmHWM") is not None


def _peak_extra_memory(function, result_bytes):
    """Run ``function``; its peak memory beyond its result, two ways.

    Returns ``(result, traced, resident)``: the peak of NumPy allocations
    minus the result, and the peak resident set size minus the resident
    size before the call and the result (None where it cannot be measured).
    """
    measurable = _reset_peak_rss()
    resident_before = _status_bytes("VmRSS") if measurable else None
    tracemalloc.start()
    try:
        result = function()
        _, traced_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    resident = None
    if measurable:
        resident = _status_bytes("VmHWM") - resident_before - result_bytes
    return result, traced_peak - result_bytes, resident


@pytest.mark.parametrize(
    "quantize_luts, limit_mib",
    [(True, 4), (False, 64)],
    ids=["uint8-tables", "float-tables"],
)
def test_transform_of_ten_million_rows_in_bounded_extra_memory(
    quantize_luts, limit_mib
):
    n_samples, n_features, n_outputs = 10_000_000, 32, 16
    rng = np.random.default_rng(0)
    weights = rng.normal(size=(n_features, n_outputs))
    amm = MaddnessTransformer(weights, n_codebooks=16, quantize_luts=quantize_luts)
    amm.fit(rng.normal(size=(5000, n_features)))
    X = _random_rows(n_samples, n_features, seed=1)
    result_bytes = n_samples * n_outputs * 4

    Y_hat, traced, resident = _peak_extra_memory(lambda: amm.transform(X), result_bytes)
    print(
        f"\n10M-row transform ({'uint8' if quantize_luts else 'float'} tables): "
        f"X {X.nbytes / MIB:.0f} MiB, result {result_bytes / MIB:.0f} MiB, peak extra "
        f"{traced / MIB:.2f} MiB (NumPy), "
        + ("n/a" if resident is None else f"{resident / MIB:.2f} MiB (resident)")
    )
    assert traced < limit_mib * MIB
    if resident is not None:
        assert resident < limit_mib * MIB
    # Rows of every part of X (chunk edges included) are what they are alone.
    for rows in (slice(0, 1000), slice(4_194_000, 4_195_000), slice(-1000, None)):
        np.testing.assert_array_equal(Y_hat[rows], amm.transform(X[rows]))


def test_transform_with_more_than_2_to_31_outputs_in_all():
    # N * M > 2**31: element m * N + n of the (M, N) result the kernel
    # writes is past any 32-bit index for the last outputs.
    n_samples, n_features, n_outputs = 2**22 + 5, 8, 513
    assert n_samples * n_outputs > 2**31
    rng = np.random.default_rng(2)
    amm = MaddnessTransformer(rng.normal(size=(n_features, n_outputs)), n_codebooks=8)
    amm.fit(rng.normal(size=(3000, n_features)))
    X = _random_rows(n_samples, n_features, seed=3)
    Y_hat = amm.transform(X)
    assert Y_hat.shape == (n_samples, n_outputs)
    for rows in (slice(0, 100), slice(-100, None)):
        codes = _reference.encode(X[rows], amm.split_dims_, amm.split_thresholds_)
        expected = _reference.dequantize(
            _reference.aggregate_average(codes, amm.luts_),
            amm.lut_offsets_,
            amm.lut_scale_,
            amm._bias(),
            np.float32,
        )
        np.testing.assert_array_equal(Y_hat[rows], expected)


def test_scan_writes_past_2_to_32_bytes():
    # One byte per result (group averages): N * M > 2**32 bytes, with codes
    # made directly (no X) to keep the test within memory.
    n_samples, n_codebooks, n_outputs = 2**23 + 3, 16, 520
    assert n_samples * n_outputs > 2**32
    rng = np.random.default_rng(4)
    n_blocks = -(-n_samples // 32)
    packed = np.empty((n_blocks, n_codebooks // 2, 32), dtype=np.uint8)
    pattern = rng.integers(0, 256, size=(4096, n_codebooks // 2, 32), dtype=np.uint8)
    for start in range(0, n_blocks, 4096):
        stop = min(start + 4096, n_blocks)
        packed[start:stop] = pattern[: stop - start]
    luts = rng.integers(0, 256, size=(n_outputs, n_codebooks, 16), dtype=np.uint8)
    roots = aggregate_group_averages(packed, pad_tables(luts), n_samples, n_codebooks)
    # The codes of the last block, pattern[(n_blocks - 1) % 4096], unpacked.
    last = pattern[(n_blocks - 1) % 4096]
    n_last = n_samples - 32 * (n_blocks - 1)
    codes = np.empty((n_last, n_codebooks), dtype=np.uint8)
    codes[:, 0::2] = last.T[:n_last] & 0x0F
    codes[:, 1::2] = last.T[:n_last] >> 4
    expected = _reference.aggregate_average(codes, luts) // n_codebooks
    np.testing.assert_array_equal(roots[:, -n_last:].T, expected)


def test_encoder_reads_past_2_to_32_bytes_of_x():
    # Fortran order: the second column starts 2 GiB in, and the last rows of
    # both columns lie past 2**32 bytes from the first value.
    n_samples = 2**29 + 7
    X = _random_rows(n_samples, 2, seed=5, order="F")
    assert X.nbytes > 2**32
    rng = np.random.default_rng(6)
    amm = MaddnessTransformer(rng.normal(size=(2, 1)), n_codebooks=2)
    amm.fit(rng.normal(size=(2000, 2)))
    Y_hat = amm.transform(X)
    tail = slice(-1000, None)
    np.testing.assert_array_equal(Y_hat[tail], amm.transform(np.array(X[tail])))
    np.testing.assert_array_equal(Y_hat[:1000], amm.transform(np.array(X[:1000])))
    del Y_hat, X


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_peak_memory_measurement_sees_allocations():
    """The measurement itself: a 64 MiB temporary shows up both ways."""

    def allocate():
        temporary = np.ones(64 * MIB // 8)
        return float(temporary[0])

    _, traced, resident = _peak_extra_memory(allocate, 0)
    assert traced >= 64 * MIB
    if resident is not None:
        assert resident >= 60 * MIB
