# Types for values.py, compiled as hermes_parse.machine.values.
import cython

from hermes_parse.machine.reader cimport JsonReader

cdef int DONE, M_ENCODE, RUNNING
cdef int T_ANY, T_ARRAY, T_BOOLEAN, T_INTEGER, T_NULLABLE, T_NUMBER, T_OBJECT, T_STRING
cdef list ESCAPES


@cython.locals(run=Py_ssize_t, i=Py_ssize_t, c=Py_UCS4)
cpdef escape_into(list out, str text, Py_ssize_t start, Py_ssize_t stop)
cdef bint is_blank(Py_UCS4 c)
@cython.locals(c=Py_UCS4)
cpdef Py_ssize_t skip_blank(str text, Py_ssize_t i, Py_ssize_t limit) except -1
@cython.locals(kind=int, start=Py_ssize_t, stop=Py_ssize_t, c=Py_UCS4, python=bint, end=Py_ssize_t, out=list)
cpdef str json_value(str text, int code, JsonReader reader)
