"""The GLM body (``dialect="glm"``): GLM-4.5/4.6 and GLM-4.7/5 tool calls, on both twins.

Every text here goes through ``helpers.check``: parsed whole, then streamed in
every two-piece cut, one character at a time and random chunkings, each of
which must accumulate to the very same message (problems included).  The
rules are those of docs/dialects.md, "GLM body"; the external cases at the end
restate inputs from vLLM's and SGLang's own tests of their GLM parsers.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

import hermes_parse.machine
from hermes_parse import Message, ToolCall
from hermes_parse._types import sequential_ids

from helpers import check, check_deltas, feed_pieces, run_stream

GLM = {"dialect": "glm"}


def tool(name, **properties):
    """An OpenAI tool whose parameters have the given JSON Schemas."""
    return {
        "type": "function",
        "function": {"name": name, "parameters": {"type": "object", "properties": properties}},
    }


WEATHER_TOOLS = [tool("get_weather", city={"type": "string"}, date={"type": "string"})]


def glm(text, backend, every_cut=True, **options):
    return check(backend, text, every_cut, **GLM, **options)


def calls(message):
    return [(call.name, json.loads(call.arguments)) for call in message.tool_calls]


def kinds(message):
    return [problem.kind for problem in message.problems]


# -- the two shapes ------------------------------------------------------------


def test_glm45_newlines(backend):
    text = "I'll check.<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Beijing</arg_value>\n</tool_call>"
    message = glm(text, backend)
    assert message == Message("I'll check.", [ToolCall(0, "call_0", "get_weather", '{"city": "Beijing"}')])


def test_glm47_compact(backend):
    text = "<tool_call>get_weather<arg_key>city</arg_key><arg_value>Beijing</arg_value><arg_key>date</arg_key><arg_value>2024-06-27</arg_value></tool_call>"
    message = glm(text, backend, tools=WEATHER_TOOLS)
    assert message.tool_calls == [
        ToolCall(0, "call_0", "get_weather", '{"city": "Beijing", "date": "2024-06-27"}')
    ]
    assert message.content is None and message.problems == []


def test_literal_backslash_n_between_tags(backend):
    """GLM models write the two characters \\n where the template has a newline."""
    text = "<tool_call>get_weather\\n<arg_key>city</arg_key>\\n<arg_value>Beijing</arg_value>\\n</tool_call>"
    assert calls(glm(text, backend)) == [("get_weather", {"city": "Beijing"})]
    # Mixed with real whitespace, and before the name.
    text = "<tool_call>\\n get_weather \\n\r\n<arg_key>city</arg_key> \\n\\n\t<arg_value>Beijing</arg_value>\\n </tool_call>"
    message = glm(text, backend)
    assert calls(message) == [("get_weather", {"city": "Beijing"})] and message.problems == []


@pytest.mark.parametrize(
    "body",
    ["get_time", "get_time\n", "get_time\\n", "\nget_time\n", "get_time  \r\n"],
)
def test_call_without_arguments(backend, body):
    message = glm("<tool_call>" + body + "</tool_call>", backend)
    assert message == Message(None, [ToolCall(0, "call_0", "get_time", "{}")])


def test_several_calls_in_one_chunk_with_content(backend):
    text = (
        "Checking.\n<tool_call>get_time</tool_call>"
        "<tool_call>get_weather<arg_key>city</arg_key><arg_value>北京</arg_value></tool_call>\n"
        "Then Shanghai.\n<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>上海</arg_value>\n</tool_call>  \n"
    )
    message = glm(text, backend, every_cut=False)
    assert calls(message) == [
        ("get_time", {}),
        ("get_weather", {"city": "北京"}),
        ("get_weather", {"city": "上海"}),
    ]
    # Whitespace right after a call is dropped before a call or the end, content before text.
    assert message.content == "Checking.\n\nThen Shanghai.\n"
    deltas, _, _ = run_stream(backend, [text], **GLM, call_id=sequential_ids())
    assert [call[1] for call in check_deltas(deltas).values()] == ["get_time", "get_weather", "get_weather"]


# -- names ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "block",
    [
        "<tool_call>Sure, here it is.</tool_call>",  # prose: a word, then no tag
        "<tool_call>get weather<arg_key>a</arg_key><arg_value>1</arg_value></tool_call>",
        '<tool_call>get"weather</tool_call>',
        "<tool_call>get{weather}</tool_call>",
        "<tool_call>get>weather</tool_call>",
        "<tool_call>it's</tool_call>",
        "<tool_call></tool_call>",
        "<tool_call>\n\\n </tool_call>",
        "<tool_call><arg_key>a</arg_key><arg_value>1</arg_value></tool_call>",
        "<tool_call>get_weather<arg_value>1</arg_value></tool_call>",  # a tag, but not <arg_key>
        "<tool_call>get_weather<b>x</b></tool_call>",
        "<tool_call>" + "f" * 513 + "</tool_call>",
    ],
)
def test_bad_name_is_content(backend, block):
    text = "Before " + block + " after"
    message = glm(text, backend, every_cut=len(block) < 100)
    assert message.content == text and message.tool_calls == []
    assert kinds(message) == ["not_a_call"]
    assert message.problems[0].offset == 7 and message.problems[0].length == len(block)


def test_name_of_512_characters_is_a_name(backend):
    name = "f" * 512
    message = glm("<tool_call>" + name + "</tool_call>", backend, every_cut=False)
    assert calls(message) == [(name, {})]


def test_name_keeps_other_characters(backend):
    """Dots, dashes, colons and a backslash not before 'n' are name characters."""
    for name in ("mcp__fs.read-file", "ns:tool", "a\\b"):
        message = glm("<tool_call>" + name + "</tool_call>", backend)
        assert calls(message) == [(name, {})], name


def test_cut_before_the_name_is_complete_is_content(backend):
    for text in ("<tool_call>get_wea", "<tool_call>get_weather", "<tool_call>get_weather\n<arg_k"):
        message = glm(text, backend)
        assert message.content == text and message.tool_calls == [], text
        assert kinds(message) == ["not_a_call"]


def test_name_is_sent_only_when_its_tag_is_complete(backend):
    parser = backend.StreamParser(**GLM, call_id=sequential_ids())
    assert parser.feed("<tool_call>get") == []
    assert parser.feed("_weather\n<arg_") == []
    deltas = parser.feed("key>ci")
    assert [delta["tool_calls"][0]["function"]["name"] for delta in deltas] == ["get_weather"]


def test_unknown_tool(backend):
    text = "<tool_call>get_time</tool_call>"
    message = glm(text, backend, tools=WEATHER_TOOLS)
    assert calls(message) == [("get_time", {})] and kinds(message) == ["unknown_tool"]
    message = glm(text, backend, tools=WEATHER_TOOLS, unknown_tool="content")
    assert message.content == text and kinds(message) == ["unknown_tool"]


# -- string values -------------------------------------------------------------


def test_string_value_streams_as_it_arrives(backend):
    parser = backend.StreamParser(**GLM, tools=[tool("write", content={"type": "string"})])
    opening = parser.feed("<tool_call>write<arg_key>content</arg_key><arg_value>")
    assert [d["tool_calls"][0]["function"]["arguments"] for d in opening] == ["", '{"content": "']
    assert parser.feed("line one\n") == [{"tool_calls": [{"index": 0, "function": {"arguments": "line one\\n"}}]}]
    # A '<' that may begin the closing tag is held, and only that.
    assert parser.feed("x </arg_val") == [{"tool_calls": [{"index": 0, "function": {"arguments": "x "}}]}]
    # A closing tag followed by whitespace waits for what follows.
    assert parser.feed("ue>  ") == []
    last = parser.feed("</tool_call>")
    assert last == [{"tool_calls": [{"index": 0, "function": {"arguments": '"}'}}]}]
    assert parser.calls_finished == 1


def test_string_value_is_the_text_unchanged(backend):
    tools = [tool("apply", s={"type": "string"}, n={"type": "string"})]
    # vLLM tests/tool_parsers/test_glm4_moe_tool_parser.py::test_whitespace_preserved_in_arg_values
    text = "<tool_call>apply\n<arg_key>s</arg_key>\n<arg_value>    indented code    </arg_value>\n<arg_key>n</arg_key><arg_value>42</arg_value></tool_call>"
    assert calls(glm(text, backend, tools=tools)) == [("apply", {"s": "    indented code    ", "n": "42"})]


def test_escapes_unicode_and_control_characters(backend):
    tools = [tool("say", text={"type": "string"})]
    value = 'a "quoted" \\ back\nslash\t\x00\x01\x1f é 你好 🎉 \u2028'
    text = "<tool_call>say<arg_key>text</arg_key><arg_value>" + value + "</arg_value></tool_call>"
    message = glm(text, backend, tools=tools)
    assert message.tool_calls[0].arguments == json.dumps({"text": value}, ensure_ascii=False)
    # Without a schema the same text is held, then (not JSON) written as a string.
    message = glm(text, backend)
    assert message.tool_calls[0].arguments == json.dumps({"text": value}, ensure_ascii=False)


def test_keys_are_escaped_and_trimmed(backend):
    text = '<tool_call>f<arg_key> a"b\\c </arg_key><arg_value>1</arg_value><arg_key>é</arg_key><arg_value>2</arg_value></tool_call>'
    message = glm(text, backend)
    assert message.tool_calls[0].arguments == '{"a\\"b\\\\c": 1, "é": 2}'


def test_nullable_string(backend):
    tools = [tool("f", s={"type": ["string", "null"]}, t={"type": "string"})]
    cases = {
        "null": None,
        "None": None,
        "nul": "nul",
        "Nonesuch": "Nonesuch",
        "nullx": "nullx",
        " null": " null",
        "": "",
    }
    for value, expected in cases.items():
        text = f"<tool_call>f<arg_key>s</arg_key><arg_value>{value}</arg_value><arg_key>t</arg_key><arg_value>null</arg_value></tool_call>"
        message = glm(text, backend, tools=tools)
        assert calls(message) == [("f", {"s": expected, "t": "null"})], value
        assert message.problems == []


# -- typed and untyped values --------------------------------------------------

TYPED = [
    tool(
        "f",
        i={"type": "integer"},
        n={"type": "number"},
        b={"type": "boolean"},
        o={"type": "object"},
        a={"type": "array"},
        ni={"type": ["integer", "null"]},
        s={"type": "string"},
    )
]


@pytest.mark.parametrize(
    "key, value, expected",
    [
        ("i", "42", "42"),
        ("i", " -7 ", "-7"),
        ("n", "3.0", "3.0"),
        ("n", "1e10", "10000000000.0"),
        ("n", "-42.5", "-42.5"),
        ("b", "true", "true"),
        ("b", "True", "true"),
        ("b", "FALSE", "false"),
        ("o", '{"a":1,"b":[true,null]}', '{"a": 1, "b": [true, null]}'),
        ("o", "{'a': True, 'b': None}", '{"a": true, "b": null}'),
        ("o", "{}", "{}"),
        ("a", "[1, 'two', [3]]", '[1, "two", [3]]'),
        ("a", "[]", "[]"),
        ("ni", "null", "null"),
        ("ni", "None", "null"),
        ("i", "null", "null"),  # null for every type but a non-nullable string
    ],
)
def test_typed_value(backend, key, value, expected):
    text = f"<tool_call>f<arg_key>{key}</arg_key><arg_value>{value}</arg_value></tool_call>"
    message = glm(text, backend, tools=TYPED)
    assert message.tool_calls[0].arguments == '{"%s": %s}' % (key, expected)
    assert message.problems == []


@pytest.mark.parametrize(
    "key, value",
    [("i", "forty-two"), ("i", "3.5x"), ("n", "abc"), ("b", "yes"), ("o", "[1]"), ("a", "{}"), ("o", '"{}"'), ("i", "")],
)
def test_typed_value_that_does_not_fit(backend, key, value):
    """The raw text, as a string, and an invalid_value problem spanning the value."""
    text = f"<tool_call>f<arg_key>{key}</arg_key><arg_value>{value}</arg_value></tool_call>"
    message = glm(text, backend, tools=TYPED)
    assert message.tool_calls[0].arguments == json.dumps({key: value}, ensure_ascii=False)
    assert kinds(message) == ["invalid_value"]
    problem = message.problems[0]
    assert text[problem.offset : problem.offset + problem.length] == value and problem.index == 0


@pytest.mark.parametrize(
    "value, expected",
    [
        ("42", 42),
        ("3.14", 3.14),
        ("true", True),
        ("null", None),
        ('{"a": [1, 2]}', {"a": [1, 2]}),
        ("{'a': None}", {"a": None}),
        ('"quoted"', "quoted"),
        ("Beijing", "Beijing"),
        ("2025-08-01", "2025-08-01"),
        ("  padded  ", "  padded  "),
        ("[1, 2", "[1, 2"),
        ("", ""),
    ],
)
def test_no_schema(backend, value, expected):
    """No schema (no tools, or a parameter the schema does not name): JSON, else
    a Python literal, else the raw text as a string; never a problem."""
    text = f"<tool_call>f<arg_key>x</arg_key><arg_value>{value}</arg_value></tool_call>"
    for options in ({}, {"tools": TYPED}):
        message = glm(text, backend, **options)
        assert calls(message) == [("f", {"x": expected})] and message.problems == []


def test_non_string_value_is_held_until_it_closes(backend):
    parser = backend.StreamParser(**GLM, tools=TYPED, call_id=sequential_ids())
    deltas = parser.feed("<tool_call>f<arg_key>i</arg_key><arg_value>12")
    assert len(deltas) == 1 and deltas[0]["tool_calls"][0]["function"]["arguments"] == ""
    assert parser.feed("34</arg_value>") == []
    assert parser.feed("<arg_key>") == [{"tool_calls": [{"index": 0, "function": {"arguments": '{"i": 1234'}}]}]


def test_raw_arguments_read_as_json(backend):
    """arguments="raw": the values are text, not the model's JSON, so raw is json."""
    text = "<tool_call>f<arg_key>o</arg_key><arg_value>{'a':1}</arg_value><arg_key>s</arg_key><arg_value>x</arg_value></tool_call>"
    assert glm(text, backend, tools=TYPED, arguments="raw") == glm(text, backend, tools=TYPED)


