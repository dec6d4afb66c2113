"""What the wrappers of an inner scikit-learn estimator share.

A wrapper fits a clone of its ``estimator`` (or uses one given already
fitted in a FrozenEstimator), reads from it the product it approximates,
and checks on a few rows that the estimator's own output is that product.
Their parameters are ``estimator`` and the MADDNESS ones, and for some a few
of their own.
"""

import warnings

import numpy as np
from sklearn.base import _fit_context, clone
from sklearn.frozen import FrozenEstimator
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _routing_enabled,
    process_routing,
)

from ._maddness_params import MaddnessParams, estimator_dataclass

# The context of a wrapper's fit: nested validation is not skipped, so that
# the inner estimator's parameters are validated by its own fit.
inner_fit_context = _fit_context(prefer_skip_nested_validation=False)


def unfrozen(estimator):
    """The estimator a FrozenEstimator holds, or the estimator itself.

    Needed for ``isinstance`` checks: a FrozenEstimator forwards attribute
    access to the model it holds but is not an instance of its class.
    """
    return estimator.estimator if isinstance(estimator, FrozenEstimator) else estimator


class InnerEstimatorMixin:
    """Fit a clone of ``self.estimator``, routing fit parameters to it."""

    def _fit_estimator(self, X, y, fit_params):
        """Clone and fit the inner estimator; a FrozenEstimator is kept as is.

        ``clone`` returns a FrozenEstimator itself and its ``fit`` does
        nothing, so an already fitted model is used without refitting.
        """
        if _routing_enabled():
            fit_params = process_routing(self, "fit", **fit_params).estimator.fit
        return clone(self.estimator).fit(X, y, **fit_params)

    def get_metadata_routing(self):
        """Get metadata routing of this object.

        Please check :ref:`User Guide <metadata_routing>` on how the routing
        mechanism works.

        Returns
        -------
        routing : MetadataRouter
            A :class:`~sklearn.utils.metadata_routing.MetadataRouter`
            routing the metadata of ``fit`` to the inner estimator's ``fit``.
        """
        return MetadataRouter(owner=self).add(
            estimator=self.estimator,
            method_mapping=MethodMapping().add(caller="fit", callee="fit"),
        )


@estimator_dataclass
class InnerEstimatorWrapper(InnerEstimatorMixin, MaddnessParams):
    """The parameters of a wrapper: ``estimator``, then the MADDNESS ones.

    A subclass with parameters of its own declares them as dataclass fields
    (keyword-only, with defaults), which come after these.
    """

    estimator: object


def positional_call(method, X):
    """``method(X)`` for an ndarray ``X``, silencing the feature-name warning.

    The wrappers fit their inner estimator on the validated array, but an
    inner estimator given already fitted (FrozenEstimator) may have been
    fitted on a DataFrame; the arrays passed here are positional by
    construction, so the warning would be noise.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        return method(X)


def check_affine_match(actual, X, weights, offset, what):
    """Raise if ``actual`` is not ``X @ weights + offset``.

    The wrappers approximate a product they read from the inner estimator's
    attributes. Checking the inner estimator's own output on a few rows
    catches models whose output is not that product (e.g. one-vs-one SVC),
    which would otherwise be approximated silently wrong.

    The tolerance is relative to ``|X| @ |weights|``, the size of the terms
    summed, so that float32 models and cancellations pass.
    """
    X = np.asarray(X, dtype=np.float64)
    actual = np.asarray(actual, dtype=np.float64).reshape(X.shape[0], -1)
    expected = X @ weights + offset
    magnitude = np.abs(X) @ np.abs(weights) + np.abs(offset)
    if actual.shape != expected.shape or not np.all(
        np.abs(actual - expected) <= 1e-4 * (magnitude + 1e-12)
    ):
        raise ValueError(
            f"{what} is not the product the wrapper approximates; only "
            "estimators whose output is an affine function of X are supported."
        )
