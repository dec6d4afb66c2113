"""Saving and loading fitted estimators: pickle, joblib and skops.

scikit-learn stores its version in the pickles of its own estimators and
warns when one is loaded under another version, but only for classes of the
``sklearn`` package. :class:`VersionedStateMixin` does the same for
sklearn-amm's estimators, with sklearn-amm's version, and leaves private
caches out of the saved state (they are rebuilt on load).

:func:`~sklearn_amm._estimators.skops_trusted_types` names our classes for
``skops.io.load``, which loads without pickle and refuses any type it is not
told to trust.
"""

import warnings

from ._version import __version__

# Where the state keeps the version that saved it.
_STATE_KEY = "_sklearn_amm_version"


def _current_version():
    """sklearn-amm's version, looked up at each call so that tests can patch it."""
    return __version__


class InconsistentVersionWarning(UserWarning):
    """An estimator is loaded under another version of sklearn-amm than saved it.

    The counterpart of :class:`sklearn.exceptions.InconsistentVersionWarning`
    for sklearn-amm's own estimators: the fitted attributes or the meaning of
    a parameter may have changed between the two versions, so the loaded
    estimator may not give the same results, or may not work at all.

    Parameters
    ----------
    estimator_name : str
        Class of the loaded estimator.

    current_version : str
        Version of sklearn-amm doing the loading.

    original_version : str
        Version of sklearn-amm that saved the estimator, ``"unknown"`` for a
        state saved without one.

    Examples
    --------
    >>> import warnings
    >>> from sklearn_amm import InconsistentVersionWarning, MaddnessTransformer
    >>> state = MaddnessTransformer().__getstate__()
    >>> state["_sklearn_amm_version"] = "0.0.1"
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     MaddnessTransformer().__setstate__(state)
    >>> caught[0].message.original_version
    '0.0.1'
    """

    def __init__(self, *, estimator_name, current_version, original_version):
        self.estimator_name = estimator_name
        self.current_version = current_version
        self.original_version = original_version

    def __str__(self):
        return (
            f"Trying to unpickle estimator {self.estimator_name} from "
            f"sklearn-amm version {self.original_version} when using version "
            f"{self.current_version}. This might lead to breaking code or "
            "invalid results. Use at your own risk."
        )


class VersionedStateMixin:
    """Save sklearn-amm's version with the state; warn on load if it differs.

    Goes before :class:`~sklearn.base.BaseEstimator` in the bases, whose
    ``__getstate__`` and ``__setstate__`` it extends: pickle, joblib,
    :func:`copy.deepcopy` and skops all go through them.

    Attributes listed in ``_derived_attributes`` are caches computed from the
    fitted attributes: they are left out of the saved state, which keeps it
    small and free of types a secure loader would have to trust, and
    ``_rebuild_derived`` recomputes them after loading.
    """

    _derived_attributes = ()

    def __getstate__(self):
        # BaseEstimator's state is the instance __dict__ itself: copy it
        # before taking anything out.
        state = dict(super().__getstate__())
        for name in self._derived_attributes:
            state.pop(name, None)
        state[_STATE_KEY] = _current_version()
        return state

    def __setstate__(self, state):
        state = dict(state)
        original = state.pop(_STATE_KEY, "unknown")
        current = _current_version()
        if original != current:
            warnings.warn(
                InconsistentVersionWarning(
                    estimator_name=type(self).__name__,
                    current_version=current,
                    original_version=original,
                ),
                stacklevel=2,
            )
        super().__setstate__(state)
        if self._derived_attributes:
            self._rebuild_derived()

    def _rebuild_derived(self):
        """Recompute the attributes of ``_derived_attributes`` after loading."""

