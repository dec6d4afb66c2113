"""Speed–accuracy report: paper-style figures and tables from runs on this machine.

Usage, from the repository root after building the extensions::

    python benchmarks/report.py
    python benchmarks/report.py --only shapes faiss --output-dir report_out

Writes into ``--output-dir`` (default ``doc/user_guide/benchmark_results``,
which the user guide's benchmark page includes) and prints the same numbers:

* ``speed_accuracy.png`` and ``speed_accuracy.inc``: accuracy against
  speed-up over the exact NumPy product, one point per ``n_codebooks`` in
  {4, 8, 16, 32, 64}, for MADDNESS, MADDNESS-PQ and the exact-sum
  aggregation (every parameter spelled out in ``suites/common.py``), on four
  tasks: digits (a fitted ``LogisticRegression``, through
  ``MaddnessClassifier``), the Sobel and difference-of-Gaussians image
  filters (the Caltech shapes of the kernel benchmark), and synthetic
  low-rank rows of the CIFAR-100 shape;
* ``shapes.png`` and ``shapes.inc``: time against the number of rows N and
  the number of outputs M, exact NumPy against MADDNESS (D=512, C=16);
* ``faiss.inc``: faiss ``IndexPQFastScan`` against sklearn-amm at equal code
  size (``faiss_comparison.py``), or a note that faiss-cpu is not installed.

Each table starts with the date, the CPU and the versions it was measured
with.

Times are of float32 rows on one thread (threadpoolctl, for BLAS and the
kernels' OpenMP), under ``sklearn.config_context(assume_finite=True)``,
each the smallest of three medians of single calls
(``suites.common.one_thread_seconds``): on a quiet machine, the medians of
the kernel benchmark ``bench_transform.py``, whose numbers those of the
shared shapes match within the machine's noise. About four minutes on two
cores.
"""

import argparse
import datetime
import platform
from pathlib import Path

import matplotlib
import numpy as np
import sklearn
from bench_transform import N_FIT, low_rank_rows
from faiss_comparison import COLUMNS as FAISS_COLUMNS
from faiss_comparison import format_rows, import_faiss
from faiss_comparison import measure as measure_faiss
from sklearn.frozen import FrozenEstimator
from suites.common import MADDNESS, N_CODEBOOKS, VARIANTS, one_thread_seconds
from threadpoolctl import threadpool_info
from wrappers_accuracy import TILES, digits_split, one_minus_nmse

import sklearn_amm
from sklearn_amm import MaddnessClassifier, MaddnessTransformer, _simd
from sklearn_amm.datasets import load_image_filter_task, make_low_rank_product

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

DEFAULT_OUTPUT_DIR = (
    Path(__file__).resolve().parents[1] / "doc" / "user_guide" / "benchmark_results"
)
STYLES = {
    "MADDNESS": ("tab:blue", "o", "-"),
    "MADDNESS-PQ": ("tab:orange", "s", "--"),
    "exact sum": ("tab:green", "^", ":"),
}
plt.rcParams.update(
    {
        "font.size": 10,
        "axes.titlesize": 10.5,
        "legend.fontsize": 9,
        "savefig.dpi": 110,
        "savefig.bbox": "tight",
    }
)


# -- Tasks of the speed-accuracy figure --------------------------------------


class Task:
    """One panel of the speed–accuracy figure.

    Parameters
    ----------
    title : str
    metric : str
        What ``fit`` scores, e.g. ``"1 - NMSE"``.
    fit : callable
        ``fit(n_codebooks, params) -> (transformer, score)``: the fitted
        MaddnessTransformer whose ``transform`` is timed, and its score.
    X : ndarray of shape (n_samples, n_features), dtype=float32, F order
        The rows to time the products on.
    W : ndarray of shape (n_features, n_outputs), dtype=float32
        The exact product is ``X @ W``.
    reference : float or None
        The exact product's score, if not 1.
    """

    def __init__(self, title, metric, fit, X, W, reference=None):
        self.title, self.metric, self.fit = title, metric, fit
        self.X, self.W, self.reference = X, W, reference

    @property
    def n_features(self):
        return self.X.shape[1]


