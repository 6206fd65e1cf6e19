"""``hermes-parse extract`` and ``stats``: formats, --fix, --tools, bad records, exit codes."""

from __future__ import annotations

import json
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

import hermes_parse
from hermes_parse import Message
from hermes_parse.cli.records import Extractor, detect
from test_cli_support import (
    EXAMPLES,
    chat_record,
    check_chunk,
    check_completion,
    check_message,
    expected_message,
    ids_for,
    lines_of,
    run,
    run_cli,
    sse_chunks,
    write_jsonl,
)

CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'




def example_texts():
    """The text of each record of examples/completions.jsonl."""
    with open(EXAMPLES / "completions.jsonl", encoding="utf-8") as f:
        return [json.loads(line)["choices"][0]["message"]["content"] for line in f]


# ---------------------------------------------------------------------------
# The message of a record is parse(text).to_openai().


def test_extract_examples_equal_parse(capsysbinary):
    """Each output line of the sample log is parse(text).to_openai(), a valid OpenAI message."""
    code, out, err = run(
        capsysbinary, "extract", "--seed", "3", str(EXAMPLES / "completions.jsonl")
    )
    assert code == 0 and err == ""
    got = lines_of(out)
    texts = example_texts()
    assert len(got) == len(texts) == 9
    for number, (message, text) in enumerate(zip(got, texts), 1):
        check_message(message)
        assert message == expected_message(text, 3, number)
    assert sum("tool_calls" in message for message in got) == 7


def test_extract_subprocess_and_stdin():
    """`python -m hermes_parse extract` reads stdin (no file, or -) and a file alike."""
    path = EXAMPLES / "completions.jsonl"
    from_file = run_cli("extract", "--seed", "5", str(path))
    from_stdin = run_cli("extract", "--seed", "5", input=path.read_bytes())
    from_dash = run_cli("extract", "--seed", "5", "-", input=path.read_bytes())
    assert from_file.returncode == from_stdin.returncode == from_dash.returncode == 0
    assert from_file.stdout == from_stdin.stdout == from_dash.stdout
    assert from_file.stderr == b""


def test_random_ids_look_like_openai(capsysbinary):
    """Without --seed, ids are fresh "call_" + 24 letters and digits, all different."""
    code, out, _ = run(capsysbinary, "extract", str(EXAMPLES / "completions.jsonl"))
    ids = [call["id"] for message in lines_of(out) for call in message.get("tool_calls", ())]
    assert len(ids) == len(set(ids)) == 8
    for call_id in ids:
        assert call_id.startswith("call_") and len(call_id) == 29 and call_id[5:].isalnum()


def test_seeded_ids_are_reproducible(capsysbinary):
    """--seed gives the same ids on every run, different ids for different records."""
    first = run(capsysbinary, "extract", "--seed", "9", str(EXAMPLES / "completions.jsonl"))[1]
    second = run(capsysbinary, "extract", "--seed", "9", str(EXAMPLES / "completions.jsonl"))[1]
    other = run(capsysbinary, "extract", "--seed", "10", str(EXAMPLES / "completions.jsonl"))[1]
    assert first == second != other
    ids = [call["id"] for message in lines_of(first) for call in message.get("tool_calls", ())]
    assert len(set(ids)) == len(ids)


@given(st.text(alphabet=st.sampled_from(list(' \t\n\r\x0b\xa0ab<tool_c>/{}"é😀')), max_size=40))
def test_messages_equal_parse_property(text):
    """Extractor.message == parse(text).to_openai() for any text, tags or not (the
    tag-free shortcut included), problems too."""
    extractor = Extractor(problems=True, seed=1)
    message, problems = extractor.message(text, 4)
    expected = hermes_parse.parse(text, call_id=ids_for(1, 4))
    assert message == expected.to_openai()
    assert problems == [problem.to_dict() for problem in expected.problems]


@given(st.text(max_size=60))
def test_tag_free_shortcut_property(text):
    """Texts without "<tool_call>": the shortcut gives exactly what the parser gives."""
    text = text.replace("<tool_call>", "")
    message, problems = Extractor(problems=True).message(text, 1)
    expected = hermes_parse.parse(text)
    assert message == expected.to_openai() and problems == []


# ---------------------------------------------------------------------------
# Formats.


@pytest.mark.parametrize(
    "head, fmt",
    [
        (b"", "empty"),
        (b"  \n\n", "empty"),
        (b"Hello <tool_call>", "text"),
        (b'"She said" hi', "text"),
        (b'{"completion": "x"}\n{"completion": "y"}\n', "jsonl"),
        (b'"a completion"\n"another"\n', "jsonl"),
        (b'{\n  "id": "chatcmpl-1",\n', "json"),
        (b'[{"completion": "x"},\n {"completion": "y"}]', "json"),
        (b'data: {"id": "x"}\n\ndata: [DONE]\n', "sse"),
        (b': keep-alive\n\ndata: {"id": "x"}\n\n', "sse"),
        (b"id: 12 is my answer", "text"),
    ],
)
def test_detect(head, fmt):
    """Formats are told apart from the start of the input."""
    assert detect(head) == fmt


