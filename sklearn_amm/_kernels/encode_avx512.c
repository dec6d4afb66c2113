/* Encoder, AVX-512 kernels (x86-64 only; see encode.h for what is computed).
 *
 * Compiled with function target attributes (AVX-512 F, BW and VL on top of
 * AVX2), never a global -m flag; encode.c calls these only at level
 * AMM_AVX512, which amm_cpu_supports() grants from CPUID and XCR0.
 *
 * A zmm holds one codebook's state for 16 rows (float32) or 8 rows
 * (float64); a 32-row block is 2 (4) vectors per split column. Each level
 * compares x > threshold into an opmask (_CMP_GT_OQ: false when either side
 * is NaN, so NaN goes left) and adds the level's bit of the code under that
 * mask, with its final weight: 8 for level 0 down to 1 for level 3. So the
 * running code after level t already is the index of the node's threshold
 * in level t + 1's register, if that register holds threshold n at every
 * lane whose index is n times 2**(3 - t) (plus lower bits that are still
 * zero): one masked add per level and no shifts. The threshold of each
 * row's node is picked by:
 *   level 1 (2 nodes): a blend of two broadcasts, on the level-0 mask;
 *   level 2, 3: vpermps by the running code (float64: vpermt2pd over two
 *   registers, the 4-bit index's top bit choosing the register).
 * The opmask compares and the permutes share port 5 on Intel cores; the
 * masked adds, blends and the FMAs of the non-finite check go to ports 0
 * and 5, so the two stay about balanced.
 *
 * F-order X is read down its columns, one pair of codebooks over all
 * blocks at a time, so each split column is one contiguous run. Any other
 * layout is read by gathers (block by block, every pair, so a row's cache
 * lines are used while they are loaded), with no staging buffer; see
 * read_by_gathers for how they compare. Row strides too large for a
 * gather's 32-bit indices are staged (encode_staging.h).
 */
#include "encode.h"

#if AMM_HAVE_X86_KERNELS

#include <immintrin.h>
#include <stdlib.h>

#include "encode_staging.h"

#define AVX512_TARGET "avx512f,avx512bw,avx512vl,avx2,fma"
#define AVX512_INLINE static inline __attribute__((always_inline, target(AVX512_TARGET)))
#define AVX512_FUNCTION __attribute__((target(AVX512_TARGET)))

/* How a kernel reads the values of one split column for the rows of a
 * vector: `column` is the address of the first row's value, then either
 * consecutive (F order, staged buffers: `gathered` 0) or `row_index` bytes
 * apart (`gathered` 1). `gathered` is a constant in every caller. */
AVX512_INLINE __m512 avx512_load16_f32(const char *column, __m512i row_index, int gathered)
{
    return gathered ? _mm512_i32gather_ps(row_index, column, 1)
                    : _mm512_loadu_ps((const float *)column);
}

AVX512_INLINE __m512d avx512_load8_f64(const char *column, __m256i row_index, int gathered)
{
    return gathered ? _mm512_i32gather_pd(row_index, column, 1)
                    : _mm512_loadu_pd((const double *)column);
}

/* 32 rows whose int32 lanes hold one byte value each (rows 0-15, 16-31), as
 * 32 bytes in row order. The packs work within 128-bit lanes, leaving in
 * lane i the rows 4i..4i+3 of each input, which the permute gathers. */
AVX512_INLINE __m256i avx512_pack_rows(__m512i rows0, __m512i rows16)
{
    const __m512i words = _mm512_packus_epi32(rows0, rows16);
    const __m512i bytes = _mm512_packus_epi16(words, words);
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13,
                                            0, 0, 0, 0, 0, 0, 0, 0);
    return _mm512_castsi512_si256(_mm512_permutexvar_epi32(order, bytes));
}

/* ---------------------------------------------------------------- float32 */

/* One codebook's thresholds, spread as the running code indexes them:
 * level2 holds threshold n of level 2 in lanes 4n..4n+3, level3 threshold n
 * of level 3 in lanes 2n, 2n + 1. */
typedef struct {
    __m512 level0, level1_left, level1_right, level2, level3;
} avx512_tree_f32;

