"""Output feature names of the drop-in wrappers: those of the estimator replaced.

A wrapper that stands in for a scikit-learn transformer names its output
columns as that transformer does (``pca0``, ``rbfsampler0``, ...), so that
swapping one for the other leaves the column names of a pipeline's output,
and of ``set_output(transform="pandas")``, unchanged.
"""

import numpy as np
from sklearn.utils.validation import _check_feature_names_in

from ._wrapper_base import unfrozen
from ._validation import check_fitted


def _numbered(prefix, n_features_out):
    return np.asarray([f"{prefix}{i}" for i in range(n_features_out)], dtype=object)


def prefixed_feature_names_out(estimator, prefix, n_features_out, input_features):
    """``prefix0, prefix1, ...``, the names of scikit-learn's class-name prefix.

    What ``ClassNamePrefixFeaturesOutMixin.get_feature_names_out`` returns
    for a class whose lower-cased name is ``prefix``; ``input_features`` is
    validated against ``estimator``'s input features, and otherwise unused.
    """
    _check_feature_names_in(estimator, input_features, generate_names=False)
    return _numbered(prefix, n_features_out)


def inner_feature_names_out(estimator, inner, n_features_out, input_features):
    """The output names of ``inner``, the fitted transformer ``estimator`` wraps.

    ``inner`` was fitted on the wrapper's validated array, so it knows no
    input names: the wrapper's own are passed on (they matter to
    transformers naming outputs after inputs, such as StandardScaler). A
    model given already fitted on a DataFrame checks them against its own.
    An inner transformer without ``get_feature_names_out`` gets the prefix
    of its class name, as scikit-learn's projections have.
    """
    names_in = _check_feature_names_in(estimator, input_features)
    if hasattr(inner, "feature_names_in_"):
        names_in = input_features
    if hasattr(inner, "get_feature_names_out"):
        return np.asarray(inner.get_feature_names_out(names_in), dtype=object)
    return _numbered(type(unfrozen(inner)).__name__.lower(), n_features_out)


class ReplacedTransformerNamesMixin:
    """Output names of the scikit-learn transformer a class stands in for.

    The class sets ``_sklearn_transformer`` (e.g. ``RBFSampler``) and has a
    fitted ``_n_features_out``.
    """

    def get_feature_names_out(self, input_features=None):
        """Get output feature names: those of the scikit-learn transformer replaced.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only used to validate feature names with the names seen in
            :meth:`fit`.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``rbfsampler0``, ``rbfsampler1``, ... for MaddnessRBFSampler
            (``skewedchi2sampler0``, ... for MaddnessSkewedChi2Sampler,
            ``nystroem0``, ... for MaddnessNystroem), as the scikit-learn
            transformer names them.
        """
        check_fitted(self)
        return prefixed_feature_names_out(
            self,
            self._sklearn_transformer.__name__.lower(),
            self._n_features_out,
            input_features,
        )
