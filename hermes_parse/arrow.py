"""Arrow in, Arrow out: parse a column of completions into columns of results.

>>> import pyarrow as pa, hermes_parse.arrow
>>> texts = pa.array(['<tool_call>{"name": "f", "arguments": {"x": 1}}</tool_call>', "hi", None])
>>> table = hermes_parse.arrow.parse(texts, call_id=hermes_parse.sequential_ids())
>>> table.column("tool_calls").to_pylist()
[[{'id': 'call_0', 'name': 'f', 'arguments': '{"x": 1}'}], [], None]

``parse(data, column=None, **options)`` takes a ``pyarrow`` string array
(``string``, ``large_string`` or ``string_view``), a ``ChunkedArray`` of one,
or a ``Table`` / ``RecordBatch`` and the name of its text column, and returns a
``pyarrow.Table`` with one row per input row, in order (``schema()``):

* ``content``: string, the text outside the calls (as ``Message.content``);
* ``reasoning``: string, the ``<think>`` block with ``reasoning=True`` or
  ``"open"`` (null otherwise);
* ``tool_calls``: ``list<struct<id, name, arguments: string>>``;
* ``problems``: ``list<struct<kind: string, offset, length, index: int64,
  detail: string>>`` (``index`` null for a problem of no call).

The options are ``parse()``'s (``arguments``, ``tools``, ``unknown_tool``,
``call_id``, ``max_buffer``, ``python_literals``, ``reasoning``,
``truncated``, ``dialect``); row ``i`` is what ``hermes_parse.parse(text_i, **options)``
returns (``call_id=hermes_parse.seeded_ids(seed)`` makes the ids repeatable).

Arrow strings are UTF-8: a lone surrogate in a result (only a JSON escape such
as ``"\\ud800"`` in a call gives one) is U+FFFD there.

A null text gives a null row: null ``content`` and ``reasoning``, and null
(not empty) ``tool_calls`` and ``problems`` lists, as SQL functions return
NULL for NULL.  A text without a call has an empty list, so ``tool_calls IS
NULL`` (no completion) and ``len(tool_calls) = 0`` (a completion without a
call) stay apart; ``UNNEST`` / ``explode`` give no rows for either.

``parse_batch(record_batch, column, **options)`` is the same for one
``RecordBatch``, returning a ``RecordBatch`` (a function to map over batches, as Spark's ``mapInArrow``
hands them; Ray Data's ``map_batches(..., batch_format="pyarrow")`` hands
``Table``s, which ``parse`` takes).  The output holds only the parsed columns; its rows line up
with the input's, so joining them back is positional
(``pl.concat([df, parsed], how="horizontal")``, ``Table.append_column``).

The texts are parsed over slices of at most 65,536 rows (and 256 MB of
text), so the output's string columns keep 32-bit offsets and memory is
bounded by the slice.  The machine reads each slice's UTF-8 bytes and
offsets as Arrow holds them (``parse_utf8`` of the core, which needs no
``pyarrow``): the tags are searched in the bytes, only the rows in which a
block may start (or every row with reasoning on) are decoded into Python
strings and parsed, and the other rows' content is their own text, taken
in Arrow without a Python object; the lists are built from the parsed
rows' flat columns and offsets, and the default random ids are drawn for a
whole slice at once, as an Arrow column (never as Python strings).

``pyarrow`` is the ``arrow`` extra (``pip install '.[arrow]'`` in a checkout),
imported when first needed; the core never imports this module.
"""

from __future__ import annotations

import binascii
from array import array as py_array  # (not the Arrow arrays this module is about)
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional

from ._types import _ID_LETTERS, _id_random
from .machine.codes import ROW_BLANK as _ROW_BLANK, ROW_PARSED as _ROW_PARSED

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]

__all__ = ["parse", "parse_batch", "schema"]

_SLICE_ROWS = 65536
_SLICE_BYTES = 256 * 1024 * 1024

