"""parse_many: many texts in, columns out; record for record what parse() returns."""

from __future__ import annotations

import array
import os
import sys

import pytest
from hypothesis import given, strategies as st

import hermes_parse
from hermes_parse import Batch, Message, sequential_ids
from hermes_parse.machine.codes import ROW_BLANK, ROW_NULL, ROW_PARSED, ROW_TEXT

try:
    import fuzz.strategies  # noqa: F401
except ImportError:  # run as `pytest` from elsewhere: the repository root is not on sys.path
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fuzz.strategies import any_text, parser_options  # noqa: E402

TEXTS = [
    "plain text",
    None,
    "  \n",
    'I will.<tool_call>{"name": "f", "arguments": {"x": 1}}</tool_call>',
    '<tool_call>{"name": "a", "arguments": {}}</tool_call><tool_call>{"name": "b", "arguments": {"y": "z',
    "<think>plan</think>done",
    "<tool_call>not json</tool_call>",
]


@given(
    texts=st.lists(st.one_of(st.none(), any_text()), max_size=8),
    options=parser_options(call_id=sequential_ids),
    truncated=st.sampled_from(["keep", "drop", "content"]),
)
def test_parse_many_equals_parse_record_by_record(backend, texts, options, truncated):
    """Record i of parse_many(texts) is parse(texts[i]) (a None text: a null record), on both twins."""
    options.pop("call_id")  # ids: compared apart (one function serves the whole batch)
    batch = backend.parse_many(texts, call_id=sequential_ids(), truncated=truncated, **options)
    assert len(batch) == len(texts)
    for i, text in enumerate(texts):
        # The batch's ids come from one call_id function over all records; compare the rest.
        got = batch.message(i)
        if text is None:
            assert got is None
            continue
        expected = backend.parse(text, call_id=lambda index, name: "x", truncated=truncated, **options)
        assert got.content == expected.content
        assert got.reasoning == expected.reasoning
        assert got.problems == expected.problems
        assert [(c.index, c.name, c.arguments) for c in got.tool_calls] == [
            (c.index, c.name, c.arguments) for c in expected.tool_calls
        ]


def test_columns_are_flat_with_offsets(backend):
    """Calls and problems of all records are flat lists; offsets say where each record's start (Arrow's layout)."""
    batch = backend.parse_many(TEXTS, call_id=sequential_ids())
    assert type(batch) is Batch
    assert batch.content[:3] == ["plain text", None, None]
    assert batch.valid == [True, False, True, True, True, True, True]
    assert batch.call_offsets == [0, 0, 0, 0, 1, 3, 3, 3]
    assert batch.call_name == ["f", "a", "b"]
    assert batch.call_id == ["call_0", "call_0", "call_1"]  # call_id(index, name) per record, as parse()
    assert batch.call_arguments == ['{"x": 1}', "{}", '{"y": "z']
    assert batch.problem_offsets == [0, 0, 0, 0, 0, 1, 1, 2]
    assert batch.problem_kind == ["truncated", "not_a_call"]
    assert batch.problem_index == [1, None]
    assert batch.content[5] == "<think>plan</think>done"  # reasoning off
    assert batch.messages()[1] is None


def test_options_reach_every_record(backend):
    """reasoning, truncated and the other options apply to each record as in parse()."""
    batch = backend.parse_many(TEXTS, reasoning=True, truncated="drop", call_id=sequential_ids())
    assert batch.reasoning[5] == "plan" and batch.content[5] == "done"
    assert batch.call_name == ["f", "a"]
    assert batch.problem_index[0] is None  # the dropped call's problem belongs to no call


def test_bad_texts_and_options(backend):
    """A text that is neither str nor None is a TypeError; bad options are ValueErrors, checked once."""
    with pytest.raises(TypeError):
        backend.parse_many(["ok", b"bytes"])
    with pytest.raises(ValueError, match="truncated"):
        backend.parse_many(["ok"], truncated="no")
    with pytest.raises(ValueError, match="arguments"):
        backend.parse_many([], arguments="yaml")
    assert len(backend.parse_many([])) == 0
    assert len(backend.parse_many(iter(["a", "b"]))) == 2


def test_public_api_exports_parse_many():
    """hermes_parse.parse_many is the chosen twin's."""
    assert hermes_parse.parse_many is hermes_parse.machine.load(hermes_parse.BACKEND).parse_many
    assert hermes_parse.parse_many(["x"]).message(0) == Message("x")


