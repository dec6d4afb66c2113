"""asv: time to fit MaddnessTransformer on the kernel benchmark's tasks."""

from sklearn_amm import MaddnessTransformer

from .common import (
    MADDNESS,
    N_CODEBOOKS,
    TASKS,
    PreparedSuite,
    check_n_codebooks,
    load_rows,
    load_weights,
)


class Fit(PreparedSuite):
    """``fit`` on 10000 rows, one thread: learning, prototypes and tables."""

    params = (list(TASKS), N_CODEBOOKS)
    param_names = ["task", "n_codebooks"]
    # A fit takes about a second: one call per sample, no warm-up call.
    number = 1
    repeat = (1, 3, 30.0)
    warmup_time = 0
    timeout = 300

    def load(self, directory, task, n_codebooks):
        check_n_codebooks(task, n_codebooks)
        self.X = load_rows(directory, task, "train")
        self.W = load_weights(directory, task)

    def time_fit(self, directory, task, n_codebooks):
        MaddnessTransformer(self.W, n_codebooks=n_codebooks, **MADDNESS).fit(self.X)
