"""The core promises, each on a small hand-written input, on both twins."""

import importlib.machinery
import json
import os
from pathlib import Path

import pytest

import hermes_parse
from hermes_parse import ClosedError, Problem, ToolCall, sequential_ids

from helpers import check, cuts_to_chunks, run_stream


def test_the_example(backend):
    """The issue's example: content, then one call in OpenAI's shape."""
    text = 'I\'ll check.\n\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Beijing"}}\n</tool_call>'
    message = check(backend, text)
    assert message.to_openai() == {
        "role": "assistant",
        "content": "I'll check.\n\n",
        "tool_calls": [
            {
                "id": "call_0",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Beijing"}'},
            }
        ],
    }
    assert message.problems == []


def test_delta_shape(backend):
    """The first delta of a call carries id, type, name and arguments ""; the rest only arguments."""
    text = 'Hi<tool_call>{"name": "f", "arguments": {"a": "bcdefgh"}}</tool_call>'
    deltas, _, _ = run_stream(backend, cuts_to_chunks(text, range(2, len(text), 2)), call_id=sequential_ids())
    assert deltas[0] == {"content": "Hi"}
    assert deltas[1] == {
        "tool_calls": [
            {
                "index": 0,
                "id": "call_0",
                "type": "function",
                "function": {"name": "f", "arguments": ""},
            }
        ]
    }
    fragments = [d["tool_calls"][0]["function"]["arguments"] for d in deltas[2:]]
    assert all(set(d["tool_calls"][0]) == {"index", "function"} for d in deltas[2:])
    assert "".join(fragments) == '{"a": "bcdefgh"}'
    assert len(fragments) > 3  # the string argument streamed as it came


def test_need_more_input_is_an_empty_list(backend):
    """A chunk that completes nothing returns []: a held tag prefix, a name not yet closed."""
    parser = backend.StreamParser()
    assert parser.feed("<tool_") == []
    assert parser.feed('call>{"name": "get_') == []
    assert parser.feed("weather") == []
    assert parser.feed('"')[0]["tool_calls"][0]["function"]["name"] == "get_weather"


def test_json_mode_is_json_dumps_of_json_loads(backend):
    """arguments="json" equals json.dumps(json.loads(args), ensure_ascii=False)."""
    args = (
        '{ "s" : "\\u00e9\\ud83d\\ude00\\n\\t\\"\\\\\\/\\u0001\\u001f\\b\\f\\r\\u2028", '
        '"n": [0, -0, 1.5e3, 1E-2, -0.0, 12345678901234567890, 2.50, 1e22, 0.1],'
        '"o": {"name": "not the tool", "t": true, "f": false, "z": null}, "e": {}, "a": [] }'
    )
    message = check(backend, '<tool_call>{"name": "f", "arguments": ' + args + "}</tool_call>")
    assert message.tool_calls[0].arguments == json.dumps(json.loads(args), ensure_ascii=False)
    assert message.tool_calls[0].name == "f"


def test_raw_mode_is_the_models_text(backend):
    """arguments="raw" gives the value exactly as the model wrote it."""
    args = '{ "a" :1.50e1,\n  "b": "\\u00e9" }'
    message = check(backend, '<tool_call>{"name": "f", "arguments": ' + args + " }</tool_call>", arguments="raw")
    assert message.tool_calls[0].arguments == args


@pytest.mark.parametrize("mode", ["json", "raw"])
def test_arguments_as_a_json_string_are_decoded(backend, mode):
    """"arguments": "{\\"a\\": 1}" is the object it holds, in both modes."""
    inner = '{"a": [1, 2], "b": "x"}'
    text = '<tool_call>{"name": "f", "arguments": ' + json.dumps(inner) + "}</tool_call>"
    message = check(backend, text, arguments=mode)
    assert message.tool_calls[0].arguments == inner
    assert message.problems == []


def test_arguments_before_name_and_other_keys(backend):
    """Keys in any order; a "name" inside the arguments is not the tool's; other keys ignored."""
    text = '<tool_call>{"id": 7, "arguments": {"name": "x"}, "type": "function", "name": "f"}</tool_call>'
    message = check(backend, text)
    assert message.tool_calls == [ToolCall(0, "call_0", "f", '{"name": "x"}')]
    assert message.problems == []


def test_parameters_alias_and_missing_or_null_arguments(backend):
    """"parameters" is "arguments"; missing, null or "" arguments are {}."""
    for body, expected in [
        ('{"name": "f", "parameters": {"a": 1}}', '{"a": 1}'),
        ('{"name": "f"}', "{}"),
        ('{"name": "f", "arguments": null}', "{}"),
        ('{"name": "f", "arguments": ""}', "{}"),
    ]:
        message = check(backend, f"<tool_call>{body}</tool_call>")
        assert [c.arguments for c in message.tool_calls] == [expected]
        assert message.problems == []


