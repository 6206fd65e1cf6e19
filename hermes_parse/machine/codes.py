"""The numbers the machine's modules share: reader modes and status, and the
events a body grammar returns to the envelope.

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
