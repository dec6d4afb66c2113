/* The packed code layout, which the encoder writes and the scan reads
 * (sklearn_amm/_layout.py is its Python reference): codes of 32 rows per
 * block, byte `block * n_pairs * 32 + 32 * j + r` holding codebook 2j of
 * row 32 * block + r in its low nibble and 2j + 1 in its high nibble. */
#ifndef SKLEARN_AMM_LAYOUT_H
#define SKLEARN_AMM_LAYOUT_H

#define AMM_ROWS_PER_BLOCK 32

#endif /* SKLEARN_AMM_LAYOUT_H */
