/* Encoder: the 4-bit code of every row in every codebook, written in the
 * packed layout the scan reads (sklearn_amm/_layout.py).
 *
 * Codebook c walks a binary tree of depth 4: at depth t it compares column
 * split_dims[c, t] of the row with the threshold of the node reached so far,
 *
 *     node = 0
 *     for t in 0..3:  node = 2 * node + (x[split_dims[c, t]] > thresholds[c, t, node])
 *     code = node                                   (0..15, depth 0 is the MSB)
 *
 * "Strictly greater goes right", and a NaN on either side goes left. Only
 * comparisons are involved, so every SIMD level and thread count gives the
 * same bits.
 *
 * The encoder also reports whether any value it compared (a split-column
 * value of one of its rows) was NaN or +-inf: it returns nonzero then. The
 * codes are written all the same. The values compared are exactly the
 * 4 * n_codebooks split values of each row, at every SIMD level, so the
 * report does not depend on the SIMD level, the layout or the thread count.
 * This is how transform checks its input without a pass of its own over X:
 * the values the encoder does not compare never reach the output.
 *
 * Packed layout, for rows in row blocks of 32 and codebooks in pairs:
 *     out[row_block][pair][r] = code[32 * row_block + r][2 * pair]
 *                             | code[32 * row_block + r][2 * pair + 1] << 4
 * Codebooks >= n_codebooks and rows >= n_samples get code 0.
 *
 * The C encoder allocates nothing: the memory it needs beyond X and the
 * output (a staging buffer for X that is not in F order) is scratch the
 * caller passes, of amm_encode_scratch_bytes() bytes, one per thread.
 */
#ifndef SKLEARN_AMM_ENCODE_H
#define SKLEARN_AMM_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "layout.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The 32-row block of the packed layout, defined in layout.h. */
#define AMM_ROWS_PER_ROW_BLOCK AMM_ROWS_PER_BLOCK
#define AMM_TREE_DEPTH 4
#define AMM_TREE_WIDTH 8 /* nodes at the deepest depth: thresholds' last axis */

/* One encoding problem: read-only inputs shared by all threads. */
typedef struct {
    const char *X;           /* address of X[0, 0] */
    ptrdiff_t itemsize;      /* 4 (float) or 8 (double): X and thresholds */
    ptrdiff_t row_stride;    /* bytes from X[n, d] to X[n + 1, d], any sign */
    ptrdiff_t col_stride;    /* bytes from X[n, d] to X[n, d + 1], any sign */
    ptrdiff_t n_samples;
    ptrdiff_t n_features;
    ptrdiff_t n_codebooks;
    /* (n_codebooks, 4): byte offset of X[n, split_dims[c, t]] from X[n, 0],
     * that is split_dims[c, t] times the column stride. */
    const ptrdiff_t *split_offsets;
    /* (n_codebooks, 4, 8) C-contiguous, float or double like X. */
    const void *thresholds;
    ptrdiff_t n_pairs;       /* bytes per row of a row block: >= ceil(n_codebooks / 2) */
    /* Nonzero when the columns of a row are closer together in memory than
     * the rows of a column (C order): then X is read a row at a time, using
     * all of a row's cache lines while they are loaded. Otherwise it is
     * read down the columns. */
    int by_rows;
} amm_encode_problem;

/* Bytes of scratch amm_encode_row_blocks needs, per thread, for `problem`
 * at `simd_level` (0 when X is read in place). */
size_t amm_encode_scratch_bytes(const amm_encode_problem *problem, int simd_level);

/* Packed codes of the row blocks [row_block_begin, row_block_end): writes
 * (row_block_end - row_block_begin) * n_pairs * 32 bytes to `out`, and
 * returns nonzero if a value compared was not finite. `simd_level` must be
 * one amm_cpu_supports() accepts; `scratch` holds `scratch_bytes` bytes
 * that this call alone uses (with fewer than amm_encode_scratch_bytes(),
 * the portable kernel runs, which needs none). */
int amm_encode_row_blocks(const amm_encode_problem *problem,
                          ptrdiff_t row_block_begin, ptrdiff_t row_block_end,
                          uint8_t *out, int simd_level,
                          void *scratch, size_t scratch_bytes);

/* Unpacks row blocks written by amm_encode_row_blocks: rows [0, n_rows) of
 * them go to codes[r * codes_row_stride + c] for c < n_codebooks. */
void amm_unpack_row_blocks(const uint8_t *packed, ptrdiff_t n_pairs,
                           ptrdiff_t n_rows, ptrdiff_t n_codebooks,
                           uint8_t *codes, ptrdiff_t codes_row_stride);

#ifdef __cplusplus
}
#endif

#endif /* SKLEARN_AMM_ENCODE_H */
