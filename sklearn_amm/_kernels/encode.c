/* Encoder driver: how X is read, the last row block, scratch memory, and
 * the portable scalar kernel; the SIMD column kernels live in one file per
 * instruction set (encode_kernels.h). See encode.h for what is computed.
 */
#include <math.h>
#include <string.h>

#include "encode_kernels.h"

#if defined(__GNUC__) || defined(__clang__)
#define AMM_ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#define AMM_ALWAYS_INLINE static inline
#endif

/* ------------------------------------------------------------ scalar */

/* Bit 31 (float) or 63 (double) of the result is set exactly when x is NaN
 * or +-inf: adding one to the exponent field carries out of it only when it
 * is all ones. Two integer operations and no compare, so the scalar walk,
 * which makes few operations per value, does not slow down. */
AMM_ALWAYS_INLINE uint64_t nonfinite_bit_f32(float x)
{
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    return (uint64_t)((bits & 0x7F800000u) + 0x00800000u) << 32;
}

AMM_ALWAYS_INLINE uint64_t nonfinite_bit_f64(double x)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    return (bits & 0x7FF0000000000000u) + 0x0010000000000000u;
}

/* The leaf one row reaches in one codebook's tree; ORs into *seen a value
 * whose bit 63 is set if a value compared is NaN or +-inf. `is_f64` is a
 * constant in every caller, so the compiler emits one specialised copy per
 * dtype. */
AMM_ALWAYS_INLINE unsigned walk_tree(const char *row, const ptrdiff_t *offsets,
                                     const void *thresholds, int is_f64, uint64_t *seen)
{
    unsigned node = 0;
    int t;
    for (t = 0; t < AMM_TREE_DEPTH; t++) {
        int right;
        if (is_f64) {
            const double *depth = (const double *)thresholds + t * AMM_TREE_WIDTH;
            const double x = *(const double *)(row + offsets[t]);
            *seen |= nonfinite_bit_f64(x);
            right = x > depth[node];
        } else {
            const float *depth = (const float *)thresholds + t * AMM_TREE_WIDTH;
            const float x = *(const float *)(row + offsets[t]);
            *seen |= nonfinite_bit_f32(x);
            right = x > depth[node];
        }
        node = 2 * node + (unsigned)right;
    }
    return node;
}

/* Byte of the packed layout for codebooks c (low nibble) and c + 1. */
AMM_ALWAYS_INLINE uint8_t pair_code(const amm_encode_problem *p, const char *row,
                                    ptrdiff_t c, int is_f64, uint64_t *seen)
{
    const size_t tree_bytes = AMM_TREE_DEPTH * AMM_TREE_WIDTH
                              * (is_f64 ? sizeof(double) : sizeof(float));
    const char *thresholds = (const char *)p->thresholds + c * tree_bytes;
    const ptrdiff_t *offsets = p->split_offsets + c * AMM_TREE_DEPTH;
    unsigned code = walk_tree(row, offsets, thresholds, is_f64, seen);
    if (c + 1 < p->n_codebooks) {
        code |= walk_tree(row, offsets + AMM_TREE_DEPTH,
                          thresholds + tree_bytes, is_f64, seen) << 4;
    }
    return (uint8_t)code;
}

