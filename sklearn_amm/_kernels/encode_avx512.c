/* Encoder, AVX-512 column kernels (x86-64 only; see encode.h for what is
 * computed, encode_simd.h for the kernel, written once for every ISA).
 *
 * Compiled with function target attributes (AVX-512 F, BW and VL on top of
 * AVX2), never a global -m flag; the driver (encode.c) calls these only at
 * SIMD level AMM_AVX512, which amm_cpu_supports() grants from CPUID and
 * XCR0.
 *
 * A zmm holds one codebook's state for 16 rows (float32) or 8 rows
 * (float64); a 32-row row block is 2 (4) vectors per split column. Each
 * depth compares x > threshold into an opmask (_CMP_GT_OQ: false when
 * either side is NaN, so NaN goes left) and adds the depth's bit of the
 * code under that mask, with its final weight: 8 for depth 0 down to 1 for
 * depth 3. So the running code after depth t already is the index of the
 * node's threshold in depth t + 1's register, if that register holds
 * threshold n at every lane whose index is n times 2**(3 - t) (plus lower
 * bits that are still zero): one masked add per depth and no shifts. The
 * threshold of each row's node is picked by:
 *   depth 1 (2 nodes): a blend of two broadcasts, on the depth-0 mask;
 *   depth 2, 3: vpermps by the running code (float64: vpermt2pd over two
 *   registers, the 4-bit index's top bit choosing the register).
 * The opmask compares and the permutes share port 5 on Intel cores; the
 * masked adds, blends and the FMAs of the non-finite check go to ports 0
 * and 5, so the two stay about balanced.
 *
 * Short C-order rows are staged by the AVX2 transposes of
 * encode_stage_avx2.c (doubles rounded to floats, walked by the float
 * kernel, which then reports ties as the AVX2 one does). Other rows not
 * adjacent in memory are read by gathers (a row block at a time, every
 * pair, so a row's cache lines are used while they are loaded), with no
 * staging buffer; the driver stages row strides too large for a gather's
 * 32-bit indices.
 */
#include "encode_kernels.h"

#if AMM_HAVE_X86_KERNELS

#include <immintrin.h>

#define AVX512_TARGET "avx512f,avx512bw,avx512vl,avx2,fma"
#define ENC_INLINE static inline __attribute__((always_inline, target(AVX512_TARGET)))
#define ENC_FUNCTION static __attribute__((target(AVX512_TARGET)))

#define PASTE_(a, b) a##b
#define PASTE(a, b) PASTE_(a, b)

/* The words of either dtype: OP(add) is _mm512_add_ps for SUFFIX ps,
 * _mm512_add_pd for pd; IOP works on integer lanes of the same width,
 * ISUFFIX epi32 or epi64. */
#define OP(op) PASTE(PASTE(_mm512_, op), PASTE(_, SUFFIX))
#define IOP(op) PASTE(PASTE(_mm512_, op), PASTE(_, ISUFFIX))
#define v_load(p) OP(loadu)((const real *)(p))
#define v_gather(p, index) PASTE(_mm512_i32gather_, SUFFIX)((index), (p), 1)
#define v_gt(x, t) PASTE(OP(cmp), _mask)((x), (t), _CMP_GT_OQ)
#define v_select(m, a, b) OP(mask_blend)((m), (a), (b))
#define v_set1(x) OP(set1)(x)
#define v_fzero() OP(setzero)()
#define v_add(a, b) OP(add)((a), (b))
/* (AVX-512 DQ's vfpclassps would tell non-finite values directly, but DQ
 * is not part of the AMM_AVX512 level.) */
#define v_see(seen, x, y) ((seen) = OP(fmadd)((x), (y), (seen)))
#define v_any_nan(x) (PASTE(OP(cmp), _mask)((x), (x), _CMP_UNORD_Q) != 0)
/* Masked-off lanes read nothing and fault on nothing. */
#define v_load_first(p, n) OP(maskz_loadu)(first_lanes(n, V_ROWS), (const real *)(p))
#define v_node2(m0, m1) add_bit(IOP(maskz_mov)((m0), IOP(set1)(8)), (m1), 4)
#define v_descend(node, m) add_bit((node), (m), 2)
#define v_leaf(node, m) add_bit((node), (m), 1)
#define v_merge(low, high) _mm512_or_si512((low), IOP(slli)((high), 4))
#define add_bit(node, m, bit) IOP(mask_add)((node), (m), (node), IOP(set1)(bit))

/* 32 rows whose int32 lanes hold one byte value each (rows 0-15, 16-31), as
 * 32 bytes in row order. The packs work within 128-bit lanes, leaving in
 * lane i the rows 4i..4i+3 of each input, which the permute gathers. */
ENC_INLINE void store_rows(uint8_t *out, __m512i rows0, __m512i rows16)
{
    const __m512i words = _mm512_packus_epi32(rows0, rows16);
    const __m512i bytes = _mm512_packus_epi16(words, words);
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13,
                                            0, 0, 0, 0, 0, 0, 0, 0);
    _mm256_storeu_si256((__m256i *)out,
                        _mm512_castsi512_si256(_mm512_permutexvar_epi32(order, bytes)));
}

/* The mask of lanes i < n of `lanes` lanes (16 or 8), n any integer. */
ENC_INLINE __mmask16 first_lanes(ptrdiff_t n, int lanes)
{
    if (n <= 0) {
        return 0;
    }
    return (__mmask16)((1u << (n < lanes ? n : lanes)) - 1u);
}

/* ---------------------------------------------------------------- float32 */

