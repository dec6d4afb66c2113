/* Encoder: the portable scalar kernel, the unpacking, and the dispatch to
 * the SIMD kernel of a level (see encode.h for what is computed). */
#include <string.h>

#include "encode.h"

#if defined(__GNUC__) || defined(__clang__)
#define AMM_ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#define AMM_ALWAYS_INLINE static inline
#endif

/* Bit 31 (float) or 63 (double) of the result is set exactly when x is NaN
 * or +-inf: adding one to the exponent field carries out of it only when it
 * is all ones. Two integer operations and no compare, so the scalar walk,
 * which makes few operations per value, does not slow down. */
AMM_ALWAYS_INLINE uint64_t nonfinite_bit_f32(float x)
{
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    return (uint64_t)((bits & 0x7F800000u) + 0x00800000u) << 32;
}

AMM_ALWAYS_INLINE uint64_t nonfinite_bit_f64(double x)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    return (bits & 0x7FF0000000000000u) + 0x0010000000000000u;
}

/* The leaf one row reaches in one codebook's tree; ORs into *seen a value
 * whose bit 63 is set if a value compared is NaN or +-inf. `is_f64` is a
 * constant in every caller, so the compiler emits one specialised copy per
 * dtype. */
AMM_ALWAYS_INLINE unsigned walk_tree(const char *row, const ptrdiff_t *offsets,
                                     const void *thresholds, int is_f64, uint64_t *seen)
{
    unsigned node = 0;
    int t;
    for (t = 0; t < AMM_TREE_DEPTH; t++) {
        int right;
        if (is_f64) {
            const double *level = (const double *)thresholds + t * AMM_TREE_WIDTH;
            const double x = *(const double *)(row + offsets[t]);
            *seen |= nonfinite_bit_f64(x);
            right = x > level[node];
        } else {
            const float *level = (const float *)thresholds + t * AMM_TREE_WIDTH;
            const float x = *(const float *)(row + offsets[t]);
            *seen |= nonfinite_bit_f32(x);
            right = x > level[node];
        }
        node = 2 * node + (unsigned)right;
    }
    return node;
}

/* Byte of the packed layout for codebooks c (low nibble) and c + 1. */
AMM_ALWAYS_INLINE uint8_t pair_code(const amm_encode_problem *p, const char *row,
                                    ptrdiff_t c, int is_f64, uint64_t *seen)
{
    const size_t tree_bytes = AMM_TREE_DEPTH * AMM_TREE_WIDTH
                              * (is_f64 ? sizeof(double) : sizeof(float));
    const char *thresholds = (const char *)p->thresholds + c * tree_bytes;
    const ptrdiff_t *offsets = p->split_offsets + c * AMM_TREE_DEPTH;
    unsigned code = walk_tree(row, offsets, thresholds, is_f64, seen);
    if (c + 1 < p->n_codebooks) {
        code |= walk_tree(row, offsets + AMM_TREE_DEPTH,
                          thresholds + tree_bytes, is_f64, seen) << 4;
    }
    return (uint8_t)code;
}

AMM_ALWAYS_INLINE int scalar_blocks(const amm_encode_problem *p,
                                    ptrdiff_t block_begin, ptrdiff_t block_end,
                                    uint8_t *out, int is_f64)
{
    uint64_t seen = 0;
    const ptrdiff_t n_coded_pairs = (p->n_codebooks + 1) / 2;
    const ptrdiff_t block_bytes = p->n_pairs * AMM_ROWS_PER_BLOCK;
    ptrdiff_t block, r, j;
    for (block = block_begin; block < block_end; block++) {
        const ptrdiff_t first_row = block * AMM_ROWS_PER_BLOCK;
        const ptrdiff_t remaining = p->n_samples - first_row;
        const ptrdiff_t n_rows = remaining < AMM_ROWS_PER_BLOCK ? remaining
                                                                : AMM_ROWS_PER_BLOCK;
        const char *rows = p->X + first_row * p->row_stride;
        uint8_t *dst = out + (block - block_begin) * block_bytes;
        if (p->by_rows) {
            for (r = 0; r < n_rows; r++) {
                const char *row = rows + r * p->row_stride;
                for (j = 0; j < n_coded_pairs; j++) {
                    dst[j * AMM_ROWS_PER_BLOCK + r] = pair_code(p, row, 2 * j, is_f64, &seen);
                }
            }
        } else {
            for (j = 0; j < n_coded_pairs; j++) {
                for (r = 0; r < n_rows; r++) {
                    dst[j * AMM_ROWS_PER_BLOCK + r] =
                        pair_code(p, rows + r * p->row_stride, 2 * j, is_f64, &seen);
                }
            }
        }
        /* Rows past the data, then pairs past the codebooks, get code 0. */
        if (n_rows < AMM_ROWS_PER_BLOCK) {
            for (j = 0; j < n_coded_pairs; j++) {
                memset(dst + j * AMM_ROWS_PER_BLOCK + n_rows, 0,
                       (size_t)(AMM_ROWS_PER_BLOCK - n_rows));
            }
        }
        memset(dst + n_coded_pairs * AMM_ROWS_PER_BLOCK, 0,
               (size_t)((p->n_pairs - n_coded_pairs) * AMM_ROWS_PER_BLOCK));
    }
    return (int)(seen >> 63);
}

