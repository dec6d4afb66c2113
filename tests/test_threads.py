"""Thread safety: one fitted estimator shared by many Python threads, and
fits of different estimators running at once.

``transform`` only reads the fitted estimator, and the kernels release the
GIL and keep their scratch per call (per OpenMP thread within a call), so
concurrent calls must give exactly what one thread gets. Each test starts
the threads together at a barrier so that their calls overlap.
"""

import pickle
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn import config_context
from sklearn.linear_model import LogisticRegression

from sklearn_amm import MaddnessClassifier, MaddnessRBFSampler, MaddnessTransformer

N_THREADS = 8


def _run_together(function, arguments):
    """``function(argument)`` for each argument, each in its own thread,
    all released at once."""
    barrier = threading.Barrier(len(arguments))

    def call(argument):
        barrier.wait()
        return function(argument)

    with ThreadPoolExecutor(max_workers=len(arguments)) as pool:
        return list(pool.map(call, arguments))


@pytest.fixture(scope="module")
def data(make_low_rank):
    X = make_low_rank(6000, 48, seed=3)
    weights = np.random.default_rng(3).normal(size=(48, 10))
    return X[:3000], X[3000:], weights


@pytest.mark.parametrize(
    "params",
    [
        {"n_codebooks": 16},
        {"n_codebooks": 24, "aggregation": "sum", "lut_scaling": "per_output"},
        {"n_codebooks": 8, "quantize_luts": False},
    ],
    ids=["average", "sum-per-output", "float-tables"],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("assume_finite", [False, True])
def test_concurrent_transforms_of_one_estimator_are_identical(
    data, params, dtype, assume_finite
):
    X_train, X_test, weights = data
    amm = MaddnessTransformer(weights, **params).fit(X_train)
    # Each thread gets its own rows (and some the same rows), so a thread
    # reading another's buffer would show up.
    batches = [
        np.asarray(X_test[i * 300 : i * 300 + 900], dtype=dtype)
        for i in range(N_THREADS)
    ]
    expected = [amm.transform(batch) for batch in batches]

    def transform(batch):
        with config_context(assume_finite=assume_finite):
            return [amm.transform(batch) for _ in range(5)]

    for results, want in zip(_run_together(transform, batches), expected):
        for Y_hat in results:
            np.testing.assert_array_equal(Y_hat, want)


def test_concurrent_transforms_of_a_freshly_loaded_estimator(data):
    # A loaded estimator rebuilds its private scan cache on load: the first
    # calls, from several threads at once, must not see it half built.
    X_train, X_test, weights = data
    amm = MaddnessTransformer(weights, n_codebooks=16).fit(X_train)
    expected = amm.transform(X_test)
    loaded = pickle.loads(pickle.dumps(amm))
    for Y_hat in _run_together(loaded.transform, [X_test] * N_THREADS):
        np.testing.assert_array_equal(Y_hat, expected)


def test_concurrent_fits_of_different_estimators_do_not_interfere(data):
    X_train, X_test, weights = data
    settings = [
        {"n_codebooks": 4 + 4 * (i % 4), "aggregation": ("average", "sum")[i % 2]}
        for i in range(N_THREADS)
    ]
    # Serial fits first: the reference each concurrent fit must reproduce.
    expected = [
        MaddnessTransformer(weights, **params).fit(X_train).transform(X_test)
        for params in settings
    ]

    def fit_and_transform(params):
        return MaddnessTransformer(weights, **params).fit(X_train).transform(X_test)

    for Y_hat, want in zip(_run_together(fit_and_transform, settings), expected):
        np.testing.assert_array_equal(Y_hat, want)


def test_concurrent_predictions_of_wrappers(data):
    X_train, X_test, _ = data
    y = (X_train[:, 0] > 0).astype(int)
    classifier = MaddnessClassifier(LogisticRegression(), n_codebooks=16).fit(
        X_train, y
    )
    sampler = MaddnessRBFSampler(
        gamma=0.01, n_components=64, n_codebooks=16, random_state=0
    ).fit(X_train)
    expected = (classifier.predict_proba(X_test), sampler.transform(X_test))

    def predict(_):
        return classifier.predict_proba(X_test), sampler.transform(X_test)

    for proba, features in _run_together(predict, range(N_THREADS)):
        np.testing.assert_array_equal(proba, expected[0])
        np.testing.assert_array_equal(features, expected[1])
