/* The AVX-512 scan: scan_simd.h instantiated with 64-row vectors, the same
 * code column of two consecutive blocks side by side (rows 0-31 of block b
 * in the low 256 bits, of block b + 1 in the high 256), so bytes stay in row
 * order and every table is the same 16 bytes in all four 128-bit lanes, one
 * broadcast load. Built like scan_x86.c: target attributes only, called only
 * when the CPU has AVX-512 F, BW and VL.
 *
 * vpshufb zmm has one port on Intel (p5) where vpshufb ymm has two, so the
 * lookups take as long as with AVX2; what halves is everything else (nibble
 * extraction, averages, adds, widening and stores per row).
 *
 * A vector past the scan's end (a last, odd block, or rows past n_samples)
 * is written with masked stores: nothing past the rows is touched, and no
 * code byte past the scan's blocks is read (see v_codes).
 */
#include "scan.h"

#if AMM_HAVE_X86_KERNELS

#include <immintrin.h>

#include "scan_sink.h"

#define PASTE_(a, b) a##b
#define PASTE(a, b) PASTE_(a, b)

/* No "fma" (the compiler could not contract the de-quantizing multiply and
 * add anyway under -ffp-contract=off; both must round like NumPy). */
#define SCAN_TARGET __attribute__((target("avx512f,avx512bw,avx512vl")))
#define SCAN_INLINE \
    static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512vl")))
#define FN(name) PASTE(name, _avx512)
#define vec __m512i
#define V_ROWS 64
#define v_codes(p, next)                                                      \
    _mm512_inserti64x4(                                                       \
        _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(p))),     \
        _mm256_loadu_si256((const __m256i *)((p) + (next))), 1)
#define v_table(p) _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(p)))
#define v_shuffle(t, i) _mm512_shuffle_epi8((t), (i))
#define v_avg(a, b) _mm512_avg_epu8((a), (b))
#define v_and(a, b) _mm512_and_si512((a), (b))
#define v_add16(a, b) _mm512_add_epi16((a), (b))
#define v_maddubs(a, b) _mm512_maddubs_epi16((a), (b))
#define v_add32(a, b) _mm512_add_epi32((a), (b))
/* The 512-bit shift and multiply share port 0; a shift is the shorter. */
#define v_high_nibbles(x) \
    _mm512_and_si512(_mm512_srli_epi16((x), 4), _mm512_set1_epi8(0x0F))
#define v_bytes(x) _mm512_set1_epi8((char)(x))
#define v_words(x) _mm512_set1_epi16((short)(x))
#define v_zero() _mm512_setzero_si512()

/* Stores of the first n (may be <= 0) elements of a vector of 64 / 32 / 16 /
 * 8: whole vectors with a plain store, the scan's last with a masked one. */
#define FIRST(n, width) \
    ((n) >= (width) ? ~0ULL : (n) <= 0 ? 0ULL : (1ULL << (n)) - 1)
#define STORE_FIRST(n, width, plain, masked, mask_type, dst, v) \
    do {                                                        \
        if ((n) >= (width)) {                                   \
            plain((void *)(dst), (v));                          \
        } else {                                                \
            masked((void *)(dst), (mask_type)FIRST(n, width), (v)); \
        }                                                       \
    } while (0)
#define STORE_U8(n, dst, v) \
    STORE_FIRST(n, 64, _mm512_storeu_si512, _mm512_mask_storeu_epi8, __mmask64, dst, v)
#define STORE_U16(n, dst, v) \
    STORE_FIRST(n, 32, _mm512_storeu_si512, _mm512_mask_storeu_epi16, __mmask32, dst, v)
#define STORE_I32(n, dst, v) \
    STORE_FIRST(n, 16, _mm512_storeu_si512, _mm512_mask_storeu_epi32, __mmask16, dst, v)
#define STORE_F32(n, dst, v) \
    STORE_FIRST(n, 16, _mm512_storeu_ps, _mm512_mask_storeu_ps, __mmask16, dst, v)