def digits_task():
    """Digits, ``MaddnessClassifier`` around a fitted ``LogisticRegression``."""
    X_train, X_test, y_train, y_test, exact = digits_split(random_state=0)

    def fit(n_codebooks, params):
        clf = MaddnessClassifier(
            FrozenEstimator(exact), n_codebooks=n_codebooks, **params
        ).fit(X_train, y_train)
        return clf.maddness_, clf.score(X_test, y_test)

    # 450 test rows take microseconds, less than a call's fixed cost: the
    # products are timed on the test rows repeated TILES times.
    X = np.asfortranarray(np.tile(X_test, (TILES, 1)), dtype=np.float32)
    return Task(
        f"Digits: LogisticRegression, D=64, M=10\n(timed on N={X.shape[0]} rows)",
        "test accuracy",
        fit,
        X,
        exact.coef_.T.astype(np.float32),
        reference=exact.score(X_test, y_test),
    )


def product_task(title, X_train, X_test, B):
    """A task scored by ``1 - NMSE`` of the product on the test rows."""
    Y = X_test.astype(np.float64) @ B

    def fit(n_codebooks, params):
        amm = MaddnessTransformer(B, n_codebooks=n_codebooks, **params).fit(X_train)
        return amm, one_minus_nmse(Y, amm.transform(X_test).astype(np.float64))

    X = np.asfortranarray(X_test, dtype=np.float32)
    n, d = X.shape
    return Task(
        f"{title}\nN={n}, D={d}, M={B.shape[1]}",
        "1 - NMSE",
        fit,
        X,
        B.astype(np.float32),
    )


def speed_accuracy_tasks():
    tasks = {"digits": digits_task()}
    for name, filters, shape in (
        ("sobel", "sobel", "Caltech 3x3"),
        ("dog", "dog", "Caltech 5x5"),
    ):
        X_train, X_test, B = load_image_filter_task(filters)
        title = {"sobel": "Sobel 3x3 filters", "dog": "Gaussian 5x5 filters (DoG)"}
        tasks[name] = product_task(f"{title[name]} ({shape} shape)", X_train, X_test, B)
    # The CIFAR-100 shape of the kernel benchmark: the same rank-8 rows.
    X_train, X_test, B = make_low_rank_product(
        n_train=N_FIT, n_test=10000, n_features=512, n_outputs=100
    )
    tasks["synthetic"] = product_task(
        "Synthetic rank-8 rows (CIFAR-100 shape)", X_train, X_test, B
    )
    return tasks


def measure_speed_accuracy(tasks):
    """results[task][variant] = list of (C, score, seconds); exact seconds per task."""
    results, exact_seconds = {}, {}
    for name, task in tasks.items():
        exact_seconds[name] = one_thread_seconds(lambda: task.X @ task.W)
        print(f"{name}: exact product {exact_seconds[name] * 1e3:.3f} ms")
        results[name] = {}
        for variant, params in VARIANTS.items():
            rows = []
            for n_codebooks in N_CODEBOOKS:
                # Past n_features the estimator clamps C: the same model again.
                if n_codebooks > task.n_features:
                    continue
                amm, score = task.fit(n_codebooks, params)
                seconds = one_thread_seconds(lambda: amm.transform(task.X))
                rows.append((n_codebooks, score, seconds))
                print(
                    f"  {variant:<12} C={n_codebooks:>2}: {task.metric} {score:.4f}, "
                    f"{seconds * 1e3:.3f} ms, "
                    f"{exact_seconds[name] / seconds:.1f}x"
                )
            results[name][variant] = rows
    return results, exact_seconds


