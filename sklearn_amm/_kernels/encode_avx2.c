/* Encoder, AVX2 kernels (x86-64 only; see encode.h for what is computed).
 *
 * Compiled with function target attributes rather than -mavx2, so the rest
 * of the extension runs on any x86-64 CPU; encode.c calls these only at
 * level AMM_AVX2, which amm_cpu_supports() grants from CPUID.
 *
 * A vector holds one codebook's state for 8 rows (float32) or 4 rows
 * (float64), so the kernels read X down its columns, 32 rows (one block of
 * the packed layout) at a time. When consecutive rows are not adjacent in
 * memory (C order, strided views), each block is first staged into a small
 * column-major buffer (encode_staging.h): by 8x8 (4x4) register transposes
 * of whole rows when the rows are short, else by copying its split values
 * one by one. Both beat AVX2 gathers, which are slow on Zen 3.
 *
 * Each level compares x > threshold, which gives -1 (all bits set) where it
 * holds, so `2 * node - mask` descends one level without a branch.
 * _CMP_GT_OQ is false when either side is NaN: NaN goes left, as in the
 * reference. The threshold of a row's node is picked by:
 *   level 1 (2 nodes): a blend of two broadcasts, on the level-0 mask;
 *   level 2, 3: a permute of the level's register by the node number.
 * A blend costs one cycle of latency where a lane-crossing permute costs
 * several (8 on Zen 3), and the 4 levels form a dependent chain.
 */
#include "encode.h"

#if AMM_HAVE_X86_KERNELS

#include <immintrin.h>

#include "encode_staging.h"

#define AVX2_INLINE static inline __attribute__((always_inline, target("avx2,fma")))
#define AVX2_FUNCTION __attribute__((target("avx2,fma")))

/* 32 rows whose int32 lanes hold one byte value each, as 32 bytes in row
 * order. The packs work within 128-bit halves, so they leave groups of 4
 * rows in the order 0, 2, 4, 6, 1, 3, 5, 7, which the permute undoes. */
