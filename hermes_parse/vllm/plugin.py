"""hermes-parse as a vLLM tool parser, registered as ``hermes_parse`` (Hermes
JSON bodies), ``hermes_parse_python`` (and Python dicts),
``hermes_parse_qwen3_coder``, ``hermes_parse_glm`` and ``hermes_parse_auto``
(the dialects, docs/dialects.md); where vLLM has its unified Parser (0.32 on),
the same names as reasoning parsers: one of ours for both runs one pass over
reasoning and tool calls (``HermesParseParser``, docs/vllm.md).

    vllm serve MODEL --enable-auto-tool-choice \\
      --tool-parser-plugin "$(hermes-parse vllm-plugin-path)" --tool-call-parser hermes_parse

``--tool-parser-plugin`` loads this file by its path (vLLM imports it as a
module named after the file, ``plugin``); the ``vllm.general_plugins`` entry
point ``hermes_parse`` (``hermes_parse.vllm.plugin:register``) calls
``register()`` in an installed package, so that
``--tool-call-parser hermes_parse`` alone is enough where vLLM loads general
plugins before it checks the parser's name (see docs/vllm.md).

How it meets vLLM's contract (supported: vLLM 0.13 to 0.33):

* one ``StreamParser`` per request, fed ``delta_text`` only: the cost of a
  call does not depend on ``current_text``; ``None`` when a delta adds
  nothing (vLLM then sends no chunk);
* ``prev_tool_call_arr`` / ``streamed_args_for_tool`` always agree with what
  was streamed, so vLLM's end-of-stream patch (``get_remaining_unstreamed_args``
  from 0.23, the "autocomplete" before) adds nothing.  They are built lazily:
  a fragment is appended to a list, and the joined text is made only when
  vLLM reads it (once, at the end);
* vLLM gives a tool parser no end-of-stream call.  The parser closes its
  stream when the delta's last token is an end-of-turn token that vLLM cut
  from the text (a stop), or when the output reaches ``max_tokens``; what the
  state machine still held (a ``<tool_`` at the very end, a block cut before
  its name, the digits of a number cut by ``max_tokens``) then comes out;
* ``adjust_request`` sets ``skip_special_tokens=False`` when tools are given
  and ``tool_choice`` is not ``"none"`` (``<tool_call>`` is an added token);
* ``structural_tag_model = "hermes"``: on vLLM versions that have structural
  tags (0.32 and 0.33 checked; not 0.22), ``tool_choice="required"`` and a
  named function make xgrammar force the Hermes ``<tool_call>`` envelope, and
  this parser reads it; on older versions vLLM forces and parses a JSON list
  itself and this parser is not involved.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import logging
import sys
from pathlib import Path
from typing import List, Optional

if not __package__:  # loaded by file path (--tool-parser-plugin), not as hermes_parse.vllm.plugin
    try:
        importlib.import_module("hermes_parse")
    except ImportError:  # a checkout that is not installed: its root is three levels up
        sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import hermes_parse  # the installed package, or the checkout just put on sys.path
from hermes_parse import ClosedError, StreamParser

if importlib.util.find_spec("vllm.tool_parsers") is not None:  # vLLM >= 0.13
    from vllm.tool_parsers import ToolParser, ToolParserManager
else:  # pragma: no cover - the older layout
    from vllm.entrypoints.openai.tool_parsers import ToolParser, ToolParserManager


def _protocol_module():
    """The module that holds DeltaMessage & co. in this vLLM."""
    for name in (
        "vllm.entrypoints.generate.base.protocol",  # 0.29 on
        "vllm.entrypoints.openai.engine.protocol",  # 0.15 to 0.28
        "vllm.entrypoints.openai.protocol",  # up to 0.14
    ):
        try:
            if importlib.util.find_spec(name) is None:
                continue
        except ImportError:  # its parent package is missing
            continue
        module = importlib.import_module(name)  # a missing dependency is an error, said as such
        if hasattr(module, "DeltaMessage") and hasattr(module, "ExtractedToolCallInformation"):
            return module
    raise ImportError("hermes-parse: cannot find vLLM's DeltaMessage; unsupported vLLM version")


_protocol = _protocol_module()
DeltaMessage = _protocol.DeltaMessage
DeltaToolCall = _protocol.DeltaToolCall
DeltaFunctionCall = _protocol.DeltaFunctionCall
ExtractedToolCallInformation = _protocol.ExtractedToolCallInformation
FunctionCall = _protocol.FunctionCall
ToolCall = _protocol.ToolCall

NAME = "hermes_parse"
PYTHON_NAME = "hermes_parse_python"
# Under "vllm." so that vLLM's own log configuration shows it.
logger = logging.getLogger("vllm.hermes_parse")

# 0.19 on: ToolParser(tokenizer, tools=None); before: ToolParser(tokenizer).
_INIT_TAKES_TOOLS = "tools" in inspect.signature(ToolParser.__init__).parameters
# 0.23 on, vLLM's end-of-stream patch compares a *string* of arguments
# (get_remaining_unstreamed_args); before, it json.dumps()es a parsed object.
_ARGS_AS_TEXT = hasattr(ToolParser, "get_remaining_unstreamed_args")

# Tokens that end a turn in the Hermes / ChatML family (and GLM's two).  The
# tokenizer's own eos_token is added per tokenizer.
_END_TOKENS = ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>", "<|user|>", "<|observation|>")
_end_ids_cache: dict = {}


def _end_token_ids(tokenizer) -> dict:
    """{token id: token text} of end-of-turn tokens, cached per tokenizer."""
    key = id(tokenizer)
    cached = _end_ids_cache.get(key)
    if cached is not None and cached[0] is tokenizer:
        return cached[1]
    ends: dict = {}
    texts = list(_END_TOKENS)
    eos = getattr(tokenizer, "eos_token", None)
    if isinstance(eos, str) and eos:
        texts.append(eos)
    unk = getattr(tokenizer, "unk_token_id", None)
    for text in texts:
        try:
            ids = tokenizer.convert_tokens_to_ids([text])
        except Exception:  # a tokenizer without it (mistral, tests)
            continue
        if ids and isinstance(ids[0], int) and ids[0] >= 0 and ids[0] != unk:
            ends[ids[0]] = text
    eos_id = getattr(tokenizer, "eos_token_id", None)
    if isinstance(eos_id, int) and eos_id not in ends and isinstance(eos, str):
        ends[eos_id] = eos
    if len(_end_ids_cache) > 64:
        _end_ids_cache.clear()
    _end_ids_cache[key] = (tokenizer, ends)
    return ends


class _Args:
    """The arguments streamed for one call: fragments, joined only when read.

    Fragments are packed 64 at a time into one string, so that a long
    argument is held as a few hundred strings, not tens of thousands of tiny
    ones (whose allocation grows dearer as they pile up)."""

    __slots__ = ("parts", "tail", "joined", "count")

    def __init__(self) -> None:
        self.parts: list = []  # packed runs of fragments
        self.tail: list = []  # the latest fragments, fewer than 64
        self.joined = ""
        self.count = -1

    def add(self, fragment: str) -> None:
        tail = self.tail
        tail.append(fragment)
        if len(tail) >= 64:
            self.parts.append("".join(tail))
            tail.clear()

    def text(self) -> str:
        count = len(self.parts) * 64 + len(self.tail)
        if self.count != count:
            self.joined = "".join(self.parts) + "".join(self.tail)
            self.count = count
        return self.joined


class _StreamedArgs(list):
    """``streamed_args_for_tool``: a list of strings to whoever reads it.

    Holds one ``_Args`` per call; an item is joined when it is read."""

    def __getitem__(self, index):
        item = list.__getitem__(self, index)
        if isinstance(index, slice):
            return [args.text() for args in item]
        return item.text()

    def __iter__(self):
        for args in list.__iter__(self):
            yield args.text()

    def __repr__(self) -> str:
        return repr(list(self))

    def __eq__(self, other) -> bool:
        return list(self) == other

    __hash__ = None  # type: ignore[assignment]


def _parsed_arguments(text: str):
    """What vLLM < 0.23 expects in ``prev_tool_call_arr[i]["arguments"]``: an
    object whose ``json.dumps(..., ensure_ascii=False)`` is the streamed text."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:  # cut by max_tokens: what vLLM's own parsers keep there
        import partial_json_parser

        return partial_json_parser.loads(text)
    except Exception:
        return {}