# -- where a value ends --------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "a</arg_value>b",  # text after the closing tag: it was value text
        "a</arg_value> <b>",
        "a</arg_value></arg_value>b",
        "<arg_key>k</arg_key><arg_value>v",  # the tags, written as text
        "x < y </ z </arg_ </arg_valuex </tool_callx",
        "a</arg_value>\\x",
        "a</tool_call>b",  # a </tool_call> followed by text is value text too
        "see <tool_call>get_time</tool_call>!",
        "</",
        "<",
    ],
)
def test_tags_inside_a_value(backend, value):
    tools = [tool("w", content={"type": "string"})]
    text = f"<tool_call>w<arg_key>content</arg_key><arg_value>{value}</arg_value></tool_call>after"
    for options in ({"tools": tools}, {}):
        message = glm(text, backend, **options)
        assert calls(message) == [("w", {"content": value})], options
        assert message.content == "after" and message.problems == []


def test_closing_tag_is_structural_before_a_key_or_the_end(backend):
    text = "<tool_call>w<arg_key>a</arg_key><arg_value>x</arg_value>\n \\n<arg_key>b</arg_key><arg_value>y</arg_value> \n</tool_call>"
    assert calls(glm(text, backend)) == [("w", {"a": "x", "b": "y"})]


def test_missing_closing_value_tag(backend):
    """No </arg_value>: a </tool_call> then whitespace and a '<' or the end
    closes the value and the call, with a missing_close problem."""
    text = "<tool_call>f<arg_key>a</arg_key><arg_value>1</tool_call>\n<tool_call>g</tool_call>"
    message = glm(text, backend)
    assert calls(message) == [("f", {"a": 1}), ("g", {})] and kinds(message) == ["missing_close"]
    assert message.problems[0].offset == text.index("</tool_call>") and message.problems[0].length == 12
    # At the end of the text: the problem is queued by the body's finish().
    text = "<tool_call>f<arg_key>a</arg_key><arg_value>x</tool_call> \n"
    message = glm(text, backend)
    assert calls(message) == [("f", {"a": "x"})] and kinds(message) == ["missing_close"]
    # Followed by something else than a tag: the text after the call's end is trailing text.
    text = "<tool_call>f<arg_key>a</arg_key><arg_value>1</tool_call> <b>x</b></tool_call>ok"
    message = glm(text, backend)
    assert calls(message) == [("f", {"a": 1})] and message.content == "ok"
    assert kinds(message) == ["missing_close", "trailing_text"]


