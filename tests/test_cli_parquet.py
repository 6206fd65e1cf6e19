"""The command's batch path and Parquet: records parsed a chunk at a time give the very
lines the record-by-record path gave; Parquet in (detected, or --format parquet) and out
(--output FILE.parquet, --output-format parquet); --dialect."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import hermes_parse
from test_cli_support import REPO, chat_record, expected_message, ids_for, lines_of, run, run_cli, write_jsonl
from test_arrow import make_log

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

SEED = 11
LOG = make_log(300)  # plain answers, calls, cut calls, bad JSON, reasoning, "" and None


def write_parquet(path: Path, texts, **columns) -> Path:
    table = pa.table({"id": list(range(len(texts))), "completion": pa.array(texts, pa.string()), **columns})
    pq.write_table(table, path, row_group_size=50)
    return path


def expected_lines(texts, seed=SEED, with_problems=False, **options) -> list:
    """extract --seed's lines for records whose texts are ``texts`` (None: a null field, an
    empty text, as in JSON), from parse() record by record."""
    lines = []
    for record, text in enumerate(texts, 1):
        text = "" if text is None else text
        message = expected_message(text, seed, record, **options)
        if with_problems:
            parsed = hermes_parse.parse(text, call_id=ids_for(seed, record), **options)
            message["problems"] = [dict(p.to_dict(), record=record, line=None) for p in parsed.problems]
        lines.append(message)
    return lines


def test_jsonl_lines_equal_parse_record_by_record(tmp_path, capsysbinary):
    """Many blocks of JSON Lines (chunks of the batch path), bad lines among them: each line is parse()'s."""
    texts = [text if text is not None else "" for text in LOG] * 40  # 12,000 records, 2 MB: 2 blocks read
    path = write_jsonl(tmp_path / "log.jsonl", ({"completion": text} for text in texts))
    code, out, err = run(capsysbinary, "extract", "--seed", str(SEED), "--reasoning", "on", str(path))
    assert code == 0 and err == ""
    got = lines_of(out)
    assert len(got) == len(texts)
    for record, (text, line) in enumerate(zip(texts, got), 1):
        assert line == expected_message(text, SEED, record, reasoning=True), record


