/* The SIMD encoder's column kernel, written once over a small vector
 * vocabulary. Each instruction set's file includes this file once per dtype
 * (hence no include guard), after defining:
 *
 *   FN(name)             the name of function `name` for this ISA and dtype
 *   ENC_INLINE           static, always inlined, the ISA's target
 *   ENC_FUNCTION         static, the ISA's target (the exported kernel)
 *   real                 float or double: X's dtype
 *   fvec, ivec, vmask    a vector of reals, of integers of the same width, a
 *                        comparison result; V_ROWS: the rows one vector holds
 *   V_GROUP              vectors walked down a tree together, depth by
 *                        depth, so that their dependent chains overlap
 *   v_load(p)            V_ROWS consecutive reals at p
 *   v_gt(x, t)           x > t per lane, false when either side is NaN (so
 *                        NaN goes left, as in the reference)
 *   v_select(m, a, b)    b where m holds, else a
 *   v_set1(x), v_fzero(), v_add(a, b)
 *   v_see(seen, x, y)    seen = x * y + seen: NaN or infinite when x or y
 *                        is, and it stays so. One FMA checks two vectors
 *                        of split values: checking each on its own (x * 0
 *                        + seen) took 8-12% more time on Zen 3. Finite
 *                        values can overflow it too, so a non-finite
 *                        `seen` only says "maybe": the driver then looks at
 *                        the values themselves (encode.c).
 *   v_any_nan(x)         whether a lane of x is NaN
 *   FN(deep), FN(load_deep)(deep, thresholds)
 *                        the thresholds of depths 2 and 3, laid out for:
 *   v_node2(m0, m1)      the node after depths 0 and 1 (their decisions)
 *   v_pick2(deep, node)  depth 2's threshold of each lane's node
 *   v_descend(node, m)   the node one depth further (from depth 2)
 *   v_pick3(deep, node)  depth 3's threshold of each lane's node
 *   v_leaf(node, m)      the code (0..15) after depth 3
 *   v_merge(low, high)   low | high << 4
 *   FN(store)(out, codes)  32 codes (N_VECTORS vectors) as 32 bytes at out
 *   v_gather(p, index), vindex, v_row_index(row_stride)   (optional) the
 *                        V_ROWS reals at p + index[i] and the index of rows
 *                        row_stride bytes apart
 *   v_load_first(p, n)   (optional) the first n of the V_ROWS reals at p (n
 *                        may be <= 0 or >= V_ROWS), zero in the other
 *                        lanes, reading nothing past them: a last row block
 *                        that X fills only in part, read in place
 *   v_tie(ties, x, t), v_any_tie(ties)   (optional) ties |= (x == t) per
 *                        lane, false when either side is NaN; whether a
 *                        lane of ties is set (ties starts as v_fzero())
 *
 * Each node representation (a node number, the index pair of a double, a
 * code built with its final bit weights...) is the instruction set's own:
 * the walk below only passes it from one word to the next.
 *
 * The kernel reads X down its columns, one pair of codebooks over all row
 * blocks at a time, so each split column is one contiguous run; the driver
 * gives it a row block at a time when X is staged or gathered.
 */

#define N_VECTORS (AMM_ROWS_PER_ROW_BLOCK / V_ROWS)

/* Accumulators of the non-finite check: two FMA chains are enough to keep
 * it off the walk's critical path (four cost registers the walk needs). */
#define N_SEEN 2

/* The walk only keeps every node in a register once its loops are fully
 * unrolled. */
#ifndef ENC_UNROLL
#if defined(__clang__)
#define ENC_UNROLL _Pragma("unroll")
#else
#define ENC_UNROLL _Pragma("GCC unroll 16")
#endif
#endif

#ifdef v_gather
#define ENC_LOAD(p) (gathered ? v_gather((p), index) : v_load(p))
#define ENC_INDEX vindex
#else
#define ENC_LOAD(p) v_load(p)
#define ENC_INDEX int
#endif

/* One codebook's thresholds: depths 0 and 1 as broadcasts, the deeper ones
 * as the ISA looks them up. */
