"""MaddnessTransformer.transform against NumPy's ``X @ W``, and the scan kernel alone.

Usage::

    python benchmarks/bench_transform.py

Prints, in one run:

* ``transform`` against ``X @ W`` in the same dtype, one thread for both
  (threadpoolctl limits BLAS and OpenMP), under
  ``sklearn.config_context(assume_finite=True)``, for the shapes of the
  authors' tasks at C=16 (and C in {8, 32, 64} on CIFAR-100), each with
  F-ordered float32, C-ordered float32 and C-ordered float64 X. Beside each:
  the bytes of X the transform must read (F order: the split columns; C
  order: the cache lines holding them) and the bandwidth that implies,
  against the single-core read bandwidth measured in the same run;
* kernel-only rows per second: the encoder, and the scan (N=100000, M=12)
  into uint16 totals, into uint8 group averages (C=16: the authors' output),
  or with fused float32 de-quantization, at every SIMD level the CPU
  supports (and its speed over AVX2), beside the rows per second at which
  the output could be written at the write bandwidth measured for its size;
* what ``transform`` costs beyond its kernels at N=1000;
* the 2-thread speed-up on the large shape;
* with ``--sections aggregation``: the cost of the exact-sum aggregation and
  of per-output table scales against the paper's setting.

Every time is the median of at least 7 repeats (more for short ones). Data
are synthetic low-rank Gaussian rows; models are fitted on 10000 rows,
which does not change the speed of transform.
"""

import argparse
import platform
import time

import numpy as np
import sklearn

# The encoder's benchmark, next to this file: Python puts the directory of
# the script it runs first on the path.
from bench_kernels import (
    bytes_read_by_encode,
    encode_rows_per_second,
    read_bandwidth_bytes_per_second,
)
from threadpoolctl import threadpool_info, threadpool_limits

from sklearn_amm import MaddnessTransformer, _simd
from sklearn_amm._aggregation import (
    aggregate_dequantized,
    aggregate_group_averages,
    aggregate_totals,
)
from sklearn_amm._encoding import encode_packed_rows, thresholds_for_dtype
from sklearn_amm._kernels._scan import scan_dequantized, scan_totals
from sklearn_amm._layout import pack_codes, pad_tables

# (name, n_samples, n_features, n_outputs): the authors' tasks.
SHAPES = [
    ("CIFAR-10", 10000, 512, 10),
    ("CIFAR-100", 10000, 512, 100),
    ("UCR", 1000, 320, 128),
    ("Caltech 3x3", 49284, 27, 2),
    ("Caltech 5x5", 48400, 75, 2),
    ("large", 100000, 512, 100),
]
LAYOUTS = [(np.float32, "F"), (np.float32, "C"), (np.float64, "C")]
LAYOUT_NAMES = {np.float32: "f32", np.float64: "f64"}
N_FIT = 10000
MIN_REPEATS = 7
MIN_SECONDS = 0.3  # short timings repeat until they add up to this


def median_seconds(function, min_repeats=MIN_REPEATS):
    """Median wall time of ``function()``, after one warm-up call."""
    function()
    times = []
    while len(times) < min_repeats or sum(times) < MIN_SECONDS:
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
        if len(times) >= 1000:
            break
    return float(np.median(times))


def low_rank_rows(n_samples, n_features, seed, rank=8, noise=0.1):
    """float64 rows ``Z @ V + noise * E``, built in slices to bound memory."""
    rng = np.random.default_rng(seed)
    V = rng.normal(size=(rank, n_features))
    X = np.empty((n_samples, n_features))
    for start in range(0, n_samples, 16384):
        stop = min(start + 16384, n_samples)
        X[start:stop] = rng.normal(size=(stop - start, rank)) @ V
        X[start:stop] += noise * rng.normal(size=(stop - start, n_features))
    return X


