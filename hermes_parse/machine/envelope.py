"""The envelope: content in, ``<tool_call>`` blocks out, and each block's fate.

``StreamParser`` reads the output one character at a time, whatever the
chunks were (states ``S_*``): content, a tag being matched, a block's body
(handed to the body grammar, ``BODIES``), the tag after a call, a damaged
call's rest.  It holds back what is not decided yet (see the package's
theory of operation), decides whether a block is a call when its body says
the name is complete, and writes content and calls into the ``Sink``.
``parse`` is one ``feed`` and a ``close`` with the sink collecting the
message instead of making deltas.

The reasoning split sits here too, in front of the block search: it is a
question of what surrounds blocks, not of their bodies.  With ``reasoning``
on, a ``<think>`` that opens the output (after whitespace at most) starts
reasoning, which runs to the first ``</think>`` (or to the end); with
``"open"`` the output starts inside reasoning (the prompt opened it; a
``<think>`` as its very first characters is skipped).  Inside reasoning a
``<tool_call>`` is reasoning text, reported as a ``call_in_reasoning``
problem so that a caller can find it.
"""

from __future__ import annotations

from operator import index
from typing import Any, Callable, Dict, Iterable, List, Optional

from .._tools import param_types, tool_names
from .._batch import Batch
from .._types import (
    ClosedError,
    Message,
    Problem,
    random_call_id,
    random_call_ids,
    truncated_call,
)
from . import bytesearch  # (the compiled twin cimports its C twin: bytesearch.py)
from .bodies import BODIES
from .codes import (
    EV_DEFECT,
    EV_END,
    EV_NAME,
    EV_NONE,
    EV_TAG,
    M_ENCODE,
    M_RAW,
    ROW_BLANK,
    ROW_NULL,
    ROW_PARSED,
    ROW_TEXT,
)
from .sink import Sink as new_sink
from .values import skip_blank

# Envelope states.
S_TEXT_WS = 0  # content; whitespace here is held (start of text, after a call)
S_TEXT = 1  # content
S_TAG = 2  # matching "<tool_call>" in content (or "</tool_call>" after a failed block)
S_BODY = 3  # inside a block: the body grammar reads
S_END_TAG = 4  # matching "</tool_call>" or "<tool_call>" after a call
S_SKIP = 5  # after a defect in a call: looking for a tag
S_THINK = 6  # reasoning
S_THINK_TAG = 7  # matching "</think>" (or "<tool_call>", or a leading "<think>") in reasoning
S_PICK = 8  # dialect "auto": a block's first non-blank character picks its body

OPEN_TAG = "<tool_call>"
CLOSE_TAG = "</tool_call>"
OPEN_TAG_LEN = 11
CLOSE_TAG_LEN = 12
THINK_TAG = "<think>"
END_THINK_TAG = "</think>"
THINK_TAG_LEN = 7
END_THINK_TAG_LEN = 8
# A Qwen3-Coder call written without <tool_call> (dialects qwen3_coder and auto).
BARE_TAG = "<function="
BARE_TAG_LEN = 10

# The reasoning option.
REASONING_OFF = 0
REASONING_ON = 1  # a <think> block may open the output
REASONING_OPEN = 2  # the output starts inside reasoning

DEFAULT_MAX_BUFFER = 8 * 1024 * 1024
NO_LIMIT = 1 << 62

AUTO = "auto"

OPEN_TAG_UTF8 = b"<tool_call>"
BARE_TAG_UTF8 = b"<function="


