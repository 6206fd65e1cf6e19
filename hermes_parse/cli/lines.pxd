# Types for lines.py, compiled as hermes_parse.cli.lines.
import cython

ctypedef const unsigned char* Bytes

cdef int LINE_SLOW, LINE_TEXT, LINE_SAME, MAX_DEPTH, MAX_NUMBER, LINE_ROOM
cdef Py_ssize_t MAX_COLUMN
cdef int K_OTHER, K_CHOICES, K_COMPLETION, K_MESSAGE, K_CONTENT, K_TOOL_CALLS
cdef int ROW_BLANK, ROW_TEXT
cdef bytes MESSAGE_HEAD, MESSAGE_TAIL, BLANK_MESSAGE, PLAIN_BYTES, NEWLINE

cdef Py_ssize_t _skip_blank(Bytes p, Py_ssize_t i, Py_ssize_t n)
@cython.locals(at=Py_ssize_t, size=Py_ssize_t)
cdef bint _same_bytes(Bytes p, Py_ssize_t start, Py_ssize_t stop, bytes word)
cdef bint _lower_hex(Bytes p, Py_ssize_t i)
@cython.locals(a=int, b=int, c=int, d=int)
cdef int _hex4(Bytes p, Py_ssize_t i, Py_ssize_t n)
cdef int _hex(unsigned char c)
cdef Py_ssize_t _put_utf8(unsigned char* q, Py_ssize_t size, int code)
@cython.locals(at=Py_ssize_t)
cdef inline Py_ssize_t _copy(unsigned char* q, Py_ssize_t end, Bytes p, Py_ssize_t start, Py_ssize_t stop)
cdef bytearray NO_COLUMN
@cython.locals(start=Py_ssize_t)
cdef Py_ssize_t _number(Bytes p, Py_ssize_t i, Py_ssize_t n)


cdef class LineScanner:
    cdef bint string_same, string_escaped, text_same, taken, closed
    cdef Py_ssize_t text_start, text_stop, text_end, copy_end
    cdef Py_ssize_t candidate_start, candidate_stop, candidate_end
    cdef bint candidate_same
    cdef int key
    cdef public Py_ssize_t size, taken_lines, stop
    cdef unsigned char* column

    @cython.locals(p=Bytes, n=Py_ssize_t, room=Py_ssize_t, taken=Py_ssize_t, k=Py_ssize_t, at=Py_ssize_t,
                   end=Py_ssize_t, code=int)
    cpdef Py_ssize_t scan(self, bytes data, Py_ssize_t start, bytearray column, int[::1] offsets, int[::1] spans,
                          unsigned char[::1] codes, int[::1] bounds) except -1
    cdef Py_ssize_t _line(self, Bytes p, Py_ssize_t i, Py_ssize_t n)
    @cython.locals(stop=Py_ssize_t)
    cdef Py_ssize_t _key(self, Bytes p, Py_ssize_t i, Py_ssize_t n, int level)
    @cython.locals(seen_choices=int, choices_keys=int, completion_keys=int, completion_start=Py_ssize_t,
                   completion_stop=Py_ssize_t, completion_end=Py_ssize_t, completion_same=bint, key=int)
    cdef Py_ssize_t _record(self, Bytes p, Py_ssize_t i, Py_ssize_t n)
    @cython.locals(first=bint)
    cdef Py_ssize_t _choices(self, Bytes p, Py_ssize_t i, Py_ssize_t n)
    @cython.locals(messages=int)
    cdef Py_ssize_t _choice(self, Bytes p, Py_ssize_t i, Py_ssize_t n)
    @cython.locals(contents=int, calls=int, start=Py_ssize_t, stop=Py_ssize_t, end=Py_ssize_t, same=bint,
                   key=int, at=Py_ssize_t)
    cdef Py_ssize_t _message(self, Bytes p, Py_ssize_t i, Py_ssize_t n)
    @cython.locals(c=cython.uchar, close=cython.uchar)
    cdef Py_ssize_t _value(self, Bytes p, Py_ssize_t i, Py_ssize_t n, int depth)
    cdef Py_ssize_t _next_item(self, Bytes p, Py_ssize_t i, Py_ssize_t n, int close)
    cdef Py_ssize_t _candidate(self, Bytes p, Py_ssize_t i, Py_ssize_t n, int depth)
    cdef void _take_text(self, Py_ssize_t start, Py_ssize_t stop, Py_ssize_t end, bint same)
    cdef Py_ssize_t _string(self, Bytes p, Py_ssize_t i, Py_ssize_t n)
    cdef Py_ssize_t _text_string(self, Bytes p, Py_ssize_t i, Py_ssize_t n)
    @cython.locals(same=bint, escaped=bint, c=cython.uchar, code=int, low=int, high=int, plain=Bytes,
                   q=cython.p_uchar, end=Py_ssize_t, run=Py_ssize_t)
    cdef Py_ssize_t _read_string(self, Bytes p, Py_ssize_t i, Py_ssize_t n, bint copy)


cdef bytes QUOTE
@cython.locals(p=Bytes, i=Py_ssize_t, c=cython.uchar, n=Py_ssize_t, escapes=Py_ssize_t, written=bytearray,
               q=cython.p_uchar, end=Py_ssize_t)
cdef int _put_utf8_string(list parts, bytes data, object text, object dumps_string) except -1
@cython.locals(start=Py_ssize_t, stop=Py_ssize_t, at=Py_ssize_t)
cdef dict _message(batch, Py_ssize_t record, list ids)


cdef class MessageWriter:
    cdef bytes data
    cdef list ids, content, call_offsets, names, arguments
    cdef bytearray codes, rows, column
    cdef int[::1] spans, offsets
    cdef object batch, dumps_string, dumps_line
    cdef Py_ssize_t taken, record

    @cython.locals(at=Py_ssize_t, row=Py_ssize_t, kind=int, text=bytes)
    cpdef write(self, list parts, Py_ssize_t start, Py_ssize_t stop)
    @cython.locals(record=Py_ssize_t, mark=Py_ssize_t, start=Py_ssize_t, stop=Py_ssize_t, at=Py_ssize_t)
    cdef _write_parsed(self, list parts)
    cdef _put_text(self, list parts, str text)
