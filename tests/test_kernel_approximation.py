"""Tests of MaddnessRBFSampler, MaddnessSkewedChi2Sampler and MaddnessNystroem."""

import importlib
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_digits, make_classification
from sklearn.kernel_approximation import Nystroem, RBFSampler, SkewedChi2Sampler
from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_amm import MaddnessNystroem, MaddnessRBFSampler, MaddnessSkewedChi2Sampler

# Float tables, and rows that 4 codebooks reconstruct exactly (the
# ``binary_cube`` of conftest): only the product is replaced, so the output
# must match scikit-learn's to rounding.
EXACT = dict(n_codebooks=4, quantize_luts=False)


@pytest.fixture
def X(binary_cube):
    """A copy of 300 rows of the cube, free to modify."""
    return binary_cube[0][:300].copy()


@parametrize_with_checks(
    [
        MaddnessRBFSampler(n_components=20, random_state=0),
        # The common checks feed values down to about -10, below which the
        # skewed chi-squared map is undefined (X > -skewedness is required).
        MaddnessSkewedChi2Sampler(skewedness=10.0, n_components=20, random_state=0),
        MaddnessNystroem(n_components=10, random_state=0),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("gamma", [0.3, "scale"])
def test_rbf_sampler_matches_sklearn(X, gamma):
    params = dict(gamma=gamma, n_components=30, random_state=0)
    ours = MaddnessRBFSampler(**params, **EXACT).fit(X)
    exact = RBFSampler(**params).fit(X)
    assert_array_equal(ours.random_weights_, exact.random_weights_)
    assert_array_equal(ours.random_offset_, exact.random_offset_)
    assert_allclose(ours.transform(X), exact.transform(X), atol=1e-12)


def test_skewed_chi2_sampler_matches_sklearn(X):
    params = dict(skewedness=0.5, n_components=30, random_state=0)
    ours = MaddnessSkewedChi2Sampler(**params, **EXACT).fit(X)
    exact = SkewedChi2Sampler(**params).fit(X)
    assert_allclose(ours.transform(X), exact.transform(X), atol=1e-12)


def test_skewed_chi2_sampler_rejects_small_values(X):
    with pytest.raises(ValueError, match="-skewedness"):
        MaddnessSkewedChi2Sampler(skewedness=0.5).fit(X - 1)
    sampler = MaddnessSkewedChi2Sampler(skewedness=0.5).fit(X)
    with pytest.raises(ValueError, match="-skewedness"):
        sampler.transform(X - 1)


@pytest.mark.parametrize(
    "kernel, params",
    [
        ("rbf", {}),
        ("rbf", dict(gamma=0.2)),
        ("linear", {}),
        ("poly", dict(degree=2, coef0=0.5)),
        ("polynomial", {}),
        ("sigmoid", dict(gamma=0.1)),
        ("cosine", {}),
    ],
)
def test_nystroem_matches_sklearn(X, kernel, params):
    X[0] = 0  # a zero row, whose cosine similarity is 0 by convention
    common = dict(kernel=kernel, n_components=40, random_state=0, **params)
    ours = MaddnessNystroem(**common, **EXACT).fit(X)
    exact = Nystroem(**common).fit(X)
    assert_array_equal(ours.components_, exact.components_)
    assert_array_equal(ours.component_indices_, exact.component_indices_)
    assert_allclose(ours.normalization_, exact.normalization_)
    assert_allclose(ours.transform(X), exact.transform(X), atol=1e-8)


def test_nystroem_kernel_params(X):
    """kernel_params work as in Nystroem, and the dict is left untouched."""
    kernel_params = {"gamma": 0.05}
    common = dict(n_components=20, random_state=0)
    ours = MaddnessNystroem(**common, kernel_params=kernel_params, **EXACT)
    exact = Nystroem(**common, kernel_params={"gamma": 0.05})
    assert_allclose(ours.fit_transform(X), exact.fit_transform(X), atol=1e-10)
    ours.set_params(gamma=0.5)  # takes precedence over kernel_params
    exact.set_params(gamma=0.5)
    assert_allclose(ours.fit_transform(X), exact.fit_transform(X), atol=1e-10)
    assert kernel_params == {"gamma": 0.05}


def test_nystroem_rejects_kernels_beyond_dot_products(X):
    with pytest.raises(InvalidParameterError, match="kernel"):
        MaddnessNystroem(kernel="laplacian").fit(X)


@pytest.mark.parametrize(
    "estimator",
    [
        MaddnessRBFSampler(gamma=0.01, n_components=50, random_state=0),
        MaddnessNystroem(gamma=0.01, n_components=50, random_state=0),
        MaddnessSkewedChi2Sampler(n_components=50, random_state=0),
    ],
    ids=lambda est: type(est).__name__,
)
def test_float32_output(estimator):
    X = load_digits().data[:300].astype(np.float32)
    X_new = estimator.fit(X).transform(X)
    assert X_new.dtype == np.float32
    assert_allclose(X_new, estimator.fit(X.astype(np.float64)).transform(X), atol=0.05)


@pytest.mark.parametrize(
    "wrapper, exact_cls",
    [(MaddnessRBFSampler, RBFSampler), (MaddnessNystroem, Nystroem)],
)
def test_approximation_on_real_data(wrapper, exact_cls):
    """With quantized tables the features stay close to the exact ones."""
    X = load_digits().data / 16
    params = dict(gamma=0.2, n_components=100, random_state=0)
    approx = wrapper(**params, n_codebooks=16).fit(X[:1000]).transform(X[1000:])
    exact = exact_cls(**params).fit(X[:1000]).transform(X[1000:])
    residual = ((approx - exact) ** 2).sum()
    assert residual < 0.3 * ((exact - exact.mean(axis=0)) ** 2).sum()


@pytest.mark.parametrize(
    "wrapper, exact_cls",
    [(MaddnessRBFSampler, RBFSampler), (MaddnessNystroem, Nystroem)],
)
def test_pipeline_with_scaler_and_sgd(wrapper, exact_cls):
    # Redundant features make the rows low-rank, the data MADDNESS suits.
    X, y = make_classification(
        n_samples=1500, n_features=32, n_informative=6, n_redundant=20,
        n_classes=3, random_state=0,
    )
    params = dict(gamma=0.03, n_components=100, random_state=0)

    def accuracy(kernel_map):
        pipe = make_pipeline(
            StandardScaler(), kernel_map, SGDClassifier(random_state=0)
        )
        return pipe.fit(X[:1000], y[:1000]).score(X[1000:], y[1000:])

    exact = accuracy(exact_cls(**params))
    approx = accuracy(wrapper(**params, n_codebooks=16))
    assert approx > exact - 0.08


def test_fashion_benchmark_refitted_head_is_the_pipeline(monkeypatch):
    """Task (b) of benchmarks/fashion_mnist.py reports the frozen head and
    the refitted one; on all the training rows the refitted head is what
    make_pipeline(MaddnessRBFSampler, LogisticRegression) fits."""
    from sklearn.linear_model import LogisticRegression

    # The repository's root, where benchmarks/ is, whatever pytest's rootdir
    # and import mode put on the path.
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1]))
    fashion_mnist = importlib.import_module("benchmarks.fashion_mnist")
    # Fewer components than the benchmark's 1000, to keep the test quick.
    monkeypatch.setattr(fashion_mnist, "N_COMPONENTS", 100)
    X, y = load_digits(return_X_y=True)
    X_train, X_val, y_train, y_val = X[:1200] / 16, X[1200:] / 16, y[:1200], y[1200:]
    grid = [(8, len(X_train))]
    frozen, refitted = fashion_mnist.rbf_task(X_train, X_val, y_train, y_val, grid, {})
    pipeline = make_pipeline(
        MaddnessRBFSampler(
            gamma=fashion_mnist.median_gamma(X_train),
            n_components=100,
            random_state=0,
            n_codebooks=8,
        ),
        LogisticRegression(C=1.0, max_iter=300),
    ).fit(X_train, y_train)
    assert refitted[grid[0]] == (frozen[grid[0]][0], pipeline.score(X_val, y_val))
