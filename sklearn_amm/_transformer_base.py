"""What the transformers whose output is a function of ``X @ B`` share.

MaddnessProjection and the drop-ins for scikit-learn's kernel
approximations compute the product approximately, with their
``maddness_``, and the rest of their map exactly. Each drop-in stands in
for a scikit-learn transformer: it takes that transformer's parameters, and
the MADDNESS ones.
"""

from sklearn.base import BaseEstimator, TransformerMixin

from ._constraints import without_booleans
from ._doc_link import DocLinkMixin
from ._docstrings import fill_docstring
from ._feature_names import ReplacedTransformerNamesMixin
from ._maddness_interface import MADDNESS_PARAMETER_CONSTRAINTS, approximate_product
from ._maddness_params import MaddnessParams
from ._persistence import VersionedStateMixin
from ._tags import DenseFloatTransformerMixin
from ._validation import check_fitted, validate_rows


@fill_docstring
class ProductTransformerMixin(DenseFloatTransformerMixin, TransformerMixin):
    """``transform``: the approximate product, finished in place.

    A TransformerMixin, so that ``set_output`` wraps this ``transform``.
    Subclasses define ``_finish(product)``, the exact rest of the map, and
    may define ``_product_input(X)``, the rows multiplied, and
    ``_input_thresholds(rows)``, the thresholds they are encoded with when
    not ``maddness_``'s (scalers folded into them).
    """

    def transform(self, X):
        """Transform X, with its matrix product approximated by MADDNESS.

        {rows_parameters}

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_outputs)
            float32 for float32 input, float64 otherwise; column-major
            (Fortran-ordered) with quantized tables (``quantize_luts=True``,
            the default), as :meth:`MaddnessTransformer.transform` returns
            the product, which is finished in place. ``np.ascontiguousarray``
            gives a row-major copy where one is needed.
        """
        check_fitted(self)
        X = validate_rows(self, X)
        rows = self._product_input(X)
        return self._finish(
            approximate_product(
                self.maddness_, rows, thresholds=self._input_thresholds(rows)
            )
        )

    def _product_input(self, X):
        """The rows whose product is approximated, for validated X."""
        return X

    def _input_thresholds(self, rows):
        """Thresholds for these rows in place of ``maddness_``'s; None: its own."""
        return None


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

    Subclasses set ``_sklearn_transformer`` to the class they replace, which
    names their outputs, and fit ``maddness_`` with ``fit_maddness``. They
    are dataclasses, and take the parameters of the class they replace from
    a dataclass listed last among their bases: a dataclass's ``__init__``
    takes the fields of its bases from the last in the MRO to the first, so
    that these parameters come first, as in the replaced class's signature,
    and the MADDNESS ones after them.
    """

    # The scikit-learn transformer the class replaces, which names the outputs.
    _sklearn_transformer = None
