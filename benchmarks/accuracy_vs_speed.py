"""Accuracy loss against speed-up on Fashion-MNIST, one curve per option.

Usage::

    tools/fetch_fashion_mnist.sh         # once: unpacks the training files
    python benchmarks/accuracy_vs_speed.py [--repeats 31] [--curves KEY ...]
    python benchmarks/accuracy_vs_speed.py --plot-only
    python benchmarks/accuracy_vs_speed.py --list-curves

The data and the exact model are those of ``fashion_mnist.py`` task (a):
50,000 training and 10,000 validation rows of the training images only
(stratified, ``random_state=0``), pixels in [0, 1], and a
``LogisticRegression`` (``C=1``, lbfgs, ``max_iter=300``) fitted once on
the 50,000 rows. Every other model is fitted on the same 50,000 rows, and
each point of the figure is one model:

* y: the validation accuracy lost against the exact model, in points;
* x: the speed-up of its ``predict`` over the exact model's ``predict`` on
  the 10,000 validation rows, float32, one thread (threadpoolctl limits
  BLAS and OpenMP). X in Fortran order is the headline (left panel); the
  same rows in C order are the right panel.

The curves (``CURVES``): ``MaddnessClassifier`` around the frozen exact
model with product, log-loss and fine-tuned tables, and MADDNESS-PQ
(bucket means, product tables), each at C in {8, 16, 32, 64}; and what one
would do without this library, a PCA to k in {16, 32, 64, 128} components
with the same logistic regression refitted on them (its ``predict`` is the
PCA's ``transform`` and the head's, timed as the pipeline's ``predict``).

Each time is the median of ``--repeats`` calls (at least 15) after
warm-up calls. The exact model is timed in the same loop as every point,
its calls alternating with the point's on the same array, so that a
change of the machine's load during the run moves both and mostly cancels
in their ratio. The spread of the repeats (quartiles) is kept in the JSON.

Writes ``benchmarks/results/accuracy_vs_speed.json`` (every point, the CPU
and the versions) and the figure ``doc/images/accuracy_vs_speed.png``, and
prints a table of every point. ``--plot-only`` reads the JSON back and
redraws the figure and the table without fitting anything.

``--curves KEY ...`` runs only those curves (``--list-curves`` lists them)
and merges their points into the existing JSON, so that a new curve can be
added without refitting the others; points measured on another CPU are
dropped at the merge, since speed-ups from two machines do not compare.
A curve is one entry of ``CURVES``; an entry with ``default=False`` is run
only when ``--curves`` names it, and one whose estimator or parameters the
installed sklearn_amm lacks is skipped with a message, e.g. ::

    maddness_curve("my-option", "MADDNESS, my option", table_objective="log_loss",
                   my_new_parameter=0.5, default=False)

(``setting`` and ``values`` choose another parameter to vary than
``n_codebooks``, ``estimator`` another class of sklearn_amm); a model that
does not wrap the exact model is a ``Curve`` with its own ``build``, as
the PCA entry.

``--model-cache DIR`` keeps the fitted models (joblib) in DIR and reloads
them on the next run, to repeat the timings without refitting; delete DIR
when the data, the library or scikit-learn change. About 15 minutes on
one core without it, most of it fitting.
"""

import argparse
import datetime
import gc
import hashlib
import inspect
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import sklearn
from fashion_mnist import fashion_split, log, logistic_head
from sklearn.decomposition import PCA
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import make_pipeline
from threadpoolctl import threadpool_info, threadpool_limits

import sklearn_amm
from sklearn_amm import _simd

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "accuracy_vs_speed.json"
FIGURE = ROOT / "doc" / "images" / "accuracy_vs_speed.png"

N_CODEBOOKS = [8, 16, 32, 64]
PCA_COMPONENTS = [16, 32, 64, 128]
# The headline layout first: the encoder reads only the split columns of
# an F-ordered X, but all of a C-ordered one.
LAYOUTS = {"F": "float32, Fortran order", "C": "float32, C order"}
MIN_REPEATS = 15
WARM_UP_CALLS = 3


