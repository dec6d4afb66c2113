"""Docstring fragments that several estimators share, written once.

A class docstring, or a method's, holds a placeholder line such as
``{maddness_parameters}`` where a fragment goes; :func:`fill_docstring`
replaces it, indented like the placeholder, when the class is defined.
The rendered docstrings, which Sphinx and ``help`` read, are those that
would be written out in full.
"""

import inspect


_FRAGMENTS = {
    # The MADDNESS parameters, which MaddnessTransformer and every wrapper
    # take (declared once in _maddness_params.MaddnessParams).
    "maddness_parameters": """\
n_codebooks : int, default=16
    Number of codebooks ``C``, i.e. of 4-bit codes per row. More
    codebooks are more accurate and slower. Clamped to ``n_features`` at
    fit (see ``n_codebooks_``).

optimize_prototypes : bool, default=True
    If True, refit all prototypes jointly by ridge regression
    (MADDNESS). If False, keep the mean of each leaf's training rows
    (MADDNESS-PQ), whose tables are cheaper to build.

ridge_alpha : float, default=1.0
    Ridge penalty of the prototype refit, pulling each prototype towards
    its leaf mean. Must be > 0.

quantize_luts : bool, default=True
    If True, lookup tables are uint8 with offsets and scales set by
    ``lut_scaling``, as the fast kernels need. If False, tables stay
    float64 and entries are summed exactly; ``aggregation`` and
    ``lut_scaling`` are then ignored.

aggregation : {"average", "sum"}, default="average"
    How the uint8 entries are combined. ``"average"`` averages groups of
    16 codebooks pairwise in uint8 (the paper's fast path) and removes
    the expected rounding bias; ``"sum"`` adds them exactly.

lut_scaling : {"per_output", "shared"}, default="per_output"
    How the uint8 tables are scaled. ``"per_output"``: one scale per
    output and one offset per output and codebook, so every output uses
    the full 8-bit range. ``"shared"`` (the paper): one scale for all
    outputs and one offset per codebook, so an output whose table entries
    span a narrow range is resolved in only a few of the 256 levels
    (random-feature kernels on standardized data lose most of their
    accuracy so). The kernels and their speed are the same; only the
    de-quantization constants differ.

n_candidate_dims : int, default=4
    Columns tried at each level of each hash tree: those with the largest
    within-bucket variance.

split_objective : {"product", "reconstruction"}, default="product"
    What the hash trees' splits minimise. ``"product"``: the SSE of each
    codebook's block's contribution to ``X @ weights``, so leaves group
    rows whose products are alike. ``"reconstruction"`` (the paper): the
    SSE of the block of columns itself. The same when ``weights`` is
    None.

n_refinement_passes : int, default=1
    Backfitting passes after the first fit: each relearns every tree, in
    turn, on the part of ``X @ weights`` the other codebooks leave
    unexplained, then refits the prototypes. Each pass costs about one
    more fit; the first usually lowers the error most. 0 is the paper's
    method.

verbose : int, default=0
    Progress messages of :meth:`fit`, on standard output: 1 prints a
    line per step (the trees of a pass, the prototypes) with its time, 2
    also a line per codebook. 0 prints nothing.""",
    # The fit parameters that a wrapper passes to its inner estimator.
    "inner_fit_params": """\
**fit_params : dict
    Passed to the inner estimator's ``fit`` (routed to it when
    metadata routing is enabled). A ``sample_weight`` among them also
    weighs the rows MADDNESS learns from.""",
    # The Parameters section of the methods that take only rows.
    "rows_parameters": """\
Parameters
----------
X : array-like of shape (n_samples, n_features)
    The rows, with the features seen during :term:`fit`.""",
    # The inner estimator of a wrapper, as its fit sets it.
    "inner_estimator_attribute": """\
estimator_ : estimator object
    The fitted inner estimator (the FrozenEstimator itself if one was
    given).""",
    # What the linear wrappers say of a pipeline of scalers as estimator.
    "scaler_pipeline": """\
The linear model may also be the last step of a
:class:`~sklearn.pipeline.Pipeline` whose earlier steps are
per-feature scalers: :class:`~sklearn.preprocessing.StandardScaler`,
:class:`~sklearn.preprocessing.MinMaxScaler` (``clip`` too),
:class:`~sklearn.preprocessing.MaxAbsScaler`,
:class:`~sklearn.preprocessing.RobustScaler` (any options), or
``"passthrough"``; nested pipelines of these are opened. MADDNESS is
then learned on the scaled training rows, as for the linear model
alone fitted on them, and the scalers are folded into its split
thresholds (``folded_thresholds_``): predictions compare the raw
values of the split columns with them, in the rows' own dtype and
layout, and never run the scalers, so the scalers' pass over every
value of ``X`` (and its copy) disappears. A classifier's rows that
fall back (``fallback_loss``) get the pipeline's exact decision
values. A ``sample_weight`` given to ``fit`` weighs the linear model
(the scalers are fitted unweighted) and MADDNESS, unless metadata
routing is enabled, which routes it by the steps' requests. Any other
step raises a ValueError naming it.""",
    # The thresholds of a linear wrapper's pipeline of scalers.
    "folded_thresholds_attribute": """\
folded_thresholds_ : dict or None
    With scalers in the ``estimator`` pipeline: the split thresholds
    of ``maddness_`` carried over to the raw features, one ndarray of
    shape ``(maddness_.n_codebooks_, 4, 8)`` per input dtype, under the keys
    ``"float32"`` and ``"float64"``, in that dtype. A raw row goes right
    at a node when its value is greater than the entry, exactly when
    its scaled value is greater than ``maddness_.split_thresholds_``'s:
    each entry is the largest finite float whose scaled value is not,
    found by bisection over the floats of the dtype with the fitted
    scalers' own ``transform``, so that the codes are those of scaling
    first, bit for bit. ``-inf``: every finite value goes right (a
    threshold below a clipped range); ``+inf``: none does (unused
    nodes, a threshold above a clipped range). A finite raw value whose
    scaled value would overflow to infinity, which the scaled path
    rejects as non-finite, is encoded like the largest finite values.
    ``maddness_`` itself reads scaled rows. None when there are no
    scalers to fold.""",
    # The input-feature attributes of every fitted estimator.
    "feature_attributes": """\
n_features_in_ : int
    Number of features seen during :term:`fit`.

feature_names_in_ : ndarray of shape (`n_features_in_`,)
    Names of features seen during :term:`fit`. Defined only when `X`
    has feature names that are all strings.""",
}


