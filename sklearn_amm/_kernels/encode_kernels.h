/* What each SIMD encoder file gives the driver (encode.c): its column
 * kernels, and optionally a faster way to stage C-order rows. Internal to
 * the encoder; see encode.h for what is computed.
 */
#ifndef SKLEARN_AMM_ENCODE_KERNELS_H
#define SKLEARN_AMM_ENCODE_KERNELS_H

#include "cpu_features.h"
#include "encode.h"

/* One run of a column kernel: the codebooks [0, n_codebooks) of full row
 * blocks. Row r of row block b has its split value k (codebook k / 4,
 * depth k % 4) at rows + b * row_block_stride + split_offsets[k]
 * + r * row_stride; the row block's codes go to out + b * out_stride, pair
 * j at byte 32 j (pairs past the codebooks are not written). */
typedef struct {
    const char *rows;
    /* Bytes between consecutive rows. The item size (F-order X, a staged
     * buffer) is read with plain vector loads; any other stride, by gathers,
     * only by kernels that have them (amm_encode_kernels.gathers). */
    ptrdiff_t row_stride;
    ptrdiff_t row_block_stride;
    ptrdiff_t n_row_blocks;
    /* NULL when the split values are staged one after another, split k at
     * k * 32 * itemsize (copied values): the kernel then addresses them with
     * constants rather than reading an offset per load. */
    const ptrdiff_t *split_offsets;
    const void *thresholds;  /* (n_codebooks, 4, 8), float or double */
    ptrdiff_t n_codebooks;
    uint8_t *out;
    ptrdiff_t out_stride;
    /* Nonzero (float kernels of ISAs with `reports_ties`, one row block
     * read through split_offsets): also report whether a value compared
     * was equal to its threshold. */
    int report_ties;
    /* Nonzero (kernels with `partial_blocks`, one row block read in place,
     * F order): only this many rows (1 to 31) of the row block lie in X;
     * the codes of the others are written but mean nothing. */
    ptrdiff_t partial_rows;
} amm_encode_columns;

/* Bit 0 of the result: a value compared may not have been finite (the
 * kernels' check is cheap and can also fire on huge finite values; the
 * driver then looks at the values). Clear: every value was finite. Bit 1
 * (only with report_ties): a value compared was equal to its threshold. */
#define AMM_ENCODE_NONFINITE 1
#define AMM_ENCODE_TIE 2
typedef int (*amm_encode_columns_fn)(const amm_encode_columns *job);

/* Copies the whole of the 32 C-order rows at `rows` (columns item-size
 * apart) to buffer[column][row]; the buffer holds n_features rounded up to
 * a multiple of 8 columns of 32 rows. */
typedef void (*amm_encode_transpose_fn)(const char *rows, ptrdiff_t row_stride,
                                        ptrdiff_t n_features, void *buffer);

/* One instruction set's encoder; every array is indexed by [itemsize == 8]. */
typedef struct {
    amm_encode_columns_fn columns[2];
    amm_encode_transpose_fn transpose[2]; /* NULL: stage by copying values */
    int gathers; /* the column kernels read any row stride within 32 bits */
    /* The float kernel honours report_ties: staged double rows can then be
     * compared as floats (encode.c explains why that is exact). */
    int reports_ties;
    /* As transpose[1], writing the doubles rounded to float; NULL: none. */
    amm_encode_transpose_fn transpose_as_float;
    /* The column kernels honour partial_rows. */
    int partial_blocks;
} amm_encode_kernels;

#if AMM_HAVE_X86_KERNELS
/* The AVX2 stagers (amm_encode_transpose_fn) of float, double and double
 * rounded to float rows, shared by the AVX2 and AVX-512 kernel sets
 * (encode_stage_avx2.c). */
void amm_stage_avx2_f32(const char *rows, ptrdiff_t row_stride, ptrdiff_t n_features,
                        void *buffer);
void amm_stage_avx2_f64(const char *rows, ptrdiff_t row_stride, ptrdiff_t n_features,
                        void *buffer);
void amm_stage_avx2_f64_as_f32(const char *rows, ptrdiff_t row_stride, ptrdiff_t n_features,
                               void *buffer);
extern const amm_encode_kernels amm_encode_avx2;
extern const amm_encode_kernels amm_encode_avx512;
#endif
#if AMM_HAVE_NEON_KERNELS
extern const amm_encode_kernels amm_encode_neon;
#endif

#endif /* SKLEARN_AMM_ENCODE_KERNELS_H */
