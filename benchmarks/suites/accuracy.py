"""asv: accuracy of the approximate product on held-out rows (``track_``)."""

import numpy as np

from .common import (
    N_CODEBOOKS,
    TASKS,
    PreparedSuite,
    check_n_codebooks,
    load_model,
    load_rows,
    load_weights,
)


class Accuracy(PreparedSuite):
    """NMSE of ``transform`` on the test rows: lower is better."""

    params = (list(TASKS), N_CODEBOOKS)
    param_names = ["task", "n_codebooks"]

    def load(self, directory, task, n_codebooks):
        check_n_codebooks(task, n_codebooks)
        self.model = load_model(directory, task, n_codebooks)
        self.X = load_rows(directory, task, "test")
        self.Y = self.X @ load_weights(directory, task)

    def track_nmse(self, directory, task, n_codebooks):
        """``mean((Y - Y_hat)**2) / var(Y)`` over all outputs, float64 rows."""
        Y_hat = self.model.transform(self.X)
        return float(np.mean((self.Y - Y_hat) ** 2) / np.var(self.Y))

    track_nmse.unit = "NMSE"