def test_plain_text(capsysbinary):
    """A plain-text input is one completion."""
    code, out, err = run(capsysbinary, "extract", "--seed", "1", str(EXAMPLES / "completion.txt"))
    text = (EXAMPLES / "completion.txt").read_text(encoding="utf-8")
    assert code == 0 and err == ""
    assert lines_of(out) == [expected_message(text, 1, 1)]
    assert len(lines_of(out)[0]["tool_calls"]) == 2


def test_format_text_forced(tmp_path, capsysbinary):
    """--format text reads a JSON-looking input as one completion."""
    path = tmp_path / "x.txt"
    path.write_text('{"completion": "not a record"}\n' + CALL, encoding="utf-8")
    code, out, _ = run(capsysbinary, "extract", "--format", "text", "--seed", "1", str(path))
    assert code == 0
    assert lines_of(out) == [expected_message(path.read_text(encoding="utf-8"), 1, 1)]


def test_default_fields_in_order(tmp_path, capsysbinary):
    """The text is the first present of the documented fields; a JSON string is the text."""
    records = [
        {"completion": "a" + CALL, "text": "not this"},
        {"output": "b"},
        {"response": "c", "content": "not this"},
        {"text": "d"},
        {"content": "e"},
        {"choices": [{"text": "f" + CALL, "index": 0}]},
        {"choices": [{"message": {"role": "assistant", "content": "g"}}], "completion": "not this"},
        "h" + CALL,
        {"completion": None},
        {"completion": [{"type": "text", "text": "i"}, {"type": "text", "text": "j"}]},
    ]
    path = write_jsonl(tmp_path / "log.jsonl", records)
    code, out, err = run(capsysbinary, "extract", "--seed", "2", str(path))
    assert code == 0 and err == ""
    texts = ["a" + CALL, "b", "c", "d", "e", "f" + CALL, "g", "h" + CALL, "", "ij"]
    assert lines_of(out) == [
        expected_message(text, 2, number) for number, text in enumerate(texts, 1)
    ]


def test_field_path(capsysbinary):
    """--field takes a dotted path with array indices (an OpenAI Batch API output)."""
    path = EXAMPLES / "batch_output.jsonl"
    code, out, err = run(
        capsysbinary,
        "extract",
        "--seed",
        "4",
        "--field",
        "response.body.choices.0.message.content",
        str(path),
    )
    assert code == 0 and err == ""
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    texts = [record["response"]["body"]["choices"][0]["message"]["content"] for record in records]
    assert lines_of(out) == [
        expected_message(text, 4, number) for number, text in enumerate(texts, 1)
    ]


def test_default_field_missing_suggests_one(capsysbinary):
    """A record whose text is elsewhere is a bad record, with a --field suggestion;
    a run that reads no record at all is an error, with the keys the records have."""
    code, out, err = run(capsysbinary, "extract", str(EXAMPLES / "batch_output.jsonl"))
    assert code == 1 and out == b""
    assert "batch_output.jsonl:1: bad record: response is an object, not a string" in err
    assert "perhaps --field response.body.choices.0.message.content" in err
    assert "3 bad records skipped" in err
    assert "error: no record could be read (3 bad); the records' keys are id, custom_id," in err


def test_pretty_json_document_and_array(tmp_path, capsysbinary):
    """A pretty-printed object is one record; a JSON array is one record per element."""
    array = tmp_path / "array.json"
    array.write_text(
        json.dumps([{"completion": CALL}, {"completion": "hi"}], indent=2), encoding="utf-8"
    )
    code, out, _ = run(capsysbinary, "extract", "--seed", "1", str(array))
    assert code == 0
    assert lines_of(out) == [expected_message(CALL, 1, 1), expected_message("hi", 1, 2)]
    code, out, _ = run(
        capsysbinary, "extract", "--seed", "1", str(EXAMPLES / "chat_completion.json")
    )
    text = json.loads((EXAMPLES / "chat_completion.json").read_text(encoding="utf-8"))["choices"][
        0
    ]["message"]["content"]
    assert lines_of(out) == [expected_message(text, 1, 1)]


def test_line_endings_bom_blank_lines(tmp_path, capsysbinary):
    """CRLF, a UTF-8 BOM, blank lines and a last line without newline are all fine."""
    path = tmp_path / "crlf.jsonl"
    path.write_bytes(
        b'\xef\xbb\xbf{"completion": "a"}\r\n\r\n   \n{"completion": "b\\n'
        + CALL.replace("\n", "\\n").replace('"', '\\"').encode()
        + b'"}'
    )
    code, out, err = run(capsysbinary, "extract", "--seed", "1", str(path))
    assert code == 0 and err == ""
    assert lines_of(out) == [expected_message("a", 1, 1), expected_message("b\n" + CALL, 1, 2)]


def test_python_json_oddities(tmp_path, capsysbinary):
    """What Python's json accepts and orjson refuses (NaN, lone surrogates, huge
    integers) still reads; the output stays valid JSON."""
    path = tmp_path / "odd.jsonl"
    path.write_bytes(
        b'{"completion": "x\\ud800y", "score": NaN}\n'
        b'{"completion": "big", "n": 123456789012345678901234567890}\n'
    )
    code, out, err = run(capsysbinary, "extract", str(path))
    assert code == 0 and err == ""
    got = [json.loads(line) for line in out.decode("ascii").splitlines()]
    assert got == [
        {"role": "assistant", "content": "x\ud800y"},
        {"role": "assistant", "content": "big"},
    ]


