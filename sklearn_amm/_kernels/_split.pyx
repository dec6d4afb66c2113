"""Best threshold of every bucket of a tree level on one column: the compiled split search.

This is :func:`sklearn_amm._split_search.optimal_split_sorted`, the NumPy
reference and the oracle of the tests, applied to all the buckets of a level
in one call. For a bucket of ``n`` rows sorted by the split column, with
centred targets ``c_k = t_k - mean`` and prefix sums ``S(i) = c_0 + ... +
c_i``, the cut after sorted position ``i`` has the gain::

    gain(i) = ||S(i)||^2 * n / ((i + 1) * (n - i - 1))

and the best split loses ``total_sse - max_i gain(i)``, the maximum taken
over the cuts between two distinct values only (the first one on a tie).

The reference gathers each bucket's targets and makes several passes over
them with temporaries as large as the bucket. Here target rows are read by
index, twice per bucket (once for the mean, once for the prefix sums, the
SSE and the gains), and the only state is a few rows of ``n_targets``
values.

Every sum runs in the order NumPy uses in the reference, so that on x86-64
(NumPy's two-lane SSE code) the kernel returns the reference's results to the bit and learned trees do
not depend on which of the two ran (two candidate columns that induce the
same partition tie exactly, and only the rounding then decides):

* the mean adds a bucket's rows in order and divides by ``n`` (``mean`` along
  axis 0); with a single target it is NumPy's pairwise sum;
* the prefix sums add one centred row at a time (``cumsum``);
* the squared norms and the total SSE follow ``einsum``'s loop over
  contiguous float64 data: two lanes, blocks of eight values added last
  first, a tail added in pairs, and chunks of ``EINSUM_CHUNK`` values.

Where NumPy adds in another order (other SIMD widths, fused multiply-adds,
another buffer size) the results agree to within rounding.

With row weights the reference adds every sum over rows as a running sum
(``cumsum``), in row order on any platform, and so does the kernel; the
squared norm of a row still follows ``einsum``. The suffix weights (the
right child's) are summed from the bucket's last row in a first pass.
"""

from libc.math cimport INFINITY, isfinite, isnan

from sklearn_amm._kernels._numpy_sums cimport (
    SquareSum,
    _einsum_sum_squares,
    _pairwise_sum,
    _square_sum_add,
    _square_sum_reset,
    _square_sum_result,
)

import numpy as np

cimport numpy as cnp

cnp.import_array()

ctypedef cnp.intp_t intp_t

cdef extern from *:
    """
    /* Ask for a cache line that a later iteration reads; a no-op where the
       compiler has no such builtin. */
    #if defined(__GNUC__) || defined(__clang__)
    #define AMM_PREFETCH(address) __builtin_prefetch(address)
    #else
    #define AMM_PREFETCH(address) ((void)0)
    #endif
    """
    void AMM_PREFETCH(const void *address) noexcept nogil


cdef enum:
    # Target rows are gathered in random order, each a cache miss unless
    # requested ahead: this many rows ahead covers a miss to memory
    # (~100 ns) with the work of a row of a few tens of targets.
    PREFETCH_ROWS = 8
    # The bucket mean does a few additions per row only: its reads must be
    # requested further ahead to arrive in time.
    MEAN_PREFETCH_ROWS = 32
    CACHE_LINE = 64


