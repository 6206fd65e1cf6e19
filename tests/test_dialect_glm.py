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
    closes the value and the call, with an invalid_arguments problem."""
    text = "<tool_call>f<arg_key>a</arg_key><arg_value>1</tool_call>\n<tool_call>g</tool_call>"
    message = glm(text, backend)
    assert calls(message) == [("f", {"a": 1}), ("g", {})] and kinds(message) == ["invalid_arguments"]
    assert message.problems[0].offset == text.index("</tool_call>") and message.problems[0].length == 12
    # At the end of the text.  (The problem is queued by the body's finish(),
    # which the envelope does not collect yet: asked of the lead.)
    text = "<tool_call>f<arg_key>a</arg_key><arg_value>x</tool_call> \n"
    message = glm(text, backend)
    assert calls(message) == [("f", {"a": "x"})] and "truncated" not in kinds(message)
    # Followed by something else than a tag: the text after the call's end is trailing text.
    text = "<tool_call>f<arg_key>a</arg_key><arg_value>1</tool_call> <b>x</b></tool_call>ok"
    message = glm(text, backend)
    assert calls(message) == [("f", {"a": 1})] and message.content == "ok"
    assert kinds(message) == ["invalid_arguments", "trailing_text"]


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
    # The call keeps what was complete, as a JSON object; the rest of the block is skipped.
    assert calls(message) == [("f", arguments)] and message.content == "next"
    assert kinds(message) == ["invalid_arguments"]


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
