"""Outputs in column-major order are documented as such.

The compiled scan writes one output column at a time, so with quantized
tables the wrappers return column-major (Fortran-ordered) arrays. Code that
hands them to something expecting row-major memory must know: the numpydoc
Returns section of each such method says so.
"""

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression, Ridge

from sklearn_amm import (
    MaddnessClassifier,
    MaddnessProjection,
    MaddnessRBFSampler,
    MaddnessRegressor,
    MaddnessSkewedChi2Sampler,
    MaddnessTransformer,
)


def _returns_section(method):
    doc = method.__doc__
    return doc[doc.index("Returns\n") :]


@pytest.fixture(scope="module")
def data(binary_cube):
    X = binary_cube[0][:400]
    y = (X[:, :4] > 0) @ np.arange(4) % 3
    return X, y


CASES = [
    (MaddnessTransformer(np.ones((16, 3))), "transform", False),
    (MaddnessProjection(PCA(n_components=3)), "transform", False),
    (MaddnessRBFSampler(n_components=6, random_state=0), "transform", False),
    (MaddnessSkewedChi2Sampler(n_components=6, random_state=0), "transform", False),
    (MaddnessClassifier(LogisticRegression()), "decision_function", True),
    (MaddnessClassifier(LogisticRegression()), "predict_proba", True),
    (MaddnessClassifier(LogisticRegression()), "predict_log_proba", True),
    (MaddnessRegressor(Ridge()), "predict", "2d"),
]


@pytest.mark.parametrize(
    "estimator, method, target",
    CASES,
    ids=[f"{type(e).__name__}.{m}" for e, m, _ in CASES],
)
def test_column_major_outputs_are_documented(data, estimator, method, target):
    X, y = data
    if target == "2d":
        y = np.c_[y, -y]
    estimator = estimator.set_params(n_codebooks=4)
    estimator.fit(X, y if target is not False else None)
    out = getattr(estimator, method)(X)
    assert out.ndim == 2
    # Quantized tables (the default): column-major, and documented so.
    assert out.flags.f_contiguous and not out.flags.c_contiguous
    assert "Fortran-ordered" in _returns_section(getattr(type(estimator), method))
