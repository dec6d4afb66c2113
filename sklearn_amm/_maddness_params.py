"""The MADDNESS parameters every wrapper shares with MaddnessTransformer.

Every wrapper exposes the parameters of :class:`~sklearn_amm.MaddnessTransformer`
other than ``weights`` under the same names, and builds its ``maddness_``
from them with the matrix it approximates the product with. Their
constraints are taken from ``MaddnessTransformer`` (and their docstrings,
see ``_docstrings``) so that they are written once. The ``__init__``
signatures still list the parameters one by one, because scikit-learn
reads the parameters of an estimator from its ``__init__`` signature; only
storing them is shared.
"""

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


def set_maddness_params(estimator, init_arguments):
    """Store the MADDNESS parameters among an ``__init__``'s arguments, unchanged.

    ``init_arguments`` is the ``locals()`` of the ``__init__`` at its
    start, so that each value is stored exactly as given, as scikit-learn
    requires of ``__init__``.
    """
    for name in MADDNESS_PARAMETERS:
        setattr(estimator, name, init_arguments[name])


class MaddnessParamsMixin:
    """Build ``maddness_`` from the wrapper's MADDNESS parameters."""

    def _fit_maddness(self, X, weights, sample_weight=None):
        """A MaddnessTransformer approximating ``X @ weights``, fitted on ``X``."""
        params = {name: getattr(self, name) for name in MADDNESS_PARAMETERS}
        amm = MaddnessTransformer(weights, **params)
        return amm.fit(X, sample_weight=sample_weight)