class StreamParser:
    """Turns a model's output, fed in chunks of any size, into OpenAI deltas.

    ``feed(text)`` returns the ``choices[0].delta`` dicts that ``text``
    completes (``[]`` when it needs more input); ``close()`` returns the last
    ones.  ``problems`` lists the defects found so far; ``calls_finished``
    counts the calls whose block has ended (their arguments are final: the
    event ``CallFold.finish`` hands whole calls out on).  Options:

    * ``arguments``: ``"json"`` (normalised as ``json.dumps`` writes it) or
      ``"raw"`` (the model's own text);
    * ``tools``: the request's tools (OpenAI shape); a call to a name not in
      it is kept and reported (``unknown_tool="call"``) or left as content
      (``unknown_tool="content"``);
    * ``call_id``: ``f(index, name) -> str``; OpenAI-style random ids by default;
    * ``max_buffer``: how many characters may be held back before a call's
      name is known (default 8 Mi); past it the block is content;
    * ``python_literals``: also read Python dict literals (Hermes-2-Pro);
    * ``reasoning``: ``False`` (no reasoning split), ``True`` (a ``<think>``
      block that opens the output is reasoning: ``{"reasoning": ...}``
      deltas, vLLM's field) or ``"open"`` (the output starts inside
      reasoning, up to the first ``</think>``);
    * ``dialect``: what is inside a block: ``"hermes"`` (JSON, the default),
      ``"qwen3_coder"`` (``<function=NAME><parameter=...>``, also without
      ``<tool_call>``), ``"glm"`` (``NAME<arg_key>...<arg_value>...``) or
      ``"auto"`` (each block's first non-blank character decides: ``{`` or
      a backtick is hermes, ``<`` qwen3_coder, anything else glm).  The
      XML dialects type each value by the tool's schema in ``tools``.

    Raises ``ValueError`` for an option value it does not know.
    """

    problems: List[Problem]

    def __init__(
        self,
        *,
        arguments: str = "json",
        tools: Optional[Iterable[Any]] = None,
        unknown_tool: str = "call",
        call_id: Optional[Callable[[int, str], str]] = None,
        max_buffer: int = DEFAULT_MAX_BUFFER,
        python_literals: bool = False,
        reasoning: Any = False,
        dialect: str = "hermes",
    ) -> None:
        if arguments == "json":
            self._args_mode = M_ENCODE
        elif arguments == "raw":
            self._args_mode = M_RAW
        else:
            raise ValueError("arguments must be 'json' or 'raw'")
        if unknown_tool != "call" and unknown_tool != "content":
            raise ValueError("unknown_tool must be 'call' or 'content'")
        # An integer (numpy's too), checked here so that both twins refuse the
        # same values: the compiled one keeps it in a C integer.
        try:
            limit = index(max_buffer)
        except TypeError:
            limit = 0
        if isinstance(max_buffer, bool) or not 1 <= limit <= NO_LIMIT:
            raise ValueError("max_buffer must be an integer from 1 to 2**62")
        max_buffer = limit
        if reasoning is False or reasoning is None:
            self._reasoning = REASONING_OFF
        elif reasoning is True:
            self._reasoning = REASONING_ON
        elif reasoning == "open":
            self._reasoning = REASONING_OPEN
        else:
            raise ValueError("reasoning must be False, True or 'open'")
        if dialect != AUTO and (type(dialect) is not str or dialect not in BODIES):
            raise ValueError(
                "dialect must be one of " + ", ".join(repr(name) for name in [*BODIES, AUTO])
            )
        self._dialect = dialect
        self._auto = dialect == AUTO
        self._bare = dialect == AUTO or dialect == "qwen3_coder"
        self._bodies: Dict[str, Any] = {}  # dialect -> its Body, made when first needed
        self._tools = tool_names(tools)
        # Only the bodies that read values as text need the parameters' types.
        self._types = param_types(tools) if dialect != "hermes" else None
        self._unknown_as_content = unknown_tool == "content"
        self._call_id = random_call_id if call_id is None else call_id
        # parse_many and parse_utf8 draw the default ids afterwards, all at once.
        self._ids_later = False
        self._max_buffer = max_buffer
        self._python = bool(python_literals)
        self._sink = new_sink(False)
        self._held_ws: List[str] = []
        # An undecided block's text: its tag, then what earlier feeds held of
        # it (the tag apart, a list that stays empty for a whole text).
        self._held_tag = ""
        self._held_raw: List[str] = []
        self._pending_problems: List[tuple] = []
        # Made when the first block starts: most outputs have no call, and a
        # parser is made for every request.
        self._body = None
        self.problems = []
        self._restart()

    def _restart(self) -> None:
        """The state of a new stream (the options stay): ``__init__``, and
        ``parse_many`` between texts."""
        if self.problems:  # a new list: the old one may have been handed out
            self.problems = []
        self._sink.restart()
        # The lists are nearly always empty: a length test is cheaper than a
        # call of clear() (parse_many restarts the parser for every record).
        if self._held_ws:
            self._held_ws.clear()
        if self._held_raw:
            self._held_raw.clear()
        if self._pending_problems:
            self._pending_problems.clear()
        self._closed = False
        self._offset = 0
        self._state = S_TEXT_WS
        self._hold_end = self._max_buffer
        # A <think> may still open reasoning: nothing but whitespace so far.
        self._think_allowed = self._reasoning != REASONING_OFF
        if self._reasoning == REASONING_OPEN:
            self._state = S_THINK
            self._hold_end = NO_LIMIT
        self._holding = False
        self._held_tag = ""
        self._raw_start = 0
        self._tag_pos = 0
        self._tag = OPEN_TAG
        self._tag_size = OPEN_TAG_LEN
        self._tag_start = 0
        self._tag_after_skip = False
        self._calls = 0
        self._failed_open = False
        self._failed_start = 0
        self._failed_kind = ""
        self._failed_detail = ""
        self._bare_block = False
        self._block_start = 0
        self._decided = False
        self._index = -1
        self._skip_start = 0
        self._skip_kind = ""
        self._skip_detail = ""

    def _reset_block(self) -> None:
        self._block_start = 0
        self._decided = False
        self._index = -1
        self._skip_start = 0
        self._skip_kind = ""
        self._skip_detail = ""
        if self._sink.args:
            self._sink.args.clear()
        if self._pending_problems:
            self._pending_problems.clear()

    # -- public ------------------------------------------------------------

    def feed(self, text: str) -> List[Dict[str, Any]]:
        """Consume ``text``; return the deltas it completes (``[]``: need more input).

        Raises ``TypeError`` for anything but ``str`` and ``ClosedError``
        after ``close()``.
        """
        if type(text) is not str:
            if not isinstance(text, str):
                raise TypeError(f"feed() takes str, not {type(text).__name__}")
            text = str(text)
        if self._closed:
            raise ClosedError("feed() after close()")
        self._process(text)
        self._offset += len(text)
        return self._sink.take(self._decided)

    def close(self) -> List[Dict[str, Any]]:
        """End the stream; return the last deltas.  Calling it again returns ``[]``."""
        if self._closed:
            return []
        self._closed = True
        self._process("")
        self._end_of_text()
        return self._sink.take(self._decided)

    @property
    def closed(self) -> bool:
        """``True`` once ``close()`` has been called."""
        return self._closed

    @property
    def calls_finished(self) -> int:
        """How many calls are complete: their block has ended, their arguments are final."""
        return self._sink.calls_finished

    def _run_many(self, texts, truncated, batch):
        """``parse_many``'s loop: each text parsed whole by this one parser,
        restarted between texts, its results appended to ``batch``'s columns
        (here, in the compiled loop, not through a method per record)."""
        self._write_to(batch)
        for item in texts:
            if item is None:  # a null in a column: a null record
                self._record(None, None, False)
                continue
            if type(item) is str:
                text = item
            elif isinstance(item, str):
                text = str(item)
            else:
                raise TypeError(f"parse_many() takes str (or None) texts, not {type(item).__name__}")
            if not self._reasoning and no_block(text, self._bare):
                self._record(plain_content(text, self._max_buffer), None, True)
                continue
            self._parse_record(text, truncated, batch)

    def _run_utf8(self, data, offsets, valid, rows, truncated, batch):
        """``parse_utf8``'s loop: rows ``data[offsets[i]:offsets[i + 1]]`` of
        UTF-8 (Arrow's layout of a string column).  A row in which no block
        can start is not decoded at all: ``rows[i]`` says what it is (the
        ``ROW_*`` codes), and only the ``ROW_PARSED`` rows go to ``batch``."""
        self._write_to(batch)
        max_buffer = self._max_buffer
        count = len(offsets) - 1
        size = len(data)
        # The tags are looked for in the whole column, not row by row: the
        # next one found (-1: none left), searched again past a row's start.
        open_at = bytesearch.find_tag(data, OPEN_TAG_UTF8, 0)
        bare_at = bytesearch.find_tag(data, BARE_TAG_UTF8, 0) if self._bare else -1
        for row in range(count):
            if valid is not None and not valid[row]:
                rows[row] = ROW_NULL
                continue
            start = offsets[row]
            stop = offsets[row + 1]
            if not 0 <= start <= stop <= size:  # Arrow's never are; the bytes are read unchecked
                raise ValueError(f"offsets[{row}:{row + 2}] = {start}, {stop}: not rows of {size} bytes")
            if 0 <= open_at < start:
                open_at = bytesearch.find_tag(data, OPEN_TAG_UTF8, start)
            if 0 <= bare_at < start:
                bare_at = bytesearch.find_tag(data, BARE_TAG_UTF8, start)
            if (
                not self._reasoning
                and not (0 <= open_at and open_at + OPEN_TAG_LEN <= stop)
                and not (0 <= bare_at and bare_at + BARE_TAG_LEN <= stop)
            ):
                # plain_content on the bytes: blank is " \t\r\n" alone, one
                # byte a character, so its length in characters is stop - start.
                at = start
                while at < stop and (
                    data[at] == 32 or data[at] == 9 or data[at] == 13 or data[at] == 10
                ):
                    at += 1
                rows[row] = ROW_TEXT if at < stop or stop - start > max_buffer else ROW_BLANK
                continue
            rows[row] = ROW_PARSED
            self._parse_record(bytesearch.row_text(data, start, stop), truncated, batch)

    def _write_to(self, batch):
        """``batch``'s columns, held by the parser while it fills them (in the
        compiled twin a typed list each: no attribute lookup per record); the
        sink appends each call's id, name and arguments to them itself."""
        sink = self._sink
        sink.collect = True
        sink.columns = True
        sink.call_ids = batch.call_id
        sink.call_names = batch.call_name
        sink.call_arguments = batch.call_arguments
        self._out_content = batch.content
        self._out_reasoning = batch.reasoning
        self._out_valid = batch.valid
        self._out_call_offsets = batch.call_offsets
        self._out_problem_offsets = batch.problem_offsets
        self._out_problem_kinds = batch.problem_kind

    def _record(self, content, reasoning, valid):
        """A record ends: its content and reasoning, and where its calls and
        problems end."""
        self._out_content.append(content)
        self._out_reasoning.append(reasoning)
        self._out_valid.append(valid)
        self._out_call_offsets.append(len(self._sink.call_ids))
        self._out_problem_offsets.append(len(self._out_problem_kinds))

    def _parse_record(self, text, truncated, batch):
        """One text through the machine, its results appended to ``batch``
        (its calls by the sink as they end)."""
        sink = self._sink
        first = len(sink.call_ids)
        self._restart()
        self._closed = True
        self._process(text)
        self._offset = len(text)
        self._end_of_text()
        content = "".join(sink.content) or None
        cut = -1
        if self.problems:
            if truncated != "keep":
                problem = truncated_call(self.problems)
                if problem is not None:
                    cut = problem.index
                    if truncated == "content":
                        content = (content or "") + text[problem.offset :]
                    # The call cut by the end of the text is the record's last.
                    del sink.call_ids[first + cut]
                    del sink.call_names[first + cut]
                    del sink.call_arguments[first + cut]
            batch.add_problems(self.problems, cut)
        self._record(content, "".join(sink.reasoning) or None, True)

    def _message(self, text: str) -> Message:
        """What ``parse`` returns: the whole text fed at once and accumulated as a
        client accumulates the deltas, without making the deltas."""
        self._sink.collect = True
        self.feed(text)
        self.close()
        return self._sink.message(self.problems)

    # -- the block's fate --------------------------------------------------

    def _problem(self, kind, offset, length, detail):
        if self._decided:
            self.problems.append(Problem(kind, offset, length, self._index, detail))
        else:
            self._pending_problems.append((kind, offset, length, detail))

    def _begin_block(self, i, bare):
        """A "<tool_call>" (or with ``bare``, a "<function=") ends at ``i``:
        hold the block until its name is known."""
        self._think_allowed = False
        self._reset_block()
        self._bare_block = bare
        tag = BARE_TAG if bare else OPEN_TAG
        self._block_start = self._offset + i - len(tag)
        self._hold_end = self._block_start + self._max_buffer
        self._holding = True
        self._held_tag = tag
        self._raw_start = i
        if self._auto and not bare:
            self._state = S_PICK  # the body is chosen by what comes first
        else:
            self._begin_body("qwen3_coder" if bare else self._dialect, bare)

    def _begin_body(self, dialect, bare):
        """The block's body is read by ``dialect``'s grammar from here on."""
        body = self._bodies.get(dialect)
        if body is None:  # made when the first block needs it: most outputs have none
            body = BODIES[dialect]()
            body.types = self._types
            self._bodies[dialect] = body
        self._body = body
        body.begin(self._sink.args, self._args_mode, self._python, bare)
        self._state = S_BODY

    def _not_a_call(self, text, i, kind, detail):
        """The undecided block is content after all, from its tag up to ``i``."""
        held = self._held_ws
        held.append(self._held_tag)
        held.extend(self._held_raw)
        held.append(text[self._raw_start : i])
        self._sink.content.append("".join(held))
        held.clear()
        self._held_tag = ""
        if self._held_raw:
            self._held_raw.clear()
        # The block is content up to its "</tool_call>"; the problem spans it
        # all, so it is reported when that tag (or the next block, or the
        # end of the text) is seen.
        self._failed_start = self._block_start
        self._failed_kind = kind
        self._failed_detail = detail
        self._failed_open = True
        if self._bare_block:
            # A bare block has no "</tool_call>" to wait for: it is content
            # from its "<function=" up to here, and what follows is content.
            self._end_failed(self._offset + i)
        self._bare_block = False
        self._holding = False
        self._hold_end = NO_LIMIT
        self._reset_block()
        self._state = S_TEXT

    def _end_failed(self, end):
        """The block that turned out to be content ends at ``end``."""
        start = self._failed_start
        self.problems.append(
            Problem(self._failed_kind, start, end - start, None, self._failed_detail)
        )
        self._failed_open = False

    def _start_call(self, text, i):
        """The name is complete at ``i``: the block is a call.  Send its first delta."""
        body = self._body
        name = body.name
        if not name:
            self._not_a_call(text, i, "not_a_call", "the name is empty or too long")
            return
        unknown = self._tools is not None and name not in self._tools
        if unknown and self._unknown_as_content:
            self._not_a_call(text, i, "unknown_tool", "undeclared tool " + repr(name))
            return
        index = self._calls
        self._calls += 1
        self._index = index
        self._decided = True
        body.decided = True
        self._holding = False
        self._hold_end = NO_LIMIT
        if self._held_ws:
            self._held_ws.clear()  # whitespace before a call is not content
        self._held_tag = ""
        if self._held_raw:
            self._held_raw.clear()
        # parse_many draws default ids for all its calls at once, afterwards.
        call_id = "" if self._ids_later else self._call_id(index, name)
        self._sink.open_call(index, call_id, name)
        if self._pending_problems:
            for kind, offset, length, detail in self._pending_problems:
                self.problems.append(Problem(kind, offset, length, index, detail))
            self._pending_problems.clear()
        if unknown:
            self.problems.append(
                Problem(
                    "unknown_tool",
                    body.value_start,
                    self._offset + i - body.value_start,
                    index,
                    "undeclared tool " + repr(name),
                )
            )

    def _end_skip(self, end):
        start = self._skip_start
        self.problems.append(
            Problem(self._skip_kind, start, end - start, self._index, self._skip_detail)
        )
        self._skip_kind = ""

    def _end_call(self):
        """The call's block is over: its arguments are final."""
        if self._skip_kind:
            self._end_skip(self._tag_start)
        self._sink.close_call()
        self._reset_block()

    def _end_of_text(self):
        state = self._state
        if state == S_TEXT_WS:
            if self._held_ws:
                self._held_ws.clear()  # trailing whitespace is not content
        elif state == S_TAG:
            self._flush_held_text()
        elif state == S_TEXT or state == S_THINK:
            pass
        elif state == S_THINK_TAG:  # reasoning to the end, a partial tag included
            self._sink.reasoning.append(self._tag[: self._tag_pos])
        elif not self._decided:
            self._not_a_call("", 0, "not_a_call", "the text ended before the name")
        else:
            if state == S_SKIP or (state == S_END_TAG and self._tag_after_skip):
                self._end_skip(self._offset)
            elif state == S_BODY:
                body = self._body
                cut = body.finish()
                # What the end of the text showed (a value that does not fit,
                # a closing tag that never came) belongs to this call.
                for kind, offset, length, detail in body.problems:
                    self._problem(kind, offset, length, detail)
                body.problems.clear()
                if cut:
                    start = self._block_start
                    self.problems.append(
                        Problem(
                            "truncated",
                            start,
                            self._offset - start,
                            self._index,
                            "the text ended inside the call",
                        )
                    )
            self._end_call()
        if self._failed_open:
            self._end_failed(self._offset)
        self._state = S_TEXT

    def _body_event(self, text, i):
        """Act on why the body grammar stopped at ``i``."""
        body = self._body
        if body.problems:  # queued while reading: they belong to this call
            for kind, offset, length, detail in body.problems:
                self._problem(kind, offset, length, detail)
            body.problems.clear()
        event = body.event
        if event == EV_NAME:
            self._start_call(text, i)
        elif event == EV_DEFECT:
            # Before the name the block is content; after it, the call keeps
            # what was sent and the rest of the block is skipped.
            if not self._decided:
                self._not_a_call(text, i, "not_a_call", body.detail)
            else:
                self._skip_start = body.defect_at
                self._skip_kind = body.kind
                self._skip_detail = body.detail
                self._state = S_SKIP
        elif event == EV_TAG:
            self._tag_start = self._offset + i - 1
            self._tag_after_skip = False
            self._tag_pos = 1
            self._state = S_END_TAG
        elif event == EV_END:  # the body read its closing tag itself
            if not self._decided:
                self._not_a_call(text, i, "not_a_call", "the block ended before the name")
                return
            self._tag_start = self._offset + i
            self._end_call()
            self._state = S_TEXT_WS
            self._hold_end = self._offset + i + self._max_buffer

    # -- the loop ----------------------------------------------------------

    def _process(self, text):
        n = len(text)
        i = 0
        content = self._sink.content
        if self._holding:
            self._raw_start = 0
        while i < n:
            state = self._state
            limit = self._hold_end - self._offset
            if limit <= i:
                # More than max_buffer characters held back.
                if state == S_TEXT_WS:
                    self._flush_held_text()
                    self._state = S_TEXT
                elif state == S_TAG:
                    # Only the whitespace before the tag goes: the tag being
                    # matched is at most a tag long, and may still open a block.
                    if self._held_ws:
                        content.append("".join(self._held_ws))
                        self._held_ws.clear()
                    self._think_allowed = False
                    self._hold_end = NO_LIMIT
                else:
                    self._not_a_call(
                        text, i, "not_a_call", "more than max_buffer characters before the name"
                    )
                continue
            if limit > n:
                limit = n
            if state == S_TEXT:
                j = text.find("<", i)
                if j < 0:
                    content.append(text[i:] if i else text)
                    i = n
                else:
                    if j > i:
                        content.append(text[i:j])
                    i = j + 1
                    self._tag_pos = 1
                    self._state = S_TAG
            elif state == S_BODY:
                body = self._body
                i = body.feed(text, i, limit, self._offset)
                if body.event != EV_NONE or body.problems:
                    self._body_event(text, i)
            elif state == S_TEXT_WS:
                j = skip_blank(text, i, limit)
                if j > i:
                    self._held_ws.append(text[i:j])
                i = j
                if i < limit:
                    if text[i] == "<":
                        i += 1
                        self._tag_pos = 1
                        self._state = S_TAG
                    else:
                        self._flush_held_text()
                        self._state = S_TEXT
            elif state == S_PICK:
                i = skip_blank(text, i, limit)
                if i < limit:
                    c = text[i]
                    if c == "{" or c == "`":
                        self._begin_body("hermes", False)
                    elif c == "<":
                        self._begin_body("qwen3_coder", False)
                    else:
                        self._begin_body("glm", False)
            elif state == S_TAG:
                # "<tool_call>" starts a block; inside a block that turned out
                # to be content, "</tool_call>" ends it.
                i = self._match_tag(text, i, limit, CLOSE_TAG if self._failed_open else "")
                size = self._tag_size
                if self._tag_pos == size:
                    if size == BARE_TAG_LEN:
                        if self._failed_open:
                            self._end_failed(self._offset + i - BARE_TAG_LEN)
                        self._begin_block(i, True)
                    elif size == THINK_TAG_LEN:
                        self._held_ws.clear()  # whitespace before reasoning is not content
                        self._think_allowed = False
                        self._hold_end = NO_LIMIT
                        self._state = S_THINK
                    elif size == OPEN_TAG_LEN:
                        if self._failed_open:
                            self._end_failed(self._offset + i - OPEN_TAG_LEN)
                        self._begin_block(i, False)
                    else:
                        content.append(CLOSE_TAG)
                        self._end_failed(self._offset + i)
                        self._state = S_TEXT
                elif i < limit:
                    self._flush_held_text()
                    self._state = S_TEXT
            elif state == S_THINK:
                j = text.find("<", i)
                if j < 0:
                    self._sink.reasoning.append(text[i:] if i else text)
                    self._think_allowed = False
                    i = n
                else:
                    if j > i:
                        self._sink.reasoning.append(text[i:j])
                        self._think_allowed = False
                    self._tag_start = self._offset + j
                    self._tag_pos = 1
                    self._state = S_THINK_TAG
                    i = j + 1
            elif state == S_THINK_TAG:
                i = self._think_tag(text, i, limit)
            elif state == S_SKIP:
                j = text.find("<", i)
                if j < 0:
                    i = n
                else:
                    self._tag_start = self._offset + j
                    self._tag_after_skip = True
                    self._tag_pos = 1
                    self._state = S_END_TAG
                    i = j + 1
            else:
                i = self._end_tag(text, i)
        if self._holding and self._raw_start < n:
            self._held_raw.append(text[self._raw_start :])

    def _think_tag(self, text, i, limit):
        """S_THINK_TAG: "</think>" ends reasoning; "<tool_call>" is reasoning
        text and a problem; a "<think>" that opens "open" reasoning is skipped.
        Return the next index."""
        i = self._match_tag(text, i, limit, END_THINK_TAG)
        pos = self._tag_pos
        size = self._tag_size
        if pos == size:
            self._think_allowed = False
            if size == END_THINK_TAG_LEN:
                # After reasoning, whitespace is held as at the start of the text.
                self._state = S_TEXT_WS
                self._hold_end = self._offset + i + self._max_buffer
            elif size == OPEN_TAG_LEN:
                self._sink.reasoning.append(OPEN_TAG)
                self.problems.append(
                    Problem(
                        "call_in_reasoning",
                        self._tag_start,
                        OPEN_TAG_LEN,
                        None,
                        "a <tool_call> inside reasoning is reasoning text",
                    )
                )
                self._state = S_THINK
            else:  # a leading "<think>" of "open" reasoning: the prompt opened it already
                self._state = S_THINK
        elif i < limit:
            self._sink.reasoning.append(self._tag[:pos])
            self._think_allowed = False
            self._state = S_THINK
        return i

    def _match_tag(self, text, i, limit, closing):
        """Match the tag a '<' began: ``closing`` when a '/' follows (unless
        ``closing`` is empty), "<function=" when an 'f' follows in content
        (where bare calls are read), else "<tool_call>", which becomes
        "<think>" at "<th" while a <think> may still open reasoning.  Return
        the next index; the tag is complete when ``_tag_pos == _tag_size``
        (the sizes tell the tags apart)."""
        pos = self._tag_pos
        if pos == 1 and i < limit:
            if text[i] == "/" and closing:
                self._tag = closing
                self._tag_size = len(closing)
            elif text[i] == "f" and self._bare and self._state == S_TAG:
                self._tag = BARE_TAG
                self._tag_size = BARE_TAG_LEN
            else:
                self._tag = OPEN_TAG
                self._tag_size = OPEN_TAG_LEN
        tag = self._tag
        size = self._tag_size
        if pos == 1 and i and i + size - 1 <= limit and text.startswith(tag, i - 1):
            # The whole tag is in this text (the usual case): matched at once.
            self._tag_pos = size
            return i + size - 1
        while i < limit and pos < size:
            if text[i] != tag[pos]:
                if pos == 2 and self._think_allowed and text[i] == "h" and size == OPEN_TAG_LEN:
                    tag = self._tag = THINK_TAG
                    size = self._tag_size = THINK_TAG_LEN
                else:
                    break
            pos += 1
            i += 1
        self._tag_pos = pos
        return i

    def _flush_held_text(self):
        """Held whitespace and a partial tag turn out to be content."""
        self._think_allowed = False
        held = self._held_ws
        if self._state == S_TAG:
            held.append(self._tag[: self._tag_pos])
        if held:
            self._sink.content.append("".join(held))
            held.clear()
        self._hold_end = NO_LIMIT

    def _end_tag(self, text, i):
        """S_END_TAG: "</tool_call>" ends the call's block, "<tool_call>" starts
        the next; anything else is text after the call.  Return the next index."""
        c = text[i]
        pos = self._tag_pos
        if pos == 1:
            if c == "/":
                self._tag = CLOSE_TAG
                self._tag_size = CLOSE_TAG_LEN
            else:
                self._tag = OPEN_TAG
                self._tag_size = OPEN_TAG_LEN
            if i and text.startswith(self._tag, i - 1):
                # The whole tag is in this text (the usual case): matched at once.
                pos = self._tag_size - 1
                i += pos - 1
                c = text[i]
        if c == self._tag[pos]:
            pos += 1
            self._tag_pos = pos
            if pos < self._tag_size:
                return i + 1
            self._end_call()
            if self._tag_size == OPEN_TAG_LEN:
                self._begin_block(i + 1, False)
            else:
                self._state = S_TEXT_WS
                self._hold_end = self._offset + i + 1 + self._max_buffer
            return i + 1
        if not self._tag_after_skip:
            self._skip_start = self._tag_start
            self._skip_kind = "trailing_text"
            self._skip_detail = "text after the call's object"
        self._state = S_SKIP
        return i


