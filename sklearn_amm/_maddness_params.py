"""The MADDNESS parameters, declared once for MaddnessTransformer and its wrappers.

:class:`~sklearn_amm.MaddnessTransformer` takes them after ``weights``, and
every wrapper takes them under the same names and defaults to build its
``maddness_``. Their constraints and documentation are MaddnessTransformer's
(see ``_maddness_interface`` and ``_docstrings``). Every estimator of the
package declares its parameters so, as the fields of a dataclass made by
:func:`estimator_dataclass`.
"""

from dataclasses import dataclass, fields


def estimator_dataclass(cls=None, /, *, kw_only=False):
    """:func:`~dataclasses.dataclass` for an estimator's parameters.

    The generated ``__init__`` stores each argument unchanged, as
    scikit-learn requires. ``repr=False`` keeps BaseEstimator's repr, which
    shows only the parameters that differ from their defaults;
    ``eq=False`` keeps comparison and hashing by identity, as for any other
    estimator. Works with or without arguments, as ``dataclass`` does.
    """
    return dataclass(cls, kw_only=kw_only, repr=False, eq=False)


# A dataclass, so that the parameters are declared once, here, for the
# transformer and all its wrappers: each estimator is a dataclass too, whose
# generated __init__ takes these after its own positional parameters and
# stores every argument unchanged, as scikit-learn requires of __init__ (no
# logic, no __post_init__). scikit-learn reads the parameters from that
# __init__'s signature, so get_params, set_params and clone see them.
@estimator_dataclass(kw_only=True)
class MaddnessParams:
    """The keyword-only MADDNESS parameters (see MaddnessTransformer)."""

    n_codebooks: int = 16
    optimize_prototypes: bool = True
    ridge_alpha: float = 1.0
    quantize_luts: bool = True
    aggregation: str = "average"
    lut_scaling: str = "per_output"
    n_candidate_dims: int = 4
    split_objective: str = "product"
    n_refinement_passes: int = 1
    verbose: int = 0


# The parameters a wrapper passes on to its MaddnessTransformer.
MADDNESS_PARAMETERS = tuple(field.name for field in fields(MaddnessParams))
