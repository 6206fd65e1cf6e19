"""What a newcomer stumbled on with the command (issue 12), each held by a test:
the backend shown by --version and a notice on the pure-Python twin, a run that
reads no record, an empty input, and calls cut by max_tokens (--truncated)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import hermes_parse
from test_cli_support import (
    EXAMPLES,
    REPO,
    check_completion,
    chat_record,
    expected_message,
    lines_of,
    run,
    run_cli,
    stderr_on_pty,
    write_jsonl,
)

CUT = 'Let me look.<tool_call>\n{"name": "get_weather", "arguments": {"city": "Bei'
WHOLE = '<tool_call>\n{"name": "get_time", "arguments": {}}\n</tool_call>'
NOTE = b"note: the compiled extension is not built"


# ---------------------------------------------------------------------------
# The backend: --version, and a notice when the extension is not built.


def _env(**changes):
    env = dict(os.environ)
    env.pop("HERMES_PARSE_NO_EXTENSIONS", None)
    for key, value in changes.items():
        env[key] = value
    return env


@pytest.fixture(scope="module")
def unbuilt(tmp_path_factory):
    """A copy of the package without any compiled module: what pip installs
    on a machine without a C compiler. Returns the directory to put on PYTHONPATH."""
    root = tmp_path_factory.mktemp("unbuilt")
    shutil.copytree(
        Path(hermes_parse.__file__).parent,
        root / "hermes_parse",
        ignore=shutil.ignore_patterns("*.so", "*.pyd", "*.c", "__pycache__"),
    )
    return root


def _run_unbuilt(root, *argv, env=None):
    return subprocess.run(
        [sys.executable, "-m", "hermes_parse", *argv],
        capture_output=True,
        cwd=root,
        env=_env(PYTHONPATH=str(root), **(env or {})),
        timeout=120,
    )


def _on_pty(argv, env, cwd=REPO):
    """Run with stderr on a pseudo-terminal; return (exit code, what stderr showed)."""
    return stderr_on_pty(argv, env, cwd)


def _backend():
    """hermes_parse.BACKEND in a process without HERMES_PARSE_NO_EXTENSIONS."""
    code = "import hermes_parse; print(hermes_parse.BACKEND)"
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, env=_env(), check=True, text=True
    ).stdout.strip()


def test_version_names_the_backend():
    """--version: the version and the twin that runs, here (the dev install)."""
    proc = run_cli("--version", env=_env())
    assert proc.returncode == 0 and proc.stderr == b""
    if _backend() == "cython":
        expected = f"hermes-parse {hermes_parse.__version__} (cython)\n"
    else:
        expected = (
            f"hermes-parse {hermes_parse.__version__} (python: the compiled extension is not built)\n"
        )
    assert proc.stdout.decode() == expected


def test_version_when_python_is_chosen():
    """HERMES_PARSE_NO_EXTENSIONS=1: the Python twin, and --version says why."""
    proc = run_cli("--version", env=_env(HERMES_PARSE_NO_EXTENSIONS="1"))
    assert proc.returncode == 0
    assert proc.stdout.decode() == (
        f"hermes-parse {hermes_parse.__version__} (python: HERMES_PARSE_NO_EXTENSIONS is set)\n"
    )


def test_version_when_not_built(unbuilt):
    """No compiled module (no C compiler at install): --version says so."""
    proc = _run_unbuilt(unbuilt, "--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode() == (
        f"hermes-parse {hermes_parse.__version__} (python: the compiled extension is not built)\n"
    )


def test_notice_once_on_a_terminal_when_not_built(unbuilt):
    """Not built, stderr a terminal: one line says so, once for the run (two inputs)."""
    completion = str(EXAMPLES / "completion.txt")
    code, shown = _on_pty(
        ["extract", completion, completion], _env(PYTHONPATH=str(unbuilt)), cwd=unbuilt
    )
    assert code == 0
    assert shown.count(NOTE) == 1, shown
    (line,) = [line for line in shown.splitlines() if NOTE in line]
    assert line.startswith(b"hermes-parse: note:") and b"HERMES_PARSE_NO_EXTENSIONS=1" in line
    # The same with a stats run; none for vllm-plugin-path (it parses nothing).
    assert _on_pty(["stats", completion], _env(PYTHONPATH=str(unbuilt)), cwd=unbuilt)[1].count(
        NOTE
    ) == 1
    assert NOTE not in _on_pty(["vllm-plugin-path"], _env(PYTHONPATH=str(unbuilt)), cwd=unbuilt)[1]


def test_no_notice_when_chosen_or_not_a_terminal(unbuilt):
    """HERMES_PARSE_NO_EXTENSIONS=1 (a choice) silences it; a pipe or a log never gets it."""
    completion = str(EXAMPLES / "completion.txt")
    env = _env(PYTHONPATH=str(unbuilt), HERMES_PARSE_NO_EXTENSIONS="1")
    code, shown = _on_pty(["extract", completion], env, cwd=unbuilt)
    assert code == 0 and shown == b""
    proc = _run_unbuilt(unbuilt, "extract", completion)
    assert proc.returncode == 0 and proc.stderr == b"" and proc.stdout


def test_no_notice_on_the_compiled_twin():
    if _backend() != "cython":
        pytest.skip("the Cython extension is not built")
    code, shown = _on_pty(["extract", str(EXAMPLES / "completion.txt")], _env())
    assert code == 0 and shown == b""


# ---------------------------------------------------------------------------
# A run that reads no record is an error; an empty input is not.


def test_plain_completion_taken_for_json_lines(tmp_path, capsysbinary):
    """A plain completion whose first line is JSON is detected as JSON Lines, every
    line is bad: exit 1 with a hint to read it with --format text (which works)."""
    path = tmp_path / "completion.txt"
    path.write_text('{"plan": "look it up"}\nNow the call:\n' + WHOLE + "\n", encoding="utf-8")
    code, out, err = run(capsysbinary, "extract", str(path))
    assert code == 1 and out == b""
    assert "bad records skipped" in err
    last = err.splitlines()[-1]
    assert last.startswith("hermes-parse: error: no record could be read (")
    assert "the records' keys are plan" in last and "--format text" in last
    code, out, err = run(capsysbinary, "extract", "--seed", "1", "--format", "text", str(path))
    assert code == 0 and err == ""
    assert lines_of(out) == [expected_message(path.read_text(encoding="utf-8"), 1, 1)]


def test_mistyped_field(tmp_path, capsysbinary):
    """--field that no record has: exit 1, and the keys the records do have."""
    path = write_jsonl(tmp_path / "log.jsonl", [{"prompt": "p", "output": WHOLE}] * 3)
    code, out, err = run(capsysbinary, "extract", "--field", "outptu", str(path))
    assert code == 1 and out == b""
    assert f"{path}:1: bad record: no field outptu" in err
    assert "error: no record could be read (3 bad); the records' keys are prompt, output:" in err
    assert "--field PATH" in err
    # stats answers the same way (its table is still printed).
    code, out, err = run(capsysbinary, "stats", "--field", "outptu", str(path))
    assert code == 1 and b"records" in out and "no record could be read (3 bad)" in err
    # One good record is enough: the bad ones are reported and skipped, exit 0.
    path.write_text(path.read_text() + json.dumps({"outptu": "x"}) + "\n")
    code, out, err = run(capsysbinary, "extract", "--field", "outptu", str(path))
    assert code == 0 and len(lines_of(out)) == 1 and "error" not in err


@pytest.mark.parametrize("content", [b"", b"\n \n\t\r\n"], ids=["empty", "blank"])
@pytest.mark.parametrize("command", ["extract", "stats"])
def test_empty_input_in_every_format(tmp_path, capsysbinary, content, command):
    """An empty (or blank) input answers the same in every format: no record,
    exit 0, a note on stderr; extract prints nothing."""
    path = tmp_path / "empty.log"
    path.write_bytes(content)
    answers = set()
    for fmt in ("auto", "text", "jsonl", "chat", "sse"):
        code, out, err = run(capsysbinary, command, "--format", fmt, str(path))
        answers.add((code, out if command == "extract" else b"", err))
        if command == "stats":
            assert b"records" in out
    assert answers == {(0, b"", f"hermes-parse: {path}: no records (the input is empty)\n")}


def test_empty_input_from_stdin():
    proc = run_cli("extract", "--format", "text", input=b"")
    assert proc.returncode == 0 and proc.stdout == b""
    assert proc.stderr == b"hermes-parse: <stdin>: no records (the input is empty)\n"


# ---------------------------------------------------------------------------
# --truncated keep|drop|content


@pytest.mark.parametrize("choice", ["keep", "drop", "content"])
def test_truncated(tmp_path, capsysbinary, choice):
    """extract --truncated: what parse(text, truncated=...) gives; the problem stays."""
    path = write_jsonl(tmp_path / "log.jsonl", [{"completion": WHOLE + CUT}])
    argv = ["extract", "--seed", "1", "--with-problems", str(path)]
    if choice != "keep":
        argv[1:1] = ["--truncated", choice]
    code, out, err = run(capsysbinary, *argv)
    assert code == 0 and err == ""
    (got,) = lines_of(out)
    assert [problem["kind"] for problem in got.pop("problems")] == ["truncated"]
    assert got == expected_message(WHOLE + CUT, 1, 1, truncated=choice)
    calls = got["tool_calls"]
    if choice == "keep":
        assert [call["function"]["arguments"] for call in calls] == ["{}", '{"city": "Bei']
    else:
        assert [call["function"]["name"] for call in calls] == ["get_time"]
        assert got["content"] == ("Let me look." if choice == "drop" else CUT)


def test_truncated_default_is_keep(tmp_path, capsysbinary):
    path = write_jsonl(tmp_path / "log.jsonl", [{"completion": CUT}])
    keep = run(capsysbinary, "extract", "--seed", "1", str(path))
    assert keep == run(capsysbinary, "extract", "--seed", "1", "--truncated", "keep", str(path))
    assert lines_of(keep[1])[0]["tool_calls"][0]["function"]["arguments"] == '{"city": "Bei'


def test_truncated_fix_chat(tmp_path, capsysbinary):
    """--fix --truncated drop: the cut call is not moved into tool_calls; the
    response stays a valid chat.completion with finish_reason "length"."""
    path = write_jsonl(tmp_path / "log.jsonl", [chat_record(1, WHOLE + CUT, finish="length")])
    code, out, err = run(capsysbinary, "extract", "--fix", "--truncated", "drop", str(path))
    assert code == 0 and err == ""
    (fixed,) = lines_of(out)
    check_completion(fixed)
    choice = fixed["choices"][0]
    assert choice["finish_reason"] == "length"
    assert [call["function"]["name"] for call in choice["message"]["tool_calls"]] == ["get_time"]
    assert choice["message"]["content"] == "Let me look."


def test_truncated_fix_stream_refused(capsysbinary):
    """A stream cannot take back what it sent: --fix of SSE with drop/content is a usage error."""
    code, out, err = run(
        capsysbinary, "extract", "--fix", "--truncated", "content", str(EXAMPLES / "stream.sse")
    )
    assert code == 2 and out == b""
    assert "--truncated content applies to messages and chat.completion responses" in err
    code, _, err = run(capsysbinary, "extract", "--fix", "--truncated", "keep", str(EXAMPLES / "stream.sse"))
    assert code == 0


def test_truncated_is_extract_only(capsysbinary):
    code, _, err = run(capsysbinary, "stats", "--truncated", "drop", str(EXAMPLES / "completion.txt"))
    assert code == 2 and "unrecognized arguments: --truncated" in err


# ---------------------------------------------------------------------------
# The calls a captured stream already had, folded by CallFold.


def test_existing_stream_calls_with_null_fields(tmp_path, capsysbinary):
    """Servers that send "id": null / "name": null in later deltas (and skip an
    index) do not erase what came first."""
    base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m"}

    def chunk(delta, finish=None):
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    events = [
        chunk({"role": "assistant", "content": ""}),
        chunk({"tool_calls": [{"index": 0, "id": "call_a", "type": "function",
                               "function": {"name": "f", "arguments": ""}}]}),
        chunk({"tool_calls": [{"index": 0, "id": None, "type": None,
                               "function": {"name": None, "arguments": '{"x": '}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}),
        chunk({"tool_calls": [{"index": 2, "id": "call_c", "function": {"name": "g", "arguments": "{}"}}]}),
        chunk({"content": "then " + WHOLE}),
        chunk({}, "stop"),
    ]
    path = tmp_path / "stream.sse"
    path.write_text("".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n")
    code, out, err = run(capsysbinary, "extract", "--seed", "1", str(path))
    assert code == 0 and err == ""
    (message,) = lines_of(out)
    calls = message["tool_calls"]
    assert [(c["id"], c["function"]["name"], c["function"]["arguments"]) for c in calls[:2]] == [
        ("call_a", "f", '{"x": 1}'),
        ("call_c", "g", "{}"),
    ]
    assert [c["function"]["name"] for c in calls[2:]] == ["get_time"]


# ---------------------------------------------------------------------------
# Without orjson (it may live in the `cli` extra): the same bytes out.

WITHOUT_ORJSON = (
    "import sys; sys.modules['orjson'] = None\n"
    "from hermes_parse.cli import main\n"
    "from hermes_parse.cli import jsonio\n"
    "assert not jsonio.HAVE_ORJSON\n"
    "sys.exit(main(sys.argv[1:]))"
)


def _odd_records(tmp_path):
    """Records with what the two JSON writers could differ on: floats of every
    size (logprobs), integers beyond 64 bits, NaN, lone surrogates, escapes."""
    chat = chat_record(1, "I'll look.\u2028\x7f" + WHOLE + CUT, finish="length")
    chat["choices"][0]["logprobs"] = {
        "content": [{"token": "a", "logprob": value, "bytes": [97]}
                    for value in (-1.5e-5, -2.5e-7, -0.0001, -1e-5, -3.0, -1e16, -1.2345678e-300)]
    }
    chat["seed"] = 2**70
    plain = chat_record(2, "no call \x00\x1f\"\\ é \U0001f600")
    plain["score"] = 1e22
    lines = [json.dumps(chat), json.dumps(plain),
             '{"choices": [{"message": {"content": "x\\ud800 ' + WHOLE.replace('"', '\\"').replace("\n", "\\n") + '"}}], "n": NaN, "big": 123456789012345678901234567890}']
    path = tmp_path / "odd.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    base = {"id": "c1", "object": "chat.completion.chunk", "created": 2**65, "model": "m"}
    events = [
        {**base, "choices": [{"index": 0, "delta": {"content": "a" + WHOLE[:20]}, "logprobs": {"x": 1e-5},
                              "finish_reason": None}]},
        {**base, "choices": [{"index": 0, "delta": {"content": WHOLE[20:]}, "finish_reason": "stop"}],
         "usage": {"t": 2.5e-7}},
    ]
    sse = tmp_path / "odd.sse"
    sse.write_text("".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n")
    return path, sse


def _deep_records(tmp_path):
    """Records nested 1,023 to 1,025 levels deep (orjson reads 1,024) and far
    deeper, between good ones: read, or bad records, the same either way."""
    call = json.dumps(chat_record(1, WHOLE))[:-1].encode()
    lines = [b'{"completion": "one"}']
    for depth in (1023, 1024, 1025, 100_000):
        lines.append(call + b', "x": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}")
    lines.append(json.dumps(chat_record(2, WHOLE)).encode())
    path = tmp_path / "deep.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_same_bytes_without_orjson(tmp_path):
    pytest.importorskip("orjson")
    odd, sse = _odd_records(tmp_path)
    deep = str(_deep_records(tmp_path))
    tools = str(EXAMPLES / "tools.json")
    runs = [
        ["extract", "--seed", "7", "--with-problems", "--tools", tools, str(EXAMPLES / "completions.jsonl")],
        ["extract", "--seed", "7", "--with-problems", str(odd), str(EXAMPLES / "batch_output.jsonl")],
        ["extract", "--seed", "7", "--fix", "--with-problems", str(odd)],
        ["extract", "--seed", "7", "--fix", "--tools", tools, "--with-problems", str(EXAMPLES / "chat_completion.json")],
        ["extract", "--seed", "7", "--fix", str(EXAMPLES / "stream.sse"), str(sse)],
        ["extract", "--seed", "7", "--truncated", "content", str(odd), str(sse)],
        ["stats", "--json", "--tools", tools, str(EXAMPLES / "completions.jsonl"), str(odd)],
        ["stats", str(EXAMPLES / "completions.jsonl")],
        ["stream", "--seed", "7", "--chunk", "3", "--trace", str(EXAMPLES / "completion.txt")],
        ["stream", "--seed", "7", "--record", "2", str(odd)],
        ["extract", "--seed", "7", deep],
        ["extract", "--seed", "7", "--fix", deep],
        ["stats", "--json", deep],
    ]
    for argv in runs:
        with_orjson = subprocess.run(
            [sys.executable, "-m", "hermes_parse", *argv], capture_output=True, cwd=REPO, timeout=120
        )
        without = subprocess.run(
            [sys.executable, "-c", WITHOUT_ORJSON, *argv], capture_output=True, cwd=REPO, timeout=120
        )
        assert without.returncode == with_orjson.returncode, (argv, without.stderr)
        assert without.stdout == with_orjson.stdout, argv
        assert without.stderr == with_orjson.stderr, argv
        assert with_orjson.stdout, argv


def test_no_regex_no_orjson_in_the_package():
    """regex is no dependency of the package; orjson only the command's, optional."""
    code = (
        "import sys; sys.modules['orjson'] = None; sys.modules['regex'] = None\n"
        "import hermes_parse, hermes_parse.cli, hermes_parse.cli.records, hermes_parse.cli.tools\n"
        "print(hermes_parse.parse('<tool_call>{\"name\": \"f\"}</tool_call>').tool_calls[0].name)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=REPO, text=True)
    assert proc.returncode == 0 and proc.stdout == "f\n", proc.stderr
    sources = Path(hermes_parse.__file__).parent.rglob("*.py")
    assert not [p for p in sources if "import regex" in p.read_text(encoding="utf-8")]
