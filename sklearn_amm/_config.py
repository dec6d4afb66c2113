"""``show_config``: what a bug report about the kernels needs to say."""

import platform
import sys

from . import _simd
from ._kernels import _cpu
from ._version import __version__


def _openmp_runtimes():
    """OpenMP runtimes loaded in this process, as threadpoolctl sees them."""
    from threadpoolctl import threadpool_info

    return [info for info in threadpool_info() if info.get("user_api") == "openmp"]


def show_config(file=None):
    """Print the versions, the SIMD level of the kernels and their threading.

    Parameters
    ----------
    file : file-like, default=None
        Where to print; ``sys.stdout`` if None.

    Notes
    -----
    The SIMD level is chosen at import, from what the CPU reports; the
    environment variable ``SKLEARN_AMM_SIMD`` (``scalar``, ``ssse3``,
    ``avx2``, ``avx512`` or ``neon``) forces one. The kernels run on as many OpenMP
    threads as ``OMP_NUM_THREADS`` or a ``threadpoolctl.threadpool_limits``
    block allow.

    Examples
    --------
    >>> import sklearn_amm
    >>> sklearn_amm.show_config()  # doctest: +SKIP
    """
    import numpy
    import scipy
    import sklearn

    out = sys.stdout if file is None else file
    level = _simd.level_name(_simd.active_level())
    forced = _simd.forced_by_environment()
    if forced is None:
        how = "the best this CPU supports"
    elif _simd.LEVELS.get(forced.strip().lower()) == _simd.active_level():
        how = f"forced by {_simd.ENV_VAR}={forced}"
    elif forced.strip().lower() not in _simd.LEVELS:
        how = f"{_simd.ENV_VAR}={forced} is not a SIMD level; the best level is used"
    else:
        how = f"{_simd.ENV_VAR}={forced} is not supported here; the best level is used"
    if _cpu.openmp_enabled():
        openmp = (
            f"yes; a kernel would use {_cpu.openmp_max_threads()} thread(s) now "
            "(follows OMP_NUM_THREADS and threadpoolctl.threadpool_limits)"
        )
    else:
        openmp = "no (built without OpenMP: the kernels run on one thread)"
    lines = [
        f"sklearn-amm: {__version__}",
        "",
        f"python: {sys.version.split()[0]} ({platform.python_implementation()})",
        f"platform: {platform.platform()}",
        f"machine: {platform.machine()}",
        f"numpy: {numpy.__version__}",
        f"scipy: {scipy.__version__}",
        f"scikit-learn: {sklearn.__version__}",
        "",
        f"SIMD level: {level} ({how})",
        f"SIMD levels this CPU supports: {', '.join(_simd.available_levels())}",
        f"built with OpenMP: {openmp}",
    ]
    for runtime in _openmp_runtimes():
        lines.append(
            f"OpenMP runtime loaded (threadpoolctl): {runtime.get('internal_api')} "
            f"{runtime.get('version') or ''} at {runtime.get('filepath')}, "
            f"num_threads={runtime.get('num_threads')}".replace("  ", " ")
        )
    print("\n".join(lines), file=out)
