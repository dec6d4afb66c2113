"""Python side of the encoder: owns the buffers, calls the compiled kernel."""

from functools import lru_cache

import numpy as np

from ._kernels._cpu import openmp_max_threads
from ._kernels._encode import encode_codes, encode_packed
from ._layout import ROWS_PER_BLOCK, n_padded_codebooks
from ._simd import active_level
from ._validation import raise_if_nonfinite


def thresholds_for_dtype(thresholds, dtype):
    """Thresholds in the input's dtype, with the same outcome as in float64.

    For a float32 value ``x`` and a float64 threshold ``t``, ``x > t`` holds
    exactly when ``x > t32``, where ``t32`` is the largest float32 not above
    ``t``: no float32 lies in ``(t32, t]``. Rounding down (not to nearest)
    is what makes the float32 kernel agree with the float64 comparison.
    Thresholds already in ``dtype`` are returned as they are (no copy if
    contiguous): callers encoding many batches can convert them once.
    """
    if thresholds.dtype == dtype or dtype == np.float64:
        return np.ascontiguousarray(thresholds, dtype=dtype)
    # A threshold beyond the float32 range (learned from wide float64 rows)
    # becomes +-inf, and +inf is then stepped down to the largest float32:
    # the right answer for every float32 value, so the overflow is no news.
    with np.errstate(over="ignore"):
        rounded = thresholds.astype(np.float32)
        np.nextafter(
            rounded, np.float32(-np.inf), out=rounded, where=rounded > thresholds
        )
    return rounded


def run_encoder(kernel, X, split_dims, thresholds, kernel_inputs, out, level=None):
    """Call an encoding kernel on validated rows and check what it compared.

    Parameters
    ----------
    kernel : callable
        A compiled encoder, called as ``kernel(X, split_dims, thresholds,
        *kernel_inputs, out, level, n_threads)``; it returns whether a value
        of a split column was NaN or infinite.
    X : ndarray of shape (n_samples, n_features), dtype={np.float32, np.float64}
        Validated rows, any strides. Not copied.
    split_dims : ndarray of shape (n_codebooks, 4)
        Column compared at each level of each tree.
    thresholds : ndarray of shape (n_codebooks, 4, 8)
        In any float dtype; passed in X's (:func:`thresholds_for_dtype`).
    kernel_inputs : tuple
        What the kernel takes between the thresholds and ``out``.
    out : ndarray
        Where the kernel writes.
    level : int, default=None
        SIMD level; None means :func:`._simd.active_level`.

    Raises
    ------
    ValueError
        scikit-learn's error if a split column holds NaN or infinity, unless
        ``assume_finite`` is set (:func:`.raise_if_nonfinite`).
    """
    nonfinite = kernel(
        X,
        np.ascontiguousarray(split_dims, dtype=np.intp),
        thresholds_for_dtype(thresholds, X.dtype),
        *kernel_inputs,
        out,
        active_level() if level is None else level,
        # The thread count OpenMP would use, read in C: scikit-learn's
        # threadpoolctl-aware helper costs microseconds a call, a visible
        # share of a transform of a thousand rows.
        openmp_max_threads(),
    )
    raise_if_nonfinite(nonfinite, X, split_dims)


def encode_rows(X, split_dims, thresholds):
    """Codes of validated float32 or float64 rows, shape (n_samples, n_codebooks).

    Raises scikit-learn's ValueError if a split column holds NaN or
    infinity, unless ``assume_finite`` is set (:func:`.raise_if_nonfinite`);
    so do the other encoding functions.
    """
    codes = np.empty((X.shape[0], split_dims.shape[0]), dtype=np.uint8)
    run_encoder(encode_codes, X, split_dims, thresholds, (), codes)
    return codes


@lru_cache(maxsize=64)
def _n_pairs(n_codebooks):
    """Bytes per row of the packed codes (cached: it is asked for each batch)."""
    return n_padded_codebooks(n_codebooks) // 2


def encode_packed_rows(X, split_dims, thresholds, n_codebooks):
    """Codes of validated float32 or float64 rows, in the scan's packed layout.

    Returns
    -------
    packed : ndarray of shape (n_blocks, n_padded // 2, 32), dtype=uint8
        ``n_blocks = ceil(n_samples / 32)``, ``n_padded =
        n_padded_codebooks(n_codebooks)``; see :mod:`._layout`.
    """
    if split_dims.shape[0] != n_codebooks:
        raise ValueError(
            f"split_dims has {split_dims.shape[0]} codebooks, expected {n_codebooks}"
        )
    n_blocks = -(-X.shape[0] // ROWS_PER_BLOCK)
    packed = np.empty((n_blocks, _n_pairs(n_codebooks), ROWS_PER_BLOCK), dtype=np.uint8)
    run_encoder(encode_packed, X, split_dims, thresholds, (), packed)
    return packed
