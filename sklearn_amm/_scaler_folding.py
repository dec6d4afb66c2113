"""Per-feature scalers before a linear model, folded into the split thresholds.

A linear wrapper given ``make_pipeline(StandardScaler(), LogisticRegression())``
learns MADDNESS on the scaled rows, as it would for the logistic regression
alone fitted on them. A tree then compares one scaled value with a
threshold ``t``: ``f(x) > t``, for ``f`` the scalers' map of that feature.
Each supported scaler's ``f`` is non-decreasing, in floating point too (a
subtraction, a division or a multiplication by a positive number, an
addition and a clip, each rounded monotonically), so ``f(x) > t`` is
``x > x*`` for ``x*`` the largest float with ``f(x*) <= t``. Predictions
compare the raw values with ``x*``: the scalers never run, and only the
split columns of the raw rows are read.

``mean + scale * t`` is ``x*`` in exact arithmetic only; in floating point it
can send a row the other way than scaling first would. ``x*`` is found here
by bisection over the floats of the input dtype, ordered as integers, with
``f`` evaluated by the fitted scalers' own ``transform``: the codes are
those of scaling first, bit for bit, for float32 and for float64 rows (each
dtype has its own ``x*``, as the scalers round differently in each).
"""

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    MaxAbsScaler,
    MinMaxScaler,
    RobustScaler,
    StandardScaler,
)
from sklearn.utils.metadata_routing import _routing_enabled

from ._encoding import encode_rows
from ._wrapper_base import positional_call, unfrozen

# Exactly these classes (not subclasses, whose transform may be anything):
# each maps every feature on its own, by a non-decreasing function.
_SCALERS = (StandardScaler, MinMaxScaler, MaxAbsScaler, RobustScaler)

# The input dtypes the wrappers read, by name, with the unsigned integers
# holding their bits.
_BITS = {"float32": np.uint32, "float64": np.uint64}


def _is_skipped(step):
    """``None`` and ``"passthrough"``: steps a pipeline leaves out."""
    return step is None or (isinstance(step, str) and step == "passthrough")


def _flat_steps(pipeline, prefix="", outermost=True):
    """``(name, step)`` of a pipeline in the order they run, nested pipelines opened.

    Names of steps in a nested pipeline are joined with ``__``, as in
    ``get_params``. Skipped steps are left out, except a skipped last step
    of the outermost pipeline, which the caller rejects.
    """
    steps = []
    last = len(pipeline.steps) - 1
    for i, (name, step) in enumerate(pipeline.steps):
        inner = unfrozen(step)
        if isinstance(inner, Pipeline):
            steps.extend(
                _flat_steps(inner, f"{prefix}{name}__", outermost and i == last)
            )
        elif not _is_skipped(step) or (outermost and i == last):
            steps.append((f"{prefix}{name}", step))
    return steps


def pipeline_parts(estimator):
    """The scalers and the final model of a wrapper's estimator.

    Parameters
    ----------
    estimator : estimator object
        The ``estimator`` of a linear wrapper, fitted or not: a model, or
        a :class:`~sklearn.pipeline.Pipeline` (possibly in a
        FrozenEstimator, possibly holding pipelines) whose steps before the
        last are supported scalers or ``"passthrough"``.

    Returns
    -------
    scalers : list of (str, estimator) or None
        The scaler steps, named and in the order they run; None when
        ``estimator`` is not a pipeline.
    head : estimator object
        The pipeline's last step, or ``estimator`` itself.

    Raises
    ------
    ValueError
        Naming the first step that is not a supported scaler, or the last
        step if it is skipped.
    """
    model = unfrozen(estimator)
    if not isinstance(model, Pipeline):
        return None, estimator
    *scalers, (head_name, head) = _flat_steps(model)
    if _is_skipped(head):
        raise ValueError(
            f"The last step {head_name!r} of the pipeline is {head!r}; it must be "
            "the linear model whose product MADDNESS approximates."
        )
    for name, step in scalers:
        if type(unfrozen(step)) not in _SCALERS:
            raise ValueError(
                f"Step {name!r} of the pipeline is a {type(unfrozen(step)).__name__}: "
                "only per-feature monotone scalers can precede the linear model, "
                "to be folded into the MADDNESS thresholds ("
                + ", ".join(cls.__name__ for cls in _SCALERS)
                + ', or "passthrough").'
            )
    return scalers, head