def test_missing_call_close_between_calls_is_value_text(backend):
    """A limit of rule 5: "</arg_value>" then "<tool_call>" is not structural (the body
    would have to read the next block's tag), so a forgotten "</tool_call>" between
    two calls makes the rest value text, up to a "</tool_call>" that ends it (rule 6)."""
    text = "<tool_call>f<arg_key>a</arg_key><arg_value>x</arg_value><tool_call>g</tool_call><tool_call>h</tool_call>"
    message = glm(text, backend)
    assert calls(message) == [("f", {"a": "x</arg_value><tool_call>g"}), ("h", {})]
    assert kinds(message) == ["missing_close"]


def test_max_buffer_before_the_name(backend):
    """Past max_buffer characters before the name is sent, the block is content, as in the JSON dialect."""
    text = "<tool_call>" + "n" * 40 + "</tool_call>"
    message = glm(text, backend, max_buffer=20)
    assert message.content == text and message.tool_calls == [] and kinds(message) == ["not_a_call"]


# -- defects after the name ----------------------------------------------------


@pytest.mark.parametrize(
    "rest, arguments",
    [
        ("<arg_key>a</arg_key>oops</arg_value></tool_call>", {}),  # no <arg_value>
        ("<arg_key>a</arg_key><arg_value>1</arg_value><arg_key>b\n<arg_value>2</arg_value></tool_call>", {"a": 1}),
        ("<arg_key>a</arg_key><arg_key>b</arg_key></tool_call>", {}),
        ("stray text</tool_call>", None),  # before the name is sent: content
    ],
)
def test_defect_where_a_tag_is_expected(backend, rest, arguments):
    text = "<tool_call>f" + rest + "next"
    message = glm(text, backend)
    if arguments is None:
        assert message.tool_calls == [] and kinds(message) == ["not_a_call"]
        return
    # The call keeps what was complete, as a JSON object; the rest of the block is
    # skipped, the span from the unfinished pair's key on (nothing lost).
    assert calls(message) == [("f", arguments)] and message.content == "next"
    assert kinds(message) == ["invalid_arguments"]
    problem = message.problems[0]
    assert text[problem.offset - len("<arg_key>") :].startswith("<arg_key>")
    assert problem.offset + problem.length == text.index("</tool_call>")


