"""``parse_many``'s result: the parsed records as columns, ready for Arrow.

A log of a million completions wants columns (content, reasoning, the calls
and problems of every record), not a million ``Message`` objects.  The calls
of all records are kept flat, one list per field, with ``call_offsets``
saying where each record's calls start (record ``i`` has calls
``call_offsets[i]:call_offsets[i + 1]``), which is Arrow's own layout of a
``list<struct>`` column; problems likewise.  ``message(i)`` builds record
``i``'s ``Message`` when one is wanted.
"""

from __future__ import annotations

from typing import List, Optional

from ._types import Message, Problem, ToolCall

__all__ = ["Batch"]


class Batch:
    """Columns of parsed records (see the module's docstring)."""

    def __init__(self) -> None:
        self.content: List[Optional[str]] = []
        self.reasoning: List[Optional[str]] = []
        self.valid: List[bool] = []  # False for a null record (a None text)
        self.call_offsets: List[int] = [0]
        self.call_id: List[str] = []
        self.call_name: List[str] = []
        self.call_arguments: List[str] = []
        self.problem_offsets: List[int] = [0]
        self.problem_kind: List[str] = []
        self.problem_offset: List[int] = []
        self.problem_length: List[int] = []
        self.problem_index: List[Optional[int]] = []
        self.problem_detail: List[str] = []

    def __len__(self) -> int:
        return len(self.content)

    # -- filled by the machine (its loop appends to the columns itself) ------

    def add_problems(self, problems: List[Problem], cut: int) -> None:
        """A record's problems; those of call ``cut`` (dropped or moved to
        content by ``truncated``) belong to no call."""
        for problem in problems:
            self.problem_kind.append(problem.kind)
            self.problem_offset.append(problem.offset)
            self.problem_length.append(problem.length)
            self.problem_index.append(None if problem.index == cut else problem.index)
            self.problem_detail.append(problem.detail)

    # -- read ----------------------------------------------------------------

    def message(self, i: int) -> Optional[Message]:
        """Record ``i`` as ``parse`` returns it (``None`` for a null record)."""
        if not self.valid[i]:
            return None
        start, stop = self.call_offsets[i], self.call_offsets[i + 1]
        calls = [
            ToolCall(index, self.call_id[at], self.call_name[at], self.call_arguments[at])
            for index, at in enumerate(range(start, stop))
        ]
        start, stop = self.problem_offsets[i], self.problem_offsets[i + 1]
        problems = [
            Problem(
                self.problem_kind[at],
                self.problem_offset[at],
                self.problem_length[at],
                self.problem_index[at],
                self.problem_detail[at],
            )
            for at in range(start, stop)
        ]
        return Message(self.content[i], calls, problems, self.reasoning[i])

    def messages(self) -> List[Optional[Message]]:
        """Every record's ``Message`` (``None`` for null records)."""
        return [self.message(i) for i in range(len(self))]
