"""End-to-end fine-tuning of a classifier's thresholds and tables.

MADDNESS learns its trees to reproduce a product; with
``table_objective="log_loss"`` the tables are then fitted to the labels,
but the trees never see them. Here the split thresholds, the tables and the
intercepts are trained together on the log loss of the decision; the split
columns stay fixed.

A hard tree is not differentiable in its thresholds, so training uses soft
trees: at a node with threshold ``h`` on column ``j`` a row goes right with
probability ``s = sigmoid((x[j] - h) / (tau * std[j]))``, ``std[j]`` being
the column's standard deviation on the training rows (``tau`` is in units
of the column's spread). A row's membership of each leaf is the product of
its branch probabilities, computed level by level as
``P[2n] = P[n] * (1 - s)`` and ``P[2n + 1] = P[n] * s``; the scores are
``sum_c P_c @ T_c + intercept``. As ``tau`` goes to zero the soft tree
becomes the hard one.

Soft epochs come first, ``tau`` falling geometrically; then straight-through
epochs, whose forward pass uses the hard leaves (the model that will run)
while the backward pass takes the sigmoid's derivative at the final ``tau``
as the derivative of the hard step, so the thresholds keep training and the
tables end fitted to the hard codes.
"""

import time

import numpy as np
from scipy.special import expit, log_softmax
from sklearn.utils import check_random_state

from ._hash_tree import MAX_NODES, N_LEVELS

# Adam's moment decay rates and denominator guard (Kingma & Ba's defaults).
_BETA1, _BETA2, _EPSILON = 0.9, 0.999, 1e-8
# Rows per chunk when computing the split columns' statistics.
_STATS_CHUNK_ROWS = 8192


def fine_tune(
    X, class_indices, n_classes, split_dims, thresholds, tables, intercept, *,
    sample_weight=None, n_epochs_soft=8, n_epochs_hard=4, batch_size=256,
    learning_rate_thresholds=0.05, learning_rate_tables=0.02,
    tau_start=0.3, tau_end=0.02, random_state=None, verbose=0,
):
    """Fine-tune thresholds, tables and intercepts on the decision's log loss.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), dtype float32 or float64
        Training rows, C or Fortran order; only the split columns are read,
        a minibatch at a time.
    class_indices : ndarray of shape (n_samples,), dtype=np.intp
        Index of each row's label, in ``0..n_classes - 1``.
    n_classes : int
        At least 2.
    split_dims : ndarray of shape (n_codebooks, 4), dtype=np.intp
        Column of ``X`` compared at each level of each tree (kept fixed).
    thresholds : ndarray of shape (n_codebooks, 4, 8)
        Starting thresholds. ``+inf`` (nodes not split, padding) stays.
    tables : ndarray of shape (n_outputs, n_codebooks, 16)
        Starting float tables. ``n_outputs`` is 1 for two classes (the
        score of the second class: logistic loss) or ``n_classes``.
    intercept : ndarray of shape (n_outputs,)
        Starting intercepts.
    sample_weight : ndarray of shape (n_samples,), default=None
        Non-negative weights of the rows' losses. Rows of weight zero are
        left out entirely, as if absent.
    n_epochs_soft, n_epochs_hard : int, default=8, 4
        Epochs with soft trees, then with hard trees (straight-through).
    batch_size : int, default=256
    learning_rate_thresholds : float, default=0.05
        Adam's step for the thresholds, in units of their column's std.
    learning_rate_tables : float, default=0.02
        Adam's step for the tables and intercepts, in units of the scores.
    tau_start, tau_end : float, default=0.3, 0.02
        Softness at the first and last soft step; the straight-through
        epochs use ``tau_end``.
    random_state : int, RandomState instance or None, default=None
        Shuffles the minibatches.
    verbose : int, default=0
        If positive, print each epoch's mean minibatch loss.

    Returns
    -------
    thresholds : ndarray of shape (n_codebooks, 4, 8), dtype=float64
        Hard thresholds: rows are encoded with them by comparisons.
    tables : ndarray of shape (n_outputs, n_codebooks, 16), dtype=float64
    intercept : ndarray of shape (n_outputs,), dtype=float64
    """
    split_dims = np.asarray(split_dims, dtype=np.intp)
    class_indices = np.asarray(class_indices, dtype=np.intp)
    thr0 = np.array(thresholds, dtype=np.float64)
    tables = np.array(tables, dtype=np.float64)
    intercept = np.array(intercept, dtype=np.float64)
    if not (min(n_epochs_soft, n_epochs_hard) >= 0 and batch_size >= 1
            and min(learning_rate_thresholds, learning_rate_tables) >= 0
            and 0 < tau_end <= tau_start < np.inf):
        raise ValueError("Epochs must be >= 0, batch_size >= 1, learning rates "
                         ">= 0 and 0 < tau_end <= tau_start.")
    weight = _check_inputs(X, class_indices, n_classes, split_dims, thr0, tables,
                           intercept, sample_weight)
    rows = np.flatnonzero(weight > 0)
    # Mean weight 1 over the rows used: the learning rates then mean the same
    # with or without weights.
    weight = weight / weight[rows].mean()
    trainable, scale, bounds = _offsets(
        thr0, *_split_column_stats(X, split_dims, rows, weight)
    )
    # u is clipped too, so that a threshold at a bound leaves it as soon as
    # the gradient turns (u does not drift beyond it).
    finite = np.where(trainable, thr0, 0.0)
    u_low, u_high = (np.where(trainable, b - finite, 0) / scale for b in bounds)
    u = np.zeros_like(thr0)
    params = [u, tables, intercept]
    rates = [learning_rate_thresholds, learning_rate_tables, learning_rate_tables]
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    epoch_loss, clock = 0.0, time.perf_counter()
    for step, (epoch, batch, hard, tau, decay, last) in enumerate(_schedule(
        rows, check_random_state(random_state), n_epochs_soft, n_epochs_hard,
        batch_size, tau_start, tau_end,
    )):
        loss, d_thr, d_tables, d_intercept = _loss_and_gradients(
            _split_values(X, batch, split_dims), class_indices[batch], weight[batch],
            _current(thr0, trainable, scale, u, bounds), tables, intercept,
            tau * scale[:, :, 0], trainable, hard,
        )
        for param, grad, moment, rate in zip(
            params, [d_thr * scale, d_tables, d_intercept], moments, rates
        ):
            _adam_step(param, grad, moment, rate * decay, step + 1)
        np.clip(u, u_low, u_high, out=u)
        epoch_loss += loss * len(batch)
        if verbose > 0 and last:
            print(f"fine_tune epoch {epoch + 1}/{n_epochs_soft + n_epochs_hard} "
                  f"({'hard' if hard else 'soft'}, tau={tau:.3g}): mean loss "
                  f"{epoch_loss / len(rows):.4f}, {time.perf_counter() - clock:.1f} s",
                  flush=True)
            epoch_loss = 0.0
    return _current(thr0, trainable, scale, u, bounds), tables, intercept


