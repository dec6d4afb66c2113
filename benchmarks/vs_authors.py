"""sklearn-amm's kernels against the authors' C++ MADDNESS benchmark, side by side.

Usage::

    python benchmarks/vs_authors.py --bolt PATH [--rounds 5] [--level NAME]

``PATH`` is the benchmark binary ``bolt`` built from the ``cpp/`` directory
of the authors' repository (https://github.com/dblalock/bolt, commit
e7726a4) by ``tools/build_authors_cpp.sh``; this script builds nothing.
Without ``--bolt``, or with a path that is not that binary, it prints how to
build it and exits with status 2.

In each of ``--rounds`` rounds it runs ``bolt "amm mithral"`` (their Catch
test case, about 30 seconds, single-threaded) and parses the times it
prints, then times sklearn-amm's kernels at the same shapes and number of
codebooks C, on one thread (threadpoolctl). Rounds alternate so that the
load of a shared machine falls on both alike; each number printed is the
median over the rounds. The shapes are the authors' tasks, which their
binary has built in: CIFAR-10 (N=10000, D=512, M=10), CIFAR-100
(10000, 512, 100), UCR (1000, 320, 128), Caltech 3x3 (49284, 27, 2) and
Caltech 5x5 (48400, 75, 2), at C=16, and C=8 and 32 on CIFAR-100.

What is compared, with float32 X in Fortran order on both sides (their
encoder reads column-major float32):

* encode: their ``amm mithral enc`` (``mithral_encode``, then
  ``zip_bolt_colmajor`` to interleave the codes for the scan) against our
  encode kernel alone, writing packed codes into a buffer allocated once;
* scan: their ``amm mithral scan`` against our scan kernel alone, into an
  output allocated once: uint8 group averages for C <= 16 (what their
  kernel writes), uint16 totals above (their kernel writes 16-bit sums of
  per-16-codebook averages there);
* encode + scan: their ``amm mithral nolut`` (encode then scan; the tables
  of the fixed matrix are built beforehand, the setting their plotting code
  calls "mithralOffline") against our two kernels in sequence;
* ``MaddnessTransformer.transform``, default configuration (float32 result,
  with its NaN and infinity check), against their ``nolut``.

Both sides use random data: theirs uniform on [-1, 1] (Eigen's
``setRandom``) for X, split values and tables, and split columns each drawn
uniformly from the D columns; ours standard normal X with random thresholds
(``bench_kernels.make_encoding_problem``), split columns drawn as theirs
are, and random uint8 tables, and for ``transform`` a model fitted on 10000
other standard normal rows with a standard normal matrix W. The speed of
these kernels does not depend on the values, but it does depend on which
columns are split on: the encoder is bound by reading the split columns
wherever they do not fit in the core's L2 cache, and columns drawn
independently repeat (at Caltech 5x5, 64 draws from 75 columns give about
43 distinct ones), so they are less to read than the 64 distinct columns
of a fitted model, whose trees each split on 4 distinct columns of their
own block. On an Intel Xeon with a 2 MB L2 our encoder took 363 to 404 us
at Caltech 5x5 with columns drawn as theirs and 493 us with a fitted
model's layout; ``transform`` times a fitted model. Their binary pads N up to a
multiple of 32 rows (it encodes and scans 49312 rows for Caltech 3x3, 48416
for Caltech 5x5, 1024 for UCR); ours works on N rows, in blocks of 32.

Both sides read X from memory aligned alike: their Eigen matrix starts at
a 32-byte boundary (their build targets AVX2) and their N is padded to a
multiple of 32, so each column does too; ours is copied to a 64-byte
boundary, where every column of the CIFAR shapes starts as well. A NumPy
array as a user passes it usually starts 16 bytes past a 64-byte boundary;
then up to half of the encoder's 32-byte loads straddle two cache lines,
which cost it about 3 to 5% in our measurements (``bench_transform.py`` times
such arrays).

Timing follows theirs (``REPEATED_PROFILE_DIST_COMPUTATION`` in their
``cpp/test/testing_utils/testing_utils.hpp``): 5 repetitions, each the
fastest of 10 consecutive calls; a round's number is the median of the 5.
Their clock counts whole microseconds, so their times below about 20 us are
coarse. Their build adds ``-march=native`` (their CMakeLists.txt), ours
selects its SIMD level at run time; their code is AVX2 only, and
``--level avx2`` makes ours use AVX2 too on a CPU that has AVX-512.

Their 10 calls run back to back in one C++ loop; ours are Python calls,
and the Python between two of them runs after the previous call streamed
megabytes of X through the caches. On an Intel Xeon (2 MB L2) at the
CIFAR-10 shape, a call of our encoder into C took 96 us from Python around
it against 76 us inside, where a scalar loop of the same length took 2.5 us
more from Python: the interpreter's own memory, evicted by the stream, is
read again from L3. That cost is part of what a Python caller pays, and is
counted.
"""

