"""``--reasoning {off,on,open}`` of the ``hermes-parse`` command: extract, extract --fix
(chat.completion responses and SSE streams), stream and stats.

The in-process tests take the ``backend`` fixture: the command's parser (``parse`` and
``StreamParser`` in hermes_parse.cli.records) is swapped for each twin's, so every
subcommand runs on the compiled and the pure-Python machine; one subprocess run per
twin checks the real command (HERMES_PARSE_NO_EXTENSIONS picks the Python twin).
"""

from __future__ import annotations

import json
import os

import pytest

import hermes_parse
import hermes_parse.cli.records as records
from test_cli_support import (
    check_chunk,
    check_completion,
    chat_record,
    ids_for,
    lines_of,
    run,
    run_cli,
    sse_chunks,
    write_jsonl,
)

CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
THINK = "<think>\nThe user wants the weather.\n</think>\n\n"
REASONING = "\nThe user wants the weather.\n"
OPTION = {"off": False, "on": True, "open": "open"}


@pytest.fixture
def twin(backend, monkeypatch):
    """The command's parser is this twin's."""
    monkeypatch.setattr(records, "parse", backend.parse)
    monkeypatch.setattr(records, "StreamParser", backend.StreamParser)
    return backend


def expected(twin, text, seed, record, reasoning, choice=0):
    return twin.parse(
        text, call_id=ids_for(seed, record, choice), reasoning=OPTION[reasoning]
    ).to_openai()


TEXTS = [
    THINK + CALL,  # Qwen3: reasoning, then a call
    "<think>plan</think>\n\nIt is sunny.",  # reasoning, then content
    "The user wants the weather.\n</think>\n\n" + CALL,  # the prompt opened <think>
    "<think>thinking " + CALL + " more</think>done",  # a call inside reasoning
    "Just an answer. " + CALL,  # thinking off: no tag
    "<think>cut by max_tok",  # never closed
]


# ---------------------------------------------------------------------------
# extract


@pytest.mark.parametrize("reasoning", ["off", "on", "open"])
def test_extract_is_parse_to_openai(twin, tmp_path, capsysbinary, reasoning):
    """Each line is exactly parse(text, reasoning=...).to_openai(): "reasoning" when there was some."""
    path = write_jsonl(tmp_path / "log.jsonl", [{"completion": text} for text in TEXTS])
    args = ["extract", "--seed", "2", str(path)]
    if reasoning != "off":
        args[1:1] = ["--reasoning", reasoning]
    code, out, err = run(capsysbinary, *args)
    assert code == 0 and err == ""
    got = lines_of(out)
    assert got == [expected(twin, text, 2, n, reasoning) for n, text in enumerate(TEXTS, 1)]
    with_reasoning = [n for n, message in enumerate(got, 1) if "reasoning" in message]
    assert with_reasoning == {"off": [], "on": [1, 2, 4, 6], "open": [1, 2, 3, 4, 5, 6]}[reasoning]
    if reasoning == "on":
        assert got[0]["reasoning"] == REASONING and got[0]["content"] is None
        assert got[0]["tool_calls"][0]["function"]["name"] == "get_weather"


def test_extract_default_is_off(twin, tmp_path, capsysbinary):
    """Without the flag, <think> is content: today's output, byte for byte."""
    path = write_jsonl(tmp_path / "log.jsonl", [{"completion": text} for text in TEXTS])
    plain = run(capsysbinary, "extract", "--seed", "1", str(path))[1]
    off = run(capsysbinary, "extract", "--seed", "1", "--reasoning", "off", str(path))[1]
    assert plain == off and b'"reasoning"' not in plain


def test_extract_call_in_reasoning_problem(twin, tmp_path, capsysbinary):
    """A call inside reasoning is reasoning text, and a call_in_reasoning problem."""
    text = TEXTS[3]
    path = tmp_path / "c.txt"
    path.write_text(text, encoding="utf-8")
    code, out, err = run(
        capsysbinary, "extract", "--reasoning", "on", "--with-problems", str(path)
    )
    (message,) = lines_of(out)
    assert code == 0
    assert "tool_calls" not in message and message["content"] == "done"
    assert message["reasoning"] == "thinking " + CALL + " more"
    assert [p["kind"] for p in message["problems"]] == ["call_in_reasoning"]
    # --strict makes it an error, as every problem, and names it.
    code, _, err = run(capsysbinary, "extract", "--reasoning", "on", "--strict", str(path))
    assert code == 1 and "call_in_reasoning" in err


def test_extract_keeps_a_server_split(twin, tmp_path, capsysbinary):
    """A chat.completion whose server split the reasoning (a string reasoning or
    reasoning_content) keeps it, and its content is not split again (with "open" the
    answer would otherwise become reasoning)."""
    record = chat_record(1, "It is sunny. " + CALL)
    record["choices"][0]["message"]["reasoning_content"] = "server thoughts"
    other = chat_record(2, THINK + CALL)
    other["choices"][0]["message"]["reasoning"] = None  # null: the server did not split
    path = write_jsonl(tmp_path / "chat.jsonl", [record, other])
    code, out, _ = run(capsysbinary, "extract", "--seed", "4", "--reasoning", "open", str(path))
    first, second = lines_of(out)
    assert code == 0
    assert first["reasoning"] == "server thoughts" and first["content"] == "It is sunny. "
    assert len(first["tool_calls"]) == 1
    assert second == expected(twin, THINK + CALL, 4, 2, "open")
    # --field naming the content finds the server's reasoning beside it.
    code, out, _ = run(
        capsysbinary,
        "extract",
        "--reasoning",
        "open",
        "--field",
        "choices.0.message.content",
        str(path),
    )
    assert lines_of(out)[0]["reasoning"] == "server thoughts"
    # Off: the server's reasoning is not added (today's output).
    code, out, _ = run(capsysbinary, "extract", str(path))
    assert "reasoning" not in lines_of(out)[0]


# ---------------------------------------------------------------------------
# extract --fix of chat.completion responses


def test_fix_chat_splits_reasoning(twin, tmp_path, capsysbinary):
    """The choice's message gets "reasoning", content loses the <think> block, the
    calls move into tool_calls; a response that is still valid for the openai package."""
    records_in = [
        chat_record(1, THINK + CALL),
        chat_record(2, "<think>plan</think>\n\nIt is sunny."),
        chat_record(3, "No thinking here."),
    ]
    records_in[1]["choices"][0]["message"]["reasoning_content"] = None
    path = write_jsonl(tmp_path / "chat.jsonl", records_in)
    raw_lines = path.read_bytes().splitlines(keepends=True)
    code, out, err = run(capsysbinary, "extract", "--fix", "--seed", "3", "--reasoning", "on", str(path))
    assert code == 0 and err == ""
    first, second, third = lines_of(out)
    message = first["choices"][0]["message"]
    assert message["reasoning"] == REASONING and message["content"] is None
    assert message["tool_calls"] == expected(twin, THINK + CALL, 3, 1, "on")["tool_calls"]
    assert first["choices"][0]["finish_reason"] == "tool_calls"
    message = second["choices"][0]["message"]
    assert message["reasoning"] == message["reasoning_content"] == "plan"
    assert message["content"] == "\n\nIt is sunny." and message["tool_calls"] == []
    assert second["choices"][0]["finish_reason"] == "stop"
    # Nothing to do: written as it came.
    assert out.splitlines(keepends=True)[2] == raw_lines[2]
    for record in (first, second, third):
        check_completion(record)
    # Off: <think> stays in content.
    out = run(capsysbinary, "extract", "--fix", "--seed", "3", str(path))[1]
    assert lines_of(out)[1] == records_in[1]
    assert lines_of(out)[0]["choices"][0]["message"]["content"] == THINK


def test_fix_chat_keeps_the_server_split(twin, tmp_path, capsysbinary):
    """A server that split the reasoning is trusted: its reasoning stays, the content is
    not split again, its calls are still moved."""
    record = chat_record(1, "The answer. " + CALL)
    record["choices"][0]["message"]["reasoning"] = "server thoughts"
    untouched = chat_record(2, "Only the answer.")
    untouched["choices"][0]["message"]["reasoning"] = "more server thoughts"
    path = write_jsonl(tmp_path / "chat.jsonl", [record, untouched])
    raw_lines = path.read_bytes().splitlines(keepends=True)
    code, out, _ = run(capsysbinary, "extract", "--fix", "--reasoning", "open", str(path))
    assert code == 0
    message = lines_of(out)[0]["choices"][0]["message"]
    assert message["reasoning"] == "server thoughts" and message["content"] == "The answer. "
    assert [call["function"]["name"] for call in message["tool_calls"]] == ["get_weather"]
    assert out.splitlines(keepends=True)[1] == raw_lines[1]


def test_fix_chat_open(twin, tmp_path, capsysbinary):
    """--reasoning open: the content starts inside reasoning."""
    path = write_jsonl(tmp_path / "chat.jsonl", [chat_record(1, TEXTS[2], choices=2)])
    code, out, _ = run(capsysbinary, "extract", "--fix", "--seed", "1", "--reasoning", "open", str(path))
    (record,) = lines_of(out)
    for choice in record["choices"]:
        message = choice["message"]
        assert message["reasoning"] == "The user wants the weather.\n"
        assert message["content"] is None and len(message["tool_calls"]) == 1
    check_completion(record)


# ---------------------------------------------------------------------------
# extract --fix of SSE streams


def sse_input(deltas, finish="stop"):
    """A captured vLLM stream: one chunk per delta, then a finish chunk and [DONE]."""
    lines = []
    for delta in deltas + [{}]:
        chunk = {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "Qwen/Qwen3-8B",
            "choices": [
                {
                    "index": 0,
                    "delta": delta,
                    "logprobs": None,
                    "finish_reason": None if delta else finish,
                }
            ],
        }
        lines.append("data: " + json.dumps(chunk, ensure_ascii=False) + "\n\n")
    return "".join(lines) + "data: [DONE]\n\n"


def out_deltas(out):
    events = sse_chunks(out)
    assert events[-1] == "[DONE]"
    for chunk in events[:-1]:
        check_chunk(chunk)
    return [chunk["choices"][0]["delta"] for chunk in events[:-1]]


@pytest.mark.parametrize("size", [1, 3, 7, 1000])
def test_fix_sse_emits_reasoning_deltas(twin, tmp_path, capsysbinary, size):
    """The stream's content is split: {"reasoning": ...} deltas first, in order, then the
    call; folded, they are the message parse gives."""
    text = THINK + CALL
    pieces = [text[i : i + size] for i in range(0, len(text), size)]
    path = tmp_path / "s.sse"
    path.write_text(
        sse_input([{"role": "assistant", "content": ""}] + [{"content": p} for p in pieces]),
        encoding="utf-8",
    )
    code, out, err = run(capsysbinary, "extract", "--fix", "--seed", "1", "--reasoning", "on", str(path))
    assert code == 0 and err == ""
    deltas = out_deltas(out)
    kinds = [key for delta in deltas for key in delta if key in ("reasoning", "content", "tool_calls")]
    first_call = kinds.index("tool_calls")
    assert set(kinds[:first_call]) <= {"reasoning", "content"}
    assert "reasoning" in kinds and "reasoning" not in kinds[first_call:]
    fold = hermes_parse.CallFold()
    fold.add([d for d in deltas if "role" not in d or len(d) > 2])
    assert "".join(d.get("reasoning", "") for d in deltas) == REASONING
    assert fold.reasoning == REASONING
    whole = twin.parse(text, call_id=ids_for(1, 1), reasoning=True)
    assert [call.to_openai() for call in fold.finish(1)] == [c.to_openai() for c in whole.tool_calls]
    events = sse_chunks(out)
    assert events[-2]["choices"][0]["finish_reason"] == "tool_calls"


def test_fix_sse_off_leaves_think_in_content(twin, tmp_path, capsysbinary):
    text = THINK + CALL
    path = tmp_path / "s.sse"
    path.write_text(sse_input([{"content": text[i : i + 5]} for i in range(0, len(text), 5)]), encoding="utf-8")
    deltas = out_deltas(run(capsysbinary, "extract", "--fix", str(path))[1])
    assert not any("reasoning" in d for d in deltas)
    assert "".join(d.get("content") or "" for d in deltas) == THINK


def test_fix_sse_passes_server_reasoning_through(twin, tmp_path, capsysbinary):
    """A stream whose server sent reasoning deltas: they go out untouched and in order,
    and the content after them is not split again (even with "open")."""
    server = [
        {"role": "assistant", "content": ""},
        {"reasoning": "server "},
        {"reasoning_content": "thoughts"},
        {"content": "The answer. <tool_"},
        {"content": CALL[6:]},
    ]
    path = tmp_path / "s.sse"
    path.write_text(sse_input(server), encoding="utf-8")
    code, out, _ = run(capsysbinary, "extract", "--fix", "--reasoning", "open", str(path))
    assert code == 0
    deltas = out_deltas(out)
    assert deltas[1] == {"reasoning": "server "} and deltas[2] == {"reasoning_content": "thoughts"}
    assert not any("reasoning" in d for d in deltas[3:])
    assert "".join(d.get("content") or "" for d in deltas) == "The answer. "
    assert [c["function"]["name"] for d in deltas for c in d.get("tool_calls", ()) if "function" in c and c["function"].get("name")] == ["get_weather"]


def test_fix_sse_open_and_call_in_reasoning(twin, tmp_path, capsysbinary):
    """--reasoning open in a stream; a call inside reasoning is reported, not sent."""
    text = "thinking " + CALL + "\n</think>\n\nok"
    path = tmp_path / "s.sse"
    path.write_text(sse_input([{"content": text[i : i + 4]} for i in range(0, len(text), 4)]), encoding="utf-8")
    code, out, _ = run(capsysbinary, "extract", "--fix", "--reasoning", "open", "--with-problems", str(path))
    assert code == 0
    problems = [c.get("problems") for e in sse_chunks(out)[:-1] for c in e["choices"] if c.get("problems")]
    assert [p["kind"] for p in problems[0]] == ["call_in_reasoning"]
    deltas = out_deltas(out)
    assert "".join(d.get("reasoning", "") for d in deltas) == "thinking " + CALL + "\n"
    assert "".join(d.get("content") or "" for d in deltas) == "\n\nok"
    assert not any("tool_calls" in d for d in deltas)


# ---------------------------------------------------------------------------
# stream


@pytest.mark.parametrize("chunk", ["1", "4", "50"])
def test_stream_prints_reasoning_deltas(twin, tmp_path, capsysbinary, chunk):
    """stream prints the reasoning deltas like the others; joined, they are the reasoning."""
    text = THINK + CALL
    path = tmp_path / "c.txt"
    path.write_text(text, encoding="utf-8")
    code, out, err = run(capsysbinary, "stream", "--seed", "1", "--chunk", chunk, "--reasoning", "on", str(path))
    assert code == 0 and err == ""
    deltas = lines_of(out)
    message = hermes_parse.Message.from_deltas(deltas, [])
    assert message.to_openai() == twin.parse(text, call_id=ids_for(1, 1), reasoning=True).to_openai()
    assert "reasoning" in deltas[0]
    # Off: no reasoning delta.
    deltas = lines_of(run(capsysbinary, "stream", "--chunk", chunk, str(path))[1])
    assert not any("reasoning" in d for d in deltas)


def test_stream_trace_and_problem(twin, tmp_path, capsysbinary):
    path = tmp_path / "c.txt"
    path.write_text("r " + CALL + "</think>x", encoding="utf-8")
    code, out, err = run(capsysbinary, "stream", "--trace", "--reasoning", "open", str(path))
    assert code == 0 and "call_in_reasoning" in err
    lines = lines_of(out)
    assert lines[-1]["close"] is True
    deltas = [d for line in lines for d in line["deltas"]]
    assert "".join(d.get("reasoning", "") for d in deltas) == "r " + CALL
    assert "".join(d.get("content") or "" for d in deltas) == "x"


