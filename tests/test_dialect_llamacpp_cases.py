"""llama.cpp's own test cases for the Qwen3-Coder XML and GLM-4.5/4.6/4.7 formats,
restated under our contract (issue 13), on both twins.

Each case is a model output from llama.cpp's tests and the calls llama.cpp expects from
it, parsed with ``helpers.check`` (one-shot, then streamed in many chunkings: the same
message).  Sources, read at their current versions (restated, not copied):

- Q: ``tests/chat-parsers/test-qwen3-coder-xml.cpp``, ``test_qwen3_coder_xml_parser``
  (its ``qwen3_coder_tools`` typed as declared there), on the chat-parsers branch of
  ochafik/llama.cpp (a llama.cpp maintainer's split of test-chat.cpp);
- G45: the same branch's ``tests/chat-parsers/test-glm-4-5.cpp``, ``test_glm_4_5_parser``
  (template ``GLM-4.6.jinja``; tools ``glm_4_5_tools``: ``special_function``,
  ``special_function_with_opt``, ``complex_function``, ``web_search``);
- QP: ``tests/test-chat.cpp``, the ``peg_tester`` block of ``models/templates/Qwen3-Coder.jinja``;
- G: ``tests/test-chat.cpp``, the ``peg_tester`` blocks of ``models/templates/GLM-4.6.jinja``
  and ``models/templates/GLM-4.7-Flash.jinja``.

llama.cpp's ``special_function`` takes ``arg1: integer``; ``special_function_with_opt``
takes ``arg1, arg2: integer``; ``python`` takes ``code: string``; ``html`` takes
``markup: string``; ``todo_list`` takes ``todos: array``.  Where our result differs
from llama.cpp's, the case asserts ours and says "differs"; docs/dialects.md ("Where we
differ from the peers", the llama.cpp paragraphs) says why.
"""

from __future__ import annotations

import json

import pytest

from helpers import check


def tool(tool_name, **types):
    """An OpenAI tool whose parameters have the given JSON Schema types."""
    properties = {key: {"type": value} for key, value in types.items()}
    return {
        "type": "function",
        "function": {"name": tool_name, "parameters": {"type": "object", "properties": properties}},
    }


TOOLS = [
    tool("special_function", arg1="integer"),
    tool("special_function_with_opt", arg1="integer", arg2="integer"),
    tool("complex_function", name="string", age="integer", active="boolean", score="number"),
    tool("unicode_function", message="string"),
    tool("code_function", code="string"),
    tool("json_function", config="object"),
    tool("array_function", items="array"),
    tool("empty_function", empty_param="string"),
    tool("boolean_function", enabled="boolean", debug="boolean"),
    tool("null_function", optional_param="null"),
    tool("math_function", negative="integer", decimal="number", scientific="number", formula="string"),
    tool("python", code="string"),
    tool("html", markup="string"),
    tool("todo_list", todos="array"),
    tool("tool_2req_4opt", req1="string", req2="integer", opt1="string", opt2="integer", opt3="string", opt4="integer"),
    tool("set_nullable_int", count=["integer", "null"]),
    tool("web_search", query="string", limit="integer", type="string"),
]  # fmt: skip


def indented(name, *params):
    """A block as Q writes most of its inputs: two- and four-space indents, and each value
    on its own line indented by six spaces."""
    body = "".join(f"    <parameter={key}>\n      {value}\n    </parameter>\n" for key, value in params)
    return f"<tool_call>\n  <function={name}>\n{body}  </function>\n</tool_call>"


def plain(name, *params):
    """A block as the Qwen3-Coder template writes it (QP's inputs)."""
    body = "".join(f"<parameter={key}>\n{value}\n</parameter>\n" for key, value in params)
    return f"<tool_call>\n<function={name}>\n{body}</function>\n</tool_call>"


HELLO = 'def hello():\n    print("Hello, world!")\n\nhello()'
HTML = "<html>\n <head>\n  <title>Hello!</title>\n </head>\n</html>"
TODOS = '[{"item": "Check stuff", "selected": false}, {"item": "Prepare stuff", "selected": true}]'

