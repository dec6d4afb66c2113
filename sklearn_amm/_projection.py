"""Linear transformers (random projections, PCA, ...) approximated with MADDNESS."""

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, MetaEstimatorMixin
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import validate_data

from ._doc_link import DocLinkMixin
from ._docstrings import fill_docstring
from ._feature_names import inner_feature_names_out
from ._maddness_interface import MADDNESS_PARAMETER_CONSTRAINTS, fit_maddness
from ._persistence import VersionedStateMixin
from ._scaler_folding import (
    check_scalers,
    copies_input,
    fold_fitted_thresholds,
    leading_scalers,
    scale_rows,
)
from ._transformer_base import ProductTransformerMixin
from ._validation import check_fitted
from ._wrapper_base import (
    InnerEstimatorWrapper,
    check_affine_match,
    inner_fit_context,
    positional_call,
    unfrozen,
)

# Training rows on which the inner transformer's output is compared with the
# affine map read from it (see check_affine_match).
_N_CHECK_ROWS = 32

# Random rows on which a linear part read from ``components_`` is checked
# before it is trusted. Training rows alone could miss a wrong map when they
# span few directions (a few rows of 100,000 features); a random row checks
# every direction at once, with probability one.
_N_RANDOM_CHECK_ROWS = 4

# Bytes of identity rows passed to ``transform`` at once when the map is read
# by probing: the rows of the whole identity would take n_features**2 * 8
# bytes (80 GB at 100,000 features), while a few megabytes per call keep the
# number of calls, each with its own input validation, small.
_PROBE_CHUNK_BYTES = 1 << 24


def _dense_float64(out):
    """A transformer's output as a float64 ndarray."""
    out = out.toarray() if sparse.issparse(out) else np.asarray(out)
    return out.astype(np.float64, copy=False)


def _transform_rows(transformer, rows):
    return _dense_float64(positional_call(transformer.transform, rows))


def affine_map(transformer, n_features):
    """Read ``weights`` and ``offset`` of ``transform(X) = X @ weights + offset``.

    The offset is the transform of the zero row. The linear part is read
    from ``components_`` where that explains the transform (random
    projections, PCA, TruncatedSVD, FastICA: each computes
    ``(X - mean) @ components_.T``, scaled per output by whitening),
    checked on random rows; otherwise it is probed through ``transform``
    on the rows of the identity, a chunk at a time, which costs
    ``n_features`` rows of ``transform``. Either way the memory used is
    ``O(n_features * n_outputs)`` beyond a few megabytes, never the
    ``n_features ** 2`` of the whole identity, and any affine transformer
    is covered, whatever its attributes are called.

    Returns
    -------
    weights : ndarray of shape (n_features, n_outputs), dtype=float64
    offset : ndarray of shape (n_outputs,), dtype=float64
    """
    offset = _transform_rows(transformer, np.zeros((1, n_features)))[0]
    weights = _weights_from_components(transformer, n_features, offset)
    if weights is None:
        weights = _probed_weights(transformer, n_features, offset)
    return weights, offset


def _weights_from_components(transformer, n_features, offset):
    """``components_.T`` times a scale per output if that is the map, else None.

    The scales cover whitening (PCA divides each output by its singular
    value); they are fitted by least squares on random rows, a single number
    per output, so that the other rows check the fit.
    """
    components = getattr(unfrozen(transformer), "components_", None)
    if components is None or np.ndim(components) != 2:
        return None
    if components.shape != (offset.shape[0], n_features):
        return None
    if sparse.issparse(components):
        # SparseRandomProjection: n_outputs x n_features, so the dense copy
        # is the size of the weights themselves.
        components = components.toarray()
    # A copy, scaled below: components_.T may be a C-ordered view of the
    # transformer's own array (PCA's eigenvector solver stores it so).
    weights = np.array(np.asarray(components, dtype=np.float64).T, order="C")
    rows = np.random.default_rng(0).uniform(size=(_N_RANDOM_CHECK_ROWS, n_features))
    try:
        actual = _transform_rows(transformer, rows)
        unscaled = rows @ weights
        norms = (unscaled**2).sum(axis=0)
        scale = np.ones_like(norms)
        nonzero = norms > 0
        scale[nonzero] = (unscaled * (actual - offset)).sum(axis=0)[nonzero] / norms[
            nonzero
        ]
        weights *= scale
        check_affine_match(actual, rows, weights, offset, "components_")
    except ValueError:
        # An attribute of another meaning, or a transform that rejects these
        # rows: probe instead.
        return None
    return weights


