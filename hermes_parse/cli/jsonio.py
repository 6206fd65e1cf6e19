"""JSON in and out for the command: orjson when it is installed, else the
standard library, with the very same bytes out.

orjson is the fast path (the ``cli`` extra brings it); without it the command
works the same, slower.  ``dumps`` writes what ``orjson.dumps`` writes, byte
for byte, and refuses (``TypeError``) what orjson refuses, so that the
callers' fall-backs for those values (``records.dumps_line``) take the same
turn either way:

* compact separators, UTF-8 (no ``\\uXXXX`` for non-ASCII), the escapes
  ``json.dumps`` writes for ``"``, ``\\`` and control characters;
* floats as orjson writes them: the shortest repr, an exponent without a
  leading zero (``2.5e-7``), ``0.00001`` rather than ``1e-05``; NaN and
  infinities as ``null``;
* refused: integers outside [-2**63, 2**64 - 1], a lone surrogate, more than
  254 nested containers, a key that is not a ``str``, any other type.

``loads`` of either reads the same values: an integer beyond 64 bits is a
float (orjson's reading; a record that is rewritten is read again exactly),
and what orjson refuses (NaN, lone surrogate escapes, an integer beyond a
double, more than 1024 nested containers) the callers read again with
``json.loads`` (``records.loads_slow``; a ``RecursionError`` there is a bad
record).
"""

from __future__ import annotations

import functools
import json
from typing import Any, Callable, List, Tuple, Type

try:
    import orjson
except ImportError:  # the command works without it (pip install 'hermes-parse[cli]' brings it)
    orjson = None  # type: ignore[assignment]

__all__ = ["HAVE_ORJSON", "DecodeError", "EncodeError", "dumps", "dumps_indented", "loads"]

HAVE_ORJSON = orjson is not None

_MAX_DEPTH = 254  # orjson's: containers nested deeper are refused
_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1
_string = json.encoder.encode_basestring  # json.dumps(s, ensure_ascii=False), in C


def _float(value: float) -> str:
    if value != value or value in (float("inf"), float("-inf")):
        return "null"
    text = repr(value)
    mantissa, e, exponent = text.partition("e")
    if not e:
        return text
    power = int(exponent)
    if power == -5:  # orjson writes 1e-5 .. 9.99e-5 in full
        sign = "-" if mantissa[0] == "-" else ""
        return f"{sign}0.0000{mantissa.lstrip('-').replace('.', '')}"
    return f"{mantissa}e{'+' if power > 0 else '-'}{abs(power)}"


def _write(value: Any, parts: List[str], depth: int, indent: str) -> None:
    kind = type(value)
    if kind is str:
        parts.append(_string(value))
    elif value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif kind is int:
        if not _INT_MIN <= value <= _INT_MAX:
            raise TypeError("Integer exceeds 64-bit range")
        parts.append(str(value))
    elif kind is float:
        parts.append(_float(value))
    elif kind is dict or kind is list or kind is tuple:
        if depth >= _MAX_DEPTH:
            raise TypeError("Recursion limit reached")
        if not value:
            parts.append("{}" if kind is dict else "[]")
            return
        inner = "\n" + "  " * (depth + 1) if indent else ""
        parts.append("{" if kind is dict else "[")
        first = True
        if kind is dict:
            colon = ": " if indent else ":"
            for key, item in value.items():
                if type(key) is not str:
                    raise TypeError("Dict key must be str")
                parts.append(inner if first else "," + inner)
                first = False
                parts.append(_string(key))
                parts.append(colon)
                _write(item, parts, depth + 1, indent)
        else:
            for item in value:
                parts.append(inner if first else "," + inner)
                first = False
                _write(item, parts, depth + 1, indent)
        if indent:
            parts.append("\n" + "  " * depth)
        parts.append("}" if kind is dict else "]")
    elif isinstance(value, (str, int, float, dict, list)):  # subclasses: as their base
        base: Callable[[Any], Any] = next(
            t for t in (bool, str, int, float, dict, list) if isinstance(value, t)
        )
        _write(base(value), parts, depth, indent)
    else:
        raise TypeError(f"Type is not JSON serializable: {kind.__name__}")


def _dumps_std(value: Any, indent: bool = False) -> bytes:
    parts: List[str] = []
    _write(value, parts, 0, "  " if indent else "")
    try:
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError:
        raise TypeError("str is not valid UTF-8: surrogates not allowed") from None


if orjson is not None:
    loads: Callable[[Any], Any] = orjson.loads
    # Tuples of exception classes, for ``except``.
    DecodeError: Tuple[Type[BaseException], ...] = (orjson.JSONDecodeError,)
    EncodeError: Tuple[Type[BaseException], ...] = (TypeError, orjson.JSONEncodeError)
    _APPEND = orjson.OPT_APPEND_NEWLINE
    _INDENT = orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE

    # One compact JSON line, \n-terminated (a C call: the hot path of extract).
    dumps = functools.partial(orjson.dumps, option=_APPEND)

    def dumps_indented(value: Any) -> bytes:
        """JSON indented by two spaces, ``\\n``-terminated."""
        return orjson.dumps(value, option=_INDENT)

else:

    def _int(text: str) -> Any:
        """An integer as orjson reads it: beyond 64 bits, a float; beyond a
        double, refused (then the caller reads it with ``json.loads``, exactly)."""
        if len(text) < 19:
            return int(text)
        if len(text) <= 21:  # 2**64 - 1 has 20 digits, -2**63 a sign and 19
            value = int(text)
            if _INT_MIN <= value <= _INT_MAX:
                return value
        number = float(text)
        if number in (float("inf"), float("-inf")):
            raise ValueError("number is infinity when parsed as double")
        return number

    loads = functools.partial(json.loads, parse_int=_int)
    # RecursionError: nested too deeply (orjson refuses past 1024 levels).
    DecodeError = (ValueError, RecursionError)
    EncodeError = (TypeError,)

    def dumps(value: Any) -> bytes:
        """One compact JSON line, ``\\n``-terminated (``TypeError`` on what orjson refuses)."""
        return _dumps_std(value) + b"\n"

    def dumps_indented(value: Any) -> bytes:
        """JSON indented by two spaces, ``\\n``-terminated."""
        return _dumps_std(value, indent=True) + b"\n"
