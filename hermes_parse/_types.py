"""The values the parser hands out: small frozen classes, as h11's events are.

These are plain Python (never compiled) so that both twins of the state machine
return the very same types.
"""

from __future__ import annotations

import binascii
import os
import random
import string
from typing import Any, Callable, Iterable, List, Optional

__all__ = [
    "ClosedError",
    "Message",
    "Problem",
    "ToolCall",
    "random_call_id",
    "seeded_ids",
    "sequential_ids",
]


class ClosedError(ValueError):
    """``feed()`` was called after ``close()``: the stream has ended."""


class _Frozen:
    """Immutable, compared and hashed by ``_key()``."""

    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _key(self) -> tuple:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._key() == other._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._key())


class Problem(_Frozen):
    """A defect found in the model's output.

    ``kind`` is one of the documented kinds (docs/grammar.md, "Behaviour on bad input"):
    ``not_a_call``, ``invalid_json``, ``invalid_arguments``, ``duplicate_key``,
    ``trailing_text``, ``truncated``, ``unknown_tool``, ``call_in_reasoning``, and in the
    XML dialects ``invalid_value`` and ``missing_close``.  ``offset`` and
    ``length`` give the span of the input (in characters, from the start of
    the whole output) that the problem covers; ``index`` is the tool call it
    belongs to, or ``None`` when the block never became a call.
    """

    __slots__ = ("kind", "offset", "length", "index", "detail")

    kind: str
    offset: int
    length: int
    index: Optional[int]
    detail: str

    def __init__(
        self, kind: str, offset: int, length: int, index: Optional[int], detail: str
    ) -> None:
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "offset", offset)
        object.__setattr__(self, "length", length)
        object.__setattr__(self, "index", index)
        object.__setattr__(self, "detail", detail)

    def _key(self) -> tuple:
        return (self.kind, self.offset, self.length, self.index, self.detail)

    def __repr__(self) -> str:
        return (
            f"Problem(kind={self.kind!r}, offset={self.offset}, length={self.length},"
            f" index={self.index!r}, detail={self.detail!r})"
        )

    def to_dict(self) -> dict:
        """Return the problem as a JSON-ready dict."""
        return {
            "kind": self.kind,
            "offset": self.offset,
            "length": self.length,
            "index": self.index,
            "detail": self.detail,
        }


class ToolCall(_Frozen):
    """One tool call: ``arguments`` is a JSON string, as in OpenAI's API."""

    __slots__ = ("index", "id", "name", "arguments")

    index: int
    id: str
    name: str
    arguments: str

    def __init__(self, index: int, id: str, name: str, arguments: str) -> None:
        object.__setattr__(self, "index", index)
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "arguments", arguments)

    def _key(self) -> tuple:
        return (self.index, self.id, self.name, self.arguments)

    def __repr__(self) -> str:
        return (
            f"ToolCall(index={self.index}, id={self.id!r}, name={self.name!r},"
            f" arguments={self.arguments!r})"
        )

    def to_openai(self) -> dict:
        """Return the call as an OpenAI ``tool_calls`` entry."""
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


