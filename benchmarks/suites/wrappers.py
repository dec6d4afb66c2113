"""asv: a wrapped classifier's prediction methods against the exact model's.

Digits, ``LogisticRegression`` (10 classes, 64 pixels) and
``MaddnessClassifier`` around it at C=16, as in
``benchmarks/wrappers_accuracy.py``: the 450 test rows, and the same rows
repeated to 45000. Unlike the other suites, scikit-learn's finiteness check
stays on: this is what a user's ``predict`` costs, validation included, and
on a few hundred rows that overhead is most of it.
"""

import numpy as np
from threadpoolctl import threadpool_limits
from wrappers_accuracy import digits_split, wrapped

ROW_TILES = {"450": 1, "45000": 100}


class DigitsPrediction:
    """``decision_function``, ``predict`` and ``predict_proba``, one thread."""

    params = (
        ["exact", "MADDNESS C=16"],
        ["decision_function", "predict", "predict_proba"],
        list(ROW_TILES),
    )
    param_names = ["model", "method", "rows"]
    timeout = 120
    # One call per sample, the median of many samples (see common.PreparedSuite).
    number = 1
    repeat = (10, 200, 2.0)

    def setup_cache(self):
        # The split and models of wrappers_accuracy.py's speed columns.
        X_train, X_test, y_train, _, exact = digits_split(random_state=0)
        approximate = wrapped(exact, X_train, y_train, n_codebooks=16)
        return {"exact": exact, "MADDNESS C=16": approximate}, X_test

    def setup(self, cache, model, method, rows):
        # Prepared once per process, as in common.PreparedSuite.setup; the
        # first call pays the one-time costs outside the samples.
        if getattr(self, "_loaded_params", None) != (model, method, rows):
            models, X_test = cache
            self.method = getattr(models[model], method)
            self.X = np.tile(X_test, (ROW_TILES[rows], 1))
            self._thread_limits = threadpool_limits(limits=1)
            self.method(self.X)
            self._loaded_params = (model, method, rows)

    def time_prediction(self, cache, model, method, rows):
        self.method(self.X)