def pipeline_fit_params(estimator, fit_params):
    """The fit parameters of a wrapper, as its pipeline's ``fit`` takes them.

    A wrapper's ``sample_weight`` weighs its inner model's fit and the rows
    MADDNESS learns from. ``Pipeline.fit`` takes it only as
    ``<step>__sample_weight`` (unless metadata routing is enabled, which
    routes it by the steps' requests): it goes to the linear model, the
    last step, as it would to the model wrapped alone; the scalers are
    fitted unweighted.
    """
    model = unfrozen(estimator)
    if (
        not isinstance(model, Pipeline)
        or "sample_weight" not in fit_params
        or _routing_enabled()
    ):
        return fit_params
    head_name = _flat_steps(model)[-1][0]
    params = {k: v for k, v in fit_params.items() if k != "sample_weight"}
    params[f"{head_name}__sample_weight"] = fit_params["sample_weight"]
    return params


def leading_scalers(estimator):
    """The scalers a pipeline starts with, and the rest of it.

    For :class:`~sklearn_amm.MaddnessProjection`, whose transformer may be
    any affine map, a pipeline of several affine steps included: only the
    run of supported scalers (and ``"passthrough"``) at the start of the
    pipeline is folded into the thresholds; the rest is the transformer
    whose map is read.

    Parameters
    ----------
    estimator : estimator object
        A transformer, or a :class:`~sklearn.pipeline.Pipeline` (possibly in
        a FrozenEstimator), fitted or not.

    Returns
    -------
    scalers : list of (str, estimator) or None
        The leading scaler steps; None when ``estimator`` is not a pipeline
        starting with a scaler followed by another step.
    head : estimator object
        The step after them, or the pipeline of the steps after them; the
        whole ``estimator`` when ``scalers`` is None.
    """
    model = unfrozen(estimator)
    if not isinstance(model, Pipeline):
        return None, estimator
    scalers, first = [], 0
    for i, (name, step) in enumerate(model.steps[:-1]):
        if type(unfrozen(step)) in _SCALERS:
            scalers.append((name, step))
            first = i + 1
        elif not _is_skipped(step):
            break
    if not scalers:
        return None, estimator
    rest = model[first:]
    return scalers, rest.steps[0][1] if len(rest.steps) == 1 else rest


def _scale_and_offsets(scaler):
    """The per-feature scale and offsets the scaler's transform applies.

    ``None`` for what its options leave out (``with_std=False``, ...).
    """
    if isinstance(scaler, StandardScaler):
        return (
            scaler.scale_ if scaler.with_std else None,
            (scaler.mean_ if scaler.with_mean else None,),
        )
    if isinstance(scaler, RobustScaler):
        return (
            scaler.scale_ if scaler.with_scaling else None,
            (scaler.center_ if scaler.with_centering else None,),
        )
    if isinstance(scaler, MinMaxScaler):
        return scaler.scale_, (scaler.min_,)
    return scaler.scale_, ()  # MaxAbsScaler


