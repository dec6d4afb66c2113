/* The SSSE3 and AVX2 scans: scan_simd.h instantiated for each instruction
 * set, enabled per function with target attributes (the file is built
 * without any -m flag, so it runs on every x86-64 CPU until one of these
 * functions is called; the dispatcher calls only what the CPU supports). */
#include "scan.h"

#if AMM_HAVE_X86_KERNELS

#include <immintrin.h>
#include <string.h>

#include "scan_sink.h"

#define PASTE_(a, b) a##b
#define PASTE(a, b) PASTE_(a, b)

/* pshufb mask putting bytes 4k..4k+3 of each 16-byte lane, zero-extended, in
 * the lane's four 32-bit elements. */
#define DWORD_MASK(k, d) ((int)(0x80808000u | (4 * (k) + (d))))
#define DWORD_MASK_128(k) \
    _mm_setr_epi32(DWORD_MASK(k, 0), DWORD_MASK(k, 1), DWORD_MASK(k, 2), DWORD_MASK(k, 3))

/* ------------------------------------------------------------------ AVX2 */
/* target("avx2") only: without "fma" the compiler cannot contract the
 * de-quantizing multiply and add, which must round twice like NumPy. */
#define SCAN_TARGET __attribute__((target("avx2")))
#define SCAN_INLINE static inline __attribute__((always_inline, target("avx2")))
#define FN(name) PASTE(name, _avx2)
#define vec __m256i
#define V_ROWS 32
#define v_codes(p, next) _mm256_loadu_si256((const __m256i *)(p))
#define v_table(p) _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(p)))
#define v_shuffle(t, i) _mm256_shuffle_epi8((t), (i))
#define v_avg(a, b) _mm256_avg_epu8((a), (b))
#define v_and(a, b) _mm256_and_si256((a), (b))
#define v_add16(a, b) _mm256_add_epi16((a), (b))
#define v_maddubs(a, b) _mm256_maddubs_epi16((a), (b))
#define v_add32(a, b) _mm256_add_epi32((a), (b))
/* x >> 4 per 16-bit lane as the high half of x * 2^12: the multiplier runs
 * beside the shuffle unit, which the lookups keep busy; the mask drops the
 * bits that crossed from the neighbouring byte. */
#define v_high_nibbles(x) \
    _mm256_and_si256(_mm256_mulhi_epu16((x), _mm256_set1_epi16(1 << 12)), \
                     _mm256_set1_epi8(0x0F))
#define v_bytes(x) _mm256_set1_epi8((char)(x))
#define v_words(x) _mm256_set1_epi16((short)(x))
#define v_zero() _mm256_setzero_si256()

/* Where rows [row, row + rows) of the sink's output t go: the output
 * itself, or for a last, partial block a scratch buffer copied out
 * afterwards, so that rows past n_samples are never written. */
#define DESTINATION(type, rows_per_vector)                                   \
    type *out = (type *)sink->out[t] + row;                                   \
    type *dst = rows == (rows_per_vector) ? out : (type *)tail
#define FLUSH_TAIL(type)                                                      \
    if (dst != out) {                                                         \
        memcpy(out, tail, rows * sizeof(type));                               \
    }

