"""SGLang function-call detectors backed by ``hermes_parse.StreamParser``.

SGLang's ``FunctionCallParser`` makes one detector per request
(``ToolCallParserEnum[name]()``) and calls, on the whole output,
``has_tool_call`` then ``detect_and_parse(text, tools)``; on a stream,
``parse_streaming_increment(new_text, tools)`` with each new piece of text
and, where the installed SGLang has it, ``finish(tools)`` once at the end.
Here:

* ``detect_and_parse`` is ``hermes_parse.parse``; a call's ``tool_index`` is
  its tool's position in the request's ``tools`` (-1 for an undeclared one),
  as SGLang's own detectors give it;
* ``parse_streaming_increment`` feeds the piece to one ``StreamParser`` per
  detector (that is, per request): nothing is re-read, so a piece costs the
  same at any depth of the output.  Content comes back as ``normal_text``; a
  call's first item carries its name (SGLang then sends the id and name), the
  next ones argument fragments (``tool_index`` = the call's ordinal, as
  SGLang's streaming detectors give it);
* ``finish`` closes the stream: what the state machine still held (a
  ``<tool_`` at the very end, a block cut before its name, the digits of a
  number cut by ``max_tokens``) comes out.  SGLang versions without
  ``finish`` (0.5.11) never close it, and those few characters stay held, as
  with SGLang's own detectors;
* ``prev_tool_call_arr`` / ``streamed_args_for_tool`` stay empty: everything
  is streamed as it is read, so there is nothing for SGLang's end-of-stream
  check (``_check_for_unstreamed_tool_args``) to send;
* a call to a tool the request did not declare is left as content (SGLang's
  detectors drop it), or kept as a call when ``SGLANG_FORWARD_UNKNOWN_TOOLS``
  is on (SGLang's switch for forwarding such calls);
* constrained decoding (``tool_choice`` "required" or a named function, and
  strict tools): the JSON dialects give SGLang's structural tag the
  ``<tool_call>\\n{"name": "NAME", "arguments": ...}\\n</tool_call>`` envelope
  Qwen models write, so the grammar forces what this detector reads; the XML
  dialects answer as SGLang's own detector for that format does
  (``Qwen3CoderDetector``, ``Glm4MoeDetector``); ``auto`` has no one grammar
  and leaves "required" to SGLang's JSON-array path.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any, Dict, List, Optional, Tuple

import hermes_parse
from hermes_parse import ClosedError, StreamParser
from sglang.srt.environ import envs
from sglang.srt.function_call.base_format_detector import BaseFormatDetector
from sglang.srt.function_call.core_types import StreamingParseResult, StructureInfo, ToolCallItem

logger = logging.getLogger("sglang.hermes_parse")

_new_result = StreamingParseResult.model_construct
_new_item = ToolCallItem.model_construct


def _forward_unknown_tools() -> bool:
    return bool(envs.SGLANG_FORWARD_UNKNOWN_TOOLS.get())


class HermesParseDetector(BaseFormatDetector):
    """Hermes JSON calls, ``<tool_call>{"name": ..., "arguments": ...}</tool_call>``:
    registered as ``hermes_parse``."""

    #: hermes_parse.parse / StreamParser options of this registered name.
    parser_options: Dict[str, Any] = {}
    #: What opens a block in this dialect (``has_tool_call``).
    openers: Tuple[str, ...] = ("<tool_call>",)

    def __init__(self) -> None:
        super().__init__()
        self.bot_token = "<tool_call>"
        self.eot_token = "</tool_call>"
        self._stream: Optional[StreamParser] = None
        self._closed = False

    # -- whole output ----------------------------------------------------------
    def has_tool_call(self, text: str) -> bool:
        return any(opener in text for opener in self.openers)

    def _options(self, tools) -> dict:
        unknown = "call" if _forward_unknown_tools() else "content"
        return dict(self.parser_options, tools=list(tools or ()), unknown_tool=unknown)

    def detect_and_parse(self, text: str, tools: List[Any]) -> StreamingParseResult:
        message = hermes_parse.parse(text, **self._options(tools))
        if message.problems:
            logger.debug("hermes-parse problems: %s", message.problems)
        positions = self._get_tool_indices(tools or [])
        calls = [
            ToolCallItem(tool_index=positions.get(call.name, -1), name=call.name, parameters=call.arguments)
            for call in message.tool_calls
        ]
        return StreamingParseResult(normal_text=message.content or "", calls=calls)

    # -- streaming -------------------------------------------------------------
    def parse_streaming_increment(self, new_text: str, tools: List[Any]) -> StreamingParseResult:
        stream = self._stream
        if stream is None:
            stream = self._stream = StreamParser(**self._options(tools))
        if self._closed:  # text after finish(): not ours to read any more
            return _new_result(normal_text=new_text, calls=[])
        return self._result(stream.feed(new_text) if new_text else [])

    def finish(self, tools: List[Any]) -> StreamingParseResult:
        stream = self._stream
        if stream is None or self._closed:
            return _new_result(normal_text="", calls=[])
        self._closed = True
        try:
            out = stream.close()
        except ClosedError:  # pragma: no cover - closed above only
            out = []
        if stream.problems:
            logger.debug("hermes-parse problems: %s", stream.problems)
        return self._result(out)

    @staticmethod
    def _result(out: list) -> StreamingParseResult:
        """The parser's deltas as one StreamingParseResult: the content
        joined, and one item per call start or run of argument fragments."""
        if not out:
            return _new_result(normal_text="", calls=[])
        content: List[str] = []
        calls: List[ToolCallItem] = []
        last_index = -1
        for delta in out:
            text = delta.get("content")
            if text is not None:
                content.append(text)
                continue
            for call in delta["tool_calls"]:
                index = call["index"]
                function = call["function"]
                arguments = function.get("arguments") or ""
                if "id" in call:
                    calls.append(_new_item(tool_index=index, name=function["name"], parameters=arguments))
                elif calls and last_index == index:
                    item = calls[-1]
                    item.parameters = item.parameters + arguments
                else:
                    calls.append(_new_item(tool_index=index, name=None, parameters=arguments))
                last_index = index
        return _new_result(normal_text="".join(content), calls=calls)

    # -- constrained decoding --------------------------------------------------
    def supports_structural_tag(self) -> bool:
        return True

    def structure_info(self):
        # The envelope Qwen's chat template shows; the grammar forces it and
        # this detector reads it (any whitespace would do).
        return lambda name: StructureInfo(
            begin='<tool_call>\n{"name": "' + name + '", "arguments": ',
            end="}\n</tool_call>",
            trigger="<tool_call>",
        )


class HermesParsePythonDetector(HermesParseDetector):
    """The same, reading Python dict literals too (Hermes-2-Pro with
    NousResearch's prompt): ``hermes_parse_python``."""

    parser_options = {"python_literals": True}


class _LikeBuiltin(HermesParseDetector):
    """A dialect whose constrained decoding is that of SGLang's own detector
    for the same format (``builtin``, ``(module, class)``): the structural tag
    it names, or none, whatever the installed version does."""

    builtin = ("", "")

    def _builtin(self) -> BaseFormatDetector:
        module, name = self.builtin
        return getattr(importlib.import_module(module), name)()

    def supports_structural_tag(self) -> bool:
        return self._builtin().supports_structural_tag()

    def structure_info(self):
        return self._builtin().structure_info()

    def get_structural_tag_name(self):
        name = getattr(self._builtin(), "get_structural_tag_name", None)  # not in 0.5.11
        return name() if name is not None else None


class HermesParseQwen3CoderDetector(_LikeBuiltin):
    """Qwen3-Coder / Qwen3.5 XML bodies (``<function=NAME><parameter=P>``), each
    value typed by the request's tool schema: ``hermes_parse_qwen3_coder``."""

    parser_options = {"dialect": "qwen3_coder"}
    openers = ("<tool_call>", "<function=")
    builtin = ("sglang.srt.function_call.qwen3_coder_detector", "Qwen3CoderDetector")


class HermesParseGlmDetector(_LikeBuiltin):
    """GLM-4.5 to GLM-5 bodies (``NAME<arg_key>K</arg_key><arg_value>V</arg_value>``):
    ``hermes_parse_glm``."""

    parser_options = {"dialect": "glm"}
    builtin = ("sglang.srt.function_call.glm4_moe_detector", "Glm4MoeDetector")


class HermesParseAutoDetector(HermesParseDetector):
    """Each block read in the dialect it shows (JSON, Qwen3-Coder XML or GLM):
    ``hermes_parse_auto``.  No one grammar covers the three, so for
    ``tool_choice`` "required" or named SGLang forces and parses a JSON list."""

    parser_options = {"dialect": "auto"}
    openers = ("<tool_call>", "<function=")

    def supports_structural_tag(self) -> bool:
        return False

    def structure_info(self):
        raise NotImplementedError("hermes_parse_auto has no one grammar for its three dialects")


#: Registered name -> detector class.
DETECTORS = {
    "hermes_parse": HermesParseDetector,
    "hermes_parse_python": HermesParsePythonDetector,
    "hermes_parse_qwen3_coder": HermesParseQwen3CoderDetector,
    "hermes_parse_glm": HermesParseGlmDetector,
    "hermes_parse_auto": HermesParseAutoDetector,
}