def parse(
    text: str,
    *,
    arguments: str = "json",
    tools: Optional[Iterable[Any]] = None,
    unknown_tool: str = "call",
    call_id: Optional[Callable[[int, str], str]] = None,
    max_buffer: int = DEFAULT_MAX_BUFFER,
    python_literals: bool = False,
    reasoning: Any = False,
    truncated: str = "keep",
    dialect: str = "hermes",
) -> Message:
    """Parse a whole output; return a ``Message``.

    The result equals what a client accumulates from ``StreamParser`` fed the
    same text in any chunks.  Takes ``StreamParser``'s options, and
    ``truncated``: what becomes of a call cut by the end of the text
    (``max_tokens``): ``"keep"`` it with its arguments as far as they went
    (the default, and what a stream has sent), ``"drop"`` it, or move its
    block to ``"content"``; the ``truncated`` problem is reported either way.
    Raises ``ValueError`` for an unknown option value, ``TypeError`` for a
    ``text`` that is not ``str``.
    """
    parser = _whole_text_parser(
        truncated,
        arguments,
        tools,
        unknown_tool,
        call_id,
        max_buffer,
        python_literals,
        reasoning,
        dialect,
    )
    if type(text) is str and not parser._reasoning and no_block(text, parser._bare):
        return Message(plain_content(text, max_buffer))
    if truncated == "keep":
        return parser._message(text)
    return parser._message(text).settle_truncated(text, truncated)


