"""MaddnessClassifierCV: the fastest configuration within an accuracy target."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_amm import MaddnessClassifier, MaddnessClassifierCV
from sklearn_amm.exceptions import AccuracyTargetWarning

from cv_timings import fixed_timings


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.3, stratify=y, random_state=0)


@pytest.fixture(scope="module")
def wide():
    """Rows wide enough for MADDNESS to beat the exact product."""
    rng = np.random.default_rng(0)
    latent = rng.normal(size=(6000, 8))
    X = latent @ rng.normal(size=(8, 256)) + 0.1 * rng.normal(size=(6000, 256))
    y = np.argmax(latent[:, :4], axis=1)
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


@pytest.fixture(scope="module")
def searched(wide):
    """A search whose timings are fixed (see ``fixed_timings``)."""
    X_train, _, y_train, _ = wide
    with fixed_timings():
        return MaddnessClassifierCV(
            LogisticRegression(max_iter=1000),
            max_accuracy_loss=0.01,
            n_codebooks=(4, 8, 16),
            table_objectives=("product", "fine_tuned"),
            random_state=0,
        ).fit(X_train, y_train)


def test_choice_meets_the_target_on_the_held_out_rows(searched):
    results = searched.cv_results_
    assert searched.validation_loss_ <= 0.01
    assert searched.speedup_ > 1
    chosen = (results["n_codebooks"] == searched.n_codebooks_) & (
        results["table_objective"] == searched.table_objective_
    )
    assert chosen.sum() == 1
    # The fastest of the candidates that meet the target.
    eligible = results["meets_target"] & (results["speedup"] > 1)
    assert results["speedup"][chosen][0] == results["speedup"][eligible].max()
    assert searched.fallback_fraction_ == results["fallback_fraction"][chosen][0]
    # The speed-ups are those the timings give (exact 1 s, candidate k 1/(k+1) s).
    assert_array_equal(results["speedup"], np.arange(2, len(results["speedup"]) + 2))
    assert results["exact_predict_seconds"] == 1.0
    assert isinstance(searched.best_estimator_, MaddnessClassifier)
    assert searched.best_estimator_.n_codebooks == searched.n_codebooks_


def test_predictions_follow_the_best_estimator_and_the_exact_rows(searched, wide):
    _, X_test, _, y_test = wide
    mask = searched.fallback_mask(X_test)
    predicted = searched.predict(X_test)
    if mask.any():
        assert_array_equal(predicted[mask], searched.estimator_.predict(X_test[mask]))
    assert_array_equal(
        predicted[~mask], searched.best_estimator_.predict(X_test[~mask])
    )
    proba = searched.predict_proba(X_test)
    assert_array_equal(searched.classes_[proba.argmax(axis=1)], predicted)
    exact = searched.estimator_.score(X_test, y_test)
    assert searched.score(X_test, y_test) > exact - 0.03


def test_unreachable_target_keeps_the_exact_model(digits):
    X_train, X_test, y_train, _ = digits
    search = MaddnessClassifierCV(
        LogisticRegression(max_iter=1000),
        max_accuracy_loss=0.0,
        n_codebooks=(1,),
        table_objectives=("product",),
        fallback=False,
        random_state=0,
    )
    with pytest.warns(AccuracyTargetWarning, match="exact model is kept"):
        search.fit(X_train, y_train)
    assert search.best_estimator_ is None
    assert search.n_codebooks_ is None
    assert_array_equal(search.predict(X_test), search.estimator_.predict(X_test))
    assert search.fallback_mask(X_test).all()


def test_pickle_round_trip(searched, wide):
    _, X_test, _, _ = wide
    loaded = pickle.loads(pickle.dumps(searched))
    assert_array_equal(loaded.predict_proba(X_test), searched.predict_proba(X_test))


@pytest.mark.parametrize(
    "params, message",
    [
        ({"n_codebooks": ()}, "n_codebooks must be"),
        ({"n_codebooks": (4, 0)}, "n_codebooks must be"),
        ({"table_objectives": ("nope",)}, "table_objectives must hold"),
        ({"table_objectives": ()}, "must not be empty"),
    ],
)
def test_bad_candidates_are_clear_errors(digits, params, message):
    X_train, _, y_train, _ = digits
    with pytest.raises(ValueError, match=message):
        MaddnessClassifierCV(LogisticRegression(), **params).fit(X_train, y_train)


# As many codebooks as features (64 is lowered to the width of the checks'
# data): every column is then a split column, and a NaN anywhere reaches the
# encoder, which raises, as the checks expect.
@parametrize_with_checks(
    [
        MaddnessClassifierCV(
            LogisticRegression(), n_codebooks=(64,), table_objectives=("product",)
        )
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# Three features: the exact model may well be faster, whatever is chosen.
@pytest.mark.filterwarnings("ignore::sklearn_amm.exceptions.AccuracyTargetWarning")
def test_codebooks_above_the_feature_count_are_lowered():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = (X[:, 0] > 0).astype(int)
    search = MaddnessClassifierCV(
        LogisticRegression(), n_codebooks=(2, 8, 16), table_objectives=("product",),
        max_accuracy_loss=0.5, random_state=0,
    ).fit(X, y)
    assert set(search.cv_results_["n_codebooks"]) <= {2, 3}


def test_kernel_pipeline_candidates_replace_the_sampler(digits):
    from sklearn.kernel_approximation import RBFSampler
    from sklearn.pipeline import make_pipeline

    from sklearn_amm import MaddnessRBFSampler

    X_train, X_test, y_train, _ = digits
    pipeline = make_pipeline(
        RBFSampler(gamma=0.02, n_components=200, random_state=0),
        LogisticRegression(max_iter=1000),
    )
    with fixed_timings():
        search = MaddnessClassifierCV(
            pipeline, max_accuracy_loss=0.01, n_codebooks=(4, 8), random_state=0
        ).fit(X_train, y_train)
    assert search.table_objective_ is None
    best = search.best_estimator_
    sampler = best.steps[0][1]
    assert isinstance(sampler, MaddnessRBFSampler)
    assert sampler.n_codebooks == search.n_codebooks_
    assert (sampler.gamma, sampler.n_components) == (0.02, 200)
    mask = search.fallback_mask(X_test)
    predicted = search.predict(X_test)
    if mask.any():
        assert_array_equal(predicted[mask], search.estimator_.predict(X_test[mask]))
    assert_array_equal(predicted[~mask], best.predict(X_test[~mask]))
    proba = search.predict_proba(X_test)
    assert_array_equal(search.classes_[proba.argmax(axis=1)], predicted)


def test_pipeline_with_two_kernel_approximations_is_an_error(digits):
    from sklearn.kernel_approximation import RBFSampler
    from sklearn.pipeline import make_pipeline

    X_train, _, y_train, _ = digits
    search = MaddnessClassifierCV(
        make_pipeline(RBFSampler(), RBFSampler(), LogisticRegression())
    )
    with pytest.raises(ValueError, match="exactly one of RBFSampler"):
        search.fit(X_train, y_train)


def test_pipeline_of_other_steps_is_an_error_naming_the_step(digits):
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline

    X_train, _, y_train, _ = digits
    search = MaddnessClassifierCV(make_pipeline(PCA(4), LogisticRegression()))
    with pytest.raises(ValueError, match="Step 'pca' of the pipeline is a PCA"):
        search.fit(X_train, y_train)