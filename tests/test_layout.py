"""The packed layout's averaging groups, padding and averaging bias.

Checked against values worked out by hand and against the NumPy reference,
which computes the same groups and bias its own way.
"""

import numpy as np
import pytest

from sklearn_amm import _reference
from sklearn_amm._layout import (
    GROUP_SIZE,
    averaging_bias,
    averaging_groups,
    n_padded_codebooks,
)


def test_group_size_is_the_references():
    assert GROUP_SIZE == _reference.GROUP_SIZE == 16


@pytest.mark.parametrize(
    "n_codebooks, sizes, widths",
    [
        (1, [1], [1]),
        (2, [2], [2]),
        (3, [3], [4]),
        (5, [5], [8]),
        (16, [16], [16]),
        (17, [16, 1], [16, 1]),
        (37, [16, 16, 5], [16, 16, 8]),
        (48, [16, 16, 16], [16, 16, 16]),
    ],
)
def test_averaging_groups_by_hand(n_codebooks, sizes, widths):
    assert averaging_groups(n_codebooks) == (sizes, widths)


@pytest.mark.parametrize(
    "n_codebooks, bias",
    [
        (1, 0.0),  # a tree of one leaf rounds nothing
        (2, 0.5),  # one node of level 1: 0.25 * 2
        (3, 2.0),  # two real nodes of level 1, one of level 2: 0.5 + 0.5 + 1
        (4, 2.0),
        (16, 16.0),  # C / 4 * log2(16), as in the paper
        (17, 16.0),  # the 17th codebook is a tree of its own
        (18, 16.5),
    ],
)
def test_averaging_bias_by_hand(n_codebooks, bias):
    assert averaging_bias(n_codebooks) == bias
    assert type(averaging_bias(n_codebooks)) is float


@pytest.mark.parametrize("n_codebooks", range(1, 100))
def test_groups_and_bias_are_the_references(n_codebooks):
    assert averaging_groups(n_codebooks) == _reference.averaging_groups(n_codebooks)
    assert averaging_bias(n_codebooks) == _reference.averaging_bias(n_codebooks)
    # Python floats both: the worked example prints the reference's.
    assert type(_reference.averaging_bias(n_codebooks)) is float


def test_numpy_integers_give_python_integers():
    """GridSearchCV over np.arange sets NumPy integers."""
    sizes, widths = averaging_groups(np.int64(21))
    assert (sizes, widths) == ([16, 5], [16, 8])
    assert all(type(value) is int for value in sizes + widths)
    assert averaging_bias(np.int32(21)) == averaging_bias(21)


@pytest.mark.parametrize(
    "n_codebooks, n_padded",
    [(1, 2), (2, 2), (3, 4), (5, 8), (16, 16), (17, 18), (20, 20), (37, 40)],
)
def test_padded_codebooks_by_hand(n_codebooks, n_padded):
    """The averaging layout (the last group to a power of two), then even."""
    assert n_padded_codebooks(n_codebooks) == n_padded