class Message:
    """What the model said: ``content`` (``None`` when empty), ``tool_calls``,
    ``problems``, and ``reasoning`` (its ``<think>`` text with ``reasoning``
    on; ``None`` when there was none)."""

    __slots__ = ("content", "tool_calls", "problems", "reasoning")

    content: Optional[str]
    tool_calls: list
    problems: list
    reasoning: Optional[str]

    def __init__(
        self,
        content: Optional[str],
        tool_calls: Iterable[ToolCall] = (),
        problems: Iterable[Problem] = (),
        reasoning: Optional[str] = None,
    ) -> None:
        object.__setattr__(self, "content", content)
        object.__setattr__(self, "tool_calls", list(tool_calls))
        object.__setattr__(self, "problems", list(problems))
        object.__setattr__(self, "reasoning", reasoning)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        if type(other) is not Message:
            return NotImplemented
        return (self.content, self.tool_calls, self.problems, self.reasoning) == (
            other.content,  # type: ignore[union-attr]
            other.tool_calls,  # type: ignore[union-attr]
            other.problems,  # type: ignore[union-attr]
            other.reasoning,  # type: ignore[union-attr]
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        reasoning = "" if self.reasoning is None else f", reasoning={self.reasoning!r}"
        return (
            f"Message(content={self.content!r}, tool_calls={self.tool_calls!r},"
            f" problems={self.problems!r}{reasoning})"
        )

    def to_openai(self) -> dict:
        """Return the OpenAI assistant message dict.

        ``tool_calls`` is left out when there are none: OpenAI's API rejects an
        empty ``tool_calls`` array when the message is sent back to it.
        ``reasoning`` (vLLM's field name) is there only when there was some.
        """
        message: dict = {"role": "assistant", "content": self.content}
        if self.reasoning is not None:
            message["reasoning"] = self.reasoning
        if self.tool_calls:
            message["tool_calls"] = [call.to_openai() for call in self.tool_calls]
        return message

    def settle_truncated(self, text: str, truncated: str) -> "Message":
        """Return the message with a call cut by the end of ``text`` kept,
        dropped or moved to content (``parse``'s ``truncated`` option).

        ``keep`` returns the message itself.  ``drop`` removes the call;
        ``content`` also appends its block, from ``<tool_call>`` to the end of
        the text, to the content.  Either way the ``truncated`` problem stays,
        and the problems of that call get ``index=None``: it is no call.
        """
        if truncated == "keep":
            return self
        cut = truncated_call(self.problems)
        if cut is None:
            return self
        calls = [call for call in self.tool_calls if call.index != cut.index]
        problems = [
            Problem(p.kind, p.offset, p.length, None, p.detail) if p.index == cut.index else p
            for p in self.problems
        ]
        content = self.content
        if truncated == "content":
            content = (content or "") + text[cut.offset :]
        return Message(content, calls, problems, self.reasoning)

    @classmethod
    def from_deltas(
        cls, deltas: Iterable[dict], problems: Iterable[Problem] = ()
    ) -> "Message":
        """Accumulate ``choices[0].delta`` dicts the way an OpenAI client does."""
        from ._fold import CallFold  # the one fold; it imports this module

        fold = CallFold()
        fold.add(deltas)
        return fold.message(problems)


def truncated_call(problems: Iterable[Problem]) -> Optional[Problem]:
    """The ``truncated`` problem of a call cut by the end of the text, or
    ``None``: what ``parse``'s and ``parse_many``'s ``truncated`` act on."""
    for problem in problems:
        if problem.kind == "truncated" and problem.index is not None:
            return problem
    return None


# ---------------------------------------------------------------------------
# Call ids.  OpenAI's look like "call_" + 24 letters and digits.
_ID_ALPHABET = string.ascii_letters + string.digits
# Not for secrets: ids only have to be unique, and this is ten times faster
# than `secrets`.  Seeded from the OS so two processes never share a sequence.
_id_random = random.Random(os.urandom(16))
_ID_LETTERS = bytes.maketrans(b"+/", b"xz")


def random_call_id(index: int, name: str) -> str:
    """Return a fresh OpenAI-style id (the default ``call_id``): ``call_`` and 24
    letters and digits."""
    # 18 random bytes are 24 base64 characters; "+" and "/" become letters.
    return "call_" + binascii.b2a_base64(_id_random.randbytes(18), newline=False).translate(
        _ID_LETTERS
    ).decode("ascii")


# A random byte's character: its low 6 bits pick one of 64 (base64's alphabet,
# "+" and "/" as "x" and "z"), as a base64 character of random bytes does.
_ID_BYTE_LETTERS = (
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789xz" * 4
)
# An id in random_call_ids' text: "call_", 24 characters, a space.
_ID_STRIDE = 30


def random_call_ids(count: int) -> List[str]:
    """``count`` ids as ``random_call_id`` makes them (``call_`` and 24
    characters, each as likely as there), made in C-level passes over one
    text, not one by one: random bytes, one an id's character, become the
    characters (``translate``), ``call_`` and a space are written over each
    id's first five and last byte (a slice assignment a column), and the
    text is split on the spaces."""
    text = bytearray(_id_random.randbytes(_ID_STRIDE * count).translate(_ID_BYTE_LETTERS))
    for column, byte in zip((0, 1, 2, 3, 4, _ID_STRIDE - 1), b"call_ "):
        text[column::_ID_STRIDE] = bytes((byte,)) * count
    return text.decode("ascii").split()


def sequential_ids(prefix: str = "call_") -> Callable[[int, str], str]:
    """Return a ``call_id`` function giving ``prefix + index``: ``call_0``, ``call_1``..."""

    def call_id(index: int, name: str) -> str:
        return f"{prefix}{index}"

    return call_id


def seeded_ids(seed: int) -> Callable[[int, str], str]:
    """Return a ``call_id`` function giving OpenAI-style ids that depend only on
    ``seed`` and the call's index, so that a parse and a stream of the same text
    (or two runs over a log) give the same ids."""

    def call_id(index: int, name: str) -> str:
        rng = random.Random(f"{seed}:{index}")
        return "call_" + "".join(rng.choices(_ID_ALPHABET, k=24))

    return call_id