/* u32 totals of rows 0-7, 8-15, 16-23, 24-31 to output t (int32, float). */
SCAN_INLINE void write32_avx2(const amm_scan_sink *sink, int t,
                              ptrdiff_t row, int rows, const __m256i *quad)
{
    double tail[32];
    int i;
    switch (sink->output) {
    case AMM_OUT_INT32: {
        DESTINATION(int32_t, 32);
        for (i = 0; i < 4; i++) {
            _mm256_storeu_si256((__m256i *)(dst + 8 * i), quad[i]);
        }
        FLUSH_TAIL(int32_t);
        break;
    }
    case AMM_OUT_FLOAT32: {
        DESTINATION(float, 32);
        const __m256 multiplier =
            _mm256_set1_ps(sink->multiplier_f32[t]);
        const __m256 shift = _mm256_set1_ps(sink->shift_f32[t]);
        for (i = 0; i < 4; i++) {
            __m256 y = _mm256_cvtepi32_ps(quad[i]);
            y = _mm256_add_ps(_mm256_mul_ps(y, multiplier), shift);
            _mm256_storeu_ps(dst + 8 * i, y);
        }
        FLUSH_TAIL(float);
        break;
    }
    case AMM_OUT_FLOAT64: {
        DESTINATION(double, 32);
        const __m256d multiplier =
            _mm256_set1_pd(sink->multiplier_f64[t]);
        const __m256d shift =
            _mm256_set1_pd(sink->shift_f64[t]);
        for (i = 0; i < 4; i++) {
            __m256d y0 = _mm256_cvtepi32_pd(_mm256_castsi256_si128(quad[i]));
            __m256d y1 = _mm256_cvtepi32_pd(_mm256_extracti128_si256(quad[i], 1));
            y0 = _mm256_add_pd(_mm256_mul_pd(y0, multiplier), shift);
            y1 = _mm256_add_pd(_mm256_mul_pd(y1, multiplier), shift);
            _mm256_storeu_pd(dst + 8 * i, y0);
            _mm256_storeu_pd(dst + 8 * i + 4, y1);
        }
        FLUSH_TAIL(double);
        break;
    }
    }
}

/* even/odd 16-bit totals (lane 0: rows 0-15, lane 1: rows 16-31) to u32 in
 * row order. The in-lane unpacks give rows 0-7 | 16-23 and 8-15 | 24-31. */
SCAN_INLINE void widen_avx2(__m256i even, __m256i odd, __m256i *quad)
{
    const __m256i lo = _mm256_unpacklo_epi16(even, odd);
    const __m256i hi = _mm256_unpackhi_epi16(even, odd);
    quad[0] = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(lo));
    quad[1] = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(hi));
    quad[2] = _mm256_cvtepu16_epi32(_mm256_extracti128_si256(lo, 1));
    quad[3] = _mm256_cvtepu16_epi32(_mm256_extracti128_si256(hi, 1));
}

SCAN_INLINE void write16_avx2(const amm_scan_sink *sink, int t,
                              ptrdiff_t row, int rows, __m256i even,
                              __m256i odd)
{
    if (sink->output == AMM_OUT_UINT16) {
        uint16_t tail[32];
        DESTINATION(uint16_t, 32);
        const __m256i lo = _mm256_unpacklo_epi16(even, odd); /* 0-7 | 16-23 */
        const __m256i hi = _mm256_unpackhi_epi16(even, odd); /* 8-15 | 24-31 */
        /* Four 16-byte stores: the lane-crossing permutes would cost the
         * shuffle unit, which the lookups keep busy. */
        _mm_storeu_si128((__m128i *)dst, _mm256_castsi256_si128(lo));
        _mm_storeu_si128((__m128i *)(dst + 8), _mm256_castsi256_si128(hi));
        _mm_storeu_si128((__m128i *)(dst + 16), _mm256_extracti128_si256(lo, 1));
        _mm_storeu_si128((__m128i *)(dst + 24), _mm256_extracti128_si256(hi, 1));
        FLUSH_TAIL(uint16_t);
    } else {
        __m256i quad[4];
        widen_avx2(even, odd, quad);
        write32_avx2(sink, t, row, rows, quad);
    }
}

