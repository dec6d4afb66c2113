"""Runtime choice of the SIMD level, its environment variable, show_config."""

import io
import os
import subprocess
import sys

import pytest

import sklearn_amm
from sklearn_amm import _simd
from sklearn_amm._kernels import _cpu

# The directory holding the sklearn_amm being tested, for subprocesses.
PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(sklearn_amm.__file__)))


def _python(code, simd=None):
    """Run ``code`` in a fresh interpreter with SKLEARN_AMM_SIMD set or unset."""
    env = dict(os.environ)
    env.pop(_simd.ENV_VAR, None)
    if simd is not None:
        env[_simd.ENV_VAR] = simd
    env["PYTHONPATH"] = os.pathsep.join(
        [PACKAGE_PARENT] + [p for p in [env.get("PYTHONPATH")] if p]
    )
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True,
        timeout=120,
    )


def _unsupported_level_name():
    names = [name for name in _simd.LEVELS if name not in _simd.available_levels()]
    return names[0]


def test_available_levels_start_scalar_and_end_best():
    names = _simd.available_levels()
    assert names[0] == "scalar"
    levels = [_simd.LEVELS[name] for name in names]
    assert levels == sorted(levels)
    assert levels == _cpu.supported_levels()
    # SSE/AVX levels and NEON never come together.
    assert not ({"ssse3", "avx2", "avx512"} & set(names) and "neon" in names)
    # AVX-512 builds on AVX2, and AVX2 on SSSE3.
    if "avx512" in names:
        assert names[-1] == "avx512" and "avx2" in names
    if "avx2" in names:
        assert "ssse3" in names


def test_active_level_is_supported():
    assert _simd.level_name(_simd.active_level()) in _simd.available_levels()
    if _simd.forced_by_environment() is None:
        assert _simd.level_name(_simd.active_level()) == _simd.available_levels()[-1]


def test_choose_level():
    best = _simd.LEVELS[_simd.available_levels()[-1]]
    assert _simd._choose_level(None) == best
    assert _simd._choose_level("  ") == best
    assert _simd._choose_level("scalar") == _simd.LEVELS["scalar"]
    assert _simd._choose_level(" SCALAR ") == _simd.LEVELS["scalar"]
    with pytest.warns(RuntimeWarning, match="supports only"):
        assert _simd._choose_level(_unsupported_level_name()) == best
    with pytest.warns(
        RuntimeWarning, match="not a SIMD level; valid values are 'scalar', 'ssse3'"
    ):
        assert _simd._choose_level("avx1024") == best


@pytest.mark.parametrize("name", _simd.available_levels())
def test_simd_level_sets_and_restores_the_active_level(name):
    before = _simd.active_level()
    with _simd.simd_level(name):
        assert _simd.active_level() == _simd.LEVELS[name]
        # Nested blocks restore the enclosing block's level.
        with _simd.simd_level("scalar"):
            assert _simd.active_level() == _simd.LEVELS["scalar"]
        assert _simd.active_level() == _simd.LEVELS[name]
    assert _simd.active_level() == before


def test_simd_level_restores_on_exception():
    before = _simd.active_level()
    with pytest.raises(KeyError, match="raised inside"):
        with _simd.simd_level("scalar"):
            assert _simd.active_level() == _simd.LEVELS["scalar"]
            raise KeyError("raised inside")
    assert _simd.active_level() == before


def test_simd_level_rejects_unknown_and_unavailable_levels():
    before = _simd.active_level()
    with pytest.raises(ValueError, match="'avx1024' is not a SIMD level; valid values are"):
        with _simd.simd_level("avx1024"):
            pass
    unsupported = _unsupported_level_name()
    with pytest.raises(ValueError, match=f"{unsupported!r} is not supported by this CPU"):
        with _simd.simd_level(unsupported):
            pass
    # Names are exact, unlike the environment variable's.
    with pytest.raises(ValueError, match="not a SIMD level"):
        with _simd.simd_level("SCALAR"):
            pass
    assert _simd.active_level() == before


def test_environment_forces_scalar():
    result = _python(
        "import sklearn_amm; from sklearn_amm import _simd; "
        "print(_simd.active_level()); sklearn_amm.show_config()",
        simd="scalar",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == str(_simd.LEVELS["scalar"])
    assert "SIMD level: scalar (forced by SKLEARN_AMM_SIMD=scalar)" in result.stdout


def test_environment_unsupported_level_warns_and_falls_back():
    result = _python(
        "from sklearn_amm import _simd; print(_simd.active_level())",
        simd=_unsupported_level_name(),
    )
    assert result.returncode == 0, result.stderr
    assert "RuntimeWarning" in result.stderr
    assert result.stdout.strip() == str(_simd.LEVELS[_simd.available_levels()[-1]])


def test_environment_unknown_level_warns_and_runs_at_the_best_level():
    # A typo in the variable must not make the import fail.
    result = _python(
        "import sklearn_amm; from sklearn_amm import _simd; "
        "print(_simd.active_level()); sklearn_amm.show_config()",
        simd="fastest",
    )
    assert result.returncode == 0, result.stderr
    assert "RuntimeWarning" in result.stderr
    assert (
        "SKLEARN_AMM_SIMD='fastest' is not a SIMD level; valid values are "
        "'scalar', 'ssse3', 'avx2', 'avx512', 'neon'"
    ) in result.stderr
    best = _simd.available_levels()[-1]
    assert result.stdout.splitlines()[0] == str(_simd.LEVELS[best])
    assert (
        f"SIMD level: {best} (SKLEARN_AMM_SIMD=fastest is not a SIMD level"
        in result.stdout
    )


def test_show_config_mentions_level_and_openmp():
    out = io.StringIO()
    sklearn_amm.show_config(file=out)
    text = out.getvalue()
    assert f"SIMD level: {_simd.level_name(_simd.active_level())}" in text
    assert ", ".join(_simd.available_levels()) in text
    assert "OpenMP" in text
    assert sklearn_amm.__version__ in text


def test_show_config_follows_threadpoolctl():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if not _cpu.openmp_enabled():
        pytest.skip("built without OpenMP")
    with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
        assert _cpu.openmp_max_threads() == 1
        out = io.StringIO()
        sklearn_amm.show_config(file=out)
    assert "use 1 thread(s)" in out.getvalue()