def test_bad_key_span_starts_at_the_key(backend):
    # Found by the dialects' "nothing lost" property (FINDINGS.md, 15:47).
    text = "<tool_call>f<arg_key>path<x></arg_key><arg_value>1</arg_value></tool_call>"
    message = glm(text, backend)
    assert calls(message) == [("f", {})]
    problem = message.problems[0]
    assert (problem.kind, problem.offset) == ("invalid_arguments", text.index("path"))


@pytest.mark.parametrize(
    "text, expected",
    [
        # GLM-5.2 writes a stray </arg_value> after the name of a call without arguments.
        ("<tool_call>tool_12</arg_value></tool_call>", ("tool_12", {})),
        ("<tool_call>tool_12\n</arg_key>\n</tool_call>", ("tool_12", {})),
        # A second </arg_key> (vLLM #54971), a second <arg_key> at a key's start.
        ("<tool_call>list_dir<arg_key>path</arg_key></arg_key><arg_value>/tmp/x</arg_value></tool_call>", ("list_dir", {"path": "/tmp/x"})),
        ("<tool_call>list_dir<arg_key><arg_key>path</arg_key><arg_value>/tmp/x</arg_value></tool_call>", ("list_dir", {"path": "/tmp/x"})),
    ],
)
def test_stray_tags_are_skipped(backend, text, expected):
    message = glm(text, backend)
    assert calls(message) == [expected] and message.problems == []


def test_missing_key_opener_is_not_guessed(backend):
    """vLLM #47190: GLM-4.7 sometimes drops <arg_key> and glues the key to the
    name; which part is the name cannot be known, so the block stays content."""
    text = "<tool_call>send_command_to_shellcommand</arg_key><arg_value>echo test</arg_value></tool_call>"
    message = glm(text, backend)
    assert message.content == text and kinds(message) == ["not_a_call"]


def test_duplicate_keys(backend):
    """Both are written (the first was streamed before the second was seen); json.loads keeps the last."""
    text = "<tool_call>f<arg_key>a</arg_key><arg_value>1</arg_value><arg_key>a</arg_key><arg_value>2</arg_value></tool_call>"
    message = glm(text, backend)
    assert message.tool_calls[0].arguments == '{"a": 1, "a": 2}'
    assert json.loads(message.tool_calls[0].arguments) == {"a": 2}
    assert kinds(message) == ["duplicate_key"]
    problem = message.problems[0]
    assert text[problem.offset : problem.offset + problem.length] == "a" and problem.offset > 20


# -- the text ends inside a call ----------------------------------------------


@pytest.mark.parametrize(
    "rest, arguments",
    [
        ("<arg_key>ci", "{}"),
        ("<arg_key>city</arg_key>", "{}"),
        ("<arg_key>city</arg_key><arg_value>Bei", '{"city": "Bei'),  # a string stays open
        ("<arg_key>city</arg_key><arg_value>Bei</arg_va", '{"city": "Bei'),  # a partial closing tag is no text
        ("<arg_key>city</arg_key><arg_value>Beijing</arg_value>", '{"city": "Beijing"'),
        ("<arg_key>city</arg_key><arg_value>Beijing</arg_value>\n<arg_k", '{"city": "Beijing"'),
        ("<arg_key>n</arg_key><arg_value>12", '{"n": 12'),  # held: read as far as it went
        ("<arg_key>n</arg_key><arg_value>[1, 2", '{"n": "[1, 2"'),
        ("<arg_key>n</arg_key><arg_value>1</arg_value><arg_key>m</arg_key><arg_value>tr", '{"n": 1, "m": "tr"'),
    ],
)
def test_truncated(backend, rest, arguments):
    text = "<tool_call>get_weather" + rest
    message = glm(text, backend, tools=WEATHER_TOOLS)
    assert [call.arguments for call in message.tool_calls] == [arguments]
    assert kinds(message) == ["truncated"]
    assert backend.parse(text, **GLM, tools=WEATHER_TOOLS, truncated="content").content == text


def test_truncated_nullable_string(backend):
    tools = [tool("f", s={"type": ["string", "null"]})]
    for value, arguments in (("nul", '{"s": "nul'), ("null", '{"s": null'), ("", '{"s": "')):
        message = glm("<tool_call>f<arg_key>s</arg_key><arg_value>" + value, backend, tools=tools)
        assert message.tool_calls[0].arguments == arguments and kinds(message) == ["truncated"]


def test_missing_call_close_at_the_end_after_a_value_close(backend):
    """</arg_value></tool_call> is the normal end; </tool_call> alone at the end after a value is handled above."""
    message = glm("<tool_call>f<arg_key>a</arg_key><arg_value>1</arg_value></tool_call>", backend)
    assert calls(message) == [("f", {"a": 1})] and message.problems == []


