"""Xinference tool parser backed by ``hermes_parse.StreamParser``.

Xinference (checked on 4.1.0) parses tool calls itself, with one parser object
per model, shared by all of that model's requests, looked up by name in the
plain dict ``xinference.model.llm.tool_parsers.TOOL_PARSERS``.  The interface
is duck-typed:

* ``extract_tool_calls(model_output) -> [(content, name, args_dict), ...]``
* ``extract_tool_calls_streaming(previous_texts, current_text, delta_text)``
  returns ``None``, one ``(content, name, args)`` / ``(content, name, args,
  index)`` tuple, or a list of them.  ``previous_texts`` is a one-element list
  that Xinference creates for each request (``[""]``) and updates after each
  call (``previous_texts[-1] = current_text``).

:class:`HermesToolParser` implements it.  A call goes out once, whole, when the
parser says its block has ended (``StreamParser.calls_finished``, folded by
``hermes_parse.CallFold``): Xinference sends arguments as one
``json.dumps(args)``.  Content goes out as it is decided.  Per-request state is
keyed on the identity of the ``previous_texts`` list and is freed when the
request ends (see :meth:`HermesToolParser.extract_tool_calls_streaming`), and
the table is bounded anyway (``max_requests``, least recently used first).

Every block is read in the dialect its first character shows (``dialect="auto"``):
Hermes JSON, the XML form of Qwen3-Coder / Qwen3.5 / Qwen3.6 (``<tool_call>
<function=f><parameter=k>``, also without ``<tool_call>``) or GLM's; the XML
values are typed by the request's tools, which Xinference (4.1.0) keeps in its
``request_tools_var`` context variable for the parser to read.

Activation (opt-in), in every Xinference process: see ``docs/xinference.md``::

    python -m hermes_parse.xinference install [--replace-qwen]   # status, uninstall

writes a one-line ``.pth`` file and the start-up hook it imports
(``_hook.py``, which imports nothing) into site-packages; the hook registers
``hermes`` (and, with ``--replace-qwen``, takes over ``qwen``) when
Xinference's tool-parser package is imported.  ``HERMES_PARSE_XINFERENCE=0``
turns it off without uninstalling.  The command is in ``__main__.py``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Tuple

import hermes_parse
from hermes_parse import CallFold, ClosedError, StreamParser

from . import _hook
from ._hook import ENV, TOOL_PARSERS_MODULE

logger = logging.getLogger(__name__)

__all__ = [
    "HermesToolParser",
    "HermesPythonToolParser",
    "register",
    "install_import_hook",
    "main",
    "NAME",
    "PYTHON_NAME",
    "TOOL_PARSERS_MODULE",
]

NAME = "hermes"
PYTHON_NAME = "hermes_python"
PTH_NAME = "hermes_parse_xinference.pth"
HOOK_NAME = "_hermes_parse_xinference"  # the module _hook.py is copied as, beside PTH_NAME
DEFAULT_MAX_REQUESTS = 1024

# Where Xinference keeps the request's tools while it calls a tool parser.
_TOOLS_MODULE = TOOL_PARSERS_MODULE + ".abstract_tool_parser"

Event = Tuple[Any, ...]


def _arguments_object(arguments: str) -> Optional[dict]:
    """The arguments as the dict Xinference sends (``json.dumps``-ed again by
    Xinference), or None when they are not a whole JSON object (a call cut by
    ``max_tokens``: Xinference can only send whole arguments)."""
    try:
        value = json.loads(arguments)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class _Request:
    """The state of one streamed request."""

    __slots__ = ("texts", "parser", "seen", "fold")

    def __init__(self, texts: list, parser: StreamParser) -> None:
        # The request's previous_texts list (held: its id is our key); None once evicted.
        self.texts: Optional[list] = texts
        # The parser and the calls (tool-call deltas only); None once the
        # request has ended (a tombstone): nothing is fed to it any more.
        self.parser: Optional[StreamParser] = parser
        self.seen = 0  # characters of the output given to the parser
        self.fold: Optional[CallFold] = CallFold()


class HermesToolParser:
    """Xinference tool parser (duck-typed) backed by ``hermes_parse``.

    One instance serves all requests of a model, concurrently.
    """

    #: hermes_parse.parse / StreamParser options (the request's tools are added).
    parser_options: Dict[str, Any] = {"dialect": "auto"}

    def __init__(self, max_requests: Optional[int] = None) -> None:
        if max_requests is None:
            max_requests = int(os.environ.get(ENV + "_MAX_REQUESTS", DEFAULT_MAX_REQUESTS))
        self.max_requests = max(1, max_requests)
        self._requests: "OrderedDict[int, _Request]" = OrderedDict()
        self._lock = threading.Lock()

    # -- whole output ---------------------------------------------------------
    def extract_tool_calls(self, model_output: str) -> List[Event]:
        message = hermes_parse.parse(model_output, tools=_request_tools(), **self.parser_options)
        if message.problems:
            logger.debug("hermes-parse problems: %s", message.problems)
        events: List[Event] = []
        if message.content is not None:
            events.append((message.content, None, None))
        for call in message.tool_calls:
            value = _arguments_object(call.arguments)
            if value is None:
                self._dropped(call.name, call.arguments)
                continue
            events.append((None, call.name, value))
        if not events:
            # Xinference then takes the whole text as content.
            return [(model_output, None, None)]
        return events

    @staticmethod
    def _dropped(name: str, arguments: str) -> None:
        logger.warning(
            "hermes-parse: tool call %r dropped: its arguments are not a whole JSON object "
            "(%d characters); Xinference can only send whole arguments",
            name,
            len(arguments),
        )

    # -- streaming ------------------------------------------------------------
    def extract_tool_calls_streaming(
        self, previous_texts, current_text: str, delta_text: str, finish_reason: Optional[str] = None
    ):
        """One delta of a request.  ``previous_texts`` identifies the request.

        ``finish_reason`` (not None on the request's last chunk) closes the
        parser: what it still held comes out (a ``<tool_`` at the very end, a
        call whose ``</tool_call>`` never came).  Xinference 4.1.0 does not pass
        it: it is then read from the caller, ``_post_process_completion_chunk``
        (see :func:`_caller_finish_reason` for why there is no other way).

        The request's state is dropped when it ends: on its ``finish_reason``,
        or, for a request that ended otherwise (client gone, output ending
        inside reasoning), when its ``previous_texts`` list is no longer
        referenced by anyone but this table (checked when a request starts);
        and the table never holds more than ``max_requests`` requests.
        """
        if finish_reason is None:
            finish_reason = _caller_finish_reason()
        finished = finish_reason is not None
        request = self._request(previous_texts, current_text, delta_text)
        if request.parser is None:
            # Ended already (Xinference's vLLM backend sends the output again
            # with the finish_reason, then an empty final chunk).
            events = []
        else:
            try:
                events = self._step(request, previous_texts, current_text, delta_text)
                request.seen = len(current_text)
                if finished:
                    events += self._finish(request, current_text)
            finally:
                if finished:
                    # Keep a tombstone (no parser) until the list is gone.
                    request.parser = None
                    request.fold = None
        if not events:
            return None
        if len(events) == 1:
            return events[0]
        return events

    def _request(self, previous_texts, current_text: str, delta_text: str) -> _Request:
        key = id(previous_texts)
        known = len(current_text) - len(delta_text)  # the previous text's length
        with self._lock:
            request = self._requests.get(key)
            if request is not None and request.texts is previous_texts and (
                request.parser is None or request.seen == known
            ):
                self._requests.move_to_end(key)
                return request
            # A new request (or one whose texts we lost track of).
            self._sweep()
            parser = StreamParser(tools=_request_tools(), **self.parser_options)
            request = _Request(previous_texts, parser)
            self._requests[key] = request
            while len(self._requests) > self.max_requests:
                _, old = self._requests.popitem(last=False)
                logger.debug("hermes-parse: request state evicted (max_requests=%d)", self.max_requests)
                old.texts = None
        if known > 0:
            # Joining a request in the middle (a caller that builds a new list
            # for each delta): replay what came before, without its events.
            previous = current_text[:known]
            self._step(request, None, previous, previous)
            request.seen = known
        return request

    def _sweep(self) -> None:
        """Drop requests whose previous_texts list nobody else holds any more (CPython)."""
        dead = [key for key, request in self._requests.items() if sys.getrefcount(request.texts) <= 2]
        for key in dead:
            del self._requests[key]

    def active_requests(self) -> int:
        """How many requests have state here (for tests and monitoring)."""
        with self._lock:
            return len(self._requests)

    def _step(self, request: _Request, previous_texts, current_text: str, delta_text: str) -> List[Event]:
        """The events of the output's new text (``current_text`` past what was seen)."""
        return self._feed(request, current_text[request.seen :])

    def _feed(self, request: _Request, text: str) -> List[Event]:
        if not text:
            return []
        assert request.parser is not None  # parse() feeds live requests only
        try:
            deltas = request.parser.feed(text)
        except ClosedError:  # pragma: no cover - fed after its end
            return [(text, None, None)]
        return self._events(request, deltas)

    def _close(self, request: _Request) -> List[Event]:
        assert request.parser is not None  # parse() closes live requests only
        if request.parser.closed:
            return []
        events = self._events(request, request.parser.close())
        if request.parser.problems:
            logger.debug("hermes-parse problems: %s", request.parser.problems)
        return events

    def _finish(self, request: _Request, text: str) -> List[Event]:
        return self._close(request)

    def _events(self, request: _Request, deltas: list) -> List[Event]:
        """Content as it comes, and each call once, whole, when its block has
        ended (``calls_finished``), in the order of the output: a call's block
        has ended before any content or any later call that follows it."""
        fold = request.fold
        assert request.parser is not None and fold is not None  # a live request (_feed, _close)
        finished = request.parser.calls_finished
        events: List[Event] = []
        content: List[str] = []

        def calls_up_to(count: int) -> None:
            calls = fold.finish(min(count, finished))
            if not calls:
                return
            if content:
                events.append(("".join(content), None, None))
                content.clear()
            for call in calls:
                value = _arguments_object(call.arguments)
                if value is None:
                    self._dropped(call.name, call.arguments)
                else:
                    events.append((None, call.name, value, call.index))

        for delta in deltas:
            text = delta.get("content")
            if text is not None:
                calls_up_to(len(fold))  # every call started so far has ended
                content.append(text)
                continue
            entries = delta.get("tool_calls")
            if not entries:  # e.g. {"reasoning": ...}: not asked for here (Xinference splits it)
                continue
            if "id" in entries[0]:
                calls_up_to(entries[0]["index"])  # the calls before this one have ended
            fold.add((delta,))
        calls_up_to(finished)
        if content:
            events.append(("".join(content), None, None))
        return events


class HermesPythonToolParser(HermesToolParser):
    """The same, reading Python dict literals too (``python_literals=True``)."""

    parser_options = {"dialect": "auto", "python_literals": True}


def _request_tools() -> Optional[list]:
    """The tools of the request being parsed: Xinference (4.1.0) sets its
    ``request_tools_var`` context variable around each call of a tool parser;
    ``None`` where it does not (the XML values are then strings)."""
    module = sys.modules.get(_TOOLS_MODULE)
    variable = getattr(module, "request_tools_var", None)
    if variable is None:
        return None
    try:
        return variable.get()
    except LookupError:  # pragma: no cover - a context variable without default
        return None


# -- the one place that reads Xinference's frame --------------------------------
def _caller_finish_reason() -> Optional[str]:
    """The ``finish_reason`` of the chunk being converted, read from the caller
    when it is Xinference's ``_post_process_completion_chunk``; None otherwise.

    Why a frame is read: a tool parser must know when a request's output has
    ended (the parser then closes: see ``extract_tool_calls_streaming``), and
    Xinference 4.1.0 does not tell it.  ``_post_process_completion_chunk``
    (``xinference/model/llm/utils.py``) reads ``finish_reason`` from the chunk
    into a local and calls ``self.tool_parser.extract_tool_calls_streaming(
    previous_texts, current_text, delta_text)``: the chunk is not passed, the
    only other per-call state it sets is the ``request_tools_var`` context
    variable (the request's tools), and no end-of-stream call exists.  The
    arguments cannot tell the last chunk either (an empty ``delta_text`` also
    comes mid-stream, e.g. from reasoning chunks).  The alternative, wrapping
    ``ChatModelMixin._post_process_completion_chunk``, would patch Xinference
    for every model and parser and depend on the same internals.  So: one
    frame up from our ``extract_tool_calls_streaming``, only when the function
    is that one (by name), the local ``finish_reason``; anything else gives
    None, and the request state is then freed by the sweep instead.
    tests/test_xinference.py checks that the real Xinference still has it.
    A caller that knows the end passes ``finish_reason=`` and skips this."""
    try:
        frame = sys._getframe(2)  # 0: here, 1: extract_tool_calls_streaming, 2: its caller
    except ValueError:  # pragma: no cover
        return None
    if frame.f_code.co_name != "_post_process_completion_chunk":
        return None
    return frame.f_locals.get("finish_reason") or None


# -- registration -------------------------------------------------------------
def register(module=None, replace_qwen: bool = False) -> None:
    """Register ``hermes`` and ``hermes_python`` in Xinference's ``TOOL_PARSERS``;
    with ``replace_qwen``, ``qwen`` too (our parser reads the Qwen3-Coder /
    Qwen3.5 XML form itself).  Idempotent."""
    if module is None:
        import importlib

        module = importlib.import_module(TOOL_PARSERS_MODULE)
    parsers = module.TOOL_PARSERS
    attrs = {"__module__": __name__}
    parsers[NAME] = type("XinferenceHermesToolParser", (HermesToolParser,), attrs)
    parsers[PYTHON_NAME] = type("XinferenceHermesPythonToolParser", (HermesPythonToolParser,), attrs)
    if replace_qwen:
        parsers["qwen"] = type("XinferenceQwenHermesToolParser", (HermesToolParser,), attrs)
    logger.info(
        "hermes-parse %s (%s) registered Xinference tool parsers %s",
        hermes_parse.__version__,
        hermes_parse.BACKEND,
        ", ".join(repr(n) for n in (NAME, PYTHON_NAME) + (("qwen",) if replace_qwen else ())),
    )


def install_import_hook(replace_qwen: bool = False) -> None:
    """Register now if Xinference's tool-parser package is loaded, else as soon as it is."""
    _hook.install(replace_qwen)


def _pth_startup(replace_qwen: bool) -> None:
    """What the ``.pth`` line of hermes-parse <= 0.1.0 runs at start-up
    (``import hermes_parse.xinference ...; ..._pth_startup(False)``): kept so an
    older install goes on working; ``install`` replaces that line by one that
    imports nothing."""
    _hook.start(replace_qwen)


def main(argv=None) -> int:
    """``python -m hermes_parse.xinference install|status|uninstall`` (``__main__.py``)."""
    from .__main__ import main as command

    return command(argv)
