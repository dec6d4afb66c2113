"""Random Fourier features whose matrix product is approximated with MADDNESS.

Drop-ins for scikit-learn's :class:`~sklearn.kernel_approximation.RBFSampler`
and :class:`~sklearn.kernel_approximation.SkewedChi2Sampler`: the
scikit-learn sampler is fitted with the same parameters (so the same
``random_state`` draws the same random weights), and only its product with
``X`` is replaced by MADDNESS. Everything around the product stays exact.
"""

import numpy as np
from sklearn.base import _fit_context
from sklearn.kernel_approximation import RBFSampler, SkewedChi2Sampler
from sklearn.utils.validation import validate_data

from ._docstrings import fill_docstring
from ._maddness_interface import fit_maddness
from ._maddness_params import estimator_dataclass
from ._transformer_base import (
    DropInTransformer,
    ProductTransformerMixin,
    drop_in_constraints,
)


class _BaseMaddnessFourierSampler(ProductTransformerMixin, DropInTransformer):
    """Random Fourier features ``sqrt(2 / n_components) * cos(Z @ W + b)``.

    ``Z`` is ``X`` for the RBF kernel and ``log(X + skewedness)`` for the
    skewed chi-squared kernel; ``Z @ W`` is approximated.
    """

    def _sampler(self):
        """The unfitted sampler, with this estimator's values of its parameters."""
        sampler = self._sklearn_transformer
        return sampler(
            **{name: getattr(self, name) for name in sampler._parameter_constraints}
        )

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
        Z = self._product_input(X)
        sampler = self._sampler().fit(X)
        self.random_weights_ = sampler.random_weights_
        self.random_offset_ = sampler.random_offset_
        self.maddness_ = fit_maddness(self, Z, self.random_weights_, sample_weight)
        return self

    def _finish(self, projection):
        """``sqrt(2 / n_components) * cos(projection + b)``, in place."""
        projection += self.random_offset_
        np.cos(projection, projection)
        projection *= (2.0 / self._n_features_out) ** 0.5
        return projection

    @property
    def _n_features_out(self):
        # The fitted width, not n_components, which set_params may change.
        return self.random_weights_.shape[1]


@estimator_dataclass(kw_only=True)
class _RBFSamplerParams:
    """RBFSampler's parameters (see DropInTransformer)."""

    gamma: float | str = 1.0
    n_components: int = 100
    random_state: int | np.random.RandomState | None = None


@fill_docstring
@estimator_dataclass
class MaddnessRBFSampler(_BaseMaddnessFourierSampler, _RBFSamplerParams):
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

    {feature_attributes}

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

    _parameter_constraints = drop_in_constraints(RBFSampler)

    _sklearn_transformer = RBFSampler


@estimator_dataclass(kw_only=True)
class _SkewedChi2SamplerParams:
    """SkewedChi2Sampler's parameters (see DropInTransformer)."""

    skewedness: float = 1.0
    n_components: int = 100
    random_state: int | np.random.RandomState | None = None


@fill_docstring
@estimator_dataclass
class MaddnessSkewedChi2Sampler(_BaseMaddnessFourierSampler, _SkewedChi2SamplerParams):
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

    {feature_attributes}

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

    _parameter_constraints = drop_in_constraints(SkewedChi2Sampler)

    _sklearn_transformer = SkewedChi2Sampler

    def _resolve_params(self):
        self._skewedness = float(self.skewedness)

    def _product_input(self, X):
        # Checked at fit too (SkewedChi2Sampler checks at transform only),
        # because MADDNESS learns on the logarithms.
        if (X <= -self._skewedness).any():
            raise ValueError("X may not contain entries smaller than -skewedness.")
        return np.log(X + X.dtype.type(self._skewedness))
