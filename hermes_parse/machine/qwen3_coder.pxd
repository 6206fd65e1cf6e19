# Types for qwen3_coder.py, compiled as hermes_parse.machine.qwen3_coder.
import cython

from hermes_parse.machine.body cimport Body
from hermes_parse.machine.reader cimport JsonReader
from hermes_parse.machine.values cimport escape_into, json_value, skip_blank

cdef int EV_END, EV_NAME, EV_NONE, EV_TAG, T_ANY, T_NULLABLE, T_STRING
cdef int Q_OPEN, Q_OPEN_TAG, Q_NAME, Q_BETWEEN, Q_BETWEEN_TAG, Q_PNAME, Q_VALUE
cdef int Q_VALUE_TAG, Q_CLOSE_WS, Q_CLOSE_TAG, Q_AFTER, Q_DONE, Q_END
cdef str FUNCTION_OPEN, PARAM_OPEN, PARAM_CLOSE, FUNCTION_CLOSE, CALL_CLOSE, LT, LT_SLASH
cdef int A_PARAM_OPEN, A_PARAM_CLOSE, A_FUNCTION_CLOSE, A_CALL_CLOSE, A_ENDS
cdef Py_ssize_t NAME_CAPTURE_CAP
cdef tuple TYPE_NAMES
cdef object new_reader


cdef class Qwen3CoderBody(Body):
    cdef public JsonReader reader
    cdef public list capture
    cdef public list parts
    cdef public list spaces
    cdef public set seen
    cdef public bint bare
    cdef public int state
    cdef public Py_ssize_t base
    cdef public str tag
    cdef public Py_ssize_t tag_pos
    cdef public Py_ssize_t tag_at
    cdef public bint failed
    cdef public int allow
    cdef public Py_ssize_t name_at
    cdef public bint unsent
    cdef public Py_ssize_t name_length
    cdef public str param
    cdef public bint opened
    cdef public int code
    cdef public bint streams
    cdef public bint maybe_null
    cdef public str null_text
    cdef public bint at_start
    cdef public bint line_start
    cdef public bint held_newline
    cdef public Py_ssize_t close_at
    cdef public Py_ssize_t read_to

    cdef begin(self, list args, int args_mode, bint python, bint bare)
    @cython.locals(state=int, j=Py_ssize_t, allow=int, c=Py_UCS4)
    cdef Py_ssize_t feed(self, str text, Py_ssize_t i, Py_ssize_t limit, Py_ssize_t base) except -1
    @cython.locals(state=int)
    cdef bint finish(self) except -1
    @cython.final
    @cython.locals(pos=Py_ssize_t)
    cdef Py_ssize_t open_tag(self, str text, Py_ssize_t i, Py_ssize_t limit) except -1
    @cython.final
    cdef start_name(self, Py_ssize_t at)
    @cython.final
    @cython.locals(start=Py_ssize_t, room=Py_ssize_t, c=Py_UCS4, name=str)
    cdef Py_ssize_t read_name(self, str text, Py_ssize_t i, Py_ssize_t limit) except -1
    @cython.final
    cdef bad_name(self, Py_ssize_t i, str detail)
    @cython.final
    cdef start_tag(self, Py_ssize_t at, int allow)
    @cython.final
    @cython.locals(tag=str, pos=Py_ssize_t, allow=int, c=Py_UCS4)
    cdef Py_ssize_t match(self, str text, Py_ssize_t i, Py_ssize_t limit) except -1
    @cython.final
    @cython.locals(state=int, prefix=str)
    cdef tag_failed(self, Py_ssize_t i)
    @cython.final
    @cython.locals(prefix=str, piece=str)
    cdef release_close(self, bint with_tag)
    @cython.final
    @cython.locals(tag=str, state=int)
    cdef tag_done(self, Py_ssize_t i)
    @cython.final
    cdef end_block(self)
    @cython.final
    cdef missing(self, str tag)
    @cython.final
    @cython.locals(at=Py_ssize_t, code=int, types=dict, params=dict, kind=int, args=list)
    cdef start_value(self, str param, Py_ssize_t i)
    @cython.final
    @cython.locals(last=Py_ssize_t)
    cdef value_text(self, str text, Py_ssize_t start, Py_ssize_t stop)
    @cython.final
    @cython.locals(held=str)
    cdef put(self, str text, Py_ssize_t start, Py_ssize_t stop)
    @cython.final
    @cython.locals(args=list, held=str, text=str, value=str)
    cdef end_value(self, Py_ssize_t end)
    @cython.final
    cdef cut_value(self, Py_ssize_t end)
    cdef end_object(self)
