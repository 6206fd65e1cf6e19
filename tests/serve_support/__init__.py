"""Test-only helpers for the end-to-end tests of ``hermes-parse serve``: the
proxy started as a real process, a raw SSE client that can stop reading or
hang up mid-stream, and process CPU / memory readings from /proc."""
