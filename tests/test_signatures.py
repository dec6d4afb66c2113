"""The parameters of the public estimators: the API contract.

Names, kinds (positional or keyword-only) and defaults are written out here
rather than read from the code, so that a change of how the estimators
declare their parameters cannot change them unnoticed. The order of the
positional parameters is part of the contract; that of keyword-only ones is
not, as no call can depend on it.
"""

import inspect

import pytest

from sklearn_amm import (
    MaddnessClassifier,
    MaddnessClassifierCV,
    MaddnessNystroem,
    MaddnessProjection,
    MaddnessRBFSampler,
    MaddnessRegressor,
    MaddnessSkewedChi2Sampler,
    MaddnessTransformer,
)

REQUIRED = inspect.Parameter.empty

MADDNESS = {
    "n_codebooks": 16,
    "optimize_prototypes": True,
    "ridge_alpha": 1.0,
    "quantize_luts": True,
    "aggregation": "average",
    "lut_scaling": "per_output",
    "n_candidate_dims": 4,
    "split_objective": "product",
    "n_refinement_passes": 1,
    "verbose": 0,
}

# class: (positional parameters in order, keyword-only parameters).
CONTRACT = {
    MaddnessTransformer: ([("weights", None)], MADDNESS),
    MaddnessRegressor: ([("estimator", REQUIRED)], MADDNESS),
    MaddnessProjection: ([("estimator", REQUIRED)], MADDNESS),
    MaddnessClassifier: (
        [("estimator", REQUIRED)],
        {
            **MADDNESS,
            "table_objective": "auto",
            "fallback_loss": None,
            "validation_fraction": 0.2,
            "random_state": None,
        },
    ),
    MaddnessClassifierCV: (
        [("estimator", REQUIRED)],
        {
            "max_accuracy_loss": 0.01,
            "n_codebooks": (8, 16, 32, 64),
            "table_objectives": ("fine_tuned",),
            "fallback": True,
            "validation_fraction": 0.2,
            "random_state": None,
            "verbose": 0,
        },
    ),
    MaddnessRBFSampler: (
        [],
        {"gamma": 1.0, "n_components": 100, "random_state": None, **MADDNESS},
    ),
    MaddnessSkewedChi2Sampler: (
        [],
        {"skewedness": 1.0, "n_components": 100, "random_state": None, **MADDNESS},
    ),
    MaddnessNystroem: (
        [("kernel", "rbf")],
        {
            "gamma": None,
            "coef0": None,
            "degree": None,
            "kernel_params": None,
            "n_components": 100,
            "random_state": None,
            "n_jobs": None,
            **MADDNESS,
        },
    ),
}


@pytest.mark.parametrize("cls", list(CONTRACT), ids=lambda cls: cls.__name__)
def test_parameters(cls):
    positional, keyword_only = CONTRACT[cls]
    parameters = list(inspect.signature(cls).parameters.values())
    assert [
        (p.name, p.default)
        for p in parameters
        if p.kind == inspect.Parameter.POSITIONAL_OR_KEYWORD
    ] == positional
    keyword = inspect.Parameter.KEYWORD_ONLY
    assert {p.name: p.default for p in parameters if p.kind == keyword} == keyword_only
    # Nothing else: no *args, **kwargs or positional-only parameters.
    assert len(parameters) == len(positional) + len(keyword_only)
    # The positional parameters come first.
    assert [p.name for p in parameters[: len(positional)]] == [
        name for name, _ in positional
    ]


@pytest.mark.parametrize("cls", list(CONTRACT), ids=lambda cls: cls.__name__)
def test_init_stores_arguments_unchanged(cls):
    """Every argument is stored as given, the very object (scikit-learn's rule)."""
    positional, keyword_only = CONTRACT[cls]
    arguments = {name: object() for name, _ in positional}
    arguments.update((name, object()) for name in keyword_only)
    estimator = cls(**arguments)
    for name, value in arguments.items():
        assert getattr(estimator, name) is value
    assert estimator.get_params(deep=False).keys() == arguments.keys()


def test_every_public_estimator_is_pinned():
    import sklearn_amm
    from sklearn.base import BaseEstimator

    public = {
        getattr(sklearn_amm, name)
        for name in sklearn_amm.__all__
        if isinstance(getattr(sklearn_amm, name), type)
        and issubclass(getattr(sklearn_amm, name), BaseEstimator)
    }
    assert public == set(CONTRACT)