def _schedule(rows, rng, n_epochs_soft, n_epochs_hard, batch_size, tau_start,
              tau_end):
    """Yield ``(epoch, rows, hard, tau, learning-rate factor, last of epoch)``.

    ``tau`` falls geometrically, step by step, over the soft epochs: a wide
    sigmoid first lets a threshold feel rows far from it, a narrow one then
    brings the soft tree close to the hard one. The learning rates decay by
    a cosine over all steps: large moves early, small ones as the model
    settles. Each epoch shuffles the rows afresh.
    """
    steps_per_epoch = -(-len(rows) // batch_size)
    n_epochs = n_epochs_soft + n_epochs_hard
    n_soft_steps = n_epochs_soft * steps_per_epoch
    step = 0
    for epoch in range(n_epochs):
        hard = epoch >= n_epochs_soft
        order = rows[rng.permutation(len(rows))]
        for first in range(0, len(rows), batch_size):
            tau = tau_end if hard else tau_start * (tau_end / tau_start) ** (
                step / n_soft_steps
            )
            decay = 0.5 * (1 + np.cos(np.pi * step / (n_epochs * steps_per_epoch)))
            batch = order[first:first + batch_size]
            yield epoch, batch, hard, tau, decay, first + batch_size >= len(rows)
            step += 1


def _check_inputs(X, class_indices, n_classes, split_dims, thresholds, tables,
                  intercept, sample_weight):
    """Raise a ValueError on inconsistent inputs; return the row weights."""
    if X.ndim != 2 or X.dtype not in (np.float32, np.float64) or not X.shape[0]:
        raise ValueError("X must be a non-empty 2-D float32 or float64 array.")
    n_samples, n_codebooks = X.shape[0], split_dims.shape[0]
    if split_dims.shape != (n_codebooks, N_LEVELS) or thresholds.shape != (
        n_codebooks, N_LEVELS, MAX_NODES
    ) or not np.all((split_dims >= 0) & (split_dims < X.shape[1])):
        raise ValueError("split_dims must be (n_codebooks, 4) columns of X and "
                         "thresholds of shape (n_codebooks, 4, 8).")
    n_outputs = 1 if n_classes == 2 and tables.shape[0] == 1 else n_classes
    if n_classes < 2 or tables.shape != (n_outputs, n_codebooks, 2**N_LEVELS) \
            or intercept.shape != (n_outputs,):
        raise ValueError(
            f"With {n_classes} classes and {n_codebooks} codebooks, tables must "
            f"have shape ({n_outputs}, {n_codebooks}, 16) and intercept "
            f"({n_outputs},); got {tables.shape} and {intercept.shape}."
        )
    if class_indices.shape != (n_samples,) or not np.all(
        (class_indices >= 0) & (class_indices < n_classes)
    ):
        raise ValueError(f"class_indices must be n_samples values in "
                         f"0..{n_classes - 1}.")
    if sample_weight is None:
        return np.ones(n_samples)
    weight = np.asarray(sample_weight, dtype=np.float64)
    if weight.shape != (n_samples,) or not (
        np.all(np.isfinite(weight) & (weight >= 0)) and weight.sum() > 0
    ):
        raise ValueError("sample_weight must be n_samples finite non-negative "
                         "values, not all zero.")
    return weight


def _split_values(X, rows, split_dims):
    """``xs[b, c, t] = X[rows[b], split_dims[c, t]]`` in float64, by a gather."""
    gathered = X[rows[:, None], split_dims.ravel()[None, :]]
    return gathered.astype(np.float64).reshape(len(rows), *split_dims.shape)


def _split_column_stats(X, split_dims, rows, weight):
    """Weighted std, min and max of each split column, each (n_codebooks, 4).

    One pass over chunks of rows, so the memory used is a few megabytes.
    Sums are of deviations from the first row, in float64: shifting by a
    typical value avoids the cancellation of ``E[x**2] - E[x]**2``.
    """
    columns, inverse = np.unique(split_dims, return_inverse=True)
    shift = X[rows[0], columns].astype(np.float64)
    sums, squares = np.zeros(len(columns)), np.zeros(len(columns))
    low, high = np.full(len(columns), np.inf), np.full(len(columns), -np.inf)
    for first in range(0, len(rows), _STATS_CHUNK_ROWS):
        chunk = rows[first:first + _STATS_CHUNK_ROWS]
        values = X[chunk[:, None], columns[None, :]].astype(np.float64)
        if not np.isfinite(values).all():
            raise ValueError("X holds NaN or infinity in a split column.")
        sums += weight[chunk] @ (values - shift)
        squares += weight[chunk] @ (values - shift) ** 2
        low, high = np.minimum(low, values.min(0)), np.maximum(high, values.max(0))
    mean, total = sums / weight[rows].sum(), weight[rows].sum()
    stats = np.sqrt(np.maximum(squares / total - mean**2, 0)), low, high
    return tuple(s[inverse].reshape(split_dims.shape) for s in stats)


def _offsets(thresholds, std, low, high):
    """Which thresholds train, and the scale and bounds of their offsets ``u``.

    A threshold trains as ``thresholds + scale * u`` with ``scale`` its
    column's std, so one learning rate suits columns of any spread. It is
    kept within the column's training range (or where it started, if
    outside it). Only real (not padding), finite nodes on a column that
    varies train: moving a ``+inf`` node would open a leaf no training row
    reached, and a constant column gives no gradient. Untrained nodes are
    evaluated exactly as the encoder does.

    Returns
    -------
    trainable : ndarray of shape (n_codebooks, 4, 8), dtype=bool
    scale : ndarray of shape (n_codebooks, 4, 1)
    bounds : tuple of two ndarrays of shape (n_codebooks, 4, 8)
        Lowest and highest threshold of each node.
    """
    real = np.arange(MAX_NODES)[None, :] < 2 ** np.arange(N_LEVELS)[:, None]
    trainable = real[None] & np.isfinite(thresholds) & (std > 0)[:, :, None]
    scale = np.where(std > 0, std, 1.0)[:, :, None]
    start = np.where(trainable, thresholds, 0.0)
    bounds = np.minimum(low[:, :, None], start), np.maximum(high[:, :, None], start)
    return trainable, scale, bounds


def _current(thresholds, trainable, scale, u, bounds):
    """The thresholds at offsets ``u``, untrained nodes unchanged.

    Clipped in the thresholds' own units, so that a bound such as a
    column's minimum (common in sparse data) is reached exactly.
    """
    moved = np.clip(thresholds + scale * u, *bounds)
    return np.where(trainable, moved, thresholds)


def _loss_and_gradients(xs, class_indices, weight, thresholds, tables, intercept,
                        widths, trainable, hard):
    """Mean weighted log loss of a minibatch and its gradients.

    ``xs`` (n_rows, n_codebooks, 4) holds the split columns' values;
    ``widths`` (n_codebooks, 4) is ``tau * std`` of each level's column.
    With ``hard``, the forward pass uses the hard leaves (straight-through).
    Returns the loss and its gradients with respect to the thresholds, the
    tables and the intercepts.
    """
    n_rows, n_outputs = xs.shape[0], tables.shape[0]
    leaves, cache = _leaf_memberships(xs, thresholds, widths, trainable, hard)
    flat_leaves = leaves.reshape(n_rows, -1)
    flat_tables = tables.reshape(n_outputs, -1)
    scores = flat_leaves @ flat_tables.T + intercept
    if n_outputs == 1:
        # Binary: the logistic loss is the softmax loss of the scores (0, s).
        scores = np.hstack([np.zeros_like(scores), scores])
    # log_softmax subtracts each row's maximum: no overflow for any scores.
    log_proba = log_softmax(scores, axis=1)
    picked = np.arange(n_rows), class_indices
    loss = -(weight * log_proba[picked]).sum() / n_rows
    residual = np.exp(log_proba)
    residual[picked] -= 1
    residual *= weight[:, None] / n_rows
    if n_outputs == 1:
        residual = residual[:, 1:]
    d_leaves = (residual @ flat_tables).reshape(leaves.shape)
    d_tables = (residual.T @ flat_leaves).reshape(tables.shape)
    return loss, _threshold_gradient(d_leaves, cache), d_tables, residual.sum(axis=0)


def _leaf_memberships(xs, thresholds, widths, trainable, hard):
    """Leaf probabilities (n_rows, n_codebooks, 16) and what backprop needs."""
    n_rows, n_codebooks = xs.shape[:2]
    P = np.ones((n_rows, n_codebooks, 1))
    cache = []
    for level in range(N_LEVELS):
        n_nodes = 2**level
        threshold = thresholds[:, level, :n_nodes]
        train = trainable[:, level, :n_nodes]
        x = xs[:, :, level, None]
        exact = (x > threshold).astype(np.float64)
        width = widths[:, level, None]
        # Untrained nodes (+inf among them) get z = 0, never inf - inf;
        # expit saturates without overflow warnings for any finite z.
        soft = expit((x - np.where(train, threshold, x)) / width)
        s = np.where(train, exact if hard else soft, exact)
        # ds/dthreshold = -sigmoid'(z) / width; zero where not trained.
        slope = np.where(train, soft * (1 - soft) / width, 0.0)
        cache.append((P, s, slope))
        P = np.stack([P * (1 - s), P * s], axis=-1)
        P = P.reshape(n_rows, n_codebooks, 2 * n_nodes)
    return P, cache


def _threshold_gradient(d_leaves, cache):
    """Backpropagate dL/dP through the levels to dL/dthresholds."""
    n_rows, n_codebooks = d_leaves.shape[:2]
    gradient = np.zeros((n_codebooks, N_LEVELS, MAX_NODES))
    for level in reversed(range(N_LEVELS)):
        P, s, slope = cache[level]
        pairs = d_leaves.reshape(n_rows, n_codebooks, 2**level, 2)
        d_left, d_right = pairs[..., 0], pairs[..., 1]
        # dL/ds = P * (dL/dP_right - dL/dP_left) and ds/dthreshold = -slope.
        gradient[:, level, : 2**level] = -(P * (d_right - d_left) * slope).sum(axis=0)
        d_leaves = d_left * (1 - s) + d_right * s
    return gradient


def _adam_step(param, grad, moment, rate, step):
    """One in-place Adam update of ``param`` (bias-corrected moments)."""
    first, second = moment
    first += (1 - _BETA1) * (grad - first)
    second += (1 - _BETA2) * (grad**2 - second)
    corrected = first / (1 - _BETA1**step)
    param -= rate * corrected / (np.sqrt(second / (1 - _BETA2**step)) + _EPSILON)
