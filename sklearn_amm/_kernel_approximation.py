"""Kernel approximations whose matrix product is approximated with MADDNESS.

Drop-ins for scikit-learn's :class:`~sklearn.kernel_approximation.RBFSampler`,
:class:`~sklearn.kernel_approximation.SkewedChi2Sampler` and
:class:`~sklearn.kernel_approximation.Nystroem`: the scikit-learn transformer
is fitted with the same parameters (so the same ``random_state`` draws the
same random weights or basis rows), and only its product with ``X`` is
replaced by MADDNESS. Everything around the product stays exact.
"""

import numpy as np
from sklearn.base import (
    BaseEstimator,
    TransformerMixin,
    _fit_context,
)
from sklearn.kernel_approximation import Nystroem, RBFSampler, SkewedChi2Sampler
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.extmath import row_norms
from sklearn.utils.validation import check_is_fitted, validate_data

from ._constraints import without_booleans
from ._doc_link import DocLinkMixin
from ._feature_names import ReplacedTransformerNamesMixin
from ._persistence import VersionedStateMixin
from ._validation import validate_rows
from ._wrapper_base import (
    MADDNESS_PARAMETER_CONSTRAINTS,
    MaddnessParamsMixin,
    insert_maddness_parameter_docs,
)


class _BaseMaddnessFourierSampler(
    VersionedStateMixin,
    DocLinkMixin,
    ReplacedTransformerNamesMixin,
    MaddnessParamsMixin,
    TransformerMixin,
    BaseEstimator,
):
    """Random Fourier features ``sqrt(2 / n_components) * cos(Z @ W + b)``.

    ``Z`` is ``X`` for the RBF kernel and ``log(X + skewedness)`` for the
    skewed chi-squared kernel; ``Z @ W`` is approximated.
    """

    # The scikit-learn sampler the class replaces, which names the outputs.
    _sklearn_transformer = None

    def _sampler(self):
        """The unfitted scikit-learn sampler with this estimator's parameters."""
        raise NotImplementedError

    def _features_input(self, X):
        """The rows ``Z`` multiplied by the random weights, for validated X."""
        return X

    def _resolve_params(self):
        """Store fitted copies of the parameters that transform reads."""

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Draw the random weights, then fit MADDNESS on the training rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row in the MADDNESS learning (see
            :meth:`MaddnessTransformer.fit`). The random weights do not
            depend on the rows, but for the RBF sampler's ``gamma="scale"``:
            scikit-learn's sampler computes that variance of ``X`` unweighted.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        self._resolve_params()
        Z = self._features_input(X)
        sampler = self._sampler().fit(X)
        self.random_weights_ = sampler.random_weights_
        self.random_offset_ = sampler.random_offset_
        self.maddness_ = self._fit_maddness(Z, self.random_weights_, sample_weight)
        return self

    def transform(self, X):
        """Apply the approximate feature map to X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to map.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            float32 for float32 input, float64 otherwise. With quantized
            tables (``quantize_luts=True``, the default) the array is
            column-major (Fortran-ordered), as the compiled scan writes it
            one component at a time; ``np.ascontiguousarray`` gives a
            row-major copy where one is needed.
        """
        check_is_fitted(self)
        X = validate_rows(self, X)
        projection = self.maddness_._transform(self._features_input(X))
        projection += self.random_offset_
        np.cos(projection, projection)
        projection *= (2.0 / self._n_features_out) ** 0.5
        return projection

    @property
    def _n_features_out(self):
        # The fitted width, not n_components, which set_params may change.
        return self.random_weights_.shape[1]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags


@insert_maddness_parameter_docs
class MaddnessRBFSampler(_BaseMaddnessFourierSampler):
    """Random Fourier features of the RBF kernel, with ``X @ W`` approximated.

    A drop-in for :class:`~sklearn.kernel_approximation.RBFSampler`: the
    same parameters draw the same random weights ``W`` and offsets ``b``,
    and :meth:`transform` returns ``sqrt(2 / n_components) * cos(X @ W + b)``
    with ``X @ W`` computed by a
    :class:`~sklearn_amm.MaddnessTransformer` fitted on the training rows.

    Parameters
    ----------
    gamma : 'scale' or float, default=1.0
        Parameter of the RBF kernel ``exp(-gamma * ||x - y||^2)``. With
        ``'scale'``, ``1 / (n_features * X.var())``.

    n_components : int, default=100
        Number of Monte Carlo samples per original feature, i.e. the
        dimension of the feature space.

    random_state : int, RandomState instance or None, default=None
        Draws the random weights and offsets, as in ``RBFSampler``. Pass an
        int for reproducible output across multiple function calls.

    {maddness_parameters}

    Attributes
    ----------
    random_weights_ : ndarray of shape (n_features, n_components)
        Random projection directions drawn from the Fourier transform of the
        RBF kernel.

    random_offset_ : ndarray of shape (n_components,)
        Random offsets of the cosines.

    maddness_ : MaddnessTransformer
        Approximates ``X @ random_weights_``.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    sklearn.kernel_approximation.RBFSampler : The exact feature map.
    MaddnessNystroem : Nystroem features with approximate dot products.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_amm import MaddnessRBFSampler
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(1000, 16))
    >>> rbf = MaddnessRBFSampler(gamma=0.05, n_components=64, random_state=0)
    >>> rbf.fit_transform(X).shape
    (1000, 64)
    """

    _parameter_constraints: dict = {
        **without_booleans(RBFSampler._parameter_constraints),
        **MADDNESS_PARAMETER_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        gamma=1.0,
        n_components=100,
        random_state=None,
        n_codebooks=16,
        optimize_prototypes=True,
        ridge_alpha=1.0,
        quantize_luts=True,
        aggregation="average",
        lut_scaling="per_output",
        n_candidate_dims=4,
        split_objective="product",
        n_refinement_passes=1,
        verbose=0,
    ):
        self.gamma = gamma
        self.n_components = n_components
        self.random_state = random_state
        self.n_codebooks = n_codebooks
        self.optimize_prototypes = optimize_prototypes
        self.ridge_alpha = ridge_alpha
        self.quantize_luts = quantize_luts
        self.aggregation = aggregation
        self.lut_scaling = lut_scaling
        self.n_candidate_dims = n_candidate_dims
        self.split_objective = split_objective
        self.n_refinement_passes = n_refinement_passes
        self.verbose = verbose

    _sklearn_transformer = RBFSampler

    def _sampler(self):
        return RBFSampler(
            gamma=self.gamma,
            n_components=self.n_components,
            random_state=self.random_state,
        )


@insert_maddness_parameter_docs
class MaddnessSkewedChi2Sampler(_BaseMaddnessFourierSampler):
    """Features of the skewed chi-squared kernel, with the product approximated.

    A drop-in for :class:`~sklearn.kernel_approximation.SkewedChi2Sampler`:
    :meth:`transform` returns
    ``sqrt(2 / n_components) * cos(log(X + skewedness) @ W + b)`` with the
    product computed by a :class:`~sklearn_amm.MaddnessTransformer` fitted
    on ``log(X + skewedness)`` of the training rows.

    Parameters
    ----------
    skewedness : float, default=1.0
        "Skewedness" parameter of the kernel. All values of ``X``, at fit and
        transform, must be strictly greater than ``-skewedness``.

    n_components : int, default=100
        Number of Monte Carlo samples per original feature, i.e. the
        dimension of the feature space.

    random_state : int, RandomState instance or None, default=None
        Draws the random weights and offsets, as in ``SkewedChi2Sampler``.
        Pass an int for reproducible output across multiple function calls.

    {maddness_parameters}

    Attributes
    ----------
    random_weights_ : ndarray of shape (n_features, n_components)
        Random projection directions.

    random_offset_ : ndarray of shape (n_components,)
        Random offsets of the cosines.

    maddness_ : MaddnessTransformer
        Approximates ``log(X + skewedness) @ random_weights_``.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    sklearn.kernel_approximation.SkewedChi2Sampler : The exact feature map.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_amm import MaddnessSkewedChi2Sampler
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(size=(1000, 16))
    >>> chi2 = MaddnessSkewedChi2Sampler(n_components=64, random_state=0)
    >>> chi2.fit_transform(X).shape
    (1000, 64)
    """

    _parameter_constraints: dict = {
        **without_booleans(SkewedChi2Sampler._parameter_constraints),
        **MADDNESS_PARAMETER_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        skewedness=1.0,
        n_components=100,
        random_state=None,
        n_codebooks=16,
        optimize_prototypes=True,
        ridge_alpha=1.0,
        quantize_luts=True,
        aggregation="average",
        lut_scaling="per_output",
        n_candidate_dims=4,
        split_objective="product",
        n_refinement_passes=1,
        verbose=0,
    ):
        self.skewedness = skewedness
        self.n_components = n_components
        self.random_state = random_state
        self.n_codebooks = n_codebooks
        self.optimize_prototypes = optimize_prototypes
        self.ridge_alpha = ridge_alpha
        self.quantize_luts = quantize_luts
        self.aggregation = aggregation
        self.lut_scaling = lut_scaling
        self.n_candidate_dims = n_candidate_dims
        self.split_objective = split_objective
        self.n_refinement_passes = n_refinement_passes
        self.verbose = verbose

    _sklearn_transformer = SkewedChi2Sampler

    def _sampler(self):
        return SkewedChi2Sampler(
            skewedness=self.skewedness,
            n_components=self.n_components,
            random_state=self.random_state,
        )

    def _resolve_params(self):
        self._skewedness = float(self.skewedness)

    def _upgrade_state(self, state):
        """A state saved before ``_skewedness``: the parameter saved with it."""
        state = super()._upgrade_state(state)
        if "random_weights_" in state and "_skewedness" not in state:
            state["_skewedness"] = float(state["skewedness"])
        return state

    def _features_input(self, X):
        # Checked at fit too (SkewedChi2Sampler checks at transform only),
        # because MADDNESS learns on the logarithms.
        if (X <= -self._skewedness).any():
            raise ValueError("X may not contain entries smaller than -skewedness.")
        return np.log(X + X.dtype.type(self._skewedness))


