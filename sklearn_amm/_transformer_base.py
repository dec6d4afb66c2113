"""What the drop-ins for scikit-learn's kernel approximations share.

Each stands in for a scikit-learn transformer whose output is a function of
``X @ B``: it takes that transformer's parameters, and the MADDNESS ones,
and computes the product approximately.
"""

from sklearn.base import BaseEstimator, TransformerMixin

from ._constraints import without_booleans
from ._doc_link import DocLinkMixin
from ._feature_names import ReplacedTransformerNamesMixin
from ._maddness_interface import MADDNESS_PARAMETER_CONSTRAINTS
from ._maddness_params import MaddnessParams
from ._persistence import VersionedStateMixin
from ._tags import DenseFloatTransformerMixin


def drop_in_constraints(sklearn_transformer):
    """The parameter constraints of a drop-in for ``sklearn_transformer``.

    Those of the scikit-learn transformer, without booleans where numbers
    are expected, and the MADDNESS parameters'.
    """
    return {
        **without_booleans(sklearn_transformer._parameter_constraints),
        **MADDNESS_PARAMETER_CONSTRAINTS,
    }


class DropInTransformer(
    VersionedStateMixin,
    DocLinkMixin,
    ReplacedTransformerNamesMixin,
    DenseFloatTransformerMixin,
    TransformerMixin,
    MaddnessParams,
    BaseEstimator,
):
    """A stand-in for a scikit-learn transformer, with its product approximated.

    Subclasses are dataclasses that declare the parameters of the class they
    replace, set ``_sklearn_transformer`` to that class, which names their
    outputs, and fit ``maddness_`` with :func:`fit_maddness`.
    """

    # The scikit-learn transformer the class replaces, which names the outputs.
    _sklearn_transformer = None
