"""The Qwen3-Coder body (``dialect="qwen3_coder"``): ``<function=NAME>`` and
``<parameter=NAME>`` tags inside ``<tool_call>``, each rule of docs/dialects.md
on both twins, every text streamed in many chunkings against the one-shot parse."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

import hermes_parse.machine
from hermes_parse import Message, Problem, ToolCall
from hermes_parse._types import sequential_ids

from helpers import check, check_deltas, chunkings, run_stream

Q = {"dialect": "qwen3_coder"}
WEATHER = (
    "<tool_call>\n<function=get_weather>\n<parameter=city>\nBeijing\n</parameter>\n"
    "</function>\n</tool_call>"
)


def tool(name, **properties):
    """An OpenAI tool whose parameters have the given JSON Schemas."""
    return {
        "type": "function",
        "function": {"name": name, "parameters": {"type": "object", "properties": properties}},
    }


def block(name, *params):
    """The block a Qwen3-Coder chat template writes for ``(name, value)`` parameters."""
    body = "".join(f"<parameter={key}>\n{value}\n</parameter>\n" for key, value in params)
    return f"<tool_call>\n<function={name}>\n{body}</function>\n</tool_call>"


def args_of(backend, text, every_cut=True, **options):
    """The arguments of the only call in ``text`` (streamed == one-shot checked)."""
    message = check(backend, text, every_cut=every_cut, **Q, **options)
    assert len(message.tool_calls) == 1, message
    return message.tool_calls[0].arguments


def kinds(message):
    return [problem.kind for problem in message.problems]


# -- the shape ---------------------------------------------------------------


def test_the_example(backend):
    """The issue's example: content, then one call, arguments in json.dumps form."""
    message = check(backend, "I'll check.\n\n" + WEATHER, **Q)
    assert message == Message(
        "I'll check.\n\n", [ToolCall(0, "call_0", "get_weather", '{"city": "Beijing"}')]
    )


def test_arguments_are_json_dumps_of_the_values(backend):
    """Several parameters: the separators and escapes json.dumps(ensure_ascii=False) writes."""
    values = {"city": "Beijing", "state": 'say "hi"', "unit": "°C", "path": "a\\b"}
    text = block("f", *values.items())
    assert args_of(backend, text) == json.dumps(values, ensure_ascii=False)


def test_a_call_without_parameters_gets_an_empty_object(backend):
    """A call with no parameters gets {}."""
    for text in (
        "<tool_call>\n<function=now>\n</function>\n</tool_call>",
        "<tool_call><function=now></function></tool_call>",
    ):
        assert args_of(backend, text) == "{}", text


def test_hermes_is_still_the_default(backend):
    """Without the option, the XML body is not a call (today's behaviour)."""
    message = backend.parse(WEATHER)
    assert message.tool_calls == [] and kinds(message) == ["not_a_call"]


def test_raw_arguments_are_the_same_text(backend):
    """arguments="raw": the model wrote no JSON, so raw is the json form too."""
    text = block("f", ("a", "x"), ("n", "1"))
    tools = [tool("f", n={"type": "integer"})]
    assert args_of(backend, text, arguments="raw", tools=tools) == '{"a": "x", "n": 1}'


# -- string values: padding and streaming ----------------------------------------


@pytest.mark.parametrize(
    "raw, value",
    [
        ("\nBeijing\n", "Beijing"),  # the template's padding
        ("Dallas", "Dallas"),  # inline, no padding
        ("\n\n  two lines\n  \n\n", "\n  two lines\n  \n"),  # exactly one newline each side
        ("\n", ""),
        ("\n\n", ""),
        ("", ""),
        ("  spaced  ", "  spaced  "),
        ("a\r\n", "a\r"),  # \r\n is not padding: only the \n goes
    ],
)
def test_one_leading_and_one_trailing_newline_are_padding(backend, raw, value):
    """Exactly one leading and one trailing newline are removed from a value; nothing else."""
    text = f"<tool_call>\n<function=f>\n<parameter=p>{raw}</parameter>\n</function>\n</tool_call>"
    assert json.loads(args_of(backend, text)) == {"p": value}


def test_a_string_value_streams_as_it_arrives(backend):
    """Half a value fed: its text is out already; only a possible padding newline waits."""
    parser = backend.StreamParser(call_id=sequential_ids(), **Q)
    deltas = parser.feed("<tool_call>\n<function=write_file>\n<parameter=content>\nline one")
    assert deltas[0]["tool_calls"][0]["function"] == {"name": "write_file", "arguments": ""}
    assert deltas[1:] == [{"tool_calls": [{"index": 0, "function": {"arguments": '{"content": "line one'}}]}]
    assert parser.feed(' "two"\n') == [
        {"tool_calls": [{"index": 0, "function": {"arguments": ' \\"two\\"'}}]}
    ]
    assert parser.feed("more\n</para") == [
        {"tool_calls": [{"index": 0, "function": {"arguments": "\\nmore"}}]}
    ]
    assert parser.feed("meter>\n</function>\n</tool_call>") == [
        {"tool_calls": [{"index": 0, "function": {"arguments": '"}'}}]}
    ]
    assert parser.calls_finished == 1


def test_a_long_value_is_not_held(backend):
    """Fed in 4-character pieces, a 20 KB value comes out piece by piece."""
    value = "x = 1  # some code\n" * 1000
    text = block("write_file", ("content", value))
    parser = backend.StreamParser(**Q)
    sizes = []
    for start in range(0, len(text), 4):
        for delta in parser.feed(text[start : start + 4]):
            if "tool_calls" in delta:
                sizes.append(len(delta["tool_calls"][0]["function"]["arguments"]))
    parser.close()
    assert len(sizes) > 4000 and max(sizes) < 40


