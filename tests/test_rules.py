"""Focused tests for each numbered rule of the semantics (docs/grammar.md),
the delta shape, the options and the stream's life cycle.

Every test goes through ``helpers.check``: the text is parsed once and also
streamed in many chunkings (whole, one character at a time, every two-piece
cut, fixed sizes, random cuts), and every stream must accumulate to the very
same Message as ``parse``, problems included.
"""

import json
import re

import pytest

from hermes_parse._types import (
    ClosedError,
    Message,
    Problem,
    ToolCall,
    seeded_ids,
    sequential_ids,
)
from helpers import check, check_deltas, run_stream, validate_chunk

TC = "<tool_call>"
END = "</tool_call>"


def block(body: str) -> str:
    """Wrap ``body`` in the Hermes tags, one line each as Hermes models write it."""
    return f"{TC}\n{body}\n{END}"


def call_text(name: str, arguments) -> str:
    """The JSON body a model writes for a call."""
    return json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)


def kinds(message: Message) -> list:
    """The kinds of a message's problems, in order."""
    return [problem.kind for problem in message.problems]


def calls(message: Message) -> list:
    """(name, arguments) of each call."""
    return [(call.name, call.arguments) for call in message.tool_calls]


# ---------------------------------------------------------------------------
# Delta shape


def test_delta_shape_first_call_delta_then_fragments(backend):
    """The first delta of a call has index/id/type/name and arguments "", then fragments follow."""
    text = block(call_text("get_weather", {"city": "Paris"}))
    parser = backend.StreamParser(call_id=sequential_ids())
    deltas = parser.feed(text) + parser.close()
    check_deltas(deltas, validate_openai=True)
    assert deltas[0] == {
        "tool_calls": [
            {
                "index": 0,
                "id": "call_0",
                "type": "function",
                "function": {"name": "get_weather", "arguments": ""},
            }
        ]
    }
    fragments = [d["tool_calls"][0]["function"]["arguments"] for d in deltas[1:]]
    assert all(set(d["tool_calls"][0]) == {"index", "function"} for d in deltas[1:])
    assert "".join(fragments) == '{"city": "Paris"}'


def test_delta_shape_content_delta(backend):
    """Plain text comes out as {"content": ...} deltas only."""
    parser = backend.StreamParser()
    deltas = parser.feed("Hello, world.") + parser.close()
    check_deltas(deltas, validate_openai=True)
    assert "".join(d["content"] for d in deltas) == "Hello, world."
    assert parser.problems == []


def test_need_more_input_is_empty_list(backend):
    """A chunk that decides nothing (a tag prefix, a half name) gives []."""
    parser = backend.StreamParser()
    assert parser.feed("<tool") == []
    assert parser.feed('_call>{"name": "f') == []
    assert parser.feed("") == []


def test_name_delta_sent_when_name_string_closes(backend):
    """The call's first delta comes as soon as the name string closes, before the arguments."""
    parser = backend.StreamParser(call_id=sequential_ids())
    assert parser.feed('<tool_call>{"name": "lookup') == []
    out = parser.feed('"')
    assert out == [
        {
            "tool_calls": [
                {
                    "index": 0,
                    "id": "call_0",
                    "type": "function",
                    "function": {"name": "lookup", "arguments": ""},
                }
            ]
        }
    ]


def test_arguments_stream_before_the_call_ends(backend):
    """Argument fragments are sent while the arguments are still being written (strings too)."""
    parser = backend.StreamParser(call_id=sequential_ids())
    parser.feed('<tool_call>{"name": "write", "arguments": {"text": "')
    sent = []
    for piece in ["hello ", "world ", "and more ", "text"]:
        for delta in parser.feed(piece):
            sent.append(delta["tool_calls"][0]["function"]["arguments"])
    streamed = "".join(sent)
    assert "hello world and more" in streamed, streamed


# ---------------------------------------------------------------------------
# Rule 1: block boundaries


def test_rule1_block_between_tags(backend):
    """A block from <tool_call> to </tool_call> is one call."""
    message = check(backend, block(call_text("f", {"a": 1})))
    assert message == Message(None, [ToolCall(0, "call_0", "f", '{"a": 1}')])


def test_rule1_block_runs_to_end_of_text(backend):
    """A complete call with no closing tag (a stop sequence ate it) is a call without problems."""
    message = check(backend, TC + "\n" + call_text("f", {"a": 1}) + "\n")
    assert calls(message) == [("f", '{"a": 1}')]
    assert message.content is None
    assert message.problems == []


