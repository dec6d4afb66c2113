/* Encoder, AVX2 column kernels (x86-64 only; see encode.h for what is
 * computed, encode_simd.h for the kernel, written once for every ISA).
 *
 * Compiled with function target attributes rather than -mavx2, so the rest
 * of the extension runs on any x86-64 CPU; the driver (encode.c) calls
 * these only at SIMD level AMM_AVX2, which amm_cpu_supports() grants from
 * CPUID.
 *
 * A vector holds one codebook's state for 8 rows (float32) or 4 rows
 * (float64). Rows not adjacent in memory (C order, strided views) are
 * staged by the driver into a small column-major buffer: by the register
 * transposes of whole rows of encode_stage_avx2.c when the rows are short,
 * else by copying its split values one by one. Both beat AVX2 gathers,
 * which are slow on Zen 3.
 *
 * Each depth compares x > threshold, which gives -1 (all bits set) where it
 * holds, so `2 * node - mask` descends one depth without a branch. The
 * threshold of a row's node is picked by:
 *   depth 1 (2 nodes): a blend of two broadcasts, on the depth-0 mask;
 *   depth 2: a permute of the depth's register by the node number, within
 *            128-bit halves for float32 (its 4 thresholds are in both),
 *            across them for float64;
 *   depth 3: a permute across the register's halves.
 * On Zen 3 a blend or an in-lane permute costs less than a lane-crossing
 * permute, in latency (the 4 depths form a dependent chain) and in
 * throughput.
 */
#include "encode_kernels.h"

#if AMM_HAVE_X86_KERNELS

#include <immintrin.h>

#define AVX2_TARGET "avx2,fma"
#define ENC_INLINE static inline __attribute__((always_inline, target(AVX2_TARGET)))
#define ENC_FUNCTION static __attribute__((target(AVX2_TARGET)))

#define PASTE_(a, b) a##b
#define PASTE(a, b) PASTE_(a, b)

/* The words of either dtype: OP(add) is _mm256_add_ps for SUFFIX ps,
 * _mm256_add_pd for pd. */
#define OP(op) PASTE(PASTE(_mm256_, op), PASTE(_, SUFFIX))
#define v_load(p) OP(loadu)((const real *)(p))
#define v_gt(x, t) OP(cmp)((x), (t), _CMP_GT_OQ)
#define v_select(m, a, b) OP(blendv)((a), (b), (m))
#define v_set1(x) OP(set1)(x)
#define v_fzero() OP(setzero)()
#define v_add(a, b) OP(add)((a), (b))
#define v_see(seen, x, y) ((seen) = OP(fmadd)((x), (y), (seen)))
#define v_any_nan(x) (OP(movemask)(OP(cmp)((x), (x), _CMP_UNORD_Q)) != 0)
/* vmaskmov reads nothing, and faults on nothing, under a clear mask bit. */
#define v_load_first(p, n) OP(maskload)((const real *)(p), first_lanes_mask(n, V_ROWS))
#define v_bits(m) PASTE(PASTE(_mm256_cast, SUFFIX), _si256)(m)
#define v_merge(low, high) _mm256_or_si256((low), _mm256_slli_epi32((high), 4))

/* 32 rows whose int32 lanes hold one byte value each, as 32 bytes in row
 * order. The packs work within 128-bit halves, so they leave groups of 4
 * rows in the order 0, 2, 4, 6, 1, 3, 5, 7, which the permute undoes. */
ENC_INLINE void store_rows(uint8_t *out, __m256i rows0, __m256i rows8, __m256i rows16,
                           __m256i rows24)
{
    const __m256i words_low = _mm256_packs_epi32(rows0, rows8);
    const __m256i words_high = _mm256_packs_epi32(rows16, rows24);
    const __m256i bytes = _mm256_packus_epi16(words_low, words_high);
    _mm256_storeu_si256(
        (__m256i *)out,
        _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
}

/* Lanes i < n of a mask of `lanes` 32-bit (lanes = 8) or 64-bit (lanes =
 * 4) lanes, n any integer. */
ENC_INLINE __m256i first_lanes_mask(ptrdiff_t n, int lanes)
{
    return lanes == 8 ? _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n < 0 ? 0 : n > 8 ? 8 : n)),
                                           _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
                      : _mm256_cmpgt_epi64(_mm256_set1_epi64x(n < 0 ? 0 : n > 4 ? 4 : n),
                                           _mm256_setr_epi64x(0, 1, 2, 3));
}

/* ---------------------------------------------------------------- float32 */

#define SUFFIX ps
#define FN(name) PASTE(name, _avx2_f32)
#define real float
#define fvec __m256
#define ivec __m256i
#define vmask __m256
#define V_ROWS 8
#define V_GROUP 4
/* Ties, for double rows compared as floats (encode.c). */
#define v_tie(ties, x, t) ((ties) = _mm256_or_ps((ties), _mm256_cmp_ps((x), (t), _CMP_EQ_OQ)))
#define v_any_tie(ties) (_mm256_movemask_ps(ties) != 0)

/* Depths 2 and 3 in a register each. Depth 2's 4 thresholds are in both
 * 128-bit halves, so an in-lane permute picks them: on Zen 3 the whole
 * walk took 4-6% less time than with the lane-crossing permute depth 3
 * needs for its 8. The node is the node number. */
typedef struct {
    __m256 depth2, depth3;
} deep_avx2_f32;

ENC_INLINE void load_deep_avx2_f32(deep_avx2_f32 *deep, const float *thresholds)
{
    deep->depth2 = _mm256_broadcast_ps((const __m128 *)(thresholds + 2 * AMM_TREE_WIDTH));
    deep->depth3 = _mm256_loadu_ps(thresholds + 3 * AMM_TREE_WIDTH);
}