def split_level(
    const double[:] values,
    const double[:, ::1] targets,
    const intp_t[::1] sorted_rows,
    const intp_t[::1] nodes,
    double[::1] thresholds,
    double[::1] losses,
    const double[::1] sample_weight=None,
):
    """Best threshold on one column for each bucket of a tree level.

    For every bucket ``b`` the result is
    ``optimal_split_sorted(values[rows_b], targets[rows_b], weights_b)`` with
    ``rows_b = sorted_rows[nodes[sorted_rows] == b]`` and ``weights_b =
    sample_weight[rows_b]`` (None when ``sample_weight`` is None).

    Parameters
    ----------
    values : ndarray of shape (n_samples,), dtype=float64
        The split column, any stride. Read only.
    targets : ndarray of shape (n_samples, n_targets), dtype=float64
        C-contiguous rows whose within-children SSE the split minimises.
        Read only.
    sorted_rows : ndarray of shape (n_samples,), dtype=np.intp
        A permutation of the rows that sorts ``values`` in increasing order,
        stably so that ties fall in row order as in the reference. Read only.
    nodes : ndarray of shape (n_samples,), dtype=np.intp
        Bucket of each row, in ``0..n_nodes - 1``. Read only.
    thresholds : ndarray of shape (n_nodes,), dtype=float64
        Output, overwritten: each bucket's threshold, ``+inf`` when it has
        fewer than two distinct values.
    losses : ndarray of shape (n_nodes,), dtype=float64
        Output, overwritten: each bucket's within-children SSE after its
        split (its own SSE when it cannot be split; 0 for fewer than two
        rows).
    sample_weight : ndarray of shape (n_samples,), dtype=float64, default=None
        Positive, finite weight of each row; None weighs every row 1 (and
        runs the unweighted search, whose sums are ordered differently).
        Read only.
    """
    cdef Py_ssize_t n_samples = targets.shape[0]
    cdef Py_ssize_t n_targets = targets.shape[1]
    cdef Py_ssize_t n_nodes = thresholds.shape[0]
    if (
        values.shape[0] != n_samples
        or sorted_rows.shape[0] != n_samples
        or nodes.shape[0] != n_samples
    ):
        raise ValueError(
            f"values, sorted_rows and nodes must have {n_samples} entries (the rows "
            f"of targets), got {values.shape[0]}, {sorted_rows.shape[0]} and "
            f"{nodes.shape[0]}"
        )
    if losses.shape[0] != n_nodes:
        raise ValueError(
            f"losses must have as many entries as thresholds ({n_nodes}), got "
            f"{losses.shape[0]}"
        )
    if n_nodes == 0 and n_samples:
        raise ValueError("thresholds and losses are empty, but there are rows")
    cdef bint weighted = sample_weight is not None
    if weighted and sample_weight.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight must have {n_samples} entries (the rows of targets), "
            f"got {sample_weight.shape[0]}"
        )
    cdef Py_ssize_t bad_weight = _first_bad_weight(sample_weight) if weighted else -1
    if bad_weight >= 0:
        raise ValueError(
            f"sample_weight[{bad_weight}] = {sample_weight[bad_weight]}: the split "
            "search needs positive, finite weights"
        )

    # Each bucket's rows in sorted order, one bucket after the other, and
    # their values (read in order by the search, rather than by row).
    cdef intp_t[::1] bucket_rows = np.empty(n_samples, dtype=np.intp)
    cdef double[::1] bucket_values = np.empty(n_samples)
    cdef intp_t[::1] starts = np.zeros(n_nodes + 1, dtype=np.intp)
    # One row each: the bucket's mean, a centred row, the prefix sums.
    cdef double[:, ::1] rows = np.empty((3, max(n_targets, 1)))
    # A single target's values, gathered for the pairwise sum (unweighted);
    # the weight of every suffix of each bucket (weighted).
    cdef double[::1] column = np.empty(
        n_samples if n_targets == 1 or weighted else 0
    )
    cdef double *column_start = NULL
    cdef Py_ssize_t bad_position, node, start, stop
    with nogil:
        bad_position = _group_by_node(
            values, sorted_rows, nodes, starts, bucket_rows, bucket_values
        )
        if bad_position < 0:
            for node in range(n_nodes):
                start, stop = starts[node], starts[node + 1]
                if column.shape[0]:
                    column_start = &column[start]
                if weighted:
                    _split_bucket_weighted(
                        bucket_values[start:stop], targets, sample_weight,
                        bucket_rows[start:stop], rows, column_start,
                        &thresholds[node], &losses[node],
                    )
                else:
                    _split_bucket(
                        bucket_values[start:stop], targets, bucket_rows[start:stop],
                        rows, column_start, &thresholds[node], &losses[node],
                    )
    if bad_position >= 0:
        raise ValueError(
            f"sorted_rows[{bad_position}] = {sorted_rows[bad_position]} is not a row "
            f"of targets, or its node is not in 0..{n_nodes - 1}"
        )