class _CallRecord(dict):
    """An entry of ``prev_tool_call_arr``: ``{"name": ..., "arguments": ...}``
    where ``arguments`` is made from the streamed fragments when read."""

    __slots__ = ("_args",)

    def __init__(self, name: str, args: _Args) -> None:
        super().__init__(name=name)
        self._args = args

    def _arguments(self):
        text = self._args.text()
        return text if _ARGS_AS_TEXT else _parsed_arguments(text)

    def __missing__(self, key):
        if key == "arguments":
            return self._arguments()
        raise KeyError(key)

    def get(self, key, default=None):
        if key == "arguments":
            return self._arguments()
        return dict.get(self, key, default)

    def __contains__(self, key) -> bool:
        return key == "arguments" or dict.__contains__(self, key)

    def _plain(self) -> dict:
        return {"name": dict.__getitem__(self, "name"), "arguments": self._arguments()}

    def keys(self):
        return self._plain().keys()

    def values(self):
        return self._plain().values()

    def items(self):
        return self._plain().items()

    def __iter__(self):
        return iter(("name", "arguments"))

    def __len__(self) -> int:
        return 2

    def copy(self) -> dict:
        return self._plain()

    def __eq__(self, other) -> bool:
        return self._plain() == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self._plain())


# -- building DeltaMessage fast ------------------------------------------------
# A validated DeltaMessage with one DeltaToolCall costs about 7 us, and
# pydantic's model_construct() 3 us per object: more than the whole rest of a
# delta.  These builders fill the instance slots directly (about 0.4 us per
# object), as model_construct does, without its generic Python code.  At import
# they are checked against validated instances (same fields, same JSON); if
# pydantic ever lays models out differently, model_construct is used instead.
def _fast_builder(cls, proto):
    from pydantic import BaseModel

    new = object.__new__
    slots = BaseModel.__dict__
    set_dict = slots["__dict__"].__set__
    set_fields = slots["__pydantic_fields_set__"].__set__
    set_extra = slots["__pydantic_extra__"].__set__
    set_private = slots["__pydantic_private__"].__set__
    defaults = dict(proto.__dict__)
    mutable = tuple((k, type(v)) for k, v in defaults.items() if isinstance(v, (list, dict, set)))
    extra_is_dict = proto.__pydantic_extra__ is not None
    if proto.__pydantic_private__ is not None:
        raise TypeError("private attributes")

    def build(**fields):
        obj = new(cls)
        values = defaults.copy()
        for key, kind in mutable:
            values[key] = kind()
        values.update(fields)
        set_dict(obj, values)
        set_fields(obj, set(fields))
        set_extra(obj, {} if extra_is_dict else None)
        set_private(obj, None)
        return obj

    return build


