"""Big logs: constant memory, the progress bar (on a real pseudo-terminal only),
a reader that goes away, and throughput.

The throughput test is opt-in (``HERMES_PARSE_PERF=1``: it writes a 200 MB log);
its figure is CPU time of the command in a subprocess, so a busy machine slows
the wall clock but not the figure.  By hand::

    python tests/test_cli_scale.py chat 200 > /tmp/chat.jsonl   # 200 MB of vLLM responses
    time hermes-parse extract /tmp/chat.jsonl > /dev/null
"""

from __future__ import annotations

import json
import os
import random
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_cli_support import REPO, stderr_on_pty

CITIES = ["Beijing", "Paris", "São Paulo", "東京", "Berlin", "Lagos", "Lima", "Oslo"]
ANSWERS = [
    "The capital of Australia is Canberra.",
    "Sure! Here's a short poem about the sea:\n\nWaves fold in silver light,\nthe harbour hums goodnight.",
    "I don't have access to real-time data, but I can help you find it.",
    "2 + 2 = 4.",
    "Paris is the capital of France.",
]

# Runs the command in-process and reports its own peak memory and CPU time.
# The peak is VmHWM: ru_maxrss would keep the peak of the process forked
# from pytest before it became this one.
MEASURE = """\
import resource, sys
from hermes_parse.cli import main
code = main(sys.argv[1:])
usage = resource.getrusage(resource.RUSAGE_SELF)
with open("/proc/self/status") as f:
    peak = [int(line.split()[1]) for line in f if line.startswith("VmHWM:")][0]
sys.stderr.write("MEASURE %d %.3f\\n" % (peak, usage.ru_utime + usage.ru_stime))
sys.exit(code)
"""


def write_log(path: Path, megabytes: float, kind: str = "chat", seed: int = 1) -> int:
    """Write a log of short completions, 40% of them with one call; return its record count.

    ``chat``: chat.completion responses as vLLM writes them without tool parsing
    (about 680 bytes each); ``raw``: ``{"id": ..., "completion": ...}`` (about 120).
    """
    rng = random.Random(seed)
    target = int(megabytes * 1_000_000)
    size = count = 0
    with open(path, "w", encoding="utf-8") as f:
        while size < target:
            count += 1
            if rng.random() < 0.4:
                call = {
                    "name": "get_weather",
                    "arguments": {"city": rng.choice(CITIES), "unit": "celsius"},
                }
                text = ("I'll check.\n\n" if rng.random() < 0.5 else "") + (
                    "<tool_call>\n" + json.dumps(call, ensure_ascii=False) + "\n</tool_call>"
                )
            else:
                text = rng.choice(ANSWERS)
            if kind == "raw":
                record: dict = {"id": f"req-{count}", "completion": text}
            else:
                record = {
                    "id": f"chatcmpl-{count:032x}",
                    "object": "chat.completion",
                    "created": 1732170000 + count,
                    "model": "Qwen/Qwen3-8B",
                    "choices": [
                        {
                            "index": 0,
                            "message": {
                                "role": "assistant",
                                "content": text,
                                "refusal": None,
                                "annotations": None,
                                "audio": None,
                                "function_call": None,
                                "tool_calls": [],
                                "reasoning_content": None,
                            },
                            "logprobs": None,
                            "finish_reason": "stop",
                            "stop_reason": None,
                        }
                    ],
                    "service_tier": None,
                    "system_fingerprint": None,
                    "usage": {
                        "prompt_tokens": 300,
                        "total_tokens": 340,
                        "completion_tokens": 40,
                        "prompt_tokens_details": None,
                    },
                    "prompt_logprobs": None,
                    "kv_transfer_params": None,
                }
            line = json.dumps(record, ensure_ascii=False) + "\n"
            size += len(line.encode("utf-8"))
            f.write(line)
    return count