/* Any row blocks, the last one partial or not, padded with zero codes. */
AMM_ALWAYS_INLINE int scalar_walk(const amm_encode_problem *p, ptrdiff_t row_block_begin,
                                  ptrdiff_t row_block_end, uint8_t *out, int is_f64)
{
    uint64_t seen = 0;
    const ptrdiff_t n_coded_pairs = (p->n_codebooks + 1) / 2;
    const ptrdiff_t row_block_bytes = p->n_pairs * AMM_ROWS_PER_ROW_BLOCK;
    ptrdiff_t row_block, r, j;
    for (row_block = row_block_begin; row_block < row_block_end; row_block++) {
        const ptrdiff_t first_row = row_block * AMM_ROWS_PER_ROW_BLOCK;
        const ptrdiff_t remaining = p->n_samples - first_row;
        const ptrdiff_t n_rows = remaining < AMM_ROWS_PER_ROW_BLOCK ? remaining
                                                                    : AMM_ROWS_PER_ROW_BLOCK;
        const char *rows = p->X + first_row * p->row_stride;
        uint8_t *dst = out + (row_block - row_block_begin) * row_block_bytes;
        if (p->by_rows) {
            for (r = 0; r < n_rows; r++) {
                const char *row = rows + r * p->row_stride;
                for (j = 0; j < n_coded_pairs; j++) {
                    dst[j * AMM_ROWS_PER_ROW_BLOCK + r] = pair_code(p, row, 2 * j, is_f64, &seen);
                }
            }
        } else {
            for (j = 0; j < n_coded_pairs; j++) {
                for (r = 0; r < n_rows; r++) {
                    dst[j * AMM_ROWS_PER_ROW_BLOCK + r] =
                        pair_code(p, rows + r * p->row_stride, 2 * j, is_f64, &seen);
                }
            }
        }
        /* Rows past the data get code 0 (pairs past the codebooks: the caller). */
        if (n_rows < AMM_ROWS_PER_ROW_BLOCK) {
            for (j = 0; j < n_coded_pairs; j++) {
                memset(dst + j * AMM_ROWS_PER_ROW_BLOCK + n_rows, 0,
                       (size_t)(AMM_ROWS_PER_ROW_BLOCK - n_rows));
            }
        }
    }
    return (int)(seen >> 63);
}

static int scalar_row_blocks(const amm_encode_problem *p, ptrdiff_t row_block_begin,
                             ptrdiff_t row_block_end, uint8_t *out)
{
    return p->itemsize == 8 ? scalar_walk(p, row_block_begin, row_block_end, out, 1)
                            : scalar_walk(p, row_block_begin, row_block_end, out, 0);
}

/* ------------------------------------------------------------ reading X */

/* How the SIMD kernels read a row block: in place (F order, plain loads;
 * or any stride, by gathers), or from a staging buffer, filled by an 8x8
 * (4x4) register transpose of whole rows or by copying split values. */
enum { READ_IN_PLACE, READ_GATHERED, STAGE_TRANSPOSED, STAGE_COPIED };

/* Whether a row block is staged by transposing whole rows rather than
 * copying its split values one by one: for C-order X whose rows are short
 * next to the number of split values, and whose transposed row block stays
 * within L2. A transposed value costs under one instruction and a copied
 * one about five, but transposing reads and writes every column. The limit
 * is where the two took about the same time on Zen 3 with AVX2 (D = 512,
 * N = 100000, C = 16 to 64, float32 and float64); Caltech-like rows (D = 27
 * or 75 at C = 16) are 2 to 6 times faster transposed. */
#define TRANSPOSE_MAX_COLUMNS_PER_SPLIT 2
#define TRANSPOSE_MAX_BYTES (256 * 1024)

/* How a row block is read. Short C-order rows are transposed whole where
 * the kernels have transposes, also where they have gathers if the rows
 * hold at most TRANSPOSE_OVER_GATHERS_MAX_COLUMNS values: a gather loads
 * every split value on its own, 64 loads a row at C = 16 against the row's
 * 27 values at Caltech 3x3 (D = 27), and on a Sapphire Rapids class Xeon
 * the C-order float32 transform there took 0.67 ms with AVX-512 gathers and
 * 0.37 to 0.41 ms with transposes (float64, walked as floats: 0.97 and 0.63
 * to 0.65 ms; Caltech 5x5, D = 75: 0.87 and 0.63 to 0.66 ms). Longer rows
 * are gathered: on that Xeon, 20000 C-order rows, M = 10, transposes over
 * gathers took (float32, float64) 0.77, 0.94 at D = 128, C = 16, but 1.22,
 * 1.22 at D = 256, C = 32; 1.12, 1.11 at D = 256, C = 64; 1.69, 1.25 at
 * D = 512, C = 64: it is the row's length that decides, not its number of
 * split values, as the transposed block (32 rows of D floats) and the
 * rows' own cache lines outgrow the L1 cache.
 * Other rows are read by gathers (where the kernels have them) when the
 * offsets of a vector's rows fit the gathers' signed 32-bit indices. On
 * that Xeon (not slowed by the GDS microcode), C-order D = 512,
 * N = 100000, one thread, AVX-512 gathers against the AVX2 kernel's
 * staging: float32 C = 16 6.1e6 against 5.9e6 rows/s (copied split
 * values), C = 64 5.0e6 against 4.7e6 (8x8 transposes); float64 C = 16
 * 3.9e6 against 3.2e6. */
#define TRANSPOSE_OVER_GATHERS_MAX_COLUMNS 128
static int read_mode(const amm_encode_problem *p, const amm_encode_kernels *kernels)
{
    /* A vector holds at most 16 rows. */
    const ptrdiff_t reach = (AMM_ROWS_PER_ROW_BLOCK / 2) * (p->row_stride < 0 ? -p->row_stride
                                                                             : p->row_stride);
    if (p->row_stride == p->itemsize) {
        return READ_IN_PLACE;
    }
    if (kernels->transpose[p->itemsize == 8] != NULL && p->by_rows
        && p->col_stride == p->itemsize
        && p->n_features <= TRANSPOSE_MAX_COLUMNS_PER_SPLIT * AMM_TREE_DEPTH * p->n_codebooks
        && p->n_features * AMM_ROWS_PER_ROW_BLOCK * p->itemsize <= TRANSPOSE_MAX_BYTES
        && (!kernels->gathers || p->n_features <= TRANSPOSE_OVER_GATHERS_MAX_COLUMNS)) {
        return STAGE_TRANSPOSED;
    }
    if (kernels->gathers && reach <= INT32_MAX) {
        return READ_GATHERED;
    }
    return STAGE_COPIED;
}

/* The staging buffer is aligned to this many bytes within the scratch. */
#define STAGING_ALIGNMENT 32

/* Double rows staged by transposes are compared as floats: the float walk
 * does twice the rows per instruction. (Rows staged by copying split
 * values wait on reading X, not on the walk: rounding each value on the
 * way cost more than the walk saved.) Rounding to the nearest
 * float, n(), never reverses an order (x <= t gives n(x) <= n(t)), so
 * n(x) > n(t) proves x > t, and n(x) < n(t) proves x < t. Only when
 * n(x) == n(t) (a tie: x and t round to the same float) does the float
 * comparison not tell, and then the row block is encoded again in doubles.
 * The same happens when the float walk's non-finite check fires, as it
 * does for a double beyond the float range (which rounds to an infinity):
 * the double walk, then split_values_nonfinite, say whether the value
 * itself was finite. Either is rare in real data (a tie needs x within half
 * a float's precision of a threshold), and the codes are those of the
 * double comparison, bit for bit, in every case. */
static int compares_as_float(const amm_encode_problem *p, const amm_encode_kernels *kernels,
                             int mode)
{
    return p->itemsize == 8 && mode == STAGE_TRANSPOSED && kernels->reports_ties
           && kernels->transpose_as_float != NULL;
}

/* The nearest float to x, as the conversion instruction rounds it, and
 * +-inf beyond the float range (where C leaves the conversion undefined). */
AMM_ALWAYS_INLINE float nearest_float(double x)
{
    /* The midpoint between the largest float and 2**128 rounds to even,
     * which is up. */
    if (x >= 0x1.ffffffp127) {
        return HUGE_VALF;
    }
    if (x <= -0x1.ffffffp127) {
        return -HUGE_VALF;
    }
    return (float)x;
}

/* Scratch of a read mode, in this order: for transposes, the staged split
 * columns' offsets (and the float buffer's too, for double rows compared as
 * floats); the float thresholds of double rows compared as floats; then
 * the buffer, buffer[column][row] (every column of X, rounded up to a
 * multiple of 8 for the transposes, or one column per split value, in
 * order, whose offsets the kernels know). */
static size_t staging_bytes(const amm_encode_problem *p, const amm_encode_kernels *kernels,
                            int mode)
{
    const ptrdiff_t n_splits = p->n_codebooks * AMM_TREE_DEPTH;
    const int transposed = mode == STAGE_TRANSPOSED;
    const int as_float = compares_as_float(p, kernels, mode);
    const ptrdiff_t n_columns = transposed ? (p->n_features + 7) / 8 * 8 : n_splits;
    const ptrdiff_t n_offsets = transposed ? n_splits * (as_float ? 2 : 1) : 0;
    const ptrdiff_t n_thresholds =
        as_float ? p->n_codebooks * AMM_TREE_DEPTH * AMM_TREE_WIDTH : 0;
    if (!transposed && mode != STAGE_COPIED) {
        return 0;
    }
    return (size_t)n_offsets * sizeof(ptrdiff_t) + (size_t)n_thresholds * sizeof(float)
           + STAGING_ALIGNMENT + (size_t)(n_columns * AMM_ROWS_PER_ROW_BLOCK * p->itemsize);
}

/* Copies every split value of the 32 rows starting at `rows` into
 * buffer[split][row], in the order that follows X's memory: along each row
 * for C order, down each column otherwise. All codebooks at once: copying a
 * row's values in several passes would fetch its cache lines again.
 * `itemsize` is a constant in every caller, so that each copy is one move. */
AMM_ALWAYS_INLINE void copy_splits(const amm_encode_problem *p, const char *rows,
                                   char *buffer, const size_t itemsize)
{
    /* Locals, not reads through `p`: the copies could alias it. */
    const ptrdiff_t n_splits = p->n_codebooks * AMM_TREE_DEPTH;
    const ptrdiff_t *const split_offsets = p->split_offsets;
    const ptrdiff_t row_stride = p->row_stride;
    ptrdiff_t r, k;
    if (p->by_rows) {
        for (r = 0; r < AMM_ROWS_PER_ROW_BLOCK; r++) {
            const char *row = rows + r * row_stride;
            for (k = 0; k < n_splits; k++) {
                memcpy(buffer + (k * AMM_ROWS_PER_ROW_BLOCK + r) * itemsize,
                       row + split_offsets[k], itemsize);
            }
        }
    } else {
        for (k = 0; k < n_splits; k++) {
            const char *column = rows + split_offsets[k];
            for (r = 0; r < AMM_ROWS_PER_ROW_BLOCK; r++) {
                memcpy(buffer + (k * AMM_ROWS_PER_ROW_BLOCK + r) * itemsize,
                       column + r * row_stride, itemsize);
            }
        }
    }
}

static void stage_copied(const amm_encode_problem *p, const char *rows, char *buffer)
{
    if (p->itemsize == 8) {
        copy_splits(p, rows, buffer, 8);
    } else {
        copy_splits(p, rows, buffer, 4);
    }
}

/* ------------------------------------------------------------ driver */

static const amm_encode_kernels *kernels_of(int simd_level)
{
#if AMM_HAVE_X86_KERNELS
    if (simd_level == AMM_AVX2) {
        return &amm_encode_avx2;
    }
    if (simd_level == AMM_AVX512) {
        return &amm_encode_avx512;
    }
#endif
#if AMM_HAVE_NEON_KERNELS
    if (simd_level == AMM_NEON) {
        return &amm_encode_neon;
    }
#endif
    (void)simd_level;
    return NULL; /* SIMD levels without an encoder of their own run the scalar one */
}

size_t amm_encode_scratch_bytes(const amm_encode_problem *p, int simd_level)
{
    const amm_encode_kernels *kernels = kernels_of(simd_level);
    return kernels == NULL ? 0 : staging_bytes(p, kernels, read_mode(p, kernels));
}

/* The job of reading n_row_blocks full row blocks from `rows` in place
 * (adjacent values down each column) into `out`, packed. */
static amm_encode_columns in_place_job(const amm_encode_problem *p, const char *rows,
                                       ptrdiff_t n_row_blocks, uint8_t *out)
{
    amm_encode_columns job;
    job.rows = rows;
    job.row_stride = p->itemsize;
    job.row_block_stride = AMM_ROWS_PER_ROW_BLOCK * p->row_stride;
    job.n_row_blocks = n_row_blocks;
    job.split_offsets = p->split_offsets;
    job.thresholds = p->thresholds;
    job.n_codebooks = p->n_codebooks;
    job.out = out;
    job.out_stride = p->n_pairs * AMM_ROWS_PER_ROW_BLOCK;
    job.report_ties = 0;
    job.partial_rows = 0;
    return job;
}

/* Full row blocks [0, n_row_blocks) from `rows` with a SIMD column kernel. */
static int simd_row_blocks(const amm_encode_problem *p, const amm_encode_kernels *kernels,
                           int mode, const char *rows, ptrdiff_t n_row_blocks,
                           uint8_t *out, void *scratch)
{
    const int is_f64 = p->itemsize == 8;
    const int as_float = compares_as_float(p, kernels, mode);
    const ptrdiff_t row_block_bytes = p->n_pairs * AMM_ROWS_PER_ROW_BLOCK;
    const ptrdiff_t row_block_stride = AMM_ROWS_PER_ROW_BLOCK * p->row_stride;
    const ptrdiff_t n_splits = p->n_codebooks * AMM_TREE_DEPTH;
    const ptrdiff_t n_thresholds = p->n_codebooks * AMM_TREE_DEPTH * AMM_TREE_WIDTH;
    char *buffer = NULL;
    amm_encode_columns job = in_place_job(p, rows, n_row_blocks, out), float_job;
    ptrdiff_t row_block, k;
    int nonfinite = 0;
    if (mode == READ_IN_PLACE) {
        return kernels->columns[is_f64](&job);
    }
    /* Otherwise a row block at a time, every pair of codebooks, so that a
     * row's cache lines are used while they are loaded. */
    job.n_row_blocks = 1;
    float_job = job;
    if (mode == READ_GATHERED) {
        job.row_stride = p->row_stride;
    } else {
        /* The scratch, laid out as staging_bytes counts it. */
        char *next = (char *)scratch;
        job.split_offsets = NULL; /* copied split values lie one after another */
        float_job.split_offsets = NULL;
        if (mode == STAGE_TRANSPOSED) {
            ptrdiff_t *staged_offsets = (ptrdiff_t *)next;
            ptrdiff_t *float_offsets = staged_offsets + n_splits;
            next = (char *)(staged_offsets + n_splits * (as_float ? 2 : 1));
            for (k = 0; k < n_splits; k++) {
                const ptrdiff_t column = p->split_offsets[k] / p->col_stride;
                staged_offsets[k] = column * AMM_ROWS_PER_ROW_BLOCK * p->itemsize;
                if (as_float) {
                    float_offsets[k] = column * AMM_ROWS_PER_ROW_BLOCK * (ptrdiff_t)sizeof(float);
                }
            }
            job.split_offsets = staged_offsets;
            float_job.split_offsets = as_float ? float_offsets : NULL;
        }
        if (as_float) {
            float *thresholds = (float *)next;
            next = (char *)(thresholds + n_thresholds);
            for (k = 0; k < n_thresholds; k++) {
                thresholds[k] = nearest_float(((const double *)p->thresholds)[k]);
            }
            float_job.thresholds = thresholds;
            float_job.report_ties = 1;
            /* Staged floats lie one after another: kernels with gathers
             * read any other stride by gathers. */
            float_job.row_stride = (ptrdiff_t)sizeof(float);
        }
        buffer = next;
        buffer += (STAGING_ALIGNMENT - (uintptr_t)buffer % STAGING_ALIGNMENT) % STAGING_ALIGNMENT;
        job.rows = buffer;
        float_job.rows = buffer;
    }
    for (row_block = 0; row_block < n_row_blocks; row_block++) {
        const char *block_rows = rows + row_block * row_block_stride;
        job.out = out + row_block * row_block_bytes;
        if (as_float) {
            kernels->transpose_as_float(block_rows, p->row_stride, p->n_features, buffer);
            float_job.out = job.out;
            if (kernels->columns[0](&float_job) == 0) {
                continue;
            }
            /* A tie or a non-finite float: this row block again, in doubles. */
        }
        if (mode == READ_GATHERED) {
            job.rows = block_rows;
        } else if (mode == STAGE_TRANSPOSED) {
            kernels->transpose[is_f64](block_rows, p->row_stride, p->n_features, buffer);
        } else {
            stage_copied(p, block_rows, buffer);
        }
        nonfinite |= kernels->columns[is_f64](&job);
    }
    return nonfinite;
}

/* Whether a split value of the rows [first_row, first_row + n_rows) is
 * NaN or infinite, value by value, stopping at the first. The SIMD kernels
 * check with a running sum of products of the values they compare, which
 * costs the walk little but can also overflow on huge finite values; when
 * it says "maybe", this gives the answer. */
static int split_values_nonfinite(const amm_encode_problem *p, ptrdiff_t first_row,
                                  ptrdiff_t n_rows)
{
    const ptrdiff_t n_splits = p->n_codebooks * AMM_TREE_DEPTH;
    ptrdiff_t k, r;
    for (k = 0; k < n_splits; k++) {
        const char *column = p->X + first_row * p->row_stride + p->split_offsets[k];
        for (r = 0; r < n_rows; r++) {
            const char *value = column + r * p->row_stride;
            const uint64_t seen = p->itemsize == 8 ? nonfinite_bit_f64(*(const double *)value)
                                                   : nonfinite_bit_f32(*(const float *)value);
            if (seen >> 63) {
                return 1;
            }
        }
    }
    return 0;
}

/* The last row block of F-ordered X, whose rows 0 to n_rows - 1 lie in X
 * (0 < n_rows < 32), by a SIMD kernel that reads only those (masked
 * loads); the other rows get code 0, as the scalar kernel gives them. On
 * a Sapphire Rapids class Xeon, AVX-512, 1000 rows of 320 float32 columns
 * and C = 16, the scalar walk of the last 8 rows took about 1.1 us, more
 * than a SIMD row block (0.7 us). */
static int simd_partial_row_block(const amm_encode_problem *p,
                                  const amm_encode_kernels *kernels, ptrdiff_t row_block,
                                  ptrdiff_t n_rows, uint8_t *out)
{
    const ptrdiff_t n_coded_pairs = (p->n_codebooks + 1) / 2;
    amm_encode_columns job =
        in_place_job(p, p->X + row_block * AMM_ROWS_PER_ROW_BLOCK * p->row_stride, 1, out);
    ptrdiff_t j;
    int nonfinite;
    job.partial_rows = n_rows;
    nonfinite = kernels->columns[p->itemsize == 8](&job);
    for (j = 0; j < n_coded_pairs; j++) {
        memset(out + j * AMM_ROWS_PER_ROW_BLOCK + n_rows, 0,
               (size_t)(AMM_ROWS_PER_ROW_BLOCK - n_rows));
    }
    return nonfinite;
}

