# Types for reader.py, compiled as hermes_parse.machine.reader.  Everything the
# per-character loop touches is a C int, a Py_UCS4 or a typed attribute.
import cython

cdef int M_DISCARD, M_ENCODE, M_RAW, M_DECODE
cdef int RUNNING, DONE, FAILED
cdef int R_VALUE, R_ARR_FIRST, R_OBJ_FIRST, R_OBJ_KEY, R_COLON, R_AFTER, R_STR
cdef int R_ESC, R_HEX, R_STR_HIGH, R_NUM, R_LIT, R_DONE, R_FAILED, R_OCT, R_NAMED
cdef Py_ssize_t STACK_KEPT
cdef int N_START, N_SIGN, N_ZERO, N_INT, N_DOT, N_FRAC, N_E, N_ESIGN, N_EXP
cdef dict SHORT_ESCAPES
cdef object parse_float, unicodedata


cdef bint starts_value(Py_UCS4 c, bint python)
@cython.locals(stop=Py_ssize_t, j=Py_ssize_t, c=Py_UCS4)
cpdef Py_ssize_t plain_string_end(str s, Py_ssize_t i, Py_ssize_t limit, Py_ssize_t cap) except -2


@cython.final
cdef class JsonReader:
    cdef public int status
    cdef public int state
    cdef public int mode
    cdef public list out
    cdef public JsonReader inner
    cdef public list stack
    cdef public Py_ssize_t depth
    cdef public list num_parts
    cdef public list name_parts
    cdef public bint object_only
    cdef public Py_ssize_t capture_cap
    cdef public Py_ssize_t captured
    cdef public bint overflow
    cdef public bint started
    cdef public bint is_key
    cdef public bint python
    cdef public bint comma
    cdef public Py_UCS4 quote
    cdef public str lit_out
    cdef public long long high
    cdef public int escape_need
    cdef public int escape_digits
    cdef public long long escape_value
    cdef public Py_ssize_t name_length
    cdef public int num_state
    cdef public bint num_float
    cdef public str lit
    cdef public Py_ssize_t lit_pos
    cdef public str error
    cdef public bint colon
    cdef public str verbatim_text
    cdef public Py_ssize_t verbatim_from
    cdef public Py_ssize_t verbatim_to

    cdef reset(self, int mode, list out, JsonReader inner, bint object_only, Py_ssize_t capture_cap, bint python)
    cdef same(self, Py_ssize_t start, Py_ssize_t stop)
    @cython.locals(inner=JsonReader, size=Py_ssize_t, stop=Py_ssize_t)
    cdef put(self, str piece)
    cdef push(self, bint is_object)
    cdef code_point(self, long long code)
    cdef lone_surrogate(self, long long code)
    @cython.locals(text=str, written=str, value=double)
    cdef end_number(self, str s, Py_ssize_t run, Py_ssize_t i)
    cdef fail(self, str message)
    @cython.locals(
        i=Py_ssize_t, raw_from=Py_ssize_t, run=Py_ssize_t, pos=Py_ssize_t,
        size=Py_ssize_t, state=int, num_state=int, mode=int, digit=int,
        code=cython.longlong, high=cython.longlong, c=Py_UCS4, quote=Py_UCS4, writes=bint, ended=bint,
        lit=str, python=bint, name=str, comma_at=Py_ssize_t, colon_at=Py_ssize_t,
    )
    cdef Py_ssize_t feed(self, str s, Py_ssize_t start, Py_ssize_t end) except -1
    cdef finish(self)
