"""The proxy's translator: requests and responses, sans-I/O.

No sockets, no event loop: dicts and bytes in, dicts and bytes out, so every
rule is tested by itself (``tests/test_serve_translate.py``) and the aiohttp
shell (``app.py``) only moves bytes and handles time.

Theory of operation:

1. ``prepare(body, settings, upstream)`` reads the client's
   ``/v1/chat/completions`` body.  Without ``tools`` (and, in template mode,
   with ``tool_choice: "none"``) there is nothing to do: ``Prepared.plan`` is
   ``None`` and the response passes through.  Otherwise it returns the
   upstream's body (template mode: ``tools`` kept, ``tool_choice: "none"``,
   ``skip_special_tokens: false`` on vLLM; inject mode: ``tools`` and
   ``tool_choice`` dropped, the tools and the history written as text) and a
   ``Plan``: what the response translation needs to know.  A request it
   cannot serve raises ``ApiError`` (an OpenAI error body and its status).
2. Each choice of the answer goes through one ``Choice``: the text of its
   ``content`` into a ``StreamParser`` (one per choice: ``n > 1`` streams
   interleave), the parser's deltas through the call rules (at most one call
   with ``parallel_tool_calls: false``; invalid calls to content with
   ``--invalid-calls content``; calls renumbered when one is left out), out
   as OpenAI deltas.  ``translate_completion`` feeds a whole answer's content
   at once and folds the deltas into the message; ``StreamTranslator`` feeds
   each chunk's.  The core promises that the chunking does not change what is
   parsed, so a stream and a whole answer give the same message.
3. ``finish_reason`` becomes ``"tool_calls"`` only where a call was sent and
   the upstream said ``"stop"``; ``"length"`` (and anything else) stays.  A
   choice whose upstream already sent ``tool_calls`` (its own parser is on)
   passes through untouched.

Per chunk, the work is proportional to the chunk: the parser holds at most
the current call, and the translator keeps only counters per choice (and the
current call's arguments when they are validated).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from .. import CallFold, StreamParser
from .._tools import tool_names
from . import forcing
from .inject import ToolPrompt, convert_messages
from .jsonio import dumps, loads
from .sse import SSEDecoder, TooLong, event
from .validate import Validators

__all__ = [
    "ApiError",
    "Choice",
    "Plan",
    "Prepared",
    "Settings",
    "StreamTranslator",
    "Upstream",
    "check_request",
    "error_body",
    "prepare",
    "translate_completion",
]

MODES = ("template", "inject")
PROBLEMS_FIELD = "hermes_parse"  # the extension field: {"problems": [...]}
PROBLEMS_HEADER = "x-hermes-parse-problems"


@dataclass(frozen=True)
class Settings:
    """The proxy's options that shape translation (``options.py`` fills them)."""

    mode: str = "auto"  # auto | template | inject
    dialect: str = "hermes"
    reasoning: Any = False  # False | True | "open": the core's option
    invalid_calls: str = "report"  # off | report | content
    problems_field: bool = True
    force: str = "auto"  # auto | structured-outputs | prompt
    tool_prompt: Optional[ToolPrompt] = None
    call_id: Optional[Callable[[int, str], str]] = None  # tests: seeded ids


@dataclass(frozen=True)
class Upstream:
    """What the proxy knows of its upstream (``app.py`` asks it once)."""

    vllm: bool = False
    version: Optional[str] = None

    def mode(self, settings: Settings) -> str:
        if settings.mode != "auto":
            return settings.mode
        return "template" if self.vllm else "inject"