int amm_encode_row_blocks(const amm_encode_problem *p, ptrdiff_t row_block_begin,
                          ptrdiff_t row_block_end, uint8_t *out, int simd_level,
                          void *scratch, size_t scratch_bytes)
{
    const amm_encode_kernels *kernels = kernels_of(simd_level);
    const int mode = kernels != NULL ? read_mode(p, kernels) : READ_IN_PLACE;
    const ptrdiff_t n_coded_pairs = (p->n_codebooks + 1) / 2;
    const ptrdiff_t row_block_bytes = p->n_pairs * AMM_ROWS_PER_ROW_BLOCK;
    /* The SIMD kernels take full row blocks, and the last row block of X,
     * when it is not full, where they read X in place and can read only
     * its rows; otherwise that row block goes to the scalar kernel. Either
     * pads it with zero codes. */
    const ptrdiff_t n_full = p->n_samples / AMM_ROWS_PER_ROW_BLOCK;
    const ptrdiff_t simd_end = row_block_end < n_full ? row_block_end : n_full;
    uint8_t *scalar_out = out;
    ptrdiff_t scalar_begin = row_block_begin;
    ptrdiff_t scalar_end = row_block_end;
    ptrdiff_t row_block;
    int nonfinite = 0;
    if (kernels != NULL && row_block_end > n_full && kernels->partial_blocks
        && mode == READ_IN_PLACE) {
        const ptrdiff_t first_row = n_full * AMM_ROWS_PER_ROW_BLOCK;
        const ptrdiff_t n_rows = p->n_samples - first_row;
        uint8_t *partial_out = out + (n_full - row_block_begin) * row_block_bytes;
        if (simd_partial_row_block(p, kernels, n_full, n_rows, partial_out)) {
            nonfinite = split_values_nonfinite(p, first_row, n_rows);
        }
        scalar_end = n_full;
    }
    if (kernels != NULL && simd_end > row_block_begin) {
        if (staging_bytes(p, kernels, mode) <= scratch_bytes) {
            if (simd_row_blocks(p, kernels, mode,
                                p->X + row_block_begin * AMM_ROWS_PER_ROW_BLOCK * p->row_stride,
                                simd_end - row_block_begin, out, scratch)) {
                nonfinite |= split_values_nonfinite(
                    p, row_block_begin * AMM_ROWS_PER_ROW_BLOCK,
                    (simd_end - row_block_begin) * AMM_ROWS_PER_ROW_BLOCK);
            }
            scalar_out += (simd_end - row_block_begin) * row_block_bytes;
            scalar_begin = simd_end;
        }
    }
    if (scalar_end > scalar_begin) {
        nonfinite |= scalar_row_blocks(p, scalar_begin, scalar_end, scalar_out);
    }
    /* Pairs past the codebooks hold code 0 in every row. */
    if (n_coded_pairs < p->n_pairs) {
        for (row_block = 0; row_block < row_block_end - row_block_begin; row_block++) {
            memset(out + row_block * row_block_bytes + n_coded_pairs * AMM_ROWS_PER_ROW_BLOCK, 0,
                   (size_t)((p->n_pairs - n_coded_pairs) * AMM_ROWS_PER_ROW_BLOCK));
        }
    }
    return nonfinite;
}

void amm_unpack_row_blocks(const uint8_t *packed, ptrdiff_t n_pairs, ptrdiff_t n_rows,
                           ptrdiff_t n_codebooks, uint8_t *codes,
                           ptrdiff_t codes_row_stride)
{
    const ptrdiff_t row_block_bytes = n_pairs * AMM_ROWS_PER_ROW_BLOCK;
    ptrdiff_t r, c;
    for (r = 0; r < n_rows; r++) {
        const uint8_t *src = packed + (r / AMM_ROWS_PER_ROW_BLOCK) * row_block_bytes
                             + r % AMM_ROWS_PER_ROW_BLOCK;
        uint8_t *dst = codes + r * codes_row_stride;
        for (c = 0; c + 1 < n_codebooks; c += 2) {
            const uint8_t pair = src[(c / 2) * AMM_ROWS_PER_ROW_BLOCK];
            dst[c] = pair & 0x0F;
            dst[c + 1] = pair >> 4;
        }
        if (c < n_codebooks) {
            dst[c] = src[(c / 2) * AMM_ROWS_PER_ROW_BLOCK] & 0x0F;
        }
    }
}
