# Types for _machine_c.py, the link to _machine_py.py that setup.py compiles.
# Everything the per-character loops touch is a C int, a Py_UCS4 or a typed
# attribute, so Cython turns them into plain C.
import cython

cdef int M_DISCARD, M_ENCODE, M_RAW, M_DECODE
cdef int RUNNING, DONE, FAILED
cdef int R_VALUE, R_ARR_FIRST, R_OBJ_FIRST, R_OBJ_KEY, R_COLON, R_AFTER, R_STR
cdef int R_ESC, R_HEX, R_STR_HIGH, R_NUM, R_LIT, R_DONE, R_FAILED, R_OCT, R_NAMED
cdef int N_START, N_SIGN, N_ZERO, N_INT, N_DOT, N_FRAC, N_E, N_ESIGN, N_EXP
cdef int S_TEXT_WS, S_TEXT, S_TAG, S_OPEN, S_FENCE, S_FENCE_INFO, S_OPEN_FENCED
cdef int S_KEY, S_KEYSTR, S_COLON, S_VALUE_START, S_VALUE, S_AFTER_VALUE
cdef int S_AFTER_OBJ, S_CLOSE_FENCE, S_END_TAG, S_SKIP
cdef int V_KEY, V_NAME, V_ARGS, V_ARGS_STR, V_ARGS_OTHER, V_DUPLICATE, V_OTHER
cdef str OPEN_TAG, CLOSE_TAG
cdef Py_ssize_t OPEN_TAG_LEN, CLOSE_TAG_LEN
cdef Py_ssize_t KEY_CAPTURE_CAP, NAME_CAPTURE_CAP, DEFAULT_MAX_BUFFER, NO_LIMIT
cdef dict SHORT_ESCAPES
cdef object parse_float
cdef object Message, Problem, ToolCall, ClosedError, random_call_id, unicodedata, tool_names


cdef bint starts_value(Py_UCS4 c, bint python)


@cython.final
cdef class JsonReader:
    cdef public int status
    cdef public int state
    cdef public int mode
    cdef public list out
    cdef public JsonReader inner
    cdef public list stack
    cdef public list num_parts
    cdef public bint object_only
    cdef public Py_ssize_t capture_cap
    cdef public Py_ssize_t captured
    cdef public bint overflow
    cdef public bint started
    cdef public bint is_key
    cdef public bint python
    cdef public bint comma
    cdef public Py_UCS4 quote
    cdef public int hex_need
    cdef public str lit_out
    cdef public long high
    cdef public int hex_count
    cdef public long hex_value
    cdef public int num_state
    cdef public bint num_float
    cdef public str lit
    cdef public Py_ssize_t lit_pos
    cdef public str error

    cdef reset(self, int mode, list out, JsonReader inner, bint object_only, Py_ssize_t capture_cap, bint python)
    @cython.locals(inner=JsonReader, size=Py_ssize_t, stop=Py_ssize_t)
    cdef put(self, str piece)
    cdef code_point(self, long code)
    cdef lone_surrogate(self, long code)
    @cython.locals(text=str, value=double)
    cdef end_number(self, str s, Py_ssize_t run, Py_ssize_t i)
    cdef fail(self, str message)
    @cython.locals(
        i=Py_ssize_t, raw_from=Py_ssize_t, run=Py_ssize_t, pos=Py_ssize_t,
        size=Py_ssize_t, state=int, num_state=int, mode=int, digit=int,
        code=long, high=long, c=Py_UCS4, quote=Py_UCS4, writes=bint, ended=bint,
        lit=str, python=bint, name=str,
    )
    cdef Py_ssize_t feed(self, str s, Py_ssize_t start, Py_ssize_t end) except -1
    cdef finish(self)


@cython.final
cdef class StreamParser:
    cdef public list problems
    cdef public Py_ssize_t calls_finished
    cdef int _args_mode
    cdef object _tools
    cdef bint _unknown_as_content
    cdef object _call_id
    cdef Py_ssize_t _max_buffer
    cdef list _deltas
    cdef bint _collect
    cdef list _collected
    cdef list _content
    cdef list _args
    cdef list _capture
    cdef list _held_ws
    cdef list _held_raw
    cdef list _pending_problems
    cdef JsonReader _reader
    cdef JsonReader _inner
    cdef bint _closed
    cdef Py_ssize_t _offset
    cdef int _state
    cdef Py_ssize_t _hold_end
    cdef bint _holding
    cdef Py_ssize_t _raw_start
    cdef Py_ssize_t _tag_pos
    cdef str _tag
    cdef Py_ssize_t _tag_size
    cdef Py_ssize_t _tag_start
    cdef bint _tag_after_skip
    cdef int _fence
    cdef Py_ssize_t _calls
    cdef Py_ssize_t _block_start
    cdef bint _decided
    cdef Py_ssize_t _index
    cdef bint _first_key
    cdef bint _have_name
    cdef bint _have_args
    cdef bint _args_sent
    cdef int _role
    cdef Py_ssize_t _value_start
    cdef Py_UCS4 _value_char
    cdef Py_ssize_t _skip_start
    cdef str _skip_kind
    cdef str _skip_detail
    cdef bint _fenced
    cdef bint _python
    cdef bint _failed_open
    cdef Py_ssize_t _failed_start
    cdef str _failed_kind
    cdef str _failed_detail

    cdef _reset_block(self)
    cdef list _take(self)
    @cython.locals(args=list, text=str)
    cdef _flush_args(self)
    cdef _problem(self, str kind, Py_ssize_t offset, Py_ssize_t length, str detail)
    cdef _begin_block(self, Py_ssize_t i)
    cdef _not_a_call(self, str text, Py_ssize_t i, str kind, str detail)
    cdef _start_call(self, str text, Py_ssize_t i)
    cdef _defect(self, str text, Py_ssize_t i, str kind, str detail)
    cdef _end_skip(self, Py_ssize_t end)
    cdef _end_failed(self, Py_ssize_t end)
    cdef _end_call(self)
    cdef _end_of_text(self)
    @cython.locals(
        n=Py_ssize_t, i=Py_ssize_t, j=Py_ssize_t, limit=Py_ssize_t,
        pos=Py_ssize_t, size=Py_ssize_t, state=int, c=Py_UCS4, reader=JsonReader,
        tag=str,
    )
    cdef _process(self, str text)
    cdef _flush_held_text(self)
    @cython.locals(pos=Py_ssize_t)
    cdef Py_ssize_t _structure(self, str text, Py_ssize_t i, Py_UCS4 c, int state) except -1
    cdef Py_ssize_t _end_object(self, str text, Py_ssize_t i) except -1
    cdef _key_done(self)
    @cython.locals(role=int, reader=JsonReader, python=bint, quote=bint)
    cdef _start_value(self, str text, Py_ssize_t i, Py_UCS4 c)
    @cython.locals(role=int, start=Py_ssize_t, length=Py_ssize_t, inner=JsonReader)
    cdef _value_done(self, str text, Py_ssize_t i)
