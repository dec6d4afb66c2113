"""What the asv suites share: the tasks, the estimators' parameters, the prepared files.

``report.py`` and ``faiss_comparison.py`` use its parameters and
:func:`one_thread_seconds` too.

The tasks are the shapes of the authors' tasks in the kernel benchmark
(``bench_transform.SHAPES``, less its 100000-row shape, too slow to repeat
under asv), on the same synthetic rows and the same known matrix, so asv's
numbers can be read beside that script's.

Fitting takes seconds per model, and asv runs every benchmark in a process of
its own, so :func:`prepare_files` (every suite's ``setup_cache``; they share
its result because they share the function) fits each model once and writes
the rows and models to files. Each benchmark reads only the files it needs
(:meth:`PreparedSuite.load`): the peak-memory benchmarks then count that
data, not a whole set of models.
"""

import pickle
from pathlib import Path

import numpy as np
import sklearn
from bench_transform import N_FIT, SHAPES, low_rank_rows, median_seconds
from threadpoolctl import threadpool_limits

from sklearn_amm import MaddnessTransformer

# name: (n_samples, n_features, n_outputs)
TASKS = {name: shape for name, *shape in SHAPES if name != "large"}
N_CODEBOOKS = [4, 8, 16, 32, 64]
# dtype and memory order of the rows, as in bench_transform.LAYOUTS.
LAYOUTS = {
    "float32 F": (np.float32, "F"),
    "float32 C": (np.float32, "C"),
    "float64 C": (np.float64, "C"),
}

# The paper's MADDNESS, every parameter spelled out: the package's defaults
# may change, what these benchmarks measure should not change with them.
MADDNESS = {
    "optimize_prototypes": True,
    "ridge_alpha": 1.0,
    "quantize_luts": True,
    "aggregation": "average",
    "lut_scaling": "shared",
    "n_candidate_dims": 4,
    "split_objective": "reconstruction",
    "n_refinement_passes": 0,
}
# The variants of the paper's figures: prototypes kept at the leaf means
# (MADDNESS-PQ), and uint8 table entries summed exactly instead of averaged.
VARIANTS = {
    "MADDNESS": MADDNESS,
    "MADDNESS-PQ": {**MADDNESS, "optimize_prototypes": False},
    "exact sum": {**MADDNESS, "aggregation": "sum"},
}


def one_thread_seconds(function, rounds=3):
    """Seconds of ``function()``, one thread, without scikit-learn's finiteness check.

    The smallest of ``rounds`` medians of single calls
    (``bench_transform.median_seconds``). On a machine shared with other
    work, a median of long calls (the exact product of the larger tasks
    takes tens of milliseconds) still counts time spent waiting for a core;
    the smallest of a few is closer to what a quiet machine measures, where
    it equals the median.
    """
    with threadpool_limits(limits=1), sklearn.config_context(assume_finite=True):
        return min(median_seconds(function) for _ in range(rounds))


def _slug(task):
    return task.replace(" ", "_")


def prepare_files():
    """Write every task's rows and known matrix, and fit every model (asv setup_cache).

    asv runs it once, in a directory that the benchmarks sharing it then run
    in; its result, that directory, is passed to their ``setup``.

    Returns
    -------
    directory : str
    """
    directory = Path.cwd()
    with threadpool_limits(limits=1):
        for task, (n_samples, n_features, n_outputs) in TASKS.items():
            # The same rows and matrix as bench_transform.transform_table.
            X = low_rank_rows(n_samples + N_FIT, n_features, seed=n_features)
            W = np.random.default_rng(1).normal(size=(n_features, n_outputs))
            np.save(directory / f"{_slug(task)}-train.npy", X[:N_FIT])
            np.save(directory / f"{_slug(task)}-test.npy", X[N_FIT:])
            np.save(directory / f"{_slug(task)}-weights.npy", W)
            for n_codebooks in N_CODEBOOKS:
                if n_codebooks > n_features:
                    continue
                model = MaddnessTransformer(W, n_codebooks=n_codebooks, **MADDNESS)
                model.fit(X[:N_FIT])
                path = directory / f"{_slug(task)}-C{n_codebooks}.pickle"
                path.write_bytes(pickle.dumps(model))
    return str(directory)


# Twenty-five fits of up to 10000 x 512 rows take about a minute on one core.
prepare_files.timeout = 900


def check_n_codebooks(task, n_codebooks):
    """Skip (asv's NotImplementedError) codebooks a task has no columns for.

    Past ``n_features`` the estimator clamps ``n_codebooks``, which would
    measure the same model under another name.
    """
    if n_codebooks > TASKS[task][1]:
        raise NotImplementedError(f"{task} has fewer than {n_codebooks} columns")


def load_rows(directory, task, part, layout="float64 C"):
    """A task's ``"train"`` or ``"test"`` rows, in the dtype and order of ``layout``."""
    dtype, order = LAYOUTS[layout]
    X = np.load(Path(directory) / f"{_slug(task)}-{part}.npy")
    return np.asarray(X, dtype=dtype, order=order)


def load_weights(directory, task, dtype=np.float64):
    return np.load(Path(directory) / f"{_slug(task)}-weights.npy").astype(dtype)


def load_model(directory, task, n_codebooks):
    """The fitted MaddnessTransformer of :func:`prepare_files`."""
    path = Path(directory) / f"{_slug(task)}-C{n_codebooks}.pickle"
    return pickle.loads(path.read_bytes())


class PreparedSuite:
    """Base of the suites: the shared prepared files, one thread.

    One thread for BLAS and for the kernels' OpenMP, as in the kernel
    benchmark. ``assume_finite`` is scikit-learn's setting during the
    benchmark: False times what a user gets by default (the encoder checks
    the values it compares for NaN and infinity); True (the default here,
    for the suites that time kernels and NumPy, which never check) skips
    the checks that remain. Subclasses read what they need in :meth:`load`.
    """

    assume_finite = True

    setup_cache = staticmethod(prepare_files)
    timeout = 120
    # One call per sample, and the median of many samples, as in
    # bench_transform.median_seconds: on a machine shared with other work, a
    # sample of many calls also counts the time the process waits for a
    # core, which the median of single calls leaves out.
    number = 1
    repeat = (10, 200, 2.0)

    def load(self, directory, *params):
        """Read the rows and models of one parameter combination (override).

        The time suites end it with one call of what they time: the first
        call pays one-time costs (page faults of new buffers, lazily built
        constants) that ``bench_transform.median_seconds`` leaves out with
        its own warm-up call, and ``asv run --quick`` times a single call.
        """

    def setup(self, directory, *params):
        # asv runs teardown and setup again before every sample, so that a
        # benchmark that changes its inputs gets fresh ones. These change
        # nothing, and reading the files again would make every sample the
        # first call on new arrays: the files are read once. The thread
        # limit is set once too: setting and restoring it around every call
        # made transform half as fast again (the limit lasts until the
        # process ends, and asv runs each parameter combination in a
        # process of its own).
        if getattr(self, "_loaded_params", None) != params:
            self.load(directory, *params)
            self._loaded_params = params
            self._thread_limits = threadpool_limits(limits=1)
        self._config = sklearn.get_config()
        sklearn.set_config(assume_finite=self.assume_finite)

    def teardown(self, directory, *params):
        # asv calls teardown also after a setup that skipped the benchmark.
        if hasattr(self, "_config"):
            sklearn.set_config(**self._config)
