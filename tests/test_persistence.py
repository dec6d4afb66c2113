"""Persistence: pickle, joblib, copy and skops round trips, the version
warning, and estimators saved under one SIMD level and loaded under another.
"""

import copy
import os
import pickle
import subprocess
import sys
import warnings

import joblib
import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

import sklearn_amm
from sklearn_amm import (
    InconsistentVersionWarning,
    MaddnessClassifier,
    MaddnessClassifierCV,
    MaddnessNystroem,
    MaddnessProjection,
    MaddnessRBFSampler,
    MaddnessRegressor,
    MaddnessSkewedChi2Sampler,
    MaddnessTransformer,
    _persistence,
    _simd,
)
from sklearn_amm._estimators import all_estimators

# The directory holding the sklearn_amm being tested, for subprocesses.
PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(sklearn_amm.__file__)))


def _estimators():
    """name -> unfitted estimator, one of each class and table option."""
    rng = np.random.default_rng(0)
    weights = rng.normal(size=(12, 5))
    return {
        "transformer": MaddnessTransformer(weights, n_codebooks=6),
        "transformer-per-output-sum": MaddnessTransformer(
            weights, n_codebooks=6, lut_scaling="per_output", aggregation="sum"
        ),
        "transformer-float-tables": MaddnessTransformer(
            n_codebooks=6, quantize_luts=False
        ),
        "classifier": MaddnessClassifier(LogisticRegression(), n_codebooks=6),
        "classifier-frozen": MaddnessClassifier(
            FrozenEstimator(
                LogisticRegression().fit(rng.random((50, 12)), np.arange(50) % 3)
            ),
            n_codebooks=6,
        ),
        "classifier-cv": MaddnessClassifierCV(
            LogisticRegression(),
            n_codebooks=(3, 6),
            table_objectives=("product",),
            random_state=0,
        ),
        "classifier-scaler-pipeline": MaddnessClassifier(
            make_pipeline(MinMaxScaler(clip=True), LogisticRegression()), n_codebooks=6
        ),
        "regressor": MaddnessRegressor(Ridge(), n_codebooks=6),
        "regressor-scaler-pipeline": MaddnessRegressor(
            make_pipeline(StandardScaler(), Ridge()), n_codebooks=6
        ),
        "rbf": MaddnessRBFSampler(n_components=20, n_codebooks=6, random_state=0),
        "skewed-chi2": MaddnessSkewedChi2Sampler(
            n_components=20, n_codebooks=6, random_state=0
        ),
        "nystroem": MaddnessNystroem(n_components=20, n_codebooks=6, random_state=0),
        "projection": MaddnessProjection(PCA(n_components=4), n_codebooks=6),
        "projection-scaler-pipeline": MaddnessProjection(
            make_pipeline(RobustScaler(), PCA(n_components=4)), n_codebooks=6
        ),
    }


NAMES = sorted(_estimators())


def test_cases_hold_every_estimator_class():
    assert {type(estimator) for estimator in _estimators().values()} == set(
        all_estimators()
    )


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(1)
    X = rng.random((400, 12))  # >= 0 for skewed-chi2
    y = np.arange(400) % 3
    return {name: est.fit(X, y) for name, est in _estimators().items()}, X


def _output(estimator, X):
    method = (
        "predict_proba"
        if hasattr(estimator, "predict_proba")
        else ("predict" if hasattr(estimator, "predict") else "transform")
    )
    return getattr(estimator, method)(X)


def _round_trips():
    def with_pickle(estimator, tmp_path):
        return pickle.loads(pickle.dumps(estimator))

    def with_joblib(estimator, tmp_path):
        joblib.dump(estimator, tmp_path / "estimator.joblib")
        return joblib.load(tmp_path / "estimator.joblib")

    def with_deepcopy(estimator, tmp_path):
        return copy.deepcopy(estimator)

    return {"pickle": with_pickle, "joblib": with_joblib, "deepcopy": with_deepcopy}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("how", sorted(_round_trips()))
