/* Staging of C-order rows for the x86 column kernels: AVX2 register
 * transposes of a row block's whole rows into a column-major buffer
 * (buffer[column][row], 32 rows a column), which the column kernels then
 * read with plain loads. The driver (encode.c) chooses them for rows short
 * next to the number of split values; the AVX2 and the AVX-512 kernel sets
 * both use them (encode_kernels.h).
 *
 * Compiled with function target attributes rather than -mavx2, as the
 * column kernels are; called only at SIMD levels that include AVX2.
 */
#include "encode_kernels.h"

#if AMM_HAVE_X86_KERNELS

#include <immintrin.h>

#define AVX2_TARGET "avx2,fma"
#define ENC_INLINE static inline __attribute__((always_inline, target(AVX2_TARGET)))
#define ENC_FUNCTION __attribute__((target(AVX2_TARGET)))

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
ENC_FUNCTION void amm_stage_avx2_f32(const char *rows, ptrdiff_t row_stride,
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

/* As amm_stage_avx2_f32, from doubles, each rounded to the nearest float
 * (overflowing to +-inf, as amm_nearest_float does). Its prefetches go 8
 * rows ahead, a cache line (8 doubles) each: at 75 doubles a row (29 MB,
 * read from memory) the transposes alone streamed 10.6 GB/s without them
 * and 18.0 GB/s with; at 27 doubles a row, X in the caches, they took 4%
 * longer. */
ENC_FUNCTION void amm_stage_avx2_f64_as_f32(const char *rows, ptrdiff_t row_stride,
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

/* As amm_stage_avx2_f32, 4 rows by 4 columns at a time. */
ENC_FUNCTION void amm_stage_avx2_f64(const char *rows, ptrdiff_t row_stride,
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

#endif /* AMM_HAVE_X86_KERNELS */
