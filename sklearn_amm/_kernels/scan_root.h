/* De-quantizing a group root, shared by the x86 scans. */
#ifndef SKLEARN_AMM_SCAN_ROOT_H
#define SKLEARN_AMM_SCAN_ROOT_H

#include <float.h>
#include <math.h>

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

/* Output m's multiplier, as a double (exact for float32); 0 for an integer
 * output, whose problem has none. */
static inline double output_multiplier(const amm_scan_problem *problem, int m)
{
    switch (problem->output) {
    case AMM_OUT_FLOAT32:
        return ((const float *)problem->multiplier)[m];
    case AMM_OUT_FLOAT64:
        return ((const double *)problem->multiplier)[m];
    default:
        return 0.0;
    }
}

/* For int32 or de-quantized totals root * width of output m: the multiplier
 * to write the roots with, and in *shift_root the shift that first makes
 * them totals (log2(width) for int32, which has no multiplier; see
 * root_multiplier for the others). */
static inline double root_scale(const amm_scan_problem *problem, int m,
                                int width, int *shift_root)
{
    if (problem->output == AMM_OUT_INT32) {
        *shift_root = __builtin_ctz((unsigned)width);
        return 0.0;
    }
    return root_multiplier(output_multiplier(problem, m), width,
                           problem->output == AMM_OUT_FLOAT32 ? FLT_MAX : DBL_MAX,
                           shift_root);
}

#endif /* SKLEARN_AMM_SCAN_ROOT_H */
