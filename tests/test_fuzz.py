"""Public-API fuzzing: whatever a user passes, a clear error or a right answer.

Every estimator gets inputs hypothesis draws: any dtype (float16 to
complex, integers, bool, object), any shape, values at the edges of their
type (NaN, infinities, the largest floats), in NumPy arrays, lists of lists
and pandas DataFrames. Each call must either raise scikit-learn's kind of
error (ValueError or TypeError, with a message), or return what the same
values give as a float64 (or float32) array: never crash, never return
garbage for input it accepted. NaN and infinity are accepted only in
columns the estimator never reads (see doc/user_guide/in_practice.rst), and
then change nothing. ``tests/test_validation.py`` checks the
wording of the errors for each kind of bad input.
"""

import numpy as np
import pytest

pytest.importorskip("hypothesis")
from hypothesis import event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.linear_model import LogisticRegression, Ridge  # noqa: E402

from sklearn_amm import (  # noqa: E402
    MaddnessClassifier,
    MaddnessClassifierCV,
    MaddnessNystroem,
    MaddnessProjection,
    MaddnessRBFSampler,
    MaddnessRegressor,
    MaddnessSkewedChi2Sampler,
    MaddnessTransformer,
)
from sklearn_amm._estimators import all_estimators  # noqa: E402

from cv_timings import fixed_timings  # noqa: E402

N_FEATURES = 6

DTYPES = [
    np.float16,
    np.float32,
    np.float64,
    np.int8,
    np.int64,
    np.uint8,
    np.uint64,
    np.bool_,
    np.complex128,
    np.object_,
]


def _estimators():
    """name -> (unfitted estimator, its prediction method)."""
    rng = np.random.default_rng(0)
    weights = rng.normal(size=(N_FEATURES, 3))
    common = {"n_codebooks": 3}
    return {
        "transformer": (MaddnessTransformer(weights, **common), "transform"),
        "transformer-float-tables": (
            MaddnessTransformer(weights, quantize_luts=False, **common),
            "transform",
        ),
        "classifier": (MaddnessClassifier(LogisticRegression(), **common), "predict"),
        "regressor": (MaddnessRegressor(Ridge(), **common), "predict"),
        "rbf": (
            MaddnessRBFSampler(n_components=8, random_state=0, **common),
            "transform",
        ),
        "skewed-chi2": (
            MaddnessSkewedChi2Sampler(n_components=8, random_state=0, **common),
            "transform",
        ),
        "nystroem": (
            MaddnessNystroem(n_components=8, random_state=0, **common),
            "transform",
        ),
        "projection": (MaddnessProjection(PCA(n_components=2), **common), "transform"),
        # MADDNESS is kept: fitted under fixed timings, with any loss
        # accepted (the 40 held-out rows bound the loss above 1%). Without
        # fallback, which would score some rows from every column.
        "classifier-cv": (
            MaddnessClassifierCV(
                LogisticRegression(),
                max_accuracy_loss=1.0,
                n_codebooks=(3,),
                fallback=False,
                random_state=0,
            ),
            "predict",
        ),
    }


ESTIMATORS = sorted(_estimators())


def test_cases_hold_every_estimator_class():
    classes = {type(estimator) for estimator, _ in _estimators().values()}
    assert classes == set(all_estimators())


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(1)
    X = np.abs(rng.normal(size=(200, N_FEATURES)))  # >= 0 for skewed-chi2
    y = (X[:, 0] > np.median(X[:, 0])).astype(int)
    models = {}
    with fixed_timings():
        for name, (estimator, method) in _estimators().items():
            models[name] = (estimator.fit(X, y), method)
    assert models["classifier-cv"][0].best_estimator_ is not None
    return models


