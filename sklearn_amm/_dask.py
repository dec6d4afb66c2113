"""Apply a fitted estimator to the row chunks of a dask array or dask DataFrame.

Fitted MADDNESS estimators compute each output row from its input row alone,
so a dask collection is processed by calling the estimator's method on each
row chunk (each partition, for a DataFrame) wherever the chunk lives. This
module only builds that graph; it never imports dask unless given a dask
collection, so the package does not depend on it.

Why not ``dask_ml.wrappers.ParallelPostFit``: in dask-ml 2025.1 its
``transform`` declares the output with the input's columns (a 64-column input
transformed to 16 outputs reports shape ``(n, 64)``, and operations that rely
on the declared shape, such as ``Y[:, -1]``, fail), its ``predict`` drops the
second axis of multi-output predictions, and it has no ``decision_function``.
The function here declares the output from a one-row probe of the method
itself.

Covered by ``tests/test_dask.py``.
"""

import sys

import numpy as np


def _apply(block, estimator, method, empty):
    """``estimator.<method>(block)``; an empty chunk gives the empty ``meta``."""
    # scikit-learn rejects zero-row input, but dask chunks and partitions can
    # be empty (e.g. after filtering); their output is empty too.
    if block.shape[0] == 0:
        return empty.copy()
    return getattr(estimator, method)(block)


def _dask_kind(X):
    """``"array"``, ``"dataframe"`` or None, without importing dask.

    A dask collection can only exist if its module is already imported.
    """
    if "dask.array" in sys.modules:
        if isinstance(X, sys.modules["dask.array"].Array):
            return "array"
    if "dask.dataframe" in sys.modules:
        if isinstance(X, sys.modules["dask.dataframe"].DataFrame):
            return "dataframe"
    return None


def map_row_chunks(estimator, X, method="transform"):
    """Apply a fitted estimator's method to each row chunk of a dask collection.

    The result is lazy: computing it calls ``getattr(estimator, method)`` on
    every chunk of rows, in parallel on whatever dask scheduler is active
    (threads, processes or a ``distributed`` cluster). Each chunk gives
    exactly the rows the in-memory call gives on the whole array, because
    fitted MADDNESS estimators transform rows independently. Works for any
    estimator with that property: :class:`MaddnessTransformer`'s ``transform``
    and the wrappers' ``predict``, ``decision_function`` and ``predict_proba``.

    The method is called once on a row of zeros when the graph is built, to
    learn the dtype and the number of output columns (an unfitted estimator
    fails here, not at compute time). The estimator enters the graph once, as
    a single task, so a cluster sends it to each worker once rather than with
    every chunk. Do not refit it before the result is computed.

    Requires dask (``pip install "sklearn-amm[dask]"``).

    Parameters
    ----------
    estimator : estimator instance
        A fitted estimator whose ``method`` maps each row independently.

    X : dask.array.Array of shape (n_samples, n_features) or dask.dataframe.DataFrame
        Rows to process. A dask array split along its columns is first
        rechunked into whole rows. Any other input is passed to the method
        directly, so that the same code serves in-memory data.

    method : str, default="transform"
        Name of the method to apply, e.g. ``"predict"`` or
        ``"decision_function"``.

    Returns
    -------
    result : dask.array.Array, dask.dataframe.DataFrame or method's output
        For a dask array: a dask array with the same row chunks, of shape
        ``(n_samples,)`` or ``(n_samples, n_outputs)`` and the method's dtype
        (float32 stays float32 for ``transform``). For a dask DataFrame: one
        chunk per partition; a dask array (row counts per chunk unknown until
        computed, as with ``DataFrame.to_dask_array()``), or a dask DataFrame
        with the input's partitions and index if the method returns pandas
        objects (``set_output(transform="pandas")``).

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from sklearn_amm import MaddnessTransformer, map_row_chunks
    >>> rng = np.random.default_rng(0)
    >>> X = (rng.normal(size=(3000, 32)) @ rng.normal(size=(32, 32))).astype(np.float32)
    >>> amm = MaddnessTransformer(rng.normal(size=(32, 4)), n_codebooks=8).fit(X[:2000])
    >>> dX = da.from_array(X, chunks=(1000, 32))
    >>> Y = map_row_chunks(amm, dX)
    >>> Y.shape, Y.chunks, Y.dtype
    ((3000, 4), ((1000, 1000, 1000), (4,)), dtype('float32'))
    >>> bool((Y.compute(scheduler="threads") == amm.transform(X)).all())
    True
    """
    kind = _dask_kind(X)
    if kind is None:
        return getattr(estimator, method)(X)
    import dask

    # One task holding the estimator, which every chunk's task depends on.
    estimator_task = dask.delayed(estimator, pure=True)
    if kind == "array":
        return _map_array(estimator, estimator_task, X, method)
    return _map_dataframe(estimator, estimator_task, X, method)


def _map_array(estimator, estimator_task, X, method):
    if X.ndim != 2:
        raise ValueError(
            f"X must be a 2-D dask array of rows, got {X.ndim} dimension(s)."
        )
    if X.numblocks[1] != 1:
        X = X.rechunk({1: -1})
    probe = getattr(estimator, method)(np.zeros((1, X.shape[1]), dtype=X.dtype))
    if not isinstance(probe, np.ndarray) or probe.ndim not in (1, 2):
        raise TypeError(
            f"{type(estimator).__name__}.{method} returned "
            f"{type(probe).__name__} of ndim {getattr(probe, 'ndim', '?')} on a "
            "NumPy row; a dask array can only hold 1-D or 2-D NumPy output. For "
            "pandas output, pass a dask DataFrame (or use set_output("
            'transform="default")).'
        )
    empty = probe[:0]
    if probe.ndim == 1:
        chunks, extra = (X.chunks[0],), {"drop_axis": 1}
    else:
        chunks, extra = (X.chunks[0], (probe.shape[1],)), {}
    return X.map_blocks(
        _apply,
        estimator_task,
        method,
        empty,
        chunks=chunks,
        dtype=probe.dtype,
        meta=empty,
        **extra,
    )


def _map_dataframe(estimator, estimator_task, X, method):
    import pandas as pd

    # A one-row frame with the columns and dtypes of X; ``X.head()`` would
    # compute a partition.
    row = pd.DataFrame(
        {column: np.zeros(1, dtype=dtype) for column, dtype in X.dtypes.items()}
    )
    empty = getattr(estimator, method)(row)[:0]
    return X.map_partitions(
        _apply, estimator_task, method, empty, meta=empty, align_dataframes=False
    )
