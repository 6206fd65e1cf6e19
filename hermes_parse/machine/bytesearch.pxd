# The compiled twin of bytesearch.py's three functions (see its docstring):
# inline Cython over C pointers, cimported by envelope.pxd; bytesearch.py
# itself is never compiled.
from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.string cimport memchr, memcmp


cdef inline object column_bytes(object data):
    """The column as the compiled envelope reads it: any buffer, in place, as
    unsigned bytes (Arrow's buffers say signed; ``_run_utf8`` takes a typed
    memoryview of them, never a copy)."""
    view = memoryview(data)
    return view if view.format == "B" else view.cast("B")


cdef inline str row_text(const unsigned char[::1] data, Py_ssize_t start, Py_ssize_t stop):
    """Row ``data[start:stop]`` decoded (invalid UTF-8 as U+FFFD), read in place."""
    if stop <= start:
        return ""
    return PyUnicode_DecodeUTF8(<const char*>&data[start], stop - start, "replace")


cdef inline Py_ssize_t find_tag(const unsigned char[::1] data, bytes tag, Py_ssize_t start):
    """Where ``tag`` (not empty) first starts in ``data`` at or after
    ``start`` (>= 0), -1 if nowhere: each of its first byte found by memchr,
    the rest compared."""
    cdef Py_ssize_t n = data.shape[0]
    if n == 0:
        return -1
    cdef const char* p = <const char*>&data[0]
    cdef const char* t = tag
    cdef Py_ssize_t m = len(tag)
    cdef const char* at
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
