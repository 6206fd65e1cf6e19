"""hermes_parse.arrow: a column of completions in, Arrow columns out; row for row what parse() returns."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import pytest
from hypothesis import given, settings, strategies as st

import hermes_parse
from hermes_parse import sequential_ids

pa = pytest.importorskip("pyarrow")  # the test extra brings it (strict skips fail CI otherwise)

import hermes_parse.arrow as harrow  # noqa: E402

try:
    import fuzz.strategies  # noqa: F401
except ImportError:  # run as `pytest` from elsewhere: the repository root is not on sys.path
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fuzz.strategies import any_text  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _call(name: str, arguments: dict) -> str:
    return "<tool_call>\n" + json.dumps({"name": name, "arguments": arguments}) + "\n</tool_call>"


def make_log(n: int = 240, seed: int = 15) -> list:
    """A log of completions as a model writes them: plain answers, nulls (a
    failed request), one call, two calls, a call cut by max_tokens, bad JSON,
    reasoning before an answer or a call."""
    rng = random.Random(seed)
    cities = ["Paris", "Beijing", "São Paulo", "Zürich", "東京"]
    texts: list = []
    for i in range(n):
        city = rng.choice(cities)
        kind = i % 8
        if kind == 0:
            texts.append(f"The weather in {city} is mild today.")
        elif kind == 1:
            texts.append(None)
        elif kind == 2:
            texts.append("I'll check.\n" + _call("get_weather", {"city": city, "unit": "celsius"}))
        elif kind == 3:
            texts.append(_call("get_weather", {"city": city}) + "\n" + _call("get_time", {"tz": "UTC", "n": i}))
        elif kind == 4:  # cut by max_tokens inside the arguments
            whole = _call("search", {"query": f"hotels in {city}", "limit": 10})
            texts.append(whole[: rng.randint(30, len(whole) - 20)])
        elif kind == 5:
            texts.append(f"<think>The user wants {city}'s weather; call the tool.</think>\n" + _call("get_weather", {"city": city}))
        elif kind == 6:
            texts.append('<tool_call>{"name": "get_weather", "arguments": {"city": ' + city + "}}</tool_call>")
        else:
            texts.append(f"<think>Nothing to call.</think>{city} is a city." if i % 16 == 7 else "")
    return texts


LOG = make_log()

OPTIONS = [
    pytest.param({}, id="defaults"),
    pytest.param({"reasoning": True}, id="reasoning"),
    pytest.param({"truncated": "drop"}, id="truncated-drop"),
    pytest.param({"truncated": "content", "arguments": "raw"}, id="truncated-content-raw"),
    pytest.param({"tools": [{"type": "function", "function": {"name": "get_weather"}}], "unknown_tool": "content"}, id="tools"),
]


def expected_row(parse, text, options, ids=sequential_ids) -> dict | None:
    """What parse() says of one text (call ids from ``ids()``), in the shape of a row of arrow.parse's table."""
    if text is None:
        return None
    message = parse(text, call_id=ids(), **options)
    return {
        "content": message.content,
        "reasoning": message.reasoning,
        "tool_calls": [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in message.tool_calls],
        "problems": [
            {"kind": p.kind, "offset": p.offset, "length": p.length, "index": p.index, "detail": p.detail}
            for p in message.problems
        ],
    }


def assert_rows_match(texts, rows, options, parse=None, ids=sequential_ids) -> None:
    """rows (dicts of content, reasoning, tool_calls, problems) are parse(texts[i]) row by row;
    a null text is a row of nulls."""
    parse = parse or hermes_parse.parse
    assert len(rows) == len(texts)
    for i, (text, row) in enumerate(zip(texts, rows)):
        want = expected_row(parse, text, options, ids)
        if want is None:
            assert row == {"content": None, "reasoning": None, "tool_calls": None, "problems": None}, i
        else:
            assert row == want, (i, text)


