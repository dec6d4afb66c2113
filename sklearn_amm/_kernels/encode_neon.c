/* Encoder, NEON column kernels (aarch64 only; see encode.h for what is
 * computed, encode_simd.h for the kernel, written once for every ISA).
 *
 * Advanced SIMD is part of the aarch64 base instruction set, so this file
 * needs no special compiler flags. The design follows encode_avx2.c with
 * 128-bit vectors: one vector holds one codebook's state for 4 rows
 * (float32) or 2 rows (float64); rows not adjacent in memory are staged by
 * the driver, by copying their split values. A comparison gives all ones
 * where x > threshold (false for NaN, which goes left as in the reference),
 * so `2 * node - mask` descends one depth. The threshold of each row's node
 * is looked up with TBL, which picks bytes from a table of up to 64 bytes:
 * the node number becomes the byte indices of its threshold.
 */
#include "encode_kernels.h"

#if AMM_HAVE_NEON_KERNELS

#include <arm_neon.h>

#define ENC_INLINE static inline __attribute__((always_inline))
#define ENC_FUNCTION static

#define PASTE_(a, b) a##b
#define PASTE(a, b) PASTE_(a, b)

/* The words of either dtype: OP(vaddq) is vaddq_f32 for SUFFIX f32,
 * vaddq_f64 for f64; IOP works on the unsigned lanes of the same width
 * (ISUFFIX u32 or u64). v_u32(m) is a comparison result as 32-bit lanes. */
#define OP(op) PASTE(op, PASTE(_, SUFFIX))
#define IOP(op) PASTE(op, PASTE(_, ISUFFIX))
#define v_load(p) OP(vld1q)((const real *)(p))
#define v_gt(x, t) OP(vcgtq)((x), (t))
#define v_select(m, a, b) OP(vbslq)((m), (b), (a))
#define v_set1(x) OP(vdupq_n)(x)
#define v_fzero() OP(vdupq_n)(0)
#define v_add(a, b) OP(vaddq)((a), (b))
#define v_see(seen, x, y) ((seen) = OP(vfmaq)((seen), (x), (y)))
#define v_any_nan(x) (vminvq_u32(v_u32(OP(vceqq)((x), (x)))) == 0)
/* node = 2 b0 + b1 from the all-ones masks of b0 and b1 */
#define v_node2(m0, m1) IOP(vsubq)(IOP(vandq)((m0), IOP(vdupq_n)(2)), (m1))
#define v_descend(node, m) IOP(vsubq)(IOP(vaddq)((node), (node)), (m))
#define v_leaf(node, m) v_descend(node, m)
#define v_merge(low, high) IOP(vorrq)((low), IOP(vshlq_n)((high), 4))

/* 32 rows whose 32-bit lanes hold one byte value each (8 vectors of 4 rows),
 * stored as 32 bytes in row order. */
ENC_INLINE void store_rows(uint8_t *out, const uint32x4_t codes[8])
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

#define SUFFIX f32
#define ISUFFIX u32
#define FN(name) PASTE(name, _neon_f32)
#define real float
#define fvec float32x4_t
#define ivec uint32x4_t
#define vmask uint32x4_t
#define V_ROWS 4
#define V_GROUP 1
#define v_u32(m) (m)

/* Depths 2 (4 floats) and 3 (8 floats) as TBL tables. */
typedef struct {
    uint8x16_t depth2;
    uint8x16x2_t depth3;
} deep_neon_f32;

ENC_INLINE void load_deep_neon_f32(deep_neon_f32 *deep, const float *thresholds)
{
    deep->depth2 = vreinterpretq_u8_f32(vld1q_f32(thresholds + 2 * AMM_TREE_WIDTH));
    deep->depth3.val[0] = vreinterpretq_u8_f32(vld1q_f32(thresholds + 3 * AMM_TREE_WIDTH));
    deep->depth3.val[1] = vreinterpretq_u8_f32(vld1q_f32(thresholds + 3 * AMM_TREE_WIDTH + 4));
}

