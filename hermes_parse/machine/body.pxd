# Types for body.py, compiled as hermes_parse.machine.body: the fields and
# methods every body grammar has, so the envelope calls them directly in C.
cdef int EV_DEFECT, EV_NONE


cdef class Body:
    cdef public int event
    cdef public str name
    cdef public str kind
    cdef public str detail
    cdef public Py_ssize_t defect_at
    cdef public Py_ssize_t value_start
    cdef public bint decided
    cdef public list args
    cdef public list problems
    cdef public dict types

    cdef begin(self, list args, int args_mode, bint python, bint bare)
    cdef Py_ssize_t feed(self, str text, Py_ssize_t i, Py_ssize_t limit, Py_ssize_t base) except -1
    cdef bint finish(self) except -1
    cdef defect(self, Py_ssize_t at, str kind, str detail)
