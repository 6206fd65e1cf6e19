"""Write the seed corpus of fuzz/atheris_harness.py into fuzz/corpus/, and the
reproducers of its findings into fuzz/findings/.

    python fuzz/make_corpus.py [--jsontestsuite DIR]

Each seed is a header (option flags, max_buffer, cut points; see the
harness's docstring) and a text: realistic Hermes outputs (Qwen, Hermes-2-Pro,
Hermes-3 styles), damaged ones, and argument values taken from JSONTestSuite
(``tests/data/jsontestsuite`` by default, the copy the tests use; skipped when absent).  The output is
deterministic: running it again rewrites the same files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"

RAW, PYTHON, SMALL, TOOLS, UNKNOWN_CONTENT, EACH_CHAR, EMPTY_FEEDS, SUBCLASS = (
    0x01,
    0x02,
    0x04,
    0x08,
    0x10,
    0x20,
    0x40,
    0x80,
)


DIALECTS = ("hermes", "qwen3_coder", "glm", "auto")  # the top two bits of byte 2


def seed(text, flags=0, buffer=0, cuts=(), dialect="hermes"):
    """The bytes of one input: header, cut points, UTF-8 text (surrogates passed)."""
    body = text.encode("utf-8", "surrogatepass")
    cuts = list(cuts)[:16]
    count = len(cuts) | DIALECTS.index(dialect) << 6
    header = bytes([flags, buffer, count]) + b"".join(c.to_bytes(2, "big") for c in cuts)
    return header + body


def call(name, args, style="compact"):
    if style == "pretty":
        return '<tool_call>\n{\n  "name": "%s",\n  "arguments": %s\n}\n</tool_call>' % (name, args)
    return '<tool_call>\n{"name": "%s", "arguments": %s}\n</tool_call>' % (name, args)


REALISTIC = [
    # Qwen2.5 / Qwen3 (vLLM, Ollama) style
    ("qwen-one-call", "I'll check the current weather in Beijing for you.\n\n"
     + call("get_weather", '{"city": "Beijing", "unit": "celsius"}')),
    ("qwen-two-calls", "I'll check the weather in both cities.\n\n"
     + call("get_weather", '{"city": "Beijing", "unit": "celsius"}') + "\n"
     + call("get_weather", '{"city": "São Paulo", "unit": "celsius"}')),
    ("qwen-call-only", call("search", '{"query": "Qwen3 release notes", "max_results": 5}')),
    ("qwen3-think", "<think>\nThe user wants the weather. I should call get_weather.\n</think>\n\n"
     + call("get_weather", '{"city": "東京"}')),
    ("plain-content", "The capital of Australia is Canberra, not Sydney. It was chosen as a "
     "compromise between Sydney and Melbourne in 1908."),
    ("content-after", call("lookup", '{"id": 42}') + "\n\nLet me know if you need anything else."),
    ("pretty-args", call("send_email", '{\n    "to": ["a@example.com", "b@example.org"],\n'
     '    "subject": "Re: \\"Q3\\" numbers",\n    "body": "Hi,\\n\\nsee attached.\\n\\t— B",\n'
     '    "cc": null,\n    "urgent": false\n  }', "pretty")),
    ("keys-reversed", '<tool_call>\n{"arguments": {"code": "print(1+1)", "name": "inner"}, '
     '"name": "run_python"}\n</tool_call>'),
    ("parameters-alias", '<tool_call>{"name": "search", "parameters": {"q": "x"}}</tool_call>'),
    ("string-args", '<tool_call>\n{"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\", '
     '\\"days\\": [1, 2.5, -0, 1e3]}"}\n</tool_call>'),
    ("fenced", "<tool_call>\n```json\n{\"name\": \"search\", \"arguments\": {\"q\": \"fences\"}}\n```\n</tool_call>"),
    ("no-close-tag", '<tool_call>\n{"name": "a", "arguments": {}}\n<tool_call>\n{"name": "b", '
     '"arguments": {"k": [true, false, null]}}'),
    ("tag-in-string", call("run_python", '{"code": "s = \\"<tool_call></tool_call>\\"\\nprint(s)"}')),
    ("unicode-escapes", call("say", '{"text": "caf\\u00e9 \\ud83d\\ude00 \\u2028 \\/ \\b\\f", '
     '"emoji": "😀🎉", "cjk": "中文", "rtl": "עברית"}')),
    ("numbers", call("calc", '{"a": 0, "b": -0, "c": 1.5e3, "d": 1E-7, "e": 12345678901234567890, '
     '"f": -0.0, "g": 1e999, "h": 2.50}')),
    ("nested", call("plan", '{"steps": [{"do": "a", "with": [[1], [2, [3, {"x": {}}]]]}, []], '
     '"meta": {"": ""}}')),
    ("null-args", '<tool_call>{"name": "ping", "arguments": null}</tool_call>'),
    ("empty-args", '<tool_call>{"name": "ping", "arguments": ""}</tool_call><tool_call>{"name": "pong"}</tool_call>'),
    ("extra-keys", '<tool_call>{"type": "function", "id": "x", "name": "f", "arguments": {"a": 1}, '
     '"extra": [1, {"name": "g"}]}</tool_call>'),
    ("hermes2pro-python", "<tool_call>\n{'arguments': {'symbol': 'TSLA', 'period': None, 'adjusted': "
     "True, 'n': 0x1F, 'r': 1_000.5, 'l': [1, 2,], 's': 'it\\'s \\x41\\101\\N{BULLET}'}, "
     "'name': 'get_stock_fundamentals'}\n</tool_call>"),
    ("hermes3-multi", "<tool_call>\n{\"arguments\": {\"location\": \"San Francisco, CA\"}, "
     "\"name\": \"get_current_weather\"}\n</tool_call>\n<tool_call>\n{\"arguments\": "
     "{\"location\": \"Tokyo\"}, \"name\": \"get_current_weather\"}\n</tool_call>"),
    ("whitespace-around", "  \n\t<tool_call>  \r\n {\"name\" : \"f\" , \"arguments\" : { } }  \n</tool_call>  \n  "),
    ("crlf-bom", "\ufeffSure.\r\n<tool_call>\r\n{\"name\": \"f\", \"arguments\": {\"a\": \"b\"}}\r\n</tool_call>\r\n"),
    ("near-tags", "a <toolbox> b <tool_calls> c <tool_ d </tool_call> e <tool_call"),
]

# Deliberately broken outputs (docs/grammar.md's bad-input table).
DAMAGED = [
    ("truncated-args", '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Reykjav'),
    ("truncated-name", '<tool_call>\n{"name": "get_wea'),
    ("invalid-after-name", '<tool_call>\n{"name": "search_web", "arguments": {"query": "x", "max_results": 3,}}\n</tool_call>'),
    ("not-a-call", "Here it is: <tool_call>get_weather(city='Paris')</tool_call> done"),
    ("no-name", '<tool_call>{"arguments": {"a": 1}}</tool_call>'),
    ("args-first-long", '<tool_call>{"arguments": {"blob": "' + "x" * 300 + '"}, "name": "f"}</tool_call>'),
    ("args-number", '<tool_call>{"name": "f", "arguments": 42}</tool_call>'),
    ("args-string-not-object", '<tool_call>{"name": "f", "arguments": "[1, 2"}</tool_call>'),
    ("duplicate-keys", '<tool_call>{"name": "f", "arguments": {"a": 1, "a": 2}, "name": "g", "arguments": {}}</tool_call>'),
    ("trailing-text", '<tool_call>{"name": "f", "arguments": {"a": 1}}}\n</tool_call>after'),
    ("lone-surrogates", '<tool_call>{"name": "f", "arguments": {"s": "\\ud800 \\udc00x \\ud83d"}}</tool_call>'),
    ("raw-lone-surrogate", '<tool_call>{"name": "f\udcff", "arguments": {"s": "\ud800"}}</tool_call>'),
    ("bad-escapes", '<tool_call>{"name": "f", "arguments": {"s": "\\x41"}}</tool_call><tool_call>{"name": "g", "arguments": {"s": "\\u12"}}</tool_call>'),
    ("bad-numbers", '<tool_call>{"name": "f", "arguments": {"a": 01}}</tool_call><tool_call>{"name": "g", "arguments": {"a": -}}</tool_call>'
     '<tool_call>{"name": "h", "arguments": {"a": NaN}}</tool_call>'),
    ("control-chars", '<tool_call>{"name": "f", "arguments": {"s": "a\x00b\nc"}}</tool_call>\x00\x01\x7f'),
    ("unbalanced", '<tool_call>{"name": "f", "arguments": {"a": [1, {"b": ]}}}</tool_call>'),
    ("tag-repeat", "<tool_call>" * 20),
    ("close-tags", "</tool_call></tool_call><tool_call></tool_call>"),
    ("cut-tag", "text <tool_ca"),
    ("fence-broken", "<tool_call>\n``json\n{\"name\": \"f\"}\n```</tool_call>"),
    ("fence-unclosed", "<tool_call>```json\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>"),
    ("name-not-string", '<tool_call>{"name": 7, "arguments": {}}</tool_call>'),
    ("name-empty", '<tool_call>{"name": "", "arguments": {}}</tool_call>'),
    ("name-escaped", '<tool_call>{"name": "get\\u005fweather", "arguments": {}}</tool_call>'),
    ("deep-nesting", call("f", '{"a": ' + "[" * 200 + "]" * 200 + "}")),
    ("deep-unclosed", call("f", '{"a": ' + "{\"b\": " * 100)),
    ("python-invalid", "<tool_call>{'name': 'f', 'arguments': {'a': (1, 2), 'b': b'x', 'c': 1j}}</tool_call>"),
    ("python-escapes", "<tool_call>{'name': 'f', 'arguments': {'a': '\\q\\a\\v\\0\\777\\N{NOPE}\\U0001F600'}}</tool_call>"),
    ("python-numbers", "<tool_call>{'name': 'f', 'arguments': {'a': [0o17, 0b101, +3, 1., .5, 1_000, 0X1f, 1e-3, -0, 1e999, 0x, 1__0, 08],}}</tool_call>"),
    ("python-strings", "<tool_call>{'name': 'f', 'arguments': {'a': \"it's\", 'b': 'say \"hi\"', 'c': 'tab\there\\\nnext', "
     "'d': '\\101\\x41\\u00e9\\U0001F600\\N{EM DASH}\\'\\a\\v\\f', 'e': '\\\n', True: 1}}</tool_call>"),
    ("python-literals-mixed", "<tool_call>{\"name\": 'f', 'parameters': {'t': True, 'f': False, 'n': None, 'l': [None, [True,],],},}</tool_call>"),
    ("think-unclosed", "<think>\nmaybe <tool_call>{\"name\": \"f\"\n"),
]


# The minimal reproducer of each finding (fuzz/README.md, "Findings"), written
# to fuzz/findings/: run_fuzz.sh seeds every run with them.
def qwen(name, params, bare=False):
    """A Qwen3-Coder block as its template writes it (a newline around each value)."""
    body = "".join(f"<parameter={k}>\n{v}\n</parameter>\n" for k, v in params)
    inner = f"<function={name}>\n{body}</function>"
    return inner if bare else f"<tool_call>\n{inner}\n</tool_call>"


def glm(name, params, newlines=False):
    """A GLM block: GLM-4.7/5 (no newlines) or GLM-4.5/4.6 (newlines)."""
    sep = "\n" if newlines else ""
    pairs = "".join(f"{sep}<arg_key>{k}</arg_key>{sep}<arg_value>{v}</arg_value>" for k, v in params)
    return f"<tool_call>{name}{pairs}{sep}</tool_call>"


# (name, dialect, text): Qwen3-Coder / Qwen3.5 and GLM outputs, well-formed and
# damaged, for the tools of the harness (get_weather, search: typed parameters).
XML = [
    ("qwen-coder-one", "qwen3_coder", "I'll check.\n\n" + qwen("get_weather", [("city", "Beijing"), ("days", "3")])),
    ("qwen-coder-typed", "qwen3_coder", qwen("get_weather", [("city", "São Paulo"), ("days", " 7 "),
                                                              ("verbose", "True"), ("ratio", "1.5e3"),
                                                              ("note", "None"), ("unit", "c")])),
    ("qwen-coder-objects", "qwen3_coder", qwen("search", [("q", "x"), ("options", "{'a': True, 'b': [1, None]}"),
                                                          ("items", '[1, "two", {"3": null}]'), ("n", "null")])),
    ("qwen-coder-two", "qwen3_coder", qwen("get_weather", [("city", "Paris")]) + "\n"
     + qwen("search", [("q", "weather in Paris")])),
    ("qwen-coder-tags-in-value", "qwen3_coder", qwen("search", [("q", "use </parameter> to close\n"
                                                                 "and <parameter=x> mid-line")])),
    ("qwen-coder-missing-param-close", "qwen3_coder",
     "<tool_call>\n<function=get_weather>\n<parameter=city>\nBeijing\n<parameter=days>\n2\n</function>\n</tool_call>"),
    ("qwen-coder-missing-function-close", "qwen3_coder",
     "<tool_call>\n<function=get_weather>\n<parameter=city>\nBeijing\n</parameter>\n</tool_call>"),
    ("qwen-coder-bare", "qwen3_coder", "Sure: " + qwen("get_weather", [("city", "Oslo")], bare=True) + " done"),
    ("qwen-coder-bare-empty", "qwen3_coder", "<function=>\n</function>"),
    ("qwen-coder-misfit", "qwen3_coder", qwen("get_weather", [("days", "forty"), ("verbose", "yes"),
                                                              ("ratio", "1_000")])),
    ("qwen-coder-dup", "qwen3_coder", qwen("get_weather", [("city", "a"), ("city", "b")])),
    ("qwen-coder-cut", "qwen3_coder", "<tool_call>\n<function=get_weather>\n<parameter=city>\nBeij"),
    ("qwen-coder-think", "qwen3_coder", "<think>\nCall it.\n</think>\n\n" + qwen("get_weather", [("city", "東京")])),
    ("qwen-coder-no-params", "qwen3_coder", qwen("get_time", [])),
    ("glm47-one", "glm", "I'll check." + glm("get_weather", [("city", "Beijing"), ("days", "3")])),
    ("glm45-one", "glm", glm("get_weather", [("city", "Beijing"), ("unit", "c")], newlines=True)),
    ("glm-no-args", "glm", "<tool_call>get_time</tool_call>"),
    ("glm-escaped-newlines", "glm", "<tool_call>get_weather\\n<arg_key>city</arg_key>\\n<arg_value>Rome</arg_value>"
     "\\n</tool_call>"),
    ("glm-typed", "glm", glm("search", [("q", "x"), ("n", "5"), ("options", '{"a": 1}'), ("items", "[1, 2]"),
                                        ("none", "null")])),
    ("glm-tags-in-value", "glm", glm("search", [("q", "a </arg_value> b <arg_key> c")])),
    ("glm-missing-value-close", "glm", "<tool_call>get_weather<arg_key>city</arg_key><arg_value>Rome</tool_call>"),
    ("glm-cut", "glm", "<tool_call>get_weather<arg_key>city</arg_key><arg_value>Ro"),
    ("glm-bad-key", "glm", "<tool_call>f<arg_key>path<x></arg_key><arg_value>1</arg_value></tool_call>"),
    ("glm-two", "glm", glm("get_weather", [("city", "a")]) + glm("search", [("q", "b")])),
    ("auto-mixed", "auto", qwen("get_weather", [("city", "a")]) + glm("search", [("q", "b")])
     + '<tool_call>\n{"name": "search", "arguments": {"q": "c"}}\n</tool_call>'),
    ("auto-bare", "auto", "x " + qwen("search", [("q", "bare")], bare=True)),
]

FINDINGS = [
    ("named-escape-surrogate", PYTHON,
     "<tool_call>{'name': 'f', 'arguments': {'a': '\\N{\ud800}'}}</tool_call>"),
    ("raw-truncated-float", RAW, '<tool_call>{"name": "f", "arguments": {"v": 1.5'),
    ("cython-float-underscore", PYTHON,
     '<tool_call>{"name": "f", "arguments": {"d": 1e-_5}}</tool_call>'),
]


# ---------------------------------------------------------------------------
# The command's fast lane (hermes_parse/cli/lines.py): the harness reads the
# text's bytes as a block of JSON Lines too (atheris_harness.check_lane), so
# these seeds are JSON Lines files: bare {"id", "completion"} records and vLLM
# chat.completion responses, written the ways JSON writers write them, and the
# lines next to them the lane must leave to the usual way.


def chat_line(number, content, tool_calls=(), **message):
    """A chat.completion response as vLLM writes it (no tool parsing: tool_calls [])."""
    record = {
        "id": f"chatcmpl-{number:032x}",
        "object": "chat.completion",
        "created": 1732170000 + number,
        "model": "Qwen/Qwen3-8B",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None,
                            "tool_calls": list(tool_calls), **message},
                "logprobs": None,
                "finish_reason": "tool_calls" if tool_calls else "stop",
                "stop_reason": None,
            }
        ],
        "usage": {"prompt_tokens": 300, "total_tokens": 340, "completion_tokens": 40},
        "prompt_logprobs": None,
    }
    return json.dumps(record, ensure_ascii=False)


def bare_line(number, completion, compact=False, ascii_only=False):
    record = {"id": f"r{number}", "completion": completion}
    separators = (",", ":") if compact else None  # orjson's compact form, json.dumps's spaced one
    return json.dumps(record, ensure_ascii=ascii_only, separators=separators)


LANE_CALL = call("get_weather", '{"city": "Paris", "unit": "c"}')
LANE_TEXTS = [
    "The capital of Australia is Canberra.",
    "I'll check the weather.\n\n" + LANE_CALL,
    LANE_CALL + "\n" + call("search", '{"q": "東京 🙂", "n": 3}'),
    "Quotes \" and \\ and \t tab \x01\x1f\x7f, a/b </x> 東京 größe 🙂 \u2028",
    "   ",
    "",
    "<think>\nhmm\n</think>\n\n" + LANE_CALL,
    '<tool_call>{"name": "f", "arguments": {"s": "\\ud800"}}</tool_call>',  # a lone surrogate in a call
    '<tool_call>{"name": "f", "arguments": {"x": [1, 2',  # cut by max_tokens
]
LANE = [
    # Typical logs: every line taken.
    ("lane-bare", "\n".join(bare_line(k, t) for k, t in enumerate(LANE_TEXTS)) + "\n"),
    ("lane-bare-compact", "\n".join(bare_line(k, t, compact=True) for k, t in enumerate(LANE_TEXTS))),
    ("lane-bare-ascii", "\n".join(bare_line(k, t, ascii_only=True) for k, t in enumerate(LANE_TEXTS)) + "\n"),
    ("lane-chat", "\n".join(chat_line(k, t) for k, t in enumerate(LANE_TEXTS)) + "\n"),
    # The message's calls: null, absent, parsed by the server (left to the usual way).
    ("lane-chat-calls", "\n".join([
        chat_line(1, "Hi.", tool_calls=()).replace('"tool_calls": []', '"tool_calls": null'),
        chat_line(2, "Hi.").replace(', "tool_calls": []', ""),
        chat_line(3, "", tool_calls=[{"id": "call_x", "type": "function",
                                      "function": {"name": "f", "arguments": "{}"}}]),
        chat_line(4, None),
        chat_line(5, "with reasoning", reasoning_content="I think."),
        chat_line(6, "spaced").replace('"tool_calls": []', '"tool_calls": [ \t]'),
    ]) + "\n"),
    # Escapes: every short one, \u both cases, \/ (not orjson's), surrogate pairs, lone surrogates.
    ("lane-escapes", "\n".join([
        '{"completion": "\\"\\\\\\/\\b\\f\\n\\r\\t"}',
        '{"completion": "\\u001f \\u001F \\u00e9 \\u00E9 \\u000a \\u0000"}',
        '{"completion": "\\ud83d\\ude42 \\uD83D\\uDE42 🙂"}',
        '{"completion": "lone \\ud800 high"}',
        '{"completion": "lone \\udc00 low"}',
        '{"completion": "cut \\ud83d\\u0041"}',
        '{"completion": "bad \\x escape"}',
        '{"c\\u006fmpletion": "escaped key"}',
        '{"choices": [{"message": {"cont\\u0065nt": "escaped key"}}]}',
    ]) + "\n"),
    # Nesting about the lane's MAX_DEPTH (64) and deeper.
    ("lane-deep", "\n".join([
        '{"completion": "deep", "v": ' + "[" * 62 + "]" * 62 + "}",
        '{"completion": "deep", "v": ' + "[" * 63 + "]" * 63 + "}",
        '{"completion": "deep", "v": ' + "[" * 64 + "]" * 64 + "}",
        '{"completion": "deep", "v": ' + '{"a": ' * 70 + "1" + "}" * 70 + "}",
        '{"choices": [{"message": {"content": "x", "v": ' + "[" * 61 + "]" * 61 + "}}]}",
    ]) + "\n"),
    # Numbers: orjson's limits, Python's, the lane's (40 characters).
    ("lane-numbers", "\n".join([
        '{"completion": "n", "a": 0, "b": -0.0, "c": 1.5e3, "d": 1E-7, "e": 18446744073709551615}',
        '{"completion": "n", "big": 123456789012345678901234567890}',
        '{"completion": "n", "big": ' + "9" * 40 + "}",
        '{"completion": "n", "big": ' + "9" * 41 + "}",
        '{"completion": "n", "inf": 1e400}',
        '{"completion": "n", "nan": NaN}',
        '{"completion": "n", "bad": 01}',
        '{"completion": "n", "bad": 1.}',
        '{"completion": "n", "bad": -}',
    ]) + "\n"),
    # Shapes the lane leaves: duplicates, other types, blanks, BOM, CRLF, not JSON.
    ("lane-other", "\n".join([
        '{"completion": "first", "completion": "second"}',
        '{"choices": null, "completion": "choices null"}',
        '{"choices": [], "completion": "no choice"}',
        '{"choices": 3, "completion": "x"}',
        '{"choices": [{"text": "legacy completions"}]}',
        '{"choices": [{"message": {"content": [{"type": "text", "text": "parts"}]}}]}',
        '{"choices": [{"message": {"content": "a"}}, {"message": {"content": "b"}}]}',
        '{"id": "x"}',
        '"a JSON string record"',
        "[1, 2]",
        "",
        " \t\r",
        "\ufeff" + bare_line(1, "bom"),
        bare_line(2, "crlf") + "\r",
        '{"completion": "x"} trailing',
        '{"completion": "x",}',
        '{"completion": "cut',
        "{}",
    ]) + "\n"),
    # Short lines: the scan's buffers (a line every 16 bytes) fill before the block ends.
    ("lane-short-lines", "{}\n" * 40 + "\n" * 30 + '{"completion":"end"}\n1\n'),
]


def lane_seeds(rng):
    """The LANE files as seeds: default options with a few cut points (the
    lane's blocks), then a drawn flag; and invalid UTF-8 put into a typical line."""
    seeds = []
    for name, text in LANE:
        size = len(text.encode("utf-8"))
        cuts = sorted(rng.sample(range(1, size), min(size - 1, rng.randrange(0, 5)))) if size > 1 else []
        seeds.append((name, seed(text, 0, 0, cuts)))
        flags = rng.choice([RAW, PYTHON, UNKNOWN_CONTENT, RAW | PYTHON])
        seeds.append((f"{name}-f{flags:02x}", seed(text, flags, rng.randrange(4), cuts[:2])))
    line = bare_line(7, "plain é 🙂 " + LANE_CALL).encode("utf-8")
    for number, bad in enumerate([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\xe0\x80\x80"]):
        at = line.index(b"plain") + 6
        seeds.append((f"lane-utf8-{number}", bytes([0, 0, 0]) + line[:at] + bad + line[at:] + b"\n" + line))
    return seeds


def pinned(text, flags):
    """A seed whose twin check always runs: the harness checks the Python twin
    when CRC-32(input) % twin_every == 0, so pick a cut point (which changes no
    result) that makes the CRC divisible by 64."""
    import zlib

    for cut in range(1 << 16):
        data = seed(text, flags, 0, [cut])
        if zlib.crc32(data) % 64 == 0:
            return data
    raise AssertionError("no cut point gives a CRC divisible by 64")


def jsontestsuite_seeds(directory, rng):
    """JSONTestSuite files as an argument value, as the whole arguments, and
    as an arguments string."""
    if not directory.is_dir():
        return []
    seeds = []
    files = sorted(p for p in directory.glob("*.json") if p.stat().st_size <= 200)
    picked = [p for p in files if p.name.startswith("y_")][::5] + [
        p for p in files if p.name.startswith("n_")
    ][::5] + [p for p in files if p.name.startswith("i_")][::3]
    for path in picked:
        value = path.read_bytes().decode("utf-8", "surrogateescape")
        stem = path.stem.replace("+", "_")
        form = rng.randrange(3)
        if form == 0:
            text = '<tool_call>{"name": "f", "arguments": {"v": %s}}</tool_call>' % value
        elif form == 1:
            text = '<tool_call>{"name": "f", "arguments": %s}</tool_call>' % value
        else:
            text = '<tool_call>{"name": "f", "arguments": "%s"}</tool_call>' % (
                value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            )
        seeds.append((f"jts-{stem}", text))
    return seeds


def variants(name, text, rng):
    """The seed as is, and with a few option flags and cut points drawn.  Seeds
    in Python's style (named python-* or hermes2pro-*) always get python_literals."""
    base = PYTHON if name.startswith(("python-", "hermes2pro-")) else 0
    size = len(text)
    cuts = sorted(rng.sample(range(1, size), min(size - 1, rng.randrange(1, 6)))) if size > 1 else []
    out = [(name, seed(text, base, 0, cuts))]
    flags = base | rng.choice([RAW, PYTHON, SMALL, TOOLS | UNKNOWN_CONTENT, EACH_CHAR, EMPTY_FEEDS | SUBCLASS, RAW | PYTHON])
    out.append((f"{name}-f{flags:02x}", seed(text, flags, rng.randrange(64), cuts[:2])))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--jsontestsuite",
        type=Path,
        default=HERE.parent / "tests" / "data" / "jsontestsuite",
        help="the JSONTestSuite test_parsing directory",
    )
    args = parser.parse_args()
    rng = random.Random(5)
    seeds = []
    for name, text in REALISTIC + DAMAGED:
        seeds.extend(variants(name, text, rng))
    # Damage some realistic outputs at random: truncate, delete, duplicate, swap.
    for name, text in REALISTIC[:12]:
        chars = list(text)
        kind = rng.randrange(4)
        at = rng.randrange(len(chars))
        if kind == 0:
            chars = chars[:at]
        elif kind == 1:
            del chars[at : at + rng.randrange(1, 4)]
        elif kind == 2:
            chars[at:at] = chars[at : at + rng.randrange(1, 4)]
        elif at + 1 < len(chars):
            chars[at], chars[at + 1] = chars[at + 1], chars[at]
        seeds.append((f"{name}-damaged{kind}", seed("".join(chars), rng.choice([0, RAW, PYTHON]), 0, [at])))
    for name, text in jsontestsuite_seeds(args.jsontestsuite, rng):
        seeds.append((name, seed(text, rng.choice([0, 0, RAW, PYTHON]), 0, [rng.randrange(1, len(text))])))
    # The XML dialects (after the rest, with a generator of their own, so that
    # the seeds above stay the same bytes).
    xml_rng = random.Random(13)
    for name, dialect, text in XML:
        size = len(text)
        cuts = sorted(xml_rng.sample(range(1, size), min(size - 1, xml_rng.randrange(1, 6)))) if size > 1 else []
        seeds.append((name, seed(text, TOOLS, 0, cuts, dialect)))
        flags = xml_rng.choice([0, RAW, SMALL, TOOLS | UNKNOWN_CONTENT, TOOLS | EACH_CHAR, TOOLS | PYTHON])
        buffer = xml_rng.randrange(64) | xml_rng.choice([0, 64, 128])  # reasoning off, True, "open"
        seeds.append((f"{name}-f{flags:02x}", seed(text, flags, buffer, cuts[:2], dialect)))
    # The lane's JSON Lines (last again, their own generator).
    seeds.extend(lane_seeds(random.Random(17)))
    CORPUS.mkdir(exist_ok=True)
    for old in CORPUS.glob("*"):
        old.unlink()
    total = 0
    for name, data in seeds:
        digest = hashlib.sha1(data).hexdigest()[:8]
        (CORPUS / f"{name}-{digest}").write_bytes(data)
        total += len(data)
    print(f"{len(seeds)} seeds, {total} bytes in {CORPUS}")
    findings = HERE / "findings"
    findings.mkdir(exist_ok=True)
    for name, flags, text in FINDINGS:
        (findings / name).write_bytes(pinned(text, flags))
    print(f"{len(FINDINGS)} reproducers in {findings}")


if __name__ == "__main__":
    main()