def test_rule1_block_ends_at_next_open_tag_after_object(backend):
    """A <tool_call> after the call's object closed starts the next block."""
    text = TC + call_text("a", {"x": 1}) + "\n" + TC + call_text("b", {"y": 2}) + END
    message = check(backend, text)
    assert calls(message) == [("a", '{"x": 1}'), ("b", '{"y": 2}')]
    assert message.content is None
    assert message.problems == []


def test_rule1_back_to_back_blocks(backend):
    """</tool_call><tool_call> are two blocks, two calls, no content."""
    text = TC + call_text("a", {}) + END + TC + call_text("b", {}) + END
    message = check(backend, text)
    assert message == Message(
        None, [ToolCall(0, "call_0", "a", "{}"), ToolCall(1, "call_1", "b", "{}")]
    )


def test_rule1_parallel_calls_qwen_layout(backend):
    """Parallel calls on their own lines, as Qwen/Hermes models write them."""
    text = "\n".join(
        block(call_text(name, {"city": city}))
        for name, city in [("get_weather", "Paris"), ("get_weather", "Tokyo"), ("get_time", "Lima")]
    )
    message = check(backend, text)
    assert message.content is None
    assert [call.index for call in message.tool_calls] == [0, 1, 2]
    assert [call.id for call in message.tool_calls] == ["call_0", "call_1", "call_2"]
    assert calls(message) == [
        ("get_weather", '{"city": "Paris"}'),
        ("get_weather", '{"city": "Tokyo"}'),
        ("get_time", '{"city": "Lima"}'),
    ]
    assert message.problems == []


# ---------------------------------------------------------------------------
# Rule 2: the body


def test_rule2_whitespace_around_object(backend):
    """Whitespace (spaces, tabs, CR LF) around the object inside the block is allowed."""
    text = TC + " \r\n\t " + call_text("f", {"a": 1}) + " \t\r\n " + END
    message = check(backend, text)
    assert message == Message(None, [ToolCall(0, "call_0", "f", '{"a": 1}')])


def test_rule2_json_fence(backend):
    """A ```json fence around the object is accepted and not content."""
    text = TC + "\n```json\n" + call_text("f", {"a": 1}) + "\n```\n" + END
    message = check(backend, text)
    assert message == Message(None, [ToolCall(0, "call_0", "f", '{"a": 1}')])


def test_rule2_bare_fence(backend):
    """A bare ``` fence (no language tag) is accepted too (assumption: models write both)."""
    text = TC + "\n```\n" + call_text("f", {"a": 1}) + "\n```\n" + END
    message = check(backend, text)
    assert message == Message(None, [ToolCall(0, "call_0", "f", '{"a": 1}')])


def test_rule2_keys_in_any_order(backend):
    """"arguments" before "name" gives the same call."""
    text = block('{"arguments": {"city": "Paris", "days": 3}, "name": "get_weather"}')
    message = check(backend, text)
    assert message == Message(
        None, [ToolCall(0, "call_0", "get_weather", '{"city": "Paris", "days": 3}')]
    )


def test_rule2_other_keys_ignored(backend):
    """Keys other than name/arguments (any JSON value) are ignored wherever they stand."""
    text = block(
        '{"id": "x1", "type": "function", "name": "f", "meta": {"a": [1, {"b": null}]},'
        ' "arguments": {"q": 1}, "extra": "</tool_call> inside", "n": -1.5e3}'
    )
    message = check(backend, text)
    assert message == Message(None, [ToolCall(0, "call_0", "f", '{"q": 1}')])


def test_rule2_name_key_inside_arguments(backend):
    """A "name" key inside the arguments is an argument, not the call's name."""
    text = block('{"name": "create_user", "arguments": {"name": "Ada", "age": 36}}')
    message = check(backend, text)
    assert calls(message) == [("create_user", '{"name": "Ada", "age": 36}')]
    assert message.problems == []


def test_rule2_name_key_inside_arguments_written_first(backend):
    """With arguments first, their inner "name" key does not become the call's name."""
    text = block('{"arguments": {"name": "Ada", "nested": {"name": "x"}}, "name": "create_user"}')
    message = check(backend, text)
    assert calls(message) == [("create_user", '{"name": "Ada", "nested": {"name": "x"}}')]
    assert message.problems == []


def test_rule2_parameters_alias(backend):
    """"parameters" is an alias of "arguments"."""
    text = block('{"name": "f", "parameters": {"a": [1, 2]}}')
    message = check(backend, text)
    assert calls(message) == [("f", '{"a": [1, 2]}')]
    assert message.problems == []


@pytest.mark.parametrize("mode", ["json", "raw"])
def test_rule2_arguments_as_json_string(backend, mode):
    """Arguments given as a string holding JSON are decoded (json: normalised; raw: the decoded text)."""
    inner = '{"a":1 , "b":[true,null], "c":"x\\"y"}'
    text = block(json.dumps({"name": "f", "arguments": inner}))
    message = check(backend, text, arguments=mode)
    expected = json.dumps(json.loads(inner), ensure_ascii=False) if mode == "json" else inner
    assert calls(message) == [("f", expected)]
    assert message.problems == []


@pytest.mark.parametrize("mode", ["json", "raw"])
@pytest.mark.parametrize(
    "body",
    [
        '{"name": "f"}',
        '{"name": "f", "arguments": null}',
        '{"arguments": null, "name": "f"}',
        '{"name": "f", "parameters": null}',
    ],
)
def test_rule2_missing_or_null_arguments_are_empty_object(backend, mode, body):
    """Missing or null arguments give "{}" in both modes, with no problem."""
    message = check(backend, block(body), arguments=mode)
    assert message == Message(None, [ToolCall(0, "call_0", "f", "{}")])


@pytest.mark.parametrize(
    "body",
    [
        "{'name': 'f', 'arguments': {}}",  # single quotes
        '{name: "f", "arguments": {}}',  # unquoted key
        '{"arguments": {}, , "name": "f"}',  # double comma before the name
        '{"arguments": {"a": NaN}, "name": "f"}',  # NaN before the name is known
        '{"arguments": {"a": 01}, "name": "f"}',  # leading zero before the name is known
        '{"arguments": {"a": 1,}, "name": "f"}',  # trailing comma before the name is known
        '{"arguments": {"a": "\t"}, "name": "f"}',  # raw control character in a string
    ],
)
def test_rule2_strict_json_before_name_is_not_a_call(backend, body):
    """Invalid (non RFC 8259) JSON before the name is known makes the block content + not_a_call."""
    text = block(body)
    message = check(backend, text)
    assert message.tool_calls == []
    assert message.content == text
    assert kinds(message) == ["not_a_call"]


# ---------------------------------------------------------------------------
# Rule 3: tags inside JSON strings


@pytest.mark.parametrize("mode", ["json", "raw"])
def test_rule3_close_tag_inside_string_is_text(backend, mode):
    """</tool_call> (and <tool_call>) inside an argument string is text of the argument."""
    args = {"text": "end a call with </tool_call> and start one with <tool_call>"}
    text = "Sure." + block(call_text("echo", args)) + " Done."
    message = check(backend, text, arguments=mode)
    assert calls(message) == [("echo", json.dumps(args))]
    assert message.content == "Sure. Done."
    assert message.problems == []


def test_rule3_close_tag_inside_name_and_ignored_key(backend):
    """</tool_call> inside an ignored key's string or before the name does not end the block."""
    body = '{"note": "</tool_call>", "arguments": {"k": "</tool_call>"}, "name": "f"}'
    message = check(backend, block(body))
    assert calls(message) == [("f", '{"k": "</tool_call>"}')]
    assert message.content is None
    assert message.problems == []


# ---------------------------------------------------------------------------
# Rule 4: arguments modes


def test_rule4_json_mode_normalises_like_json_dumps(backend):
    """json mode gives exactly json.dumps(json.loads(args), ensure_ascii=False)."""
    raw_args = (
        '{"a":1.50,"b":"\\u00e9\\/\\b\\f\\n\\r\\t\\u0007\\u001f\\"\\\\","c":[1 , 2,[ ],{ }],'
        '"d":1E2,"e":-0,"f":true,"g":false,"h":null,"i":-0.0,"j":1e-7,"k":123456789012345678901234567890,'
        '"l":"\\ud83d\\ude00 \u2028 \u00e9 \\u4e2d","m":0.1,"n":1.0e+0,"o":12345678.9}'
    )
    text = TC + '{"name": "f", "arguments": ' + raw_args + "}" + END
    message = check(backend, text)
    expected = json.dumps(json.loads(raw_args), ensure_ascii=False)
    assert calls(message) == [("f", expected)]
    assert message.problems == []


def test_rule4_raw_mode_keeps_model_text(backend):
    """raw mode gives the arguments value exactly as the model wrote it."""
    raw_args = '{ "a" :1.50,"b":"\\u00e9\\/" ,\n  "c":[1 , 2],"d":1E2 }'
    text = TC + '{"name": "f", "arguments": ' + raw_args + "  }" + END
    message = check(backend, text, arguments="raw")
    assert calls(message) == [("f", raw_args)]
    assert message.problems == []


@pytest.mark.parametrize(
    "written, expected",
    [
        ('"\\ud800"', '"\\ud800"'),
        ('"\\uDFAA x"', '"\\udfaa x"'),
        ('"\\uD800\\uD800\\n"', '"\\ud800\\ud800\\n"'),
        ('"\\uDd1e\\uD834"', '"\\udd1e\\ud834"'),
        ('"\\uD834\\uDD1E"', '"\U0001d11e"'),  # a real pair is decoded
    ],
)
def test_rule4_lone_surrogate_stays_escape(backend, written, expected):
    """A lone surrogate escape stays a lowercase \\uXXXX escape in json mode; pairs decode."""
    text = TC + '{"name": "f", "arguments": {"s": ' + written + "}}" + END
    message = check(backend, text)
    assert calls(message) == [("f", '{"s": ' + expected + "}")]
    assert message.problems == []


def test_rule4_lone_surrogate_key(backend):
    """A lone surrogate escape in a key stays an escape too."""
    text = TC + '{"name": "f", "arguments": {"\\uDFAA": 0}}' + END
    message = check(backend, text)
    assert calls(message) == [("f", '{"\\udfaa": 0}')]


@pytest.mark.parametrize(
    "written, expected",
    [
        ("1e999", "1e999"),
        ("-1E+9999", "-1E+9999"),
        ("123123e100000", "123123e100000"),
        ("1.5e308", "1.5e+308"),
        ("123e-10000000", "0.0"),  # underflow is an ordinary float
        ("9" * 4301, "9" * 4301),
        ("-" + "1" * 5000, "-" + "1" * 5000),
        ("1" * 4300, "1" * 4300),
    ],
)
def test_rule4_huge_numbers(backend, written, expected):
    """Numbers overflowing a double and ints over 4300 digits are kept as written."""
    text = TC + '{"name": "f", "arguments": {"n": ' + written + "}}" + END
    message = check(backend, text, every_cut=len(written) < 100)
    assert calls(message) == [("f", '{"n": ' + expected + "}")]
    assert message.problems == []


@pytest.mark.parametrize("mode", ["json", "raw"])
def test_rule4_duplicate_keys_inside_arguments_are_kept(backend, mode):
    """Duplicate keys inside arguments are all kept, as streamed (docs/grammar.md: json.loads would keep the last)."""
    text = TC + '{"name": "f", "arguments": {"a": 1, "b": {"c": 1, "c": 2}, "a": 3}}' + END
    message = check(backend, text, arguments=mode)
    expected = '{"a": 1, "b": {"c": 1, "c": 2}, "a": 3}'
    assert calls(message) == [("f", expected)]
    assert message.problems == []


# ---------------------------------------------------------------------------
# Rule 5: content


def test_rule5_content_before_between_after(backend):
    """Text before, between and after calls is content, in order."""
    text = (
        "Let me check."
        + block(call_text("a", {}))
        + " Then "
        + block(call_text("b", {}))
        + "\nDone."
    )
    message = check(backend, text)
    assert message.content == "Let me check. Then \nDone."
    assert calls(message) == [("a", "{}"), ("b", "{}")]
    assert message.problems == []


def test_rule5_whitespace_before_call_after_text_is_content(backend):
    """Whitespace between content and a call block is content (only start/after-call ws is held)."""
    message = check(backend, "Checking.\n\n" + block(call_text("a", {})))
    assert message.content == "Checking.\n\n"


@pytest.mark.parametrize(
    "text, content",
    [
        ("", None),
        ("   \n\t", None),
        ("\n\n" + block('{"name": "a"}'), None),
        (block('{"name": "a"}') + "\n\n", None),
        (block('{"name": "a"}') + "\n \n" + block('{"name": "b"}') + "\n", None),
        ("  hello", "  hello"),
        (block('{"name": "a"}') + "\n\nDone.\n", "\n\nDone.\n"),
        (block('{"name": "a"}') + " \n" + block('{"name": "b"}') + "  ok  ", "  ok  "),
    ],
)
def test_rule5_whitespace_rule(backend, text, content):
    """Whitespace at the start or after a call is dropped before a call or the end, kept before text."""
    message = check(backend, text)
    assert message.content == content
    assert message.problems == []


def test_rule5_leading_whitespace_is_held_while_streaming(backend):
    """Leading whitespace is not sent until the next non-whitespace decides it."""
    parser = backend.StreamParser()
    assert parser.feed("\n\n  ") == []
    assert "".join(d["content"] for d in parser.feed("Hi")) == "\n\n  Hi"


