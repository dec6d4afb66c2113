"""MaddnessTransformer.transform against NumPy's ``X @ W``, and the scan kernel alone.

Usage::

    python benchmarks/bench_transform.py

Prints, in one run:

* ``transform`` against ``X @ W`` in the same dtype, one thread for both
  (threadpoolctl limits BLAS and OpenMP): the default ``transform`` (what a
  user gets, with its check for NaN and infinity) as the headline, and
  beside it the same under ``sklearn.config_context(assume_finite=True)``,
  for the shapes of the authors' tasks at C=16 (and C in {8, 32, 64} on
  CIFAR-100), each with F-ordered float32, C-ordered float32 and C-ordered
  float64 X, then the speed-ups of the three layouts side by side. Beside
  each:
  the bytes of X the transform must read (F order: the split columns; C
  order: the cache lines holding them) and the bandwidth that implies,
  against the single-core read bandwidth measured in the same run;
* kernel-only rows per second: the encoder, and the scan (N=100000, M=12)
  into uint16 totals, into uint8 group averages (C=16: the authors' output),
  or with fused float32 de-quantization, at every SIMD level the CPU
  supports (and its speed over AVX2), beside the rows per second at which
  the output could be written at the write bandwidth measured for its size;
* what ``transform`` costs beyond its kernels at N=1000;
* a wrapped classifier's ``decision_function`` and ``predict`` at N=45000,
  default against ``assume_finite=True``;
* the standard pipeline (``StandardScaler`` then ``LogisticRegression``,
  784 features, 10 classes), exact against ``MaddnessClassifier`` wrapping
  it, on 10000 C-ordered rows in float32 and float64;
* ``transform`` at every SIMD level the CPU has, side by side;
* the cost of the accuracy options (float tables, exact sum, a classifier's
  log-loss tables) at the CIFAR shapes, beside the defaults;
* with ``--sections dram``: a 4 GB X that no cache holds, against the read
  bound measured in the same run, at the two best levels and on 2 threads;
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
import warnings

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
from sklearn_amm._kernels._cpu import openmp_max_threads
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


def cpu_model():
    """The CPU's model name, as lscpu prints it (Linux), else the machine type."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def print_environment(read_bandwidth):
    blas = [
        f"{info['internal_api']} {info.get('version', '')}".strip()
        for info in threadpool_info()
        if info["user_api"] == "blas"
    ]
    print(
        f"CPU: {cpu_model()}; numpy {np.__version__}, "
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
    print("transform vs numpy X @ W, 1 thread (times in ms); 'amm': the default")
    print("transform, 'finite': the same under assume_finite=True")
    header = (
        f"{'task':<12} {'N':>6} {'D':>4} {'M':>4} {'C':>3} {'X':<7} "
        f"{'numpy':>8} {'amm':>8} {'speedup':>8} {'finite':>8} {'speedup':>8} "
        f"{'amm/fin':>7} {'MB read':>8} {'GB/s':>6} {'x bound':>7}"
    )
    print(header)
    print("-" * len(header))
    cases = [(shape, 16) for shape in SHAPES]
    cases[2:2] = [(SHAPES[1], C) for C in (8, 32, 64)]
    large = None
    # (task, C) -> {layout: (speed-up over numpy, x bound)}, for the summary.
    summary = {}
    for (name, n_samples, n_features, n_outputs), n_codebooks in cases:
        X64 = low_rank_rows(n_samples + N_FIT, n_features, seed=n_features)
        W = np.random.default_rng(1).normal(size=(n_features, n_outputs))
        amm = MaddnessTransformer(W, n_codebooks=n_codebooks).fit(X64[:N_FIT])
        for dtype, order in LAYOUTS:
            X = np.asarray(X64[N_FIT:], dtype=dtype, order=order)
            W_same = W.astype(dtype)
            with threadpool_limits(limits=1):
                numpy_s = median_seconds(lambda: X @ W_same)
                amm_s = median_seconds(lambda: amm.transform(X))
                with sklearn.config_context(assume_finite=True):
                    finite_s = median_seconds(lambda: amm.transform(X))
            n_bytes = bytes_read_by_encode(X, amm.split_dims_)
            bound_s = n_bytes / read_bandwidth
            print(
                f"{name:<12} {n_samples:>6} {n_features:>4} {n_outputs:>4} "
                f"{n_codebooks:>3} {LAYOUT_NAMES[dtype] + ' ' + order:<7} "
                f"{numpy_s * 1e3:>8.3f} {amm_s * 1e3:>8.3f} {numpy_s / amm_s:>8.1f} "
                f"{finite_s * 1e3:>8.3f} {numpy_s / finite_s:>8.1f} "
                f"{amm_s / finite_s:>7.2f} "
                f"{n_bytes / 1e6:>8.2f} {n_bytes / amm_s / 1e9:>6.1f} "
                f"{amm_s / bound_s:>7.2f}"
            )
            summary.setdefault((name, n_codebooks), {})[(dtype, order)] = (
                numpy_s / amm_s,
                amm_s / bound_s,
            )
            if name == "large" and dtype == np.float32 and order == "F":
                large = amm, X
    print("MB read: the part of X the codes depend on; 'x bound': transform time over")
    print("(MB read / single-core read bandwidth). X of the smaller tasks stays in the")
    print("caches between repeats, so it can read faster than the memory bound.")
    print()
    layout_table(summary)
    return large


def layout_table(summary):
    """The speed-ups of the transform table, the layouts side by side.

    Row-major (C order) rows are what most pipelines hand over, often in
    float64; column-major float32 is the layout the encoder reads fastest.
    """
    print("transform speed-up over numpy by layout of X (from the table above)")
    columns = [f"{LAYOUT_NAMES[dtype]} {order}" for dtype, order in LAYOUTS]
    header = (
        f"{'task':<12} {'C':>3} "
        + " ".join(f"{column:>8}" for column in columns)
        + "  "
        + " ".join(f"{'bound ' + column:>11}" for column in columns)
    )
    print(header)
    print("-" * len(header))
    for (name, n_codebooks), by_layout in summary.items():
        speedups = " ".join(f"{by_layout[layout][0]:>7.1f}x" for layout in LAYOUTS)
        bounds = " ".join(f"{by_layout[layout][1]:>11.2f}" for layout in LAYOUTS)
        print(f"{name:<12} {n_codebooks:>3} {speedups}  {bounds}")
    print("'bound': the transform's time over its read bound ('x bound' above)")
    print()


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
                    packed, tables, n_samples, n_codebooks, True, totals, level,
                    openmp_max_threads(),
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
                    openmp_max_threads(),
                ),
            ),
        }
        if n_codebooks <= 16:
            roots = aggregate_group_averages(packed, tables, n_samples, n_codebooks)
            runs["uint8 group avg"] = (
                roots,
                lambda level: scan_totals(
                    packed, tables, n_samples, n_codebooks, True, roots, level,
                    openmp_max_threads(),
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
                # Levels below AVX2 come first, before it is measured.
                versus = (
                    f"{seconds['avx2'] / seconds[name]:>6.2f}" if "avx2" in seconds else f"{'-':>6}"
                )
                print(
                    f"{n_codebooks:<8} {n_outputs:>3} {label:<18} {name:>7} "
                    f"{n_samples / seconds[name]:>9.3g} {versus} "
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


def at_level(level, function):
    """``function()`` with the kernels forced to SIMD level ``level`` (a name)."""
    with _simd.simd_level(level):
        return function()


def levels_table():
    """transform at every SIMD level this CPU has, side by side, one run."""
    levels = _simd.available_levels()
    print("transform at each SIMD level, float32 F, C=16, 1 thread, assume_finite=True")
    print("(times in ms; ratios: numpy time over transform time)")
    header = f"{'task':<12} {'numpy':>8} " + " ".join(
        f"{level:>8} {'x':>5}" for level in levels
    )
    print(header)
    print("-" * len(header))
    for name, n_samples, n_features, n_outputs in SHAPES:
        X64 = low_rank_rows(n_samples + N_FIT, n_features, seed=n_features)
        W = np.random.default_rng(1).normal(size=(n_features, n_outputs))
        amm = MaddnessTransformer(W, n_codebooks=16).fit(X64[:N_FIT])
        X = np.asarray(X64[N_FIT:], dtype=np.float32, order="F")
        W32 = W.astype(np.float32)
        with threadpool_limits(limits=1), sklearn.config_context(assume_finite=True):
            numpy_s = median_seconds(lambda: X @ W32)
            times = [
                at_level(level, lambda: median_seconds(lambda: amm.transform(X)))
                for level in levels
            ]
        print(
            f"{name:<12} {numpy_s * 1e3:>8.3f} "
            + " ".join(f"{t * 1e3:>8.3f} {numpy_s / t:>5.1f}" for t in times)
        )
    print()


# A shape whose X does not fit in any cache (this machine's L3 holds 480 MB):
# 2,000,000 rows of 512 float32 columns, 4 GB, with 10 outputs so that the
# result (80 MB) stays small next to what is read.
DRAM_SHAPE = ("DRAM", 2_000_000, 512, 10)


def dram_table():
    """transform on X far larger than the caches, against the DRAM read bound.

    The bound is the bytes transform must read (the split columns, or for C
    order the cache lines holding them) over the single-core read bandwidth
    of a 2 GiB buffer, measured in the same run; the output is written too,
    so the bound is a lower bound on the time.
    """
    name, n_samples, n_features, n_outputs = DRAM_SHAPE
    bandwidth = read_bandwidth_bytes_per_second(n_bytes=2 * 2**30, n_repeats=3)
    print(
        f"{name}: N={n_samples}, D={n_features}, M={n_outputs}, C=16, float32, "
        f"1 thread; DRAM read bandwidth (2 GiB): {bandwidth / 1e9:.1f} GB/s"
    )
    header = (
        f"{'X':<7} {'levels':<8} {'numpy ms':>9} {'amm ms':>8} {'speedup':>8} "
        f"{'MB read':>8} {'GB/s':>6} {'x bound':>7} {'2 threads':>9}"
    )
    print(header)
    print("-" * len(header))
    fit_rows = low_rank_rows(N_FIT, n_features, seed=7)
    W = np.random.default_rng(1).normal(size=(n_features, n_outputs))
    amm = MaddnessTransformer(W, n_codebooks=16).fit(fit_rows)
    W32 = W.astype(np.float32)
    for order in ("F", "C"):
        X = np.empty((n_samples, n_features), dtype=np.float32, order=order)
        for start in range(0, n_samples, 100_000):
            X[start : start + 100_000] = low_rank_rows(100_000, n_features, seed=start)
        n_bytes = bytes_read_by_encode(X, amm.split_dims_)
        for level in _simd.available_levels()[-2:]:
            with sklearn.config_context(assume_finite=True):
                with threadpool_limits(limits=1):
                    numpy_s = median_seconds(lambda: X @ W32, 3)
                    amm_s = at_level(level, lambda: median_seconds(lambda: amm.transform(X), 5))
                with threadpool_limits(limits=2):
                    two_s = at_level(level, lambda: median_seconds(lambda: amm.transform(X), 5))
            print(
                f"f32 {order:<3} {level:<8} {numpy_s * 1e3:>9.1f} {amm_s * 1e3:>8.1f} "
                f"{numpy_s / amm_s:>8.1f} {n_bytes / 1e6:>8.0f} "
                f"{n_bytes / amm_s / 1e9:>6.1f} {amm_s * bandwidth / n_bytes:>7.2f} "
                f"{amm_s / two_s:>8.2f}x"
            )
        del X
    print("'x bound': transform time over (MB read / DRAM read bandwidth);")
    print("'2 threads': the speed-up of transform on 2 threads over 1")
    print()


def wrapper_table():
    """A wrapped classifier's predictions, default against assume_finite.

    Digits (D=64, 10 classes), LogisticRegression and MaddnessClassifier at
    C=16 around it (as in wrappers_accuracy.py), the 450 test rows repeated
    to N=45000, one thread.
    """
    from wrappers_accuracy import digits_split, wrapped

    X_train, X_test, y_train, _, exact = digits_split(random_state=0)
    clf = wrapped(exact, X_train, y_train, 16)
    X_large = np.tile(X_test, (100, 1))
    print("MaddnessClassifier (digits, C=16), N=45000, 1 thread (times in ms)")
    header = (
        f"{'X':<7} {'method':<18} {'exact':>8} {'amm':>8} {'speedup':>8} "
        f"{'finite':>8} {'amm/fin':>7}"
    )
    print(header)
    print("-" * len(header))
    for dtype, order in LAYOUTS:
        X = np.asarray(X_large, dtype=dtype, order=order)
        for method in ("decision_function", "predict"):
            with threadpool_limits(limits=1):
                exact_s = median_seconds(lambda: getattr(exact, method)(X))
                amm_s = median_seconds(lambda: getattr(clf, method)(X))
                with sklearn.config_context(assume_finite=True):
                    finite_s = median_seconds(lambda: getattr(clf, method)(X))
            print(
                f"{LAYOUT_NAMES[dtype] + ' ' + order:<7} {method:<18} "
                f"{exact_s * 1e3:>8.3f} {amm_s * 1e3:>8.3f} {exact_s / amm_s:>8.2f} "
                f"{finite_s * 1e3:>8.3f} {amm_s / finite_s:>7.2f}"
            )
    print("'exact': the inner LogisticRegression in the default configuration;")
    print("'amm': the wrapper, default configuration; 'finite': under assume_finite")
    print()


def pipeline_rows(n_train, n_test):
    """Rows and labels for the pipeline table: Fashion-MNIST when unpacked.

    Its training files only (``tools/fetch_fashion_mnist.sh``); otherwise
    synthetic low-rank rows of the same shape, labelled by the argmax of a
    random linear map, which time the same.
    """
    from sklearn_amm.datasets import load_fashion_mnist_train

    try:
        X, y = load_fashion_mnist_train()
        source = "Fashion-MNIST training images"
    except FileNotFoundError:
        X = low_rank_rows(n_train + n_test, 784, seed=784, rank=32)
        y = np.argmax(X @ np.random.default_rng(2).normal(size=(784, 10)), axis=1)
        source = "synthetic rows (Fashion-MNIST not unpacked)"
    rows = np.random.default_rng(0).permutation(len(X))[: n_train + n_test]
    return X[rows[:n_train]], y[rows[:n_train]], X[rows[n_train:]], y[rows[n_train:]], source


def pipeline_table():
    """The standard pipeline, exact against its MADDNESS wrapper, C order.

    ``make_pipeline(StandardScaler(), LogisticRegression())`` on 784
    features and 10 classes, fitted on 20000 rows; ``predict`` and
    ``decision_function`` of 10000 C-ordered rows in float32 and float64
    (and F-ordered float32 for reference), one thread. The wrapper folds
    the scaler into its thresholds, so it reads the raw split columns only.
    """
    from sklearn.base import clone
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sklearn_amm import MaddnessClassifier

    X_train, y_train, X_test, y_test, source = pipeline_rows(20000, 10000)
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
    # lbfgs may stop at max_iter before it converges on these rows: the
    # times do not depend on it, and both accuracies are printed.
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        exact = clone(pipeline).fit(X_train, y_train)
        clf = MaddnessClassifier(pipeline, random_state=0).fit(X_train, y_train)
    print(
        f"StandardScaler -> LogisticRegression, exact pipeline against "
        f"MaddnessClassifier(pipeline) (C={clf.maddness_.n_codebooks_}), "
        f"{source}: fit 20000, predict 10000 rows, 1 thread (times in ms)"
    )
    header = (
        f"{'X':<7} {'method':<18} {'exact':>8} {'amm':>8} {'speedup':>8} "
        f"{'exact acc':>9} {'amm acc':>8}"
    )
    print(header)
    print("-" * len(header))
    for dtype, order in [(np.float32, "C"), (np.float64, "C"), (np.float32, "F")]:
        X = np.asarray(X_test, dtype=dtype, order=order)
        exact_acc = np.mean(exact.predict(X) == y_test)
        amm_acc = np.mean(clf.predict(X) == y_test)
        for method in ("predict", "decision_function"):
            with threadpool_limits(limits=1):
                exact_s = median_seconds(lambda: getattr(exact, method)(X))
                amm_s = median_seconds(lambda: getattr(clf, method)(X))
            print(
                f"{LAYOUT_NAMES[dtype] + ' ' + order:<7} {method:<18} "
                f"{exact_s * 1e3:>8.3f} {amm_s * 1e3:>8.3f} {exact_s / amm_s:>7.1f}x "
                f"{exact_acc:>9.4f} {amm_acc:>8.4f}"
            )
    print("'exact': the pipeline, which scales every value of X before the model;")
    print("'amm': the wrapper, the scaler folded into its thresholds")
    print()


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


def options_table():
    """Cost of the accuracy options at the kernels' shapes, beside the defaults.

    CIFAR-10 and CIFAR-100 shapes, float32 F, C=16, default path, one
    thread. The transformer with its defaults, float tables and the exact
    sum; and a MaddnessClassifier around a linear model with
    ``coef_ = W.T`` (labels: the argmax of ``X @ W``), with product tables
    (the default) and with ``table_objective="log_loss"``. Timed
    interleaved, medians of 5 rounds.
    """
    from sklearn.frozen import FrozenEstimator
    from sklearn.linear_model import LogisticRegression

    from sklearn_amm import MaddnessClassifier

    print("accuracy options, time in ms and over the defaults', 1 thread, float32 F, C=16")
    names = ["defaults", "float tables", "sum", "clf product", "clf log-loss"]
    header = f"{'task':<12} " + " ".join(f"{n:>13}" for n in names) + f" {'log/prod':>9}"
    print(header)
    print("-" * len(header))
    for name, n_samples, n_features, n_outputs in SHAPES[:2]:
        X64 = low_rank_rows(n_samples + N_FIT, n_features, seed=n_features)
        W = np.random.default_rng(1).normal(size=(n_features, n_outputs))
        X = np.asarray(X64[N_FIT:], dtype=np.float32, order="F")
        X_fit = X64[:N_FIT]
        y_fit = (X_fit @ W).argmax(axis=1)
        y_fit[:n_outputs] = np.arange(n_outputs)  # every class has a row
        linear = LogisticRegression()
        linear.coef_, linear.intercept_ = W.T.copy(), np.zeros(n_outputs)
        linear.classes_ = np.arange(n_outputs)
        transformers = [
            MaddnessTransformer(W, n_codebooks=16, **options).fit(X_fit)
            for options in ({}, dict(quantize_luts=False), dict(aggregation="sum"))
        ]
        classifiers = [
            MaddnessClassifier(
                FrozenEstimator(linear), n_codebooks=16, table_objective=objective
            ).fit(X_fit, y_fit)
            for objective in ("product", "log_loss")
        ]
        calls = [model.transform for model in transformers]
        calls += [model.decision_function for model in classifiers]
        times = [[] for _ in calls]
        with threadpool_limits(limits=1):
            for _ in range(5):
                for call, call_times in zip(calls, times):
                    call_times.append(median_seconds(lambda: call(X)))
        medians = [np.median(t) for t in times]
        print(
            f"{name:<12} "
            + " ".join(
                f"{m * 1e3:>6.3f} {m / medians[0]:>5.2f}x" for m in medians
            )
            + f" {medians[4] / medians[3]:>9.3f}"
        )
    print("'clf': MaddnessClassifier.decision_function (float64 scores plus the")
    print("intercepts); 'log/prod': log-loss tables over product tables, the same kernels")
    print()


# In the order they print. "transform" needs the read bandwidth and
# "threads" the large model of "transform" (see main); "aggregation" and
# "dram" (8 GB of memory, a few minutes) run only when asked for.
SECTIONS = {
    "transform": None,
    "levels": levels_table,
    "scan": scan_table,
    "overhead": overhead_table,
    "wrapper": wrapper_table,
    "pipeline": pipeline_table,
    "options": options_table,
    "aggregation": aggregation_table,
    "dram": dram_table,
    "threads": None,
}
ON_REQUEST = ("aggregation", "dram")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sections",
        nargs="+",
        choices=list(SECTIONS),
        default=[name for name in SECTIONS if name not in ON_REQUEST],
        help="tables to print (default: all but 'aggregation' and 'dram', which "
        "needs 8 GB of memory and a few minutes)",
    )
    sections = parser.parse_args().sections
    read_bandwidth = read_bandwidth_bytes_per_second()
    print_environment(read_bandwidth)
    large = None
    if "transform" in sections or "threads" in sections:
        large = transform_table(read_bandwidth)
    for section, table in SECTIONS.items():
        if table is not None and section in sections:
            table()
    if "threads" in sections:
        threads_table(large)


if __name__ == "__main__":
    main()
