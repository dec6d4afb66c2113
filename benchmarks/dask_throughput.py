"""Rows per second of MaddnessTransformer.transform on a dask LocalCluster.

Usage::

    python benchmarks/dask_throughput.py [--rows 8000000] [--chunk-rows 400000]

Needs the dask extra (``pip install -e ".[dask]"``). The rows are low-rank
float32 rows (64 columns, rank 8 plus noise, as in
``sklearn_amm.datasets.make_low_rank_product``) generated on the workers and
kept in their memory, so the timing is of the transform alone: 16 outputs,
16 codebooks, fitted on 20000 rows of the same distribution. For 1 and then 2
workers (one process and one thread each, on the loopback interface), the
transform of all rows is run ``--repeats`` times, its output kept in the
workers' memory and then released (the graph's keys are deterministic, so the
next repeat would otherwise find the results already computed); the table
gives the median and best rows/s. The first line is the in-memory
``transform`` of one chunk in this process, on one thread, which is what each
worker does per chunk. Chunks are large because a chunk of 400000 rows takes
only tens of milliseconds: with small chunks the scheduler's per-task
overhead, not MADDNESS, is measured.
"""

import argparse
import os
import platform
import time

import numpy as np
from threadpoolctl import threadpool_limits

from sklearn_amm import MaddnessTransformer, map_row_chunks

N_FEATURES, RANK, NOISE = 64, 8, 0.1
N_OUTPUTS = 16


def low_rank_rows(block_id, n_rows, W, seed):
    """``n_rows`` rows ``Z @ W + NOISE * E`` seeded by ``[seed, *block_id]``."""
    rng = np.random.default_rng([seed, *block_id])
    Z = rng.standard_normal((n_rows, RANK))
    E = rng.standard_normal((n_rows, N_FEATURES))
    return (Z @ W + NOISE * E).astype(np.float32)


def make_dask_rows(n_rows, chunk_rows, W, seed):
    import dask.array as da

    chunks = da.core.normalize_chunks((chunk_rows, N_FEATURES), (n_rows, N_FEATURES))
    return da.map_blocks(
        lambda block_info=None: low_rank_rows(
            block_info[None]["chunk-location"],
            block_info[None]["chunk-shape"][0],
            W,
            seed,
        ),
        chunks=chunks,
        dtype=np.float32,
        meta=np.empty((0, N_FEATURES), dtype=np.float32),
    )


def transform_seconds(amm, X, repeats):
    """Seconds of each of ``repeats`` transforms of the in-memory rows ``X``."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        amm.transform(X)
        seconds.append(time.perf_counter() - start)
    return seconds


def n_scheduler_tasks(dask_scheduler):
    """Number of tasks the scheduler holds (run on the scheduler)."""
    return len(dask_scheduler.tasks)


def cluster_transform_seconds(amm, n_workers, args, W):
    """Seconds of each transform of ``args.rows`` rows held by ``n_workers`` workers."""
    from distributed import Client, LocalCluster, wait

    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        client.wait_for_workers(n_workers, timeout=120)
        X = make_dask_rows(args.rows, args.chunk_rows, W, seed=1).persist()
        wait(X)
        n_tasks_holding_X = client.run_on_scheduler(n_scheduler_tasks)
        seconds = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            Y = map_row_chunks(amm, X).persist()
            wait(Y)
            seconds.append(time.perf_counter() - start)
            del Y
            while client.run_on_scheduler(n_scheduler_tasks) > n_tasks_holding_X:
                time.sleep(0.05)
        # The first chunk, as a check that the cluster computed the right thing.
        first = X.blocks[0].compute()
        np.testing.assert_array_equal(
            map_row_chunks(amm, X).blocks[0].compute(), amm.transform(first)
        )
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=8_000_000)
    parser.add_argument("--chunk-rows", type=int, default=400_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    rng = np.random.default_rng(0)
    W = rng.standard_normal((RANK, N_FEATURES))
    B = rng.standard_normal((N_FEATURES, N_OUTPUTS))
    amm = MaddnessTransformer(B, n_codebooks=16).fit(
        low_rank_rows((0,), 20000, W, seed=0)
    )

    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
        f"{args.rows} rows x {N_FEATURES} float32 columns in chunks of "
        f"{args.chunk_rows}, {N_OUTPUTS} outputs, 16 codebooks"
    )
    results = {}
    with threadpool_limits(1):
        chunk = low_rank_rows((0, 1), args.chunk_rows, W, seed=1)
        results["in memory, 1 thread, one chunk"] = (
            args.chunk_rows,
            transform_seconds(amm, chunk, args.repeats),
        )
    for n_workers in (1, 2):
        label = f"LocalCluster, {n_workers} worker{'s' * (n_workers > 1)} x 1 thread"
        results[label] = (args.rows, cluster_transform_seconds(amm, n_workers, args, W))
    # Other jobs on the machine take CPU from the workers: say how busy it was.
    load_after = os.getloadavg()[0]
    print(f"load average (1 min) before: {load_before:.1f}, after: {load_after:.1f}")
    print(f"{'setting':<34} {'median rows/s':>14} {'best rows/s':>12}")
    for label, (n_rows, seconds) in results.items():
        print(
            f"{label:<34} {n_rows / np.median(seconds):>14,.0f} "
            f"{n_rows / min(seconds):>12,.0f}"
        )


if __name__ == "__main__":
    main()