typedef struct {
    fvec depth0, depth1_left, depth1_right;
    FN(deep) deep;
} FN(tree);

ENC_INLINE void FN(load_tree)(FN(tree) *tree, const real *thresholds)
{
    tree->depth0 = v_set1(thresholds[0]);
    tree->depth1_left = v_set1(thresholds[AMM_TREE_WIDTH]);
    tree->depth1_right = v_set1(thresholds[AMM_TREE_WIDTH + 1]);
    FN(load_deep)(&tree->deep, thresholds);
}

/* Bytes between consecutive split values of a row when they are staged
 * one after another (`consecutive`). */
#define STAGED_SPLIT_BYTES (AMM_ROWS_PER_ROW_BLOCK * (ptrdiff_t)sizeof(real))

/* Codes of the 32 rows of a row block in one codebook: vector q of split t
 * at rows + offsets[t] + q * vector_stride, or at rows + t *
 * STAGED_SPLIT_BYTES + q * vector_stride when `consecutive` (a constant in
 * every caller); when `partial` (a constant too), only the first n_rows
 * rows are read, the others taken as zeros. The vectors are checked two at
 * a time, in the order they are loaded (depth by depth, a group's vectors
 * within a depth): load i of group g is held when i is even, and checked
 * with the one held when i is odd, into seen[(first_seen + g + i / 2) %
 * N_SEEN]. The loops are fully unrolled, so i is a constant and the choice
 * costs nothing. */
ENC_INLINE void FN(codes32)(const char *rows, ptrdiff_t vector_stride, ENC_INDEX index,
                            const int gathered, const int consecutive, const int partial,
                            const ptrdiff_t n_rows,
                            const ptrdiff_t *offsets, const FN(tree) *tree,
                            ivec codes[N_VECTORS], fvec seen[N_SEEN], const int first_seen,
                            const int track_ties, fvec *ties)
{
#define SPLIT(t) (rows + (consecutive ? (t) * STAGED_SPLIT_BYTES : offsets[t]))
#ifdef v_load_first
#define LOAD(t, v)                                                                  \
    (partial ? v_load_first(SPLIT(t) + (v) * vector_stride, n_rows - (v) * V_ROWS) \
             : ENC_LOAD(SPLIT(t) + (v) * vector_stride))
#else
#define LOAD(t, v) ENC_LOAD(SPLIT(t) + (v) * vector_stride)
#endif
#ifdef v_tie
#define TIE(x, t) (track_ties ? (void)v_tie(*ties, (x), (t)) : (void)0),
#else
#define TIE(x, t)
#endif
/* x > t per lane (x and t plain names, x load i of its group), after
 * noting whether x is finite and, when asked, whether it equals t. */
#define SEE(i, x)                                \
    ((i) % 2 == 0 ? (void)(held = (x))           \
                  : (void)v_see(seen[(first_seen + g + (i) / 2) % N_SEEN], held, (x)))
#define RIGHT(i, x, t) (SEE((i), (x)), TIE((x), (t)) v_gt((x), (t)))
    fvec held = v_fzero();
    int g, q;
    (void)track_ties;
    (void)ties;
    (void)index;
    (void)gathered;
    (void)partial;
    (void)n_rows;
    ENC_UNROLL
    for (g = 0; g < N_VECTORS; g += V_GROUP) {
        vmask right0[V_GROUP];
        ivec node[V_GROUP];
        ENC_UNROLL
        for (q = 0; q < V_GROUP; q++) {
            const fvec x = LOAD(0, g + q);
            right0[q] = RIGHT(q, x, tree->depth0);
        }
        ENC_UNROLL
        for (q = 0; q < V_GROUP; q++) {
            const fvec x = LOAD(1, g + q);
            const fvec threshold =
                v_select(right0[q], tree->depth1_left, tree->depth1_right);
            node[q] = v_node2(right0[q], RIGHT(V_GROUP + q, x, threshold));
        }
        ENC_UNROLL
        for (q = 0; q < V_GROUP; q++) {
            const fvec x = LOAD(2, g + q);
            const fvec threshold = v_pick2(&tree->deep, node[q]);
            node[q] = v_descend(node[q], RIGHT(2 * V_GROUP + q, x, threshold));
        }
        ENC_UNROLL
        for (q = 0; q < V_GROUP; q++) {
            const fvec x = LOAD(3, g + q);
            const fvec threshold = v_pick3(&tree->deep, node[q]);
            codes[g + q] = v_leaf(node[q], RIGHT(3 * V_GROUP + q, x, threshold));
        }
    }
#undef RIGHT
#undef SEE
#undef TIE
#undef LOAD
#undef SPLIT
}

