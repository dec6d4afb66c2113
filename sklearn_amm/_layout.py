"""Memory layout shared by the encode and scan kernels.

The scan kernels look up 32 rows at a time in 16-entry byte tables, two
codebooks per byte of code. So the encoder writes codes packed that way:

* rows are grouped in blocks of 32 (the last block padded with code 0);
* codebooks are padded, with all-zero tables, to the layout of the averaging
  tree (groups of 16, the last group to the next power of two, see
  :func:`averaging_groups`), then to an even count;
* byte ``packed[block, j, row]`` holds codebook ``2j`` in its low nibble and
  codebook ``2j + 1`` in its high nibble, for row ``32 * block + row``.

A zero table makes a padded codebook add nothing to a sum, and it is the
padding the averaging tree's definition already assumes. The averaging
groups also set the bias of the trees' estimate (:func:`averaging_bias`),
which the de-quantization removes.
"""

import operator

import numpy as np

# The kernels' block of rows (layout.h), and the codebooks averaged together
# in uint8 before their averages are added in a wider integer (scan.h): the
# authors' choice, which keeps the rounding noise of the averaging tree
# bounded while letting one 8-bit register hold a group. Both are defined
# once, in the C the kernels are compiled from.
from ._kernels._scan import GROUP_SIZE, ROWS_PER_BLOCK


def averaging_groups(n_codebooks):
    """Sizes of the groups of consecutive codebooks averaged together in uint8.

    Groups hold :data:`GROUP_SIZE` codebooks, the last one the remainder. A
    group of ``g`` codebooks is averaged by a binary tree of width
    ``2**ceil(log2(g))``, padded with codebooks whose entries are all zero.

    Parameters
    ----------
    n_codebooks : int
        Codebooks before padding, at least 1.

    Returns
    -------
    sizes : list of int
        Codebooks of each group.
    widths : list of int
        The padded tree width of each group (a power of two).
    """
    # A Python int: NumPy integers (e.g. from np.arange) lack bit_length.
    n_codebooks = operator.index(n_codebooks)
    sizes = [
        min(GROUP_SIZE, n_codebooks - start)
        for start in range(0, n_codebooks, GROUP_SIZE)
    ]
    widths = [1 << (size - 1).bit_length() for size in sizes]
    return sizes, widths


def averaging_bias(n_codebooks):
    """Expected excess of the averaging trees' estimate over the exact sum.

    A node at level ``l`` of an averaging tree (level 1 averages two
    entries) rounds ``(a + b + 1) >> 1`` up half the time, adding 0.5 with
    probability 1/2, i.e. 0.25 in its own units and ``0.25 * 2**l`` once
    scaled back to a sum. A node whose leaves are all zero padding never
    rounds. Summing over the nodes of every group gives the bias,
    ``C / 4 * log2(16)`` for full groups as in the paper. It is subtracted
    exactly, as a float, so no fraction is left over (the authors truncate
    it to an integer, leaving 0.5 for C = 2).

    Parameters
    ----------
    n_codebooks : int
        Codebooks before padding, grouped by :func:`averaging_groups`.

    Returns
    -------
    bias : float
        To subtract from the totals, in quantized units.
    """
    sizes, widths = averaging_groups(n_codebooks)
    # (span, count): of the nodes spanning ``span`` leaves of a group of
    # ``size``, -(-size // span) have a real codebook below them.
    nodes = (
        (span, -(-size // span))
        for size, width in zip(sizes, widths)
        for span in (1 << level for level in range(1, width.bit_length()))
    )
    return sum((0.25 * span * count for span, count in nodes), 0.0)


def n_padded_codebooks(n_codebooks):
    """Codebooks in the packed layout: the averaging layout, rounded up to even."""
    _, widths = averaging_groups(n_codebooks)
    total = GROUP_SIZE * (len(widths) - 1) + widths[-1]
    return total + total % 2


def pack_codes(codes):
    """Pack (n_samples, n_codebooks) codes into the scan layout.

    Returns
    -------
    packed : ndarray of shape (n_blocks, n_padded // 2, 32), dtype=uint8
        With ``n_blocks = ceil(n_samples / 32)`` and ``n_padded =
        n_padded_codebooks(n_codebooks)``.
    """
    n_samples, n_codebooks = codes.shape
    n_blocks = -(-n_samples // ROWS_PER_BLOCK)
    padded = np.zeros(
        (n_blocks * ROWS_PER_BLOCK, n_padded_codebooks(n_codebooks)), dtype=np.uint8
    )
    padded[:n_samples, :n_codebooks] = codes
    pairs = padded[:, 0::2] | (padded[:, 1::2] << 4)
    # The pair count is spelled out: with no rows, -1 could stand for any.
    return np.ascontiguousarray(
        pairs.reshape(n_blocks, ROWS_PER_BLOCK, pairs.shape[1]).transpose(0, 2, 1)
    )


def unpack_codes(packed, n_samples, n_codebooks):
    """Inverse of :func:`pack_codes`: the (n_samples, n_codebooks) codes."""
    pairs = packed.transpose(0, 2, 1).reshape(-1, packed.shape[1])
    codes = np.empty((pairs.shape[0], 2 * pairs.shape[1]), dtype=np.uint8)
    codes[:, 0::2] = pairs & 0x0F
    codes[:, 1::2] = pairs >> 4
    return codes[:n_samples, :n_codebooks]


def pad_tables(tables):
    """Zero-pad (n_outputs, n_codebooks, 16) uint8 tables to the packed layout."""
    n_outputs, n_codebooks, n_leaves = tables.shape
    padded = np.zeros(
        (n_outputs, n_padded_codebooks(n_codebooks), n_leaves), dtype=tables.dtype
    )
    padded[:, :n_codebooks] = tables
    return padded
