"""Index of the largest score of every row, read from the scan's layout.

The wrappers' scores are the transpose of the scan's (n_outputs,
n_samples) C-ordered output. NumPy's ``argmax(axis=1)`` on that
Fortran-ordered view first copies it to row-major, an array of the
output's size whose page faults cost more than the product (predicting
45000 digits: 10.4 ms against 4.4 ms for the scores). Here each chunk of
rows keeps a running maximum over the outputs, reading every output's
scores contiguously, with no temporary beyond a chunk. Ties and NaN follow
``np.argmax``: the first maximum wins, and the first NaN beats any number.
"""

from libc.math cimport isnan

cimport numpy as cnp
from cython cimport floating
from cython.parallel cimport prange

cnp.import_array()

ctypedef cnp.intp_t intp_t

# Rows per task: the running maxima of a chunk (8 bytes a row) stay in L1
# while every output's scores stream past them.
cdef enum:
    CHUNK_ROWS = 1024


def column_argmax(const floating[:, ::1] scores_t, intp_t[::1] out, int n_threads):
    """Write ``scores_t.argmax(axis=0)`` into ``out``.

    Parameters
    ----------
    scores_t : ndarray of shape (n_outputs, n_samples), dtype={np.float32, np.float64}
        C-contiguous; at least one output.
    out : ndarray of shape (n_samples,), dtype=np.intp
    n_threads : int
        OpenMP threads to run on; any number gives the same result.
    """
    cdef Py_ssize_t n_outputs = scores_t.shape[0]
    cdef Py_ssize_t n_samples = scores_t.shape[1]
    if n_outputs < 1:
        raise ValueError("scores_t must have at least one output row")
    if out.shape[0] != n_samples:
        raise ValueError(f"out must have {n_samples} entries, got {out.shape[0]}")
    cdef Py_ssize_t n_chunks = (n_samples + CHUNK_ROWS - 1) // CHUNK_ROWS
    cdef Py_ssize_t chunk
    cdef int team = max(n_threads, 1)
    with nogil:
        for chunk in prange(n_chunks, schedule="static", num_threads=team):
            _chunk_argmax(scores_t, out, chunk * CHUNK_ROWS,
                          min((chunk + 1) * CHUNK_ROWS, n_samples))


cdef inline void _chunk_argmax(
    const floating[:, ::1] scores_t,
    intp_t[::1] out,
    Py_ssize_t begin,
    Py_ssize_t end,
) noexcept nogil:
    cdef floating best[CHUNK_ROWS]
    cdef Py_ssize_t n, m
    cdef floating value
    for n in range(begin, end):
        best[n - begin] = scores_t[0, n]
        out[n] = 0
    for m in range(1, scores_t.shape[0]):
        for n in range(begin, end):
            value = scores_t[m, n]
            # A NaN compares false with anything: once the best is NaN it
            # stays, as in np.argmax.
            if value > best[n - begin] or (isnan(value) and not isnan(best[n - begin])):
                best[n - begin] = value
                out[n] = m
