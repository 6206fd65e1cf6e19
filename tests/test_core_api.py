"""The core's shared pieces: the call-finished event and CallFold, parse's
``truncated`` choice, the one reader of OpenAI tools, the twins' loading, types."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import textwrap

import pytest

import hermes_parse
import hermes_parse.machine
from hermes_parse import CallFold, Message, Problem, ToolCall, sequential_ids
from hermes_parse._tools import tool_names, tool_schemas

from helpers import check, chunkings

TWO_CALLS = (
    "Checking.\n"
    '<tool_call>{"name": "a", "arguments": {"x": "1"}}</tool_call>\n'
    '<tool_call>{"name": "b", "arguments": {"y": [1, 2]}}</tool_call>'
)


def test_calls_finished_counts_calls_whose_block_ended(backend):
    """calls_finished rises when a call's block ends, not when its object closes or its name is sent."""
    parser = backend.StreamParser(call_id=sequential_ids())
    seen = []
    for piece in ['<tool_call>{"name": "a", "argu', 'ments": {}}', "</tool_", "call>", "<tool_call>", '{"name": "b"}']:
        parser.feed(piece)
        seen.append(parser.calls_finished)
    parser.close()
    seen.append(parser.calls_finished)
    assert seen == [0, 0, 0, 1, 1, 1, 2]


def test_calls_finished_counts_damaged_and_truncated_calls(backend):
    """A call skipped after a defect, or cut by the end of the text, is finished too (its arguments are final)."""
    parser = backend.StreamParser()
    parser.feed('<tool_call>{"name": "a", "arguments": {"x": 1,}}</tool_call><tool_call>{"name": "b", "arguments": {"y": "z')
    assert parser.calls_finished == 1
    parser.close()
    assert parser.calls_finished == 2
    assert parser.calls_finished == len(parser.problems)  # one invalid_json, one truncated


@pytest.mark.parametrize("chunks", chunkings(TWO_CALLS, every_cut=False), ids=lambda c: f"{len(c)}-chunks")
def test_fold_hands_out_each_call_once_when_it_is_final(backend, chunks):
    """CallFold.finish(calls_finished) gives every call exactly once, whole, in order, however the text is cut."""
    parser = backend.StreamParser(call_id=sequential_ids())
    fold = CallFold()
    finished = []
    for chunk in chunks:
        fold.add(parser.feed(chunk))
        for call in fold.finish(parser.calls_finished):
            assert call == fold.call(call.index)
            finished.append(call)
    fold.add(parser.close())
    finished += fold.finish(parser.calls_finished)
    expected = backend.parse(TWO_CALLS, call_id=sequential_ids())
    assert finished == expected.tool_calls
    assert fold.message(parser.problems) == expected
    assert fold.finish(parser.calls_finished) == []


