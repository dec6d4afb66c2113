"""Tests of MaddnessProjection."""

import tracemalloc

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.decomposition import PCA, FactorAnalysis, FastICA, TruncatedSVD
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, Normalizer, StandardScaler
from sklearn.random_projection import GaussianRandomProjection, SparseRandomProjection
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_amm import MaddnessProjection
from sklearn_amm import _projection
from sklearn_amm._projection import affine_map


@parametrize_with_checks(
    [
        MaddnessProjection(GaussianRandomProjection(3, random_state=0)),
        # One component: the common checks also fit on a single sample.
        MaddnessProjection(PCA(n_components=1)),
        MaddnessProjection(make_pipeline(MinMaxScaler(clip=True), PCA(n_components=1))),
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


def test_fit_memory_is_linear_in_the_features():
    """Reading the map of a wide projection never builds the identity.

    SparseRandomProjection is made for very many features: at 100,000 the
    identity alone would take 80 GB. The fit may hold a few copies of the
    weights (n_features x n_components) and of X, nothing quadratic.
    """
    n_features, n_components = 100_000, 20
    X = np.random.default_rng(0).normal(size=(16, n_features))
    proj = MaddnessProjection(
        SparseRandomProjection(n_components, random_state=0),
        # The cheapest MADDNESS fit: this test is about reading the map.
        n_codebooks=2,
        split_objective="reconstruction",
        n_refinement_passes=0,
        optimize_prototypes=False,
    )
    tracemalloc.start()
    try:
        proj.fit(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    weights_bytes = n_features * n_components * 8
    assert peak < 10 * weights_bytes + 4 * X.nbytes
    expected = proj.estimator_.transform(X)
    assert_allclose(X @ proj.weights_ + proj.offset_, expected, atol=1e-10)


def _counting_transform(transformer, monkeypatch):
    """Record the number of rows of each call of ``transformer.transform``."""
    calls = []
    transform = transformer.transform
    monkeypatch.setattr(
        transformer, "transform", lambda rows: calls.append(len(rows)) or transform(rows)
    )
    return calls, transform


@pytest.mark.parametrize(
    "transformer",
    [make_pipeline(StandardScaler(), PCA(3)), FactorAnalysis(3, random_state=0)],
    ids=["pipeline", "FactorAnalysis"],
)
def test_affine_map_is_probed_in_chunks(X, transformer, monkeypatch):
    """Transformers whose components_ do not give the map are probed in chunks.

    A pipeline has no components_; FactorAnalysis has components_, but its
    transform is the posterior mean of the factors, another linear map (no
    scale per output turns one into the other). The chunk budget is shrunk
    so that the identity is probed in several calls, none larger than a
    chunk.
    """
    transformer.fit(X)
    monkeypatch.setattr(_projection, "_PROBE_CHUNK_BYTES", 5 * 8 * X.shape[1])
    calls, transform = _counting_transform(transformer, monkeypatch)
    weights, offset = affine_map(transformer, X.shape[1])
    assert_allclose(X @ weights + offset, transform(X), atol=1e-10)
    # The 16 rows of the identity, 5 at a time, after the zero row (and the
    # random rows that rejected components_, if any).
    assert calls[-4:] == [5, 5, 5, 1]
    assert max(calls) == 5


@pytest.mark.parametrize(
    "transformer",
    [
        PCA(n_components=3, whiten=True),
        # This solver stores components_ in Fortran order, so that
        # components_.T is C-ordered: a view, not a copy.
        PCA(n_components=3, whiten=True, svd_solver="covariance_eigh"),
        PCA(n_components=3),
    ],
    ids=repr,
)
def test_whitened_components_are_read_without_probing(X, transformer, monkeypatch):
    """Whitening scales each output: components_ still give the map."""
    transformer.fit(X)
    calls, transform = _counting_transform(transformer, monkeypatch)
    components = transformer.components_.copy()
    weights, offset = affine_map(transformer, X.shape[1])
    assert_allclose(X @ weights + offset, transform(X), atol=1e-10)
    # The transformer is left as it was.
    assert_array_equal(transformer.components_, components)
    # The zero row and the random check rows only.
    assert calls == [1, _projection._N_RANDOM_CHECK_ROWS]
