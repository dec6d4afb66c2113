"""Exact scores for the rows whose approximate decision is uncertain.

A classifier's approximate scores are wrong where it matters only near a
decision boundary: a row whose two largest approximate scores are far
apart keeps its class under any small error of the product. The rows
whose top-two margin is under a threshold are scored exactly instead
(their rows gathered and multiplied with BLAS), so the loss of accuracy
can be bought back for the cost of those rows alone.

The threshold is calibrated on held-out rows, to the largest accuracy
loss the user accepts against the exact model. The loss over the held-out
rows, when the ``k`` rows of smallest margin fall back, is the weighted sum
over the other rows of ``exact correct - approximate correct``; the
threshold is the smallest margin from which on every larger fallback
meets the target, so that a lucky dip of the curve is not taken.
"""

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils import assert_all_finite


def top_two_margin(scores):
    """Distance between the largest and second-largest score of each row.

    For a binary model's 1-D scores (the score of the second class against
    zero, the first class's), the absolute score. Works a column at a
    time: the scan writes the scores column-major, and a column of the
    output is then a contiguous array, where a sort or a partition along
    rows would copy the whole output to row-major first.

    Parameters
    ----------
    scores : ndarray of shape (n_samples,) or (n_samples, n_classes)

    Returns
    -------
    margin : ndarray of shape (n_samples,)
        Non-negative; NaN where a score is NaN.
    """
    if scores.ndim == 1:
        return np.abs(scores)
    first = scores[:, 0].copy()
    second = np.full_like(first, -np.inf)
    for column in range(1, scores.shape[1]):
        values = scores[:, column]
        # The new second is the larger of the old second and the smaller
        # of the old first and the new value.
        np.maximum(second, np.minimum(first, values), out=second)
        np.maximum(first, values, out=first)
    first -= second
    return first


def falls_back(scores, threshold):
    """Which rows have a top-two margin under ``threshold`` (0: none).

    A NaN margin (a NaN score) falls back too: the exact product is then
    what the inner model would have given for that row.
    """
    if not threshold > 0:
        return np.zeros(scores.shape[0], dtype=bool)
    return ~(top_two_margin(scores) >= threshold)


def linear_scores(coef, intercept):
    """The exact scores ``rows @ coef.T + intercept``, in the rows' dtype (BLAS)."""

    def scores(rows):
        return rows @ coef.T.astype(rows.dtype, copy=False) + intercept

    return scores


def exact_rows(scores, X, threshold, exact_scores):
    """Overwrite the scores of the rows of margin under ``threshold`` by exact ones.

    Only the falling-back rows of ``X`` are read again (gathered, then
    scored by ``exact_scores``); the other rows are not touched.

    Parameters
    ----------
    scores : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Approximate scores, overwritten in place for the falling-back rows.
    X : ndarray of shape (n_samples, n_features)
        The rows the scores are of, validated.
    threshold : float
        Rows whose top-two margin is below it fall back; 0 means none.
    exact_scores : callable
        The exact model's decision values of a 2-D array of rows, e.g.
        :func:`linear_scores`.

    Returns
    -------
    rows : ndarray of dtype np.intp
        Indices of the rows that fell back.
    """
    if not threshold > 0:
        return np.empty(0, dtype=np.intp)
    rows = np.flatnonzero(falls_back(scores, threshold))
    if rows.size:
        gathered = X[rows]
        # The approximate scores read only the split columns, which the
        # encoder checked; the exact product reads every value of these rows.
        assert_all_finite(gathered, input_name="X")
        exact = np.asarray(exact_scores(gathered))
        if scores.ndim == 1:
            scores[rows] = exact.ravel()
        else:
            scores[rows] = exact
    return rows


@dataclass(frozen=True)
class Calibration:
    """A calibrated fallback threshold and what it gave on the held-out rows.

    Attributes
    ----------
    threshold : float
        Rows whose top-two margin is below it fall back (0: none).
    fraction : float
        Weighted share of the held-out rows that fell back.
    loss : float
        Accuracy lost against the exact model on the held-out rows with the
        fallback, as a fraction (0.01 is one point).
    loss_without_fallback : float
        The same with no row falling back.
    loss_bound : float
        ``loss`` plus the standard errors asked for: what met the target.
    """

    threshold: float
    fraction: float
    loss: float
    loss_without_fallback: float
    loss_bound: float