AVX512_INLINE avx512_tree_f32 avx512_load_tree_f32(const float *thresholds)
{
    const __m512 level2 = _mm512_castps256_ps512(_mm256_loadu_ps(thresholds + 2 * AMM_TREE_WIDTH));
    const __m512 level3 = _mm512_castps256_ps512(_mm256_loadu_ps(thresholds + 3 * AMM_TREE_WIDTH));
    avx512_tree_f32 tree;
    tree.level0 = _mm512_set1_ps(thresholds[0]);
    tree.level1_left = _mm512_set1_ps(thresholds[AMM_TREE_WIDTH]);
    tree.level1_right = _mm512_set1_ps(thresholds[AMM_TREE_WIDTH + 1]);
    tree.level2 = _mm512_permutexvar_ps(
        _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3), level2);
    tree.level3 = _mm512_permutexvar_ps(
        _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7), level3);
    return tree;
}

/* Non-finite values among those compared: seen = x * 0 + seen for every
 * vector x. x * 0 is 0 for finite x and NaN for NaN and +-inf, and a NaN
 * stays, so seen ends NaN exactly when a value was not finite. One FMA per
 * vector; each caller keeps several accumulators so that the FMA latency
 * chains stay shorter than the compares'. (AVX-512 DQ's vfpclassps would
 * say it directly, but DQ is not part of the level.) */
AVX512_INLINE void avx512_see_f32(__m512 *seen, __m512 x)
{
    *seen = _mm512_fmadd_ps(x, _mm512_setzero_ps(), *seen);
}

/* Codes (0..15, in int32 lanes) of 32 rows in one codebook: row r of split
 * t is at rows + offsets[t] plus 4 r (F order) or row_index[r % 16] +
 * (r / 16) * half_stride (gathered). The 2 halves go level by level, so
 * that their dependent chains overlap. */
AVX512_INLINE void avx512_codes32_f32(const char *rows, ptrdiff_t half_stride,
                                      __m512i row_index, int gathered,
                                      const ptrdiff_t *offsets, const avx512_tree_f32 *tree,
                                      __m512i codes[2], __m512 seen[2])
{
    __mmask16 right[2];
    int h, t;
    for (h = 0; h < 2; h++) {
        const __m512 x = avx512_load16_f32(rows + offsets[0] + h * half_stride, row_index, gathered);
        avx512_see_f32(&seen[h], x);
        right[h] = _mm512_cmp_ps_mask(x, tree->level0, _CMP_GT_OQ);
        codes[h] = _mm512_maskz_mov_epi32(right[h], _mm512_set1_epi32(8));
    }
    for (h = 0; h < 2; h++) {
        const __m512 x = avx512_load16_f32(rows + offsets[1] + h * half_stride, row_index, gathered);
        const __m512 threshold = _mm512_mask_blend_ps(right[h], tree->level1_left, tree->level1_right);
        avx512_see_f32(&seen[h], x);
        right[h] = _mm512_cmp_ps_mask(x, threshold, _CMP_GT_OQ);
        codes[h] = _mm512_mask_add_epi32(codes[h], right[h], codes[h], _mm512_set1_epi32(4));
    }
    for (t = 2; t < AMM_TREE_DEPTH; t++) {
        const __m512 level = t == 2 ? tree->level2 : tree->level3;
        const __m512i bit = _mm512_set1_epi32(t == 2 ? 2 : 1);
        for (h = 0; h < 2; h++) {
            const __m512 x = avx512_load16_f32(rows + offsets[t] + h * half_stride, row_index, gathered);
            avx512_see_f32(&seen[h], x);
            right[h] = _mm512_cmp_ps_mask(x, _mm512_permutexvar_ps(codes[h], level), _CMP_GT_OQ);
            codes[h] = _mm512_mask_add_epi32(codes[h], right[h], codes[h], bit);
        }
    }
}

/* Packed bytes of codebooks c (low nibble) and c + 1 (if `has_high`) for
 * 32 rows; `offsets` starts at codebook c, `low` and `high` are their trees.
 * seen[0..1] are the low codebook's accumulators, seen[2..3] the high's. */
