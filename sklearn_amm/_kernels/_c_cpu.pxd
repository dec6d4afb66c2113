# The C interface of cpu_features.h: the SIMD levels every kernel family
# shares, what this CPU supports, and the OpenMP runtime the core was built
# with.

cdef extern from "cpu_features.h" nogil:
    enum:
        AMM_SCALAR
        AMM_SSSE3
        AMM_AVX2
        AMM_NEON
        AMM_AVX512
        AMM_N_LEVELS

    int amm_cpu_supports(int level)
    int amm_openmp_enabled()
    int amm_openmp_max_threads()
