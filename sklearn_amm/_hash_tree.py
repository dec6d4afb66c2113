"""Learn one codebook's hash tree: 4 levels, one split column per level.

The tree is a balanced binary tree of depth 4, so it has 16 leaves (the
codebook's 16 prototypes). All the nodes of a level compare the same input
column; only their thresholds differ. Encoding a row therefore needs 4
comparisons and no multiplication::

    node = 0
    for level in range(4):
        node = 2 * node + (x[split_dims[level]] > thresholds[level, node])

Learning grows the tree level by level, greedily: at each level it tries the
few columns with the largest within-bucket SSE and keeps the one whose best
per-bucket thresholds leave the smallest total SSE.

The search for each bucket's best threshold is
:func:`~sklearn_amm._split_search.optimal_split_sorted`; learning runs its
compiled version, which scores all the buckets of a level in one call.
"""

import numpy as np

from ._kernels._split import level_column_sse, split_level

N_LEVELS = 4
N_LEAVES = 2**N_LEVELS
# Level t has 2**t nodes; thresholds are stored in a (N_LEVELS, 8) table whose
# row t is padded past 2**t entries, the layout the encode kernels index.
MAX_NODES = 2 ** (N_LEVELS - 1)


def learn_hash_tree(
    X_block,
    n_candidate_dims=4,
    targets=None,
    column_weights=None,
    sample_weight=None,
    executor=None,
):
    """Learn the hash tree of one codebook from its block of training columns.

    Parameters
    ----------
    X_block : ndarray of shape (n_samples, n_columns)
        The training rows restricted to the codebook's columns, float32 or
        float64 (the search itself runs in float64).
    n_candidate_dims : int, default=4
        Columns tried at each level: those with the largest SSE summed over
        the current buckets (weighted by ``||weights_block[j]||**2`` when
        ``weights_block`` is given).
    targets : ndarray of shape (n_samples, n_targets), default=None
        Rows whose within-leaf SSE the splits minimise; ``None`` means
        ``X_block`` itself (reconstruction). :func:`product_targets` gives
        the block's contribution to a product, so that leaves group rows
        whose products are alike, which is what the tables reproduce. The
        comparisons always read raw input columns.
    column_weights : ndarray of shape (n_columns,), default=None
        Weight of each column's SSE when choosing candidates (ones if None).
    sample_weight : ndarray of shape (n_samples,), default=None
        Positive, finite weight of each row in every SSE (the candidates'
        and the splits'); None weighs every row 1.
    executor : concurrent.futures.Executor, default=None
        If given, the candidate columns of a level are scored in its
        threads (the compiled search releases the GIL). The tree does not
        depend on it: the candidates are compared in the same order.

    Returns
    -------
    split_dims : ndarray of shape (4,), dtype=np.intp
        Column (within the block) compared at each level.
    thresholds : ndarray of shape (4, 8), dtype=float64
        ``thresholds[t, node]`` for the ``2**t`` nodes of level ``t``;
        padding entries are ``+inf``. A node that cannot be split (fewer than
        two distinct values) gets ``+inf``: all its rows go left.
    leaves : ndarray of shape (n_samples,), dtype=np.intp
        Leaf (code, 0..15) of each training row. It equals what encoding the
        training rows with ``split_dims`` and ``thresholds`` gives.
    """
    # Rows are gathered by index in the kernel: a contiguous copy makes each
    # row one short run instead of a slice of a wide array.
    X_block = np.ascontiguousarray(X_block, dtype=np.float64)
    n_samples = X_block.shape[0]
    targets = (
        X_block if targets is None else np.ascontiguousarray(targets, dtype=np.float64)
    )
    if sample_weight is not None:
        sample_weight = np.ascontiguousarray(sample_weight, dtype=np.float64)
    split_dims = np.zeros(N_LEVELS, dtype=np.intp)
    thresholds = np.full((N_LEVELS, MAX_NODES), np.inf)
    nodes = np.zeros(n_samples, dtype=np.intp)
    # Each column that has been a candidate, contiguous (the kernel reads it
    # in random order), and its rows sorted by value, computed once: filtering
    # this order by bucket gives each bucket's rows already sorted (ties in
    # row order, as a stable sort of the bucket would).
    columns = {}
    sorted_rows = {}

    def search(dim, n_nodes):
        """Every bucket's best threshold on column ``dim`` and its loss."""
        if dim not in columns:
            columns[dim] = np.ascontiguousarray(X_block[:, dim])
            sorted_rows[dim] = _stable_argsort(columns[dim])
        level_thresholds = np.empty(n_nodes)
        bucket_losses = np.empty(n_nodes)
        split_level(
            columns[dim],
            targets,
            sorted_rows[dim],
            nodes,
            level_thresholds,
            bucket_losses,
            sample_weight,
        )
        return level_thresholds, bucket_losses

    for level in range(N_LEVELS):
        n_nodes = 2**level
        column_sse = level_column_sse(X_block, nodes, n_nodes, sample_weight)
        candidates = _top_columns(column_sse, n_candidate_dims, column_weights)
        if executor is None:
            searches = [search(dim, n_nodes) for dim in candidates]
        else:
            searches = list(
                executor.map(search, candidates, [n_nodes] * len(candidates))
            )

        best_loss = np.inf
        best_goes_right = None
        node_sizes = None
        for dim, (level_thresholds, bucket_losses) in zip(candidates, searches):
            # Added in node order, one by one (np.sum would add in pairs), as
            # the reference learner adds them.
            loss = sum(bucket_losses.tolist())
            # Strict comparison: on a tie the first candidate evaluated (the
            # one with the smaller SSE) wins.
            if loss < best_loss:
                goes_right = columns[dim] > level_thresholds[nodes]
                # A column that divides every bucket as the best one does
                # ties with it: the losses are equal but for rounding, which
                # would otherwise decide (and decide differently for rows
                # repeated and rows weighted).
                if best_goes_right is not None:
                    if node_sizes is None:
                        node_sizes = np.bincount(nodes, minlength=n_nodes)
                    if _same_division(nodes, node_sizes, goes_right, best_goes_right):
                        continue
                best_loss = loss
                best_dim = dim
                best_thresholds = level_thresholds
                best_goes_right = goes_right

        split_dims[level] = best_dim
        thresholds[level, :n_nodes] = best_thresholds
        nodes = 2 * nodes + best_goes_right
    return split_dims, thresholds, nodes