AVX512_INLINE __m256i avx512_pair_bytes_f32(const char *rows, ptrdiff_t half_stride,
                                            __m512i row_index, int gathered,
                                            const ptrdiff_t *offsets,
                                            const avx512_tree_f32 *low,
                                            const avx512_tree_f32 *high, int has_high,
                                            __m512 seen[4])
{
    __m512i codes[2], high_codes[2];
    int h;
    avx512_codes32_f32(rows, half_stride, row_index, gathered, offsets, low, codes, seen);
    if (has_high) {
        avx512_codes32_f32(rows, half_stride, row_index, gathered, offsets + AMM_TREE_DEPTH,
                           high, high_codes, seen + 2);
        for (h = 0; h < 2; h++) {
            codes[h] = _mm512_or_si512(codes[h], _mm512_slli_epi32(high_codes[h], 4));
        }
    }
    return avx512_pack_rows(codes[0], codes[1]);
}

AVX512_INLINE int avx512_any_nan_f32(const __m512 seen[4])
{
    const __m512 all = _mm512_add_ps(_mm512_add_ps(seen[0], seen[1]),
                                     _mm512_add_ps(seen[2], seen[3]));
    return _mm512_cmp_ps_mask(all, all, _CMP_UNORD_Q) != 0;
}

/* Codebooks [0, n_codebooks) of `offsets` and `thresholds` over n_blocks
 * contiguous blocks (F order or a staged buffer: rows 4 bytes apart) from
 * `rows`, block b's rows at rows + b * block_stride, its bytes at
 * out + b * out_stride. One pair at a time, so each split column is read as
 * one contiguous run. Returns 1 if a value compared was not finite. */
AVX512_INLINE int avx512_columns_f32(const char *rows, ptrdiff_t block_stride,
                                     ptrdiff_t n_blocks, const ptrdiff_t *offsets,
                                     const float *thresholds, ptrdiff_t n_codebooks,
                                     uint8_t *out, ptrdiff_t out_stride)
{
    const __m512i unused_index = _mm512_setzero_si512();
    const ptrdiff_t half_stride = (AMM_ROWS_PER_BLOCK / 2) * (ptrdiff_t)sizeof(float);
    __m512 seen[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                      _mm512_setzero_ps()};
    ptrdiff_t c, block;
    for (c = 0; c < n_codebooks; c += 2) {
        const int has_high = c + 1 < n_codebooks;
        const float *tree = thresholds + c * AMM_TREE_DEPTH * AMM_TREE_WIDTH;
        const avx512_tree_f32 low = avx512_load_tree_f32(tree);
        const avx512_tree_f32 high =
            has_high ? avx512_load_tree_f32(tree + AMM_TREE_DEPTH * AMM_TREE_WIDTH) : low;
        const ptrdiff_t *pair_offsets = offsets + c * AMM_TREE_DEPTH;
        uint8_t *pair_out = out + (c / 2) * AMM_ROWS_PER_BLOCK;
        for (block = 0; block < n_blocks; block++) {
            const char *block_rows = rows + block * block_stride;
            __m256i bytes;
            /* Two calls with a constant `has_high`, so that each is compiled
             * without the test. */
            if (has_high) {
                bytes = avx512_pair_bytes_f32(block_rows, half_stride, unused_index, 0,
                                              pair_offsets, &low, &high, 1, seen);
            } else {
                bytes = avx512_pair_bytes_f32(block_rows, half_stride, unused_index, 0,
                                              pair_offsets, &low, &low, 0, seen);
            }
            _mm256_storeu_si256((__m256i *)(pair_out + block * out_stride), bytes);
        }
    }
    return avx512_any_nan_f32(seen);
}

/* As avx512_columns_f32 for the full blocks [0, n_blocks) of X at `rows`,
 * read by gathers, every pair of a block before the next block. `trees`
 * holds the n_codebooks trees, loaded once. */
