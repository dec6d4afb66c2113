/* Where one tile of outputs is written, shared by the x86 scans.
 *
 * Worked out once per tile of outputs instead of once per row block: the
 * write functions store through byte-sized and untyped pointers, which the
 * compiler must assume may alias anything, so every field they read from the
 * problem (output kind, output pointer and stride, multiplier, shift) was
 * loaded again, and the root multiplier recomputed, after every block's
 * stores. Held in a local the compiler sees whole, they stay in registers or
 * in stack slots nothing can overwrite. With this, a local copy of the
 * problem and a loop over whole vectors (scan_simd.h), the AVX2 scan at
 * C = 16 took 14 to 17 % less time on Zen 3 (uint8 roots 5.39 to 4.47 ns
 * per output and 32-row block, float32 output 8.99 to 7.69).
 */
#ifndef SKLEARN_AMM_SCAN_SINK_H
#define SKLEARN_AMM_SCAN_SINK_H

#include <float.h>
#include <math.h>
#include <stddef.h>

#include "scan.h"

/* The multiplier applied to a group root for a de-quantized output. The
 * total is root * width with width a power of two, and float(root) * (width
 * * multiplier) rounds exactly like float(root * width) * multiplier: both
 * are the exact product rounded once. That needs width * multiplier to be
 * finite; otherwise *shift_root gets log2(width) and the root is shifted. */
static inline double root_multiplier(double multiplier, int width, double max,
                                     int *shift_root)
{
    double scaled = multiplier * width;
    *shift_root = 0;
    if (!(fabs(scaled) <= max)) {
        *shift_root = __builtin_ctz((unsigned)width);
        return multiplier;
    }
    return scaled;
}

/* Outputs one tile may hold; scan_simd.h checks its tiles against it. */
#define AMM_SCAN_SINK_OUTPUTS 8

typedef struct {
    int output; /* enum amm_scan_output */
    int width;  /* group roots: the group's width; 0 on the general path */
    char *out[AMM_SCAN_SINK_OUTPUTS]; /* &out[m0 + t, 0] */
    /* De-quantized outputs, per output of the tile: float(total) *
     * multiplier + shift. For group roots the multiplier already includes
     * the width (root_multiplier), or when that product overflows,
     * shift_root says to shift the root left by log2(width) first. */
    float multiplier_f32[AMM_SCAN_SINK_OUTPUTS], shift_f32[AMM_SCAN_SINK_OUTPUTS];
    double multiplier_f64[AMM_SCAN_SINK_OUTPUTS], shift_f64[AMM_SCAN_SINK_OUTPUTS];
    int shift_root[AMM_SCAN_SINK_OUTPUTS];
} amm_scan_sink;

static inline size_t amm_scan_output_size(int output)
{
    switch (output) {
    case AMM_OUT_UINT8:
        return 1;
    case AMM_OUT_UINT16:
        return 2;
    case AMM_OUT_FLOAT64:
        return 8;
    default: /* int32, float32 */
        return 4;
    }
}

/* The sink of outputs [m0, m0 + n_tile); `width` as in the struct. */
static inline void amm_scan_sink_init(amm_scan_sink *sink,
                                      const amm_scan_problem *problem, int m0,
                                      int n_tile, int width)
{
    const size_t size = amm_scan_output_size(problem->output);
    int t;
    sink->output = problem->output;
    sink->width = width;
    for (t = 0; t < n_tile; t++) {
        const int m = m0 + t;
        sink->out[t] =
            (char *)problem->out + (ptrdiff_t)m * problem->out_stride * (ptrdiff_t)size;
        /* Every field set, even those this output kind never reads: the
         * compiler cannot tell they go unread and warns otherwise. */
        sink->shift_root[t] = 0;
        sink->multiplier_f32[t] = sink->shift_f32[t] = 0.0f;
        sink->multiplier_f64[t] = sink->shift_f64[t] = 0.0;
        if (problem->output == AMM_OUT_FLOAT32) {
            const float multiplier = ((const float *)problem->multiplier)[m];
            sink->multiplier_f32[t] =
                width ? (float)root_multiplier(multiplier, width, FLT_MAX,
                                               &sink->shift_root[t])
                      : multiplier;
            sink->shift_f32[t] = ((const float *)problem->shift)[m];
        } else if (problem->output == AMM_OUT_FLOAT64) {
            const double multiplier = ((const double *)problem->multiplier)[m];
            sink->multiplier_f64[t] =
                width ? root_multiplier(multiplier, width, DBL_MAX,
                                        &sink->shift_root[t])
                      : multiplier;
            sink->shift_f64[t] = ((const double *)problem->shift)[m];
        }
    }
}

#endif /* SKLEARN_AMM_SCAN_SINK_H */
