"""Where a tag starts in a column of UTF-8 bytes: ``parse_utf8``'s search.

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
"""


def find_tag(data: bytes, tag: bytes, start: int) -> int:
    """Where ``tag`` first starts in ``data`` at or after ``start`` (-1: nowhere)."""
    return data.find(tag, start)