def _without_nulls(value):
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _builders():
    try:
        builders = (
            _fast_builder(DeltaMessage, DeltaMessage()),
            _fast_builder(DeltaToolCall, DeltaToolCall(index=0)),
            _fast_builder(DeltaFunctionCall, DeltaFunctionCall()),
        )
        message, tool_call, function = builders
        samples = [
            ({"content": "a"}, None),
            ({}, [{"index": 0, "id": "call_x", "type": "function", "function": {"name": "f", "arguments": ""}}]),
            ({"content": "b"}, [{"index": 1, "function": {"arguments": "{}"}}]),
        ]
        for fields, calls in samples:
            validated = DeltaMessage(**fields, **({"tool_calls": calls} if calls else {}))
            fast_calls = [
                tool_call(**{**c, "function": function(**c["function"])}) for c in calls or ()
            ]
            fast = message(**fields, **({"tool_calls": fast_calls} if calls else {}))
            for mode in ({"exclude_none": True}, {}):
                if fast.model_dump_json(**mode) != validated.model_dump_json(**mode):
                    raise ValueError(mode)
            # What vLLM sends (exclude_unset), up to null fields that an
            # "after" validator marks as set (0.13's reasoning_content).
            if _without_nulls(json.loads(fast.model_dump_json(exclude_unset=True))) != _without_nulls(
                json.loads(validated.model_dump_json(exclude_unset=True))
            ):
                raise ValueError("exclude_unset")
            if fast != validated or fast.model_dump() != validated.model_dump():
                raise ValueError("dump")
        return builders
    except Exception as exc:  # pragma: no cover - a pydantic we do not know
        logger.info("hermes-parse: fast DeltaMessage builders off (%r); using model_construct", exc)
        return DeltaMessage.model_construct, DeltaToolCall.model_construct, DeltaFunctionCall.model_construct