#define STORE_F64(n, dst, v) \
    STORE_FIRST(n, 8, _mm512_storeu_pd, _mm512_mask_storeu_pd, __mmask8, dst, v)

/* u32 totals, quad[i] rows 16i..16i+15, to output t of the sink (int32,
 * float). */
SCAN_INLINE void write32_avx512(const amm_scan_sink *sink, int t,
                                ptrdiff_t row, int rows, const __m512i *quad)
{
    int i;
    switch (sink->output) {
    case AMM_OUT_INT32: {
        int32_t *out = (int32_t *)sink->out[t] + row;
        for (i = 0; i < 4; i++) {
            STORE_I32(rows - 16 * i, out + 16 * i, quad[i]);
        }
        break;
    }
    case AMM_OUT_FLOAT32: {
        float *out = (float *)sink->out[t] + row;
        const __m512 multiplier = _mm512_set1_ps(sink->multiplier_f32[t]);
        const __m512 shift = _mm512_set1_ps(sink->shift_f32[t]);
        for (i = 0; i < 4; i++) {
            __m512 y = _mm512_cvtepi32_ps(quad[i]);
            y = _mm512_add_ps(_mm512_mul_ps(y, multiplier), shift);
            STORE_F32(rows - 16 * i, out + 16 * i, y);
        }
        break;
    }
    case AMM_OUT_FLOAT64: {
        double *out = (double *)sink->out[t] + row;
        const __m512d multiplier = _mm512_set1_pd(sink->multiplier_f64[t]);
        const __m512d shift = _mm512_set1_pd(sink->shift_f64[t]);
        for (i = 0; i < 4; i++) {
            __m512d y0 = _mm512_cvtepi32_pd(_mm512_castsi512_si256(quad[i]));
            __m512d y1 = _mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(quad[i], 1));
            y0 = _mm512_add_pd(_mm512_mul_pd(y0, multiplier), shift);
            y1 = _mm512_add_pd(_mm512_mul_pd(y1, multiplier), shift);
            STORE_F64(rows - 16 * i, out + 16 * i, y0);
            STORE_F64(rows - 16 * i - 8, out + 16 * i + 8, y1);
        }
        break;
    }
    }
}

/* even/odd 16-bit totals to words in row order: in_order[0] rows 0-31,
 * [1] rows 32-63. The in-lane unpacks give, in 128-bit lane k, rows
 * 16k..16k+7 (lo) and 16k+8..16k+15 (hi); a two-source qword permute then
 * puts lanes 0-1 / 2-3 of both in order. */
SCAN_INLINE void words_in_order_avx512(__m512i even, __m512i odd,
                                       __m512i *in_order)
{
    const __m512i lo = _mm512_unpacklo_epi16(even, odd);
    const __m512i hi = _mm512_unpackhi_epi16(even, odd);
    in_order[0] = _mm512_permutex2var_epi64(
        lo, _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11), hi);
    in_order[1] = _mm512_permutex2var_epi64(
        lo, _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15), hi);
}

/* even/odd 16-bit totals to u32, 4 vectors of 16 rows in row order. */
SCAN_INLINE void widen_avx512(__m512i even, __m512i odd, __m512i *quad)
{
    __m512i words[2];
    words_in_order_avx512(even, odd, words);
    quad[0] = _mm512_cvtepu16_epi32(_mm512_castsi512_si256(words[0]));
    quad[1] = _mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(words[0], 1));
    quad[2] = _mm512_cvtepu16_epi32(_mm512_castsi512_si256(words[1]));
    quad[3] = _mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(words[1], 1));
}