cdef Py_ssize_t _group_by_node(
    const double[:] values,           # IN
    const intp_t[::1] sorted_rows,    # IN
    const intp_t[::1] nodes,          # IN
    intp_t[::1] starts,               # OUT, zero on entry: bucket b is [starts[b], starts[b + 1])
    intp_t[::1] bucket_rows,          # OUT
    double[::1] bucket_values,        # OUT: values[bucket_rows]
) noexcept nogil:
    """Stable counting sort of the sorted rows by node, and of their values.

    Returns the first position of ``sorted_rows`` holding something other
    than a row with a valid node (nothing is written out of bounds), else -1.
    """
    cdef Py_ssize_t n_samples = sorted_rows.shape[0]
    cdef Py_ssize_t n_nodes = starts.shape[0] - 1
    cdef Py_ssize_t i, row, node
    for i in range(n_samples):
        row = sorted_rows[i]
        if row < 0 or row >= n_samples:
            return i
        node = nodes[row]
        if node < 0 or node >= n_nodes:
            return i
        starts[node + 1] += 1
    for node in range(n_nodes):
        starts[node + 1] += starts[node]
    # Fill each bucket from its start; starts[node] ends at its stop, then
    # is shifted back.
    for i in range(n_samples):
        row = sorted_rows[i]
        node = nodes[row]
        bucket_rows[starts[node]] = row
        bucket_values[starts[node]] = values[row]
        starts[node] += 1
    for node in range(n_nodes, 0, -1):
        starts[node] = starts[node - 1]
    starts[0] = 0
    return -1


cdef void _split_bucket(
    const double[::1] values,         # IN: the rows' values, in the order of rows
    const double[:, ::1] targets,     # IN
    const intp_t[::1] rows,           # IN: the bucket's rows, sorted by value
    double[:, ::1] scratch,           # (3, n_targets)
    double *column,                   # (n_rows,) scratch when n_targets == 1
    double *threshold,                # OUT
    double *loss,                     # OUT
) noexcept nogil:
    """:func:`optimal_split_sorted` for one bucket, reading rows by index."""
    cdef Py_ssize_t n_rows = rows.shape[0]
    cdef Py_ssize_t n_targets = targets.shape[1]
    cdef double *mean = &scratch[0, 0]
    cdef double *centred = &scratch[1, 0]
    cdef double *prefix = &scratch[2, 0]
    cdef Py_ssize_t i, j
    cdef const double *target
    cdef double value, previous = 0.0, gain, best_gain = -INFINITY, lower = 0.0, upper = 0.0
    cdef SquareSum total_sse

    threshold[0] = INFINITY
    if n_rows < 2:
        loss[0] = 0.0
        return
    _bucket_mean(targets, rows, mean, column)

    for j in range(n_targets):
        prefix[j] = 0.0
    _square_sum_reset(&total_sse)
    for i in range(n_rows):
        value = values[i]
        # Score the cut before this row once we know whether it separates two
        # distinct values; the reference gives the other cuts gain -inf.
        if i and previous < value:
            # The reference's factor n / (n_left * (n - n_left)), computed in
            # the same order.
            gain = _einsum_sum_squares(prefix, n_targets) * (
                <double> n_rows / (<double> i * <double> (n_rows - i))
            )
            if _beats(gain, best_gain):
                best_gain, lower, upper = gain, previous, value
        if i + PREFETCH_ROWS < n_rows:
            _prefetch_row(targets, rows[i + PREFETCH_ROWS])
        target = &targets[rows[i], 0]
        for j in range(n_targets):
            centred[j] = target[j] - mean[j]
            prefix[j] += centred[j]
        _square_sum_add(&total_sse, centred, n_targets)
        previous = value

    _finish(_square_sum_result(&total_sse), best_gain, lower, upper, threshold, loss)


cdef Py_ssize_t _first_bad_weight(const double[::1] weights) noexcept nogil:
    """Position of the first weight that is not positive and finite, else -1."""
    cdef Py_ssize_t i
    for i in range(weights.shape[0]):
        if not (weights[i] > 0.0 and isfinite(weights[i])):
            return i
    return -1


