/* Scan and aggregate: dispatch, cache chunking and the portable scalar path.
 * See scan.h for what is computed; scan_x86.c and scan_avx512.c have the
 * SIMD paths. */
#include "scan.h"

#include <string.h>

/* Bytes of packed codes per cache chunk: half of a 32 KiB L1 data cache,
 * leaving the other half for a tile's tables and the output being written. */
#define CHUNK_CODE_BYTES 16384

int amm_scan_n_padded(int n_codebooks)
{
    int n_full = n_codebooks / AMM_SCAN_GROUP_SIZE;
    int last = n_codebooks % AMM_SCAN_GROUP_SIZE;
    int width = 0;
    int total;
    if (last > 0) {
        width = 1;
        while (width < last) {
            width *= 2;
        }
    }
    total = n_full * AMM_SCAN_GROUP_SIZE + width;
    return total + total % 2;
}

ptrdiff_t amm_scan_chunk_blocks(int n_padded)
{
    ptrdiff_t block_bytes = (ptrdiff_t)n_padded / 2 * AMM_ROWS_PER_BLOCK;
    ptrdiff_t blocks = CHUNK_CODE_BYTES / block_bytes;
    return blocks > 0 ? blocks : 1;
}

void amm_scan_blocks(const amm_scan_problem *problem, ptrdiff_t block_begin,
                     ptrdiff_t block_end, int level)
{
    switch (level) {
#if AMM_HAVE_X86_KERNELS
    case AMM_AVX512:
        amm_scan_avx512(problem, block_begin, block_end);
        break;
    case AMM_AVX2:
        amm_scan_avx2(problem, block_begin, block_end);
        break;
    case AMM_SSSE3:
        amm_scan_ssse3(problem, block_begin, block_end);
        break;
#endif
    default: /* AMM_SCALAR, and NEON until it has a scan of its own */
        amm_scan_scalar(problem, block_begin, block_end);
    }
}

/* ---- scalar path: one row at a time, the definition written out ---- */

/* Sum of every padded codebook's entry for the row whose column-0 code byte
 * is `codes` (code bytes of one row are 32 apart). */
static uint32_t row_sum(const uint8_t *codes, const uint8_t *tables,
                        int n_pairs)
{
    uint32_t total = 0;
    int j;
    for (j = 0; j < n_pairs; j++) {
        unsigned byte = codes[AMM_ROWS_PER_BLOCK * j];
        total += tables[32 * j + (byte & 0x0F)];
        total += tables[32 * j + 16 + (byte >> 4)];
    }
    return total;
}

/* Averaging-tree estimate of one row (see scan.h). */
static uint32_t row_average(const uint8_t *codes, const uint8_t *tables,
                            int n_codebooks)
{
    unsigned node[AMM_SCAN_GROUP_SIZE];
    uint32_t total = 0;
    int start, width, c, n;
    for (start = 0; start < n_codebooks; start += AMM_SCAN_GROUP_SIZE) {
        int size = n_codebooks - start;
        if (size > AMM_SCAN_GROUP_SIZE) {
            size = AMM_SCAN_GROUP_SIZE;
        }
        for (width = 1; width < size; width *= 2) {
        }
        /* Leaves past `size` are padding codebooks: their tables are zero. */
        for (c = 0; c < width; c++) {
            int codebook = start + c;
            unsigned byte = codes[AMM_ROWS_PER_BLOCK * (codebook / 2)];
            unsigned code = codebook % 2 ? byte >> 4 : byte & 0x0F;
            node[c] = tables[16 * codebook + code];
        }
        for (n = width; n > 1; n /= 2) {
            for (c = 0; c < n / 2; c++) {
                node[c] = (node[2 * c] + node[2 * c + 1] + 1) >> 1;
            }
        }
        total += node[0] * (uint32_t)width;
    }
    return total;
}

/* The cases of write_totals: the totals converted to `type`, or
 * de-quantized in it. Converting through int32 changes no total (all are
 * below 2^31) and is the shorter conversion. Two roundings, as NumPy does:
 * the build has -ffp-contract=off. */
#define WRITE_AS(type)                                                        \
    {                                                                         \
        type *out = (type *)problem->out + offset;                            \
        for (r = 0; r < rows; r++) {                                          \
            out[r] = (type)totals[r];                                         \
        }                                                                     \
    }
#define WRITE_DEQUANTIZED(type)                                               \
    {                                                                         \
        type *out = (type *)problem->out + offset;                            \
        const type multiplier = ((const type *)problem->multiplier)[m];       \
        const type shift = ((const type *)problem->shift)[m];                 \
        for (r = 0; r < rows; r++) {                                          \
            out[r] = (type)(int32_t)totals[r] * multiplier + shift;           \
        }                                                                     \
    }

/* Writes totals[0:rows] to row `row` onwards of output `m`. */
static void write_totals(const amm_scan_problem *problem, int m,
                         ptrdiff_t row, int rows, const uint32_t *totals)
{
    ptrdiff_t offset = m * problem->out_stride + row;
    int r;
    switch (problem->output) {
    case AMM_OUT_UINT8: { /* one group: total = root * width */
        uint8_t *out = (uint8_t *)problem->out + offset;
        uint32_t width = 1;
        while ((int)width < problem->n_codebooks) {
            width *= 2;
        }
        for (r = 0; r < rows; r++) {
            out[r] = (uint8_t)(totals[r] / width);
        }
        break;
    }
    case AMM_OUT_UINT16:
        WRITE_AS(uint16_t);
        break;
    case AMM_OUT_INT32:
        WRITE_AS(int32_t);
        break;
    case AMM_OUT_FLOAT32:
        WRITE_DEQUANTIZED(float);
        break;
    case AMM_OUT_FLOAT64:
        WRITE_DEQUANTIZED(double);
        break;
    }
}

#undef WRITE_AS
#undef WRITE_DEQUANTIZED

void amm_scan_scalar(const amm_scan_problem *problem, ptrdiff_t block_begin,
                     ptrdiff_t block_end)
{
    const int n_pairs = problem->n_padded / 2;
    const ptrdiff_t block_bytes = (ptrdiff_t)n_pairs * AMM_ROWS_PER_BLOCK;
    const ptrdiff_t table_bytes = (ptrdiff_t)problem->n_padded * 16;
    uint32_t totals[AMM_ROWS_PER_BLOCK];
    ptrdiff_t block;
    int m, r;
    for (block = block_begin; block < block_end; block++) {
        const uint8_t *codes = problem->codes + block * block_bytes;
        ptrdiff_t row = block * AMM_ROWS_PER_BLOCK;
        ptrdiff_t left = problem->n_samples - row;
        int rows = left < AMM_ROWS_PER_BLOCK ? (int)left
                                                  : AMM_ROWS_PER_BLOCK;
        for (m = 0; m < problem->n_outputs; m++) {
            const uint8_t *tables = problem->tables + m * table_bytes;
            for (r = 0; r < rows; r++) {
                totals[r] = problem->mode == AMM_SCAN_SUM
                                ? row_sum(codes + r, tables, n_pairs)
                                : row_average(codes + r, tables,
                                              problem->n_codebooks);
            }
            write_totals(problem, m, row, rows, totals);
        }
    }
}
