"""The CPU's SIMD support and the OpenMP runtime, as the C kernels see them.

The Python side (:mod:`sklearn_amm._simd`) turns these into level names and
picks the active level.
"""

from sklearn_amm._kernels._c_cpu cimport (
    AMM_AVX2,
    AMM_AVX512,
    AMM_N_LEVELS,
    AMM_NEON,
    AMM_SCALAR,
    AMM_SSSE3,
    amm_cpu_supports,
    amm_openmp_enabled,
    amm_openmp_max_threads,
)

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


def openmp_enabled():
    """Whether the kernels were compiled with OpenMP."""
    return bool(amm_openmp_enabled())


def openmp_max_threads():
    """Threads an OpenMP parallel region of the kernels would use now."""
    return amm_openmp_max_threads()