cdef void _split_bucket_weighted(
    const double[::1] values,         # IN: the rows' values, in the order of rows
    const double[:, ::1] targets,     # IN
    const double[::1] weights,        # IN: every row's weight
    const intp_t[::1] rows,           # IN: the bucket's rows, sorted by value
    double[:, ::1] scratch,           # (3, n_targets)
    double *suffix,                   # (n_rows,) scratch: weights summed from the end
    double *threshold,                # OUT
    double *loss,                     # OUT
) noexcept nogil:
    """The weighted :func:`optimal_split_sorted` for one bucket, reading rows by index.

    Each running sum starts from its first term, as ``cumsum`` does (adding
    the first term to 0.0 could turn a -0.0 into 0.0).
    """
    cdef Py_ssize_t n_rows = rows.shape[0]
    cdef Py_ssize_t n_targets = targets.shape[1]
    cdef double *mean = &scratch[0, 0]
    cdef double *centred = &scratch[1, 0]
    cdef double *prefix = &scratch[2, 0]
    cdef Py_ssize_t i, j
    cdef const double *target
    cdef double weight, total_weight, weight_left = 0.0, row_sse, total_sse = 0.0
    cdef double value, previous = 0.0, squared_norm, gain, best_gain = -INFINITY
    cdef double lower = 0.0, upper = 0.0

    threshold[0] = INFINITY
    if n_rows < 2:
        loss[0] = 0.0
        return
    # The right child's weight for the cut before row i is suffix[i].
    suffix[n_rows - 1] = weights[rows[n_rows - 1]]
    for i in range(n_rows - 2, -1, -1):
        suffix[i] = suffix[i + 1] + weights[rows[i]]

    # The weighted mean: sum(w * t) / sum(w), both running sums.
    for i in range(n_rows):
        if i + MEAN_PREFETCH_ROWS < n_rows:
            _prefetch_row(targets, rows[i + MEAN_PREFETCH_ROWS])
        weight = weights[rows[i]]
        target = &targets[rows[i], 0]
        if i == 0:
            total_weight = weight
            for j in range(n_targets):
                mean[j] = weight * target[j]
        else:
            total_weight = total_weight + weight
            for j in range(n_targets):
                mean[j] = mean[j] + weight * target[j]
    for j in range(n_targets):
        mean[j] /= total_weight

    for i in range(n_rows):
        value = values[i]
        if i and previous < value:
            squared_norm = _einsum_sum_squares(prefix, n_targets)
            gain = squared_norm / weight_left + squared_norm / suffix[i]
            if _beats(gain, best_gain):
                best_gain, lower, upper = gain, previous, value
        if i + PREFETCH_ROWS < n_rows:
            _prefetch_row(targets, rows[i + PREFETCH_ROWS])
        weight = weights[rows[i]]
        target = &targets[rows[i], 0]
        for j in range(n_targets):
            centred[j] = target[j] - mean[j]
        row_sse = weight * _einsum_sum_squares(centred, n_targets)
        if i == 0:
            weight_left = weight
            total_sse = row_sse
            for j in range(n_targets):
                prefix[j] = weight * centred[j]
        else:
            weight_left = weight_left + weight
            total_sse = total_sse + row_sse
            for j in range(n_targets):
                prefix[j] = prefix[j] + weight * centred[j]
        previous = value

    _finish(total_sse, best_gain, lower, upper, threshold, loss)


cdef inline bint _beats(double gain, double best_gain) noexcept nogil:
    """np.argmax's order: the first maximum wins, and a NaN beats every number."""
    return gain > best_gain or (isnan(gain) and not isnan(best_gain))


cdef inline void _finish(
    double total_sse,   # the bucket's SSE
    double best_gain,   # -INFINITY when no cut was scored
    double lower,       # the values either side of the best cut
    double upper,
    double *threshold,  # OUT, left as it is when no cut was scored
    double *loss,       # OUT
) noexcept nogil:
    """Write a bucket's loss after its best cut, and the cut's threshold."""
    if best_gain == -INFINITY:
        # No two distinct values, so no cut was scored.
        loss[0] = total_sse
        return
    loss[0] = total_sse - best_gain
    # max(loss, 0.0) in Python keeps a NaN loss; so does this.
    if 0.0 > loss[0]:
        loss[0] = 0.0
    threshold[0] = _split_threshold(lower, upper)


cdef void _bucket_mean(
    const double[:, ::1] targets,     # IN
    const intp_t[::1] rows,           # IN
    double *mean,                     # OUT (n_targets,)
    double *column,                   # (n_rows,) scratch when n_targets == 1
) noexcept nogil:
    """``targets[rows].mean(axis=0)``, summed as NumPy sums it."""
    cdef Py_ssize_t n_rows = rows.shape[0]
    cdef Py_ssize_t n_targets = targets.shape[1]
    cdef Py_ssize_t i, j
    cdef const double *target
    if n_targets == 1:
        # A reduction over one contiguous axis: NumPy sums pairwise.
        for i in range(n_rows):
            column[i] = targets[rows[i], 0]
        mean[0] = _pairwise_sum(column, n_rows) / n_rows
        return
    # A reduction over the outer axis: each column adds the rows in order.
    for j in range(n_targets):
        mean[j] = 0.0
    for i in range(n_rows):
        if i + MEAN_PREFETCH_ROWS < n_rows:
            _prefetch_row(targets, rows[i + MEAN_PREFETCH_ROWS])
        target = &targets[rows[i], 0]
        for j in range(n_targets):
            mean[j] += target[j]
    for j in range(n_targets):
        mean[j] /= n_rows


