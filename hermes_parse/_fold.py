"""The one fold of deltas into a message, as an OpenAI client accumulates them.

Every consumer that needs whole calls (``parse``'s callers, the command's
``--fix``, the engine adapters) folds the deltas here instead of writing its
own loop.  The parser tells which calls are final through its
``calls_finished`` counter (a call's block has ended: its arguments will not
grow), so the fold can hand each call out exactly once, the moment it is
complete, without scanning the arguments for a closing brace::

    parser, fold = StreamParser(), CallFold()
    for chunk in chunks:
        fold.add(parser.feed(chunk))
        for call in fold.finish(parser.calls_finished):
            run(call)                  # a whole ToolCall, arguments final
    fold.add(parser.close())
    for call in fold.finish(parser.calls_finished):
        run(call)
    message = fold.message(parser.problems)

The fold holds what it is given (the calls' arguments and the content): it is
for consumers that keep the message anyway.  A server that only forwards
deltas needs no fold.
"""

from __future__ import annotations

from typing import Iterable, List, Optional

from ._types import Message, Problem, ToolCall

__all__ = ["CallFold"]


class CallFold:
    """Accumulates ``choices[0].delta`` dicts into content and tool calls."""

    __slots__ = ("_content", "_reasoning", "_ids", "_names", "_arguments", "_finished")

    def __init__(self) -> None:
        self._content: List[str] = []
        self._reasoning: List[str] = []
        self._ids: List[str] = []
        self._names: List[str] = []
        self._arguments: List[List[str]] = []
        self._finished = 0

    def add(self, deltas: Iterable[dict]) -> None:
        """Take deltas as ``StreamParser.feed``/``close`` return them (or any
        OpenAI deltas: indices may arrive in any order, keys may be missing)."""
        for delta in deltas:
            text = delta.get("content")
            if text:
                self._content.append(text)
            text = delta.get("reasoning")
            if text:
                self._reasoning.append(text)
            for entry in delta.get("tool_calls") or ():
                index = entry["index"]
                while len(self._ids) <= index:
                    self._ids.append("")
                    self._names.append("")
                    self._arguments.append([])
                if "id" in entry:
                    self._ids[index] = entry["id"]
                function = entry.get("function") or {}
                if "name" in function:
                    self._names[index] = function["name"]
                arguments = function.get("arguments")
                if arguments:
                    self._arguments[index].append(arguments)

    @property
    def content(self) -> Optional[str]:
        """The content so far, ``None`` when empty."""
        return "".join(self._content) or None

    @property
    def reasoning(self) -> Optional[str]:
        """The reasoning so far, ``None`` when there was none."""
        return "".join(self._reasoning) or None

    def __len__(self) -> int:
        """How many calls have started."""
        return len(self._ids)

    def arguments(self, index: int) -> str:
        """Call ``index``'s arguments so far."""
        parts = self._arguments[index]
        if len(parts) > 1:  # join once, keep the joined text
            parts[:] = ["".join(parts)]
        return parts[0] if parts else ""

    def call(self, index: int) -> ToolCall:
        """Call ``index`` as far as it went."""
        return ToolCall(index, self._ids[index], self._names[index], self.arguments(index))

    @property
    def calls(self) -> List[ToolCall]:
        """Every call so far, in index order."""
        return [self.call(index) for index in range(len(self._ids))]

    @property
    def finished(self) -> int:
        """How many calls ``finish`` has handed out."""
        return self._finished

    def finish(self, calls_finished: int) -> List[ToolCall]:
        """The calls that became final since the last call, given the parser's
        ``calls_finished``; each call is handed out once."""
        start = self._finished
        end = min(calls_finished, len(self._ids))
        if end <= start:
            return []
        self._finished = end
        return [self.call(index) for index in range(start, end)]

    def message(self, problems: Iterable[Problem] = ()) -> Message:
        """The accumulated ``Message``."""
        return Message(self.content, self.calls, problems, self.reasoning)
