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

The texts are parsed ``parse_many`` by ``parse_many`` over slices of at most
65,536 rows (and 256 MB of text), so the output's string columns keep 32-bit
offsets and memory is bounded by the slice; the lists are built from
``Batch``'s flat columns and offsets, with no Python object per record.  Only
the rows in which a block may start (a ``<tool_call>``; with the dialects
``qwen3_coder`` and ``auto`` also a ``<function=``) are handed to
``parse_many``, unless reasoning is on: the content of the others is their
own text (null for whitespace alone), found with Arrow's compute functions
without making a Python string of them.

``pyarrow`` is the ``arrow`` extra (``pip install '.[arrow]'`` in a checkout),
imported when first needed; the core never imports this module.
"""

from __future__ import annotations

import binascii
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]

    from ._batch import Batch

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
    return pa.schema(
        [
            ("content", pa.string()),
            ("reasoning", pa.string()),
            ("tool_calls", pa.list_(call)),
            ("problems", pa.list_(problem)),
        ]
    )


def _default_parse_many() -> Callable[..., "Batch"]:
    from . import parse_many

    return parse_many


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


# What opens a block in content, by dialect: a row holding none of these has
# no call, whatever the other options (the core's own shortcut, parse_many's).
_OPENINGS = {"qwen3_coder": ("<tool_call>", "<function="), "auto": ("<tool_call>", "<function=")}
_DEFAULT_MAX_BUFFER = 8 * 1024 * 1024


def _may_call(texts: Any, options: dict) -> Any:
    """A boolean array: the rows in which a block may start (``None``: every
    row must be parsed, with reasoning on, since a text without a tag can
    still hold reasoning)."""
    pc = _pa().compute
    if options.get("reasoning") not in (False, None):
        return None
    openings = _OPENINGS.get(options.get("dialect", "hermes"), ("<tool_call>",))
    found = pc.match_substring(texts, openings[0])
    for opening in openings[1:]:
        found = pc.or_(found, pc.match_substring(texts, opening))
    return pc.fill_null(found, False)


def _plain_content(texts: Any, max_buffer: Any) -> Any:
    """The content of rows without a call, in Arrow (``plain_content`` of the
    core): the text, or null for whitespace alone (no longer than ``max_buffer``)."""
    pa = _pa()
    pc = pa.compute
    kept = pc.or_(
        pc.not_equal(pc.utf8_length(pc.utf8_trim(texts, " \t\r\n")), 0),
        pc.greater(pc.utf8_length(texts), max_buffer),
    )
    return pc.if_else(kept, texts, pa.scalar(None, texts.type)).cast(pa.string())


def _spread_offsets(offsets: list, rows: Any, n: int) -> Any:
    """Offsets over all ``n`` rows from ``offsets`` over the parsed ``rows``
    only (a boolean mask): the other rows have no element."""
    pa = _pa()
    pc = pa.compute
    parsed = pa.array(offsets, pa.int64())
    counts = pc.subtract(parsed.slice(1), parsed.slice(0, len(parsed) - 1))
    every = pc.replace_with_mask(pa.nulls(n, pa.int64()).fill_null(0), rows, counts)
    return pa.concat_arrays([pa.array([0], pa.int64()), pc.cumulative_sum(every)]).cast(pa.int32())


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


def _no_id(index: int, name: str) -> str:
    return ""


def _random_ids(count: int) -> Any:
    """``count`` ids as ``random_call_id`` makes them (``call_`` and 24 letters
    and digits), made at once: one draw of random bytes, base64 of it cut every
    24 characters (18 bytes), as an Arrow array without a Python string each."""
    from ._types import _ID_LETTERS, _id_random

    pa = _pa()
    letters = binascii.b2a_base64(_id_random.randbytes(18 * count), newline=False).translate(_ID_LETTERS)
    offsets = pa.array(range(0, 24 * count + 1, 24), pa.int32())
    bodies = pa.StringArray.from_buffers(count, offsets.buffers()[1], pa.py_buffer(letters))
    return pa.compute.binary_replace_slice(bodies, 0, 0, "call_").cast(pa.string())


def _record_batch(texts: Any, parse_many: Callable[..., "Batch"], options: dict) -> Any:
    pa = _pa()
    pc = pa.compute
    # The default ids (random) are made afterwards, all at once: one at a time
    # they cost a third of the parse.
    bulk_ids = options.get("call_id") is None
    if bulk_ids:
        options = {**options, "call_id": _no_id}
    rows = _may_call(texts, options)
    if rows is None or pc.all(rows).as_py():
        batch = parse_many(texts.to_pylist(), **options)
        content = _string_array(batch.content)
        reasoning = _string_array(batch.reasoning)
        call_offsets = pa.array(batch.call_offsets, pa.int32())
        problem_offsets = pa.array(batch.problem_offsets, pa.int32())
    else:
        # Only the rows where a block may start go through the parser (and
        # through Python objects); the others' content is their text, in Arrow.
        batch = parse_many(pc.filter(texts, rows).to_pylist(), **options)
        content = pc.replace_with_mask(
            _plain_content(texts, options.get("max_buffer", _DEFAULT_MAX_BUFFER)),
            rows,
            _string_array(batch.content),
        )
        reasoning = pa.nulls(len(texts), pa.string())
        call_offsets = _spread_offsets(batch.call_offsets, rows, len(texts))
        problem_offsets = _spread_offsets(batch.problem_offsets, rows, len(texts))
    out = schema()
    call_type = out.field("tool_calls").type.value_type
    problem_type = out.field("problems").type.value_type
    calls = pa.StructArray.from_arrays(
        [
            _random_ids(len(batch.call_id)) if bulk_ids else _string_array(batch.call_id),
            _string_array(batch.call_name),
            _string_array(batch.call_arguments),
        ],
        fields=list(call_type),
    )
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
    parse_many = options.pop("_parse_many", None) or _default_parse_many()
    texts = _text_column(data, column)
    chunks = texts.chunks if isinstance(texts, pa.ChunkedArray) else [texts]
    for chunk in chunks:
        if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
            chunk = chunk.cast(pa.large_string())  # string_view (Polars), null
        for piece in _slices(chunk):
            yield _record_batch(piece, parse_many, options)


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