_new_message, _new_tool_call, _new_function = _builders()


class HermesParseToolParser(ToolParser):
    """vLLM ``ToolParser`` backed by ``hermes_parse.StreamParser`` (one per request)."""

    # Lets xgrammar force <tool_call>{"name": ..., "arguments": ...}</tool_call>
    # for tool_choice "required" / named (vLLM with structural tags).
    structural_tag_model: Optional[str] = "hermes"
    # hermes_parse.parse / StreamParser options of this registered name.
    parser_options: dict = {}
    # Marks our classes (this file may be executed more than once).
    hermes_parse_parser = True

    def __init__(self, tokenizer, tools=None, *args, **kwargs) -> None:
        if _INIT_TAKES_TOOLS:
            super().__init__(tokenizer, tools)
        else:
            super().__init__(tokenizer)
        self._stream: Optional[StreamParser] = None
        self._max_tokens: Optional[int] = None
        self._ignore_eos = False
        self._calls: list = []  # one _Args per call
        self.prev_tool_call_arr: List[dict] = []
        self.streamed_args_for_tool = _StreamedArgs()
        self._end_ids = _end_token_ids(tokenizer) if tokenizer is not None else {}
        self._late_warned = False

    # -- requests ------------------------------------------------------------
    def adjust_request(self, request):
        request = super().adjust_request(request)
        if request.tools and request.tool_choice != "none":
            # <tool_call> is an added (special) token in Qwen's vocabulary:
            # skipping special tokens would remove the very tags we parse.
            request.skip_special_tokens = False
        return request

    @staticmethod
    def _tools(request):
        tools = getattr(request, "tools", None)
        return list(tools) if tools else None

    # -- whole output --------------------------------------------------------
    def extract_tool_calls(self, model_output, request):
        message = hermes_parse.parse(
            model_output, tools=self._tools(request), **self.parser_options
        )
        if message.problems:
            logger.debug("hermes-parse problems: %s", message.problems)
        tool_calls = [
            ToolCall(
                id=call.id,
                type="function",
                function=FunctionCall(name=call.name, arguments=call.arguments),
            )
            for call in message.tool_calls
        ]
        return ExtractedToolCallInformation(
            tools_called=bool(tool_calls), tool_calls=tool_calls, content=message.content
        )

    # -- streaming -----------------------------------------------------------
    def _start(self, request) -> StreamParser:
        self._stream = StreamParser(tools=self._tools(request), **self.parser_options)
        fields = getattr(request, "__dict__", {})  # not getattr: max_tokens warns as deprecated
        max_tokens = fields.get("max_completion_tokens") or fields.get("max_tokens")
        self._max_tokens = max_tokens if isinstance(max_tokens, int) and max_tokens > 0 else None
        self._ignore_eos = bool(getattr(request, "ignore_eos", False))
        return self._stream

    def _ended(self, delta_text, current_token_ids, delta_token_ids) -> bool:
        """Is this the last delta of the output?  (vLLM does not say.)"""
        if delta_token_ids and not self._ignore_eos:
            end = self._end_ids.get(delta_token_ids[-1])
            # A stop token is cut from the text: if its text is there, the
            # model only wrote it and goes on.
            if end is not None and not delta_text.endswith(end):
                return True
        max_tokens = self._max_tokens
        return max_tokens is not None and current_token_ids is not None and len(current_token_ids) >= max_tokens

    def extract_tool_calls_streaming(
        self,
        previous_text,
        current_text,
        delta_text,
        previous_token_ids,
        current_token_ids,
        delta_token_ids,
        request,
    ):
        stream = self._stream
        if stream is None:
            stream = self._start(request)
        try:
            out = stream.feed(delta_text) if delta_text else []
        except ClosedError:
            # We took an earlier delta for the last one and it was not.
            if not self._late_warned:
                self._late_warned = True
                logger.warning("hermes-parse: output went on after its end token; passing it on as content")
            return _new_message(content=delta_text) if delta_text else None
        if self._ended(delta_text, current_token_ids, delta_token_ids):
            out += stream.close()
            if stream.problems:
                logger.debug("hermes-parse problems: %s", stream.problems)
        if not out:
            return None
        return self._message(out)

    def _message(self, out: list):
        """Fold the parser's deltas into one DeltaMessage (one entry per call),
        keeping prev_tool_call_arr / streamed_args_for_tool in step."""
        content = None
        entries: dict = {}
        for delta in out:
            text = delta.get("content")
            if text is not None:
                content = text if content is None else content + text
                continue
            for call in delta["tool_calls"]:
                index = call["index"]
                function = call["function"]
                arguments = function.get("arguments")
                if "id" in call:
                    name = function["name"]
                    args = _Args()
                    self._calls.append(args)
                    self.prev_tool_call_arr.append(_CallRecord(name, args))
                    list.append(self.streamed_args_for_tool, args)
                    self.current_tool_id = index
                    self.current_tool_name_sent = True
                    entries[index] = [call["id"], name, arguments or ""]
                else:
                    self._calls[index].add(arguments)
                    entry = entries.get(index)
                    if entry is None:
                        entries[index] = [None, None, arguments]
                    else:
                        entry[2] += arguments
                    continue
                if arguments:
                    self._calls[index].add(arguments)
        if not entries:
            return _new_message(content=content)
        tool_calls = []
        for index, (call_id, name, arguments) in entries.items():
            if call_id is None:
                tool_calls.append(_new_tool_call(index=index, function=_new_function(arguments=arguments)))
            else:
                tool_calls.append(
                    _new_tool_call(
                        index=index,
                        id=call_id,
                        type="function",
                        function=_new_function(name=name, arguments=arguments),
                    )
                )
        if content is None:
            return _new_message(tool_calls=tool_calls)
        return _new_message(content=content, tool_calls=tool_calls)