AVX2_INLINE __m256i pack_rows(__m256i rows0, __m256i rows8, __m256i rows16,
                              __m256i rows24)
{
    const __m256i words_low = _mm256_packs_epi32(rows0, rows8);
    const __m256i words_high = _mm256_packs_epi32(rows16, rows24);
    const __m256i bytes = _mm256_packus_epi16(words_low, words_high);
    return _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/* ---------------------------------------------------------------- float32 */

/* One codebook's thresholds. Level t uses the first 2**t entries of its
 * register; the others are never selected. */
typedef struct {
    __m256 level0, level1_left, level1_right, level2, level3;
} tree_f32;

AVX2_INLINE tree_f32 load_tree_f32(const float *thresholds)
{
    tree_f32 tree;
    tree.level0 = _mm256_broadcast_ss(thresholds);
    tree.level1_left = _mm256_broadcast_ss(thresholds + AMM_TREE_WIDTH);
    tree.level1_right = _mm256_broadcast_ss(thresholds + AMM_TREE_WIDTH + 1);
    tree.level2 = _mm256_loadu_ps(thresholds + 2 * AMM_TREE_WIDTH);
    tree.level3 = _mm256_loadu_ps(thresholds + 3 * AMM_TREE_WIDTH);
    return tree;
}

/* Non-finite values among those compared: seen[q] = x * 0 + seen[q] for
 * every value x of row group q. x * 0 is 0 for finite x and NaN for NaN and
 * +-inf, and NaN stays, so seen[q] ends NaN exactly when a value was not
 * finite. One FMA per vector, on ports the compare chain leaves idle, and
 * one accumulator per row group, so the FMA latency chains stay short. */
AVX2_INLINE void see_f32(__m256 *seen, __m256 x)
{
    *seen = _mm256_fmadd_ps(x, _mm256_setzero_ps(), *seen);
}

AVX2_INLINE int any_nan_f32(const __m256 seen[4])
{
    const __m256 all = _mm256_add_ps(_mm256_add_ps(seen[0], seen[1]),
                                     _mm256_add_ps(seen[2], seen[3]));
    return _mm256_movemask_ps(_mm256_cmp_ps(all, all, _CMP_UNORD_Q)) != 0;
}

/* Codes (0..15, in int32 lanes) of 32 rows in one codebook:
 * X[r, split t] is at rows + offsets[t] + 4 r. The 4 groups of 8 rows go
 * level by level, so that their dependent chains overlap. */
AVX2_INLINE void codes32_f32(const char *rows, const ptrdiff_t *offsets,
                             const tree_f32 *tree, __m256i codes[4], __m256 seen[4])
{
    __m256 right0[4];
    __m256i node[4];
    int q;
    for (q = 0; q < 4; q++) {
        const __m256 x = _mm256_loadu_ps((const float *)(rows + offsets[0]) + 8 * q);
        see_f32(&seen[q], x);
        right0[q] = _mm256_cmp_ps(x, tree->level0, _CMP_GT_OQ);
    }
    for (q = 0; q < 4; q++) {
        const __m256 x = _mm256_loadu_ps((const float *)(rows + offsets[1]) + 8 * q);
        see_f32(&seen[q], x);
        const __m256 threshold =
            _mm256_blendv_ps(tree->level1_left, tree->level1_right, right0[q]);
        const __m256i right1 = _mm256_castps_si256(_mm256_cmp_ps(x, threshold, _CMP_GT_OQ));
        /* node = 2 b0 + b1 */
        node[q] = _mm256_sub_epi32(
            _mm256_and_si256(_mm256_castps_si256(right0[q]), _mm256_set1_epi32(2)), right1);
    }
    for (q = 0; q < 4; q++) {
        const __m256 x = _mm256_loadu_ps((const float *)(rows + offsets[2]) + 8 * q);
        see_f32(&seen[q], x);
        const __m256i right = _mm256_castps_si256(
            _mm256_cmp_ps(x, _mm256_permutevar8x32_ps(tree->level2, node[q]), _CMP_GT_OQ));
        node[q] = _mm256_sub_epi32(_mm256_add_epi32(node[q], node[q]), right);
    }
    for (q = 0; q < 4; q++) {
        const __m256 x = _mm256_loadu_ps((const float *)(rows + offsets[3]) + 8 * q);
        see_f32(&seen[q], x);
        const __m256i right = _mm256_castps_si256(
            _mm256_cmp_ps(x, _mm256_permutevar8x32_ps(tree->level3, node[q]), _CMP_GT_OQ));
        codes[q] = _mm256_sub_epi32(_mm256_add_epi32(node[q], node[q]), right);
    }
}

/* Packed bytes of codebooks c (low nibble) and c + 1 (if `has_high`) for
 * 32 rows; `offsets` starts at codebook c, `low` and `high` are their trees. */
AVX2_INLINE __m256i pair_bytes_f32(const char *rows, const ptrdiff_t *offsets,
                                   const tree_f32 *low, const tree_f32 *high, int has_high,
                                   __m256 seen[4])
{
    __m256i codes[4], high_codes[4];
    int q;
    codes32_f32(rows, offsets, low, codes, seen);
    if (has_high) {
        codes32_f32(rows, offsets + AMM_TREE_DEPTH, high, high_codes, seen);
        for (q = 0; q < 4; q++) {
            codes[q] = _mm256_or_si256(codes[q], _mm256_slli_epi32(high_codes[q], 4));
        }
    }
    return pack_rows(codes[0], codes[1], codes[2], codes[3]);
}

/* Codebooks [0, n_codebooks) of `offsets` and `thresholds` over n_blocks
 * blocks: block b's rows start at rows + b * block_stride and its bytes go
 * to out + b * out_stride. One pair at a time, so each split column is read
 * as one contiguous run. Returns 1 if a value compared was not finite. */
AVX2_INLINE int encode_columns_f32(const char *rows, ptrdiff_t block_stride,
                                   ptrdiff_t n_blocks, const ptrdiff_t *offsets,
                                   const float *thresholds, ptrdiff_t n_codebooks,
                                   uint8_t *out, ptrdiff_t out_stride)
{
    __m256 seen[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                      _mm256_setzero_ps()};
    ptrdiff_t c, block;
    for (c = 0; c < n_codebooks; c += 2) {
        const int has_high = c + 1 < n_codebooks;
        const float *tree = thresholds + c * AMM_TREE_DEPTH * AMM_TREE_WIDTH;
        const tree_f32 low = load_tree_f32(tree);
        const tree_f32 high =
            has_high ? load_tree_f32(tree + AMM_TREE_DEPTH * AMM_TREE_WIDTH) : low;
        const ptrdiff_t *pair_offsets = offsets + c * AMM_TREE_DEPTH;
        for (block = 0; block < n_blocks; block++) {
            const char *block_rows = rows + block * block_stride;
            __m256i bytes;
            /* Two calls with a constant `has_high`, so that each is compiled
             * without the test. */
            if (has_high) {
                bytes = pair_bytes_f32(block_rows, pair_offsets, &low, &high, 1, seen);
            } else {
                bytes = pair_bytes_f32(block_rows, pair_offsets, &low, &low, 0, seen);
            }
            _mm256_storeu_si256((__m256i *)(out + block * out_stride + (c / 2) * AMM_ROWS_PER_BLOCK),
                                bytes);
        }
    }
    return any_nan_f32(seen);
}

/* ---------------------------------------------------------------- float64 */

/* One codebook's thresholds. Level 1 (2 nodes) is a blend of two broadcasts,
 * level 2 (4 nodes) one register, level 3 (8 nodes) two. */
typedef struct {
    __m256d level0, level1_left, level1_right, level2, level3_low, level3_high;
} tree_f64;

AVX2_INLINE tree_f64 load_tree_f64(const double *thresholds)
{
    tree_f64 tree;
    tree.level0 = _mm256_broadcast_sd(thresholds);
    tree.level1_left = _mm256_broadcast_sd(thresholds + AMM_TREE_WIDTH);
    tree.level1_right = _mm256_broadcast_sd(thresholds + AMM_TREE_WIDTH + 1);
    tree.level2 = _mm256_loadu_pd(thresholds + 2 * AMM_TREE_WIDTH);
    tree.level3_low = _mm256_loadu_pd(thresholds + 3 * AMM_TREE_WIDTH);
    tree.level3_high = _mm256_loadu_pd(thresholds + 3 * AMM_TREE_WIDTH + 4);
    return tree;
}

/* A double of a 4-double register, picked per 64-bit lane by a 32-bit
 * permute whose index holds (2n, 2n + 1) for double n (mod 4). */
AVX2_INLINE __m256d pick_f64(__m256d level, __m256i pair_index)
{
    return _mm256_castps_pd(_mm256_permutevar8x32_ps(_mm256_castpd_ps(level), pair_index));
}

/* As see_f32 and any_nan_f32. */
AVX2_INLINE void see_f64(__m256d *seen, __m256d x)
{
    *seen = _mm256_fmadd_pd(x, _mm256_setzero_pd(), *seen);
}

AVX2_INLINE int any_nan_f64(const __m256d seen[4])
{
    const __m256d all = _mm256_add_pd(_mm256_add_pd(seen[0], seen[1]),
                                      _mm256_add_pd(seen[2], seen[3]));
    return _mm256_movemask_pd(_mm256_cmp_pd(all, all, _CMP_UNORD_Q)) != 0;
}

/* Codes of 4 rows in one codebook, in the low 32 bits of each 64-bit lane
 * (the high 32 bits are not meaningful): X[r, split t] is at
 * rows + offsets[t] + 8 r. */
AVX2_INLINE __m256i codes4_f64(const char *rows, const ptrdiff_t *offsets,
                               const tree_f64 *tree, __m256d *seen)
{
    __m256d x = _mm256_loadu_pd((const double *)(rows + offsets[0]));
    see_f64(seen, x);
    const __m256d right0 = _mm256_cmp_pd(x, tree->level0, _CMP_GT_OQ);

    x = _mm256_loadu_pd((const double *)(rows + offsets[1]));
    see_f64(seen, x);
    const __m256d right1 = _mm256_cmp_pd(
        x, _mm256_blendv_pd(tree->level1_left, tree->level1_right, right0), _CMP_GT_OQ);

    /* Node n = 2 b0 + b1, as the index pair (2n, 2n + 1) = (4 b0 + 2 b1) + (0, 1). */
    __m256i pair_index = _mm256_or_si256(
        _mm256_or_si256(_mm256_and_si256(_mm256_castpd_si256(right0), _mm256_set1_epi32(4)),
                        _mm256_and_si256(_mm256_castpd_si256(right1), _mm256_set1_epi32(2))),
        _mm256_setr_epi32(0, 1, 0, 1, 0, 1, 0, 1));
    x = _mm256_loadu_pd((const double *)(rows + offsets[2]));
    see_f64(seen, x);
    const __m256i right2 = _mm256_castpd_si256(
        _mm256_cmp_pd(x, pick_f64(tree->level2, pair_index), _CMP_GT_OQ));

    /* Node 2n + b2: its pair (4n + 2 b2, 4n + 2 b2 + 1) = 2 (pair - mask) + (0, -1).
     * The permute reads 3 bits: the node mod 4; bit 3 of the low half (the
     * node's bit 2) chooses the register, through the lane's sign bit. */
    pair_index = _mm256_sub_epi32(pair_index, right2);
    pair_index = _mm256_add_epi32(_mm256_add_epi32(pair_index, pair_index),
                                  _mm256_setr_epi32(0, -1, 0, -1, 0, -1, 0, -1));
    x = _mm256_loadu_pd((const double *)(rows + offsets[3]));
    see_f64(seen, x);
    const __m256d threshold3 = _mm256_blendv_pd(
        pick_f64(tree->level3_low, pair_index), pick_f64(tree->level3_high, pair_index),
        _mm256_castsi256_pd(_mm256_slli_epi64(pair_index, 60)));
    const __m256i right3 = _mm256_castpd_si256(_mm256_cmp_pd(x, threshold3, _CMP_GT_OQ));

    /* The low half of the pair index is 2n; the code is 2n + b3. */
    return _mm256_sub_epi32(pair_index, right3);
}

/* 8 rows of 4-row results (low 32 bits of 64-bit lanes) as 8 int32 lanes. */
AVX2_INLINE __m256i join_rows(__m256i rows0, __m256i rows4)
{
    /* Low halves of both: rows 0 1 4 5 | 2 3 6 7; then reorder 64-bit pairs. */
    const __m256i mixed = _mm256_castps_si256(_mm256_shuffle_ps(
        _mm256_castsi256_ps(rows0), _mm256_castsi256_ps(rows4), _MM_SHUFFLE(2, 0, 2, 0)));
    return _mm256_permute4x64_epi64(mixed, _MM_SHUFFLE(3, 1, 2, 0));
}

/* Row group q of 4 rows feeds accumulator seen[q % 4]. */
AVX2_INLINE __m256i pair_bytes_f64(const char *rows, const ptrdiff_t *offsets,
                                   const tree_f64 *low, const tree_f64 *high, int has_high,
                                   __m256d seen[4])
{
    __m256i codes[8];
    int q;
    for (q = 0; q < 8; q++) {
        codes[q] = codes4_f64(rows + 4 * q * (ptrdiff_t)sizeof(double), offsets, low,
                              &seen[q % 4]);
    }
    if (has_high) {
        for (q = 0; q < 8; q++) {
            const __m256i high_codes = codes4_f64(rows + 4 * q * (ptrdiff_t)sizeof(double),
                                                  offsets + AMM_TREE_DEPTH, high,
                                                  &seen[q % 4]);
            codes[q] = _mm256_or_si256(codes[q], _mm256_slli_epi32(high_codes, 4));
        }
    }
    return pack_rows(join_rows(codes[0], codes[1]), join_rows(codes[2], codes[3]),
                     join_rows(codes[4], codes[5]), join_rows(codes[6], codes[7]));
}

/* As encode_columns_f32. */
AVX2_INLINE int encode_columns_f64(const char *rows, ptrdiff_t block_stride,
                                   ptrdiff_t n_blocks, const ptrdiff_t *offsets,
                                   const double *thresholds, ptrdiff_t n_codebooks,
                                   uint8_t *out, ptrdiff_t out_stride)
{
    __m256d seen[4] = {_mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd(),
                       _mm256_setzero_pd()};
    ptrdiff_t c, block;
    for (c = 0; c < n_codebooks; c += 2) {
        const int has_high = c + 1 < n_codebooks;
        const double *tree = thresholds + c * AMM_TREE_DEPTH * AMM_TREE_WIDTH;
        const tree_f64 low = load_tree_f64(tree);
        const tree_f64 high =
            has_high ? load_tree_f64(tree + AMM_TREE_DEPTH * AMM_TREE_WIDTH) : low;
        const ptrdiff_t *pair_offsets = offsets + c * AMM_TREE_DEPTH;
        for (block = 0; block < n_blocks; block++) {
            const char *block_rows = rows + block * block_stride;
            __m256i bytes;
            if (has_high) {
                bytes = pair_bytes_f64(block_rows, pair_offsets, &low, &high, 1, seen);
            } else {
                bytes = pair_bytes_f64(block_rows, pair_offsets, &low, &low, 0, seen);
            }
            _mm256_storeu_si256((__m256i *)(out + block * out_stride + (c / 2) * AMM_ROWS_PER_BLOCK),
                                bytes);
        }
    }
    return any_nan_f64(seen);
}

/* ------------------------------------------------ staging C-order rows */

/* Transposes the 32 rows starting at `rows` (C order: columns adjacent)
 * into buffer[column][row], 8 rows by 8 columns at a time. The last group
 * of columns is read with a masked load, which reads nothing past the row. */
AVX2_INLINE void transpose_block_f32(const char *rows, ptrdiff_t row_stride,
                                     ptrdiff_t n_features, float *buffer)
{
    const ptrdiff_t n_groups = (n_features + 7) / 8;
    const int tail = (int)(n_features - 8 * (n_groups - 1));
    const __m256i tail_mask = _mm256_cmpgt_epi32(
        _mm256_set1_epi32(tail), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    ptrdiff_t g;
    int q, i;
    for (q = 0; q < 4; q++) {
        const char *rows8 = rows + 8 * q * row_stride;
        for (g = 0; g < n_groups; g++) {
            __m256 r[8], t[8], u[8];
            for (i = 0; i < 8; i++) {
                const float *source = (const float *)(rows8 + i * row_stride) + 8 * g;
                r[i] = g + 1 < n_groups ? _mm256_loadu_ps(source)
                                        : _mm256_maskload_ps(source, tail_mask);
            }
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
            /* u[i] holds columns i (low half) and i + 4 (high half) of rows
             * 0-3; u[i + 4] the same of rows 4-7. */
            for (i = 0; i < 4; i++) {
                float *column = buffer + (8 * g + i) * AMM_ROWS_PER_BLOCK + 8 * q;
                _mm256_storeu_ps(column, _mm256_permute2f128_ps(u[i], u[i + 4], 0x20));
                _mm256_storeu_ps(column + 4 * AMM_ROWS_PER_BLOCK,
                                 _mm256_permute2f128_ps(u[i], u[i + 4], 0x31));
            }
        }
    }
}

/* As transpose_block_f32, 4 rows by 4 columns at a time. */
AVX2_INLINE void transpose_block_f64(const char *rows, ptrdiff_t row_stride,
                                     ptrdiff_t n_features, double *buffer)
{
    const ptrdiff_t n_groups = (n_features + 3) / 4;
    const int tail = (int)(n_features - 4 * (n_groups - 1));
    const __m256i tail_mask = _mm256_cmpgt_epi64(
        _mm256_set1_epi64x(tail), _mm256_setr_epi64x(0, 1, 2, 3));
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
                double *column = buffer + 4 * g * AMM_ROWS_PER_BLOCK + 4 * q;
                _mm256_storeu_pd(column, _mm256_permute2f128_pd(t0, t2, 0x20));
                _mm256_storeu_pd(column + AMM_ROWS_PER_BLOCK, _mm256_permute2f128_pd(t1, t3, 0x20));
                _mm256_storeu_pd(column + 2 * AMM_ROWS_PER_BLOCK,
                                 _mm256_permute2f128_pd(t0, t2, 0x31));
                _mm256_storeu_pd(column + 3 * AMM_ROWS_PER_BLOCK,
                                 _mm256_permute2f128_pd(t1, t3, 0x31));
            }
        }
    }
}