def test_existing_tool_calls_are_kept(tmp_path, capsysbinary):
    """A response whose server parsed some calls: those come first, then the text's."""
    parsed = [
        {"id": "call_server", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    ]
    records = [
        chat_record(1, None, tool_calls=parsed),
        chat_record(2, "more " + CALL, tool_calls=parsed),
    ]
    path = write_jsonl(tmp_path / "log.jsonl", records)
    code, out, _ = run(capsysbinary, "extract", "--seed", "1", str(path))
    first, second = lines_of(out)
    assert first == {"role": "assistant", "content": None, "tool_calls": parsed}
    assert second["tool_calls"] == parsed + expected_message(CALL, 1, 2)["tool_calls"]
    assert second["content"] == "more "
    check_message(second)


def test_options_reach_the_parser(tmp_path, capsysbinary):
    """--arguments raw, --python-literals and --unknown-tool are the parser's options."""
    text = "<tool_call>{'name': 'f', 'arguments': {'a': True,  'b': None}}</tool_call>"
    path = write_jsonl(tmp_path / "log.jsonl", [{"completion": text}])
    code, out, _ = run(capsysbinary, "extract", "--seed", "1", "--python-literals", str(path))
    assert lines_of(out) == [expected_message(text, 1, 1, python_literals=True)]
    assert lines_of(out)[0]["tool_calls"][0]["function"]["arguments"] == '{"a": true, "b": null}'
    text = '<tool_call>{"name": "f", "arguments": {"a" :  1.50}}</tool_call>'
    path = write_jsonl(tmp_path / "log.jsonl", [{"completion": text}])
    code, out, _ = run(capsysbinary, "extract", "--seed", "1", "--arguments", "raw", str(path))
    assert lines_of(out)[0]["tool_calls"][0]["function"]["arguments"] == '{"a" :  1.50}'
    code, out, _ = run(
        capsysbinary,
        "extract",
        "--tools",
        str(EXAMPLES / "tools.json"),
        "--unknown-tool",
        "content",
        str(path),
    )
    assert lines_of(out) == [{"role": "assistant", "content": text}]


# ---------------------------------------------------------------------------
# Problems and --tools.


def test_with_problems(capsysbinary):
    """--with-problems adds the parser's problems, with record and line numbers."""
    code, out, err = run(
        capsysbinary,
        "extract",
        "--with-problems",
        "--seed",
        "1",
        str(EXAMPLES / "completions.jsonl"),
    )
    assert code == 0 and err == ""
    texts = example_texts()
    for number, (message, text) in enumerate(zip(lines_of(out), texts), 1):
        expected = hermes_parse.parse(text, call_id=ids_for(1, number))
        problems = message.pop("problems")
        assert message == expected.to_openai()
        assert problems == [
            dict(p.to_dict(), record=number, line=number) for p in expected.problems
        ]
    kinds = [p["kind"] for message in lines_of(out) for p in message["problems"]]
    assert kinds == ["invalid_json", "truncated", "not_a_call"]


def test_tools_validation(capsysbinary):
    """--tools reports undeclared tools and schema failures with JSON pointers."""
    code, out, err = run(
        capsysbinary,
        "extract",
        "--with-problems",
        "--tools",
        str(EXAMPLES / "tools.json"),
        str(EXAMPLES / "completions.jsonl"),
    )
    assert code == 0 and err == ""
    problems = {p["record"]: p for message in lines_of(out) for p in message["problems"]}
    assert problems[7] == {
        "kind": "schema_mismatch",
        "offset": None,
        "length": None,
        "index": 0,
        "detail": "get_weather: 'kelvin' is not one of ['celsius', 'fahrenheit']",
        "pointer": "/unit",
        "schema_pointer": "/properties/unit/enum",
        "record": 7,
        "line": 7,
    }
    assert problems[8]["kind"] == "unknown_tool" and "book_flight" in problems[8]["detail"]
    assert problems[8]["index"] == 0


def test_tools_schema_pointer_into_arrays(tmp_path, capsysbinary):
    """Pointers reach into nested arrays and escape "/" and "~" (RFC 6901)."""
    tools = [
        {
            "type": "function",
            "function": {
                "name": "f",
                "parameters": {
                    "type": "object",
                    "properties": {"a/b~": {"type": "array", "items": {"type": "integer"}}},
                    "required": ["need"],
                },
            },
        }
    ]
    tools_path = tmp_path / "tools.json"
    tools_path.write_text(json.dumps({"model": "m", "tools": tools}), encoding="utf-8")
    text = '<tool_call>{"name": "f", "arguments": {"a/b~": [1, "two", 3]}}</tool_call>'
    path = write_jsonl(tmp_path / "log.jsonl", [{"completion": text}])
    code, out, _ = run(
        capsysbinary, "extract", "--with-problems", "--tools", str(tools_path), str(path)
    )
    problems = lines_of(out)[0]["problems"]
    assert [(p["pointer"], p["schema_pointer"]) for p in problems] == [
        ("", "/required"),
        ("/a~1b~0/1", "/properties/a~1b~0/items/type"),
    ]


def test_tools_file_errors(tmp_path, capsysbinary):
    """An unusable --tools file is a usage error (exit 2) that says why."""
    bad_schema = tmp_path / "bad.json"
    bad_schema.write_text(
        json.dumps([{"type": "function", "function": {"name": "f", "parameters": {"type": 5}}}])
    )
    code, _, err = run(
        capsysbinary, "extract", "--tools", str(bad_schema), str(EXAMPLES / "completion.txt")
    )
    assert code == 2 and "not a valid JSON Schema" in err and "'f'" in err
    not_json = tmp_path / "x.json"
    not_json.write_text("[{")
    code, _, err = run(
        capsysbinary, "extract", "--tools", str(not_json), str(EXAMPLES / "completion.txt")
    )
    assert code == 2 and "not JSON" in err
    code, _, err = run(
        capsysbinary,
        "extract",
        "--tools",
        str(tmp_path / "missing.json"),
        str(EXAMPLES / "completion.txt"),
    )
    assert code == 2 and "cannot read" in err
    nameless = tmp_path / "n.json"
    nameless.write_text('[{"type": "function", "function": {}}]')
    code, _, err = run(
        capsysbinary, "extract", "--tools", str(nameless), str(EXAMPLES / "completion.txt")
    )
    assert code == 2 and "no function name" in err


def test_missing_jsonschema_is_a_clear_error():
    """Without the jsonschema package, --tools says what to install (exit 1)."""
    code = (
        "import sys; sys.modules['jsonschema'] = None\n"
        "from hermes_parse.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    import subprocess
    import sys

    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "extract",
            "--tools",
            str(EXAMPLES / "tools.json"),
            str(EXAMPLES / "completion.txt"),
        ],
        capture_output=True,
    )
    assert proc.returncode == 1
    assert b"--tools needs the 'jsonschema' package: pip install jsonschema" in proc.stderr
    # Without --tools, jsonschema is not needed at all.
    proc = subprocess.run(
        [sys.executable, "-c", code, "extract", str(EXAMPLES / "completion.txt")],
        capture_output=True,
    )
    assert proc.returncode == 0 and proc.stderr == b""