import argparse
import os
import re
import subprocess
import sys
import time

import numpy as np
import sklearn

# Helpers of the other kernel benchmarks, next to this file: Python puts the
# directory of the script it runs first on the path.
from bench_kernels import make_encoding_problem
from bench_transform import SHAPES, at_level, cpu_model
from threadpoolctl import threadpool_limits

from sklearn_amm import MaddnessTransformer, _simd
from sklearn_amm._kernels._cpu import openmp_max_threads
from sklearn_amm._kernels._encode import encode_packed
from sklearn_amm._kernels._scan import scan_totals
from sklearn_amm._layout import ROWS_PER_BLOCK, n_padded_codebooks, pad_tables

# The authors' names for the tasks of SHAPES (their profile_amm.hpp).
AUTHORS_NAMES = {
    "CIFAR-10": "Cifar10",
    "CIFAR-100": "Cifar100",
    "UCR": "Ucr128",
    "Caltech 3x3": "Caltech3x3",
    "Caltech 5x5": "Caltech5x5",
}
# (task, C): C=16 everywhere, and the neighbours on CIFAR-100.
CASES = [("CIFAR-10", 16), ("CIFAR-100", 8), ("CIFAR-100", 16), ("CIFAR-100", 32)]
CASES += [("UCR", 16), ("Caltech 3x3", 16), ("Caltech 5x5", 16)]
# Their labels of the three timings we compare (all at lut_work_coef -1).
AUTHORS_ALGOS = {
    "encode": "amm mithral enc",
    "scan": "amm mithral scan",
    "encode+scan": "amm mithral nolut",
}
# Their protocol: kNreps repetitions of the fastest of kNtrials calls
# (cpp/test/quantize/amm_common.hpp).
N_REPS = 5
N_TRIALS = 10
N_FIT = 10000
# Our X starts at a cache line, as theirs does (see the module docstring).
ALIGNMENT = 64

# One line of their output (wrapped here), times in milliseconds, each
# followed by a throughput in parentheses:
# "Cifar10, f32, amm mithral enc       , N D M C lut_work_coef:, 10000, 512,
#  10, 16, -1.0,\t(5x10):,  0.0520, (1.9262e+09/s),  0.0530, (...), ..."
LINE = re.compile(
    r"^(?P<dset>\w+), (?P<dtype>\w+)\s*, (?P<algo>[^,]+?)\s*, "
    r"N D M C lut_work_coef:,\s*(?P<N>\d+),\s*(?P<D>\d+),\s*(?P<M>\d+),"
    r"\s*(?P<C>\d+),\s*(?P<lutconst>-?[\d.]+),\s*\(\d+x\d+\):(?P<times>.*)$"
)
TIME = re.compile(r",\s*([\d.]+), \(")

HOW_TO_BUILD = """\
This benchmark needs the authors' C++ benchmark binary `bolt`, built outside
this repository from the cpp/ directory of https://github.com/dblalock/bolt
at commit e7726a4 (AVX2 CPU, git, cmake, a C++14 compiler, Eigen 3):

    apt-get install cmake g++ libeigen3-dev      # Debian/Ubuntu
    git clone --bare https://github.com/dblalock/bolt /tmp/bolt.git
    bash tools/build_authors_cpp.sh /tmp/bolt.git /tmp/bolt-cpp

then pass the path it prints last:

    python benchmarks/vs_authors.py --bolt /tmp/bolt-cpp/build/bolt
"""


def authors_protocol_seconds(function, n_reps=N_REPS, n_trials=N_TRIALS):
    """Median over ``n_reps`` of the fastest of ``n_trials`` calls, as they time.

    The statistic of their ``REPEATED_PROFILE_DIST_COMPUTATION``, so that
    both sides report the same thing (a fastest-of-10 is lower than the
    median that ``bench_transform.py`` reports).
    """
    best = []
    for _ in range(n_reps):
        times = []
        for _ in range(n_trials):
            start = time.perf_counter()
            function()
            times.append(time.perf_counter() - start)
        best.append(min(times))
    return float(np.median(best))


def parse_authors_output(text):
    """Their times per (dset, dtype, algo, C, lutconst), in seconds.

    Returns
    -------
    times : dict
        Each value is the list of their repetitions' times (each the fastest
        of their trials); lines that are not timings are skipped.
    """
    times = {}
    for line in text.splitlines():
        match = LINE.match(line.strip())
        if match is None:
            continue
        key = (
            match["dset"],
            match["dtype"],
            match["algo"],
            int(match["C"]),
            float(match["lutconst"]),
        )
        times[key] = [float(t) / 1e3 for t in TIME.findall(match["times"])]
    return times


