"""The version is written once, and the installed metadata agrees with it."""

import tomllib
from importlib import metadata
from pathlib import Path

import pytest

import sklearn_amm
from sklearn_amm._version import __version__

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_package_version_is_the_version_module():
    assert sklearn_amm.__version__ == __version__
    assert "__version__" in sklearn_amm.__all__


def test_pyproject_reads_the_version_module():
    config = tomllib.loads(PYPROJECT.read_text())
    assert "version" not in config["project"]
    assert "version" in config["project"]["dynamic"]
    dynamic = config["tool"]["setuptools"]["dynamic"]
    assert dynamic["version"] == {"attr": "sklearn_amm._version.__version__"}


def test_installed_metadata_has_the_package_version():
    try:
        installed = metadata.version("sklearn-amm")
    except metadata.PackageNotFoundError:  # built in place, not installed
        pytest.skip("sklearn-amm is not installed")
    assert installed == sklearn_amm.__version__