@dataclass
class Curve:
    """One curve of the figure: a model per setting, fitted on the training rows.

    ``build(head, value)`` returns the unfitted model for one setting, given
    the fitted exact model; it is fitted on the training rows and labels.
    ``missing()`` returns why the installed library cannot build it, or None.
    """

    key: str
    label: str
    setting: str
    values: list
    build: callable
    style: dict = field(default_factory=dict)
    default: bool = True
    missing: callable = lambda: None


def maddness_curve(key, label, *, estimator="MaddnessClassifier",
                   setting="n_codebooks", values=N_CODEBOOKS, style=None,
                   default=True, **params):
    """A curve of a sklearn_amm wrapper around the frozen exact model.

    The estimator class is looked up by name when the curve is built, so
    that an entry for an estimator or a parameter the installed version
    lacks does not stop the others from running.
    """

    def build(head, value):
        cls = getattr(sklearn_amm, estimator)
        return cls(FrozenEstimator(head), **{setting: value}, **params)

    def missing():
        cls = getattr(sklearn_amm, estimator, None)
        if cls is None:
            return f"sklearn_amm has no {estimator}"
        unknown = sorted(({setting} | set(params)) - set(inspect.signature(cls).parameters))
        if unknown:
            return f"{estimator} has no parameter {', '.join(unknown)}"
        return None

    name = "C" if setting == "n_codebooks" else setting
    return Curve(key, label, name, list(values), build, style or {}, default, missing)


def pca_pipeline(head, n_components):
    # The head's settings, refitted on the components: without the library,
    # fewer input columns is how one makes this model cheaper.
    return make_pipeline(PCA(n_components=n_components, random_state=0), logistic_head())


def fallback_classifier(head, fallback_loss, n_codebooks=32):
    # The unfitted head: the calibration copy then learns without the
    # held-out rows, whose loss is measured unbiased (a frozen head fitted
    # on them would make it pessimistic). The head it fits on all rows is
    # the exact model's twin (same data, same deterministic solver).
    return sklearn_amm.MaddnessClassifier(
        logistic_head(), n_codebooks=n_codebooks, fallback_loss=fallback_loss,
        random_state=0,
    )


def target_mode(head, max_accuracy_loss):
    return sklearn_amm.MaddnessClassifierCV(
        logistic_head(), max_accuracy_loss=max_accuracy_loss, random_state=0
    )


CURVES = [
    maddness_curve("product", "MADDNESS, product tables",
                   table_objective="product", style=dict(color="C0", marker="o")),
    maddness_curve("log_loss", 'MADDNESS, table_objective="log_loss"',
                   table_objective="log_loss", style=dict(color="C1", marker="s")),
    maddness_curve("fine_tuned", "MADDNESS, defaults (fine-tuned tables)",
                   table_objective="fine_tuned", random_state=0,
                   style=dict(color="C2", marker="D")),
    maddness_curve("pq", "MADDNESS-PQ (optimize_prototypes=False)",
                   optimize_prototypes=False, table_objective="product",
                   style=dict(color="C4", marker="v")),
    Curve("fallback", "defaults, C=32, exact fallback (fallback_loss)",
          "fallback_loss", [0.01, 0.003], fallback_classifier,
          dict(color="C3", marker="P")),
    Curve("target", "MaddnessClassifierCV (max_accuracy_loss)",
          "max_accuracy_loss", [0.01, 0.003], target_mode,
          dict(color="C5", marker="*", markersize=9)),
    Curve("pca", "PCA + logistic regression refitted", "k", PCA_COMPONENTS,
          pca_pipeline, dict(color="C7", marker="^", linestyle="--")),
]


# --- Measuring


def paired_medians(exact, approx, repeats):
    """Median seconds of ``exact()`` and ``approx()``, their calls interleaved.

    Returns each one's median, quartiles and minimum. The order within a pair
    alternates, so that neither call always runs right after the other
    (whose writes may still be in the caches).
    """
    for _ in range(WARM_UP_CALLS):
        exact()
        approx()
    times = {exact: [], approx: []}
    gc.collect()
    gc.disable()
    try:
        for i in range(repeats):
            for function in (exact, approx) if i % 2 == 0 else (approx, exact):
                start = time.perf_counter()
                function()
                times[function].append(time.perf_counter() - start)
    finally:
        gc.enable()
    return [
        {
            "median_ms": 1e3 * float(np.median(times[function])),
            "quartiles_ms": [1e3 * float(q) for q in np.percentile(times[function], [25, 75])],
            # The least disturbed call, to compare with the median on a busy machine.
            "min_ms": 1e3 * float(np.min(times[function])),
        }
        for function in (exact, approx)
    ]


