"""Docstring fragments that several estimators share, written once.

A class docstring, or a method's, holds a placeholder line such as
``{maddness_parameters}`` where a fragment goes; :func:`fill_docstring`
replaces it, indented like the placeholder, when the class is defined.
The rendered docstrings, which Sphinx and ``help`` read, are those that
would be written out in full.
"""

import inspect
from functools import cache

from ._maddness_params import MADDNESS_PARAMETERS


def _parameter_docs(docstring, names):
    """Extract the numpydoc entries of ``names`` from a class docstring.

    An entry is its ``name : type`` line plus the indented lines after it.
    Entries that cannot be found get a pointer to ``MaddnessTransformer``
    rather than an error, so that a reworded docstring never breaks import.
    """
    blocks = {}
    current = None
    for line in inspect.cleandoc(docstring or "").splitlines():
        if line and not line[0].isspace():
            name = line.split(" : ")[0]
            current = name if name in names and " : " in line else None
            if current is not None:
                blocks[current] = [line]
        elif current is not None:
            blocks[current].append(line)
    entries = []
    for name in names:
        block = blocks.get(name)
        if block is None:
            block = [f"{name}", "    See :class:`~sklearn_amm.MaddnessTransformer`."]
        entries.append("\n".join(block).rstrip())
    return "\n\n".join(entries)


@cache
def _maddness_parameters():
    """The MADDNESS parameters, as MaddnessTransformer documents them."""
    # Imported at the first wrapper's definition rather than with this
    # module, because MaddnessTransformer's own methods take fragments too.
    from ._maddness import MaddnessTransformer

    return _parameter_docs(MaddnessTransformer.__doc__, MADDNESS_PARAMETERS)


_FRAGMENTS = {
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
        if name == "maddness_parameters":
            fragment = _maddness_parameters()
        elif name in _FRAGMENTS:
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
