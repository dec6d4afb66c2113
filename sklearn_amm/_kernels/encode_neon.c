/* Encoder, NEON kernels (aarch64 only; see encode.h for what is computed).
 *
 * Advanced SIMD is part of the aarch64 base instruction set, so this file
 * needs no special compiler flags. The design follows encode_avx2.c with
 * 128-bit vectors: one vector holds one codebook's state for 4 rows
 * (float32) or 2 rows (float64); X is read down its columns, 32 rows (one
 * block of the packed layout) at a time, other layouts being staged first
 * (encode_staging.h). A comparison gives all ones where x > threshold (false
 * for NaN, which goes left as in the reference), so `2 * node - mask`
 * descends one level. The threshold of each row's node is looked up with
 * TBL, which picks bytes from a table of up to 64 bytes: the node number
 * becomes the byte indices of its threshold.
 */
#include "encode.h"

#if AMM_HAVE_NEON_KERNELS

#include <arm_neon.h>

#include "encode_staging.h"

/* 32 rows whose 32-bit lanes hold one byte value each (8 vectors of 4 rows),
 * stored as 32 bytes in row order. */
static inline void store_rows(uint8_t *out, const uint32x4_t codes[8])
{
    int half;
    for (half = 0; half < 2; half++) {
        const uint32x4_t *c = codes + 4 * half;
        const uint16x8_t low = vcombine_u16(vmovn_u32(c[0]), vmovn_u32(c[1]));
        const uint16x8_t high = vcombine_u16(vmovn_u32(c[2]), vmovn_u32(c[3]));
        vst1q_u8(out + 16 * half, vcombine_u8(vmovn_u16(low), vmovn_u16(high)));
    }
}

/* ---------------------------------------------------------------- float32 */

typedef struct {
    float32x4_t level0, level1_left, level1_right;
    uint8x16_t level2;    /* 4 floats */
    uint8x16x2_t level3;  /* 8 floats */
} tree_f32;

static inline tree_f32 load_tree_f32(const float *thresholds)
{
    tree_f32 tree;
    tree.level0 = vdupq_n_f32(thresholds[0]);
    tree.level1_left = vdupq_n_f32(thresholds[AMM_TREE_WIDTH]);
    tree.level1_right = vdupq_n_f32(thresholds[AMM_TREE_WIDTH + 1]);
    tree.level2 = vreinterpretq_u8_f32(vld1q_f32(thresholds + 2 * AMM_TREE_WIDTH));
    tree.level3.val[0] = vreinterpretq_u8_f32(vld1q_f32(thresholds + 3 * AMM_TREE_WIDTH));
    tree.level3.val[1] = vreinterpretq_u8_f32(vld1q_f32(thresholds + 3 * AMM_TREE_WIDTH + 4));
    return tree;
}

/* Byte indices (4n, 4n + 1, 4n + 2, 4n + 3) of float n, per 32-bit lane. */
static inline uint8x16_t float_bytes(uint32x4_t node)
{
    return vreinterpretq_u8_u32(
        vmlaq_u32(vdupq_n_u32(0x03020100u), node, vdupq_n_u32(0x04040404u)));
}

/* Non-finite values among those compared, as in encode_avx2.c: seen
 * accumulates x * 0, which is NaN exactly for NaN and +-inf, and stays NaN;
 * one accumulator per group of rows keeps the FMA chains short. Returns x. */
static inline float32x4_t see_f32(float32x4_t *seen, float32x4_t x)
{
    *seen = vfmaq_f32(*seen, x, vdupq_n_f32(0.0f));
    return x;
}

static inline int any_nan_f32(const float32x4_t seen[4])
{
    const float32x4_t all = vaddq_f32(vaddq_f32(seen[0], seen[1]), vaddq_f32(seen[2], seen[3]));
    return vminvq_u32(vceqq_f32(all, all)) == 0;
}

/* Codes (0..15 in 32-bit lanes) of 4 rows in one codebook:
 * X[r, split t] is at rows + offsets[t] + 4 r. */
