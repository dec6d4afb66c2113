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
# No -march=native: a wheel must run on any CPU of its architecture; SIMD
# paths will be chosen at run time instead.
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


def kernel_extensions():
    openmp_args = [OPENMP_FLAG] if openmp_is_supported() else []
    return [
        Extension(
            "sklearn_amm._kernels._encode",
            sources=["sklearn_amm/_kernels/_encode.pyx"],
            include_dirs=[np.get_include()],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
            extra_compile_args=BASE_COMPILE_ARGS + openmp_args,
            extra_link_args=openmp_args,
        )
    ]


setup(
    ext_modules=cythonize(
        kernel_extensions(), compiler_directives=CYTHON_DIRECTIVES
    ),
)