def write_bandwidth(n_bytes):
    """Bytes per second that filling an array of ``n_bytes`` achieves."""
    buffer = np.empty(n_bytes // 4, dtype=np.float32)
    return n_bytes / median_seconds(lambda: buffer.fill(1.0))


def print_environment(read_bandwidth):
    blas = [
        f"{info['internal_api']} {info.get('version', '')}".strip()
        for info in threadpool_info()
        if info["user_api"] == "blas"
    ]
    print(
        f"CPU: {platform.processor() or platform.machine()}; numpy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}, BLAS: {', '.join(blas) or '?'}"
    )
    print(
        f"SIMD levels: {', '.join(_simd.available_levels())} "
        f"(active: {_simd.level_name(_simd.active_level())})"
    )
    print(
        f"single-core read bandwidth (256 MB, NumPy reductions): "
        f"{read_bandwidth / 1e9:.1f} GB/s"
    )
    print()


def transform_table(read_bandwidth):
    """transform vs X @ W, one thread; returns the fitted large-shape model."""
    print("transform vs numpy X @ W, 1 thread, assume_finite=True (times in ms)")
    header = (
        f"{'task':<12} {'N':>6} {'D':>4} {'M':>4} {'C':>3} {'X':<7} "
        f"{'numpy':>8} {'amm':>8} {'speedup':>8} {'MB read':>8} "
        f"{'GB/s':>6} {'x bound':>7}"
    )
    print(header)
    print("-" * len(header))
    cases = [(shape, 16) for shape in SHAPES]
    cases[2:2] = [(SHAPES[1], C) for C in (8, 32, 64)]
    large = None
    for (name, n_samples, n_features, n_outputs), n_codebooks in cases:
        X64 = low_rank_rows(n_samples + N_FIT, n_features, seed=n_features)
        W = np.random.default_rng(1).normal(size=(n_features, n_outputs))
        amm = MaddnessTransformer(W, n_codebooks=n_codebooks).fit(X64[:N_FIT])
        for dtype, order in LAYOUTS:
            X = np.asarray(X64[N_FIT:], dtype=dtype, order=order)
            W_same = W.astype(dtype)
            with (
                threadpool_limits(limits=1),
                sklearn.config_context(assume_finite=True),
            ):
                numpy_s = median_seconds(lambda: X @ W_same)
                amm_s = median_seconds(lambda: amm.transform(X))
            n_bytes = bytes_read_by_encode(X, amm.split_dims_)
            bound_s = n_bytes / read_bandwidth
            print(
                f"{name:<12} {n_samples:>6} {n_features:>4} {n_outputs:>4} "
                f"{n_codebooks:>3} {LAYOUT_NAMES[dtype] + ' ' + order:<7} "
                f"{numpy_s * 1e3:>8.3f} {amm_s * 1e3:>8.3f} {numpy_s / amm_s:>8.1f} "
                f"{n_bytes / 1e6:>8.2f} {n_bytes / amm_s / 1e9:>6.1f} "
                f"{amm_s / bound_s:>7.2f}"
            )
            if name == "large" and dtype == np.float32 and order == "F":
                large = amm, X
    print("MB read: the part of X the codes depend on; 'x bound': transform time over")
    print("(MB read / single-core read bandwidth). X of the smaller tasks stays in the")
    print("caches between repeats, so it can read faster than the memory bound.")
    print()
    return large


# The scan's SIMD levels (the scalar path is two orders of magnitude slower).
SCAN_LEVELS = [name for name in _simd.available_levels() if name != "scalar"]


def scan_table():
    """Kernel-only rows per second of the encoder and of the scan, per SIMD level."""
    n_samples, n_outputs = 100000, 12
    print(f"kernels alone, 1 thread, N={n_samples}")
    rows = encode_rows_per_second(n_samples, 512, 16, np.float32, "F")
    print(f"encode, D=512, C=16, float32 F: {rows:.3g} rows/s")
    header = (
        f"{'scan C':<8} {'M':>3} {'output':<18} {'level':>7} {'rows/s':>9} "
        f"{'x avx2':>6} {'MB written':>10} {'write GB/s':>10} {'bound rows/s':>12} "
        f"{'x bound':>7}"
    )
    print(header)
    print("-" * len(header))
    rng = np.random.default_rng(2)
    for n_codebooks in (16, 32, 64):
        codes = rng.integers(0, 16, size=(n_samples, n_codebooks), dtype=np.uint8)
        luts = rng.integers(0, 256, size=(n_outputs, n_codebooks, 16), dtype=np.uint8)
        packed, tables = pack_codes(codes), pad_tables(luts)
        ones = np.ones(n_outputs, np.float32)
        # The kernels alone, into outputs allocated once.
        totals = aggregate_totals(packed, tables, n_samples, n_codebooks, True)
        floats = aggregate_dequantized(
            packed, tables, n_samples, n_codebooks, True, ones, ones
        )
        runs = {
            "uint16 totals": (
                totals,
                lambda level: scan_totals(
                    packed, tables, n_samples, n_codebooks, True, totals, level
                ),
            ),
            "float32 fused": (
                floats,
                lambda level: scan_dequantized(
                    packed,
                    tables,
                    n_samples,
                    n_codebooks,
                    True,
                    ones,
                    ones,
                    floats,
                    level,
                ),
            ),
        }
        if n_codebooks <= 16:
            roots = aggregate_group_averages(packed, tables, n_samples, n_codebooks)
            runs["uint8 group avg"] = (
                roots,
                lambda level: scan_totals(
                    packed, tables, n_samples, n_codebooks, True, roots, level
                ),
            )
        for label, (out, run) in runs.items():
            out_bytes = out.nbytes
            bandwidth = write_bandwidth(out_bytes)
            bound_rows = n_samples * bandwidth / out_bytes
            seconds = {}
            for name in SCAN_LEVELS:
                level = _simd.LEVELS[name]
                with threadpool_limits(limits=1):
                    seconds[name] = median_seconds(lambda: run(level))
                versus = seconds["avx2"] / seconds[name] if "avx2" in seconds else 1.0
                print(
                    f"{n_codebooks:<8} {n_outputs:>3} {label:<18} {name:>7} "
                    f"{n_samples / seconds[name]:>9.3g} {versus:>6.2f} "
                    f"{out_bytes / 1e6:>10.1f} {bandwidth / 1e9:>10.1f} "
                    f"{bound_rows:>12.3g} {bound_rows * seconds[name] / n_samples:>7.2f}"
                )
    print("averaging mode, outputs allocated once. 'x avx2': rows/s over AVX2's in the")
    print("same run. 'bound rows/s': the rows/s at which filling an array of the")
    print("output's size (np.fill) writes its bytes.")
    print()


def overhead_table():
    """transform beyond its kernels, at N=1000 on the CIFAR-10 shape."""
    n_samples, n_features, n_outputs, n_codebooks = 1000, 512, 10, 16
    X64 = low_rank_rows(n_samples + N_FIT, n_features, seed=3)
    W = np.random.default_rng(1).normal(size=(n_features, n_outputs))
    amm = MaddnessTransformer(W, n_codebooks=n_codebooks).fit(X64[:N_FIT])
    X = np.asfortranarray(X64[N_FIT:], dtype=np.float32)
    tables, constants = amm._scan_inputs
    multiplier, shift = constants["average"][np.float32]
    packed = encode_packed_rows(X, amm.split_dims_, amm.split_thresholds_, n_codebooks)
    with threadpool_limits(limits=1):
        with sklearn.config_context(assume_finite=True):
            transform_s = median_seconds(lambda: amm.transform(X), 201)
        validated_s = median_seconds(lambda: amm.transform(X), 201)
        encode_s = median_seconds(
            lambda: encode_packed_rows(
                X, amm.split_dims_, amm.split_thresholds_, n_codebooks
            ),
            201,
        )
        scan_s = median_seconds(
            lambda: aggregate_dequantized(
                packed, tables, n_samples, n_codebooks, True, multiplier, shift
            ),
            201,
        )
        kernel_rows = encode_rows_per_second(
            problem=(
                X,
                amm.split_dims_,
                thresholds_for_dtype(amm.split_thresholds_, X.dtype),
            )
        )
    print(
        f"transform overhead, N={n_samples}, D={n_features}, M={n_outputs}, "
        f"C={n_codebooks}, float32 F, 1 thread (microseconds)"
    )
    print(f"transform, assume_finite=True   {transform_s * 1e6:8.1f}")
    print(f"transform, validated            {validated_s * 1e6:8.1f}")
    print(
        f"encode_packed_rows (Python+C)   {encode_s * 1e6:8.1f}   "
        f"(encode kernel alone {n_samples / kernel_rows * 1e6:.1f})"
    )
    print(f"aggregate_dequantized (Py+C)    {scan_s * 1e6:8.1f}")
    beyond_s = transform_s - encode_s - scan_s
    print(f"transform beyond these two      {beyond_s * 1e6:8.1f}")
    print()


def threads_table(large):
    amm, X = large
    packed = encode_packed_rows(X, amm.split_dims_, amm.split_thresholds_, 16)
    tables, constants = amm._scan_inputs
    multiplier, shift = constants["average"][np.float32]
    print(
        f"threads, large shape N={X.shape[0]}, D={X.shape[1]}, M={amm.n_outputs_}, "
        "C=16, float32 F (times in ms)"
    )
    times = {}
    for n_threads in (1, 2):
        with (
            threadpool_limits(limits=n_threads),
            sklearn.config_context(assume_finite=True),
        ):
            times[n_threads] = (
                median_seconds(lambda: amm.transform(X)),
                median_seconds(
                    lambda: aggregate_dequantized(
                        packed, tables, X.shape[0], 16, True, multiplier, shift
                    )
                ),
            )
    for column, label in enumerate(("transform", "scan alone")):
        one, two = times[1][column], times[2][column]
        print(
            f"{label:<11} 1 thread {one * 1e3:8.2f}   2 threads {two * 1e3:8.2f}   "
            f"speed-up {one / two:.2f}x"
        )


def aggregation_table():
    """Cost of the table options: transform time against the paper's setting.

    The paper's setting is the averaging aggregation with one shared table
    scale; each other combination is fitted from the same rows and timed in
    the same loop, interleaved, so that machine noise hits all alike.
    """
    print("table options, transform time over the paper's (average, shared), 1 thread,")
    print("float32 F, C=16, assume_finite=True")
    options = [
        ("average", "shared"),
        ("sum", "shared"),
        ("average", "per_output"),
        ("sum", "per_output"),
    ]
    header = f"{'task':<12} {'paper ms':>9} " + " ".join(
        f"{a + '/' + s:>19}" for a, s in options[1:]
    )
    print(header)
    print("-" * len(header))
    for name, n_samples, n_features, n_outputs in SHAPES:
        X64 = low_rank_rows(n_samples + N_FIT, n_features, seed=n_features)
        W = np.random.default_rng(1).normal(size=(n_features, n_outputs))
        X = np.asarray(X64[N_FIT:], dtype=np.float32, order="F")
        models = [
            MaddnessTransformer(
                W, n_codebooks=16, aggregation=aggregation, lut_scaling=scaling
            ).fit(X64[:N_FIT])
            for aggregation, scaling in options
        ]
        times = [[] for _ in models]
        with threadpool_limits(limits=1), sklearn.config_context(assume_finite=True):
            for _ in range(5):
                for model, model_times in zip(models, times):
                    model_times.append(median_seconds(lambda: model.transform(X)))
        medians = [np.median(t) for t in times]
        print(
            f"{name:<12} {medians[0] * 1e3:>9.3f} "
            + " ".join(f"{m / medians[0]:>19.3f}" for m in medians[1:])
        )
    print("ratios above 1 are slower than the paper's setting")
    print()


SECTIONS = {
    "transform": None,  # needs the read bandwidth; see main
    "scan": scan_table,
    "overhead": overhead_table,
    "threads": None,  # needs the large model of "transform"
    "aggregation": aggregation_table,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sections",
        nargs="+",
        choices=list(SECTIONS),
        default=["transform", "scan", "overhead", "threads"],
        help="tables to print (default: all but 'aggregation')",
    )
    sections = parser.parse_args().sections
    read_bandwidth = read_bandwidth_bytes_per_second()
    print_environment(read_bandwidth)
    large = None
    if "transform" in sections or "threads" in sections:
        large = transform_table(read_bandwidth)
    for section in ("scan", "overhead", "aggregation"):
        if section in sections:
            SECTIONS[section]()
    if "threads" in sections:
        threads_table(large)


if __name__ == "__main__":
    main()