/* Totals root * width of one output, root: 32 bytes in row order. */
SCAN_INLINE void write_root_avx2(const amm_scan_sink *sink, int t,
                                 ptrdiff_t row, int rows, __m256i root)
{
    double tail[32];
    __m256i q[4]; /* vector k: rows 8k..8k+7 */
    __m128i count;
    const int width = sink->width;
    const int shift_root = sink->shift_root[t];
    int k;
    switch (sink->output) {
    case AMM_OUT_UINT8: {
        DESTINATION(uint8_t, 32);
        _mm256_storeu_si256((__m256i *)dst, root);
        FLUSH_TAIL(uint8_t);
        return;
    }
    case AMM_OUT_UINT16:
        write16_avx2(sink, t, row, rows,
                     _mm256_maddubs_epi16(root, _mm256_set1_epi16((short)width)),
                     _mm256_maddubs_epi16(root, _mm256_set1_epi16((short)(width << 8))));
        return;
    }
    {
        /* rows 0-15 in both lanes, then rows 16-31: pshufb then picks any
         * 4 of them per lane, so vector k holds rows 8k..8k+7 in order. */
        const __m256i low = _mm256_permute4x64_epi64(root, 0x44);
        const __m256i high = _mm256_permute4x64_epi64(root, 0xEE);
        const __m256i first = _mm256_setr_epi32(
            DWORD_MASK(0, 0), DWORD_MASK(0, 1), DWORD_MASK(0, 2), DWORD_MASK(0, 3),
            DWORD_MASK(1, 0), DWORD_MASK(1, 1), DWORD_MASK(1, 2), DWORD_MASK(1, 3));
        const __m256i second = _mm256_setr_epi32(
            DWORD_MASK(2, 0), DWORD_MASK(2, 1), DWORD_MASK(2, 2), DWORD_MASK(2, 3),
            DWORD_MASK(3, 0), DWORD_MASK(3, 1), DWORD_MASK(3, 2), DWORD_MASK(3, 3));
        q[0] = _mm256_shuffle_epi8(low, first);
        q[1] = _mm256_shuffle_epi8(low, second);
        q[2] = _mm256_shuffle_epi8(high, first);
        q[3] = _mm256_shuffle_epi8(high, second);
    }
    switch (sink->output) {
    case AMM_OUT_INT32: {
        DESTINATION(int32_t, 32);
        count = _mm_cvtsi32_si128(__builtin_ctz((unsigned)width));
        for (k = 0; k < 4; k++) {
            const __m256i total = _mm256_sll_epi32(q[k], count);
            _mm256_storeu_si256((__m256i *)(dst + 8 * k), total);
        }
        FLUSH_TAIL(int32_t);
        break;
    }
    case AMM_OUT_FLOAT32: {
        DESTINATION(float, 32);
        const __m256 multiplier = _mm256_set1_ps(sink->multiplier_f32[t]);
        const __m256 shift = _mm256_set1_ps(sink->shift_f32[t]);
        count = _mm_cvtsi32_si128(shift_root);
        for (k = 0; k < 4; k++) {
            const __m256i total = shift_root ? _mm256_sll_epi32(q[k], count) : q[k];
            __m256 y = _mm256_cvtepi32_ps(total);
            y = _mm256_add_ps(_mm256_mul_ps(y, multiplier), shift);
            _mm256_storeu_ps(dst + 8 * k, y);
        }
        FLUSH_TAIL(float);
        break;
    }
    case AMM_OUT_FLOAT64: {
        DESTINATION(double, 32);
        const __m256d multiplier = _mm256_set1_pd(sink->multiplier_f64[t]);
        const __m256d shift = _mm256_set1_pd(sink->shift_f64[t]);
        count = _mm_cvtsi32_si128(shift_root);
        for (k = 0; k < 4; k++) {
            const __m256i y = shift_root ? _mm256_sll_epi32(q[k], count) : q[k];
            __m256d y0 = _mm256_cvtepi32_pd(_mm256_castsi256_si128(y));
            __m256d y1 = _mm256_cvtepi32_pd(_mm256_extracti128_si256(y, 1));
            y0 = _mm256_add_pd(_mm256_mul_pd(y0, multiplier), shift);
            y1 = _mm256_add_pd(_mm256_mul_pd(y1, multiplier), shift);
            _mm256_storeu_pd(dst + 8 * k, y0);
            _mm256_storeu_pd(dst + 8 * k + 4, y1);
        }
        FLUSH_TAIL(double);
        break;
    }
    }
}

#include "scan_simd.h"

#undef SCAN_TARGET
#undef SCAN_INLINE
#undef FN
#undef vec
#undef V_ROWS
#undef v_codes
#undef v_table
#undef v_shuffle
#undef v_avg
#undef v_and
#undef v_add16
#undef v_maddubs
#undef v_add32
#undef v_high_nibbles
#undef v_bytes
#undef v_words
#undef v_zero