_pyarrow: Any = None


def _pa() -> Any:
    global _pyarrow
    if _pyarrow is None:
        try:
            import pyarrow
            import pyarrow.compute  # type: ignore[import-untyped, unused-ignore]  # noqa: F401
        except ImportError as error:
            raise ImportError(
                "hermes_parse.arrow needs pyarrow: pip install pyarrow (the arrow extra: pip install '.[arrow]' in a checkout)"
            ) from error
        _pyarrow = pyarrow
    return _pyarrow


def schema() -> "pa.Schema":
    """The schema of ``parse``'s table (and ``parse_batch``'s batch)."""
    global _schema
    if _schema is None:  # made once: a batch of a few rows would spend a tenth of its time on it
        pa = _pa()
        call = pa.struct([("id", pa.string()), ("name", pa.string()), ("arguments", pa.string())])
        problem = pa.struct(
            [
                ("kind", pa.string()),
                ("offset", pa.int64()),
                ("length", pa.int64()),
                ("index", pa.int64()),
                ("detail", pa.string()),
            ]
        )
        _schema = pa.schema(
            [
                ("content", pa.string()),
                ("reasoning", pa.string()),
                ("tool_calls", pa.list_(call)),
                ("problems", pa.list_(problem)),
            ]
        )
    return _schema


_schema: Any = None


def _default_parse_utf8() -> Callable[..., Any]:
    from . import _machine  # the twin hermes_parse runs

    return _machine.parse_utf8


def _text_column(data: Any, column: Optional[str]) -> Any:
    """``data`` as a ChunkedArray (or Array) of strings."""
    pa = _pa()
    if isinstance(data, (pa.Table, pa.RecordBatch)):
        if column is None:
            raise TypeError("parse(table, column): name the text column")
        if column not in data.schema.names:
            raise KeyError(f"no column {column!r} in {data.schema.names}")
        data = data.column(column)
    elif column is not None:
        raise TypeError("column is for a Table or RecordBatch, not for an array")
    if not isinstance(data, (pa.Array, pa.ChunkedArray)):
        raise TypeError(
            "parse takes a pyarrow string array, ChunkedArray, Table or RecordBatch, "
            f"not {type(data).__name__}"
        )
    kind = data.type
    if not (
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_null(kind)
        or (hasattr(pa.types, "is_string_view") and pa.types.is_string_view(kind))
    ):
        raise TypeError(f"the text column must hold strings, not {kind}")
    return data


def _slices(array: Any) -> Iterator[Any]:
    """``array`` (one chunk) in slices of at most _SLICE_ROWS rows and about
    _SLICE_BYTES of text (a slice of one row may hold more)."""
    pc = _pa().compute
    pending = [array.slice(start, _SLICE_ROWS) for start in range(0, len(array), _SLICE_ROWS)]
    pending.reverse()
    while pending:
        piece = pending.pop()
        if len(piece) > 1:
            size = pc.sum(pc.binary_length(piece)).as_py() or 0
            if size > _SLICE_BYTES:
                half = len(piece) // 2
                pending.append(piece.slice(half))
                pending.append(piece.slice(0, half))
                continue
        yield piece


def _spread_offsets(offsets: list, parsed_before: Any) -> Any:
    """Offsets over all rows from ``offsets`` over the parsed rows only: row
    ``i`` starts where the first parsed row at or after it starts
    (``parsed_before[i]``: how many parsed rows come before row ``i``), so the
    other rows have no element."""
    pa = _pa()
    # (array("i") reads a list of ints faster than pa.array does)
    offsets = pa.Array.from_buffers(pa.int32(), len(offsets), [None, pa.py_buffer(py_array("i", offsets))])
    return pa.compute.take(offsets, parsed_before)


