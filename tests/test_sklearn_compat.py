"""scikit-learn's estimator checks, and the estimator's declared tags."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_amm import MaddnessTransformer

ESTIMATORS = [
    MaddnessTransformer(),
    MaddnessTransformer(n_codebooks=3, aggregation="sum"),
    MaddnessTransformer(quantize_luts=False, optimize_prototypes=False),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_tags():
    tags = MaddnessTransformer().__sklearn_tags__()
    assert tags.estimator_type is None
    assert tags.transformer_tags is not None
    assert tags.transformer_tags.preserves_dtype == ["float64", "float32"]
    assert not tags.input_tags.allow_nan
    assert not tags.input_tags.sparse
    assert tags.target_tags.required is False


def test_get_set_params_round_trip():
    weights = np.arange(6.0).reshape(3, 2)
    amm = MaddnessTransformer(weights, n_codebooks=2, aggregation="sum")
    params = amm.get_params()
    assert params["n_codebooks"] == 2 and params["aggregation"] == "sum"
    assert params["weights"] is weights
    other = MaddnessTransformer().set_params(**params)
    assert other.get_params()["weights"] is weights
    assert clone(other).get_params()["aggregation"] == "sum"


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=repr)
def test_repr_shows_only_changed_parameters(estimator):
    text = repr(estimator)
    assert text.startswith("MaddnessTransformer(")
    assert "ridge_alpha" not in text
