"""Benchmarks of sklearn-amm: plain scripts, and the asv suites in ``suites/``.

asv (``asv.conf.json`` at the repository root) imports this directory as the
package ``benchmarks`` and every module in it, to discover its benchmarks.
The plain scripts import each other as top-level modules (``from
bench_kernels import ...``), as Python allows when it runs a script of this
directory; putting the directory on ``sys.path`` here lets those imports
work when asv imports the scripts as ``benchmarks.<name>`` too.
"""

import sys
from pathlib import Path

_DIRECTORY = str(Path(__file__).resolve().parent)
if _DIRECTORY not in sys.path:
    sys.path.insert(0, _DIRECTORY)