# -- the dialect among the others ----------------------------------------------


def test_auto_picks_glm(backend):
    text = (
        '<tool_call>{"name": "a", "arguments": {}}</tool_call>'
        "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Beijing</arg_value>\n</tool_call>"
    )
    message = check(backend, text, dialect="auto")
    assert calls(message) == [("a", {}), ("get_weather", {"city": "Beijing"})]


def test_reasoning_then_glm_call(backend):
    # vLLM tests/tool_parsers/test_glm4_moe_tool_parser.py::test_extract_tool_calls_with_thinking_tags
    text = (
        "<think>I want to get the weather.</think>\n\nI will help you get the weather.\n"
        "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Beijing</arg_value>\n"
        "<arg_key>date</arg_key>\n<arg_value>2025-08-01</arg_value>\n</tool_call>"
    )
    message = glm(text, backend, every_cut=False, reasoning=True, tools=WEATHER_TOOLS)
    assert message.reasoning == "I want to get the weather."
    assert message.content == "\n\nI will help you get the weather.\n"
    assert calls(message) == [("get_weather", {"city": "Beijing", "date": "2025-08-01"})]


def test_parse_many_equals_parse(backend):
    texts = [
        "<tool_call>get_time</tool_call>",
        "plain",
        None,
        "<tool_call>f<arg_key>a</arg_key><arg_value>1</arg_value></tool_call>tail",
    ]
    batch = backend.parse_many(texts, **GLM, call_id=sequential_ids())
    for i, text in enumerate(texts):
        expected = None if text is None else backend.parse(text, **GLM, call_id=sequential_ids())
        assert batch.message(i) == expected


# -- properties ----------------------------------------------------------------

NAMES = st.sampled_from(["get_weather", "f", "mcp.tool-1", "x\\y", "bad name", "q'", ""])
KEYS = st.sampled_from(["city", "i", "o", "s", "", " a ", 'k"'])
VALUES = st.one_of(
    st.sampled_from(
        ["Beijing", "42", "3.5", "true", "null", "None", "{'a': 1}", '{"a": [1]}', "[1,", "", "  x  "]
    ),
    st.text(alphabet='ab <>/\\n"\'\x00é', max_size=12),
    st.sampled_from(["</arg_value>", "</tool_call>", "<arg_key>", "</arg_value>\n<", "</arg_value><arg_key"]),
)
SEPARATORS = st.sampled_from(["", "\n", "\\n", " \n", "\\n\\n", "\r\n", "x"])
TYPES = [tool("get_weather", city={"type": "string"}, i={"type": "integer"}, o={"type": "object"},
              s={"type": ["string", "null"]})]  # fmt: skip


@st.composite
def glm_outputs(draw):
    """Texts of GLM calls, mostly well-formed, with content around them, sometimes cut."""
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        parts.append(draw(st.sampled_from(["", "Sure. ", "\n", "text <b>"])))
        parts.append("<tool_call>" + draw(st.sampled_from(["", "\n", "\\n"])) + draw(NAMES))
        for _ in range(draw(st.integers(0, 3))):
            parts.append(draw(SEPARATORS) + "<arg_key>" + draw(KEYS) + "</arg_key>" + draw(SEPARATORS))
            parts.append("<arg_value>" + draw(VALUES) + "</arg_value>")
        parts.append(draw(SEPARATORS) + draw(st.sampled_from(["</tool_call>", "</tool_call>", ""])))
    text = "".join(parts)
    if draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]
    return text


@given(text=glm_outputs(), data=st.data(), typed=st.booleans())
def test_stream_equals_parse_and_twins_agree(text, data, typed):
    """Any chunking of any GLM-ish text accumulates to parse()'s message, on
    both twins, and the two twins give the same message."""
    options = dict(GLM, call_id=sequential_ids(), tools=TYPES if typed else None)
    twins = [hermes_parse.machine.load("python")]
    compiled = hermes_parse.machine.compiled()
    if compiled is not None:
        twins.append(compiled)
    messages = []
    for twin in twins:
        expected = twin.parse(text, **options)
        cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=6)))
        chunks = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)])]
        deltas, problems, _ = run_stream(twin, chunks, **options)
        check_deltas(deltas)
        assert Message.from_deltas(deltas, problems) == expected
        for call in expected.tool_calls:
            if not any(p.kind == "truncated" and p.index == call.index for p in expected.problems):
                json.loads(call.arguments)  # a call that ended has valid JSON arguments
        messages.append(expected)
    assert all(message == messages[0] for message in messages)


def test_one_character_at_a_time_equals_whole(backend):
    text = (
        "Hi <tool_call>get_weather\\n<arg_key>city</arg_key>\\n<arg_value>a</arg_value>b</arg_value>"
        "\\n<arg_key>i</arg_key><arg_value> 7 </arg_value></tool_call> bye"
    )
    whole = feed_pieces(backend, [text], **GLM, tools=TYPES)
    assert feed_pieces(backend, list(text), **GLM, tools=TYPES) == whole
    assert calls(whole) == [("get_weather", {"city": "a</arg_value>b", "i": 7})]


# -- the peers' own test cases -------------------------------------------------
# Inputs restated from vLLM's tests/tool_parsers/test_glm4_moe_tool_parser.py (V45),
# tests/tool_parsers/test_glm47_moe_tool_parser.py (V47), SGLang's
# test/registered/function_call/test_glm47_moe_detector.py (S47) and
# test_function_call_parser.py::TestGlm4MoeDetector (S45), and the SGLang-derived
# rtp_llm test of Glm4MoeDetector (RTP).  Where we differ, docs/dialects.md
# ("GLM body", "Where we differ from the peers") says why; the case says "differs".

