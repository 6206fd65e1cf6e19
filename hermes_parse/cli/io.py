"""Input, output and diagnostics for the ``hermes-parse`` command.

Inputs are read in blocks of up to 1 MiB and cut into lines without ever
holding more than a block and the current line, so a multi-gigabyte log takes
constant memory.  ``read1`` (one system call, whatever is there) keeps a pipe
such as ``tail -f log | hermes-parse extract`` flowing record by record.
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import sys
import time
from typing import IO, Callable, Iterator, List, Optional, cast

BLOCK = 1 << 20
# "Files over a few MB" get a progress bar (when stderr is a terminal).
PROGRESS_MIN_BYTES = 4 << 20
BOM = b"\xef\xbb\xbf"
# At most this many bad records, and problems under --strict, are printed one by one.
MAX_PRINTED = 100


class Fatal(Exception):
    """Stops the run: ``hermes-parse: <message>`` on stderr, exit ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class UsageError(Fatal):
    """A wrong command line or argument file (exit 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 2)


def describe(problem: dict) -> str:
    """A problem dict in one line: ``kind (call i) at /pointer: detail``."""
    call = "" if problem["index"] is None else f" (call {problem['index']})"
    if "pointer" in problem:
        place = f" at {problem['pointer'] or '/'}"
    elif problem.get("offset") is not None:
        place = f" at characters {problem['offset']}-{problem['offset'] + problem['length']}"
    else:
        place = ""
    return f"{problem['kind']}{call}{place}: {problem['detail']}"


class Progress:
    """A one-line progress bar on a terminal, redrawn at most ten times a second."""

    def __init__(self, name: str, total: int, stream: IO[str]) -> None:
        self._name = name
        self._total = total
        self._stream = stream
        self._start = time.monotonic()
        self._last = 0.0
        self._shown = False

    def update(self, done: int) -> None:
        now = time.monotonic()
        if now - self._last < 0.1:
            return
        self._last = now
        mb = 1 << 20
        elapsed = now - self._start
        fraction = min(done / self._total, 1.0) if self._total else 1.0
        tail = f" {fraction:4.0%} {done / mb:,.1f}/{self._total / mb:,.1f} MB"
        if elapsed >= 0.5:  # a rate over less is mostly the first read
            tail += f" {done / mb / elapsed:,.0f} MB/s"
        room = self._width() - 1 - len(tail)
        name = self._name
        if len(name) > max(room - 13, 8):
            keep = max(room - 14, 7)
            name = "…" + name[-keep:]
        bar = room - len(name) - 3
        line = (
            f"{name} [{'#' * int(bar * fraction)}{'.' * (bar - int(bar * fraction))}]"
            if bar >= 5
            else name
        )
        self._stream.write(f"\r{line}{tail}")
        self._stream.flush()
        self._shown = True

    def _width(self) -> int:
        try:
            width = os.get_terminal_size(self._stream.fileno()).columns
        except (OSError, AttributeError, ValueError):
            width = 0
        return width if width > 0 else shutil.get_terminal_size((80, 24)).columns

    def clear(self) -> None:
        """Erase the bar (before a message, and at the end)."""
        if self._shown:
            self._stream.write("\r\x1b[K")
            self._stream.flush()
            self._shown = False


class Reporter:
    """Diagnostics on stderr: bad records, problems under ``--strict``, notes.

    A bad record (a line that is not JSON, a record without the text field...)
    is reported with its file and line and skipped; under ``--strict`` it stops
    the run (``Fatal``, exit 1).
    """

    def __init__(self, strict: bool = False, stream: Optional[IO[str]] = None) -> None:
        self.strict = strict
        self.stream = stream if stream is not None else sys.stderr
        self.bad_records = 0
        # Records read (used) so far, and the keys of the first bad JSON object
        # record: a run that reads no record says what the records hold.
        self.records = 0
        self.bad_keys: Optional[List[str]] = None
        self.problems = 0
        self.records_with_problems = 0
        self.progress: Optional[Progress] = None
        # The output so far goes out before a message, so that the two stay in
        # order when they go to the same place (2>&1).
        self.flush_output: Optional[Callable[[], None]] = None

    def say(self, message: str) -> None:
        """Print ``hermes-parse: message`` on stderr (above the progress bar)."""
        if self.flush_output is not None:
            self.flush_output()
        if self.progress is not None:
            self.progress.clear()
        self.stream.write(f"hermes-parse: {message}\n")
        self.stream.flush()

    def bad(self, where: str, message: str) -> None:
        """A bad record at ``where`` (``file:line``): report it; fatal under --strict.

        The first hundred are printed; the rest are counted in the summary.
        """
        self.bad_records += 1
        if self.bad_records <= MAX_PRINTED:
            self.say(f"{where}: bad record: {message}")
            if self.bad_records == MAX_PRINTED and not self.strict:
                self.say("further bad records are counted, not shown")
        if self.strict:
            raise Fatal("stopping at the first bad record (--strict)")

    def found(self, where: str, problems: List[dict]) -> None:
        """Count a record's problems; under --strict, print them (the first hundred)."""
        self.records_with_problems += 1
        for problem in problems:
            self.problems += 1
            if self.strict and self.problems <= MAX_PRINTED:
                self.say(f"{where}: {describe(problem)}")

    def count_found(self, records: int, problems: int) -> None:
        """``found`` for many records at once, without printing (never under
        --strict): ``records`` of them had ``problems`` problems in all."""
        self.records_with_problems += records
        self.problems += problems

    def nothing_read(self, formats: "set[str]", fix: bool = False) -> Optional[str]:
        """When no record at all was read but some were bad: why, with a hint
        (``formats``: the formats the inputs were read as); else None."""
        if self.records or not self.bad_records:
            return None
        hints = []
        if self.bad_keys is not None and not fix:
            keys = ", ".join(self.bad_keys[:12]) + (", ..." if len(self.bad_keys) > 12 else "")
            hints.append(f"the records' keys are {keys or '(none)'}: name the text with --field PATH")
        if fix:
            hints.append(
                "--fix repairs chat.completion responses and SSE streams; extract without --fix"
                " reads other records"
            )
        elif formats & {"jsonl", "json"}:
            hints.append("if the input is one plain-text completion, read it with --format text")
        text = f"no record could be read ({self.bad_records:,} bad)"
        return text + ("; " + "; ".join(hints) if hints else "")

    def finish(self) -> int:
        """Print the summary; return the exit code (1: something found under --strict)."""
        if self.bad_records:
            self.say(f"{self.bad_records:,} bad record{'s' * (self.bad_records != 1)} skipped")
        if self.strict and self.problems:
            if self.problems > MAX_PRINTED:
                self.say(f"... {self.problems - MAX_PRINTED:,} more problems not shown")
            self.say(
                f"{self.problems:,} problem{'s' * (self.problems != 1)} in "
                f"{self.records_with_problems:,} record{'s' * (self.records_with_problems != 1)} (--strict)"
            )
        return 1 if self.strict and (self.problems or self.bad_records) else 0


