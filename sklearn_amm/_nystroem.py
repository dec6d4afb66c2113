"""Nystroem features whose dot products are approximated with MADDNESS.

A drop-in for scikit-learn's :class:`~sklearn.kernel_approximation.Nystroem`
for the kernels that are functions of dot products and norms: the
scikit-learn transformer is fitted with the same parameters (so the same
``random_state`` picks the same basis rows), and only the dot products of
``X`` with the basis are replaced by MADDNESS. Everything around them
stays exact.
"""

from dataclasses import KW_ONLY

import numpy as np
from sklearn.base import _fit_context
from sklearn.kernel_approximation import Nystroem
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.extmath import row_norms
from sklearn.utils.validation import validate_data

from ._docstrings import fill_docstring
from ._maddness_interface import approximate_product, fit_maddness
from ._maddness_params import estimator_dataclass
from ._transformer_base import DropInTransformer, drop_in_constraints
from ._validation import check_fitted, validate_rows

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


@estimator_dataclass
class _NystroemParams:
    """Nystroem's parameters (see DropInTransformer)."""

    kernel: str = "rbf"
    _: KW_ONLY
    gamma: float | None = None
    coef0: float | None = None
    degree: float | None = None
    kernel_params: dict | None = None
    n_components: int = 100
    random_state: int | np.random.RandomState | None = None
    n_jobs: int | None = None


@fill_docstring
@estimator_dataclass
class MaddnessNystroem(DropInTransformer, _NystroemParams):
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

    {feature_attributes}

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

    _parameter_constraints = {
        **drop_in_constraints(Nystroem),
        "kernel": [StrOptions(set(_DOT_PRODUCT_KERNELS))],
    }

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
        self.maddness_ = fit_maddness(self, X, self.components_.T)
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

        {rows_parameters}

        Returns
        -------
        X_transformed : ndarray of shape (n_samples, n_components)
            float32 when both ``X`` and the training rows are float32.
        """
        check_fitted(self)
        # The kernel reads the norms of whole rows, not only the split
        # columns the encoder checks: every value must be finite.
        X = validate_rows(self, X, check_finite=True)
        dots = approximate_product(self.maddness_, X)
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