@pytest.mark.parametrize("tail", ["<", "<t", "<tool", "<tool_", "<tool_call", "</tool_call", "</tool_call>"])
def test_rule5_tag_prefix_at_end_is_content(backend, tail):
    """A lone prefix of <tool_call> (or a stray close tag) at the end of text is content."""
    message = check(backend, "answer " + tail)
    assert message.content == "answer " + tail
    assert message.tool_calls == []


def test_rule5_tag_prefix_held_back_until_decided(backend):
    """A chunk ending in a <tool_call> prefix holds that prefix back; close() releases it."""
    parser = backend.StreamParser()
    out = parser.feed("Hello <tool_")
    assert "".join(d["content"] for d in out) == "Hello "
    assert "".join(d["content"] for d in parser.close()) == "<tool_"


@pytest.mark.parametrize(
    "text",
    [
        "Use <toolbox> here",
        "<tool_calls>[{\"name\": \"f\"}]</tool_calls>",
        "a <tool_call > b",
        "x <Tool_call>{\"name\": \"f\"}</Tool_call>",
        "<<tool_cal<tool_calx",
        "1 < 2 and <tool>",
    ],
)
def test_rule5_near_tags_are_content(backend, text):
    """Things that only look like the open tag (<toolbox>, <tool_calls>, ...) are content."""
    message = check(backend, text)
    assert message == Message(text, [], [])


def test_rule5_near_tag_before_real_call(backend):
    """A near-tag prefix right before a real tag is content and the call still parses."""
    text = "<tool<tool_call>" + call_text("f", {}) + END
    message = check(backend, text)
    assert message.content == "<tool"
    assert calls(message) == [("f", "{}")]


def test_rule5_think_block_is_content(backend):
    """A <think> block is ordinary content for this parser."""
    text = "<think>\nI need the weather.\n</think>\n\n" + block(call_text("get_weather", {"city": "Oslo"}))
    message = check(backend, text)
    assert message.content == "<think>\nI need the weather.\n</think>\n\n"
    assert calls(message) == [("get_weather", '{"city": "Oslo"}')]


# ---------------------------------------------------------------------------
# Rule 6: not a call, and defects after the name


@pytest.mark.parametrize(
    "body",
    [
        "hello",  # no '{'
        "",  # empty block
        "[1, 2]",  # not an object
        '{"arguments": {"a": 1}}',  # no name
        "{}",
        '{"name": 5, "arguments": {}}',  # name not a string
        '{"name": null}',
        '{"name": ["f"]}',
        '{"name" "f"}',  # invalid JSON before the name is known
    ],
)
def test_rule6_not_a_call_is_content_in_place(backend, body):
    """A block that is not a call is content, tags and all, in place, with a not_a_call problem."""
    bad = TC + body + END
    text = "Before " + bad + " between " + block(call_text("ok", {"x": 1})) + " after"
    message = check(backend, text)
    assert message.content == "Before " + bad + " between  after"
    assert calls(message) == [("ok", '{"x": 1}')]
    assert message.tool_calls[0].index == 0
    assert message.problems == [
        Problem("not_a_call", len("Before "), len(bad), None, message.problems[0].detail)
    ]


def test_rule6_text_ends_before_name_complete(backend):
    """Text ending inside the name (or before it) makes the block content + not_a_call."""
    for text in ['<tool_call>\n{"name": "get_wea', "<tool_call>\n{", "<tool_call>", '<tool_call>{"arguments": {"a": 1}']:
        message = check(backend, "Hi " + text)
        assert message.content == "Hi " + text, text
        assert message.tool_calls == [], text
        assert kinds(message) == ["not_a_call"], text
        assert (message.problems[0].offset, message.problems[0].length) == (3, len(text)), text


def test_rule6_invalid_json_after_name(backend):
    """After the name, invalid JSON keeps the call with what was sent, skips the block, reports invalid_json."""
    head = '<tool_call>{"name": "f", "arguments": {"a": "xyz", "b": '
    text = "Hi " + head + 'tru}}</tool_call> after'
    message = check(backend, text)
    assert message.content == "Hi  after"
    assert len(message.tool_calls) == 1
    arguments = message.tool_calls[0].arguments
    assert message.tool_calls[0].name == "f"
    assert arguments.startswith('{"a": "xyz"'), arguments
    with pytest.raises(ValueError):
        json.loads(arguments)
    assert kinds(message) == ["invalid_json"]
    problem = message.problems[0]
    assert problem.index == 0
    defect = len("Hi " + head) + 3  # the '}' after "tru"
    end = text.index(END)
    assert len("Hi " + head) <= problem.offset <= defect
    assert end <= problem.offset + problem.length <= end + len(END)