cdef inline void _prefetch_row(const double[:, ::1] targets, Py_ssize_t row) noexcept nogil:
    """Request every cache line of ``targets[row]``."""
    cdef const char *start = <const char *> &targets[row, 0]
    cdef Py_ssize_t n_bytes = targets.shape[1] * sizeof(double)
    cdef Py_ssize_t offset = 0
    while offset < n_bytes:
        AMM_PREFETCH(start + offset)
        offset += CACHE_LINE
    if n_bytes:
        # The row need not start on a line, so its end may lie one further.
        AMM_PREFETCH(start + n_bytes - 1)


cdef inline double _split_threshold(double lower, double upper) noexcept nogil:
    """:func:`sklearn_amm._split_search.split_threshold`: the midpoint, or
    ``lower`` when the midpoint rounds up to ``upper``."""
    cdef double mid = lower + (upper - lower) / 2
    if not (lower <= mid and mid < upper):
        return lower
    return mid


def level_column_sse(
    const double[:, ::1] X_block,
    const intp_t[::1] nodes,
    Py_ssize_t n_nodes,
    const double[::1] sample_weight=None,
):
    """Each column's SSE around its node's mean, summed over the nodes of a level.

    The tree learner tries, at each level, the columns with the largest
    within-node SSE. Two passes over the rows, with no temporary the size
    of the block: the (weighted) sums of every node, then the squared
    deviations from the node means. Each sum adds the rows in order.

    Parameters
    ----------
    X_block : ndarray of shape (n_samples, n_columns), dtype=float64
        C-contiguous rows. Read only.
    nodes : ndarray of shape (n_samples,), dtype=np.intp
        Node of each row, in ``0..n_nodes - 1``. Read only.
    n_nodes : int
        Number of nodes of the level.
    sample_weight : ndarray of shape (n_samples,), dtype=float64, default=None
        Weight of each row; None weighs every row 1. Read only.

    Returns
    -------
    column_sse : ndarray of shape (n_columns,), dtype=float64
        ``sum(w * (X_block[:, j] - mean_w[nodes, j]) ** 2)``, where
        ``mean_w[node]`` is the weighted mean of the node's rows.
    """
    cdef Py_ssize_t n_samples = X_block.shape[0]
    cdef Py_ssize_t n_columns = X_block.shape[1]
    if nodes.shape[0] != n_samples:
        raise ValueError(
            f"nodes must have {n_samples} entries (the rows of X_block), got "
            f"{nodes.shape[0]}"
        )
    if sample_weight is not None and sample_weight.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight must have {n_samples} entries (the rows of X_block), "
            f"got {sample_weight.shape[0]}"
        )
    if n_nodes < 1:
        raise ValueError(f"n_nodes must be at least 1, got {n_nodes}")
    column_sse_array = np.zeros(n_columns)
    cdef double[::1] column_sse = column_sse_array
    cdef double[:, ::1] means = np.zeros((n_nodes, max(n_columns, 1)))
    cdef double[::1] node_weights = np.zeros(n_nodes)
    cdef bint weighted = sample_weight is not None
    cdef Py_ssize_t i, j, node, bad_position = -1
    cdef double weight = 1.0, deviation
    cdef const double *row
    cdef double *mean
    with nogil:
        for i in range(n_samples):
            node = nodes[i]
            if node < 0 or node >= n_nodes:
                bad_position = i
                break
            row = &X_block[i, 0]
            mean = &means[node, 0]
            if weighted:
                weight = sample_weight[i]
                for j in range(n_columns):
                    mean[j] += weight * row[j]
            else:
                for j in range(n_columns):
                    mean[j] += row[j]
            node_weights[node] += weight
        if bad_position < 0:
            for node in range(n_nodes):
                if node_weights[node] > 0.0:
                    for j in range(n_columns):
                        means[node, j] /= node_weights[node]
            for i in range(n_samples):
                row = &X_block[i, 0]
                mean = &means[nodes[i], 0]
                if weighted:
                    weight = sample_weight[i]
                    for j in range(n_columns):
                        deviation = row[j] - mean[j]
                        column_sse[j] += weight * deviation * deviation
                else:
                    for j in range(n_columns):
                        deviation = row[j] - mean[j]
                        column_sse[j] += deviation * deviation
    if bad_position >= 0:
        raise ValueError(
            f"nodes[{bad_position}] = {nodes[bad_position]} is not in 0..{n_nodes - 1}"
        )
    return column_sse_array
