"""Bad input gives clear errors."""

import warnings

import numpy as np
import pytest
import scipy.sparse
from sklearn import config_context
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import Ridge
from sklearn.utils import validation
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import validate_data

from sklearn_amm import MaddnessRegressor, MaddnessTransformer, _reference
from sklearn_amm._validation import validate_rows


@pytest.fixture
def X():
    return np.random.default_rng(0).normal(size=(60, 4))


@pytest.fixture
def fitted(X):
    return MaddnessTransformer(n_codebooks=2).fit(X)


def _with(X, value):
    X = X.copy()
    X[3, 1] = value
    return X


@pytest.mark.parametrize(
    "value, message",
    [(np.nan, "Input X contains NaN"), (np.inf, "infinity"), (-np.inf, "infinity")],
)
def test_non_finite_x_at_fit(X, value, message):
    with pytest.raises(ValueError, match=message):
        MaddnessTransformer(n_codebooks=2).fit(_with(X, value))


@pytest.mark.parametrize(
    "value, message",
    [(np.nan, "Input X contains NaN"), (np.inf, "infinity"), (-np.inf, "infinity")],
)
@pytest.mark.parametrize("method", ["transform", "encode", "score"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_non_finite_x_after_fit(fitted, X, value, message, method, dtype):
    with pytest.raises(ValueError, match=message):
        getattr(fitted, method)(_with(X, value).astype(dtype))


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("assume_finite", [False, True])
def test_non_finite_value_in_a_column_no_tree_reads_is_ignored(value, assume_finite):
    """transform and encode read only the split columns, and check those:
    a NaN or infinity elsewhere cannot reach the output, so it is no error
    and changes nothing, with or without assume_finite."""
    X = np.random.default_rng(0).normal(size=(200, 8))
    # One codebook over 8 columns: its 4 levels read at most 4 of them.
    amm = MaddnessTransformer(n_codebooks=1).fit(X)
    unused = sorted(set(range(8)) - set(amm.split_dims_.ravel()))[0]
    X_bad = X.copy()
    X_bad[:, unused] = value
    with config_context(assume_finite=assume_finite):
        Y_hat = amm.transform(X_bad)
        codes = amm.encode(X_bad)
    assert np.all(np.isfinite(Y_hat))
    np.testing.assert_array_equal(Y_hat, amm.transform(X))
    np.testing.assert_array_equal(codes, amm.encode(X))


def test_score_reads_every_column_so_checks_them_all():
    X = np.random.default_rng(0).normal(size=(200, 8))
    amm = MaddnessTransformer(n_codebooks=1).fit(X)
    unused = sorted(set(range(8)) - set(amm.split_dims_.ravel()))[0]
    X_nan = X.copy()
    X_nan[5, unused] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        amm.score(X_nan)


@pytest.mark.parametrize("method", ["transform", "encode", "score"])
def test_wrong_number_of_features(fitted, X, method):
    message = "X has 3 features, but MaddnessTransformer is expecting 4 features"
    with pytest.raises(ValueError, match=message):
        getattr(fitted, method)(X[:, :3])


def test_one_dimensional_x(fitted, X):
    with pytest.raises(ValueError, match="Expected 2D array"):
        MaddnessTransformer().fit(X[:, 0])
    with pytest.raises(ValueError, match="Expected 2D array"):
        fitted.transform(X[0])


@pytest.mark.parametrize(
    "shape, message", [((0, 4), "0 sample"), ((5, 0), "0 feature")]
)
def test_empty_x_at_fit(shape, message):
    with pytest.raises(ValueError, match=message):
        MaddnessTransformer().fit(np.empty(shape))


def test_empty_x_at_transform(fitted):
    with pytest.raises(ValueError, match="0 sample"):
        fitted.transform(np.empty((0, 4)))


@pytest.mark.parametrize("format", ["csr", "csc"])
def test_sparse_x(fitted, X, format):
    X_sparse = scipy.sparse.random(60, 4, density=0.5, format=format, random_state=0)
    with pytest.raises(TypeError, match="Sparse data"):
        MaddnessTransformer().fit(X_sparse)
    with pytest.raises(TypeError, match="Sparse data"):
        fitted.transform(X_sparse)


def test_complex_x(fitted, X):
    with pytest.raises(ValueError, match="Complex data not supported"):
        MaddnessTransformer().fit(X + 1j)
    with pytest.raises(ValueError, match="Complex data not supported"):
        fitted.transform(X + 1j)


def test_object_x_with_strings():
    X = np.array([["a", "b"], ["c", "d"]], dtype=object)
    with pytest.raises(ValueError, match="could not convert string to float"):
        MaddnessTransformer().fit(X)


def test_weights_with_wrong_number_of_rows(X):
    with pytest.raises(ValueError, match="weights has 3 rows, but X has 4 features"):
        MaddnessTransformer(np.ones((3, 2))).fit(X)


@pytest.mark.parametrize(
    "value, message",
    [
        (np.nan, "Input weights contains NaN"),
        (np.inf, "Input weights contains infinity"),
    ],
)
def test_non_finite_weights(X, value, message):
    weights = np.ones((4, 2))
    weights[2, 1] = value
    with pytest.raises(ValueError, match=message):
        MaddnessTransformer(weights).fit(X)


def test_one_dimensional_weights(X):
    with pytest.raises(ValueError, match="Expected 2D array"):
        MaddnessTransformer(np.ones(4)).fit(X)


def test_weights_without_outputs(X):
    with pytest.raises(ValueError, match="0 feature"):
        MaddnessTransformer(np.ones((4, 0))).fit(X)


@pytest.mark.parametrize(
    "weights", [scipy.sparse.csr_matrix(np.ones((4, 2))), "abc"], ids=["sparse", "str"]
)
def test_weights_not_array_like(X, weights):
    with pytest.raises(InvalidParameterError, match="'weights' parameter"):
        MaddnessTransformer(weights).fit(X)


@pytest.mark.parametrize(
    "params, name",
    [
        ({"n_codebooks": 0}, "n_codebooks"),
        ({"n_codebooks": -1}, "n_codebooks"),
        ({"n_codebooks": 2.5}, "n_codebooks"),
        ({"n_codebooks": "4"}, "n_codebooks"),
        ({"ridge_alpha": 0}, "ridge_alpha"),
        ({"ridge_alpha": -1.0}, "ridge_alpha"),
        ({"aggregation": "median"}, "aggregation"),
        ({"n_candidate_dims": 0}, "n_candidate_dims"),
        ({"quantize_luts": "yes"}, "quantize_luts"),
        ({"optimize_prototypes": None}, "optimize_prototypes"),
    ],
)
def test_invalid_parameters(X, params, name):
    amm = MaddnessTransformer(**params)
    with pytest.raises(InvalidParameterError, match=f"The '{name}' parameter"):
        amm.fit(X)
    # The public parameter is left as given.
    assert amm.get_params()[name] == params[name]


@pytest.mark.parametrize(
    "method", ["transform", "encode", "score", "get_feature_names_out"]
)
def test_not_fitted(X, method):
    args = () if method == "get_feature_names_out" else (X,)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(MaddnessTransformer(), method)(*args)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_fit_rejects_non_finite_x_even_under_assume_finite(X, value):
    # assume_finite skips scikit-learn's check, but nothing can be learned
    # from NaN: fit says so rather than failing later on an overflow.
    with config_context(assume_finite=True):
        with pytest.raises(ValueError, match="Input X contains NaN or infinity"):
            MaddnessTransformer(n_codebooks=2).fit(_with(X, value))


@pytest.mark.parametrize("value", [np.nan, np.inf])
@pytest.mark.parametrize("quantize_luts", [True, False])
def test_fit_rejects_non_finite_weights_even_under_assume_finite(
    X, value, quantize_luts
):
    weights = np.ones((4, 2))
    weights[2, 1] = value
    amm = MaddnessTransformer(weights, n_codebooks=2, quantize_luts=quantize_luts)
    with config_context(assume_finite=True):
        with pytest.raises(ValueError, match="Input weights contains NaN or infinity"):
            amm.fit(X)


@pytest.mark.parametrize(
    "params",
    [
        {"split_objective": "product"},
        {"split_objective": "reconstruction", "n_refinement_passes": 1},
    ],
)
def test_fit_on_products_too_large_for_float64_raises(params):
    # Each fits float64 alone, but the sums of the split search on products
    # would overflow: this used to end in an UnboundLocalError from the tree
    # learner.
    X = np.array([[6.3e148], [-6.6e148]])
    weights = np.array([[6.4e-21, 1.05e18]])
    amm = MaddnessTransformer(weights, n_codebooks=1, **params)
    with pytest.raises(ValueError, match="too large to learn from"):
        amm.fit(X)
    # The paper's search reads X alone, and its tables fit float64.
    amm.set_params(split_objective="reconstruction", n_refinement_passes=0).fit(X)
    assert np.all(np.isfinite(amm.transform(X)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nan_in_a_split_column_under_assume_finite_goes_left(dtype):
    """Under assume_finite a NaN the trees read compares "not greater", like
    -inf: its row gets that leaf's output, and no other row changes."""
    X = np.random.default_rng(0).normal(size=(200, 8))
    amm = MaddnessTransformer(np.ones((8, 3)), n_codebooks=2).fit(X)
    column = amm.split_dims_[0, 0]
    X_nan, X_minus_inf = X.astype(dtype), X.astype(dtype)
    X_nan[[3, 150], column] = np.nan
    X_minus_inf[[3, 150], column] = -np.inf
    with config_context(assume_finite=True):
        Y_nan = amm.transform(X_nan)
        Y_minus_inf = amm.transform(X_minus_inf)
        Y = amm.transform(X.astype(dtype))
    np.testing.assert_array_equal(Y_nan, Y_minus_inf)
    assert np.all(np.isfinite(Y_nan))
    others = np.setdiff1d(np.arange(200), [3, 150])
    np.testing.assert_array_equal(Y_nan[others], Y[others])


def test_float32_rows_of_a_model_fitted_beyond_float32_range():
    # Thresholds beyond the float32 range become the largest float32 (or
    # -inf): no overflow warning, and the codes of the float64 comparison.
    X = np.random.default_rng(0).normal(size=(300, 4)) * 1e100
    amm = MaddnessTransformer(n_codebooks=2).fit(X)
    X32 = np.array([[1e38, -1e38, np.finfo(np.float32).max, 0.0]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        codes = amm.encode(X32)
    np.testing.assert_array_equal(
        codes, _reference.encode(X32, amm.split_dims_, amm.split_thresholds_)
    )


@pytest.mark.parametrize(
    "dtype",
    [np.int8, np.int64, np.uint8, np.bool_, np.float16],
    ids=lambda d: d.__name__,
)
def test_integer_bool_and_float16_x_are_converted_to_float64(fitted, X, dtype):
    X_other = (3 * X).astype(dtype)
    Y_hat = fitted.transform(X_other)
    assert Y_hat.dtype == np.float64
    np.testing.assert_array_equal(Y_hat, fitted.transform(X_other.astype(np.float64)))
    refitted = MaddnessTransformer(n_codebooks=2).fit(X_other)
    assert refitted.transform(X_other).dtype == np.float64


def test_list_of_lists(fitted, X):
    np.testing.assert_array_equal(fitted.transform(X.tolist()), fitted.transform(X))
    np.testing.assert_array_equal(
        MaddnessTransformer(np.ones((4, 2)).tolist(), n_codebooks=2)
        .fit(X.tolist())
        .transform(X),
        MaddnessTransformer(np.ones((4, 2)), n_codebooks=2).fit(X).transform(X),
    )


def test_dataframe_with_numeric_object_columns(X):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=list("abcd"))
    amm = MaddnessTransformer(n_codebooks=2).fit(frame)
    np.testing.assert_array_equal(
        amm.transform(frame.astype(object)), amm.transform(frame)
    )


@pytest.mark.parametrize(
    "column, message",
    [
        (["x", "y"] * 30, "could not convert string to float"),
        ("categorical", "could not convert string to float"),
        ("nullable", "Input X contains NaN"),
    ],
    ids=["strings", "categorical", "nullable-with-NA"],
)
def test_dataframe_with_non_numeric_columns(X, column, message):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=list("abcd"))
    if column == "categorical":
        frame["b"] = pd.Categorical(["x", "y"] * 30)
    elif column == "nullable":
        frame["b"] = pd.array([1, None] * 30, dtype="Int64")
    else:
        frame["b"] = pd.Series(column, dtype=object)
    with pytest.raises(ValueError, match=message):
        MaddnessTransformer(n_codebooks=2).fit(frame)
    amm = MaddnessTransformer(n_codebooks=2).fit(pd.DataFrame(X, columns=list("abcd")))
    with pytest.raises(ValueError, match=message):
        amm.transform(frame)


def _validate_rows_cases(X):
    big32 = np.full((4, X.shape[1]), 3e38, dtype=np.float32)  # finite; sum overflows
    return {
        "float64": X,
        "float32": X.astype(np.float32),
        "fortran": np.asfortranarray(X),
        "strided": X[::2],
        "int": X.astype(np.int64),
        "big-endian": X.astype(">f8"),
        "list": X.tolist(),
        "nan": _with(X, np.nan),
        "inf": _with(X, np.inf),
        "float32 sum overflows": big32,
        "float32 nan beside a huge value": _with(big32, np.nan),
        "wrong width": X[:, :3],
        "one-dimensional": X[0],
        "no rows": X[:0],
        "sparse": scipy.sparse.csr_matrix(X),
    }


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("check_finite", [False, True])
@pytest.mark.parametrize("assume_finite", [False, True])
def test_validate_rows_agrees_with_validate_data(fitted, X, assume_finite, check_finite):
    # The shortcut must return what validate_data returns, or raise what it
    # raises, for every kind of input. Without check_finite it leaves NaN
    # and infinity to the encoder, for ndarrays and other inputs alike.
    for name, rows in _validate_rows_cases(X).items():
        outcomes = []
        for validate in [
            lambda est, X: validate_rows(est, X, check_finite=check_finite),
            lambda est, X: validate_data(
                est,
                X,
                dtype=[np.float64, np.float32],
                reset=False,
                ensure_all_finite=check_finite,
            ),
        ]:
            try:
                with config_context(assume_finite=assume_finite):
                    outcomes.append(validate(fitted, rows))
            except Exception as error:  # noqa: BLE001 - compared below
                outcomes.append((type(error), str(error)))
        shortcut, reference = outcomes
        if isinstance(reference, tuple):
            assert shortcut == reference, name
        else:
            assert shortcut.dtype == reference.dtype, name
            np.testing.assert_array_equal(shortcut, reference, err_msg=name)


def test_validate_rows_returns_plain_arrays_themselves(fitted, X):
    for rows in [X, X.astype(np.float32), np.asfortranarray(X), X[::2]]:
        assert validate_rows(fitted, rows) is rows


def test_validate_rows_checks_feature_names(X):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    fitted = MaddnessTransformer(n_codebooks=2).fit(df)
    with pytest.warns(UserWarning, match="feature names"):
        fitted.transform(X)


def test_fitted_estimators_skip_scikit_learns_fitted_check(fitted, X, monkeypatch):
    # scikit-learn's check (tags, then every attribute's name) cost more
    # than the kernels on a thousand rows; a fitted estimator answers by
    # having n_features_in_, and an unfitted one still gets its error.
    regressor = MaddnessRegressor(Ridge(), n_codebooks=2).fit(X, X[:, 0])

    def refuse(*args, **kwargs):
        raise AssertionError("check_is_fitted looked through the attributes")

    monkeypatch.setattr(validation, "_is_fitted", refuse)
    fitted.transform(X)
    fitted.encode(X)
    regressor.predict(X)
    monkeypatch.undo()
    with pytest.raises(NotFittedError, match="not fitted yet"):
        MaddnessRegressor(Ridge(), n_codebooks=2).predict(X)