class ApiError(Exception):
    """A request the proxy answers itself, with an OpenAI error body."""

    def __init__(self, status: int, message: str, param: Optional[str] = None, kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.kind = kind

    def body(self) -> Dict[str, Any]:
        return error_body(self.message, self.kind, self.status, self.param)


def error_body(message: str, kind: str, code: Any, param: Optional[str] = None) -> Dict[str, Any]:
    """An OpenAI-style error body."""
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


@dataclass
class Plan:
    """What the response translation needs to know about the request."""

    mode: str
    tools: List[Any]
    stream: bool
    parallel: bool = True
    forced: Optional[str] = None  # None, "required" or "named"
    forced_name: Optional[str] = None
    forced_by_schema: bool = False  # the upstream writes the forced JSON (vLLM structured outputs)


@dataclass
class Prepared:
    """``prepare``'s answer: the upstream's body, and the plan (``None``: pass through)."""

    body: Dict[str, Any]
    plan: Optional[Plan]
    changed: bool = True  # False: send the client's bytes unchanged
    notes: List[str] = field(default_factory=list)


def _bad(message: str, param: Optional[str] = None) -> ApiError:
    return ApiError(400, message, param)


def check_request(body: Any) -> None:
    """Raise ``ApiError`` 400 for a chat request of the wrong shape (before the upstream is asked)."""
    if not isinstance(body, dict):
        raise _bad("the request body must be a JSON object")
    messages = body.get("messages")
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise _bad("'messages' must be an array of message objects", "messages")
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise _bad("'tools' must be an array", "tools")
        for tool in tools:
            function = tool.get("function") if isinstance(tool, dict) else None
            if not isinstance(function, dict) or not isinstance(function.get("name"), str):
                raise _bad("each tool must be {\"type\": \"function\", \"function\": {\"name\": ...}}", "tools")
            parameters = function.get("parameters")
            if parameters is not None and not isinstance(parameters, dict):
                raise _bad(f"the parameters of tool {function['name']!r} must be an object", "tools")
    if "stream" in body and not isinstance(body["stream"], bool) and body["stream"] is not None:
        raise _bad("'stream' must be a boolean", "stream")
    n = body.get("n")
    if n is not None and (not isinstance(n, int) or isinstance(n, bool)):
        raise _bad("'n' must be an integer", "n")


def _tool_choice(body: Dict[str, Any], tools: List[Any]) -> Tuple[str, Optional[str]]:
    """``("auto" | "none" | "required" | "named", name)``."""
    choice = body.get("tool_choice")
    if choice is None or choice == "auto":
        return "auto", None
    if choice in ("none", "required"):
        return choice, None
    if isinstance(choice, dict):
        function = choice.get("function")
        name = function.get("name") if isinstance(function, dict) else None
        if isinstance(name, str):
            if name not in (tool_names(tools) or ()):
                raise _bad(f"tool_choice names {name!r}, which is not among the tools", "tool_choice")
            return "named", name
    raise _bad("'tool_choice' must be \"none\", \"auto\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}", "tool_choice")


def prepare(body: Any, settings: Settings, upstream: Upstream) -> Prepared:
    """The upstream's request for the client's ``body`` (parsed JSON).

    Raises ``ApiError`` (400) for a body of the wrong shape, or a forced
    ``tool_choice`` that cannot be forced (the request has its own structured
    outputs).
    """
    check_request(body)
    mode = upstream.mode(settings)
    tools = body.get("tools")
    has_history = any(m.get("role") == "tool" or m.get("tool_calls") for m in body["messages"])
    if not tools:
        if mode == "inject" and has_history:
            out = dict(body)
            out["messages"] = convert_messages(body["messages"], None, None)
            return Prepared(out, None)
        return Prepared(body, None, changed=False)
    choice, name = _tool_choice(body, tools)
    out = dict(body)
    stream = bool(body.get("stream"))
    parallel = body.get("parallel_tool_calls") is not False
    if choice == "none":
        # No tools offered: the model answers in words, the content is returned as written.
        out.pop("tools", None)
        out.pop("tool_choice", None)
        out.pop("parallel_tool_calls", None)
        if mode == "inject" and has_history:
            out["messages"] = convert_messages(body["messages"], None, None)
        return Prepared(out, None)
    plan = Plan(mode=mode, tools=tools, stream=stream, parallel=parallel)
    if upstream.vllm:
        # The tags may be special tokens for the model: the parser must see them.
        out["skip_special_tokens"] = False
    instruction = ""
    if choice in ("required", "named"):
        plan.forced = choice
        plan.forced_name = name
        by_schema = settings.force == "structured-outputs" or (settings.force == "auto" and upstream.vllm)
        if by_schema:
            if body.get("structured_outputs") is not None or body.get("guided_json") is not None or (
                isinstance(body.get("response_format"), dict) and body["response_format"].get("type") not in (None, "text")
            ):
                raise _bad(
                    f"tool_choice {choice!r} is forced with the upstream's structured outputs,"
                    " which the request already uses (structured_outputs / guided_json / response_format)",
                    "tool_choice",
                )
            out["structured_outputs"] = {"json": forcing.forced_schema(tools, name, parallel)}
            plan.forced_by_schema = True
        else:
            instruction = (
                f"You must call the function {name} now." if name else "You must call one or more of the functions now."
            )
    if mode == "template":
        out["tool_choice"] = "none"
        # (--exclude-tools-when-tool-choice-none is off by default: vLLM still renders them.)
        if instruction:
            out["messages"] = list(body["messages"]) + [{"role": "system", "content": instruction}]
    else:
        out.pop("tools", None)
        out.pop("tool_choice", None)
        out.pop("parallel_tool_calls", None)
        out["messages"] = convert_messages(body["messages"], settings.tool_prompt or ToolPrompt(), tools, instruction)
    return Prepared(out, plan)


# ---------------------------------------------------------------------------
# One choice: the parser and the call rules.

_DROPPED = -1


class Choice:
    """One choice's content, turned into OpenAI deltas (see the module)."""

    def __init__(self, plan: Plan, settings: Settings) -> None:
        self._plan = plan
        self._settings = settings
        self._parser: Optional[StreamParser] = None
        self._adapter: Any = None
        if plan.forced_by_schema:
            self._adapter = forcing.NamedCall(plan.forced_name or "") if plan.forced == "named" else forcing.CallArray()
        self.upstream_reasoning = False  # the upstream split the reasoning itself
        self.passthrough = False  # the upstream sent tool_calls itself
        self.calls_sent = 0
        self.names_sent: List[str] = []
        self.problems: List[dict] = []
        self.outcomes: Dict[str, int] = {}  # tool calls by outcome: sent, content, dropped
        self._validators = Validators(plan.tools) if settings.invalid_calls != "off" else None
        self._hold = settings.invalid_calls == "content"
        # The call being read (the parser's index), and where it goes.
        self._current = -1
        self._out_index = _DROPPED
        self._name = ""
        self._arguments: Optional[List[str]] = None  # kept only when it is validated
        self._held: List[dict] = []
        self._claimed = False  # a call was sent or is held (parallel_tool_calls: false)

    # -- the parser --------------------------------------------------------

    def _make_parser(self) -> StreamParser:
        options: Dict[str, Any] = {"tools": self._plan.tools}
        if self._settings.dialect != "hermes":  # the core's default; older cores lack the keyword
            options["dialect"] = self._settings.dialect
        if self._settings.reasoning and not self.upstream_reasoning and not self._plan.forced_by_schema:
            options["reasoning"] = self._settings.reasoning
        if self._settings.invalid_calls == "content":
            options["unknown_tool"] = "content"
        if self._settings.call_id is not None:
            options["call_id"] = self._settings.call_id
        return StreamParser(**options)

    def feed(self, text: str) -> List[dict]:
        """The deltas for one more piece of the choice's content."""
        if self._adapter is not None:
            text = self._adapter.feed(text)
        if not text:
            return []
        if self._parser is None:
            self._parser = self._make_parser()
        out: List[dict] = []
        self._route(self._parser.feed(text), out)
        if self._current >= 0 and self._parser.calls_finished > self._current:
            self._end_call(out)
        return out

    def close(self, cut: bool = False) -> List[dict]:
        """The last deltas; the choice's problems are final after it.

        ``cut``: the output was cut (``finish_reason: "length"``): a forced call
        is left open, so that the parser reports it ``truncated``.
        """
        out: List[dict] = []
        if self._adapter is not None and not cut:
            tail = self._adapter.close()
            if tail:
                out.extend(self.feed(tail))
        if self._parser is not None:
            self._route(self._parser.close(), out)
            if self._current >= 0:
                self._end_call(out)
            self.problems[:0] = [problem.to_dict() for problem in self._parser.problems]
        forced = self._plan.forced
        if forced and not self._plan.forced_by_schema:
            if self.calls_sent == 0:
                self.problems.append(_problem("tool_choice_not_forced", None, f"tool_choice {forced!r}: the model made no call"))
            elif forced == "named" and any(name != self._plan.forced_name for name in self.names_sent):
                detail = f"tool_choice names {self._plan.forced_name!r}: the model called another tool"
                self.problems.append(_problem("tool_choice_not_forced", None, detail))
        return out

    def stop_parsing(self) -> List[dict]:
        """The upstream sent ``tool_calls`` itself: what the parser held, and no more parsing."""
        self.passthrough = True
        out: List[dict] = []
        if self._parser is not None:
            self._route(self._parser.close(), out)
            if self._current >= 0:
                self._end_call(out)
        return out

    # -- the call rules ----------------------------------------------------

    def _route(self, deltas: List[dict], out: List[dict]) -> None:
        for delta in deltas:
            entries = delta.get("tool_calls")
            if entries is None:
                if self._current >= 0:  # text after a call: its block has ended
                    self._end_call(out)
                out.append(delta)
                continue
            for entry in entries:
                index = entry["index"]
                if index != self._current:
                    if self._current >= 0:
                        self._end_call(out)
                    self._start_call(index, entry, out)
                else:
                    self._add_arguments(entry, out)

    def _start_call(self, index: int, entry: dict, out: List[dict]) -> None:
        self._current = index
        self._name = entry["function"]["name"]
        if not self._plan.parallel and self._claimed:
            self._out_index = _DROPPED
            self._count("dropped")
            detail = "parallel_tool_calls is false: only the first call is kept"
            self.problems.append(_problem("parallel_call_dropped", index, detail))
            return
        # Calls never overlap: the next free index is the number sent so far.
        self._out_index = self.calls_sent
        self._claimed = True
        if self._validators is not None and (self._hold or self._validators.wants(self._name)):
            # Kept to the end of the block, to be checked then (content: JSON at least).
            self._arguments = [entry["function"].get("arguments") or ""]
        if self._hold:
            self._held = [entry]
            return
        self._send(entry, out)

    def _add_arguments(self, entry: dict, out: List[dict]) -> None:
        if self._out_index == _DROPPED:
            return
        if self._arguments is not None:
            self._arguments.append(entry["function"].get("arguments") or "")
        if self._hold:
            self._held.append(entry)
        else:
            self._send(entry, out)

    def _send(self, entry: dict, out: List[dict]) -> None:
        if entry["index"] != self._out_index:
            entry = dict(entry, index=self._out_index)
        if "id" in entry:
            self.calls_sent += 1
            self.names_sent.append(self._name)
            self._count("sent")
        out.append({"tool_calls": [entry]})

    def _end_call(self, out: List[dict]) -> None:
        index, self._current = self._current, -1
        if self._out_index == _DROPPED:
            return
        valid = True
        if self._arguments is not None:
            arguments = "".join(self._arguments)
            self._arguments = None
            valid, problems = self._validators.check(index, self._name, arguments)  # type: ignore[union-attr]
            self.problems.extend(problems)
        if not self._hold:
            if not valid:
                self._count("invalid")
            return
        held, self._held = self._held, []
        if valid:
            head = dict(held[0])
            head["function"] = dict(head["function"], arguments="")
            self._send(head, out)
            arguments = "".join(entry["function"].get("arguments") or "" for entry in held)
            if arguments:
                self._send({"index": held[0]["index"], "function": {"arguments": arguments}}, out)
        else:
            # Back to text, written as a Hermes block (the model's own text is not kept).
            self._claimed = self.calls_sent > 0
            arguments = "".join(entry["function"].get("arguments") or "" for entry in held)
            block = '<tool_call>\n{"name": ' + json.dumps(self._name, ensure_ascii=False) + ', "arguments": ' + (arguments or "{}") + "}\n</tool_call>"
            out.append({"content": block})
            self._count("content")

    def _count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def finish_reason(self, upstream_reason: Any) -> Any:
        """The choice's ``finish_reason``: ``tool_calls`` where a call was sent and the
        upstream stopped, except for a named ``tool_choice``, where OpenAI (and vLLM)
        say ``stop``."""
        if (
            upstream_reason == "stop"
            and self.calls_sent
            and not self.passthrough
            and self._plan.forced != "named"
        ):
            return "tool_calls"
        return upstream_reason


def _problem(kind: str, index: Optional[int], detail: str) -> dict:
    return {"kind": kind, "offset": None, "length": None, "index": index, "detail": detail}


# ---------------------------------------------------------------------------
# Whole answers.


@dataclass
class Outcome:
    """What happened to one response, for the metrics, the log and the header."""

    problems: List[dict] = field(default_factory=list)
    tool_calls: Dict[str, int] = field(default_factory=dict)

    def add(self, choice: Choice) -> None:
        self.problems.extend(choice.problems)
        for outcome, count in choice.outcomes.items():
            self.tool_calls[outcome] = self.tool_calls.get(outcome, 0) + count

    def header(self) -> Optional[str]:
        """``kind=count,...`` for the ``x-hermes-parse-problems`` header, or ``None``."""
        if not self.problems:
            return None
        counts: Dict[str, int] = {}
        for problem in self.problems:
            counts[problem["kind"]] = counts.get(problem["kind"], 0) + 1
        return ",".join(f"{kind}={count}" for kind, count in counts.items())


def translate_completion(response: Dict[str, Any], plan: Plan, settings: Settings) -> Tuple[Dict[str, Any], Outcome]:
    """A ``chat.completion`` with each choice's content parsed into ``tool_calls``."""
    outcome = Outcome()
    choices = response.get("choices")
    if not isinstance(choices, list):
        return response, outcome
    response = dict(response)
    new_choices = []
    for entry in choices:
        message = entry.get("message") if isinstance(entry, dict) else None
        if not isinstance(message, dict) or message.get("tool_calls") or not isinstance(message.get("content"), str):
            new_choices.append(entry)  # the upstream's own calls, or nothing to parse
            continue
        choice = Choice(plan, settings)
        choice.upstream_reasoning = bool(message.get("reasoning") or message.get("reasoning_content"))
        fold = CallFold()
        fold.add(choice.feed(message["content"]))
        fold.add(choice.close(cut=entry.get("finish_reason") == "length"))
        new_message = dict(message)
        new_message["content"] = fold.content
        if fold.reasoning is not None:
            new_message["reasoning"] = fold.reasoning
        calls = fold.calls
        if calls:
            new_message["tool_calls"] = [call.to_openai() for call in calls]
        else:
            new_message.pop("tool_calls", None)
        new_entry = dict(entry, message=new_message)
        new_entry["finish_reason"] = choice.finish_reason(entry.get("finish_reason"))
        if settings.problems_field and choice.problems:
            new_entry[PROBLEMS_FIELD] = {"problems": choice.problems}
        new_choices.append(new_entry)
        outcome.add(choice)
    response["choices"] = new_choices
    return response, outcome


# ---------------------------------------------------------------------------
# Streams.




class StreamTranslator:
    """The upstream's SSE bytes in, the client's out (see the module).

    ``feed(bytes) -> bytes``; ``close()`` when the upstream's stream ended;
    ``fail(message)`` when it broke: an error event and ``[DONE]`` after the
    deltas already sent.  ``first_delta`` / ``first_call`` become true when
    the first content-or-call delta and the first call delta went out (the
    shell times them).
    """

    def __init__(self, plan: Plan, settings: Settings) -> None:
        self._plan = plan
        self._settings = settings
        self._decoder = SSEDecoder()
        self._choices: Dict[int, Choice] = {}
        self._finished: Dict[int, bool] = {}
        self._done = False
        self._envelope: Dict[str, Any] = {}
        self.outcome = Outcome()
        self.first_delta = False
        self.first_call = False
        self.failed = False  # the stream was ended with an error event

    @property
    def done(self) -> bool:
        """``[DONE]`` (or the error event) was sent: nothing more will go out."""
        return self._done

    def feed(self, data: bytes) -> bytes:
        """The client's bytes for the upstream's ``data``."""
        if self._done:
            return b""
        try:
            events = self._decoder.feed(data)
        except (TooLong, UnicodeDecodeError) as exc:
            return self.fail(f"the upstream sent a malformed stream: {exc}")
        out: List[bytes] = []
        for data_text in events:
            out.append(self._event(data_text))
            if self._done:
                break
        return b"".join(out)

    def close(self) -> bytes:
        """The upstream's stream ended; a stream without ``[DONE]`` was cut."""
        if self._done:
            return b""
        try:
            rest = self._decoder.end()
        except UnicodeDecodeError:
            rest = ["\x00"]
        out = [self._event(data_text) for data_text in rest]
        if not self._done:
            out.append(self.fail("the upstream closed the stream before it ended ([DONE] missing)"))
        return b"".join(out)

    def fail(self, message: str, kind: str = "upstream_error", code: Any = 502) -> bytes:
        """End the client's stream: an error event and ``[DONE]``.

        Every delta the parsers completed has gone out; what they hold back
        (the start of a tag, a call whose name was not read yet) is not
        guessed at: the output was cut."""
        if self._done:
            return b""
        for index, choice in self._choices.items():
            if not self._finished.get(index):
                self.outcome.add(choice)
                self._finished[index] = True
        chunks: List[dict] = [error_body(message, kind, code)]
        self._done = True
        self.failed = True
        return self._encode(chunks) + b"data: [DONE]\n\n"

    def _encode(self, chunks: List[dict]) -> bytes:
        return b"".join([b"data: " + dumps(chunk) + b"\n\n" for chunk in chunks])

    # -- one event -----------------------------------------------------------

    def _event(self, data_text: str) -> bytes:
        if data_text.strip() == "[DONE]":
            chunks: List[dict] = []
            self._finish_all(chunks)
            self._done = True
            return self._encode(chunks) + b"data: [DONE]\n\n"
        try:
            chunk = loads(data_text)
        except ValueError:
            return self.fail("the upstream sent an event that is not JSON")
        if not isinstance(chunk, dict):
            return self.fail("the upstream sent an event that is not a JSON object")
        choices = chunk.get("choices")
        if "error" in chunk or not isinstance(choices, list) or not choices:
            # Error events and the usage chunk (choices: []) go out as they
            # came; the usage chunk after every choice's finish.
            chunks = []
            if isinstance(choices, list) and not choices:
                self._finish_all(chunks)
            return self._encode(chunks) + event(data_text)
        self._envelope = {key: value for key, value in chunk.items() if key not in ("choices", "usage")}
        chunks = []
        for entry in choices:
            if isinstance(entry, dict):
                self._choice_entry(entry, chunks)
        usage = chunk.get("usage")
        if usage is not None and chunks:
            chunks[-1]["usage"] = usage  # continuous usage stats: on the last chunk made from this one
        return self._encode(chunks)

    def _chunk(self, choice: Dict[str, Any]) -> Dict[str, Any]:
        chunk = dict(self._envelope)
        chunk["choices"] = [choice]
        return chunk

    def _choice_entry(self, entry: Dict[str, Any], chunks: List[dict]) -> None:
        index = entry.get("index", 0)
        choice = self._choices.get(index)
        if choice is None:
            choice = self._choices[index] = Choice(self._plan, self._settings)
        delta = entry.get("delta") or {}
        if choice.passthrough or delta.get("tool_calls"):
            if not choice.passthrough:
                self._emit(chunks, index, choice.stop_parsing(), {})
            if entry.get("finish_reason") is not None:
                self._finished[index] = True
                self.outcome.add(choice)
            chunks.append(self._chunk(entry))
            return
        if delta.get("reasoning") or delta.get("reasoning_content"):
            choice.upstream_reasoning = True
        text = delta.get("content")
        deltas = choice.feed(text) if isinstance(text, str) and text else []
        rest = {key: value for key, value in delta.items() if key != "content" or value == ""}
        if rest.keys() == {"content"}:
            rest = {}  # an empty piece of text alone: nothing to say
        extra = {key: value for key, value in entry.items() if key not in ("index", "delta", "finish_reason")}
        finish = entry.get("finish_reason")
        if finish is not None:
            deltas.extend(choice.close(cut=finish == "length"))
        if rest or (extra.get("logprobs") is not None and not deltas):
            # The role, the upstream's reasoning, a chunk's logprobs: never lost.
            if deltas:
                deltas[0] = dict(rest, **deltas[0])
            else:
                deltas = [rest]
        self._emit(chunks, index, deltas, extra)
        if finish is not None:
            self._finish(chunks, index, choice, finish, extra)

    def _emit(self, chunks: List[dict], index: int, deltas: List[dict], extra: Dict[str, Any]) -> None:
        for number, delta in enumerate(deltas):
            if "tool_calls" in delta:
                self.first_call = True
                self.first_delta = True
            elif delta.get("content") or delta.get("reasoning"):
                self.first_delta = True
            logprobs = extra.get("logprobs") if number == 0 else None
            chunks.append(self._chunk({"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": None}))

    def _finish(self, chunks: List[dict], index: int, choice: Choice, reason: Any, extra: Dict[str, Any]) -> None:
        entry: Dict[str, Any] = {"index": index, "delta": {}, "logprobs": None}
        entry["finish_reason"] = choice.finish_reason(reason)
        for key, value in extra.items():
            if key != "logprobs":
                entry[key] = value  # stop_reason and the like
        if self._settings.problems_field and choice.problems:
            entry[PROBLEMS_FIELD] = {"problems": choice.problems}
        chunks.append(self._chunk(entry))
        self._finished[index] = True
        self.outcome.add(choice)

    def _finish_all(self, chunks: List[dict]) -> None:
        """Choices the upstream never finished: what their parsers held (no finish_reason)."""
        for index, choice in self._choices.items():
            if not self._finished.get(index):
                if not choice.passthrough:
                    self._emit(chunks, index, choice.close(), {})
                self._finished[index] = True
                self.outcome.add(choice)