def _random_ids(count: int) -> Any:
    """``count`` default call ids as an Arrow string array: ``random_call_ids``'
    recipe (18 random bytes an id, base64, ``call_`` before them), never
    made into Python strings."""
    pa = _pa()
    if not count:
        return pa.array([], pa.string())
    letters = binascii.b2a_base64(_id_random.randbytes(18 * count), newline=False).translate(_ID_LETTERS)
    letters_each = pa.FixedSizeBinaryArray.from_buffers(pa.binary(24), count, [None, pa.py_buffer(letters)])
    ids = pa.compute.binary_replace_slice(letters_each.cast(pa.binary()), 0, 0, b"call_")
    # ASCII by construction: the same buffers as strings, not a checked cast.
    return pa.Array.from_buffers(pa.string(), count, ids.buffers())


def _utf8(text: Optional[str]) -> Optional[str]:
    """``text`` with each lone surrogate replaced by U+FFFD (Arrow strings are UTF-8)."""
    if text is None:
        return None
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _string_array(values: list) -> Any:
    pa = _pa()
    try:
        return pa.array(values, pa.string())
    except UnicodeEncodeError:
        # A lone surrogate, which only a JSON escape such as "\ud800" in a
        # call's name gives, cannot be UTF-8: U+FFFD stands for it.
        return pa.array([_utf8(value) for value in values], pa.string())


def _utf8_rows(texts: Any) -> tuple:
    """The arguments of ``parse_utf8`` for a ``string`` array: its text bytes (a buffer),
    its offsets from the first of them (int32), one byte a row for validity
    (``None`` without nulls)."""
    pa = _pa()
    pc = pa.compute
    n = len(texts)
    _, offsets_buffer, data_buffer = texts.buffers()
    offsets = pa.Array.from_buffers(pa.int32(), n + 1, [None, offsets_buffer], offset=texts.offset)
    first, last = offsets[0].as_py(), offsets[n].as_py()
    # The bytes in place (the compiled parser reads any buffer; the pure one copies them).
    data = data_buffer.slice(first, last - first) if data_buffer is not None and last > first else b""
    # From the first row's bytes: a new array, whose buffer starts at row 0.
    offsets = pc.subtract(offsets, pa.scalar(first, pa.int32()))
    valid = None
    if texts.null_count:
        valid = memoryview(pc.cast(texts.is_valid(), pa.uint8()).buffers()[1])[:n]
    return data, memoryview(offsets.buffers()[1]).cast("i")[: n + 1], valid


