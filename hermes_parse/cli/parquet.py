"""Parquet in and out for the command (``pyarrow``, the ``arrow`` extra).

In: each row of a Parquet file is a record, read as the JSON object of its
columns, so ``--field`` and the default text fields work as for JSON Lines
(a nested ``choices.0.message.content`` too, from list and struct columns).
Only the columns the text can come from are read, a row group's batch at a
time: memory stays flat.  Parquet's footer is at the end, so stdin is read
whole first.

Out (``extract --output FILE.parquet`` or ``--output-format parquet``): one
row per record, the columns of the JSON line ``extract`` writes: ``record``
(its number in its input), ``role``, ``content``, ``reasoning``, ``tool_calls`` (OpenAI's shape:
``list<struct<id, type, function: struct<name, arguments>>>``) and, with
``--with-problems``, ``problems``; ``pyarrow`` reading a row back gives the
line's object (null where the line has no key; a lone surrogate, which UTF-8
cannot hold, as U+FFFD).
"""

from __future__ import annotations

from typing import IO, Any, Iterator, List, Optional

from .. import arrow
from .io import Fatal, Source
from .records import DEFAULT_FIELDS

ROWS_PER_BATCH = 8192  # rows read at a time
ROWS_PER_GROUP = 65536  # rows written at a time (a row group)


def pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise Fatal(
            "Parquet needs pyarrow: pip install 'hermes-parse[arrow]' (or pip install pyarrow)"
        ) from None
    return pyarrow


def row_chunks(source: Source, field: Optional[str], every_column: bool = False) -> Iterator[List[dict]]:
    """The rows of a Parquet input as JSON objects (dicts of the columns the
    text may come from: ``field``'s, or the default fields'; ``every_column``:
    all), a batch at a time."""
    pa = pyarrow()
    if source.path == "-":
        data: Any = pa.BufferReader(source.read_all())
    else:
        data = source.path
    try:
        parquet = pa.parquet.ParquetFile(data)
    except (pa.ArrowException, OSError) as exc:
        raise Fatal(f"cannot read {source.name} as Parquet: {exc}") from None
    names = parquet.schema_arrow.names
    wanted = [field.split(".", 1)[0]] if field else [path.split(".", 1)[0] for path in DEFAULT_FIELDS]
    columns = None if every_column else [name for name in names if name in wanted] or names[:1]
    for batch in parquet.iter_batches(batch_size=ROWS_PER_BATCH, columns=columns):
        yield batch.to_pylist()


def schema(with_problems: bool) -> Any:
    """The schema of ``extract``'s Parquet output."""
    pa = pyarrow()
    call = pa.struct(
        [
            ("id", pa.string()),
            ("type", pa.string()),
            ("function", pa.struct([("name", pa.string()), ("arguments", pa.string())])),
        ]
    )
    fields = [
        ("record", pa.int64()),
        ("role", pa.string()),
        ("content", pa.string()),
        ("reasoning", pa.string()),
        ("tool_calls", pa.list_(call)),
    ]
    if with_problems:
        problem = pa.struct(
            # hermes_parse.arrow's problem, and where the command found it
            list(arrow.schema().field("problems").type.value_type)
            + [
                ("record", pa.int64()),
                ("line", pa.int64()),
                ("pointer", pa.string()),
                ("schema_pointer", pa.string()),
            ]
        )
        fields.append(("problems", pa.list_(problem)))
    return pa.schema(fields)


class ParquetOutput:
    """``extract``'s messages as Parquet rows, written ``ROWS_PER_BATCH`` at a time."""

    def __init__(self, stream: IO[bytes], with_problems: bool) -> None:
        pa = pyarrow()
        self._pa = pa
        self._schema = schema(with_problems)
        self._writer = pa.parquet.ParquetWriter(stream, self._schema)
        self._rows: List[dict] = []

    def add(self, record: int, message: dict) -> None:
        message["record"] = record
        self._rows.append(message)
        if len(self._rows) >= ROWS_PER_GROUP:
            self.flush()

    def flush(self) -> None:
        if self._rows:
            try:
                table = self._pa.Table.from_pylist(self._rows, schema=self._schema)
            except UnicodeEncodeError:
                # A lone surrogate (a "\\ud800" escape in a record) cannot be
                # UTF-8: U+FFFD stands for it, as in hermes_parse.arrow.
                rows = [_utf8(row) for row in self._rows]
                table = self._pa.Table.from_pylist(rows, schema=self._schema)
            self._writer.write_table(table)
            self._rows = []

    def close(self) -> None:
        self.flush()
        self._writer.close()


def _utf8(value: Any) -> Any:
    if type(value) is str:
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if type(value) is dict:
        return {key: _utf8(item) for key, item in value.items()}
    if type(value) is list:
        return [_utf8(item) for item in value]
    return value
