"""Python side of the encoder: owns the buffers, calls the compiled kernel."""

import numpy as np

from ._kernels._encode import encode_codes


def thresholds_for_dtype(thresholds, dtype):
    """Thresholds in the input's dtype, with the same outcome as in float64.

    For a float32 value ``x`` and a float64 threshold ``t``, ``x > t`` holds
    exactly when ``x > t32``, where ``t32`` is the largest float32 not above
    ``t``: no float32 lies in ``(t32, t]``. Rounding down (not to nearest)
    is what makes the float32 kernel agree with the float64 comparison.
    """
    if dtype == np.float64:
        return np.ascontiguousarray(thresholds, dtype=np.float64)
    rounded = thresholds.astype(np.float32)
    too_high = rounded.astype(np.float64) > thresholds
    rounded[too_high] = np.nextafter(rounded[too_high], np.float32(-np.inf))
    return np.ascontiguousarray(rounded)


def encode_rows(X, split_dims, thresholds):
    """Codes of validated float32 or float64 rows, shape (n_samples, n_codebooks)."""
    codes = np.empty((X.shape[0], split_dims.shape[0]), dtype=np.uint8)
    encode_codes(
        X,
        np.ascontiguousarray(split_dims, dtype=np.intp),
        thresholds_for_dtype(thresholds, X.dtype),
        codes,
    )
    return codes
