"""Tests of map_row_chunks: MADDNESS over dask arrays and DataFrames.

Skipped when dask is not installed (``pip install -e ".[test,dask]"``). The
results must equal the in-memory call exactly: the chunks run the same code
on the same rows.
"""

import asyncio
import pickle

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression, Ridge

from sklearn_amm import (
    MaddnessClassifier,
    MaddnessRBFSampler,
    MaddnessRegressor,
    MaddnessTransformer,
    map_row_chunks,
)

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")

# A bound on the whole LocalCluster test (start, compute, close), far above
# the few seconds it takes, so that a hung worker fails the test instead of CI.
CLUSTER_TIMEOUT_SECONDS = 120


@pytest.fixture(scope="module")
def task(make_low_rank):
    """Training and test rows of a low-rank task and a fitted transformer."""
    X = make_low_rank(1500, 24, seed=3)
    B = np.random.default_rng(4).normal(size=(24, 5))
    amm = MaddnessTransformer(B, n_codebooks=6).fit(X[:1000])
    return X[:1000], X[1000:], B, amm


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_array_keeps_row_chunks_and_dtype(task, dtype):
    _, X_test, _, amm = task
    X_test = X_test.astype(dtype)
    dX = da.from_array(X_test, chunks=(120, 24))

    Y = map_row_chunks(amm, dX)

    assert Y.chunks == (dX.chunks[0], (5,))
    assert Y.dtype == dtype
    assert Y._meta.dtype == dtype and Y._meta.ndim == 2
    Y_computed = Y.compute(scheduler="sync")
    assert Y_computed.dtype == dtype
    assert_array_equal(Y_computed, amm.transform(X_test))


def test_array_split_along_columns_is_rechunked_into_rows(task):
    _, X_test, _, amm = task
    dX = da.from_array(X_test, chunks=(200, 7))

    Y = map_row_chunks(amm, dX)

    assert Y.chunks == (dX.chunks[0], (5,))
    # Slicing relies on the declared chunks being the real ones.
    assert_array_equal(Y[:, 2:].compute(scheduler="sync"), amm.transform(X_test)[:, 2:])


def test_wrappers_predict_decision_function_and_transform(task):
    X_train, X_test, B, _ = task
    dX = da.from_array(X_test.astype(np.float32), chunks=(150, 24))
    X_test32 = dX.compute()
    y = np.digitize(X_train @ B[:, 0], [-3.0, 3.0])
    classifier = MaddnessClassifier(LogisticRegression(), n_codebooks=6).fit(X_train, y)
    regressor = MaddnessRegressor(Ridge(), n_codebooks=6).fit(X_train, X_train @ B)
    sampler = MaddnessRBFSampler(n_components=20, n_codebooks=6).fit(X_train)

    for estimator, method in [
        (classifier, "predict"),
        (classifier, "decision_function"),
        (classifier, "predict_proba"),
        (regressor, "predict"),
        (sampler, "transform"),
    ]:
        expected = getattr(estimator, method)(X_test32)
        result = map_row_chunks(estimator, dX, method)
        assert result.shape == expected.shape
        assert result.dtype == expected.dtype
        assert result.chunks[0] == dX.chunks[0]
        assert_array_equal(result.compute(scheduler="sync"), expected)


def test_dataframe_with_threaded_scheduler(task):
    X_train, X_test, B, _ = task
    columns = [f"x{j}" for j in range(24)]
    frame = pd.DataFrame(X_test.astype(np.float32), columns=columns)
    amm = MaddnessTransformer(B, n_codebooks=6).fit(
        pd.DataFrame(X_train, columns=columns)
    )
    ddf = dd.from_pandas(frame, npartitions=4)

    Y = map_row_chunks(amm, ddf)

    assert Y.numblocks == (4, 1) and Y.dtype == np.float32
    assert_array_equal(Y.compute(scheduler="threads"), amm.transform(frame))

    amm.set_output(transform="pandas")
    Y_frame = map_row_chunks(amm, ddf)
    assert Y_frame.divisions == ddf.divisions
    pd.testing.assert_frame_equal(
        Y_frame.compute(scheduler="threads"), amm.transform(frame)
    )


def test_empty_partitions_give_empty_output(task):
    _, X_test, _, amm = task
    ddf = dd.from_pandas(pd.DataFrame(X_test), npartitions=3)
    # The filter keeps rows of the first partition only.
    kept = ddf[ddf.index.to_series() < 100]

    Y = map_row_chunks(amm, kept).compute(scheduler="sync")

    assert_array_equal(Y, amm.transform(X_test[:100]))


def test_in_memory_input_is_passed_through(task):
    _, X_test, _, amm = task
    assert_array_equal(map_row_chunks(amm, X_test), amm.transform(X_test))


def test_errors_are_raised_when_the_graph_is_built(task):
    _, X_test, B, amm = task
    dX = da.from_array(X_test, chunks=100)
    with pytest.raises(NotFittedError):
        map_row_chunks(MaddnessTransformer(B), dX)
    with pytest.raises(ValueError, match="2-D"):
        map_row_chunks(amm, dX[:, 0])
    with pytest.raises(TypeError, match="dask DataFrame"):
        map_row_chunks(
            MaddnessTransformer(B, n_codebooks=6)
            .set_output(transform="pandas")
            .fit(X_test),
            dX,
        )


def test_estimator_enters_the_graph_once(task):
    _, X_test, _, _ = task
    # Large weights make the estimator much larger than a chunk of rows.
    big = MaddnessTransformer(np.ones((24, 2000)), n_codebooks=6).fit(X_test)
    Y = map_row_chunks(big, da.from_array(X_test, chunks=50))  # 10 chunks

    # A cluster ships each task on its own: only one may carry the estimator.
    task_sizes = [len(pickle.dumps(t)) for t in dict(Y.__dask_graph__()).values()]

    assert sum(size > len(pickle.dumps(big)) / 2 for size in task_sizes) == 1


def test_local_cluster_equals_in_memory(task):
    distributed = pytest.importorskip("distributed")
    _, X_test, _, amm = task
    X_test = X_test.astype(np.float32)
    Y = map_row_chunks(amm, da.from_array(X_test, chunks=(100, 24)))

    async def compute_on_cluster():
        async with distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            asynchronous=True,
        ) as cluster:
            async with distributed.Client(cluster, asynchronous=True) as client:
                await client.wait_for_workers(2)
                return await client.compute(Y)

    Y_cluster = asyncio.run(
        asyncio.wait_for(compute_on_cluster(), timeout=CLUSTER_TIMEOUT_SECONDS)
    )

    assert Y_cluster.dtype == np.float32
    assert_array_equal(Y_cluster, amm.transform(X_test))