def parse_many(
    texts: Iterable[Optional[str]],
    *,
    arguments: str = "json",
    tools: Optional[Iterable[Any]] = None,
    unknown_tool: str = "call",
    call_id: Optional[Callable[[int, str], str]] = None,
    max_buffer: int = DEFAULT_MAX_BUFFER,
    python_literals: bool = False,
    reasoning: Any = False,
    truncated: str = "keep",
    dialect: str = "hermes",
) -> Batch:
    """Parse many whole outputs; return their results as columns (``Batch``).

    Record ``i`` of the result equals ``parse(texts[i], **options)`` (ids
    aside: each call gets ``call_id(index, name)`` as in ``parse``).  The
    options are checked once and one parser is restarted between texts, and no
    ``Message`` or ``ToolCall`` object is made unless asked for
    (``Batch.message(i)``).  A ``None`` text (a null in a column) gives a null
    record.  Raises ``ValueError`` for an unknown option value and
    ``TypeError`` for a text that is neither ``str`` nor ``None``.
    """
    parser = _whole_text_parser(
        truncated,
        arguments,
        tools,
        unknown_tool,
        call_id,
        max_buffer,
        python_literals,
        reasoning,
        dialect,
    )
    parser._ids_later = call_id is None
    batch = Batch()
    parser._run_many(texts, truncated, batch)
    if call_id is None:  # the default ids, drawn for all the calls at once
        batch.call_id[:] = random_call_ids(len(batch.call_id))
    return batch