QWEN3_CODER_CASES = [
    # (source and test, text, expected calls [(name, arguments)], content, problem kinds)
    # Whitespace before and after the only call is no content (grammar.md, rule 5), as in llama.cpp.
    ("Q leading space, spaces between tags",
     " <tool_call>\n<function=special_function> <parameter=arg1>1\n</parameter>\n</function> </tool_call>\n\n\n",
     [("special_function", {"arg1": 1})], None, []),
    ("Q basic XML tool call parsing", indented("special_function", ("arg1", "1")),
     [("special_function", {"arg1": 1})], None, []),
    # differs: llama.cpp trims every value; we strip one padding newline from a string
    # value, so "John Doe" keeps the six-space indent and the trailing "\n    ".
    ("Q multiple parameters with different types",
     indented("complex_function", ("name", "John Doe"), ("age", "30"), ("active", "true"), ("score", "95.5")),
     [("complex_function", {"name": "      John Doe\n    ", "age": 30, "active": True, "score": 95.5})], None, []),
    # differs: the same trimming.
    ("Q special characters and Unicode", indented("unicode_function", ("message", "Hello 世界! 🌍 Special chars: @#$%^&*()")),
     [("unicode_function", {"message": "      Hello 世界! 🌍 Special chars: @#$%^&*()\n    "})], None, []),
    # differs: the same trimming (llama.cpp's code ends at "return True").
    ("Q multiline content with newlines and indentation",
     "<tool_call>\n  <function=code_function>\n    <parameter=code>\n"
     'def hello():\n    print("Hello, World!")\n    return True\n    </parameter>\n  </function>\n</tool_call>',
     [("code_function", {"code": 'def hello():\n    print("Hello, World!")\n    return True\n    '})], None, []),
    ("Q JSON object as parameter value", indented("json_function", ("config", '{"host": "localhost", "port": 8080, "ssl": false}')),
     [("json_function", {"config": {"host": "localhost", "port": 8080, "ssl": False}})], None, []),
    ("Q array as parameter value", indented("array_function", ("items", '["apple", "banana", "cherry"]')),
     [("array_function", {"items": ["apple", "banana", "cherry"]})], None, []),
    # differs: the same trimming: the value is "    " after its padding newline.
    ("Q empty parameter",
     "<tool_call>\n  <function=empty_function>\n    <parameter=empty_param>\n    </parameter>\n  </function>\n</tool_call>",
     [("empty_function", {"empty_param": "    "})], None, []),
    ("Q boolean values", indented("boolean_function", ("enabled", "true"), ("debug", "false")),
     [("boolean_function", {"enabled": True, "debug": False})], None, []),
    ("Q null value", indented("null_function", ("optional_param", "null")),
     [("null_function", {"optional_param": None})], None, []),
    ("Q negative numbers and scientific notation",
     indented("math_function", ("negative", "-42"), ("decimal", "-3.14"), ("scientific", "1.23e-4")),
     [("math_function", {"negative": -42, "decimal": -3.14, "scientific": 1.23e-4})], None, []),
    ("QP tool call", plain("special_function", ("arg1", "1")), [("special_function", {"arg1": 1})], None, []),
    ("QP parallel tool calls",
     plain("special_function", ("arg1", "1")) + "\n" + plain("special_function_with_opt", ("arg1", "1"), ("arg2", "2")),
     [("special_function", {"arg1": 1}), ("special_function_with_opt", {"arg1": 1, "arg2": 2})], None, []),
    ("QP code content (multiline)", plain("python", ("code", HELLO)), [("python", {"code": HELLO})], None, []),
    ("QP code content (asian unicode chars)", plain("python", ("code", "格")), [("python", {"code": "格"})], None, []),
    ("QP HTML tag content", plain("html", ("markup", HTML)), [("html", {"markup": HTML})], None, []),
    ("QP TODO list (array of objects)", plain("todo_list", ("todos", TODOS)), [("todo_list", {"todos": json.loads(TODOS)})], None, []),
    ("QP flexible optional argument ordering (2 required + 4 optional)",
     plain("tool_2req_4opt", ("req1", "hello"), ("req2", "42"), ("opt4", "100"), ("opt2", "200")),
     [("tool_2req_4opt", {"req1": "hello", "req2": 42, "opt4": 100, "opt2": 200})], None, []),
    ("QP nullable integer type", plain("set_nullable_int", ("count", "42")), [("set_nullable_int", {"count": 42})], None, []),
]  # fmt: skip