def _same_division(nodes, node_sizes, goes_right, other_goes_right):
    """Whether two splits divide every bucket into the same two groups of rows.

    Either split may send a group the other way: the children are then
    swapped, which changes no loss. ``node_sizes`` is
    ``np.bincount(nodes, minlength=n_nodes)``.
    """
    differ = np.bincount(
        nodes[goes_right != other_goes_right], minlength=len(node_sizes)
    )
    return bool(np.all((differ == 0) | (differ == node_sizes)))


def product_targets(X_block, weights_block):
    """Split targets and column weights for the block's contribution to a product.

    For the product objective, the SSE of ``X_block @ W`` equals that of
    ``X_block @ R`` for any ``R`` with ``R @ R.T == W @ W.T``; taking ``R``
    from the eigendecomposition of ``W @ W.T`` keeps at most ``n_columns``
    targets however many outputs ``W`` has.

    Returns
    -------
    targets : ndarray of shape (n_samples, n_targets)
    column_weights : ndarray of shape (n_columns,)
        How much a unit of variance of each column adds to the targets' SSE.
    """
    gram = weights_block @ weights_block.T
    eigenvalues, eigenvectors = np.linalg.eigh(gram)
    keep = eigenvalues > eigenvalues.max(initial=0.0) * 1e-12
    root = eigenvectors[:, keep] * np.sqrt(eigenvalues[keep])
    return X_block @ root, np.diag(gram).copy()


