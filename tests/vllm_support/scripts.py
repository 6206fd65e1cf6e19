"""Scripted model outputs for the end-to-end tests, what a client must get
from each, and a client that runs them streamed and whole.

``Case.text`` is what the model writes (forced token by token); ``expected``
is what the client must end up with: ``(content, [(name, arguments)])``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Optional

TOOLS = [
    {"type": "function", "function": {
        "name": "get_weather", "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
    {"type": "function", "function": {
        "name": "write_file", "description": "Write a file",
        "parameters": {"type": "object", "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
                       "required": ["path", "content"]}}},
]

MESSAGES = [{"role": "user", "content": "What is the weather in Paris?"}]


def call(name: str, arguments: dict, compact: bool = False) -> str:
    """A Hermes tool-call block as a Qwen model writes it."""
    if compact:
        return "<tool_call>" + json.dumps({"name": name, "arguments": arguments}, separators=(",", ":"), ensure_ascii=False) + "</tool_call>"
    return "<tool_call>\n" + json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False) + "\n</tool_call>"


def args(value: dict) -> str:
    """Arguments as OpenAI clients get them: json.dumps, ensure_ascii=False."""
    return json.dumps(value, ensure_ascii=False)


def big_content(size: int = 100_000) -> str:
    """About ``size`` characters that tokenize compactly (a long argument must
    not take minutes to generate on CPU): 112-dash rulers, numbered lines."""
    lines = []
    total = 0
    i = 0
    while total < size:
        line = f"{i:04d} é≠ ruler" if i % 10 == 0 else " " + "-" * 112
        lines.append(line)
        total += len(line) + 1
        i += 1
    return "\n".join(lines)[:size]


@dataclass
class Case:
    name: str
    text: str
    expected: tuple  # (content, [(name, arguments)])
    tool_choice: Any = "auto"
    tools: Optional[list] = field(default_factory=lambda: TOOLS)
    max_tokens: Optional[int] = None  # default: the script's length + 8
    why: str = ""


PARIS = {"city": "Paris"}
BIG = big_content()

CASES = [
    Case("content_only", "Hello! How can I help you today?",
         ("Hello! How can I help you today?", [])),
    Case("one_call", call("get_weather", PARIS), (None, [("get_weather", args(PARIS))])),
    Case("content_then_call", "I'll check the weather.\n\n" + call("get_weather", PARIS),
         ("I'll check the weather.\n\n", [("get_weather", args(PARIS))])),
    Case("parallel_calls",
         call("get_weather", PARIS) + "\n" + call("get_weather", {"city": "Tokyo"}) + "\n"
         + call("write_file", {"path": "notes.txt", "content": "hi"}),
         (None, [("get_weather", args(PARIS)), ("get_weather", args({"city": "Tokyo"})),
                 ("write_file", args({"path": "notes.txt", "content": "hi"}))])),
    Case("big_argument_100k", call("write_file", {"path": "big.txt", "content": BIG}),
         (None, [("write_file", args({"path": "big.txt", "content": BIG}))])),
    Case("unicode", "Voilà 👍 " + call("get_weather", {"city": "Zürich 東京 😀"}),
         ("Voilà 👍 ", [("get_weather", args({"city": "Zürich 東京 😀"}))])),
    Case("unicode_escapes",
         '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Z\\u00fcrich \\ud83d\\ude00"}}\n</tool_call>',
         (None, [("get_weather", args({"city": "Zürich 😀"}))]),
         why="\\u escapes are decoded as json.loads does"),
    Case("literal_end_tag_in_argument",
         call("write_file", {"path": "t.xml", "content": "a </tool_call> b <tool_call> c"}),
         (None, [("write_file", args({"path": "t.xml", "content": "a </tool_call> b <tool_call> c"}))]),
         why="tags inside a JSON string are text"),
    Case("compact_json", call("get_weather", PARIS, compact=True),
         (None, [("get_weather", args(PARIS))]),
         why="arguments are normalised to json.dumps form, streamed and whole"),
    Case("content_after_call", call("get_weather", PARIS) + "\nDone.",
         ("\nDone.", [("get_weather", args(PARIS))]),
         why="text after a call is content"),
    Case("nested_arguments",
         call("write_file", {"path": "a.json", "content": "x", "meta": {"tags": ["a", "b"], "n": [1, 2.5, -3e-2, True, None]}}),
         (None, [("write_file", args({"path": "a.json", "content": "x", "meta": {"tags": ["a", "b"], "n": [1, 2.5, -3e-2, True, None]}}))])),
    Case("tool_choice_none", "I'll check.\n" + call("get_weather", PARIS), ("I'll check.\n" + call("get_weather", PARIS), []),
         tool_choice="none", why="tool_choice none: vLLM passes the text through"),
    # "required" / named: vLLM's xgrammar structural tag forces the envelope
    # <tool_call>\n{"name": "NAME", "arguments": ...}\n</tool_call>, calls
    # back to back; a script must keep to it or the grammar rejects a token.
    Case("tool_choice_required", call("get_weather", PARIS) + call("get_weather", {"city": "Rome"}),
         (None, [("get_weather", args(PARIS)), ("get_weather", args({"city": "Rome"}))]),
         tool_choice="required"),
    Case("tool_choice_named", call("get_weather", PARIS), (None, [("get_weather", args(PARIS))]),
         tool_choice={"type": "function", "function": {"name": "get_weather"}}),
    Case("truncated_by_max_tokens", "Let me write it." + call("write_file", {"path": "a", "content": "abcdefghij" * 20}),
         None, max_tokens=30, why="cut by max_tokens: the call keeps what was written"),
]
CASES_BY_NAME = {case.name: case for case in CASES}


# -- the XML dialects: Qwen3-Coder / Qwen3.5 and GLM-4.5 to GLM-5 --------------
# Just text to force (the tiny model has Qwen3's vocabulary).  Their expected
# message is hermes_parse.parse(text, dialect="auto", tools=XML_TOOLS): the
# core's own tests hold its rules (docs/dialects.md); these hold that vLLM's
# serving layer gives exactly that, and show where vLLM's parsers differ.
XML_TOOLS = TOOLS + [
    {"type": "function", "function": {
        "name": "set_alarm", "description": "Set an alarm",
        "parameters": {"type": "object", "properties": {
            "hour": {"type": "integer"}, "repeat": {"type": "boolean"},
            "days": {"type": "array", "items": {"type": "string"}}, "label": {"type": ["string", "null"]}}}}},
]


def qwen3_coder_call(name: str, params: dict) -> str:
    """A Qwen3-Coder block as its chat template writes it (values as text)."""
    body = "".join(f"<parameter={key}>\n{value}\n</parameter>\n" for key, value in params.items())
    return f"<tool_call>\n<function={name}>\n{body}</function>\n</tool_call>"


def glm_call(name: str, params: dict, newlines: bool = True) -> str:
    """A GLM-4.5 block (newlines) or a GLM-4.7 one (none)."""
    nl = "\n" if newlines else ""
    body = "".join(f"<arg_key>{key}</arg_key>{nl}<arg_value>{value}</arg_value>{nl}" for key, value in params.items())
    return f"<tool_call>{name}{nl}{body}</tool_call>"


LONG_TEXT = "".join(f"line {i:03d} of the file\n" for i in range(120))
QWEN3_CODER_CASES = [
    Case("q_one_call", qwen3_coder_call("get_weather", {"city": "Paris"}), None),
    Case("q_content_then_call", "I'll check.\n\n" + qwen3_coder_call("get_weather", {"city": "Paris"}), None),
    Case("q_typed_values", qwen3_coder_call("set_alarm", {"hour": "7", "repeat": "True", "days": "['mon', 'tue']", "label": "None"}), None),
    Case("q_parallel_calls", qwen3_coder_call("get_weather", {"city": "Paris"}) + "\n"
         + qwen3_coder_call("write_file", {"path": "a.txt", "content": "hi"}), None),
    Case("q_tags_in_value", qwen3_coder_call("write_file", {"path": "t.xml", "content": "a </parameter> b <parameter=x> c"}), None),
    Case("q_missing_parameter_end",
         "<tool_call>\n<function=write_file>\n<parameter=path>\na.txt\n<parameter=content>\nhi\n</parameter>\n</function>\n</tool_call>", None),
    Case("q_content_after_call", qwen3_coder_call("get_weather", {"city": "Paris"}) + "\nDone.", None),
    Case("q_bare_function", "<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n</function>", None),
    Case("q_unicode", "Voilà 👍 " + qwen3_coder_call("get_weather", {"city": "Zürich 東京 😀"}), None),
    Case("q_string_that_looks_like_json", qwen3_coder_call("write_file", {"path": "1", "content": "[1, 2]"}), None),
    Case("q_long_value", qwen3_coder_call("write_file", {"path": "long.txt", "content": LONG_TEXT}), None),
    Case("q_truncated_by_max_tokens", "Let me write it." + qwen3_coder_call("write_file", {"path": "a", "content": "abcdefghij" * 20}),
         None, max_tokens=30),
]
GLM_CASES = [
    Case("g_one_call", glm_call("get_weather", {"city": "Paris"}), None),
    Case("g47_one_call", glm_call("get_weather", {"city": "Paris"}, newlines=False), None),
    Case("g47_no_arguments", "<tool_call>get_weather</tool_call>", None),
    Case("g_content_then_call", "I'll check.\n" + glm_call("get_weather", {"city": "Paris"}), None),
    Case("g_typed_values", glm_call("set_alarm", {"hour": "7", "repeat": "true", "days": '["mon", "tue"]', "label": "null"}), None),
    Case("g47_parallel_calls", glm_call("get_weather", {"city": "Paris"}, False) + glm_call("write_file", {"path": "a.txt", "content": "hi"}, False), None),
    Case("g_string_that_looks_like_json", glm_call("write_file", {"path": "1", "content": "[1, 2]"}), None),
    Case("g_content_after_call", glm_call("get_weather", {"city": "Paris"}) + "\nDone.", None),
    Case("g_escaped_newlines", glm_call("get_weather", {"city": "Paris"}).replace("\n", "\\n"), None),
    Case("g_unicode", "Voilà 👍 " + glm_call("get_weather", {"city": "Zürich 東京 😀"}), None),
    Case("g_long_value", glm_call("write_file", {"path": "long.txt", "content": LONG_TEXT}), None),
    Case("g_truncated_by_max_tokens", "Let me write it." + glm_call("write_file", {"path": "a", "content": "abcdefghij" * 20}),
         None, max_tokens=30),
]
for _case in QWEN3_CODER_CASES + GLM_CASES:
    _case.tools = XML_TOOLS
XML_CASES_BY_NAME = {case.name: case for case in QWEN3_CODER_CASES + GLM_CASES}


def concurrent_cases(count: int = 16) -> list:
    cities = ["Paris", "Tokyo", "Lima", "Oslo", "Cairo", "Quito", "Dakar", "Hanoi",
              "Perth", "Sofia", "Bern", "Riga", "Seoul", "Accra", "Minsk", "Doha"]
    cases = []
    for i in range(count):
        city = cities[i % len(cities)] + " " + "é" * i
        if i % 4 == 0:
            cases.append(Case(f"c{i}_content", f"Stream {i}: no call for {city}.", (f"Stream {i}: no call for {city}.", [])))
        elif i % 4 == 1:
            cases.append(Case(f"c{i}_call", call("get_weather", {"city": city}), (None, [("get_weather", args({"city": city}))])))
        elif i % 4 == 2:
            cases.append(Case(f"c{i}_text_call", f"Checking {city}. " + call("get_weather", {"city": city}),
                              (f"Checking {city}. ", [("get_weather", args({"city": city}))])))
        else:
            body = f"file {i} " * (40 * i)
            cases.append(Case(f"c{i}_two_calls", call("get_weather", {"city": city}) + call("write_file", {"path": f"{i}.txt", "content": body}),
                              (None, [("get_weather", args({"city": city})), ("write_file", args({"path": f"{i}.txt", "content": body}))])))
    return cases


@dataclass
class Result:
    content: Optional[str]
    calls: list  # [(name, arguments)]
    ids: list
    finish_reason: Optional[str]
    reasoning: Optional[str] = None
    chunks: int = 0
    arg_chunks: int = 0  # chunks that carried a piece of arguments

    @property
    def message(self) -> tuple:
        return (self.content, self.calls)


def _reasoning_of(obj) -> Optional[str]:
    extra = getattr(obj, "model_extra", None) or {}
    for key in ("reasoning", "reasoning_content"):
        value = getattr(obj, key, None) if key in getattr(type(obj), "model_fields", {}) else extra.get(key)
        if value:
            return value
    return None


def request_kwargs(case: Case, token_ids: list, model: str = "tiny") -> dict:
    kwargs = dict(model=model, messages=MESSAGES, temperature=0.0,
                  max_tokens=case.max_tokens or len(token_ids) + 8,
                  extra_body={"vllm_xargs": {"forced_tokens": token_ids}})
    if case.tools is not None:
        kwargs["tools"] = case.tools
        kwargs["tool_choice"] = case.tool_choice
    return kwargs


def run(client, case: Case, token_ids: list, stream: bool) -> Result:
    kwargs = request_kwargs(case, token_ids)
    if not stream:
        response = client.chat.completions.create(**kwargs)
        choice = response.choices[0]
        message = choice.message
        calls = [(c.function.name, c.function.arguments) for c in message.tool_calls or ()]
        ids = [c.id for c in message.tool_calls or ()]
        return Result(message.content or None, calls, ids, choice.finish_reason, _reasoning_of(message))
    content, reasoning, calls, finish, chunks, arg_chunks = [], [], {}, None, 0, 0
    for chunk in client.chat.completions.create(stream=True, **kwargs):
        chunks += 1
        if not chunk.choices:
            continue
        choice = chunk.choices[0]
        delta = choice.delta
        if delta.content:
            content.append(delta.content)
        r = _reasoning_of(delta)
        if r:
            reasoning.append(r)
        if any(tc.function is not None and tc.function.arguments for tc in delta.tool_calls or ()):
            arg_chunks += 1
        for tc in delta.tool_calls or ():
            entry = calls.setdefault(tc.index, {"id": None, "name": "", "arguments": []})
            if tc.id:
                entry["id"] = tc.id
            if tc.function is not None:
                if tc.function.name:
                    entry["name"] += tc.function.name
                if tc.function.arguments:
                    entry["arguments"].append(tc.function.arguments)
        if choice.finish_reason:
            finish = choice.finish_reason
    ordered = [calls[i] for i in sorted(calls)]
    return Result("".join(content) or None, [(c["name"], "".join(c["arguments"])) for c in ordered],
                  [c["id"] for c in ordered], finish, "".join(reasoning) or None, chunks, arg_chunks)