def _filled(docstring):
    """``docstring`` with each placeholder line replaced by its fragment.

    The fragment is indented like the placeholder line, so this works
    whether or not the interpreter strips docstring indentation (Python >=
    3.13 does).
    """
    lines = []
    for line in docstring.splitlines():
        stripped = line.strip()
        name = stripped[1:-1] if stripped[:1] + stripped[-1:] == "{}" else None
        if name in _FRAGMENTS:
            fragment = _FRAGMENTS[name]
        else:
            lines.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        lines.extend(indent + entry if entry else "" for entry in fragment.splitlines())
    return "\n".join(lines)


def fill_docstring(cls):
    """Class decorator: fill the placeholders of its docstring and its methods'.

    A line holding only ``{name}``, for a fragment ``name``, becomes that
    fragment. The methods are the functions defined in the class body
    (decorated ones included, whose wrappers carry the docstring), and
    those held by ``available_if``, whose descriptor reads the docstring
    from the function it holds, ``fn``.
    """
    if cls.__doc__ is None:  # python -OO strips docstrings
        return cls
    cls.__doc__ = _filled(cls.__doc__)
    for member in vars(cls).values():
        for function in (member, getattr(member, "fn", None)):
            if inspect.isfunction(function) and function.__doc__:
                function.__doc__ = _filled(function.__doc__)
                member.__doc__ = function.__doc__
    return cls
