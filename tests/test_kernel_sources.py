"""Rules of the C core's structure, checked on its sources.

The kernels are stateless functions over buffers that Python allocates, so
that memory is owned, sized and checked in one place (the Cython wrappers)
and a kernel cannot fail half-way. The per-instruction-set files hold only
kernels: choosing a kernel (the dispatchers, which read the CPU's features)
happens above them, so no instruction-set file calls back into a dispatcher
or into another level's kernel. These tests read the hand-written C sources,
which a source checkout has; an installed wheel does not ship them.
"""

import re
from pathlib import Path

import pytest

import sklearn_amm

KERNELS = Path(sklearn_amm.__file__).parent / "_kernels"
# Hand-written C; Cython's output is named after its .pyx, with a leading "_".
SOURCES = sorted(
    path
    for pattern in ("*.c", "*.h")
    for path in KERNELS.glob(pattern)
    if not path.name.startswith("_")
)
# One file per instruction set, each exporting its kernels only.
ISA_FILES = (
    "encode_avx2.c",
    "encode_avx512.c",
    "encode_neon.c",
    "encode_simd.h",
    "scan_x86.c",
    "scan_avx512.c",
    "scan_simd.h",
    "scan_sink.h",
)
# The entry points that choose a kernel by SIMD level, and the portable
# kernels they fall back to (any amm_..._scalar... function), as patterns.
DISPATCH = (
    r"amm_encode_row_blocks",
    r"amm_encode_blocks_f(32|64)",
    r"amm_scan_blocks",
    r"amm_cpu_supports",
    r"amm_\w*scalar\w*",
)

pytestmark = pytest.mark.skipif(
    not (KERNELS / "encode.c").exists(),
    reason="the C sources are not installed with the package",
)


def _code(path):
    """The file's text without its comments, which may name anything."""
    text = path.read_text()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def test_the_sources_are_found():
    names = {path.name for path in SOURCES}
    assert set(ISA_FILES) <= names
    assert {"encode.c", "scan.c", "cpu_features.c"} <= names


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: path.name)
def test_kernels_allocate_nothing(path):
    allocation = r"\b(malloc|calloc|realloc|aligned_alloc|posix_memalign|free)\s*\("
    calls = re.findall(allocation, _code(path))
    assert not calls, f"{path.name} allocates memory: {sorted(set(calls))}"


@pytest.mark.parametrize("name", ISA_FILES)
def test_instruction_set_files_do_not_call_back_into_a_dispatcher(name):
    code = _code(KERNELS / name)
    called = [
        match.group()
        for entry in DISPATCH
        for match in re.finditer(rf"\b{entry}\b", code)
    ]
    assert not called, f"{name} calls {called}"