@pytest.mark.parametrize("options", OPTIONS)
def test_rows_equal_parse(backend, options):
    """Row i of arrow.parse(column) is parse(text_i) (content, reasoning, calls with ids, problems), both twins."""
    table = harrow.parse(pa.array(LOG), call_id=sequential_ids(), _machine=backend, **options)
    assert table.schema == harrow.schema()
    assert_rows_match(LOG, table.to_pylist(), options, parse=backend.parse)


def test_the_log_has_what_it_should():
    """The test log covers what the brief asks for: nulls, no call, two calls, a cut call, reasoning."""
    rows = harrow.parse(pa.array(LOG), reasoning=True).to_pylist()
    calls = [len(r["tool_calls"]) for r in rows if r is not None and r["tool_calls"] is not None]
    assert LOG.count(None) >= 10
    assert 0 in calls and 1 in calls and 2 in calls
    kinds = {p["kind"] for r in rows if r["problems"] for p in r["problems"]}
    assert {"truncated", "invalid_json"} <= kinds
    assert sum(r["reasoning"] is not None for r in rows) >= 10


def test_default_ids_are_random_call_ids(backend):
    """Without call_id, each call gets a fresh id as parse() draws them (call_ and 24 letters and
    digits), drawn in Arrow for the whole slice: unique, in every row with a call, both twins."""
    table = harrow.parse(pa.array(LOG), _machine=backend)
    ids = [call["id"] for row in table.column("tool_calls").to_pylist() if row for call in row]
    names = [[c["name"] for c in row] if row is not None else None for row in table.column("tool_calls").to_pylist()]
    want = harrow.parse(pa.array(LOG), call_id=sequential_ids(), _machine=backend)
    assert names == [[c["name"] for c in row] if row is not None else None for row in want.column("tool_calls").to_pylist()]
    assert len(ids) == len(set(ids)) > 0
    assert all(len(i) == 29 and i.startswith("call_") and i[5:].isalnum() and i[5:].isascii() for i in ids)
    assert harrow.parse(pa.array(["no call", None])).column("tool_calls").to_pylist() == [[], None]


def test_null_text_gives_null_row_and_no_call_gives_empty_lists():
    """A null text: nulls everywhere, null lists (SQL's NULL in, NULL out); a text without a call: empty lists."""
    table = harrow.parse(pa.array([None, "hello", None]))
    assert table.column("tool_calls").null_count == 2
    assert table.column("problems").null_count == 2
    assert table.column("content").to_pylist() == [None, "hello", None]
    assert table.to_pylist()[1] == {"content": "hello", "reasoning": None, "tool_calls": [], "problems": []}
    assert harrow.parse(pa.nulls(3)).to_pylist() == [dict.fromkeys(["content", "reasoning", "tool_calls", "problems"])] * 3


def test_schema():
    """The columns and their types, as documented."""
    s = harrow.schema()
    assert s.names == ["content", "reasoning", "tool_calls", "problems"]
    assert str(s.field("tool_calls").type) == "list<item: struct<id: string, name: string, arguments: string>>"
    assert str(s.field("problems").type) == (
        "list<item: struct<kind: string, offset: int64, length: int64, index: int64, detail: string>>"
    )


# string_view: pyarrow >= 16 (the arrow extra allows 14).
@pytest.mark.parametrize("kind", [k for k in ("string", "large_string", "string_view") if hasattr(pa, k)])
def test_string_types(kind):
    """string, large_string and string_view (Polars' own) columns give the same table."""
    texts = LOG[:40]
    table = harrow.parse(pa.array(texts, getattr(pa, kind)()), call_id=sequential_ids())
    assert table.schema == harrow.schema()
    assert_rows_match(texts, table.to_pylist(), {})