static inline uint32x4_t codes4_f32(const char *rows, const ptrdiff_t *offsets,
                                    const tree_f32 *tree, float32x4_t *seen)
{
    const uint32x4_t right0 =
        vcgtq_f32(see_f32(seen, vld1q_f32((const float *)(rows + offsets[0]))), tree->level0);
    const uint32x4_t right1 =
        vcgtq_f32(see_f32(seen, vld1q_f32((const float *)(rows + offsets[1]))),
                  vbslq_f32(right0, tree->level1_right, tree->level1_left));
    /* node = 2 b0 + b1 */
    uint32x4_t node = vsubq_u32(vandq_u32(right0, vdupq_n_u32(2)), right1);
    const float32x4_t threshold2 =
        vreinterpretq_f32_u8(vqtbl1q_u8(tree->level2, float_bytes(node)));
    const uint32x4_t right2 =
        vcgtq_f32(see_f32(seen, vld1q_f32((const float *)(rows + offsets[2]))), threshold2);
    node = vsubq_u32(vaddq_u32(node, node), right2);
    const float32x4_t threshold3 =
        vreinterpretq_f32_u8(vqtbl2q_u8(tree->level3, float_bytes(node)));
    const uint32x4_t right3 =
        vcgtq_f32(see_f32(seen, vld1q_f32((const float *)(rows + offsets[3]))), threshold3);
    return vsubq_u32(vaddq_u32(node, node), right3);
}

/* Returns 1 if a value compared was not finite. */
static inline int encode_columns_f32(const char *rows, ptrdiff_t block_stride,
                                     ptrdiff_t n_blocks, const ptrdiff_t *offsets,
                                     const float *thresholds, ptrdiff_t n_codebooks,
                                     uint8_t *out, ptrdiff_t out_stride)
{
    float32x4_t seen[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f),
                           vdupq_n_f32(0.0f)};
    ptrdiff_t c, block;
    int q;
    for (c = 0; c < n_codebooks; c += 2) {
        const int has_high = c + 1 < n_codebooks;
        const float *tree = thresholds + c * AMM_TREE_DEPTH * AMM_TREE_WIDTH;
        const tree_f32 low = load_tree_f32(tree);
        const tree_f32 high =
            has_high ? load_tree_f32(tree + AMM_TREE_DEPTH * AMM_TREE_WIDTH) : low;
        const ptrdiff_t *pair_offsets = offsets + c * AMM_TREE_DEPTH;
        for (block = 0; block < n_blocks; block++) {
            const char *block_rows = rows + block * block_stride;
            uint32x4_t codes[8];
            for (q = 0; q < 8; q++) {
                const char *rows4 = block_rows + 4 * q * (ptrdiff_t)sizeof(float);
                codes[q] = codes4_f32(rows4, pair_offsets, &low, &seen[q % 4]);
                if (has_high) {
                    codes[q] = vorrq_u32(
                        codes[q], vshlq_n_u32(codes4_f32(rows4, pair_offsets + AMM_TREE_DEPTH,
                                                         &high, &seen[q % 4]),
                                              4));
                }
            }
            store_rows(out + block * out_stride + (c / 2) * AMM_ROWS_PER_BLOCK, codes);
        }
    }
    return any_nan_f32(seen);
}

/* ---------------------------------------------------------------- float64 */

typedef struct {
    float64x2_t level0, level1_left, level1_right;
    uint8x16x2_t level2;  /* 4 doubles */
    uint8x16x4_t level3;  /* 8 doubles */
} tree_f64;

static inline tree_f64 load_tree_f64(const double *thresholds)
{
    tree_f64 tree;
    int i;
    tree.level0 = vdupq_n_f64(thresholds[0]);
    tree.level1_left = vdupq_n_f64(thresholds[AMM_TREE_WIDTH]);
    tree.level1_right = vdupq_n_f64(thresholds[AMM_TREE_WIDTH + 1]);
    for (i = 0; i < 2; i++) {
        tree.level2.val[i] =
            vreinterpretq_u8_f64(vld1q_f64(thresholds + 2 * AMM_TREE_WIDTH + 2 * i));
    }
    for (i = 0; i < 4; i++) {
        tree.level3.val[i] =
            vreinterpretq_u8_f64(vld1q_f64(thresholds + 3 * AMM_TREE_WIDTH + 2 * i));
    }
    return tree;
}

