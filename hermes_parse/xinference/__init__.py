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

:class:`HermesToolParser` implements it.  A call goes out once, whole, when its
arguments object has closed (Xinference sends arguments as one
``json.dumps(args)``); content goes out as it is decided.  Per-request state is
keyed on the identity of the ``previous_texts`` list and is freed when the
request ends (see :meth:`HermesToolParser.extract_tool_calls_streaming`), and
the table is bounded anyway (``max_requests``, least recently used first).

Output in the XML form of Qwen3-Coder / Qwen3.5 (``<tool_call><function=f>
<parameter=k>``) is not Hermes JSON: when the first ``<tool_call>`` of an output
is followed by ``<``, that output is handed to Xinference's own ``qwen`` parser.

Activation (opt-in), in every Xinference process: see ``docs/xinference.md``::

    python -m hermes_parse.xinference install [--replace-qwen]

writes a ``.pth`` file into site-packages; it registers ``hermes`` (and, with
``--replace-qwen``, takes over ``qwen``) when Xinference's tool-parser package
is imported.  ``HERMES_PARSE_XINFERENCE=0`` turns it off without uninstalling.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Tuple

import hermes_parse
from hermes_parse import ClosedError, StreamParser

logger = logging.getLogger(__name__)

__all__ = [
    "HermesToolParser",
    "HermesPythonToolParser",
    "register",
    "install_import_hook",
    "NAME",
    "PYTHON_NAME",
    "TOOL_PARSERS_MODULE",
]

NAME = "hermes"
PYTHON_NAME = "hermes_python"
TOOL_PARSERS_MODULE = "xinference.model.llm.tool_parsers"
PTH_NAME = "hermes_parse_xinference.pth"
ENV = "HERMES_PARSE_XINFERENCE"
DEFAULT_MAX_REQUESTS = 1024

_TAG = "<tool_call>"
# Where a request's first <tool_call> shows its format: "{" (or a ``` fence)
# is Hermes JSON, "<" the XML form (<function=...>).
_FIRST_AFTER_TAG = re.compile(r"<tool_call>\s*(\S)")
_JSON_MARKS = re.compile(r'["\\{}\[\]]')

Event = Tuple[Any, ...]


class _Args:
    """One call's argument fragments (json.dumps form) and whether they have closed."""

    __slots__ = ("name", "index", "parts", "depth", "in_string", "escape", "started", "done")

    def __init__(self, name: str, index: int) -> None:
        self.name = name
        self.index = index
        self.parts: List[str] = []
        self.depth = 0
        self.in_string = False
        self.escape = False
        self.started = False
        self.done = False

    def add(self, text: str) -> bool:
        """Add a fragment; True when the arguments value has just closed."""
        if not text or self.done:
            return False
        self.parts.append(text)
        depth, in_string = self.depth, self.in_string
        # self.escape: the index in this fragment of a character escaped by a
        # backslash that ended the previous fragment (0), or -1.
        escaped = 0 if self.escape else -1
        for match in _JSON_MARKS.finditer(text):
            position = match.start()
            if position == escaped:
                continue
            char = match.group()
            if in_string:
                if char == "\\":
                    escaped = position + 1
                elif char == '"':
                    in_string = False
            elif char == '"':
                in_string = True
            elif char in "{[":
                depth += 1
                self.started = True
            else:
                depth -= 1
        self.depth, self.in_string = depth, in_string
        self.escape = escaped == len(text)
        if self.started and depth == 0 and not in_string:
            self.done = True
        return self.done

    def value(self) -> Optional[dict]:
        try:
            value = json.loads("".join(self.parts))
        except ValueError:
            return None
        return value if isinstance(value, dict) else None


def _closed(arguments: str) -> bool:
    """Is ``arguments`` (json.dumps form) a whole JSON object?"""
    args = _Args("", 0)
    return args.add(arguments) and args.value() is not None


class _Request:
    """The state of one streamed request."""

    __slots__ = ("texts", "parser", "seen", "fed", "calls", "mode")

    def __init__(self, texts: list, parser: StreamParser) -> None:
        self.texts = texts  # the request's previous_texts list (held: its id is our key)
        self.parser = parser
        self.seen = 0  # characters of the output seen
        self.fed = 0  # characters of the output given to the parser (some may be kept back)
        self.calls: Dict[int, _Args] = {}
        self.mode: Optional[str] = None  # None: undecided; "hermes"; "fallback"


class HermesToolParser:
    """Xinference tool parser (duck-typed) backed by ``hermes_parse``.

    One instance serves all requests of a model, concurrently.
    """

    #: hermes_parse.parse / StreamParser options.
    parser_options: Dict[str, Any] = {}
    #: Xinference's own parser class for output that is not Hermes JSON (the
    #: XML form); set by :func:`register` to the original ``qwen`` parser.
    fallback_class: Optional[type] = None

    def __init__(self, max_requests: Optional[int] = None) -> None:
        if max_requests is None:
            max_requests = int(os.environ.get(ENV + "_MAX_REQUESTS", DEFAULT_MAX_REQUESTS))
        self.max_requests = max(1, max_requests)
        self._requests: "OrderedDict[int, _Request]" = OrderedDict()
        self._lock = threading.Lock()
        self._fallback = None
        if self.fallback_class is not None:
            try:
                self._fallback = self.fallback_class()
            except Exception:  # pragma: no cover - a parser we do not know
                logger.exception("hermes-parse: could not build the fallback tool parser")

    # -- whole output ---------------------------------------------------------
    def extract_tool_calls(self, model_output: str) -> List[Event]:
        if self._fallback is not None and self._is_xml(model_output):
            return self._fallback.extract_tool_calls(model_output)
        message = hermes_parse.parse(model_output, **self.parser_options)
        if message.problems:
            logger.debug("hermes-parse problems: %s", message.problems)
        events: List[Event] = []
        if message.content is not None:
            events.append((message.content, None, None))
        for call in message.tool_calls:
            args = _Args(call.name, call.index)
            args.add(call.arguments)
            value = args.value() if args.done else None
            if value is None:
                self._dropped(call.name, call.arguments)
                continue
            events.append((None, call.name, value))
        if not events:
            # Xinference then takes the whole text as content.
            return [(model_output, None, None)]
        return events

    @staticmethod
    def _is_xml(text: str) -> bool:
        match = _FIRST_AFTER_TAG.search(text)
        return match is not None and match.group(1) == "<"

    @staticmethod
    def _dropped(name: str, arguments: str) -> None:
        logger.warning(
            "hermes-parse: tool call %r dropped: its arguments are not a whole JSON object "
            "(%d characters); Xinference can only send whole arguments",
            name,
            len(arguments),
        )

    # -- streaming ------------------------------------------------------------
    def extract_tool_calls_streaming(self, previous_texts, current_text: str, delta_text: str):
        """One delta of a request.  ``previous_texts`` identifies the request.

        The request's state is dropped when it ends: when the chunk carries a
        ``finish_reason`` (read from Xinference's ``_post_process_completion_chunk``,
        the caller), or, for a request that ended otherwise (client gone, output
        ending inside reasoning), when its ``previous_texts`` list is no longer
        referenced by anyone but this table (checked when a request starts);
        and the table never holds more than ``max_requests`` requests.
        """
        finished = _caller_finish_reason() is not None
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
                    request.calls = {}
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
            request = _Request(previous_texts, StreamParser(**self.parser_options))
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
        if request.mode == "fallback":
            return self._fallback_step(previous_texts, current_text, delta_text)
        start = request.fed
        if request.mode is None:
            tag = current_text.find(_TAG, max(0, start - len(_TAG)))
            if tag == -1:
                # No tag yet: keep back what could be the start of one.
                end = len(current_text)
                keep = _prefix_at_end(current_text)
                events = self._feed(request, current_text[start : end - keep])
                request.fed = max(start, end - keep)
                return events
            match = _FIRST_AFTER_TAG.match(current_text, tag)
            if match is None:
                # The format is not shown yet: give what precedes the tag.
                events = self._feed(request, current_text[start:tag]) if tag > start else []
                request.fed = max(start, tag)
                return events
            if match.group(1) == "<" and self._fallback is not None:
                events = self._feed(request, current_text[start:tag]) if tag > start else []
                events += self._close(request)
                request.mode = "fallback"
                request.fed = len(current_text)
                return events + self._fallback_step(
                    [current_text[:tag]], current_text, current_text[tag:]
                )
            request.mode = "hermes"
        events = self._feed(request, current_text[start:])
        request.fed = len(current_text)
        return events

    def _fallback_step(self, previous_texts, current_text: str, delta_text: str) -> List[Event]:
        if previous_texts is None:  # replaying
            return []
        result = self._fallback.extract_tool_calls_streaming(previous_texts, current_text, delta_text)
        if result is None:
            return []
        return list(result) if isinstance(result, list) else [result]

    def _feed(self, request: _Request, text: str) -> List[Event]:
        if not text:
            return []
        try:
            deltas = request.parser.feed(text)
        except ClosedError:  # pragma: no cover - fed after its end
            return [(text, None, None)]
        return self._events(request, deltas)

    def _close(self, request: _Request) -> List[Event]:
        if request.parser.closed:
            return []
        events = self._events(request, request.parser.close())
        if request.parser.problems:
            logger.debug("hermes-parse problems: %s", request.parser.problems)
        return events

    def _finish(self, request: _Request, text: str) -> List[Event]:
        if request.mode == "fallback":
            return []
        # Undecided: what was kept back (a piece of "<tool_call>") goes in now.
        events = self._feed(request, text[request.fed :]) if request.mode is None else []
        return events + self._close(request)

    def _events(self, request: _Request, deltas: list) -> List[Event]:
        events: List[Event] = []
        content: List[str] = []
        for delta in deltas:
            text = delta.get("content")
            if text is not None:
                content.append(text)
                continue
            for call in delta["tool_calls"]:
                index = call["index"]
                function = call["function"]
                if "id" in call:
                    request.calls[index] = _Args(function["name"], index)
                args = request.calls[index]
                if args.add(function.get("arguments") or ""):
                    value = args.value()
                    if content:
                        events.append(("".join(content), None, None))
                        content = []
                    if value is None:
                        self._dropped(args.name, "".join(args.parts))
                    else:
                        events.append((None, args.name, value, index))
                    del request.calls[index]
        if content:
            events.append(("".join(content), None, None))
        if request.parser.closed and request.calls:
            for args in request.calls.values():
                self._dropped(args.name, "".join(args.parts))
            request.calls.clear()
        return events