def calibrate(
    scores, approx_correct, exact_correct, max_loss, sample_weight=None,
    n_standard_errors=1.0,
):
    """The smallest fallback that keeps the held-out loss within ``max_loss``.

    The held-out loss is an estimate of the loss on new rows, off by about
    its standard error (0.1 to 0.2 points on 10,000 rows); a threshold
    chosen where the estimate just touches the target misses the target
    on new rows about half the time. So the loss must stay within
    ``max_loss`` with ``n_standard_errors`` standard errors added (the
    error of a weighted mean of the per-row differences, from the rows
    that keep their approximate class).

    Parameters
    ----------
    scores : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Approximate scores of the held-out rows.
    approx_correct, exact_correct : ndarray of shape (n_samples,), dtype bool
        Whether the approximate and the exact prediction of each row is its
        label.
    max_loss : float
        Accuracy the fallback may lose against the exact model, as a
        fraction; ``None`` calibrates nothing (no row falls back).
    sample_weight : ndarray of shape (n_samples,), default=None
    n_standard_errors : float, default=1.0
        Margin of the estimate, in its standard errors; 0 takes the estimate
        as it is.

    Returns
    -------
    calibration : Calibration
    """
    n_rows = len(approx_correct)
    weight = np.ones(n_rows) if sample_weight is None else np.asarray(sample_weight, float)
    total = weight.sum()
    margin = top_two_margin(np.asarray(scores, dtype=np.float64))
    # NaN margins sort last, but such rows always fall back (exact_rows):
    # count them as falling back first.
    margin = np.where(np.isnan(margin), -np.inf, margin)
    order = np.argsort(margin, kind="stable")
    gain = (exact_correct.astype(float) - approx_correct.astype(float))[order] * weight[order]
    # loss[k]: the k rows of smallest margin fall back, the others keep
    # their approximate class; loss[n_rows] = 0 (every row exact).
    loss = np.append(np.cumsum(gain[::-1])[::-1], 0.0) / total
    loss_without = float(loss[0])
    # Standard error of loss[k], a weighted sum of per-row differences in
    # {-1, 0, 1}: the square root of the sum of their squares (about the
    # number of rows the two models disagree on), over the total weight.
    squares = np.append(np.cumsum((gain**2)[::-1])[::-1], 0.0)
    bound = loss + n_standard_errors * np.sqrt(squares) / total
    if max_loss is None:
        return Calibration(0.0, 0.0, loss_without, loss_without, float(bound[0]))
    # The smallest k from which on every larger fallback meets the target.
    too_high = np.flatnonzero(bound > max_loss + 1e-12)
    k = 0 if too_high.size == 0 else int(too_high[-1]) + 1
    sorted_margin = margin[order]
    if k == 0:
        threshold = 0.0
    elif k == n_rows:
        threshold = np.inf
    else:
        # Between the last falling-back margin and the next: rows of equal
        # margin are treated alike.
        threshold = float(sorted_margin[k])
        if threshold == sorted_margin[k - 1]:
            threshold = float(np.nextafter(threshold, np.inf))
    # Rows falling back under this threshold on the held-out rows.
    falls = ~(margin >= threshold) if threshold > 0 else np.zeros(n_rows, dtype=bool)
    fraction = float(weight[falls].sum() / total)
    kept = ~falls
    differences = (exact_correct[kept].astype(float) - approx_correct[kept]) * weight[kept]
    achieved = float(differences.sum() / total)
    achieved_bound = achieved + n_standard_errors * float(
        np.sqrt((differences**2).sum()) / total
    )
    return Calibration(
        max(threshold, 0.0), fraction, achieved, loss_without, achieved_bound
    )


def held_out_rows(y, validation_fraction, random_state):
    """Indices of the learning and the held-out rows, stratified by ``y`` when possible.

    Stratifying keeps every class among the learning rows, which the
    tables fitted to the labels need; with a class too rare to be split,
    the split is plain.
    """
    indices = np.arange(len(y))
    try:
        return train_test_split(
            indices,
            test_size=validation_fraction,
            stratify=y,
            random_state=random_state,
        )
    except ValueError:
        return train_test_split(
            indices, test_size=validation_fraction, random_state=random_state
        )