AVX512_INLINE int avx512_gathered_f32(const amm_encode_problem *p, const char *rows,
                                      ptrdiff_t n_blocks, const avx512_tree_f32 *trees,
                                      uint8_t *out)
{
    const ptrdiff_t block_bytes = p->n_pairs * AMM_ROWS_PER_BLOCK;
    const ptrdiff_t half_stride = (AMM_ROWS_PER_BLOCK / 2) * p->row_stride;
    const __m512i row_index = _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_epi32((int)p->row_stride));
    __m512 seen[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                      _mm512_setzero_ps()};
    ptrdiff_t c, block;
    for (block = 0; block < n_blocks; block++) {
        const char *block_rows = rows + block * AMM_ROWS_PER_BLOCK * p->row_stride;
        uint8_t *block_out = out + block * block_bytes;
        for (c = 0; c + 1 < p->n_codebooks; c += 2) {
            const __m256i bytes = avx512_pair_bytes_f32(
                block_rows, half_stride, row_index, 1, p->split_offsets + c * AMM_TREE_DEPTH,
                &trees[c], &trees[c + 1], 1, seen);
            _mm256_storeu_si256((__m256i *)(block_out + (c / 2) * AMM_ROWS_PER_BLOCK), bytes);
        }
        if (c < p->n_codebooks) {
            const __m256i bytes = avx512_pair_bytes_f32(
                block_rows, half_stride, row_index, 1, p->split_offsets + c * AMM_TREE_DEPTH,
                &trees[c], &trees[c], 0, seen);
            _mm256_storeu_si256((__m256i *)(block_out + (c / 2) * AMM_ROWS_PER_BLOCK), bytes);
        }
    }
    return avx512_any_nan_f32(seen);
}

/* ---------------------------------------------------------------- float64 */

/* One codebook's thresholds, spread over pairs of registers (low: indices
 * 0-7, high: 8-15 of vpermt2pd) as the running code indexes them: level 2's
 * threshold n in indices 4n..4n+3, level 3's in 2n, 2n + 1. */
typedef struct {
    __m512d level0, level1_left, level1_right, level2_low, level2_high, level3_low, level3_high;
} avx512_tree_f64;

AVX512_INLINE avx512_tree_f64 avx512_load_tree_f64(const double *thresholds)
{
    const __m512d level2 = _mm512_castpd256_pd512(_mm256_loadu_pd(thresholds + 2 * AMM_TREE_WIDTH));
    const __m512d level3 = _mm512_loadu_pd(thresholds + 3 * AMM_TREE_WIDTH);
    avx512_tree_f64 tree;
    tree.level0 = _mm512_set1_pd(thresholds[0]);
    tree.level1_left = _mm512_set1_pd(thresholds[AMM_TREE_WIDTH]);
    tree.level1_right = _mm512_set1_pd(thresholds[AMM_TREE_WIDTH + 1]);
    tree.level2_low = _mm512_permutexvar_pd(_mm512_setr_epi64(0, 0, 0, 0, 1, 1, 1, 1), level2);
    tree.level2_high = _mm512_permutexvar_pd(_mm512_setr_epi64(2, 2, 2, 2, 3, 3, 3, 3), level2);
    tree.level3_low = _mm512_permutexvar_pd(_mm512_setr_epi64(0, 0, 1, 1, 2, 2, 3, 3), level3);
    tree.level3_high = _mm512_permutexvar_pd(_mm512_setr_epi64(4, 4, 5, 5, 6, 6, 7, 7), level3);
    return tree;
}

AVX512_INLINE void avx512_see_f64(__m512d *seen, __m512d x)
{
    *seen = _mm512_fmadd_pd(x, _mm512_setzero_pd(), *seen);
}

/* As avx512_codes32_f32, in 4 quarters of 8 rows: codes in int64 lanes. */
AVX512_INLINE void avx512_codes32_f64(const char *rows, ptrdiff_t quarter_stride,
                                      __m256i row_index, int gathered,
                                      const ptrdiff_t *offsets, const avx512_tree_f64 *tree,
                                      __m512i codes[4], __m512d seen[2])
{
    __mmask8 right[4];
    int q, t;
    for (q = 0; q < 4; q++) {
        const __m512d x = avx512_load8_f64(rows + offsets[0] + q * quarter_stride, row_index, gathered);
        avx512_see_f64(&seen[q % 2], x);
        right[q] = _mm512_cmp_pd_mask(x, tree->level0, _CMP_GT_OQ);
        codes[q] = _mm512_maskz_mov_epi64(right[q], _mm512_set1_epi64(8));
    }
    for (q = 0; q < 4; q++) {
        const __m512d x = avx512_load8_f64(rows + offsets[1] + q * quarter_stride, row_index, gathered);
        const __m512d threshold = _mm512_mask_blend_pd(right[q], tree->level1_left, tree->level1_right);
        avx512_see_f64(&seen[q % 2], x);
        right[q] = _mm512_cmp_pd_mask(x, threshold, _CMP_GT_OQ);
        codes[q] = _mm512_mask_add_epi64(codes[q], right[q], codes[q], _mm512_set1_epi64(4));
    }
    for (t = 2; t < AMM_TREE_DEPTH; t++) {
        const __m512d low = t == 2 ? tree->level2_low : tree->level3_low;
        const __m512d high = t == 2 ? tree->level2_high : tree->level3_high;
        const __m512i bit = _mm512_set1_epi64(t == 2 ? 2 : 1);
        for (q = 0; q < 4; q++) {
            const __m512d x = avx512_load8_f64(rows + offsets[t] + q * quarter_stride, row_index, gathered);
            avx512_see_f64(&seen[q % 2], x);
            right[q] = _mm512_cmp_pd_mask(x, _mm512_permutex2var_pd(low, codes[q], high), _CMP_GT_OQ);
            codes[q] = _mm512_mask_add_epi64(codes[q], right[q], codes[q], bit);
        }
    }
}