/* ----------------------------------------------------------------- SSSE3 */
/* 16 rows per vector: each 32-row block is scanned as two halves. */
#define SCAN_TARGET __attribute__((target("ssse3")))
#define SCAN_INLINE static inline __attribute__((always_inline, target("ssse3")))
#define FN(name) PASTE(name, _ssse3)
#define vec __m128i
#define V_ROWS 16
#define v_codes(p, next) _mm_loadu_si128((const __m128i *)(p))
#define v_table(p) _mm_loadu_si128((const __m128i *)(p))
#define v_shuffle(t, i) _mm_shuffle_epi8((t), (i))
#define v_avg(a, b) _mm_avg_epu8((a), (b))
#define v_and(a, b) _mm_and_si128((a), (b))
#define v_add16(a, b) _mm_add_epi16((a), (b))
#define v_maddubs(a, b) _mm_maddubs_epi16((a), (b))
#define v_add32(a, b) _mm_add_epi32((a), (b))
#define v_high_nibbles(x) \
    _mm_and_si128(_mm_mulhi_epu16((x), _mm_set1_epi16(1 << 12)), _mm_set1_epi8(0x0F))
#define v_bytes(x) _mm_set1_epi8((char)(x))
#define v_words(x) _mm_set1_epi16((short)(x))
#define v_zero() _mm_setzero_si128()

/* u32 totals of rows 0-3, 4-7, 8-11, 12-15 to output t (int32, float). */
SCAN_INLINE void write32_ssse3(const amm_scan_sink *sink, int t,
                               ptrdiff_t row, int rows, const __m128i *quad)
{
    double tail[16];
    int i;
    switch (sink->output) {
    case AMM_OUT_INT32: {
        DESTINATION(int32_t, 16);
        for (i = 0; i < 4; i++) {
            _mm_storeu_si128((__m128i *)(dst + 4 * i), quad[i]);
        }
        FLUSH_TAIL(int32_t);
        break;
    }
    case AMM_OUT_FLOAT32: {
        DESTINATION(float, 16);
        const __m128 multiplier = _mm_set1_ps(sink->multiplier_f32[t]);
        const __m128 shift = _mm_set1_ps(sink->shift_f32[t]);
        for (i = 0; i < 4; i++) {
            __m128 y = _mm_cvtepi32_ps(quad[i]);
            y = _mm_add_ps(_mm_mul_ps(y, multiplier), shift);
            _mm_storeu_ps(dst + 4 * i, y);
        }
        FLUSH_TAIL(float);
        break;
    }
    case AMM_OUT_FLOAT64: {
        DESTINATION(double, 16);
        const __m128d multiplier = _mm_set1_pd(sink->multiplier_f64[t]);
        const __m128d shift = _mm_set1_pd(sink->shift_f64[t]);
        for (i = 0; i < 4; i++) {
            __m128d y0 = _mm_cvtepi32_pd(quad[i]);
            __m128d y1 = _mm_cvtepi32_pd(_mm_shuffle_epi32(quad[i], 0xEE));
            y0 = _mm_add_pd(_mm_mul_pd(y0, multiplier), shift);
            y1 = _mm_add_pd(_mm_mul_pd(y1, multiplier), shift);
            _mm_storeu_pd(dst + 4 * i, y0);
            _mm_storeu_pd(dst + 4 * i + 2, y1);
        }
        FLUSH_TAIL(double);
        break;
    }
    }
}

SCAN_INLINE void widen_ssse3(__m128i even, __m128i odd, __m128i *quad)
{
    const __m128i zero = _mm_setzero_si128();
    const __m128i lo = _mm_unpacklo_epi16(even, odd); /* rows 0-7 */
    const __m128i hi = _mm_unpackhi_epi16(even, odd); /* rows 8-15 */
    quad[0] = _mm_unpacklo_epi16(lo, zero);
    quad[1] = _mm_unpackhi_epi16(lo, zero);
    quad[2] = _mm_unpacklo_epi16(hi, zero);
    quad[3] = _mm_unpackhi_epi16(hi, zero);
}