def _record_batch(texts: Any, parse_utf8: Callable[..., Any], options: dict) -> Any:
    pa = _pa()
    pc = pa.compute
    n = len(texts)
    if not pa.types.is_string(texts.type):
        texts = texts.cast(pa.string())  # a slice fits 32-bit offsets
    # The default ids are drawn here, as one Arrow column (draw_ids=False):
    # as Python strings they would cost more than the rest of this function.
    ids_here = options.get("call_id") is None
    batch, rows = parse_utf8(*_utf8_rows(texts), draw_ids=not ids_here, **options)
    # rows: what each row is (the machine's ROW_* codes); only the parsed
    # rows went through Python strings, the others' content is their text.
    # A code of no row (ROW_NULL) goes first, so that the running count of
    # parsed rows over the codes is parsed_before[i], the parsed rows before
    # row i (n + 1 of them, from 0): it spreads the parsed rows' list
    # offsets over every row.
    kinds = pa.Array.from_buffers(pa.uint8(), n + 1, [None, pa.py_buffer(bytes(1) + rows)])
    parsed_or_not = pc.equal(kinds, pa.scalar(_ROW_PARSED, pa.uint8()))
    parsed_before = pc.cumulative_sum(parsed_or_not.cast(pa.int32()))
    parsed = parsed_or_not.slice(1)
    kinds = kinds.slice(1)
    # Content is the text itself but in parsed rows (and null in blank
    # ones): the text bytes are copied once (twice with blank rows).
    content = texts
    if rows.count(_ROW_BLANK):
        content = pc.if_else(pc.equal(kinds, pa.scalar(_ROW_BLANK, pa.uint8())), pa.scalar(None, pa.string()), texts)
    content = pc.replace_with_mask(content, parsed, _string_array(batch.content))
    if options.get("reasoning") in (False, None):
        reasoning = pa.nulls(n, pa.string())
    else:
        reasoning = pc.replace_with_mask(pa.nulls(n, pa.string()), parsed, _string_array(batch.reasoning))
    call_offsets = _spread_offsets(batch.call_offsets, parsed_before)
    out = schema()
    call_type = out.field("tool_calls").type.value_type
    problem_type = out.field("problems").type.value_type
    calls = pa.StructArray.from_arrays(
        [
            _random_ids(len(batch.call_id)) if ids_here else _string_array(batch.call_id),
            _string_array(batch.call_name),
            _string_array(batch.call_arguments),
        ],
        fields=list(call_type),
    )
    if batch.problem_kind:
        problem_offsets = _spread_offsets(batch.problem_offsets, parsed_before)
        problems = pa.StructArray.from_arrays(
            [
                _string_array(batch.problem_kind),
                pa.array(batch.problem_offset, pa.int64()),
                pa.array(batch.problem_length, pa.int64()),
                pa.array(batch.problem_index, pa.int64()),
                _string_array(batch.problem_detail),
            ],
            fields=list(problem_type),
        )
    else:  # a clean slice (the usual case): every list is empty
        problem_offsets = pa.Array.from_buffers(pa.int32(), n + 1, [None, pa.py_buffer(bytes(4 * (n + 1)))])
        problems = pa.array([], problem_type)
    mask = texts.is_null() if texts.null_count else None
    return pa.RecordBatch.from_arrays(
        [
            content,
            reasoning,
            pa.ListArray.from_arrays(call_offsets, calls, mask=mask),
            pa.ListArray.from_arrays(problem_offsets, problems, mask=mask),
        ],
        schema=out,
    )


def _batches(data: Any, column: Optional[str], options: dict) -> Iterator[Any]:
    pa = _pa()
    # _machine: the twin to run (the tests and benchmarks choose it).
    machine = options.pop("_machine", None)
    parse_utf8 = machine.parse_utf8 if machine is not None else _default_parse_utf8()
    texts = _text_column(data, column)
    chunks = texts.chunks if isinstance(texts, pa.ChunkedArray) else [texts]
    for chunk in chunks:
        if not pa.types.is_string(chunk.type):
            # string_view (Polars), large_string, null: their slices below
            # fit 32-bit offsets, the layout parse_utf8 reads.
            chunk = chunk.cast(pa.large_string())
        for piece in _slices(chunk):
            yield _record_batch(piece, parse_utf8, options)


def parse(data: Any, column: Optional[str] = None, **options: Any) -> "pa.Table":
    """Parse a column of completions; return a ``pyarrow.Table`` of
    ``content``, ``reasoning``, ``tool_calls``, ``problems`` (module
    docstring), one row per input row.  ``options`` are ``parse()``'s."""
    return _pa().Table.from_batches(list(_batches(data, column, options)), schema=schema())


def parse_batch(record_batch: Any, column: str, **options: Any) -> "pa.RecordBatch":
    """Parse the text column ``column`` of one ``RecordBatch``; return a
    ``RecordBatch`` of the parsed columns with the same number of rows."""
    pa = _pa()
    if not isinstance(record_batch, pa.RecordBatch):
        raise TypeError(f"parse_batch takes a pyarrow RecordBatch, not {type(record_batch).__name__}")
    pieces = list(_batches(record_batch, column, options))
    if len(pieces) == 1:
        return pieces[0]
    if not pieces:
        return pa.RecordBatch.from_pylist([], schema=schema())
    table = pa.Table.from_batches(pieces, schema=schema()).combine_chunks()
    return table.to_batches()[0]