/* 16 rows of int64 lanes (rows 0-7, 8-15) as 16 int32 lanes. */
AVX512_INLINE __m512i avx512_join_rows(__m512i rows0, __m512i rows8)
{
    const __m512i low_halves = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14,
                                                 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_epi32(rows0, low_halves, rows8);
}

AVX512_INLINE __m256i avx512_pair_bytes_f64(const char *rows, ptrdiff_t quarter_stride,
                                            __m256i row_index, int gathered,
                                            const ptrdiff_t *offsets,
                                            const avx512_tree_f64 *low,
                                            const avx512_tree_f64 *high, int has_high,
                                            __m512d seen[4])
{
    __m512i codes[4], high_codes[4];
    int q;
    avx512_codes32_f64(rows, quarter_stride, row_index, gathered, offsets, low, codes, seen);
    if (has_high) {
        avx512_codes32_f64(rows, quarter_stride, row_index, gathered, offsets + AMM_TREE_DEPTH,
                           high, high_codes, seen + 2);
        for (q = 0; q < 4; q++) {
            codes[q] = _mm512_or_si512(codes[q], _mm512_slli_epi64(high_codes[q], 4));
        }
    }
    return avx512_pack_rows(avx512_join_rows(codes[0], codes[1]),
                            avx512_join_rows(codes[2], codes[3]));
}

AVX512_INLINE int avx512_any_nan_f64(const __m512d seen[4])
{
    const __m512d all = _mm512_add_pd(_mm512_add_pd(seen[0], seen[1]),
                                      _mm512_add_pd(seen[2], seen[3]));
    return _mm512_cmp_pd_mask(all, all, _CMP_UNORD_Q) != 0;
}

/* As avx512_columns_f32. */
AVX512_INLINE int avx512_columns_f64(const char *rows, ptrdiff_t block_stride,
                                     ptrdiff_t n_blocks, const ptrdiff_t *offsets,
                                     const double *thresholds, ptrdiff_t n_codebooks,
                                     uint8_t *out, ptrdiff_t out_stride)
{
    const __m256i unused_index = _mm256_setzero_si256();
    const ptrdiff_t quarter_stride = (AMM_ROWS_PER_BLOCK / 4) * (ptrdiff_t)sizeof(double);
    __m512d seen[4] = {_mm512_setzero_pd(), _mm512_setzero_pd(), _mm512_setzero_pd(),
                       _mm512_setzero_pd()};
    ptrdiff_t c, block;
    for (c = 0; c < n_codebooks; c += 2) {
        const int has_high = c + 1 < n_codebooks;
        const double *tree = thresholds + c * AMM_TREE_DEPTH * AMM_TREE_WIDTH;
        const avx512_tree_f64 low = avx512_load_tree_f64(tree);
        const avx512_tree_f64 high =
            has_high ? avx512_load_tree_f64(tree + AMM_TREE_DEPTH * AMM_TREE_WIDTH) : low;
        const ptrdiff_t *pair_offsets = offsets + c * AMM_TREE_DEPTH;
        uint8_t *pair_out = out + (c / 2) * AMM_ROWS_PER_BLOCK;
        for (block = 0; block < n_blocks; block++) {
            const char *block_rows = rows + block * block_stride;
            __m256i bytes;
            if (has_high) {
                bytes = avx512_pair_bytes_f64(block_rows, quarter_stride, unused_index, 0,
                                              pair_offsets, &low, &high, 1, seen);
            } else {
                bytes = avx512_pair_bytes_f64(block_rows, quarter_stride, unused_index, 0,
                                              pair_offsets, &low, &low, 0, seen);
            }
            _mm256_storeu_si256((__m256i *)(pair_out + block * out_stride), bytes);
        }
    }
    return avx512_any_nan_f64(seen);
}

