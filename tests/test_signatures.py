"""The parameters of the public estimators: the API contract.

Names, kinds (positional or keyword-only), defaults and order are written
out here rather than read from the code, so that a change of how the
estimators declare their parameters cannot change them unnoticed. No call
depends on the order of the keyword-only parameters, but help() and the API
reference show it: a drop-in lists the parameters of the scikit-learn
transformer it replaces first, as that transformer does.
"""

import inspect

import pytest
from sklearn.base import BaseEstimator

import sklearn_amm as amm

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

# class: (positional parameters, keyword-only parameters), each in order.
CONTRACT = {
    amm.MaddnessTransformer: ([("weights", None)], MADDNESS),
    amm.MaddnessRegressor: ([("estimator", REQUIRED)], MADDNESS),
    amm.MaddnessProjection: ([("estimator", REQUIRED)], MADDNESS),
    amm.MaddnessClassifier: (
        [("estimator", REQUIRED)],
        {
            **MADDNESS,
            "table_objective": "auto",
            "fallback_loss": None,
            "validation_fraction": 0.2,
            "random_state": None,
        },
    ),
    amm.MaddnessClassifierCV: (
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
    amm.MaddnessRBFSampler: (
        [],
        {"gamma": 1.0, "n_components": 100, "random_state": None, **MADDNESS},
    ),
    amm.MaddnessSkewedChi2Sampler: (
        [],
        {"skewedness": 1.0, "n_components": 100, "random_state": None, **MADDNESS},
    ),
    amm.MaddnessNystroem: (
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
    expected = [
        (name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default)
        for name, default in positional
    ] + [
        (name, inspect.Parameter.KEYWORD_ONLY, default)
        for name, default in keyword_only.items()
    ]
    parameters = inspect.signature(cls).parameters.values()
    assert [(p.name, p.kind, p.default) for p in parameters] == expected


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
    public = {
        getattr(amm, name)
        for name in amm.__all__
        if isinstance(getattr(amm, name), type)
        and issubclass(getattr(amm, name), BaseEstimator)
    }
    assert public == set(CONTRACT)