class Source:
    """One input, a file or ``-`` (stdin), read in blocks.

    ``head`` is the start of the input (at least its first line, when that fits
    in a block), for format detection; ``blocks()`` and ``lines()`` start from
    the very beginning again.
    """

    def __init__(self, path: str, reporter: Reporter, progress: bool = True) -> None:
        self.path = path
        self.name = "<stdin>" if path == "-" else path
        self._reporter = reporter
        if path == "-":
            self._file = sys.stdin.buffer
            self._close = False
            if sys.stdin.isatty():
                reporter.say("reading stdin (end it with Ctrl-D)")
        else:
            try:
                self._file = open(path, "rb", buffering=0)
            except OSError as exc:
                raise Fatal(f"cannot read {path}: {exc.strerror or exc}") from None
            self._close = True
        self._read = getattr(self._file, "read1", self._file.read)
        self.size: Optional[int] = None
        try:
            info = os.fstat(self._file.fileno())
            if stat.S_ISREG(info.st_mode):
                self.size = info.st_size
        except (OSError, AttributeError, ValueError):
            pass
        self._progress: Optional[Progress] = None
        if (
            progress
            and self.size is not None
            and self.size >= PROGRESS_MIN_BYTES
            and reporter.stream.isatty()
        ):
            self._progress = Progress(self.name, self.size, reporter.stream)
        self._done = 0
        # Called between batches of records, before each read that may wait:
        # the output so far goes out, so that memory holds about one block's
        # output and a pipe fed a line at a time is answered a line at a time.
        self.drain: Optional[Callable[[], None]] = None
        self.head = self._read_head()

    def _read_block(self) -> bytes:
        if self.drain is not None:
            self.drain()
        try:
            block = self._read(BLOCK)
        except OSError as exc:
            raise Fatal(f"cannot read {self.name}: {exc.strerror or exc}") from None
        if block and self._progress is not None:
            self._done += len(block)
            self._progress.update(self._done)
        return block

    def _read_head(self) -> bytes:
        """Read up to the end of the first line that is not blank (or the end)."""
        parts: List[bytes] = []
        seen_text = False
        while True:
            block = self._read_block()
            if not block:
                break
            parts.append(block)
            if not seen_text:
                stripped = block.lstrip()
                if not stripped:
                    continue
                seen_text = True
                if b"\n" in stripped:
                    break
            elif b"\n" in block:
                break
        head = b"".join(parts)
        if head.startswith(BOM):
            head = head[len(BOM) :]
        return head

    def __enter__(self) -> "Source":
        self._reporter.progress = self._progress
        return self

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.clear()
        self._reporter.progress = None
        if self._close:
            self._file.close()

    def blocks(self) -> Iterator[bytes]:
        """Yield the input in blocks (the head first)."""
        if self.head:
            yield self.head
        while True:
            block = self._read_block()
            if not block:
                return
            yield block

    def read_all(self) -> bytes:
        """Return the whole input (for a plain-text completion or one JSON document)."""
        return b"".join(self.blocks())

    def line_batches(self) -> Iterator[List[bytes]]:
        """Yield lists of whole lines (without their ``\\n``), block by block.

        Only the current block and a line that spans blocks are held.
        """
        carry: List[bytes] = []
        for block in self.blocks():
            lines = block.split(b"\n")
            if len(lines) == 1:
                carry.append(block)
                continue
            if carry:
                carry.append(lines[0])
                lines[0] = b"".join(carry)
                carry = []
            last = lines.pop()
            if last:
                carry.append(last)
            yield lines
        if carry:
            yield [b"".join(carry)]


class Output:
    """Buffered binary output to stdout (UTF-8 text when stdout has no buffer).

    ``write`` is the buffer's own ``extend`` (the cheapest call there is, once
    per record); the buffer goes out at each ``flush``, which the reading side
    calls between batches of records (``Source.drain``), so it holds the output
    of about one input block.
    """

    def __init__(self, stream: Optional[IO] = None) -> None:
        stream = stream if stream is not None else sys.stdout
        self._stream = stream
        self._binary = getattr(stream, "buffer", None)
        if self._binary is None and isinstance(stream, (io.RawIOBase, io.BufferedIOBase)):
            self._binary = stream  # a file opened "wb" (--output)
        self._buffer = bytearray()
        # The pending bytes (cleared in place at each flush), for a writer
        # that appends to them itself (extract's fast lane).
        self.buffer = self._buffer
        self.write: Callable[[bytes], None] = self._buffer.extend

    def flush(self) -> None:
        """Write what is pending and flush stdout."""
        if self._buffer:
            if self._binary is not None:
                self._binary.write(self._buffer)
            else:
                self._stream.write(self._buffer.decode("utf-8"))
            self._buffer.clear()
        if self._binary is not None:
            self._binary.flush()
        self._stream.flush()

    def binary_stream(self) -> IO[bytes]:
        """The binary stream under this output, for a writer of its own (Parquet's)."""
        self.flush()
        return cast(IO[bytes], self._binary if self._binary is not None else self._stream)

    def close(self) -> None:
        """Flush, and close the stream (an --output file)."""
        self.flush()
        self._stream.close()
