"""Streaming implementations behind one interface.

Every implementation makes *streamers*: objects with ``feed(text) -> list[dict]``
and ``close() -> list[dict]``, each dict an OpenAI ``choices[0].delta``.  The
uniform entry point is::

    impl.stream(deltas) -> (content, [(name, arguments), ...])

which feeds a fresh streamer every delta, closes it and accumulates the deltas
the way an OpenAI client does (``accumulate``).  The benchmarks time ``drain``
(feed and drop each output, as a server does) and check ``stream``'s result.

Implementations:

* ``ours-cython``   the compiled twin of hermes_parse.machine (skipped when not compiled)
* ``ours-python``   its pure-Python twin (hermes_parse._machine_py)
* ``reparse``       what most servers do (vLLM's hermes parser): on every delta,
                    re-parse everything after ``<tool_call>`` with
                    partial_json_parser and diff ``json.dumps`` of the arguments
                    against what was already sent.  Quadratic in the call's size.
* ``vllm-hermes``   vLLM's built-in ``hermes`` parser (Hermes2ProToolParser), fed
                    vLLM's growing previous/current text; quadratic
* ``ours-vllm``     our vLLM plugin (``hermes_parse``), fed the delta text alone
                    (both skipped when vLLM or the Qwen3 tokenizer is missing)
"""

from __future__ import annotations

import bisect
import importlib
import importlib.machinery
import json
import math
import os
import re
import sys
from pathlib import Path
from typing import Callable, Iterable, List, Optional, Sequence, Tuple

from workloads import REPO_ROOT

# Benchmark the working tree, with whatever was built in place.
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

Result = Tuple[Optional[str], List[Tuple[str, str]]]


def accumulate(deltas: Iterable[dict]) -> Result:
    """Fold OpenAI ``choices[0].delta`` dicts into (content, [(name, arguments)])."""
    content: List[str] = []
    calls: dict = {}
    for delta in deltas:
        text = delta.get("content")
        if text:
            content.append(text)
        for entry in delta.get("tool_calls") or ():
            call = calls.get(entry["index"])
            if call is None:
                if "id" not in entry:
                    raise AssertionError(f"first delta of call {entry['index']} has no id: {entry!r}")
                call = calls[entry["index"]] = ["", []]
            function = entry.get("function") or {}
            if function.get("name"):
                call[0] = function["name"]
            if function.get("arguments"):
                call[1].append(function["arguments"])
    return (
        "".join(content) or None,
        [(name, "".join(parts)) for _, (name, parts) in sorted(calls.items())],
    )


def feed_all(streamer, deltas: Sequence[str]) -> list:
    """Feed every delta, then close; return all the output deltas (for checking)."""
    out: list = []
    feed = streamer.feed
    for delta in deltas:
        out += feed(delta)
    out += streamer.close()
    return out


def drain(streamer, deltas: Sequence[str]) -> None:
    """The timed part: feed every delta and close, dropping each output as a
    server does once it has sent it.

    Keeping every output alive instead (``feed_all``) measures the heap, not the
    parser: with 44,000 deltas alive the cyclic GC keeps walking them, and
    ours-cython at 160 KB went from 0.26 to 1.1 us/delta (0.25 at 1 KB)."""
    feed = streamer.feed
    for delta in deltas:
        feed(delta)
    streamer.close()


class Implementation:
    name: str = ""
    # True when the cost of one delta grows with what came before it.
    quadratic: bool = False

    def unavailable(self) -> Optional[str]:
        """Why this implementation cannot run here (a skip reason), or None."""
        return None

    def new(self):
        """A fresh streamer."""
        raise NotImplementedError

    def stream(self, deltas: Sequence[str]) -> Result:
        return accumulate(feed_all(self.new(), deltas))

    # Non-streaming parse of a whole text, as (content, [(name, arguments)]).
    def parse(self, text: str) -> Result:
        raise NotImplementedError


# ---------------------------------------------------------------------------
# Ours


def _load_twin(twin: str):
    """A machine twin's envelope module; return (module, None) or (None, reason)."""
    import hermes_parse.machine

    try:
        return hermes_parse.machine.load(twin), None
    except ImportError as exc:
        return None, f"the {twin} twin: {exc}; build it with `pip install -e .`"


class Ours(Implementation):
    def __init__(self, name: str, twin: str):
        self.name = name
        self.twin = twin
        self._module = None
        self._reason = None
        self._loaded = False

    def _load(self):
        if not self._loaded:
            self._module, self._reason = _load_twin(self.twin)
            self._loaded = True
        return self._module

    @property
    def module(self):
        module = self._load()
        if module is None:
            raise RuntimeError(self._reason)
        return module

    def unavailable(self) -> Optional[str]:
        self._load()
        return self._reason

    def new(self):
        return self.module.StreamParser()

    def parse(self, text: str) -> Result:
        return message_result(self.module.parse(text))


def stale_build() -> Optional[str]:
    """A warning when a compiled module is older than its source or its
    ``.pxd`` (then the two twins are not the same code), else None.  Each
    module against its own sources: a rebuild recompiles only the modules
    whose sources changed (and those that cimport a changed ``.pxd``), so an
    untouched module's older ``.so`` is not stale."""
    impl = IMPLEMENTATIONS["ours-cython"]
    if impl.unavailable():
        return None
    built = Path(impl.module.__file__)  # the envelope's .so
    suffix = built.name[len("envelope"):]
    newer = []
    for directory in (built.parent, built.parent.parent / "cli"):
        for so in directory.glob("*" + suffix):
            name = so.name[: -len(suffix)]
            own = directory / f"{name}.pxd"
            # The .pxd files it cimports are compiled into it (bytesearch's C is).
            cimported = re.findall(r"hermes_parse\.\w+\.(\w+) cimport|cimport hermes_parse\.\w+\.(\w+)",
                                   own.read_text()) if own.exists() else []
            for source in [directory / f"{name}.py", own] + [directory / f"{a or b}.pxd" for a, b in cimported]:
                if source.exists() and source.stat().st_mtime > so.stat().st_mtime:
                    newer.append(f"{directory.name}/{source.name}")
    if newer:
        return (f"STALE BUILD: {', '.join(newer)} changed after its module was built; "
                "rebuild with `pip install -e .`")
    return None


def message_result(message) -> Result:
    return message.content, [(call.name, call.arguments) for call in message.tool_calls]


# ---------------------------------------------------------------------------
# The baseline: re-parse the partial JSON on every delta.

START = "<tool_call>"
END = "</tool_call>"
_NUMBER_TAIL = "0123456789.-+eE"


def _stable_prefix(dumped: str) -> str:
    """The part of ``json.dumps`` of partially parsed arguments that cannot
    change as more text arrives: drop the closers partial_json_parser invented
    and a number (or literal) that may still grow, and a high surrogate that
    may yet pair with a low one."""
    stable = dumped.rstrip('"]}').rstrip(_NUMBER_TAIL)
    if stable and "\ud800" <= stable[-1] <= "\udbff":
        stable = stable[:-1]
    return stable


class ReparseStreamer:
    """vLLM-style streaming: the state is the whole text so far plus what was sent.

    Per delta: ``current_text = previous_text + delta``; outside a call, look for
    ``<tool_call>`` in the text; inside one, run partial_json_parser over
    everything after ``<tool_call>``, ``json.dumps`` the arguments and send the
    part past what was already sent.  Strings are only allowed to be partial once
    the name was sent (so the name is never sent half-written).
    """

    def __init__(self, call_id: Callable[[int], str] = lambda index: f"call_{index}"):
        import partial_json_parser
        from partial_json_parser import Allow

        self._loads = partial_json_parser.loads
        self._allow_all = Allow.ALL
        self._allow_no_str = Allow.ALL & ~Allow.STR
        self._call_id = call_id
        self.text = ""
        self.scan_from = 0        # where the current content segment starts
        self.after_block = True   # at the start, or right after a call block
        self.content_sent = 0     # text[:content_sent] handled as content
        self.block = -1           # start of the current call's JSON, or -1
        self.index = -1
        self.name_sent = False
        self.args_sent = ""
        self.closed = False

    # -- content ------------------------------------------------------------
    def _content(self, end: int, final: bool, out: list) -> None:
        """Send text[content_sent:end] as content, holding back whitespace after a
        block (dropped if a call or the end follows)."""
        segment = self.text[self.content_sent:end]
        if not segment:
            return
        if self.after_block and segment.isspace():
            if final:
                self.content_sent = end
            return
        self.after_block = False
        out.append({"content": segment})
        self.content_sent = end

    # -- calls ----------------------------------------------------------------
    def _open_call(self, name: str, out: list) -> None:
        self.name_sent = True
        out.append({"tool_calls": [{
            "index": self.index, "id": self._call_id(self.index), "type": "function",
            "function": {"name": name, "arguments": ""},
        }]})

    def _send_args(self, text: str, out: list) -> None:
        if text:
            out.append({"tool_calls": [{"index": self.index, "function": {"arguments": text}}]})

    def _finish_call(self, body: str, out: list) -> None:
        obj = json.loads(body)
        if not self.name_sent:
            self._open_call(obj["name"], out)
        args = obj.get("arguments", obj.get("parameters"))
        if isinstance(args, str):
            args = json.loads(args)
        final = json.dumps(args if args is not None else {}, ensure_ascii=False)
        # If an earlier fragment was wrong, this cannot repair it; the accumulated
        # result will differ from the expected one and the benchmark fails.
        self._send_args(final[len(self.args_sent):], out)
        self.args_sent = final

    def _partial_call(self, body: str, out: list) -> None:
        try:
            obj = self._loads(body, self._allow_all if self.name_sent else self._allow_no_str)
        except Exception:  # not enough text yet: wait, as vLLM does
            return
        if not isinstance(obj, dict):
            return
        if not self.name_sent:
            name = obj.get("name")
            if not isinstance(name, str):
                return
            self._open_call(name, out)
            return  # vLLM sends the name alone, arguments from the next delta on
        args = obj.get("arguments", obj.get("parameters"))
        if not isinstance(args, dict):
            return
        stable = _stable_prefix(json.dumps(args, ensure_ascii=False))
        if len(stable) > len(self.args_sent):
            self._send_args(stable[len(self.args_sent):], out)
            self.args_sent = stable

    # -- the streamer interface ----------------------------------------------
    def feed(self, delta: str) -> list:
        if self.closed:
            raise ValueError("closed")
        previous_len = len(self.text)
        self.text = text = self.text + delta
        out: list = []
        while True:
            if self.block < 0:
                start = text.find(START, self.scan_from)
                if start < 0:
                    # Hold back a possible prefix of <tool_call> at the end.
                    hold = 0
                    for k in range(min(len(START) - 1, len(text) - self.content_sent), 0, -1):
                        if text.endswith(START[:k]):
                            hold = k
                            break
                    self._content(len(text) - hold, False, out)
                    return out
                self._content(start, True, out)
                self.block = self.content_sent = start + len(START)
                self.index += 1
                self.name_sent = False
                self.args_sent = ""
            end = text.find(END, max(self.block, previous_len - len(END)))
            if end < 0:
                self._partial_call(text[self.block:], out)
                return out
            self._finish_call(text[self.block:end], out)
            self.block = -1
            self.scan_from = self.content_sent = end + len(END)
            self.after_block = True

    def close(self) -> list:
        if self.closed:
            return []
        self.closed = True
        out: list = []
        if self.block >= 0:
            self._finish_call(self.text[self.block:], out)
        else:
            self._content(len(self.text), True, out)
        return out