# ---------------------------------------------------------------------------
# Bad records, --strict, exit codes.


def test_bad_records_are_reported_and_skipped(tmp_path, capsysbinary):
    """A line that is not JSON, or has no text, is reported with its line and skipped."""
    path = tmp_path / "log.jsonl"
    path.write_bytes(
        b'{"completion": "one"}\n'
        b"{not json\n"
        b"\n"
        b'{"completion": 5}\n'
        b'{"completion": "\xff"}\n'
        b"[1, 2]\n"
        b'{"completion": "six"}\n'
    )
    code, out, err = run(capsysbinary, "extract", str(path))
    assert code == 0
    assert lines_of(out) == [
        {"role": "assistant", "content": "one"},
        {"role": "assistant", "content": "six"},
    ]
    assert f"{path}:2: bad record: not JSON" in err
    assert f"{path}:4: bad record: completion is a number, not a string" in err
    assert f"{path}:5: bad record: not valid UTF-8" in err
    assert f"{path}:6: bad record: a JSON array, not an object or a string" in err
    assert "4 bad records skipped" in err


# A line nested past what any JSON reader here takes (orjson stops at 1024
# levels; Python's json at its recursion limit), and one whose text sits under
# deep nesting: bad records like a line that is not JSON, never a crash.
TOO_DEEP = b'{"id": 1, "completion": "hi", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
DEEP_TEXT = b'{"a": ' + b'{"b": ' * 3000 + b'{"completion": "hi"}' + b"}" * 3000 + b"}"
DEEP_MESSAGE = "bad record: nested too deeply (arrays and objects more than 1,024 levels deep)"


def nested(depth):
    """A record with arrays ``depth`` deep (the record's object is one more level)."""
    return b'{"completion": "deep", "x": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


def test_too_deep_records_are_bad_records(tmp_path, capsysbinary):
    """extract and stats: a line nested too deeply is reported with its line and
    skipped, the records around it are read; 1,024 levels (orjson's limit) are
    read, with orjson or without; a huge but shallow record is read."""
    wide = json.dumps({"completion": "wide", "x": list(range(100_000))}).encode()
    path = tmp_path / "log.jsonl"
    path.write_bytes(
        b'{"completion": "one"}\n'
        + TOO_DEEP
        + b"\n"
        + DEEP_TEXT
        + b"\n"
        + nested(1024)
        + b"\n"
        + nested(1025)
        + b"\n"
        + wide
        + b"\n"
        + b'{"completion": "' + CALL.replace('"', '\\"').replace("\n", "\\n").encode() + b'"}\n'
    )
    code, out, err = run(capsysbinary, "extract", "--seed", "1", str(path))
    assert code == 0
    messages = lines_of(out)
    assert [message["content"] for message in messages] == ["one", "deep", "wide", None]
    assert messages[3]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert f"{path}:2: {DEEP_MESSAGE}" in err
    assert f"{path}:3: {DEEP_MESSAGE}" in err
    assert f"{path}:5: {DEEP_MESSAGE}" in err
    assert ":4:" not in err and ":6:" not in err
    assert "3 bad records skipped" in err
    assert "Traceback" not in err

    code, out, err = run(capsysbinary, "stats", "--json", str(path))
    assert code == 0
    data = json.loads(out)
    assert data["records"] == 4 and data["bad_records"] == 3 and data["tool_calls"] == 1
    assert f"{path}:2: {DEEP_MESSAGE}" in err and "3 bad records skipped" in err

    # --strict: the deep line stops the run like any bad record.
    code, out, err = run(capsysbinary, "extract", "--strict", str(path))
    assert code == 1
    assert lines_of(out) == [{"role": "assistant", "content": "one"}]
    assert f"{path}:2: {DEEP_MESSAGE}" in err

    # The first line too deep: still JSON Lines (not one document, all lost).
    first = tmp_path / "first.jsonl"
    first.write_bytes(TOO_DEEP + b'\n{"completion": "two"}\n')
    code, out, err = run(capsysbinary, "extract", str(first))
    assert code == 0
    assert lines_of(out) == [{"role": "assistant", "content": "two"}]
    assert f"{first}:1: {DEEP_MESSAGE}" in err