def speedup_axis(ax):
    """Log speed-up axis labelled 0.5x, 1x, 2x, 5x, ..."""
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}x"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def plot_speed_accuracy(tasks, results, exact_seconds, path):
    fig, axes = plt.subplots(2, 2, figsize=(11, 8.5), layout="constrained")
    for ax, (name, task) in zip(axes.flat, tasks.items()):
        for variant, rows in results[name].items():
            color, marker, line = STYLES[variant]
            C, score, seconds = map(np.array, zip(*rows))
            speedup = exact_seconds[name] / seconds
            ax.plot(speedup, score, marker=marker, ls=line, color=color, label=variant)
            if variant == "MADDNESS":
                for c, x, y in zip(C, speedup, score):
                    ax.annotate(
                        f"C={c}",
                        (x, y),
                        xytext=(4, -11),
                        textcoords="offset points",
                        fontsize=8,
                        color=color,
                    )
        if task.reference is not None:
            ax.axhline(
                task.reference,
                color="grey",
                lw=1.2,
                ls="-.",
                label="exact model's accuracy",
            )
        ax.axvline(1.0, color="black", ls=":", lw=1.2, label="break-even with NumPy")
        speedup_axis(ax)
        ax.set_title(task.title)
        ax.set_xlabel("speed-up over exact NumPy X @ W (float32, 1 thread, log scale)")
        ax.set_ylabel(task.metric)
        ax.grid(True, which="both", alpha=0.3)
    handles = {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    fig.legend(handles.values(), handles.keys(), loc="outside lower center", ncol=5)
    fig.suptitle(
        "Accuracy against speed, one point per n_codebooks C (up and right is "
        "better); X float32, F order"
    )
    fig.savefig(path)
    plt.close(fig)


def speed_accuracy_table(tasks, results, exact_seconds):
    """One RST csv-table per task: each variant's score and speed-up per C."""
    blocks = []
    for name, task in tasks.items():
        header = ["C"] + [
            name for variant in VARIANTS for name in (variant, "speed-up")
        ]
        title = task.title.replace("\n(", " (").replace("\n", ", ")
        caption = (
            f"{title}: {task.metric} of each method, and the speed-up of its "
            f"transform over the exact product ({exact_seconds[name] * 1e3:.3f} ms)"
        )
        if task.reference is not None:
            caption += f"; the exact model scores {task.reference:.4f}"
        lines = csv_table_head(caption, header)
        by_c = {}
        for variant, rows in results[name].items():
            for C, score, seconds in rows:
                speedup = exact_seconds[name] / seconds
                by_c.setdefault(C, []).extend([f"{score:.4f}", f"{speedup:.1f}"])
        for C, cells in by_c.items():
            lines.append("   " + ", ".join([str(C), *cells]))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


# -- Time against N and M ------------------------------------------------------

SWEEP_FEATURES = 512
SWEEP_CODEBOOKS = 16
SWEEP_OUTPUTS = 10  # for the sweep over N
SWEEP_ROWS = 10000  # for the sweep over M
N_VALUES = [100, 300, 1000, 3000, 10000, 30000, 100000]
M_VALUES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]


def product_seconds(amm, X64, W):
    """Seconds of NumPy and of transform, for F- and C-ordered float32 rows."""
    times = {}
    W32 = W.astype(np.float32)
    for order in ("F", "C"):
        X = np.asarray(X64, dtype=np.float32, order=order)
        times["NumPy", order] = one_thread_seconds(lambda: X @ W32)
        times["MADDNESS", order] = one_thread_seconds(lambda: amm.transform(X))
    return times


def measure_shapes():
    """Times over N (M=10) and over M (N=10000), D=512, C=16."""
    rows = low_rank_rows(N_FIT + max(N_VALUES), SWEEP_FEATURES, seed=SWEEP_FEATURES)
    X_train, X_test = rows[:N_FIT], rows[N_FIT:]
    rng = np.random.default_rng(1)
    W = rng.normal(size=(SWEEP_FEATURES, SWEEP_OUTPUTS))
    amm = MaddnessTransformer(W, n_codebooks=SWEEP_CODEBOOKS, **MADDNESS).fit(X_train)
    over_n = {n: product_seconds(amm, X_test[:n], W) for n in N_VALUES}
    over_m = {}
    for m in M_VALUES:
        W = rng.normal(size=(SWEEP_FEATURES, m))
        amm = MaddnessTransformer(W, n_codebooks=SWEEP_CODEBOOKS, **MADDNESS)
        over_m[m] = product_seconds(amm.fit(X_train), X_test[:SWEEP_ROWS], W)
    return over_n, over_m


SHAPE_STYLES = {
    ("NumPy", "F"): ("black", "-", "o"),
    ("NumPy", "C"): ("grey", "--", "o"),
    ("MADDNESS", "F"): ("tab:blue", "-", "s"),
    ("MADDNESS", "C"): ("tab:blue", "--", "s"),
}


def plot_shapes(over_n, over_m, path):
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), layout="constrained")
    panels = (
        (
            axes[0],
            over_n,
            "number of rows N",
            f"time against N (D={SWEEP_FEATURES}, M={SWEEP_OUTPUTS})",
        ),
        (
            axes[1],
            over_m,
            "number of outputs M",
            f"time against M (N={SWEEP_ROWS}, D={SWEEP_FEATURES})",
        ),
    )
    for ax, sweep, xlabel, title in panels:
        x = np.array(list(sweep))
        for (method, order), (color, line, marker) in SHAPE_STYLES.items():
            y = np.array([times[method, order] for times in sweep.values()]) * 1e3
            label = (
                f"exact NumPy X @ W, X in {order} order"
                if method == "NumPy"
                else f"MADDNESS transform, C={SWEEP_CODEBOOKS}, X in {order} order"
            )
            ax.plot(x, y, color=color, ls=line, marker=marker, ms=4, label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(f"{xlabel} (log scale)")
        ax.set_ylabel("time (ms, float32, 1 thread, log scale)")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=2)
    fig.suptitle("Where each wins: the lower line is faster")
    fig.savefig(path)
    plt.close(fig)