#define SUFFIX ps
#define ISUFFIX epi32
#define FN(name) PASTE(name, _avx512_f32)
#define real float
#define fvec __m512
#define ivec __m512i
#define vmask __mmask16
#define V_ROWS 16
#define V_GROUP 2
#define vindex __m512i
#define v_row_index(row_stride)                                                           \
    _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, \
                                         15),                                             \
                       _mm512_set1_epi32((int)(row_stride)))

/* Thresholds spread as the running code indexes them: depth2 holds
 * threshold n of depth 2 in lanes 4n..4n+3, depth3 threshold n of depth 3
 * in lanes 2n, 2n + 1. */
typedef struct {
    __m512 depth2, depth3;
} deep_avx512_f32;

ENC_INLINE void load_deep_avx512_f32(deep_avx512_f32 *deep, const float *thresholds)
{
    const __m512 depth2 =
        _mm512_castps256_ps512(_mm256_loadu_ps(thresholds + 2 * AMM_TREE_WIDTH));
    const __m512 depth3 =
        _mm512_castps256_ps512(_mm256_loadu_ps(thresholds + 3 * AMM_TREE_WIDTH));
    deep->depth2 = _mm512_permutexvar_ps(
        _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3), depth2);
    deep->depth3 = _mm512_permutexvar_ps(
        _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7), depth3);
}

#define v_pick2(deep, node) _mm512_permutexvar_ps((node), (deep)->depth2)
#define v_pick3(deep, node) _mm512_permutexvar_ps((node), (deep)->depth3)
/* Lanes of `ties` become 1 where x == t (never for NaN): doubles staged as
 * floats are walked again in doubles when one rounded onto its threshold
 * (encode.c). */
#define v_tie(ties, x, t) \
    ((ties) = _mm512_mask_mov_ps((ties), _mm512_cmp_ps_mask((x), (t), _CMP_EQ_OQ), \
                                 _mm512_set1_ps(1.0f)))
#define v_any_tie(ties) (_mm512_cmp_ps_mask((ties), _mm512_setzero_ps(), _CMP_NEQ_UQ) != 0)

ENC_INLINE void store_avx512_f32(uint8_t *out, const __m512i codes[2])
{
    store_rows(out, codes[0], codes[1]);
}

#include "encode_simd.h"
#undef SUFFIX
#undef ISUFFIX
#undef vindex
#undef v_row_index
#undef v_pick2
#undef v_pick3
#undef v_tie
#undef v_any_tie

/* ---------------------------------------------------------------- float64 */

#define SUFFIX pd
#define ISUFFIX epi64
#define FN(name) PASTE(name, _avx512_f64)
#define real double
#define fvec __m512d
#define ivec __m512i
#define vmask __mmask8
#define V_ROWS 8
#define V_GROUP 4
#define vindex __m256i
#define v_row_index(row_stride)                                          \
    _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), \
                       _mm256_set1_epi32((int)(row_stride)))

/* Thresholds spread over pairs of registers (low: indices 0-7, high: 8-15
 * of vpermt2pd) as the running code indexes them: depth 2's threshold n in
 * indices 4n..4n+3, depth 3's in 2n, 2n + 1. */
typedef struct {
    __m512d depth2_low, depth2_high, depth3_low, depth3_high;
} deep_avx512_f64;

ENC_INLINE void load_deep_avx512_f64(deep_avx512_f64 *deep, const double *thresholds)
{
    const __m512d depth2 =
        _mm512_castpd256_pd512(_mm256_loadu_pd(thresholds + 2 * AMM_TREE_WIDTH));
    const __m512d depth3 = _mm512_loadu_pd(thresholds + 3 * AMM_TREE_WIDTH);
    deep->depth2_low = _mm512_permutexvar_pd(_mm512_setr_epi64(0, 0, 0, 0, 1, 1, 1, 1), depth2);
    deep->depth2_high = _mm512_permutexvar_pd(_mm512_setr_epi64(2, 2, 2, 2, 3, 3, 3, 3), depth2);
    deep->depth3_low = _mm512_permutexvar_pd(_mm512_setr_epi64(0, 0, 1, 1, 2, 2, 3, 3), depth3);
    deep->depth3_high = _mm512_permutexvar_pd(_mm512_setr_epi64(4, 4, 5, 5, 6, 6, 7, 7), depth3);
}

#define v_pick2(deep, node) _mm512_permutex2var_pd((deep)->depth2_low, (node), (deep)->depth2_high)
#define v_pick3(deep, node) _mm512_permutex2var_pd((deep)->depth3_low, (node), (deep)->depth3_high)

/* 16 rows of int64 lanes (rows 0-7, 8-15) as 16 int32 lanes. */
ENC_INLINE __m512i join_rows(__m512i rows0, __m512i rows8)
{
    const __m512i low_halves = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14,
                                                 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_epi32(rows0, low_halves, rows8);
}

ENC_INLINE void store_avx512_f64(uint8_t *out, const __m512i codes[4])
{
    store_rows(out, join_rows(codes[0], codes[1]), join_rows(codes[2], codes[3]));
}

#include "encode_simd.h"
#undef SUFFIX
#undef ISUFFIX

const amm_encode_kernels amm_encode_avx512 = {
    {columns_avx512_f32, columns_avx512_f64},
    {amm_stage_avx2_f32, amm_stage_avx2_f64},
    1,
    1,
    amm_stage_avx2_f64_as_f32,
    1,
};

#endif /* AMM_HAVE_X86_KERNELS */