def test_fold_reads_openai_deltas_in_any_order():
    """The fold takes deltas as a client does: indices out of order, missing keys, empty arguments."""
    fold = CallFold()
    fold.add([
        {"tool_calls": [{"index": 1, "id": "call_b", "type": "function", "function": {"name": "b", "arguments": ""}}]},
        {"content": "hi"},
        {"tool_calls": [{"index": 0, "id": "call_a", "function": {"name": "a"}}]},
        {"tool_calls": [{"index": 1, "function": {"arguments": '{"k": '}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]},
        {"tool_calls": [{"index": 1, "function": {"arguments": "2}"}}]},
        {"content": None},
    ])
    assert len(fold) == 2
    assert fold.content == "hi"
    assert fold.calls == [ToolCall(0, "call_a", "a", "{}"), ToolCall(1, "call_b", "b", '{"k": 2}')]
    assert fold.finish(1) == [ToolCall(0, "call_a", "a", "{}")]
    assert fold.finished == 1
    assert Message.from_deltas([]) == Message(None)


CUT = 'I will.\n<tool_call>{"name": "w", "arguments": {"path": "a.txt", "text": "hel'


def test_truncated_keep_is_the_default_and_what_a_stream_sends(backend):
    """truncated="keep": the cut call keeps its arguments as far as they went, as the stream sent them."""
    message = backend.parse(CUT, call_id=sequential_ids())
    assert message == backend.parse(CUT, call_id=sequential_ids(), truncated="keep")
    assert message.tool_calls == [ToolCall(0, "call_0", "w", '{"path": "a.txt", "text": "hel')]
    assert message.content == "I will.\n"
    assert [p.kind for p in message.problems] == ["truncated"]


def test_truncated_drop_and_content(backend):
    """"drop" removes the cut call, "content" moves its block to content; the problem stays, with no index."""
    problem = Problem("truncated", 8, len(CUT) - 8, None, "the text ended inside the call")
    dropped = backend.parse(CUT, truncated="drop")
    assert dropped == Message("I will.\n", [], [problem])
    moved = backend.parse(CUT, truncated="content")
    assert moved == Message(CUT, [], [problem])
    assert moved.to_openai() == {"role": "assistant", "content": CUT}


def test_truncated_leaves_whole_calls_alone(backend):
    """Only the call cut by the end of the text is affected: earlier calls and their problems stay."""
    text = '<tool_call>{"name": "a", "arguments": {}, "arguments": 1}</tool_call>' + CUT
    message = backend.parse(text, call_id=sequential_ids(), truncated="drop")
    assert [call.name for call in message.tool_calls] == ["a"]
    assert [(p.kind, p.index) for p in message.problems] == [("duplicate_key", 0), ("truncated", None)]
    assert backend.parse("no call", truncated="drop") == Message("no call")


def test_truncated_rejects_unknown_values(backend):
    """An unknown truncated value is a ValueError, as every option's."""
    with pytest.raises(ValueError, match="truncated"):
        backend.parse("x", truncated="move")


class _Function:
    def __init__(self, name, parameters=None):
        self.name = name
        self.parameters = parameters


class _Tool:
    def __init__(self, function):
        self.type = "function"
        self.function = function


def test_tools_reader_takes_dicts_objects_and_bare_functions():
    """The one tools reader: OpenAI dicts, SDK-style objects, bare functions; nameless entries ignored."""
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    tools = [
        {"type": "function", "function": {"name": "get_weather", "parameters": schema}},
        _Tool(_Function("search")),
        {"name": "bare", "parameters": {}},
        {"type": "function", "function": {"description": "no name"}},
        {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "null"}}},
    ]
    assert tool_names(tools) == {"get_weather", "search", "bare"}
    assert tool_schemas(tools) == {"get_weather": schema, "search": None, "bare": {}}
    assert tool_names(None) is None and tool_schemas(None) is None
    assert tool_names([]) == frozenset()


def test_tools_option_uses_the_reader(backend):
    """StreamParser's tools option reads objects as well as dicts."""
    message = backend.parse('<tool_call>{"name": "search", "arguments": {}}</tool_call>', tools=[_Tool(_Function("search"))])
    assert message.problems == []


def test_twins_load_under_their_own_names():
    """The pure twin is loaded from the sources as hermes_parse._machine_py; the compiled one, when built, is an extension."""
    python = hermes_parse.machine.load("python")
    assert python.__name__ == "hermes_parse._machine_py.envelope"
    assert python.__file__.endswith("envelope.py")
    compiled = hermes_parse.machine.compiled()
    if compiled is not None:
        assert compiled.__name__ == "hermes_parse.machine.envelope"
        assert python.StreamParser is not compiled.StreamParser
    with pytest.raises(ValueError):
        hermes_parse.machine.load("rust")


def test_backend_is_cython_where_the_extension_is_built():
    """With the extension built, the public API runs the compiled twin."""
    if hermes_parse.machine.compiled() is None:
        pytest.skip("the Cython extension is not built (CI fails on that in conftest's backend fixture)")
    assert hermes_parse.BACKEND == "cython"


