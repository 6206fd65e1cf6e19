# Types for sink.py, compiled as hermes_parse.machine.sink.
import cython

cdef object Message, ToolCall


@cython.final
cdef class Sink:
    cdef public bint collect
    cdef public bint columns
    cdef public list content
    cdef public list reasoning
    cdef public list args
    cdef public list deltas
    cdef public list call_ids
    cdef public list call_names
    cdef public list call_arguments
    cdef public Py_ssize_t index
    cdef public bint args_sent
    cdef public Py_ssize_t calls_finished

    cdef restart(self)
    cdef list take(self, bint in_call)
    cdef flush_text(self)
    @cython.locals(args=list, text=str)
    cdef flush_args(self)
    cdef open_call(self, Py_ssize_t index, object call_id, str name)
    @cython.locals(args=list)
    cdef close_call(self)
    cdef message(self, list problems)
