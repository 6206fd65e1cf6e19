"""Records for the ``hermes-parse`` command: formats, text fields, messages.

A *record* is one completion: the whole of a plain-text input, one line of
JSON Lines (or the one object of a pretty-printed JSON document, or each
element of a JSON array), or one captured SSE stream (``data:`` lines up to
``data: [DONE]``).  ``Extractor.message`` turns a record's text into the OpenAI
assistant message, the very dict ``hermes_parse.parse(text).to_openai()``
gives (tests/test_cli.py checks it against ``parse`` and ``Message.from_deltas``).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from types import FrameType
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from .. import CallFold, StreamParser, parse, parse_many, random_call_id, seeded_ids
from . import jsonio
from .io import Reporter, Source

TAG = "<tool_call>"
DONE = object()
BAD_LINE = object()  # a JSON Lines line that is not JSON (already reported)

# The text of a JSON record: the first present of these (issue 6).
DEFAULT_FIELDS = (
    "choices.0.message.content",
    "choices.0.text",
    "completion",
    "output",
    "response",
    "text",
    "content",
)
# Problem kinds that mean the model wrote a call badly (as opposed to calling a
# tool that is not declared, or with arguments its schema refuses).
MALFORMED = frozenset(
    (
        "not_a_call",
        "invalid_json",
        "invalid_arguments",
        "duplicate_key",
        "trailing_text",
        "truncated",
    )
)

# orjson when installed, else json (jsonio): the same values, the same bytes out.
_loads = jsonio.loads
_JSONDecodeError = jsonio.DecodeError


class BadRecord(Exception):
    """The record cannot be used (its message says why); it is reported and skipped."""


class TooDeep(BadRecord):
    """JSON with arrays and objects nested more than ``MAX_DEPTH`` deep: a bad
    record like a line that is not JSON (orjson refuses it; Python's ``json``
    would recurse past its limit)."""


MAX_DEPTH = 1024  # orjson's: the same records are read with or without it
TOO_DEEP = f"nested too deeply (arrays and objects more than {MAX_DEPTH:,} levels deep)"
# Room for json.loads and json.dumps to go MAX_DEPTH levels below the caller.
_ROOM = MAX_DEPTH + 200


def _with_room(function: Callable[[Any], Any], value: Any) -> Any:
    """``function(value)`` with the recursion limit ``_ROOM`` above the current
    depth; ``TooDeep`` if that is still not enough."""
    limit = sys.getrecursionlimit()
    depth = 0
    frame: Optional[FrameType] = sys._getframe()
    while frame is not None:
        depth += 1
        frame = frame.f_back
    sys.setrecursionlimit(max(limit, depth + _ROOM))
    try:
        return function(value)
    except RecursionError:
        raise TooDeep(TOO_DEEP) from None
    finally:
        sys.setrecursionlimit(limit)


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` has arrays and objects nested more than ``limit`` deep."""
    pending = [(value, 1)]
    while pending:
        value, level = pending.pop()
        if type(value) is dict:
            items: Any = value.values()
        elif type(value) is list:
            items = value
        else:
            continue
        if level > limit:
            return True
        pending.extend((item, level + 1) for item in items if type(item) in (dict, list))
    return False


def dumps_line(value: Any) -> bytes:
    """One line of JSON (UTF-8, compact, ``\\n``-terminated), as jq reads it.

    orjson refuses lone surrogates and integers beyond 64 bits, which a record
    read by ``json.loads`` may hold; those records go through ``json.dumps``
    (``jsonio.dumps`` refuses the same values without orjson).
    """
    try:
        return jsonio.dumps(value)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        try:
            return _dumps_std(value)
        except RecursionError:
            # Deeper than orjson writes (254) and than Python's recursion limit
            # allows here: a record that was read (at most MAX_DEPTH levels) is
            # written with room.
            return _with_room(_dumps_std, value)


def _dumps_std(value: Any) -> bytes:
    try:
        return (json.dumps(value, ensure_ascii=False) + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(value) + "\n").encode("ascii")


def write_lines(write: Callable[[bytes], Any], values: List[Any]) -> None:
    """``write`` the ``dumps_line`` of each of ``values``."""
    dumps = jsonio.dumps
    for value in values:
        try:
            write(dumps(value))
        except TypeError:  # what orjson refuses (orjson.JSONEncodeError is one)
            write(dumps_line(value))


def loads_slow(raw: bytes) -> Any:
    """``json.loads`` for what orjson refuses but Python accepts (NaN, lone
    surrogate escapes, integers beyond 64 bits); ``BadRecord`` otherwise
    (``TooDeep`` for arrays and objects nested more than ``MAX_DEPTH`` deep,
    which orjson refuses too)."""
    try:
        try:
            value = json.loads(raw)
        except RecursionError:
            # Deeper than Python's recursion limit allows here; read again
            # with room for MAX_DEPTH levels (what orjson reads).
            value = _with_room(json.loads, raw)
    except UnicodeDecodeError:
        raise BadRecord("not valid UTF-8") from None
    except ValueError as exc:
        raise BadRecord(f"not JSON ({exc})") from None
    # Checked whatever the recursion limit is (another library may have raised
    # it): no more than MAX_DEPTH levels, as orjson.
    if _deeper_than(value, MAX_DEPTH):
        raise TooDeep(TOO_DEEP)
    return value