def check_scalers(scalers, n_features):
    """Raise, naming the step, unless each fitted scaler is increasing per feature.

    A fitted scaler's scales are positive, but one given already fitted
    (FrozenEstimator) may hold anything: a zero or negative scale reverses
    or flattens the comparisons, and folding would be silently wrong.
    """
    for name, step in scalers:
        scaler = unfrozen(step)
        if getattr(scaler, "n_features_in_", n_features) != n_features:
            raise ValueError(
                f"Step {name!r} of the pipeline was fitted on "
                f"{scaler.n_features_in_} features, but X has {n_features} features."
            )
        scale, offsets = _scale_and_offsets(scaler)
        if scale is not None:
            scale = np.asarray(scale, dtype=np.float64)
            if not np.all(np.isfinite(scale) & (scale > 0)):
                raise ValueError(
                    f"Step {name!r} of the pipeline has a zero, negative or "
                    "non-finite scale_: its transform is not increasing in every "
                    "feature, so it cannot be folded into the MADDNESS thresholds."
                )
        for offset in offsets:
            if offset is not None and not np.all(np.isfinite(offset)):
                raise ValueError(
                    f"Step {name!r} of the pipeline has non-finite offsets; it "
                    "cannot be folded into the MADDNESS thresholds."
                )


def copies_input(scalers):
    """Whether every scaler keeps its input (``copy=True``, the default).

    One with ``copy=False`` scales the array it is given in place.
    """
    return all(getattr(unfrozen(step), "copy", True) for _, step in scalers)


def scale_rows(scalers, X):
    """The scalers' transform of ``X``, a step at a time, as the pipeline runs them.

    ``X`` itself is left as it is, even by a scaler with ``copy=False``.
    An ndarray whatever the scalers' output container (``set_output``): the
    rows MADDNESS learns from are positional.
    """
    if not copies_input(scalers):
        X = X.copy()
    for _, step in scalers:
        X = np.asarray(positional_call(step.transform, X))
    return X


def _scaled_values(scalers, probes):
    """The scalers' map of every value of ``probes``, as float64.

    A value whose scaling overflows becomes infinite (encoding such a
    scaled row would raise); between steps it is kept at the largest
    finite value of its sign (the next scaler rejects infinity), which
    keeps the map non-decreasing.
    """
    values = probes
    # Probes span the whole float range: scikit-learn's finite check sums
    # them (+max and -max make an invalid inf - inf), and the scaling may
    # overflow; neither is news.
    with np.errstate(over="ignore", invalid="ignore"):
        for i, (_, step) in enumerate(scalers):
            values = np.asarray(positional_call(step.transform, values))
            if i + 1 < len(scalers):
                largest = np.finfo(values.dtype).max
                values = np.clip(values, -largest, largest)
    return values.astype(np.float64, copy=False)


def _keys(values, bits):
    """Integers in the order of the floats ``values`` (both zeros are 0)."""
    raw = np.ascontiguousarray(values).view(bits)
    sign = bits(1) << bits(8 * raw.itemsize - 1)
    magnitude = (raw & ~sign).astype(np.int64)
    return np.where((raw & sign) != 0, -magnitude, magnitude)


def _floats(keys, dtype, bits):
    """The floats of :func:`_keys`."""
    sign = bits(1) << bits(8 * np.dtype(bits).itemsize - 1)
    raw = np.abs(keys).astype(bits)
    raw[keys < 0] |= sign
    return raw.view(dtype)