def test_too_deep_records_under_fix(tmp_path, capsysbinary):
    """--fix: a line nested too deeply is reported and written as it came, like
    a line that is not JSON; a response 1,023 levels deep is still repaired
    (read again exactly, and written, deeper than Python's recursion limit)."""
    good = json.dumps(chat_record(1, CALL)).encode()
    deep_chat = json.dumps(chat_record(2, CALL)).encode()[:-1]
    deep_chat += b', "x": ' + b"[" * 1022 + b"]" * 1022 + b"}"
    path = tmp_path / "log.jsonl"
    path.write_bytes(good + b"\n" + TOO_DEEP + b"\n" + deep_chat + b"\n" + DEEP_TEXT + b"\n")
    code, out, err = run(capsysbinary, "extract", "--fix", "--seed", "1", str(path))
    assert code == 0
    lines = out.split(b"\n")
    assert len(lines) == 5 and lines[4] == b""
    assert lines[1] == TOO_DEEP and lines[3] == DEEP_TEXT
    deep_x = b', "x": ' + b"[" * 1022 + b"]" * 1022 + b"}"
    assert lines[2].endswith(deep_x)  # (too deep for json.loads here)
    for line in (lines[0], lines[2][: -len(deep_x)] + b"}"):
        message = json.loads(line)["choices"][0]["message"]
        assert message["tool_calls"][0]["function"]["name"] == "get_weather"
    assert f"{path}:2: {DEEP_MESSAGE}" in err
    assert f"{path}:4: {DEEP_MESSAGE}" in err
    assert "2 bad records skipped" in err
    assert "Traceback" not in err


def test_strict_stops_at_a_bad_record(tmp_path):
    """--strict: the first bad record stops the run with exit 1 (output so far is out)."""
    path = tmp_path / "log.jsonl"
    path.write_bytes(b'{"completion": "one"}\n{oops\n{"completion": "three"}\n')
    proc = run_cli("extract", "--strict", str(path))
    assert proc.returncode == 1
    assert lines_of(proc.stdout) == [{"role": "assistant", "content": "one"}]
    assert f"{path}:2: bad record: not JSON".encode() in proc.stderr
    assert b"stopping at the first bad record (--strict)" in proc.stderr


def test_strict_exits_1_on_problems(capsysbinary):
    """--strict: problems are printed with their place, the run goes on, exit 1."""
    path = str(EXAMPLES / "completions.jsonl")
    code, out, err = run(
        capsysbinary, "extract", "--strict", "--tools", str(EXAMPLES / "tools.json"), path
    )
    assert code == 1
    assert len(lines_of(out)) == 9
    assert f"{path}:5: invalid_json (call 0) at characters 123-126: expected a key" in err
    assert (
        f"{path}:7: schema_mismatch (call 0) at /unit: get_weather: 'kelvin' is not one of" in err
    )
    assert "5 problems in 5 records (--strict)" in err
    code, _, err = run(capsysbinary, "extract", "--strict", str(EXAMPLES / "chat_completion.json"))
    assert code == 0 and err == ""