def test_bad_records_are_reported_in_order(tmp_path):
    """stdout and stderr to one place (2>&1): a bad record's report comes after the lines before it."""
    path = tmp_path / "log.jsonl"
    path.write_text('{"completion": "one"}\nnot json\n{"completion": "two"}\n{"other": 1}\n{"completion": "three"}\n')
    both = subprocess.run(
        [sys.executable, "-m", "hermes_parse", "extract", str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=REPO, check=True,
    ).stdout.decode()
    order = [line.split(":")[0] if line.startswith("hermes-parse") else json.loads(line)["content"] for line in both.splitlines()]
    assert order[:5] == ["one", "hermes-parse", "two", "hermes-parse", "three"], both


def test_parquet_in_is_detected(tmp_path, capsysbinary):
    """A Parquet file is read row by row (its text column found as in JSON records; a null is an empty text)."""
    path = write_parquet(tmp_path / "log.parquet", LOG)
    code, out, err = run(capsysbinary, "extract", "--seed", str(SEED), "--with-problems", str(path))
    assert code == 0
    assert lines_of(out) == expected_lines(LOG, with_problems=True)
    assert err == ""


def test_parquet_field_and_format_option(tmp_path, capsysbinary):
    """--field names the column (or a path into a struct column); --format parquet reads stdin too."""
    texts = [t for t in LOG if t is not None][:40]
    path = write_parquet(tmp_path / "log.parquet", texts, answer=pa.array([{"text": t} for t in texts]))
    code, out, _ = run(capsysbinary, "extract", "--seed", "3", "--field", "answer.text", str(path))
    assert code == 0 and lines_of(out) == expected_lines(texts, seed=3)
    proc = run_cli("extract", "--seed", "3", "--format", "parquet", "-", input=path.read_bytes())
    assert proc.returncode == 0 and lines_of(proc.stdout) == expected_lines(texts, seed=3)


def test_stats_over_parquet_equals_stats_over_jsonl(tmp_path, capsysbinary):
    """stats reads Parquet as it reads the same records in JSON Lines."""
    texts = [t for t in LOG if t is not None]
    parquet = write_parquet(tmp_path / "log.parquet", texts)
    jsonl = write_jsonl(tmp_path / "log.jsonl", ({"completion": t} for t in texts))
    _, from_parquet, _ = run(capsysbinary, "stats", "--json", "--reasoning", "on", str(parquet))
    _, from_jsonl, _ = run(capsysbinary, "stats", "--json", "--reasoning", "on", str(jsonl))
    assert json.loads(from_parquet) == json.loads(from_jsonl)
    assert json.loads(from_parquet)["records"] == len(texts)


def test_parquet_out_holds_the_lines(tmp_path, capsysbinary):
    """--output FILE.parquet: one row per record, the line's object (record added, null for absent keys)."""
    records = [chat_record(i, t) for i, t in enumerate(LOG[:64]) if t is not None]
    path = write_jsonl(tmp_path / "log.jsonl", records)
    out_path = tmp_path / "out.parquet"
    code, out, _ = run(capsysbinary, "extract", "--seed", "5", "--with-problems", "--reasoning", "on", "-o", str(out_path), str(path))
    assert code == 0 and out == b""
    _, jsonl, _ = run(capsysbinary, "extract", "--seed", "5", "--with-problems", "--reasoning", "on", str(path))
    rows = pq.read_table(out_path).to_pylist()
    lines = lines_of(jsonl)
    assert len(rows) == len(lines) == len(records)
    for number, (row, line) in enumerate(zip(rows, lines), 1):
        assert row.pop("record") == number
        for problem in row["problems"]:
            assert problem.pop("pointer") is None and problem.pop("schema_pointer") is None
        assert row == {"reasoning": None, "tool_calls": None, **line}


def test_parquet_out_to_stdout_and_jsonl_to_a_file(tmp_path):
    """--output-format parquet writes Parquet to stdout; --output FILE (not .parquet) gets the JSON lines."""
    path = write_jsonl(tmp_path / "log.jsonl", ({"completion": t} for t in LOG if t is not None))
    proc = run_cli("extract", "--seed", "1", "--output-format", "parquet", str(path))
    assert proc.returncode == 0
    table = pq.read_table(pa.BufferReader(proc.stdout))
    assert table.column_names == ["record", "role", "content", "reasoning", "tool_calls"]
    assert table.column("content").to_pylist() == [m["content"] for m in expected_lines([t for t in LOG if t is not None], seed=1)]
    proc = run_cli("extract", "--seed", "1", "--output", str(tmp_path / "out.jsonl"), str(path))
    assert proc.returncode == 0 and proc.stdout == b""
    assert lines_of((tmp_path / "out.jsonl").read_bytes()) == expected_lines([t for t in LOG if t is not None], seed=1)


def test_dialect_option(tmp_path, capsysbinary):
    """--dialect reaches the parser on the batch path (a GLM block is a call with glm, content with hermes)."""
    text = "<tool_call>get_time\n<arg_key>tz</arg_key>\n<arg_value>UTC</arg_value>\n</tool_call>"
    path = write_jsonl(tmp_path / "log.jsonl", [{"completion": text}, {"completion": "plain"}])
    _, out, _ = run(capsysbinary, "extract", "--seed", "2", "--dialect", "glm", str(path))
    assert lines_of(out) == [expected_message(text, 2, 1, dialect="glm"), {"role": "assistant", "content": "plain"}]
    assert lines_of(out)[0]["tool_calls"][0]["function"] == {"name": "get_time", "arguments": '{"tz": "UTC"}'}
    _, out, _ = run(capsysbinary, "extract", "--seed", "2", str(path))
    assert "tool_calls" not in lines_of(out)[0]


def test_fix_refuses_parquet(tmp_path, capsysbinary):
    path = write_parquet(tmp_path / "log.parquet", ["a"])
    code, _, err = run(capsysbinary, "extract", "--fix", str(path))
    assert code == 2 and "Parquet" in err
    code, _, err = run(capsysbinary, "extract", "--fix", "--output-format", "parquet", str(path))
    assert code == 2
