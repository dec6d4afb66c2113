"""Linear transformers (random projections, PCA, ...) approximated with MADDNESS."""

import numpy as np
from scipy import sparse
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    MetaEstimatorMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import check_is_fitted, validate_data

from ._persistence import VersionedStateMixin
from ._validation import validate_rows
from ._wrapper_base import (
    MADDNESS_PARAMETER_CONSTRAINTS,
    InnerEstimatorMixin,
    MaddnessParamsMixin,
    check_affine_match,
    insert_maddness_parameter_docs,
    positional_call,
    unfrozen,
)

# Training rows on which the inner transformer's output is compared with the
# affine map read from it (see check_affine_match).
_N_CHECK_ROWS = 32


def affine_map(transformer, n_features):
    """Read ``weights`` and ``offset`` of ``transform(X) = X @ weights + offset``.

    The transformer is evaluated on the zero row (giving the offset) and on
    the rows of the identity (giving ``offset`` plus each row of
    ``weights``). This needs nothing but ``transform``, so one wrapper covers
    every affine transformer whatever its attributes are called
    (``components_``, ``mean_``, whitening, ...).

    Returns
    -------
    weights : ndarray of shape (n_features, n_outputs), dtype=float64
    offset : ndarray of shape (n_outputs,), dtype=float64
    """
    probes = np.vstack([np.zeros((1, n_features)), np.eye(n_features)])
    out = positional_call(transformer.transform, probes)
    out = out.toarray() if sparse.issparse(out) else np.asarray(out)
    out = out.astype(np.float64)
    offset = out[0]
    return out[1:] - offset, offset


@insert_maddness_parameter_docs
class MaddnessProjection(
    VersionedStateMixin,
    InnerEstimatorMixin,
    MaddnessParamsMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
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
        A transformer whose ``transform`` is affine. The map is read by
        transforming the zero row and the rows of the identity, then checked
        on a few training rows; a transformer that is not affine raises
        a ValueError at fit.

    {maddness_parameters}

    Attributes
    ----------
    estimator_ : estimator object
        The fitted inner transformer (the FrozenEstimator itself if one was
        given).

    weights_ : ndarray of shape (n_features_in_, n_outputs)
        Linear part of the inner transformer.

    offset_ : ndarray of shape (n_outputs,)
        Output of the inner transformer for the zero row.

    maddness_ : MaddnessTransformer
        Approximates ``X @ weights_``.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

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

    def __init__(
        self,
        estimator,
        *,
        n_codebooks=16,
        optimize_prototypes=True,
        ridge_alpha=1.0,
        quantize_luts=True,
        aggregation="average",
        lut_scaling="per_output",
        n_candidate_dims=4,
        split_objective="product",
        n_refinement_passes=1,
    ):
        self.estimator = estimator
        self.n_codebooks = n_codebooks
        self.optimize_prototypes = optimize_prototypes
        self.ridge_alpha = ridge_alpha
        self.quantize_luts = quantize_luts
        self.aggregation = aggregation
        self.lut_scaling = lut_scaling
        self.n_candidate_dims = n_candidate_dims
        self.split_objective = split_objective
        self.n_refinement_passes = n_refinement_passes

    @_fit_context(
        # The inner estimator's parameters are validated by its own fit.
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y=None, **fit_params):
        """Fit the inner transformer, read its affine map, then fit MADDNESS.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows, also used to learn the MADDNESS encoding.
        y : array-like of shape (n_samples,), default=None
            Passed to the inner transformer's ``fit`` (ignored by most).
        **fit_params : dict
            Passed to the inner estimator's ``fit`` (routed to it when
            metadata routing is enabled). A ``sample_weight`` among them also
            weighs the rows MADDNESS learns from.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        # The inner transformer is fitted on the validated array, the rows
        # MADDNESS learns from; feature names are checked by the wrapper.
        self.estimator_ = self._fit_estimator(X, y, fit_params)
        self.weights_, self.offset_ = affine_map(self.estimator_, X.shape[1])
        rows = X[:_N_CHECK_ROWS]
        check_affine_match(
            positional_call(self.estimator_.transform, rows),
            rows,
            self.weights_,
            self.offset_,
            f"The transform of {type(unfrozen(self.estimator_)).__name__}",
        )
        self.maddness_ = self._fit_maddness(
            X, self.weights_, fit_params.get("sample_weight")
        )
        return self

    def transform(self, X):
        """Approximate the inner transformer's output ``X @ weights_ + offset_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to transform.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_outputs)
            float32 for float32 input, float64 otherwise.
        """
        check_is_fitted(self)
        X = validate_rows(self, X)
        X_new = self.maddness_._transform(X)
        X_new += self.offset_.astype(X_new.dtype)
        return X_new

    @property
    def _n_features_out(self):
        return self.weights_.shape[1]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags
