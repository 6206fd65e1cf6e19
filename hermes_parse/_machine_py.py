"""The streaming state machine: Hermes text in, OpenAI ``delta`` dicts out.

This one source is both twins.  Imported as ``_machine_py`` it is the readable
pure-Python reference; setup.py compiles the very same file (through the link
``_machine_c.py``) with Cython, typed by ``_machine_c.pxd``, as ``_machine_c``.
One source, two builds, no drift.  Keep it to what Cython compiles to plain C:
states are module-level ints, characters are compared one by one, and text is
never copied per character (runs are sliced out whole).

Theory of operation
-------------------
The input is what a Hermes chat template makes a model write::

    I'll check.<tool_call>\\n{"name": "f", "arguments": {"x": 1}}\\n</tool_call>

``StreamParser`` reads it one character at a time, whatever the chunks were,
and its state after a character depends only on the characters so far.  So
the deltas of any chunking concatenate to the same message, and ``parse`` is
just one ``feed`` and a ``close``.  Work per character is constant, hence the
cost of a delta does not grow with the output.

Two layers:

* ``StreamParser`` (states ``S_*``) splits content from ``<tool_call>``
  blocks and walks a block's top-level object: which key is which, where the
  name and the arguments are, fences, closing tags, and what happens after a
  defect.
* ``JsonReader`` (states ``R_*``) reads one JSON value (RFC 8259, strict) with
  its own stack, and writes it out: normalised as ``json.dumps(value,
  ensure_ascii=False)`` would (``ENCODE``), as the model wrote it (``RAW``),
  decoded (``DECODE``: a string's characters, for names, keys and arguments
  given as a JSON string) or not at all (``DISCARD``: keys we ignore).  A
  ``DECODE`` reader can feed a second reader, which is how arguments written
  as a string holding JSON are streamed without being held.

What must be held back, and why:

* whitespace at the start or after a call block: it is dropped if a call
  block or the end of the text follows, content otherwise;
* a prefix of ``<tool_call>``: it is a tag or content, we don't know yet;
* a block until its name is complete: it may still turn out to be content
  (``not_a_call``), and arguments written before the name wait for it.
  ``max_buffer`` caps this; past it the block is content.

Once a call's name is out, nothing sent is taken back: a later defect is a
``Problem`` and the rest of the block is skipped up to its closing tag.
"""

import unicodedata

from ._tools import tool_names
from ._types import ClosedError, Message, Problem, ToolCall, random_call_id

# JsonReader output modes.
M_DISCARD = 0
M_ENCODE = 1
M_RAW = 2
M_DECODE = 3

# JsonReader status.
RUNNING = 0
DONE = 1
FAILED = 2

# JsonReader states.
R_VALUE = 0  # a value is expected
R_ARR_FIRST = 1  # after '[': a value or ']'
R_OBJ_FIRST = 2  # after '{': a key or '}'
R_OBJ_KEY = 3  # after ',' in an object: a key
R_COLON = 4  # after a key
R_AFTER = 5  # after a value: ',' or a closing bracket, or the end at depth 0
R_STR = 6  # inside a string
R_ESC = 7  # after a backslash
R_HEX = 8  # inside \uXXXX
R_STR_HIGH = 9  # after a high-surrogate escape: a low one may follow
R_NUM = 10  # inside a number
R_LIT = 11  # inside true, false or null
R_DONE = 12  # the value is complete; only whitespace may follow
R_FAILED = 13
R_OCT = 14  # inside a Python octal escape (\012)
R_NAMED = 15  # inside a Python \N{NAME} escape

# Number states (a DFA over RFC 8259's number grammar).
N_START = 0
N_SIGN = 1  # "-"
N_ZERO = 2  # "0" or "-0": no more digits before '.' or 'e'
N_INT = 3
N_DOT = 4
N_FRAC = 5
N_E = 6
N_ESIGN = 7
N_EXP = 8

# StreamParser states.
S_TEXT_WS = 0  # content; whitespace here is held (start of text, after a call)
S_TEXT = 1  # content
S_TAG = 2  # matching "<tool_call>" in content
S_OPEN = 3  # in a block, before '{' (whitespace, an opening fence)
S_FENCE = 4  # counting the backticks of an opening fence
S_FENCE_INFO = 5  # the fence's language tag ("json")
S_OPEN_FENCED = 6  # after the fence, before '{'
S_KEY = 7  # a top-level key, or '}' right after '{'
S_KEYSTR = 8  # reading a top-level key
S_COLON = 9
S_VALUE_START = 10  # before a top-level value
S_VALUE = 11  # reading a top-level value
S_AFTER_VALUE = 12  # ',' or '}'
S_AFTER_OBJ = 13  # after the call's object: whitespace, a fence, a tag
S_CLOSE_FENCE = 14  # counting the backticks of a closing fence
S_END_TAG = 15  # matching "</tool_call>" or "<tool_call>" after a call
S_SKIP = 16  # after a defect in a call: looking for a tag

# What the top-level value being read is.
V_KEY = 0
V_NAME = 1
V_ARGS = 2  # arguments, an object
V_ARGS_STR = 3  # arguments, a string holding JSON
V_ARGS_OTHER = 4  # arguments, any other value (null means {})
V_DUPLICATE = 5  # a second "name" or "arguments"
V_OTHER = 6  # a key we ignore

OPEN_TAG = "<tool_call>"
CLOSE_TAG = "</tool_call>"
OPEN_TAG_LEN = 11
CLOSE_TAG_LEN = 12

# A key longer than this is none of ours; a name longer than this is not a name.
KEY_CAPTURE_CAP = 32
NAME_CAPTURE_CAP = 512
DEFAULT_MAX_BUFFER = 8 * 1024 * 1024
NO_LIMIT = 1 << 62

