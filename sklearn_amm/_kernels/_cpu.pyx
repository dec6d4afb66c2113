"""The CPU's SIMD support and the OpenMP runtime, as the C kernels see them.

The Python side (:mod:`sklearn_amm._simd`) turns these into level names and
picks the active level.
"""

cdef extern from "cpu_features.h":
    int AMM_SCALAR
    int AMM_SSSE3
    int AMM_AVX2
    int AMM_NEON
    int AMM_N_LEVELS
    int amm_cpu_supports(int level) nogil
    int amm_openmp_enabled() nogil
    int amm_openmp_max_threads() nogil

SCALAR = AMM_SCALAR
SSSE3 = AMM_SSSE3
AVX2 = AMM_AVX2
NEON = AMM_NEON
N_LEVELS = AMM_N_LEVELS


def supported_levels():
    """Levels (ints) this CPU and OS can run, in increasing order."""
    return [level for level in range(AMM_N_LEVELS) if amm_cpu_supports(level)]


def openmp_enabled():
    """Whether the kernels were compiled with OpenMP."""
    return bool(amm_openmp_enabled())


def openmp_max_threads():
    """Threads an OpenMP parallel region of the kernels would use now."""
    return amm_openmp_max_threads()
