"""The ``hermes-parse`` command: Hermes tool calls out of logs and saved completions.

    hermes-parse extract [FILE ...]     one OpenAI assistant message (JSON) per record
    hermes-parse stats [FILE ...]       tool-call rate, calls per tool, problems, sizes
    hermes-parse stream [FILE]          the deltas a client would receive
    hermes-parse vllm-plugin-path       the path for vLLM's --tool-parser-plugin
    hermes-parse serve --upstream URL   an OpenAI proxy that parses tool calls (serve/)

``main(argv)`` returns the exit code: 0 ok, 1 problems found under
``--strict`` (or an input that cannot be read, a missing optional package),
2 a usage error.  The room's other modules are ``io`` (reading, writing,
diagnostics), ``records`` (formats, messages, --fix, stats), ``tools``
(--tools) and ``tokens`` (--tokenizer).  The command depends on the core
(``hermes_parse``) and never the reverse.
"""

from __future__ import annotations

import argparse
import gc
import json
import importlib
import os
import platform
import sys
from pathlib import Path
from typing import Callable, Iterator, List, NamedTuple, Optional, Sequence, Tuple, cast

from .. import BACKEND, CallFold, __version__
from . import jsonio
from .io import Fatal, Output, Reporter, Source, UsageError, describe
from .lane import extract_lines, stats_lines, use_lane, use_stats_lane
from .records import (
    BAD_LINE,
    NO_CALLS,
    DEFAULT_FIELDS,
    Extractor,
    FieldPath,
    Stats,
    BadRecord,
    as_text,
    calls_in_text,
    chat_message,
    default_text,
    detect,
    dumps_line,
    existing_calls,
    fix_chat,
    fix_stream,
    json_line_chunk,
    json_line_chunks,
    json_lines,
    loads_slow,
    server_reasoning,
    sse_streams,
    stats_table,
    stream_reasoning,
    stream_text,
    write_lines,
)

PROG = "hermes-parse"

EXIT_CODES = """\
exit status:
  0  done (bad records, if any, were reported on stderr and skipped; an empty
     input has no records, which stderr notes)
  1  --strict and a bad record (the run stops there) or a problem was found;
     or no record at all could be read (every record was bad: stderr says why);
     or an input could not be read, or an optional package is missing
  2  usage error (a wrong option, an unusable --tools file)
"""

MAIN_EPILOG = f"""\
examples:
  {PROG} extract examples/completions.jsonl
      one OpenAI assistant message per record, tool calls parsed
  {PROG} extract examples/completions.jsonl | jq -c '.tool_calls[]?.function'
  {PROG} extract --fix examples/chat_completion.json
      the chat.completion response with its <tool_call> text moved into tool_calls
  {PROG} extract --fix examples/stream.sse
      the SSE stream re-sent the way a server with this parser sends it
  {PROG} stats examples/completions.jsonl
  {PROG} stats --json --tools examples/tools.json examples/completions.jsonl
  {PROG} stream --chunk 8 examples/completion.txt
  vllm serve MODEL --enable-auto-tool-choice \\
      --tool-parser-plugin "$({PROG} vllm-plugin-path)" --tool-call-parser hermes_parse

formats (detected from the start of each input; --format forces one):
  text    the whole input is one completion
  jsonl   JSON Lines: one record a line, the text taken from --field; by default
          the first present of {", ".join(DEFAULT_FIELDS[:2])},
          {", ".join(DEFAULT_FIELDS[2:])}
  chat    OpenAI chat.completion responses: one JSON object, or JSON Lines of them
  sse     a captured stream of chat.completion.chunk events (data: lines, data: [DONE])
  parquet a Parquet file: one record a row, the text taken from --field (a column, or a
          path into one) or the default fields; needs pyarrow (the arrow extra)

{EXIT_CODES}"""

EXTRACT_EPILOG = f"""\
Prints one JSON line per record: {{"role": "assistant", "content": ..., "tool_calls": [...]}}
(tool_calls only when there are some), as hermes_parse.parse(text).to_openai() gives it.
With --with-problems each line also has "problems": [{{"kind", "offset", "length",
"index", "detail", "record", "line"}}, ...]; --tools adds "pointer" and "schema_pointer"
(JSON pointers into the arguments and the schema) to schema_mismatch problems.

With --fix the output is the input, repaired: a chat.completion response (per line of
JSON Lines, or one object) with each choice's <tool_call> text moved from content into
message.tool_calls and finish_reason "tool_calls" ("length" stays: the output was cut);
an SSE stream re-emitted chunk by chunk with the calls as proper tool_calls deltas.
Records that need nothing are written out as they came.

With --reasoning on or open, a <think> block is split off: the message gets "reasoning"
(with --fix, a choice's message does; a stream gets {{"reasoning": ...}} deltas, in order).
A record whose server already split it (a reasoning or reasoning_content string, or
reasoning deltas) keeps the server's reasoning, and its content is not split again.

examples:
  {PROG} extract examples/completions.jsonl
  {PROG} extract --with-problems --tools examples/tools.json examples/completions.jsonl \\
      | jq -c 'select(.problems != []) | .problems[]'
  {PROG} extract --field response.body.choices.0.message.content examples/batch_output.jsonl
  {PROG} extract --fix examples/chat_completion.json | jq '.choices[0].message.tool_calls'
  {PROG} extract --fix examples/stream.sse
  {PROG} extract examples/completion.txt
  cat examples/completion.txt | {PROG} extract --format text
  {PROG} extract --truncated drop examples/completions.jsonl
      calls cut by max_tokens left out (their truncated problem is still reported)

{EXIT_CODES}"""

STATS_EPILOG = f"""\
Counts over all records of all inputs: records, records with tool calls (tool_call_rate),
calls and calls per tool name, problems by kind, malformed records (those with a
not_a_call, invalid_json, invalid_arguments, duplicate_key, trailing_text or truncated
problem; malformed_rate), and the size of the arguments in UTF-8 bytes (min, p50, p90,
p99, max, mean). A table, or one JSON object with --json. With --reasoning on or open,
also the records with reasoning (records_with_reasoning, reasoning_rate), its characters
(reasoning_chars) and the calls written inside it (calls_in_reasoning).

examples:
  {PROG} stats examples/completions.jsonl
  {PROG} stats --json examples/completions.jsonl | jq .tool_call_rate
  {PROG} stats --json --tools examples/tools.json examples/completions.jsonl | jq .problems_by_kind

{EXIT_CODES}"""

STREAM_EPILOG = f"""\
Replays one completion through StreamParser and prints each delta as one JSON line:
exactly what goes in choices[0].delta of the chunks a client receives. The text is cut
into the tokens of a real tokenizer (--tokenizer DIR: DIR/tokenizer.json, read with the
'tokenizers' package; $HERMES_PARSE_TOKENIZER is the default), detokenized one token at a
time as a server does, or into pieces of --chunk N characters (default 4). Problems go
to stderr. The input is a plain-text completion, or any input extract reads (--record N
picks the record, default 1).

examples:
  {PROG} stream examples/completion.txt
  {PROG} stream --chunk 1 --trace examples/completion.txt
  {PROG} stream --tokenizer /path/to/Qwen3-8B examples/completion.txt
  {PROG} stream --record 3 examples/completions.jsonl

{EXIT_CODES}"""


def backend() -> str:
    """Which twin of the parser runs, and why when it is the pure-Python one:
    ``cython``, or ``python: <reason>``."""
    if BACKEND == "cython":
        return "cython"
    if os.environ.get("HERMES_PARSE_NO_EXTENSIONS"):
        return "python: HERMES_PARSE_NO_EXTENSIONS is set"
    if platform.python_implementation() != "CPython":
        return f"python: the compiled extension is for CPython, not {platform.python_implementation()}"
    return NOT_BUILT


NOT_BUILT = "python: the compiled extension is not built"
# Printed once a run, on a terminal, when the pure-Python twin runs because the
# extension was not built (pip falls back to it silently without a C compiler).
# Not in a pipe or a log: scripts and tests read stderr; --version always says.
SLOW_NOTE = (
    "note: the compiled extension is not built (no C compiler at install?): running the"
    " pure-Python parser, several times slower; reinstall with a C compiler, or set"
    " HERMES_PARSE_NO_EXTENSIONS=1 to choose the Python parser and silence this note"
)


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30)


def _nonnegative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command line: subcommands extract, stats, stream, vllm-plugin-path."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Hermes-format tool calls (<tool_call>{...}</tool_call>) out of logs and saved"
        " completions, as OpenAI tool_calls, with numbers about them.",
        epilog=MAIN_EPILOG,
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__} ({backend()})")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    parsing = argparse.ArgumentParser(add_help=False)
    group = parsing.add_argument_group("parsing")
    group.add_argument(
        "--arguments",
        choices=("json", "raw"),
        default="json",
        help="json: arguments as json.dumps writes them (default); raw: the model's own text",
    )
    group.add_argument(
        "--tools",
        metavar="FILE",
        help='OpenAI tools JSON (a list, or a request with "tools"): report calls to undeclared'
        " tools (unknown_tool) and arguments that fail the tool's JSON Schema (schema_mismatch);"
        " needs the 'jsonschema' package",
    )
    group.add_argument(
        "--unknown-tool",
        choices=("call", "content"),
        default="call",
        help="with --tools, a call to an undeclared tool stays a call (default) or is left as content",
    )
    group.add_argument(
        "--python-literals",
        action="store_true",
        help="also read Python dict literals ({'name': ..., 'arguments': {...}}), as Hermes-2-Pro writes them",
    )
    group.add_argument(
        "--dialect",
        choices=DIALECTS,
        default="hermes",
        help="what is inside a <tool_call> block: hermes (JSON, the default), qwen3_coder"
        " (<function=NAME><parameter=P>), glm (NAME <arg_key>/<arg_value>), auto (each block"
        " as it shows)",
    )
    group.add_argument(
        "--reasoning",
        choices=("off", "on", "open"),
        default="off",
        help="split <think> reasoning from the answer: off (default: <think> is content), on (a"
        " <think> block opening the output is reasoning), open (the prompt opened <think>: the"
        ' output starts inside reasoning); the message gets "reasoning" (vLLM\'s field).'
        " A record whose server already split it (a reasoning or reasoning_content string) keeps"
        " that, and its content is not split again",
    )
    group.add_argument(
        "--seed",
        type=_nonnegative,
        metavar="N",
        help="call ids that depend only on N, the record and the call (default: random, as a server)",
    )

    inputs = argparse.ArgumentParser(add_help=False)
    group = inputs.add_argument_group("input")
    group.add_argument(
        "--format",
        choices=("auto",) + ("text", "jsonl", "chat", "sse", "parquet"),
        default="auto",
        help="the input format (default: detected for each input)",
    )
    group.add_argument(
        "--field",
        metavar="PATH",
        help="the dotted path of the text in a JSON record, e.g. choices.0.message.content"
        " (default: the first present of " + ", ".join(DEFAULT_FIELDS) + ")",
    )
    group.add_argument(
        "--strict",
        action="store_true",
        help="stop at the first bad record, and exit 1 if any problem was found",
    )
    group.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (shown on stderr for inputs over 4 MB when stderr is a terminal)",
    )

    extract = commands.add_parser(
        "extract",
        parents=[inputs, parsing],
        help="one OpenAI assistant message (JSON) per record; --fix repairs responses and streams",
        description="Print one OpenAI assistant message per input record, with its tool calls parsed.",
        epilog=EXTRACT_EPILOG,
        formatter_class=_Formatter,
    )
    extract.add_argument("files", nargs="*", metavar="FILE", help="inputs (default, or -: stdin)")
    extract.add_argument(
        "--fix",
        action="store_true",
        help="print chat.completion responses / SSE streams repaired, instead of messages",
    )
    extract.add_argument(
        "--with-problems", action="store_true", help="add the problems found to each output record"
    )
    extract.add_argument(
        "--output",
        "-o",
        metavar="FILE",
        help="write to FILE instead of stdout (Parquet when FILE ends in .parquet)",
    )
    extract.add_argument(
        "--output-format",
        choices=("jsonl", "parquet"),
        help="jsonl (one message a line; the default) or parquet (one row a message: record,"
        " content, reasoning, tool_calls and, with --with-problems, problems); needs pyarrow",
    )
    extract.add_argument(
        "--truncated",
        choices=("keep", "drop", "content"),
        default="keep",
        help="a call cut by the end of the text (max_tokens), whose arguments may not be valid"
        " JSON: keep it as far as it went (default), drop it, or leave its text in content;"
        " a truncated problem is reported either way (not with --fix of an SSE stream)",
    )
    extract.set_defaults(run=run_extract)

    stats = commands.add_parser(
        "stats",
        parents=[inputs, parsing],
        help="tool-call rate, calls per tool, problems by kind, argument sizes",
        description="Numbers about the tool calls in the inputs.",
        epilog=STATS_EPILOG,
        formatter_class=_Formatter,
    )
    stats.add_argument("files", nargs="*", metavar="FILE", help="inputs (default, or -: stdin)")
    stats.add_argument("--json", action="store_true", help="one JSON object instead of a table")
    stats.set_defaults(run=run_stats)

    stream = commands.add_parser(
        "stream",
        parents=[inputs, parsing],
        help="replay one completion through StreamParser and print the deltas",
        description="Print the deltas a client would receive for one completion.",
        epilog=STREAM_EPILOG,
        formatter_class=_Formatter,
    )
    stream.add_argument(
        "file", nargs="?", default="-", metavar="FILE", help="the input (default, or -: stdin)"
    )
    cut = stream.add_mutually_exclusive_group()
    cut.add_argument(
        "--tokenizer",
        metavar="DIR",
        default=os.environ.get("HERMES_PARSE_TOKENIZER") or None,
        help="cut into the tokens of DIR/tokenizer.json (e.g. a Qwen3 model directory;"
        " default $HERMES_PARSE_TOKENIZER); needs the 'tokenizers' package",
    )
    cut.add_argument(
        "--chunk", type=_positive, metavar="N", help="cut into pieces of N characters (default 4)"
    )
    stream.add_argument(
        "--record",
        type=_positive,
        default=1,
        metavar="N",
        help="which record of the input (default 1)",
    )
    stream.add_argument(
        "--trace",
        action="store_true",
        help='one line per piece fed: {"feed": piece, "deltas": [...]}, then {"close": true, "deltas": [...]}',
    )
    stream.set_defaults(run=run_stream)

    plugin = commands.add_parser(
        "vllm-plugin-path",
        help="print the path of the vLLM tool-parser plugin (for --tool-parser-plugin)",
        description="Print the absolute path of hermes_parse/vllm/plugin.py.",
        epilog=f"""example:
  vllm serve MODEL --enable-auto-tool-choice \\
      --tool-parser-plugin "$({PROG} vllm-plugin-path)" --tool-call-parser hermes_parse""",
        formatter_class=_Formatter,
    )
    plugin.set_defaults(run=run_plugin_path)

    # serve: the proxy (hermes_parse/serve/); its options module needs no aiohttp.
    from ..serve.options import add_arguments as add_serve_arguments

    serve = commands.add_parser(
        "serve",
        help="an OpenAI-compatible proxy that parses tool calls for an upstream that cannot",
        description="Serve the OpenAI API in front of --upstream, turning <tool_call> text into"
        " tool_calls (docs/serve.md). Needs the serve extra: pip install 'hermes-parse[serve]'.",
        formatter_class=_Formatter,
    )
    add_serve_arguments(serve)
    serve.set_defaults(run=run_serve)
    return parser


def run_serve(args: argparse.Namespace, reporter: Reporter, out: Output) -> int:
    """``serve``: the proxy, until interrupted (the serve room, imported only here)."""
    try:
        from ..serve.app import run

        if args.invalid_calls != "off":
            importlib.import_module("jsonschema")  # checked now, not at the first call
    except ImportError as exc:
        raise Fatal(f"serve needs the serve extra ({exc.name}): pip install 'hermes-parse[serve]'") from None
    return run(args)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors (argparse exits 2)
        return exc.code if isinstance(exc.code, int) else 2
    if argv is None:
        # The command proper (not a caller's process): what is loaded now lives
        # to the end, so keep the garbage collector from walking it again and
        # again while millions of records go by (a few percent of the run).
        gc.freeze()
    reporter = Reporter(strict=getattr(args, "strict", False))
    out = Output()
    reporter.flush_output = out.flush
    if args.run is not run_plugin_path and backend() == NOT_BUILT and reporter.stream.isatty():
        reporter.say(SLOW_NOTE)
    try:
        code = args.run(args, reporter, out)
        out.flush()
        return code
    except UsageError as exc:
        _flush_quietly(out)
        sys.stderr.write(f"{PROG} {args.command}: error: {exc}\n")
        return exc.code
    except Fatal as exc:
        _flush_quietly(out)
        reporter.flush_output = None
        reporter.say(str(exc))
        return exc.code
    except BrokenPipeError:
        # The reader went away (| head): stop quietly, as cat does.
        _silence_stdout()
        return 0
    except KeyboardInterrupt:
        _flush_quietly(out)
        return 130


def _flush_quietly(out: Output) -> None:
    try:
        out.flush()
    except BrokenPipeError:
        _silence_stdout()


def _silence_stdout() -> None:
    # Python flushes stdout again at exit; point it at /dev/null so that the
    # broken pipe is not reported a second time.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


# ---------------------------------------------------------------------------
# Shared plumbing.


def _extractor(args: argparse.Namespace, problems: bool) -> Extractor:
    tools = None
    if args.tools:
        from .tools import Tools

        tools = Tools.load(args.tools)
    return Extractor(
        arguments=args.arguments,
        tools=tools,
        unknown_tool=args.unknown_tool,
        python_literals=args.python_literals,
        seed=args.seed,
        problems=problems,
        truncated=getattr(args, "truncated", "keep"),
        reasoning=REASONING[args.reasoning],
        dialect=args.dialect,
    )


# --reasoning's values, as StreamParser and parse take them.
REASONING = {"off": False, "on": True, "open": "open"}
# --dialect's values (the core's; "auto" picks per block).
DIALECTS = ("hermes", "qwen3_coder", "glm", "auto")


Record = Tuple[int, Optional[int], str, object, bytes]


def _resolve(source: Source, fmt: str) -> str:
    """How to read ``source``: ``text``, ``jsonl``, ``json`` (one document), ``sse``
    or ``empty``, from ``--format`` and the start of the input."""
    detected = detect(source.head)
    if fmt == "auto" or detected == "empty":  # an empty input has no record, in any format
        return detected
    if fmt == "parquet":
        return "parquet"
    if fmt in ("jsonl", "chat"):
        return "json" if detected == "json" else "jsonl"
    return fmt


def _records(source: Source, fmt: str, reporter: Reporter) -> Iterator[Record]:
    """Yield (record number, line or None, kind, value, raw) for each record of
    an input read as ``fmt`` (``_resolve``).

    kind ``text``: value is the text; ``json``: a parsed JSON value (or
    ``BAD_LINE`` for a line that is not JSON, already reported); ``sse``: the
    events of one stream.
    """
    if fmt == "empty":
        return
    if fmt == "parquet":
        for number, (value, raw) in enumerate(_parquet_rows(source), 1):
            yield number, None, "json", value, raw
    elif fmt == "sse":
        for number, (line, events) in enumerate(sse_streams(source, reporter), 1):
            yield number, line, "sse", events, b""
    elif fmt == "jsonl":
        for number, (line, value, raw) in enumerate(json_lines(source, reporter), 1):
            yield number, line, "json", value, raw
    elif fmt == "json":
        data = source.read_all()
        try:
            value = loads_slow(data)
        except BadRecord as exc:
            reporter.bad(source.name, str(exc))
            return
        if isinstance(value, list):
            for number, item in enumerate(value, 1):
                if number % 1024 == 0 and source.drain is not None:
                    source.drain()
                yield number, None, "json", item, b""
        else:
            yield 1, None, "json", value, data
    else:
        data = source.read_all()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            reporter.bad(source.name, f"not valid UTF-8 (byte {exc.start})")
            return
        yield 1, None, "text", text, data


def _parquet_rows(source: Source) -> Iterator[Tuple[dict, bytes]]:
    from .parquet import row_chunks

    for rows in row_chunks(source, None, every_column=True):
        for row in rows:
            yield row, b""


class Chunk(NamedTuple):
    """Records read together (``_record_chunks``), as columns."""

    numbers: Sequence[int]  # the records' numbers
    lines: Sequence[Optional[int]]  # their line numbers (None: not read as a line)
    kind: str  # how to read the values: json, sse or text (``_records``)
    values: list


def _record_chunks(
    source: Source, fmt: str, reporter: Reporter, field: Optional[str]
) -> Iterator[Chunk]:
    """``_records`` a chunk at a time, for the batch path: the records of one
    block read of JSON Lines, 1024 elements of a JSON array, one Parquet
    batch; a record at a time otherwise (a stream, a text)."""
    number = 1  # the number of the chunk's first record
    if fmt == "jsonl":
        for lines, values, _ in json_line_chunks(source, reporter):
            yield Chunk(range(number, number + len(values)), lines, "json", values)
            number += len(values)
    elif fmt == "parquet":
        from .parquet import row_chunks

        for rows in row_chunks(source, field):
            yield Chunk(range(number, number + len(rows)), [None] * len(rows), "json", rows)
            number += len(rows)
    elif fmt == "json":
        values = []  # (typed where the jsonl branch above binds it; a list of its own)
        for _, _, _, value, _ in _records(source, fmt, reporter):
            values.append(value)
            if len(values) == 1024:
                yield Chunk(range(number, number + 1024), [None] * 1024, "json", values)
                number += 1024
                values = []
        if values:
            yield Chunk(range(number, number + len(values)), [None] * len(values), "json", values)
    else:
        for number, line, kind, value, _ in _records(source, fmt, reporter):
            yield Chunk([number], [line], kind, [value])


# Messages of records read together, as columns: (record numbers, line numbers,
# messages, problems: a list for each record, or None when not asked for).
Messages = Tuple[Sequence[int], Sequence[Optional[int]], List[dict], List[Optional[List[dict]]]]


def _message_chunks(
    source: Source,
    fmt: str,
    reporter: Reporter,
    extractor: Extractor,
    text_of,
    reasoning_getter=None,
    field: Optional[str] = None,
) -> Iterator[Messages]:
    """Yield the messages of the usable records of an input read as ``fmt``,
    a chunk at a time; bad records are reported (and skipped), problems
    counted (and printed under --strict), all in the order of the records.

    The records come a chunk at a time (``_record_chunks``: memory holds one
    chunk) and their texts are parsed together (``Extractor.messages``, the
    batch path: ``parse_many``).  With --reasoning on, the reasoning a server
    already split off (beside the text: ``reasoning_getter``; a stream's
    reasoning deltas) is the message's, and the text is not split again."""
    split_reasoning = bool(extractor.reasoning)
    # A chunk's records (thousands of dicts) live until they are written: the
    # collector's young generation would find them alive every 700
    # allocations and move them on, again and again (a third of the run).
    # They hold no cycles; the collector runs every 64 chunks only.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for count, chunk in enumerate(_record_chunks(source, fmt, reporter, field), 1):
            yield from _chunk_messages(
                source, chunk, reporter, extractor, text_of, reasoning_getter, split_reasoning
            )
            if collecting and count % 64 == 0:
                gc.collect(0)
    finally:
        if collecting:
            gc.enable()


def _messages(*args, **kwargs) -> Iterator[tuple]:
    """``_message_chunks`` a record at a time: (record number, line, message, problems)."""
    for numbers, lines, messages, problems in _message_chunks(*args, **kwargs):
        yield from zip(numbers, lines, messages, problems)


def _chunk_messages(
    source: Source,
    chunk: Chunk,
    reporter: Reporter,
    extractor: Extractor,
    text_of,
    reasoning_getter,
    split_reasoning: bool,
) -> Iterator[Messages]:
    """``_message_chunks`` of one chunk of records."""
    if chunk.kind == "json":
        try:
            found = [text_of(value) for value in chunk.values]
        except BadRecord:  # (a BAD_LINE too: no text_of takes it)
            pass  # taken a record at a time below, each bad one reported in its place
        else:
            texts = [text for text, _ in found]
            existing: Optional[list]
            existing = [calls for _, calls in found]
            if not any(existing):
                existing = None  # no record had calls (the common case)
            reasonings = None
            if split_reasoning and reasoning_getter is not None:
                reasonings = [reasoning_getter(value) for value in chunk.values]
            yield from _parsed(
                source, chunk.numbers, chunk.lines, texts, existing, reasonings, extractor, reporter
            )
            return
    numbers: List[int] = []
    lines: List[Optional[int]] = []
    texts = []
    existing = []
    reasonings = []
    for number, line, value in zip(chunk.numbers, chunk.lines, chunk.values):
        if value is BAD_LINE:
            continue
        try:
            if chunk.kind == "json":
                text, calls = text_of(value)
            elif chunk.kind == "sse":
                text, calls = stream_text(value)
            else:
                text, calls = value, NO_CALLS
        except BadRecord as exc:
            # The records before it go out first (stdout and stderr stay in order).
            yield from _parsed(
                source, numbers, lines, texts, existing, reasonings, extractor, reporter
            )
            numbers, lines, texts, existing, reasonings = [], [], [], [], []
            if reporter.bad_keys is None and type(value) is dict:
                reporter.bad_keys = list(value)
            reporter.bad(_where(source, line, number), str(exc))
            continue
        reasoning = None
        if split_reasoning:
            if chunk.kind == "json":
                if reasoning_getter is not None:
                    reasoning = reasoning_getter(value)
            elif chunk.kind == "sse":
                reasoning = stream_reasoning(value)
        numbers.append(number)
        lines.append(line)
        texts.append(text)
        existing.append(calls)
        reasonings.append(reasoning)
    yield from _parsed(source, numbers, lines, texts, existing, reasonings, extractor, reporter)


def _parsed(
    source: Source,
    numbers: Sequence[int],
    lines: Sequence[Optional[int]],
    texts: List[str],
    existing: Optional[List[Sequence[dict]]],
    reasonings: Optional[List[Optional[str]]],
    extractor: Extractor,
    reporter: Reporter,
) -> Iterator[Messages]:
    """The records of ``texts`` parsed together (``_message_chunks``)."""
    if not texts:
        return
    reporter.records += len(texts)
    messages, problems = extractor.messages(texts, numbers, existing, reasonings)
    if not extractor.problems:
        yield numbers, lines, messages, problems
    elif not reporter.strict:
        for number, line, found in zip(numbers, lines, problems):
            if found:
                _annotate(found, number, line)
                reporter.found(_where(source, line, number), found)
        yield numbers, lines, messages, problems
    else:
        # --strict prints the problems: a record at a time, so that each
        # record's go out between the records around it.
        for k, found in enumerate(problems):
            if found:
                _annotate(found, numbers[k], lines[k])
                reporter.found(_where(source, lines[k], numbers[k]), found)
            yield numbers[k : k + 1], lines[k : k + 1], messages[k : k + 1], problems[k : k + 1]


def _where(source: Source, line: Optional[int], number: int) -> str:
    if line is not None:
        return f"{source.name}:{line}"
    return source.name if number == 1 else f"{source.name}: record {number}"


def _reasoning_getter(args: argparse.Namespace):
    """The function giving the reasoning a server already split off beside the
    text of a JSON record (``server_reasoning`` of the message whose content is
    the text: the default text's message, the object holding a --field that
    ends in ``content``), or None when there is no such place."""
    if args.field is None:
        return lambda value: server_reasoning(chat_message(value))
    if args.field == "content":
        return server_reasoning
    if args.field.endswith(".content"):
        parent = FieldPath(args.field[: -len(".content")])
        return lambda value: server_reasoning(parent.get(value))
    return None


def _text_getter(args: argparse.Namespace):
    """The function giving (text, existing calls) of a JSON record."""
    if args.field is None:
        if args.format == "chat":

            def chat_text(value):
                message = chat_message(value)
                if message is None:
                    raise BadRecord("not a chat.completion response (no choices[0].message)")
                return as_text(message.get("content"), "choices.0.message.content"), existing_calls(
                    message
                )

            return chat_text
        return default_text
    path = FieldPath(args.field)
    missing = object()

    def field_text(value):
        found = path.get(value, missing)
        if found is missing:
            raise BadRecord(f"no field {args.field}")
        return as_text(found, args.field), []

    return field_text


def _annotate(problems: List[dict], number: int, line: Optional[int]) -> None:
    for problem in problems:
        problem["record"] = number
        problem["line"] = line


def _inputs(files: List[str]) -> List[str]:
    return files or ["-"]


def _check_stdin(paths: List[str]) -> None:
    if paths.count("-") > 1:
        raise UsageError("stdin (-) can be read only once")


# ---------------------------------------------------------------------------
# Commands.


def run_extract(args: argparse.Namespace, reporter: Reporter, out: Output) -> int:
    """``hermes-parse extract``."""
    if args.fix and args.field:
        raise UsageError(
            "--fix repairs chat.completion responses and SSE streams; --field does not apply"
        )
    if args.fix and args.format in ("text", "jsonl"):
        raise UsageError(
            f"--fix repairs chat.completion responses and SSE streams, not --format {args.format}"
        )
    paths = _inputs(args.files)
    _check_stdin(paths)
    parquet_out = args.output_format == "parquet" or (
        args.output_format is None and (args.output or "").endswith(".parquet")
    )
    if args.fix and parquet_out:
        raise UsageError("--fix writes the repaired responses and streams as they came, not Parquet")
    if args.output:
        out = _file_output(args.output, reporter)
    try:
        if not parquet_out:
            return _extract(args, reporter, out, paths, None)
        from .parquet import ParquetOutput

        table = ParquetOutput(out.binary_stream(), args.with_problems)
        try:
            return _extract(args, reporter, out, paths, table)
        finally:
            table.close()
    finally:
        if args.output:
            out.close()


def _file_output(path: str, reporter: Reporter) -> Output:
    """--output FILE: an Output to FILE (``run_extract`` closes it)."""
    try:
        stream = open(path, "wb")
    except OSError as exc:
        raise Fatal(f"cannot write {path}: {exc.strerror or exc}") from None
    out = Output(stream)
    reporter.flush_output = out.flush
    return out


def _extract(args: argparse.Namespace, reporter: Reporter, out: Output, paths: List[str], table) -> int:
    """extract's loop over the inputs; ``table``: the Parquet output, or None (JSON Lines)."""
    extractor = _extractor(args, problems=args.with_problems or args.strict)
    text_of = _text_getter(args)
    with_problems = args.with_problems
    write = out.write
    formats = set()
    for path in paths:
        with Source(path, reporter, progress=not args.no_progress) as source:
            source.drain = out.flush
            fmt = _resolve(source, args.format)
            formats.add(fmt)
            if fmt == "empty":
                reporter.say(f"{source.name}: no records (the input is empty)")
                continue
            if args.fix and fmt == "parquet":
                raise UsageError(
                    f"--fix repairs chat.completion responses and SSE streams; {source.name} is Parquet"
                )
            if args.fix:
                for number, line, kind, value, raw in _records(source, fmt, reporter):
                    if value is BAD_LINE:
                        write(raw + b"\n")
                    else:
                        _fix_record(
                            args, extractor, reporter, source, write, number, line, kind, value, raw
                        )
                continue
            if use_lane(args, extractor, fmt, table):
                _extract_lines(source, reporter, extractor, out)
                continue
            for numbers, _, messages, problems in _message_chunks(
                source, fmt, reporter, extractor, text_of, _reasoning_getter(args), args.field
            ):
                if with_problems:
                    for message, found in zip(messages, problems):
                        message["problems"] = found
                if table is not None:
                    for number, message in zip(numbers, messages):
                        table.add(number, message)
                else:
                    write_lines(write, messages)
    return _finish(reporter, formats, args.fix)


def _extract_lines(source: Source, reporter: Reporter, extractor: Extractor, out: Output) -> None:
    """extract by the fast lane (``lane.py``): JSON Lines as bytes; the lines
    it does not take go the usual way, in their places."""
    write = out.write

    def write_lines_to(messages: List[dict], problems: List[Optional[List[dict]]]) -> None:
        write_lines(write, messages)

    extract_lines(source, reporter, extractor, out.buffer, _slow_run(source, reporter, extractor, write_lines_to))


def _stats_lines(source: Source, reporter: Reporter, extractor: Extractor, stats: Stats) -> None:
    """stats by the fast lane (``lane.py``): the lines it takes counted from
    the parsed columns, the others the usual way, in their places."""

    def add(messages: List[dict], problems: List[Optional[List[dict]]]) -> None:
        for message, found in zip(messages, problems):
            stats.add(message, found)

    stats_lines(source, reporter, extractor, stats, _slow_run(source, reporter, extractor, add))


def _slow_run(
    source: Source,
    reporter: Reporter,
    extractor: Extractor,
    take: Callable[[List[dict], List[Optional[List[dict]]]], None],
) -> Callable[[List[bytes], int, int], int]:
    """The lane's ``slow_run``: lines it did not take, the usual way; ``take``
    gets their messages and problems, a chunk at a time."""

    def slow_run(lines: List[bytes], first_line: int, first_record: int) -> int:
        records = 0
        for numbers, values, _ in json_line_chunk(source, reporter, lines, first_line):
            chunk = Chunk(range(first_record + records, first_record + records + len(values)), numbers, "json", values)
            for _, _, messages, problems in _chunk_messages(
                source, chunk, reporter, extractor, default_text, None, False
            ):
                take(messages, problems)
            records += len(values)
        return records

    return slow_run


def _finish(reporter: Reporter, formats: set, fix: bool = False) -> int:
    """The summary and the exit code; a run that read no record at all (every
    record bad) is an error, with a hint."""
    code = reporter.finish()
    why = reporter.nothing_read(formats, fix)
    if why is not None:
        reporter.say(f"error: {why}")
        return 1
    return code


def _fix_record(args, extractor, reporter, source, write, number, line, kind, value, raw) -> None:
    where = _where(source, line, number)
    if kind == "text":
        raise UsageError(
            f"--fix repairs chat.completion responses and SSE streams; {source.name} is plain text"
        )
    if kind == "sse":
        if extractor.truncated != "keep":
            raise UsageError(
                f"--truncated {extractor.truncated} applies to messages and chat.completion"
                f" responses; {source.name} is a stream, which cannot take back what it sent"
            )
        reporter.records += 1
        lines, problems = fix_stream(value, extractor, number, line, args.with_problems)
        if problems:
            reporter.found(where, problems)
        for piece in lines:
            write(piece)
        return
    if chat_message(value) is None:
        if reporter.bad_keys is None and type(value) is dict:
            reporter.bad_keys = list(value)
        reporter.bad(
            where, "not a chat.completion response (no choices[0].message); written as it came"
        )
        write(raw + b"\n" if raw else dumps_line(value))
        return
    try:
        if line is not None and (
            calls_in_text(value, extractor.reasoning)
            or (extractor.tools is not None and args.with_problems)
        ):
            # The record may be rewritten: read it again exactly (orjson reads an
            # integer beyond 64 bits as a float; json keeps it; one nested too
            # deeply for json is a bad record).
            value = loads_slow(raw)
        reporter.records += 1
        changed, problems = fix_chat(value, extractor, number, args.with_problems)
        if problems:
            _annotate(problems, number, line)  # (in the record too, --with-problems)
        rewritten = None if not changed and line is not None else dumps_line(value)
    except BadRecord as exc:
        reporter.bad(where, f"{exc}; written as it came")
        write(raw + b"\n" if raw else dumps_line(value))
        return
    if problems:
        reporter.found(where, problems)
    if rewritten is None:
        write(raw.rstrip(b"\r") + b"\n")
    else:
        write(rewritten)


def run_stats(args: argparse.Namespace, reporter: Reporter, out: Output) -> int:
    """``hermes-parse stats``."""
    paths = _inputs(args.files)
    _check_stdin(paths)
    extractor = _extractor(args, problems=True)
    text_of = _text_getter(args)
    stats = Stats(reasoning=bool(extractor.reasoning))
    formats = set()
    for path in paths:
        with Source(path, reporter, progress=not args.no_progress) as source:
            fmt = _resolve(source, args.format)
            formats.add(fmt)
            if fmt == "empty":
                reporter.say(f"{source.name}: no records (the input is empty)")
                continue
            if use_stats_lane(args, extractor, fmt):
                _stats_lines(source, reporter, extractor, stats)
                continue
            for _, _, message, problems in _messages(
                source, fmt, reporter, extractor, text_of, _reasoning_getter(args), args.field
            ):
                stats.add(message, problems)
    data = stats.to_dict(reporter.bad_records)
    # A tool name holding a lone surrogate (a JSON escape such as "\ud800" in
    # the call gives one) cannot be UTF-8: the JSON keeps it as that escape,
    # the table as its backslash form.
    if args.json:
        try:
            out.write(jsonio.dumps_indented(data))
        except TypeError:  # (orjson's JSONEncodeError is one)
            out.write((json.dumps(data, indent=2) + "\n").encode("ascii"))
    else:
        out.write(stats_table(data).encode("utf-8", "backslashreplace"))
    return _finish(reporter, formats)


def run_stream(args: argparse.Namespace, reporter: Reporter, out: Output) -> int:
    """``hermes-parse stream``."""
    extractor = _extractor(args, problems=True)
    text_of = _text_getter(args)
    text = None
    prior = None  # the reasoning a server split off: the text is not split again
    reasoning_of = _reasoning_getter(args)
    with Source(args.file, reporter, progress=False) as source:
        for number, line, kind, value, _ in _records(
            source, _resolve(source, args.format), reporter
        ):
            if number < args.record:
                continue
            where = _where(source, line, number)
            if kind == "json" and value is BAD_LINE:
                raise Fatal(f"{where}: record {number} is not JSON")
            try:
                if kind == "json":
                    text, _ = text_of(value)
                    prior = reasoning_of(value) if reasoning_of is not None else None
                elif kind == "sse":  # a stream's events (_records)
                    text, _ = stream_text(cast(list, value))
                    prior = stream_reasoning(cast(list, value))
                else:
                    text = value
            except BadRecord as exc:
                raise Fatal(f"{where}: {exc}") from None
            break
        name = source.name
    if text is None:
        raise Fatal(f"{name} has no record {args.record}")
    if args.tokenizer and not args.chunk:  # --chunk wins over $HERMES_PARSE_TOKENIZER
        from .tokens import token_pieces

        pieces = token_pieces(text, args.tokenizer)
    else:
        size = args.chunk or 4
        pieces = [text[start : start + size] for start in range(0, len(text), size)]
    parser = extractor.parser(args.record, split=prior is None)
    fold = CallFold() if extractor.tools is not None else None  # the calls, for --tools
    for count, piece in enumerate(pieces, 1):
        deltas = parser.feed(piece)
        if fold is not None:
            fold.add(deltas)
        _print_deltas(out, deltas, args.trace, {"feed": piece})
        if count % 1024 == 0:
            out.flush()
    deltas = parser.close()
    if fold is not None:
        fold.add(deltas)
    _print_deltas(out, deltas, args.trace, {"close": True})
    out.flush()
    problems = [problem.to_dict() for problem in parser.problems]
    if fold is not None:
        for call in fold.finish(parser.calls_finished):
            problems += extractor.tools.check(call.index, call.name, call.arguments, known=True)
    for problem in problems:
        reporter.say(f"{name}: {describe(problem)}")
    return 1 if problems and args.strict else 0


def _print_deltas(out: Output, deltas: List[dict], trace: bool, head: dict) -> None:
    if trace:
        out.write(dumps_line({**head, "deltas": deltas}))
    else:
        for delta in deltas:
            out.write(dumps_line(delta))


def run_plugin_path(args: argparse.Namespace, reporter: Reporter, out: Output) -> int:
    """``hermes-parse vllm-plugin-path``."""
    # Computed, not imported: importing the plugin would import vLLM.
    path = Path(__file__).resolve().parent.parent / "vllm" / "plugin.py"
    if not path.is_file():
        raise Fatal(f"{path} does not exist: this installation of hermes-parse has no vLLM plugin")
    out.write(f"{path}\n".encode("utf-8"))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