SCAN_INLINE void write16_avx512(const amm_scan_sink *sink, int t,
                                ptrdiff_t row, int rows, __m512i even,
                                __m512i odd)
{
    if (sink->output == AMM_OUT_UINT16) {
        uint16_t *out = (uint16_t *)sink->out[t] + row;
        __m512i words[2];
        words_in_order_avx512(even, odd, words);
        STORE_U16(rows, out, words[0]);
        STORE_U16(rows - 32, out + 32, words[1]);
    } else {
        __m512i quad[4];
        widen_avx512(even, odd, quad);
        write32_avx512(sink, t, row, rows, quad);
    }
}

/* Totals root * width of one output, root: 64 bytes in row order. */
SCAN_INLINE void write_root_avx512(const amm_scan_sink *sink, int t,
                                   ptrdiff_t row, int rows, __m512i root)
{
    const __m128i log2_width =
        _mm_cvtsi32_si128(__builtin_ctz((unsigned)sink->width));
    const int shift_root = sink->shift_root[t];
    __m512i q[4]; /* vector k: rows 16k..16k+15 */
    __m128i count;
    int k;
    switch (sink->output) {
    case AMM_OUT_UINT8:
        STORE_U8(rows, (uint8_t *)sink->out[t] + row, root);
        return;
    case AMM_OUT_UINT16: {
        uint16_t *out = (uint16_t *)sink->out[t] + row;
        const __m512i low = _mm512_cvtepu8_epi16(_mm512_castsi512_si256(root));
        const __m512i high = _mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(root, 1));
        STORE_U16(rows, out, _mm512_sll_epi16(low, log2_width));
        STORE_U16(rows - 32, out + 32, _mm512_sll_epi16(high, log2_width));
        return;
    }
    }
    q[0] = _mm512_cvtepu8_epi32(_mm512_castsi512_si128(root));
    q[1] = _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(root, 1));
    q[2] = _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(root, 2));
    q[3] = _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(root, 3));
    switch (sink->output) {
    case AMM_OUT_INT32: {
        int32_t *out = (int32_t *)sink->out[t] + row;
        for (k = 0; k < 4; k++) {
            STORE_I32(rows - 16 * k, out + 16 * k, _mm512_sll_epi32(q[k], log2_width));
        }
        break;
    }
    case AMM_OUT_FLOAT32: {
        float *out = (float *)sink->out[t] + row;
        const __m512 multiplier = _mm512_set1_ps(sink->multiplier_f32[t]);
        const __m512 shift = _mm512_set1_ps(sink->shift_f32[t]);
        count = _mm_cvtsi32_si128(shift_root);
        for (k = 0; k < 4; k++) {
            const __m512i total = shift_root ? _mm512_sll_epi32(q[k], count) : q[k];
            __m512 y = _mm512_cvtepi32_ps(total);
            y = _mm512_add_ps(_mm512_mul_ps(y, multiplier), shift);
            STORE_F32(rows - 16 * k, out + 16 * k, y);
        }
        break;
    }
    case AMM_OUT_FLOAT64: {
        double *out = (double *)sink->out[t] + row;
        const __m512d multiplier = _mm512_set1_pd(sink->multiplier_f64[t]);
        const __m512d shift = _mm512_set1_pd(sink->shift_f64[t]);
        count = _mm_cvtsi32_si128(shift_root);
        for (k = 0; k < 4; k++) {
            const __m512i y = shift_root ? _mm512_sll_epi32(q[k], count) : q[k];
            __m512d y0 = _mm512_cvtepi32_pd(_mm512_castsi512_si256(y));
            __m512d y1 = _mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(y, 1));
            y0 = _mm512_add_pd(_mm512_mul_pd(y0, multiplier), shift);
            y1 = _mm512_add_pd(_mm512_mul_pd(y1, multiplier), shift);
            STORE_F64(rows - 16 * k, out + 16 * k, y0);
            STORE_F64(rows - 16 * k - 8, out + 16 * k + 8, y1);
        }
        break;
    }
    }
}

#include "scan_simd.h"

#else /* not an x86-64 build with gcc or clang: scan.c's scalar path only */

typedef int amm_scan_avx512_unused; /* ISO C wants a non-empty file */

#endif
