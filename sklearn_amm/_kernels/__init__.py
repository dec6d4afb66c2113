"""Compiled kernels, stateless: each call reads the inputs and writes the
outputs its caller passes, allocating only scratch space, or the small
result it returns (``_split.level_column_sse``,
``_leaf_sums.leaf_cooccurrence``).

``_cpu``, ``_encode`` and ``_scan`` wrap a hand-written C core (the ``.c``
files here whose names do not start with ``_``; the others are Cython's
output); ``_split``, ``_leaf_sums`` and ``_argmax`` are plain Cython.
"""