PEER_TOOLS = [
    tool("get_weather", city={"type": "string"}, date={"type": "string"}),
    tool("get_current_weather", city={"type": "string"}, state={"type": "string"}, unit={"type": "string"}),
    tool("create_note", title={"type": "string"}, content={"type": "string"}),
    tool("calculate", zero={"type": "number"}, negative={"type": "number"}, large={"type": "number"}),
    tool("store_data", id={"type": "string"}, code={"type": "string"}),
    tool("process_data", data={"type": "object"}),
    tool("create_structure", empty_obj={"type": "object"}, empty_arr={"type": "array"}),
    tool("multi_param", a={"type": "string"}, b={"type": "string"}, c={"type": "string"}),
    tool("create_todos", priority={"type": "number"}, count={"type": "integer"}, items={"type": "array"}),
    tool("todo_write", todos={"type": "array"}),
    tool("execute_command", command={"type": "string"}),
    tool("get_time"),
    tool("list_files"),
    tool("action"),
]
W45 = "<tool_call>get_current_weather\n    <arg_key>city</arg_key>\n    <arg_value>{}</arg_value>\n    <arg_key>state</arg_key>\n    <arg_value>{}</arg_value>\n    <arg_key>unit</arg_key>\n    <arg_value>{}</arg_value>\n    </tool_call>"  # fmt: skip
WEATHER_45 = "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>{}</arg_value>\n<arg_key>date</arg_key>\n<arg_value>{}</arg_value>\n</tool_call>"  # fmt: skip
WEATHER_47 = "<tool_call>get_weather<arg_key>city</arg_key><arg_value>{}</arg_value><arg_key>date</arg_key><arg_value>{}</arg_value></tool_call>"  # fmt: skip
ESCAPED_TODOS = '<tool_call>todo_write<arg_key>todos</arg_key><arg_value>[{\\"id\\": \\"1\\", \\"task\\": \\"Check\\", \\"status\\": \\"pending\\"}]</arg_value></tool_call>'  # fmt: skip


def weather(city, state, unit):
    return ("get_current_weather", {"city": city, "state": state, "unit": unit})