/* Whether a block is staged by transposing whole rows rather than copying
 * its split values one by one: for C-order X whose rows are short next to
 * the number of split values, and whose transposed block stays within L2.
 * A transposed value costs under one instruction and a copied one about
 * five, but transposing reads and writes every column. The limit is where
 * the two took about the same time on Zen 3 (D = 512, N = 100000, C = 16 to
 * 64, float32 and float64); Caltech-like rows (D = 27 or 75 at C = 16) are
 * 2 to 6 times faster transposed. */
#define TRANSPOSE_MAX_COLUMNS_PER_SPLIT 2
#define TRANSPOSE_MAX_BYTES (256 * 1024)

static int stage_by_transposing(const amm_encode_problem *p, size_t itemsize)
{
    return p->by_rows && p->col_stride == (ptrdiff_t)itemsize
           && p->n_features <= TRANSPOSE_MAX_COLUMNS_PER_SPLIT * AMM_TREE_DEPTH * p->n_codebooks
           && p->n_features * AMM_ROWS_PER_BLOCK * (ptrdiff_t)itemsize <= TRANSPOSE_MAX_BYTES;
}

/* ------------------------------------------------------------ entry points */

AVX2_FUNCTION int amm_encode_avx2_f32(const amm_encode_problem *p,
                                      ptrdiff_t block_begin, ptrdiff_t block_end,
                                      uint8_t *out)
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
        if (!amm_staging_alloc(&s, p, sizeof(float), stage_by_transposing(p, sizeof(float)))) {
            return amm_encode_scalar_f32(p, block_begin, block_end, out);
        }
        for (block = 0; block < n_blocks; block++) {
            if (s.transpose) {
                transpose_block_f32(rows + block * block_stride, p->row_stride,
                                       p->n_features, (float *)s.buffer);
            } else {
                amm_stage_block(p, rows + block * block_stride, s.buffer, sizeof(float));
            }
            nonfinite |= encode_columns_f32(s.buffer, 0, 1, s.offsets, thresholds,
                                            p->n_codebooks, out + block * block_bytes, 0);
        }
        amm_staging_free(&s);
    }
    amm_zero_padding_pairs(p, n_blocks, out);
    return nonfinite;
}

AVX2_FUNCTION int amm_encode_avx2_f64(const amm_encode_problem *p,
                                      ptrdiff_t block_begin, ptrdiff_t block_end,
                                      uint8_t *out)
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
        if (!amm_staging_alloc(&s, p, sizeof(double), stage_by_transposing(p, sizeof(double)))) {
            return amm_encode_scalar_f64(p, block_begin, block_end, out);
        }
        for (block = 0; block < n_blocks; block++) {
            if (s.transpose) {
                transpose_block_f64(rows + block * block_stride, p->row_stride,
                                       p->n_features, (double *)s.buffer);
            } else {
                amm_stage_block(p, rows + block * block_stride, s.buffer, sizeof(double));
            }
            nonfinite |= encode_columns_f64(s.buffer, 0, 1, s.offsets, thresholds,
                                            p->n_codebooks, out + block * block_bytes, 0);
        }
        amm_staging_free(&s);
    }
    amm_zero_padding_pairs(p, n_blocks, out);
    return nonfinite;
}

#endif /* AMM_HAVE_X86_KERNELS */