def test_unicode_and_control_characters_are_escaped(backend):
    """A value's characters are escaped as json.dumps(ensure_ascii=False) escapes them."""
    value = 'é 中文 😀 "q" \\ \t \x01 \x1f \u2028 \ud800'
    text = block("f", ("p", value))
    arguments = args_of(backend, text)
    assert arguments == json.dumps({"p": value}, ensure_ascii=False)
    assert json.loads(arguments) == {"p": value}


# -- typed values ------------------------------------------------------------------

TYPED = tool(
    "typed",
    i={"type": "integer"},
    n={"type": "number"},
    b={"type": "boolean"},
    o={"type": "object"},
    a={"type": "array"},
    s={"type": "string"},
    e={"type": "string", "enum": ["celsius", "fahrenheit"]},
    ni={"anyOf": [{"type": "integer"}, {"type": "null"}]},
    ns={"anyOf": [{"type": "string"}, {"type": "null"}]},
    ts={"type": ["string", "null"]},
    ti={"type": ["integer", "null"]},
    z={"type": "null"},
    f={"type": "float"},  # vLLM's alias
)


@pytest.mark.parametrize(
    "param, raw, value",
    [
        ("i", "42", "42"),
        ("i", "-7", "-7"),
        ("i", " 42 ", "42"),  # whitespace around a non-string value is not the value
        ("n", "3.0", "3.0"),  # json.dumps of the parsed value
        ("n", "1.5e3", "1500.0"),
        ("n", "2", "2"),
        ("f", "3.14", "3.14"),
        ("b", "true", "true"),
        ("b", "True", "true"),  # Qwen3.5's template writes str(True)
        ("b", "FALSE", "false"),
        ("o", '{"key": "value", "n": [1, 2]}', '{"key": "value", "n": [1, 2]}'),
        ("o", '{"width": 10, \n "height": 20}', '{"width": 10, "height": 20}'),
        ("o", "{'a': True, 'b': None}", '{"a": true, "b": null}'),  # a Python literal
        ("a", '["a", "b"]', '["a", "b"]'),
        ("a", "[1, 'two', False]", '[1, "two", false]'),
        ("o", "null", "null"),
        ("o", "None", "null"),
        ("i", "None", "null"),
        ("s", "null", '"null"'),  # a string stays a string unless the schema allows null
        ("s", "None", '"None"'),
        ("s", "42", '"42"'),
        ("e", "celsius", '"celsius"'),
        ("ni", "5", "5"),
        ("ni", "null", "null"),
        ("ns", "null", "null"),
        ("ns", "None", "null"),
        ("ns", "nul", '"nul"'),
        ("ns", "nullx", '"nullx"'),
        ("ns", "NULL", '"NULL"'),
        ("ns", "hello", '"hello"'),
        ("ts", "None", "null"),
        ("ts", "Non", '"Non"'),
        ("ti", "None", "null"),
        ("ti", "42", "42"),
        ("z", "null", "null"),
        ("undeclared", "42", '"42"'),
    ],
)
def test_values_are_typed_by_the_schema(backend, param, raw, value):
    """Each value is written as its parameter's type says (json.dumps form)."""
    text = block("typed", (param, raw))
    message = check(backend, text, every_cut=False, tools=[TYPED], **Q)
    assert message.tool_calls[0].arguments == '{"%s": %s}' % (param, value)
    assert message.problems == []


@pytest.mark.parametrize(
    "param, raw",
    [
        ("i", "forty"),
        ("i", "1_000"),
        ("i", "4 2"),
        ("n", "NaN"),
        ("b", "yes"),
        ("o", "[1, 2]"),
        ("o", "\"{'a': 1}\""),  # a repr inside a JSON string: no double decoding
        ("o", "{'a': 1"),
        ("a", "{}"),
        ("z", "0"),
        ("i", ""),
    ],
)
def test_a_value_that_does_not_fit_is_its_text_and_a_problem(backend, param, raw):
    """A value that does not fit its type is its text as a string, with an invalid_value problem."""
    text = block("typed", (param, raw))
    message = check(backend, text, every_cut=False, tools=[TYPED], **Q)
    assert json.loads(message.tool_calls[0].arguments) == {param: raw}
    (problem,) = message.problems
    assert problem.kind == "invalid_value" and problem.index == 0
    type_name = TYPED["function"]["parameters"]["properties"][param]["type"]
    assert problem.detail == f"parameter {param!r} is not of type {type_name}"
    # The span is the value, padding included.
    start = text.index(f"<parameter={param}>") + len(f"<parameter={param}>")
    assert (problem.offset, problem.length) == (start, len(raw) + 2)


def test_without_tools_every_value_is_a_string(backend):
    """No schema (vLLM's rule): the raw text as a string, whatever it looks like."""
    text = block("f", ("n", "42"), ("b", "true"), ("o", '{"a": 1}'), ("z", "null"))
    expected = {"n": "42", "b": "true", "o": '{"a": 1}', "z": "null"}
    assert json.loads(args_of(backend, text)) == expected
    # An undeclared tool is typed by nothing too.
    assert json.loads(args_of(backend, text, tools=[TYPED])) == expected


def test_a_nullable_string_is_streamed_once_it_cannot_be_null(backend):
    """A nullable string is held only while it may still be null/None."""
    parser = backend.StreamParser(tools=[TYPED], **Q)
    out = parser.feed("<tool_call>\n<function=typed>\n<parameter=ns>\nNon")
    assert out[1:] == [{"tool_calls": [{"index": 0, "function": {"arguments": '{"ns": '}}]}]
    assert parser.feed("e of") == [
        {"tool_calls": [{"index": 0, "function": {"arguments": '"None of'}}]}
    ]