class HermesParsePythonToolParser(HermesParseToolParser):
    """The same, reading Python dict literals too (Hermes-2-Pro with NousResearch's
    prompt writes ``{'arguments': {...}, 'name': 'f'}``): ``hermes_parse_python``."""

    parser_options = {"python_literals": True}


class HermesParseQwen3CoderToolParser(HermesParseToolParser):
    """Qwen3-Coder / Qwen3.5 XML bodies (``<function=NAME><parameter=P>``), each
    value typed by the request's tool schema: ``hermes_parse_qwen3_coder``."""

    parser_options = {"dialect": "qwen3_coder"}
    structural_tag_model = "qwen_3_coder"  # as vLLM's qwen3_coder


class HermesParseGlmToolParser(HermesParseToolParser):
    """GLM-4.5 to GLM-5 bodies (``NAME<arg_key>K</arg_key><arg_value>V</arg_value>``):
    ``hermes_parse_glm``."""

    parser_options = {"dialect": "glm"}
    structural_tag_model = "glm_4_7"  # as vLLM's glm45 / glm47


class HermesParseAutoToolParser(HermesParseToolParser):
    """Each block read in the dialect it shows (JSON, Qwen3-Coder XML or GLM):
    ``hermes_parse_auto``.  No one grammar covers the three, so for
    ``tool_choice`` "required" or named vLLM forces and parses a JSON list."""

    parser_options = {"dialect": "auto"}
    structural_tag_model = None
    supports_required_and_named = True


