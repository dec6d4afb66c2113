"""Class labels from the decision values of a linear classifier."""

import numpy as np

from ._kernels._argmax import column_argmax
from ._kernels._cpu import openmp_max_threads


def labels_from_scores(classes, scores):
    """LinearClassifierMixin.predict: binary sign, else argmax."""
    if scores.ndim == 1:
        indices = (scores > 0).astype(np.intp)
    else:
        indices = row_argmax(scores)
    return classes.take(indices)


def row_argmax(scores):
    """``scores.argmax(axis=1)``, without copying column-major scores.

    The scan writes the scores column-major, and NumPy's argmax along rows
    copies such an array to row-major first: a fresh array of the output's
    size, paged in on every call. The compiled kernel reads the transposed,
    C-ordered view in place (see ``_kernels/_argmax.pyx``); it returns what
    ``argmax`` returns, first of equal maxima and NaN included.
    """
    if not scores.flags.f_contiguous or scores.dtype not in (np.float32, np.float64):
        return scores.argmax(axis=1)
    indices = np.empty(scores.shape[0], dtype=np.intp)
    column_argmax(scores.T, indices, openmp_max_threads())
    return indices
