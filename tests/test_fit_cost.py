"""What a fit costs: memory next to X, threads, and its progress messages."""

import re
import tracemalloc

import numpy as np
import pytest
from sklearn.utils._openmp_helpers import _openmp_effective_n_threads
from sklearn.utils._param_validation import InvalidParameterError
from threadpoolctl import threadpool_limits

from sklearn_amm import MaddnessTransformer, _learning
from sklearn_amm._learning import learn_codebooks


@pytest.fixture(scope="module")
def rows():
    rng = np.random.default_rng(0)
    return rng.normal(size=(20000, 16)) @ rng.normal(size=(16, 128))


@pytest.mark.parametrize("dtype, limit", [(np.float32, 2.0), (np.float64, 1.0)])
@pytest.mark.parametrize("use_weights", [True, False])
def test_fit_needs_no_float64_copy_of_X(rows, dtype, limit, use_weights):
    # The learning reads X in its own dtype, a block of columns or a chunk
    # of rows at a time: what it allocates stays below twice the bytes of
    # float32 rows (once for float64 rows), backfitting and the identity
    # (a residual of one column per feature) included.
    X = rows.astype(dtype)
    weights = np.random.default_rng(1).normal(size=(128, 10)) if use_weights else None
    amm = MaddnessTransformer(weights, n_codebooks=16, n_refinement_passes=1)
    tracemalloc.start()
    try:
        amm.fit(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= limit * X.nbytes


def _model(amm):
    return amm.split_dims_, amm.split_thresholds_, amm.prototypes_


@pytest.mark.parametrize(
    "params",
    [
        dict(n_refinement_passes=2),
        dict(n_refinement_passes=1, use_identity=True),
        dict(n_refinement_passes=1, split_objective="reconstruction", dtype=np.float32),
    ],
    ids=["product", "identity", "float32"],
)
@pytest.mark.parametrize("weighted", [False, True])
def test_the_model_does_not_depend_on_the_number_of_threads(
    rows, params, weighted, monkeypatch
):
    # Threads even for these few rows.
    monkeypatch.setattr(_learning, "_MIN_ROWS_FOR_THREADS", 0)
    params = dict(params)
    X = rows[:6000].astype(params.pop("dtype", np.float64))
    weights = None
    if not params.pop("use_identity", False):
        weights = np.random.default_rng(1).normal(size=(128, 40))
    sample_weight = (
        np.random.default_rng(2).exponential(size=len(X)) if weighted else None
    )
    models = []
    # The fit takes as many threads as OpenMP may use; BLAS is left alone, as
    # its own thread count can change how LAPACK rounds (in the ridge solve).
    for n_threads in (1, 2):
        with threadpool_limits(n_threads, user_api="openmp"):
            amm = MaddnessTransformer(weights, n_codebooks=16, **params)
            models.append(_model(amm.fit(X, sample_weight=sample_weight)))
    # More threads than the machine may have, through the learner itself.
    models.append(
        learn_codebooks(
            X,
            weights,
            16,
            split_objective=params.get("split_objective", "product"),
            n_refinement_passes=params["n_refinement_passes"],
            sample_weight=sample_weight,
            n_threads=3,
        )[1:]
    )
    for model in models[1:]:
        for expected, result in zip(models[0], model):
            np.testing.assert_array_equal(expected, result)


def test_verbose_reports_each_step(rows, capsys):
    X = rows[:2000]
    MaddnessTransformer(n_codebooks=8).fit(X)
    assert capsys.readouterr().out == ""

    MaddnessTransformer(n_codebooks=8, verbose=1, n_refinement_passes=2).fit(X)
    lines = capsys.readouterr().out.splitlines()
    assert all(line.startswith("[MaddnessTransformer] ") for line in lines)
    assert re.fullmatch(
        r"\[MaddnessTransformer\] trees of 8 codebooks learned \(\d+\.\d\d s\)",
        lines[0],
    )
    assert "prototypes refit by ridge" in lines[1]
    assert "refinement pass 1/2: trees relearned" in lines[2]
    assert "refinement pass 2/2: trees relearned" in lines[4]
    assert len(lines) == 6

    MaddnessTransformer(n_codebooks=8, verbose=2, optimize_prototypes=False).fit(X)
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(
        r"\[MaddnessTransformer\] codebook 3/8 learned \(\d+\.\d\d s\)", lines[2]
    )
    assert "prototypes set to the leaf means" in lines[9]
    assert "refinement pass 1/1: codebook 8/8 relearned" in lines[17]
    assert len(lines) == 8 + 1 + 1 + 8 + 1 + 1


@pytest.mark.parametrize("verbose", [-1, 1.5, "yes"])
def test_verbose_must_be_a_non_negative_integer(rows, verbose):
    with pytest.raises(InvalidParameterError, match="verbose"):
        MaddnessTransformer(verbose=verbose).fit(rows[:100])


def test_verbose_accepts_numpy_integers(rows, capsys):
    MaddnessTransformer(n_codebooks=4, verbose=np.int64(1)).fit(rows[:100])
    assert "[MaddnessTransformer]" in capsys.readouterr().out


@pytest.mark.parametrize("limit", [1, 2])
def test_fit_threads_follow_threadpoolctl_limits(rows, monkeypatch, limit):
    pools = []

    class RecordingPool(_learning.ThreadPoolExecutor):
        def __init__(self, max_workers):
            pools.append(max_workers)
            super().__init__(max_workers)

    monkeypatch.setattr(_learning, "ThreadPoolExecutor", RecordingPool)
    monkeypatch.setattr(_learning, "_MIN_ROWS_FOR_THREADS", 0)
    with threadpool_limits(limit):
        n_threads = _openmp_effective_n_threads()
        MaddnessTransformer(n_codebooks=4).fit(rows[:500])
    # One thread, no pool, when limited to 1 (or on one core).
    assert pools == ([] if n_threads == 1 else [n_threads])
    if limit == 1:
        assert pools == []
