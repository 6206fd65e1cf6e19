"""The command's documentation is true: every ``console`` example of README.md and
docs/cli.md prints what it shows, and every example in ``--help`` runs."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys

import pytest

from test_cli_support import REPO, run_cli

DOCS = [REPO / "README.md", REPO / "docs" / "cli.md"]  # the command's reference is docs/cli.md
CALL_ID = re.compile(r"call_[A-Za-z0-9]{24}")
COMMANDS = ["extract", "stats", "stream", "vllm-plugin-path"]


@pytest.fixture(scope="module")
def shell_path(tmp_path_factory):
    """A PATH on which ``hermes-parse`` is this checkout's command."""
    bin_dir = tmp_path_factory.mktemp("bin")
    script = bin_dir / "hermes-parse"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m hermes_parse "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"


def console_examples():
    """(command, expected output) for each ``$ `` line of the doc's console blocks."""
    examples = []
    text = "".join(doc.read_text(encoding="utf-8") for doc in DOCS)
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        command, output = None, []
        for line in block.splitlines():
            if line.startswith("$ "):
                if command is not None:
                    examples.append((command, "\n".join(output)))
                command, output = line[2:], []
            else:
                output.append(line)
        examples.append((command, "\n".join(output)))
    return examples


def bash(command, path):
    env = dict(os.environ, PATH=path, COLUMNS="80")
    env.pop("HERMES_PARSE_TOKENIZER", None)
    return subprocess.run(
        ["bash", "-c", command], capture_output=True, cwd=REPO, env=env, timeout=120
    )


@pytest.mark.parametrize("command, expected", console_examples(), ids=lambda value: str(value)[:60])
def test_doc_example(command, expected, shell_path):
    """The example prints what the doc shows (call ids, random, aside)."""
    if "jq " in command and shutil.which("jq") is None:
        pytest.skip("jq is not installed")
    proc = bash(command, shell_path)
    assert proc.stderr == b"", proc.stderr.decode()
    got = proc.stdout.decode("utf-8").rstrip("\n")
    assert CALL_ID.sub("call_ID", got) == CALL_ID.sub("call_ID", expected)


def test_doc_examples_are_many():
    """The doc shows every command at work."""
    commands = " ".join(command for command, _ in console_examples())
    for needed in (
        "extract ",
        "--fix",
        "stats ",
        "stats --json",
        "--tools",
        "--with-problems",
        "stream ",
        "--field",
        "--strict",
    ):
        assert needed in commands


def help_examples(text):
    """The command lines under the "examples:" heading of a --help text."""
    section = text.split("examples:\n", 1)[1].split("\n\n", 1)[0]
    commands, current = [], ""
    for line in section.splitlines():
        stripped = line.strip()
        if current:
            current += " " + stripped.rstrip("\\").strip()
        elif stripped.startswith(("hermes-parse", "cat ")):
            current = stripped.rstrip("\\").strip()
        else:
            continue
        if not line.rstrip().endswith("\\"):
            commands.append(current)
            current = ""
    return commands


@pytest.mark.parametrize("command", [None] + COMMANDS)
def test_help(command):
    """--help exits 0 and shows examples and, but for the plugin path, the exit status."""
    argv = ([command] if command else []) + ["--help"]
    proc = run_cli(*argv)
    assert proc.returncode == 0 and proc.stderr == b""
    text = proc.stdout.decode("utf-8")
    assert "example" in text
    if command != "vllm-plugin-path":
        assert "exit status:" in text and "2  usage error" in text
        assert help_examples(text)


def all_help_examples():
    examples = []
    for command in [None] + COMMANDS[:3]:
        proc = run_cli(*([command] if command else []), "--help")
        examples += help_examples(proc.stdout.decode("utf-8"))
    return sorted(set(examples))


@pytest.mark.parametrize("command", all_help_examples())
def test_help_example_runs(command, shell_path):
    """Each example of --help runs from the project root (placeholders aside)."""
    if "/path/to/" in command:
        pytest.skip("a placeholder path")
    if "jq " in command and shutil.which("jq") is None:
        pytest.skip("jq is not installed")
    proc = bash(f"set -o pipefail; {command}", shell_path)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.strip()
    assert proc.stderr == b"" or b"bad record" not in proc.stderr


def test_version():
    """--version names the version and the backend."""
    proc = run_cli("--version")
    assert proc.returncode == 0
    assert re.fullmatch(rb"hermes-parse \d+\.\d+\.\d+ \((cython|python: [^()]+)\)\n", proc.stdout)
