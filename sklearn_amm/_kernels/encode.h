/* Encoder: the 4-bit code of every row in every codebook, written in the
 * packed layout the scan reads (sklearn_amm/_layout.py).
 *
 * Codebook c walks a 4-level binary tree: at level t it compares column
 * split_dims[c, t] of the row with the threshold of the node reached so far,
 *
 *     node = 0
 *     for t in 0..3:  node = 2 * node + (x[split_dims[c, t]] > thresholds[c, t, node])
 *     code = node                                   (0..15, level 0 is the MSB)
 *
 * "Strictly greater goes right", and a NaN on either side goes left. Only
 * comparisons are involved, so every level and thread count gives the same
 * bits.
 *
 * Every kernel also reports whether any value it compared (a split-column
 * value of one of its rows) was NaN or +-inf: it returns nonzero then. The
 * codes are written all the same. The values compared are exactly the
 * 4 * n_codebooks split values of each row, at every level, so the report
 * does not depend on the level, the layout or the thread count. This is how
 * transform checks its input without a pass of its own over X: the values
 * the encoder does not compare never reach the output.
 *
 * Packed layout, for rows in blocks of 32 and codebooks in pairs:
 *     out[block][pair][r] = code[32 * block + r][2 * pair]
 *                         | code[32 * block + r][2 * pair + 1] << 4
 * Codebooks >= n_codebooks and rows >= n_samples get code 0.
 */
#ifndef SKLEARN_AMM_ENCODE_H
#define SKLEARN_AMM_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "cpu_features.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AMM_ROWS_PER_BLOCK 32
#define AMM_TREE_DEPTH 4
#define AMM_TREE_WIDTH 8 /* nodes of the deepest level: thresholds' last axis */

/* One encoding problem: read-only inputs shared by all threads. */
typedef struct {
    const char *X;           /* address of X[0, 0] */
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
    ptrdiff_t n_pairs;       /* bytes per row of a block: >= ceil(n_codebooks / 2) */
    /* Nonzero when the columns of a row are closer together in memory than
     * the rows of a column (C order): then the kernels read X a row at a
     * time, using all of a row's cache lines while they are loaded.
     * Otherwise they read it down the columns. */
    int by_rows;
} amm_encode_problem;

/* Packed codes of the row blocks [block_begin, block_end): writes
 * (block_end - block_begin) * n_pairs * 32 bytes to `out`, and returns
 * nonzero if a value compared was not finite. `level` must be
 * one amm_cpu_supports() accepts; levels without an encoder of their own
 * run the scalar one (the encoder has no SSSE3 kernel: its AVX2 kernel
 * leans on 8-lane permutes and blends that SSSE3 lacks). */
int amm_encode_blocks_f32(const amm_encode_problem *problem,
                          ptrdiff_t block_begin, ptrdiff_t block_end,
                          uint8_t *out, int level);
int amm_encode_blocks_f64(const amm_encode_problem *problem,
                          ptrdiff_t block_begin, ptrdiff_t block_end,
                          uint8_t *out, int level);

/* Unpacks blocks written by amm_encode_blocks_*: rows [0, n_rows) of them go
 * to codes[r * codes_row_stride + c] for c < n_codebooks. */
void amm_unpack_blocks(const uint8_t *packed, ptrdiff_t n_pairs,
                       ptrdiff_t n_rows, ptrdiff_t n_codebooks,
                       uint8_t *codes, ptrdiff_t codes_row_stride);

/* Implementations of one level (internal; called by the functions above). */
int amm_encode_scalar_f32(const amm_encode_problem *problem,
                          ptrdiff_t block_begin, ptrdiff_t block_end,
                          uint8_t *out);
int amm_encode_scalar_f64(const amm_encode_problem *problem,
                          ptrdiff_t block_begin, ptrdiff_t block_end,
                          uint8_t *out);
#if AMM_HAVE_X86_KERNELS
/* Full blocks only: every row of [block_begin, block_end) must exist. */
int amm_encode_avx2_f32(const amm_encode_problem *problem,
                        ptrdiff_t block_begin, ptrdiff_t block_end,
                        uint8_t *out);
int amm_encode_avx2_f64(const amm_encode_problem *problem,
                        ptrdiff_t block_begin, ptrdiff_t block_end,
                        uint8_t *out);
int amm_encode_avx512_f32(const amm_encode_problem *problem,
                          ptrdiff_t block_begin, ptrdiff_t block_end,
                          uint8_t *out);
int amm_encode_avx512_f64(const amm_encode_problem *problem,
                          ptrdiff_t block_begin, ptrdiff_t block_end,
                          uint8_t *out);
#endif
#if AMM_HAVE_NEON_KERNELS
int amm_encode_neon_f32(const amm_encode_problem *problem,
                        ptrdiff_t block_begin, ptrdiff_t block_end,
                        uint8_t *out);
int amm_encode_neon_f64(const amm_encode_problem *problem,
                        ptrdiff_t block_begin, ptrdiff_t block_end,
                        uint8_t *out);
#endif

#ifdef __cplusplus
}
#endif

#endif /* SKLEARN_AMM_ENCODE_H */