def test_rule6_invalid_json_skips_close_tag_lookalike_until_real_tag(backend):
    """After an invalid_json defect the rest of the block, up to </tool_call>, is skipped, not content."""
    text = '<tool_call>{"name": "f", "arguments": {"a": @@@ junk "x" }}}\n</tool_call>\nok'
    message = check(backend, text)
    assert message.content == "\nok"
    assert calls(message)[0][0] == "f"
    assert kinds(message) == ["invalid_json"]


@pytest.mark.parametrize(
    "value",
    ["[1, 2]", "5", "true", '"just text"', '"[1, 2]"', '"5"'],
)
def test_rule6_invalid_arguments(backend, value):
    """Arguments that are not an object (nor a string holding one) give "{}" and invalid_arguments."""
    text = block('{"name": "f", "arguments": ' + value + "}")
    message = check(backend, text)
    assert calls(message) == [("f", "{}")]
    assert message.content is None
    assert len(message.problems) == 1
    assert message.problems[0].index == 0
    # a string that is not JSON at all may fairly be called invalid_json
    allowed = {"invalid_arguments", "invalid_json"} if value == '"just text"' else {"invalid_arguments"}
    assert message.problems[0].kind in allowed


def test_rule6_duplicate_name_key(backend):
    """A second "name" is a duplicate_key problem; the call keeps the first name."""
    text = block('{"name": "f", "arguments": {"a": 1}, "name": "g"}')
    message = check(backend, text)
    assert calls(message) == [("f", '{"a": 1}')]
    assert kinds(message) == ["duplicate_key"]
    assert message.problems[0].index == 0


def test_rule6_duplicate_arguments_key(backend):
    """A second "arguments" is a duplicate_key problem; the call keeps the first arguments."""
    text = block('{"name": "f", "arguments": {"a": 1}, "arguments": {"b": 2}}')
    message = check(backend, text)
    assert calls(message) == [("f", '{"a": 1}')]
    assert kinds(message) == ["duplicate_key"]
    assert message.problems[0].index == 0


def test_rule6_trailing_text_in_block(backend):
    """Text after the object inside the block is a trailing_text problem, not content."""
    text = TC + call_text("f", {"a": 1}) + " oops" + END + "!"
    message = check(backend, text)
    assert calls(message) == [("f", '{"a": 1}')]
    assert message.content == "!"
    assert kinds(message) == ["trailing_text"]
    problem = message.problems[0]
    assert problem.index == 0
    start = text.index(" oops")
    assert start <= problem.offset <= start + 1
    assert problem.offset + problem.length <= text.index(END) + len(END)


@pytest.mark.parametrize("mode", ["json", "raw"])
def test_rule6_truncated_call_keeps_arguments(backend, mode):
    """Text ending inside a call keeps the call with the arguments sent so far, flagged truncated."""
    text = 'Ok.<tool_call>\n{"name": "write", "arguments": {"path": "a.py", "text": "hello wor'
    message = check(backend, text, arguments=mode)
    assert message.content == "Ok."
    assert len(message.tool_calls) == 1
    call = message.tool_calls[0]
    assert call.name == "write"
    # the model wrote json.dumps-style text, so both modes send the same prefix
    assert call.arguments == '{"path": "a.py", "text": "hello wor'
    assert kinds(message) == ["truncated"]
    assert message.problems[0].index == 0


def test_rule6_truncated_right_after_name(backend):
    """A call cut right after its name gets "{}" arguments and a truncated problem."""
    message = check(backend, '<tool_call>{"name": "f"')
    assert calls(message) == [("f", "{}")]
    assert kinds(message) == ["truncated"]


def test_rule6_truncated_inside_args_string_with_close_tag(backend):
    """A string never closed swallows </tool_call>: the call is truncated, not ended by the tag."""
    text = '<tool_call>{"name": "f", "arguments": {"a": "x</tool_call>'
    message = check(backend, text)
    assert calls(message) == [("f", '{"a": "x</tool_call>')]
    assert kinds(message) == ["truncated"]


def test_rule6_not_a_call_does_not_take_an_index(backend):
    """Calls keep consecutive indices 0, 1 around a block that is not a call."""
    text = block(call_text("a", {})) + TC + "nope" + END + block(call_text("b", {}))
    message = check(backend, text)
    assert [(c.index, c.name, c.id) for c in message.tool_calls] == [(0, "a", "call_0"), (1, "b", "call_1")]
    assert message.content == TC + "nope" + END
    assert kinds(message) == ["not_a_call"]


# ---------------------------------------------------------------------------
# Rule 7: max_buffer


def test_rule7_max_buffer_exceeded_makes_content(backend):
    """Held-back text before the name past max_buffer makes the block content + not_a_call."""
    body = '{"arguments": {"x": "' + "a" * 200 + '"}, "name": "f"}'
    text = "Hi " + block(body)
    message = check(backend, text, every_cut=False, max_buffer=50)
    assert message.content == text
    assert message.tool_calls == []
    assert kinds(message) == ["not_a_call"]


def test_rule7_max_buffer_not_exceeded_is_a_call(backend):
    """The same block within max_buffer is a call."""
    body = '{"arguments": {"x": "' + "a" * 200 + '"}, "name": "f"}'
    message = check(backend, block(body), every_cut=False, max_buffer=10_000)
    assert calls(message) == [("f", '{"x": "' + "a" * 200 + '"}')]
    assert message.problems == []


def test_rule7_max_buffer_overflow_streams_content_promptly(backend):
    """Once max_buffer is exceeded the held text is released as content without waiting for the end."""
    parser = backend.StreamParser(max_buffer=50)
    out = parser.feed('<tool_call>{"arguments": {"x": "' + "a" * 200)
    assert "".join(d.get("content", "") for d in out).startswith("<tool_call>")


def test_rule7_name_first_call_is_not_limited_by_max_buffer(backend):
    """Arguments after the name stream and do not count against max_buffer."""
    args = {"x": "a" * 5000}
    message = check(backend, block(call_text("f", args)), every_cut=False, max_buffer=50)
    assert calls(message) == [("f", json.dumps(args))]
    assert message.problems == []


# ---------------------------------------------------------------------------
# tools= policy

TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}},
    {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}},
]


def test_tools_known_tool_no_problem(backend):
    """A call to a listed tool passes without problems."""
    message = check(backend, block(call_text("get_time", {})), tools=TOOLS)
    assert calls(message) == [("get_time", "{}")]
    assert message.problems == []


def test_tools_unknown_tool_kept_as_call_by_default(backend):
    """unknown_tool="call" (default) keeps the call and reports unknown_tool for it."""
    text = block(call_text("launch", {"a": 1})) + block(call_text("get_weather", {}))
    message = check(backend, text, tools=TOOLS)
    assert calls(message) == [("launch", '{"a": 1}'), ("get_weather", "{}")]
    assert kinds(message) == ["unknown_tool"]
    assert message.problems[0].index == 0
    assert message == check(backend, text, tools=TOOLS, unknown_tool="call")


def test_tools_unknown_tool_as_content(backend):
    """unknown_tool="content" turns the block into content in place; later calls keep index 0."""
    bad = block(call_text("launch", {"a": 1}))
    text = "A " + bad + " B " + block(call_text("get_weather", {}))
    message = check(backend, text, tools=TOOLS, unknown_tool="content")
    assert message.content == "A " + bad + " B "
    assert [(c.index, c.name) for c in message.tool_calls] == [(0, "get_weather")]
    assert kinds(message) == ["unknown_tool"]
    problem = message.problems[0]
    assert problem.index is None
    assert (problem.offset, problem.length) == (2, len(bad))


def test_tools_none_accepts_any_name(backend):
    """Without tools= any name is a call with no unknown_tool problem."""
    message = check(backend, block(call_text("anything", {})))
    assert message.problems == []


# ---------------------------------------------------------------------------
# call_id option


def test_call_id_default_is_openai_style_and_unique(backend):
    """Default ids are "call_" + 24 letters/digits, distinct per call."""
    text = block(call_text("a", {})) + block(call_text("b", {}))
    message = backend.parse(text)
    ids = [call.id for call in message.tool_calls]
    assert all(re.fullmatch(r"call_[A-Za-z0-9]{24}", i) for i in ids), ids
    assert len(set(ids)) == 2
    parser = backend.StreamParser()
    deltas = parser.feed(text) + parser.close()
    streamed = [d["tool_calls"][0]["id"] for d in deltas if "id" in d.get("tool_calls", [{}])[0]]
    assert all(re.fullmatch(r"call_[A-Za-z0-9]{24}", i) for i in streamed)
    assert set(streamed).isdisjoint(ids)


def test_call_id_callable_gets_index_and_name_once(backend):
    """A call_id callable is called once per call with (index, name) and its result is the id."""
    seen = []

    def ids(index, name):
        seen.append((index, name))
        return f"id-{index}-{name}"

    text = block(call_text("a", {})) + TC + "no" + END + block(call_text("b", {}))
    message = backend.parse(text, call_id=ids)
    assert [c.id for c in message.tool_calls] == ["id-0-a", "id-1-b"]
    assert seen == [(0, "a"), (1, "b")]