GLM_47 = "<tool_call>special_function<arg_key>arg1</arg_key><arg_value>1</arg_value></tool_call>"

GLM_46 = "<tool_call>special_function\n<arg_key>arg1</arg_key>\n<arg_value>1</arg_value>\n</tool_call>"
THINKING = "\n<think>I'm\nthinking</think>"
OPEN = {"reasoning": True}

GLM_CASES = [
    # (source and test, text, expected calls, content, problem kinds, options)
    ("G45 parsing regular content", "Hello, world!\nWhat's up?", [], "Hello, world!\nWhat's up?", [], {}),
    ("G45 parsing tool calls", "\n" + GLM_46, [("special_function", {"arg1": 1})], None, [], {}),
    ("G45 parsing tool calls with thinking", THINKING + "\n" + GLM_46, [("special_function", {"arg1": 1})], None, [], OPEN),
    ("G45 tool calls with extra content", "\n" + GLM_46 + "Hello, world!\nWhat's up?",
     [("special_function", {"arg1": 1})], "Hello, world!\nWhat's up?", [], {}),
    # llama.cpp compares content stripped here; we keep the "\n" after the text (grammar.md, rule 5).
    ("G45 tool calls with extra content AND thinking", THINKING + "Hello, world!\nWhat's up?\n" + GLM_46,
     [("special_function", {"arg1": 1})], "Hello, world!\nWhat's up?\n", [], OPEN),
    ("G45 streaming, empty thinking, optional param", "\n<think></think>\n<tool_call>special_function_with_opt\n"
     "<arg_key>arg1</arg_key>\n<arg_value>1</arg_value>\n<arg_key>arg2</arg_key>\n<arg_value>2</arg_value>\n</tool_call>\n",
     [("special_function_with_opt", {"arg1": 1, "arg2": 2})], None, [], OPEN),
    ("G45 streaming, complex_function", "<tool_call>complex_function\n<arg_key>name</arg_key>\n<arg_value>John Doe</arg_value>\n"
     "<arg_key>age</arg_key>\n<arg_value>30</arg_value>\n<arg_key>active</arg_key>\n<arg_value>true</arg_value>\n"
     "<arg_key>score</arg_key>\n<arg_value>95.5</arg_value>\n</tool_call>",
     [("complex_function", {"name": "John Doe", "age": 30, "active": True, "score": 95.5})], None, [], {}),
    ("G45 streaming, web_search", "<tool_call>web_search\n<arg_key>query</arg_key>\n"
     "<arg_value>\"From Zero\" Linkin Park album tracklist complete songs</arg_value>\n<arg_key>limit</arg_key>\n"
     "<arg_value>3</arg_value>\n<arg_key>type</arg_key>\n<arg_value>text</arg_value>\n</tool_call>",
     [("web_search", {"query": '"From Zero" Linkin Park album tracklist complete songs', "limit": 3, "type": "text"})], None, [], {}),
    ("G GLM-4.6 tool call", "<tool_call>special_function\n<arg_key>arg1</arg_key>\n<arg_value>1</arg_value>\n</tool_call>",
     [("special_function", {"arg1": 1})], None, [], {}),
    ("G GLM-4.7-Flash pure content", "Hello, world!\nWhat's up?", [], "Hello, world!\nWhat's up?", [], {}),
    ("G GLM-4.7-Flash tool call without reasoning", GLM_47, [("special_function", {"arg1": 1})], None, [], {}),
    # The prompt opened the <think> (forced-open): reasoning="open" is that case here.
    ("G GLM-4.7-Flash tool call with reasoning (forced-open)", "I'm\nthinking</think>" + GLM_47,
     [("special_function", {"arg1": 1})], None, [], {"reasoning": "open"}),
    ("G GLM-4.7-Flash parallel tool calls",
     GLM_47 + "<tool_call>special_function_with_opt<arg_key>arg1</arg_key><arg_value>1</arg_value>"
     "<arg_key>arg2</arg_key><arg_value>2</arg_value></tool_call>",
     [("special_function", {"arg1": 1}), ("special_function_with_opt", {"arg1": 1, "arg2": 2})], None, [], {}),
]  # fmt: skip


