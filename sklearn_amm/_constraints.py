"""Parameter constraints that take NumPy scalars but not booleans.

scikit-learn's ``Interval(Integral, ...)`` and ``Interval(Real, ...)`` test
``isinstance(value, Integral)`` (or ``Real``): NumPy's integer and float
scalars pass, as they must (``GridSearchCV`` over ``np.arange(4, 17, 4)``
sets ``np.int64`` values), but so do ``True`` and ``False``, since ``bool``
is a subclass of ``int``. ``n_codebooks=True`` would then be taken for 1.
A boolean given for a count or a penalty is a mistake (a flag passed to the
wrong parameter), so :class:`NumberInterval` rejects it where it is
validated, with scikit-learn's usual ``InvalidParameterError``.
"""

from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval


class NumberInterval(Interval):
    """An :class:`~sklearn.utils._param_validation.Interval` that rejects booleans.

    Python's ``bool`` and NumPy's ``np.bool_`` are refused; every other
    value is checked as ``Interval`` checks it.
    """

    def is_satisfied_by(self, val):
        if isinstance(val, (bool, np.bool_)):
            return False
        return super().is_satisfied_by(val)

    def __str__(self):
        return f"{super().__str__()} (not a bool)"


def without_booleans(constraints):
    """A copy of a ``_parameter_constraints`` dict whose intervals reject booleans.

    For constraints taken from scikit-learn's estimators (e.g. the
    ``n_components`` of ``RBFSampler``), so that every numeric parameter of
    this package is validated alike.
    """
    return {
        name: [_without_boolean(constraint) for constraint in options]
        for name, options in constraints.items()
    }


def _without_boolean(constraint):
    if constraint is Integral:  # e.g. Nystroem's n_jobs: any int
        return NumberInterval(Integral, None, None, closed="neither")
    if isinstance(constraint, Interval) and not isinstance(constraint, NumberInterval):
        return NumberInterval(
            constraint.type, constraint.left, constraint.right, closed=constraint.closed
        )
    return constraint