SCAN_INLINE void write16_ssse3(const amm_scan_sink *sink, int t,
                               ptrdiff_t row, int rows, __m128i even,
                               __m128i odd)
{
    if (sink->output == AMM_OUT_UINT16) {
        uint16_t tail[16];
        DESTINATION(uint16_t, 16);
        _mm_storeu_si128((__m128i *)dst, _mm_unpacklo_epi16(even, odd));
        _mm_storeu_si128((__m128i *)(dst + 8), _mm_unpackhi_epi16(even, odd));
        FLUSH_TAIL(uint16_t);
    } else {
        __m128i quad[4];
        widen_ssse3(even, odd, quad);
        write32_ssse3(sink, t, row, rows, quad);
    }
}

/* Totals root * width of one output, root: 16 bytes in row order. */
SCAN_INLINE void write_root_ssse3(const amm_scan_sink *sink, int t,
                                  ptrdiff_t row, int rows, __m128i root)
{
    double tail[16];
    __m128i q[4]; /* vector k: rows 4k..4k+3 */
    __m128i count;
    const int width = sink->width;
    const int shift_root = sink->shift_root[t];
    int k;
    switch (sink->output) {
    case AMM_OUT_UINT8: {
        DESTINATION(uint8_t, 16);
        _mm_storeu_si128((__m128i *)dst, root);
        FLUSH_TAIL(uint8_t);
        return;
    }
    case AMM_OUT_UINT16:
        write16_ssse3(sink, t, row, rows,
                      _mm_maddubs_epi16(root, _mm_set1_epi16((short)width)),
                      _mm_maddubs_epi16(root, _mm_set1_epi16((short)(width << 8))));
        return;
    }
    q[0] = _mm_shuffle_epi8(root, DWORD_MASK_128(0));
    q[1] = _mm_shuffle_epi8(root, DWORD_MASK_128(1));
    q[2] = _mm_shuffle_epi8(root, DWORD_MASK_128(2));
    q[3] = _mm_shuffle_epi8(root, DWORD_MASK_128(3));
    switch (sink->output) {
    case AMM_OUT_INT32: {
        DESTINATION(int32_t, 16);
        count = _mm_cvtsi32_si128(__builtin_ctz((unsigned)width));
        for (k = 0; k < 4; k++) {
            _mm_storeu_si128((__m128i *)(dst + 4 * k), _mm_sll_epi32(q[k], count));
        }
        FLUSH_TAIL(int32_t);
        break;
    }
    case AMM_OUT_FLOAT32: {
        DESTINATION(float, 16);
        const __m128 multiplier = _mm_set1_ps(sink->multiplier_f32[t]);
        const __m128 shift = _mm_set1_ps(sink->shift_f32[t]);
        count = _mm_cvtsi32_si128(shift_root);
        for (k = 0; k < 4; k++) {
            __m128 y = _mm_cvtepi32_ps(shift_root ? _mm_sll_epi32(q[k], count) : q[k]);
            y = _mm_add_ps(_mm_mul_ps(y, multiplier), shift);
            _mm_storeu_ps(dst + 4 * k, y);
        }
        FLUSH_TAIL(float);
        break;
    }
    case AMM_OUT_FLOAT64: {
        DESTINATION(double, 16);
        const __m128d multiplier = _mm_set1_pd(sink->multiplier_f64[t]);
        const __m128d shift = _mm_set1_pd(sink->shift_f64[t]);
        count = _mm_cvtsi32_si128(shift_root);
        for (k = 0; k < 4; k++) {
            const __m128i y = shift_root ? _mm_sll_epi32(q[k], count) : q[k];
            __m128d y0 = _mm_cvtepi32_pd(y);
            __m128d y1 = _mm_cvtepi32_pd(_mm_shuffle_epi32(y, 0xEE));
            y0 = _mm_add_pd(_mm_mul_pd(y0, multiplier), shift);
            y1 = _mm_add_pd(_mm_mul_pd(y1, multiplier), shift);
            _mm_storeu_pd(dst + 4 * k, y0);
            _mm_storeu_pd(dst + 4 * k + 2, y1);
        }
        FLUSH_TAIL(double);
        break;
    }
    }
}

#include "scan_simd.h"

#undef DESTINATION
#undef FLUSH_TAIL

#else /* not an x86-64 build with gcc or clang: scan.c's scalar path only */

typedef int amm_scan_x86_unused; /* ISO C wants a non-empty file */

#endif
