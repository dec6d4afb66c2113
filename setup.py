"""Build the compiled kernels; all other metadata lives in pyproject.toml."""

import glob
import os
import shutil
import tempfile
import textwrap
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_clib import build_clib
from setuptools.command.build_ext import build_ext
from setuptools.modified import newer_group

# Import after setuptools so that setuptools' own copy of distutils is used
# (the standard library no longer ships it from Python 3.12).
from distutils import log  # noqa: E402
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

# The hand-written C core, compiled once into a static library that the
# wrappers needing it link: the SIMD scans take most of the build, and
# compiled into every wrapper they would take it two or three times.
CORE_LIBRARY = "amm_core"


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


def kernel_files(pattern):
    return sorted(glob.glob(os.path.join(KERNELS_DIR, pattern)))


def core_sources():
    """Every C file of the core, found by name so that a new one is built.

    Cython writes the C of each wrapper next to its .pyx, with the same
    leading underscore; the core's own files have none.
    """
    return kernel_files("[!_]*.c")


def kernel_sources(*names):
    return [os.path.join(KERNELS_DIR, name) for name in names]


def build_flags():
    """Compile flags of the core and of the wrappers, and link flags."""
    openmp_args = [OPENMP_FLAG] if openmp_is_supported() else []
    sanitizer_compile_args, sanitizer_link_args = sanitizer_args()
    # No debug information, as in the release wheels of NumPy and
    # scikit-learn: for the SIMD scans, all inlined intrinsics, it is a third
    # of their compile time, and the Cython wrappers' generated C is tens of
    # thousands of lines each. The sanitizer build, whose reports want it,
    # puts -g back after.
    core_args = BASE_COMPILE_ARGS + ["-g0"] + openmp_args + sanitizer_compile_args
    extension_args = BASE_COMPILE_ARGS + ["-g0"] + openmp_args + sanitizer_compile_args
    return core_args, extension_args, openmp_args + sanitizer_link_args


def core_library(compile_args):
    """The core as a build_clib library: what CPU this is, encode and scan."""
    return (
        CORE_LIBRARY,
        {
            "sources": core_sources(),
            "include_dirs": [KERNELS_DIR],
            "cflags": compile_args,
        },
    )


def kernel_extensions(compile_args, link_args):
    """The compiled modules: Cython wrappers, the first three over the C core.

    The SIMD kernels of the core are compiled with function target
    attributes in their own C files and chosen at run time; _split,
    _leaf_sums and _argmax are plain Cython.
    """
    modules = {
        "_cpu": [CORE_LIBRARY],
        # encode_scan_dequantized scans the codes as it encodes them.
        "_encode": [CORE_LIBRARY],
        "_scan": [CORE_LIBRARY],
        "_split": [],
        "_leaf_sums": [],
        "_argmax": [],
    }
    return [
        Extension(
            f"sklearn_amm._kernels.{name}",
            sources=kernel_sources(f"{name}.pyx"),
            libraries=libraries,
            include_dirs=[np.get_include(), KERNELS_DIR],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
            extra_compile_args=compile_args,
            extra_link_args=link_args,
            depends=kernel_files("*.h"),
        )
        for name, libraries in modules.items()
    ]


def parallel_jobs(command):
    """Jobs build_ext runs at once (its -j), for the core's files too."""
    parallel = command.get_finalized_command("build_ext").parallel
    if parallel is True:
        return os.cpu_count() or 1
    return max(int(parallel or 1), 1)


class BuildCore(build_clib):
    """build_clib that compiles a library's files in parallel, as build_ext
    does its extensions: the two SIMD scans alone take most of the build."""

    def build_libraries(self, libraries):
        headers = kernel_files("*.h")
        for name, info in libraries:
            sources = info["sources"]
            objects = self.compiler.object_filenames(sources, output_dir=self.build_temp)
            stale = [
                source
                for source, target in zip(sources, objects)
                if self.force or newer_group([source, *headers], target)
            ]
            log.info("building '%s' library (%d of %d files)", name, len(stale), len(sources))

            def compile_one(source, info=info):
                self.compiler.compile(
                    [source],
                    output_dir=self.build_temp,
                    macros=info.get("macros"),
                    include_dirs=info.get("include_dirs"),
                    extra_postargs=info.get("cflags"),
                    debug=self.debug,
                )

            with ThreadPoolExecutor(parallel_jobs(self)) as pool:
                # list() re-raises the first compile error.
                list(pool.map(compile_one, stale))
            self.compiler.create_static_lib(
                objects, name, output_dir=self.build_clib, debug=self.debug
            )


class BuildExtensions(build_ext):
    """build_ext that builds the core first and links it only where asked."""

    def build_extensions(self):
        # build_ext.run gave the compiler every build_clib library, to link
        # into every extension; each extension names the ones it needs.
        self.compiler.set_libraries(
            [name for name in self.compiler.libraries if name != CORE_LIBRARY]
        )
        super().build_extensions()

    def run(self):
        # `setup.py build_ext` (and an editable install) runs build_ext
        # without build_clib: build the core here; run_command runs it once.
        self.run_command("build_clib")
        core = self.get_finalized_command("build_clib")
        library = core.compiler.library_filename(CORE_LIBRARY, output_dir=core.build_clib)
        for extension in self.extensions:
            if CORE_LIBRARY in extension.libraries:
                # Relink when the core changes.
                extension.depends = [*extension.depends, library]
        super().run()


CORE_COMPILE_ARGS, COMPILE_ARGS, LINK_ARGS = build_flags()

setup(
    libraries=[core_library(CORE_COMPILE_ARGS)],
    ext_modules=cythonize(
        kernel_extensions(COMPILE_ARGS, LINK_ARGS),
        compiler_directives=CYTHON_DIRECTIVES,
        # Translating the .pyx files is another half minute on one core.
        nthreads=os.cpu_count() or 1,
    ),
    cmdclass={"build_clib": BuildCore, "build_ext": BuildExtensions},
    # Extensions (and the core's files) compile in parallel, also under
    # `pip install`, which passes no -j.
    options={"build_ext": {"parallel": os.cpu_count() or 1}},
)
