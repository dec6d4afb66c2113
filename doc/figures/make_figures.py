"""Draw the user-guide figures from real runs of sklearn-amm.

Every number in a figure comes from fitting the installed package on data
that ships with it or with scikit-learn, or from its NumPy reference
(``sklearn_amm._reference``). The only numbers typed in by hand are the
authors' results beside ours, read from ``benchmarks/synthetic_nmse.py``.
The docs build (``doc/conf.py``) runs this script when the package or the
script changed.

Usage, from the repository root::

    python doc/figures/make_figures.py --output-dir doc/figures/generated
    python doc/figures/make_figures.py --only buckets hash_tree

Run time is under a minute on two cores.
"""

import argparse
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# The figure modules sit next to this script.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import method_figures  # noqa: E402
import tuning_figures  # noqa: E402

DPI = 110
plt.rcParams.update(
    {
        "font.size": 10,
        "axes.titlesize": 11,
        "axes.labelsize": 10,
        "legend.fontsize": 9,
        "figure.dpi": DPI,
        "savefig.dpi": DPI,
        "savefig.bbox": "tight",
    }
)

FIGURES = {
    "column_blocks": method_figures.column_blocks,
    "hash_tree": method_figures.hash_tree,
    "buckets": method_figures.buckets,
    "prototypes": method_figures.prototypes,
    "reconstruction": method_figures.reconstruction,
    "lookup_tables": method_figures.lookup_tables,
    "averaging": method_figures.averaging,
    "hyperparameters": tuning_figures.hyperparameters,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=Path(__file__).resolve().parent / "generated",
    )
    parser.add_argument("--only", nargs="+", choices=sorted(FIGURES))
    args = parser.parse_args()
    args.output_dir.mkdir(parents=True, exist_ok=True)
    for name in args.only or FIGURES:
        start = time.perf_counter()
        FIGURES[name](args.output_dir / f"{name}.png")
        print(f"  {name}.png: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
