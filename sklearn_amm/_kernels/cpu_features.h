/* SIMD levels shared by every kernel family, and what this CPU supports.
 *
 * Kernels are compiled for every level of their architecture (the SIMD ones
 * with function target attributes, never a global -m flag) and take the
 * level as an argument; the Python side picks it once, at import, from
 * amm_cpu_supports(). A level is an instruction set, not a speed ranking
 * across architectures: SSSE3 and AVX2 exist on x86-64 only, NEON on
 * aarch64 only.
 */
#ifndef SKLEARN_AMM_CPU_FEATURES_H
#define SKLEARN_AMM_CPU_FEATURES_H

#ifdef __cplusplus
extern "C" {
#endif

enum amm_simd_level {
    AMM_SCALAR = 0, /* portable C, every CPU */
    AMM_SSSE3 = 1,  /* x86-64 with SSSE3 (pshufb) */
    AMM_AVX2 = 2,   /* x86-64 with AVX2 and FMA */
    AMM_NEON = 3,   /* aarch64 (Advanced SIMD is part of the base ISA) */
    AMM_AVX512 = 4, /* x86-64 with AVX2 and AVX-512 F, BW and VL */
    AMM_N_LEVELS = 5
};

/* x86-64 builds with gcc or clang compile the SSSE3, AVX2 and AVX-512
 * kernels. */
#if (defined(__x86_64__) || defined(_M_X64)) && \
    (defined(__GNUC__) || defined(__clang__))
#define AMM_HAVE_X86_KERNELS 1
#else
#define AMM_HAVE_X86_KERNELS 0
#endif

#if defined(__aarch64__) || defined(_M_ARM64)
#define AMM_HAVE_NEON_KERNELS 1
#else
#define AMM_HAVE_NEON_KERNELS 0
#endif

/* 1 if this CPU (and OS) can run kernels of `level`, else 0. */
int amm_cpu_supports(int level);

/* 1 if the extension was compiled with OpenMP, else 0. */
int amm_openmp_enabled(void);

/* Threads an OpenMP parallel region would use now (1 without OpenMP). It
 * follows OMP_NUM_THREADS and threadpoolctl, which sets the limit of the
 * process's OpenMP runtime. */
int amm_openmp_max_threads(void);

#ifdef __cplusplus
}
#endif

#endif /* SKLEARN_AMM_CPU_FEATURES_H */
