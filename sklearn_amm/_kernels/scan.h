/* Scan and aggregate: the table entries the packed codes select, combined
 * per row and output, written as integer totals or de-quantized floats.
 *
 * Inputs (layout.h, and sklearn_amm/_layout.py, have the layout contract):
 *     codes[block][j][r]   uint8, (n_blocks, P/2, 32): codebook 2j of row
 *                          32 * block + r in the low nibble, 2j + 1 in the high
 *     tables[m][c][k]      uint8, (n_outputs, P, 16), codebooks >= C all zero
 * where C = n_codebooks and P = amm_scan_n_padded(C).
 *
 * For row n and output m, with v[c] = tables[m][c][code[n][c]]:
 *     sum:      total = sum_c v[c]                              (exact)
 *     average:  codebooks in groups of 16, the last group padded with zero
 *               codebooks to a power-of-two width w (w = 1 for a single
 *               codebook); within a group adjacent entries are averaged
 *               pairwise, (a + b + 1) >> 1, up a binary tree; total = sum
 *               over groups of root * w.
 * Both are exactly _reference.aggregate_sum / aggregate_average.
 *
 * Totals never exceed 255 * P. They are accumulated in 16 bits over at most
 * 256 padded codebooks at a time (255 * 256 < 65536), then in 32 bits.
 *
 * Outputs are written as out[m * out_stride + n], n < n_samples only:
 *     AMM_OUT_UINT16, AMM_OUT_INT32     the totals (uint16 needs P <= 256)
 *     AMM_OUT_FLOAT32, AMM_OUT_FLOAT64  float(total) * multiplier[m] + shift[m],
 *                                       one rounded multiply then one rounded
 *                                       add in the output type, never fused
 *     AMM_OUT_UINT8                     average mode with one group (C <= 16)
 *                                       only: the tree root, total / width,
 *                                       as the authors' kernel writes it
 * so results are bit-identical at every SIMD level and thread count.
 */
#ifndef SKLEARN_AMM_SCAN_H
#define SKLEARN_AMM_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "cpu_features.h"
#include "layout.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AMM_SCAN_GROUP_SIZE 16
/* Padded codebooks whose totals fit in 16 bits: 255 * 256 < 65536. */
#define AMM_SCAN_MAX_U16_CODEBOOKS 256

enum amm_scan_mode { AMM_SCAN_SUM = 0, AMM_SCAN_AVERAGE = 1 };

enum amm_scan_output {
    AMM_OUT_UINT16 = 0,
    AMM_OUT_INT32 = 1,
    AMM_OUT_FLOAT32 = 2,
    AMM_OUT_FLOAT64 = 3,
    AMM_OUT_UINT8 = 4
};

/* One scan problem: read by all threads, written by none. */
typedef struct {
    const uint8_t *codes;
    const uint8_t *tables;
    ptrdiff_t n_samples;
    int n_codebooks;      /* C >= 1 */
    int n_padded;         /* P = amm_scan_n_padded(C) */
    int n_outputs;
    int mode;             /* enum amm_scan_mode */
    int output;           /* enum amm_scan_output */
    void *out;
    ptrdiff_t out_stride; /* elements from out[m, n] to out[m + 1, n] */
    /* (n_outputs,) float for AMM_OUT_FLOAT32, double for AMM_OUT_FLOAT64;
     * unused for integer outputs. */
    const void *multiplier;
    const void *shift;
} amm_scan_problem;

/* Codebooks in the packed layout: groups of 16, the last one padded to a
 * power of two, the total rounded up to even (_layout.n_padded_codebooks). */
int amm_scan_n_padded(int n_codebooks);

/* Row blocks per cache chunk: the codes of one chunk stay in L1 while every
 * tile of outputs is scanned over them. */
ptrdiff_t amm_scan_chunk_blocks(int n_padded);

/* Scans row blocks [block_begin, block_end). `level` must be one
 * amm_cpu_supports() accepts; a level without a scan kernel of its own runs
 * the best one below it. */
void amm_scan_blocks(const amm_scan_problem *problem, ptrdiff_t block_begin,
                     ptrdiff_t block_end, int level);

/* Implementations of one level (internal; amm_scan_blocks dispatches). */
void amm_scan_scalar(const amm_scan_problem *problem, ptrdiff_t block_begin,
                     ptrdiff_t block_end);
#if AMM_HAVE_X86_KERNELS
void amm_scan_ssse3(const amm_scan_problem *problem, ptrdiff_t block_begin,
                    ptrdiff_t block_end);
void amm_scan_avx2(const amm_scan_problem *problem, ptrdiff_t block_begin,
                   ptrdiff_t block_end);
void amm_scan_avx512(const amm_scan_problem *problem, ptrdiff_t block_begin,
                     ptrdiff_t block_end);
#endif

#ifdef __cplusplus
}
#endif

#endif /* SKLEARN_AMM_SCAN_H */
