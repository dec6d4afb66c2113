/* Plain-C helpers shared by the SIMD encoders (encode_avx2.c, encode_neon.c).
 *
 * The SIMD kernels read 32 consecutive rows of a split column with vector
 * loads, so they need the rows of a column adjacent in memory (X in
 * F order). For any other X, each block of 32 rows is first "staged": its
 * values are copied into a small column-major buffer, buffer[column][row],
 * and the kernel runs on the buffer.
 */
#ifndef SKLEARN_AMM_ENCODE_STAGING_H
#define SKLEARN_AMM_ENCODE_STAGING_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"

/* Copies every split value of the 32 rows starting at `rows` into
 * buffer[split][row], in the order that follows X's memory: along each row
 * for C order, down each column otherwise. All codebooks at once: copying a
 * row's values in several passes would fetch its cache lines again. */
static inline void amm_stage_block(const amm_encode_problem *p, const char *rows,
                                   char *buffer, size_t itemsize)
{
    const ptrdiff_t n_splits = p->n_codebooks * AMM_TREE_DEPTH;
    ptrdiff_t r, k;
    if (p->by_rows) {
        for (r = 0; r < AMM_ROWS_PER_BLOCK; r++) {
            const char *row = rows + r * p->row_stride;
            for (k = 0; k < n_splits; k++) {
                memcpy(buffer + (k * AMM_ROWS_PER_BLOCK + r) * itemsize,
                       row + p->split_offsets[k], itemsize);
            }
        }
    } else {
        for (k = 0; k < n_splits; k++) {
            const char *column = rows + p->split_offsets[k];
            for (r = 0; r < AMM_ROWS_PER_BLOCK; r++) {
                memcpy(buffer + (k * AMM_ROWS_PER_BLOCK + r) * itemsize,
                       column + r * p->row_stride, itemsize);
            }
        }
    }
}

/* Scratch of a staged kernel: the buffer (32-byte aligned) and the byte
 * offsets of the split columns in it. */
typedef struct {
    void *allocation;
    char *buffer;
    ptrdiff_t *offsets;
    int transpose;
} amm_staging;

/* With `transpose`, the buffer holds every column of X (rounded up to a
 * multiple of 8, for kernels that transpose whole groups of columns) and
 * split k is column split_dims[k]; otherwise it holds the split values
 * copied by amm_stage_block, split k at row k. Returns 0 if out of memory. */
static inline int amm_staging_alloc(amm_staging *s, const amm_encode_problem *p,
                                    size_t itemsize, int transpose)
{
    const ptrdiff_t n_splits = p->n_codebooks * AMM_TREE_DEPTH;
    const ptrdiff_t column_bytes = AMM_ROWS_PER_BLOCK * (ptrdiff_t)itemsize;
    const ptrdiff_t n_columns = transpose ? (p->n_features + 7) / 8 * 8 : n_splits;
    ptrdiff_t k;
    s->transpose = transpose;
    s->allocation = malloc((size_t)(n_columns * column_bytes + 32));
    s->offsets = (ptrdiff_t *)malloc((size_t)(n_splits > 0 ? n_splits : 1) * sizeof(ptrdiff_t));
    if (s->allocation == NULL || s->offsets == NULL) {
        free(s->allocation);
        free(s->offsets);
        return 0;
    }
    s->buffer = (char *)s->allocation + (32 - (uintptr_t)s->allocation % 32) % 32;
    for (k = 0; k < n_splits; k++) {
        s->offsets[k] = (transpose ? p->split_offsets[k] / p->col_stride : k) * column_bytes;
    }
    return 1;
}

static inline void amm_staging_free(amm_staging *s)
{
    free(s->allocation);
    free(s->offsets);
}

/* Pairs past the codebooks hold code 0 in every row. */
static inline void amm_zero_padding_pairs(const amm_encode_problem *p, ptrdiff_t n_blocks,
                                          uint8_t *out)
{
    const ptrdiff_t n_coded_pairs = (p->n_codebooks + 1) / 2;
    const ptrdiff_t block_bytes = p->n_pairs * AMM_ROWS_PER_BLOCK;
    ptrdiff_t block;
    if (n_coded_pairs == p->n_pairs) {
        return;
    }
    for (block = 0; block < n_blocks; block++) {
        memset(out + block * block_bytes + n_coded_pairs * AMM_ROWS_PER_BLOCK, 0,
               (size_t)((p->n_pairs - n_coded_pairs) * AMM_ROWS_PER_BLOCK));
    }
}

#endif /* SKLEARN_AMM_ENCODE_STAGING_H */