def shapes_table(over_n, over_m):
    blocks = []
    for sweep, label, caption in (
        (over_n, "N", f"Time against N (ms), D={SWEEP_FEATURES}, M={SWEEP_OUTPUTS}"),
        (over_m, "M", f"Time against M (ms), N={SWEEP_ROWS}, D={SWEEP_FEATURES}"),
    ):
        header = [
            label,
            "NumPy, F",
            "MADDNESS, F",
            "speed-up, F",
            "NumPy, C",
            "MADDNESS, C",
            "speed-up, C",
        ]
        lines = csv_table_head(
            f"{caption}, C={SWEEP_CODEBOOKS}, float32, 1 thread", header
        )
        for value, times in sweep.items():
            cells = [str(value)]
            for order in ("F", "C"):
                numpy_s, amm_s = times["NumPy", order], times["MADDNESS", order]
                cells += [
                    f"{numpy_s * 1e3:.3f}",
                    f"{amm_s * 1e3:.3f}",
                    f"{numpy_s / amm_s:.2f}",
                ]
            lines.append("   " + ", ".join(cells))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


# -- Output ---------------------------------------------------------------------


def csv_table_head(caption, header):
    return [
        f".. csv-table:: {caption}",
        "   :header: " + ", ".join(f'"{h}"' for h in header),
        "   :widths: auto",
        "   :align: center",
        "",
    ]


def cpu_name():
    """The CPU's model name where Linux tells it, else the architecture."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def measured_line(faiss=None):
    """A paragraph saying when, on what and with which versions a table was measured."""
    blas = sorted(
        {
            f"{info['internal_api']} {info.get('version') or ''}".strip()
            for info in threadpool_info()
            if info["user_api"] == "blas"
        }
    )
    versions = [
        f"sklearn-amm {sklearn_amm.__version__}",
        f"NumPy {np.__version__}",
        f"scikit-learn {sklearn.__version__}",
        f"BLAS libraries loaded: {', '.join(blas)}",
    ]
    if faiss is not None:
        versions.append(f"faiss-cpu {faiss.__version__}")
    return (
        f"Measured on {datetime.date.today().isoformat()}, {cpu_name()} "
        f"({_simd.level_name(_simd.active_level())} kernels), "
        f"{', '.join(versions)}.\n\n"
    )


def main():
    parts = ["speed_accuracy", "shapes", "faiss"]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT_DIR)
    parser.add_argument("--only", nargs="+", choices=parts, default=parts)
    args = parser.parse_args()
    out = args.output_dir
    out.mkdir(parents=True, exist_ok=True)
    faiss = import_faiss()

    if "speed_accuracy" in args.only:
        print("== speed and accuracy against n_codebooks")
        tasks = speed_accuracy_tasks()
        results, exact_seconds = measure_speed_accuracy(tasks)
        plot_speed_accuracy(tasks, results, exact_seconds, out / "speed_accuracy.png")
        table = speed_accuracy_table(tasks, results, exact_seconds)
        (out / "speed_accuracy.inc").write_text(measured_line() + table)
    if "shapes" in args.only:
        print("== time against N and M")
        over_n, over_m = measure_shapes()
        plot_shapes(over_n, over_m, out / "shapes.png")
        table = shapes_table(over_n, over_m)
        (out / "shapes.inc").write_text(measured_line() + table)
        print(table)
    if "faiss" in args.only:
        print("== faiss IndexPQFastScan against sklearn-amm")
        if faiss is None:
            message = (
                'faiss-cpu was not installed (``pip install -e ".[faiss]"``) when '
                "this report was made: no comparison.\n"
            )
            print(message)
            (out / "faiss.inc").write_text(message)
        else:
            rows = format_rows(measure_faiss(faiss))
            lines = csv_table_head(
                f"sklearn-amm (the full product) and faiss {faiss.__version__} "
                "IndexPQFastScan (4-bit PQ, inner product), C codebooks of 4 bits "
                "(C / 2 bytes per row) in both, one thread; speed-up of encode + "
                "scan over NumPy",
                FAISS_COLUMNS,
            )
            lines += ["   " + ", ".join(f'"{cell}"' for cell in row) for row in rows]
            table = "\n".join(lines) + "\n"
            (out / "faiss.inc").write_text(measured_line(faiss) + table)
            print(table)
    print(f"written to {out}")


if __name__ == "__main__":
    main()
