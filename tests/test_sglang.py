"""hermes-parse's SGLang detectors against the real SGLang: its plugin loader,
its command line, its ``FunctionCallParser`` and the tool-call handling of its
OpenAI chat serving code (``OpenAIServingChat``), stream and not, with the
scripted outputs of the vLLM tests; and the difference table of docs/sglang.md
(SGLang's own ``hermes`` / ``qwen25`` detectors on the same outputs).

Runs where SGLang imports (``"$(bash .ci/sglang-env.sh)" -m pytest tests/test_sglang.py``;
the oldest SGLang with plugins too: ``HERMES_PARSE_SGLANG_SPEC=sglang==0.5.11``).
``python tests/test_sglang.py --write-docs`` rewrites the table in docs/sglang.md.

No engine runs: the serving code's tool-call methods are called as its
streaming loop (``_generate_stream_content``) and its whole-response path
(``_build_chat_response``) call them, on an ``OpenAIServingChat`` whose
tokenizer manager holds only what those methods read (the parser's name and
no tokenizer); see docs/sglang.md for why no real server runs here.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import subprocess
import sys
import types
import warnings
from pathlib import Path

import pytest

pytest.importorskip(
    "sglang", reason="SGLang is not installed here: run with the python that .ci/sglang-env.sh prints"
)

warnings.filterwarnings("ignore", message=".*support.*quantization.*")  # SGLang's import-time notes

import hermes_parse  # noqa: E402
from hermes_parse.sglang import plugin  # noqa: E402
from hermes_parse.sglang.detector import DETECTORS, HermesParseDetector  # noqa: E402
from sglang.srt.entrypoints.openai import serving_chat  # noqa: E402
from sglang.srt.entrypoints.openai.protocol import ChatCompletionRequest, Tool, ToolChoice  # noqa: E402
from sglang.srt.function_call.function_call_parser import FunctionCallParser  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from vllm_support.scripts import CASES, TOOLS, call  # noqa: E402

plugin.register()

SGLANG_VERSION = __import__("sglang").__version__
HAS_FINISH = hasattr(FunctionCallParser, "parse_stream_end")  # 0.5.23 yes, 0.5.11 no
SGL_TOOLS = [Tool.model_validate(tool) for tool in TOOLS]
CUT = "Let me write it." + call("write_file", {"path": "a", "content": "abcdefghij" * 20})


def _cases():
    """(name, text, tool_choice, expected (content, [(name, arguments)]))."""
    out = []
    for case in CASES:
        if case.tool_choice == "none":  # the serving layer bypasses every tool parser
            continue
        text, expected = case.text, case.expected
        if case.name == "truncated_by_max_tokens":  # cut mid-argument, as max_tokens would
            text = CUT[:70]
            message = hermes_parse.parse(text)
            expected = (message.content, [(c.name, c.arguments) for c in message.tool_calls])
        out.append((case.name, text, case.tool_choice, expected))
    bad = '<tool_call>\nnot json\n</tool_call>\n' + call("get_weather", {"city": "Paris"})
    out.append(("bad_block_then_call", bad, "auto", ('<tool_call>\nnot json\n</tool_call>\n', [("get_weather", '{"city": "Paris"}')])))
    return out


CASES_SGL = _cases()
IDS = [case[0] for case in CASES_SGL]


# -- SGLang's serving code, driven as its streaming loop and its whole path do ----
def _serving(parser_name: str):
    chat = object.__new__(serving_chat.OpenAIServingChat)
    chat.tool_call_parser = parser_name
    # What the tool-call methods read from the tokenizer manager: the tokenizer
    # (passed to detectors that take one; ours do not).
    chat.tokenizer_manager = types.SimpleNamespace(tokenizer=None)
    return chat


def _request(tool_choice, stream: bool):
    if isinstance(tool_choice, dict):
        tool_choice = ToolChoice.model_validate(tool_choice)
    return ChatCompletionRequest(
        model="m", messages=[{"role": "user", "content": "hi"}], tools=SGL_TOOLS,
        tool_choice=tool_choice, stream=stream,
    )


def _kwargs(method, **maybe):
    names = inspect.signature(method).parameters
    return {k: v for k, v in maybe.items() if k in names}


def serve_whole(parser_name: str, text: str, tool_choice="auto"):
    """``_process_tool_calls`` as ``_build_chat_response`` calls it: (content, calls)."""
    chat = _serving(parser_name)
    request = _request(tool_choice, stream=False)
    result = chat._process_tool_calls(text, request.tools, {"type": "stop", "matched": None}, request.tool_choice)
    calls = [(c.function.name, c.function.arguments) for c in result.tool_calls or ()]
    return (result.remaining_text or None, calls)


def serve_stream(parser_name: str, text: str, size: int, tool_choice="auto"):
    """The tool-call steps of ``_generate_stream_content`` for every piece of
    ``size`` characters, the last one with its finish reason; the SSE chunks
    accumulated as a client does: (content, calls)."""
    chat = _serving(parser_name)
    request = _request(tool_choice, stream=True)
    pieces = [text[i : i + size] for i in range(0, len(text), size)] or [""]
    parser_dict, has_tool_calls, chunks = {}, {}, []

    async def run():
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            content = {"meta_info": {"id": "x", "finish_reason": {"type": "stop"} if last else None}}
            method = chat._process_tool_call_stream
            extra = _kwargs(method, created=0, flush=last)
            async for chunk in method(0, piece, parser_dict, content, request, has_tool_calls, **extra):
                if chunk:
                    chunks.append(chunk)
            if last and 0 in parser_dict:
                check = chat._check_for_unstreamed_tool_args
                remaining = check(parser_dict[0], content, request, 0, **_kwargs(check, created=0))
                if remaining:
                    chunks.append(remaining)

    asyncio.run(run())
    return _accumulate(chunks)


def _accumulate(chunks):
    content, calls = [], {}
    for chunk in chunks:
        assert chunk.startswith("data: ") and chunk.endswith("\n\n")
        delta = json.loads(chunk[len("data: "):])["choices"][0]["delta"]
        if delta.get("content"):
            content.append(delta["content"])
        for tc in delta.get("tool_calls") or ():
            entry = calls.setdefault(tc["index"], {"name": "", "args": []})
            function = tc.get("function") or {}
            if function.get("name"):
                assert not entry["name"], "a call's name comes once"
                assert tc.get("id"), "the id comes with the name"
                entry["name"] = function["name"]
            if function.get("arguments"):
                entry["args"].append(function["arguments"])
    return ("".join(content) or None, [(calls[i]["name"], "".join(calls[i]["args"])) for i in sorted(calls)])


def parser_stream(parser_name: str, text: str, size: int):
    """FunctionCallParser.parse_stream_chunk (and parse_stream_end where it exists)."""
    parser = FunctionCallParser(SGL_TOOLS, parser_name)
    content, calls = [], {}
    pieces = [text[i : i + size] for i in range(0, len(text), size)]
    outs = [parser.parse_stream_chunk(piece) for piece in pieces]
    if HAS_FINISH:
        outs.append(parser.parse_stream_end())
    for normal, items in outs:
        content.append(normal)
        for item in items:
            entry = calls.setdefault(item.tool_index, ["", []])
            if item.name:
                entry[0] = item.name
            entry[1].append(item.parameters)
    return ("".join(content) or None, [(calls[i][0], "".join(calls[i][1])) for i in sorted(calls)])


def _held_at_end(text: str) -> bool:
    """Does the state machine hold characters back at the very end of this
    text, for close() to release?  (SGLang without finish() never closes.)"""
    stream = hermes_parse.StreamParser()
    fed = hermes_parse.Message.from_deltas(stream.feed(text))
    whole = hermes_parse.parse(text)
    return (fed.content, [(c.name, c.arguments) for c in fed.tool_calls]) != (
        whole.content, [(c.name, c.arguments) for c in whole.tool_calls])


# -- registration ---------------------------------------------------------------
def test_entry_point_is_declared_and_installed():
    try:
        import tomllib
    except ImportError:  # pragma: no cover - Python 3.10
        tomllib = pytest.importorskip("tomli")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["sglang.srt.plugins"] == {"hermes_parse": "hermes_parse.sglang.plugin:register"}
    from importlib.metadata import entry_points

    found = {ep.name: ep.value for ep in entry_points(group="sglang.srt.plugins")}
    assert found.get("hermes_parse") == "hermes_parse.sglang.plugin:register"


CLI_CHECK = """
import argparse, sys
{load}
from sglang.srt.server_args import ServerArgs
from sglang.srt.function_call.function_call_parser import FunctionCallParser
parser = argparse.ArgumentParser()
ServerArgs.add_cli_args(parser)
for name in sys.argv[1:]:
    args = parser.parse_args(["--model-path", "m", "--tool-call-parser", name])
    print(args.tool_call_parser, FunctionCallParser.ToolCallParserEnum[args.tool_call_parser].__name__)
