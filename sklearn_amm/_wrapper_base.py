"""What the MADDNESS wrappers share: the MADDNESS parameters and the inner estimator.

Every wrapper exposes the parameters of :class:`~sklearn_amm.MaddnessTransformer`
other than ``weights`` under the same names, and builds its ``maddness_``
from them with the matrix it approximates the product with. The parameter
constraints and docstrings are taken from ``MaddnessTransformer`` so that
they are written once. The ``__init__`` signatures still list the parameters
one by one, because scikit-learn reads the parameters of an estimator from
its ``__init__`` signature.
"""

import inspect
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _routing_enabled,
    process_routing,
)

from ._maddness import MaddnessTransformer

# The parameters a wrapper passes on to its MaddnessTransformer.
MADDNESS_PARAMETERS = (
    "n_codebooks",
    "optimize_prototypes",
    "ridge_alpha",
    "quantize_luts",
    "aggregation",
    "lut_scaling",
    "n_candidate_dims",
    "split_objective",
    "n_refinement_passes",
    "verbose",
)

MADDNESS_PARAMETER_CONSTRAINTS = {
    name: MaddnessTransformer._parameter_constraints[name]
    for name in MADDNESS_PARAMETERS
}

_DOC_PLACEHOLDER = "{maddness_parameters}"


def _parameter_docs(docstring, names):
    """Extract the numpydoc entries of ``names`` from a class docstring.

    An entry is its ``name : type`` line plus the indented lines after it.
    Entries that cannot be found get a pointer to ``MaddnessTransformer``
    rather than an error, so that a reworded docstring never breaks import.
    """
    blocks = {}
    current = None
    for line in inspect.cleandoc(docstring or "").splitlines():
        if line and not line[0].isspace():
            name = line.split(" : ")[0]
            current = name if name in names and " : " in line else None
            if current is not None:
                blocks[current] = [line]
        elif current is not None:
            blocks[current].append(line)
    entries = []
    for name in names:
        block = blocks.get(name)
        if block is None:
            block = [f"{name}", "    See :class:`~sklearn_amm.MaddnessTransformer`."]
        entries.append("\n".join(block).rstrip())
    return "\n\n".join(entries)


_MADDNESS_PARAMETER_DOCS = _parameter_docs(
    MaddnessTransformer.__doc__, MADDNESS_PARAMETERS
)


def insert_maddness_parameter_docs(cls):
    """Class decorator: replace the ``{maddness_parameters}`` line of the docstring.

    The entries are indented like the placeholder line, so this works whether
    or not the interpreter strips docstring indentation (Python >= 3.13 does).
    """
    if cls.__doc__ is None:  # python -OO strips docstrings
        return cls
    lines = []
    for line in cls.__doc__.splitlines():
        if line.strip() != _DOC_PLACEHOLDER:
            lines.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        lines.extend(
            indent + entry if entry else ""
            for entry in _MADDNESS_PARAMETER_DOCS.splitlines()
        )
    cls.__doc__ = "\n".join(lines)
    return cls


class MaddnessParamsMixin:
    """Build ``maddness_`` from the wrapper's MADDNESS parameters."""

    def _fit_maddness(self, X, weights, sample_weight=None):
        """A MaddnessTransformer approximating ``X @ weights``, fitted on ``X``."""
        params = {name: getattr(self, name) for name in MADDNESS_PARAMETERS}
        amm = MaddnessTransformer(weights, **params)
        return amm.fit(X, sample_weight=sample_weight)


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
