"""Figures of the method page: blocks, trees, buckets, prototypes, tables, averaging."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from sklearn_amm import _reference as ref
from figure_tasks import (
    digits_fits,
    low_rank_fit,
    low_rank_task,
    sobel_column_name,
    sobel_fit,
    sobel_task,
)


def column_blocks(path):
    est = sobel_fit(8)
    n_features = est.n_features_in_
    bounds = est.codebook_bounds_
    levels_of = {}
    for c in range(est.n_codebooks_):
        for level, dim in enumerate(est.split_dims_[c]):
            levels_of.setdefault((c, int(dim)), []).append(level)

    fig, ax = plt.subplots(figsize=(12, 3.9))
    colors = plt.get_cmap("tab10")
    for c in range(est.n_codebooks_):
        start, stop = bounds[c], bounds[c + 1]
        ax.add_patch(
            Rectangle(
                (start - 0.5, c - 0.5),
                stop - start,
                1,
                facecolor=colors(c % 10),
                alpha=0.35,
                edgecolor="black",
            )
        )
        for (cc, dim), levels in levels_of.items():
            if cc == c:
                ax.text(
                    dim,
                    c,
                    ",".join(map(str, levels)),
                    ha="center",
                    va="center",
                    fontsize=9,
                    fontweight="bold",
                )
    ax.set_xlim(-0.5, n_features - 0.5)
    ax.set_ylim(est.n_codebooks_ - 0.5, -0.5)
    ax.set_xticks(range(n_features))
    ax.set_xticklabels(
        [sobel_column_name(j) for j in range(n_features)], rotation=90, fontsize=8
    )
    ax.set_yticks(range(est.n_codebooks_))
    ax.set_xlabel("input column of a 3x3 RGB patch (channel, pixel row, pixel column)")
    ax.set_ylabel("codebook")
    widths = np.diff(bounds)
    ax.set_title(
        f"Column blocks: D = {n_features} columns, C = {est.n_codebooks_} codebooks "
        f"(widths {', '.join(map(str, widths))}).\nNumbers in a block: the levels "
        "of the codebook's tree that compare the column"
    )
    ax.grid(False)
    fig.savefig(path)
    plt.close(fig)


def _tree_codebook():
    """A codebook with a 2-column block, for drawing its tree and its buckets."""
    est = low_rank_fit(32)
    return est, 0


def hash_tree(path):
    est, c = _tree_codebook()
    X_train, _, _ = low_rank_task()
    codes = est.encode(X_train)[:, c]
    counts = np.bincount(codes, minlength=16)
    dims = est.split_dims_[c]
    thresholds = est.split_thresholds_[c]

    fig, ax = plt.subplots(figsize=(14, 4.8))
    box = dict(boxstyle="round,pad=0.3", facecolor="white", edgecolor="0.3")
    leaf_box = dict(boxstyle="round,pad=0.3", facecolor="#e8f0fb", edgecolor="0.3")

    def x_of(level, node):
        return (node + 0.5) * 16 / 2**level

    for level in range(5):
        for node in range(2**level):
            x, y = x_of(level, node), -level
            if level < 4:
                for child, style in ((2 * node, "--"), (2 * node + 1, "-")):
                    ax.plot(
                        [x, x_of(level + 1, child)],
                        [y, y - 1],
                        style,
                        color="0.45",
                        lw=1,
                        zorder=1,
                    )
                t = thresholds[level, node]
                label = f"> {t:.2f}" if np.isfinite(t) else "+inf\n(no split)"
                ax.text(x, y, label, ha="center", va="center", fontsize=8, bbox=box)
            else:
                ax.text(
                    x,
                    y,
                    f"leaf {node}\nn={counts[node]}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    bbox=leaf_box,
                )
    for level in range(4):
        ax.text(
            -0.6,
            -level,
            f"level {level}: x{dims[level]}",
            ha="right",
            va="center",
            fontsize=10,
            fontweight="bold",
        )
    ax.text(-0.6, -4, "codes", ha="right", va="center", fontsize=10, fontweight="bold")
    ax.plot([], [], "--", color="0.45", label="no: x <= threshold (left, bit 0)")
    ax.plot([], [], "-", color="0.45", label="yes: x > threshold (right, bit 1)")
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 0.93), ncol=2, frameon=False)
    ax.set_xlim(-3.2, 16.2)
    ax.set_ylim(-4.5, 0.5)
    ax.axis("off")
    ax.set_title(
        f"Hash tree of codebook {c} (columns x{dims.min()}..x{dims.max()}), "
        f"learned from {len(codes)} rows: one compared column per level, "
        "one threshold per node",
        pad=18,
    )
    fig.savefig(path)
    plt.close(fig)


def buckets(path):
    est, c = _tree_codebook()
    X_train, _, _ = low_rank_task()
    start, stop = est.codebook_bounds_[c : c + 2]
    assert stop - start == 2
    codes = est.encode(X_train)[:, c]
    local_dims = est.split_dims_[c] - start
    thresholds = est.split_thresholds_[c]
    block = X_train[:, start:stop]
    # The bucket means are the MADDNESS-PQ prototypes, restricted to the block.
    means = ref.bucket_means(block, codes[:, None], np.array([0, 2]))[0]

    low, high = np.percentile(block, [0.5, 99.5], axis=0)
    pad = 0.05 * (high - low)
    region = [[low[0] - pad[0], high[0] + pad[0]], [low[1] - pad[1], high[1] + pad[1]]]

    fig, ax = plt.subplots(figsize=(8.5, 7))
    rng = np.random.default_rng(0)
    shown = rng.choice(len(block), size=4000, replace=False)
    cmap = plt.get_cmap("tab20")
    ax.scatter(
        block[shown, 0],
        block[shown, 1],
        c=[cmap(k) for k in codes[shown]],
        s=5,
        alpha=0.6,
        linewidths=0,
    )

    def draw(node, level, box):
        if level == 4:
            return
        dim, t = local_dims[level], thresholds[level, node]
        if not np.isfinite(t):
            draw(2 * node, level + 1, box)
            return
        other = box[1 - dim]
        if dim == 0:
            ax.plot([t, t], other, color="black", lw=2.2 - 0.4 * level)
        else:
            ax.plot(other, [t, t], color="black", lw=2.2 - 0.4 * level)
        left = [list(b) for b in box]
        right = [list(b) for b in box]
        left[dim][1] = t
        right[dim][0] = t
        draw(2 * node, level + 1, left)
        draw(2 * node + 1, level + 1, right)

    draw(0, 0, region)
    used = np.unique(codes)
    ax.scatter(
        means[used, 0],
        means[used, 1],
        marker="X",
        s=90,
        color="black",
        edgecolor="white",
        label="bucket mean (a MADDNESS-PQ prototype)",
        zorder=3,
    )
    for k in used:
        ax.annotate(
            str(k),
            means[k],
            xytext=(6, 6),
            textcoords="offset points",
            fontsize=9,
            fontweight="bold",
        )
    ax.set_xlim(region[0])
    ax.set_ylim(region[1])
    ax.set_xlabel(f"x{start} (level {'/'.join(str(t) for t in np.flatnonzero(local_dims == 0))} splits)")
    ax.set_ylabel(f"x{start + 1} (level {'/'.join(str(t) for t in np.flatnonzero(local_dims == 1))} splits)")
    ax.set_title(
        f"The 16 buckets of codebook {c}: training rows coloured by leaf,\n"
        "split lines thicker for earlier levels, leaf ids next to the bucket means"
    )
    ax.legend(loc="lower right", framealpha=0.9)
    fig.savefig(path)
    plt.close(fig)


def prototypes(path):
    X_train, _, fits = digits_fits()
    c = 5
    start, stop = fits["pq"].codebook_bounds_[c : c + 2]
    codes = fits["pq"].encode(X_train)[:, c]
    counts = np.bincount(codes, minlength=16)
    before = fits["pq"].prototypes_[c]
    after = fits["ridge"].prototypes_[c]
    rows = [
        ("bucket means\n(MADDNESS-PQ)", before),
        ("after the\nridge refit\n(MADDNESS)", after),
        ("change made\nby the refit", after - before),
    ]
    fig, axes = plt.subplots(3, 16, figsize=(15, 3.9), layout="constrained")
    limits = [np.abs(after).max()] * 2 + [np.abs(after - before).max()]
    images = []
    for r, (label, protos) in enumerate(rows):
        for k in range(16):
            ax = axes[r, k]
            image = ax.imshow(
                protos[k].reshape(8, 8), cmap="RdBu_r", vmin=-limits[r], vmax=limits[r]
            )
            row, col = divmod(start, 8)
            ax.add_patch(
                Rectangle(
                    (col - 0.5, row - 0.5),
                    stop - start,
                    1,
                    fill=False,
                    edgecolor="black",
                    lw=1.2,
                )
            )
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"leaf {k}\nn={counts[k]}", fontsize=8)
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
        images.append(image)
    fig.colorbar(images[1], ax=axes[:2, :], shrink=0.9, pad=0.01, label="pixel value")
    fig.colorbar(images[2], ax=axes[2, :], shrink=0.9, pad=0.01, label="change")
    fig.suptitle(
        f"The 16 prototypes of codebook {c} on 8x8 digits; its block is pixels "
        f"{start}-{stop - 1} (boxed). The ridge refit lets every prototype use "
        "every pixel."
    )
    fig.savefig(path)
    plt.close(fig)


def reconstruction(path):
    _, X_test, fits = digits_fits()
    shown = X_test[:8]
    rows = [("original", shown)]
    for name, label in (("pq", "MADDNESS-PQ"), ("ridge", "MADDNESS")):
        est = fits[name]
        rows.append((f"{label}\nR2 = {est.score(X_test):.3f}", est.transform(shown)))
    fig, axes = plt.subplots(3, len(shown), figsize=(9, 3.9))
    for r, (label, images) in enumerate(rows):
        for i, image in enumerate(images):
            ax = axes[r, i]
            ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    fig.suptitle(
        "Test digits rebuilt as the sum of their 16 selected prototypes "
        "(weights=None, float tables);\nR2 over all 297 test digits",
        y=1.02,
    )
    fig.savefig(path)
    plt.close(fig)


def lookup_tables(path):
    est = sobel_fit(8)
    tables = ref.build_tables(est.prototypes_, est.weights_)
    quantized, offsets, scale = est.luts_, est.lut_offsets_, est.lut_scale_
    m = 0
    fig, axes = plt.subplots(
        1, 3, figsize=(15, 3.8), gridspec_kw={"width_ratios": [1, 1, 0.8]}
    )
    image = axes[0].imshow(tables[m], cmap="viridis", aspect="auto")
    fig.colorbar(image, ax=axes[0], label="prototype @ B[:, 0]")
    axes[0].set_title("float table T[0, c, k] (horizontal Sobel output)")
    image = axes[1].imshow(quantized[m], cmap="viridis", aspect="auto", vmin=0, vmax=255)
    fig.colorbar(image, ax=axes[1], label="uint8 entry")
    axes[1].set_title(f"uint8 table: rint((T - offset[c]) * {scale:.3g})")
    for ax in axes[:2]:
        ax.set_xlabel("leaf k (the 4-bit code)")
        ax.set_ylabel("codebook c")
        ax.set_xticks(range(0, 16, 3))
        ax.set_yticks(range(est.n_codebooks_))
    for c in range(est.n_codebooks_):
        for k in range(16):
            axes[1].text(
                k, c, quantized[m, c, k], ha="center", va="center", fontsize=6,
                color="white" if quantized[m, c, k] < 128 else "black",
            )
    dequantized = quantized / scale + offsets[None, :, None]
    error = (dequantized - tables).ravel()
    axes[2].hist(error, bins=30, color="0.5")
    for sign in (-1, 1):
        axes[2].axvline(sign * 0.5 / scale, color="crimson", ls="--")
    axes[2].set_xlabel("de-quantized - float entry")
    axes[2].set_ylabel("table entries (both outputs)")
    axes[2].set_title(f"quantization error, within +-0.5 / scale = +-{0.5 / scale:.3g}")
    fig.suptitle(
        f"Lookup tables of the 3x3 Sobel task, C = {est.n_codebooks_}: one offset per "
        f"codebook, one scale = 255 / gap = {scale:.4g} for all codebooks and outputs",
        y=1.03,
    )
    fig.savefig(path)
    plt.close(fig)


def _tree_levels(values):
    """The averaging tree of 16 uint8 values, level by level."""
    levels = [np.asarray(values, dtype=np.int64)]
    while len(levels[-1]) > 1:
        w = levels[-1]
        levels.append((w[0::2] + w[1::2] + 1) >> 1)
    return levels


def averaging(path):
    est = sobel_fit(16)
    _, X_test, _ = sobel_task()
    codes = est.encode(X_test)
    exact = ref.aggregate_sum(codes, est.luts_)[:, 0]
    average = ref.aggregate_average(codes, est.luts_)[:, 0]
    bias = ref.averaging_bias(est.n_codebooks_)

    fig = plt.figure(figsize=(15, 7.6))
    grid = fig.add_gridspec(2, 2, height_ratios=[0.85, 1], hspace=0.3, wspace=0.22)
    # Any row will do; take one whose excess is not exactly the bias.
    row = int(np.argmax(average - exact != bias))
    values = est.luts_[0, np.arange(est.n_codebooks_), codes[row]]
    _averaging_tree_panel(fig.add_subplot(grid[0, :]), values, exact[row], bias)
    _excess_panel(fig.add_subplot(grid[1, 0]), average - exact, bias)
    _bias_panel(fig.add_subplot(grid[1, 1]))
    fig.savefig(path)
    plt.close(fig)


def _averaging_tree_panel(ax, values, exact, bias):
    """The averaging tree of one row's 16 table entries, with its values."""
    levels = _tree_levels(values)
    for level, nodes in enumerate(levels):
        width = len(nodes)
        for i, v in enumerate(nodes):
            x, y = (i + 0.5) * 16 / width, -level
            if level > 0:
                for child in (2 * i, 2 * i + 1):
                    child_x = (child + 0.5) * 16 / (2 * width)
                    ax.plot([x, child_x], [y, y + 1], color="0.6", lw=1, zorder=1)
            face = "#e8f0fb" if level == 0 else "white"
            ax.text(
                x, y, str(v), ha="center", va="center", fontsize=9,
                bbox=dict(boxstyle="round,pad=0.3", facecolor=face, edgecolor="0.3"),
            )
    for level, label in enumerate(["entries", "(a+b+1)>>1", "", "", "root"]):
        ax.text(-0.3, -level, label, ha="right", va="center", fontsize=9)
    root = levels[-1][0]
    ax.text(
        16.3,
        -2.2,
        f"exact sum = {exact}\nroot x 16 = {root * 16}\n"
        f"minus bias {bias:g} = {root * 16 - bias:g}",
        ha="left",
        va="center",
        fontsize=10,
        bbox=dict(boxstyle="round", facecolor="#fff6e0", edgecolor="0.4"),
    )
    ax.set_xlim(-1.8, 20)
    ax.set_ylim(-4.4, 0.4)
    ax.axis("off")
    ax.set_title(
        f"Averaging tree of one test row, output 0, C = {len(values)}: the uint8 "
        "entries its codes select, averaged pairwise (rounding up) down to one byte"
    )


