"""Lookup tables fitted for a classifier's decision rather than its product.

By default a classifier's tables reproduce ``X @ coef_.T``: each entry is a
prototype's product with the coefficients. But once the trees are learned,
the approximate decision values are a linear function of the codes' one-hot
encoding, ``G @ T + b`` (``G[n, 16 * c + code] = 1``), whatever the tables
``T`` hold. Fitting ``T`` and ``b`` by multinomial (binary: logistic)
regression of the training labels on ``G`` optimises the tables for the
decision itself: rows whose products the tables reproduce badly can still
be classified well. The encoding is unchanged, so transform costs the same.

The regression's prior is centred on the product tables, not on zero: the
penalty is ``||T - a T_product||**2 / (2 * TABLE_PRIOR_VARIANCE)`` on the
summed log loss, where the scalar ``a`` (a temperature) is fitted first,
with the intercepts, to the product's own decision values: a LinearSVC's
scores are not log-odds, and even a logistic model's approximated scores
can be over- or under-confident. The fit then starts from ``a T_product``.
With few training rows per table entry the tables stay near the product's
(a zero-centred penalty lost 1.6 points to the product tables on 5,000
Fashion-MNIST rows at C=32); with many they move to what classifies best.
The penalised loss only decreases from that start, so the training log
loss is never above that of the rescaled product tables.
"""

import warnings

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_softmax
from sklearn.exceptions import ConvergenceWarning

from ._prototypes import one_hot_codes

# Variance of the Gaussian prior on each table entry around its product
# value, in units of the decision values (logits). Chosen on Fashion-MNIST
# training rows (C in {8, 16, 32}, 5,000 to 50,000 rows): 0.1 was within
# 0.6 points of the best of {0.03, 0.1, 1} everywhere and never below the
# product tables; 1 lost to them at 5,000 rows.
TABLE_PRIOR_VARIANCE = 0.1
# L-BFGS iterations; the fits measured took 100 to 350.
TABLE_MAX_ITER = 1000


def log_loss_tables(
    codes, class_indices, n_classes, tables, intercept, sample_weight=None
):
    """Tables and intercepts minimising the penalised log loss of the decision.

    Parameters
    ----------
    codes : ndarray of shape (n_samples, n_codebooks), dtype=uint8
        The training rows' codes.
    class_indices : ndarray of shape (n_samples,), dtype=np.intp
        Index of each row's label in the classifier's ``classes_``.
    n_classes : int
        At least 2.
    tables : ndarray of shape (n_outputs, n_codebooks, 16), dtype=float64
        The product tables (layout of
        :func:`~sklearn_amm._tables.build_tables`): the prior's centre and
        the starting point. ``n_outputs`` is 1 for two classes (the score
        of the second class, as scikit-learn's binary linear classifiers),
        else ``n_classes``.
    intercept : ndarray of shape (n_outputs,), dtype=float64
        The inner model's intercepts: the starting point, not penalised.
    sample_weight : ndarray of shape (n_samples,), default=None

    Returns
    -------
    tables : ndarray of shape (n_outputs, n_codebooks, 16), dtype=float64
    intercept : ndarray of shape (n_outputs,), dtype=float64
    temperature : float
        The scale ``a`` of the product tables the prior is centred on.
    """
    n_outputs = tables.shape[0]
    design = one_hot_codes(codes)
    targets = np.zeros((len(class_indices), n_classes))
    targets[np.arange(len(class_indices)), class_indices] = 1.0
    weight = np.ones(len(class_indices)) if sample_weight is None else sample_weight

    def loss_and_residual(scores):
        """Weighted summed log loss and its gradient with respect to the scores."""
        if n_outputs == 1:
            # Binary: the logistic loss is the softmax loss of scores (0, s).
            scores = np.hstack([np.zeros_like(scores), scores])
        log_proba = log_softmax(scores, axis=1)
        residual = (np.exp(log_proba) - targets) * weight[:, None]
        loss = -(weight[:, None] * targets * log_proba).sum()
        return loss, residual[:, 1:] if n_outputs == 1 else residual

    product = tables.reshape(n_outputs, -1)
    product_scores = design @ product.T

    def temperature_objective(theta):
        loss, residual = loss_and_residual(theta[0] * product_scores + theta[1:])
        gradient = [(residual * product_scores).sum()]
        return loss, np.concatenate([gradient, residual.sum(axis=0)])

    result = _minimize(temperature_objective, np.concatenate([[1.0], intercept]))
    centre = result.x[0] * product
    n_entries = centre.size

    def objective(theta):
        entries = theta[:n_entries].reshape(centre.shape)
        loss, residual = loss_and_residual(design @ entries.T + theta[n_entries:])
        deviation = entries - centre
        loss += (deviation**2).sum() / (2 * TABLE_PRIOR_VARIANCE)
        gradient_entries = (design.T @ residual).T + deviation / TABLE_PRIOR_VARIANCE
        return loss, np.concatenate([gradient_entries.ravel(), residual.sum(axis=0)])

    temperature = float(result.x[0])
    result = _minimize(objective, np.concatenate([centre.ravel(), result.x[1:]]))
    return (
        result.x[:n_entries].reshape(tables.shape).copy(),
        result.x[n_entries:].copy(),
        temperature,
    )


def _minimize(objective, start):
    """L-BFGS from ``start``; warn if it stops before converging."""
    result = minimize(
        objective, start, jac=True, method="L-BFGS-B", options={"maxiter": TABLE_MAX_ITER}
    )
    if not result.success:
        warnings.warn(
            f"The log-loss fit of the tables stopped before converging "
            f"({result.message}); they are still no worse than the product's "
            f"on the training rows.",
            ConvergenceWarning,
        )
    return result


def class_indices_of(y, classes):
    """Indices of the labels ``y`` in ``classes``; raise if any class is absent.

    The table fit needs rows of every class the inner model knows: the log
    loss alone would push a class without rows below every other, so the
    tables would never predict it.
    """
    labels, inverse = np.unique(y, return_inverse=True)
    # A dict, not searchsorted: nothing requires an estimator's classes_ sorted.
    position = {label: index for index, label in enumerate(classes.tolist())}
    unknown = [label for label in labels.tolist() if label not in position]
    if unknown:
        raise ValueError(
            f"y has labels the estimator was not fitted with, e.g. {unknown[0]!r}; "
            f"its classes_ are {classes.tolist()!r}."
        )
    indices = np.array([position[label] for label in labels.tolist()], dtype=np.intp)
    indices = indices[inverse.ravel()]
    present = np.unique(indices)
    if len(present) < len(classes):
        missing = np.setdiff1d(np.arange(len(classes)), present)
        raise ValueError(
            f"table_objective='log_loss' fits the tables on the training rows, "
            f"which must include every class of the estimator; "
            f"{len(missing)} of its {len(classes)} classes (e.g. "
            f"{classes[missing[0]]!r}) have no row in y."
        )
    return indices