def calls(message):
    return [(call.name, json.loads(call.arguments)) for call in message.tool_calls]


def kinds(message):
    return [problem.kind for problem in message.problems]


@pytest.mark.parametrize("source, text, expected_calls, content, problem_kinds", QWEN3_CODER_CASES,
                         ids=[case[0] for case in QWEN3_CODER_CASES])  # fmt: skip
def test_llamacpp_qwen3_coder_case(backend, source, text, expected_calls, content, problem_kinds):
    message = check(backend, text, every_cut=len(text) < 300, dialect="qwen3_coder", tools=TOOLS)
    assert calls(message) == expected_calls
    assert message.content == content
    assert kinds(message) == problem_kinds


@pytest.mark.parametrize("source, text, expected_calls, content, problem_kinds, options", GLM_CASES,
                         ids=[case[0] for case in GLM_CASES])  # fmt: skip
def test_llamacpp_glm_case(backend, source, text, expected_calls, content, problem_kinds, options):
    message = check(backend, text, dialect="glm", tools=TOOLS, **options)
    assert calls(message) == expected_calls
    assert message.content == content
    assert kinds(message) == problem_kinds


INTERLEAVED = THINKING + "Hello, world!\n<think>Thinking2</think>What's up?\n" + GLM_46

REASONING_CASES = [
    # (source and test, text, reasoning option, expected reasoning, expected content)
    ("G GLM-4.7-Flash reasoning with content (forced-open)", "I'm\nthinking</think>Hello, world!\nWhat's up?",
     "open", "I'm\nthinking", "Hello, world!\nWhat's up?"),
    ("G GLM-4.7-Flash tool call with reasoning (forced-open)", "I'm\nthinking</think>" + GLM_47, "open", "I'm\nthinking", None),
    # llama.cpp compares content stripped here; whitespace after </think> before text is
    # content (grammar.md, the reasoning split), as after a call.
    ("G45 parsing content with thinking", THINKING + "\nHello, world!\nWhat's up?", True, "I'm\nthinking", "\nHello, world!\nWhat's up?"),
    ("G45 parsing tool calls with thinking", THINKING + "\n" + GLM_46, True, "I'm\nthinking", None),
    ("G45 tool calls with extra content AND thinking", THINKING + "Hello, world!\nWhat's up?\n" + GLM_46,
     True, "I'm\nthinking", "Hello, world!\nWhat's up?\n"),
    # differs: llama.cpp's legacy parser also takes a <think> block in the middle of the
    # answer as reasoning ("I'm\nthinkingThinking2", content "Hello, world!\nWhat's up?");
    # only a <think> that opens the output is reasoning here (grammar.md, the reasoning
    # split), so the second block stays content, as llama.cpp's PEG parser keeps it too.
    ("G45 interleaved thinking (legacy parser)", INTERLEAVED, True, "I'm\nthinking",
     "Hello, world!\n<think>Thinking2</think>What's up?\n"),
]  # fmt: skip


@pytest.mark.parametrize("source, text, option, reasoning, content", REASONING_CASES,
                         ids=[case[0] for case in REASONING_CASES])  # fmt: skip
def test_llamacpp_glm_reasoning(backend, source, text, option, reasoning, content):
    """The text before </think> is the reasoning; the call comes after it."""
    message = check(backend, text, dialect="glm", tools=TOOLS, reasoning=option)
    assert (message.reasoning, message.content) == (reasoning, content)
    assert [call.name for call in message.tool_calls] == (["special_function"] if "<tool_call>" in text else [])