def test_non_string_values_come_out_when_they_close(backend):
    """A non-string value is written whole when its closing is certain."""
    parser = backend.StreamParser(tools=[TYPED], **Q)
    out = parser.feed("<tool_call>\n<function=typed>\n<parameter=i>\n12")
    assert out[1:] == [{"tool_calls": [{"index": 0, "function": {"arguments": '{"i": '}}]}]
    assert parser.feed("34\n") == []
    assert parser.feed("</parameter>\n</function") == []  # the value closes with the tag after it
    assert parser.feed(">") == [{"tool_calls": [{"index": 0, "function": {"arguments": "1234}"}}]}]


# -- boundaries --------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "use </parameter> to close",
        "a\n</parameter>\nmore",  # not followed by a tag: text
        "x</parameter>",  # followed by a second </parameter>, which closes
        "</parameter>\n</parameter>",
        "a <parameter=b> in a line",  # not at a line start: text
        "a </function> in a line",
        "a </tool_call> in a line",
        "<tool_call>\n<function=g>\n",  # a whole block written as text
        "</parameter",
        "<<>></</p</param</parameter >",
        "<parameter",  # a partial tag at a line start
        "\n</functio\n</tool_cal",
    ],
)
def test_tags_inside_values(backend, value):
    """The tags inside a value, where they do not close it, are text of the value."""
    text = block("write_file", ("content", value), ("mode", "w"))
    assert json.loads(args_of(backend, text)) == {"content": value, "mode": "w"}


def test_a_close_tag_is_structural_before_each_ending_tag(backend):
    """</parameter> closes a value before whitespace and <parameter=, </function> or </tool_call>."""
    for after in ("<parameter=b>\nB\n</parameter>\n</function>", "</function>", "</tool_call>"):
        text = "<tool_call>\n<function=f>\n<parameter=a>\nA\n</parameter> \n\t " + after
        message = check(backend, text, **Q)
        assert json.loads(message.tool_calls[0].arguments)["a"] == "A", after


def test_a_missing_close_parameter_ends_at_a_tag_at_a_line_start(backend):
    """A value without </parameter> ends at a <parameter= at a line start (missing_close)."""
    # vLLM's test_extract_tool_calls_missing_closing_parameter_tag, re-stated.
    text = (
        "Let me check the weather for you:\n<tool_call>\n<function=get_current_weather>\n"
        "<parameter=city>\nDallas\n<parameter=state>\nTX\n</parameter>\n"
        "<parameter=unit>\nfahrenheit\n</parameter>\n</function>\n</tool_call>"
    )
    message = check(backend, text, **Q)
    assert message.content == "Let me check the weather for you:\n"
    assert json.loads(message.tool_calls[0].arguments) == {
        "city": "Dallas",
        "state": "TX",
        "unit": "fahrenheit",
    }
    (problem,) = message.problems
    assert problem == Problem(
        "missing_close", text.index("<parameter=state>"), 0, 0, "no </parameter>"
    )


@pytest.mark.parametrize(
    "rest, expected",
    [
        ("</function>\n</tool_call>", {"a": "A"}),
        ("</tool_call>", {"a": "A"}),
        ("<parameter=b>B</parameter></function></tool_call>", {"a": "A", "b": "B"}),
    ],
)
def test_a_missing_close_at_the_value_start_or_after_a_newline(backend, rest, expected):
    """</function>, </tool_call> and <parameter= end an unclosed value at its start or after a newline."""
    for value in ("\nA\n", "A\n"):
        text = "<tool_call>\n<function=f>\n<parameter=a>" + value + rest
        message = check(backend, text, **Q)
        assert json.loads(message.tool_calls[0].arguments) == expected
        assert "missing_close" in kinds(message)
    # At the value's very start the value is empty.
    text = "<tool_call><function=f><parameter=a></function></tool_call>"
    assert args_of(backend, text) == '{"a": ""}'


def test_a_missing_close_function(backend):
    """</tool_call> where </function> belonged ends the call; the text after is content."""
    text = (
        "<tool_call>\n<function=f>\n<parameter=a>\n1\n</parameter>\n</tool_call>"
        " and then " + WEATHER
    )
    message = check(backend, text, **Q)
    assert [call.arguments for call in message.tool_calls] == ['{"a": "1"}', '{"city": "Beijing"}']
    assert message.content == " and then "
    (problem,) = message.problems
    assert problem == Problem("missing_close", text.index("</tool_call>"), 0, 0, "no </function>")


def test_the_next_call_where_a_parameter_belonged(backend):
    """A <tool_call> right after <function=NAME>: the call ends ({}), the next one begins."""
    text = "<tool_call>\n<function=f>\n" + WEATHER
    message = check(backend, text, **Q)
    assert [(call.name, call.arguments) for call in message.tool_calls] == [
        ("f", "{}"),
        ("get_weather", '{"city": "Beijing"}'),
    ]
    assert kinds(message) == ["missing_close"]
    # After a </parameter>, a <tool_call> does not make it structural: the value goes on.
    text = "<tool_call>\n<function=f>\n<parameter=a>\n1\n</parameter>\n" + WEATHER
    message = check(backend, text, **Q)
    assert json.loads(message.tool_calls[0].arguments) == {
        "a": "1\n</parameter>\n<tool_call>\n<function=get_weather>",
        "city": "Beijing",
    }


def test_several_calls_in_one_chunk(backend):
    """Speculative decoding delivers whole calls at once (vLLM #35615): all of them come out."""
    text = WEATHER + "\n" + WEATHER.replace("Beijing", "Paris") + "\n" + WEATHER
    for chunks in ([text], [text[:5], text[5:]]):
        deltas, problems, _ = run_stream(backend, chunks, call_id=sequential_ids(), **Q)
        calls = check_deltas(deltas)
        assert ["".join(calls[i][2]) for i in range(3)] == [
            '{"city": "Beijing"}',
            '{"city": "Paris"}',
            '{"city": "Beijing"}',
        ]
        assert problems == []


def test_duplicate_parameters_are_both_written(backend):
    """A repeated parameter is written twice (json.loads keeps the last) and reported."""
    text = block("f", ("a", "1"), ("b", "2"), ("a", "3"))
    message = check(backend, text, **Q)
    arguments = message.tool_calls[0].arguments
    assert arguments == '{"a": "1", "b": "2", "a": "3"}'
    assert json.loads(arguments) == {"a": "3", "b": "2"}
    (problem,) = message.problems
    assert problem.kind == "duplicate_key" and problem.index == 0
    second = text.rindex("<parameter=a>")
    assert (problem.offset, problem.length) == (second, len("<parameter=a>"))


# -- what is not a call, defects after the name --------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "<function=get weather>",
        "<function={{ tc.name }}>",  # an unrendered template
        "<function=>",
        '<function="f">',
        "<function=f'>",
        "<function=f{>",
        "<function=get_current_weather\n<parameter=city>Dallas</parameter>\n</function>",
        "<function=" + "x" * 513 + ">",
        "<func=f>",
        "function=f>",
        '{"name": "f"}',
        "<parameter=a>1</parameter>",
    ],
)
def test_bad_names_and_bodies_are_content(backend, body):
    """A block whose body is not <function=NAME> with a good name is content (not_a_call)."""
    text = "Hi <tool_call>\n" + body + "\n</tool_call> bye"
    message = check(backend, text, every_cut=len(text) < 200, **Q)
    assert message.tool_calls == [] and message.content == text
    (problem,) = message.problems
    assert problem.kind == "not_a_call" and problem.index is None
    assert (problem.offset, problem.length) == (3, len(text) - 7)


def test_a_name_of_512_characters_is_a_name(backend):
    """The name cap is 512 characters: a name that long is a name."""
    name = "n" * 512
    text = f"<tool_call><function={name}></function></tool_call>"
    assert check(backend, text, every_cut=False, **Q).tool_calls[0].name == name


def test_a_block_cut_before_its_name_is_content(backend):
    """A block cut off before its name is complete is content."""
    for text in ("<tool_call>\n<function=get_wea", "<tool_call>\n<func", "<tool_call>\n<function="):
        message = check(backend, text, **Q)
        assert message.content == text and kinds(message) == ["not_a_call"], text


def test_the_name_is_sent_only_when_complete(backend):
    """The call's first delta waits for the name's '>'."""
    parser = backend.StreamParser(**Q)
    assert parser.feed("<tool_call>\n<function=get_") == []
    assert parser.feed("weather") == []
    (delta,) = parser.feed(">")
    assert delta["tool_calls"][0]["function"]["name"] == "get_weather"


def test_text_where_a_parameter_belonged(backend):
    """Text between the tags: the call keeps what came before, the object closed."""
    text = (
        "<tool_call>\n<function=f>\n<parameter=a>\n1\n</parameter>\njunk\n<parameter=b>\n2\n"
        "</parameter>\n</function>\n</tool_call>after"
    )
    # The </parameter> is not followed by a tag: it and "junk" are text of the value,
    # which the <parameter=b> at a line start ends.
    message = check(backend, text, **Q)
    assert json.loads(message.tool_calls[0].arguments) == {"a": "1\n</parameter>\njunk", "b": "2"}
    text = "<tool_call>\n<function=f>\njunk<parameter=a>\n1\n</parameter></function></tool_call>after"
    message = check(backend, text, **Q)
    assert message.tool_calls[0].arguments == "{}" and message.content == "after"
    assert kinds(message) == ["invalid_arguments"]
    assert message.problems[0].offset == text.index("junk")


@pytest.mark.parametrize(
    "rest",
    [
        "<parameter=a>\n1\n</parameter>\n<parameter=bad name>\nx\n</parameter>\n</function>\n</tool_call>",
        "<parameter=a>\n1\n</parameter>\n<parameter=>\nx\n</parameter>\n</function>\n</tool_call>",
        "<parameter=a>\n1\n</parameter>\n<parameter=b\n</function>\n</tool_call>",
        "<parametr=b>\nx\n</parameter>\n</function>\n</tool_call>",
        "</functio>\n</tool_call>",
    ],
)
def test_a_bad_tag_after_the_name(backend, rest):
    """A bad parameter name, or a tag that is none of ours where one belonged: the call
    keeps the parameters before it, the object closed; the block's rest is skipped."""
    text = "<tool_call>\n<function=f>\n" + rest + "!"
    message = check(backend, text, **Q)
    expected = '{"a": "1"}' if rest.startswith("<parameter=a>") else "{}"
    assert message.tool_calls[0].arguments == expected
    assert message.content == "!"
    (problem,) = message.problems
    assert problem.kind == "invalid_arguments"
    # The span runs from the bad tag's '<' to the </tool_call>: no character is lost.
    bad = text.index(rest) + (rest.index("</parameter>\n<") + 13 if expected != "{}" else 0)
    assert (problem.offset, problem.offset + problem.length) == (bad, text.rindex("</tool_call>"))


def test_text_after_close_function_is_skipped(backend):
    """Text between </function> and </tool_call> is skipped (trailing_text)."""
    text = "<tool_call>\n<function=f>\n</function>\nstray</tool_call>ok"
    message = check(backend, text, **Q)
    assert message.tool_calls[0].arguments == "{}" and message.content == "ok"
    assert kinds(message) == ["trailing_text"]


# -- the end of the text -------------------------------------------------------------


