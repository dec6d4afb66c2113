"""Which SIMD kernels run: chosen once, at import, from what the CPU reports.

Levels are small integers shared by every kernel family (see
``_kernels/cpu_features.h``). Every kernel takes the level as an argument,
and the Python side passes :func:`active_level`, so tests can call a kernel
at each level in :func:`available_levels` directly.

:func:`simd_level` runs the kernels at another level for the duration of a
``with`` block, as tests and benchmarks do.

The environment variable ``SKLEARN_AMM_SIMD`` forces a level for the whole
process (``scalar``, ``ssse3``, ``avx2``, ``avx512`` or ``neon``): to test the portable
path, or to step around a bug in a SIMD kernel. A level this CPU lacks, or a
name that is no level, gives a warning and the best supported level instead:
a typo in an environment variable must not make ``import sklearn_amm`` fail.
"""

import contextlib
import os
import warnings

from ._kernels import _cpu

ENV_VAR = "SKLEARN_AMM_SIMD"

#: Level number of each name.
LEVELS = {
    "scalar": _cpu.SCALAR,
    "ssse3": _cpu.SSSE3,
    "avx2": _cpu.AVX2,
    "avx512": _cpu.AVX512,
    "neon": _cpu.NEON,
}
_NAMES = {level: name for name, level in LEVELS.items()}


def level_name(level):
    """Name of a level number, e.g. ``"avx2"``."""
    return _NAMES[level]


def available_levels():
    """Names of the levels this CPU supports, best last.

    Returns
    -------
    names : list of str
        Always starts with ``"scalar"``.
    """
    return [level_name(level) for level in _cpu.supported_levels()]


def _choose_level(requested):
    """Level to run: the requested one if supported, else the best one."""
    supported = _cpu.supported_levels()
    best = supported[-1]
    if requested is None or requested.strip() == "":
        return best
    name = requested.strip().lower()
    if name not in LEVELS:
        warnings.warn(
            f"{ENV_VAR}={requested!r} is not a SIMD level; valid values are "
            f"{', '.join(repr(name) for name in LEVELS)}. Using "
            f"{level_name(best)!r}, the best this CPU supports.",
            RuntimeWarning,
            stacklevel=3,
        )
        return best
    if LEVELS[name] not in supported:
        warnings.warn(
            f"{ENV_VAR}={requested!r}, but this CPU supports only "
            f"{', '.join(available_levels())}; using {level_name(best)!r}.",
            RuntimeWarning,
            stacklevel=3,
        )
        return best
    return LEVELS[name]


_ACTIVE_LEVEL = _choose_level(os.environ.get(ENV_VAR))


def active_level():
    """The level the kernels run at (an int; see :func:`level_name`)."""
    return _ACTIVE_LEVEL


def forced_by_environment():
    """The value of ``SKLEARN_AMM_SIMD`` if it is set, else None."""
    value = os.environ.get(ENV_VAR)
    return value if value and value.strip() else None


@contextlib.contextmanager
def simd_level(name):
    """Run the kernels at level ``name`` inside a ``with`` block.

    The active level is the process's, not a thread's: kernels that other
    threads start meanwhile run at ``name`` too. It is restored on leaving
    the block, also when an exception leaves it.

    Parameters
    ----------
    name : str
        One of :func:`available_levels`, e.g. ``"scalar"``.

    Raises
    ------
    ValueError
        If ``name`` is no level, or one this CPU does not support (unlike
        ``SKLEARN_AMM_SIMD``, whose typos only warn: here a test would
        otherwise pass at a level it did not ask for).
    """
    global _ACTIVE_LEVEL
    if name not in LEVELS:
        raise ValueError(
            f"{name!r} is not a SIMD level; valid values are "
            f"{', '.join(repr(level) for level in LEVELS)}"
        )
    if name not in available_levels():
        raise ValueError(
            f"SIMD level {name!r} is not supported by this CPU, which supports "
            f"{', '.join(repr(level) for level in available_levels())}"
        )
    saved = _ACTIVE_LEVEL
    _ACTIVE_LEVEL = LEVELS[name]
    try:
        yield
    finally:
        _ACTIVE_LEVEL = saved
