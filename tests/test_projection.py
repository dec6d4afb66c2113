"""Tests of MaddnessProjection."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.decomposition import PCA, FastICA, TruncatedSVD
from sklearn.frozen import FrozenEstimator
from sklearn.preprocessing import Normalizer
from sklearn.random_projection import GaussianRandomProjection, SparseRandomProjection
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_amm import MaddnessProjection
from sklearn_amm._projection import affine_map


@parametrize_with_checks(
    [
        MaddnessProjection(GaussianRandomProjection(3, random_state=0)),
        # One component: the common checks also fit on a single sample.
        MaddnessProjection(PCA(n_components=1)),
    ]
)
# Some checks fit on fewer features than components, which only warns.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.DataDimensionalityWarning")
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.fixture
def X(binary_cube):
    """Rows MADDNESS reconstructs exactly with 4 codebooks (see conftest)."""
    return binary_cube[0][:300]


AFFINE_TRANSFORMERS = [
    GaussianRandomProjection(4, random_state=0),
    SparseRandomProjection(4, density=0.5, random_state=0),
    SparseRandomProjection(4, dense_output=True, random_state=0),
    PCA(n_components=3),
    PCA(n_components=3, whiten=True),
    TruncatedSVD(n_components=3, random_state=0),
    FastICA(n_components=3, random_state=0, max_iter=1000),
]


@pytest.mark.parametrize("transformer", AFFINE_TRANSFORMERS, ids=repr)
def test_affine_map_reads_the_transformer(X, transformer):
    transformer.fit(X)
    weights, offset = affine_map(transformer, X.shape[1])
    expected = transformer.transform(X)
    expected = expected.toarray() if hasattr(expected, "toarray") else expected
    assert_allclose(X @ weights + offset, expected, atol=1e-10)


@pytest.mark.parametrize("transformer", AFFINE_TRANSFORMERS, ids=repr)
def test_exact_on_reconstructable_rows(X, transformer):
    proj = MaddnessProjection(transformer, n_codebooks=4, quantize_luts=False).fit(X)
    expected = proj.estimator_.transform(X)
    expected = expected.toarray() if hasattr(expected, "toarray") else expected
    assert_allclose(proj.transform(X), expected, atol=1e-10)


def test_quantized_approximation_of_pca(make_low_rank):
    X = make_low_rank(2000, 32)
    proj = MaddnessProjection(PCA(n_components=8), n_codebooks=16).fit(X[:1500])
    exact = proj.estimator_.transform(X[1500:])
    approx = proj.transform(X[1500:])
    assert approx.shape == exact.shape
    residual = ((approx - exact) ** 2).sum()
    assert residual < 0.05 * ((exact - exact.mean(axis=0)) ** 2).sum()
    assert proj.transform(X[1500:].astype(np.float32)).dtype == np.float32


def test_rejects_transformers_that_are_not_affine(X):
    with pytest.raises(ValueError, match="affine"):
        MaddnessProjection(Normalizer()).fit(X + 1)


def test_frozen_transformer_is_not_refitted(X):
    pca = PCA(n_components=3).fit(X[:100])
    components = pca.components_.copy()
    proj = MaddnessProjection(FrozenEstimator(pca), n_codebooks=4).fit(X)
    assert proj.estimator_.estimator is pca
    assert_allclose(pca.components_, components)
    assert_allclose(proj.offset_, pca.transform(np.zeros((1, 16)))[0])