def test_call_id_seeded_same_for_parse_and_stream(backend):
    """seeded_ids gives the same ids to a parse and a stream of the same text."""
    text = block(call_text("a", {"x": 1})) + block(call_text("b", {}))
    message = check(backend, text, call_id=seeded_ids(42))
    assert [c.id for c in message.tool_calls] == [seeded_ids(42)(0, "a"), seeded_ids(42)(1, "b")]


def test_call_id_sequential_prefix(backend):
    """sequential_ids(prefix) numbers the calls from 0."""
    message = backend.parse(block(call_text("a", {})) * 2, call_id=sequential_ids("tc-"))
    assert [c.id for c in message.tool_calls] == ["tc-0", "tc-1"]


# ---------------------------------------------------------------------------
# Life cycle and argument types


def test_feed_after_close_raises_closed_error(backend):
    """feed() after close() raises ClosedError, which is a ValueError."""
    parser = backend.StreamParser()
    parser.feed("hi")
    parser.close()
    with pytest.raises(ClosedError):
        parser.feed("more")
    with pytest.raises(ValueError):
        parser.feed("")
    assert issubclass(ClosedError, ValueError)


def test_close_twice_returns_empty(backend):
    """A second close() returns [] and adds nothing."""
    parser = backend.StreamParser()
    parser.feed("<tool")
    assert "".join(d["content"] for d in parser.close()) == "<tool"
    assert parser.close() == []


@pytest.mark.parametrize("bad", [b"<tool_call>", None, 5, ["a"], bytearray(b"x")])
def test_feed_non_str_raises_type_error(backend, bad):
    """feed() of anything but str raises TypeError and leaves the parser usable."""
    parser = backend.StreamParser()
    deltas = parser.feed("Hello")
    with pytest.raises(TypeError):
        parser.feed(bad)
    deltas += parser.feed(" world") + parser.close()
    assert Message.from_deltas(deltas).content == "Hello world"


def test_str_subclass_is_accepted(backend):
    """A str subclass is text like any str."""

    class Text(str):
        pass

    message = backend.parse(Text("hi"))
    assert message.content == "hi"


def test_problems_property_grows_while_streaming(backend):
    """parser.problems lists problems as soon as they are found, before close()."""
    parser = backend.StreamParser()
    parser.feed("<tool_call>nope</tool_call>")
    assert [p.kind for p in parser.problems] == ["not_a_call"]
    parser.close()
    assert [p.kind for p in parser.problems] == ["not_a_call"]


@pytest.mark.parametrize("bad_option", [{"arguments": "yaml"}, {"unknown_tool": "drop"}, {"max_buffer": -1}])
def test_bad_options_raise(backend, bad_option):
    """Unknown option values are rejected when the parser is made (ValueError, naming the option)."""
    [name] = bad_option
    with pytest.raises(ValueError, match=name):
        backend.StreamParser(**bad_option)
    with pytest.raises(ValueError, match=name):
        backend.parse("x", **bad_option)


def test_unknown_option_name_raises(backend):
    """A misspelt option name raises TypeError."""
    with pytest.raises(TypeError):
        backend.StreamParser(argumnets="raw")


# ---------------------------------------------------------------------------
# OpenAI types


def test_to_openai_validates_with_openai_types(backend):
    """Message.to_openai() and every delta validate as openai ChatCompletionMessage / ChatCompletionChunk."""
    text = "Let me see." + block(call_text("get_weather", {"city": "Zürich"})) + block('{"name": "f"}')
    message = check(backend, text)
    data = message.to_openai()
    assert data == {
        "role": "assistant",
        "content": "Let me see.",
        "tool_calls": [
            {"id": "call_0", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Zürich"}'}},
            {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
        ],
    }
    from openai.types.chat import ChatCompletionMessage

    model = ChatCompletionMessage.model_validate(data)
    assert model.tool_calls[0].function.name == "get_weather"
    assert json.loads(model.tool_calls[0].function.arguments) == {"city": "Zürich"}


def test_to_openai_no_calls_omits_tool_calls(backend):
    """A message without calls has no tool_calls key and validates."""
    message = check(backend, "just text")
    assert message.to_openai() == {"role": "assistant", "content": "just text"}


def test_every_delta_validates_as_chunk(backend):
    """Each delta, char by char, wraps into a valid openai ChatCompletionChunk."""
    text = "a" + block(call_text("f", {"k": [1, "é"]})) + "b"
    deltas, _, _ = run_stream(backend, list(text), call_id=sequential_ids())
    for delta in deltas:
        validate_chunk(delta)
