"""Sample weights: a weight of 0 drops the row, an integer weight repeats it.

These hold through every step of the learning (trees, prototypes,
backfitting) and through the wrappers, which pass their ``sample_weight``
on to MADDNESS as well as to the model they wrap.
"""

import numpy as np
import pytest
from sklearn import config_context
from sklearn.linear_model import Ridge, RidgeClassifier
from sklearn.preprocessing import StandardScaler

from sklearn_amm import (
    MaddnessClassifier,
    MaddnessProjection,
    MaddnessRBFSampler,
    MaddnessRegressor,
    MaddnessTransformer,
)

CONFIGS = [
    dict(n_codebooks=6),
    dict(n_codebooks=6, n_refinement_passes=2, quantize_luts=False),
    dict(n_codebooks=6, n_refinement_passes=0, optimize_prototypes=False),
    dict(n_codebooks=6, split_objective="reconstruction", aggregation="sum"),
]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 4)) @ rng.normal(size=(4, 18)) + 0.1 * rng.normal(
        size=(400, 18)
    )
    X[:, 5] = np.round(X[:, 5])  # ties in one column
    weights = rng.normal(size=(18, 3))
    counts = rng.integers(0, 4, size=400)
    return X, weights, counts


def _assert_same_model(a, b, X):
    np.testing.assert_array_equal(a.split_dims_, b.split_dims_)
    np.testing.assert_array_equal(a.split_thresholds_, b.split_thresholds_)
    np.testing.assert_allclose(a.prototypes_, b.prototypes_, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(a.transform(X), b.transform(X), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("params", CONFIGS)
@pytest.mark.parametrize("use_weights", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_integer_weights_fit_as_repeated_rows(data, params, use_weights, dtype):
    X, weights, counts = data
    X = X.astype(dtype)
    weights = weights if use_weights else None
    repeated = MaddnessTransformer(weights, **params).fit(np.repeat(X, counts, axis=0))
    # The weighted rows in another order: nothing may depend on it.
    order = np.random.default_rng(1).permutation(len(X))
    weighted = MaddnessTransformer(weights, **params).fit(
        X[order], sample_weight=counts[order]
    )
    _assert_same_model(repeated, weighted, X)


@pytest.mark.parametrize("params", CONFIGS)
def test_zero_weights_fit_as_dropped_rows(data, params):
    X, weights, counts = data
    kept = counts > 0
    dropped = MaddnessTransformer(weights, **params).fit(X[kept])
    sample_weight = np.where(kept, np.random.default_rng(2).uniform(1, 2, 400), 0.0)
    zeroed = MaddnessTransformer(weights, **params).fit(X, sample_weight=sample_weight)
    reweighted = MaddnessTransformer(weights, **params).fit(
        X[kept], sample_weight=sample_weight[kept]
    )
    _assert_same_model(reweighted, zeroed, X)
    # The weights change the model: they are not ignored.
    assert not np.array_equal(dropped.prototypes_, zeroed.prototypes_)


def test_a_zero_weight_row_places_no_threshold():
    # Two clusters and, between them, a row of weight 0. Its value must not
    # become a side of the threshold: the split falls midway between the
    # clusters, as without the row.
    X = np.array([[0.0], [1.0], [2.0], [10.0], [11.0], [12.0], [5.0]])
    amm = MaddnessTransformer(n_codebooks=1, n_refinement_passes=0)
    amm.fit(X, sample_weight=[1, 1, 1, 1, 1, 1, 0])
    assert amm.split_thresholds_[0, 0, 0] == 6.0


def test_constant_weights_learn_the_unweighted_trees(data):
    # Weights all equal to c count every row c times: the same trees, and
    # the ridge of c copies, which is the ridge with alpha / c.
    X, weights, _ = data
    unweighted = MaddnessTransformer(weights, n_codebooks=6, ridge_alpha=0.25).fit(X)
    doubled = MaddnessTransformer(weights, n_codebooks=6).fit(
        X, sample_weight=np.full(400, 4.0)
    )
    _assert_same_model(unweighted, doubled, X)
    ones = MaddnessTransformer(weights, n_codebooks=6).fit(
        X, sample_weight=np.ones(400)
    )
    plain = MaddnessTransformer(weights, n_codebooks=6).fit(X)
    np.testing.assert_array_equal(ones.prototypes_, plain.prototypes_)


@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_the_scale_of_the_weights_is_that_of_the_data(data, scale):
    # Multiplying every weight by s is fitting s copies: the ridge penalty
    # weighs 1/s as much. Huge or tiny weights must not overflow.
    X, weights, counts = data
    sample_weight = counts + 1.0
    reference = MaddnessTransformer(
        weights, n_codebooks=6, ridge_alpha=1.0 / scale
    ).fit(X, sample_weight=sample_weight)
    scaled = MaddnessTransformer(weights, n_codebooks=6).fit(
        X, sample_weight=sample_weight * scale
    )
    _assert_same_model(reference, scaled, X)


@pytest.mark.parametrize(
    "sample_weight, match",
    [
        (-np.ones(10), "Negative values"),
        (np.zeros(10), "at least one non-zero"),
        (np.ones(9), r"sample_weight.shape == \(9,\)"),
        (np.ones((10, 2)), "1D array"),
    ],
)
def test_bad_weights_get_clear_errors(sample_weight, match):
    X = np.random.default_rng(0).normal(size=(10, 4))
    with pytest.raises(ValueError, match=match):
        MaddnessTransformer(n_codebooks=2).fit(X, sample_weight=sample_weight)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("assume_finite", [False, True])
def test_non_finite_weights_get_clear_errors(bad, assume_finite):
    X = np.random.default_rng(0).normal(size=(10, 4))
    sample_weight = np.ones(10)
    sample_weight[3] = bad
    with config_context(assume_finite=assume_finite):
        with pytest.raises(ValueError, match="sample_weight"):
            MaddnessTransformer(n_codebooks=2).fit(X, sample_weight=sample_weight)


@pytest.mark.parametrize("n_samples", [1, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_one_or_two_rows_fit(n_samples, weighted):
    X = np.arange(8.0 * n_samples).reshape(n_samples, 8) ** 1.5
    sample_weight = np.arange(1.0, n_samples + 1) if weighted else None
    amm = MaddnessTransformer(np.ones((8, 2)), n_codebooks=4).fit(
        X, sample_weight=sample_weight
    )
    assert np.isfinite(amm.transform(X)).all()
    amm = MaddnessTransformer(n_codebooks=4, quantize_luts=False).fit(
        X, sample_weight=sample_weight
    )
    # One or two rows are reconstructed exactly (4 codebooks, 16 leaves).
    np.testing.assert_allclose(amm.transform(X), X, rtol=1e-9, atol=1e-9)


WRAPPERS = [
    (lambda: MaddnessRegressor(Ridge(alpha=1.0), n_codebooks=6), "predict", "y"),
    (
        lambda: MaddnessClassifier(
            RidgeClassifier(), n_codebooks=6, table_objective="product"
        ),
        "decision_function",
        "labels",
    ),
    (
        lambda: MaddnessClassifier(
            RidgeClassifier(), n_codebooks=6, table_objective="log_loss"
        ),
        "decision_function",
        "labels",
    ),
    (lambda: MaddnessProjection(StandardScaler(), n_codebooks=6), "transform", None),
    (
        lambda: MaddnessRBFSampler(
            gamma=0.05, n_components=8, random_state=0, n_codebooks=6
        ),
        "transform",
        None,
    ),
]


@pytest.mark.parametrize("make, method, target", WRAPPERS)
def test_wrappers_fit_weights_as_repeated_rows(data, make, method, target):
    X, weights, counts = data
    y = X @ weights[:, 0]
    if target == "labels":
        y = np.digitize(y, np.quantile(y, [0.33, 0.66]))
    fit_args = (y,) if target is not None else ()
    repeated_args = tuple(np.repeat(a, counts, axis=0) for a in fit_args)
    repeated = make().fit(np.repeat(X, counts, axis=0), *repeated_args)
    weighted = make().fit(X, *fit_args, sample_weight=counts)
    np.testing.assert_array_equal(
        repeated.maddness_.split_thresholds_, weighted.maddness_.split_thresholds_
    )
    np.testing.assert_allclose(
        getattr(repeated, method)(X), getattr(weighted, method)(X), rtol=1e-6, atol=1e-6
    )
