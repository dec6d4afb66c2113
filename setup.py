"""Build the compiled kernels; all other metadata lives in pyproject.toml."""

import os
import shutil
import tempfile
import textwrap

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

# Import after setuptools so that setuptools' own copy of distutils is used
# (the standard library no longer ships it from Python 3.12).
from distutils.ccompiler import new_compiler  # noqa: E402
from distutils.errors import CompileError, LinkError  # noqa: E402
from distutils.sysconfig import customize_compiler  # noqa: E402

OPENMP_FLAG = "-fopenmp"

# -ffp-contract=off stops the compiler from fusing a*b+c into an FMA, so that
# float kernels round exactly like the NumPy reference they are tested against.
# No -march=native: a wheel must run on any CPU of its architecture. The SIMD
# kernels get their instruction sets from function target attributes, and
# are chosen at run time (sklearn_amm/_simd.py).
BASE_COMPILE_ARGS = ["-O3", "-ffp-contract=off"]

CYTHON_DIRECTIVES = {
    "language_level": 3,
    "boundscheck": False,
    "wraparound": False,
    "cdivision": True,
    "initializedcheck": False,
}

OPENMP_TEST_PROGRAM = textwrap.dedent(
    """\
    #include <omp.h>
    int main(void) { return omp_get_max_threads() > 0 ? 0 : 1; }
    """
)


def openmp_is_supported():
    """Whether the build compiler can compile and link an OpenMP program.

    Apple clang, for one, rejects -fopenmp; the kernels then build serial.
    """
    if os.environ.get("SKLEARN_AMM_NO_OPENMP", "0") not in ("", "0"):
        print("sklearn-amm: SKLEARN_AMM_NO_OPENMP is set, building without OpenMP")
        return False
    compiler = new_compiler()
    customize_compiler(compiler)
    tmp_dir = tempfile.mkdtemp(prefix="sklearn_amm_openmp_")
    try:
        source = os.path.join(tmp_dir, "test_openmp.c")
        with open(source, "w") as f:
            f.write(OPENMP_TEST_PROGRAM)
        objects = compiler.compile(
            [source], output_dir=tmp_dir, extra_postargs=[OPENMP_FLAG]
        )
        compiler.link_executable(
            objects,
            "test_openmp",
            output_dir=tmp_dir,
            extra_postargs=[OPENMP_FLAG],
        )
    except (CompileError, LinkError):
        print("sklearn-amm: the compiler does not support OpenMP, building serial")
        return False
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return True


KERNELS_DIR = "sklearn_amm/_kernels"


def sanitizer_args():
    """Compile and link flags for the sanitizers named in SKLEARN_AMM_SANITIZE.

    For example ``SKLEARN_AMM_SANITIZE=address,undefined``, as
    tools/sanitize.sh builds. Undefined behaviour is made fatal, like memory
    errors. -O1 comes after -O3: the sanitizers' own advice, and with their
    checks -O3 takes minutes to compile the SIMD scan.
    """
    sanitizers = os.environ.get("SKLEARN_AMM_SANITIZE", "").strip()
    if not sanitizers:
        return [], []
    flags = [f"-fsanitize={sanitizers}", "-fno-sanitize-recover=all"]
    return flags + ["-fno-omit-frame-pointer", "-g", "-O1"], flags


def kernel_sources(*names):
    return [os.path.join(KERNELS_DIR, name) for name in names]


def kernel_extensions():
    """The compiled modules: Cython wrappers over small C cores; _split, _leaf_sums and _argmax, plain Cython.

    Every wrapper compiles cpu_features.c, which tells the kernels what the
    CPU supports; the SIMD kernels are compiled with function target
    attributes in their own C files and chosen at run time.
    """
    openmp_args = [OPENMP_FLAG] if openmp_is_supported() else []
    sanitizer_compile_args, sanitizer_link_args = sanitizer_args()
    modules = {
        "_cpu": kernel_sources("_cpu.pyx", "cpu_features.c"),
        "_encode": kernel_sources(
            "_encode.pyx",
            "encode.c",
            "encode_avx2.c",
            "encode_avx512.c",
            "encode_neon.c",
            # encode_scan_dequantized scans the codes as it encodes them.
            "scan.c",
            "scan_x86.c",
            "scan_avx512.c",
            "cpu_features.c",
        ),
        "_split": kernel_sources("_split.pyx"),
        "_leaf_sums": kernel_sources("_leaf_sums.pyx"),
        "_argmax": kernel_sources("_argmax.pyx"),
    }
    # The scan kernels: their wrapper and every C file of their core.
    if os.path.exists(os.path.join(KERNELS_DIR, "_scan.pyx")):
        scan_c = sorted(
            name
            for name in os.listdir(KERNELS_DIR)
            if name.startswith("scan") and name.endswith(".c")
        )
        modules["_scan"] = kernel_sources("_scan.pyx", *scan_c, "cpu_features.c")
    return [
        Extension(
            f"sklearn_amm._kernels.{name}",
            sources=sources,
            include_dirs=[np.get_include(), KERNELS_DIR],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
            extra_compile_args=BASE_COMPILE_ARGS + openmp_args + sanitizer_compile_args,
            extra_link_args=openmp_args + sanitizer_link_args,
            depends=[
                os.path.join(KERNELS_DIR, name)
                for name in os.listdir(KERNELS_DIR)
                if name.endswith(".h")
            ],
        )
        for name, sources in modules.items()
    ]


setup(
    ext_modules=cythonize(
        kernel_extensions(), compiler_directives=CYTHON_DIRECTIVES
    ),
)
