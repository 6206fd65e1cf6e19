"""Helpers for the Xinference tests: load Xinference's tool parsers and chat
post-processing without executing its heavy parent packages, and drive them
the way Xinference does for a request."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types

PARENTS = [
    ("xinference", ""),
    ("xinference.model", "model"),
    ("xinference.model.llm", "model/llm"),
    ("xinference.core", "core"),
]


def xinference_available():
    try:
        return importlib.util.find_spec("xinference") is not None
    except (ImportError, ValueError):
        return False


def load():
    """(tool_parsers module, utils module) of the installed xinference.

    ``xinference/__init__.py`` starts xoscar and ``xinference/model/__init__.py``
    loads every model family: stand-ins with the real ``__path__`` take their
    place, so the real submodules load and nothing else does."""
    if "xinference" not in sys.modules:
        spec = importlib.util.find_spec("xinference")
        root = os.path.dirname(spec.origin)
        for name, sub in PARENTS:
            module = types.ModuleType(name)
            module.__path__ = [os.path.join(root, sub)]
            module.__hermes_parse_stub__ = True
            sys.modules[name] = module
    tool_parsers = importlib.import_module("xinference.model.llm.tool_parsers")
    utils = importlib.import_module("xinference.model.llm.utils")
    return tool_parsers, utils


def model(utils, parser):
    """A chat model as Xinference builds one (ChatModelMixin), with ``parser``."""

    class Model(utils.ChatModelMixin):
        def __init__(self):
            self.model_family = None
            self.model_uid = "m"
            self.reasoning_parser = None
            self.tool_parser = parser
            super().__init__()

    return Model()


def pieces(text, size):
    if size is None:
        return [text]
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def completion_chunks(parts, finish_reason="stop", vllm_whole=False):
    """Completion chunks as an engine yields them: the text deltas, then an
    empty chunk with the finish_reason (Xinference's vLLM backend: with
    ``vllm_whole`` the last text chunk holds the whole output and already has
    the finish_reason, as when the output starts with <tool_call>)."""

    def chunk(text, finish):
        return {
            "id": "cmpl-1",
            "object": "text_completion",
            "created": 0,
            "model": "m",
            "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": finish}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }

    if vllm_whole:
        yield chunk("".join(parts), finish_reason)
    else:
        for part in parts:
            yield chunk(part, None)
    yield chunk("", finish_reason)


def client_stream(m, chunks, tools=None):
    """What an OpenAI client accumulates from Xinference's stream."""
    content = ""
    calls = {}
    finish = None
    raw = []
    for chunk in m._to_tool_completion_chunks(iter(list(chunks)), tools=tools):
        raw.append(chunk)
        for choice in chunk.get("choices") or ():
            delta = choice["delta"]
            if delta.get("content"):
                content += delta["content"]
            for call in delta.get("tool_calls") or ():
                entry = calls.setdefault(call["index"], {"name": None, "arguments": ""})
                function = call.get("function") or {}
                if function.get("name"):
                    entry["name"] = function["name"]
                entry["arguments"] += function.get("arguments") or ""
            if choice.get("finish_reason"):
                finish = choice["finish_reason"]
    return {
        "content": content or None,
        "tool_calls": [calls[i] for i in sorted(calls)],
        "finish_reason": finish,
    }


def client_whole(m, text, tools=None):
    completion = {
        "id": "cmpl-1",
        "object": "text_completion",
        "created": 0,
        "model": "m",
        "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    response = m._post_process_completion(None, "m", completion, tools=tools)
    message = response["choices"][0]["message"]
    return {
        "content": message.get("content") or None,
        "tool_calls": [
            {"name": c["function"]["name"], "arguments": c["function"]["arguments"]}
            for c in message.get("tool_calls") or ()
        ],
        "finish_reason": response["choices"][0]["finish_reason"],
    }
