/* The SIMD scan, written once over a small vector vocabulary. scan_x86.c
 * (SSSE3, AVX2) and scan_avx512.c include this file once per instruction
 * set (hence no include guard), after defining:
 *
 *   FN(name)           this instruction set's name for function `name`
 *   SCAN_TARGET        the target attribute; SCAN_INLINE: static, always
 *                      inlined, same target
 *   vec, V_ROWS        vector type, and the rows one vector holds (16: half
 *                      a block; 32: a block; 64: two consecutive blocks)
 *   v_codes(p, next)   V_ROWS code bytes: 32 at p, then for V_ROWS = 64 the
 *                      32 at p + next (the same column of the next block;
 *                      next = 0 when that block is not in the scan, so the
 *                      rows are loaded twice and the copy never stored)
 *   v_table(p)         the 16-byte table at p in every 128-bit lane
 *   v_shuffle(t, i)    byte lookup t[i & 15] per lane (pshufb)
 *   v_avg(a, b)        (a + b + 1) >> 1 per byte (pavgb)
 *   v_maddubs(a, w)    a[2i] * w[2i] + a[2i+1] * w[2i+1], a unsigned (pmaddubsw)
 *   v_high_nibbles(x)  (x >> 4) & 0x0F per byte
 *   v_and, v_add16, v_add32, v_bytes(x), v_words(x), v_zero()
 *   FN(write_root)(sink, t, row, rows, root)      totals root * sink->width
 *   FN(write16)(sink, t, row, rows, even, odd)    16-bit totals
 *   FN(widen)(even, odd, quad)     16-bit totals to u32, 4 vectors, row order
 *   FN(write32)(sink, t, row, rows, quad)         32-bit totals
 * each writing rows [row, row + rows) of output t of a tile (scan_sink.h).
 *
 * 16-bit totals are kept split by row parity: "even" holds, in each 16-bit
 * lane, the row of the lane's low byte, "odd" the row of its high byte.
 * pmaddubsw makes both from bytes in one operation each, on execution units
 * the byte lookups (pshufb) do not use; the write functions put the rows
 * back in order once.
 *
 * Rows are scanned a block at a time for a tile of outputs, which shares
 * each code vector and its nibbles. The tables are reloaded from L1 for each
 * block: pshufb needs its table in a register, and 2 per code column and
 * output do not fit.
 */

/* Outputs per tile: averaging trees of one group (C <= 16) keep up to three
 * pending nodes per output in registers; the general path also keeps two
 * 16-bit totals per output. Measured on Zen 3 with AVX2, ns per output and
 * 32-row block: one group at C=16 (uint8 roots), 4 outputs 4.5 (3: 4.6;
 * 5: 4.5, more code for nothing); general path at C=32 (uint16 totals), 3
 * outputs 12.3 (2: 12.5; 4: 13.4). An instruction set with more registers
 * may define its own before including this file. */
#ifndef GROUP_TILE
#define GROUP_TILE 4
#endif
#ifndef SPAN_TILE
#define SPAN_TILE 3
#endif
#define TILE_MAX (GROUP_TILE > SPAN_TILE ? GROUP_TILE : SPAN_TILE)
#if TILE_MAX > AMM_SCAN_SINK_OUTPUTS
#error "a tile holds more outputs than its sink"
#endif

/* Blocks one vector spans: 2 for 64-row vectors, else 1. */
#define V_BLOCKS ((V_ROWS + AMM_ROWS_PER_BLOCK - 1) / AMM_ROWS_PER_BLOCK)

/* The tree code only becomes straight-line code, every node in a register,
 * once its loops are fully unrolled; GCC will not do it unprompted. */
#ifndef SCAN_UNROLL
#if defined(__clang__)
#define SCAN_UNROLL _Pragma("unroll")
#else
#define SCAN_UNROLL _Pragma("GCC unroll 8")
#endif
#endif

/* Root of the averaging tree of one group over `n_pairs` code columns (a
 * power of two, at most 8) for `n_tile` outputs. A group of width 1
 * (`single`) is its one codebook, the low nibble of its only column. */