# Kernels of the form k(x, c) = f(x . c, ||x||, ||c||), whose only product is
# the dot products, mapped to the kernel parameters they use.
_DOT_PRODUCT_KERNELS = {
    "rbf": ("gamma",),
    "linear": (),
    "poly": ("gamma", "degree", "coef0"),
    "polynomial": ("gamma", "degree", "coef0"),
    "sigmoid": ("gamma", "coef0"),
    "cosine": (),
}

# Defaults of sklearn.metrics.pairwise for parameters left at None; gamma
# defaults to 1 / n_features.
_KERNEL_DEFAULTS = {"degree": 3, "coef0": 1}


def _inverse_norms(sq_norms):
    """``1 / sqrt(sq_norms)``, with 0 for zero rows.

    sklearn.preprocessing.normalize leaves a zero row at zero, so its cosine
    similarity with anything is 0; an approximate dot product of a zero row
    need not be 0, hence the explicit 0.
    """
    inverse = np.zeros_like(sq_norms)
    nonzero = sq_norms > 0
    inverse[nonzero] = 1 / np.sqrt(sq_norms[nonzero])
    return inverse


@insert_maddness_parameter_docs
class MaddnessNystroem(
    VersionedStateMixin,
    DocLinkMixin,
    ReplacedTransformerNamesMixin,
    MaddnessParamsMixin,
    TransformerMixin,
    BaseEstimator,
):
    """Nystroem features with the dot products ``X @ components_.T`` approximated.

    A drop-in for :class:`~sklearn.kernel_approximation.Nystroem` for the
    kernels that are functions of dot products and norms. The same
    parameters pick the same basis rows ``components_``; :meth:`transform`
    evaluates the kernel between ``X`` and the basis from dot products
    computed by a :class:`~sklearn_amm.MaddnessTransformer` fitted on the
    training rows, then multiplies by ``normalization_.T`` exactly. For the
    RBF kernel ``exp(-gamma * max(||x||^2 + ||c||^2 - 2 x.c, 0))`` and the
    cosine kernel ``x.c / (||x|| ||c||)`` the norms are exact.

    Parameters
    ----------
    kernel : {"rbf", "linear", "poly", "polynomial", "sigmoid", "cosine"}, \
            default="rbf"
        Kernel to approximate, as in
        :func:`sklearn.metrics.pairwise.pairwise_kernels`.

    gamma : float, default=None
        Gamma parameter of the RBF, polynomial and sigmoid kernels. None
        means ``1 / n_features``.

    coef0 : float, default=None
        Zero coefficient of the polynomial and sigmoid kernels. None means 1.

    degree : float, default=None
        Degree of the polynomial kernel. None means 3.

    kernel_params : dict, default=None
        Further kernel parameters (``gamma``, ``degree``, ``coef0``), as in
        ``Nystroem``; the explicit parameters above take precedence.

    n_components : int, default=100
        Number of basis rows, i.e. the dimension of the feature space.

    random_state : int, RandomState instance or None, default=None
        Picks the basis rows, as in ``Nystroem``. Pass an int for
        reproducible output across multiple function calls.

    n_jobs : int, default=None
        Number of jobs of the kernel computation on the basis at fit. None
        means 1 unless in a :obj:`joblib.parallel_backend` context.

    {maddness_parameters}

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        Basis rows, a subset of the training rows.

    component_indices_ : ndarray of shape (n_components,)
        Indices of ``components_`` in the training set.

    normalization_ : ndarray of shape (n_components, n_components)
        Inverse square root of the kernel matrix of the basis.

    maddness_ : MaddnessTransformer
        Approximates ``X @ components_.T``.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    sklearn.kernel_approximation.Nystroem : The exact feature map.
    MaddnessRBFSampler : Random Fourier features with an approximate product.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_amm import MaddnessNystroem
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(1000, 16))
    >>> nys = MaddnessNystroem(gamma=0.05, n_components=64, random_state=0)
    >>> nys.fit_transform(X).shape
    (1000, 64)
    """

    _parameter_constraints: dict = {
        **without_booleans(Nystroem._parameter_constraints),
        "kernel": [StrOptions(set(_DOT_PRODUCT_KERNELS))],
        **MADDNESS_PARAMETER_CONSTRAINTS,
    }

    def __init__(
        self,
        kernel="rbf",
        *,
        gamma=None,
        coef0=None,
        degree=None,
        kernel_params=None,
        n_components=100,
        random_state=None,
        n_jobs=None,
        n_codebooks=16,
        optimize_prototypes=True,
        ridge_alpha=1.0,
        quantize_luts=True,
        aggregation="average",
        lut_scaling="per_output",
        n_candidate_dims=4,
        split_objective="product",
        n_refinement_passes=1,
        verbose=0,
    ):
        self.kernel = kernel
        self.gamma = gamma
        self.coef0 = coef0
        self.degree = degree
        self.kernel_params = kernel_params
        self.n_components = n_components
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.n_codebooks = n_codebooks
        self.optimize_prototypes = optimize_prototypes
        self.ridge_alpha = ridge_alpha
        self.quantize_luts = quantize_luts
        self.aggregation = aggregation
        self.lut_scaling = lut_scaling
        self.n_candidate_dims = n_candidate_dims
        self.split_objective = split_objective
        self.n_refinement_passes = n_refinement_passes
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Pick the basis rows, then fit MADDNESS on the training rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.
        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        nystroem = Nystroem(
            kernel=self.kernel,
            gamma=self.gamma,
            coef0=self.coef0,
            degree=self.degree,
            # Nystroem writes the explicit parameters into this dict: copy it
            # so that our own parameter is left untouched.
            kernel_params=(
                None if self.kernel_params is None else dict(self.kernel_params)
            ),
            n_components=self.n_components,
            random_state=self.random_state,
            n_jobs=self.n_jobs,
        ).fit(X)
        self.components_ = nystroem.components_
        self.component_indices_ = nystroem.component_indices_
        self.normalization_ = nystroem.normalization_
        self._resolve_kernel_params(X.shape[1])
        self._component_sq_norms = row_norms(self.components_, squared=True)
        self.maddness_ = self._fit_maddness(X, self.components_.T)
        return self

    def _resolve_kernel_params(self, n_features):
        """Store the kernel and its parameters as pairwise_kernels would use them."""
        self._kernel = str(self.kernel)
        params = dict(self.kernel_params or {})
        for name in _DOT_PRODUCT_KERNELS[self._kernel]:
            if getattr(self, name) is not None:
                params[name] = getattr(self, name)
        gamma = params.get("gamma")
        self._gamma = 1.0 / n_features if gamma is None else gamma
        self._degree = params.get("degree", _KERNEL_DEFAULTS["degree"])
        self._coef0 = params.get("coef0", _KERNEL_DEFAULTS["coef0"])

    def transform(self, X):
        """Apply the approximate feature map to X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to map.

        Returns
        -------
        X_transformed : ndarray of shape (n_samples, n_components)
            float32 when both ``X`` and the training rows are float32.
        """
        check_is_fitted(self)
        # The kernel reads the norms of whole rows, not only the split
        # columns the encoder checks: every value must be finite.
        X = validate_rows(self, X, check_finite=True)
        dots = self.maddness_._transform(X)
        return self._kernel_from_dots(dots, X) @ self.normalization_.T

    def _kernel_from_dots(self, dots, X):
        """The kernel between ``X`` and the basis, in place of ``dots``.

        Follows sklearn.metrics.pairwise: the RBF distances are clipped at
        zero because approximate (or rounded) dot products can make them
        slightly negative.
        """
        kernel = self._kernel
        if kernel == "rbf":
            dots *= -2
            dots += row_norms(X, squared=True)[:, np.newaxis]
            dots += self._component_sq_norms
            np.maximum(dots, 0, out=dots)
            dots *= -self._gamma
            np.exp(dots, out=dots)
        elif kernel in ("poly", "polynomial"):
            dots *= self._gamma
            dots += self._coef0
            dots **= self._degree
        elif kernel == "sigmoid":
            dots *= self._gamma
            dots += self._coef0
            np.tanh(dots, out=dots)
        elif kernel == "cosine":
            dots *= _inverse_norms(row_norms(X, squared=True))[:, np.newaxis]
            dots *= _inverse_norms(self._component_sq_norms)
        return dots

    _sklearn_transformer = Nystroem

    @property
    def _n_features_out(self):
        return self.components_.shape[0]

    def _upgrade_state(self, state):
        """A state saved before ``_kernel``: the parameter saved with it."""
        state = super()._upgrade_state(state)
        if "components_" in state and "_kernel" not in state:
            state["_kernel"] = str(state["kernel"])
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags
