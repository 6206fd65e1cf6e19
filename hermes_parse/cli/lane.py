"""The command's fast lane: a block of JSON Lines read as bytes, parsed as
one column (``lines.py`` says how, and why it is fast); ``extract`` writes
the messages as bytes, ``stats`` counts them from the columns.

``use_lane`` says when extract takes it: JSON Lines in and out, the default
text field, and no option that needs the records themselves (--fix,
--field, --format chat, --reasoning, --with-problems, --strict, --tools);
``use_stats_lane`` the same for stats (which always counts problems: from
the batch's columns, so only --strict and --tools keep it off); and only
with the compiled ``lines`` module.  Whatever it does not take (a line of
another shape, a line that is not JSON, a blank line) goes the usual way,
a run of such lines at a time, in its place: the output, the records'
numbers, the ids from --seed, the counts and the reports are the usual
way's.
"""

from __future__ import annotations

import gc
import importlib.machinery
from contextlib import closing
from typing import Any, Callable, Generator, Iterable, Iterator, List, Tuple

from .. import _machine
from ..machine.codes import ROW_PARSED
from . import jsonio, lines as _lines
from .io import Reporter, Source
from .records import Extractor, Stats, _no_id, dumps_line

__all__ = ["COMPILED", "extract_lines", "stats_lines", "use_lane", "use_stats_lane", "whole_lines"]

# Whether the compiled ``lines`` is what runs (in pure Python the lane would
# be slower than orjson: the usual way is taken).
COMPILED = (_lines.__file__ or "").endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


def use_lane(args: Any, extractor: Extractor, fmt: str, table: Any) -> bool:
    """Whether extract reads this input by the fast lane."""
    return _lane_reads(args, extractor, fmt) and table is None and not args.fix and not extractor.problems


def use_stats_lane(args: Any, extractor: Extractor, fmt: str) -> bool:
    """Whether stats reads this input by the fast lane: its problems are
    counted from the columns, unless --strict prints them (a record at a
    time) or --tools adds its own."""
    return _lane_reads(args, extractor, fmt) and not args.strict and extractor.tools is None


def _lane_reads(args: Any, extractor: Extractor, fmt: str) -> bool:
    """What both commands' lanes need: the compiled lane, orjson (whose bytes
    the writer writes), JSON Lines read by the default text field, no
    reasoning split."""
    return (
        COMPILED
        and jsonio.HAVE_ORJSON
        and fmt == "jsonl"
        and args.format != "chat"
        and args.field is None
        and not extractor.reasoning
    )


# slow_run(lines, first_line, first_record): the usual way for lines[...] (not
# taken by the lane), from line number first_line, record number first_record;
# returns how many records they were (a blank line is none).
SlowRun = Callable[[List[bytes], int, int], int]


def extract_lines(
    source: Source,
    reporter: Reporter,
    extractor: Extractor,
    out: bytearray,
    slow_run: SlowRun,
    lines_module: Any = None,
) -> None:
    """Write the messages of ``source``'s JSON Lines into ``out`` (the
    output's buffer, flushed between blocks by the source): the lines taken
    parsed as one column a scan at a time, the others the usual way
    (``slow_run``), in order.

    ``lines_module``: the ``lines`` twin to run (tests; the compiled one
    otherwise)."""
    module = lines_module if lines_module is not None else _lines
    scanner = module.LineScanner()
    options = dict(extractor.options)
    seeded = extractor.seed is not None
    record = 1  # the number of the next record
    first = 1  # the line number of the next line
    with closing(_scans(source, module, scanner)) as scans:
        for data, buffers, count in scans:
            column, offsets, spans, codes, bounds = buffers
            taken = scanner.taken_lines
            writer = None
            if taken:
                batch, rows = _machine.parse_utf8(
                    memoryview(column)[: scanner.size],
                    memoryview(offsets)[: taken + 1],
                    truncated=extractor.truncated,
                    call_id=_no_id if seeded else None,
                    **options,
                )
                ids = _seeded_ids(extractor, data, count, codes, bounds, rows, batch, record) if seeded else batch.call_id
                writer = module.MessageWriter(
                    data, codes, spans, column, offsets, rows, batch, ids, jsonio.orjson.dumps, dumps_line
                )
                reporter.records += taken
            for at, stop, taken_run in _runs(codes, count):
                if taken_run:
                    parts: List[bytes] = []
                    writer.write(parts, at, stop)  # type: ignore[union-attr]
                    out += b"".join(parts)
                    record += stop - at
                else:
                    record += slow_run([data[bounds[k] : bounds[k + 1] - 1] for k in range(at, stop)], first + at, record)
            first += count


def stats_lines(
    source: Source,
    reporter: Reporter,
    extractor: Extractor,
    stats: Stats,
    slow_run: SlowRun,
    lines_module: Any = None,
) -> None:
    """Count the records of ``source``'s JSON Lines into ``stats`` (and their
    problems into ``reporter``) as ``stats.add`` of each message would: the
    lines taken parsed as one column (no ids: stats shows none) and counted
    from it a run at a time, the others the usual way (``slow_run``), in
    their order."""
    module = lines_module if lines_module is not None else _lines
    scanner = module.LineScanner()
    options = dict(extractor.options)
    record = 1
    first = 1
    with closing(_scans(source, module, scanner)) as scans:
        for data, buffers, count in scans:
            column, offsets, _, codes, bounds = buffers
            taken = scanner.taken_lines
            batch = rows = None
            if taken:
                batch, rows = _machine.parse_utf8(
                    memoryview(column)[: scanner.size],
                    memoryview(offsets)[: taken + 1],
                    truncated=extractor.truncated,
                    draw_ids=False,
                    **options,
                )
                reporter.records += taken
            row = 0  # the taken lines' rows, and the parsed ones' records in batch
            parsed = 0
            for at, stop, taken_run in _runs(codes, count):
                if taken_run:
                    rows_stop = row + stop - at
                    parsed_stop = parsed + rows.count(ROW_PARSED, row, rows_stop)  # type: ignore[union-attr]
                    with_problems, problems = stats.add_columns(stop - at, batch, parsed, parsed_stop)
                    reporter.count_found(with_problems, problems)
                    row, parsed = rows_stop, parsed_stop
                    record += stop - at
                else:
                    record += slow_run([data[bounds[k] : bounds[k + 1] - 1] for k in range(at, stop)], first + at, record)
            first += count


def _scans(source: Source, module: Any, scanner: Any) -> Generator[Tuple[bytes, tuple, int], None, None]:
    """``source`` a block of whole lines at a time, scanned: ``(data,
    buffers, count)`` for each scan, the ``count`` lines just read from
    ``data`` (``scanner`` says how far, and which it took)."""
    buffers = None
    collecting = gc.isenabled()
    gc.disable()  # few objects live here; the usual way's runs collect as it does
    try:
        for blocks, data in enumerate(whole_lines(source.blocks()), 1):
            start = 0
            while start < len(data):
                # The buffers are made once (each is written before it is
                # read), larger for a larger block; they may fill before the
                # block ends (lines shorter than LINE_ROOM bytes): the scan
                # goes on where it stopped.
                if buffers is None or len(buffers[0]) < len(data) - start:
                    buffers = module.buffers(len(data) - start)
                yield data, buffers, scanner.scan(data, start, *buffers)
                start = scanner.stop
            if collecting and blocks % 64 == 0:
                gc.collect(0)
    finally:
        if collecting:
            gc.enable()


def _runs(codes: Any, count: int) -> Iterator[Tuple[int, int, bool]]:
    """The ``count`` lines scanned, as runs ``(start, stop, taken)``: lines
    the lane took (``codes`` set), and the others, in turn."""
    at = 0
    while at < count:
        taken = bool(codes[at])
        stop = at + 1
        while stop < count and bool(codes[stop]) == taken:
            stop += 1
        yield at, stop, taken
        at = stop


def whole_lines(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """The input's ``blocks``, each cut after its last newline (the rest
    goes with the next block); the last line may lack its newline.  The
    lines are ``Source.line_batches``'."""
    pending: List[bytes] = []  # the start of a line that spans blocks
    for block in blocks:
        end = block.rfind(b"\n") + 1
        if end == 0:
            pending.append(block)  # no newline yet: a line longer than a block
            continue
        if pending:
            pending.append(block)
            block = b"".join(pending)
            end = block.rfind(b"\n") + 1
            pending = []
        if end < len(block):
            pending.append(block[end:])
            block = block[:end]
        yield block
    if pending:
        yield b"".join(pending)


def _seeded_ids(
    extractor: Extractor, data: bytes, count: int, codes: Any, bounds: Any, rows: Any, batch: Any, record: int
) -> List[str]:
    """The ids of ``batch``'s calls from --seed: each from its record's number
    (``record`` is the block's first), as ``Extractor.messages`` makes them."""
    numbers: List[int] = []  # the parsed rows' record numbers
    row = 0
    for at in range(count):
        if codes[at]:
            if rows[row] == ROW_PARSED:
                numbers.append(record)
            row += 1
            record += 1
        elif data[bounds[at] : bounds[at + 1] - 1].strip():  # a blank line is no record (the usual way skips it)
            record += 1
    return extractor._seeded_ids(numbers, batch.call_offsets, batch.call_name)