# ---------------------------------------------------------------------------
# Formats.


PARQUET_MAGIC = b"PAR1"  # the first (and last) four bytes of a Parquet file


def detect(head: bytes) -> str:
    """Guess the format of an input from its start: ``parquet``, ``sse``,
    ``jsonl``, ``json`` (one JSON document: an object, maybe pretty-printed,
    or an array), ``text``, or ``empty``."""
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    start = head.lstrip()
    if not start:
        return "empty"
    first_line = start.split(b"\n", 1)[0].rstrip(b"\r")
    if first_line.startswith(b"data:"):
        return "sse"
    if first_line.startswith((b"event:", b"id:", b"retry:", b":")) and (
        b"\ndata:" in start or b"\rdata:" in start
    ):
        return "sse"
    if start[:1] in b'{["':
        try:
            value = _loads(first_line)
        except _JSONDecodeError:
            try:
                value = loads_slow(first_line)
            except TooDeep:
                # A whole object on the first line, too deep to read: a bad
                # record of JSON Lines (not a document to read whole and lose).
                if first_line.startswith(b"{") and first_line.rstrip().endswith(b"}"):
                    return "jsonl"
                value = None
            except BadRecord:
                value = None
        if isinstance(value, (dict, str)):
            return "jsonl"
        if start[:1] in b"{[":
            return "json"
    return "text"


class FieldPath:
    """A dotted path such as ``choices.0.message.content``: keys of objects,
    indices of arrays."""

    def __init__(self, dotted: str) -> None:
        self.dotted = dotted
        self.parts = []
        for part in dotted.split("."):
            try:
                number: Optional[int] = int(part)
            except ValueError:
                number = None
            self.parts.append((part, number))

    def get(self, value: Any, default: Any = None) -> Any:
        """The value at the path, or ``default`` when any step is missing."""
        for key, number in self.parts:
            if type(value) is dict:
                if key not in value:
                    return default
                value = value[key]
            elif type(value) is list and number is not None:
                if not -len(value) <= number < len(value):
                    return default
                value = value[number]
            else:
                return default
        return value


_MISSING = object()
NO_CALLS: List[dict] = []  # never modified
_JSON_TYPES: Dict[type, str] = {dict: "object", list: "array", str: "string"}


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return _JSON_TYPES.get(type(value), type(value).__name__)


def as_text(value: Any, where: str) -> str:
    """A field's value as text: a string, ``null`` (empty), or OpenAI content
    parts (``[{"type": "text", "text": ...}]``, their texts joined)."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if type(value) is list and all(type(part) is dict for part in value):
        texts = [part.get("text") for part in value if part.get("type") == "text"]
        if all(type(text) is str for text in texts):
            return "".join(texts)
    kind = _json_type(value)
    raise BadRecord(f"{where} is {'an' if kind[0] in 'aeiou' else 'a'} {kind}, not a string")


def chat_message(record: Any, choice: int = 0) -> Optional[dict]:
    """The ``message`` of a ``chat.completion`` response's choice, or None."""
    if type(record) is dict:
        choices = record.get("choices")
        if type(choices) is list and len(choices) > choice:
            entry = choices[choice]
            if type(entry) is dict:
                message = entry.get("message")
                if type(message) is dict:
                    return message
    return None


def existing_calls(message: dict) -> List[dict]:
    """The ``tool_calls`` a server already parsed into ``message``."""
    calls = message.get("tool_calls")
    if not calls:
        return []
    if type(calls) is not list or not all(type(call) is dict for call in calls):
        raise BadRecord("message.tool_calls is not a list of objects")
    return calls


# Where a server that split the reasoning off put it: vLLM's field, then its
# older name (which DeepSeek's API and SGLang use).
REASONING_FIELDS = ("reasoning", "reasoning_content")


def server_reasoning(holder: Any) -> Optional[str]:
    """The reasoning a server already split off, in a message or a delta: the
    first of ``REASONING_FIELDS`` that is a string (even empty); None when
    none is (absent or null: the server did not split)."""
    if type(holder) is dict:
        for key in REASONING_FIELDS:
            value = holder.get(key)
            if type(value) is str:
                return value
    return None


def stream_reasoning(events: list, choice: int = 0) -> Optional[str]:
    """The reasoning deltas of one choice of a captured stream, joined; None
    when the server sent none (it did not split)."""
    parts: List[str] = []
    seen = False
    for entry in choice_entries(events, choice):
        text = server_reasoning(entry.get("delta"))
        if text is not None:
            seen = True
            parts.append(text)
    return "".join(parts) if seen else None


def choice_entries(events: list, choice: int) -> Iterator[dict]:
    """The ``choices`` entries of one choice in a captured stream's chunks."""
    for _, chunk, _ in events:
        if type(chunk) is not dict:
            continue
        for entry in chunk.get("choices") or ():
            if type(entry) is dict and entry.get("index", 0) == choice:
                yield entry


