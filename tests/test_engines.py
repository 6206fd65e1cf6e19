"""The engines data teams run, really run: Polars, DuckDB and Ray Data (local mode) over a
Parquet file of completions, checked row by row against hermes_parse.parse().  README's "Parsing logs at
scale" shows the lines between ``# README: <name>`` and ``# README: end`` verbatim
(test_readme_shows_these_examples holds it)."""

from __future__ import annotations

import re
import textwrap
from functools import partial
import sys
from pathlib import Path

import pytest

import hermes_parse

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pl = pytest.importorskip("polars")
# DuckDB 2 wheels need Python 3.11 (the test extra asks for it only there).
needs_duckdb = pytest.mark.skipif(
    sys.version_info < (3, 11), reason="DuckDB 2 needs Python 3.11 or later"
)
# Ray's wheels: Python 3.10 to 3.13 (the test extra asks for it only there).
needs_ray = pytest.mark.skipif(
    not (3, 10) <= sys.version_info < (3, 14), reason="Ray's wheels are for Python 3.10 to 3.13"
)

import hermes_parse.arrow  # noqa: E402
from test_arrow import LOG, assert_rows_match, expected_row  # noqa: E402

COLUMNS = ["content", "reasoning", "tool_calls", "problems"]
OPTIONS = {"reasoning": True}  # what the README examples pass
IDS = partial(hermes_parse.seeded_ids, 2026)  # the README examples' ids: repeatable


@pytest.fixture
def path(tmp_path):
    """A Parquet file of completions (id, completion; nulls among them), written with pyarrow."""
    file = tmp_path / "completions.parquet"
    table = pa.table({"id": list(range(len(LOG))), "completion": pa.array(LOG, pa.string())})
    pq.write_table(table, file, row_group_size=64)
    return str(file)


def expected_calls(options=OPTIONS, ids=IDS):
    """(record id, call id, name, arguments) of every call, from parse() record by record."""
    return [
        (i, call["id"], call["name"], call["arguments"])
        for i, text in enumerate(LOG)
        if text is not None
        for call in expected_row(hermes_parse.parse, text, options, ids)["tool_calls"]
    ]


def test_polars_map_batches(path):
    """Polars: a map_batches expression over the text column gives a struct of the parsed columns."""
    # README: polars
    import hermes_parse.arrow
    import polars as pl

    parsed = pl.Struct(pl.from_arrow(hermes_parse.arrow.schema().empty_table()).schema)

    def parse_completions(texts: pl.Series) -> pl.Series:
        table = hermes_parse.arrow.parse(texts.to_arrow(), reasoning=True, call_id=hermes_parse.seeded_ids(2026))
        return pl.from_arrow(table).to_struct(texts.name)

    df = pl.read_parquet(path).with_columns(
        pl.col("completion").map_batches(parse_completions, return_dtype=parsed).alias("parsed")
    ).unnest("parsed")
    calls = (
        df.select("id", "tool_calls").explode("tool_calls")
        .select("id", pl.col("tool_calls").struct.unnest().name.prefix("call_")).drop_nulls("call_name")
    )
    # README: end
    assert df.columns == ["id", "completion"] + COLUMNS
    assert df["id"].to_list() == list(range(len(LOG)))
    assert_rows_match(LOG, df.select(COLUMNS).to_dicts(), OPTIONS, ids=IDS)
    assert list(calls.iter_rows()) == expected_calls()


def test_polars_lazy_scan(path):
    """The same expression in a lazy query over scan_parquet (Polars may hand it the column in pieces)."""
    parsed = pl.Struct(pl.from_arrow(hermes_parse.arrow.schema().empty_table()).schema)

    def parse_completions(texts: pl.Series) -> pl.Series:
        table = hermes_parse.arrow.parse(texts.to_arrow(), call_id=hermes_parse.sequential_ids())
        return pl.from_arrow(table).to_struct(texts.name)

    out = (
        pl.scan_parquet(path)
        .select("id", pl.col("completion").map_batches(parse_completions, return_dtype=parsed).struct.unnest())
        .collect()
    )
    assert out["id"].to_list() == list(range(len(LOG)))
    assert_rows_match(LOG, out.select(COLUMNS).to_dicts(), {})


