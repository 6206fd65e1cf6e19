# Types for glm.py, compiled as hermes_parse.machine.glm.
import cython

from hermes_parse.machine.body cimport Body
from hermes_parse.machine.reader cimport JsonReader
from hermes_parse.machine.values cimport escape_into, json_value

cdef int EV_END, EV_NAME, EV_NONE, EV_TAG, T_ANY, T_NULLABLE, T_STRING
cdef int G_START, G_NAME, G_SEP, G_TAG, G_KEY, G_KEY_TAG, G_VALUE, G_CLOSE, G_CLOSE_WS
cdef int G_NEXT, G_END, G_DONE
cdef int W_STRING, W_MAYBE_NULL, W_HELD
cdef str KEY_OPEN, KEY_CLOSE, VALUE_OPEN, VALUE_CLOSE, CALL_CLOSE
cdef tuple AFTER_NAME, AFTER_KEY, IN_KEY, KEY_START, IN_VALUE, AFTER_CLOSE
cdef Py_ssize_t NAME_CAPTURE_CAP
cdef tuple TYPE_NAMES
cdef object new_reader


# Not final as a class (Cython then forbids overriding Body's methods here);
# the methods of its own are.
cdef class GlmBody(Body):
    cdef public JsonReader reader
    cdef public list capture
    cdef public list held
    cdef public list spaces
    cdef public set seen
    cdef public int state
    cdef public Py_ssize_t base
    cdef public bint backslash
    cdef public Py_ssize_t name_length
    cdef public bint after_name
    cdef public tuple tags
    cdef public str tag
    cdef public Py_ssize_t tag_pos
    cdef public Py_ssize_t tag_at
    cdef public dict tool_types
    cdef public str key
    cdef public str key_json
    cdef public Py_ssize_t key_at
    cdef public bint in_pair
    cdef public bint opened
    cdef public int code
    cdef public int write
    cdef public str null_text
    cdef public Py_ssize_t value_at
    cdef public str closer
    cdef public Py_ssize_t close_at
    cdef public Py_ssize_t next_at

    cdef begin(self, list args, int args_mode, bint python, bint bare)
    @cython.locals(state=int, j=Py_ssize_t, c=Py_UCS4)
    cdef Py_ssize_t feed(self, str text, Py_ssize_t i, Py_ssize_t limit, Py_ssize_t base) except -1
    @cython.locals(state=int)
    cdef bint finish(self) except -1
    @cython.final
    cdef start_name(self, Py_ssize_t i)
    @cython.final
    @cython.locals(start=Py_ssize_t, c=Py_UCS4)
    cdef Py_ssize_t read_name(self, str text, Py_ssize_t i, Py_ssize_t limit) except -1
    @cython.final
    cdef Py_ssize_t end_name(self, Py_ssize_t i, bint tag) except -1
    @cython.final
    cdef start_tag(self, tuple tags, Py_ssize_t at)
    @cython.final
    @cython.locals(tag=str, pos=Py_ssize_t, size=Py_ssize_t, c=Py_UCS4)
    cdef Py_ssize_t match(self, str text, Py_ssize_t i, Py_ssize_t limit) except -1
    @cython.final
    @cython.locals(state=int, tag=str)
    cdef Py_ssize_t tag_done(self, Py_ssize_t i) except -1
    @cython.final
    @cython.locals(state=int)
    cdef Py_ssize_t tag_failed(self, str text, Py_ssize_t i) except -1
    @cython.final
    cdef sep_defect_at(self, Py_ssize_t at, Py_ssize_t i, str detail)
    @cython.final
    cdef start_key(self, Py_ssize_t i)
    @cython.final
    @cython.locals(key=str, quoted=list, code=int, types=dict)
    cdef end_key(self)
    @cython.final
    cdef write_key(self)
    @cython.final
    @cython.locals(code=int)
    cdef start_value(self, Py_ssize_t i)
    @cython.final
    @cython.locals(write=int)
    cdef value_text(self, str text, Py_ssize_t start, Py_ssize_t stop)
    @cython.final
    cdef value_str(self, str piece)
    @cython.final
    @cython.locals(held=str)
    cdef maybe_null(self, str piece)
    @cython.final
    @cython.locals(write=int, args=list, held=str, text=str, code=int, value=str)
    cdef end_value(self, bint cut)
    @cython.final
    @cython.locals(write=int, held=str)
    cdef cut_value(self)
    @cython.final
    @cython.locals(start=Py_ssize_t, c=Py_UCS4)
    cdef Py_ssize_t close_spaces(self, str text, Py_ssize_t i, Py_ssize_t limit) except -1
    @cython.final
    @cython.locals(piece=str)
    cdef release_close(self)
    @cython.final
    cdef missing_close(self)


@cython.locals(other=str, k=Py_ssize_t)
cdef str other_tag(tuple tags, str tag, Py_ssize_t pos, Py_UCS4 c)