def default_text(record: Any) -> Tuple[str, List[dict]]:
    """The text of a record and the tool calls it already has, from the first
    present of ``DEFAULT_FIELDS`` (a JSON string record is the text itself)."""
    # The two common cases first, quickly: a bare {"completion": ...} record,
    # and a chat.completion response whose message has no tool calls.
    if type(record) is dict:
        choices = record.get("choices")
        if choices is None:
            text = record.get("completion")
            if type(text) is str:
                return text, NO_CALLS
        elif type(choices) is list and choices and type(choices[0]) is dict:
            message = choices[0].get("message")
            if type(message) is dict:
                content = message.get("content")
                if type(content) is str and not message.get("tool_calls"):
                    return content, NO_CALLS
    if type(record) is str:
        return record, NO_CALLS
    if type(record) is not dict:
        raise BadRecord(f"a JSON {_json_type(record)}, not an object or a string")
    message = chat_message(record)
    if message is not None:
        content = message.get("content")
        return as_text(content, "choices.0.message.content"), existing_calls(message)
    choices = record.get("choices")
    if type(choices) is list and choices and type(choices[0]) is dict:
        text = choices[0].get("text", _MISSING)
        if text is not _MISSING and text is not None:
            return as_text(text, "choices.0.text"), []
    empty = False
    for key in DEFAULT_FIELDS[2:]:
        value = record.get(key, _MISSING)
        if value is _MISSING:
            continue
        if value is None:
            empty = True
            continue
        try:
            return as_text(value, key), []
        except BadRecord as exc:
            raise BadRecord(f"{exc}; name the text with --field{_hint(record)}") from None
    if empty:
        return "", []
    raise BadRecord(
        "no text field (looked for "
        + ", ".join(DEFAULT_FIELDS)
        + "); name it with --field"
        + _hint(record)
    )


def _hint(record: Any) -> str:
    path = suggest_field(record)
    return f" (perhaps --field {path})" if path else ""


def suggest_field(record: Any, depth: int = 6) -> Optional[str]:
    """A dotted path to a string under a key that usually holds a completion."""
    pending: List[Tuple[str, Any, int]] = [("", record, 0)]
    while pending:
        path, value, level = pending.pop(0)
        if type(value) is dict:
            items: Any = value.items()
        elif type(value) is list and value:
            items = [("0", value[0])]
        else:
            continue
        for key, item in items:
            where = f"{path}.{key}" if path else str(key)
            if type(item) is str and key in (
                "content",
                "text",
                "completion",
                "output",
                "generated_text",
            ):
                return where
            if level < depth:
                pending.append((where, item, level + 1))
    return None


# ---------------------------------------------------------------------------
# Messages.