def test_round_trip_gives_identical_output(fitted, tmp_path, name, how):
    models, X = fitted
    estimator = models[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # same version: no warning at all
        loaded = _round_trips()[how](estimator, tmp_path)
    np.testing.assert_array_equal(_output(loaded, X), _output(estimator, X))


def test_scan_cache_is_left_out_and_rebuilt(fitted):
    amm = fitted[0]["transformer"]
    state = amm.__getstate__()
    assert "_scan_inputs" not in state
    assert "_scan_inputs" in vars(amm)  # the estimator itself keeps it
    assert state["_sklearn_amm_version"] == sklearn_amm.__version__
    loaded = pickle.loads(pickle.dumps(amm))
    tables, constants = loaded._scan_inputs
    np.testing.assert_array_equal(tables, amm._scan_inputs[0])
    for aggregation in ("average", "sum"):
        for dtype in (np.float32, np.float64):
            for loaded_array, array in zip(
                constants[aggregation][dtype], amm._scan_inputs[1][aggregation][dtype]
            ):
                np.testing.assert_array_equal(loaded_array, array)


def test_unfitted_estimator_round_trip():
    amm = MaddnessTransformer(n_codebooks=3)
    loaded = pickle.loads(pickle.dumps(amm))
    assert loaded.get_params() == amm.get_params()
    assert not hasattr(loaded, "_scan_inputs")


@pytest.mark.parametrize("name", NAMES)
def test_loading_from_another_version_warns(fitted, monkeypatch, name):
    estimator = fitted[0][name]
    monkeypatch.setattr(_persistence, "_current_version", lambda: "0.0.1")
    data = pickle.dumps(estimator)
    monkeypatch.undo()
    with pytest.warns(InconsistentVersionWarning) as record:
        pickle.loads(data)
    # Only ours, once per sklearn-amm estimator in the object: wrappers
    # hold a MaddnessTransformer, whose own warning comes first.
    ours = [
        w.message for w in record if isinstance(w.message, InconsistentVersionWarning)
    ]
    assert ours[-1].estimator_name == type(estimator).__name__
    assert ours[-1].original_version == "0.0.1"
    assert ours[-1].current_version == sklearn_amm.__version__
    assert "sklearn-amm version 0.0.1" in str(ours[-1])


def test_state_without_a_version_warns():
    amm = MaddnessTransformer(n_codebooks=2).fit(
        np.random.default_rng(0).normal(size=(50, 4))
    )
    state = amm.__getstate__()
    del state["_sklearn_amm_version"]
    loaded = MaddnessTransformer.__new__(MaddnessTransformer)
    with pytest.warns(InconsistentVersionWarning, match="version unknown"):
        loaded.__setstate__(state)
    np.testing.assert_array_equal(
        loaded.transform(np.ones((3, 4))), amm.transform(np.ones((3, 4)))
    )


def test_warning_can_be_filtered_like_scikit_learns():
    warning = InconsistentVersionWarning(
        estimator_name="MaddnessTransformer", current_version="2", original_version="1"
    )
    assert isinstance(warning, UserWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", category=InconsistentVersionWarning)
        warnings.warn(warning)


@pytest.mark.parametrize("name", NAMES)
def test_skops_round_trip_with_our_types_trusted(fitted, name):
    sio = pytest.importorskip("skops.io")
    models, X = fitted
    estimator = models[name]
    data = sio.dumps(estimator)
    # Nothing beyond our own classes needs trusting: the scan cache (a dict
    # keyed by NumPy types) is not saved.
    untrusted = sio.get_untrusted_types(data=data)
    assert set(untrusted) <= set(sklearn_amm.skops_trusted_types())
    assert f"{type(estimator).__module__}.{type(estimator).__qualname__}" in untrusted
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.loads(data)  # secure by default: nothing of ours is trusted
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = sio.loads(data, trusted=sklearn_amm.skops_trusted_types())
    np.testing.assert_array_equal(_output(loaded, X), _output(estimator, X))


def _python(code, simd, *args):
    """Run ``code`` with ``args`` in a fresh interpreter, SKLEARN_AMM_SIMD=simd."""
    env = dict(os.environ, **{_simd.ENV_VAR: simd})
    env["PYTHONPATH"] = os.pathsep.join(
        [PACKAGE_PARENT] + [p for p in [os.environ.get("PYTHONPATH")] if p]
    )
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result


# argv: the SIMD level expected, the output directory.
FIT_AND_SAVE = """
import pickle, sys
import numpy as np
from sklearn_amm import MaddnessTransformer, _simd
level, directory = sys.argv[1:]
assert _simd.level_name(_simd.active_level()) == level
rng = np.random.default_rng(0)
X = rng.normal(size=(2000, 24)) @ rng.normal(size=(24, 24))
weights = rng.normal(size=(24, 6))
np.save(f"{directory}/X.npy", X)
for n_codebooks in (5, 24):  # one averaging group, and two
    amm = MaddnessTransformer(weights, n_codebooks=n_codebooks).fit(X)
    for dtype in ("float32", "float64"):
        Y_hat = amm.transform(X.astype(dtype))
        np.save(f"{directory}/Y_{n_codebooks}_{dtype}.npy", Y_hat)
    with open(f"{directory}/model_{n_codebooks}.pkl", "wb") as f:
        pickle.dump(amm, f)
"""


@pytest.mark.parametrize("saved_under", _simd.available_levels())
def test_saved_under_one_simd_level_identical_under_every_other(
    tmp_path, saved_under
):
    # Saved by a process with SKLEARN_AMM_SIMD=saved_under, loaded here with
    # every other level forced (the level is read at each call).
    _python(FIT_AND_SAVE, saved_under, saved_under, str(tmp_path))
    X = np.load(tmp_path / "X.npy")
    for n_codebooks in (5, 24):
        with open(tmp_path / f"model_{n_codebooks}.pkl", "rb") as f:
            amm = pickle.load(f)
        for level in _simd.available_levels():
            for dtype in ("float32", "float64"):
                expected = np.load(tmp_path / f"Y_{n_codebooks}_{dtype}.npy")
                with _simd.simd_level(level):
                    Y_hat = amm.transform(X.astype(dtype))
                np.testing.assert_array_equal(Y_hat, expected)


# argv: the saved estimator, the rows, where to save the output.
LOAD_AND_TRANSFORM = """
import sys
import joblib, numpy as np
from sklearn_amm import _simd
assert _simd.level_name(_simd.active_level()) == "scalar"
model, rows, output = sys.argv[1:]
np.save(output, joblib.load(model).transform(np.load(rows)))
"""


def test_loaded_in_a_process_with_the_scalar_level_forced(fitted, tmp_path):
    models, X = fitted
    amm = models["transformer"]
    joblib.dump(amm, tmp_path / "model.joblib")
    np.save(tmp_path / "X.npy", X)
    paths = [str(tmp_path / name) for name in ("model.joblib", "X.npy", "Y.npy")]
    _python(LOAD_AND_TRANSFORM, "scalar", *paths)
    np.testing.assert_array_equal(np.load(tmp_path / "Y.npy"), amm.transform(X))