def parse_utf8(
    data: Any,  # bytes or any buffer of them (a memoryview, Arrow's)
    offsets: Any,
    valid: Any = None,  # None or any buffer
    *,
    truncated: str = "keep",
    call_id: Optional[Callable[[int, str], str]] = None,
    draw_ids: bool = True,
    **options: Any,
):
    """``parse_many`` over a column of UTF-8 texts laid out as Arrow lays out
    a string column: row ``i`` is ``data[offsets[i]:offsets[i + 1]]``
    (``offsets``: a buffer of C ints, int32 as Arrow's, e.g. ``array("i")``
    or a ``memoryview`` cast to ``"i"``), a null where ``valid`` (a buffer
    of one byte a row) holds 0.  Returns ``(batch,
    rows)``: ``rows`` (a ``bytearray``) says what each row is (``ROW_NULL``,
    ``ROW_TEXT``: its content is its own text, ``ROW_BLANK``: whitespace
    alone, no content, ``ROW_PARSED``), and ``batch`` holds the
    ``ROW_PARSED`` rows' records, in order.  Rows without a block are never
    decoded, which is what makes ``hermes_parse.arrow`` cheap; the compiled
    twin reads ``data`` where it lies, without a copy (it must not change
    during the call), and finds the tags by ``memchr`` (``bytesearch``);
    invalid UTF-8 (which Arrow does not allow) is decoded with U+FFFD.  ``options`` are
    ``StreamParser``'s, and ``truncated`` as in ``parse``.  ``draw_ids=False``
    with ``call_id=None`` leaves each call's id ``""`` for the caller to draw
    (``hermes_parse.arrow`` draws them as Arrow strings, not Python ones)."""
    check_truncated(truncated)
    parser = StreamParser(call_id=call_id, **options)
    parser._ids_later = call_id is None
    data = bytesearch.column_bytes(data)
    offsets = memoryview(offsets)
    if offsets.format != "i" or offsets.ndim != 1:
        raise TypeError("offsets must be a buffer of C ints (int32), e.g. array('i')")
    rows = bytearray(max(len(offsets) - 1, 0))
    if valid is not None:
        valid = memoryview(valid).cast("B")
        if len(valid) < len(rows):
            raise ValueError("valid must hold a byte for every row")
    batch = Batch()
    parser._run_utf8(data, offsets, valid, rows, truncated, batch)
    if call_id is None and draw_ids:
        batch.call_id[:] = random_call_ids(len(batch.call_id))
    return batch, rows