class Extractor:
    """Parses texts into OpenAI assistant messages with the command's options.

    ``problems``: build the problem dicts (``--with-problems``, ``stats``,
    ``--strict``, ``--tools``); otherwise they are not even formatted.
    """

    def __init__(
        self,
        *,
        arguments: str = "json",
        tools: Any = None,
        unknown_tool: str = "call",
        seed: Optional[int] = None,
        problems: bool = False,
        python_literals: bool = False,
        truncated: str = "keep",
        reasoning: Any = False,
        dialect: str = "hermes",
    ) -> None:
        self.options: dict = {
            "arguments": arguments,
            "unknown_tool": unknown_tool,
            "python_literals": python_literals,
            "reasoning": reasoning,
            "dialect": dialect,
        }
        # --reasoning: False (off), True (on) or "open" (StreamParser's values).
        self.reasoning = reasoning
        if tools is not None:
            self.options["tools"] = tools.declared
        self.tools = tools
        self.seed = seed
        # What becomes of a call cut by the end of the text: parse() only (a
        # stream cannot take back what it sent).
        self.truncated = truncated
        self.problems = problems or tools is not None

    def call_id(self, record: int, choice: int = 0):
        """The ``call_id`` function for a record: random, or from ``--seed``
        (then it depends only on the seed, the record, the choice and the call)."""
        if self.seed is None:
            return random_call_id
        return seeded_ids(self.seed * 10**12 + record * 1000 + choice)

    def parser(self, record: int, choice: int = 0, split: bool = True) -> StreamParser:
        """A fresh ``StreamParser`` for one record (one choice of it).

        ``split=False``: no reasoning split whatever ``--reasoning`` says (the
        server already split the reasoning off this text)."""
        options = self.options if split else {**self.options, "reasoning": False}
        return StreamParser(call_id=self.call_id(record, choice), **options)

    def message(
        self,
        text: str,
        record: int,
        existing: Sequence[dict] = (),
        choice: int = 0,
        reasoning: Optional[str] = None,
    ) -> Tuple[dict, Optional[List[dict]]]:
        """Return (the OpenAI assistant message of ``text``, its problems).

        ``existing``: tool calls the record already had (a server that did
        parse some), kept first.  ``reasoning``: the reasoning a server already
        split off (``server_reasoning``): with ``--reasoning`` on it is the
        message's ``reasoning`` and ``text`` is not split again.  Problems are
        dicts (``Problem.to_dict()`` and the ``--tools`` ones), or None when
        not asked for.
        """
        problems: Optional[List[dict]] = [] if self.problems else None
        options = self.options
        if reasoning is not None:
            options = {**options, "reasoning": False}
        parsed = parse(
            text, call_id=self.call_id(record, choice), truncated=self.truncated, **options
        )
        content = parsed.content
        if reasoning is None:
            reasoning = parsed.reasoning
        calls = [call.to_openai() for call in parsed.tool_calls]
        if problems is not None and parsed.problems:
            shift = len(existing)
            for problem in parsed.problems:
                entry = problem.to_dict()
                if shift and entry["index"] is not None:
                    entry["index"] += shift
                problems.append(entry)
        message: dict = {"role": "assistant", "content": content}
        if reasoning is not None and self.reasoning:
            message["reasoning"] = reasoning  # where Message.to_openai() puts it
        if existing:
            calls = list(existing) + calls
        if calls:
            message["tool_calls"] = calls
        if self.tools is not None and calls:
            self._check_calls(calls, len(existing), problems)  # type: ignore[arg-type]
        return message, problems

    def _check_calls(self, calls: List[dict], existing: int, problems: List[dict]) -> None:
        """--tools: each call's name and arguments against the declared tools."""
        for index, call in enumerate(calls):
            function = call.get("function") or {}
            problems += self.tools.check(
                index,
                str(function.get("name")),
                function.get("arguments") or "{}",
                known=index >= existing,
            )

    def messages(
        self,
        texts: List[str],
        records: Sequence[int],
        existing: Optional[List[Sequence[dict]]] = None,
        reasonings: Optional[List[Optional[str]]] = None,
    ) -> Tuple[List[dict], List[Optional[List[dict]]]]:
        """``message`` for many records at once: the ``texts`` of the records
        numbered ``records``, the tool calls each already had (``existing``;
        None: none had any) and the reasoning its server split off
        (``reasonings``; None: none did).  Returns (messages, problems), lists
        in the order of the texts: the very ones ``message`` gives (ids aside
        when random).

        The texts are parsed together by ``parse_many`` (one parser for all,
        no ``Message`` object); a record whose server split the reasoning off
        goes through ``message`` alone (it is parsed without the split)."""
        count = len(texts)
        alone: List[int] = []
        batch_texts: List[Optional[str]] = texts  # type: ignore[assignment]
        if reasonings is not None:
            alone = [k for k, reasoning in enumerate(reasonings) if reasoning is not None]
            if alone:
                batch_texts = list(texts)
                for k in alone:
                    batch_texts[k] = None  # parse_many's null record: parsed alone below
        # Without --seed, parse_many draws the random ids for all the calls at once.
        call_id = None if self.seed is None else _no_id
        batch = parse_many(batch_texts, call_id=call_id, truncated=self.truncated, **self.options)
        messages: List[dict] = [{"role": "assistant", "content": content} for content in batch.content]
        if self.reasoning:
            for message, reasoning in zip(messages, batch.reasoning):
                if reasoning is not None:
                    message["reasoning"] = reasoning
        problems: List[Optional[List[dict]]] = [None] * count
        if self.problems:
            offsets = batch.problem_offsets
            for k in range(count):
                shift = len(existing[k]) if existing is not None else 0
                problems[k] = [
                    self._problem(batch, at, shift) for at in range(offsets[k], offsets[k + 1])
                ]
        offsets = batch.call_offsets
        names = batch.call_name
        ids = batch.call_id if self.seed is None else self._seeded_ids(records, offsets, names)
        # The calls of all records, in order: record k's are calls[offsets[k]:offsets[k + 1]].
        calls = [
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
            for call_id, name, arguments in zip(ids, names, batch.call_arguments)
        ]
        for k in range(count):
            start, stop = offsets[k], offsets[k + 1]
            if existing is None:
                if start == stop:
                    continue
                messages[k]["tool_calls"] = record_calls = calls[start:stop]
                had = 0
            else:
                record_calls = list(existing[k]) + calls[start:stop]
                if not record_calls:
                    continue
                messages[k]["tool_calls"] = record_calls
                had = len(existing[k])
            if self.tools is not None:
                self._check_calls(record_calls, had, problems[k])  # type: ignore[arg-type]
        for k in alone:
            messages[k], problems[k] = self.message(
                texts[k],
                records[k],
                existing[k] if existing is not None else NO_CALLS,
                reasoning=reasonings[k],  # type: ignore[index]
            )
        return messages, problems

    def _seeded_ids(self, records: Sequence[int], offsets: List[int], names: List[str]) -> List[str]:
        """The ids of a batch's calls (``offsets``, ``names``) from --seed:
        each record's from its number (``call_id``)."""
        ids: List[str] = []
        for k, record in enumerate(records):
            start, stop = offsets[k], offsets[k + 1]
            if stop > start:
                call_id = self.call_id(record)
                ids += [call_id(index, names[at]) for index, at in enumerate(range(start, stop))]
        return ids

    @staticmethod
    def _problem(batch: Any, at: int, shift: int) -> dict:
        """Problem ``at`` of a ``Batch`` as ``Problem.to_dict()`` gives it, its
        call index after the ``shift`` calls the record already had."""
        index = batch.problem_index[at]
        return {
            "kind": batch.problem_kind[at],
            "offset": batch.problem_offset[at],
            "length": batch.problem_length[at],
            "index": index + shift if index is not None else None,
            "detail": batch.problem_detail[at],
        }


def _no_id(index: int, name: str) -> str:
    """``parse_many``'s ids in ``Extractor.messages`` with --seed: none, they
    are made per record afterwards (from the seed and the record's number)."""
    return ""


# ---------------------------------------------------------------------------
# Reading records.


def json_lines(source: Source, reporter: Reporter) -> Iterator[Tuple[int, Any, bytes]]:
    """Yield (line number, value, raw line) for each JSON Lines record;
    blank lines are skipped, a line that is not JSON is reported and skipped."""
    for lines, values, raws in json_line_chunks(source, reporter):
        yield from zip(lines, values, raws)


