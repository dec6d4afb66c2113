"""How the package's modules import one another.

* No module of the package imports the package itself (``from . import
  name`` of a name that is not a module, or ``import sklearn_amm``): the
  package's ``__init__`` imports them, so they would depend on the order
  in which it does.
* No production module imports the NumPy reference, ``_reference``: it is
  the oracle the tests compare production against, so production computing
  through it would make those tests compare it with itself.
"""

import ast
from pathlib import Path

import pytest

import sklearn_amm

# The package under test, wherever it is installed.
PACKAGE = Path(sklearn_amm.__file__).resolve().parent
MODULES = sorted(
    path
    for path in PACKAGE.rglob("*.py")
    if path.name != "__init__.py" or path.parent != PACKAGE
)
SUBMODULES = (
    {path.stem for path in PACKAGE.glob("*.py")}
    | {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").exists()}
    | {path.name.split(".")[0] for path in (PACKAGE / "_kernels").iterdir()}
)


def _imports(path):
    """``(module, names)`` of each import of ``path``, relative ones resolved."""
    package = ".".join(("sklearn_amm",) + path.relative_to(PACKAGE).parent.parts)
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = (
                    package.rsplit(".", node.level - 1)[0]
                    if node.level > 1
                    else package
                )
                module = base + ("." + node.module if node.module else "")
            else:
                module = node.module
            yield module, [alias.name for alias in node.names]


def test_modules_are_found():
    names = {path.stem for path in MODULES}
    assert {"_maddness", "_reference", "_layout", "_persistence"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.stem)
def test_no_module_imports_the_package_itself(path):
    for module, names in _imports(path):
        assert module != "sklearn_amm" or set(names) <= SUBMODULES, (module, names)


@pytest.mark.parametrize(
    "path",
    [path for path in MODULES if path.stem != "_reference"],
    ids=lambda path: path.stem,
)
def test_no_production_module_imports_the_reference(path):
    for module, names in _imports(path):
        assert module != "sklearn_amm._reference", module
        assert not (module == "sklearn_amm" and "_reference" in names), names