SCAN_INLINE void FN(group_root)(const uint8_t *codes, const ptrdiff_t next,
                                const uint8_t *const *tables,
                                const int n_pairs, const int single,
                                const int n_tile, vec *root)
{
    const vec nibble = v_bytes(0x0F);
    /* level_k[t]: the last finished node of tree level k still waiting for
     * its right neighbour (level 1 averages the two codebooks of a column). */
    vec level1[GROUP_TILE], level2[GROUP_TILE], level3[GROUP_TILE];
    int j, t;
    SCAN_UNROLL
    for (t = 0; t < n_tile; t++) { /* dead stores, but no compiler warning */
        level1[t] = level2[t] = level3[t] = v_zero();
    }
    SCAN_UNROLL
    for (j = 0; j < n_pairs; j++) {
        const vec x = v_codes(codes + AMM_ROWS_PER_BLOCK * j, next);
        const vec lo = v_and(x, nibble);
        const vec hi = v_high_nibbles(x);
        SCAN_UNROLL
        for (t = 0; t < n_tile; t++) {
            const uint8_t *table = tables[t] + 32 * j;
            vec v = v_shuffle(v_table(table), lo);
            if (!single) {
                v = v_avg(v, v_shuffle(v_table(table + 16), hi));
            }
            /* Column j closes a pair of level-k nodes when bit k-1 of j is
             * set: average with the waiting left node, move up a level. */
            if (j & 1) {
                v = v_avg(level1[t], v);
                if (j & 2) {
                    v = v_avg(level2[t], v);
                    if (j & 4) {
                        v = v_avg(level3[t], v);
                    } else {
                        level3[t] = v;
                    }
                } else {
                    level2[t] = v;
                }
            } else {
                level1[t] = v;
            }
            root[t] = v; /* the root once j is the last column */
        }
    }
}

/* Rows [row, end) as one vector: its code bytes in column 0, the offset of
 * the next block's (0 when the vector lies in one block, see v_codes), and
 * how many rows it holds (V_ROWS when `full`, a constant in the callers).
 * Rows are never negative: unsigned division is a shift. */
#define VECTOR_AT(problem, block_bytes, row, end, full, codes, next, rows)    \
    const int rows = (full) || (end) - (row) >= V_ROWS ? V_ROWS              \
                                                       : (int)((end) - (row)); \
    const uint8_t *codes =                                                    \
        (problem)->codes +                                                    \
        (ptrdiff_t)((size_t)(row) / AMM_ROWS_PER_BLOCK) * (block_bytes) +     \
        (ptrdiff_t)((size_t)(row) % AMM_ROWS_PER_BLOCK);                      \
    const ptrdiff_t next = rows > AMM_ROWS_PER_BLOCK ? (block_bytes) : 0

/* ---- general path: sums, and averages of several groups ---- */

/* Zero 16-bit totals for n_tile outputs. */
SCAN_INLINE void FN(zero16)(const int n_tile, vec *even, vec *odd)
{
    int t;
    SCAN_UNROLL
    for (t = 0; t < n_tile; t++) {
        even[t] = v_zero();
        odd[t] = v_zero();
    }
}

/* 16-bit totals, mode average, over groups [group_begin, group_end). */
SCAN_INLINE void FN(average16)(const amm_scan_problem *problem,
                               const uint8_t *codes, const ptrdiff_t next,
                               const uint8_t *const *tables, int group_begin,
                               int group_end, const int n_tile, vec *even,
                               vec *odd)
{
    const int n_full = problem->n_codebooks / AMM_SCAN_GROUP_SIZE;
    const int last_size = problem->n_codebooks % AMM_SCAN_GROUP_SIZE;
    const int group_pairs = AMM_SCAN_GROUP_SIZE / 2;
    int g, t;
    FN(zero16)(n_tile, even, odd);
    for (g = group_begin; g < group_end; g++) {
        const uint8_t *group_codes =
            codes + (ptrdiff_t)AMM_ROWS_PER_BLOCK * group_pairs * g;
        const uint8_t *group_tables[SPAN_TILE];
        vec root[SPAN_TILE];
        int width = AMM_SCAN_GROUP_SIZE;
        vec weight_even, weight_odd;
        SCAN_UNROLL
        for (t = 0; t < n_tile; t++) {
            group_tables[t] = tables[t] + (ptrdiff_t)32 * group_pairs * g;
        }
        if (g >= n_full) { /* the last, partial group */
            for (width = 1; width < last_size; width *= 2) {
            }
        }
        /* One call per tree shape, so each is unrolled with constants. */
        switch (width) {
        case 16:
            FN(group_root)(group_codes, next, group_tables, 8, 0, n_tile, root);
            break;
        case 8:
            FN(group_root)(group_codes, next, group_tables, 4, 0, n_tile, root);
            break;
        case 4:
            FN(group_root)(group_codes, next, group_tables, 2, 0, n_tile, root);
            break;
        case 2:
            FN(group_root)(group_codes, next, group_tables, 1, 0, n_tile, root);
            break;
        default:
            FN(group_root)(group_codes, next, group_tables, 1, 1, n_tile, root);
        }
        /* root * width, zero-extended: the roots are unsigned averages,
         * and sign extension would turn those of 128 or more negative
         * (the authors' kernel does, and is wrong for C > 16). Split by
         * row parity: pmaddubsw of the unsigned root bytes with the
         * signed byte pairs (width, 0) and (0, width). */
        weight_even = v_words(width);
        weight_odd = v_words(width << 8);
        SCAN_UNROLL
        for (t = 0; t < n_tile; t++) {
            even[t] = v_add16(even[t], v_maddubs(root[t], weight_even));
            odd[t] = v_add16(odd[t], v_maddubs(root[t], weight_odd));
        }
    }
}

/* 16-bit totals, mode sum, over code columns [pair_begin, pair_end). */
SCAN_INLINE void FN(sum16)(const uint8_t *codes, const ptrdiff_t next,
                           const uint8_t *const *tables, int pair_begin,
                           int pair_end, const int n_tile, vec *even,
                           vec *odd)
{
    const vec nibble = v_bytes(0x0F);
    const vec low_bytes = v_words(0x00FF);
    const vec odd_bytes = v_words(0x0100); /* pmaddubsw weights (0, 1) */
    int j, t;
    FN(zero16)(n_tile, even, odd);
    for (j = pair_begin; j < pair_end; j++) {
        const vec x = v_codes(codes + (ptrdiff_t)AMM_ROWS_PER_BLOCK * j, next);
        const vec lo = v_and(x, nibble);
        const vec hi = v_high_nibbles(x);
        SCAN_UNROLL
        for (t = 0; t < n_tile; t++) {
            const uint8_t *table = tables[t] + (ptrdiff_t)32 * j;
            const vec a = v_shuffle(v_table(table), lo);
            const vec b = v_shuffle(v_table(table + 16), hi);
            even[t] = v_add16(even[t], v_add16(v_and(a, low_bytes),
                                               v_and(b, low_bytes)));
            odd[t] = v_add16(odd[t], v_add16(v_maddubs(a, odd_bytes),
                                             v_maddubs(b, odd_bytes)));
        }
    }
}

/* 16-bit totals of one vector of rows over codebook span `span`: 256 padded
 * codebooks (128 columns, 16 groups), whose totals fit in 16 bits. */
SCAN_INLINE void FN(span16)(const amm_scan_problem *problem,
                            const uint8_t *codes, const ptrdiff_t next,
                            const uint8_t *const *tables, int span,
                            const int n_tile, vec *even, vec *odd)
{
    const int span_groups = AMM_SCAN_MAX_U16_CODEBOOKS / AMM_SCAN_GROUP_SIZE;
    const int span_pairs = AMM_SCAN_MAX_U16_CODEBOOKS / 2;
    if (problem->mode == AMM_SCAN_SUM) {
        int n_pairs = problem->n_padded / 2;
        int end = span_pairs * (span + 1);
        FN(sum16)(codes, next, tables, span_pairs * span,
                  end < n_pairs ? end : n_pairs, n_tile, even, odd);
    } else {
        int n_groups = (problem->n_codebooks + AMM_SCAN_GROUP_SIZE - 1) /
                       AMM_SCAN_GROUP_SIZE;
        int end = span_groups * (span + 1);
        FN(average16)(problem, codes, next, tables, span_groups * span,
                      end < n_groups ? end : n_groups, n_tile, even, odd);
    }
}

/* 16-bit totals of one vector of rows to the tile's outputs, or 32-bit
 * ones over n_spans > 1 spans of 256 padded codebooks. */
SCAN_INLINE void FN(span_vector)(const amm_scan_problem *problem,
                                 const amm_scan_sink *sink,
                                 const uint8_t *codes, const ptrdiff_t next,
                                 const uint8_t *const *tables,
                                 const int n_tile, const int n_spans,
                                 ptrdiff_t row, int rows)
{
    vec even[SPAN_TILE], odd[SPAN_TILE];
    int t;
    if (n_spans == 1) {
        FN(span16)(problem, codes, next, tables, 0, n_tile, even, odd);
        SCAN_UNROLL
        for (t = 0; t < n_tile; t++) {
            FN(write16)(sink, t, row, rows, even[t], odd[t]);
        }
    } else {
        /* More than 256 padded codebooks: 32-bit totals. */
        vec quad[SPAN_TILE][4], span_quad[4];
        int span, i;
        SCAN_UNROLL
        for (t = 0; t < n_tile; t++) {
            for (i = 0; i < 4; i++) {
                quad[t][i] = v_zero();
            }
        }
        for (span = 0; span < n_spans; span++) {
            FN(span16)(problem, codes, next, tables, span, n_tile, even, odd);
            SCAN_UNROLL
            for (t = 0; t < n_tile; t++) {
                FN(widen)(even[t], odd[t], span_quad);
                for (i = 0; i < 4; i++) {
                    quad[t][i] = v_add32(quad[t][i], span_quad[i]);
                }
            }
        }
        SCAN_UNROLL
        for (t = 0; t < n_tile; t++) {
            FN(write32)(sink, t, row, rows, quad[t]);
        }
    }
}

/* ---- a tile of outputs over row blocks ---- */

/* Rows [row, end) of the tile's outputs, one vector at a time: with
 * `one_group`, the root of the one averaging tree (C <= 16, n_pairs
 * columns); else the general path. Callers pass constants, so each instance
 * keeps one of the two; with `full`, every vector holds V_ROWS rows, which
 * the writes then store directly. */
SCAN_INLINE void FN(vectors)(const amm_scan_problem *problem,
                             const amm_scan_sink *sink,
                             const uint8_t *const *tables, ptrdiff_t row,
                             const ptrdiff_t end, const int full,
                             const int n_tile, const int one_group,
                             const int n_pairs, const int single)
{
    const ptrdiff_t block_bytes =
        (ptrdiff_t)problem->n_padded / 2 * AMM_ROWS_PER_BLOCK;
    const int n_spans = (problem->n_padded + AMM_SCAN_MAX_U16_CODEBOOKS - 1) /
                        AMM_SCAN_MAX_U16_CODEBOOKS;
    int t;
    for (; row < end; row += V_ROWS) {
        VECTOR_AT(problem, block_bytes, row, end, full, codes, next, rows);
        if (one_group) {
            vec root[GROUP_TILE];
            FN(group_root)(codes, next, tables, n_pairs, single, n_tile, root);
            SCAN_UNROLL
            for (t = 0; t < n_tile; t++) {
                FN(write_root)(sink, t, row, rows, root[t]);
            }
        } else {
            FN(span_vector)(problem, sink, codes, next, tables, n_tile, n_spans,
                            row, rows);
        }
    }
}

/* Outputs [m0, m0 + n_tile) of row blocks [block_begin, block_end): whole
 * vectors, then the one the scan's end cuts short, if any (total = root *
 * width on the one-group path, `width` 0 on the general path). */
SCAN_INLINE void FN(tile)(const amm_scan_problem *problem,
                          ptrdiff_t block_begin, ptrdiff_t block_end, int m0,
                          const int n_tile, const int one_group,
                          const int n_pairs, const int single, const int width)
{
    /* The last block may be partial. */
    const ptrdiff_t begin = block_begin * AMM_ROWS_PER_BLOCK;
    const ptrdiff_t end = block_end * AMM_ROWS_PER_BLOCK < problem->n_samples
                              ? block_end * AMM_ROWS_PER_BLOCK
                              : problem->n_samples;
    const ptrdiff_t full_end = begin + (end - begin) / V_ROWS * V_ROWS;
    const uint8_t *tables[TILE_MAX];
    amm_scan_sink sink;
    int t;
    SCAN_UNROLL
    for (t = 0; t < n_tile; t++) {
        tables[t] = problem->tables + (ptrdiff_t)(m0 + t) * problem->n_padded * 16;
    }
    amm_scan_sink_init(&sink, problem, m0, n_tile, width);
    FN(vectors)(problem, &sink, tables, begin, full_end, 1, n_tile, one_group,
                n_pairs, single);
    FN(vectors)(problem, &sink, tables, full_end, end, 0, n_tile, one_group,
                n_pairs, single);
}

