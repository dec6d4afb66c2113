"""What the transformers built on an approximate product share.

MaddnessProjection and the drop-ins for scikit-learn's kernel
approximations return a function of ``X @ B``: their input is dense and
finite (MADDNESS compares feature values with thresholds) and their output
keeps the rows' float dtype, as MaddnessTransformer's does.
"""

from sklearn.base import BaseEstimator, TransformerMixin

from ._doc_link import DocLinkMixin
from ._feature_names import ReplacedTransformerNamesMixin
from ._maddness_params import MaddnessParamsMixin
from ._persistence import VersionedStateMixin


class DenseFloatTransformerMixin:
    """Tags of a transformer of dense, finite float rows that keeps their dtype.

    Goes before :class:`~sklearn.base.TransformerMixin` in the bases, which
    sets the transformer tags this one changes.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags


class DropInTransformer(
    VersionedStateMixin,
    DocLinkMixin,
    ReplacedTransformerNamesMixin,
    MaddnessParamsMixin,
    DenseFloatTransformerMixin,
    TransformerMixin,
    BaseEstimator,
):
    """A stand-in for a scikit-learn transformer, with its product approximated.

    Subclasses set ``_sklearn_transformer``, the class they replace, which
    names their outputs, and fit ``maddness_`` with the parameters of
    :class:`~sklearn_amm.MaddnessTransformer` they share.
    """

    # The scikit-learn transformer the class replaces, which names the outputs.
    _sklearn_transformer = None
