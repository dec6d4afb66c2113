"""Draw the README's picture of the method: encode, look up, add.

The user-guide figures are drawn at documentation build time; this one is
committed (``doc/images/maddness.png``) so that the README shows it on the
repository's page. It follows one test row of the synthetic low-rank task
through a fit of the installed package, as the method page does step by
step (``method_figures.py``), and is small enough to commit (under 100 KB).

Usage, from the repository root (a few seconds)::

    python doc/figures/readme_figure.py --output doc/images/maddness.png
"""

import argparse
import io
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from PIL import Image  # noqa: E402

# The shared tasks and fits sit next to this script.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from figure_tasks import low_rank_fit, low_rank_task  # noqa: E402

from sklearn_amm import _reference as ref  # noqa: E402

DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "images" / "maddness.png"

# 32 codebooks of 2 columns each: the first codebook's block is a plane,
# which can be drawn with its 16 buckets.
N_CODEBOOKS = 32
# The output drawn; the test row followed through the three steps is the
# one of median error on it, a typical row rather than a chosen one.
OUTPUT = 0
# Colours of the saved PNG: a palette keeps the file under 100 KB.
N_COLORS = 256
DPI = 90
# Training rows drawn as dots: enough to show the buckets, few enough to
# keep the PNG small.
N_DOTS = 1500


def _leaf_boxes(local_dims, thresholds, region):
    """The rectangle of each leaf of a depth-4 tree on a 2-column block."""
    boxes = {}

    def split(node, level, box):
        if level == 4:
            boxes[node] = box
            return
        dim, t = local_dims[level], thresholds[level, node]
        left = [list(b) for b in box]
        right = [list(b) for b in box]
        if np.isfinite(t):
            left[dim][1] = min(left[dim][1], t)
            right[dim][0] = max(right[dim][0], t)
        split(2 * node, level + 1, left)
        split(2 * node + 1, level + 1, right)

    split(0, 0, region)
    return boxes


def encode_panel(ax, est, X_train, row):
    c = 0
    start, stop = est.codebook_bounds_[c : c + 2]
    block = X_train[:, start:stop]
    codes = est.encode(X_train)[:, c]
    leaf = int(est.encode(row[None, :])[0, c])
    local_dims = est.split_dims_[c] - start
    thresholds = est.split_thresholds_[c]
    low, high = np.percentile(block, [0.5, 99.5], axis=0)
    pad = 0.05 * (high - low)
    region = [[low[0] - pad[0], high[0] + pad[0]], [low[1] - pad[1], high[1] + pad[1]]]
    boxes = _leaf_boxes(local_dims, thresholds, region)

    shown = np.random.default_rng(0).choice(len(block), size=N_DOTS, replace=False)
    cmap = plt.get_cmap("tab20")
    ax.scatter(
        block[shown, 0],
        block[shown, 1],
        c=[cmap(k) for k in codes[shown]],
        s=4,
        alpha=0.7,
        linewidths=0,
        rasterized=True,
    )
    for k, ((x0, x1), (y0, y1)) in boxes.items():
        ax.add_patch(
            Rectangle(
                (x0, y0),
                x1 - x0,
                y1 - y0,
                fill=k == leaf,
                facecolor="gold",
                alpha=0.35 if k == leaf else 1,
                edgecolor="black",
                lw=0.8,
                zorder=1,
            )
        )
        if k == leaf:
            ax.text(
                (x0 + x1) / 2,
                y0 + 0.03 * (region[1][1] - region[1][0]),
                f"leaf {k}",
                ha="center",
                fontsize=10,
                fontweight="bold",
            )
    ax.scatter(*row[start:stop], marker="*", s=260, color="crimson",
               edgecolor="black", zorder=3, label="the test row")
    ax.set_xlim(region[0])
    ax.set_ylim(region[1])
    ax.set_xlabel(f"column x{start}")
    ax.set_ylabel(f"column x{start + 1}")
    ax.legend(loc="lower right", framealpha=0.9)
    ax.set_title(
        "1. Encode: per codebook, a tree of 4 comparisons\n"
        f"puts the row's block in one of 16 buckets (codebook 0: leaf {leaf})"
    )


def lookup_panel(ax, tables, code):
    n_codebooks = tables.shape[0]
    limit = np.abs(tables).max()
    image = ax.imshow(
        tables, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto",
        interpolation="nearest",
    )
    plt.colorbar(image, ax=ax, label="entry: prototype @ B[:, 0]", pad=0.02)
    for c, k in enumerate(code):
        ax.add_patch(
            Rectangle((k - 0.5, c - 0.5), 1, 1, fill=False, edgecolor="black", lw=1.6)
        )
    ax.set_xticks(range(0, 16, 3))
    ax.set_yticks(range(0, n_codebooks, 4))
    ax.set_xlabel("leaf (the 4-bit code)")
    ax.set_ylabel("codebook")
    ax.set_title(
        "2. Look up: the table of each codebook, computed\n"
        "once from B, gives one entry per code (boxed)"
    )


def add_panel(ax, entries, exact):
    running = np.cumsum(entries)
    n_codebooks = len(entries)
    colors = np.where(entries >= 0, "tab:red", "tab:blue")
    ax.bar(range(n_codebooks), entries, color=colors, alpha=0.6, label="entry looked up")
    ax.step(range(n_codebooks), running, where="mid", color="black", lw=1.8,
            label="running sum")
    ax.axhline(exact, color="darkgreen", ls="--", lw=1.6,
               label=f"exact x @ B[:, 0] = {exact:.1f}")
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xlabel("codebook")
    ax.set_ylabel("output 0 of the row")
    values = np.concatenate([running, entries, [exact, 0.0]])
    margin = 0.08 * (values.max() - values.min())
    ax.set_ylim(values.min() - margin, values.max() + margin)
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 0.1), framealpha=0.9, fontsize=9)
    ax.set_title(
        f"3. Add: {n_codebooks} additions, no multiplication,\n"
        f"give {running[-1]:.1f} for the exact {exact:.1f}"
    )


def draw(path):
    est = low_rank_fit(N_CODEBOOKS)
    X_train, X_test, B = low_rank_task()
    errors = np.abs(est.transform(X_test)[:, OUTPUT] - X_test @ B[:, OUTPUT])
    row = X_test[np.argsort(errors)[len(errors) // 2]]
    code = est.encode(row[None, :])[0]
    tables = ref.build_tables(est.prototypes_, est.weights_)[OUTPUT]
    entries = tables[np.arange(len(code)), code]
    exact = float(row @ B[:, OUTPUT])

    plt.rcParams.update({"font.size": 10, "axes.titlesize": 11})
    fig, axes = plt.subplots(
        1, 3, figsize=(15, 4.6), gridspec_kw={"width_ratios": [1, 0.95, 1]}
    )
    encode_panel(axes[0], est, X_train, row)
    lookup_panel(axes[1], tables, code)
    add_panel(axes[2], entries, exact)
    fig.suptitle(
        "MADDNESS: x @ B for a new row x by comparisons, table look-ups and additions "
        f"(synthetic low-rank task, {X_train.shape[1]} columns, "
        f"{N_CODEBOOKS} codebooks; a test row of median error)",
        fontsize=12,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=DPI, format="png")
    plt.close(fig)
    buffer.seek(0)
    image = Image.open(buffer).convert("RGB")
    image.quantize(colors=N_COLORS).save(path, optimize=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    draw(args.output)
    print(f"{args.output}: {args.output.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