SCAN_INLINE void FN(group_blocks)(const amm_scan_problem *problem,
                                  ptrdiff_t block_begin, ptrdiff_t block_end,
                                  const int n_pairs, const int single,
                                  const int width)
{
    int m0 = 0;
    for (; m0 + GROUP_TILE <= problem->n_outputs; m0 += GROUP_TILE) {
        FN(tile)(problem, block_begin, block_end, m0, GROUP_TILE, 1, n_pairs,
                 single, width);
    }
    switch (problem->n_outputs - m0) {
    case 3:
        FN(tile)(problem, block_begin, block_end, m0, 3, 1, n_pairs, single,
                 width);
        break;
    case 2:
        FN(tile)(problem, block_begin, block_end, m0, 2, 1, n_pairs, single,
                 width);
        break;
    case 1:
        FN(tile)(problem, block_begin, block_end, m0, 1, 1, n_pairs, single,
                 width);
        break;
    }
}

SCAN_INLINE void FN(span_blocks)(const amm_scan_problem *problem,
                                 ptrdiff_t block_begin, ptrdiff_t block_end)
{
    int m0 = 0;
    for (; m0 + SPAN_TILE <= problem->n_outputs; m0 += SPAN_TILE) {
        FN(tile)(problem, block_begin, block_end, m0, SPAN_TILE, 0, 0, 0, 0);
    }
    switch (problem->n_outputs - m0) {
    case 2:
        FN(tile)(problem, block_begin, block_end, m0, 2, 0, 0, 0, 0);
        break;
    case 1:
        FN(tile)(problem, block_begin, block_end, m0, 1, 0, 0, 0, 0);
        break;
    }
}

/* ---- entry point ---- */

SCAN_TARGET void FN(amm_scan)(const amm_scan_problem *shared,
                              ptrdiff_t block_begin, ptrdiff_t block_end)
{
    /* A copy no store of the scan can alias (see scan_sink.h): its fields
     * stay in registers across every block's writes. */
    const amm_scan_problem local = *shared;
    const amm_scan_problem *problem = &local;
    /* Cache chunks of row blocks: every tile of outputs is scanned over a
     * chunk's codes while they are in L1. */
    ptrdiff_t chunk = amm_scan_chunk_blocks(problem->n_padded);
    const int one_group = problem->mode == AMM_SCAN_AVERAGE &&
                          problem->n_codebooks <= AMM_SCAN_GROUP_SIZE;
    ptrdiff_t begin, end;
    /* Whole vectors per chunk: only the scan's last vector may be half. */
    chunk = (chunk + V_BLOCKS - 1) / V_BLOCKS * V_BLOCKS;
    for (begin = block_begin; begin < block_end; begin = end) {
        end = begin + chunk < block_end ? begin + chunk : block_end;
        if (!one_group) {
            FN(span_blocks)(problem, begin, end);
            continue;
        }
        /* One instance per tree shape: C in 9..16, 5..8, 3..4, 2, 1. */
        if (problem->n_codebooks > 8) {
            FN(group_blocks)(problem, begin, end, 8, 0, 16);
        } else if (problem->n_codebooks > 4) {
            FN(group_blocks)(problem, begin, end, 4, 0, 8);
        } else if (problem->n_codebooks > 2) {
            FN(group_blocks)(problem, begin, end, 2, 0, 4);
        } else if (problem->n_codebooks == 2) {
            FN(group_blocks)(problem, begin, end, 1, 0, 2);
        } else {
            FN(group_blocks)(problem, begin, end, 1, 1, 1);
        }
    }
}

#undef GROUP_TILE
#undef SPAN_TILE
#undef TILE_MAX
#undef V_BLOCKS
#undef VECTOR_AT
