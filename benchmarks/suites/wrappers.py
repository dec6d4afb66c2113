"""asv: a wrapped classifier's prediction methods against the exact model's.

Digits, ``LogisticRegression`` (10 classes, 64 pixels) and
``MaddnessClassifier`` around it at C=16, as in
``benchmarks/wrappers_accuracy.py``: the 450 test rows, and the same rows
repeated to 45000. Unlike the other suites, scikit-learn's finiteness check
stays on: this is what a user's ``predict`` costs, validation included, and
on a few hundred rows that overhead is most of it.
"""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from sklearn_amm import MaddnessClassifier

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
        X, y = load_digits(return_X_y=True)
        X_train, X_test, y_train, _ = train_test_split(
            X, y, test_size=0.25, stratify=y, random_state=0
        )
        exact = LogisticRegression(max_iter=5000).fit(X_train, y_train)
        approximate = MaddnessClassifier(FrozenEstimator(exact), n_codebooks=16)
        approximate.fit(X_train, y_train)
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