"""
LOAD = "from sglang.srt.plugins import load_plugins; load_plugins()"


def _cli(load: str, names, **env):
    return subprocess.run(
        [sys.executable, "-W", "ignore", "-c", CLI_CHECK.format(load=load), *names],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=600,
    )


def test_sglang_loads_the_plugin_before_its_command_line_accepts_our_names():
    """SGLang's own load_plugins(), then its own argument parser (one process:
    each import of SGLang's server code takes seconds)."""
    qwen = "qwen25" if "qwen25" in FunctionCallParser.ToolCallParserEnum else "qwen"
    out = _cli(LOAD, [*DETECTORS, "hermes", qwen, "qwen3_coder"],
               SGLANG_PLUGINS="hermes_parse", HERMES_PARSE_SGLANG_REPLACE="hermes")
    assert out.returncode == 0, out.stderr[-2000:]
    got = [line.split() for line in out.stdout.splitlines()]
    want = [[name, cls.__name__] for name, cls in DETECTORS.items()]
    want += [["hermes", "HermesParseDetector"], [qwen, "Qwen25Detector"], ["qwen3_coder", "Qwen3CoderDetector"]]
    assert got == want


def test_without_the_plugin_the_name_is_rejected():
    # SGLANG_PLUGINS is an allowlist: plugins run, ours is not among them.
    out = _cli(LOAD, ["hermes_parse"], SGLANG_PLUGINS="someone_else")
    assert out.returncode == 2 and "invalid choice: 'hermes_parse'" in out.stderr, out.stderr[-2000:]


def test_package_module_imports_no_sglang():
    out = subprocess.run(
        [sys.executable, "-c", "import sys, hermes_parse.sglang; print([m for m in sys.modules if m.split('.')[0] == 'sglang'])"],
        capture_output=True, text=True, check=True,
    )
    assert out.stdout.strip() == "[]"


# -- the scripted outputs through SGLang's parser and serving code -------------
@pytest.mark.parametrize("name,text,tool_choice,expected", CASES_SGL, ids=IDS)
def test_whole_through_serving(name, text, tool_choice, expected):
    assert serve_whole("hermes_parse", text, tool_choice) == expected


@pytest.mark.parametrize("size", [1, 4, 17, 10**6])
@pytest.mark.parametrize("name,text,tool_choice,expected", CASES_SGL, ids=IDS)
def test_stream_through_serving(name, text, tool_choice, expected, size):
    if size == 1 and len(text) > 5000:
        size = 997  # 100 KB one character at a time is a minute of pydantic
    got = serve_stream("hermes_parse", text, size, tool_choice)
    if not HAS_FINISH and _held_at_end(text):
        pytest.xfail(f"SGLang {SGLANG_VERSION} never ends a detector's stream: the held tail stays held")
    assert got == expected


@pytest.mark.parametrize("size", [1, 3, 64])
@pytest.mark.parametrize("name,text,tool_choice,expected", CASES_SGL, ids=IDS)
def test_function_call_parser_stream_equals_whole(name, text, tool_choice, expected, size):
    if size == 1 and len(text) > 5000:
        size = 7
    whole = FunctionCallParser(SGL_TOOLS, "hermes_parse").parse_non_stream(text)
    whole = (whole[0] or None, [(c.name, c.parameters) for c in whole[1]])
    assert whole == expected
    if not HAS_FINISH and _held_at_end(text):
        return
    assert parser_stream("hermes_parse", text, size) == expected


