"""A test-only vLLM (v1) logits processor that makes the output scripted.

A request that passes ``extra_body={"vllm_xargs": {"forced_tokens": [ids...]}}``
gets exactly those token ids, one per step, then ``<|im_end|>``: every logit
but the forced one is set to -inf.  Requests without ``forced_tokens`` are left
alone.  ``"step_seconds": 0.02`` beside them paces the request: each step of the
batch it is in sleeps that long, so a test that must act while a stream is still
being generated (kill the server, hang up) is not racing a tiny model that
writes the 100 KB script's 3,400 tokens in about 25 s.  Load with
``--logits-processors vllm_support.forcing:ForcedTokens`` (``tests/`` on
PYTHONPATH).
"""

from __future__ import annotations

import time

import torch
from vllm.v1.sample.logits_processor import BatchUpdate, LogitsProcessor, MoveDirectionality

END = 151645  # <|im_end|>


class ForcedTokens(LogitsProcessor):
    def __init__(self, vllm_config, device: torch.device, is_pin_memory: bool) -> None:
        # batch row -> (forced ids, the request's live list of output ids, seconds a step)
        self.rows: dict = {}

    @classmethod
    def validate_params(cls, sampling_params) -> None:
        forced = (sampling_params.extra_args or {}).get("forced_tokens")
        if forced is not None and not (isinstance(forced, list) and all(isinstance(t, int) for t in forced)):
            raise ValueError("forced_tokens must be a list of token ids")
        step_seconds = (sampling_params.extra_args or {}).get("step_seconds", 0)
        if not isinstance(step_seconds, (int, float)) or not 0 <= step_seconds <= 1:
            raise ValueError("step_seconds must be a number of seconds from 0 to 1")

    def is_argmax_invariant(self) -> bool:
        return False  # it changes the argmax: apply it to greedy requests too

    def update_state(self, batch_update: BatchUpdate | None) -> None:
        if batch_update is None:
            return
        for index in batch_update.removed:
            self.rows.pop(index, None)
        for index, params, _prompt, output_ids in batch_update.added:
            extra_args = (params.extra_args or {}) if params is not None else {}
            forced = extra_args.get("forced_tokens")
            if forced is None:
                self.rows.pop(index, None)
            else:
                self.rows[index] = (list(forced), output_ids, float(extra_args.get("step_seconds", 0)))
        for a, b, direction in batch_update.moved:
            row_a = self.rows.pop(a, None)
            row_b = self.rows.pop(b, None)
            if row_a is not None:
                self.rows[b] = row_a
            if direction == MoveDirectionality.SWAP and row_b is not None:
                self.rows[a] = row_b

    def apply(self, logits: torch.Tensor) -> torch.Tensor:
        pause = 0.0
        for index, (forced, output_ids, step_seconds) in self.rows.items():
            if index >= logits.shape[0]:
                continue
            pause = max(pause, step_seconds)
            step = len(output_ids)
            token = forced[step] if step < len(forced) else END
            row = logits[index]
            row.fill_(float("-inf"))
            row[token] = 0.0
        if pause:
            time.sleep(pause)
        return logits
