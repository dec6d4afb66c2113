"""The tasks and fits the user-guide figures share, computed once per run."""

from functools import lru_cache

import numpy as np
from sklearn.datasets import load_digits

from sklearn_amm import MaddnessTransformer
from sklearn_amm.datasets import load_image_filter_task, make_low_rank_product

# The method pages explain the paper's steps one by one, so their figures
# use its settings; the defaults go further (see hyperparameters.rst).
PAPER_SETTINGS = dict(
    lut_scaling="shared", split_objective="reconstruction", n_refinement_passes=0
)


@lru_cache
def sobel_task():
    """The paper's 3x3 Sobel task on scikit-learn's photos (D = 27, M = 2)."""
    X_train, X_test, B = load_image_filter_task("sobel")
    return X_train.astype(np.float64), X_test.astype(np.float64), B


@lru_cache
def sobel_fit(n_codebooks):
    X_train, _, B = sobel_task()
    return MaddnessTransformer(B, n_codebooks=n_codebooks, **PAPER_SETTINGS).fit(X_train)


@lru_cache
def low_rank_task():
    """The synthetic task the authors' learner was measured on (D = 64, M = 16)."""
    return make_low_rank_product()


@lru_cache
def low_rank_fit(n_codebooks):
    X_train, _, B = low_rank_task()
    return MaddnessTransformer(B, n_codebooks=n_codebooks, **PAPER_SETTINGS).fit(X_train)


def sobel_column_name(j):
    """Column j of a 3x3 channel-major patch: channel, then pixel (row, col)."""
    channel, pixel = divmod(j, 9)
    row, col = divmod(pixel, 3)
    return f"{'RGB'[channel]}{row}{col}"


@lru_cache
def digits_fits():
    X, _ = load_digits(return_X_y=True)
    X_train, X_test = X[:1500], X[1500:]
    fits = {}
    for name, optimize in (("pq", False), ("ridge", True)):
        fits[name] = MaddnessTransformer(
            n_codebooks=16,
            optimize_prototypes=optimize,
            quantize_luts=False,
            **PAPER_SETTINGS,
        ).fit(X_train)
    return X_train, X_test, fits