@pytest.mark.parametrize(
    "rest, arguments",
    [
        ("<parameter=city>\nBeij", '{"city": "Beij'),
        ("<parameter=city>\nBeijing\n", '{"city": "Beijing'),  # the last newline may be padding
        ("<parameter=city>\nBeijing\n</param", '{"city": "Beijing'),  # a cut tag is no value text
        ("<parameter=city>\nBeijing\n</parameter>", '{"city": "Beijing"'),
        ("<parameter=city>\nBeijing\n</parameter>\n", '{"city": "Beijing"'),
        ("<parameter=city>\nBeijing\n</parameter>\n</func", '{"city": "Beijing"'),
        ("<parameter=city>\nBeijing\n</parameter>\n<parameter=da", '{"city": "Beijing"'),
        ("<parameter=ci", "{}"),
        ("", "{}"),
        ("<parameter=days>\n12", '{"days": 12'),
        ("<parameter=days>\n1e", '{"days": "1e"'),
    ],
)
def test_a_call_cut_by_the_end_keeps_its_arguments_as_far_as_they_went(backend, rest, arguments):
    """A call cut by the end keeps its arguments as far as they went, as in the JSON
    dialect: a string value stays open, so does the object (``truncated`` says so)."""
    tools = [tool("get_weather", city={"type": "string"}, days={"type": "integer"})]
    text = "<tool_call>\n<function=get_weather>\n" + rest
    message = check(backend, text, tools=tools, **Q)
    assert message.tool_calls[0].arguments == arguments
    # A cut value that does not fit its type is reported as such too.
    assert kinds(message) == (["invalid_value", "truncated"] if rest.endswith("1e") else ["truncated"])
    assert backend.parse(text, tools=tools, truncated="drop", **Q).tool_calls == []


def test_a_call_ended_by_close_function_at_the_end_is_not_cut(backend):
    """</function> and no </tool_call>: complete, as the JSON dialect's closed object is."""
    text = "<tool_call>\n<function=f>\n<parameter=a>\n1\n</parameter>\n</function>\n"
    message = check(backend, text, **Q)
    assert message.tool_calls[0].arguments == '{"a": "1"}' and message.problems == []


# -- bare blocks -------------------------------------------------------------------


def test_a_bare_function_block_is_a_call(backend):
    """A <function=...> block without <tool_call> is a call."""
    # vLLM's test_extract_tool_calls_fallback_no_tags, re-stated (Ollama #16686).
    text = (
        "I'll check the weather for you.\n\n<function=get_current_weather>\n"
        "<parameter=city>\nDallas\n</parameter>\n<parameter=state>\nTX\n</parameter>\n</function>"
    )
    message = check(backend, text, **Q)
    assert message.content == "I'll check the weather for you.\n\n"
    assert message.tool_calls == [
        ToolCall(0, "call_0", "get_current_weather", '{"city": "Dallas", "state": "TX"}')
    ]
    assert message.problems == []


@pytest.mark.parametrize(
    "text",
    [
        "see <function=a b> here",  # a bad name
        "The syntax is <function=NAME> where NAME is a tool.",  # no tag after the name
        "x <function=f>\n<b>bold</b> after",  # a tag that is none of ours
        "x <function=f>\n</para",  # cut before a tag of ours is complete
        "use <function=f>",
    ],
)
def test_a_bare_block_is_a_call_only_once_a_tag_follows_its_name(backend, text):
    """Prose that mentions <function=NAME> stays content: the name of a bare block is
    sent with the <parameter= or </function> after it."""
    message = check(backend, text, **Q)
    assert message.content == text and message.tool_calls == []
    assert kinds(message) == ["not_a_call"]


def test_bare_blocks_without_parameters(backend):
    """Bare blocks ended by </function> or </tool_call> right after the name."""
    message = check(backend, "x <function=f></function>  y", **Q)
    assert message == Message("x   y", [ToolCall(0, "call_0", "f", "{}")])
    parser = backend.StreamParser(**Q)
    assert parser.feed("x <function=f>\n") == [{"content": "x "}]
    assert [d["tool_calls"][0]["function"]["name"] for d in parser.feed("</function>")] == ["f"]
    message = check(backend, "x <function=f>\n</tool_call> y", **Q)
    assert message.tool_calls[0].arguments == "{}" and message.content == "x  y"
    assert kinds(message) == ["missing_close"]


# -- the external cases ---------------------------------------------------------------
# vLLM: tests/tool_parsers/test_qwen3coder_tool_parser.py (vllm-project/vllm), its
# sample tools and model outputs re-stated; SGLang (sgl-project/sglang):
# test/registered/unit/function_call/test_qwen3_coder_detector.py (two versions of it)
# and test_qwen3_coder_numeric_precision.py beside it.
# Where we differ, docs/dialects.md says why.

VLLM_TOOLS = [
    tool(
        "get_current_weather",
        city={"type": "string"},
        state={"type": "string"},
        unit={"type": "string", "enum": ["fahrenheit", "celsius"]},
    ),
    tool(
        "calculate_area",
        shape={"type": "string"},
        dimensions={"type": "object"},
        precision={"type": "integer"},
    ),
]


def vllm_weather(city, state, unit):
    return (
        f"<tool_call>\n<function=get_current_weather>\n<parameter=city>\n{city}\n</parameter>\n"
        f"<parameter=state>\n{state}\n</parameter>\n<parameter=unit>\n{unit}\n</parameter>\n"
        "</function>\n</tool_call>"
    )


VLLM_CASES = [
    # (model output, [(name, arguments as a dict)], content)
    ("This is a test response without any tool calls", [], "This is a test response without any tool calls"),
    (
        vllm_weather("Dallas", "TX", "fahrenheit"),
        [("get_current_weather", {"city": "Dallas", "state": "TX", "unit": "fahrenheit"})],
        None,
    ),
    (
        "Sure! Let me check the weather for you." + vllm_weather("Dallas", "TX", "fahrenheit"),
        [("get_current_weather", {"city": "Dallas", "state": "TX", "unit": "fahrenheit"})],
        "Sure! Let me check the weather for you.",
    ),
    (
        "<tool_call>\n<function=calculate_area>\n<parameter=shape>\nrectangle\n</parameter>\n"
        '<parameter=dimensions>\n{"width": 10, \n "height": 20}\n</parameter>\n'
        "<parameter=precision>\n2\n</parameter>\n</function>\n</tool_call>",
        [("calculate_area", {"shape": "rectangle", "dimensions": {"width": 10, "height": 20}, "precision": 2})],
        None,
    ),
    (
        vllm_weather("Dallas", "TX", "fahrenheit") + "\n" + vllm_weather("Orlando", "FL", "celsius"),
        [
            ("get_current_weather", {"city": "Dallas", "state": "TX", "unit": "fahrenheit"}),
            ("get_current_weather", {"city": "Orlando", "state": "FL", "unit": "celsius"}),
        ],
        None,
    ),
    (
        "Let me calculate that area for you.<tool_call>\n<function=calculate_area>\n"
        '<parameter=shape>\ncircle\n</parameter>\n<parameter=dimensions>\n{"radius": 15.5}\n'
        "</parameter>\n<parameter=precision>\n3\n</parameter>\n</function>\n</tool_call>",
        [("calculate_area", {"shape": "circle", "dimensions": {"radius": 15.5}, "precision": 3})],
        "Let me calculate that area for you.",
    ),
    (
        # test_none_tool_calls_filtered: the first block (no '>') is content here.
        "<tool_call>\n<function=bad_func_no_gt\n</function>\n</tool_call>\n<tool_call>\n"
        "<function=get_current_weather>\n<parameter=city>Dallas</parameter>\n"
        "<parameter=state>TX</parameter>\n</function>\n</tool_call>",
        [("get_current_weather", {"city": "Dallas", "state": "TX"})],
        "<tool_call>\n<function=bad_func_no_gt\n</function>\n</tool_call>\n",
    ),
]


@pytest.mark.parametrize("text, calls, content", VLLM_CASES)
def test_vllm_cases(backend, text, calls, content):
    """vLLM's model outputs give vLLM's calls and content."""
    message = check(backend, text, every_cut=False, tools=VLLM_TOOLS, **Q)
    assert [(call.name, json.loads(call.arguments)) for call in message.tool_calls] == calls
    assert message.content == content


