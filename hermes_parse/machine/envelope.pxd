# Types for envelope.py, compiled as hermes_parse.machine.envelope.
import cython

cimport hermes_parse.machine.bytesearch as bytesearch
from hermes_parse.machine.body cimport Body
from hermes_parse.machine.sink cimport Sink
from hermes_parse.machine.values cimport skip_blank

cdef int EV_DEFECT, EV_END, EV_NAME, EV_NONE, EV_TAG, M_ENCODE, M_RAW
cdef int S_TEXT_WS, S_TEXT, S_TAG, S_BODY, S_END_TAG, S_SKIP, S_THINK, S_THINK_TAG, S_PICK
cdef int REASONING_OFF, REASONING_ON, REASONING_OPEN
cdef int ROW_NULL, ROW_TEXT, ROW_BLANK, ROW_PARSED
cdef bytes OPEN_TAG_UTF8, BARE_TAG_UTF8
cdef str OPEN_TAG, CLOSE_TAG, THINK_TAG, END_THINK_TAG, BARE_TAG, AUTO
cdef Py_ssize_t OPEN_TAG_LEN, CLOSE_TAG_LEN, THINK_TAG_LEN, END_THINK_TAG_LEN, BARE_TAG_LEN
cdef Py_ssize_t DEFAULT_MAX_BUFFER, NO_LIMIT
cdef dict BODIES
cdef object Message, Problem, ClosedError, random_call_id, random_call_ids, tool_names, param_types, Batch, truncated_call
cdef object new_sink, index


@cython.final
cdef class StreamParser:
    cdef public list problems
    cdef int _args_mode
    cdef object _tools
    cdef bint _unknown_as_content
    cdef object _call_id
    cdef public bint _ids_later
    cdef Py_ssize_t _max_buffer
    cdef bint _python
    cdef str _dialect
    cdef bint _auto
    cdef public bint _bare
    cdef dict _bodies
    cdef object _types
    cdef public int _reasoning
    cdef bint _think_allowed
    cdef Sink _sink
    cdef list _held_ws
    cdef str _held_tag
    cdef list _held_raw
    cdef list _pending_problems
    cdef Body _body
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
    cdef Py_ssize_t _calls
    cdef bint _failed_open
    cdef bint _bare_block
    cdef Py_ssize_t _failed_start
    cdef str _failed_kind
    cdef str _failed_detail
    cdef Py_ssize_t _block_start
    cdef bint _decided
    cdef Py_ssize_t _index
    cdef Py_ssize_t _skip_start
    cdef str _skip_kind
    cdef str _skip_detail
    cdef list _out_content, _out_reasoning, _out_valid, _out_call_offsets
    cdef list _out_problem_offsets, _out_problem_kinds

    cdef _restart(self)
    @cython.locals(text=str)
    cpdef _run_many(self, texts, str truncated, batch)
    @cython.locals(
        max_buffer=Py_ssize_t, count=Py_ssize_t, size=Py_ssize_t, row=Py_ssize_t,
        start=Py_ssize_t, stop=Py_ssize_t, at=Py_ssize_t, open_at=Py_ssize_t, bare_at=Py_ssize_t,
    )
    cpdef _run_utf8(
        self, const unsigned char[::1] data, const int[:] offsets, const unsigned char[:] valid, bytearray rows,
        str truncated, batch,
    )
    @cython.locals(sink=Sink, content=str, cut=Py_ssize_t, first=Py_ssize_t)
    cdef _parse_record(self, str text, str truncated, batch)
    cdef _write_to(self, batch)
    cdef _record(self, content, reasoning, bint valid)
    cdef _reset_block(self)
    cdef _problem(self, str kind, Py_ssize_t offset, Py_ssize_t length, str detail)
    cdef _begin_block(self, Py_ssize_t i, bint bare)
    @cython.locals(body=Body)
    cdef _begin_body(self, str dialect, bint bare)
    cdef _not_a_call(self, str text, Py_ssize_t i, str kind, str detail)
    cdef _end_failed(self, Py_ssize_t end)
    @cython.locals(body=Body, index=Py_ssize_t, unknown=bint)
    cdef _start_call(self, str text, Py_ssize_t i)
    cdef _end_skip(self, Py_ssize_t end)
    cdef _end_call(self)
    @cython.locals(body=Body, cut=bint)
    cdef _end_of_text(self)
    @cython.locals(body=Body, event=int)
    cdef _body_event(self, str text, Py_ssize_t i)
    @cython.locals(
        n=Py_ssize_t, i=Py_ssize_t, j=Py_ssize_t, limit=Py_ssize_t,
        pos=Py_ssize_t, size=Py_ssize_t, state=int, c=Py_UCS4, body=Body,
        tag=str, content=list,
    )
    cdef _process(self, str text)
    @cython.locals(pos=Py_ssize_t, size=Py_ssize_t)
    cdef Py_ssize_t _think_tag(self, str text, Py_ssize_t i, Py_ssize_t limit) except -1
    @cython.locals(pos=Py_ssize_t, size=Py_ssize_t, tag=str)
    cdef Py_ssize_t _match_tag(self, str text, Py_ssize_t i, Py_ssize_t limit, str closing) except -1
    cdef _flush_held_text(self)
    @cython.locals(pos=Py_ssize_t, c=Py_UCS4)
    cdef Py_ssize_t _end_tag(self, str text, Py_ssize_t i) except -1


cdef bint no_block(str text, bint bare) except -1
@cython.locals(n=Py_ssize_t)
cdef plain_content(str text, Py_ssize_t max_buffer)
