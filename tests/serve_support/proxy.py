"""``hermes-parse serve`` as a real process, started for a test and stopped by its own pid.

The proxy prints ``listening on http://HOST:PORT`` on stderr once it serves;
its output goes to a log file whose tail is shown when it fails to come up.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

HOST = "127.0.0.1"
STARTUP_TIMEOUT = 60.0
LISTENING = re.compile(r"listening on (http://[^\s/]+)")


def free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Proxy:
    """``with Proxy(upstream, log_path, mode="template") as proxy: proxy.base_url``"""

    def __init__(self, upstream: str, log_path: Path, mode: str = "template", args: tuple = (),
                 python: str = sys.executable) -> None:
        self.upstream = upstream
        self.log_path = Path(log_path)
        self.mode = mode
        self.args = list(args)
        self.python = python
        self.port = free_port()
        self.process: Optional[subprocess.Popen] = None

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.origin + "/v1"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def command(self) -> list:
        return [self.python, "-m", "hermes_parse", "serve", "--upstream", self.upstream,
                "--host", HOST, "--port", str(self.port), "--mode", self.mode, *self.args]

    def start(self) -> "Proxy":
        log = open(self.log_path, "wb")
        # Not from the checkout's root: there `-m hermes_parse` would import the
        # source folder ahead of the installed package.
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, cwd=str(self.log_path.parent),
                                        start_new_session=True)
        log.close()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"hermes-parse serve exited with {self.process.returncode}:\n{self.log_tail()}")
            if LISTENING.search(self.log_text()):
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"hermes-parse serve did not say 'listening on' in {STARTUP_TIMEOUT:.0f} s:\n{self.log_tail()}")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                return
            try:
                process.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:]) or "(no log)"

    def __enter__(self) -> "Proxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
