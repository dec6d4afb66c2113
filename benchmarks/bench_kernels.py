"""Kernel-only throughput: encode rows per second, and the read bandwidth.

Usage::

    python benchmarks/bench_kernels.py

Prints, with one thread (threadpoolctl), the rows per second of the encode
kernel for N=100000 rows of D=512 columns, C in {16, 32, 64}, for F-ordered
float32, C-ordered float32 and C-ordered float64 X, at every SIMD level the
CPU supports; with the bytes of X each encode must read (the cache lines
holding its split columns) and the bandwidth that implies, beside a
single-core read bandwidth measured in the same run. Then F-ordered float32
with N=10000, whose split columns stay in the caches. Each number is the
median of several repeats. ``benchmarks/bench_transform.py`` imports
:func:`encode_rows_per_second` and :func:`read_bandwidth_bytes_per_second`.
"""

import time

import numpy as np
from threadpoolctl import threadpool_limits

from sklearn_amm import _simd
from sklearn_amm._encoding import thresholds_for_dtype
from sklearn_amm._kernels._cpu import openmp_max_threads
from sklearn_amm._kernels._encode import encode_packed
from sklearn_amm._layout import ROWS_PER_BLOCK, n_padded_codebooks

N_LEVELS = 4
CACHE_LINE = 64


