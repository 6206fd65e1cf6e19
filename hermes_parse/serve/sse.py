"""Server-sent events: bytes in, the ``data`` of each complete event out.

Only what an OpenAI stream uses: ``data:`` lines (joined with newlines when an
event has several), a blank line ending an event, comments (``:``) and other
fields ignored, any line ending (``\\n``, ``\\r\\n``, ``\\r``).  The decoder holds
only the unfinished line and event, never what was already handed out.
"""

from __future__ import annotations

from typing import List

__all__ = ["SSEDecoder", "TooLong", "event"]


class TooLong(ValueError):
    """An event grew past the decoder's limit without ending."""


def event(data: str) -> bytes:
    """One SSE event carrying ``data`` (a single line: JSON has no raw newline)."""
    return b"data: " + data.encode("utf-8") + b"\n\n"


class SSEDecoder:
    """Feed bytes, get the ``data`` strings of the events they complete."""

    __slots__ = ("_line", "_data", "_size", "_limit", "_cr")

    def __init__(self, limit: int = 64 * 1024 * 1024) -> None:
        self._line = bytearray()  # an unfinished line
        self._data: List[str] = []  # the data lines of an unfinished event
        self._size = 0
        self._limit = limit
        self._cr = False  # the last byte was a \r: a \n right after it is the same line end

    def feed(self, chunk: bytes) -> List[str]:
        """Return the data of each event ``chunk`` completes.

        Raises ``TooLong`` when an event passes the limit and
        ``UnicodeDecodeError`` for a line that is not UTF-8.
        """
        events: List[str] = []
        if self._cr and chunk[:1] == b"\n":
            chunk = chunk[1:]
        self._cr = chunk[-1:] == b"\r"
        if b"\r" in chunk:
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                self._line += chunk[start:]
                self._size += len(chunk) - start
                if self._size > self._limit:
                    raise TooLong(f"an event longer than {self._limit} bytes")
                return events
            if self._line:
                self._line += chunk[start:end]
                line = bytes(self._line)
                self._line.clear()
            else:
                line = chunk[start:end]
            start = end + 1
            self._size += len(line) + 1
            if self._size > self._limit:
                raise TooLong(f"an event longer than {self._limit} bytes")
            if not line:
                if self._data:
                    events.append("\n".join(self._data))
                    self._data = []
                self._size = 0
            elif line.startswith(b"data:"):
                value = line[5:]
                if value[:1] == b" ":
                    value = value[1:]
                self._data.append(value.decode("utf-8"))
            # comments (":...") and other fields (event:, id:, retry:) are not used

    def end(self) -> List[str]:
        """The stream ended: an event left without its blank line, if any."""
        if self._line:
            line = bytes(self._line)
            self._line.clear()
            if line.startswith(b"data:"):
                value = line[5:]
                self._data.append((value[1:] if value[:1] == b" " else value).decode("utf-8"))
        events = ["\n".join(self._data)] if self._data else []
        self._data = []
        return events