int amm_encode_scalar_f32(const amm_encode_problem *p, ptrdiff_t block_begin,
                          ptrdiff_t block_end, uint8_t *out)
{
    return scalar_blocks(p, block_begin, block_end, out, 0);
}

int amm_encode_scalar_f64(const amm_encode_problem *p, ptrdiff_t block_begin,
                          ptrdiff_t block_end, uint8_t *out)
{
    return scalar_blocks(p, block_begin, block_end, out, 1);
}

#if AMM_HAVE_X86_KERNELS || AMM_HAVE_NEON_KERNELS
/* The SIMD kernels take whole blocks; the last block of X, when it is not
 * full, goes to the scalar kernel, which pads it with zero codes. */
static ptrdiff_t full_blocks_end(const amm_encode_problem *p, ptrdiff_t block_end)
{
    const ptrdiff_t n_full = p->n_samples / AMM_ROWS_PER_BLOCK;
    return block_end < n_full ? block_end : n_full;
}
#endif

int amm_encode_blocks_f32(const amm_encode_problem *p, ptrdiff_t block_begin,
                          ptrdiff_t block_end, uint8_t *out, int level)
{
    int nonfinite = 0;
#if AMM_HAVE_X86_KERNELS
    if (level == AMM_AVX2 || level == AMM_AVX512) {
        const ptrdiff_t simd_end = full_blocks_end(p, block_end);
        if (simd_end > block_begin) {
            nonfinite = level == AMM_AVX512
                            ? amm_encode_avx512_f32(p, block_begin, simd_end, out)
                            : amm_encode_avx2_f32(p, block_begin, simd_end, out);
            out += (simd_end - block_begin) * p->n_pairs * AMM_ROWS_PER_BLOCK;
            block_begin = simd_end;
        }
    }
#endif
#if AMM_HAVE_NEON_KERNELS
    if (level == AMM_NEON) {
        const ptrdiff_t simd_end = full_blocks_end(p, block_end);
        if (simd_end > block_begin) {
            nonfinite = amm_encode_neon_f32(p, block_begin, simd_end, out);
            out += (simd_end - block_begin) * p->n_pairs * AMM_ROWS_PER_BLOCK;
            block_begin = simd_end;
        }
    }
#endif
    (void)level;
    if (block_end > block_begin) {
        nonfinite |= amm_encode_scalar_f32(p, block_begin, block_end, out);
    }
    return nonfinite;
}

int amm_encode_blocks_f64(const amm_encode_problem *p, ptrdiff_t block_begin,
                          ptrdiff_t block_end, uint8_t *out, int level)
{
    int nonfinite = 0;
#if AMM_HAVE_X86_KERNELS
    if (level == AMM_AVX2 || level == AMM_AVX512) {
        const ptrdiff_t simd_end = full_blocks_end(p, block_end);
        if (simd_end > block_begin) {
            nonfinite = level == AMM_AVX512
                            ? amm_encode_avx512_f64(p, block_begin, simd_end, out)
                            : amm_encode_avx2_f64(p, block_begin, simd_end, out);
            out += (simd_end - block_begin) * p->n_pairs * AMM_ROWS_PER_BLOCK;
            block_begin = simd_end;
        }
    }
#endif
#if AMM_HAVE_NEON_KERNELS
    if (level == AMM_NEON) {
        const ptrdiff_t simd_end = full_blocks_end(p, block_end);
        if (simd_end > block_begin) {
            nonfinite = amm_encode_neon_f64(p, block_begin, simd_end, out);
            out += (simd_end - block_begin) * p->n_pairs * AMM_ROWS_PER_BLOCK;
            block_begin = simd_end;
        }
    }
#endif
    (void)level;
    if (block_end > block_begin) {
        nonfinite |= amm_encode_scalar_f64(p, block_begin, block_end, out);
    }
    return nonfinite;
}

void amm_unpack_blocks(const uint8_t *packed, ptrdiff_t n_pairs, ptrdiff_t n_rows,
                       ptrdiff_t n_codebooks, uint8_t *codes,
                       ptrdiff_t codes_row_stride)
{
    ptrdiff_t r, c;
    for (r = 0; r < n_rows; r++) {
        const uint8_t *src = packed + (r / AMM_ROWS_PER_BLOCK) * n_pairs * AMM_ROWS_PER_BLOCK
                             + r % AMM_ROWS_PER_BLOCK;
        uint8_t *dst = codes + r * codes_row_stride;
        for (c = 0; c + 1 < n_codebooks; c += 2) {
            const uint8_t pair = src[(c / 2) * AMM_ROWS_PER_BLOCK];
            dst[c] = pair & 0x0F;
            dst[c + 1] = pair >> 4;
        }
        if (c < n_codebooks) {
            dst[c] = src[(c / 2) * AMM_ROWS_PER_BLOCK] & 0x0F;
        }
    }
}
