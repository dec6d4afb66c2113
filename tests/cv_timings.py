"""Fixed timings for MaddnessClassifierCV, whose choice depends on speed.

The tests of other behaviours than the search must get the same fitted
model on a busy machine as on an idle one.
"""

import contextlib

import pytest

from sklearn_amm import _classifier_cv


@contextlib.contextmanager
def fixed_timings():
    """Each timed call takes less time than the one before: the k-th, 1 / k s.

    Within one fit the exact model is timed first (1 s in the first fit),
    then the candidates in order, so each candidate looks faster than the
    exact model and than the candidates before it: the choice is the last
    one meeting the target.
    """
    calls = iter(range(1, 1_000_000))

    def fake_seconds(function):
        function()
        return 1.0 / next(calls)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_classifier_cv, "_median_seconds", fake_seconds)
        yield