def json_line_chunks(
    source: Source, reporter: Reporter
) -> Iterator[Tuple[Sequence[int], List[Any], List[bytes]]]:
    """``json_lines`` a chunk at a time, as columns: (line numbers, values,
    raw lines) of the records of one block read.

    A line that is not JSON ends the chunk before it is reported (and is the
    first of the next, as ``BAD_LINE``), so that the records before it are
    written out first.
    """
    first = 1  # the line number of the batch's first line
    for batch in source.line_batches():
        yield from json_line_chunk(source, reporter, batch, first)
        first += len(batch)


def json_line_chunk(
    source: Source, reporter: Reporter, batch: List[bytes], first: int
) -> Iterator[Tuple[Sequence[int], List[Any], List[bytes]]]:
    """``json_line_chunks`` of one batch of lines, the first numbered ``first``."""
    try:
        # The common case: every line of the block is a JSON value (a
        # line ending in \r too), then the line numbers are a range.
        values = [_loads(raw) for raw in batch]
    except _JSONDecodeError:
        yield from _json_line_chunks_slowly(source, reporter, batch, first)
    else:
        yield range(first, first + len(batch)), values, batch


def _json_line_chunks_slowly(
    source: Source, reporter: Reporter, batch: List[bytes], first: int
) -> Iterator[Tuple[List[int], List[Any], List[bytes]]]:
    """``json_line_chunks`` of a batch with blank lines, or lines that orjson
    refuses: each line on its own."""
    lines: List[int] = []
    values: List[Any] = []
    raws: List[bytes] = []
    for number, raw in enumerate(batch, first):
        try:
            value = _loads(raw)
        except _JSONDecodeError:
            if not raw.strip():
                continue
            try:
                value = loads_slow(raw)
            except BadRecord as exc:
                if lines:
                    yield lines, values, raws
                reporter.bad(f"{source.name}:{number}", str(exc))
                lines, values, raws = [number], [BAD_LINE], [raw]
                continue
        lines.append(number)
        values.append(value)
        raws.append(raw)
    if lines:
        yield lines, values, raws


def sse_streams(source: Source, reporter: Reporter) -> Iterator[Tuple[int, list]]:
    """Yield (line number, events) for each captured stream.

    Only ``data:`` lines count (``event:``, ``id:``, comments and blank lines
    are skipped; one ``data:`` line is one event, as OpenAI-compatible servers
    send them).  An event is (line, chunk dict or ``DONE``, raw payload); an
    event that is not JSON is reported and kept as (line, None, raw).  A stream
    ends at ``data: [DONE]``, or where a chunk with another ``id`` begins, or
    at the end of the input.
    """
    events: list = []
    stream_id = None
    number = 0
    for batch in source.line_batches():
        for raw in batch:
            number += 1
            if not raw.startswith(b"data:"):
                continue
            payload = raw[5:].strip()
            if payload == b"[DONE]":
                events.append((number, DONE, payload))
                yield events[0][0], events
                events, stream_id = [], None
                continue
            try:
                chunk = _loads(payload)
            except _JSONDecodeError:
                try:
                    chunk = loads_slow(payload)
                except BadRecord as exc:
                    reporter.bad(f"{source.name}:{number}", f"SSE event {exc}")
                    events.append((number, None, payload))
                    continue
            chunk_id = chunk.get("id") if type(chunk) is dict else None
            if chunk_id is not None:
                if stream_id is not None and chunk_id != stream_id and events:
                    yield events[0][0], events
                    events = []
                stream_id = chunk_id
            events.append((number, chunk, payload))
    if events:
        yield events[0][0], events


def stream_text(events: list, choice: int = 0) -> Tuple[str, List[dict]]:
    """The text one choice of a captured stream carried (``delta.content`` of
    chat chunks, ``text`` of completion chunks) and the tool calls it already
    had, accumulated as a client does."""
    parts: List[str] = []
    fold = CallFold()
    for entry in choice_entries(events, choice):
        delta = entry.get("delta")
        if type(delta) is dict:
            text = delta.get("content")
            if type(text) is str:
                parts.append(text)
            calls = delta.get("tool_calls")
            if calls and type(calls) is list:
                fold.add([{"tool_calls": _clean_calls(calls)}])
        elif type(entry.get("text")) is str:
            parts.append(entry["text"])
    # Indices a stream skipped leave empty places in the fold: not calls.
    existing = [call.to_openai() for call in fold.calls if call.id or call.name or call.arguments]
    return "".join(parts), existing


def _clean_calls(entries: list) -> List[dict]:
    """A captured stream's ``tool_calls`` deltas, as ``CallFold`` takes them:
    a missing index is 0, and an id, name or arguments that is empty, null or
    not a string leaves what came before (servers send ``"id": null`` in later
    deltas)."""
    clean = []
    for entry in entries:
        if type(entry) is not dict:
            continue
        index = entry.get("index", 0)
        if type(index) is not int or index < 0:
            continue
        call: dict = {"index": index}
        if entry.get("id") and type(entry["id"]) is str:
            call["id"] = entry["id"]
        function = entry.get("function")
        if type(function) is dict:
            call["function"] = {
                key: function[key]
                for key in ("name", "arguments")
                if function.get(key) and type(function[key]) is str
            }
        clean.append(call)
    return clean


# ---------------------------------------------------------------------------
# --fix