/* Byte indices (8n, ..., 8n + 7) of double n, per 64-bit lane: the low byte
 * of 8n copied to the lane's 8 bytes, plus 0..7. */
static inline uint8x16_t double_bytes(uint64x2_t node)
{
    static const uint8_t low_byte[16] = {0, 0, 0, 0, 0, 0, 0, 0, 8, 8, 8, 8, 8, 8, 8, 8};
    static const uint8_t within[16] = {0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7};
    const uint8x16_t eight_n = vreinterpretq_u8_u64(vshlq_n_u64(node, 3));
    return vaddq_u8(vqtbl1q_u8(eight_n, vld1q_u8(low_byte)), vld1q_u8(within));
}

/* As see_f32 and any_nan_f32. */
static inline float64x2_t see_f64(float64x2_t *seen, float64x2_t x)
{
    *seen = vfmaq_f64(*seen, x, vdupq_n_f64(0.0));
    return x;
}

static inline int any_nan_f64(const float64x2_t seen[4])
{
    const float64x2_t all = vaddq_f64(vaddq_f64(seen[0], seen[1]), vaddq_f64(seen[2], seen[3]));
    const uint64x2_t ordered = vceqq_f64(all, all);
    return (vgetq_lane_u64(ordered, 0) & vgetq_lane_u64(ordered, 1)) == 0;
}

/* Codes of 2 rows in one codebook, in 64-bit lanes. */
static inline uint64x2_t codes2_f64(const char *rows, const ptrdiff_t *offsets,
                                    const tree_f64 *tree, float64x2_t *seen)
{
    const uint64x2_t right0 =
        vcgtq_f64(see_f64(seen, vld1q_f64((const double *)(rows + offsets[0]))), tree->level0);
    const uint64x2_t right1 =
        vcgtq_f64(see_f64(seen, vld1q_f64((const double *)(rows + offsets[1]))),
                  vbslq_f64(right0, tree->level1_right, tree->level1_left));
    uint64x2_t node = vsubq_u64(vandq_u64(right0, vdupq_n_u64(2)), right1);
    const float64x2_t threshold2 =
        vreinterpretq_f64_u8(vqtbl2q_u8(tree->level2, double_bytes(node)));
    const uint64x2_t right2 =
        vcgtq_f64(see_f64(seen, vld1q_f64((const double *)(rows + offsets[2]))), threshold2);
    node = vsubq_u64(vaddq_u64(node, node), right2);
    const float64x2_t threshold3 =
        vreinterpretq_f64_u8(vqtbl4q_u8(tree->level3, double_bytes(node)));
    const uint64x2_t right3 =
        vcgtq_f64(see_f64(seen, vld1q_f64((const double *)(rows + offsets[3]))), threshold3);
    return vsubq_u64(vaddq_u64(node, node), right3);
}

static inline int encode_columns_f64(const char *rows, ptrdiff_t block_stride,
                                     ptrdiff_t n_blocks, const ptrdiff_t *offsets,
                                     const double *thresholds, ptrdiff_t n_codebooks,
                                     uint8_t *out, ptrdiff_t out_stride)
{
    float64x2_t seen[4] = {vdupq_n_f64(0.0), vdupq_n_f64(0.0), vdupq_n_f64(0.0),
                           vdupq_n_f64(0.0)};
    ptrdiff_t c, block;
    int q;
    for (c = 0; c < n_codebooks; c += 2) {
        const int has_high = c + 1 < n_codebooks;
        const double *tree = thresholds + c * AMM_TREE_DEPTH * AMM_TREE_WIDTH;
        const tree_f64 low = load_tree_f64(tree);
        const tree_f64 high =
            has_high ? load_tree_f64(tree + AMM_TREE_DEPTH * AMM_TREE_WIDTH) : low;
        const ptrdiff_t *pair_offsets = offsets + c * AMM_TREE_DEPTH;
        for (block = 0; block < n_blocks; block++) {
            const char *block_rows = rows + block * block_stride;
            uint32x4_t codes[8];
            for (q = 0; q < 8; q++) {
                /* Rows 4q..4q+3 as two pairs of 64-bit lanes, narrowed to 32 bits. */
                uint32x2_t halves[2];
                int h;
                for (h = 0; h < 2; h++) {
                    const char *rows2 = block_rows + (4 * q + 2 * h) * (ptrdiff_t)sizeof(double);
                    float64x2_t *group_seen = &seen[(2 * q + h) % 4];
                    uint64x2_t code = codes2_f64(rows2, pair_offsets, &low, group_seen);
                    if (has_high) {
                        code = vorrq_u64(
                            code, vshlq_n_u64(codes2_f64(rows2, pair_offsets + AMM_TREE_DEPTH,
                                                         &high, group_seen),
                                              4));
                    }
                    halves[h] = vmovn_u64(code);
                }
                codes[q] = vcombine_u32(halves[0], halves[1]);
            }
            store_rows(out + block * out_stride + (c / 2) * AMM_ROWS_PER_BLOCK, codes);
        }
    }
    return any_nan_f64(seen);
}

