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
 * staged by the driver into a small column-major buffer: by the 8x8 (4x4)
 * register transposes of whole rows below when the rows are short, else by
 * copying its split values one by one. Both beat AVX2 gathers, which are
 * slow on Zen 3.
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

/* ------------------------------------------------ staging C-order rows */

/* Groups of `width` columns that hold n_features; *tail: the columns of
 * the last group. */
ENC_INLINE ptrdiff_t column_groups(ptrdiff_t n_features, int width, int *tail)
{
    const ptrdiff_t n_groups = (n_features + width - 1) / width;
    *tail = (int)(n_features - width * (n_groups - 1));
    return n_groups;
}

/* Stores 8 rows of 8 floats (r[i]: row i, columns 8g to 8g + 7) as
 * buffer[8g + j][8q + i], the columns of rows 8q to 8q + 7. */
ENC_INLINE void store_transposed8(const __m256 r[8], float *buffer, ptrdiff_t g, int q)
{
    __m256 t[8], u[8];
    int i;
    for (i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    /* u[i] holds columns i (low half) and i + 4 (high half) of rows 0-3;
     * u[i + 4] the same of rows 4-7. */
    for (i = 0; i < 4; i++) {
        float *column = buffer + (8 * g + i) * AMM_ROWS_PER_ROW_BLOCK + 8 * q;
        _mm256_storeu_ps(column, _mm256_permute2f128_ps(u[i], u[i + 4], 0x20));
        _mm256_storeu_ps(column + 4 * AMM_ROWS_PER_ROW_BLOCK,
                         _mm256_permute2f128_ps(u[i], u[i + 4], 0x31));
    }
}

/* Transposes the 32 rows starting at `rows` (C order: columns adjacent)
 * into buffer[column][row], 8 rows by 8 columns at a time. The last group
 * of columns is read with a masked load, which reads nothing past the row.
 *
 * The loads go across 8 rows before moving along them, a pattern the
 * hardware prefetchers follow poorly once rows are long, so each cache
 * line read (every other group of 8 floats) is followed by a prefetch of
 * the same columns 16 rows on. At Caltech 5x5's shape (75 floats a row)
 * the whole C-order transform took 15% less time; at 27 floats a row the
 * same within 2%, where a prefetch per load cost the transposes 21%. */
ENC_FUNCTION void transpose_avx2_f32(const char *rows, ptrdiff_t row_stride,
                                     ptrdiff_t n_features, void *staged)
{
    float *buffer = (float *)staged;
    int tail;
    const ptrdiff_t n_groups = column_groups(n_features, 8, &tail);
    const __m256i tail_mask = _mm256_cmpgt_epi32(
        _mm256_set1_epi32(tail), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    ptrdiff_t g;
    int q, i;
    for (q = 0; q < 4; q++) {
        const char *rows8 = rows + 8 * q * row_stride;
        for (g = 0; g < n_groups; g++) {
            __m256 r[8];
            for (i = 0; i < 8; i++) {
                const float *source = (const float *)(rows8 + i * row_stride) + 8 * g;
                if ((g & 1) == 0) {
                    _mm_prefetch((const char *)source + 16 * row_stride, _MM_HINT_T0);
                }
                r[i] = g + 1 < n_groups ? _mm256_loadu_ps(source)
                                        : _mm256_maskload_ps(source, tail_mask);
            }
            store_transposed8(r, buffer, g, q);
        }
    }
}

/* As transpose_avx2_f32, from doubles, each rounded to the nearest float
 * (overflowing to +-inf, as amm_nearest_float does). Its prefetches go 8
 * rows ahead, a cache line (8 doubles) each: at 75 doubles a row (29 MB,
 * read from memory) the transposes alone streamed 10.6 GB/s without them
 * and 18.0 GB/s with; at 27 doubles a row, X in the caches, they took 4%
 * longer. */
ENC_FUNCTION void transpose_avx2_f64_as_f32(const char *rows, ptrdiff_t row_stride,
                                            ptrdiff_t n_features, void *staged)
{
    float *buffer = (float *)staged;
    int tail;
    const ptrdiff_t n_groups = column_groups(n_features, 8, &tail);
    const __m256i lanes = _mm256_setr_epi64x(0, 1, 2, 3);
    const __m256i low_mask = _mm256_cmpgt_epi64(_mm256_set1_epi64x(tail), lanes);
    const __m256i high_mask = _mm256_cmpgt_epi64(_mm256_set1_epi64x(tail - 4), lanes);
    ptrdiff_t g;
    int q, i;
    for (q = 0; q < 4; q++) {
        const char *rows8 = rows + 8 * q * row_stride;
        for (g = 0; g < n_groups; g++) {
            __m256 r[8];
            for (i = 0; i < 8; i++) {
                const double *source = (const double *)(rows8 + i * row_stride) + 8 * g;
                const int full = g + 1 < n_groups;
                _mm_prefetch((const char *)source + 8 * row_stride, _MM_HINT_T0);
                const __m256d low =
                    full ? _mm256_loadu_pd(source) : _mm256_maskload_pd(source, low_mask);
                const __m256d high = full ? _mm256_loadu_pd(source + 4)
                                          : _mm256_maskload_pd(source + 4, high_mask);
                r[i] = _mm256_set_m128(_mm256_cvtpd_ps(high), _mm256_cvtpd_ps(low));
            }
            store_transposed8(r, buffer, g, q);
        }
    }
}

/* As transpose_avx2_f32, 4 rows by 4 columns at a time. */
ENC_FUNCTION void transpose_avx2_f64(const char *rows, ptrdiff_t row_stride,
                                     ptrdiff_t n_features, void *staged)
{
    int tail;
    const ptrdiff_t n_groups = column_groups(n_features, 4, &tail);
    const __m256i tail_mask = _mm256_cmpgt_epi64(_mm256_set1_epi64x(tail),
                                                 _mm256_setr_epi64x(0, 1, 2, 3));
    double *buffer = (double *)staged;
    ptrdiff_t g;
    int q, i;
    for (q = 0; q < 8; q++) {
        const char *rows4 = rows + 4 * q * row_stride;
        for (g = 0; g < n_groups; g++) {
            __m256d r[4];
            for (i = 0; i < 4; i++) {
                const double *source = (const double *)(rows4 + i * row_stride) + 4 * g;
                r[i] = g + 1 < n_groups ? _mm256_loadu_pd(source)
                                        : _mm256_maskload_pd(source, tail_mask);
            }
            {
                const __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]);
                const __m256d t1 = _mm256_unpackhi_pd(r[0], r[1]);
                const __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]);
                const __m256d t3 = _mm256_unpackhi_pd(r[2], r[3]);
                double *column = buffer + 4 * g * AMM_ROWS_PER_ROW_BLOCK + 4 * q;
                _mm256_storeu_pd(column, _mm256_permute2f128_pd(t0, t2, 0x20));
                _mm256_storeu_pd(column + AMM_ROWS_PER_ROW_BLOCK, _mm256_permute2f128_pd(t1, t3, 0x20));
                _mm256_storeu_pd(column + 2 * AMM_ROWS_PER_ROW_BLOCK,
                                 _mm256_permute2f128_pd(t0, t2, 0x31));
                _mm256_storeu_pd(column + 3 * AMM_ROWS_PER_ROW_BLOCK,
                                 _mm256_permute2f128_pd(t1, t3, 0x31));
            }
        }
    }
}

const amm_encode_kernels amm_encode_avx2 = {
    {columns_avx2_f32, columns_avx2_f64},
    {transpose_avx2_f32, transpose_avx2_f64},
    0,
    1,
    transpose_avx2_f64_as_f32,
};

#endif /* AMM_HAVE_X86_KERNELS */