def test_chunked_array_table_and_record_batch():
    """A ChunkedArray keeps its rows' order; a Table or RecordBatch takes the name of its text column."""
    chunked = pa.chunked_array([LOG[:7], LOG[7:8], [], LOG[8:]], pa.string())
    table = harrow.parse(chunked, call_id=sequential_ids())
    assert table.num_rows == len(LOG)
    assert_rows_match(LOG, table.to_pylist(), {})
    source = pa.table({"id": list(range(len(LOG))), "completion": chunked})
    assert harrow.parse(source, "completion", call_id=sequential_ids()).to_pylist() == table.to_pylist()
    record_batch = pa.RecordBatch.from_pydict({"id": list(range(len(LOG))), "completion": LOG})
    assert harrow.parse(record_batch, column="completion", call_id=sequential_ids()).to_pylist() == table.to_pylist()


def test_parse_batch_gives_one_record_batch():
    """parse_batch: a RecordBatch in, a RecordBatch of as many rows out (for map_batches / mapInArrow)."""
    record_batch = pa.RecordBatch.from_pydict({"id": list(range(len(LOG))), "completion": LOG})
    out = harrow.parse_batch(record_batch, "completion", call_id=sequential_ids(), reasoning=True)
    assert isinstance(out, pa.RecordBatch)
    assert out.num_rows == len(LOG) and out.schema == harrow.schema()
    assert_rows_match(LOG, out.to_pylist(), {"reasoning": True})
    empty = harrow.parse_batch(pa.RecordBatch.from_pydict({"completion": pa.array([], pa.string())}), "completion")
    assert isinstance(empty, pa.RecordBatch) and empty.num_rows == 0 and empty.schema == harrow.schema()
    with pytest.raises(TypeError):
        harrow.parse_batch(pa.table({"completion": ["x"]}), "completion")


def test_slices_give_the_same_table(monkeypatch):
    """Long columns are parsed slice by slice (rows and bytes bounded); the table is the same."""
    whole = harrow.parse(pa.array(LOG), call_id=sequential_ids()).to_pylist()
    monkeypatch.setattr(harrow, "_SLICE_ROWS", 7)
    monkeypatch.setattr(harrow, "_SLICE_BYTES", 300)
    parts = harrow.parse(pa.array(LOG), call_id=sequential_ids())
    assert parts.column("content").num_chunks > len(LOG) // 7
    assert parts.to_pylist() == whole
    out = harrow.parse_batch(pa.RecordBatch.from_pydict({"t": LOG}), "t", call_id=sequential_ids())
    assert isinstance(out, pa.RecordBatch) and out.to_pylist() == whole


def test_bad_arguments():
    """A clear exception for a missing or wrong column, a non-string column, an unknown option value."""
    table = pa.table({"completion": ["x"], "n": [1]})
    with pytest.raises(TypeError, match="name the text column"):
        harrow.parse(table)
    with pytest.raises(KeyError, match="nope"):
        harrow.parse(table, "nope")
    with pytest.raises(TypeError, match="must hold strings"):
        harrow.parse(table, "n")
    with pytest.raises(TypeError, match="column is for a Table"):
        harrow.parse(pa.array(["x"]), "completion")
    with pytest.raises(TypeError, match="pyarrow string array"):
        harrow.parse(["x"])
    with pytest.raises(ValueError):
        harrow.parse(pa.array(["x"]), truncated="sometimes")