# The builtin itself, called as an object: Cython compiles a plain float(str)
# to its own faster parser, which accepts spellings float() refuses ("1E-_7").
parse_float = float

# json.dumps's escapes for the characters it must escape (ensure_ascii=False).
SHORT_ESCAPES = {
    0x22: '\\"',
    0x5C: "\\\\",
    0x08: "\\b",
    0x0C: "\\f",
    0x0A: "\\n",
    0x0D: "\\r",
    0x09: "\\t",
}


class JsonReader:
    """Reads one JSON value from successive slices of text and writes it out.

    ``feed`` returns where it stopped: the end of the slice (more input is
    needed), the character after the value (``status == DONE``), or the
    offending character (``status == FAILED``, ``error`` says why).

    With ``python`` set it also reads the JSON-like subset of Python literals
    (single-quoted strings with Python's escapes, ``True``/``False``/``None``,
    Python's numbers, trailing commas) and writes them as JSON.
    """

    def __init__(self):
        self.out = None
        self.inner = None
        self.stack = []
        self.num_parts = []
        self.reset(M_DISCARD, None, None, False, 0, False)

    def reset(self, mode, out, inner, object_only, capture_cap, python):
        self.status = RUNNING
        self.state = R_VALUE
        self.mode = mode
        self.out = out
        self.inner = inner
        self.object_only = object_only
        self.capture_cap = capture_cap
        self.python = python
        self.captured = 0
        self.overflow = False
        self.started = False
        self.is_key = False
        self.comma = False
        self.quote = '"'
        self.high = 0
        self.hex_count = 0
        self.hex_need = 0
        self.hex_value = 0
        self.num_state = N_START
        self.num_float = False
        self.lit = ""
        self.lit_out = ""
        self.lit_pos = 0
        self.error = ""
        self.stack.clear()
        self.num_parts.clear()

    def put(self, piece):
        """Write decoded or normalised output (never called in RAW or DISCARD mode)."""
        if self.inner is not None:
            # The inner reader stops where its value ends; what follows in the
            # piece must be whitespace, which it checks when fed again.
            inner = self.inner
            size = len(piece)
            stop = inner.feed(piece, 0, size)
            if stop < size and inner.status == DONE:
                inner.feed(piece, stop, size)
        elif not self.capture_cap:
            self.out.append(piece)
        elif not self.overflow:
            self.captured += len(piece)
            if self.captured > self.capture_cap:
                self.overflow = True
            else:
                self.out.append(piece)

    def code_point(self, code):
        """Write the character of an escape, pairing surrogates as json.loads does."""
        if self.high:
            high = self.high
            self.high = 0
            if 0xDC00 <= code <= 0xDFFF:
                self.put(chr(0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00)))
                self.state = R_STR
                return
            self.lone_surrogate(high)
        if 0xD800 <= code <= 0xDBFF:
            self.high = code
            self.state = R_STR_HIGH
            return
        self.state = R_STR
        if self.mode == M_DECODE:
            self.put(chr(code))
        elif 0xDC00 <= code <= 0xDFFF:
            self.lone_surrogate(code)
        elif code < 0x20 or code == 0x22 or code == 0x5C:
            self.put(SHORT_ESCAPES.get(code) or "\\u%04x" % code)
        else:
            self.put(chr(code))

    def lone_surrogate(self, code):
        # json.dumps would write the lone surrogate itself, which no UTF-8
        # encoder (orjson, an HTTP response) accepts; its escape is valid JSON.
        if self.mode == M_DECODE:
            self.put(chr(code))
        else:
            self.put("\\u%04x" % code)

    def end_number(self, s, run, i):
        """The number ends at ``i``: check a Python one, write it in ENCODE mode."""
        text = s[run:i]
        if self.num_parts:
            self.num_parts.append(text)
            text = "".join(self.num_parts)
            self.num_parts.clear()
        if self.python:
            text = python_number(text)
            if not text:
                self.fail("invalid number")
                return
        elif self.num_float:
            value = parse_float(text)
            # 1e999 overflows: json.dumps would write "Infinity", which is not
            # JSON; the model's own spelling is.
            if value - value == 0.0:
                text = repr(value)
        elif text == "-0":
            text = "0"
        if self.mode == M_ENCODE:
            self.put(text)
        self.state = R_AFTER

    def fail(self, message):
        self.status = FAILED
        self.state = R_FAILED
        self.error = message

    def feed(self, s, start, end):
        """Read ``s[start:end]``; return where reading stopped."""
        i = start
        # RAW mode copies the value's text: from where this slice starts (or
        # the value's first character) to where reading stops.
        raw_from = start if self.started and self.state != R_DONE else -1
        mode = self.mode
        writes = mode == M_ENCODE or mode == M_DECODE
        python = self.python
        while i < end:
            state = self.state
            if state == R_STR:
                quote = self.quote
                run = i
                while i < end:
                    c = s[i]
                    if c == "\\" and mode != M_DECODE and i + 1 < end:
                        # json.dumps writes these escapes as the model did:
                        # keep them in the run instead of decoding them.
                        c = s[i + 1]
                        if (
                            c == "n"
                            or c == '"'
                            or c == "\\"
                            or c == "t"
                            or c == "r"
                            or c == "b"
                            or c == "f"
                        ):
                            i += 2
                            continue
                        break
                    if c == '"' or c == "\\" or c < " " or c == quote:
                        break
                    i += 1
                if writes and i > run:
                    self.put(s[run:i])
                if i == end:
                    break
                c = s[i]
                if c == quote:
                    i += 1
                    if mode == M_ENCODE:
                        self.put('"')
                    self.state = R_COLON if self.is_key else R_AFTER
                elif c == "\\":
                    i += 1
                    self.state = R_ESC
                elif c == '"':  # inside a Python '...' string
                    i += 1
                    if mode == M_ENCODE:
                        self.put('\\"')
                    elif mode == M_DECODE:
                        self.put('"')
                elif python and c != "\n" and c != "\r":
                    # Python strings may hold raw control characters; JSON's
                    # must be escaped.
                    i += 1
                    if writes:
                        self.code_point(ord(c))
                else:
                    self.fail("control character in a string")
                    break
            elif state == R_VALUE or state == R_ARR_FIRST:
                c = s[i]
                if c == " " or c == "\n" or c == "\r" or c == "\t":
                    i += 1
                    continue
                if state == R_ARR_FIRST and c == "]":
                    i += 1
                    self.stack.pop()
                    self.comma = False
                    if mode == M_ENCODE:
                        self.put("]")
                    self.state = R_AFTER
                    continue
                if not self.started:
                    self.started = True
                    raw_from = i
                    if self.object_only and c != "{":
                        self.fail("the arguments are not a JSON object")
                        break
                if self.comma:
                    # A comma is written when the next item starts: after a
                    # Python trailing comma comes a bracket, not an item.
                    self.comma = False
                    if mode == M_ENCODE and starts_value(c, python):
                        self.put(", ")
                if c == "{":
                    i += 1
                    self.stack.append(1)
                    if mode == M_ENCODE:
                        self.put("{")
                    self.state = R_OBJ_FIRST
                elif c == "[":
                    i += 1
                    self.stack.append(0)
                    if mode == M_ENCODE:
                        self.put("[")
                    self.state = R_ARR_FIRST
                elif c == '"' or (python and c == "'"):
                    i += 1
                    self.is_key = False
                    self.quote = c
                    if mode == M_ENCODE:
                        self.put('"')
                    self.state = R_STR
                elif c == "-" or ("0" <= c and c <= "9") or (python and (c == "+" or c == ".")):
                    self.num_state = N_START
                    self.num_float = False
                    self.state = R_NUM
                elif c == "t" or c == "f" or c == "n":
                    self.lit = "true" if c == "t" else ("false" if c == "f" else "null")
                    self.lit_out = self.lit
                    self.lit_pos = 0
                    self.state = R_LIT
                elif python and (c == "T" or c == "F" or c == "N"):
                    self.lit = "True" if c == "T" else ("False" if c == "F" else "None")
                    self.lit_out = "true" if c == "T" else ("false" if c == "F" else "null")
                    self.lit_pos = 0
                    self.state = R_LIT
                else:
                    self.fail("expected a JSON value")
                    break
            elif state == R_AFTER:
                if not self.stack:
                    self.status = DONE
                    self.state = R_DONE
                    break
                c = s[i]
                if c == " " or c == "\n" or c == "\r" or c == "\t":
                    i += 1
                elif c == ",":
                    i += 1
                    self.comma = True
                    if self.stack[-1]:
                        self.state = R_OBJ_FIRST if python else R_OBJ_KEY
                    else:
                        self.state = R_ARR_FIRST if python else R_VALUE
                elif c == "}" and self.stack[-1]:
                    i += 1
                    self.stack.pop()
                    if mode == M_ENCODE:
                        self.put("}")
                elif c == "]" and not self.stack[-1]:
                    i += 1
                    self.stack.pop()
                    if mode == M_ENCODE:
                        self.put("]")
                else:
                    self.fail("expected ',' or a closing bracket")
                    break
            elif state == R_OBJ_FIRST or state == R_OBJ_KEY:
                c = s[i]
                if c == " " or c == "\n" or c == "\r" or c == "\t":
                    i += 1
                elif c == '"' or (python and c == "'"):
                    i += 1
                    self.is_key = True
                    self.quote = c
                    if mode == M_ENCODE:
                        self.put(', "' if self.comma else '"')
                    self.comma = False
                    self.state = R_STR
                elif c == "}" and state == R_OBJ_FIRST:
                    i += 1
                    self.stack.pop()
                    self.comma = False
                    if mode == M_ENCODE:
                        self.put("}")
                    self.state = R_AFTER
                else:
                    self.fail("expected a key")
                    break
            elif state == R_COLON:
                c = s[i]
                if c == " " or c == "\n" or c == "\r" or c == "\t":
                    i += 1
                elif c == ":":
                    i += 1
                    if mode == M_ENCODE:
                        self.put(": ")
                    self.state = R_VALUE
                else:
                    self.fail("expected ':'")
                    break
            elif state == R_ESC:
                c = s[i]
                i += 1
                self.hex_count = 0
                self.hex_value = 0
                code = -1
                if c == "u":
                    self.hex_need = 4
                    self.state = R_HEX
                elif c == '"':
                    code = 0x22
                elif c == "\\":
                    code = 0x5C
                elif c == "/":
                    code = 0x2F
                elif c == "b":
                    code = 0x08
                elif c == "f":
                    code = 0x0C
                elif c == "n":
                    code = 0x0A
                elif c == "r":
                    code = 0x0D
                elif c == "t":
                    code = 0x09
                elif not python:
                    i -= 1
                    self.fail("invalid escape")
                    break
                elif c == "'":
                    code = 0x27
                elif c == "a":
                    code = 0x07
                elif c == "v":
                    code = 0x0B
                elif c == "x" or c == "U":
                    self.hex_need = 2 if c == "x" else 8
                    self.state = R_HEX
                elif "0" <= c and c <= "7":
                    self.hex_value = ord(c) - 48
                    self.hex_count = 1
                    self.state = R_OCT
                elif c == "N":
                    self.state = R_NAMED
                elif c == "\n":  # a line continuation: no character
                    self.state = R_STR_HIGH if self.high else R_STR
                else:
                    # Python keeps an unknown escape as a backslash and the
                    # character, which is read again as part of the string.
                    i -= 1
                    code = 0x5C
                if code >= 0:
                    if writes:
                        self.code_point(code)
                    else:
                        self.state = R_STR
            elif state == R_HEX:
                c = s[i]
                if "0" <= c and c <= "9":
                    digit = ord(c) - 48
                elif "a" <= c and c <= "f":
                    digit = ord(c) - 87
                elif "A" <= c and c <= "F":
                    digit = ord(c) - 55
                else:
                    self.fail("invalid hexadecimal escape")
                    break
                i += 1
                self.hex_value = self.hex_value * 16 + digit
                self.hex_count += 1
                if self.hex_count == self.hex_need:
                    if self.hex_value > 0x10FFFF:
                        self.fail("invalid \\U escape")
                        break
                    if writes:
                        self.code_point(self.hex_value)
                    else:
                        self.state = R_STR
            elif state == R_OCT:
                c = s[i]
                if "0" <= c and c <= "7" and self.hex_count < 3:
                    i += 1
                    self.hex_value = self.hex_value * 8 + ord(c) - 48
                    self.hex_count += 1
                elif writes:
                    self.code_point(self.hex_value)
                else:
                    self.state = R_STR
            elif state == R_NAMED:
                # \N{NAME}: the name is gathered in num_parts.
                c = s[i]
                if self.hex_count == 0:
                    if c != "{":
                        self.fail("invalid \\N escape")
                        break
                    i += 1
                    self.hex_count = 1
                    continue
                run = i
                while i < end and s[i] != "}" and i - run + self.hex_count < 100:
                    i += 1
                self.num_parts.append(s[run:i])
                self.hex_count += i - run
                if i == end:
                    break
                if s[i] != "}":
                    self.fail("invalid \\N escape")
                    break
                i += 1
                name = "".join(self.num_parts)
                self.num_parts.clear()
                code = named_character(name)
                if code < 0:
                    self.fail("unknown character name in \\N escape")
                    break
                if writes:
                    self.code_point(code)
                else:
                    self.state = R_STR
            elif state == R_STR_HIGH:
                if s[i] == "\\":
                    i += 1
                    self.state = R_ESC
                else:
                    high = self.high
                    self.high = 0
                    self.lone_surrogate(high)
                    self.state = R_STR
            elif state == R_NUM:
                run = i
                if python:
                    # Python's numbers (0x1F, 1_000, .5, 1.) are gathered
                    # loosely here and checked whole by python_number().
                    # A sign may come first, or right after an exponent's e.
                    while i < end:
                        c = s[i]
                        if not (
                            ("0" <= c and c <= "9")
                            or ("a" <= c and c <= "z")
                            or ("A" <= c and c <= "Z")
                            or c == "_"
                            or c == "."
                            or (
                                (c == "+" or c == "-")
                                and (self.num_state == N_START or self.num_state == N_E)
                            )
                        ):
                            break
                        i += 1
                        self.num_state = N_E if (c == "e" or c == "E") else N_INT
                    if i == end:
                        self.num_parts.append(s[run:i])
                        break
                    self.end_number(s, run, i)
                    if self.status == FAILED:
                        break
                    continue
                num_state = self.num_state
                ended = False
                while i < end:
                    c = s[i]
                    if "0" <= c and c <= "9":
                        if num_state == N_START or num_state == N_SIGN:
                            num_state = N_ZERO if c == "0" else N_INT
                        elif num_state == N_ZERO:
                            break
                        elif num_state == N_DOT:
                            num_state = N_FRAC
                        elif num_state == N_E or num_state == N_ESIGN:
                            num_state = N_EXP
                    elif c == "-" and num_state == N_START:
                        num_state = N_SIGN
                    elif c == "." and (num_state == N_ZERO or num_state == N_INT):
                        num_state = N_DOT
                        self.num_float = True
                    elif (c == "e" or c == "E") and (
                        num_state == N_ZERO or num_state == N_INT or num_state == N_FRAC
                    ):
                        num_state = N_E
                        self.num_float = True
                    elif (c == "+" or c == "-") and num_state == N_E:
                        num_state = N_ESIGN
                    else:
                        ended = True
                        break
                    i += 1
                self.num_state = num_state
                if i == end and not ended:
                    if mode == M_ENCODE:
                        self.num_parts.append(s[run:i])
                    break
                if not ended or not (
                    num_state == N_ZERO
                    or num_state == N_INT
                    or num_state == N_FRAC
                    or num_state == N_EXP
                ):
                    self.fail("invalid number")
                    break
                if mode == M_ENCODE:
                    self.end_number(s, run, i)
                else:
                    self.state = R_AFTER
            elif state == R_LIT:
                lit = self.lit
                pos = self.lit_pos
                size = len(lit)
                while i < end and pos < size:
                    if s[i] != lit[pos]:
                        break
                    pos += 1
                    i += 1
                self.lit_pos = pos
                if pos == size:
                    if mode == M_ENCODE:
                        self.put(self.lit_out)
                    self.state = R_AFTER
                elif i < end:
                    self.fail("invalid literal")
                    break
            elif state == R_DONE:
                c = s[i]
                if c == " " or c == "\n" or c == "\r" or c == "\t":
                    i += 1
                else:
                    self.fail("text after the JSON value")
                    break
            else:  # R_FAILED: the caller has been told; ignore the rest
                return end
        if self.state == R_AFTER and not self.stack:
            # The value's last character ended the slice: it is complete now,
            # not when the next character arrives (which may never come).
            self.status = DONE
            self.state = R_DONE
        if mode == M_RAW and raw_from >= 0 and i > raw_from:
            self.out.append(s[raw_from:i])
        return i

    def finish(self):
        """The text ended: write a number that is complete as far as it went."""
        if self.inner is not None:
            self.inner.finish()
        # (A JSON number's text is kept only in ENCODE mode, a Python one's always.)
        if self.state == R_NUM and (
            self.python
            or self.mode == M_ENCODE
            and (
                self.num_state == N_ZERO
                or self.num_state == N_INT
                or self.num_state == N_FRAC
                or self.num_state == N_EXP
            )
        ):
            self.end_number("", 0, 0)