/* The packed bytes of codebooks c (low nibble) and c + 1 (if `has_high`)
 * for one row block; `rows` and `offsets` (unused if `consecutive`) start
 * at codebook c. */
ENC_INLINE void FN(pair_bytes)(const char *rows, ptrdiff_t vector_stride, ENC_INDEX index,
                               const int gathered, const int consecutive, const int partial,
                               const ptrdiff_t n_rows, const ptrdiff_t *offsets,
                               const FN(tree) *low, const FN(tree) *high, const int has_high,
                               fvec seen[N_SEEN],
                               const int track_ties, fvec *ties, uint8_t *out)
{
    ivec codes[N_VECTORS], high_codes[N_VECTORS];
    int q;
    FN(codes32)(rows, vector_stride, index, gathered, consecutive, partial, n_rows, offsets,
                low, codes, seen, 0, track_ties, ties);
    if (has_high) {
        FN(codes32)(consecutive ? rows + AMM_TREE_DEPTH * STAGED_SPLIT_BYTES : rows,
                    vector_stride, index, gathered, consecutive, partial, n_rows,
                    consecutive ? offsets : offsets + AMM_TREE_DEPTH, high, high_codes,
                    seen, N_VECTORS, track_ties, ties);
        ENC_UNROLL
        for (q = 0; q < N_VECTORS; q++) {
            codes[q] = v_merge(codes[q], high_codes[q]);
        }
    }
    FN(store)(out, codes);
}

/* `one_row_block`: a constant 1 for a job of one row block, as the driver
 * passes staged rows. The walk is then compiled without the row block
 * loop, so the trees are used straight from their loads rather than kept
 * (and, short of registers, spilled to the stack and reloaded) across it;
 * on Zen 3 the staged C-order float32 walk at D = 27, C = 16 took about 5%
 * longer with the loop. `consecutive`: a constant 1 for copied split
 * values (no split_offsets), whose loads then have constant offsets.
 * `partial`: a constant 1 for a job of one row block read in place of
 * which X holds only the first job->partial_rows rows. */
