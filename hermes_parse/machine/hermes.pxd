# Types for hermes.py, compiled as hermes_parse.machine.hermes.
import cython

from hermes_parse.machine.body cimport Body
from hermes_parse.machine.reader cimport JsonReader, plain_string_end

cdef int DONE, FAILED, RUNNING, M_DECODE, M_DISCARD, EV_NONE, EV_NAME, EV_TAG
cdef int H_OPEN, H_FENCE, H_FENCE_INFO, H_OPEN_FENCED, H_KEY, H_KEYSTR, H_COLON
cdef int H_VALUE_START, H_VALUE, H_AFTER_VALUE, H_AFTER_OBJ, H_CLOSE_FENCE
cdef int V_KEY, V_NAME, V_ARGS, V_ARGS_STR, V_ARGS_OTHER, V_DUPLICATE, V_OTHER
cdef Py_ssize_t KEY_CAPTURE_CAP, NAME_CAPTURE_CAP
cdef object new_reader


# Not final as a class (Cython then forbids overriding Body's methods here);
# the methods of its own are.
cdef class HermesBody(Body):
    cdef public JsonReader reader
    cdef public JsonReader inner
    cdef public list capture
    cdef public int state
    cdef public int args_mode
    cdef public bint python
    cdef public int fence
    cdef public bint fenced
    cdef public Py_ssize_t fence_start
    cdef public bint first_key
    cdef public bint have_name
    cdef public bint have_args
    cdef public int role
    cdef public Py_UCS4 value_char
    cdef public Py_ssize_t base

    cdef begin(self, list args, int args_mode, bint python, bint bare)
    cdef bint finish(self) except -1
    @cython.locals(state=int, reader=JsonReader, c=Py_UCS4, key=str)
    cdef Py_ssize_t feed(self, str text, Py_ssize_t i, Py_ssize_t limit, Py_ssize_t base) except -1
    @cython.final
    @cython.locals(role=int, reader=JsonReader, python=bint, quote=bint, end=Py_ssize_t)
    cdef Py_ssize_t start_value(self, str text, Py_ssize_t i, Py_ssize_t limit, Py_UCS4 c) except -1
    @cython.final
    @cython.locals(role=int, start=Py_ssize_t, length=Py_ssize_t, inner=JsonReader)
    cdef value_done(self, Py_ssize_t i)
    @cython.final
    @cython.locals(end=Py_ssize_t)
    cdef Py_ssize_t structure(self, str text, Py_ssize_t i, Py_ssize_t limit, Py_UCS4 c, int state) except -1
    @cython.final
    cdef Py_ssize_t end_object(self, Py_ssize_t i) except -1
    @cython.final
    @cython.locals(size=Py_ssize_t)
    cdef key_done(self, str text, Py_ssize_t start, Py_ssize_t stop)