def test_tags_inside_strings_are_text(backend):
    """</tool_call> and <tool_call> inside a JSON string are text of the string."""
    text = '<tool_call>{"name": "f", "arguments": {"a": "x</tool_call><tool_call>y"}}</tool_call>'
    message = check(backend, text)
    assert json.loads(message.tool_calls[0].arguments) == {"a": "x</tool_call><tool_call>y"}
    assert message.content is None


def test_content_around_and_between_calls(backend):
    """Text before, between and after calls is content, in order; separating whitespace is not."""
    call = '<tool_call>{"name": "f", "arguments": {}}</tool_call>'
    message = check(backend, f"A {call}\n\n{call}B{call}\n \n")
    assert message.content == "A B"
    assert len(message.tool_calls) == 3
    assert check(backend, f"\n{call}\n{call}\n").content is None
    assert check(backend, "   ").content is None
    assert check(backend, f"{call}\nDone.").content == "\nDone."


def test_back_to_back_blocks_and_missing_close_tag(backend):
    """</tool_call><tool_call> is two blocks; so is a call whose closing tag was forgotten."""
    call = '<tool_call>{"name": "f", "arguments": {"i": %d}}'
    message = check(backend, (call % 0) + "</tool_call>" + (call % 1) + "\n" + (call % 2))
    assert [c.arguments for c in message.tool_calls] == ['{"i": 0}', '{"i": 1}', '{"i": 2}']
    assert [c.index for c in message.tool_calls] == [0, 1, 2]
    assert message.problems == []


def test_fenced_body(backend):
    """A markdown fence around the object is allowed."""
    text = '<tool_call>\n```json\n{"name": "f", "arguments": {"a": 1}}\n```\n</tool_call>'
    message = check(backend, text)
    assert message.tool_calls[0].arguments == '{"a": 1}'
    assert message.problems == [] and message.content is None


@pytest.mark.parametrize(
    "text",
    [
        "<toolbox> and <tool_calls> are words",
        "ends with a lone <tool_",
        "<tool_call>not json</tool_call> after",
        '<tool_call>{"arguments": {}}</tool_call>',
        '<tool_call>{"name": 5}</tool_call>',
        '<tool_call>{"name": "get_wea',
        "a < b <<tool_call> c",
    ],
)
def test_non_calls_are_content_in_place(backend, text):
    """A block that is not a call is content, tags and all; nothing is lost."""
    message = check(backend, text)
    assert message.tool_calls == []
    assert message.content == text


def test_not_a_call_is_reported(backend):
    """A block that became content is reported with its span, tags and all."""
    message = check(backend, "x <tool_call>oops</tool_call>")
    assert message.problems == [Problem("not_a_call", 2, 27, None, "expected '{'")]


def test_defect_after_the_name_keeps_the_call(backend):
    """After the name, invalid JSON is reported and the rest of the block skipped."""
    text = '<tool_call>{"name": "f", "arguments": {"a": 1,}}</tool_call>after'
    message = check(backend, text)
    assert message.tool_calls == [ToolCall(0, "call_0", "f", '{"a": 1')]  # a comma is sent with the next item
    assert message.content == "after"
    [problem] = message.problems
    assert (problem.kind, problem.index, text[problem.offset : problem.offset + problem.length]) == (
        "invalid_json",
        0,
        "}}",
    )


def test_truncated_call_is_flagged(backend):
    """Output cut by max_tokens keeps the arguments as far as they went."""
    message = check(backend, '<tool_call>{"name": "f", "arguments": {"a": "abc", "n": 12')
    assert message.tool_calls[0].arguments == '{"a": "abc", "n": 12'
    assert [p.kind for p in message.problems] == ["truncated"]
    message = check(backend, '<tool_call>{"name": "f"')
    assert message.tool_calls[0].arguments == "{}"


def test_trailing_text_and_duplicate_keys(backend):
    """An extra brace and a second "name" are reported, not taken as the call's."""
    message = check(backend, '<tool_call>{"name": "f", "name": "g", "arguments": {}}}</tool_call>')
    assert [(c.name, c.arguments) for c in message.tool_calls] == [("f", "{}")]
    assert [p.kind for p in message.problems] == ["duplicate_key", "trailing_text"]