#: Registered name -> tool parser class.
TOOL_PARSERS = {
    NAME: HermesParseToolParser,
    PYTHON_NAME: HermesParsePythonToolParser,
    "hermes_parse_qwen3_coder": HermesParseQwen3CoderToolParser,
    "hermes_parse_glm": HermesParseGlmToolParser,
    "hermes_parse_auto": HermesParseAutoToolParser,
}


# -- vLLM's unified Parser (vllm/parser/: 0.32 and 0.33 checked; not 0.13) -------
# vLLM's serving layer holds one ``Parser`` per request and calls its
# ``parse`` / ``parse_delta(..., finished=)``.  ``ParserManager.get_parser``
# composes it from ``--reasoning-parser`` and ``--tool-call-parser`` (a
# ``DelegatingParser`` over a ReasoningParser and a ToolParser: reasoning
# first, then the tool parser sees only the text after ``</think>``).  There
# is no registry of Parser classes by name, so with one of our names given as
# both the reasoning and the tool parser, ``register()`` has ParserManager
# return ``HermesParseParser`` instead: one StreamParser(reasoning=...) over
# the whole output.
HAS_UNIFIED_PARSER = importlib.util.find_spec("vllm.parser") is not None
THINK_START, THINK_END, TURN_START = "<think>", "</think>", "<|im_start|>"

