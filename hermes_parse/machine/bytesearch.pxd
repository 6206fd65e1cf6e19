# The compiled twin of bytesearch.find_tag (see bytesearch.py): inline C,
# cimported by envelope.pxd; bytesearch.py itself is never compiled.
from libc.string cimport memchr, memcmp


cdef inline Py_ssize_t find_tag(bytes data, bytes tag, Py_ssize_t start):
    """Where ``tag`` first starts in ``data`` at or after ``start`` (-1:
    nowhere): each of its first byte found by memchr, the rest compared."""
    cdef const char* p = data
    cdef const char* t = tag
    cdef Py_ssize_t n = len(data)
    cdef Py_ssize_t m = len(tag)
    cdef const char* at
    if m == 0:
        return start if 0 <= start <= n else -1
    if start < 0:
        start = 0
    while start + m <= n:
        # The first byte can only be where the whole tag still fits.
        at = <const char*>memchr(p + start, t[0], <size_t>(n - m + 1 - start))
        if at == NULL:
            return -1
        start = at - p
        if memcmp(at, t, <size_t>m) == 0:
            return start
        start += 1
    return -1
