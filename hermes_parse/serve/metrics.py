"""The proxy's Prometheus metrics (``prometheus-client``), few labels each.

One ``Metrics`` per application, on its own registry (two apps in one
process, as in the tests, do not share counters).  Names and labels are
listed in docs/serve.md.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
_CHUNK = (0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01, 0.1)


class Metrics:
    """Counters and histograms, and their text exposition."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        prefix = "hermes_parse_serve_"
        self.requests = Counter(
            prefix + "requests", "Requests answered, by mode and HTTP status.",
            ["mode", "status"], registry=self.registry,
        )
        self.tool_calls = Counter(
            prefix + "tool_calls", "Tool calls parsed, by outcome (sent, invalid, content, dropped).",
            ["outcome"], registry=self.registry,
        )
        self.problems = Counter(
            prefix + "problems", "Problems found in the model's output, by kind.",
            ["kind"], registry=self.registry,
        )
        self.upstream_errors = Counter(
            prefix + "upstream_errors", "Upstream failures, by kind (connect, timeout, status, broken_stream).",
            ["kind"], registry=self.registry,
        )
        self.first_delta = Histogram(
            prefix + "time_to_first_delta_seconds", "From the request to the first content or call delta sent.",
            buckets=_LATENCY, registry=self.registry,
        )
        self.first_call = Histogram(
            prefix + "time_to_first_tool_call_delta_seconds", "From the request to the first tool-call delta sent.",
            buckets=_LATENCY, registry=self.registry,
        )
        self.chunk_time = Histogram(
            prefix + "chunk_proxy_seconds", "The proxy's own time per upstream chunk (translation, not I/O).",
            buckets=_CHUNK, registry=self.registry,
        )

    def count_outcome(self, outcome) -> None:
        """Add a response's ``translate.Outcome``."""
        for kind, count in outcome.tool_calls.items():
            self.tool_calls.labels(kind).inc(count)
        for problem in outcome.problems:
            self.problems.labels(problem["kind"]).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