def test_missing_pyarrow_says_how_to_install(monkeypatch):
    """Without pyarrow the first call raises ImportError naming the extra."""
    monkeypatch.setattr(harrow, "_pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(ImportError, match=r"pip install pyarrow \(the arrow extra: pip install '\.\[arrow\]'"):
        harrow.parse(["x"])


def test_the_core_never_imports_arrow():
    """import hermes_parse, parse and parse_many load neither this module nor pyarrow; importing
    hermes_parse.arrow alone does not load pyarrow either (it is imported on first use)."""
    code = (
        "import sys, hermes_parse\n"
        "hermes_parse.parse('x'); hermes_parse.parse_many(['x', None])\n"
        "assert 'hermes_parse.arrow' not in sys.modules and 'pyarrow' not in sys.modules\n"
        "import hermes_parse.arrow\n"
        "assert 'pyarrow' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


@settings(max_examples=60, deadline=None)
@given(
    # Arrow holds UTF-8: a lone surrogate (which any_text may give) cannot be in a column.
    texts=st.lists(st.one_of(st.none(), any_text().map(lambda t: t.encode("utf-8", "replace").decode())), max_size=10),
    truncated=st.sampled_from(["keep", "drop", "content"]),
    reasoning=st.sampled_from([False, True, "open"]),
)
def test_random_logs_equal_parse(texts, truncated, reasoning):
    """Random logs (the fuzz strategies' texts, nulls among them): row for row what parse() returns
    (the default twin; the other is tested on the fixed log above)."""
    options = {"truncated": truncated, "reasoning": reasoning}
    table = harrow.parse(pa.array(texts, pa.string()), call_id=sequential_ids(), **options)
    assert_rows_match(texts, table.to_pylist(), options, parse=parse_utf8)


def parse_utf8(text, **options):
    """parse(), each lone surrogate of the result as U+FFFD (as Arrow's UTF-8 columns hold it)."""
    m = hermes_parse.parse(text, **options)
    fix = harrow._utf8
    calls = [hermes_parse.ToolCall(c.index, fix(c.id), fix(c.name), fix(c.arguments)) for c in m.tool_calls]
    problems = [hermes_parse.Problem(p.kind, p.offset, p.length, p.index, fix(p.detail)) for p in m.problems]
    return hermes_parse.Message(fix(m.content), calls, problems, fix(m.reasoning))


def test_lone_surrogate_escape_becomes_replacement_character():
    """A call name written with a lone surrogate escape cannot be UTF-8: U+FFFD in the column, no error."""
    text = '<tool_call>{"name": "f\\ud800", "arguments": {}}</tool_call>'
    assert hermes_parse.parse(text).tool_calls[0].name == "f\ud800"
    row = harrow.parse(pa.array([text, "plain"])).column("tool_calls").to_pylist()
    assert [call["name"] for call in row[0]] == ["f\ufffd"]


from hermes_parse.machine.bodies import BODIES  # noqa: E402  (the dialects there are)

PLAIN_ROWS = ["", " \n\t", "  ", "plain", " x ", "<function=f>", "a <tool_call> b", "<tool_call", "\r\n"]


@settings(max_examples=60, deadline=None)
@given(
    texts=st.lists(
        st.one_of(
            st.none(),
            st.sampled_from(PLAIN_ROWS),
            any_text().map(lambda t: t.encode("utf-8", "replace").decode()),
        ),
        max_size=12,
    ),
    dialect=st.sampled_from([*BODIES, "auto"]),
    max_buffer=st.sampled_from([1, 2, 3, 8 * 1024 * 1024]),
)
def test_rows_without_a_block_equal_parse(texts, dialect, max_buffer):
    """Rows in which no block can start skip the parser (their content found in Arrow): still
    row for row what parse() says, whitespace-only rows, tiny max_buffer and every dialect included."""
    options = {"dialect": dialect, "max_buffer": max_buffer}
    table = harrow.parse(pa.array(texts, pa.string()), call_id=sequential_ids(), **options)
    assert_rows_match(texts, table.to_pylist(), options, parse=parse_utf8)


def test_dialect_reaches_every_row():
    """dialect= goes through to the parser: a GLM block is a call with glm, bad JSON with hermes."""
    texts = ["<tool_call>get_time\n<arg_key>tz</arg_key>\n<arg_value>UTC</arg_value>\n</tool_call>", "plain"]
    table = harrow.parse(pa.array(texts), dialect="glm", call_id=sequential_ids())
    assert table.column("tool_calls").to_pylist() == [
        [{"id": "call_0", "name": "get_time", "arguments": '{"tz": "UTC"}'}], []
    ]
    assert harrow.parse(pa.array(texts)).column("content").to_pylist() == texts