def environment():
    """CPU, SIMD level and versions, as recorded with the results."""
    blas = sorted({
        f"{info['internal_api']} {info.get('version') or ''}".strip()
        for info in threadpool_info() if info["user_api"] == "blas"
    })
    return {
        "cpu": cpu_model(),
        "simd": _simd.level_name(_simd.active_level()),
        "sklearn_amm": sklearn_amm.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "blas": ", ".join(blas),
        "date": datetime.date.today().isoformat(),
    }


def cpu_model():
    """The CPU's model name as lscpu prints it, else /proc/cpuinfo's."""
    import subprocess

    try:
        output = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in output.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    # bench_transform reads /proc/cpuinfo, and falls back to the platform.
    from bench_transform import cpu_model as proc_cpu_model

    return proc_cpu_model()


class ModelCache:
    """Fitted models kept with joblib under a directory, or nothing without one."""

    def __init__(self, directory):
        self.directory = Path(directory) if directory else None
        if self.directory:
            self.directory.mkdir(parents=True, exist_ok=True)

    def fitted(self, name, model, X, y):
        """``model`` fitted on ``X, y``, or the copy fitted by an earlier run.

        The file name holds a digest of the model's parameters, so a model
        whose definition changed is fitted again. Returns the model and its
        fit's seconds (those of the run that fitted it).
        """
        import joblib

        path = None
        if self.directory:
            digest = hashlib.sha1(repr(model.get_params()).encode()).hexdigest()[:12]
            path = self.directory / f"{name}-{digest}.joblib"
            if path.is_file():
                return joblib.load(path)
        start = time.perf_counter()
        model.fit(X, y)
        result = (model, time.perf_counter() - start)
        if path:
            joblib.dump(result, path)
        return result


def measure_curve(curve, head, data, repeats, cache, cpu):
    """One point per setting of ``curve``: its loss, fit time and speed-ups."""
    X_train, y_train, layouts, y_val, exact_accuracy = data
    points = []
    for value in curve.values:
        model, fit_seconds = cache.fitted(
            f"{curve.key}-{value}", curve.build(head, value), X_train, y_train
        )
        predictions = {name: model.predict(X) for name, X in layouts.items()}
        accuracy = float(np.mean(predictions["F"] == y_val))
        point = {
            "curve": curve.key,
            "label": curve.label,
            "setting": curve.setting,
            "value": value,
            "accuracy": accuracy,
            "loss_points": 100 * (exact_accuracy - accuracy),
            "fit_seconds": fit_seconds,
            # The prediction must not depend on the layout; a difference
            # would show here, not as a change of the accuracy.
            "layouts_disagree": int(np.sum(predictions["F"] != predictions["C"])),
            "cpu": cpu,
            "date": datetime.date.today().isoformat(),
            "timing": {},
        }
        # What the fallback and the target mode chose, for the report.
        if hasattr(model, "fallback_mask"):
            point["fallback_share"] = float(np.mean(model.fallback_mask(layouts["F"])))
        for name in ("n_codebooks_", "table_objective_", "validation_loss_"):
            if curve.key == "target" and hasattr(model, name):
                point[name] = getattr(model, name)
        for name, X in layouts.items():
            exact, approx = paired_medians(
                lambda X=X: head.predict(X), lambda X=X: model.predict(X), repeats
            )
            point["timing"][name] = {
                "exact": exact,
                "model": approx,
                "speedup": exact["median_ms"] / approx["median_ms"],
            }
        log(f"  {curve.key} {curve.setting}={value}: loss {point['loss_points']:.2f} "
            f"points, speed-up {point['timing']['F']['speedup']:.2f}x (F), "
            f"{point['timing']['C']['speedup']:.2f}x (C), fit {fit_seconds:.0f} s")
        points.append(point)
    return points