def _excess_panel(ax, excess, bias):
    """Histogram of (averaged estimate - exact sum) over the test rows."""
    bins = np.arange(excess.min() - 0.5, excess.max() + 1.5, 2)
    ax.hist(excess, bins=bins, color="0.55", label="root x 16 - exact sum")
    ax.axvline(bias, color="crimson", lw=2, label=f"bias subtracted: {bias:g}")
    ax.axvline(
        excess.mean(), color="black", ls="--", label=f"measured mean: {excess.mean():.2f}"
    )
    ax.set_xlabel("excess of the averaged estimate (quantized units)")
    ax.set_ylabel("test rows")
    ax.set_title(f"Over the {len(excess)} test rows of the Sobel task")
    ax.legend()


def _bias_panel(ax):
    """Measured mean excess against averaging_bias(C), on random tables."""
    rng = np.random.default_rng(0)
    sizes = list(range(1, 49))
    measured = []
    for C in sizes:
        # The bias is an expectation over tables too: a single table whose
        # entries are mostly odd, say, rounds up more often. Average over 64.
        tables = rng.integers(0, 256, size=(64, C, 16), dtype=np.uint8)
        codes = rng.integers(0, 16, size=(2000, C), dtype=np.uint8)
        excess = ref.aggregate_average(codes, tables) - ref.aggregate_sum(codes, tables)
        measured.append(excess.mean())
    predicted = [ref.averaging_bias(C) for C in sizes]
    ax.plot(sizes, predicted, "-", color="crimson", label="averaging_bias(C), subtracted")
    ax.plot(sizes, measured, "o", ms=4, color="black", label="measured mean excess")
    powers = [2, 4, 8, 16, 32]
    ax.plot(
        powers,
        [int(C / 4 * np.log2(min(C, 16))) for C in powers],
        "s",
        ms=8,
        mfc="none",
        color="tab:blue",
        label="authors: int(C/4 log2 min(C,16)), C a power of two",
    )
    ax.set_xlabel("number of codebooks C (groups of 16, zero-padded to a power of two)")
    ax.set_ylabel("mean excess (quantized units)")
    ax.set_title("Bias on random uint8 tables (64 per C) and codes (2000 rows)")
    ax.legend(loc="upper left")
