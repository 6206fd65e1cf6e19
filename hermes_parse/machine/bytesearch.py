"""Reading a column of UTF-8 bytes: ``parse_utf8``'s search for a tag, and its rows.

``parse_utf8`` looks for the next ``<tool_call>`` in a whole slice of a
column (megabytes), once for each row that holds one.  ``bytes.find`` does
it by the two-way algorithm, set up anew on every call, at about a third of
a nanosecond a byte, and through Python's argument parsing: in all more
than the parse of a short row.  The tag starts with "<", which text holds
rarely, so the compiled twin finds each "<" by ``memchr`` (many bytes an
instruction) and compares the tag there.

That C loop cannot be written as Python, so this module is plain (never
compiled) and the twins differ here only: the compiled envelope ``cimport``s
the inline ``find_tag`` of ``bytesearch.pxd`` and calls it as
``bytesearch.find_tag`` (``cimport`` and ``import`` under one name, as
Cython code does with numpy), and the pure twin calls the function below.
Both return the first start of ``tag`` in ``data`` at or after ``start``, -1
if none (``tests/test_batch.py`` holds the compiled one to ``bytes.find``).

The compiled twin also reads the column where it lies (an Arrow buffer, the
command's bytearray), as a typed memoryview: ``column_bytes`` hands it over
as it is and ``row_text`` decodes a row from it, where the pure twin needs
``bytes`` (a copy) to slice and search.
"""


def column_bytes(data: object) -> bytes:
    """The column as the pure envelope reads it: ``bytes`` (the compiled one
    reads any buffer in place)."""
    return data if type(data) is bytes else bytes(data)  # type: ignore[call-overload]


def row_text(data: bytes, start: int, stop: int) -> str:
    """Row ``data[start:stop]`` decoded (invalid UTF-8 as U+FFFD)."""
    return data[start:stop].decode("utf-8", "replace")


def find_tag(data: bytes, tag: bytes, start: int) -> int:
    """Where ``tag`` first starts in ``data`` at or after ``start`` (-1: nowhere)."""
    return data.find(tag, start)