class HermesPythonToolParser(HermesToolParser):
    """The same, reading Python dict literals too (``python_literals=True``)."""

    parser_options = {"python_literals": True}


def _prefix_at_end(text: str) -> int:
    """Length of the longest proper prefix of ``<tool_call>`` that ends ``text``."""
    for length in range(min(len(_TAG) - 1, len(text)), 0, -1):
        if text.endswith(_TAG[:length]):
            return length
    return 0


def _caller_finish_reason() -> Optional[str]:
    """The ``finish_reason`` of the chunk being converted, when the caller is
    Xinference's ``_post_process_completion_chunk`` (4.1.0 reads it into a local
    before calling the tool parser); None otherwise."""
    try:
        frame = sys._getframe(2)
    except ValueError:  # pragma: no cover
        return None
    if frame.f_code.co_name != "_post_process_completion_chunk":
        return None
    return frame.f_locals.get("finish_reason") or None


# -- registration -------------------------------------------------------------
def register(module=None, replace_qwen: bool = False) -> None:
    """Register ``hermes`` and ``hermes_python`` in Xinference's ``TOOL_PARSERS``;
    with ``replace_qwen``, ``qwen`` too (the original ``qwen`` parser stays the
    fallback for the XML form).  Idempotent."""
    if module is None:
        import importlib

        module = importlib.import_module(TOOL_PARSERS_MODULE)
    parsers = module.TOOL_PARSERS
    original = parsers.get("qwen")
    while original is not None and issubclass(original, HermesToolParser):
        original = original.fallback_class
    attrs = {"fallback_class": original, "__module__": __name__}
    parsers[NAME] = type("XinferenceHermesToolParser", (HermesToolParser,), attrs)
    parsers[PYTHON_NAME] = type("XinferenceHermesPythonToolParser", (HermesPythonToolParser,), attrs)
    if replace_qwen and original is not None:
        parsers["qwen"] = type("XinferenceQwenHermesToolParser", (HermesToolParser,), attrs)
    logger.info(
        "hermes-parse %s (%s) registered Xinference tool parsers %s",
        hermes_parse.__version__,
        hermes_parse.BACKEND,
        ", ".join(repr(n) for n in (NAME, PYTHON_NAME) + (("qwen",) if replace_qwen else ())),
    )


