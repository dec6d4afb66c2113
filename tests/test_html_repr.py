"""The HTML representation links each estimator to its page of the API reference."""

import inspect
import re
from pathlib import Path

import pytest
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression, Ridge

from sklearn_amm._doc_link import DOCS_URL
from sklearn_amm._estimators import all_estimators

API_RST = Path(__file__).resolve().parents[1] / "doc" / "api.rst"


def _unfitted(cls):
    """``cls`` with its defaults, around a scikit-learn model if it wraps one."""
    if "estimator" not in inspect.signature(cls).parameters:
        return cls()
    if issubclass(cls, ClassifierMixin):
        return cls(LogisticRegression())
    if issubclass(cls, RegressorMixin):
        return cls(Ridge())
    return cls(PCA())


ESTIMATORS = [_unfitted(cls) for cls in all_estimators()]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_html_repr_links_to_the_api_page(estimator):
    name = type(estimator).__name__
    page = f"{DOCS_URL}modules/generated/sklearn_amm.{name}.html"
    assert f'href="{page}"' in estimator._repr_html_()


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_api_reference_generates_the_linked_page(estimator):
    """autosummary writes ``modules/generated/sklearn_amm.<Class>.html``.

    The link is only right while doc/api.rst lists the class under
    ``sklearn_amm`` with that toctree directory.
    """
    text = API_RST.read_text()
    assert ".. currentmodule:: sklearn_amm\n" in text
    sections = re.split(r"\.\. autosummary::", text)
    name = type(estimator).__name__
    listing = [
        section
        for section in sections
        if re.search(rf"^\s+{name}\s*$", section, flags=re.MULTILINE)
    ]
    assert listing and ":toctree: modules/generated/" in listing[0]