def calls_in_text(record: dict, reasoning: Any = False) -> bool:
    """Whether a choice of a chat.completion response has ``<tool_call>`` in its
    content, or (``reasoning`` on) reasoning to split off (``splits``)."""
    for choice in record.get("choices") or ():
        message = choice.get("message") if type(choice) is dict else None
        if type(message) is dict and type(message.get("content")) is str:
            if TAG in message["content"] or splits(message, reasoning):
                return True
    return False


def splits(message: dict, reasoning: Any) -> bool:
    """Whether ``--fix`` may split reasoning off this message's content: the
    option is on, the server did not split already (``server_reasoning``), and
    the content may hold reasoning (``"open"``: any; on: a ``<think>``)."""
    if not reasoning or server_reasoning(message) is not None:
        return False
    content = message.get("content")
    return type(content) is str and (reasoning == "open" or "<think>" in content)


def fix_chat(
    record: dict, extractor: Extractor, number: int, with_problems: bool
) -> Tuple[bool, List[dict]]:
    """Move the ``<tool_call>`` text of each choice's content into its
    ``tool_calls``, in place.  Returns (changed, problems of all choices);
    with ``with_problems``, a choice with problems gets them as ``problems``.

    ``finish_reason`` becomes ``tool_calls`` when calls were found, except
    ``length``: the output was cut off, and a client should know.

    With ``--reasoning`` on, reasoning split off the content becomes the
    message's ``reasoning`` (and ``reasoning_content`` too when the message
    has that key, null).  A message whose server already split (a string
    ``reasoning`` or ``reasoning_content``) keeps it, and its content is not
    split again: it holds the answer only, which ``"open"`` would otherwise
    take for reasoning.
    """
    changed = False
    all_problems: List[dict] = []
    for position, choice in enumerate(record["choices"]):
        message = choice.get("message") if type(choice) is dict else None
        if type(message) is not dict:
            continue
        content = message.get("content")
        has_tag = type(content) is str and TAG in content
        split = splits(message, extractor.reasoning)
        if not has_tag and not split and extractor.tools is None:
            continue  # nothing to move, nothing to check
        existing = existing_calls(message)
        new, problems = extractor.message(
            as_text(content, "content"),
            number,
            existing,
            position,
            # The server's split is kept: its content is not split again.
            reasoning=None if split else server_reasoning(message),
        )
        if problems:
            all_problems += problems
            if with_problems:
                choice["problems"] = problems
                changed = True
        if has_tag and len(new.get("tool_calls", ())) > len(existing):
            message["content"] = new["content"]
            message["tool_calls"] = new["tool_calls"]
            if choice.get("finish_reason") != "length":
                choice["finish_reason"] = "tool_calls"
            changed = True
        if split and "reasoning" in new:
            message["content"] = new["content"]
            message["reasoning"] = new["reasoning"]
            if "reasoning_content" in message:  # the server's shape: both names
                message["reasoning_content"] = new["reasoning"]
            changed = True
    return changed, all_problems


class _ChoiceState:
    """One choice of a stream being re-emitted."""

    __slots__ = (
        "parser",
        "closed",
        "envelope",
        "choice",
        "offset",
        "seen_existing",
        "fold",
        "fed",
    )

    def __init__(self, parser: StreamParser) -> None:
        self.parser = parser
        self.closed = False
        self.envelope: dict = {}
        self.choice: dict = {}
        self.offset = 0  # calls the input already had, numbered before ours
        self.seen_existing: set = set()
        self.fold = CallFold()  # our calls (the parser's own indices), for --tools
        self.fed = False  # the parser has been fed content


