"""faiss ``IndexPQFastScan`` against sklearn-amm's scan, at equal code size.

Usage::

    python benchmarks/faiss_comparison.py

Needs faiss-cpu (``pip install -e ".[faiss]"``); without it, the script
says so and exits cleanly. ``benchmarks/report.py`` calls :func:`measure`
and writes the table into the documentation.

What is compared. faiss's fast-scan PQ index holds 4-bit codes of the
database rows; a search takes query vectors, builds a table of each query's
inner products with the 16 centroids of each sub-space, and scans the codes
with the same SIMD shuffles as MADDNESS. With the rows of ``X`` as the
database and the columns of ``B`` as the queries, it approximates
``X @ B``, but **returns only the k largest entries of each column** (and
their row numbers), never the full product; ``k = N`` gets every entry,
sorted, at the cost the table shows. sklearn-amm returns the full
(N, M) product.

* Equal code size: ``C`` codebooks of 4 bits per row in both, ``C / 2``
  bytes, i.e. faiss PQ with ``C`` sub-quantizers of 16 centroids.
* scan only: faiss's search of rows already added (it includes building its
  query tables, M x C x 16 entries); sklearn-amm's scan of rows already
  encoded (its tables are built at fit), into a new float32 output.
* encode + scan: faiss adds the rows (PQ encoding: the nearest of 16
  centroids in each sub-space) then searches; sklearn-amm's ``transform``
  (hash-tree encoding, then the scan).
* The same rows (C-ordered float32, which faiss requires; sklearn-amm also
  with F-ordered rows), the same run, one thread for both (faiss's OpenMP
  and threadpoolctl); each time the smallest of three medians of single
  calls (``suites.common.one_thread_seconds``).
* NMSE of the approximate product, ``mean((Y - Y_hat)**2) / var(Y)``; for
  faiss from its ``k = N`` search. sklearn-amm's MADDNESS-PQ, whose
  prototypes are the mean rows of its leaves as faiss's are the means of
  its k-means clusters, shows how much of the difference the prototypes
  make.

The tasks are the kernel benchmark's (``bench_transform.py``) whose number of
columns the number of sub-quantizers divides, as faiss's PQ requires.
"""

import numpy as np
from bench_transform import N_FIT, SHAPES, low_rank_rows
from suites.common import VARIANTS, one_thread_seconds

from sklearn_amm import MaddnessTransformer
from sklearn_amm._aggregation import aggregate_dequantized
from sklearn_amm._encoding import encode_packed_rows

# (task, n_codebooks): CIFAR-100 at several code sizes, the others at C=16.
CASES = [
    ("CIFAR-10", 16),
    ("CIFAR-100", 8),
    ("CIFAR-100", 16),
    ("CIFAR-100", 64),
    ("UCR", 16),
]
COLUMNS = ["task", "method", "scan only (ms)", "encode + scan (ms)", "speed-up", "NMSE"]


def import_faiss():
    """The faiss module, or None if faiss-cpu is not installed."""
    try:
        import faiss
    except ImportError:
        return None
    return faiss


def nmse(Y, Y_hat):
    return float(np.mean((Y - Y_hat) ** 2) / np.var(Y))


def full_product_from_search(distances, labels, n_samples):
    """The (N, M) product from a k = N search: scatter each query's sorted scores."""
    Y_hat = np.empty((n_samples, distances.shape[0]), dtype=np.float64)
    Y_hat[labels.T, np.arange(distances.shape[0])] = distances.T
    return Y_hat


def scan_seconds(amm, X):
    """Seconds of the scan alone: codes already encoded, a new float32 output."""
    packed = encode_packed_rows(
        X, amm.split_dims_, amm.split_thresholds_, amm.n_codebooks_
    )
    tables, constants = amm._scan_inputs
    multiplier, shift = constants[amm.aggregation][np.float32]
    average = amm.aggregation == "average"
    return one_thread_seconds(
        lambda: aggregate_dequantized(
            packed, tables, X.shape[0], amm.n_codebooks_, average, multiplier, shift
        )
    )