def run(curves, repeats, cache, save):
    """Fit and time every curve; ``save(results)`` after each one."""
    env = environment()
    log(f"CPU: {env['cpu']} ({env['simd']} kernels)")
    with threadpool_limits(1):
        X_train, X_val, y_train, y_val = fashion_split()
        log(f"{len(X_train)} training and {len(X_val)} validation rows")
        head, head_seconds = cache.fitted("exact", logistic_head(), X_train, y_train)
        exact_accuracy = float(head.score(X_val, y_val))
        log(f"exact model ({head.n_iter_[0]} lbfgs iterations, fit {head_seconds:.0f} s): "
            f"validation accuracy {exact_accuracy:.4f}")
        layouts = {
            "F": np.asfortranarray(X_val, dtype=np.float32),
            "C": np.ascontiguousarray(X_val, dtype=np.float32),
        }
        data = (X_train, y_train, layouts, y_val, exact_accuracy)
        results = {
            "environment": env,
            "repeats": repeats,
            "exact": {
                "accuracy": exact_accuracy,
                "n_iter": int(head.n_iter_[0]),
                "fit_seconds": head_seconds,
            },
            "points": [],
        }
        for curve in curves:
            log(curve.label)
            results["points"].extend(
                measure_curve(curve, head, data, repeats, cache, env["cpu"])
            )
            # A long run interrupted keeps the curves it finished.
            save(results)
    return results


def old_points(path, cpu, replaced):
    """The points of ``path`` measured on ``cpu`` for curves not in ``replaced``."""
    if not path.is_file():
        return []
    kept = []
    for point in json.loads(path.read_text())["points"]:
        if point["curve"] in replaced:
            continue
        if point["cpu"] != cpu:
            log(f"dropped {point['curve']} {point['setting']}={point['value']}: "
                f"measured on {point['cpu']}")
            continue
        kept.append(point)
    if kept:
        log(f"kept {len(kept)} points of curves not re-run from {path.name}")
    return kept


# --- Reporting


def print_table(results):
    env = results["environment"]
    print(f"\nCPU: {env['cpu']} ({env['simd']} kernels); sklearn-amm "
          f"{env['sklearn_amm']}, scikit-learn {env['scikit-learn']}, numpy "
          f"{env['numpy']}, BLAS: {env['blas']}; {env['date']}")
    exact = results["exact"]
    print(f"Fashion-MNIST, 10,000 validation rows; exact LogisticRegression: "
          f"{100 * exact['accuracy']:.2f} %, predict "
          f"{median_exact_ms(results, 'F'):.2f} ms (F) and "
          f"{median_exact_ms(results, 'C'):.2f} ms (C), one thread")
    print(f"{'option':<42} {'setting':>7} {'loss':>6} {'speed-up F':>10} "
          f"{'speed-up C':>10} {'ms F':>6} {'ms C':>6} {'fit s':>6}")
    print(f"{'exact model':<42} {'':>7} {0:>6.2f} {1:>10.2f} {1:>10.2f} "
          f"{median_exact_ms(results, 'F'):>6.2f} {median_exact_ms(results, 'C'):>6.2f} "
          f"{exact['fit_seconds']:>6.0f}")
    for point in results["points"]:
        timing = point["timing"]
        print(f"{label_of(point):<42} {point['setting'] + '=' + str(point['value']):>7} "
              f"{point['loss_points']:>6.2f} {timing['F']['speedup']:>10.2f} "
              f"{timing['C']['speedup']:>10.2f} "
              f"{timing['F']['model']['median_ms']:>6.2f} "
              f"{timing['C']['model']['median_ms']:>6.2f} {point['fit_seconds']:>6.0f}"
              + (f"  {100 * point['fallback_share']:.1f}% exact rows"
                 if point.get("fallback_share") else "")
              + (f"  chose C={point['n_codebooks_']} {point['table_objective_']},"
                 f" held-out loss {100 * point['validation_loss_']:.2f}"
                 if "n_codebooks_" in point else ""))
    print(f"loss: validation accuracy lost against the exact model, in points; "
          f"speed-up: the exact model's predict time over the option's, medians "
          f"of {results['repeats']} interleaved calls, float32 X in Fortran (F) "
          f"or C order; ms: the option's predict; fit s: its fit, one thread")
    disagree = [p for p in results["points"] if p["layouts_disagree"]]
    for point in disagree:
        print(f"note: {point['curve']} {point['setting']}={point['value']} predicts "
              f"{point['layouts_disagree']} rows differently in F and C order")


