"""``stream --tokenizer DIR``: cut a completion into the pieces a server sends.

The text is encoded with ``DIR/tokenizer.json`` and the ids are detokenized
one at a time with the ``tokenizers`` package's ``DecodeStream``, as a server
does: a token that ends inside a UTF-8 sequence gives nothing until the
character is complete.  The pieces must join to the text exactly.  A
tokenizer that normalizes (Qwen's applies NFC) would not give back a text that
is not in that form, although a model can write it token by token; so when
the first pass does not reproduce the text, it is encoded again without the
normalizer.
"""

from __future__ import annotations

from pathlib import Path
from typing import List

from .io import Fatal, UsageError


def load(directory: str):
    """Load ``directory/tokenizer.json`` (a path to the file itself works too)."""
    path = Path(directory).expanduser()
    if path.is_dir():
        path = path / "tokenizer.json"
    if not path.is_file():
        raise UsageError(f"--tokenizer: no tokenizer.json at {path}")
    try:
        from tokenizers import Tokenizer
    except ImportError:
        raise Fatal(
            "--tokenizer needs the 'tokenizers' package: pip install tokenizers"
            " (or pip install 'hermes-parse[cli]')"
        ) from None
    try:
        return Tokenizer.from_file(str(path))
    except Exception as exc:  # the package raises its own Exception subclass
        raise UsageError(f"--tokenizer: cannot load {path}: {exc}") from None


def _detokenize(tokenizer, text: str) -> List[str]:
    from tokenizers.decoders import DecodeStream

    ids = tokenizer.encode(text, add_special_tokens=False).ids
    stream = DecodeStream(skip_special_tokens=False)
    pieces = []
    for token in ids:
        piece = stream.step(tokenizer, token)
        if piece:
            pieces.append(piece)
    return pieces


def token_pieces(text: str, directory: str) -> List[str]:
    """The text as the successive non-empty pieces of an incremental detokenizer.

    Raises ``Fatal`` when the tokenizer cannot give the text back exactly.
    """
    tokenizer = load(directory)
    import tokenizers.decoders  # load() imported tokenizers: this cannot fail

    if not hasattr(tokenizers.decoders, "DecodeStream"):
        raise Fatal("--tokenizer needs tokenizers >= 0.21 (for DecodeStream): pip install -U tokenizers")
    pieces = _detokenize(tokenizer, text)
    if "".join(pieces) == text:
        return pieces
    if tokenizer.normalizer is not None:
        tokenizer.normalizer = None
        pieces = _detokenize(tokenizer, text)
        if "".join(pieces) == text:
            return pieces
    raise Fatal(
        "the tokenizer does not give this text back exactly (characters it cannot encode?);"
        " cut it with --chunk N instead"
    )