ENC_INLINE int FN(walk_columns)(const amm_encode_columns *job, const int gathered,
                                const int one_row_block, const int consecutive,
                                const int track_ties, const int partial)
{
    /* Locals, not reads through `job`: the stores of codes could alias it,
     * which would reload every field at every row block. */
    const char *const rows = job->rows;
    const ptrdiff_t row_block_stride = job->row_block_stride;
    const ptrdiff_t n_row_blocks = one_row_block ? 1 : job->n_row_blocks;
    const ptrdiff_t n_codebooks = job->n_codebooks;
    const ptrdiff_t *const split_offsets = job->split_offsets;
    const real *const thresholds = (const real *)job->thresholds;
    uint8_t *const out = job->out;
    const ptrdiff_t out_stride = job->out_stride;
    const ptrdiff_t n_rows = partial ? job->partial_rows : AMM_ROWS_PER_ROW_BLOCK;
    /* A constant when the rows are adjacent: then every load's address is
     * a split column's plus an immediate. */
    const ptrdiff_t vector_stride =
        V_ROWS * (gathered ? job->row_stride : (ptrdiff_t)sizeof(real));
#ifdef v_gather
    const ENC_INDEX index = v_row_index(job->row_stride);
#else
    const ENC_INDEX index = 0;
#endif
    fvec seen[N_SEEN] = {v_fzero(), v_fzero()};
    fvec ties = v_fzero();
    int result;
    ptrdiff_t c, row_block;
    for (c = 0; c < n_codebooks; c += 2) {
        const int has_high = c + 1 < n_codebooks;
        const ptrdiff_t *offsets = consecutive ? NULL : split_offsets + c * AMM_TREE_DEPTH;
        const char *pair_rows =
            consecutive ? rows + c * AMM_TREE_DEPTH * STAGED_SPLIT_BYTES : rows;
        uint8_t *pair_out = out + (c / 2) * AMM_ROWS_PER_ROW_BLOCK;
        FN(tree) low, high;
        FN(load_tree)(&low, thresholds + c * AMM_TREE_DEPTH * AMM_TREE_WIDTH);
        if (has_high) {
            FN(load_tree)(&high, thresholds + (c + 1) * AMM_TREE_DEPTH * AMM_TREE_WIDTH);
        } else {
            high = low;
        }
        for (row_block = 0; row_block < n_row_blocks; row_block++) {
            const char *block_rows = pair_rows + row_block * row_block_stride;
            uint8_t *block_out = pair_out + row_block * out_stride;
            /* Two calls with a constant `has_high`, so that each is
             * compiled without the test. */
            if (has_high) {
                FN(pair_bytes)(block_rows, vector_stride, index, gathered, consecutive,
                               partial, n_rows, offsets, &low, &high, 1, seen, track_ties,
                               &ties, block_out);
            } else {
                FN(pair_bytes)(block_rows, vector_stride, index, gathered, consecutive,
                               partial, n_rows, offsets, &low, &low, 0, seen, track_ties,
                               &ties, block_out);
            }
        }
    }
    {
        /* The accumulators' sum times zero is NaN when the sum is NaN or
         * infinite: again a "maybe" (the sum of finite ones can overflow). */
        fvec flag = v_fzero();
        v_see(flag, v_add(seen[0], seen[1]), v_fzero());
        result = v_any_nan(flag) ? AMM_ENCODE_NONFINITE : 0;
    }
#ifdef v_tie
    if (track_ties && v_any_tie(ties)) {
        result |= AMM_ENCODE_TIE;
    }
#endif
    (void)ties;
    return result;
}

/* The column kernel of this ISA and dtype (amm_encode_columns_fn). */
ENC_FUNCTION int FN(columns)(const amm_encode_columns *job)
{
#ifdef v_load_first
    /* The last row block of F-ordered X, which X fills only in part. */
    if (job->partial_rows) {
        return FN(walk_columns)(job, 0, 1, 0, 0, 1);
    }
#endif
#ifdef v_gather
    if (job->row_stride != (ptrdiff_t)sizeof(real)) {
        return FN(walk_columns)(job, 1, 0, 0, 0, 0);
    }
#endif
#ifdef v_tie
    /* Ties are asked for on transposed row blocks, one at a time, which
     * are read through split_offsets. */
    if (job->report_ties && job->n_row_blocks == 1) {
        return FN(walk_columns)(job, 0, 1, 0, 1, 0);
    }
#endif
    if (job->split_offsets == NULL) {
        return job->n_row_blocks == 1 ? FN(walk_columns)(job, 0, 1, 1, 0, 0)
                                      : FN(walk_columns)(job, 0, 0, 1, 0, 0);
    }
    if (job->n_row_blocks == 1) {
        return FN(walk_columns)(job, 0, 1, 0, 0, 0);
    }
    return FN(walk_columns)(job, 0, 0, 0, 0, 0);
}

/* The words of one dtype: the including file defines them afresh, and
 * undefines the other words it defined per dtype. */
#undef N_VECTORS
#undef N_SEEN
#undef STAGED_SPLIT_BYTES
#undef ENC_LOAD
#undef ENC_INDEX
#undef FN
#undef real
#undef fvec
#undef ivec
#undef vmask
#undef V_ROWS
#undef V_GROUP
