"""Memory layout shared by the encode and scan kernels.

The scan kernels look up 32 rows at a time in 16-entry byte tables, two
codebooks per byte of code. So the encoder writes codes packed that way:

* rows are grouped in blocks of 32 (the last block padded with code 0);
* codebooks are padded, with all-zero tables, to the layout of the averaging
  tree (groups of 16, the last group to the next power of two, see
  :func:`~sklearn_amm._reference.averaging_groups`), then to an even count;
* byte ``packed[block, j, row]`` holds codebook ``2j`` in its low nibble and
  codebook ``2j + 1`` in its high nibble, for row ``32 * block + row``.

A zero table makes a padded codebook add nothing to a sum, and it is the
padding the averaging tree's definition already assumes.
"""

import numpy as np

# The kernels' block of rows, defined once in their C (layout.h).
from ._kernels._scan import ROWS_PER_BLOCK
from ._reference import GROUP_SIZE, averaging_groups


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
