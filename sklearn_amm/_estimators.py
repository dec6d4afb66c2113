"""The package's estimators, listed once.

The tests run their common checks over :func:`all_estimators`, and
:func:`skops_trusted_types` derives from it the names a secure loader must
be told to trust.
"""

from ._classifier_cv import MaddnessClassifierCV
from ._classifier import MaddnessClassifier
from ._fourier_features import MaddnessRBFSampler, MaddnessSkewedChi2Sampler
from ._maddness import MaddnessTransformer
from ._nystroem import MaddnessNystroem
from ._persistence import VersionedStateMixin
from ._projection import MaddnessProjection
from ._regressor import MaddnessRegressor

# In the order of the API reference.
_ESTIMATORS = (
    MaddnessTransformer,
    MaddnessClassifier,
    MaddnessClassifierCV,
    MaddnessRegressor,
    MaddnessRBFSampler,
    MaddnessSkewedChi2Sampler,
    MaddnessNystroem,
    MaddnessProjection,
)


def all_estimators():
    """The public estimator classes of sklearn-amm.

    Returns
    -------
    classes : tuple of type
    """
    return _ESTIMATORS


def skops_trusted_types():
    """Names of sklearn-amm's types, to trust when loading with ``skops.io``.

    :func:`skops.io.load` refuses every type it does not trust by default,
    and trusts only scikit-learn's own classes, NumPy and SciPy. Pass these
    names (together with those of any other package in the saved object) as
    its ``trusted`` argument to load sklearn-amm's estimators without
    pickle. Compare them with :func:`skops.io.get_untrusted_types` of the
    file: anything else it lists needs checking before it is trusted.

    Returns
    -------
    names : list of str
        Fully qualified class names, sorted.

    Examples
    --------
    >>> import sklearn_amm
    >>> "sklearn_amm._maddness.MaddnessTransformer" in sklearn_amm.skops_trusted_types()
    True

    With skops installed::

        import skops.io as sio
        sio.dump(estimator, "model.skops")
        untrusted = sio.get_untrusted_types(file="model.skops")
        trusted = sklearn_amm.skops_trusted_types()
        assert set(untrusted) <= set(trusted)   # or check the others
        loaded = sio.load("model.skops", trusted=trusted)
    """
    # The classes whose instances save their own state, sklearn-amm's
    # version with it: those a saved object of ours can hold.
    return sorted(
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in all_estimators()
        if issubclass(cls, VersionedStateMixin)
    )