/* As avx512_gathered_f32. */
AVX512_INLINE int avx512_gathered_f64(const amm_encode_problem *p, const char *rows,
                                      ptrdiff_t n_blocks, const avx512_tree_f64 *trees,
                                      uint8_t *out)
{
    const ptrdiff_t block_bytes = p->n_pairs * AMM_ROWS_PER_BLOCK;
    const ptrdiff_t quarter_stride = (AMM_ROWS_PER_BLOCK / 4) * p->row_stride;
    const __m256i row_index = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                                 _mm256_set1_epi32((int)p->row_stride));
    __m512d seen[4] = {_mm512_setzero_pd(), _mm512_setzero_pd(), _mm512_setzero_pd(),
                       _mm512_setzero_pd()};
    ptrdiff_t c, block;
    for (block = 0; block < n_blocks; block++) {
        const char *block_rows = rows + block * AMM_ROWS_PER_BLOCK * p->row_stride;
        uint8_t *block_out = out + block * block_bytes;
        for (c = 0; c + 1 < p->n_codebooks; c += 2) {
            const __m256i bytes = avx512_pair_bytes_f64(
                block_rows, quarter_stride, row_index, 1, p->split_offsets + c * AMM_TREE_DEPTH,
                &trees[c], &trees[c + 1], 1, seen);
            _mm256_storeu_si256((__m256i *)(block_out + (c / 2) * AMM_ROWS_PER_BLOCK), bytes);
        }
        if (c < p->n_codebooks) {
            const __m256i bytes = avx512_pair_bytes_f64(
                block_rows, quarter_stride, row_index, 1, p->split_offsets + c * AMM_TREE_DEPTH,
                &trees[c], &trees[c], 0, seen);
            _mm256_storeu_si256((__m256i *)(block_out + (c / 2) * AMM_ROWS_PER_BLOCK), bytes);
        }
    }
    return avx512_any_nan_f64(seen);
}

/* ------------------------------------------------------------ entry points */

/* Whether the rows of a block are read by gathers: any layout but F order
 * (whose columns are read with plain loads), when the offsets of the 16 (8)
 * rows of a vector fit the gathers' signed 32-bit indices. On a Sapphire
 * Rapids class Xeon (not slowed by the GDS microcode), C-order D = 512,
 * N = 100000, one thread, gathers against the AVX2 kernel's staging:
 * float32 C = 16 6.1e6 against 5.9e6 rows/s (copied split values), C = 64
 * 5.0e6 against 4.7e6 (8x8 transposes); float64 C = 16 3.9e6 against
 * 3.2e6. */
static int read_by_gathers(const amm_encode_problem *p, size_t itemsize)
{
    const ptrdiff_t reach = (AMM_ROWS_PER_BLOCK / 2) * (p->row_stride < 0 ? -p->row_stride
                                                                          : p->row_stride);
    return p->row_stride != (ptrdiff_t)itemsize && reach <= INT32_MAX;
}

/* 64-byte aligned room for n_codebooks trees of `tree_bytes`, or NULL. */
static void *alloc_trees(ptrdiff_t n_codebooks, size_t tree_bytes, void **allocation)
{
    char *room;
    *allocation = malloc((size_t)n_codebooks * tree_bytes + 64);
    if (*allocation == NULL) {
        return NULL;
    }
    room = (char *)*allocation;
    return room + (64 - (uintptr_t)room % 64) % 64;
}

