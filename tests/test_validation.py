"""Bad input gives clear errors."""

import numpy as np
import pytest
import scipy.sparse
from sklearn import config_context
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_amm import MaddnessTransformer


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


def test_nan_in_a_column_no_tree_reads_still_raises():
    """Validation checks every column, not just the split columns."""
    X = np.random.default_rng(0).normal(size=(200, 8))
    # One codebook over 8 columns: its 4 levels read at most 4 of them.
    amm = MaddnessTransformer(n_codebooks=1).fit(X)
    unused = sorted(set(range(8)) - set(amm.split_dims_.ravel()))[0]
    X_nan = X.copy()
    X_nan[:, unused] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        amm.transform(X_nan)


def test_nan_in_an_unread_column_is_ignored_under_assume_finite():
    """With ``assume_finite=True`` the check is skipped: an unread NaN column
    then has no effect, and the output is finite and unchanged."""
    X = np.random.default_rng(0).normal(size=(200, 8))
    amm = MaddnessTransformer(n_codebooks=1).fit(X)
    unused = sorted(set(range(8)) - set(amm.split_dims_.ravel()))[0]
    X_nan = X.copy()
    X_nan[:, unused] = np.nan
    with config_context(assume_finite=True):
        Y_hat = amm.transform(X_nan)
    assert np.all(np.isfinite(Y_hat))
    np.testing.assert_array_equal(Y_hat, amm.transform(X))


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