def starts_value(c, python):
    """Whether ``c`` can start a value (JSON's, or a Python literal's too)."""
    return (
        c == "{"
        or c == "["
        or c == '"'
        or c == "-"
        or ("0" <= c and c <= "9")
        or c == "t"
        or c == "f"
        or c == "n"
        or (
            python
            and (c == "'" or c == "+" or c == "." or c == "T" or c == "F" or c == "N")
        )
    )


def python_number(text):
    """The JSON for a Python number literal (``"0x1F"`` gives ``"31"``), or ``""``."""
    body = text.lstrip("+-")
    if len(text) - len(body) > 1 or not body or body[-1] == "j" or body[-1] == "J":
        return ""
    try:
        if body[:2] in ("0x", "0X", "0o", "0O", "0b", "0B") or not (
            "." in body or "e" in body or "E" in body
        ):
            return str(int(text, 0))
        value = parse_float(text)
    except ValueError:
        return ""
    # float() also takes "1_0." and ".5", as Python's literals do; an overflow
    # stays as written, as for JSON.
    return repr(value) if value - value == 0.0 else text.replace("_", "")


def named_character(name):
    """The code point of a ``\\N{NAME}`` escape, or -1."""
    try:
        return ord(unicodedata.lookup(name))
    except (KeyError, ValueError):  # unknown; or not encodable (a lone surrogate)
        return -1


class StreamParser:
    """Turns a model's output, fed in chunks of any size, into OpenAI deltas.

    ``feed(text)`` returns the ``choices[0].delta`` dicts that ``text``
    completes (``[]`` when it needs more input); ``close()`` returns the last
    ones.  ``problems`` lists the defects found so far; ``calls_finished``
    counts the calls whose block has ended (their arguments are final: the
    event ``CallFold.finish`` hands whole calls out on).  Options:

    * ``arguments``: ``"json"`` (normalised as ``json.dumps`` writes it) or
      ``"raw"`` (the model's own text);
    * ``tools``: the request's tools (OpenAI shape); a call to a name not in
      it is kept and reported (``unknown_tool="call"``) or left as content
      (``unknown_tool="content"``);
    * ``call_id``: ``f(index, name) -> str``; OpenAI-style random ids by default;
    * ``max_buffer``: how many characters may be held back before a call's
      name is known (default 8 Mi); past it the block is content;
    * ``python_literals``: also read Python dict literals (Hermes-2-Pro).
    """

    def __init__(
        self,
        *,
        arguments="json",
        tools=None,
        unknown_tool="call",
        call_id=None,
        max_buffer=DEFAULT_MAX_BUFFER,
        python_literals=False,
    ):
        if arguments == "json":
            self._args_mode = M_ENCODE
        elif arguments == "raw":
            self._args_mode = M_RAW
        else:
            raise ValueError("arguments must be 'json' or 'raw'")
        if unknown_tool != "call" and unknown_tool != "content":
            raise ValueError("unknown_tool must be 'call' or 'content'")
        if max_buffer < 1:
            raise ValueError("max_buffer must be positive")
        self._tools = tool_names(tools)
        self._unknown_as_content = unknown_tool == "content"
        self._call_id = random_call_id if call_id is None else call_id
        self._max_buffer = max_buffer
        self._python = bool(python_literals)
        self.problems = []
        self._deltas = []
        # parse() collects the message here instead of making deltas.
        self._collect = False
        self._collected = []
        self._content = []
        self._args = []
        self._capture = []
        self._held_ws = []
        self._held_raw = []
        self._pending_problems = []
        # Made when first needed: most outputs have no call, and a parser is
        # made for every request.
        self._reader = None
        self._inner = None
        self._closed = False
        self._offset = 0
        self._state = S_TEXT_WS
        self._hold_end = max_buffer
        self._holding = False
        self._raw_start = 0
        self._tag_pos = 0
        self._tag = OPEN_TAG
        self._tag_size = OPEN_TAG_LEN
        self._tag_start = 0
        self._tag_after_skip = False
        self._fence = 0
        self._calls = 0
        self.calls_finished = 0
        self._failed_open = False
        self._failed_start = 0
        self._failed_kind = ""
        self._failed_detail = ""
        self._reset_block()

    def _reset_block(self):
        self._block_start = 0
        self._decided = False
        self._index = -1
        self._first_key = True
        self._have_name = False
        self._have_args = False
        self._args_sent = False
        self._role = V_KEY
        self._value_start = 0
        self._value_char = " "
        self._skip_start = 0
        self._skip_kind = ""
        self._skip_detail = ""
        self._fenced = False
        self._args.clear()
        self._pending_problems.clear()

    # -- public ------------------------------------------------------------

    def feed(self, text):
        """Consume ``text``; return the deltas it completes (``[]``: need more input).

        Raises ``TypeError`` for anything but ``str`` and ``ClosedError``
        after ``close()``.
        """
        if type(text) is not str:
            if not isinstance(text, str):
                raise TypeError(f"feed() takes str, not {type(text).__name__}")
            text = str(text)
        if self._closed:
            raise ClosedError("feed() after close()")
        self._process(text)
        self._offset += len(text)
        return self._take()

    def close(self):
        """End the stream; return the last deltas.  Calling it again returns ``[]``."""
        if self._closed:
            return []
        self._closed = True
        self._process("")
        self._end_of_text()
        return self._take()

    def _message(self, text):
        """What ``parse`` returns: the whole text fed at once and accumulated as a
        client accumulates the deltas, without making the deltas."""
        self._collect = True
        self.feed(text)
        self.close()
        return Message(
            "".join(self._content) or None,
            [
                ToolCall(index, call[0], call[1], "".join(call[2]))
                for index, call in enumerate(self._collected)
            ],
            self.problems,
        )

    @property
    def closed(self):
        """``True`` once ``close()`` has been called."""
        return self._closed

    # -- output ------------------------------------------------------------

    def _take(self):
        if self._collect:
            return []
        if self._content:
            self._deltas.append({"content": "".join(self._content)})
            self._content.clear()
        if self._decided:
            self._flush_args()
        deltas = self._deltas
        if not deltas:
            return []
        self._deltas = []
        return deltas

    def _flush_args(self):
        args = self._args
        if args:
            text = args[0] if len(args) == 1 else "".join(args)
            args.clear()
            if text:
                self._args_sent = True
                if self._collect:
                    self._collected[self._index][2].append(text)
                else:
                    self._deltas.append(
                        {"tool_calls": [{"index": self._index, "function": {"arguments": text}}]}
                    )

    def _problem(self, kind, offset, length, detail):
        if self._decided:
            self.problems.append(Problem(kind, offset, length, self._index, detail))
        else:
            self._pending_problems.append((kind, offset, length, detail))

    # -- the block's fate --------------------------------------------------

    def _begin_block(self, i):
        """A "<tool_call>" ends at ``i``: hold the block until its name is known."""
        self._reset_block()
        if self._reader is None:
            self._reader = JsonReader()
        self._block_start = self._offset + i - OPEN_TAG_LEN
        self._hold_end = self._block_start + self._max_buffer
        self._holding = True
        self._held_raw.append(OPEN_TAG)
        self._raw_start = i
        self._state = S_OPEN

    def _not_a_call(self, text, i, kind, detail):
        """The undecided block is content after all, from its tag up to ``i``."""
        held = self._held_ws
        held.extend(self._held_raw)
        held.append(text[self._raw_start : i])
        self._content.append("".join(held))
        held.clear()
        self._held_raw.clear()
        # The block is content up to its "</tool_call>"; the problem spans it
        # all, so it is reported when that tag (or the next block, or the
        # end of the text) is seen.
        self._failed_start = self._block_start
        self._failed_kind = kind
        self._failed_detail = detail
        self._failed_open = True
        self._holding = False
        self._hold_end = NO_LIMIT
        self._reset_block()
        self._state = S_TEXT

    def _end_failed(self, end):
        """The block that turned out to be content ends at ``end``."""
        start = self._failed_start
        self.problems.append(
            Problem(self._failed_kind, start, end - start, None, self._failed_detail)
        )
        self._failed_open = False

    def _start_call(self, text, i):
        """The name is complete at ``i``: the block is a call.  Send its first delta."""
        name = "".join(self._capture)
        if self._reader.overflow or not name:
            self._not_a_call(text, i, "not_a_call", "the name is empty or too long")
            return
        unknown = self._tools is not None and name not in self._tools
        if unknown and self._unknown_as_content:
            self._not_a_call(text, i, "unknown_tool", "undeclared tool " + repr(name))
            return
        index = self._calls
        self._calls += 1
        self._index = index
        self._decided = True
        self._holding = False
        self._hold_end = NO_LIMIT
        self._held_ws.clear()  # whitespace before a call is not content
        self._held_raw.clear()
        call_id = self._call_id(index, name)
        if self._collect:
            self._collected.append([call_id, name, []])
        else:
            if self._content:
                self._deltas.append({"content": "".join(self._content)})
                self._content.clear()
            self._deltas.append(
                {
                    "tool_calls": [
                        {
                            "index": index,
                            "id": call_id,
                            "type": "function",
                            "function": {"name": name, "arguments": ""},
                        }
                    ]
                }
            )
        for kind, offset, length, detail in self._pending_problems:
            self.problems.append(Problem(kind, offset, length, index, detail))
        self._pending_problems.clear()
        if unknown:
            self.problems.append(
                Problem(
                    "unknown_tool",
                    self._value_start,
                    self._offset + i - self._value_start,
                    index,
                    "undeclared tool " + repr(name),
                )
            )

    def _defect(self, text, i, kind, detail):
        """Invalid JSON at ``i``: before the name the block is content; after
        it, the call keeps what was sent and the rest of the block is skipped."""
        if not self._decided:
            self._not_a_call(text, i, "not_a_call", detail)
            return
        self._skip_start = self._offset + i
        self._skip_kind = kind
        self._skip_detail = detail
        self._state = S_SKIP

    def _end_skip(self, end):
        start = self._skip_start
        self.problems.append(
            Problem(self._skip_kind, start, end - start, self._index, self._skip_detail)
        )
        self._skip_kind = ""

    def _end_call(self):
        """The call's block is over: its arguments are final."""
        if self._skip_kind:
            self._end_skip(self._tag_start)
        if not self._args_sent and not self._args:
            self._args.append("{}")
        self._flush_args()
        self.calls_finished += 1
        self._reset_block()

    def _end_of_text(self):
        state = self._state
        if state == S_TEXT_WS:
            self._held_ws.clear()  # trailing whitespace is not content
        elif state == S_TAG:
            self._flush_held_text()
        elif state == S_TEXT:
            pass
        elif not self._decided:
            self._not_a_call("", 0, "not_a_call", "the text ended before the name")
        else:
            if state == S_SKIP or (state == S_END_TAG and self._tag_after_skip):
                self._end_skip(self._offset)
            elif state != S_AFTER_OBJ and state != S_CLOSE_FENCE and state != S_END_TAG:
                self._reader.finish()
                start = self._block_start
                self.problems.append(
                    Problem(
                        "truncated",
                        start,
                        self._offset - start,
                        self._index,
                        "the text ended inside the call",
                    )
                )
            self._end_call()
        if self._failed_open:
            self._end_failed(self._offset)
        self._state = S_TEXT

    # -- the loop ----------------------------------------------------------

    def _process(self, text):
        n = len(text)
        i = 0
        if self._holding:
            self._raw_start = 0
        while i < n:
            state = self._state
            limit = self._hold_end - self._offset
            if limit <= i:
                # More than max_buffer characters held back.
                if state == S_TEXT_WS or state == S_TAG:
                    self._flush_held_text()
                    self._state = S_TEXT
                else:
                    self._not_a_call(
                        text, i, "not_a_call", "more than max_buffer characters before the name"
                    )
                continue
            if limit > n:
                limit = n
            if state == S_TEXT:
                j = text.find("<", i)
                if j < 0:
                    self._content.append(text[i:] if i else text)
                    i = n
                else:
                    if j > i:
                        self._content.append(text[i:j])
                    i = j + 1
                    self._tag_pos = 1
                    self._state = S_TAG
            elif state == S_TEXT_WS:
                j = i
                while j < limit:
                    c = text[j]
                    if c == " " or c == "\n" or c == "\r" or c == "\t":
                        j += 1
                    else:
                        break
                if j > i:
                    self._held_ws.append(text[i:j])
                i = j
                if i < limit:
                    if text[i] == "<":
                        i += 1
                        self._tag_pos = 1
                        self._state = S_TAG
                    else:
                        self._flush_held_text()
                        self._state = S_TEXT
            elif state == S_TAG:
                # "<tool_call>" starts a block; inside a block that turned out
                # to be content, "</tool_call>" ends it.
                pos = self._tag_pos
                if pos == 1 and i < limit:
                    if text[i] == "/" and self._failed_open:
                        self._tag = CLOSE_TAG
                        self._tag_size = CLOSE_TAG_LEN
                    else:
                        self._tag = OPEN_TAG
                        self._tag_size = OPEN_TAG_LEN
                tag = self._tag
                size = self._tag_size
                while i < limit and pos < size and text[i] == tag[pos]:
                    pos += 1
                    i += 1
                self._tag_pos = pos
                if pos == size:
                    if size == OPEN_TAG_LEN:
                        if self._failed_open:
                            self._end_failed(self._offset + i - OPEN_TAG_LEN)
                        self._begin_block(i)
                    else:
                        self._content.append(CLOSE_TAG)
                        self._end_failed(self._offset + i)
                        self._state = S_TEXT
                elif i < limit:
                    self._flush_held_text()
                    self._state = S_TEXT
            elif state == S_SKIP:
                j = text.find("<", i)
                if j < 0:
                    i = n
                else:
                    self._tag_start = self._offset + j
                    self._tag_after_skip = True
                    self._tag_pos = 1
                    self._state = S_END_TAG
                    i = j + 1
            elif state == S_VALUE or state == S_KEYSTR:
                reader = self._reader
                i = reader.feed(text, i, limit)
                if reader.status == DONE:
                    if state == S_KEYSTR:
                        self._key_done()
                    else:
                        self._value_done(text, i)
                elif reader.status == FAILED:
                    self._defect(text, i, "invalid_json", reader.error)
            else:
                c = text[i]
                if (
                    (c == " " or c == "\n" or c == "\r" or c == "\t")
                    and state != S_FENCE
                    and state != S_FENCE_INFO
                    and state != S_CLOSE_FENCE
                    and state != S_END_TAG
                ):
                    i += 1  # whitespace between the block's syntax
                    continue
                i = self._structure(text, i, c, state)
        if self._holding and self._raw_start < n:
            self._held_raw.append(text[self._raw_start :])

    def _flush_held_text(self):
        """Held whitespace and a partial tag turn out to be content."""
        held = self._held_ws
        if self._state == S_TAG:
            held.append(self._tag[: self._tag_pos])
        if held:
            self._content.append("".join(held))
            held.clear()
        self._hold_end = NO_LIMIT

    def _structure(self, text, i, c, state):
        """One character of a block's syntax outside JSON values; return the next index."""
        if state == S_OPEN or state == S_OPEN_FENCED:
            if c == "{":
                self._state = S_KEY
                self._first_key = True
                return i + 1
            if c == "`" and state == S_OPEN:
                self._fence = 1
                self._state = S_FENCE
                return i + 1
            self._not_a_call(text, i, "not_a_call", "expected '{'")
            return i
        if state == S_KEY:
            if c == '"' or (c == "'" and self._python):
                self._capture.clear()
                self._reader.reset(
                    M_DECODE, self._capture, None, False, KEY_CAPTURE_CAP, self._python
                )
                self._state = S_KEYSTR
                return i
            if c == "}" and (self._first_key or self._python):
                return self._end_object(text, i)
            self._defect(text, i, "invalid_json", "expected a key")
            return i
        if state == S_COLON:
            if c == ":":
                self._state = S_VALUE_START
                return i + 1
            self._defect(text, i, "invalid_json", "expected ':'")
            return i
        if state == S_VALUE_START:
            self._start_value(text, i, c)
            return i
        if state == S_AFTER_VALUE:
            if c == ",":
                self._first_key = False
                self._state = S_KEY
                return i + 1
            if c == "}":
                return self._end_object(text, i)
            self._defect(text, i, "invalid_json", "expected ',' or '}'")
            return i
        if state == S_FENCE:
            if c == "`" and self._fence < 3:
                self._fence += 1
                return i + 1
            if self._fence == 3:
                self._state = S_FENCE_INFO
                return i
            self._not_a_call(text, i, "not_a_call", "expected '{'")
            return i
        if state == S_FENCE_INFO:
            if (
                ("a" <= c and c <= "z")
                or ("A" <= c and c <= "Z")
                or ("0" <= c and c <= "9")
                or c == "_"
                or c == "-"
            ):
                return i + 1
            self._fenced = True
            self._state = S_OPEN_FENCED
            return i
        if state == S_AFTER_OBJ:
            if c == "<":
                self._tag_start = self._offset + i
                self._tag_after_skip = False
                self._tag_pos = 1
                self._state = S_END_TAG
                return i + 1
            if c == "`" and self._fenced:
                self._fenced = False
                self._fence = 1
                self._tag_start = self._offset + i
                self._state = S_CLOSE_FENCE
                return i + 1
            self._defect(text, i, "trailing_text", "text after the call's object")
            return i
        if state == S_CLOSE_FENCE:
            if c == "`" and self._fence < 3:
                self._fence += 1
                return i + 1
            if self._fence == 3:
                self._state = S_AFTER_OBJ
                return i
            self._skip_start = self._tag_start
            self._skip_kind = "trailing_text"
            self._skip_detail = "text after the call's object"
            self._state = S_SKIP
            return i
        # S_END_TAG: "</tool_call>" ends the block, "<tool_call>" starts the next.
        pos = self._tag_pos
        if pos == 1:
            if c == "/":
                self._tag = CLOSE_TAG
                self._tag_size = CLOSE_TAG_LEN
            else:
                self._tag = OPEN_TAG
                self._tag_size = OPEN_TAG_LEN
        if c == self._tag[pos]:
            pos += 1
            self._tag_pos = pos
            if pos < self._tag_size:
                return i + 1
            self._end_call()
            if self._tag_size == OPEN_TAG_LEN:
                self._begin_block(i + 1)
            else:
                self._state = S_TEXT_WS
                self._hold_end = self._offset + i + 1 + self._max_buffer
            return i + 1
        if self._tag_after_skip:
            self._state = S_SKIP
        else:
            self._skip_start = self._tag_start
            self._skip_kind = "trailing_text"
            self._skip_detail = "text after the call's object"
            self._state = S_SKIP
        return i

    def _end_object(self, text, i):
        """The block's object closes at ``i``."""
        if not self._decided:
            self._not_a_call(text, i, "not_a_call", "no name")
            return i
        self._state = S_AFTER_OBJ
        return i + 1

    def _key_done(self):
        key = "".join(self._capture)
        if self._reader.overflow:
            key = ""
        if key == "name":
            self._role = V_DUPLICATE if self._have_name else V_NAME
            self._have_name = True
        elif key == "arguments" or key == "parameters":
            self._role = V_DUPLICATE if self._have_args else V_ARGS
            self._have_args = True
        else:
            self._role = V_OTHER
        self._state = S_COLON

    def _start_value(self, text, i, c):
        """Set the reader up for the top-level value that starts with ``c``."""
        self._value_start = self._offset + i
        self._value_char = c
        role = self._role
        reader = self._reader
        python = self._python
        quote = c == '"' or (c == "'" and python)
        if role == V_NAME:
            if not quote:
                self._defect(text, i, "invalid_json", "the name is not a string")
                return
            self._capture.clear()
            reader.reset(M_DECODE, self._capture, None, False, NAME_CAPTURE_CAP, python)
        elif role == V_ARGS:
            if c == "{":
                reader.reset(self._args_mode, self._args, None, True, 0, python)
            elif quote:
                self._role = V_ARGS_STR
                if self._inner is None:
                    self._inner = JsonReader()
                self._inner.reset(self._args_mode, self._args, None, True, 0, python)
                reader.reset(M_DECODE, None, self._inner, False, 0, python)
            else:
                self._role = V_ARGS_OTHER
                reader.reset(M_DISCARD, None, None, False, 0, python)
        else:
            reader.reset(M_DISCARD, None, None, False, 0, python)
        self._state = S_VALUE

    def _value_done(self, text, i):
        """A top-level value ended at ``i``."""
        self._state = S_AFTER_VALUE
        role = self._role
        start = self._value_start
        length = self._offset + i - start
        if role == V_NAME:
            self._start_call(text, i)
        elif role == V_ARGS_STR:
            inner = self._inner
            if inner.status == FAILED or (inner.status == RUNNING and inner.started):
                detail = inner.error or "the arguments string holds incomplete JSON"
                self._problem("invalid_arguments", start, length, detail)
                if not self._decided:
                    self._args.clear()
        elif role == V_ARGS_OTHER:
            if self._value_char != "n" and self._value_char != "N":  # null, None
                self._problem("invalid_arguments", start, length, "the arguments are not an object")
        elif role == V_DUPLICATE:
            self._problem("duplicate_key", start, length, "a second name or arguments key")


def parse(text, truncated="keep", **options):
    """Parse a whole output; return a ``Message``.

    The result equals what a client accumulates from ``StreamParser`` fed the
    same text in any chunks.  Takes ``StreamParser``'s options, and
    ``truncated``: what becomes of a call cut by the end of the text
    (``max_tokens``): ``"keep"`` it with its arguments as far as they went
    (the default, and what a stream has sent), ``"drop"`` it, or move its
    block to ``"content"``; the ``truncated`` problem is reported either way.
    Raises ``ValueError`` for an unknown option value.
    """
    if truncated != "keep" and truncated != "drop" and truncated != "content":
        raise ValueError("truncated must be 'keep', 'drop' or 'content'")
    parser = StreamParser(**options)  # checks the options
    if type(text) is str and OPEN_TAG not in text:
        # No block can start: the machine would only hold whitespace at the
        # start (dropped when nothing else follows, unless past max_buffer).
        if text.strip(" \t\r\n") or len(text) > options.get("max_buffer", DEFAULT_MAX_BUFFER):
            return Message(text)
        return Message(None)
    if truncated == "keep":
        return parser._message(text)
    return parser._message(text).settle_truncated(text, truncated)