#define v_node2(m0, m1) \
    _mm256_sub_epi32(_mm256_and_si256(v_bits(m0), _mm256_set1_epi32(2)), v_bits(m1))
#define v_pick2(deep, node) _mm256_permutevar_ps((deep)->depth2, (node))
#define v_descend(node, m) _mm256_sub_epi32(_mm256_add_epi32((node), (node)), v_bits(m))
#define v_pick3(deep, node) _mm256_permutevar8x32_ps((deep)->depth3, (node))
#define v_leaf(node, m) v_descend(node, m)

ENC_INLINE void store_avx2_f32(uint8_t *out, const __m256i codes[4])
{
    store_rows(out, codes[0], codes[1], codes[2], codes[3]);
}

#include "encode_simd.h"
#undef SUFFIX
#undef v_node2
#undef v_pick2
#undef v_descend
#undef v_pick3
#undef v_leaf
#undef v_tie
#undef v_any_tie

/* ---------------------------------------------------------------- float64 */

#define SUFFIX pd
#define FN(name) PASTE(name, _avx2_f64)
#define real double
#define fvec __m256d
#define ivec __m256i
#define vmask __m256d
#define V_ROWS 4
#define V_GROUP 1

/* Depth 2 (4 nodes) in one register, depth 3 (8 nodes) in two. Node n is
 * held as the index pair (2n, 2n + 1) in the two 32-bit halves of its
 * 64-bit lane: a 32-bit permute by it picks double n (mod 4). */
typedef struct {
    __m256d depth2, depth3_low, depth3_high;
} deep_avx2_f64;

ENC_INLINE void load_deep_avx2_f64(deep_avx2_f64 *deep, const double *thresholds)
{
    deep->depth2 = _mm256_loadu_pd(thresholds + 2 * AMM_TREE_WIDTH);
    deep->depth3_low = _mm256_loadu_pd(thresholds + 3 * AMM_TREE_WIDTH);
    deep->depth3_high = _mm256_loadu_pd(thresholds + 3 * AMM_TREE_WIDTH + 4);
}

ENC_INLINE __m256d pick_avx2_f64(__m256d thresholds, __m256i pair_index)
{
    return _mm256_castps_pd(
        _mm256_permutevar8x32_ps(_mm256_castpd_ps(thresholds), pair_index));
}

/* Node n = 2 b0 + b1, as the index pair (2n, 2n + 1) = (4 b0 + 2 b1) + (0, 1). */
ENC_INLINE __m256i node2_avx2_f64(__m256d right0, __m256d right1)
{
    return _mm256_or_si256(
        _mm256_or_si256(_mm256_and_si256(v_bits(right0), _mm256_set1_epi32(4)),
                        _mm256_and_si256(v_bits(right1), _mm256_set1_epi32(2))),
        _mm256_setr_epi32(0, 1, 0, 1, 0, 1, 0, 1));
}

/* Node 2n + b2: its pair (4n + 2 b2, 4n + 2 b2 + 1) = 2 (pair - mask) + (0, -1). */
ENC_INLINE __m256i descend_avx2_f64(__m256i pair_index, __m256d right)
{
    pair_index = _mm256_sub_epi32(pair_index, v_bits(right));
    return _mm256_add_epi32(_mm256_add_epi32(pair_index, pair_index),
                            _mm256_setr_epi32(0, -1, 0, -1, 0, -1, 0, -1));
}

/* The permute reads 3 bits: the node mod 4; bit 3 of the low half (the
 * node's bit 2) chooses the register, through the lane's sign bit. */
ENC_INLINE __m256d pick3_avx2_f64(const deep_avx2_f64 *deep, __m256i pair_index)
{
    return _mm256_blendv_pd(pick_avx2_f64(deep->depth3_low, pair_index),
                            pick_avx2_f64(deep->depth3_high, pair_index),
                            _mm256_castsi256_pd(_mm256_slli_epi64(pair_index, 60)));
}

#define v_node2(m0, m1) node2_avx2_f64((m0), (m1))
#define v_pick2(deep, node) pick_avx2_f64((deep)->depth2, (node))
#define v_descend(node, m) descend_avx2_f64((node), (m))
#define v_pick3(deep, node) pick3_avx2_f64((deep), (node))
/* The low half of the pair index is 2n; the code is 2n + b3 (the high
 * 32 bits of the lane are not meaningful). */
#define v_leaf(node, m) _mm256_sub_epi32((node), v_bits(m))

/* 8 rows of 4-row codes (low 32 bits of 64-bit lanes) as 8 int32 lanes. */
ENC_INLINE __m256i join_rows(__m256i rows0, __m256i rows4)
{
    /* Low halves of both: rows 0 1 4 5 | 2 3 6 7; then reorder 64-bit pairs. */
    const __m256i mixed = _mm256_castps_si256(_mm256_shuffle_ps(
        _mm256_castsi256_ps(rows0), _mm256_castsi256_ps(rows4), _MM_SHUFFLE(2, 0, 2, 0)));
    return _mm256_permute4x64_epi64(mixed, _MM_SHUFFLE(3, 1, 2, 0));
}

ENC_INLINE void store_avx2_f64(uint8_t *out, const __m256i codes[8])
{
    store_rows(out, join_rows(codes[0], codes[1]), join_rows(codes[2], codes[3]),
               join_rows(codes[4], codes[5]), join_rows(codes[6], codes[7]));
}

#include "encode_simd.h"
#undef SUFFIX

const amm_encode_kernels amm_encode_avx2 = {
    {columns_avx2_f32, columns_avx2_f64},
    {amm_stage_avx2_f32, amm_stage_avx2_f64},
    0,
    1,
    amm_stage_avx2_f64_as_f32,
    1,
};

#endif /* AMM_HAVE_X86_KERNELS */
