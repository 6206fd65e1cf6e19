"""The command's fast lane (hermes_parse/cli/lines.py, lane.py): extract
writes, and stats counts, what the usual way does, byte for byte, on both
twins of ``lines``.

The usual way is the same command with the lane off (``lane.COMPILED``
False): orjson.loads of every record, ``Extractor.messages``, orjson.dumps.
Each test runs the command in-process on a real file, with ``--seed`` so that
the ids compare, and compares stdout, stderr and the exit code.  The lane
itself runs on the compiled ``lines`` and on its source loaded as plain
Python (``lines_twin``), as the machine's tests run both twins.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import random
import re
from pathlib import Path

import orjson
import pytest
from hypothesis import example, given, strategies as st

from hermes_parse.cli import io as cli_io, lane, lines as compiled_lines, main
from hermes_parse.cli.records import Stats, loads_slow

from test_cli_support import chat_record

SUITE = Path(__file__).resolve().parent / "data" / "jsontestsuite"


def _pure_lines():
    """hermes_parse/cli/lines.py as plain Python, under another name."""
    spec = importlib.util.spec_from_file_location("hermes_parse_cli_lines_py", Path(lane.__file__).with_name("lines.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PURE_LINES = _pure_lines()


@pytest.fixture(params=["cython", "python"])
def lines_twin(request, monkeypatch):
    """The lane on, running this twin of ``lines`` (the compiled one is
    skipped as the machine's is: --no-c-extensions, or not built outside CI)."""
    if request.param == "python":
        twin = PURE_LINES
    else:
        if request.config.getoption("--no-c-extensions"):
            pytest.skip("--no-c-extensions")
        if not lane.COMPILED:
            if os.environ.get("CI"):
                pytest.fail("hermes_parse/cli/lines.py was not compiled")
            pytest.skip("hermes_parse/cli/lines.py is not compiled")
        twin = compiled_lines
    monkeypatch.setattr(lane, "COMPILED", True)
    monkeypatch.setattr(lane, "_lines", twin)
    return twin


def run(command: str, path: Path, *options: str):
    """``hermes-parse COMMAND OPTIONS PATH`` in-process: (code, stdout bytes, stderr)."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    err = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([command, "--no-progress", *options, str(path)])
    out.flush()
    return code, out.buffer.getvalue(), err.getvalue()


def both_ways(path: Path, *options: str, command: str = "extract"):
    """(the lane's result, the usual way's) of the same command."""
    taken = run(command, path, *options)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(lane, "COMPILED", False)
        usual = run(command, path, *options)
    return taken, usual


def assert_same(path: Path, *options: str, command: str = "extract"):
    taken, usual = both_ways(path, *options, command=command)
    assert taken[0] == usual[0], (taken[2], usual[2])
    assert taken[2] == usual[2]
    if taken[1] != usual[1]:
        for number, (got, want) in enumerate(zip(taken[1].split(b"\n"), usual[1].split(b"\n")), 1):
            assert got == want, f"output line {number}"
        assert taken[1] == usual[1]
    return usual


# ---------------------------------------------------------------------------
# Records: the two shapes the lane takes, the shapes next to them it leaves,
# written the many ways JSON writers write them, and lines that are not JSON.

CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "c"}}\n</tool_call>'
# A call whose arguments hold every escape (a backslash, quotes, a slash, a
# control, non-ASCII written both ways).
ESCAPED_CALL = (
    '<tool_call>{"name": "write_file", "arguments": {"path": "C:\\\\dir\\/a.txt", '
    '"text": "say \\"hi\\"\\n\\ttab \\u00e9 é \\u001f 🙂"}}</tool_call>'
)
PIECES = [
    "",
    "   ",
    "\n",
    "Plain answer.",
    'Quotes " and \\ and \t tab\x01\x1f\x7f',
    "a/b </x> http://example.com/?q=1",
    "東京 größe 🙂 « » — \u2028",
    CALL,
    ESCAPED_CALL,
    '<tool_call>{"name": "f", "arguments": {"s": "\\ud800"}}</tool_call>',
    '<tool_call>{"name": "f", "arguments": {"s": "\\ud83d\\ude42 \\u00e9"}}</tool_call>',
    "<tool_call>not json</tool_call>",
    '<tool_call>{"name": "f", "arguments": {"x": [1, 2',
    "before <tool_call",
]
texts = st.lists(st.sampled_from(PIECES) | st.text(max_size=10), max_size=4).map("".join)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8
)


@st.composite
def records(draw):
    """A record as a dict (or another JSON value)."""
    text = draw(texts)
    kind = draw(
        st.sampled_from(
            ["bare", "bare", "chat", "chat", "chat_calls", "choices_null", "choices_other", "parts", "text_field",
             "empty_choices", "no_message", "no_text", "value"]
        )
    )
    if kind == "bare":
        record = {"id": draw(st.text(max_size=6)), "completion": text}
    elif kind == "chat":
        record = chat_record(draw(st.integers(0, 99)), text)
        message = record["choices"][0]["message"]
        tool_calls = draw(st.sampled_from(["absent", "null", "empty", "empty"]))
        if tool_calls == "absent":
            del message["tool_calls"]
        elif tool_calls == "null":
            message["tool_calls"] = None
        if draw(st.booleans()):
            record["choices"].append({"index": 1, "message": {"role": "assistant", "content": "second"}})
    elif kind == "chat_calls":  # calls the server parsed: the usual way keeps them
        record = chat_record(1, text)
        record["choices"][0]["message"]["tool_calls"] = [
            {"id": "call_x", "type": "function", "function": {"name": "f", "arguments": "{}"}}
        ]
    elif kind == "choices_null":
        record = {"choices": None, "completion": text}
    elif kind == "choices_other":
        record = {"choices": draw(scalars), "completion": text}
    elif kind == "parts":
        record = chat_record(2, text)
        record["choices"][0]["message"]["content"] = [{"type": "text", "text": text}]
    elif kind == "text_field":
        record = {"choices": [{"text": text}]}
    elif kind == "empty_choices":
        record = {"choices": [], "completion": text}
    elif kind == "no_message":
        record = {"choices": [{"index": 0}], "text": text}
    elif kind == "no_text":
        record = {"id": "x"}
    else:
        record = draw(values)
    if isinstance(record, dict) and draw(st.booleans()):
        record["extra"] = draw(values)
    return record


def _spaced(raw: str, rng: random.Random) -> str:
    """JSON with blanks (JSON's, but the newline) after its commas and colons."""
    out = []
    in_string = escaped = False
    for char in raw:
        out.append(char)
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in ",:[{" and rng.random() < 0.3:
            out.append(rng.choice([" ", "\t", "\r", "  "]))
    return "".join(out)


@st.composite
def lines(draw):
    """One line of a JSON Lines file, as bytes (without its newline)."""
    how = draw(
        st.sampled_from(
            ["orjson", "orjson", "json", "ascii", "spaced", "slash", "upper", "dup", "escaped_key", "blank",
             "broken", "bad_utf8", "lone", "nan", "bom", "cr", "deep", "long_number", "string"]
        )
    )
    record = draw(records())
    rng = random.Random(draw(st.integers(0, 2**32)))
    if how == "orjson":
        try:
            return orjson.dumps(record)
        except TypeError:  # beyond 64 bits, a lone surrogate: json writes it
            how = "json"
    if how == "json":
        return json.dumps(record, ensure_ascii=False).encode("utf-8", "surrogatepass")
    if how == "ascii":  # every non-ASCII character a \u escape: no string is orjson's
        return json.dumps(record).encode()
    if how == "spaced":
        return _spaced(json.dumps(record, ensure_ascii=draw(st.booleans())), rng).encode("utf-8", "surrogatepass")
    raw = json.dumps(record, ensure_ascii=False)
    if how == "slash":
        return raw.replace("/", "\\/").encode("utf-8", "surrogatepass")
    if how == "upper":  # \u escapes with uppercase hex digits (orjson writes lowercase)
        return re.sub(r"\\u([0-9a-f]{4})", lambda m: "\\u" + m.group(1).upper(), json.dumps(record)).encode()
    if how == "dup" and raw.startswith("{") and len(raw) > 2:
        return ('{"completion": "first", ' + raw[1:]).encode("utf-8", "surrogatepass")
    if how == "escaped_key":
        return raw.replace('"completion"', '"c\\u006fmpletion"').replace('"content"', '"cont\\u0065nt"').encode(
            "utf-8", "surrogatepass"
        )
    if how == "blank":
        return rng.choice([b"", b" ", b"\t", b"\r"])
    if how == "broken":
        data = raw.encode("utf-8", "surrogatepass")
        return data[: rng.randrange(max(len(data), 1))]
    if how == "bad_utf8":
        data = raw.encode("utf-8", "surrogatepass")
        at = rng.randrange(len(data) + 1)
        return data[:at] + rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf"]) + data[at:]
    if how == "lone":
        return raw.replace("Paris", "\\ud800Paris").replace("answer", "\\udc00").encode("utf-8", "surrogatepass")
    if how == "nan":
        return raw.replace("null", "NaN", 1).encode("utf-8", "surrogatepass")
    if how == "bom":
        return b"\xef\xbb\xbf" + raw.encode("utf-8", "surrogatepass")
    if how == "cr":
        return raw.encode("utf-8", "surrogatepass") + b"\r"
    if how == "deep":
        return ('{"completion": "deep", "v": ' + "[" * 70 + "]" * 70 + "}").encode()
    if how == "long_number":
        return ('{"completion": "x", "n": ' + "9" * rng.choice([40, 41, 4400]) + "}").encode()
    return json.dumps("a JSON string record: " + str(record)[:20]).encode()


@given(st.lists(lines(), max_size=30), st.sampled_from([[], ["--truncated", "drop"], ["--arguments", "raw"]]))
def test_the_lane_writes_what_the_usual_way_writes(lines_twin, tmp_path_factory, file_lines, options):
    path = tmp_path_factory.mktemp("lane") / "log.jsonl"
    path.write_bytes(b"\n".join(file_lines) + random.choice([b"", b"\n"]))
    assert_same(path, "--seed", "5", *options)


@given(
    st.lists(lines(), max_size=30),
    st.sampled_from([[], ["--json"], ["--json", "--arguments", "raw"], ["--json", "--dialect", "auto"]]),
)
@example(  # a record with two problems of one kind, one parsed without a call, one with calls
    [orjson.dumps({"completion": "<tool_call>not json</tool_call> <tool_call>[]</tool_call>"}),
     orjson.dumps({"completion": "<tool_call>not json</tool_call>"}), orjson.dumps({"completion": CALL + CALL}),
     b'{"completion": "plain"}'],
    ["--json"],
)
def test_stats_by_the_lane_counts_what_the_usual_way_counts(lines_twin, tmp_path_factory, file_lines, options):
    """stats by the lane (its lines counted from the parsed columns): the
    same table or JSON (the calls by name and problems by kind in the same
    order), the same reports and exit code."""
    path = tmp_path_factory.mktemp("lane") / "log.jsonl"
    path.write_bytes(b"\n".join(file_lines) + random.choice([b"", b"\n"]))
    assert_same(path, *options, command="stats")


SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "/": "\\/"}


@st.composite
def spelled(draw):
    """A text and one of the many ways to write it as a JSON string."""
    text = draw(st.text(st.characters(codec="utf-8") | st.sampled_from('"\\/\b\f\n\r\t\x00\x1f\x7fé🙂'), max_size=12))
    written = []
    for char in text:
        styles = ["u_lower", "u_upper"]
        if char in SHORT_ESCAPES:
            styles.append("short")
        if char not in '"\\' and ord(char) >= 32:
            styles += ["raw", "raw"]
        style = draw(st.sampled_from(styles))
        if style == "raw":
            written.append(char)
        elif style == "short":
            written.append(SHORT_ESCAPES[char])
        else:
            units = char.encode("utf-16-be")
            for at in range(0, len(units), 2):
                hex_digits = units[at : at + 2].hex()
                written.append("\\u" + (hex_digits.upper() if style == "u_upper" else hex_digits))
    return text, '"' + "".join(written) + '"'


@given(spelled())
@example(("\x1f", '"\\u001f"'))  # orjson's
@example(("\x1f", '"\\u001F"'))
@example(("\n", '"\\u000a"'))
@example(("/", '"\\/"'))
@example(("é", '"\\u00e9"'))
@example(("🙂 \\", '"\\ud83d\\ude42 \\\\"'))
def test_a_string_is_read_and_known_as_orjson_writes_it(lines_twin, case):
    """The text of a JSON string, however it is written, is unescaped into the
    column, and the line is LINE_SAME exactly when the string is written as
    orjson writes it (then the output copies it as it is)."""
    text, written = case
    line = ('{"completion": ' + written + "}").encode("utf-8")
    column, offsets, spans, codes, bounds = lines_twin.buffers(len(line))
    scanner = lines_twin.LineScanner()
    assert scanner.scan(line, 0, column, offsets, spans, codes, bounds) == 1
    assert codes[0] == (PURE_LINES.LINE_SAME if orjson.dumps(text) == written.encode() else PURE_LINES.LINE_TEXT)
    assert bytes(column[: scanner.size]) == text.encode("utf-8")
    assert line[spans[0] - 1 : spans[1] + 1] == written.encode()


@given(st.text(st.characters(codec="utf-8") | st.sampled_from('"\\\x00\x1f\n')))
def test_strings_are_written_as_orjson_writes_them(text):
    """The writer's strings (MessageWriter, plain Python: the compiled twin is
    the same source, compared end to end above) are orjson's bytes."""
    parts = []
    PURE_LINES._put_utf8_string(parts, text.encode("utf-8"), text, orjson.dumps)
    assert b"".join(parts) == orjson.dumps(text)
    parts = []
    PURE_LINES._put_utf8_string(parts, text.encode("utf-8"), None, orjson.dumps)
    assert b"".join(parts) == orjson.dumps(text)


@st.composite
def damaged(draw):
    """Lines of JSON Lines, then bytes of them flipped, cut, doubled."""
    data = bytearray(b"\n".join(draw(st.lists(lines(), min_size=1, max_size=6))))
    for _ in range(draw(st.integers(0, 4))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        how = draw(st.sampled_from(["flip", "cut", "double", "byte"]))
        if how == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif how == "cut":
            del data[at:]
        elif how == "double":
            data[at:at] = data[at : at + draw(st.integers(1, 8))]
        else:
            data[at:at] = bytes([draw(st.sampled_from(b'\\"{}[]:,u\n\r\x00\xc3\xed\xf0\x80'))])
    return bytes(data)


@pytest.mark.skipif(not lane.COMPILED, reason="hermes_parse/cli/lines.py is not compiled")
@given(damaged(), st.integers(0, 40))
def test_the_twins_read_any_bytes_alike(data, start):
    """Whatever the bytes, the compiled scanner (its C reads them unchecked)
    reads what the plain-Python one reads, buffers and all, from any start
    and with its buffers' room: the same lines, codes, texts and spans."""
    start = min(start, len(data))
    results = []
    for twin in (compiled_lines, PURE_LINES):
        buffers = twin.buffers(len(data) - start)
        scanner = twin.LineScanner()
        count = scanner.scan(data, start, *buffers)
        column, offsets, spans, codes, bounds = buffers
        taken = scanner.taken_lines
        results.append(
            (count, taken, scanner.size, scanner.stop, bytes(column[: scanner.size]), list(offsets[: taken + 1]),
             list(spans[: 2 * taken]), bytes(codes[:count]), list(bounds[: count + 1]))
        )
    assert results[0] == results[1]


def test_typical_logs_are_taken_whole(lines_twin, tmp_path):
    """A log of bare records and one of chat.completion responses, as
    json.dumps writes them (test_cli_scale.py's shapes): every line is taken,
    and the output is the usual way's."""
    bare = tmp_path / "bare.jsonl"
    chat = tmp_path / "chat.jsonl"
    sample = ["Plain.", "Quotes \"x\" and 東京 🙂", "Let me check.\n\n" + CALL, CALL, "   ", ""]
    bare.write_text("".join(json.dumps({"id": f"r{i}", "completion": t}, ensure_ascii=False) + "\n" for i, t in enumerate(sample * 50)))
    chat.write_text("".join(json.dumps(chat_record(i, t), ensure_ascii=False) + "\n" for i, t in enumerate(sample * 50)))
    for path in (bare, chat):
        data = path.read_bytes()
        column, offsets, spans, codes, bounds = lines_twin.buffers(len(data))
        count = lines_twin.LineScanner().scan(data, 0, column, offsets, spans, codes, bounds)
        assert count == 300
        assert set(codes[:count]) == {PURE_LINES.LINE_SAME}  # (a C constant in the compiled twin)
        usual = assert_same(path, "--seed", "1")
        assert usual[1].count(b'"tool_calls"') == 100


def test_stats_takes_typical_logs_by_the_lane(lines_twin, tmp_path, monkeypatch):
    """stats of a log of bare records with calls, problems and ties between
    names takes every line by the lane, and counts what the usual way counts;
    --strict and --tools keep it off (they print, or add, problems a record
    at a time)."""
    taken = []  # the records of each run the lane counted
    add_columns = Stats.add_columns

    def counting(self, records, *args):
        taken.append(records)
        return add_columns(self, records, *args)

    monkeypatch.setattr(Stats, "add_columns", counting)
    sample = ["Plain.", CALL, "I'll look.\n" + CALL + ESCAPED_CALL, "<tool_call>not json</tool_call>",
              '<tool_call>{"name": "f", "arguments": {"x": [1, 2', "   ", ESCAPED_CALL + CALL]
    path = tmp_path / "bare.jsonl"
    path.write_text("".join(json.dumps({"id": i, "completion": t}, ensure_ascii=False) + "\n" for i, t in enumerate(sample * 40)))
    usual = assert_same(path, "--json", command="stats")
    assert sum(taken) == 280
    data = json.loads(usual[1])
    assert data["records"] == 280 and data["problems"] == 80 and data["malformed_records"] == 80
    assert list(data["tool_calls_by_name"]) == ["get_weather", "write_file", "f"]
    assert_same(path, command="stats")
    taken.clear()
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]))
    for options in (["--strict"], ["--tools", str(tools)]):
        assert_same(path, "--json", *options, command="stats")
    assert taken == []