# ---------------------------------------------------------------------------
# stats


def test_stats_counts_reasoning(twin, tmp_path, capsysbinary):
    """records with reasoning, reasoning characters and calls in reasoning: JSON and table."""
    path = write_jsonl(tmp_path / "log.jsonl", [{"completion": text} for text in TEXTS])
    code, out, _ = run(capsysbinary, "stats", "--json", "--reasoning", "on", str(path))
    assert code == 0
    data = json.loads(out)
    messages = [twin.parse(text, reasoning=True) for text in TEXTS]
    assert data["records_with_reasoning"] == 4
    assert data["reasoning_rate"] == round(4 / 6, 6)
    assert data["reasoning_chars"] == sum(len(m.reasoning or "") for m in messages)
    assert data["calls_in_reasoning"] == 1 == data["problems_by_kind"]["call_in_reasoning"]
    assert data["records_with_tool_calls"] == 3  # records 1, 3 (no <think>: content) and 5
    table = run(capsysbinary, "stats", "--reasoning", "on", str(path))[1].decode()
    assert "  with reasoning" in table and "66.7%" in table
    assert f"reasoning (characters)  " in table and "  calls in reasoning" in table
    row = [line for line in table.splitlines() if line.startswith("reasoning (characters)")][0]
    assert row.split()[-1] == f"{data['reasoning_chars']:,}"
    # open: every record starts in reasoning.
    data = json.loads(run(capsysbinary, "stats", "--json", "--reasoning", "open", str(path))[1])
    assert data["records_with_reasoning"] == 6


def test_stats_off_has_no_reasoning_keys(twin, tmp_path, capsysbinary):
    path = write_jsonl(tmp_path / "log.jsonl", [{"completion": text} for text in TEXTS])
    data = json.loads(run(capsysbinary, "stats", "--json", str(path))[1])
    assert not any("reasoning" in key for key in data)
    assert "reasoning" not in run(capsysbinary, "stats", str(path))[1].decode()


def test_stats_counts_a_server_split(twin, tmp_path, capsysbinary):
    record = chat_record(1, "answer")
    record["choices"][0]["message"]["reasoning"] = "abc"
    path = write_jsonl(tmp_path / "chat.jsonl", [record, chat_record(2, "x")])
    data = json.loads(run(capsysbinary, "stats", "--json", "--reasoning", "open", str(path))[1])
    assert data["records_with_reasoning"] == 2  # the server's, and "x" read as open reasoning
    assert data["reasoning_chars"] == 4


# ---------------------------------------------------------------------------
# The real command, on each twin.


@pytest.mark.parametrize("twin_name", ["cython", "python"])
def test_subprocess_each_twin(tmp_path, twin_name):
    if twin_name == "cython" and hermes_parse.machine.compiled() is None:
        pytest.skip("the Cython extension is not built")
    env = dict(os.environ)
    env.pop("HERMES_PARSE_NO_EXTENSIONS", None)
    if twin_name == "python":
        env["HERMES_PARSE_NO_EXTENSIONS"] = "1"
    path = tmp_path / "c.txt"
    path.write_text(THINK + CALL, encoding="utf-8")
    proc = run_cli("--version", env=env)
    assert f"({twin_name}" in proc.stdout.decode()
    proc = run_cli("extract", "--seed", "7", "--reasoning", "on", str(path), env=env)
    assert proc.returncode == 0, proc.stderr
    assert lines_of(proc.stdout) == [
        hermes_parse.parse(THINK + CALL, call_id=ids_for(7, 1), reasoning=True).to_openai()
    ]
    proc = run_cli("extract", "--reasoning", "sometimes", str(path), env=env)
    assert proc.returncode == 2 and b"--reasoning" in proc.stderr
