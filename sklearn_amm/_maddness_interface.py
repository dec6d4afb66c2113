"""What a wrapper asks of its MaddnessTransformer.

Every wrapper owns a MaddnessTransformer, ``maddness_``, fitted with its
MADDNESS parameters (see ``_maddness_params``) and the matrix whose product
it approximates (:func:`fit_maddness`). Past fit it needs two things that
``transform`` and ``fit`` do not give:

- the product of rows it has validated itself (against its own feature
  names and finiteness rules), in a dtype of its choosing and with an
  offset, such as a linear model's intercepts, folded into the
  de-quantization: ``transform`` would validate the rows again and could
  only add the offset in a second pass over its result;
- tables fitted for another objective than the product (a classifier's
  log-loss tables), possibly with split thresholds trained along with them.

These functions are the only code outside ``_maddness`` that calls the
transformer's private methods or writes its fitted attributes.
"""

from ._maddness import MaddnessTransformer
from ._maddness_params import MADDNESS_PARAMETERS
from ._tables import leaf_weights

# The wrappers validate their MADDNESS parameters as MaddnessTransformer does.
MADDNESS_PARAMETER_CONSTRAINTS = {
    name: MaddnessTransformer._parameter_constraints[name]
    for name in MADDNESS_PARAMETERS
}


def fit_maddness(wrapper, X, weights, sample_weight=None):
    """A MaddnessTransformer approximating ``X @ weights``, fitted on ``X``.

    It takes the values of ``wrapper``'s MADDNESS parameters.
    """
    params = {name: getattr(wrapper, name) for name in MADDNESS_PARAMETERS}
    return MaddnessTransformer(weights, **params).fit(X, sample_weight=sample_weight)


def approximate_product(amm, X, dtype=None, offset=None, thresholds=None):
    """Approximate ``X @ weights + offset`` for rows already validated.

    Parameters
    ----------
    amm : MaddnessTransformer
        Fitted.
    X : ndarray of shape (n_samples, n_features_in_), float32 or float64
        Rows validated by the caller (e.g. with ``validate_rows``).
    dtype : {np.float32, np.float64}, default=None
        Dtype of the result; None is X's. The scan writes float64 from
        float32 rows as cheaply as float32.
    offset : ndarray of shape (n_outputs_,), default=None
        Added to every row, within the de-quantization's shift (no pass
        over the result).
    thresholds : ndarray of shape (n_codebooks_, 4, 8), default=None
        In X's dtype, compared with X's values instead of
        ``split_thresholds_``: the thresholds of scalers folded into them
        (see ``_scaler_folding``), for raw rows. None: the fitted ones.

    Returns
    -------
    Y_hat : ndarray of shape (n_samples, n_outputs_)
        As :meth:`MaddnessTransformer.transform` returns it:
        column-major for quantized tables.
    """
    return amm._transform(X, dtype, offset, thresholds)


def replace_tables(amm, tables, split_thresholds=None, X=None, sample_weight=None):
    """Give a fitted transformer new tables, and optionally new split thresholds.

    The trees' split columns, the prototypes and the weights stay those
    learned at fit: only what the lookups read changes.

    Parameters
    ----------
    amm : MaddnessTransformer
        Fitted; changed in place.
    tables : ndarray of shape (n_outputs_, n_codebooks_, 16), dtype=float64
        Float tables, quantized here as fit quantizes its own
        (``quantize_luts`` as resolved at fit).
    split_thresholds : ndarray of shape (n_codebooks_, 4, 8), default=None
        New thresholds of the trees; None keeps them.
    X : ndarray of shape (n_samples, n_features_in_), default=None
        With ``split_thresholds``: the training rows, whose leaves under the
        new thresholds weigh the table entries in the quantization.
    sample_weight : ndarray of shape (n_samples,), default=None
        Weights of the rows of ``X``.
    """
    if split_thresholds is not None:
        # Before the tables: quantizing them reads which leaves the
        # thresholds make reachable, weighing entries by the rows reaching
        # each leaf.
        amm.split_thresholds_ = split_thresholds
        amm.leaf_weights_ = leaf_weights(amm.encode(X), sample_weight)
    amm._set_tables(tables)