def _whole_text_parser(
    truncated,
    arguments,
    tools,
    unknown_tool,
    call_id,
    max_buffer,
    python_literals,
    reasoning,
    dialect,
):
    """The parser of ``parse`` and ``parse_many``, every option checked (the
    options passed one by one: a dict of them costs a short text's parse a third more)."""
    check_truncated(truncated)
    return StreamParser(
        arguments=arguments,
        tools=tools,
        unknown_tool=unknown_tool,
        call_id=call_id,
        max_buffer=max_buffer,
        python_literals=python_literals,
        reasoning=reasoning,
        dialect=dialect,
    )


def check_truncated(truncated):
    if truncated != "keep" and truncated != "drop" and truncated != "content":
        raise ValueError("truncated must be 'keep', 'drop' or 'content'")


def no_block(text, bare):
    """Whether no block can start in ``text``: it holds no "<tool_call>"
    (nor, with ``bare``, "<function=").  Most plain answers hold no '<' at
    all, which a search for one character tells soonest."""
    return "<" not in text or (OPEN_TAG not in text and not (bare and BARE_TAG in text))


def plain_content(text, max_buffer):
    """The content of a text in which no block can start, found without running
    the machine: the text itself, or ``None`` for whitespace alone, which the
    machine would only have held (and dropped, unless past ``max_buffer``)."""
    n = len(text)
    if skip_blank(text, 0, n) < n or n > max_buffer:  # no copy, unlike strip()
        return text
    return None