def fix_stream(
    events: list, extractor: Extractor, number: int, line: int, with_problems: bool
) -> Tuple[List[bytes], List[dict]]:
    """Re-emit a captured stream as a server with this parser would have sent
    it: each choice's ``delta.content`` goes through a ``StreamParser`` and its
    deltas go out as chunks with the original envelope (id, created, model...).

    Returns (SSE lines, problems: each with ``record`` and ``line``, the stream's
    number and first line).  Chunks without choices (usage), events that are
    not chunks and lines that were not JSON go out as they came.

    With ``--reasoning`` on, reasoning split off the content goes out as
    ``{"reasoning": ...}`` deltas, in the order of the text.  A choice whose
    server already sent reasoning deltas (``reasoning`` or
    ``reasoning_content``) before its content is not split again: those deltas
    go out untouched, and the content is read without the split.
    """
    out: List[bytes] = []
    states: dict = {}
    problems: List[dict] = []

    def emit(envelope: dict, choice: dict) -> None:
        chunk = dict(envelope)
        chunk["choices"] = [choice]
        out.append(b"data: " + dumps_line(chunk)[:-1] + b"\n\n")

    def send(state: _ChoiceState, deltas: List[dict], finish: Any, extra: Optional[dict]) -> None:
        """Send ``deltas`` (at least one chunk when ``finish`` or ``extra`` asks)."""
        if not deltas and (finish is not None or extra):
            deltas = [{}]
        last = len(deltas) - 1
        for position, delta in enumerate(deltas):
            choice = dict(state.choice)
            choice["delta"] = delta
            if position:
                if "logprobs" in choice:
                    choice["logprobs"] = None
            if position < last or finish is None:
                choice["finish_reason"] = None
                if "stop_reason" in choice:
                    choice["stop_reason"] = None
            else:
                choice["finish_reason"] = (
                    "tool_calls" if len(state.fold) and finish != "length" else finish
                )
            if position == last and extra:
                choice.update(extra)
            emit(state.envelope, choice)

    def ours(state: _ChoiceState, deltas: List[dict]) -> List[dict]:
        """Fold our calls (for --tools), then number them after the input's."""
        calls = [delta for delta in deltas if "tool_calls" in delta]
        if calls:
            state.fold.add(calls)
            if state.offset:
                for delta in calls:
                    for entry in delta["tool_calls"]:
                        entry["index"] += state.offset
        return deltas

    def close(state: _ChoiceState) -> Tuple[List[dict], Optional[dict]]:
        state.closed = True
        deltas = ours(state, state.parser.close())
        found: List[dict] = []
        if extractor.problems:
            for problem in state.parser.problems:
                entry = problem.to_dict()
                if state.offset and entry["index"] is not None:
                    entry["index"] += state.offset
                found.append(entry)
            if extractor.tools is not None:
                # After close() every call is final: the fold hands out the rest.
                for call in state.fold.finish(state.parser.calls_finished):
                    found += extractor.tools.check(
                        call.index + state.offset, call.name, call.arguments, known=True
                    )
            for entry in found:
                entry["record"] = number
                entry["line"] = line
        problems.extend(found)
        return deltas, ({"problems": found} if with_problems else None)

    for _, chunk, payload in events:
        if chunk is DONE:
            for state in states.values():
                if not state.closed:
                    deltas, extra = close(state)
                    send(state, deltas, None, extra)
            out.append(b"data: [DONE]\n\n")
            continue
        if (
            type(chunk) is not dict
            or not chunk.get("choices")
            or type(chunk["choices"]) is not list
        ):
            out.append(b"data: " + payload + b"\n\n")
            continue
        envelope = {key: value for key, value in chunk.items() if key != "choices"}
        for choice in chunk["choices"]:
            if type(choice) is not dict or type(choice.get("delta")) is not dict:
                emit(envelope, choice)
                continue
            index = choice.get("index", 0)
            state = states.get(index)
            if state is None:
                state = states[index] = _ChoiceState(
                    extractor.parser(number, index if type(index) is int else 0)
                )
            state.envelope = envelope
            state.choice = choice
            delta = choice["delta"]
            text = delta.get("content")
            if (
                extractor.reasoning
                and not state.fed
                and not state.closed
                and server_reasoning(delta) is not None
            ):
                # The server split the reasoning off: its content is not split again.
                state.parser = extractor.parser(
                    number, index if type(index) is int else 0, split=False
                )
            other = {key: value for key, value in delta.items() if key != "content"}
            for entry in other.get("tool_calls") or ():
                if type(entry) is dict and entry.get("index") not in state.seen_existing:
                    state.seen_existing.add(entry.get("index"))
                    if not len(state.fold):
                        state.offset = len(state.seen_existing)
            deltas = []  # List[dict], as close() returned them above
            if type(text) is str and text and not state.closed:
                state.fed = True
                deltas = ours(state, state.parser.feed(text))
            finish = choice.get("finish_reason")
            extra = None
            if finish is not None and not state.closed:
                more, extra = close(state)
                deltas += more
            if deltas:
                if other:
                    if other.keys() & deltas[0].keys():
                        # The input's own reasoning beside our reasoning: both, untouched.
                        deltas.insert(0, other)
                    else:
                        deltas[0] = {**other, **deltas[0]}
            elif "content" in delta and not text:
                deltas = [
                    delta
                ]  # nothing held back: {"role": "assistant", "content": ""} goes as it came
            elif other:
                deltas = [other]
            if not deltas and choice.get("logprobs") is not None:
                deltas = [{}]
            send(state, deltas, finish, extra)
    for state in states.values():
        if not state.closed:
            deltas, extra = close(state)
            send(state, deltas, None, extra)
    return out, problems


# ---------------------------------------------------------------------------
# stats