@pytest.mark.parametrize(
    "argv, message",
    [
        (["extract", "--bogus"], "unrecognized arguments"),
        (["frobnicate"], "invalid choice"),
        ([], "required"),
        (["extract", "--fix", "--field", "x"], "--field does not apply"),
        (["extract", "--fix", "--format", "jsonl"], "not --format jsonl"),
        (["stream", "--chunk", "0"], "must be 1 or more"),
        (["stream", "--chunk", "2", "--tokenizer", "x"], "not allowed with argument"),
        (["extract", "--seed", "-1"], "must be 0 or more"),
        (["extract", "-", "-"], "stdin (-) can be read only once"),
        (["extract", "--format", "xml"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2(argv, message, capsysbinary):
    """Usage errors exit 2 with a message."""
    code, out, err = run(capsysbinary, *argv)
    assert code == 2 and out == b""
    assert message in err


def test_unreadable_input_exits_1(tmp_path, capsysbinary):
    """A missing file is an error (exit 1) that names it."""
    code, out, err = run(capsysbinary, "extract", str(tmp_path / "nope.jsonl"))
    assert code == 1 and out == b""
    assert f"cannot read {tmp_path / 'nope.jsonl'}: No such file or directory" in err


def test_several_files(tmp_path, capsysbinary):
    """Several inputs, each in its own format, print in order; lines are per file."""
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"completion": "x"}\n{\n')
    code, out, err = run(
        capsysbinary,
        "extract",
        "--seed",
        "1",
        str(EXAMPLES / "completion.txt"),
        str(bad),
        str(EXAMPLES / "stream.sse"),
    )
    assert code == 0
    assert len(lines_of(out)) == 3
    assert f"{bad}:2: bad record" in err


def test_empty_input(tmp_path, capsysbinary):
    """An empty input has no records, in every format: exit 0, no output, a note."""
    path = tmp_path / "empty"
    path.write_bytes(b"")
    for fmt in ("auto", "text", "jsonl", "chat", "sse"):
        code, out, err = run(capsysbinary, "extract", "--format", fmt, str(path))
        assert (code, out) == (0, b""), fmt
        assert err == f"hermes-parse: {path}: no records (the input is empty)\n", fmt


# ---------------------------------------------------------------------------
# --fix


def test_fix_chat_completion(capsysbinary):
    """--fix prints the response with its calls moved into tool_calls (a valid ChatCompletion)."""
    path = EXAMPLES / "chat_completion.json"
    code, out, err = run(capsysbinary, "extract", "--fix", "--seed", "1", str(path))
    assert code == 0 and err == ""
    (fixed,) = lines_of(out)
    original = json.loads(path.read_text(encoding="utf-8"))
    completion = check_completion(fixed)
    message = expected_message(original["choices"][0]["message"]["content"], 1, 1)
    assert completion.choices[0].finish_reason == "tool_calls"
    assert fixed["choices"][0]["message"]["content"] == message["content"]
    assert fixed["choices"][0]["message"]["tool_calls"] == message["tool_calls"]
    # Everything else is as it was.
    for key in ("id", "created", "model", "usage"):
        assert fixed[key] == original[key]
    assert fixed["choices"][0]["message"]["refusal"] is None


def test_fix_jsonl_keeps_untouched_records_byte_for_byte(capsysbinary):
    """--fix on JSON Lines: records without calls are written exactly as they came;
    a truncated output keeps finish_reason "length"."""
    path = EXAMPLES / "completions.jsonl"
    code, out, err = run(capsysbinary, "extract", "--fix", "--seed", "1", str(path))
    assert code == 0 and err == ""
    originals = path.read_bytes().splitlines()
    fixed = out.splitlines()
    assert len(fixed) == len(originals)
    for number, (before, after) in enumerate(zip(originals, fixed), 1):
        record, result = json.loads(before), json.loads(after)
        check_completion(result)
        text = record["choices"][0]["message"]["content"]
        message = expected_message(text, 1, number)
        if "tool_calls" not in message:
            assert after == before
            continue
        choice = result["choices"][0]
        assert choice["message"]["tool_calls"] == message["tool_calls"]
        assert choice["message"]["content"] == message["content"]
        assert choice["finish_reason"] == (
            "length" if record["choices"][0]["finish_reason"] == "length" else "tool_calls"
        )


def test_fix_every_choice_and_problems(tmp_path, capsysbinary):
    """--fix repairs every choice (n > 1); --with-problems puts each choice's problems on it."""
    record = chat_record(1, "x" + CALL + "<tool_call>{bad}</tool_call>", choices=2)
    path = write_jsonl(tmp_path / "log.jsonl", [record])
    code, out, _ = run(
        capsysbinary, "extract", "--fix", "--with-problems", "--seed", "1", str(path)
    )
    (fixed,) = lines_of(out)
    for index, choice in enumerate(fixed["choices"]):
        expected = hermes_parse.parse(
            record["choices"][0]["message"]["content"], call_id=ids_for(1, 1, index)
        )
        assert choice["message"]["tool_calls"] == expected.to_openai()["tool_calls"]
        assert choice["problems"] == [
            dict(p.to_dict(), record=1, line=1) for p in expected.problems
        ]
        assert choice["finish_reason"] == "tool_calls"


def test_fix_passes_other_records_through(tmp_path, capsysbinary):
    """--fix: a record that is not a chat.completion is reported and written as it came."""
    path = tmp_path / "log.jsonl"
    path.write_bytes(b'{"completion": "x"}\n{oops\n')
    code, out, err = run(capsysbinary, "extract", "--fix", str(path))
    assert code == 1  # no record could be read
    assert out == b'{"completion": "x"}\n{oops\n'
    assert f"{path}:1: bad record: not a chat.completion response" in err
    assert f"{path}:2: bad record: not JSON" in err
    assert "error: no record could be read (2 bad); --fix repairs chat.completion" in err
    response = json.loads((EXAMPLES / "chat_completion.json").read_bytes())
    path.write_bytes(b'{"completion": "x"}\n' + json.dumps(response).encode() + b"\n")
    code, out, err = run(capsysbinary, "extract", "--fix", str(path))
    assert code == 0 and "error" not in err
    code, out, err = run(capsysbinary, "extract", "--fix", str(EXAMPLES / "completion.txt"))
    assert code == 2 and "is plain text" in err


def test_fix_keeps_huge_integers_exact(tmp_path, capsysbinary):
    """A repaired record is re-read exactly: an integer beyond 64 bits stays an integer."""
    record = chat_record(1, CALL)
    record["seed"] = 2**80
    path = write_jsonl(tmp_path / "log.jsonl", [record])
    code, out, _ = run(capsysbinary, "extract", "--fix", str(path))
    assert json.loads(out)["seed"] == 2**80


def stream_text_of(path):
    """The content a captured stream carried, joined."""
    parts = []
    for event in sse_chunks(path.read_bytes()):
        if event != "[DONE]":
            for choice in event["choices"]:
                parts.append(choice["delta"].get("content") or "")
    return "".join(parts)


def test_sse_extract(capsysbinary):
    """A captured stream is one record: the message of the text it carried."""
    path = EXAMPLES / "stream.sse"
    code, out, err = run(capsysbinary, "extract", "--seed", "1", str(path))
    assert code == 0 and err == ""
    assert lines_of(out) == [expected_message(stream_text_of(path), 1, 1)]


def test_sse_fix(capsysbinary):
    """--fix re-emits the stream: valid chunks, the same envelope, the calls as
    tool_calls deltas, and a client accumulates exactly parse(text)."""
    path = EXAMPLES / "stream.sse"
    code, out, err = run(capsysbinary, "extract", "--fix", "--seed", "1", str(path))
    assert code == 0 and err == ""
    events = sse_chunks(out)
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    for chunk in chunks:
        check_chunk(chunk)
        assert (
            chunk["id"] == "chatcmpl-5c2e8f1a9b7d4e3f8a6b5c4d3e2f1a0b"
            and chunk["model"] == "Qwen/Qwen3-8B"
        )
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 31
    deltas = [chunk["choices"][0]["delta"] for chunk in chunks[:-1]]
    finish = [chunk["choices"][0]["finish_reason"] for chunk in chunks[:-1]]
    assert finish[-1] == "tool_calls" and set(finish[:-1]) == {None}
    deltas = [{k: v for k, v in delta.items() if k != "role"} for delta in deltas]
    expected = hermes_parse.parse(stream_text_of(path), call_id=ids_for(1, 1))
    assert Message.from_deltas(deltas) == Message(expected.content, expected.tool_calls)
    assert any("tool_calls" in delta for delta in deltas)


def test_sse_fix_several_streams_and_choices(tmp_path, capsysbinary):
    """Streams end at [DONE] or where the id changes; each choice has its own parser;
    a stream cut before its finish is closed at the end."""

    def chunk(stream_id, index, content, finish=None):
        return {
            "id": stream_id,
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "m",
            "choices": [{"index": index, "delta": {"content": content}, "finish_reason": finish}],
        }

    texts = {
        0: ["Hi", CALL[:20], CALL[20:]],
        1: ["<tool_", 'call>{"name": "g", ', '"arguments": {}}'],
    }
    lines = []
    for part in range(3):
        for index in (0, 1):
            lines.append(chunk("a", index, texts[index][part], "stop" if part == 2 else None))
    lines.append("[DONE]")
    lines.append(chunk("b", 0, "second " + CALL))  # no finish, no [DONE]
    path = tmp_path / "s.sse"
    path.write_text(
        "".join(f"data: {json.dumps(x) if isinstance(x, dict) else x}\n\n" for x in lines)
    )
    code, out, _ = run(capsysbinary, "extract", "--fix", "--seed", "2", str(path))
    events = sse_chunks(out)
    done = events.index("[DONE]")
    first, second = events[:done], events[done + 1 :]
    for index in (0, 1):
        deltas = [c["choices"][0]["delta"] for c in first if c["choices"][0]["index"] == index]
        expected = hermes_parse.parse("".join(texts[index]), call_id=ids_for(2, 1, index))
        assert Message.from_deltas(deltas) == Message(expected.content, expected.tool_calls)
        assert [
            c["choices"][0]["finish_reason"] for c in first if c["choices"][0]["index"] == index
        ][-1] == "tool_calls"
    assert all(chunk["id"] == "b" for chunk in second)
    expected = hermes_parse.parse("second " + CALL, call_id=ids_for(2, 2))
    assert Message.from_deltas([c["choices"][0]["delta"] for c in second]) == Message(
        expected.content, expected.tool_calls
    )
    code, out, _ = run(capsysbinary, "extract", "--seed", "2", str(path))
    assert [m["content"] for m in lines_of(out)] == ["Hi", "second "]


# ---------------------------------------------------------------------------
# stats


def test_stats_json(capsysbinary):
    """stats --json: the documented numbers, computed independently here from parse()."""
    code, out, err = run(
        capsysbinary,
        "stats",
        "--json",
        "--tools",
        str(EXAMPLES / "tools.json"),
        str(EXAMPLES / "completions.jsonl"),
    )
    assert code == 0 and err == ""
    data = json.loads(out)
    messages = [hermes_parse.parse(text) for text in example_texts()]
    calls = [call for m in messages for call in m.tool_calls]
    sizes = sorted(len(call.arguments.encode()) for call in calls)
    assert data == {
        "records": 9,
        "bad_records": 0,
        "records_with_tool_calls": 7,
        "tool_call_rate": round(7 / 9, 6),
        "tool_calls": 8,
        "tool_calls_by_name": {"get_weather": 5, "search_web": 2, "book_flight": 1},
        "problems": 5,
        "problems_by_kind": {
            "invalid_json": 1,
            "truncated": 1,
            "schema_mismatch": 1,
            "unknown_tool": 1,
            "not_a_call": 1,
        },
        "records_with_problems": 5,
        "malformed_records": 3,
        "malformed_rate": round(3 / 9, 6),
        "arguments_bytes": {
            "min": sizes[0],
            "p50": sizes[3],  # nearest rank: ceil(0.5 * 8) = 4th
            "p90": sizes[7],
            "p99": sizes[7],
            "max": sizes[-1],
            "mean": round(sum(sizes) / len(sizes), 1),
        },
    }


def test_stats_table_and_sse_and_bad_records(tmp_path, capsysbinary):
    """stats prints a table by default; bad records are counted; SSE streams are records."""
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"completion": "hi"}\nnope\n')
    code, out, err = run(capsysbinary, "stats", str(EXAMPLES / "stream.sse"), str(bad))
    assert code == 0
    table = out.decode("utf-8")
    assert table.splitlines()[0].split() == ["records", "2"]
    assert "  with tool calls     1  50.0%" in table
    assert "  bad (skipped)       1" in table
    assert "  get_weather         1  100.0%" in table
    assert f"{bad}:2: bad record: not JSON" in err


def test_stats_empty(capsysbinary, tmp_path):
    """No records: rates are null, sizes null."""
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    code, out, _ = run(capsysbinary, "stats", "--json", str(path))
    data = json.loads(out)
    assert (
        data["records"] == 0 and data["tool_call_rate"] is None and data["arguments_bytes"] is None
    )


def test_stats_percentiles_nearest_rank(tmp_path, capsysbinary):
    """Percentiles of argument sizes: nearest rank over all calls."""
    records = [
        {"completion": '<tool_call>{"name": "f", "arguments": {"s": "%s"}}</tool_call>' % ("x" * n)}
        for n in range(1, 101)
    ]
    path = write_jsonl(tmp_path / "log.jsonl", records)
    code, out, _ = run(capsysbinary, "stats", "--json", str(path))
    sizes = json.loads(out)["arguments_bytes"]
    base = len('{"s": ""}')
    assert sizes == {
        "min": base + 1,
        "p50": base + 50,
        "p90": base + 90,
        "p99": base + 99,
        "max": base + 100,
        "mean": base + 50.5,
    }


def test_first_record_over_a_block(tmp_path, capsysbinary):
    """A first line longer than a read block is still read as JSON Lines."""
    path = write_jsonl(
        tmp_path / "big.jsonl", [{"completion": "x" * 3_000_000 + CALL}, {"completion": "two"}]
    )
    code, out, _ = run(capsysbinary, "extract", "--seed", "1", str(path))
    assert code == 0
    assert lines_of(out) == [
        expected_message("x" * 3_000_000 + CALL, 1, 1),
        expected_message("two", 1, 2),
    ]


def test_tools_check_calls_the_server_parsed(tmp_path, capsysbinary):
    """--tools also checks the tool_calls a response already had; --fix marks the choice."""
    parsed = [
        {
            "id": "call_a",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"unit": "kelvin"}'},
        },
        {"id": "call_b", "type": "function", "function": {"name": "nope", "arguments": "{}"}},
    ]
    path = write_jsonl(tmp_path / "log.jsonl", [chat_record(1, None, tool_calls=parsed)])
    tools = str(EXAMPLES / "tools.json")
    code, out, _ = run(capsysbinary, "extract", "--with-problems", "--tools", tools, str(path))
    problems = lines_of(out)[0]["problems"]
    assert [(p["kind"], p["index"], p.get("pointer")) for p in problems] == [
        ("schema_mismatch", 0, ""),
        ("schema_mismatch", 0, "/unit"),
        ("unknown_tool", 1, None),
    ]
    code, out, _ = run(
        capsysbinary, "extract", "--fix", "--with-problems", "--tools", tools, str(path)
    )
    (fixed,) = lines_of(out)
    assert [p["kind"] for p in fixed["choices"][0]["problems"]] == [p["kind"] for p in problems]
    assert fixed["choices"][0]["message"]["tool_calls"] == parsed
    assert fixed["choices"][0]["finish_reason"] == "stop"


def test_sse_fix_with_problems(tmp_path, capsysbinary):
    """--fix --with-problems on a stream: the choice's problems ride on its last chunk."""
    path = EXAMPLES / "stream.sse"
    tools = tmp_path / "tools.json"
    tools.write_text(
        json.dumps(
            [
                {
                    "type": "function",
                    "function": {
                        "name": "get_weather",
                        "parameters": {
                            "type": "object",
                            "properties": {"unit": {"enum": ["kelvin"]}},
                        },
                    },
                }
            ]
        )
    )
    code, out, _ = run(
        capsysbinary, "extract", "--fix", "--with-problems", "--tools", str(tools), str(path)
    )
    chunks = [event for event in sse_chunks(out) if event != "[DONE]" and event["choices"]]
    carrying = [chunk for chunk in chunks if "problems" in chunk["choices"][0]]
    assert carrying == [chunks[-1]]
    (problem,) = carrying[0]["choices"][0]["problems"]
    assert (
        problem["kind"] == "schema_mismatch"
        and problem["pointer"] == "/unit"
        and problem["record"] == 1
    )
    check_chunk(chunks[-1])




def test_too_deep_whatever_the_recursion_limit():
    """Another library may raise Python's recursion limit: json.loads then reads
    1,025 levels, and loads_slow still calls the record too deep, as orjson does."""
    from hermes_parse.cli.records import TooDeep, loads_slow

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(50_000)
    try:
        with pytest.raises(TooDeep):
            loads_slow(nested(1025))
        assert loads_slow(nested(1024))["completion"] == "deep"
    finally:
        sys.setrecursionlimit(limit)
