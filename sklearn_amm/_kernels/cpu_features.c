/* What this CPU supports, asked at run time (see cpu_features.h). */
#include "cpu_features.h"

#ifdef _OPENMP
#include <omp.h>
#endif

int amm_cpu_supports(int level)
{
    switch (level) {
    case AMM_SCALAR:
        return 1;
#if AMM_HAVE_X86_KERNELS
    /* __builtin_cpu_supports reads CPUID once (libgcc, compiler-rt); for
     * AVX2 it also checks, through XGETBV, that the OS saves the YMM
     * registers, so a CPU with AVX2 under an OS that disabled it reports no
     * AVX2. */
    case AMM_SSSE3:
        __builtin_cpu_init();
        return __builtin_cpu_supports("ssse3") ? 1 : 0;
    case AMM_AVX2:
        __builtin_cpu_init();
        return (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
                   ? 1 : 0;
#endif
#if AMM_HAVE_NEON_KERNELS
    case AMM_NEON:
        return 1;
#endif
    default:
        return 0;
    }
}

int amm_best_level(void)
{
    int level, best = AMM_SCALAR;
    for (level = 0; level < AMM_N_LEVELS; level++) {
        if (amm_cpu_supports(level)) {
            best = level;
        }
    }
    return best;
}

int amm_openmp_enabled(void)
{
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

int amm_openmp_max_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}
