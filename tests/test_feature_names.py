"""The drop-in wrappers name their outputs as the estimators they replace."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.frozen import FrozenEstimator
from sklearn.kernel_approximation import Nystroem, RBFSampler, SkewedChi2Sampler
from sklearn.preprocessing import StandardScaler
from sklearn.random_projection import GaussianRandomProjection, SparseRandomProjection

from sklearn_amm import (
    MaddnessNystroem,
    MaddnessProjection,
    MaddnessRBFSampler,
    MaddnessSkewedChi2Sampler,
)

pd = pytest.importorskip("pandas")

# Four codebooks: the names do not depend on the approximation.
FAST = dict(n_codebooks=4)

# (wrapper, the scikit-learn estimator it stands in for), fitted alike.
PAIRS = [
    (MaddnessProjection(PCA(n_components=3), **FAST), PCA(n_components=3)),
    (
        MaddnessProjection(GaussianRandomProjection(4, random_state=0), **FAST),
        GaussianRandomProjection(4, random_state=0),
    ),
    (
        MaddnessProjection(SparseRandomProjection(4, random_state=0), **FAST),
        SparseRandomProjection(4, random_state=0),
    ),
    # Output names that are the input names.
    (MaddnessProjection(StandardScaler(), **FAST), StandardScaler()),
    (
        MaddnessRBFSampler(n_components=5, random_state=0, **FAST),
        RBFSampler(n_components=5, random_state=0),
    ),
    (
        MaddnessSkewedChi2Sampler(n_components=5, random_state=0, **FAST),
        SkewedChi2Sampler(n_components=5, random_state=0),
    ),
    (
        MaddnessNystroem(n_components=5, random_state=0, **FAST),
        Nystroem(n_components=5, random_state=0),
    ),
]
IDS = [type(exact).__name__ for _, exact in PAIRS]


@pytest.fixture
def frame(binary_cube):
    X = binary_cube[0][:300]
    return pd.DataFrame(X, columns=[f"col{j}" for j in range(X.shape[1])])


@pytest.mark.parametrize("wrapper, exact", PAIRS, ids=IDS)
def test_feature_names_out_are_those_of_the_replaced_estimator(frame, wrapper, exact):
    wrapper = wrapper.fit(frame)
    exact = exact.fit(frame)
    assert_array_equal(wrapper.get_feature_names_out(), exact.get_feature_names_out())
    names = list(frame.columns)
    assert_array_equal(
        wrapper.get_feature_names_out(names), exact.get_feature_names_out(names)
    )
    with pytest.raises(ValueError, match="input_features"):
        wrapper.get_feature_names_out(["a"] * len(names))


@pytest.mark.parametrize("wrapper, exact", PAIRS, ids=IDS)
def test_pandas_output_columns_are_those_of_the_replaced_estimator(
    frame, wrapper, exact
):
    wrapped = wrapper.set_output(transform="pandas").fit(frame).transform(frame)
    expected = exact.set_output(transform="pandas").fit(frame).transform(frame)
    assert list(wrapped.columns) == list(expected.columns)


def test_feature_names_from_plain_arrays(binary_cube):
    X = binary_cube[0][:300]
    proj = MaddnessProjection(PCA(n_components=2)).fit(X)
    assert_array_equal(proj.get_feature_names_out(), ["pca0", "pca1"])
    scaler = MaddnessProjection(StandardScaler()).fit(X[:, :3])
    assert_array_equal(scaler.get_feature_names_out(), ["x0", "x1", "x2"])


def test_frozen_model_fitted_on_a_dataframe(frame):
    scaler = StandardScaler().fit(frame)
    proj = MaddnessProjection(FrozenEstimator(scaler)).fit(frame)
    assert_array_equal(proj.get_feature_names_out(), frame.columns)


def test_inner_transformer_without_feature_names_gets_its_class_prefix(binary_cube):
    class Doubler(TransformerMixin, BaseEstimator):
        """An affine transformer with no get_feature_names_out."""

        def fit(self, X, y=None):
            return self

        def transform(self, X):
            return 2 * np.asarray(X)

    X = binary_cube[0][:300, :3]
    proj = MaddnessProjection(Doubler()).fit(X)
    assert_array_equal(
        proj.get_feature_names_out(), ["doubler0", "doubler1", "doubler2"]
    )
    assert np.asarray(proj.get_feature_names_out()).dtype == object
