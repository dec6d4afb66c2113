"""The one list of the package's estimators, and what is derived from it."""

from sklearn.base import BaseEstimator

import sklearn_amm
from sklearn_amm._estimators import all_estimators, skops_trusted_types
from sklearn_amm._persistence import VersionedStateMixin


def test_every_public_estimator_is_listed():
    public = {getattr(sklearn_amm, name) for name in sklearn_amm.__all__}
    public = {
        obj for obj in public if isinstance(obj, type) and issubclass(obj, BaseEstimator)
    }
    assert public == set(all_estimators())


def test_listed_estimators_are_public_and_listed_once():
    classes = all_estimators()
    assert len(set(classes)) == len(classes)
    for cls in classes:
        assert getattr(sklearn_amm, cls.__name__) is cls
        assert cls.__name__ in sklearn_amm.__all__


def test_every_estimator_saves_its_version_with_its_state():
    assert all(issubclass(cls, VersionedStateMixin) for cls in all_estimators())


def test_skops_trusted_types_name_every_estimator_class():
    names = skops_trusted_types()
    assert sklearn_amm.skops_trusted_types is skops_trusted_types
    assert names == sorted(names)
    assert names == sorted(
        f"{cls.__module__}.{cls.__qualname__}" for cls in all_estimators()
    )
    assert "sklearn_amm._maddness.MaddnessTransformer" in names
