"""asv: peak memory (resident set size) of fit, transform and the exact product.

asv reports the peak of the whole benchmark process: the interpreter and its
imports, the rows ``setup`` reads, and what the measured call adds. The
baseline ``peakmem_rows`` reads the same rows and does nothing else, so the
difference is the call's own peak.
"""

from sklearn_amm import MaddnessTransformer

from .common import (
    MADDNESS,
    N_CODEBOOKS,
    TASKS,
    PreparedSuite,
    check_n_codebooks,
    load_model,
    load_rows,
    load_weights,
)


class PeakMemoryFit(PreparedSuite):
    """``fit`` on 10000 float64 rows."""

    params = (list(TASKS), N_CODEBOOKS)
    param_names = ["task", "n_codebooks"]
    timeout = 300

    def load(self, directory, task, n_codebooks):
        check_n_codebooks(task, n_codebooks)
        self.X = load_rows(directory, task, "train")
        self.W = load_weights(directory, task)

    def peakmem_fit(self, directory, task, n_codebooks):
        MaddnessTransformer(self.W, n_codebooks=n_codebooks, **MADDNESS).fit(self.X)


class PeakMemoryTransform(PreparedSuite):
    """``transform`` of the F-ordered float32 test rows."""

    params = (list(TASKS), N_CODEBOOKS)
    param_names = ["task", "n_codebooks"]

    def load(self, directory, task, n_codebooks):
        check_n_codebooks(task, n_codebooks)
        self.model = load_model(directory, task, n_codebooks)
        self.X = load_rows(directory, task, "test", "float32 F")

    def peakmem_transform(self, directory, task, n_codebooks):
        self.model.transform(self.X)


class PeakMemoryRows(PreparedSuite):
    """The baselines: the float32 test rows alone, and their exact product."""

    params = list(TASKS)
    param_names = ["task"]

    def load(self, directory, task):
        self.X = load_rows(directory, task, "test", "float32 F")
        self.W = load_weights(directory, task, self.X.dtype)

    def peakmem_rows(self, directory, task):
        pass

    def peakmem_matmul(self, directory, task):
        self.X @ self.W