def _stable_argsort(values):
    """``np.argsort(values, kind="stable")``, several times faster.

    NumPy's default sort is several times faster than its stable sort, but
    leaves equal values in any order. Values that float32 holds exactly (all
    of them when the training data is float32) are sorted as 64-bit keys,
    the order-preserving bits of the value above the row number, so that
    equal values fall in row order in one fast sort. Others are sorted
    unstably, and equal values then put back in row order by sorting the
    keys ``run * n + row``, where ``run`` numbers the runs of equal sorted
    values: distinct integers, which sort fast too.
    """
    values = np.asarray(values)
    n_values = len(values)
    if n_values < 2**32 and not np.isnan(values).any():
        with np.errstate(over="ignore"):  # values beyond float32 are not exact
            single = values.astype(np.float32)
        if values.dtype == np.float32 or np.array_equal(single, values):
            return _float32_stable_argsort(single)
    order = np.argsort(values)
    sorted_values = values[order]
    if n_values and np.isnan(sorted_values[-1]):
        # NaN sorts last but is not equal to itself: NaNs would form no run.
        return np.argsort(values, kind="stable")
    ties = sorted_values[1:] == sorted_values[:-1]
    if not ties.any():
        return order
    runs = np.zeros(n_values, dtype=np.int64)
    np.cumsum(~ties, out=runs[1:])
    keys = runs * n_values + order
    keys.sort()
    return (keys % n_values).astype(np.intp)


def _float32_stable_argsort(values):
    """Stable argsort of fewer than 2**32 float32 values without NaN."""
    # Adding zero turns -0.0 into 0.0, which compares equal to it.
    bits = np.ascontiguousarray(values + np.float32(0.0)).view(np.uint32)
    # Flipping the sign bit of positive values and every bit of negative
    # ones makes the unsigned integers sort as the floats do.
    flip = np.where(bits >> np.uint32(31), np.uint32(0xFFFFFFFF), np.uint32(0x80000000))
    keys = (bits ^ flip).astype(np.uint64) << np.uint64(32)
    keys |= np.arange(len(values), dtype=np.uint64)
    keys.sort()
    return (keys & np.uint64(0xFFFFFFFF)).astype(np.intp)


def _candidate_dims(buckets, n_candidate_dims, column_weights=None):
    """Columns with the largest weighted SSE summed over buckets, smallest first.

    The readable version of the candidate choice, on the buckets' rows: the
    learner computes the same SSE with
    :func:`~sklearn_amm._kernels._split.level_column_sse` without gathering
    the buckets.
    """
    column_sse = sum(
        bucket.var(axis=0) * bucket.shape[0] for bucket in buckets if len(bucket)
    )
    return _top_columns(column_sse, n_candidate_dims, column_weights)


def _top_columns(column_sse, n_candidate_dims, column_weights=None):
    """The ``n_candidate_dims`` columns of largest (weighted) SSE, smallest first."""
    if column_weights is not None:
        column_sse = column_sse * column_weights
    order = np.argsort(column_sse, kind="stable")
    return order[-n_candidate_dims:]


def tree_sse(X_block, leaves):
    """Total within-leaf SSE of a partition of the rows (for diagnostics and tests)."""
    total = 0.0
    for leaf in np.unique(leaves):
        rows = X_block[leaves == leaf]
        total += float(((rows - rows.mean(axis=0)) ** 2).sum())
    return total


def reachable_leaves(thresholds):
    """Which leaves of each tree some input can reach.

    A threshold is finite only between two distinct training values, so
    both children of such a node hold training rows; ``+inf`` marks a node
    that could not be split, whose right child no value (not even ``+inf``
    or NaN) can enter. A leaf is reachable when every right turn on its path
    is at a finite threshold. Unreachable leaves are exactly the empty ones,
    and their table entries are never read.

    Parameters
    ----------
    thresholds : ndarray of shape (n_codebooks, 4, 8)

    Returns
    -------
    reachable : ndarray of shape (n_codebooks, 16), dtype=bool
    """
    n_codebooks = thresholds.shape[0]
    reachable = np.ones((n_codebooks, 1), dtype=bool)
    for level in range(N_LEVELS):
        finite = np.isfinite(thresholds[:, level, : 2**level])
        children = np.empty((n_codebooks, 2 ** (level + 1)), dtype=bool)
        children[:, 0::2] = reachable
        children[:, 1::2] = reachable & finite
        reachable = children
    return reachable
