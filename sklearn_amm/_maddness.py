"""The MaddnessTransformer estimator: approximate ``X @ weights`` with MADDNESS."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._openmp_helpers import _openmp_effective_n_threads
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import validate_data

from ._aggregation import encode_and_aggregate_dequantized
from ._approximation import float_product, output_biases, scan_inputs
from ._constraints import NumberInterval
from ._doc_link import DocLinkMixin
from ._docstrings import fill_docstring
from ._encoding import encode_rows, thresholds_for_dtype
from ._fit_inputs import (
    check_split_search_range,
    positive_weight_rows,
    validate_weights,
)
from ._hash_tree import reachable_leaves
from ._learning import learn_codebooks
from ._maddness_params import MaddnessParams, estimator_dataclass
from ._persistence import VersionedStateMixin
from ._tables import ROUNDING_VARIANCE, build_tables, leaf_weights, quantize_tables
from ._tags import DenseFloatTransformerMixin
from ._training_checks import (
    split_column_range,
    warn_if_few_rows,
    warn_if_outside_range,
)
from ._validation import check_fitted, validate_rows


@fill_docstring
@estimator_dataclass
class MaddnessTransformer(
    VersionedStateMixin,
    DocLinkMixin,
    ClassNamePrefixFeaturesOutMixin,
    DenseFloatTransformerMixin,
    TransformerMixin,
    MaddnessParams,
    BaseEstimator,
):
    """Approximate the product ``X @ weights`` with MADDNESS.

    MADDNESS (Blalock & Guttag, 2021) replaces the multiply-adds of a matrix
    product by table lookups. At fit time it splits the input columns into
    ``n_codebooks`` contiguous blocks, learns for each block a 4-level hash
    tree (one split column per level, one threshold per node) whose 16 leaves
    each hold a prototype, and stores the product of every prototype with
    ``weights`` in a lookup table. At transform time each row is encoded by
    comparisons only and its approximate product is a sum of table entries.

    Parameters
    ----------
    weights : array-like of shape (n_features, n_outputs), default=None
        The matrix ``B`` known ahead of time. ``None`` means the identity:
        :meth:`transform` then returns the MADDNESS reconstruction of ``X``.

    {maddness_parameters}

    Attributes
    ----------
    n_codebooks_ : int
        Number of codebooks used, ``min(n_codebooks, n_features_in_)``.

    codebook_bounds_ : ndarray of shape (n_codebooks_ + 1,)
        Codebook ``c`` learns its tree on columns
        ``codebook_bounds_[c]:codebook_bounds_[c + 1]``.

    split_dims_ : ndarray of shape (n_codebooks_, 4), dtype=np.intp
        Input column compared at each level of each tree.

    split_thresholds_ : ndarray of shape (n_codebooks_, 4, 8), dtype=float64
        ``split_thresholds_[c, t, node]``: a row goes right at node ``node``
        of level ``t`` when its value is strictly greater. Level ``t`` uses
        the first ``2**t`` entries; unused and unsplittable nodes hold
        ``+inf``.

    prototypes_ : ndarray of shape (n_codebooks_, 16, n_features_in_)
        Prototype of each leaf of each codebook.

    weights_ : ndarray of shape (n_features_in_, n_outputs_) or None
        Validated copy of ``weights``; None for the identity.

    n_outputs_ : int
        Number of output columns.

    luts_ : ndarray of shape (n_outputs_, n_codebooks_, 16)
        Lookup tables, uint8 if ``quantize_luts`` else float64:
        ``luts_[m, c, k]`` approximates ``prototypes_[c, k] @ weights[:, m]``.

    lut_offsets_ : ndarray of shape (n_codebooks_,) or (n_outputs_, n_codebooks_)
        Value of a zero entry of each codebook's quantized table, per output
        if ``lut_scaling="per_output"`` (zeros if the tables are not
        quantized).

    lut_scale_ : float or ndarray of shape (n_outputs_,)
        Quantized units per unit of the tables, per output if
        ``lut_scaling="per_output"`` (1 if not quantized).

    leaf_weights_ : ndarray of shape (n_codebooks_, 16), dtype=float64
        Training rows (their summed ``sample_weight``) reaching each leaf of
        each tree. With ``lut_scaling="per_output"`` the quantization weighs
        each table entry by them: an entry read by very few training rows
        may be clipped rather than set the 8-bit step of its whole output.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    sklearn.decomposition.PCA : A linear projection that can also be used to
        approximate a product in fewer dimensions.

    References
    ----------
    D. Blalock and J. Guttag, "Multiplying Matrices Without Multiplying",
    ICML 2021, https://arxiv.org/abs/2106.10860

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_amm import MaddnessTransformer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2000, 32)) @ rng.normal(size=(32, 32))
    >>> W = rng.normal(size=(32, 4))
    >>> amm = MaddnessTransformer(W, n_codebooks=8).fit(X)
    >>> amm.transform(X[:3]).shape
    (3, 4)
    >>> bool(amm.score(X) > 0.5)
    True
    """

    _parameter_constraints = {
        "weights": ["array-like", None],
        "n_codebooks": [NumberInterval(Integral, 1, None, closed="left")],
        "optimize_prototypes": ["boolean"],
        "ridge_alpha": [NumberInterval(Real, 0, None, closed="neither")],
        "quantize_luts": ["boolean"],
        "aggregation": [StrOptions({"average", "sum"})],
        "lut_scaling": [StrOptions({"shared", "per_output"})],
        "n_candidate_dims": [NumberInterval(Integral, 1, None, closed="left")],
        "split_objective": [StrOptions({"reconstruction", "product"})],
        "n_refinement_passes": [NumberInterval(Integral, 0, None, closed="left")],
        "verbose": ["verbose"],
    }

    weights: object = None

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Learn the hash trees, prototypes and lookup tables from training rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows, representative of the rows to transform.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row in every step of the learning
            (the trees' splits, the prototypes, backfitting), with at least
            one positive. A row of integer weight ``k`` counts as ``k``
            copies of the row; a row of weight 0 is ignored. None weighs
            every row 1.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        self._resolve_params(X)
        n_features = X.shape[1]
        weights = validate_weights(self.weights, n_features)
        if sample_weight is not None:
            X, sample_weight = positive_weight_rows(X, sample_weight)

        searches_products = (
            self.split_objective == "product" or self.n_refinement_passes > 0
        )
        check_split_search_range(X, weights if searches_products else None)
        # X is read in its own dtype; every sum of the learning is float64
        # (the authors' float32 sums lose precision on large training sets).
        (
            self.codebook_bounds_,
            self.split_dims_,
            self.split_thresholds_,
            self.prototypes_,
        ) = learn_codebooks(
            X,
            weights,
            self.n_codebooks_,
            n_candidate_dims=self.n_candidate_dims,
            split_objective=self.split_objective,
            optimize_prototypes=self.optimize_prototypes,
            ridge_alpha=self.ridge_alpha,
            n_refinement_passes=self.n_refinement_passes,
            sample_weight=sample_weight,
            # As many threads as scikit-learn's OpenMP code would use, so
            # that threadpoolctl limits apply; the model is the same for any.
            n_threads=_openmp_effective_n_threads(),
            verbose=self.verbose,
        )
        prototypes = self.prototypes_

        self.weights_ = weights
        self.n_outputs_ = n_features if weights is None else weights.shape[1]
        self.leaf_weights_ = leaf_weights(
            encode_rows(X, self.split_dims_, self.split_thresholds_), sample_weight
        )
        self._set_tables(build_tables(prototypes, weights))
        self._record_training_range(X)
        return self

    def _resolve_params(self, X):
        """Fix, from the parameters and the training rows, what outlives fit.

        Everything after fit (``transform``, ``encode``, ``score``, and
        ``_set_tables`` when a wrapper refits the tables) reads these
        fitted values, never the parameters: ``set_params`` on a fitted
        estimator must not change its output, let alone pair uint8 tables
        with the float path. They are Python values, whatever NumPy scalar
        a parameter was given as (``GridSearchCV`` over ``np.arange`` sets
        ``np.int64``). Warns with
        :class:`~sklearn_amm.exceptions.FewTrainingRowsWarning` when ``X``
        has too few rows for the trees and tables.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            The validated training rows.
        """
        n_samples, n_features = X.shape
        self.n_codebooks_ = int(min(self.n_codebooks, n_features))
        self._quantize_luts = bool(self.quantize_luts)
        self._aggregation = str(self.aggregation)
        self._lut_scaling = str(self.lut_scaling)
        warn_if_few_rows(
            type(self).__name__,
            n_samples,
            self.n_codebooks_,
            bool(self.optimize_prototypes),
        )

    def _record_training_range(self, X):
        """Record the training range of the split columns, for :meth:`score`.

        Needs the fitted ``split_dims_``, so it runs at the end of fit.
        """
        self._split_column_range = split_column_range(X, self.split_dims_)

    def _set_tables(self, tables):
        """Store the float tables, quantized or not, and what transform derives.

        Parameters
        ----------
        tables : ndarray of shape (n_outputs_, n_codebooks_, 16), dtype=float64
            ``tables[m, c, leaf]``: codebook ``c``'s contribution to output
            ``m`` for rows reaching ``leaf``. Besides
            ``fit``, :class:`~sklearn_amm.MaddnessClassifier` sets tables fitted
            for its decision (``table_objective="log_loss"``) here, after
            updating ``leaf_weights_`` if it moved the thresholds.
        """
        if self._quantize_luts:
            # Empty leaves are left out of the offsets and scales: their
            # entries are never read, and an empty leaf's prototype (zero,
            # or a ridge estimate from no rows) can stretch a table's range.
            # Weighing each entry by the training rows that read it keeps a
            # leaf of one or two rows with an extreme entry (a rare value of a
            # standardized column) from setting the step of every table of
            # its output.
            self.luts_, self.lut_offsets_, self.lut_scale_ = quantize_tables(
                tables,
                per_output=self._lut_scaling == "per_output",
                reachable=reachable_leaves(self.split_thresholds_),
                leaf_counts=self.leaf_weights_,
                rounding_variance=ROUNDING_VARIANCE[self._aggregation],
            )
        else:
            if not np.isfinite(tables).all():
                raise ValueError(
                    "The lookup tables are not finite: the training data or the "
                    "weights are too large for float64 products."
                )
            self.luts_ = tables
            self.lut_offsets_ = np.zeros(self.n_codebooks_)
            self.lut_scale_ = 1.0
        self._rebuild_derived()

    def encode(self, X):
        """Codes of the rows: the leaf each row reaches in each codebook's tree.

        {rows_parameters}

        Returns
        -------
        codes : ndarray of shape (n_samples, n_codebooks_), dtype=uint8
            Values 0..15.
        """
        check_fitted(self)
        X = validate_rows(self, X)
        return encode_rows(X, self.split_dims_, self.split_thresholds_)

    def transform(self, X):
        """Approximate ``X @ weights``.

        {rows_parameters}

        Returns
        -------
        Y_hat : ndarray of shape (n_samples, n_outputs_)
            float32 for float32 input, float64 otherwise. With quantized
            tables (``quantize_luts=True``, the default) the array is
            column-major (Fortran-ordered), as the compiled scan writes it
            one output at a time; ``np.ascontiguousarray`` gives a row-major
            copy where one is needed.

        Notes
        -----
        The result depends on the fitted state only: parameters changed
        with ``set_params`` after fit take effect at the next fit.

        A row whose value in a split column lies beyond the range of the
        training rows goes the way of the most extreme training value at
        every comparison, so it reaches an extreme leaf and its
        approximation saturates at that leaf's prototype, however far out
        it lies. :meth:`score` warns when many more rows than chance
        explains are such rows; transform does not check, so as to add no
        pass over ``X``.
        """
        check_fitted(self)
        return self._transform(validate_rows(self, X))

    def _transform(self, X, dtype=None, offset=None, thresholds=None):
        """Approximate ``X @ weights`` for validated ``X``, plus ``offset``.

        Quantized tables go through the fused compiled encoder and scan,
        which writes the de-quantized (n_outputs, n_samples) result directly;
        its transpose is returned, Fortran-ordered, without a copy. Float
        tables are aggregated in NumPy a chunk of rows at a time. Either way
        the memory used beyond ``X`` and the result is bounded by a small
        constant, not proportional to the number of rows.

        ``dtype`` (default X's) is the result's: the scan writes float64
        from float32 rows as cheaply as float32. ``offset``, an
        (n_outputs_,) array such as a model's intercepts, is folded into
        the de-quantization's shift, so adding it costs no pass over the
        result. ``thresholds``, in X's dtype, replace the fitted ones: a
        wrapper that folded scalers into them encodes raw rows so.
        """
        dtype = X.dtype.type if dtype is None else np.dtype(dtype).type
        if not self._quantize_luts:
            if thresholds is None:
                thresholds = self.split_thresholds_
            return float_product(
                X, self.split_dims_, thresholds, self.luts_, dtype, offset
            )
        tables, multiplier, shift = self._scan_constants(dtype)
        if offset is not None:
            shift = shift + offset.astype(dtype, copy=False)
        Y_hat = encode_and_aggregate_dequantized(
            X,
            self.split_dims_,
            (
                self._encoder_thresholds[X.dtype.type]
                if thresholds is None
                else thresholds
            ),
            tables,
            self._aggregation == "average",
            multiplier,
            shift,
        )
        return Y_hat.T

    def _scan_constants(self, dtype):
        """Padded tables, multiplier and shift of the scan, for ``dtype`` output."""
        tables, constants = self._scan_inputs
        multiplier, shift = constants[self._aggregation][dtype]
        return tables, multiplier, shift

    # The scan's padded tables and constants, and the thresholds in each
    # input dtype: derived from the fitted arrays, so not saved with the
    # estimator (see VersionedStateMixin).
    _derived_attributes = ("_scan_inputs", "_encoder_thresholds")

    def _rebuild_derived(self):
        if hasattr(self, "luts_"):
            # None for float tables, which the scan does not read.
            self._scan_inputs = (
                scan_inputs(self.luts_, self.lut_offsets_, self.lut_scale_)
                if self._quantize_luts
                else None
            )
            # Rounding the thresholds to float32 costs several microseconds,
            # a sixth of a small transform: done once here, not per call.
            self._encoder_thresholds = {
                dtype: thresholds_for_dtype(self.split_thresholds_, dtype)
                for dtype in (np.float32, np.float64)
            }

    def _bias(self, aggregation=None):
        """Averaging bias per output, in quantized units: (n_outputs_,) array.

        For ``aggregation``, by default the fitted one.
        """
        if aggregation is None:
            aggregation = self._aggregation
        return output_biases(self.luts_, aggregation)

    def score(self, X, y=None):
        """Coefficient of determination of the approximation of ``X @ weights``.

        ``1 - ||Y - Y_hat||^2 / ||Y - mean(Y)||^2`` over all outputs together
        (scikit-learn's variance-weighted R²), where ``Y`` is the exact
        product. 1 is perfect; it can be negative. Needs no labels, so
        :class:`~sklearn.model_selection.GridSearchCV` can tune the MADDNESS
        parameters directly.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to multiply.
        y : None
            Ignored.

        Returns
        -------
        score : float

        Warns
        -----
        OutsideTrainingRangeWarning
            If several times more rows than chance explains hold values
            beyond the range of the training rows in a column the trees
            split on: such rows reach the extreme leaves, where the
            approximation saturates (see :meth:`transform`).
        """
        check_fitted(self)
        # The exact product reads every value of X, so all must be finite.
        X = validate_rows(self, X, check_finite=True)
        warn_if_outside_range(X, *self._split_column_range)
        approx = self._transform(X)
        X = np.asarray(X, dtype=np.float64)
        exact = X if self.weights_ is None else X @ self.weights_
        residual = ((exact - approx) ** 2).sum()
        total = ((exact - exact.mean(axis=0)) ** 2).sum()
        if total == 0:
            return 1.0 if residual == 0 else 0.0
        return float(1.0 - residual / total)

    @property
    def _n_features_out(self):
        return self.n_outputs_
