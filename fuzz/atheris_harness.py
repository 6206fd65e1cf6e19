"""Coverage-guided fuzzing of the state machine (atheris / libFuzzer).

One input is a few header bytes and a text::

    byte 0      option flags (see FLAG_*)
    byte 1      max_buffer when FLAG_SMALL_BUFFER is set: 1 + byte % 64;
                its top two bits: reasoning (1: True, 2: "open")
    byte 2      number of cut points, (byte & 63) % 17; its top two bits:
                the dialect (0 hermes, 1 qwen3_coder, 2 glm, 3 auto)
    2 bytes     per cut point, big-endian, taken modulo len(text) + 1
    the rest    the model's output, UTF-8 (invalid bytes and encoded
                surrogates become lone surrogates)

For each input the Cython twin parses the text whole and streams it in the
drawn chunks, and the harness checks:

* the deltas accumulate (``Message.from_deltas``, deterministic ids from
  ``hermes_parse.sequential_ids()``) to exactly what ``parse`` returns,
  problems included; so each call's fragments concatenate to its arguments;
* every delta has the documented OpenAI shape (a call's id, type and name
  once, first; indices 0, 1, 2... in order; no empty fragment);
* every problem has a documented kind and a span inside the text;
* a call without problems has complete arguments: a JSON object, and in
  ``arguments="json"`` mode exactly ``json.dumps(json.loads(args),
  ensure_ascii=False)`` (save for the departures docs/grammar.md documents);
  in the XML dialects every call's arguments are a JSON object, problems or
  not (but a GLM call cut by the end of the text, kept as far as it went);
* misuse raises what docs/grammar.md says (``ClosedError`` after ``close()``,
  ``TypeError`` for bytes, ``ValueError`` for a bad option) and nothing
  else raises at all;
* on one input in ``--twin-every`` (chosen by a hash of the input, so a
  finding reproduces), the pure-Python twin gives the same ``parse`` and the
  same deltas, feed by feed and delta by delta.

And, on every input, the command's fast lane (``hermes_parse/cli/lines.py``,
see ``check_lane``): the text's bytes, cut at the cut points into blocks of
whole lines as ``lane.whole_lines`` cuts its source, are read by
``LineScanner.scan`` and written by ``MessageWriter`` of the compiled
``lines`` (the fuzz build's, with coverage and ASan) and of its source run as
plain Python; both must give the same codes, offsets, spans, column and
output, each line taken must hold, at the field the lane read, the text
``orjson.loads``/``json.loads`` find there, and what the writer writes must
be what ``orjson.dumps`` writes for the message.

Which Cython twin: ``$HERMES_FUZZ_BUILD`` names the build of
``fuzz/build_fuzz_extension.sh`` (coverage counters, ASan): its five modules
``hermes_parse/machine/*.so`` are made ``hermes_parse.machine.<name>`` by a
meta path finder put first (``install_fuzz_build``), so the compiled modules
find each other by their full names and the normal in-place build is never
imported; the rest of the package is the source tree ``$HERMES_FUZZ_SRC``.
Without it the normal build is fuzzed and the coverage that guides libFuzzer
comes from the pure-Python twin (``hermes_parse._machine_py``), instrumented
by atheris and then run on every input.  ``fuzz/run_fuzz.sh`` sets all this up.

Run ``python fuzz/atheris_harness.py --explain FILE`` to decode an input
(options, chunks) and check it once, with a full traceback, outside libFuzzer.
Other arguments go to libFuzzer.
"""

from __future__ import annotations

import array
import collections
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import math
import os
import sys
import sysconfig
import time
import zlib

FLAG_RAW = 0x01  # arguments="raw"
FLAG_PYTHON = 0x02  # python_literals=True
FLAG_SMALL_BUFFER = 0x04  # max_buffer = 1 + byte1 % 64 (byte1 == 255: 0, a ValueError)
FLAG_TOOLS = 0x08  # tools=[get_weather, search] (typed parameters: the XML dialects read them)
FLAG_UNKNOWN_CONTENT = 0x10  # unknown_tool="content"
FLAG_EACH_CHAR = 0x20  # feed one character at a time (the cut points are ignored)
FLAG_EMPTY_FEEDS = 0x40  # feed("") before each chunk
FLAG_STR_SUBCLASS = 0x80  # the text and the chunks are a str subclass

HEADER = 3
MAX_CUTS = 16
DIALECTS = ("hermes", "qwen3_coder", "glm", "auto")  # by the top two bits of byte 2
# Typed parameters of every kind, for the XML dialects' typing (the hermes
# dialect only reads the names); the names are the corpus's and hermes.dict's.
TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {
        "city": {"type": "string"}, "days": {"type": "integer"}, "unit": {"enum": ["c", "f"]},
        "verbose": {"type": "boolean"}, "ratio": {"type": "number"}, "note": {"type": ["string", "null"]},
    }}}},
    {"type": "function", "function": {"name": "search", "parameters": {"type": "object", "properties": {
        "q": {"type": "string"}, "n": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
        "options": {"type": "object"}, "items": {"type": "array"}, "none": {"type": "null"},
    }}}},
]
PROBLEM_KINDS = frozenset(
    (
        "not_a_call",
        "invalid_json",
        "invalid_arguments",
        "duplicate_key",
        "trailing_text",
        "truncated",
        "unknown_tool",
        "call_in_reasoning",
        # the XML dialects (docs/dialects.md)
        "invalid_value",
        "missing_close",
    )
)


class InvariantViolation(AssertionError):
    """A promise of docs/grammar.md broken by one input."""


# Findings reported and not fixed yet (see fuzz/README.md, "Findings").  With
# --ignore-known an input that hits one of them is passed over, so that a long
# run can look for others; by default they are findings like any other.  Each
# test gets the exception, the text and the options.
KNOWN = {
    # None open.  An entry looks like
    # "named-escape-surrogate": lambda exc, text, options: isinstance(exc, UnicodeEncodeError)
    # and "surrogates not allowed" in str(exc),
}


def known_finding(exc, text, options):
    """The name of the known finding ``exc`` is, or None."""
    for name, matches in KNOWN.items():
        if matches(exc, text, options):
            return name
    return None


class Text(str):
    """A str subclass: feed() and parse() must take it as the str it is."""


# ---------------------------------------------------------------------------
# Loading the twins


class FuzzBuildFinder(importlib.abc.MetaPathFinder):
    """Finds ``hermes_parse.machine.<name>`` as ``<directory>/<name><EXT_SUFFIX>``,
    and the command's fast lane ``hermes_parse.cli.lines`` as
    ``<directory>/../cli/lines<EXT_SUFFIX>``.

    First in ``sys.meta_path``, it answers only the names of the instrumented
    modules in ``directory`` (and the lane); every other name (``hermes_parse``,
    ``hermes_parse.machine``, ``codes``, the pure twin, the rest of
    ``hermes_parse.cli``) is left to the normal finders, i.e. the source tree.
    The compiled modules import the modules they cimport by those full names,
    so they all find each other here.  A build without the lane's module
    (built before it was fuzzed) answers ``hermes_parse.cli.lines`` with its
    source, so that the normal in-place build never enters the process.
    """

    PACKAGE = "hermes_parse.machine"
    LANE = "hermes_parse.cli.lines"

    def __init__(self, directory):
        self.directory = directory
        self.lane_directory = os.path.join(os.path.dirname(directory), "cli")
        self.suffix = sysconfig.get_config_var("EXT_SUFFIX")
        self.source = None  # the source tree (install_fuzz_build sets it)

    def lane_origin(self):
        """The fuzz build's ``lines`` module, or None."""
        origin = os.path.join(self.lane_directory, "lines" + self.suffix)
        return origin if os.path.isfile(origin) else None

    def names(self):
        return sorted(
            entry[: -len(self.suffix)] for entry in os.listdir(self.directory) if entry.endswith(self.suffix)
        )

    def find_spec(self, fullname, path=None, target=None):
        if fullname == self.LANE:
            origin = self.lane_origin()
            if origin is not None:
                loader = importlib.machinery.ExtensionFileLoader(fullname, origin)
                return importlib.util.spec_from_file_location(fullname, origin, loader=loader)
            if self.source is None:
                return None
            source = os.path.join(self.source, "hermes_parse", "cli", "lines.py")
            return importlib.util.spec_from_file_location(fullname, source)
        package, _, leaf = fullname.rpartition(".")
        if package != self.PACKAGE:
            return None
        origin = os.path.join(self.directory, leaf + self.suffix)
        if not os.path.isfile(origin):
            return None
        loader = importlib.machinery.ExtensionFileLoader(fullname, origin)
        return importlib.util.spec_from_file_location(fullname, origin, loader=loader)


def install_fuzz_build(build, source):
    """Make ``hermes_parse.machine.<name>`` the instrumented modules of
    ``build`` (``build/hermes_parse/machine/*.so``, written by
    fuzz/build_fuzz_extension.sh) and ``hermes_parse`` the tree ``source``
    they were compiled from; import the package; check that no other
    extension module of it (the normal in-place build) is in the process.
    Return the package."""
    loaded = sorted(name for name in sys.modules if name == "hermes_parse" or name.startswith("hermes_parse."))
    if loaded:
        sys.exit(f"atheris_harness: hermes_parse was imported before the fuzz build was installed: {loaded}")
    directory = os.path.join(os.path.abspath(build), "hermes_parse", "machine")
    if not os.path.isdir(directory):
        sys.exit(f"atheris_harness: no fuzz build in {directory} (run fuzz/build_fuzz_extension.sh)")
    finder = FuzzBuildFinder(directory)
    source = os.path.abspath(source)
    finder.source = source
    sys.meta_path.insert(0, finder)
    sys.path.insert(0, source)
    # The compiled twin is chosen by the package itself: it must be this one.
    os.environ.pop("HERMES_PARSE_NO_EXTENSIONS", None)
    import hermes_parse
    import hermes_parse.machine as machine

    package_dir = os.path.join(source, "hermes_parse")
    if os.path.dirname(os.path.abspath(hermes_parse.__file__)) != package_dir:
        sys.exit(f"atheris_harness: hermes_parse is {hermes_parse.__file__}, not from {source}")
    # One instrumented module per compiled source of the tree (the package's
    # own rule, setup.py's: bytesearch has a .pxd but is compiled into the envelope).
    wanted = sorted(machine.COMPILED)
    if finder.names() != wanted:
        sys.exit(f"atheris_harness: {directory} holds {finder.names()}, the sources want {wanted} (rebuild)")
    if hermes_parse.BACKEND != "cython":
        sys.exit(f"atheris_harness: the fuzz build in {directory} did not load (BACKEND {hermes_parse.BACKEND})")
    check_extension_origins(finder)
    for name in wanted:
        module = sys.modules.get(f"{machine.__name__}.{name}")
        if module is None or os.path.dirname(os.path.abspath(module.__file__)) != directory:
            sys.exit(f"atheris_harness: {machine.__name__}.{name} is not the fuzz build's")
    return hermes_parse


def check_extension_origins(finder):
    """Every extension module of hermes_parse in the process is the fuzz build's."""
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None) or ""
        if name.startswith("hermes_parse") and origin.endswith(suffixes):
            if os.path.dirname(os.path.abspath(origin)) not in (finder.directory, finder.lane_directory):
                sys.exit(f"atheris_harness: {name} was loaded from {origin}, not from the fuzz build")


def load_pure_twin(instrument):
    """The pure-Python twin's envelope module, ``hermes_parse._machine_py``,
    instrumented by atheris when ``instrument``.

    atheris.instrument_imports() matches the top-level package only (its
    include ``hermes_parse._machine_py`` means every ``hermes_parse.*``
    imported inside the block): the package and the rest of it are imported
    before, so only the pure twin's modules are loaded in the block.  They are
    dropped from sys.modules first, should the package have loaded them (it
    does when the compiled twin is missing): the twin is then loaded afresh.
    """
    import hermes_parse.machine as machine

    if not instrument:
        return machine.load("python")
    import atheris

    prefix = machine.PURE_PACKAGE + "."
    for name in [name for name in sys.modules if name.startswith(prefix)]:
        del sys.modules[name]
    with atheris.instrument_imports(include=[machine.PURE_PACKAGE]):
        twin = machine.load("python")
    for name in ("codes", *machine.COMPILED):  # every module of the pure twin
        module = sys.modules[prefix + name]
        if not type(module.__loader__).__name__.startswith("Atheris"):
            sys.exit(f"atheris_harness: {prefix + name} was not instrumented")
    return twin


def load_twins():
    """Return (cython_twin, python_twin, description); the twins are envelope
    modules (StreamParser, parse).  python_twin is None when the Cython twin is
    not built (then the Python twin is fuzzed alone, as cython_twin)."""
    build = os.environ.get("HERMES_FUZZ_BUILD")
    if build:
        # The fuzz build: coverage counters (and ASan) in the C code, which is
        # what guides libFuzzer; the Python twin is the reference only.
        source = os.environ.get("HERMES_FUZZ_SRC") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        hermes_parse = install_fuzz_build(build, source)
        cython_twin = hermes_parse.machine.load("cython")
        python_twin = load_pure_twin(instrument=False)
        mode = os.environ.get("HERMES_FUZZ_MODE", "?")
        directory = os.path.dirname(cython_twin.__file__)
        return cython_twin, python_twin, f"fuzz build ({mode}) {directory}"
    # Fallback: the normal build, Python-level coverage from the Python twin.
    os.environ.pop("HERMES_PARSE_NO_EXTENSIONS", None)
    hermes_parse = importlib.import_module("hermes_parse")
    python_twin = load_pure_twin(instrument=True)
    if hermes_parse.BACKEND != "cython":
        print(
            "atheris_harness: the Cython twin is not built; fuzzing the Python twin alone",
            file=sys.stderr,
        )
        return python_twin, None, "no Cython build: the Python twin alone (Python coverage)"
    cython_twin = hermes_parse.machine.load("cython")
    directory = os.path.dirname(cython_twin.__file__)
    return cython_twin, python_twin, f"normal build {directory} (Python-level coverage)"


# The command's fast lane: the compiled ``lines`` (None: not compiled) and its
# source as plain Python (None: the lane check is skipped, ``description`` says why).
LaneTwins = collections.namedtuple("LaneTwins", "compiled pure description")
PURE_LINES = "hermes_parse_cli_lines_py"  # the pure twin's module name (as tests/test_cli_lane.py)


def load_pure_lines(instrument):
    """hermes_parse/cli/lines.py run as plain Python, under another name; its
    code instrumented by atheris when ``instrument`` (the normal mode: then
    its Python-level coverage guides libFuzzer towards the lane too)."""
    import hermes_parse.cli

    path = os.path.join(os.path.dirname(os.path.abspath(hermes_parse.cli.__file__)), "lines.py")
    spec = importlib.util.spec_from_file_location(PURE_LINES, path)
    if instrument:
        from atheris import import_hook

        spec.loader = import_hook.make_dynamic_atheris_loader(spec.loader, True)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_lines(instrument):
    """The twins of the command's fast lane (``LaneTwins``).  With the fuzz
    build (``install_fuzz_build`` done), the compiled one is its
    ``hermes_parse/cli/lines.so``; else the normal in-place build's, if any."""
    try:
        import orjson  # noqa: F401  (the lane runs only with it: lane.use_lane)
    except ImportError:
        return LaneTwins(None, None, "lane check skipped: orjson is not installed (the lane needs it)")
    import hermes_parse.cli.lines as compiled

    pure = load_pure_lines(instrument)
    origin = os.path.abspath(getattr(compiled, "__file__", None) or "")
    if not origin.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)):
        if os.environ.get("HERMES_FUZZ_BUILD"):
            why = "the fuzz build has no hermes_parse/cli/lines (rebuild: fuzz/build_fuzz_extension.sh)"
        else:
            why = "hermes_parse/cli/lines.py is not compiled"
        return LaneTwins(None, pure, f"lane: {why}; its pure twin is checked alone, against json")
    finders = [finder for finder in sys.meta_path if isinstance(finder, FuzzBuildFinder)]
    if finders:
        if origin != finders[0].lane_origin():
            sys.exit(f"atheris_harness: hermes_parse.cli.lines is {origin}, not the fuzz build's")
        check_extension_origins(finders[0])
        return LaneTwins(compiled, pure, f"lane: the fuzz build's {origin} against its pure twin")
    return LaneTwins(compiled, pure, f"lane: the normal build's {origin} against its pure twin")


# ---------------------------------------------------------------------------
# Decoding an input


def decode_text(raw):
    """UTF-8 to str; encoded surrogates or invalid bytes become lone surrogates."""
    try:
        return raw.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "surrogateescape")


def _read_header(data, fdp_class):
    """An input's header, cut points and body: (flags, buffer byte, the cut
    points' bytes, the body's bytes, the options both checks read from the
    header: arguments, dialect, python_literals, unknown_tool)."""
    fdp = fdp_class(data)
    head = fdp.ConsumeBytes(HEADER).ljust(HEADER, b"\0")
    flags, buffer_byte, cut_byte = head[0], head[1], head[2]
    count = (cut_byte & 63) % (MAX_CUTS + 1)
    raw_cuts = fdp.ConsumeBytes(2 * count)
    raw = fdp.ConsumeBytes(fdp.remaining_bytes())
    options = {"arguments": "raw" if flags & FLAG_RAW else "json"}
    dialect = DIALECTS[cut_byte >> 6]
    if dialect != "hermes":
        options["dialect"] = dialect
    if flags & FLAG_PYTHON:
        options["python_literals"] = True
    if flags & FLAG_UNKNOWN_CONTENT:
        options["unknown_tool"] = "content"
    return flags, buffer_byte, raw_cuts, raw, options


def _cut(sequence, raw_cuts):
    """``sequence`` cut at the cut points (two bytes each, modulo its length + 1)."""
    size = len(sequence)
    cuts = sorted({int.from_bytes(raw_cuts[k : k + 2], "big") % (size + 1) for k in range(0, len(raw_cuts) - 1, 2)})
    pieces, start = [], 0
    for cut in cuts:
        if start < cut < size:
            pieces.append(sequence[start:cut])
            start = cut
    pieces.append(sequence[start:])
    return pieces


def decode_input(data, fdp_class):
    """Return (options, chunks, text, flags) for one fuzzer input."""
    flags, buffer_byte, raw_cuts, raw, options = _read_header(data, fdp_class)
    text = decode_text(raw)
    if flags & FLAG_SMALL_BUFFER:
        options["max_buffer"] = 0 if buffer_byte == 255 else 1 + buffer_byte % 64
    if flags & FLAG_TOOLS:
        options["tools"] = TOOLS
    # The flags byte is full: the reasoning split takes the top two bits of
    # the buffer byte (max_buffer uses the low six): 1 on, 2 "open".
    reasoning = buffer_byte >> 6
    if reasoning == 1:
        options["reasoning"] = True
    elif reasoning == 2:
        options["reasoning"] = "open"

    chunks = list(text) if flags & FLAG_EACH_CHAR else _cut(text, raw_cuts)
    if flags & FLAG_STR_SUBCLASS:
        text = Text(text)
        chunks = [Text(chunk) for chunk in chunks]
    if flags & FLAG_EMPTY_FEEDS:
        chunks = [piece for chunk in chunks for piece in ("", chunk)]
    return options, chunks, text, flags


# The lane's options: those the command passes it (lane.use_lane: no tools,
# no reasoning) and --truncated, by the low two bits of byte 1.
LANE_OPTIONS = ("arguments", "dialect", "python_literals", "unknown_tool")
LANE_TRUNCATED = ("keep", "drop", "content", "keep")


def decode_lane(data, fdp_class):
    """Return (blocks, options, truncated) for the lane check of one input:
    the text's bytes as they are (the header read as ``decode_input`` reads
    it), cut at the cut points (byte offsets here) into a source's blocks,
    then into blocks of whole lines as the lane's caller cuts them."""
    flags, buffer_byte, raw_cuts, raw, options = _read_header(data, fdp_class)
    pieces = _cut(raw, raw_cuts)
    from hermes_parse.cli.lane import whole_lines  # (imported once the fuzz build is in place)

    return list(whole_lines(pieces)), options, LANE_TRUNCATED[buffer_byte & 3]


# ---------------------------------------------------------------------------
# The checks


def fail(message, **context):
    details = "".join(f"\n  {key}: {_short(value)}" for key, value in context.items())
    raise InvariantViolation(message + details)


def _short(value, limit=2000):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


def stream(twin, chunks, options, closed_error):
    """Feed the chunks, close; return (per-feed outputs, problems).  Checks misuse."""
    parser = twin.StreamParser(**options)
    outputs = []
    for chunk in chunks:
        out = parser.feed(chunk)
        if type(out) is not list:
            fail("feed() did not return a list", got=out)
        outputs.append(out)
    out = parser.close()
    if type(out) is not list:
        fail("close() did not return a list", got=out)
    outputs.append(out)
    if parser.close() != []:
        fail("a second close() did not return []")
    try:
        parser.feed("x")
    except closed_error:
        pass
    else:
        fail("feed() after close() did not raise ClosedError")
    try:
        parser.feed(b"x")
    except TypeError:
        pass
    else:
        fail("feed(bytes) did not raise TypeError")
    return outputs, list(parser.problems)


def check_deltas(deltas):
    """Every delta has the documented shape of an OpenAI ``choices[0].delta``."""
    seen = 0
    for delta in deltas:
        if type(delta) is not dict or len(delta) != 1:
            fail("a delta is not a dict with one key", delta=delta)
        if "content" in delta or "reasoning" in delta:
            key = "content" if "content" in delta else "reasoning"
            if type(delta[key]) is not str or not delta[key]:
                fail(f"a {key} delta is not a non-empty str", delta=delta)
            if key == "reasoning" and seen:
                fail("reasoning after a call", delta=delta)
            continue
        entries = delta.get("tool_calls")
        if type(entries) is not list or not entries:
            fail("a delta is neither content nor tool_calls", delta=delta)
        for entry in entries:
            index = entry.get("index")
            function = entry.get("function")
            if type(index) is not int or type(function) is not dict:
                fail("a tool_calls entry lacks index or function", delta=delta)
            if index == seen:  # a new call: id, type and name, once, first
                seen += 1
                if (
                    set(entry) != {"index", "id", "type", "function"}
                    or type(entry["id"]) is not str
                    or not entry["id"]
                    or entry["type"] != "function"
                    or set(function) != {"name", "arguments"}
                    or type(function["name"]) is not str
                    or not function["name"]
                    or function["arguments"] != ""
                ):
                    fail("a call's first delta is malformed", delta=delta)
            elif index == seen - 1:  # more arguments of the newest call
                if (
                    set(entry) != {"index", "function"}
                    or set(function) != {"arguments"}
                    or type(function["arguments"]) is not str
                    or not function["arguments"]
                ):
                    fail("an arguments delta is malformed", delta=delta)
            else:
                fail("a call index out of order", delta=delta, calls_so_far=seen)


def check_problems(message, size):
    calls = len(message.tool_calls)
    for problem in message.problems:
        if problem.kind not in PROBLEM_KINDS:
            fail("an undocumented problem kind", problem=problem)
        if not (0 <= problem.offset and 0 <= problem.length and problem.offset + problem.length <= size):
            fail("a problem's span is outside the text", problem=problem, text_length=size)
        if problem.index is not None and not (0 <= problem.index < calls):
            fail("a problem names a call that does not exist", problem=problem, calls=calls)
        if type(problem.detail) is not str:
            fail("a problem's detail is not a str", problem=problem)


class _Departure(Exception):
    """The arguments hit one of docs/grammar.md's documented departures from json.dumps."""


def _pairs(pairs):
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _Departure("duplicate keys are all kept")
    return dict(pairs)


def _items(value):
    """Every value inside ``value`` (and it), keys too, without recursion."""
    stack = [value]
    while stack:
        item = stack.pop()
        yield item
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _plain(value):
    """Raise _Departure where json.dumps cannot give back the arguments' text."""
    for item in _items(value):
        if isinstance(item, str):
            if any("\ud800" <= c <= "\udfff" for c in item):
                raise _Departure("a lone surrogate stays an escape")
        elif isinstance(item, float) and not math.isfinite(item):
            raise _Departure("a number too large for a double is kept as written")


def check_arguments(message, options):
    """A call without problems has complete arguments, normalised in json mode."""
    dialect = options.get("dialect", "hermes")
    if dialect in ("qwen3_coder", "glm"):
        # The model wrote no JSON, the body writes all of it: a JSON object
        # whatever the input, but for a call cut by the end of the text, kept
        # as far as it went (as in the JSON dialect).
        cut = {p.index for p in message.problems if p.kind == "truncated"}
        for call in message.tool_calls:
            if call.index in cut:
                continue
            try:
                value = json.loads(call.arguments)
            except RecursionError:  # nested past Python's limit: valid, json.loads cannot tell
                continue
            except ValueError as exc:
                if "digits" in str(exc):  # an integer past sys.get_int_max_str_digits()
                    continue
                fail(f"an XML-dialect call's arguments are not JSON ({exc})", call=call, problems=message.problems)
            if not isinstance(value, dict):
                fail("an XML-dialect call's arguments are not a JSON object", call=call)
    if options.get("python_literals") and options["arguments"] == "raw":
        return  # the model's Python text
    flawed = {problem.index for problem in message.problems}
    for call in message.tool_calls:
        if call.index in flawed:
            continue
        try:
            value = json.loads(call.arguments, object_pairs_hook=_pairs)
            if not isinstance(value, dict):
                fail("a call's arguments are not a JSON object", call=call)
            if options["arguments"] == "json":
                _plain(value)
                if json.dumps(value, ensure_ascii=False) != call.arguments:
                    fail(
                        "json-mode arguments differ from json.dumps(json.loads(arguments))",
                        call=call,
                        dumps=json.dumps(value, ensure_ascii=False),
                    )
        except (_Departure, RecursionError):
            continue
        except ValueError as exc:
            if "digits" in str(exc):  # integers longer than sys.get_int_max_str_digits()
                continue
            fail(f"a call without problems has arguments that are not JSON ({exc})", call=call)


# ---------------------------------------------------------------------------
# The command's fast lane (hermes_parse/cli/lines.py)

# One LineScanner.scan: what it returned and wrote (the buffers up to what it says it wrote).
LaneScan = collections.namedtuple("LaneScan", "start count taken size stop column offsets spans codes bounds")


def lane_scan(twin, name, scanner, block, start, buffers):
    try:
        count = scanner.scan(block, start, *buffers)
    except Exception as exc:
        raise InvariantViolation(
            f"the lane's {name} LineScanner.scan raised {exc!r}\n  block: {_short(block)}\n  start: {start}"
        ) from exc
    column, offsets, spans, codes, bounds = buffers
    taken = scanner.taken_lines
    if not (0 <= count <= len(codes) and 0 <= taken <= count and 0 <= scanner.size <= len(column)):
        fail(f"the lane's {name} scan returned counts outside its buffers", count=count, taken=taken,
             size=scanner.size, lines_room=len(codes), column_room=len(column))
    return LaneScan(
        start, count, taken, scanner.size, scanner.stop, bytes(column[: scanner.size]), list(offsets[: taken + 1]),
        list(spans[: 2 * taken]), bytes(codes[:count]), list(bounds[: count + 1]),
    )


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def _has_surrogate(value):
    return any(isinstance(item, str) and any("\ud800" <= c <= "\udfff" for c in item) for item in _items(value))


def lane_reference(line):
    """The record's text where the lane reads it (``completion`` when
    ``choices`` is absent or null, else ``choices[0].message.content`` of a
    message without calls), read by orjson (json.loads for the numbers
    orjson refuses); fails when the line is not a record with that text."""
    import orjson

    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        try:
            record = json.loads(line, parse_constant=_no_constant)
        except (ValueError, RecursionError) as exc2:
            fail("the lane took a line that is not JSON", line=line, orjson=str(exc), json=str(exc2))
        if _has_surrogate(record):
            fail("the lane took a line with a lone surrogate", line=line)
    if type(record) is not dict:
        fail("the lane took a line that is not an object", line=line)
    choices = record.get("choices")
    if choices is None:
        text = record.get("completion")
        where = "completion"
    else:
        if type(choices) is not list or not choices or type(choices[0]) is not dict:
            fail("the lane took a line whose choices have no first object", line=line)
        message = choices[0].get("message")
        if type(message) is not dict:
            fail("the lane took a line whose choices[0] has no message object", line=line)
        calls = message.get("tool_calls")
        if not (calls is None or calls == []):
            fail("the lane took a message with tool calls", line=line)
        text = message.get("content")
        where = "choices[0].message.content"
    if type(text) is not str:
        fail(f"the lane took a line whose {where} is not a string", line=line)
    return text, where


def lane_message(content, calls=()):
    """The message line the usual way writes (Extractor.messages' dict, orjson.dumps)."""
    import orjson
    from hermes_parse.cli.records import dumps_line

    message = {"role": "assistant", "content": content}
    if calls:
        message["tool_calls"] = [
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
            for call_id, name, arguments in calls
        ]
    try:
        return orjson.dumps(message) + b"\n"
    except orjson.JSONEncodeError:  # a lone surrogate: json.dumps's way
        return dumps_line(message)


class Harness:
    def __init__(self, cython_twin, python_twin, twin_every, ignore_known=False, lines=None):
        from hermes_parse import ClosedError, Message, sequential_ids
        import atheris

        self.c = cython_twin
        self.py = python_twin
        self.twin_every = twin_every
        self.Message = Message
        self.ClosedError = ClosedError
        self.ids = sequential_ids()
        self.sequential_ids = sequential_ids
        self.fdp = atheris.FuzzedDataProvider
        self.twin_checks = 0
        self.ignore_known = ignore_known
        self.known_hits = {}
        # The lane (LaneTwins; None or no pure twin: not checked) and what it took.
        self.lines = lines if lines is not None and lines.pure is not None else None
        self.inputs = 0
        self.lane_inputs = 0  # inputs of which the lane took a line
        self.lane_lines = 0  # lines taken
        self.lane_same = 0  # of which copied as written (LINE_SAME, ROW_TEXT)
        self.lane_parsed = 0  # of which parsed (a block in the text)
        self.lane_scans = 0
        self.status_at = time.monotonic() + 5

    def lane_status(self):
        return (
            f"lane: {self.lane_inputs} of {self.inputs} inputs took the lane; {self.lane_lines} lines taken"
            f" ({self.lane_same} copied as written, {self.lane_parsed} parsed), {self.lane_scans} scans"
        )

    def __call__(self, data):
        if self.lines is not None and time.monotonic() >= self.status_at:
            self.status_at = time.monotonic() + 5
            print(f"atheris_harness: {self.lane_status()}", file=sys.stderr, flush=True)
        if not self.ignore_known:
            return self.test_one_input(data)
        try:
            return self.test_one_input(data)
        except Exception as exc:
            options, _, text, _ = decode_input(data, self.fdp)
            name = known_finding(exc, text, options)
            if name is None:
                raise
            self.known_hits[name] = self.known_hits.get(name, 0) + 1
            if self.known_hits[name] == 1:
                print(f"atheris_harness: known finding {name} hit (ignored)", file=sys.stderr, flush=True)

    def check_batch(self, twin, text, options, message):
        """The batch paths give parse()'s message: parse_many record for
        record (a null between), parse_utf8 over the text's UTF-8 bytes."""
        batch = twin.parse_many([text, None, text], **options)
        if batch.message(0) != message or batch.message(1) is not None or batch.message(2) != message:
            fail("parse_many differs from parse()", options=options, parse=message, batch=batch.messages())
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: not in a UTF-8 column
            return
        offsets = array.array("i", [0, len(data), len(data), 2 * len(data)])
        batch, rows = twin.parse_utf8(data + data, offsets, b"\x01\x00\x01", **options)
        from hermes_parse.machine.codes import ROW_NULL, ROW_PARSED, ROW_TEXT

        if rows[1] != ROW_NULL or rows[0] != rows[2]:
            fail("parse_utf8's rows are wrong", rows=list(rows))
        if rows[0] == ROW_PARSED:
            if batch.messages() != [message, message]:
                fail("parse_utf8 differs from parse()", options=options, parse=message, batch=batch.messages())
        elif message.tool_calls or message.problems or message.reasoning is not None or len(batch):
            fail("parse_utf8 skipped a text with a call", options=options, parse=message)
        elif message.content != (text if rows[0] == ROW_TEXT else None):
            fail("parse_utf8's row kind disagrees with parse()'s content", rows=list(rows), parse=message)

    def check_bad_option(self, twin, options, text):
        try:
            twin.parse(text, **options)
        except ValueError:
            pass
        else:
            fail("parse() took max_buffer=0")
        try:
            twin.StreamParser(**options)
        except ValueError:
            pass
        else:
            fail("StreamParser() took max_buffer=0")

    def test_one_input(self, data):
        self.inputs += 1
        self.test_machine(data)
        self.check_lane(data)

    # --- the command's fast lane --------------------------------------------

    def check_lane(self, data):
        """The lane over the input's bytes (``decode_lane``): the compiled
        ``lines`` and its pure twin scan and write alike, scan after scan as
        ``lane.extract_lines`` drives them (buffers made once, larger for a
        larger block, and written over; a scan goes on where the last one
        stopped when they fill); every line taken is checked against json."""
        if self.lines is None:
            return
        blocks, options, truncated = decode_lane(data, self.fdp)
        twins = [(name, twin) for name, twin in (("compiled", self.lines.compiled), ("python", self.lines.pure)) if twin]
        scanners = [twin.LineScanner() for _, twin in twins]
        buffers = [None] * len(twins)
        taken_here = 0
        for block in blocks:
            start = 0
            while start < len(block):
                scans = []
                for k, (name, twin) in enumerate(twins):
                    if buffers[k] is None or len(buffers[k][0]) < len(block) - start:
                        buffers[k] = twin.buffers(len(block) - start)
                    scans.append(lane_scan(twin, name, scanners[k], block, start, buffers[k]))
                if len(scans) == 2 and scans[0] != scans[1]:
                    fail("the lane's twins scan differently", block=block, start=start,
                         compiled=scans[0], python=scans[1])
                scan = scans[0]
                self.lane_scans += 1
                self.check_lane_scan(block, scan)
                if scan.taken:
                    taken_here += scan.taken
                    self.check_lane_writers(block, scan, twins, buffers, options, truncated)
                start = scan.stop
        if taken_here:
            self.lane_inputs += 1
            self.lane_lines += taken_here

    def check_lane_scan(self, block, scan):
        """One scan: its lines are the block's, in order; each line taken holds
        the text the column has, at the span the scan gives."""
        import orjson

        n = len(block)
        if scan.count == 0 or not scan.start < scan.stop <= n:
            fail("the lane's scan read no line (its caller would loop forever)", block=block, scan=scan)
        if scan.bounds[0] != scan.start or scan.bounds[-1] != scan.stop + (scan.stop == n and block[-1:] != b"\n"):
            fail("the lane's line bounds do not span what it read", block=block, scan=scan)
        if scan.offsets[0] != 0 or scan.offsets[-1] != scan.size or sum(map(bool, scan.codes)) != scan.taken:
            fail("the lane's column rows do not add up", block=block, scan=scan)
        row = 0
        for k in range(scan.count):
            begin, end = scan.bounds[k], scan.bounds[k + 1] - 1
            if not begin <= end <= n or (end < n and block[end] != 10) or block.find(b"\n", begin, end) >= 0:
                fail("a lane line is not a line of the block", block=block, line=k, scan=scan)
            code = scan.codes[k]
            if code > 2:
                fail("a lane line has an unknown code", block=block, line=k, code=code)
            if not code:
                continue
            line = block[begin:end]
            text, where = lane_reference(line)
            column_text = scan.column[scan.offsets[row] : scan.offsets[row + 1]]
            if column_text != text.encode("utf-8"):
                fail(f"the lane's text differs from json's {where}", line=line, lane=column_text, json=text)
            first, last = scan.spans[2 * row], scan.spans[2 * row + 1]
            if not (begin < first <= last < end and block[first - 1] == 34 and block[last] == 34):
                fail("the lane's span is not a string of its line", line=line, span=(first, last), begin=begin)
            written = block[first - 1 : last + 1]
            if json.loads(written) != text:
                fail(f"the lane's span is not the {where} string", line=line, span=written, json=text)
            if (code == 2) != (orjson.dumps(text) == written):
                fail("the lane's LINE_SAME is wrong (the string is copied when it is orjson's bytes)",
                     line=line, code=code, written=written, orjson=orjson.dumps(text))
            row += 1

    def check_lane_writers(self, block, scan, twins, buffers, options, truncated):
        """Both twins' MessageWriter write the usual message lines, byte for byte."""
        from hermes_parse.machine.codes import ROW_BLANK, ROW_PARSED, ROW_TEXT
        import orjson
        from hermes_parse.cli.records import dumps_line

        batch, rows = self.c.parse_utf8(
            scan.column, array.array("i", scan.offsets), truncated=truncated,
            call_id=self.sequential_ids(), **options
        )
        if len(rows) != scan.taken or any(kind not in (ROW_TEXT, ROW_BLANK, ROW_PARSED) for kind in rows):
            fail("parse_utf8's rows of the lane's column are wrong", rows=list(rows), taken=scan.taken)
        ids = batch.call_id
        # What the usual way writes for each line taken.
        expected = []
        record = 0
        taken_codes = [code for code in scan.codes if code]
        for row in range(scan.taken):
            if rows[row] == ROW_TEXT:
                text = scan.column[scan.offsets[row] : scan.offsets[row + 1]].decode("utf-8")
                expected.append(lane_message(text))
                self.lane_same += taken_codes[row] == 2
            elif rows[row] == ROW_BLANK:
                expected.append(lane_message(None))
            else:
                self.lane_parsed += 1
                first, stop = batch.call_offsets[record], batch.call_offsets[record + 1]
                calls = [(ids[at], batch.call_name[at], batch.call_arguments[at]) for at in range(first, stop)]
                expected.append(lane_message(batch.content[record], calls))
                record += 1
        outputs = []
        for k, (name, twin) in enumerate(twins):
            column, offsets, spans, codes, bounds = buffers[k]
            try:
                writer = twin.MessageWriter(block, codes, spans, column, offsets, rows, batch, ids, orjson.dumps, dumps_line)
                out = []  # a run of lines taken at a time, as lane._write_piece writes them
                at = 0
                while at < scan.count:
                    stop = at + 1
                    taken = bool(scan.codes[at])
                    while stop < scan.count and bool(scan.codes[stop]) == taken:
                        stop += 1
                    if taken:
                        parts = []
                        writer.write(parts, at, stop)
                        out.append(b"".join(parts))
                    at = stop
            except InvariantViolation:
                raise
            except Exception as exc:
                raise InvariantViolation(
                    f"the lane's {name} MessageWriter raised {exc!r}\n  block: {_short(block)}"
                ) from exc
            outputs.append(out)
        if len(outputs) == 2 and outputs[0] != outputs[1]:
            fail("the lane's twins write differently", block=block, compiled=outputs[0], python=outputs[1])
        if b"".join(outputs[0]) != b"".join(expected):
            fail("the lane writes what the usual way does not", block=block, lane=outputs[0], usual=expected,
                 rows=list(rows))

    # --- the state machine ----------------------------------------------------

    def test_machine(self, data):
        options, chunks, text, flags = decode_input(data, self.fdp)
        options["call_id"] = self.ids
        twin_check = self.py is not None and (
            self.twin_every <= 1 or zlib.crc32(data) % self.twin_every == 0
        )
        if options.get("max_buffer") == 0:
            self.check_bad_option(self.c, options, text)
            if twin_check:
                self.check_bad_option(self.py, options, text)
            return

        message = self.c.parse(text, **options)
        if type(message) is not self.Message:
            fail("parse() did not return a Message", got=message)
        outputs, problems = stream(self.c, chunks, options, self.ClosedError)
        deltas = [delta for out in outputs for delta in out]
        check_deltas(deltas)
        streamed = self.Message.from_deltas(deltas, problems)
        if streamed != message:
            fail(
                "the stream does not accumulate to parse()",
                options=options,
                chunks=chunks,
                parse=message,
                stream=streamed,
            )
        check_problems(message, len(text))
        check_arguments(message, options)
        self.check_batch(self.c, text, options, message)

        if twin_check:
            self.twin_checks += 1
            py_message = self.py.parse(text, **options)
            if py_message != message:
                fail("the twins' parse() differ", options=options, cython=message, python=py_message)
            py_outputs, py_problems = stream(self.py, chunks, options, self.ClosedError)
            if py_outputs != outputs:
                for number, (ours, theirs) in enumerate(zip(outputs, py_outputs)):
                    if ours != theirs:
                        fail(
                            "the twins' deltas differ",
                            options=options,
                            chunks=chunks,
                            feed=number,
                            cython=ours,
                            python=theirs,
                        )
                fail("the twins' deltas differ in number", cython=outputs, python=py_outputs)
            if py_problems != problems:
                fail("the twins' problems differ", cython=problems, python=py_problems)


# ---------------------------------------------------------------------------


def _take_option(argv, name, default):
    """Remove ``--name=value`` from argv (libFuzzer gets the rest)."""
    value = default
    for arg in list(argv):
        if arg.startswith(f"--{name}="):
            value = arg.split("=", 1)[1]
            argv.remove(arg)
    return value


def explain(path, harness):
    """Decode one input, print it, check it with a full traceback."""
    import traceback

    data = open(path, "rb").read()
    options, chunks, text, flags = decode_input(data, harness.fdp)
    print(f"input: {path} ({len(data)} bytes)")
    print(f"flags: {flags:#04x}  options: {options}")
    print(f"text ({len(text)} characters): {text!r}")
    print(f"chunks ({len(chunks)}): {_short(chunks)}")
    if harness.lines is not None:
        blocks, lane_options, truncated = decode_lane(data, harness.fdp)
        print(harness.lines.description)
        print(f"lane blocks ({len(blocks)}): {_short(blocks)}  options: {lane_options}  truncated: {truncated}")
    harness.twin_every = 1
    try:
        harness.test_one_input(data)
    except Exception:
        traceback.print_exc()
        return 1
    if harness.lines is not None:
        print(harness.lane_status())
    print("all invariants hold")
    return 0


def main():
    argv = list(sys.argv)
    explain_path = _take_option(argv, "explain", None)
    if "--explain" in argv:  # --explain FILE
        at = argv.index("--explain")
        explain_path = argv[at + 1]
        del argv[at : at + 2]
    twin_every_default = "4" if os.environ.get("HERMES_FUZZ_BUILD") else "1"
    twin_every = int(_take_option(argv, "twin-every", os.environ.get("HERMES_FUZZ_TWIN_EVERY", twin_every_default)))
    ignore_known = "--ignore-known" in argv or os.environ.get("HERMES_FUZZ_IGNORE_KNOWN") == "1"
    if "--ignore-known" in argv:
        argv.remove("--ignore-known")

    import atheris

    cython_twin, python_twin, description = load_twins()
    if not os.environ.get("HERMES_FUZZ_BUILD") and python_twin is not None:
        twin_every = 1  # the Python twin is where the coverage comes from
    # The lane's pure twin is instrumented where the machine's is (normal mode).
    lines = load_lines(instrument=not os.environ.get("HERMES_FUZZ_BUILD"))
    harness = Harness(cython_twin, python_twin, twin_every, ignore_known, lines=lines)
    print(
        f"atheris_harness: {description}; Python twin checked on 1 input in {twin_every}"
        + ("; known findings ignored: " + ", ".join(KNOWN) if ignore_known else ""),
        file=sys.stderr,
        flush=True,
    )
    print(
        f"atheris_harness: {lines.description}"
        + ("; checked on every input" if harness.lines is not None else ""),
        file=sys.stderr,
        flush=True,
    )
    if explain_path:
        sys.exit(explain(explain_path, harness))
    atheris.Setup(argv, harness.__call__)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