class Reparse(Implementation):
    name = "reparse"
    quadratic = True

    def unavailable(self) -> Optional[str]:
        try:
            import partial_json_parser  # noqa: F401
        except ImportError:
            return "partial_json_parser is not installed"
        return None

    def new(self):
        return ReparseStreamer()


# ---------------------------------------------------------------------------
# vLLM's tool parsers, called as vLLM's serving layer calls them (the driving
# code is in vllm_impl.py, shared with test_bench_vllm.py; imported only when
# one of these runs, so a python without vLLM still imports this module).


class VllmParser(Implementation):
    """A vLLM ToolParser behind the streamer interface (vllm_impl.VllmStreamer)."""

    def __init__(self, name: str, key: str, texts: bool, quadratic: bool):
        self.name = name
        self.key = key  # vllm_impl.parser_classes() key
        self.texts = texts
        self.quadratic = quadratic
        self._reason: Optional[str] = None
        self._checked = False

    def unavailable(self) -> Optional[str]:
        if not self._checked:
            import vllm_impl

            self._reason = vllm_impl.unavailable()
            self._checked = True
        return self._reason

    def new(self):
        import vllm_impl

        return vllm_impl.VllmStreamer(vllm_impl.parser_classes()[self.key], texts=self.texts)


def VllmHermes() -> VllmParser:
    """vLLM's built-in hermes tool parser (Hermes2ProToolParser): re-parses the
    text after ``<tool_call>`` on every delta, so it gets vLLM's growing
    ``current_text`` and is quadratic, like the reparse baseline."""
    return VllmParser("vllm-hermes", "builtin", texts=True, quadratic=True)


def OursVllmPlugin() -> VllmParser:
    """Our vLLM tool-parser plugin (hermes_parse.vllm.plugin).  It reads only
    ``delta_text``, so it gets "" for previous/current text: timed alone, not
    with vLLM's copy of the whole output (test_bench_vllm's "isolated")."""
    return VllmParser("ours-vllm", "ours", texts=False, quadratic=False)


IMPLEMENTATIONS = {
    impl.name: impl
    for impl in (
        Ours("ours-cython", "cython"),
        Ours("ours-python", "python"),
        Reparse(),
        VllmHermes(),
        OursVllmPlugin(),
    )
}


# ---------------------------------------------------------------------------
# The dialects (benches/test_bench_dialects.py, benches/gate.py): the same
# twins, made with ``dialect=`` and the workloads' tools.  Kept out of
# IMPLEMENTATIONS, whose workloads are all in the hermes dialect.


class OursDialect(Ours):
    """A twin reading ``dialect`` (``StreamParser(dialect=..., tools=...)``)."""

    def __init__(self, twin: str, dialect: str):
        super().__init__(f"ours-{twin}", twin)
        self.dialect = dialect
        self.label = f"ours-{twin} {dialect}"

    def unavailable(self) -> Optional[str]:
        reason = super().unavailable()
        if reason:
            return reason
        try:  # the body may not be registered yet (hermes_parse/machine/bodies.py)
            self.new()
        except (TypeError, ValueError) as exc:
            return f"dialect {self.dialect!r}: {exc}"
        return None

    def new(self):
        from workloads import WRITE_FILE_TOOLS

        return self.module.StreamParser(dialect=self.dialect, tools=WRITE_FILE_TOOLS)

    def parse(self, text: str) -> Result:
        from workloads import WRITE_FILE_TOOLS

        return message_result(self.module.parse(text, dialect=self.dialect, tools=WRITE_FILE_TOOLS))


def ours_dialect(twin: str, dialect: str) -> OursDialect:
    return OursDialect(twin, dialect)


class VllmDialectParser(Implementation):
    """vLLM's own tool parser for a dialect (``qwen3_coder``, ``glm45``,
    ``glm47``), fed vLLM's growing previous/current text with the request's
    typed ``write_file`` tool (vllm_impl.dialect_request)."""

    quadratic = True

    def __init__(self, parser_name: str):
        self.parser_name = parser_name
        self.name = f"vllm-{parser_name}"

    def unavailable(self) -> Optional[str]:
        import vllm_impl

        reason = vllm_impl.unavailable()
        if reason:
            return reason
        if vllm_impl.dialect_parser_class(self.parser_name) is None:
            return f"this vLLM has no {self.parser_name!r} tool parser"
        return None

    def new(self):
        import vllm_impl

        return vllm_impl.VllmStreamer(vllm_impl.dialect_parser_class(self.parser_name), texts=True,
                                      chat_request=vllm_impl.dialect_request())


# ---------------------------------------------------------------------------
# Harness helpers shared by the benchmark tests and the gate.


def reparse_chars(text: str, deltas: Sequence[str]) -> int:
    """Characters a re-parsing streamer hands to its JSON parser over one stream:
    for every delta that ends inside a call block, the block so far."""
    starts, ends = [], []
    pos = text.find(START)
    while pos >= 0:
        body = pos + len(START)
        end = text.find(END, body)
        starts.append(body)
        ends.append(len(text) if end < 0 else end)
        pos = text.find(START, body if end < 0 else end)
    total = 0
    at = 0
    for delta in deltas:
        at += len(delta)
        i = bisect.bisect_right(starts, at) - 1
        if i >= 0 and at < ends[i]:
            total += at - starts[i]
    return total


def choose_rounds(seconds_per_round: float, budget: float = 2.0, most: int = 200) -> int:
    """Rounds for one benchmark: about ``budget`` seconds, at least 3 when a round
    is under a second, never more than ``most``."""
    if seconds_per_round <= 0:
        return most
    rounds = min(most, math.ceil(budget / seconds_per_round))
    return max(rounds, 3 if seconds_per_round < 1.0 else 1)


def describe_mismatch(got: Result, expected: Result) -> str:
    lines = []
    if got[0] != expected[0]:
        lines.append(f"content differs: got {_clip(got[0])} expected {_clip(expected[0])}")
    if len(got[1]) != len(expected[1]):
        lines.append(f"{len(got[1])} calls, expected {len(expected[1])}")
    for i, (g, e) in enumerate(zip(got[1], expected[1])):
        if g[0] != e[0]:
            lines.append(f"call {i}: name {g[0]!r}, expected {e[0]!r}")
        if g[1] != e[1]:
            at = len(os.path.commonprefix([g[1], e[1]]))
            lines.append(
                f"call {i} ({e[0]}): arguments differ at char {at} of {len(e[1])}: "
                f"got ...{g[1][max(0, at - 40):at + 40]!r}... expected ...{e[1][max(0, at - 40):at + 40]!r}..."
            )
            break
    return "; ".join(lines) or "results differ"


def _clip(value, keep: int = 120):
    if value is None or len(value) <= 2 * keep:
        return repr(value)
    return f"{value[:keep]!r}...{value[-keep:]!r} ({len(value)} chars)"


def save_failure(label: str, deltas: Sequence[str], got: Result, expected: Result) -> str:
    """Write the failing input (the exact deltas) and both results to
    benches/.cache/failures/, so the failure can be replayed; return the path."""
    from workloads import CACHE_DIR

    folder = CACHE_DIR / "failures"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (label.replace("/", "_").replace(" ", "_") + ".json")
    path.write_text(json.dumps({"deltas": list(deltas), "got": got, "expected": expected},
                               ensure_ascii=False))
    return str(path)