def measure(*argv: str):
    """Run the command on the side; return (exit code, peak RSS in MB, CPU seconds, wall seconds)."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", MEASURE, *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    wall = time.perf_counter() - start
    line = [x for x in proc.stderr.decode().splitlines() if x.startswith("MEASURE ")][-1]
    _, rss, cpu = line.split()
    return proc.returncode, int(rss) / 1024, float(cpu), wall


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    """A 4 MB and a 64 MB log of chat.completion responses."""
    directory = tmp_path_factory.mktemp("logs")
    small, big = directory / "small.jsonl", directory / "big.jsonl"
    write_log(small, 4)
    write_log(big, 64)
    return small, big


@pytest.mark.skipif(
    not os.path.exists("/proc/self/status"), reason="peak memory is read from /proc"
)
@pytest.mark.parametrize("command", ["extract", "stats"])
def test_constant_memory(logs, command):
    """Peak memory does not grow with the log: 64 MB takes what 4 MB takes."""
    small, big = logs
    code, small_rss, _, _ = measure(command, str(small))
    assert code == 0
    code, big_rss, _, _ = measure(command, str(big))
    assert code == 0
    assert big_rss < 40 and big_rss - small_rss < 4, (small_rss, big_rss)


def run_on_pty(*argv: str) -> bytes:
    """Run the command with stderr on a pseudo-terminal; return what it drew there."""
    code, drawn = stderr_on_pty(argv)
    assert code == 0
    # Without the compiled extension the command says so on a terminal, once
    # (tests/test_cli_newcomer.py): not what these tests look at.
    return re.sub(rb"hermes-parse: note: the compiled extension is not built[^\n]*\r?\n", b"", drawn)


def test_progress_bar_on_a_terminal(logs):
    """stderr a terminal and a file over 4 MB: a bar is drawn, then erased."""
    _, big = logs
    drawn = run_on_pty("stats", str(big))
    assert b"%" in drawn and b" MB" in drawn and b"big.jsonl [" in drawn
    assert drawn.endswith(b"\r\x1b[K")


def test_no_progress_bar_otherwise(logs, tmp_path):
    """No bar for a small file, with --no-progress, or when stderr is not a terminal."""
    small, big = logs
    tiny = tmp_path / "tiny.jsonl"
    tiny.write_text('{"completion": "hi"}\n')
    assert run_on_pty("stats", str(tiny)) == b""
    assert run_on_pty("stats", "--no-progress", str(big)) == b""
    proc = subprocess.run(
        [sys.executable, "-m", "hermes_parse", "stats", str(big)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    assert proc.returncode == 0 and proc.stderr == b""


def test_reader_going_away(logs):
    """| head: the command stops quietly (exit 0, no traceback) when its reader leaves."""
    _, big = logs
    proc = subprocess.Popen(
        [sys.executable, "-m", "hermes_parse", "extract", str(big)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    first = proc.stdout.readline()
    proc.stdout.close()
    assert proc.wait(timeout=60) == 0
    assert proc.stderr.read() == b""
    assert json.loads(first)["role"] == "assistant"


def test_pipe_is_answered_line_by_line():
    """Fed a line at a time (tail -f), the command answers each line before the next comes."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "hermes_parse", "extract"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=REPO,
    )
    for text in ["one", "two"]:
        proc.stdin.write(json.dumps({"completion": text}).encode() + b"\n")
        proc.stdin.flush()
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        assert ready, "no answer to a line"
        assert json.loads(proc.stdout.readline()) == {"role": "assistant", "content": text}
    proc.stdin.close()
    assert proc.wait(timeout=30) == 0


@pytest.mark.skipif(
    not os.environ.get("HERMES_PARSE_PERF"), reason="set HERMES_PARSE_PERF=1 (writes 200 MB)"
)
@pytest.mark.parametrize("kind, floor", [("chat", 100.0), ("raw", None)])
def test_throughput(tmp_path, kind, floor):
    """extract on 200 MB of short completions: >= 100 MB/s of CPU time for vLLM responses."""
    path = tmp_path / f"{kind}.jsonl"
    records = write_log(path, 200, kind)
    size = path.stat().st_size
    code, rss, cpu, wall = measure("extract", str(path))
    assert code == 0
    rate = size / 1e6 / cpu
    print(
        f"\n{kind}: {size / 1e6:.0f} MB, {records:,} records: CPU {cpu:.2f} s = {rate:.0f} MB/s"
        f" ({records / cpu / 1e3:.0f} k records/s), wall {wall:.2f} s, peak RSS {rss:.0f} MB"
    )
    if floor is not None:
        assert rate >= floor


if __name__ == "__main__":
    # python tests/test_cli_scale.py chat|raw MEGABYTES > FILE  (the workload of test_throughput)
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        target = Path(directory) / "log.jsonl"
        write_log(target, float(sys.argv[2]), sys.argv[1])
        sys.stdout.buffer.write(target.read_bytes())
