"""Test-only helpers for the vLLM tests: a tiny random-weight Qwen2 model, a
logits processor that makes its output scripted, and a real vLLM server."""