class _Finder:
    """A meta-path finder that registers our parsers right after Xinference's
    tool-parser package has been executed (it only wraps that one import)."""

    def __init__(self, replace_qwen: bool) -> None:
        self.replace_qwen = replace_qwen

    def find_spec(self, fullname, path=None, target=None):
        if fullname != TOOL_PARSERS_MODULE:
            return None
        from importlib.machinery import PathFinder

        spec = PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.loader is None:
            return None
        loader = spec.loader
        exec_module = loader.exec_module
        replace_qwen = self.replace_qwen

        def exec_and_register(module):
            exec_module(module)
            try:
                register(module, replace_qwen=replace_qwen)
            except Exception:  # never break Xinference's import
                logger.exception("hermes-parse: registering the Xinference tool parsers failed")

        loader.exec_module = exec_and_register
        return spec


def install_import_hook(replace_qwen: bool = False) -> None:
    """Register now if Xinference's tool-parser package is loaded, else as soon as it is."""
    module = sys.modules.get(TOOL_PARSERS_MODULE)
    if module is not None and hasattr(module, "TOOL_PARSERS"):
        register(module, replace_qwen=replace_qwen)
        return
    for finder in sys.meta_path:
        if isinstance(finder, _Finder):
            finder.replace_qwen = replace_qwen
            return
    sys.meta_path.insert(0, _Finder(replace_qwen))


def _pth_startup(replace_qwen: bool) -> None:
    """What the ``.pth`` line runs at interpreter start-up."""
    setting = os.environ.get(ENV, "")
    if setting == "0":
        return
    if setting == "qwen":
        replace_qwen = True
    elif setting == "hermes":
        replace_qwen = False
    install_import_hook(replace_qwen=replace_qwen)


def _pth_line(replace_qwen: bool) -> str:
    return (
        "import hermes_parse.xinference as _hermes_parse_xinference; "
        f"_hermes_parse_xinference._pth_startup({bool(replace_qwen)})\n"
    )


def _site_dir() -> str:
    import sysconfig

    return sysconfig.get_paths()["purelib"]


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m hermes_parse.xinference",
        description="Activate hermes-parse in every Xinference process of this Python environment.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    install = sub.add_parser("install", help=f"write {PTH_NAME} into site-packages")
    install.add_argument("--replace-qwen", action="store_true", help="take over the 'qwen' tool parser too")
    install.add_argument("--site", help="the site-packages directory (default: this Python's)")
    uninstall = sub.add_parser("uninstall", help=f"remove {PTH_NAME}")
    uninstall.add_argument("--site")
    status = sub.add_parser("status", help="say whether it is installed")
    status.add_argument("--site")
    args = parser.parse_args(argv)
    path = os.path.join(args.site or _site_dir(), PTH_NAME)
    if args.command == "install":
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(_pth_line(args.replace_qwen))
        print(f"wrote {path}: registers {NAME!r}" + (" and takes over 'qwen'" if args.replace_qwen else ""))
    elif args.command == "uninstall":
        if os.path.exists(path):
            os.remove(path)
            print(f"removed {path}")
        else:
            print(f"not installed ({path} does not exist)")
    else:
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                print(f"installed: {path}: {handle.read().strip()}")
        else:
            print(f"not installed ({path} does not exist)")
            return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