def test_stats_of_a_tool_name_with_a_lone_surrogate(lines_twin, tmp_path):
    """A name that cannot be UTF-8 (a "\\ud800" escape in the call): the
    JSON keeps the escape, the table shows it, both ways (stats crashed on
    it, the lane or not)."""
    path = tmp_path / "log.jsonl"
    path.write_text(json.dumps({"completion": '<tool_call>{"name": "f\\ud800", "arguments": {}}</tool_call>'}) + "\n")
    code, out, _ = assert_same(path, "--json", command="stats")
    assert code == 0 and json.loads(out)["tool_calls_by_name"] == {"f\ud800": 1}
    code, out, _ = assert_same(path, command="stats")
    assert code == 0 and b"f\\ud800" in out


def test_lines_across_blocks_and_full_buffers(lines_twin, tmp_path, monkeypatch):
    """Blocks of 61 bytes (lines span them, one is longer than several) and
    lines of one byte (the scan's buffers fill before a block ends)."""
    monkeypatch.setattr(cli_io, "BLOCK", 61)
    path = tmp_path / "log.jsonl"
    records = [{"completion": "x" * n + CALL * (n % 3 == 0)} for n in range(0, 300, 7)]
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in records) + b"\n" + b"\n" * 50 + b"{}\n" * 40 + b'{"completion":"end"}')
    usual = assert_same(path, "--seed", "2")
    assert usual[1].count(b"\n") == len(records) + 1