def test_vllm_type_conversion_cases(backend):
    """vLLM's typed and anyOf parameters come out typed as vLLM expects."""
    # test_extract_tool_calls_type_conversion and ..._anyof_type_conversion (vLLM).
    tools = [
        tool(
            "test_types",
            int_param={"type": "integer"},
            float_param={"type": "float"},
            bool_param={"type": "boolean"},
            str_param={"type": "string"},
            obj_param={"type": "object"},
        ),
        tool(
            "test_anyof",
            anyof_int={"anyOf": [{"type": "integer"}, {"type": "null"}], "default": 5},
            anyof_str={"anyOf": [{"type": "string"}, {"type": "null"}]},
            anyof_array={"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]},
            anyof_obj={"anyOf": [{"type": "object"}, {"type": "null"}]},
            type_as_array={"type": ["integer", "null"]},
            multi_non_null={"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]},
        ),
        tool("update_record", data={"anyOf": [{"type": "object"}, {"type": "null"}]}),
        tool("greet", message={"type": "string"}),
    ]
    text = block(
        "test_types",
        ("int_param", "42"),
        ("float_param", "3.14"),
        ("bool_param", "true"),
        ("str_param", "hello world"),
        ("obj_param", '{"key": "value"}'),
    )
    arguments = json.loads(args_of(backend, text, every_cut=False, tools=tools))
    assert arguments == {
        "int_param": 42,
        "float_param": 3.14,
        "bool_param": True,
        "str_param": "hello world",
        "obj_param": {"key": "value"},
    }
    text = block(
        "test_anyof",
        ("anyof_int", "5"),
        ("anyof_str", "hello"),
        ("anyof_array", '["a", "b", "c"]'),
        ("anyof_obj", '{"key": "value"}'),
        ("type_as_array", "42"),
        ("multi_non_null", "some text"),
    )
    assert json.loads(args_of(backend, text, every_cut=False, tools=tools)) == {
        "anyof_int": 5,
        "anyof_str": "hello",
        "anyof_array": ["a", "b", "c"],
        "anyof_obj": {"key": "value"},
        "type_as_array": 42,
        "multi_non_null": "some text",
    }
    # test_anyof_parameter_not_double_encoded, test_no_double_serialization_string_args.
    text = (
        '<tool_call>\n<function=update_record>\n<parameter=data>{"key": "value", "count": 42}'
        "</parameter>\n</function>\n</tool_call>"
    )
    assert args_of(backend, text, tools=tools) == '{"data": {"key": "value", "count": 42}}'
    text = (
        "<tool_call>\n<function=greet>\n<parameter=message>hello world</parameter>\n"
        "</function>\n</tool_call>"
    )
    assert args_of(backend, text, tools=tools) == '{"message": "hello world"}'


def test_vllm_streamed_deltas(backend):
    """vLLM's speculative-decoding deltas (three parameters in one) give the whole call."""
    # test_streaming_multi_param_single_chunk (vLLM): its very deltas.
    deltas = [
        "<tool_call>",
        "\n<function=get_current_weather>",
        "\n",
        "<parameter=city>\nDallas\n</parameter>\n<parameter=state>\nTX\n</parameter>"
        "\n<parameter=unit>\nfahrenheit\n</parameter>",
        "\n</function>",
        "\n</tool_call>",
    ]
    out, problems, _ = run_stream(backend, deltas, tools=VLLM_TOOLS, **Q)
    calls = check_deltas(out)
    assert json.loads("".join(calls[0][2])) == {"city": "Dallas", "state": "TX", "unit": "fahrenheit"}
    assert problems == []


SGLANG_TOOLS = [
    tool(
        "get_current_weather",
        location={"type": "string"},
        unit={"type": "string", "enum": ["celsius", "fahrenheit"]},
        days={"type": "integer"},
    ),
    tool("sql_interpreter", query={"type": "string"}, dry_run={"type": "boolean"}),
    tool(
        "TodoWrite",
        todos={
            "type": "array",
            "items": {"type": "object", "properties": {"content": {"type": "string"}}},
        },
    ),
]

SGLANG_CASES = [
    ("This is plain text without any tool calls.", [], "This is plain text without any tool calls."),
    (
        "<tool_call>\n<function=get_current_weather>\n<parameter=location>Boston</parameter>\n"
        "<parameter=unit>celsius</parameter>\n<parameter=days>3</parameter>\n</function>\n</tool_call>",
        [("get_current_weather", {"location": "Boston", "unit": "celsius", "days": 3})],
        None,
    ),
    (
        "Let me check the weather for you.\n\n<tool_call>\n<function=get_current_weather>\n"
        "<parameter=location>New York</parameter>\n</function>\n</tool_call>",
        [("get_current_weather", {"location": "New York"})],
        "Let me check the weather for you.\n\n",
    ),
    (
        "<tool_call>\n<function=get_current_weather>\n<parameter=location>New York</parameter>\n"
        "</function>\n</tool_call>\n<tool_call>\n<function=sql_interpreter>\n"
        "<parameter=query>SELECT * FROM users</parameter>\n<parameter=dry_run>True</parameter>\n"
        "</function>\n</tool_call>",
        [
            ("get_current_weather", {"location": "New York"}),
            ("sql_interpreter", {"query": "SELECT * FROM users", "dry_run": True}),
        ],
        None,
    ),
    (
        "<tool_call>\n<function=TodoWrite>\n<parameter=todos>\n[\n"
        '  {"content": "Buy groceries", "status": "pending"},\n'
        '  {"content": "Finish report", "status": "completed"}\n]\n</parameter>\n</function>\n</tool_call>',
        [
            (
                "TodoWrite",
                {
                    "todos": [
                        {"content": "Buy groceries", "status": "pending"},
                        {"content": "Finish report", "status": "completed"},
                    ]
                },
            )
        ],
        None,
    ),
    (
        "<tool_call>\n<function=get_current_weather>\n<parameter=location></parameter>\n"
        "</function>\n</tool_call>",
        [("get_current_weather", {"location": ""})],
        None,
    ),
    (
        "<tool_call>\n<function=sql_interpreter>\n"
        "<parameter=query>SELECT * FROM users WHERE name = 'John \"Doe\"'</parameter>\n"
        "</function>\n</tool_call>",
        [("sql_interpreter", {"query": "SELECT * FROM users WHERE name = 'John \"Doe\"'"})],
        None,
    ),
    (
        # test_incomplete_tool_call: asks only for no crash; we keep the cut call, its
        # arguments as far as they went (not JSON: compared as text).
        "<tool_call>\n<function=get_current_weather>\n<parameter=location>London",
        [("get_current_weather", '{"location": "London')],
        None,
    ),
]


@pytest.mark.parametrize("text, calls, content", SGLANG_CASES)
def test_sglang_cases(backend, text, calls, content):
    """SGLang's model outputs give SGLang's calls and content."""
    message = check(backend, text, every_cut=False, tools=SGLANG_TOOLS, **Q)
    got = [
        (call.name, call.arguments if isinstance(want[1], str) else json.loads(call.arguments))
        for call, want in zip(message.tool_calls, calls)
    ]
    assert len(message.tool_calls) == len(calls) and got == calls
    assert message.content == content


def test_sglang_streamed_chunks(backend):
    """SGLang's streamed chunks give its calls and content."""
    # test_streaming_single_tool_call and test_streaming_with_text_and_tool (SGLang).
    for chunks, content, arguments in (
        (
            [
                "<tool_call>",
                "<function=get_current_weather>",
                "<parameter=location>",
                "Boston",
                "</parameter>",
                "<parameter=unit>celsius</parameter>",
                "</function>",
                "</tool_call>",
            ],
            None,
            {"location": "Boston", "unit": "celsius"},
        ),
        (
            [
                "Let me ",
                "help you.\n\n",
                "<tool_call>",
                "<function=get_current_weather>",
                "<parameter=location>Paris</parameter>",
                "</function>",
                "</tool_call>",
            ],
            "Let me help you.\n\n",
            {"location": "Paris"},
        ),
    ):
        out, problems, _ = run_stream(backend, chunks, tools=SGLANG_TOOLS, **Q)
        message = Message.from_deltas(out, problems)
        assert message.content == content
        assert json.loads(message.tool_calls[0].arguments) == arguments
        assert message.problems == []


@pytest.mark.parametrize(
    "schema, raw, expected",
    [
        # test_qwen3_coder_numeric_precision.py (SGLang): big integers kept digit for digit.
        ({"type": "number"}, "9007199254740993", "9007199254740993"),
        ({"type": "number"}, "-9007199254740993", "-9007199254740993"),
        ({"type": "number"}, "18446744073709551615", "18446744073709551615"),
        ({"type": "number"}, "1790892345000000001", "1790892345000000001"),
        ({"type": "number"}, " 9007199254740993 ", "9007199254740993"),
        ({"anyOf": [{"type": "number"}, {"type": "null"}]}, "9007199254740993", "9007199254740993"),
        ({"type": "number"}, "42", "42"),
        ({"type": "number"}, "-12.5", "-12.5"),
        ({"type": "number"}, "1.25e3", "1250.0"),
        ({"type": "number"}, "null", "null"),
        ({"type": "integer"}, "9007199254740993", "9007199254740993"),
        ({"type": "string"}, "9007199254740993", '"9007199254740993"'),
        # SGLang keeps "not-a-number" silently; we keep it too, with an invalid_value problem.
        ({"type": "number"}, "not-a-number", '"not-a-number"'),
    ],
)
def test_sglang_numeric_precision(backend, schema, raw, expected):
    """SGLang's numeric cases: big integers kept exactly, numbers in json.dumps form."""
    text = f"<tool_call><function=lookup><parameter=value>{raw}</parameter></function></tool_call>"
    message = check(backend, text, every_cut=False, tools=[tool("lookup", value=schema)], **Q)
    assert message.tool_calls[0].arguments == '{"value": %s}' % expected
    assert kinds(message) == (["invalid_value"] if raw == "not-a-number" else [])


def sglang_call(city_block):
    return (
        "<tool_call>\n<function=get_weather>\n"
        f"<parameter=city>\n{city_block}\n"
        "<parameter=days>\n3\n</parameter>\n"
        "</function>\n</tool_call>"
    )


@pytest.mark.parametrize(
    "city_block, city, missing",
    [
        # test_qwen3_coder_detector.py (SGLang, newer version): values with tags in them.
        ("Shanghai\n</parameter>", "Shanghai", False),
        ("a <b>tag</b> city\n</parameter>", "a <b>tag</b> city", False),
        ("<config>\n  <p>1</p>\n</parameters>\n</parameter>", "<config>\n  <p>1</p>\n</parameters>", False),
        ("x </parameterList>\n</parameter>", "x </parameterList>", False),
        ("a" + " " * 10_000 + "b", "a" + " " * 10_000 + "b", True),
        # SGLang strips a drifted close marker; for us it is text of the value, which the
        # <parameter=days> at a line start closes (docs/dialects.md).
        ("Shanghai\n</parameter1>", "Shanghai\n</parameter1>", True),
        ("Shanghai\n</parameter_function>", "Shanghai\n</parameter_function>", True),
        ("Shanghai\n</parameter", "Shanghai\n</parameter", True),
    ],
)
def test_sglang_tags_in_values(backend, city_block, city, missing):
    """SGLang's values with tag-like text; a drifted close marker stays text here."""
    tools = [tool("get_weather", city={"type": "string"}, days={"type": "integer"})]
    text = sglang_call(city_block)
    message = check(backend, text, every_cut=False, tools=tools, **Q)
    assert json.loads(message.tool_calls[0].arguments) == {"city": city, "days": 3}
    assert kinds(message) == (["missing_close"] if missing else [])


# -- properties ------------------------------------------------------------------------

FRAGMENTS = [
    "<tool_call>",
    "</tool_call>",
    "<function=f>",
    "<function=g h>",
    "</function>",
    "<parameter=a>",
    "<parameter=n>",
    "<parameter=s>",
    "</parameter>",
    "<parameter=",
    "</param",
    "<",
    "</",
    ">",
    "\n",
    " ",
    "\t",
    "x",
    "42",
    "null",
    "None",
    '"',
    "\\",
    "é",
    "{'k': [1, True]}",
    "true",
]
FRAGMENT_TOOLS = [
    tool(
        "f",
        n={"type": "integer"},
        s={"anyOf": [{"type": "string"}, {"type": "null"}]},
        a={"type": "object"},
    )
]


def fragment_texts():
    return st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)


@given(text=fragment_texts(), data=st.data())
def test_streamed_equals_one_shot_and_arguments_are_json(backend, text, data):
    """Any soup of the body's pieces: every chunking gives the one-shot result, and
    every call's arguments are JSON (the body writes all of it), but a call cut by the
    end of the text (kept as far as it went, as in the JSON dialect)."""
    options = {"call_id": sequential_ids(), "tools": FRAGMENT_TOOLS, **Q}
    expected = backend.parse(text, **options)
    cut = {p.index for p in expected.problems if p.kind == "truncated"}
    for call in expected.tool_calls:
        if call.index not in cut:
            json.loads(call.arguments)
    cuts = data.draw(st.lists(st.integers(0, len(text)), max_size=8))
    pieces, start = [], 0
    for cut in sorted(set(cuts)):
        pieces.append(text[start:cut])
        start = cut
    pieces.append(text[start:])
    out, problems, _ = run_stream(backend, pieces, **options)
    check_deltas(out)
    assert Message.from_deltas(out, problems) == expected


@given(text=fragment_texts())
def test_the_twins_agree(pytestconfig, text):
    """The compiled twin and the pure-Python one give the same message."""
    if pytestconfig.getoption("--no-c-extensions"):
        pytest.skip("--no-c-extensions")
    compiled = hermes_parse.machine.compiled()
    if compiled is None:
        pytest.skip("the Cython extension is not built")
    pure = hermes_parse.machine.load("python")
    for options in ({}, {"tools": FRAGMENT_TOOLS}, {"arguments": "raw"}):
        options = {"call_id": sequential_ids(), **options, **Q}
        a = compiled.parse(text, **options)
        options["call_id"] = sequential_ids()
        assert pure.parse(text, **options) == a


def test_random_chunkings_of_a_long_output(backend):
    """A long output with tags in a value: random chunkings give the one-shot result."""
    text = (
        "Sure.\n\n"
        + block("write_file", ("path", "a.py"), ("content", "def f():\n    return '</parameter>'\n" * 30))
        + "\n"
        + block("calculate_area", ("shape", "circle"), ("dimensions", '{"radius": 15.5}'), ("precision", "3"))
    )
    tools = VLLM_TOOLS + [tool("write_file", path={"type": "string"}, content={"type": "string"})]
    expected = backend.parse(text, tools=tools, call_id=sequential_ids(), **Q)
    assert len(expected.tool_calls) == 2 and expected.problems == []
    for chunks in chunkings(text, every_cut=False, seed=13)[:12]:
        out, problems, _ = run_stream(backend, chunks, tools=tools, call_id=sequential_ids(), **Q)
        assert Message.from_deltas(out, problems) == expected
