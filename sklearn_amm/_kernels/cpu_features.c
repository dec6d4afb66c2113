/* What this CPU supports, asked at run time (see cpu_features.h). */
#include "cpu_features.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#if AMM_HAVE_X86_KERNELS
#include <cpuid.h>

/* XCR0 bits the OS sets when it saves a register state on context switch:
 * SSE (1), AVX (2), and for AVX-512 the opmask (5), the upper halves of
 * ZMM0-15 (6) and ZMM16-31 (7). */
#define XCR0_YMM 0x06u
#define XCR0_ZMM 0xE6u

/* XCR0, or 0 if the OS has not enabled XGETBV (CPUID.1:ECX.OSXSAVE). Read
 * with the instruction's bytes, so that no -mxsave flag is needed. */
static unsigned xcr0(void)
{
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 27))) {
        return 0;
    }
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(eax), "=d"(edx) : "c"(0));
    return eax;
}

/* EBX of CPUID leaf 7, sub-leaf 0 (structured extended features), or 0. */
static unsigned leaf7_ebx(void)
{
    unsigned eax, ebx = 0, ecx, edx;
    if (__get_cpuid_max(0, 0) >= 7) {
        __cpuid_count(7, 0, eax, ebx, ecx, edx);
    }
    return ebx;
}

/* AVX-512 F (leaf 7 EBX bit 16), BW (30) and VL (31), and the OS saving
 * the opmask and ZMM registers: a CPU with AVX-512 under an OS (or a
 * hypervisor) that leaves ZMM state off must not run these kernels. */
static int ask_avx512(void)
{
    const unsigned needed = (1u << 16) | (1u << 30) | (1u << 31);
    if ((xcr0() & XCR0_ZMM) != XCR0_ZMM) {
        return 0;
    }
    return (leaf7_ebx() & needed) == needed;
}

/* Asked once: every kernel call checks its level, and in a virtual machine
 * each CPUID traps to the hypervisor (tens of microseconds here, as long
 * as encoding 10000 rows). Threads that race here store the same value. */
static int has_avx512(void)
{
    static volatile int cached = -1;
    if (cached < 0) {
        cached = ask_avx512();
    }
    return cached;
}
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
    case AMM_AVX512:
        return amm_cpu_supports(AMM_AVX2) && has_avx512();
#endif
#if AMM_HAVE_NEON_KERNELS
    case AMM_NEON:
        return 1;
#endif
    default:
        return 0;
    }
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