def test_bookkeeping_leaves_nothing_for_the_end_of_stream_check():
    detector = HermesParseDetector()
    text = CASES_SGL[IDS.index("parallel_calls")][1]
    for i in range(0, len(text), 5):
        detector.parse_streaming_increment(text[i : i + 5], SGL_TOOLS)
    assert detector.prev_tool_call_arr == [] and detector.streamed_args_for_tool == []


def test_tool_index_whole_is_the_tools_position_streamed_the_call_ordinal():
    text = call("write_file", {"path": "a", "content": "b"}) + call("get_weather", {"city": "Oslo"})
    result = HermesParseDetector().detect_and_parse(text, SGL_TOOLS)
    assert [(c.tool_index, c.name) for c in result.calls] == [(1, "write_file"), (0, "get_weather")]
    detector = HermesParseDetector()
    items = detector.parse_streaming_increment(text, SGL_TOOLS).calls
    assert [(c.tool_index, c.name) for c in items if c.name] == [(0, "write_file"), (1, "get_weather")]


def test_undeclared_tool_is_content_unless_forwarding_is_on(monkeypatch):
    text = "Hm." + call("launch_rocket", {"to": "Mars"})
    assert serve_whole("hermes_parse", text) == (text, [])
    assert serve_stream("hermes_parse", text, 4) == (text, [])
    monkeypatch.setenv("SGLANG_FORWARD_UNKNOWN_TOOLS", "1")
    assert serve_whole("hermes_parse", text) == ("Hm.", [("launch_rocket", '{"to": "Mars"}')])
    assert serve_stream("hermes_parse", text, 4) == ("Hm.", [("launch_rocket", '{"to": "Mars"}')])


def test_no_tools_means_no_parsing():
    parser = FunctionCallParser([], "hermes_parse")
    text = call("get_weather", {"city": "Paris"})
    assert parser.parse_non_stream(text) == (text, [])


def test_python_literals():
    text = "<tool_call>\n{'name': 'get_weather', 'arguments': {'city': 'Paris', 'ok': True}}\n</tool_call>"
    want = (None, [("get_weather", '{"city": "Paris", "ok": true}')])
    assert serve_whole("hermes_parse_python", text) == want
    assert serve_stream("hermes_parse_python", text, 3) == want


DIALECT_TEXTS = {
    "qwen3_coder": "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n</function>\n</tool_call>",
    "glm": "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n</tool_call>",
}


@pytest.mark.parametrize("dialect", list(DIALECT_TEXTS))
@pytest.mark.parametrize("size", [1, 5, 10**6])
def test_dialects(dialect, size):
    text = "Sure. " + DIALECT_TEXTS[dialect]
    want = ("Sure. ", [("get_weather", '{"city": "Paris"}')])
    for name in ("hermes_parse_" + dialect, "hermes_parse_auto"):
        assert serve_whole(name, text) == want
        assert serve_stream(name, text, size) == want


# -- constrained decoding: tool_choice "required" / named -------------------------
def _constraint(parser_name, tool_choice):
    return FunctionCallParser(SGL_TOOLS, parser_name).get_structure_constraint(tool_choice)


@pytest.mark.parametrize("tool_choice", ["required", ToolChoice(function={"name": "get_weather"})])
def test_required_and_named_force_the_envelope_we_read(tool_choice):
    kind, tag = _constraint("hermes_parse", tool_choice)
    assert kind == "structural_tag"
    assert tag.triggers == ["<tool_call>"] and tag.at_least_one is True
    begins = {s.begin: s.end for s in tag.structures}
    begin = '<tool_call>\n{"name": "get_weather", "arguments": '
    assert begins[begin] == "}\n</tool_call>"
    # What the grammar lets the model write, calls back to back:
    forced = begin + '{"city": "Paris"}' + begins[begin] + begin + '{"city": "Rome"}' + begins[begin]
    want = (None, [("get_weather", '{"city": "Paris"}'), ("get_weather", '{"city": "Rome"}')])
    assert serve_whole("hermes_parse", forced, tool_choice) == want
    assert serve_stream("hermes_parse", forced, 4, tool_choice) == want