PEER_CASES = [
    # (source and test, text, expected calls, expected content, expected problem kinds, tools given)
    ("V45 single_tool_call", W45.format("Dallas", "TX", "fahrenheit"), [weather("Dallas", "TX", "fahrenheit")], None, []),
    ("V45 multiple_tool_calls", W45.format("Dallas", "TX", "fahrenheit") + "\n    " + W45.format("Orlando", "FL", "fahrenheit"),
     [weather("Dallas", "TX", "fahrenheit"), weather("Orlando", "FL", "fahrenheit")], None, []),
    ("V45 tool_call_with_content_before", "I'll help you check the weather. " + W45.format("Seattle", "WA", "celsius"),
     [weather("Seattle", "WA", "celsius")], "I'll help you check the weather. ", []),
    ("V45 tool_call_with_mixed_args", W45.format("New York", "NY", "celsius"), [weather("New York", "NY", "celsius")], None, []),
    ("V45 tool_call_with_chinese_content", "I will help you get the weather." + WEATHER_45.format("Beijing", "2025-08-01"),
     [("get_weather", {"city": "Beijing", "date": "2025-08-01"})], "I will help you get the weather.", []),
    ("V45 test_extract_tool_calls_empty_arguments", "<tool_call>get_current_time\n</tool_call>", [("get_current_time", {})], None, ["unknown_tool"]),
    # differs: vLLM leaves "meaningwhile..." out of content (text between calls); we keep it.
    ("V45 test_extract_tool_calls_mixed_content",
     "I will help you get the weather info.\n\n" + WEATHER_45.format("Beijing", "2025-08-01")
     + "\n\nmeaningwhile, I will also check the weather in Shanghai.\n\n" + WEATHER_45.format("Shanghai", "2025-08-01"),
     [("get_weather", {"city": "Beijing", "date": "2025-08-01"}), ("get_weather", {"city": "Shanghai", "date": "2025-08-01"})],
     "I will help you get the weather info.\n\n\n\nmeaningwhile, I will also check the weather in Shanghai.\n\n", []),
    # vLLM only asks for no crash; we keep the complete pair and report the rest.
    ("V45 test_extract_tool_calls_malformed_xml",
     "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Seattle</arg_value>\n<arg_key>incomplete_arg\n<arg_value>value</arg_value>\n</tool_call>",
     [("get_weather", {"city": "Seattle"})], None, ["invalid_arguments"]),
    ("V45 test_extract_tool_calls_special_characters",
     "<tool_call>send_message\n<arg_key>recipient</arg_key>\n<arg_value>Amy</arg_value>\n<arg_key>message</arg_key>\n<arg_value>It is a nice day</arg_value>\n<arg_key>priority</arg_key>\n<arg_value>high</arg_value>\n</tool_call>",
     [("send_message", {"recipient": "Amy", "message": "It is a nice day", "priority": "high"})], None, ["unknown_tool"]),
    # differs: vLLM makes an unclosed call content; we keep it, truncated (parse(truncated="content") gives vLLM's).
    ("V45 test_extract_tool_calls_incomplete_tool_call",
     "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Beijing</arg_value>\n<arg_key>date</arg_key>\n<arg_value>2025-08-01</arg_value>",
     [("get_weather", None)], None, ["truncated"]),
    ("V45 test_extract_tool_calls_numeric_deserialization (no schema for calculate's a, b, enabled)",
     "<tool_call>calculate\n<arg_key>operation</arg_key>\n<arg_value>add</arg_value>\n<arg_key>a</arg_key>\n<arg_value>42</arg_value>\n<arg_key>b</arg_key>\n<arg_value>3.14</arg_value>\n<arg_key>enabled</arg_key>\n<arg_value>true</arg_value>\n</tool_call>",
     [("calculate", {"operation": "add", "a": 42, "b": 3.14, "enabled": True})], None, []),
    ("V45 test_zero_argument_tool_call", "<tool_call>get_time\n</tool_call>", [("get_time", {})], None, []),
    ("V45 test_malformed_tool_call_no_regex_match", "<tool_call>   ", [], "<tool_call>   ", ["not_a_call"]),
    ("V45 test_streaming_empty_tool_call", "<tool_call></tool_call>", [], "<tool_call></tool_call>", ["not_a_call"]),
    ("V45 test_unicode_characters_preserved",
     "<tool_call>send_message\n<arg_key>greeting</arg_key>\n<arg_value>你好世界</arg_value>\n<arg_key>emoji</arg_key>\n<arg_value>🎉</arg_value>\n</tool_call>",
     [("send_message", {"greeting": "你好世界", "emoji": "🎉"})], None, ["unknown_tool"]),
    ("V45 test_streaming_json_escape_in_string",
     '<tool_call>send_message\n<arg_key>message</arg_key><arg_value>Hello "world"\nNew line</arg_value></tool_call>',
     [("send_message", {"message": 'Hello "world"\nNew line'})], None, ["unknown_tool"]),
    ("V45 test_stream_interval_content_between_tool_calls",
     "Checking Beijing.\n<tool_call>get_weather\n<arg_key>city</arg_key><arg_value>Beijing</arg_value></tool_call>"
     "\nAlso Shanghai.\n<tool_call>get_weather\n<arg_key>city</arg_key><arg_value>Shanghai</arg_value></tool_call>",
     [("get_weather", {"city": "Beijing"}), ("get_weather", {"city": "Shanghai"})], "Checking Beijing.\n\nAlso Shanghai.\n", []),
    ("V47 test_zero_arg_inline", "<tool_call>get_current_date</tool_call>", [("get_current_date", {})], None, ["unknown_tool"]),
    ("V47 test_zero_arg_newline", "<tool_call>get_current_date\n</tool_call>", [("get_current_date", {})], None, ["unknown_tool"]),
    ("V47 test_args_same_line", "<tool_call>get_weather<arg_key>city</arg_key><arg_value>Beijing</arg_value></tool_call>",
     [("get_weather", {"city": "Beijing"})], None, []),
    ("V47 test_args_with_newlines", "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Beijing</arg_value>\n</tool_call>",
     [("get_weather", {"city": "Beijing"})], None, []),
    ("V47 test_content_before", "Checking.<tool_call>get_time</tool_call>", [("get_time", {})], "Checking.", []),
    ("V47 test_whitespace_content_none", "  \n  <tool_call>get_time</tool_call>", [("get_time", {})], None, []),
    ("S47 test_multiple_tool_calls", WEATHER_47.format("Beijing", "2024-06-27") + WEATHER_47.format("Shanghai", "2024-06-28"),
     [("get_weather", {"city": "Beijing", "date": "2024-06-27"}), ("get_weather", {"city": "Shanghai", "date": "2024-06-28"})], None, []),
    ("S45 test_single_tool_call", WEATHER_45.format("Beijing", "2024-06-27"),
     [("get_weather", {"city": "Beijing", "date": "2024-06-27"})], None, []),
    # differs: SGLang drops a call to an undeclared tool; we keep it (unknown_tool="content" makes it content).
    ("S47 test_invalid_tool_call", "<tool_call>invalid_func<arg_key>city</arg_key><arg_value>Beijing</arg_value></tool_call>",
     [("invalid_func", {"city": "Beijing"})], None, ["unknown_tool"]),
    ("S47 test_no_arg_function_non_streaming", "<tool_call>list_files</tool_call>", [("list_files", {})], None, []),
    ("S47 test_boundary_empty_param_value",
     "<tool_call>create_note<arg_key>title</arg_key><arg_value>Test</arg_value><arg_key>content</arg_key><arg_value></arg_value></tool_call>",
     [("create_note", {"title": "Test", "content": ""})], None, []),
    ("S47 test_boundary_param_value_with_special_chars",
     "<tool_call>execute_command<arg_key>command</arg_key><arg_value>echo 'Hello World' & more</arg_value></tool_call>",
     [("execute_command", {"command": "echo 'Hello World' & more"})], None, []),
    ("S47 test_boundary_json_deeply_nested",
     '<tool_call>process_data<arg_key>data</arg_key><arg_value>{"level1": {"level2": {"level3": {"level4": {"value": "deep"}}}}}</arg_value></tool_call>',
     [("process_data", {"data": {"level1": {"level2": {"level3": {"level4": {"value": "deep"}}}}}})], None, []),
    ("S47 test_boundary_json_empty_structures",
     "<tool_call>create_structure<arg_key>empty_obj</arg_key><arg_value>{}</arg_value><arg_key>empty_arr</arg_key><arg_value>[]</arg_value></tool_call>",
     [("create_structure", {"empty_obj": {}, "empty_arr": []})], None, []),
    ("S47 test_boundary_multi_tags_one_chunk",
     "<tool_call>multi_param<arg_key>a</arg_key><arg_value>1</arg_value><arg_key>b</arg_key><arg_value>2</arg_value><arg_key>c</arg_key><arg_value>3</arg_value></tool_call>",
     [("multi_param", {"a": "1", "b": "2", "c": "3"})], None, []),
    ("S47 test_boundary_normal_text_mixed_with_tool", "First I'll do this.<tool_call>action</tool_call>Then I'll do that.",
     [("action", {})], "First I'll do this.Then I'll do that.", []),
    ("S47 test_boundary_number_edge_values",
     "<tool_call>calculate<arg_key>zero</arg_key><arg_value>0</arg_value><arg_key>negative</arg_key><arg_value>-42.5</arg_value><arg_key>large</arg_key><arg_value>1e10</arg_value></tool_call>",
     [("calculate", {"zero": 0, "negative": -42.5, "large": 1e10})], None, []),
    ("S47 test_boundary_type_string_with_numeric_content",
     "<tool_call>store_data<arg_key>id</arg_key><arg_value>12345</arg_value><arg_key>code</arg_key><arg_value>67.89</arg_value></tool_call>",
     [("store_data", {"id": "12345", "code": "67.89"})], None, []),
    ("S47 test_mtp_number_and_complex_json",
     '<tool_call>create_todos<arg_key>priority</arg_key><arg_value>5.5</arg_value><arg_key>count</arg_key><arg_value>10</arg_value>'
     '<arg_key>items</arg_key><arg_value>[{"description": "TestTodo 1"}, {"description": "TestTodo 2"}]</arg_value></tool_call>',
     [("create_todos", {"priority": 5.5, "count": 10, "items": [{"description": "TestTodo 1"}, {"description": "TestTodo 2"}]})], None, []),
    ("S47 test_error_incomplete_buffer_at_end", "<tool_call>get_weather<arg_key>city</arg_key><arg_value>Beijing",
     [("get_weather", None)], None, ["truncated"]),
    # differs: SGLang unescapes JSON written escaped (GLM-4.6 does it); we read the value as
    # written, which is no JSON: kept as a string, reported (invalid_value).
    ("S47 test_array_argument_with_escaped_json", ESCAPED_TODOS,
     [("todo_write", {"todos": '[{\\"id\\": \\"1\\", \\"task\\": \\"Check\\", \\"status\\": \\"pending\\"}]'})], None, ["invalid_value"]),
    ("RTP test_with_args_literal_newline_separator",
     "<tool_call>get_weather\\n<arg_key>city</arg_key>\\n<arg_value>杭州</arg_value>\\n</tool_call>",
     [("get_weather", {"city": "杭州"})], None, []),
    ("RTP test_no_args_literal_newline_separator", "<tool_call>get_time\\n</tool_call>", [("get_time", {})], None, []),
    ("RTP test_streaming_preserves_whitespace_around_multiple_tool_calls",
     "  前文\n<tool_call>get_time</tool_call>\n  中间正文  \n<tool_call>get_weather<arg_key>city</arg_key><arg_value>杭州</arg_value></tool_call>\n尾文  ",
     [("get_time", {}), ("get_weather", {"city": "杭州"})], "  前文\n\n  中间正文  \n\n尾文  ", []),
    ("RTP test_streaming_isolated_end_tag_before_tool_call_is_normal_text",
     "literal</tool_call>text<tool_call>get_time</tool_call>", [("get_time", {})], "literal</tool_call>text", []),
    # differs: a block that is not a call stays content here, with a problem (RTP drops it).
    ("RTP test_streaming_invalid_closed_blocks_do_not_consume_tool_indices",
     "<tool_call>get_time</tool_call><tool_call></tool_call><tool_call>get_weather<arg_key>city</arg_key><arg_value>杭州</arg_value></tool_call>",
     [("get_time", {}), ("get_weather", {"city": "杭州"})], "<tool_call></tool_call>", ["not_a_call"]),
]  # fmt: skip