def test_no_extensions_environment_gives_the_python_twin():
    """HERMES_PARSE_NO_EXTENSIONS=1 makes the public API run the pure-Python twin."""
    out = subprocess.run(
        [sys.executable, "-c", "import hermes_parse, json; print(json.dumps([hermes_parse.BACKEND, hermes_parse.StreamParser.__module__]))"],
        env={"HERMES_PARSE_NO_EXTENSIONS": "1", "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(out) == ["python", "hermes_parse._machine_py.envelope"]


def test_mypy_sees_the_public_api(tmp_path):
    """A type checker sees parse() and StreamParser.feed() typed (the pure twin is the spec): a misspelt option is an error."""
    mypy = pytest.importorskip("mypy.api")
    probe = tmp_path / "probe.py"
    probe.write_text(textwrap.dedent(
        """
        import hermes_parse
        message = hermes_parse.parse("x", argumens="raw")
        reveal_type(message)
        reveal_type(hermes_parse.StreamParser().feed("x"))
        """
    ))
    out, err, status = mypy.run([str(probe), "--no-incremental", "--follow-imports=silent"])
    assert status == 1, out + err
    assert 'Unexpected keyword argument "argumens" for "parse"' in out
    assert 'Revealed type is "hermes_parse._types.Message"' in out
    assert 'Revealed type is "builtins.list[builtins.dict[builtins.str, Any]]"' in out or (
        'Revealed type is "list[dict[str, Any]]"' in out
    )


def test_mypy_checks_the_package(tmp_path):
    """mypy finds nothing in the whole package, with pyproject.toml's [tool.mypy] (the engines
    and untyped packages it names are Any; everything else is checked).  A cold cache: about 5 s."""
    mypy = pytest.importorskip("mypy.api")
    root = pathlib.Path(__file__).resolve().parents[1]
    out, err, status = mypy.run(
        [
            str(root / "hermes_parse"),
            "--config-file",
            str(root / "pyproject.toml"),
            "--cache-dir",
            str(tmp_path / "mypy_cache"),
        ]
    )
    assert status == 0, out + err


def test_the_package_holds_no_symlink():
    """A checkout without symlinks (Windows' default) is the same package: no source is a link."""
    import pathlib

    root = pathlib.Path(hermes_parse.__file__).parent
    assert [str(p) for p in root.rglob("*") if p.is_symlink()] == []


@pytest.mark.parametrize("value", [0, -1, 2.5, 2**70, True, "3", None])
def test_max_buffer_must_be_a_positive_integer(backend, value):
    """Both twins refuse the same max_buffer values with ValueError (the compiled one keeps it in a C integer)."""
    with pytest.raises(ValueError, match="max_buffer"):
        backend.StreamParser(max_buffer=value)
    with pytest.raises(ValueError, match="max_buffer"):
        backend.parse("<tool_call>", max_buffer=value)


def test_python_escape_beyond_unicode_is_invalid_on_both_twins(backend):
    """\\UFFFFFFFF is past U+10FFFF: invalid, whatever the width of a C long."""
    message = backend.parse("<tool_call>{'name': 'f', 'arguments': {'a': '\\UFFFFFFFF'}}</tool_call>", python_literals=True)
    assert [(p.kind, p.detail) for p in message.problems] == [("invalid_json", "invalid \\U escape")]


@pytest.mark.parametrize("prefix", ["", "  ", "x"])
@pytest.mark.parametrize("max_buffer", [1, 3, 11, 12])
def test_a_tiny_max_buffer_still_reports_the_block(backend, prefix, max_buffer):
    """A block cut off by max_buffer is content with a not_a_call problem, at the start of the text too."""
    text = prefix + '<tool_call>{"name": "f", "arguments": {}}</tool_call>'
    message = check(backend, text, max_buffer=max_buffer)
    assert message.content == text.lstrip(" ") or message.content == text
    assert message.tool_calls == []
    assert [p.kind for p in message.problems] == ["not_a_call"]