def _probed_weights(transformer, n_features, offset):
    """The linear part, from ``transform`` of the identity's rows, chunk by chunk."""
    n_outputs = offset.shape[0]
    chunk = min(n_features, max(n_outputs, 1, _PROBE_CHUNK_BYTES // (8 * n_features)))
    weights = np.empty((n_features, n_outputs))
    probes = np.zeros((chunk, n_features))
    for start in range(0, n_features, chunk):
        stop = min(start + chunk, n_features)
        rows = probes[: stop - start]
        diagonal = (np.arange(stop - start), np.arange(start, stop))
        rows[diagonal] = 1.0
        weights[start:stop] = _transform_rows(transformer, rows) - offset
        rows[diagonal] = 0.0
    return weights


@fill_docstring
class MaddnessProjection(
    VersionedStateMixin,
    DocLinkMixin,
    InnerEstimatorWrapper,
    ProductTransformerMixin,
    MetaEstimatorMixin,
    BaseEstimator,
):
    """Any affine transformer, with its matrix product approximated by MADDNESS.

    Fits a clone of ``estimator`` (or uses an already fitted one wrapped in
    :class:`~sklearn.frozen.FrozenEstimator`), reads the affine map
    ``transform(X) = X @ weights_ + offset_`` from it, and fits a
    :class:`~sklearn_amm.MaddnessTransformer` on the training rows with
    ``weights=weights_``. Covers the random projections
    (:class:`~sklearn.random_projection.GaussianRandomProjection`,
    :class:`~sklearn.random_projection.SparseRandomProjection`:
    ``X @ components_.T``) and the other affine transformers, such as
    :class:`~sklearn.decomposition.PCA` (with or without whitening),
    :class:`~sklearn.decomposition.TruncatedSVD` or
    :class:`~sklearn.decomposition.FastICA`.

    Parameters
    ----------
    estimator : estimator object
        A transformer whose ``transform`` is affine. The map is read from
        its ``components_`` where they explain its ``transform``, otherwise
        by transforming the rows of the identity a chunk at a time; either
        way it is checked on a few training rows, and a transformer that is
        not affine raises a ValueError at fit.

        A :class:`~sklearn.pipeline.Pipeline` is such a transformer when all
        its steps are affine. The per-feature scalers it starts with
        (:class:`~sklearn.preprocessing.StandardScaler`,
        :class:`~sklearn.preprocessing.MinMaxScaler`, ``clip`` too,
        :class:`~sklearn.preprocessing.MaxAbsScaler`,
        :class:`~sklearn.preprocessing.RobustScaler`, and ``"passthrough"``)
        are folded into the split thresholds instead
        (``folded_thresholds_``): MADDNESS learns from the scaled rows and
        the map of the steps after the scalers, as for those steps alone
        fitted on the scaled rows, and :meth:`transform` reads the raw rows
        and never runs the scalers.

    {maddness_parameters}

    Attributes
    ----------
    {inner_estimator_attribute}

    weights_ : ndarray of shape (n_features_in_, n_outputs)
        Linear part of the inner transformer (of the steps after the
        scalers it starts with, if any, on the scaled rows).

    offset_ : ndarray of shape (n_outputs,)
        Output of the inner transformer (the same steps) for the zero row.

    maddness_ : MaddnessTransformer
        Approximates ``X @ weights_`` (of the scaled rows, if scalers are
        folded).

    {folded_thresholds_attribute}

    {feature_attributes}

    See Also
    --------
    MaddnessRBFSampler : Random Fourier features with an approximate product.
    MaddnessTransformer : The approximate product itself.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.random_projection import GaussianRandomProjection
    >>> from sklearn_amm import MaddnessProjection
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(1000, 64))
    >>> proj = MaddnessProjection(GaussianRandomProjection(8, random_state=0))
    >>> proj.fit_transform(X).shape
    (1000, 8)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "transform"])],
        **MADDNESS_PARAMETER_CONSTRAINTS,
    }

    @inner_fit_context
    def fit(self, X, y=None, **fit_params):
        """Fit the inner transformer, read its affine map, then fit MADDNESS.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows, also used to learn the MADDNESS encoding.
        y : array-like of shape (n_samples,), default=None
            Passed to the inner transformer's ``fit`` (ignored by most).
        {inner_fit_params}

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        scalers, _ = leading_scalers(self.estimator)
        # The inner transformer is fitted on the validated array, the rows
        # MADDNESS learns from; feature names are checked by the wrapper. A
        # scaler with copy=False would scale X itself in place.
        fit_rows = X if scalers is None or copies_input(scalers) else X.copy()
        self.estimator_ = self._fit_estimator(fit_rows, y, fit_params)
        scalers, head = leading_scalers(self.estimator_)
        X_head = X
        if scalers is not None:
            check_scalers(scalers, X.shape[1])
            X_head = scale_rows(scalers, X)
        self.weights_, self.offset_ = affine_map(head, X.shape[1])
        rows = X_head[:_N_CHECK_ROWS]
        check_affine_match(
            positional_call(head.transform, rows),
            rows,
            self.weights_,
            self.offset_,
            f"The transform of {type(unfrozen(head)).__name__}",
        )
        self.maddness_ = fit_maddness(
            self, X_head, self.weights_, fit_params.get("sample_weight")
        )
        self.folded_thresholds_ = (
            None
            if scalers is None
            else fold_fitted_thresholds(scalers, self.maddness_, X, X_head)
        )
        return self

    def _input_thresholds(self, rows):
        folded = self.folded_thresholds_
        return None if folded is None else folded[rows.dtype.name]

    def _finish(self, X_new):
        """``X @ weights_ + offset_`` from the product, in place."""
        X_new += self.offset_.astype(X_new.dtype)
        return X_new

    def get_feature_names_out(self, input_features=None):
        """Get output feature names: those of the inner transformer.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names, checked against ``feature_names_in_`` if
            defined; passed to the inner transformer, whose output names
            may depend on them.

        Returns
        -------
        feature_names_out : ndarray of str objects
            What ``estimator_.get_feature_names_out`` returns (``pca0``,
            ``pca1``, ... for PCA), so that the wrapper is a drop-in for
            the inner transformer.
        """
        check_fitted(self)
        return inner_feature_names_out(
            self, self.estimator_, self.weights_.shape[1], input_features
        )