@pytest.mark.parametrize("source, text, expected_calls, content, problem_kinds", PEER_CASES, ids=[c[0] for c in PEER_CASES])
def test_peer_case(backend, source, text, expected_calls, content, problem_kinds):
    message = glm(text, backend, every_cut=len(text) < 200, tools=PEER_TOOLS)
    got = [(call.name, None if "truncated" in problem_kinds else json.loads(call.arguments)) for call in message.tool_calls]
    assert got == expected_calls
    assert message.content == content
    assert kinds(message) == problem_kinds


def test_peer_streamed_chunks(backend):
    """The deltas of the peers' streaming tests (their chunks), accumulated, give the one-shot result."""
    cases = [
        # SGLang S47 test_mtp_func_and_string_split: a name and values split mid-word.
        ["I'll create a task.", "<tool_call>create_ta", "sk<arg_key>title</arg_key><arg_value>Go to Bei",
         "jing</arg_value>", "<arg_key>location</arg_key><arg_value>San Fran", "cisco</arg_value></tool_call>"],
        # SGLang S47 test_boundary_param_value_extreme_split.
        ["<tool_call>search<arg_key>query</arg_key><arg_value>N", "e", "w ", "Y", "o", "rk</arg_value></tool_call>"],
        # SGLang S47 test_streaming_multiple_tool_calls: "</tool_call><tool_call>" in one chunk.
        ["<tool_call>get_weather", "<arg_key>city</arg_key><arg_value>Beijing</arg_value>",
         "<arg_key>date</arg_key><arg_value>2024-06-27</arg_value>", "</tool_call><tool_call>get_weather",
         "<arg_key>city</arg_key><arg_value>Shanghai</arg_value>", "<arg_key>date</arg_key><arg_value>2024-06-28</arg_value>",
         "</tool_call>"],
        # vLLM V45 test_streaming_multi_token_chunks.
        ["<tool_call>get_weather\n<arg_key>city</arg_key><arg_value>Bei", "jing</arg_value>", "</tool_call>"],
        # vLLM V47 (test_glm47_final_delta_bug.py) stages 1 to 7, as deltas.
        ["<tool_call>get_weather\n", "<arg_key>city</arg_key>", "<arg_value>Beijing</arg_value>", "<arg_key>date</arg_key>",
         "<arg_value>2025-08", "-01</arg_value>", "</tool_call>"],
    ]  # fmt: skip
    tools = [tool("create_task", title={"type": "string"}, location={"type": "string"}), *PEER_TOOLS]
    for chunks in cases:
        text = "".join(chunks)
        deltas, problems, _ = run_stream(backend, chunks, **GLM, tools=tools, call_id=sequential_ids())
        check_deltas(deltas)
        got = Message.from_deltas(deltas, problems)
        assert got == backend.parse(text, **GLM, tools=tools, call_id=sequential_ids())
        for call in got.tool_calls:
            json.loads(call.arguments)
    # Each argument fragment after the first is a piece, never the whole object again (vLLM's final-delta bug).
    deltas, _, _ = run_stream(backend, cases[-1], **GLM, tools=tools)
    fragments = [d["tool_calls"][0]["function"]["arguments"] for d in deltas if "tool_calls" in d][1:]
    assert "".join(fragments) == '{"city": "Beijing", "date": "2025-08-01"}'
    assert all(not fragment.startswith("{") for fragment in fragments[1:])
