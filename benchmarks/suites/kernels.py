"""asv: the compiled kernels alone, and the table build, one thread.

* encode: rows to packed 4-bit codes (``encode_packed``), into a buffer
  allocated once;
* scan: packed codes to the de-quantized float32 product
  (``scan_dequantized``), into an output allocated once;
* table build: prototypes times the known matrix, quantized to uint8 and
  padded to the scan's layout, as ``fit`` does after learning.
"""

import numpy as np

from sklearn_amm._encoding import encode_packed_rows, thresholds_for_dtype
from sklearn_amm._hash_tree import reachable_leaves
from sklearn_amm._kernels._cpu import openmp_max_threads
from sklearn_amm._kernels._encode import encode_packed
from sklearn_amm._kernels._scan import scan_dequantized
from sklearn_amm._layout import pad_tables
from sklearn_amm._simd import active_level
from sklearn_amm._tables import build_tables, quantize_tables

from .common import (
    LAYOUTS,
    N_CODEBOOKS,
    TASKS,
    PreparedSuite,
    check_n_codebooks,
    load_model,
    load_rows,
)


class Encode(PreparedSuite):
    """The encode kernel on the test rows, at the active SIMD level."""

    params = (list(TASKS), N_CODEBOOKS, list(LAYOUTS))
    param_names = ["task", "n_codebooks", "X"]

    def load(self, directory, task, n_codebooks, layout):
        check_n_codebooks(task, n_codebooks)
        model = load_model(directory, task, n_codebooks)
        self.X = load_rows(directory, task, "test", layout)
        self.split_dims = np.ascontiguousarray(model.split_dims_, dtype=np.intp)
        self.thresholds = thresholds_for_dtype(model.split_thresholds_, self.X.dtype)
        self.packed = encode_packed_rows(
            self.X, model.split_dims_, model.split_thresholds_, model.n_codebooks_
        )
        self.level = active_level()
        self.time_encode(directory, task, n_codebooks, layout)

    def time_encode(self, directory, task, n_codebooks, layout):
        encode_packed(
            self.X, self.split_dims, self.thresholds, self.packed, self.level, openmp_max_threads()
        )


class Scan(PreparedSuite):
    """The scan kernel: averaged uint8 lookups de-quantized to float32."""

    params = (list(TASKS), N_CODEBOOKS)
    param_names = ["task", "n_codebooks"]

    def load(self, directory, task, n_codebooks):
        check_n_codebooks(task, n_codebooks)
        model = load_model(directory, task, n_codebooks)
        X = load_rows(directory, task, "test", "float32 F")
        self.n_samples, self.n_codebooks = X.shape[0], model.n_codebooks_
        self.packed = encode_packed_rows(
            X, model.split_dims_, model.split_thresholds_, model.n_codebooks_
        )
        self.tables, constants = model._scan_inputs
        self.multiplier, self.shift = constants["average"][np.float32]
        self.out = np.empty((self.tables.shape[0], self.n_samples), dtype=np.float32)
        self.level = active_level()
        self.time_scan(directory, task, n_codebooks)

    def time_scan(self, directory, task, n_codebooks):
        scan_dequantized(
            self.packed,
            self.tables,
            self.n_samples,
            self.n_codebooks,
            True,
            self.multiplier,
            self.shift,
            self.out,
            self.level,
            openmp_max_threads(),
        )


class TableBuild(PreparedSuite):
    """Lookup tables from learned prototypes: float products, uint8, padded."""

    params = (list(TASKS), N_CODEBOOKS)
    param_names = ["task", "n_codebooks"]

    def load(self, directory, task, n_codebooks):
        check_n_codebooks(task, n_codebooks)
        model = load_model(directory, task, n_codebooks)
        self.prototypes, self.weights = model.prototypes_, model.weights_
        self.reachable = reachable_leaves(model.split_thresholds_)
        self.time_build_tables(directory, task, n_codebooks)

    def time_build_tables(self, directory, task, n_codebooks):
        tables = build_tables(self.prototypes, self.weights)
        quantized, _, _ = quantize_tables(tables, reachable=self.reachable)
        pad_tables(quantized)
