"""The numbers the machine's modules share: reader modes and status, the
events a body grammar returns to the envelope, and the types of parameters.

A plain module, never compiled: each compiled module copies the numbers it
uses into C ints at import (declared ``cdef int`` in its ``.pxd``), so the
loops compare C ints, and both twins read them from here.
"""

# How a JsonReader writes what it reads (reader.py).
M_DISCARD = 0
M_ENCODE = 1
M_RAW = 2
M_DECODE = 3

# JsonReader.status.
RUNNING = 0
DONE = 1
FAILED = 2

# Body.event: why a body grammar's feed() returned before its limit.
EV_NONE = 0  # it read up to the limit: need more input
EV_NAME = 1  # the call's name is complete (Body.name): the envelope decides the block's fate
EV_DEFECT = 2  # invalid input (Body.kind, Body.detail, from Body.defect_at)
EV_TAG = 3  # the body is over and a '<' follows: a closing (or next opening) tag may start
EV_END = 4  # the body read its block's closing itself ("</tool_call>", or the
# "</function>" of a bare block): the call is over, content follows

# A parameter's type, from the called tool's JSON Schema (``_tools.param_types``):
# how a body writes a value the model wrote as text (``values.py``).
T_ANY = 0  # no schema, or no type in it
T_STRING = 1
T_INTEGER = 2
T_NUMBER = 3
T_BOOLEAN = 4
T_OBJECT = 5
T_ARRAY = 6
T_NULL = 7
T_NULLABLE = 16  # a flag: null is allowed too (``code & 15`` is the type)

# parse_utf8: what each row of a UTF-8 column is (hermes_parse.arrow reads them).
ROW_NULL = 0  # a null: a null record
ROW_TEXT = 1  # no block can start in it: its content is its own text
ROW_BLANK = 2  # no block, whitespace alone: its content is null
ROW_PARSED = 3  # parsed: its results are the batch's next record
