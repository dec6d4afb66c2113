# Sums of float64 values in the exact order NumPy adds them, so that the
# compiled split search gives the bit-identical scores of the NumPy code it
# replaces (np.sum's pairwise summation, np.einsum's two-lane sum of squares).
# Inline functions, cimported by _split.pyx.

cdef enum:
    # Values per inner loop of an einsum over a large operand: NumPy's
    # default ufunc buffer size (np.getbufsize()).
    EINSUM_CHUNK = 8192
    # Below this, NumPy's pairwise sum adds sequentially; up to PAIRWISE_BLOCK
    # it uses eight accumulators; beyond, it halves (pairwise_sum in
    # numpy/_core/src/umath/loops_utils.h.src).
    PAIRWISE_UNROLL = 8
    PAIRWISE_BLOCK = 128


# The running sum of squares of a long run of values, in einsum's order,
# fed a few values at a time (one centred row of a bucket after another).
cdef struct SquareSum:
    double total          # sum of the finished chunks
    double lane0          # the two lanes of the current chunk
    double lane1
    double pending[8]     # squares of the current block of eight, not yet added
    Py_ssize_t n_pending
    Py_ssize_t in_chunk   # values added to the lanes in the current chunk


cdef inline double _pairwise_sum(const double *a, Py_ssize_t n) noexcept nogil:
    """NumPy's pairwise summation of float64 (``DOUBLE_pairwise_sum``)."""
    cdef Py_ssize_t i, j, half
    cdef double res
    cdef double r[8]
    if n < PAIRWISE_UNROLL:
        # -0.0 is the identity of addition, so a sum of -0.0 stays -0.0.
        res = -0.0
        for i in range(n):
            res += a[i]
        return res
    if n <= PAIRWISE_BLOCK:
        for j in range(8):
            r[j] = a[j]
        i = 8
        while i < n - n % 8:
            for j in range(8):
                r[j] += a[i + j]
            i += 8
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        while i < n:
            res += a[i]
            i += 1
        return res
    half = n // 2
    half -= half % 8
    return _pairwise_sum(a, half) + _pairwise_sum(a + half, n - half)


cdef inline void _add_squares_of_block(
    const double *x, double *lane0, double *lane1
) noexcept nogil:
    """Add the squares of ``x[:8]`` to the two lanes, as einsum does a block:
    the even values to lane 0 and the odd ones to lane 1, last pair first."""
    lane0[0] = x[0] * x[0] + (x[2] * x[2] + (x[4] * x[4] + (x[6] * x[6] + lane0[0])))
    lane1[0] = x[1] * x[1] + (x[3] * x[3] + (x[5] * x[5] + (x[7] * x[7] + lane1[0])))


cdef inline double _lanes_sum_squares(const double *x, Py_ssize_t n) noexcept nogil:
    """``sum(x**2)`` over at most EINSUM_CHUNK values, in einsum's order.

    NumPy's ``sum_of_products_contig_contig_outstride0_two`` for float64 on
    x86-64 (two lanes, a multiply then an add): blocks of eight values, whose
    last pair is added to the lane accumulators first; then the rest in
    pairs; then the two lanes.
    """
    cdef double lane0 = 0.0, lane1 = 0.0
    cdef Py_ssize_t j = 0
    while j + 8 <= n:
        _add_squares_of_block(x + j, &lane0, &lane1)
        j += 8
    while j + 2 <= n:
        lane0 = x[j] * x[j] + lane0
        lane1 = x[j + 1] * x[j + 1] + lane1
        j += 2
    if j < n:
        lane0 = x[j] * x[j] + lane0
    return lane0 + lane1


cdef inline double _einsum_sum_squares(const double *x, Py_ssize_t n) noexcept nogil:
    """``np.einsum("i,i->", x, x)`` for contiguous float64, in its order."""
    cdef double total = 0.0
    cdef Py_ssize_t start = 0
    while start < n:
        total = total + _lanes_sum_squares(x + start, min(n - start, EINSUM_CHUNK))
        start += EINSUM_CHUNK
    return total


cdef inline void _square_sum_reset(SquareSum *s) noexcept nogil:
    s.total = 0.0
    s.lane0 = 0.0
    s.lane1 = 0.0
    s.n_pending = 0
    s.in_chunk = 0


cdef inline void _square_sum_add(SquareSum *s, const double *x, Py_ssize_t n) noexcept nogil:
    """Continue :func:`_einsum_sum_squares` over the run with ``x[:n]``.

    Whole blocks of eight go straight to the lanes; only the values of a
    block that ``x`` starts or ends inside wait in ``s.pending``.
    """
    cdef double *pending = s.pending
    cdef double lane0 = s.lane0, lane1 = s.lane1
    cdef Py_ssize_t j = 0
    if s.n_pending:
        while s.n_pending < 8 and j < n:
            pending[s.n_pending] = x[j] * x[j]
            s.n_pending += 1
            j += 1
        if s.n_pending < 8:
            return
        lane0 = pending[0] + (pending[2] + (pending[4] + (pending[6] + lane0)))
        lane1 = pending[1] + (pending[3] + (pending[5] + (pending[7] + lane1)))
        s.n_pending = 0
        _end_block(s, &lane0, &lane1)
    while j + 8 <= n:
        _add_squares_of_block(x + j, &lane0, &lane1)
        j += 8
        _end_block(s, &lane0, &lane1)
    while j < n:
        pending[s.n_pending] = x[j] * x[j]
        s.n_pending += 1
        j += 1
    s.lane0 = lane0
    s.lane1 = lane1


cdef inline void _end_block(SquareSum *s, double *lane0, double *lane1) noexcept nogil:
    """Count a block added to the lanes; at the end of a chunk, add them to the total."""
    s.in_chunk += 8
    if s.in_chunk == EINSUM_CHUNK:
        s.total = s.total + (lane0[0] + lane1[0])
        lane0[0] = 0.0
        lane1[0] = 0.0
        s.in_chunk = 0


cdef inline double _square_sum_result(SquareSum *s) noexcept nogil:
    """The sum of all squares added: the pending ones in pairs, as einsum's tail."""
    cdef Py_ssize_t j = 0
    while j + 2 <= s.n_pending:
        s.lane0 = s.pending[j] + s.lane0
        s.lane1 = s.pending[j + 1] + s.lane1
        j += 2
    if j < s.n_pending:
        s.lane0 = s.pending[j] + s.lane0
    if s.in_chunk == 0 and s.n_pending == 0:
        # The run ended with a chunk, and einsum makes no empty call after it.
        return s.total
    return s.total + (s.lane0 + s.lane1)