/* ------------------------------------------------------------ entry points */

int amm_encode_neon_f32(const amm_encode_problem *p, ptrdiff_t block_begin,
                        ptrdiff_t block_end, uint8_t *out)
{
    int nonfinite = 0;
    const ptrdiff_t n_blocks = block_end - block_begin;
    const ptrdiff_t block_bytes = p->n_pairs * AMM_ROWS_PER_BLOCK;
    const ptrdiff_t block_stride = AMM_ROWS_PER_BLOCK * p->row_stride;
    const char *rows = p->X + block_begin * block_stride;
    const float *thresholds = (const float *)p->thresholds;
    if (p->row_stride == (ptrdiff_t)sizeof(float)) {
        nonfinite = encode_columns_f32(rows, block_stride, n_blocks, p->split_offsets,
                                       thresholds, p->n_codebooks, out, block_bytes);
    } else {
        amm_staging s;
        ptrdiff_t block;
        if (!amm_staging_alloc(&s, p, sizeof(float), 0)) {
            return amm_encode_scalar_f32(p, block_begin, block_end, out);
        }
        for (block = 0; block < n_blocks; block++) {
            amm_stage_block(p, rows + block * block_stride, s.buffer, sizeof(float));
            nonfinite |= encode_columns_f32(s.buffer, 0, 1, s.offsets, thresholds,
                                            p->n_codebooks, out + block * block_bytes, 0);
        }
        amm_staging_free(&s);
    }
    amm_zero_padding_pairs(p, n_blocks, out);
    return nonfinite;
}

int amm_encode_neon_f64(const amm_encode_problem *p, ptrdiff_t block_begin,
                        ptrdiff_t block_end, uint8_t *out)
{
    int nonfinite = 0;
    const ptrdiff_t n_blocks = block_end - block_begin;
    const ptrdiff_t block_bytes = p->n_pairs * AMM_ROWS_PER_BLOCK;
    const ptrdiff_t block_stride = AMM_ROWS_PER_BLOCK * p->row_stride;
    const char *rows = p->X + block_begin * block_stride;
    const double *thresholds = (const double *)p->thresholds;
    if (p->row_stride == (ptrdiff_t)sizeof(double)) {
        nonfinite = encode_columns_f64(rows, block_stride, n_blocks, p->split_offsets,
                                       thresholds, p->n_codebooks, out, block_bytes);
    } else {
        amm_staging s;
        ptrdiff_t block;
        if (!amm_staging_alloc(&s, p, sizeof(double), 0)) {
            return amm_encode_scalar_f64(p, block_begin, block_end, out);
        }
        for (block = 0; block < n_blocks; block++) {
            amm_stage_block(p, rows + block * block_stride, s.buffer, sizeof(double));
            nonfinite |= encode_columns_f64(s.buffer, 0, 1, s.offsets, thresholds,
                                            p->n_codebooks, out + block * block_bytes, 0);
        }
        amm_staging_free(&s);
    }
    amm_zero_padding_pairs(p, n_blocks, out);
    return nonfinite;
}

#endif /* AMM_HAVE_NEON_KERNELS */
