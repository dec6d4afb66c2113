/* De-quantizing a group root, shared by the x86 scans. */
#ifndef SKLEARN_AMM_SCAN_ROOT_H
#define SKLEARN_AMM_SCAN_ROOT_H

#include <math.h>

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

#endif /* SKLEARN_AMM_SCAN_ROOT_H */
