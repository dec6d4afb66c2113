"""Shared test data: the paper's synthetic task and exactly representable rows."""

import itertools
import os

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

try:
    from hypothesis import settings
except ImportError:  # the property and fuzz suites skip without it
    settings = None

# Hypothesis profiles for the property and fuzz suites. "default" keeps the
# whole run within a few minutes on two cores; "ci" (or any profile name)
# is chosen with SKLEARN_AMM_HYPOTHESIS_PROFILE, or pytest's
# --hypothesis-profile option; --hypothesis-show-statistics prints how many
# examples each test ran. Deadlines are off: a shared machine makes the
# time of one example too noisy to judge.
HYPOTHESIS_PROFILE_VARIABLE = "SKLEARN_AMM_HYPOTHESIS_PROFILE"
if settings is not None:
    settings.register_profile("default", max_examples=30, deadline=None)
    settings.register_profile("ci", max_examples=300, deadline=None)
    settings.load_profile(os.environ.get(HYPOTHESIS_PROFILE_VARIABLE, "default"))


@pytest.fixture(scope="session", autouse=True)
def _one_blas_thread():
    """BLAS on one thread for the whole run.

    The inner models' fits (LogisticRegression's lbfgs on small arrays)
    spin-wait with several BLAS threads on a busy two-core machine: a
    digits fit took 10 s instead of 0.1 s. The package's own kernels run on
    OpenMP, whose threads this leaves alone; tests of thread counts set
    their own limits inside.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture(scope="session")
def synthetic_task():
    """The rank-8 task the authors' learner was measured on, drawn in a fixed order.

    Rows ``Z @ W + 0.1 * noise`` with ``Z`` of rank 8, and a Gaussian ``B``.
    Returns ``X_train`` (20000 x 64), ``X_test`` (4000 x 64) and ``B`` (64 x 16).
    The reference values the tests compare with (the authors' learner's
    NMSE among them) were measured on these arrays, so the order of the
    random draws matters.
    """
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(24000, 8))
    W = rng.normal(size=(8, 64))
    noise = rng.normal(size=(24000, 64))
    A = Z @ W + 0.1 * noise
    B = rng.normal(size=(64, 16))
    return A[:20000], A[20000:], B


@pytest.fixture(scope="session")
def binary_cube():
    """Rows whose every 4-column block is a corner of the cube ``{0, 3}**4``.

    16 columns (4 blocks), 8000 rows; every block shows all 16 corners, each
    about equally often, independently of the other blocks. With 4 codebooks
    a hash tree can isolate every corner, so MADDNESS can represent these
    rows exactly: with float tables its output must be the exact product
    up to rounding, which makes any other error visible.
    """
    rng = np.random.default_rng(7)
    corners = 3.0 * np.array(list(itertools.product([0, 1], repeat=4)))
    n_samples, n_blocks = 8000, 4
    blocks = [corners[rng.permutation(n_samples) % 16] for _ in range(n_blocks)]
    X = np.hstack(blocks)
    B = rng.normal(size=(16, 5))
    return X, B


@pytest.fixture(scope="session")
def make_low_rank():
    """Maker of Gaussian low-rank-plus-noise rows, the data MADDNESS is made for."""

    def low_rank(n_samples, n_features, rank=8, noise=0.1, seed=0):
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(n_samples, rank)) @ rng.normal(size=(rank, n_features))
        return X + noise * rng.normal(size=(n_samples, n_features))

    return low_rank