def fold_thresholds(scalers, split_dims, thresholds, n_features, dtype):
    """The thresholds on the raw features that give the codes of scaling first.

    Parameters
    ----------
    scalers : list of (str, estimator)
        The fitted scaler steps, as :func:`pipeline_parts` returns them,
        checked by :func:`check_scalers`.
    split_dims : ndarray of shape (n_codebooks, 4)
        The column of each tree level.
    thresholds : ndarray of shape (n_codebooks, 4, 8), dtype=float64
        The thresholds on the scaled features (``split_thresholds_``).
    n_features : int
        Columns of the rows.
    dtype : {"float32", "float64"}
        Dtype of the raw rows these thresholds are for.

    Returns
    -------
    folded : ndarray of shape (n_codebooks, 4, 8), dtype ``dtype``
        ``folded[c, t, node]`` is the largest finite ``x`` of ``dtype`` whose
        scaled value is not greater than ``thresholds[c, t, node]``: a raw
        value ``x`` goes right exactly when ``x > folded``, for every finite
        ``x``. ``-inf`` where every finite value goes right (a threshold
        below a clipped range, ``-inf``), ``+inf`` where none does (unused
        nodes, a threshold above a clipped range).
    """
    dtype = np.dtype(dtype)
    bits = _BITS[dtype.name]
    # Non-finite thresholds (unused nodes hold +inf) need no search; no
    # value is greater than a NaN either.
    folded = np.where(thresholds < 0, -np.inf, np.inf).astype(dtype)
    finite = np.isfinite(thresholds)
    if not finite.any():
        return folded
    columns = np.broadcast_to(np.asarray(split_dims)[:, :, None], thresholds.shape)
    # One probe per threshold, in its feature's column; a column split at
    # several nodes gets one row of the probe matrix per node.
    order = np.argsort(columns[finite], kind="stable")
    column = columns[finite][order]
    target = thresholds[finite][order]
    row = np.arange(column.size) - np.searchsorted(column, column)
    probes = np.zeros((row.max() + 1, n_features), dtype=dtype)

    def goes_left(keys):
        probes[row, column] = _floats(keys, dtype, bits)
        # A copy each time: a scaler with copy=False scales in place.
        return _scaled_values(scalers, probes.copy())[row, column] <= target

    low = np.full(column.size, _keys(np.array(-np.finfo(dtype).max, dtype), bits))
    high = -low
    all_right = ~goes_left(low)
    all_left = goes_left(high)
    # Invariant, for the other thresholds: ``low`` goes left and ``high``
    # right. Each step halves the interval; the floats of a dtype of b bits
    # take fewer than 2 ** b keys, so b steps leave adjacent keys.
    # ``(low >> 1) + (high >> 1) + (low & high & 1)`` is the floor of the
    # mean without the overflow of ``low + high`` in int64.
    for _ in range(8 * dtype.itemsize):
        middle = (low >> 1) + (high >> 1) + (low & high & 1)
        left = goes_left(middle)
        low = np.where(left, middle, low)
        high = np.where(left, high, middle)
    found = _floats(low, dtype, bits)
    found[all_right] = -np.inf
    found[all_left] = np.inf
    in_place = np.empty_like(found)
    in_place[order] = found
    folded[finite] = in_place
    return folded


def folded_threshold_sets(scalers, split_dims, thresholds, n_features):
    """:func:`fold_thresholds` for each input dtype, keyed by its name."""
    return {
        name: fold_thresholds(scalers, split_dims, thresholds, n_features, name)
        for name in _BITS
    }


def fold_fitted_thresholds(scalers, amm, X, X_head):
    """:func:`folded_threshold_sets` of a fitted transformer, checked on its rows.

    Parameters
    ----------
    scalers : list of (str, estimator)
        The fitted scaler steps, checked by :func:`check_scalers`.
    amm : MaddnessTransformer
        Fitted on ``X_head``, with its final thresholds.
    X : ndarray of shape (n_samples, n_features)
        The raw training rows.
    X_head : ndarray of shape (n_samples, n_features)
        ``X`` scaled.

    Returns
    -------
    folded : dict
        ``{"float32": ..., "float64": ...}``.

    Raises
    ------
    ValueError
        If the folded thresholds do not give the training rows the codes of
        their scaled values: a map that is not non-decreasing would
        otherwise go unnoticed.
    """
    folded = folded_threshold_sets(
        scalers, amm.split_dims_, amm.split_thresholds_, X.shape[1]
    )
    raw_codes = encode_rows(X, amm.split_dims_, folded[X.dtype.name])
    if not np.array_equal(raw_codes, amm.encode(X_head)):
        raise ValueError(
            "The pipeline's scalers do not map every feature by a "
            "non-decreasing function; they cannot be folded into the "
            "MADDNESS thresholds."
        )
    return folded
