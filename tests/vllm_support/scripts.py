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
    content, reasoning, calls, finish, chunks = [], [], {}, None, 0
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
                  [c["id"] for c in ordered], finish, "".join(reasoning) or None, chunks)
