"""A test-only vLLM (v1) logits processor that makes the output scripted.

A request that passes ``extra_body={"vllm_xargs": {"forced_tokens": [ids...]}}``
gets exactly those token ids, one per step, then ``<|im_end|>``: every logit
but the forced one is set to -inf.  Requests without ``forced_tokens`` are left
alone.  Load with ``--logits-processors vllm_support.forcing:ForcedTokens``
(``tests/`` on PYTHONPATH).
"""

from __future__ import annotations

import torch
from vllm.v1.sample.logits_processor import BatchUpdate, LogitsProcessor, MoveDirectionality

END = 151645  # <|im_end|>


class ForcedTokens(LogitsProcessor):
    def __init__(self, vllm_config, device: torch.device, is_pin_memory: bool) -> None:
        # batch row -> (forced ids, the request's live list of output ids)
        self.rows: dict = {}

    @classmethod
    def validate_params(cls, sampling_params) -> None:
        forced = (sampling_params.extra_args or {}).get("forced_tokens")
        if forced is not None and not (isinstance(forced, list) and all(isinstance(t, int) for t in forced)):
            raise ValueError("forced_tokens must be a list of token ids")

    def is_argmax_invariant(self) -> bool:
        return False  # it changes the argmax: apply it to greedy requests too

    def update_state(self, batch_update: BatchUpdate | None) -> None:
        if batch_update is None:
            return
        for index in batch_update.removed:
            self.rows.pop(index, None)
        for index, params, _prompt, output_ids in batch_update.added:
            forced = (params.extra_args or {}).get("forced_tokens") if params is not None else None
            if forced is None:
                self.rows.pop(index, None)
            else:
                self.rows[index] = (list(forced), output_ids)
        for a, b, direction in batch_update.moved:
            row_a = self.rows.pop(a, None)
            row_b = self.rows.pop(b, None)
            if row_a is not None:
                self.rows[b] = row_a
            if direction == MoveDirectionality.SWAP and row_b is not None:
                self.rows[a] = row_b

    def apply(self, logits: torch.Tensor) -> torch.Tensor:
        for index, (forced, output_ids) in self.rows.items():
            if index >= logits.shape[0]:
                continue
            step = len(output_ids)
            token = forced[step] if step < len(forced) else END
            row = logits[index]
            row.fill_(float("-inf"))
            row[token] = 0.0
        return logits