def run_authors(bolt):
    """One run of ``bolt "amm mithral"``: each case's median time per timing."""
    completed = subprocess.run(
        [bolt, "amm mithral"], capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"{bolt} exited with status {completed.returncode}:\n"
            f"{completed.stdout[-2000:]}{completed.stderr[-2000:]}"
        )
    parsed = parse_authors_output(completed.stdout)
    result = {}
    for task, n_codebooks in CASES:
        for label, algo in AUTHORS_ALGOS.items():
            key = (AUTHORS_NAMES[task], "f32", algo, n_codebooks, -1.0)
            if not parsed.get(key):
                raise RuntimeError(f"no timing for {key} in the output of {bolt}")
            result[task, n_codebooks, label] = float(np.median(parsed[key]))
    return result


def aligned_copy(X, alignment):
    """A Fortran-ordered copy of ``X`` starting at a multiple of ``alignment`` bytes."""
    buffer = np.empty(X.nbytes + alignment, dtype=np.uint8)
    start = -buffer.ctypes.data % alignment
    copy = buffer[start : start + X.nbytes].view(X.dtype).reshape(X.shape, order="F")
    copy[...] = X
    return copy


class OurCase:
    """sklearn-amm's kernels and transformer at one task's shape and C."""

    def __init__(self, task, n_codebooks, level):
        _, n_samples, n_features, n_outputs = next(s for s in SHAPES if s[0] == task)
        self.level = level
        self.n_samples, self.n_codebooks = n_samples, n_codebooks
        X, _, self.thresholds = make_encoding_problem(
            n_samples, n_features, n_codebooks, np.float32, "F"
        )
        # Split columns drawn as their benchmark draws them, each uniformly
        # from all D columns, so that both encoders read the same amount of
        # X (see the module docstring).
        rng = np.random.default_rng(n_features + n_codebooks)
        self.split_dims = rng.integers(0, n_features, (n_codebooks, 4)).astype(np.intp)
        self.X = aligned_copy(X, ALIGNMENT)
        n_padded = n_padded_codebooks(n_codebooks)
        n_blocks = -(-n_samples // ROWS_PER_BLOCK)
        self.packed = np.empty((n_blocks, n_padded // 2, ROWS_PER_BLOCK), np.uint8)
        rng = np.random.default_rng(n_features + n_outputs + n_codebooks)
        luts = rng.integers(0, 256, (n_outputs, n_codebooks, 16), dtype=np.uint8)
        self.tables = pad_tables(luts)
        # uint8 group averages where one averaging tree covers all codebooks
        # (their kernel writes the same); uint16 totals otherwise.
        out_dtype = np.uint8 if n_codebooks <= 16 else np.uint16
        self.out = np.empty((n_outputs, n_samples), dtype=out_dtype)
        W = rng.standard_normal((n_features, n_outputs))
        fit_rows = rng.standard_normal((N_FIT, n_features))
        self.model = MaddnessTransformer(W, n_codebooks=n_codebooks).fit(fit_rows)
        self.encode()  # real codes for the scan timed alone

    def encode(self):
        encode_packed(
            self.X, self.split_dims, self.thresholds, self.packed, self.level, openmp_max_threads()
        )

    def scan(self):
        scan_totals(
            self.packed,
            self.tables,
            self.n_samples,
            self.n_codebooks,
            True,
            self.out,
            self.level,
            openmp_max_threads(),
        )

    def encode_scan(self):
        self.encode()
        self.scan()

    def transform(self):
        self.model.transform(self.X)

    def seconds(self):
        """Seconds per timing, their protocol, one thread."""
        level_name = _simd.level_name(self.level)
        with threadpool_limits(limits=1):
            return {
                "encode": authors_protocol_seconds(self.encode),
                "scan": authors_protocol_seconds(self.scan),
                "encode+scan": authors_protocol_seconds(self.encode_scan),
                "transform": at_level(
                    level_name, lambda: authors_protocol_seconds(self.transform)
                ),
            }


def check_binary(bolt):
    """Whether ``bolt`` is an executable file; prints how to build it if not."""
    if bolt is None:
        print("vs_authors.py: no --bolt PATH given.\n", file=sys.stderr)
    elif not (os.path.isfile(bolt) and os.access(bolt, os.X_OK)):
        print(f"vs_authors.py: {bolt} is not an executable file.\n", file=sys.stderr)
    else:
        return True
    print(HOW_TO_BUILD, file=sys.stderr)
    return False


def print_table(authors_rounds, ours_rounds, level_name):
    def median(rounds, key):
        return float(np.median([r[key] for r in rounds]))

    print(
        "times in microseconds, 1 thread, float32 X in Fortran order; 'x': ours "
        "over theirs\n(below 1: ours faster); each the median over "
        f"{len(ours_rounds)} rounds of the median of {N_REPS} fastest-of-"
        f"{N_TRIALS}; sklearn-amm at {level_name}"
    )
    # Column groups, so that each group's title sits above its columns.
    groups = [
        ("", f"{'task':<12} {'N':>6} {'D':>4} {'M':>4} {'C':>3} "),
        ("authors / ours", f" {'encode':>6} {'ours':>6} {'x':>5} "),
        ("authors / ours", f" {'scan':>6} {'ours':>6} {'out':>4} {'x':>5} "),
        (
            "authors nolut / ours",
            f" {'enc+scan':>8} {'ours':>6} {'x':>5} {'x range':>10} ",
        ),
        ("ours", f" {'transform':>9} {'x':>5}"),
    ]
    titles = "|".join(f" {title:<{len(columns) - 1}}" for title, columns in groups)
    print(titles.rstrip())
    header = "|".join(columns for _, columns in groups)
    print(header)
    print("-" * len(header))
    for task, n_codebooks in CASES:
        _, n_samples, n_features, n_outputs = next(s for s in SHAPES if s[0] == task)
        theirs = {
            label: median(authors_rounds, (task, n_codebooks, label))
            for label in AUTHORS_ALGOS
        }
        ours = {
            label: median(ours_rounds, (task, n_codebooks, label))
            for label in (*AUTHORS_ALGOS, "transform")
        }
        # How much the enc+scan ratio moved between rounds: the noise.
        ratios = [
            o[task, n_codebooks, "encode+scan"] / a[task, n_codebooks, "encode+scan"]
            for o, a in zip(ours_rounds, authors_rounds)
        ]
        out = "u8" if n_codebooks <= 16 else "u16"
        print(
            f"{task:<12} {n_samples:>6} {n_features:>4} {n_outputs:>4} "
            f"{n_codebooks:>3} | "
            f"{theirs['encode'] * 1e6:>6.0f} {ours['encode'] * 1e6:>6.0f} "
            f"{ours['encode'] / theirs['encode']:>5.2f} | "
            f"{theirs['scan'] * 1e6:>6.0f} {ours['scan'] * 1e6:>6.0f} {out:>4} "
            f"{ours['scan'] / theirs['scan']:>5.2f} | "
            f"{theirs['encode+scan'] * 1e6:>8.0f} {ours['encode+scan'] * 1e6:>6.0f} "
            f"{ours['encode+scan'] / theirs['encode+scan']:>5.2f} "
            f"{min(ratios):>4.2f}-{max(ratios):<5.2f} | "
            f"{ours['transform'] * 1e6:>9.0f} "
            f"{ours['transform'] / theirs['encode+scan']:>5.2f}"
        )
    print(
        "'out': our scan's output (u8: group averages, as theirs; u16: totals).\n"
        "'x range': the enc+scan ratio in its lowest and highest round.\n"
        "transform: MaddnessTransformer.transform (float32 result, finite check),\n"
        "its 'x' over their nolut. Our kernels are called from Python, a few\n"
        "microseconds a call, which shows at the UCR shape."
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bolt", help="the authors' benchmark binary")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--level",
        choices=_simd.available_levels(),
        help="SIMD level of our kernels (default: the active one)",
    )
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if not check_binary(args.bolt):
        return 2
    level_name = args.level or _simd.level_name(_simd.active_level())
    level = _simd.LEVELS[level_name]

    print(
        f"CPU: {cpu_model()}; numpy {np.__version__}, scikit-learn "
        f"{sklearn.__version__}; SIMD levels: {', '.join(_simd.available_levels())}"
    )
    print(f'authors\' binary: {args.bolt} "amm mithral"')
    cases = None
    authors_rounds, ours_rounds = [], []
    for round_index in range(args.rounds):
        started = time.perf_counter()
        try:
            authors_rounds.append(run_authors(args.bolt))
        except (OSError, RuntimeError) as error:
            if round_index > 0:
                raise
            # The first run is the test that PATH is their binary.
            print(f"vs_authors.py: {error}\n", file=sys.stderr)
            print(HOW_TO_BUILD, file=sys.stderr)
            return 2
        if cases is None:
            print("setting up ours (one model fitted per case) ...", file=sys.stderr)
            cases = {case: OurCase(*case, level) for case in CASES}
        ours = {}
        for case, our_case in cases.items():
            for label, seconds in our_case.seconds().items():
                ours[(*case, label)] = seconds
        ours_rounds.append(ours)
        print(
            f"round {round_index + 1}/{args.rounds}: "
            f"{time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
    print()
    print_table(authors_rounds, ours_rounds, level_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