AVX512_FUNCTION int amm_encode_avx512_f32(const amm_encode_problem *p,
                                          ptrdiff_t block_begin, ptrdiff_t block_end,
                                          uint8_t *out)
{
    const ptrdiff_t n_blocks = block_end - block_begin;
    const ptrdiff_t block_bytes = p->n_pairs * AMM_ROWS_PER_BLOCK;
    const ptrdiff_t block_stride = AMM_ROWS_PER_BLOCK * p->row_stride;
    const char *rows = p->X + block_begin * block_stride;
    const float *thresholds = (const float *)p->thresholds;
    int nonfinite = 0;
    if (p->row_stride == (ptrdiff_t)sizeof(float)) {
        nonfinite = avx512_columns_f32(rows, block_stride, n_blocks, p->split_offsets,
                                       thresholds, p->n_codebooks, out, block_bytes);
    } else if (read_by_gathers(p, sizeof(float))) {
        void *allocation;
        avx512_tree_f32 *trees = (avx512_tree_f32 *)alloc_trees(
            p->n_codebooks, sizeof(avx512_tree_f32), &allocation);
        ptrdiff_t c;
        if (trees == NULL) {
            return amm_encode_scalar_f32(p, block_begin, block_end, out);
        }
        for (c = 0; c < p->n_codebooks; c++) {
            trees[c] = avx512_load_tree_f32(thresholds + c * AMM_TREE_DEPTH * AMM_TREE_WIDTH);
        }
        nonfinite = avx512_gathered_f32(p, rows, n_blocks, trees, out);
        free(allocation);
    } else {
        amm_staging s;
        ptrdiff_t block;
        if (!amm_staging_alloc(&s, p, sizeof(float), 0)) {
            return amm_encode_scalar_f32(p, block_begin, block_end, out);
        }
        for (block = 0; block < n_blocks; block++) {
            amm_stage_block(p, rows + block * block_stride, s.buffer, sizeof(float));
            nonfinite |= avx512_columns_f32(s.buffer, 0, 1, s.offsets, thresholds,
                                            p->n_codebooks, out + block * block_bytes, 0);
        }
        amm_staging_free(&s);
    }
    amm_zero_padding_pairs(p, n_blocks, out);
    return nonfinite;
}

AVX512_FUNCTION int amm_encode_avx512_f64(const amm_encode_problem *p,
                                          ptrdiff_t block_begin, ptrdiff_t block_end,
                                          uint8_t *out)
{
    const ptrdiff_t n_blocks = block_end - block_begin;
    const ptrdiff_t block_bytes = p->n_pairs * AMM_ROWS_PER_BLOCK;
    const ptrdiff_t block_stride = AMM_ROWS_PER_BLOCK * p->row_stride;
    const char *rows = p->X + block_begin * block_stride;
    const double *thresholds = (const double *)p->thresholds;
    int nonfinite = 0;
    if (p->row_stride == (ptrdiff_t)sizeof(double)) {
        nonfinite = avx512_columns_f64(rows, block_stride, n_blocks, p->split_offsets,
                                       thresholds, p->n_codebooks, out, block_bytes);
    } else if (read_by_gathers(p, sizeof(double))) {
        void *allocation;
        avx512_tree_f64 *trees = (avx512_tree_f64 *)alloc_trees(
            p->n_codebooks, sizeof(avx512_tree_f64), &allocation);
        ptrdiff_t c;
        if (trees == NULL) {
            return amm_encode_scalar_f64(p, block_begin, block_end, out);
        }
        for (c = 0; c < p->n_codebooks; c++) {
            trees[c] = avx512_load_tree_f64(thresholds + c * AMM_TREE_DEPTH * AMM_TREE_WIDTH);
        }
        nonfinite = avx512_gathered_f64(p, rows, n_blocks, trees, out);
        free(allocation);
    } else {
        amm_staging s;
        ptrdiff_t block;
        if (!amm_staging_alloc(&s, p, sizeof(double), 0)) {
            return amm_encode_scalar_f64(p, block_begin, block_end, out);
        }
        for (block = 0; block < n_blocks; block++) {
            amm_stage_block(p, rows + block * block_stride, s.buffer, sizeof(double));
            nonfinite |= avx512_columns_f64(s.buffer, 0, 1, s.offsets, thresholds,
                                            p->n_codebooks, out + block * block_bytes, 0);
        }
        amm_staging_free(&s);
    }
    amm_zero_padding_pairs(p, n_blocks, out);
    return nonfinite;
}

#endif /* AMM_HAVE_X86_KERNELS */
