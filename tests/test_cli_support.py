"""Shared helpers of the ``hermes-parse`` command's tests (tests/test_cli*.py).

The command runs for real: in a subprocess (``python -m hermes_parse``) or
in-process through ``hermes_parse.cli.main``; files are real files.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from openai.types.chat import ChatCompletion, ChatCompletionChunk

import hermes_parse
from helpers import check_message  # noqa: F401  (the one check of a message, for test_cli*.py)

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"


def run_cli(
    *argv: str,
    input: Optional[bytes] = None,
    cwd: Path = REPO,
    env: Optional[dict] = None,
    timeout: float = 300,
):
    """Run ``python -m hermes_parse ARGV``; return the CompletedProcess (bytes)."""
    return subprocess.run(
        [sys.executable, "-m", "hermes_parse", *argv],
        input=input,
        capture_output=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
    )


def run(capsysbinary, *argv: str):
    """Run the command in-process; return (exit code, stdout bytes, stderr text)."""
    from hermes_parse.cli import main

    code = main(list(argv))
    out, err = capsysbinary.readouterr()
    return code, out, err.decode("utf-8")


def lines_of(output: bytes) -> List[dict]:
    """Each line of the output, parsed as JSON."""
    return [json.loads(line) for line in output.decode("utf-8").splitlines()]


def ids_for(seed: int, record: int, choice: int = 0):
    """The ``call_id`` function ``--seed`` uses for a record (ids depend only on these)."""
    return hermes_parse.seeded_ids(seed * 10**12 + record * 1000 + choice)


def expected_message(text: str, seed: int, record: int, **options) -> dict:
    """What ``extract --seed`` must print for ``text``: ``parse(text).to_openai()``."""
    return hermes_parse.parse(text, call_id=ids_for(seed, record), **options).to_openai()


def check_completion(data: dict) -> ChatCompletion:
    """``data`` is an OpenAI chat.completion response (the openai package's type)."""
    return ChatCompletion.model_validate(data)


def sse_chunks(output: bytes) -> List[object]:
    """The events of an SSE output: chunk dicts, and "[DONE]"; checks the framing."""
    text = output.decode("utf-8")
    assert text.endswith("\n\n"), text[-50:]
    events = []
    for block in text[:-2].split("\n\n"):
        assert block.startswith("data: "), block
        payload = block[len("data: ") :]
        events.append(payload if payload == "[DONE]" else json.loads(payload))
    return events


def check_chunk(data: dict) -> ChatCompletionChunk:
    """``data`` is an OpenAI chat.completion.chunk (the openai package's type)."""
    return ChatCompletionChunk.model_validate(data)


def chat_record(
    number: int, content, *, finish: str = "stop", tool_calls=None, choices: int = 1
) -> dict:
    """A chat.completion response as vLLM writes it (no tool parsing: tool_calls [])."""
    return {
        "id": f"chatcmpl-{number:032x}",
        "object": "chat.completion",
        "created": 1732170000 + number,
        "model": "Qwen/Qwen3-8B",
        "choices": [
            {
                "index": index,
                "message": {
                    "role": "assistant",
                    "content": content,
                    "refusal": None,
                    "tool_calls": [] if tool_calls is None else tool_calls,
                },
                "logprobs": None,
                "finish_reason": finish,
            }
            for index in range(choices)
        ],
        "usage": {"prompt_tokens": 300, "total_tokens": 340, "completion_tokens": 40},
    }


def write_jsonl(path: Path, records) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def stderr_on_pty(argv: Sequence[str], env: Optional[dict] = None, cwd: Path = REPO) -> Tuple[int, bytes]:
    """Run the command with its stderr on a 100-column pseudo-terminal (stdout
    dropped); return (exit code, what stderr showed there)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "hermes_parse", *argv],
        stdout=subprocess.DEVNULL,
        stderr=slave,
        cwd=cwd,
        env=env,
    )
    os.close(slave)
    shown = b""
    while select.select([master], [], [], 60)[0]:
        try:
            data = os.read(master, 65536)
        except OSError:  # the other end closed (Linux: EIO)
            break
        if not data:
            break
        shown += data
    os.close(master)
    return proc.wait(timeout=60), shown