def values(dtype):
    """Values of ``dtype``, its edges often."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        info = np.finfo(dtype)
        edges = [
            0.0,
            -0.0,
            1.0,
            float(info.max),
            -float(info.max),
            np.inf,
            -np.inf,
            np.nan,
        ]
        return st.one_of(
            st.floats(
                min_value=-float(info.max),
                max_value=float(info.max),
                width=8 * dtype.itemsize,
            ),
            st.sampled_from(edges),
        )
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return st.integers(int(info.min), int(info.max))
    if dtype.kind == "b":
        return st.booleans()
    if dtype.kind == "c":
        return st.complex_numbers(
            allow_nan=False, allow_infinity=False, max_magnitude=1e6
        )
    # object: numbers, and now and then what no estimator can take.
    return st.one_of(
        st.floats(allow_nan=False, allow_infinity=False),
        st.integers(-(10**6), 10**6),
        st.sampled_from([None, "a", "1.5"]),
    )


@st.composite
def inputs(draw):
    """An input as a user might pass it, and its values as an ndarray."""
    dtype = draw(st.sampled_from(DTYPES))
    n_dims = draw(st.sampled_from([2, 2, 2, 2, 1, 3]))
    n_samples = draw(st.integers(0, 40))
    n_features = draw(
        st.sampled_from([N_FEATURES] * 4 + [N_FEATURES - 1, N_FEATURES + 1, 0])
    )
    shape = {1: (n_samples,), 2: (n_samples, n_features), 3: (n_samples, n_features, 2)}
    array = draw(hnp.arrays(dtype, shape[n_dims], elements=values(dtype)))
    container = draw(
        st.sampled_from(["ndarray", "fortran", "read-only", "list", "frame"])
    )
    if container == "fortran":
        return np.asfortranarray(array), array
    if container == "read-only":
        array.flags.writeable = False
        return array, array
    if container == "list":
        # Python objects: what NumPy makes of them (float64 for floats; object
        # stays object, so that a string such as "1.5" is not cast to str).
        as_object = array.dtype == object
        return array.tolist(), np.asarray(
            array.tolist(), dtype=object if as_object else None
        )
    if container == "frame" and n_dims == 2:
        pd = pytest.importorskip("pandas")
        columns = [f"x{i}" for i in range(array.shape[1])]
        return pd.DataFrame(array, columns=columns), array
    return array, array


def _as_float(array):
    """The float array scikit-learn's validation makes of ``array``."""
    dtype = np.float32 if array.dtype == np.float32 else np.float64
    return np.asarray(array, dtype=dtype)


# The estimators were fitted on an array: a DataFrame warns, and is accepted.
@pytest.mark.filterwarnings("ignore:X has feature names:UserWarning")
@pytest.mark.parametrize("name", ESTIMATORS)
# Cheap examples: four times the profile's count.
@settings(max_examples=4 * settings().max_examples)
@given(data=inputs())
def test_prediction_raises_clearly_or_matches_float_input(fitted, name, data):
    X, array = data
    estimator, method = fitted[name]
    predict = getattr(estimator, method)
    try:
        with np.errstate(all="ignore"):  # NumPy's own conversion warnings
            result = predict(X)
    except (ValueError, TypeError) as error:
        assert str(error)
        event(f"rejected with {type(error).__name__}")
        return
    event("accepted")
    # Accepted: then it was a 2-D array of numbers with the fitted width,
    # finite wherever the estimator reads it.
    assert array.ndim == 2 and array.shape[1] == N_FEATURES and array.shape[0] > 0
    assert array.dtype.kind in "fiubO"
    with np.errstate(all="ignore"):
        numbers = _as_float(array)
        assert np.all(np.isfinite(numbers[:, _columns_read(estimator)]))
        # NaN or infinity elsewhere never reaches the output: any finite
        # value in its place gives the same result.
        if not np.all(np.isfinite(numbers)):
            event("accepted with non-finite values in unread columns")
        expected = predict(np.where(np.isfinite(numbers), numbers, 0).astype(numbers.dtype))
    np.testing.assert_array_equal(np.asarray(result), np.asarray(expected))


def _columns_read(estimator):
    """The columns of X an estimator's prediction depends on."""
    if isinstance(estimator, MaddnessNystroem):
        return np.arange(N_FEATURES)  # the kernel uses whole rows' norms
    estimator = getattr(estimator, "best_estimator_", estimator)
    amm = getattr(estimator, "maddness_", estimator)
    return np.unique(amm.split_dims_)


@given(
    values=hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 40), st.integers(1, 8)),
        elements=st.floats(-65504, 65504, width=16),  # any finite float16
    ),
    dtype=st.sampled_from([np.float16, np.float32, np.float64, np.int64, np.bool_]),
    weights_kind=st.sampled_from(
        ["finite", "nan", "inf", "int", "bool", "float16", "list"]
    ),
    n_codebooks=st.integers(1, 10),
    quantize_luts=st.booleans(),
)
def test_fit_raises_clearly_or_gives_finite_products(
    values, dtype, weights_kind, n_codebooks, quantize_luts
):
    X = values.astype(dtype)
    rng = np.random.default_rng(X.shape[0])
    weights = rng.normal(size=(X.shape[1], 2))
    if weights_kind in ("nan", "inf"):
        weights[-1, -1] = np.nan if weights_kind == "nan" else np.inf
    elif weights_kind in ("int", "bool"):
        weights = (3 * weights).astype(weights_kind)
    elif weights_kind == "float16":
        weights = weights.astype(np.float16)
    elif weights_kind == "list":
        weights = weights.tolist()
    amm = MaddnessTransformer(
        weights, n_codebooks=n_codebooks, quantize_luts=quantize_luts
    )
    try:
        amm.fit(X)
    except ValueError as error:
        assert weights_kind in ("nan", "inf"), error
        assert "weights" in str(error)
        return
    Y_hat = amm.transform(X)
    assert Y_hat.shape == (X.shape[0], 2)
    assert np.all(np.isfinite(Y_hat))
    # float16 and the integers are converted to float64, as scikit-learn does.
    assert Y_hat.dtype == (np.float32 if X.dtype == np.float32 else np.float64)