@pytest.mark.parametrize("ours,builtin", [("hermes_parse_qwen3_coder", "qwen3_coder"), ("hermes_parse_glm", "glm")])
def test_xml_dialects_constrain_as_sglangs_own_detector(ours, builtin):
    for tool_choice in ("required", ToolChoice(function={"name": "get_weather"})):
        mine, theirs = _constraint(ours, tool_choice), _constraint(builtin, tool_choice)
        assert mine[0] == theirs[0]
        dump = lambda c: c[1].model_dump() if hasattr(c[1], "model_dump") else c[1]  # noqa: E731
        assert dump(mine) == dump(theirs)


def test_auto_dialect_leaves_required_to_sglangs_json_list():
    kind, _ = _constraint("hermes_parse_auto", "required")
    assert kind == "json_schema"


# -- the difference table (docs/sglang.md) -----------------------------------------
TABLE_START = "<!-- sglang-differences: written by tests/test_sglang.py --write-docs -->"
TABLE_END = "<!-- end of sglang-differences -->"


def _short(text, limit=34):
    text = json.dumps(text, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 2] + '…"'


def _describe(got, expected) -> str:
    if got == expected:
        return "="
    parts = []
    if got[0] != expected[0]:
        parts.append("content " + (_short(got[0]) if got[0] else "empty"))
    names = [n for n, _ in got[1]]
    if names != [n for n, _ in expected[1]]:
        parts.append(f"{len(names)} call{'s' if len(names) != 1 else ''}")
    elif got[1] != expected[1]:
        bad = [a for (_, a), (_, b) in zip(got[1], expected[1]) if a != b]
        parts.append("arguments " + _short(bad[0]))
    return "; ".join(parts)


def difference_table() -> str:
    rows = [
        f"SGLang {SGLANG_VERSION}, through its serving code (`_process_tool_calls` whole, "
        "`_process_tool_call_stream` in 4-character pieces, 256 for the 100 KB argument: "
        "SGLang's detectors re-parse the buffered call on every piece); `=` is the expected "
        "message (`hermes_parse` gives it in every row, both ways).",
        "",
        "| model output | `hermes` whole | `hermes` streamed | `qwen25` whole | `qwen25` streamed |",
        "| --- | --- | --- | --- | --- |",
    ]
    qwen = "qwen25" if "qwen25" in FunctionCallParser.ToolCallParserEnum else "qwen"
    for name, text, tool_choice, expected in CASES_SGL:
        cells = []
        for parser_name in ("hermes", qwen):
            cells.append(_describe(serve_whole(parser_name, text, tool_choice), expected))
            size = 256 if len(text) > 5000 else 4
            cells.append(_describe(serve_stream(parser_name, text, size, tool_choice), expected))
        rows.append(f"| {name} | " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows)


def test_hermes_parse_gives_every_expected_message():
    for name, text, tool_choice, expected in CASES_SGL:
        assert serve_whole("hermes_parse", text, tool_choice) == expected, name
        if HAS_FINISH or not _held_at_end(text):
            assert serve_stream("hermes_parse", text, 4, tool_choice) == expected, name


@pytest.mark.skipif(not HAS_FINISH or SGLANG_VERSION != "0.5.23", reason="the table in docs/sglang.md is SGLang 0.5.23's")
def test_difference_table_in_docs_is_current():
    docs = (REPO / "docs" / "sglang.md").read_text()
    start, end = docs.index(TABLE_START) + len(TABLE_START), docs.index(TABLE_END)
    assert docs[start:end].strip() == difference_table(), "run: python tests/test_sglang.py --write-docs"


if __name__ == "__main__" and "--write-docs" in sys.argv:
    path = REPO / "docs" / "sglang.md"
    docs = path.read_text()
    start, end = docs.index(TABLE_START) + len(TABLE_START), docs.index(TABLE_END)
    path.write_text(docs[:start] + "\n" + difference_table() + "\n" + docs[end:])
    print("wrote the table in", path)