def _median_seconds(function, n_repeats):
    times = []
    for _ in range(n_repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def make_encoding_problem(n_samples, n_features, n_codebooks, dtype, order, seed=0):
    """Standard normal X and a tree per codebook, as a fit would give.

    Codebook ``c`` splits on 4 distinct columns of its own contiguous block
    of columns (the MADDNESS layout), at thresholds drawn like the data, so
    rows go both ways at every node.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), dtype and order as asked
    split_dims : ndarray of shape (n_codebooks, 4), dtype=np.intp
    thresholds : ndarray of shape (n_codebooks, 4, 8), dtype=X.dtype
        Already in the kernel's dtype (see ``thresholds_for_dtype``).
    """
    rng = np.random.default_rng(seed)
    X = np.empty((n_samples, n_features), dtype=dtype, order=order)
    # Filled in slices: a float64 temporary of the whole matrix would double
    # the memory this needs.
    step = 8192
    for start in range(0, n_samples, step):
        X[start : start + step] = rng.standard_normal(
            (min(step, n_samples - start), n_features), dtype=np.float32
        )
    bounds = np.linspace(0, n_features, n_codebooks + 1).astype(int)
    split_dims = np.array(
        [
            rng.choice(np.arange(lo, hi), size=N_LEVELS, replace=hi - lo < N_LEVELS)
            for lo, hi in zip(bounds[:-1], bounds[1:])
        ],
        dtype=np.intp,
    )
    thresholds = thresholds_for_dtype(
        rng.standard_normal((n_codebooks, N_LEVELS, 8)), np.dtype(dtype)
    )
    return X, split_dims, thresholds


def bytes_read_by_encode(X, split_dims):
    """Bytes of X an encode must bring from memory: the cache lines it touches.

    For F order, each distinct split column; for C order, each row's cache
    lines that hold a split column (a lower bound: rows are not aligned to
    cache lines, so this counts lines of an aligned row).
    """
    columns = np.unique(split_dims)
    n_samples, _ = X.shape
    if X.flags.f_contiguous and not X.flags.c_contiguous:
        return len(columns) * n_samples * X.itemsize
    lines = np.unique(columns * X.itemsize // CACHE_LINE)
    return len(lines) * CACHE_LINE * n_samples


def encode_rows_per_second(
    n_samples=100000,
    n_features=512,
    n_codebooks=16,
    dtype=np.float32,
    order="F",
    level=None,
    n_repeats=9,
    problem=None,
):
    """Rows per second of the packed encode kernel, one thread, median of repeats.

    Parameters
    ----------
    n_samples, n_features, n_codebooks, dtype, order
        The problem (see :func:`make_encoding_problem`); ignored if
        ``problem`` is given.
    level : int, default=None
        SIMD level; the active one if None.
    n_repeats : int, default=9
    problem : tuple (X, split_dims, thresholds), default=None
        A problem to reuse, from :func:`make_encoding_problem`.

    Returns
    -------
    rows_per_second : float
    """
    if problem is None:
        problem = make_encoding_problem(n_samples, n_features, n_codebooks, dtype, order)
    X, split_dims, thresholds = problem
    level = _simd.active_level() if level is None else level
    n_blocks = -(-X.shape[0] // ROWS_PER_BLOCK)
    packed = np.empty(
        (n_blocks, n_padded_codebooks(split_dims.shape[0]) // 2, ROWS_PER_BLOCK),
        dtype=np.uint8,
    )

    def run():
        encode_packed(X, split_dims, thresholds, packed, level, openmp_max_threads())

    with threadpool_limits(limits=1):
        run()  # warm up: page faults of `packed`, the thread pool
        seconds = _median_seconds(run, n_repeats)
    return X.shape[0] / seconds


def read_bandwidth_bytes_per_second(n_bytes=256 * 2**20, n_repeats=7):
    """Single-core read bandwidth from memory, in bytes per second.

    The fastest of a few NumPy reductions over a buffer much larger than the
    caches, each the median of ``n_repeats``: reductions that NumPy
    vectorizes run at the memory's speed, so the fastest estimates what one
    core can stream.
    """
    buffer = np.ones(n_bytes // 8, dtype=np.int64)
    reductions = [
        lambda: np.add.reduce(buffer),
        lambda: np.maximum.reduce(buffer.view(np.int32)),
        lambda: np.bitwise_or.reduce(buffer.view(np.uint64)),
    ]
    with threadpool_limits(limits=1):
        seconds = min(_median_seconds(reduction, n_repeats) for reduction in reductions)
    return buffer.nbytes / seconds


def _print_encode_rows(cases, n_samples, bandwidth, n_repeats=9):
    for dtype, order, n_codebooks in cases:
        problem = make_encoding_problem(n_samples, 512, n_codebooks, dtype, order)
        X, split_dims, _ = problem
        n_bytes = bytes_read_by_encode(X, split_dims)
        bound = bandwidth * n_samples / n_bytes
        for name in _simd.available_levels():
            rows_per_second = encode_rows_per_second(
                level=_simd.LEVELS[name], problem=problem, n_repeats=n_repeats
            )
            label = f"{np.dtype(dtype).name} {order}"
            print(
                f"{label:<11} {n_samples:>6} {n_codebooks:>3} {name:>7} "
                f"{rows_per_second:>9.3g} {n_bytes / 1e6:>8.1f} "
                f"{n_bytes * rows_per_second / n_samples / 1e9:>6.1f} {bound:>9.3g}"
            )
        del X, problem


def main():
    bandwidth = read_bandwidth_bytes_per_second()
    print(f"single-core read bandwidth: {bandwidth / 1e9:.1f} GB/s")
    print(
        f"SIMD levels: {', '.join(_simd.available_levels())} "
        f"(active: {_simd.level_name(_simd.active_level())})"
    )
    print()
    print("encode kernel, D=512, 1 thread; 'MB read' is the part of X the codes")
    print("depend on, 'bound' the rows/s the read bandwidth above allows")
    header = (
        f"{'X':<11} {'N':>6} {'C':>3} {'level':>7} {'rows/s':>9} {'MB read':>8} "
        f"{'GB/s':>6} {'bound':>9}"
    )
    print(header)
    print("-" * len(header))
    cases = [
        (dtype, order, n_codebooks)
        for dtype, order in [(np.float32, "F"), (np.float32, "C"), (np.float64, "C")]
        for n_codebooks in (16, 32, 64)
    ]
    _print_encode_rows(cases, 100000, bandwidth)
    # The split columns of 10000 rows (CIFAR-10's test set; 2.6 MB at C=16)
    # stay in the caches between repeats: the kernel's own speed.
    _print_encode_rows([(np.float32, "F", 16)], 10000, bandwidth, n_repeats=101)


if __name__ == "__main__":
    main()
