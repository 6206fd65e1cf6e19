"""JSON in and out for the proxy: orjson when it is installed (several times
faster on the small objects of a stream), the json module otherwise.

Both give compact JSON with non-ASCII characters as they are.  What orjson
refuses (an integer past 64 bits, NaN) falls back to the json module, so the
result never depends on which is installed beyond number spelling.
"""

from __future__ import annotations

import json
from typing import Any, Union

__all__ = ["dumps", "loads"]

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is in the serve extra
    orjson = None  # type: ignore[assignment]


def _json_dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def loads(data: Union[str, bytes]) -> Any:
    """The value of a JSON text; raises ``ValueError`` when it is not JSON."""
    if orjson is not None:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(data)


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON of ``value``."""
    if orjson is not None:
        try:
            return orjson.dumps(value)
        except TypeError:
            pass
    return _json_dumps(value)