def utf8_column(texts):
    """texts as Arrow lays out a string column: the UTF-8 bytes one after the
    other, int32 offsets, one validity byte a row."""
    data = bytearray()
    offsets = [0]
    for text in texts:
        data += (text or "").encode("utf-8", "surrogatepass")
        offsets.append(len(data))
    valid = bytes(text is not None for text in texts)
    return bytes(data), memoryview(array.array("i", offsets)), valid


@given(
    texts=st.lists(
        st.one_of(
            st.none(),
            st.sampled_from(["", " \r\n\t", "plain", "<function=f>", "a<tool_call>b", "é <tool_call"]),
            any_text().map(lambda t: t.encode("utf-8", "replace").decode()),
        ),
        max_size=8,
    ),
    options=parser_options(call_id=sequential_ids),
    truncated=st.sampled_from(["keep", "drop", "content"]),
)
def test_parse_utf8_equals_parse_many(backend, texts, options, truncated):
    """parse_utf8 over a UTF-8 column (Arrow's layout): each row's code says what it is, and
    the parsed rows' records are parse_many's, on both twins; the other rows are never decoded
    (their content is their text, or none for whitespace alone, as parse() says)."""
    options.pop("call_id")
    data, offsets, valid = utf8_column(texts)
    batch, rows = backend.parse_utf8(data, offsets, valid, call_id=sequential_ids(), truncated=truncated, **options)
    assert len(rows) == len(texts)
    parsed = [text for text, row in zip(texts, rows) if row == ROW_PARSED]
    want = backend.parse_many(parsed, call_id=sequential_ids(), truncated=truncated, **options)
    assert batch.messages() == want.messages()
    for text, row in zip(texts, rows):
        if text is None:
            assert row == ROW_NULL
        elif row != ROW_PARSED:
            expected = backend.parse(text, truncated=truncated, **options)
            assert not expected.tool_calls and not expected.problems and expected.reasoning is None
            assert expected.content == (text if row == ROW_TEXT else None), row


def test_parse_utf8_default_ids_and_bad_input(backend):
    """Default ids are random call_ ids, drawn for the whole column (or left "" for the caller
    with draw_ids=False); a short validity is an error."""
    data, offsets, valid = utf8_column(TEXTS)
    batch, rows = backend.parse_utf8(data, offsets)  # no validity: the null is an empty text
    assert rows[1] == ROW_BLANK
    batch, rows = backend.parse_utf8(data, offsets, valid)
    assert list(rows) == [ROW_TEXT, ROW_NULL, ROW_BLANK, ROW_PARSED, ROW_PARSED, ROW_TEXT, ROW_PARSED]
    assert [len(i) for i in batch.call_id] == [29, 29, 29] and len(set(batch.call_id)) == 3
    assert all(i.startswith("call_") and i[5:].isalnum() for i in batch.call_id)
    undrawn, _ = backend.parse_utf8(data, offsets, valid, draw_ids=False)  # the caller draws them
    assert undrawn.call_id == ["", "", ""] and undrawn.call_name == batch.call_name
    with pytest.raises(ValueError, match="valid"):
        backend.parse_utf8(data, offsets, b"\x01")
    for bad in ([0, 5, 3], [0, len(data) + 1], [-1, 2]):  # backwards, past the end, before the start
        with pytest.raises(ValueError, match="offsets"):
            backend.parse_utf8(data, array.array("i", bad))
    with pytest.raises(TypeError, match="offsets"):
        backend.parse_utf8(data, array.array("q", [0, 1]))


# Pieces of rows for the tag search: tags whole and cut, "<" alone and in
# other tags, so a row may hold a tag, a near miss, or a tag across two rows.
TAG_PIECES = ["<", "<tool_call>", "<tool_call", "tool_call>", "<tool_", "<function=", "<function", "<<", "x", "é", " "]


@given(
    rows=st.lists(st.lists(st.sampled_from(TAG_PIECES), max_size=6).map("".join), max_size=12),
    dialect=st.sampled_from(["hermes", "qwen3_coder"]),
)
def test_parse_utf8_parses_exactly_the_rows_with_a_tag(backend, rows, dialect):
    """A row is parsed when, and only when, its bytes hold "<tool_call>" (or, for a dialect of
    bare bodies, "<function="): the compiled twin finds them by memchr (bytesearch.pxd), the pure
    one by bytes.find, over the whole column; a tag across two rows is in neither."""
    data, offsets, valid = utf8_column(rows)
    _, codes = backend.parse_utf8(data, offsets, valid, dialect=dialect)
    tags = [b"<tool_call>"] + ([b"<function="] if dialect == "qwen3_coder" else [])
    want = [any(tag in row.encode() for tag in tags) for row in rows]
    assert [code == ROW_PARSED for code in codes] == want