@needs_duckdb
def test_duckdb_query_over_parquet(path):
    """DuckDB: read the Parquet file to Arrow, parse, query the parsed table with SQL (UNNEST the calls)."""
    # README: duckdb
    import duckdb
    import hermes_parse.arrow

    completions = duckdb.sql(f"SELECT id, completion FROM read_parquet('{path}')").to_arrow_table()
    parsed = hermes_parse.arrow.parse(completions, "completion", reasoning=True, call_id=hermes_parse.seeded_ids(2026))
    parsed = parsed.append_column("id", completions.column("id"))  # rows line up with the input's
    calls = duckdb.sql("SELECT id, call.* FROM parsed, UNNEST(tool_calls) AS t(call) ORDER BY id").fetchall()
    cut = duckdb.sql("SELECT count(DISTINCT id) FROM parsed, UNNEST(problems) AS t(p) WHERE p.kind = 'truncated'")
    # README: end
    rows = duckdb.sql("SELECT id, content, reasoning, tool_calls, problems FROM parsed ORDER BY id").fetchall()
    assert [row[0] for row in rows] == list(range(len(LOG)))
    assert_rows_match(LOG, [dict(zip(COLUMNS, row[1:])) for row in rows], OPTIONS, ids=IDS)
    assert calls == expected_calls()
    want = [expected_row(hermes_parse.parse, text, OPTIONS) for text in LOG if text is not None]
    assert cut.fetchall()[0][0] == sum(any(p["kind"] == "truncated" for p in row["problems"]) for row in want) > 0


# DuckDB's type of a row of hermes_parse.arrow.parse's table, as one struct.
PARSED_SQL_TYPE = (
    "STRUCT(content VARCHAR, reasoning VARCHAR,"
    " tool_calls STRUCT(id VARCHAR, name VARCHAR, arguments VARCHAR)[],"
    ' problems STRUCT(kind VARCHAR, "offset" BIGINT, length BIGINT, "index" BIGINT, detail VARCHAR)[])'
)


@needs_duckdb
def test_duckdb_udf_over_parquet(path):
    """DuckDB: an Arrow UDF used in SQL straight over the Parquet file (DuckDB needs numpy for it)."""
    import duckdb

    pytest.importorskip("numpy")
    con = duckdb.connect()

    def parse_completions(texts):
        table = hermes_parse.arrow.parse(texts, reasoning=True, call_id=hermes_parse.seeded_ids(2026))
        return table.combine_chunks().to_struct_array()

    con.create_function(
        "hermes_parse", parse_completions, ["VARCHAR"], duckdb.sqltype(PARSED_SQL_TYPE),
        type="arrow", null_handling="special",
    )
    rows = con.sql(f"SELECT id, unnest(hermes_parse(completion)) FROM read_parquet('{path}') ORDER BY id").fetchall()
    assert [row[0] for row in rows] == list(range(len(LOG)))
    assert_rows_match(LOG, [dict(zip(COLUMNS, row[1:])) for row in rows], OPTIONS, ids=IDS)
    calls = con.sql(
        f"SELECT id, call.* FROM (SELECT id, hermes_parse(completion) AS p FROM read_parquet('{path}')),"
        " UNNEST(p.tool_calls) AS t(call) ORDER BY id, call.id"
    ).fetchall()
    assert sorted(calls) == sorted(expected_calls())


@pytest.fixture(scope="module")
def ray_local():
    """A local Ray (this machine, 2 CPUs: its worker processes), shut down after the module."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


@needs_ray
def test_ray_data_map_batches(path, tmp_path, ray_local):
    """Ray Data: map_batches over Arrow batches of a Parquet file, written back to Parquet, in
    Ray's worker processes (the same function runs unchanged on a cluster)."""
    out = str(tmp_path / "parsed")
    # README: ray
    import hermes_parse.arrow
    import pyarrow as pa
    import ray

    def parse_completions(batch: pa.Table) -> pa.Table:
        parsed = hermes_parse.arrow.parse(batch, "completion", reasoning=True, call_id=hermes_parse.seeded_ids(2026))
        return pa.Table.from_arrays(batch.columns + parsed.columns, batch.column_names + parsed.column_names)

    ray.data.read_parquet(path).map_batches(parse_completions, batch_format="pyarrow").write_parquet(out)
    # README: end
    table = pq.read_table(out).sort_by("id")
    assert table.column_names == ["id", "completion"] + COLUMNS
    assert table.column("id").to_pylist() == list(range(len(LOG)))
    assert table.column("completion").to_pylist() == LOG
    assert_rows_match(LOG, table.select(COLUMNS).to_pylist(), OPTIONS, ids=IDS)
    calls = [
        (row["id"], call["id"], call["name"], call["arguments"])
        for row in table.select(["id", "tool_calls"]).to_pylist()
        for call in row["tool_calls"] or ()
    ]
    assert calls == expected_calls()


def test_readme_shows_these_examples():
    """README's "Parsing logs at scale" shows each marked block of this file, as it runs here."""
    source = Path(__file__).read_text(encoding="utf-8")
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Parsing logs at scale", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"\n( +)# README: (\w+)\n(.*?)\n +# README: end\n", source, re.S)
    assert {name for _, name, _ in blocks} == {"polars", "duckdb", "ray"}
    for indent, name, body in blocks:
        assert "```python\n" + textwrap.dedent(body) + "\n```" in section, name