def test_jsontestsuite_values(lines_twin, tmp_path):
    """Every document of JSONTestSuite as a value beside the text: the lane
    takes a line only if the usual way reads it as a record (orjson, or
    json.loads for the numbers orjson refuses: 1e400), what it leaves goes
    the usual way, and the output is the usual way's."""
    lines = [b'{"completion": "x", "v": ' + path.read_bytes().replace(b"\n", b" ") + b"}" for path in sorted(SUITE.glob("*.json"))]
    data = b"\n".join(lines)
    column, offsets, spans, codes, bounds = lines_twin.buffers(len(data))
    count = lines_twin.LineScanner().scan(data, 0, column, offsets, spans, codes, bounds)
    assert count == len(lines)
    for k, line in enumerate(lines):
        if codes[k]:
            loads_slow(line)  # the lane took it: a record (BadRecord otherwise)
    assert sum(map(bool, codes[:count])) > 90  # at least the y_ files
    path = tmp_path / "suite.jsonl"
    path.write_bytes(data)
    assert_same(path, "--seed", "3")


def test_the_lane_is_compiled_where_the_machine_is():
    """The command uses the lane when ``lines`` is built (setup.py builds it
    with the machine's compiled twin)."""
    from hermes_parse import machine

    assert lane.COMPILED == (machine.compiled() is not None)