class Stats:
    """Counts over the messages of a run; percentiles of argument sizes from a
    histogram of sizes (exact, and bounded by the number of distinct sizes).

    ``reasoning`` (``--reasoning`` on): also count the records with reasoning,
    its characters (code points) and the calls written inside it
    (``call_in_reasoning`` problems); off, the output has no such keys."""

    def __init__(self, reasoning: bool = False) -> None:
        self.reasoning = reasoning
        self.with_reasoning = 0
        self.reasoning_chars = 0
        self.records = 0
        self.with_calls = 0
        self.calls = 0
        self.by_name: Counter = Counter()
        self.by_kind: Counter = Counter()
        self.with_problems = 0
        self.malformed = 0
        self.sizes: Counter = Counter()

    def add(self, message: dict, problems: Optional[List[dict]]) -> None:
        self.records += 1
        reasoning = message.get("reasoning")
        if reasoning is not None:
            self.with_reasoning += 1
            self.reasoning_chars += len(reasoning)
        calls = message.get("tool_calls")
        if calls:
            self.with_calls += 1
            self.calls += len(calls)
            for call in calls:
                function = call.get("function") or {}
                self.by_name[str(function.get("name"))] += 1
                arguments = function.get("arguments")
                self.sizes[
                    len(arguments.encode("utf-8", "surrogatepass")) if type(arguments) is str else 0
                ] += 1
        if problems:
            self.with_problems += 1
            kinds = [problem["kind"] for problem in problems]
            self.by_kind.update(kinds)
            if not MALFORMED.isdisjoint(kinds):
                self.malformed += 1

    def add_columns(self, records: int, batch: Any, start: int, stop: int) -> Tuple[int, int]:
        """``records`` records at once (the command's fast lane): those with
        a block are ``batch``'s records ``start`` to ``stop`` (a ``Batch``
        without reasoning), the others have no call and no problem.  The
        counts ``add`` of each record's message would make, in the same
        order; returns how many records had problems, and how many problems."""
        self.records += records
        offsets = batch.call_offsets
        first, last = offsets[start], offsets[stop]
        if last > first:
            self.with_calls += sum(1 for k in range(start, stop) if offsets[k + 1] > offsets[k])
            self.calls += last - first
            self.by_name.update(batch.call_name[first:last])
            self.sizes.update(
                len(arguments.encode("utf-8", "surrogatepass")) for arguments in batch.call_arguments[first:last]
            )
        offsets = batch.problem_offsets
        first, last = offsets[start], offsets[stop]
        if last == first:
            return 0, 0
        with_problems = 0
        kinds = batch.problem_kind
        for k in range(start, stop):
            if offsets[k + 1] > offsets[k]:
                found = kinds[offsets[k] : offsets[k + 1]]
                with_problems += 1
                self.by_kind.update(found)
                if not MALFORMED.isdisjoint(found):
                    self.malformed += 1
        self.with_problems += with_problems
        return with_problems, last - first

    def percentiles(self) -> Optional[dict]:
        """min, p50, p90, p99, max and mean of the arguments' UTF-8 sizes (nearest rank)."""
        total = sum(self.sizes.values())
        if not total:
            return None
        result: dict = {"min": min(self.sizes)}
        wanted = [50, 90, 99]
        seen = 0
        for size in sorted(self.sizes):
            seen += self.sizes[size]
            # Nearest rank: the smallest size with at least ceil(p% of total) at or below it.
            while wanted and seen * 100 >= wanted[0] * total:
                result[f"p{wanted.pop(0)}"] = size
        result["max"] = max(self.sizes)
        result["mean"] = round(sum(size * count for size, count in self.sizes.items()) / total, 1)
        return result

    def to_dict(self, bad_records: int) -> dict:
        def rate(part: int) -> Optional[float]:
            return round(part / self.records, 6) if self.records else None

        data = {
            "records": self.records,
            "bad_records": bad_records,
            "records_with_tool_calls": self.with_calls,
            "tool_call_rate": rate(self.with_calls),
            "tool_calls": self.calls,
            "tool_calls_by_name": dict(self.by_name.most_common()),
            "problems": sum(self.by_kind.values()),
            "problems_by_kind": dict(self.by_kind.most_common()),
            "records_with_problems": self.with_problems,
            "malformed_records": self.malformed,
            "malformed_rate": rate(self.malformed),
            "arguments_bytes": self.percentiles(),
        }
        if self.reasoning:
            data["records_with_reasoning"] = self.with_reasoning
            data["reasoning_rate"] = rate(self.with_reasoning)
            data["reasoning_chars"] = self.reasoning_chars
            data["calls_in_reasoning"] = self.by_kind["call_in_reasoning"]
        return data


def stats_table(data: dict) -> str:
    """The stats as an aligned table for a terminal."""
    rows: List[Tuple[str, str, str]] = []

    def pct(value: Optional[float]) -> str:
        return "" if value is None else f"{value:.1%}"

    rows.append(("records", f"{data['records']:,}", ""))
    rows.append(
        ("  with tool calls", f"{data['records_with_tool_calls']:,}", pct(data["tool_call_rate"]))
    )
    rows.append(("  malformed", f"{data['malformed_records']:,}", pct(data["malformed_rate"])))
    if "records_with_reasoning" in data:
        rows.append(
            ("  with reasoning", f"{data['records_with_reasoning']:,}", pct(data["reasoning_rate"]))
        )
    if data["bad_records"]:
        rows.append(("  bad (skipped)", f"{data['bad_records']:,}", ""))
    rows.append(("tool calls", f"{data['tool_calls']:,}", ""))
    for name, count in data["tool_calls_by_name"].items():
        rows.append((f"  {name}", f"{count:,}", pct(count / data["tool_calls"])))
    rows.append(("problems", f"{data['problems']:,}", ""))
    for kind, count in data["problems_by_kind"].items():
        rows.append((f"  {kind}", f"{count:,}", ""))
    if "reasoning_chars" in data:
        rows.append(("reasoning (characters)", f"{data['reasoning_chars']:,}", ""))
        rows.append(("  calls in reasoning", f"{data['calls_in_reasoning']:,}", ""))
    sizes = data["arguments_bytes"]
    if sizes:
        rows.append(("arguments (bytes)", "", ""))
        for key in ("min", "p50", "p90", "p99", "max", "mean"):
            rows.append((f"  {key}", f"{sizes[key]:,}", ""))
    width = max(len(row[0]) for row in rows)
    number = max(len(row[1]) for row in rows)
    return (
        "\n".join(
            f"{label:<{width}}  {value:>{number}}  {extra}".rstrip() for label, value, extra in rows
        )
        + "\n"
    )
