"""asv: ``transform`` against NumPy's exact ``X @ W``, one thread each.

The same tasks, rows and layouts as the first table of
``benchmarks/bench_transform.py``, for C in {4, 8, 16, 32, 64}.
"""

from .common import (
    LAYOUTS,
    N_CODEBOOKS,
    TASKS,
    PreparedSuite,
    check_n_codebooks,
    load_model,
    load_rows,
    load_weights,
)


class Transform(PreparedSuite):
    """``MaddnessTransformer.transform`` of the test rows (encode and scan),
    as a user calls it: scikit-learn's default configuration."""

    assume_finite = False

    params = (list(TASKS), N_CODEBOOKS, list(LAYOUTS))
    param_names = ["task", "n_codebooks", "X"]

    def load(self, directory, task, n_codebooks, layout):
        check_n_codebooks(task, n_codebooks)
        self.model = load_model(directory, task, n_codebooks)
        self.X = load_rows(directory, task, "test", layout)
        self.time_transform(directory, task, n_codebooks, layout)

    def time_transform(self, directory, task, n_codebooks, layout):
        self.model.transform(self.X)


class TransformAssumeFinite(Transform):
    """``transform`` under ``assume_finite=True``, beside :class:`Transform`."""

    assume_finite = True


class NumpyProduct(PreparedSuite):
    """The exact product ``X @ W`` in X's dtype, BLAS on one thread: the baseline."""

    params = (list(TASKS), list(LAYOUTS))
    param_names = ["task", "X"]

    def load(self, directory, task, layout):
        self.X = load_rows(directory, task, "test", layout)
        self.W = load_weights(directory, task, self.X.dtype)
        self.time_matmul(directory, task, layout)

    def time_matmul(self, directory, task, layout):
        self.X @ self.W