def label_of(point):
    """The curve's current label (points keep the one they were measured under)."""
    for curve in CURVES:
        if curve.key == point["curve"]:
            return curve.label
    return point["label"]


def median_exact_ms(results, layout):
    """The exact model's predict time over all points' paired measurements."""
    times = [p["timing"][layout]["exact"]["median_ms"] for p in results["points"]]
    return float(np.median(times)) if times else float("nan")


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    styles = {curve.key: curve.style for curve in CURVES}
    curves = {}
    for point in results["points"]:
        curves.setdefault(point["curve"], []).append(point)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), sharey=True, layout="constrained")
    for ax, (layout, title) in zip(axes, LAYOUTS.items()):
        for i, (key, points) in enumerate(curves.items()):
            style = {"color": f"C{i}", "marker": "o", **styles.get(key, {})}
            x = [p["timing"][layout]["speedup"] for p in points]
            y = [p["loss_points"] for p in points]
            ax.plot(x, y, label=label_of(points[0]), **{"markersize": 5, **style})
            # Every MADDNESS curve has its points at the same C, with about
            # the same speed: label C once, on the first curve, and k on PCA.
            if key in ("product", "pca"):
                for p, xi, yi in zip(points, x, y):
                    ax.annotate(f"{p['setting']}={p['value']}", (xi, yi), xytext=(4, 4),
                                textcoords="offset points", fontsize=7,
                                color=style["color"])
        ax.plot([1], [0], marker="*", markersize=12, color="black", linestyle="none",
                label="exact model")
        ax.axhline(0, color="black", lw=0.6)
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("speed-up of predict over the exact model (log scale)")
        ax.set_title(f"X {title}")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("validation accuracy lost (points)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=8)
    env = results["environment"]
    fig.suptitle(
        "Fashion-MNIST, LogisticRegression on 784 pixels: accuracy lost against "
        f"speed-up (lower right is better)\none thread, {env['cpu']}, "
        f"{env['simd']} kernels, 10,000 validation rows", fontsize=10,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    log(f"figure written to {path} ({path.stat().st_size // 1024} kB)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot-only", action="store_true",
                        help="redraw the figure and the table from the JSON")
    parser.add_argument("--curves", nargs="+", metavar="KEY",
                        help="run these curves only and merge them into the JSON")
    parser.add_argument("--list-curves", action="store_true")
    parser.add_argument("--fresh", action="store_true",
                        help="drop the JSON's points of the curves not run")
    parser.add_argument("--repeats", type=int, default=31,
                        help=f"timed calls per median (at least {MIN_REPEATS})")
    parser.add_argument("--model-cache", metavar="DIR",
                        help="keep fitted models here and reuse them")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--figure", type=Path, default=FIGURE)
    args = parser.parse_args()
    by_key = {curve.key: curve for curve in CURVES}
    if args.list_curves:
        for curve in CURVES:
            reason = curve.missing()
            state = f"unavailable: {reason}" if reason else (
                "default" if curve.default else "on request")
            print(f"{curve.key:<12} {curve.label:<44} {state}")
        return
    if args.plot_only:
        results = json.loads(args.results.read_text())
    else:
        if args.repeats < MIN_REPEATS:
            parser.error(f"--repeats must be at least {MIN_REPEATS}")
        unknown = set(args.curves or ()) - set(by_key)
        if unknown:
            parser.error(f"unknown curves {sorted(unknown)}; see --list-curves")
        chosen = ([by_key[key] for key in args.curves] if args.curves
                  else [curve for curve in CURVES if curve.default])
        curves = []
        for curve in chosen:
            reason = curve.missing()
            if reason:
                log(f"skipped {curve.key}: {reason}")
            else:
                curves.append(curve)
        kept = [] if args.fresh else old_points(
            args.results, cpu_model(), {curve.key for curve in chosen})

        def merged(results):
            return dict(results, points=kept + results["points"])

        def save(results):
            args.results.parent.mkdir(parents=True, exist_ok=True)
            args.results.write_text(json.dumps(merged(results), indent=1) + "\n")

        results = run(curves, args.repeats, ModelCache(args.model_cache), save)
        save(results)
        results = merged(results)
        log(f"results written to {args.results}")
    print_table(results)
    plot(results, args.figure)


if __name__ == "__main__":
    main()