def measure_case(faiss, task, n_codebooks):
    """The rows of the table for one task and code size (times in seconds)."""
    n_samples, n_features, n_outputs = next(
        shape for name, *shape in SHAPES if name == task
    )
    # The rows and matrix of bench_transform.transform_table.
    X64 = low_rank_rows(n_samples + N_FIT, n_features, seed=n_features)
    W = np.random.default_rng(1).normal(size=(n_features, n_outputs))
    Y = X64[N_FIT:] @ W
    X_c = np.ascontiguousarray(X64[N_FIT:], dtype=np.float32)
    X_f = np.asfortranarray(X_c)
    queries = np.ascontiguousarray(W.T, dtype=np.float32)
    W32 = W.astype(np.float32)
    case = f"{task}, C={n_codebooks}"

    numpy_s = one_thread_seconds(lambda: X_c @ W32)
    rows = [[case, "NumPy X @ B (exact)", None, numpy_s, 1.0, 0.0]]
    # MADDNESS-PQ keeps PQ's prototypes, the means of the rows in each leaf:
    # the accuracy to compare with faiss's k-means centroids.
    for variant in ("MADDNESS", "MADDNESS-PQ"):
        amm = MaddnessTransformer(W, n_codebooks=n_codebooks, **VARIANTS[variant])
        amm.fit(X64[:N_FIT])
        error = nmse(Y, amm.transform(X_f))
        scan_s = scan_seconds(amm, X_f)
        for order, X in (("F", X_f), ("C", X_c)):
            transform_s = one_thread_seconds(lambda: amm.transform(X))
            rows.append(
                [
                    case,
                    f"{variant}, X in {order} order",
                    scan_s,
                    transform_s,
                    numpy_s / transform_s,
                    error,
                ]
            )

    index = faiss.IndexPQFastScan(
        n_features, n_codebooks, 4, faiss.METRIC_INNER_PRODUCT
    )
    index.train(np.ascontiguousarray(X64[:N_FIT], dtype=np.float32))

    def add():
        index.reset()
        index.add(X_c)

    faiss.omp_set_num_threads(1)
    add()
    faiss_Y = full_product_from_search(*index.search(queries, n_samples), n_samples)
    for k, output, error in (
        (1, "the top entry of each column", None),
        (n_samples, "all entries, sorted", nmse(Y, faiss_Y)),
    ):
        search_s = one_thread_seconds(lambda: index.search(queries, k))
        both_s = one_thread_seconds(lambda: (add(), index.search(queries, k)))
        rows.append(
            [
                case,
                f"faiss, k={k}: {output}",
                search_s,
                both_s,
                numpy_s / both_s,
                error,
            ]
        )
    return rows


def measure(faiss):
    """Every row of the table: COLUMNS, times in seconds, None where not applicable."""
    return [row for task, C in CASES for row in measure_case(faiss, task, C)]


def format_cell(value, column):
    if value is None:
        return ""
    if column in ("scan only (ms)", "encode + scan (ms)"):
        return f"{value * 1e3:.3f}"
    if column == "speed-up":
        return f"{value:.1f}"
    if column == "NMSE":
        return f"{value:.4f}"
    return str(value)


def format_rows(rows):
    return [[format_cell(v, c) for v, c in zip(row, COLUMNS)] for row in rows]


def main():
    faiss = import_faiss()
    if faiss is None:
        print('faiss-cpu is not installed (pip install -e ".[faiss]"): skipped.')
        return
    print(
        f"faiss {faiss.__version__} IndexPQFastScan (4-bit, inner product) against "
        "sklearn-amm, 1 thread, times in ms; speed-up of encode + scan over numpy"
    )
    rows = format_rows(measure(faiss))
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(COLUMNS)]
    print("  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths)))
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)))


if __name__ == "__main__":
    main()
