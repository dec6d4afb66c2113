"""The CPU's SIMD support and the OpenMP runtime, as the C kernels see them.

The Python side (:mod:`sklearn_amm._simd`) turns these into level names and
picks the active level.
"""

cdef extern from "cpu_features.h":
    int AMM_SCALAR
    int AMM_SSSE3
    int AMM_AVX2
    int AMM_NEON
    int AMM_AVX512
    int AMM_N_LEVELS
    int amm_cpu_supports(int level) nogil
    int amm_cpu_has_avx512_vbmi() nogil
    int amm_openmp_enabled() nogil
    int amm_openmp_max_threads() nogil

SCALAR = AMM_SCALAR
SSSE3 = AMM_SSSE3
AVX2 = AMM_AVX2
NEON = AMM_NEON
AVX512 = AMM_AVX512
N_LEVELS = AMM_N_LEVELS


def supported_levels():
    """Levels (ints) this CPU and OS can run, worst first.

    The order is by capability, not by number: AVX-512 (numbered after
    NEON, which came first) is above AVX2.
    """
    return sorted(
        (level for level in range(AMM_N_LEVELS) if amm_cpu_supports(level)),
        key=_RANK.index,
    )


# Capability order of the levels; NEON and the x86 levels never coexist.
_RANK = [AMM_SCALAR, AMM_SSSE3, AMM_AVX2, AMM_AVX512, AMM_NEON]


def has_avx512_vbmi():
    """Whether the CPU has AVX-512 VBMI on top of the AVX-512 level."""
    return bool(amm_cpu_has_avx512_vbmi())


def openmp_enabled():
    """Whether the kernels were compiled with OpenMP."""
    return bool(amm_openmp_enabled())


def openmp_max_threads():
    """Threads an OpenMP parallel region of the kernels would use now."""
    return amm_openmp_max_threads()
