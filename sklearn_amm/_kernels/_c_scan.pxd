# The C interface of scan.h, and the checks of the buffers a scan problem
# points at, for every wrapper that runs a scan (_scan.pyx, and _encode.pyx,
# whose fused encode and scan fills a problem of its own).

from libc.stddef cimport ptrdiff_t
from libc.stdint cimport uint8_t


cdef extern from "scan.h" nogil:
    enum:
        # From layout.h, which scan.h includes.
        AMM_ROWS_PER_BLOCK
        AMM_SCAN_GROUP_SIZE
        AMM_SCAN_MAX_U16_CODEBOOKS

    enum:
        AMM_SCAN_SUM
        AMM_SCAN_AVERAGE

    enum:
        AMM_OUT_UINT16
        AMM_OUT_INT32
        AMM_OUT_FLOAT32
        AMM_OUT_FLOAT64
        AMM_OUT_UINT8

    ctypedef struct amm_scan_problem:
        const uint8_t *codes
        const uint8_t *tables
        ptrdiff_t n_samples
        int n_codebooks
        int n_padded
        int n_outputs
        int mode
        int output
        void *out
        ptrdiff_t out_stride
        const void *multiplier
        const void *shift

    int amm_scan_n_padded(int n_codebooks)
    ptrdiff_t amm_scan_chunk_blocks(int n_padded)
    void amm_scan_blocks(const amm_scan_problem *problem, ptrdiff_t block_begin,
                         ptrdiff_t block_end, int level)


# Cheap checks only, but a mismatch would make the scan read or write out of
# bounds. Shapes come as a memoryview's ``shape``, whatever its dtype.

cdef inline int check_scan_buffers(
    const Py_ssize_t *tables_shape,  # (n_outputs, n_padded, 16)
    int n_padded,                    # amm_scan_n_padded(n_codebooks)
    const Py_ssize_t *out_shape,     # (n_outputs, n_samples)
    Py_ssize_t out_column_stride,    # bytes
    Py_ssize_t itemsize,
    Py_ssize_t n_samples,
) except -1:
    """Raise ValueError unless ``tables`` and ``out`` fit a scan of ``n_samples`` rows."""
    if tables_shape[1] != n_padded or tables_shape[2] != 16:
        raise ValueError(
            f"tables must have shape (n_outputs, {n_padded}, 16), got "
            f"({tables_shape[0]}, {tables_shape[1]}, {tables_shape[2]})"
        )
    if out_shape[0] != tables_shape[0] or out_shape[1] != n_samples:
        raise ValueError(
            f"out must have shape ({tables_shape[0]}, {n_samples}), got "
            f"({out_shape[0]}, {out_shape[1]})"
        )
    if out_column_stride != itemsize and n_samples > 1:
        raise ValueError("out must have contiguous rows (out.strides[1] == itemsize)")
    return 0


cdef inline int check_dequantization(
    Py_ssize_t n_multiplier, Py_ssize_t n_shift, Py_ssize_t n_outputs
) except -1:
    """Raise ValueError unless there is a multiplier and a shift per output."""
    if n_multiplier != n_outputs or n_shift != n_outputs:
        raise ValueError(
            f"multiplier and shift must have shape ({n_outputs},), got "
            f"({n_multiplier},) and ({n_shift},)"
        )
    return 0