/* Byte indices (4n, 4n + 1, 4n + 2, 4n + 3) of float n, per 32-bit lane. */
ENC_INLINE uint8x16_t float_bytes(uint32x4_t node)
{
    return vreinterpretq_u8_u32(
        vmlaq_u32(vdupq_n_u32(0x03020100u), node, vdupq_n_u32(0x04040404u)));
}

#define v_pick2(deep, node) \
    vreinterpretq_f32_u8(vqtbl1q_u8((deep)->depth2, float_bytes(node)))
#define v_pick3(deep, node) \
    vreinterpretq_f32_u8(vqtbl2q_u8((deep)->depth3, float_bytes(node)))

ENC_INLINE void store_neon_f32(uint8_t *out, const uint32x4_t codes[8])
{
    store_rows(out, codes);
}

#include "encode_simd.h"
#undef SUFFIX
#undef ISUFFIX
#undef v_u32
#undef v_pick2
#undef v_pick3

/* ---------------------------------------------------------------- float64 */

#define SUFFIX f64
#define ISUFFIX u64
#define FN(name) PASTE(name, _neon_f64)
#define real double
#define fvec float64x2_t
#define ivec uint64x2_t
#define vmask uint64x2_t
#define V_ROWS 2
#define V_GROUP 1
/* All ones or all zeros per 64-bit lane: the same as 32-bit lanes. */
#define v_u32(m) vreinterpretq_u32_u64(m)

/* Depths 2 (4 doubles) and 3 (8 doubles) as TBL tables. */
typedef struct {
    uint8x16x2_t depth2;
    uint8x16x4_t depth3;
} deep_neon_f64;

ENC_INLINE void load_deep_neon_f64(deep_neon_f64 *deep, const double *thresholds)
{
    int i;
    for (i = 0; i < 2; i++) {
        deep->depth2.val[i] =
            vreinterpretq_u8_f64(vld1q_f64(thresholds + 2 * AMM_TREE_WIDTH + 2 * i));
    }
    for (i = 0; i < 4; i++) {
        deep->depth3.val[i] =
            vreinterpretq_u8_f64(vld1q_f64(thresholds + 3 * AMM_TREE_WIDTH + 2 * i));
    }
}

/* Byte indices (8n, ..., 8n + 7) of double n, per 64-bit lane: the low byte
 * of 8n copied to the lane's 8 bytes, plus 0..7. */
ENC_INLINE uint8x16_t double_bytes(uint64x2_t node)
{
    static const uint8_t low_byte[16] = {0, 0, 0, 0, 0, 0, 0, 0, 8, 8, 8, 8, 8, 8, 8, 8};
    static const uint8_t within[16] = {0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7};
    const uint8x16_t eight_n = vreinterpretq_u8_u64(vshlq_n_u64(node, 3));
    return vaddq_u8(vqtbl1q_u8(eight_n, vld1q_u8(low_byte)), vld1q_u8(within));
}

#define v_pick2(deep, node) \
    vreinterpretq_f64_u8(vqtbl2q_u8((deep)->depth2, double_bytes(node)))
#define v_pick3(deep, node) \
    vreinterpretq_f64_u8(vqtbl4q_u8((deep)->depth3, double_bytes(node)))

/* 32 rows of 2-row codes (in 64-bit lanes) as 8 vectors of 4 32-bit rows. */
ENC_INLINE void store_neon_f64(uint8_t *out, const uint64x2_t codes[16])
{
    uint32x4_t rows[8];
    int q;
    for (q = 0; q < 8; q++) {
        rows[q] = vcombine_u32(vmovn_u64(codes[2 * q]), vmovn_u64(codes[2 * q + 1]));
    }
    store_rows(out, rows);
}

#include "encode_simd.h"
#undef SUFFIX
#undef ISUFFIX
#undef v_u32
#undef v_pick2
#undef v_pick3

const amm_encode_kernels amm_encode_neon = {
    {columns_neon_f32, columns_neon_f64},
    {NULL, NULL},
    0,
    0,
    NULL,
    0,
};

#endif /* AMM_HAVE_NEON_KERNELS */
