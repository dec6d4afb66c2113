# The C encoder's interface (encode.h), for the Cython modules that call it.

from libc.stddef cimport ptrdiff_t
from libc.stdint cimport uint8_t


cdef extern from "encode.h" nogil:
    enum:
        AMM_ROWS_PER_ROW_BLOCK
        AMM_TREE_DEPTH
        AMM_TREE_WIDTH

    ctypedef struct amm_encode_problem:
        const char *X
        ptrdiff_t itemsize
        ptrdiff_t row_stride
        ptrdiff_t col_stride
        ptrdiff_t n_samples
        ptrdiff_t n_features
        ptrdiff_t n_codebooks
        const ptrdiff_t *split_offsets
        const void *thresholds
        ptrdiff_t n_pairs
        int by_rows

    size_t amm_encode_scratch_bytes(const amm_encode_problem *problem, int simd_level)
    int amm_encode_row_blocks(
        const amm_encode_problem *problem, ptrdiff_t row_block_begin,
        ptrdiff_t row_block_end, uint8_t *out, int simd_level,
        void *scratch, size_t scratch_bytes)
    void amm_unpack_row_blocks(
        const uint8_t *packed, ptrdiff_t n_pairs, ptrdiff_t n_rows,
        ptrdiff_t n_codebooks, uint8_t *codes, ptrdiff_t codes_row_stride)
