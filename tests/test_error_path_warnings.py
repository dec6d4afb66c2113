"""Errors about bad input come without stray numeric warnings."""

import numpy as np
import pytest

from sklearn_amm import MaddnessTransformer


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_plus_and_minus_infinity_raise_without_a_runtime_warning(make_low_rank, dtype):
    """+inf and -inf in the split columns: the error alone, no "invalid value".

    The check that finds the culprit for the message sums the split columns,
    and +inf plus -inf is NaN, which NumPy reports with a RuntimeWarning.
    """
    X = make_low_rank(400, 8)
    amm = MaddnessTransformer(np.ones((8, 2)), n_codebooks=2).fit(X)
    bad = X[:40].astype(dtype)
    columns = np.unique(amm.split_dims_)
    bad[3, columns[0]] = np.inf
    bad[5, columns[-1]] = -np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        amm.transform(bad)