def test_invalid_arguments(backend):
    """Arguments that are not an object give {} and a problem."""
    for value in ("[1, 2]", "5", '"not json"', '"[1]"'):
        message = check(backend, '<tool_call>{"name": "f", "arguments": %s}</tool_call>' % value)
        assert message.tool_calls[0].arguments == "{}", value
        assert [p.kind for p in message.problems] == ["invalid_arguments"], value


def test_tools_policy(backend):
    """A name not in tools= is kept and reported, or left as content."""
    tools = [{"type": "function", "function": {"name": "f", "parameters": {}}}]
    text = '<tool_call>{"name": "g", "arguments": {}}</tool_call>'
    kept = check(backend, text, tools=tools)
    assert kept.tool_calls[0].name == "g" and kept.problems[0].kind == "unknown_tool"
    as_content = check(backend, text, tools=tools, unknown_tool="content")
    assert as_content.tool_calls == [] and as_content.content == text
    assert as_content.problems[0].kind == "unknown_tool"
    assert check(backend, text.replace('"g"', '"f"'), tools=tools).problems == []


def test_max_buffer_caps_what_is_held(backend):
    """Arguments before the name past max_buffer make the block content."""
    text = '<tool_call>{"arguments": {"a": "' + "x" * 100 + '"}, "name": "f"}</tool_call>'
    message = check(backend, text, max_buffer=50)
    assert message.tool_calls == [] and message.content == text
    assert message.problems[0].kind == "not_a_call"
    assert check(backend, text, max_buffer=200).tool_calls[0].name == "f"


def test_call_ids(backend):
    """Default ids look like OpenAI's; seeded ids repeat; sequential ids count."""
    text = '<tool_call>{"name": "f"}</tool_call><tool_call>{"name": "g"}</tool_call>'
    ids = [c.id for c in backend.parse(text, call_id=None).tool_calls]
    assert all(i.startswith("call_") and len(i) == 29 and i[5:].isalnum() for i in ids)
    assert ids[0] != ids[1]
    seeded = hermes_parse.seeded_ids(7)
    assert [c.id for c in backend.parse(text, call_id=seeded).tool_calls] == [
        c.id for c in backend.parse(text, call_id=hermes_parse.seeded_ids(7)).tool_calls
    ]


def test_misuse(backend):
    """feed after close raises ClosedError; non-str raises TypeError; close twice is []."""
    parser = backend.StreamParser()
    with pytest.raises(TypeError):
        parser.feed(b"bytes")
    parser.feed("x")
    assert parser.close() == []
    assert parser.close() == []
    with pytest.raises(ClosedError):
        parser.feed("y")
    with pytest.raises(ValueError):
        backend.StreamParser(arguments="yaml")


def test_deep_nesting_and_long_numbers(backend):
    """100,000 levels of nesting and a 5,000-digit integer stream without recursion."""
    depth = 100_000
    args = '{"a": ' + "[" * depth + "]" * depth + ', "n": ' + "9" * 5000 + "}"
    message = backend.parse('<tool_call>{"name": "f", "arguments": ' + args + "}</tool_call>")
    assert message.tool_calls[0].arguments == args.replace('"a": ', '"a": ')
    assert message.problems == []


def test_backend_selection():
    """BACKEND names the twin the public API uses: "cython" wherever the extension is built
    (and CI always builds it); "python" only where no extension module is there."""
    assert hermes_parse.BACKEND in ("cython", "python")
    package = Path(hermes_parse.machine.__file__).parent
    built = [
        path.name
        for suffix in importlib.machinery.EXTENSION_SUFFIXES
        for path in package.glob("*" + suffix)
    ]
    if built or os.environ.get("CI"):
        assert hermes_parse.BACKEND == "cython", f"extension modules {built} are built"
    assert hermes_parse.StreamParser is hermes_parse.machine.load(hermes_parse.BACKEND).StreamParser


def test_string_arguments_with_text_after_the_json(backend):
    """"arguments": "{}x" is invalid however it is cut (found by the chunking property)."""
    message = check(backend, '<tool_call>{"name": "f", "arguments": "{}x"}</tool_call>')
    assert message.tool_calls[0].arguments == "{}"
    assert [p.kind for p in message.problems] == ["invalid_arguments"]


@pytest.mark.parametrize("mode", ["json", "raw"])
def test_truncated_inside_a_number(backend, mode):
    """Text ending inside a number keeps it as far as it went, in both modes (found by a property)."""
    message = check(backend, '<tool_call>{"name": "f", "arguments": {"a": 1.5', arguments=mode)
    assert message.tool_calls[0].arguments == '{"a": 1.5'
    assert [p.kind for p in message.problems] == ["truncated"]