if HAS_UNIFIED_PARSER:
    from vllm.parser import parser_manager as _parser_manager
    from vllm.parser.abstract_parser import DelegatingParser
    from vllm.reasoning import ReasoningParserManager
    from vllm.reasoning.basic_parsers import BaseThinkingReasoningParser

    class HermesParseReasoningParser(BaseThinkingReasoningParser):
        """``--reasoning-parser hermes_parse``: with one of our tool parsers, it
        selects the one-pass ``HermesParseParser``; with another tool parser it
        is vLLM's own ``<think>`` splitting.  Also what vLLM's engine asks when
        reasoning ends, to start a structured-output grammar after it."""

        hermes_parse_parser = True
        start_token = THINK_START
        end_token = THINK_END

    class HermesParseParser(DelegatingParser):
        """Reasoning and tool calls in one pass: one ``StreamParser`` per request,
        ``reasoning=True`` (``"open"`` when the prompt ends inside ``<think>``),
        with the options of the tool parser's name (dialect, python literals)
        and the request's tools.  A ``<tool_call>`` written inside ``<think>``
        stays reasoning (a ``call_in_reasoning`` problem, docs/grammar.md).

        Requests whose tool calls vLLM forces as a JSON list and parses itself
        (``tool_choice`` "required" or named, for a tool parser without a
        structural tag) go to vLLM's own ``DelegatingParser`` code."""

        hermes_parse_parser = True

        def __init__(self, tokenizer, tools=None, *args, **kwargs) -> None:
            super().__init__(tokenizer, tools, *args, **kwargs)
            tool_cls = self.tool_parser_cls
            self._options = dict(tool_cls.parser_options) if tool_cls is not None else {}
            vocab = self._reasoning_parser.vocab if self._reasoning_parser is not None else {}
            self._think_start = vocab.get(THINK_START)
            self._think_end = vocab.get(THINK_END)
            self._turn_start = vocab.get(TURN_START)
            self._prompt_ids: Optional[List[int]] = None
            self._route: Optional[str] = None  # of the stream: "calls", "text" or "vllm"
            self._stream: Optional[StreamParser] = None

        # -- which request goes where -------------------------------------
        def _route_of(self, request, enable_auto_tools: bool = True) -> str:
            """"calls": our parser reads calls; "text": reasoning split only, the
            rest is content as written; "vllm": vLLM's forced-JSON handling."""
            choice = request.tool_choice
            if self._tool_parser is None or choice == "none" or not enable_auto_tools:
                return "text"
            forced = choice == "required" or (choice is not None and not isinstance(choice, str))
            if forced and self._tool_parser.supports_required_and_named:
                return "vllm"
            return "calls"

        def _reasoning_mode(self):
            """``"open"`` when the prompt left a ``<think>`` open (Qwen3.5's and
            the Thinking-2507 templates do), else ``True``."""
            if self._reasoning_parser is None:
                return False
            for token in reversed(self._prompt_ids or ()):
                if token == self._think_end or token == self._turn_start:
                    break
                if token == self._think_start:
                    return "open"
            return True

        def _core_options(self, request, route: str) -> dict:
            options = dict(self._options, reasoning=self._reasoning_mode())
            if route == "text":  # no call is read: each block stays content as written
                options.update(tools=[], unknown_tool="content")
            else:
                options["tools"] = HermesParseToolParser._tools(request)
            return options

        def set_prompt_token_ids(self, prompt_token_ids) -> None:
            super().set_prompt_token_ids(prompt_token_ids)
            self._prompt_ids = list(prompt_token_ids)

        # -- whole output ---------------------------------------------------
        def parse(self, model_output, request, enable_auto_tools=False, model_output_token_ids=()):
            route = self._route_of(request, enable_auto_tools)
            if route == "vllm":
                return super().parse(model_output, request, enable_auto_tools, model_output_token_ids)
            message = hermes_parse.parse(model_output, **self._core_options(request, route))
            if message.problems:
                logger.debug("hermes-parse problems: %s", message.problems)
            if route == "text":
                return message.reasoning, message.content, []
            calls = [
                FunctionCall(id=call.id, name=call.name, arguments=call.arguments)
                for call in message.tool_calls
            ]
            return message.reasoning, message.content, calls or None

        # -- streaming ------------------------------------------------------
        def parse_delta(self, delta_text, delta_token_ids, request, prompt_token_ids=None, *, finished):
            route = self._route
            if route is None:
                if prompt_token_ids is not None:
                    self._prompt_ids = list(prompt_token_ids)
                route = self._route = self._route_of(request)
                if route != "vllm":
                    self._stream = StreamParser(**self._core_options(request, route))
            if route == "vllm":
                return super().parse_delta(
                    delta_text, delta_token_ids, request, prompt_token_ids, finished=finished
                )
            stream = self._stream
            out = stream.feed(delta_text) if delta_text else []
            if finished:
                out += stream.close()
                if stream.problems:
                    logger.debug("hermes-parse problems: %s", stream.problems)
            if not request.include_reasoning:
                out = [delta for delta in out if "reasoning" not in delta]
            return _delta_message(out) if out else None

    def _delta_message(out: list):
        """Our deltas as one DeltaMessage: reasoning, content, one entry per call."""
        reasoning: list = []
        content: list = []
        entries: dict = {}
        for delta in out:
            text = delta.get("content")
            if text is not None:
                content.append(text)
                continue
            text = delta.get("reasoning")
            if text is not None:
                reasoning.append(text)
                continue
            for call in delta["tool_calls"]:
                function = call["function"]
                entry = entries.get(call["index"])
                if entry is None:
                    entries[call["index"]] = [call.get("id"), function.get("name"), [function.get("arguments") or ""]]
                else:
                    entry[2].append(function.get("arguments") or "")
        fields: dict = {}
        if reasoning:
            fields["reasoning"] = "".join(reasoning)
        if content:
            fields["content"] = "".join(content)
        if entries:
            tool_calls = []
            for index, (call_id, name, arguments) in entries.items():
                if call_id is None:
                    function = _new_function(arguments="".join(arguments))
                    tool_calls.append(_new_tool_call(index=index, function=function))
                else:
                    function = _new_function(name=name, arguments="".join(arguments))
                    tool_calls.append(_new_tool_call(index=index, id=call_id, type="function", function=function))
            fields["tool_calls"] = tool_calls
        return _new_message(**fields)

    def _is_ours(cls) -> bool:
        return cls is not None and getattr(cls, "hermes_parse_parser", False)

    _one_pass_logged: list = []

    def _one_pass(parser_cls):
        """``HermesParseParser`` in place of vLLM's composition of our reasoning
        parser with our tool parser (or none); any other composition as is."""
        if parser_cls is None or parser_cls.__bases__ != (DelegatingParser,):
            return parser_cls  # not the generic composition (Harmony, Kimi-K3, hf, ...)
        reasoning_cls, tool_cls = parser_cls.reasoning_parser_cls, parser_cls.tool_parser_cls
        if not _is_ours(reasoning_cls) or not (tool_cls is None or _is_ours(tool_cls)):
            return parser_cls
        if not _one_pass_logged:
            _one_pass_logged.append(True)
            logger.info(
                "hermes-parse: one pass over reasoning and tool calls (vLLM Parser %s, options %s)",
                HermesParseParser.__name__,
                dict(tool_cls.parser_options) if tool_cls is not None else {},
            )
        return type(
            "HermesParseParser",
            (HermesParseParser,),
            {
                "reasoning_parser_cls": reasoning_cls,
                "tool_parser_cls": tool_cls,
                "tool_strict_level": parser_cls.tool_strict_level,
                "__module__": __name__,
            },
        )

    def _hook_parser_manager() -> None:
        """Wrap ``ParserManager.get_parser`` (once: this file may be executed
        several times, each time wrapping vLLM's own method again)."""
        manager = _parser_manager.ParserManager
        current = manager.__dict__["get_parser"].__func__
        original = getattr(current, "hermes_parse_original", current)

        def get_parser(cls, *args, **kwargs):
            return _one_pass(original(cls, *args, **kwargs))

        get_parser.hermes_parse_original = original  # type: ignore[attr-defined]
        get_parser.__doc__ = original.__doc__
        manager.get_parser = classmethod(get_parser)


def register() -> None:
    """Register the tool parsers (``TOOL_PARSERS``) and, where vLLM has its
    unified Parser, the same names as reasoning parsers (the
    ``vllm.general_plugins`` entry point; loading this file registers them too)."""
    for name, cls in TOOL_PARSERS.items():
        ToolParserManager.register_module(name=name, force=True, module=cls)
    names = ", ".join(TOOL_PARSERS)
    if HAS_UNIFIED_PARSER:
        for name in TOOL_PARSERS:
            ReasoningParserManager.register_module(name=name, force=True, module=HermesParseReasoningParser)
        _hook_parser_manager()
    logger.info(
        "hermes-parse %s (%s) registered vLLM tool parsers %s%s",
        hermes_parse.__version__,
        hermes_parse.BACKEND,
        names,
        "; reasoning parsers " + names + " (one pass with the same name for both)" if HAS_UNIFIED_PARSER else "",
    )


register()
