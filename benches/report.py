"""Benchmark report: Markdown tables and the cost-per-delta plot, from a run's JSON.

    python benches/report.py [JSON ...] [--markdown PATH] [--update PATH] [--plot PATH]

Reads any of:

* pytest-benchmark's ``--benchmark-json`` output of the suite (streaming and
  parse() benchmarks; with the scaling and memory tests, their results too,
  under ``hermes_bench``)
* the JSON of ``benches/scaling.py`` (the scaling curves)
* the JSON printed by ``python benches/test_bench_memory.py`` (memory)

(default: .benchmarks/suite.json and .benchmarks/scaling.json, those present).
When several files hold scaling curves (say the suite's, and a
``benches/scaling.py`` run with vLLM's python for the vLLM rows), they are
merged per implementation: each one's curve comes from the run that measured
most of its points (the newest on a tie); for other results, the last file
given wins.

Writes:

* Markdown (to stdout, ``--markdown PATH``, or between the markers
  ``<!-- benchmarks:begin -->`` and ``<!-- benchmarks:end -->`` of ``--update
  PATH``, docs/benchmarks.md; ``--update`` refuses results measured on a tree
  with uncommitted changes, and names input files outside the repository by
  their file name only): the machine and every peer's version, then one table per streaming
  workload (cost per delta and per stream, for every delta size and
  implementation), the scaling curves, parse() throughput and memory; smaller
  is better, and each time has its ratio to ours-cython in the same run.
* the plot (``--plot``, default docs/benchmarks/cost_per_delta.png; ``--plot
  ''`` for none): cost per delta against output length, log-log, one line per
  implementation, from the scaling curves (or, without them, from the suite's
  write_file workloads in 4-character deltas).  Needs matplotlib.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import sys
from pathlib import Path
from typing import Dict, List, Optional

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
DEFAULT_INPUTS = [REPO_ROOT / ".benchmarks" / "suite.json", REPO_ROOT / ".benchmarks" / "scaling.json"]
DEFAULT_PLOT = REPO_ROOT / "docs" / "benchmarks" / "cost_per_delta.png"
BEGIN, END = "<!-- benchmarks:begin -->", "<!-- benchmarks:end -->"
BASE = "ours-cython"

IMPL_ORDER = ["ours-cython", "ours-python", "ours-vllm", "vllm-hermes", "reparse", "vllm-regex", "orjson-floor"]
IMPL_NOTES = {
    "ours-cython": "hermes-parse, the compiled state machine",
    "ours-python": "hermes-parse, its pure-Python twin (the same source, not compiled)",
    "ours-vllm": "hermes-parse's vLLM tool-parser plugin, called as vLLM's serving layer calls it",
    "vllm-hermes": "vLLM's built-in `hermes` tool parser (Hermes2ProToolParser)",
    "reparse": "the usual approach: re-parse the text after `<tool_call>` with partial-json-parser on "
               "every delta and send the new part of `json.dumps` of the arguments",
    "vllm-regex": "vLLM's non-streaming approach: `regex` findall of the blocks, `json.loads`, `json.dumps`",
    "orjson-floor": "the floor: bare `orjson.loads` of the JSON bodies, already cut out, as bytes",
}
SPLITTER_NAMES = {
    "char1": "1 character",
    "char4": "4 characters",
    "qwen3": "1 Qwen3 token",
    "qwen3x32": "32 Qwen3 tokens",
}
SPLITTER_ORDER = list(SPLITTER_NAMES)
WORKLOAD_ORDER = ["short", "write_file_1k", "write_file_10k", "write_file_160k", "write_file_1m",
                  "parallel_50", "plain_100k", "nested_pretty"]
WORKLOAD_NOTES = {
    "short": "a short call: a line of content and one `get_weather` call",
    "write_file_1k": "a `write_file` call with a 1 KB string argument (source code)",
    "write_file_10k": "a `write_file` call with a 10 KB string argument",
    "write_file_160k": "a `write_file` call with a 160 KB string argument",
    "write_file_1m": "a `write_file` call with a 1 MB string argument",
    "parallel_50": "50 parallel calls",
    "plain_100k": "100 KB of text with no call (with `<` and prefixes of the tag)",
    "nested_pretty": "a pretty-printed call with deeply nested arguments and `\\u` escapes",
}
PARSE_NOTES = {
    "log_10000": "a log of 10,000 short completions (40% without a call)",
    "write_file_1m": "one huge call (`write_file`, 1 MB string argument)",
}
DELTA_ADJECTIVES = {
    "char1": "1-character",
    "char4": "4-character",
    "qwen3": "1-token (Qwen3)",
    "qwen3x32": "32-token (Qwen3)",
}
SIZE_NAMES = {"1k": "1 KB", "4k": "4 KB", "16k": "16 KB", "64k": "64 KB", "160k": "160 KB", "1m": "1 MB"}


def _order(names, order):
    names = list(dict.fromkeys(names))
    known = [n for n in order if n in names]
    return known + sorted(n for n in names if n not in order)


# ---------------------------------------------------------------------------
# Loading


class Run:
    """Everything read from the JSON files."""

    def __init__(self):
        self.sources: List[str] = []
        self.machine: Dict[str, str] = {}
        self.timer: Optional[str] = None
        self.created: Optional[str] = None
        self.commit: Optional[str] = None
        self.dirty = False  # measured on a tree with uncommitted changes
        self.stream: List[dict] = []  # extra_info + stats of test_stream
        self.parse: List[dict] = []
        self.scaling: Optional[dict] = None
        self.scaling_runs: List[dict] = []
        self.memory: Optional[List[dict]] = None

    def load(self, path: Path) -> None:
        data = json.loads(path.read_text())
        self.sources.append(str(path))
        if "benchmarks" in data and "machine_info" in data:
            self._load_suite(data)
        elif str(data.get("format", "")).startswith("hermes-parse-scaling/"):
            self._set_scaling(data)
            self.machine = {**data.get("machine", {}), **self.machine}
            self._take_vllm_version(data.get("machine", {}))
        elif str(data.get("format", "")).startswith("hermes-parse-memory/"):
            self.memory = data["memory"]
        else:
            raise SystemExit(f"{path}: neither pytest-benchmark JSON nor a scaling or memory result")

    def _set_scaling(self, data: dict) -> None:
        """Add a scaling run (a suite run holds one, scaling.py writes one) and
        merge all of them (merge_scaling)."""
        commit = str((data.get("machine") or {}).get("commit", ""))
        if commit.endswith("-dirty"):  # git describe --dirty
            self.dirty = True
            data.setdefault("machine", {})["commit"] = commit[: -len("-dirty")]
        self.scaling_runs.append(data)
        self.scaling = merge_scaling(self.scaling_runs)

    def _take_vllm_version(self, machine: dict) -> None:
        """The vLLM version of a run that had it, over a "not installed" one."""
        vllm = machine.get("vllm", "")
        if vllm and not vllm.startswith("not installed"):
            current = str(self.machine.get("vllm", ""))
            if not current or current.startswith("not installed"):
                self.machine["vllm"] = vllm

    def _load_suite(self, data: dict) -> None:
        info = data["machine_info"]
        self.machine = {**info.get("hermes_bench", {})}
        self.created = data.get("datetime")
        commit = data.get("commit_info") or {}
        if commit.get("id"):
            self.commit = commit["id"][:10]
            self.dirty = self.dirty or bool(commit.get("dirty"))
        for bench in data["benchmarks"]:
            extra = bench.get("extra_info") or {}
            stats = bench.get("stats") or {}
            self.timer = (bench.get("options") or {}).get("timer", self.timer)
            if not stats or "impl" not in extra:
                continue
            row = {**extra, "min": stats["min"], "median": stats["median"], "rounds": stats["rounds"]}
            if bench["group"].startswith("stream "):
                self.stream.append(row)
            elif bench["group"].startswith("parse "):
                self.parse.append(row)
        hermes = data.get("hermes_bench") or {}
        if hermes.get("scaling"):
            self._set_scaling(hermes["scaling"])
            for run in self.scaling_runs:
                self._take_vllm_version(run.get("machine", {}))
        if hermes.get("memory"):
            self.memory = hermes["memory"]


def merge_scaling(runs: List[dict]) -> Optional[dict]:
    """One scaling result from several runs: each implementation's rows come
    from the run that measured most of its points (the newest on a tie); the
    rest (splitter, cap...) from the newest run.  With one run, that run."""
    if not runs:
        return None
    ordered = sorted(runs, key=lambda r: r.get("created", ""))
    if len(ordered) == 1:
        return ordered[0]
    newest = ordered[-1]
    picked: Dict[str, dict] = {}
    for run in ordered:  # oldest first: a later run wins a tie
        for impl in dict.fromkeys(r["impl"] for r in run["rows"]):
            measured = sum(1 for r in run["rows"] if r["impl"] == impl and r.get("us_per_delta") is not None)
            best = picked.get(impl)
            if best is None or measured >= best["measured"]:
                picked[impl] = {"run": run, "measured": measured}
    rows, sources = [], {}
    for impl in _order(picked, IMPL_ORDER):
        run = picked[impl]["run"]
        rows += sorted((r for r in run["rows"] if r["impl"] == impl), key=lambda r: r["argument_chars"])
        if picked[impl]["measured"]:
            sources.setdefault(run.get("created", "?"), []).append(impl)
    merged = {**newest, "rows": rows}
    if len(sources) > 1:
        merged["merged_from"] = sources
    return merged


# ---------------------------------------------------------------------------
# Formatting helpers


def fmt_us(us: float) -> str:
    if us >= 1000:
        return f"{us:,.0f}"
    if us >= 100:
        return f"{us:.0f}"
    if us >= 10:
        return f"{us:.1f}"
    if us >= 1:
        return f"{us:.2f}"
    return f"{us:.3f}"


def fmt_ms(ms: float) -> str:
    if ms >= 100:
        return f"{ms:,.0f}"
    if ms >= 1:
        return f"{ms:.1f}"
    if ms >= 0.01:
        return f"{ms:.3f}"
    return f"{ms:.4f}"


def fmt_ratio(ratio: Optional[float]) -> str:
    if ratio is None:
        return "—"
    if ratio >= 10:
        return f"{ratio:,.0f}×"
    if ratio >= 0.995:
        return f"{ratio:.1f}×"
    return f"{ratio:.2g}×"


def fmt_bytes(n: float) -> str:
    if n >= 1e6:
        return f"{n / 1e6:,.1f} MB"
    if n >= 1e3:
        return f"{n / 1e3:,.1f} KB"
    return f"{n:.0f} B"


def table(header: List[str], rows: List[List[str]], align: str) -> List[str]:
    out = ["| " + " | ".join(header) + " |",
           "| " + " | ".join("---:" if a == "r" else "---" for a in align) + " |"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


# ---------------------------------------------------------------------------
# Markdown


def machine_section(run: Run) -> List[str]:
    m = run.machine
    when = run.created or (run.scaling or {}).get("created") or ""
    try:
        when = datetime.datetime.fromisoformat(when.replace("Z", "+00:00")).strftime("%Y-%m-%d")
    except ValueError:
        pass
    commit = (run.commit or m.get("commit") or "?") + (" (uncommitted changes)" if run.dirty else "")
    timer = run.timer or "time.perf_counter"
    peers = []
    for key, label in (("vllm", "vLLM"), ("partial-json-parser", "partial-json-parser"), ("orjson", "orjson"),
                       ("regex", "regex")):
        if key in m:
            peers.append(f"{label} {m[key]}")
    tools = [f"{k} {m[k]}" for k in ("Cython", "tokenizers", "pytest-benchmark") if k in m]
    lines = [
        f"Measured {when} on {m.get('machine', '?')} ({m.get('platform', '?')}), {m.get('python', '?')}; "
        f"hermes-parse {m.get('hermes_parse', '?')}, commit {commit}.",
        "",
        f"Peers: {', '.join(peers) or '?'}. Tools: {', '.join(tools) or '?'}.",
        "",
        f"**Smaller is better** everywhere but MB/s. Times are CPU time of the benchmarking process "
        f"(`{timer}`), the best round; `× ours-cython` is a time over ours-cython's in the same run "
        f"(ratios are what to compare across machines, not absolute times).",
        "",
    ]
    impls = _order([r["impl"] for r in run.stream + run.parse]
                   + [r["impl"] for r in (run.scaling or {}).get("rows", []) if r.get("us_per_delta") is not None],
                   IMPL_ORDER)
    if impls:
        lines += ["Implementations:", ""]
        lines += [f"- `{name}`: {IMPL_NOTES.get(name, '')}" for name in impls]
        lines.append("")
    if m.get("WARNING"):
        lines += [f"**{m['WARNING']}**", ""]
    if m.get("vllm", "").startswith("not installed"):
        lines += ["vLLM was not importable in this run, so its rows are absent; run the suite with vLLM's "
                  "python (`\"$(bash .ci/vllm-env.sh)\" -m pytest benches ...`) to get them.", ""]
    return lines


def stream_section(run: Run) -> List[str]:
    if not run.stream:
        return []
    lines = ["### Streaming: cost per delta", "",
             "Each stream is fed to a fresh parser, delta by delta, and closed; every output is dropped as "
             "a server does once sent. Each result was checked against the expected calls. Combinations "
             "missing from a table were not run: the re-parse baseline is quadratic and is kept off the "
             "1 MB workload, off 1-character deltas above 10 KB and off anything longer than about a "
             "minute a round.", ""]
    by_workload: Dict[str, List[dict]] = {}
    for row in run.stream:
        by_workload.setdefault(row["workload"], []).append(row)
    for workload in _order(by_workload, WORKLOAD_ORDER):
        rows = by_workload[workload]
        chars = rows[0]["chars"]
        note = WORKLOAD_NOTES.get(workload, "")
        lines += [f"#### `{workload}`: {note} ({chars:,} characters)", ""]
        body = []
        for splitter in _order([r["splitter"] for r in rows], SPLITTER_ORDER):
            cells = {r["impl"]: r for r in rows if r["splitter"] == splitter}
            base = cells.get(BASE)
            for impl in _order(cells, IMPL_ORDER):
                r = cells[impl]
                us = r["min"] * 1e6 / r["deltas"]
                ratio = r["min"] / base["min"] if base else None
                body.append([SPLITTER_NAMES.get(splitter, splitter), f"`{impl}`", f"{r['deltas']:,}",
                             fmt_us(us), fmt_ms(r["min"] * 1e3), fmt_ratio(ratio)])
        lines += table(["delta", "implementation", "deltas", "µs per delta", "ms per stream", "× ours-cython"],
                       body, "llrrrr")
        lines.append("")
    return lines


def scaling_section(run: Run, image: Optional[str]) -> List[str]:
    if not run.scaling:
        return []
    s = run.scaling
    rows = s["rows"]
    impls = _order([r["impl"] for r in rows if r.get("us_per_delta") is not None], IMPL_ORDER)
    sizes = list(dict.fromkeys(r["size"] for r in rows))
    by = {(r["impl"], r["size"]): r for r in rows}
    splitter = DELTA_ADJECTIVES.get(s.get("splitter", ""), s.get("splitter", ""))
    lines = ["### Cost per delta against output length", "",
             f"One `write_file` call, its string argument from 1 KB to 1 MB, in {splitter} deltas "
             f"(`benches/scaling.py`: every point checked, then timed in interleaved repeats; CPU time, "
             f"best repeat). µs per delta; in parentheses, × ours-cython.", ""]
    if image:
        lines += [f"![cost per delta against output length]({image})", ""]
    body = []
    for size in sizes:
        first = next(by[i, size] for i in [r["impl"] for r in rows] if (i, size) in by)
        base = by.get((BASE, size))
        cells = [SIZE_NAMES.get(size, size), f"{first['chars']:,}", f"{first['deltas']:,}"]
        for impl in impls:
            r = by.get((impl, size))
            if r is None or r.get("us_per_delta") is None:
                cells.append("—")
                continue
            text = fmt_us(r["us_per_delta"])
            if impl != BASE and base and base.get("us_per_delta"):
                text += f" ({fmt_ratio(r['us_per_delta'] / base['us_per_delta'])})"
            cells.append(text)
        body.append(cells)
    lines += table(["argument", "output chars", "deltas"] + [f"`{i}`" for i in impls], body,
                   "lrr" + "r" * len(impls))
    lines.append("")
    for impl in impls:
        ok = [r for r in rows if r["impl"] == impl and r.get("us_per_delta") is not None]
        if len(ok) >= 2:
            growth = ok[-1]["us_per_delta"] / ok[0]["us_per_delta"]
            span = ok[-1]["chars"] / ok[0]["chars"]
            lines.append(f"- `{impl}`: {fmt_ratio(growth)} the cost per delta from "
                         f"{SIZE_NAMES.get(ok[0]['size'])} to {SIZE_NAMES.get(ok[-1]['size'])} "
                         f"(output ×{span:,.0f}).")
    skipped = {}
    for r in rows:
        if r["status"] == "skipped":
            skipped.setdefault(r["impl"], []).append(f"{SIZE_NAMES.get(r['size'], r['size'])} "
                                                     f"({_estimate_text(r['reason'])})")
    for impl, items in skipped.items():
        lines.append(f"- `{impl}` not run at {', '.join(items)}: over the {s.get('cap_seconds', 0):.0f} s "
                     f"cap per stream.")
    if s.get("merged_from"):
        runs = "; ".join(f"{', '.join(f'`{i}`' for i in impls_)} from the run of {created}"
                         for created, impls_ in s["merged_from"].items())
        lines.append(f"- Merged from {len(s['merged_from'])} runs ({runs}): ratios across runs "
                     f"compare figures measured apart.")
    unavailable = sorted({r["impl"] for r in rows if r["status"] == "unavailable"})
    if unavailable:
        reasons = sorted({r["reason"] for r in rows if r["status"] == "unavailable"})
        lines.append(f"- Not available in this run: {', '.join(f'`{i}`' for i in unavailable)} "
                     f"({'; '.join(reasons)}).")
    lines.append("")
    return lines


def _estimate_text(reason: Optional[str]) -> str:
    m = re.search(r"estimated ([\d,]+) s", reason or "")
    if not m:
        return reason or "skipped"
    seconds = float(m.group(1).replace(",", ""))
    if seconds >= 3600:
        return f"about {seconds / 3600:,.1f} h per stream"
    if seconds >= 120:
        return f"about {seconds / 60:,.0f} min per stream"
    return f"about {seconds:,.0f} s per stream"


def parse_section(run: Run) -> List[str]:
    if not run.parse:
        return []
    lines = ["### Non-streaming `parse()` throughput", "",
             "MB/s of UTF-8 input (bigger is better); time per pass over the workload (smaller is better). "
             "Every result is checked against the expected content and calls (the floor's: the calls).", ""]
    by_workload: Dict[str, List[dict]] = {}
    for row in run.parse:
        by_workload.setdefault(row["workload"], []).append(row)
    for workload in _order(by_workload, ["log_10000", "write_file_1m"]):
        rows = {r["impl"]: r for r in by_workload[workload]}
        base = rows.get(BASE)
        size = next(iter(rows.values()))["utf8_bytes"]
        lines += [f"#### `{workload}`: {PARSE_NOTES.get(workload, '')} ({size / 1e6:.2f} MB)", ""]
        body = []
        for impl in _order(rows, IMPL_ORDER):
            r = rows[impl]
            body.append([f"`{impl}`", f"{size / r['min'] / 1e6:,.1f}", fmt_ms(r["min"] * 1e3),
                         fmt_ratio(r["min"] / base["min"] if base else None)])
        lines += table(["implementation", "MB/s", "ms per pass", "× ours-cython"], body, "lrrr")
        lines.append("")
    return lines


def memory_section(run: Run) -> List[str]:
    if not run.memory:
        return []
    first = run.memory[0]
    lines = [f"### Memory: streaming a {first['output_utf8_bytes'] / 1e6:,.0f} MB string argument", "",
             f"One `write_file` call whose argument is {first['output_utf8_bytes'] / 1e6:,.0f} MB of UTF-8 "
             f"({first['output_chars'] / 1e6:,.0f} M characters, {first['output_sizeof'] / 1e6:,.0f} MB as a "
             f"Python string), each twin in its own process (`benches/test_bench_memory.py`). Streaming: "
             f"how far the resident set rose above its size before the stream "
             f"({first['stream_rss']['step']}-character deltas, {first['stream_rss']['deltas']:,} of them), "
             f"and tracemalloc's peak ({first['stream_traced']['step']}-character "
             f"deltas; the text itself is not counted). `parse()`: the resident set's rise, its result "
             f"included.", ""]
    body = []
    for r in sorted(run.memory, key=lambda r: IMPL_ORDER.index(r["impl"]) if r["impl"] in IMPL_ORDER else 99):
        out = r["output_utf8_bytes"]
        rss, traced, parse = r["stream_rss"], r["stream_traced"], r["parse"]
        rise = rss["peak_rss_extra"]
        body.append([
            f"`{r['impl']}`",
            ("none (< 4 KB)" if rise < 4096 else fmt_bytes(rise)) + ("" if rss.get("exact", True) else " (at most)"),
            fmt_bytes(traced["peak_traced"]),
            f"{100 * max(rss['peak_rss_extra'], traced['peak_traced']) / out:.2g}%",
            f"{rss['seconds_cpu']:,.0f} s" if rss["seconds_cpu"] >= 10 else f"{rss['seconds_cpu']:.1f} s",
            fmt_bytes(parse["peak_rss_extra"]) + f" ({parse['peak_rss_extra'] / r['output_sizeof']:.1f}× the result)",
        ])
    lines += table(["implementation", "streaming: peak RSS rise", "streaming: traced peak",
                    "larger, of the output", "stream time (CPU)", "`parse()`: peak RSS rise"], body, "lrrrrr")
    lines.append("")
    return lines


def shown_path(path: str) -> str:
    """A source as the report names it: relative to the repository, or only its
    file name when it lies outside (no local paths in a published page)."""
    rel = os.path.relpath(Path(path).resolve(), REPO_ROOT)
    return Path(path).name if rel == ".." or rel.startswith(".." + os.sep) else rel


def markdown(run: Run, image: Optional[str]) -> str:
    lines = [f"<!-- generated by benches/report.py from {', '.join(shown_path(s) for s in run.sources)}; "
             f"regenerate, do not edit -->", ""]
    lines += machine_section(run)
    lines += scaling_section(run, image)
    lines += stream_section(run)
    lines += parse_section(run)
    lines += memory_section(run)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# The plot


def curves(run: Run) -> Dict[str, List[tuple]]:
    """impl -> [(output chars, us per delta, size label)] for the plot."""
    out: Dict[str, List[tuple]] = {}
    if run.scaling:
        for r in run.scaling["rows"]:
            if r.get("us_per_delta") is not None:
                out.setdefault(r["impl"], []).append((r["chars"], r["us_per_delta"], r["size"]))
    else:
        for r in run.stream:
            if r["splitter"] == "char4" and r["workload"].startswith("write_file_"):
                label = r["workload"][len("write_file_"):]
                out.setdefault(r["impl"], []).append((r["chars"], r["min"] * 1e6 / r["deltas"], label))
    for points in out.values():
        points.sort()
    return out


def plot(run: Run, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = curves(run)
    if not data:
        raise SystemExit("no scaling data (run benches/scaling.py, or the suite's write_file char4 benchmarks)")
    styles = {
        "ours-cython": dict(color="#1b7837", marker="o"),
        "ours-python": dict(color="#5aae61", marker="s"),
        "ours-vllm": dict(color="#2166ac", marker="D"),
        "vllm-hermes": dict(color="#b2182b", marker="^"),
        "reparse": dict(color="#e08214", marker="v"),
    }
    fig, ax = plt.subplots(figsize=(8, 5.2), dpi=110)
    labels = {}
    for impl in _order(data, IMPL_ORDER):
        points = data[impl]
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        for p in points:
            labels[p[0]] = p[2]
        ax.plot(xs, ys, label=impl, linewidth=2, markersize=6, **styles.get(impl, {}))
    # A guide: cost per delta proportional to the output length (what re-parsing costs).
    xs_all = sorted(labels)
    lo, hi = xs_all[0], xs_all[-1]
    if "reparse" in data:
        x0, y0 = data["reparse"][0][:2]
    else:
        x0, y0 = lo, max(p[1] for pts in data.values() for p in pts)
    ax.plot([lo, hi], [y0 * lo / x0, y0 * hi / x0], color="grey", linestyle=":", linewidth=1,
            label="∝ output length")
    notes = []
    if run.scaling:
        first_skip: Dict[str, dict] = {}
        for r in run.scaling["rows"]:
            if r["status"] == "skipped" and r["impl"] in data and r["impl"] not in first_skip:
                first_skip[r["impl"]] = r
        for impl, r in first_skip.items():
            notes.append(f"{impl}: not run from {SIZE_NAMES.get(r['size'], r['size'])} on "
                         f"({_estimate_text(r['reason'])})")
    if notes:
        ax.text(0.98, 0.42, "\n".join(notes), transform=ax.transAxes, ha="right", va="bottom", fontsize=8,
                color="dimgrey")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(xs_all)
    ax.set_xticklabels([SIZE_NAMES.get(labels[x], labels[x]) for x in xs_all])
    ax.minorticks_off()
    ax.set_xlim(lo / 1.4, hi * 1.4)
    ax.set_xlabel("size of the string argument (whole output: a little more)")
    ax.set_ylabel("µs per delta (CPU time, log scale)")
    splitter = DELTA_ADJECTIVES.get((run.scaling or {}).get("splitter", "char4"), "4-character")
    ax.set_title(f"Cost per delta against output length: one write_file call, {splitter} deltas\n"
                 f"(smaller is better; {run.machine.get('machine', '')}, {run.machine.get('python', '')})",
                 fontsize=10)
    ax.grid(True, which="major", linewidth=0.4, alpha=0.6)
    ax.legend(fontsize=9, loc="upper left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


# ---------------------------------------------------------------------------


def update_file(path: Path, text: str) -> None:
    """Replace what lies between the marker lines (each alone on its line)."""
    old = path.read_text()
    found = re.search(rf"^{re.escape(BEGIN)}[ \t]*\n(.*?)^{re.escape(END)}[ \t]*$", old, re.M | re.S)
    if not found:
        raise SystemExit(f"{path}: no {BEGIN} ... {END} lines to replace between")
    path.write_text(old[:found.start(1)] + text + old[found.end(1):])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="*", type=Path,
                        help="JSON files (default: .benchmarks/suite.json and .benchmarks/scaling.json)")
    parser.add_argument("--markdown", type=Path, help="write the Markdown here (default: stdout)")
    parser.add_argument("--update", type=Path, help="replace the text between the benchmarks markers of this file")
    parser.add_argument("--plot", default=str(DEFAULT_PLOT), help=f"the PNG (default {DEFAULT_PLOT}; '' for none)")
    args = parser.parse_args(argv)

    inputs = args.inputs or [p for p in DEFAULT_INPUTS if p.is_file()]
    if not inputs:
        parser.error("no input: run the suite with --benchmark-json=.benchmarks/suite.json, or give files")
    run = Run()
    for path in inputs:
        run.load(path)

    if args.update and run.dirty:
        raise SystemExit("report: these results were measured on a tree with uncommitted changes; "
                         "commit, run the benchmarks again, then --update (--markdown writes them anyway)")

    image = None
    if args.plot:
        plot_path = Path(args.plot).resolve()
        plot(run, plot_path)
        where = (args.update or args.markdown)
        base_dir = where.resolve().parent if where else REPO_ROOT
        image = os.path.relpath(plot_path, base_dir)
        print(f"report: wrote {os.path.relpath(plot_path, Path.cwd())}", file=sys.stderr)
    text = markdown(run, image)
    if args.update:
        update_file(args.update, text)
        print(f"report: updated {args.update}", file=sys.stderr)
    elif args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(text)
        print(f"report: wrote {args.markdown}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
