"""The JSON value reader: one value (RFC 8259, strict; or the JSON-like subset
of Python literals), from successive slices of text, written out as it is read.

It knows nothing of tags, calls or messages: a body grammar (``hermes.py``)
points it at a value and tells it where to write (``out``, a list of pieces)
and how (``M_*`` in ``codes.py``):

* ``M_ENCODE``: normalised as ``json.dumps(value, ensure_ascii=False)`` writes
  it (the default arguments);
* ``M_RAW``: the model's own text of the value (``arguments="raw"``);
* ``M_DECODE``: a string's characters (names, keys, and arguments written as a
  string holding JSON: a ``DECODE`` reader then feeds an ``inner`` reader, so
  such arguments stream without being held);
* ``M_DISCARD``: checked, not written (values of keys we ignore).

``feed`` returns where it stopped: the end of the slice (more input is
needed, ``status == RUNNING``), the character after the value (``DONE``) or
the offending character (``FAILED``, ``error`` says why).  Its own stack makes
nesting depth unlimited.  Per character the loop compares and counts; text is
copied out in runs, never a character at a time.
"""

import unicodedata

from .codes import DONE, FAILED, M_DECODE, M_DISCARD, M_ENCODE, M_RAW, RUNNING

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

# How many open brackets' worth of stack a reader keeps between values.
STACK_KEPT = 64

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
        # The open brackets, innermost last: True for an object, False for an
        # array; the first ``depth`` items are live.  Items are overwritten,
        # not popped: a list that empties and fills again for every value
        # would be freed and allocated again each time.
        self.stack = []
        self.depth = 0
        self.num_parts = []
        self.name_parts = []
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
        # A numeric escape being read (\uXXXX, and Python's \xXX, \UXXXXXXXX, \012).
        self.escape_digits = 0
        self.escape_need = 0
        self.escape_value = 0
        self.name_length = 0
        self.num_state = N_START
        self.num_float = False
        self.lit = ""
        self.lit_out = ""
        self.lit_pos = 0
        self.error = ""
        self.depth = 0
        if len(self.stack) > STACK_KEPT:  # a deep value's stack is not kept
            self.stack = []
        if self.num_parts:
            self.num_parts.clear()
        if self.name_parts:
            self.name_parts.clear()
        self.colon = False
        self.verbatim_text = ""
        self.verbatim_from = 0
        self.verbatim_to = 0

    # ENCODE mode: most models write arguments already in json.dumps form
    # ({"a": 1, "b": "x"}).  Where the output for a stretch of input is that
    # very text, the reader only notes the stretch (verbatim_from..to in
    # verbatim_text, the slice being fed) and copies it out in one piece when
    # something else must be written or the slice ends, instead of writing
    # "{", '"', a run, '"', ": "... one by one.

    def same(self, start, stop):
        """ENCODE: the output for ``verbatim_text[start:stop]`` is that text."""
        if start != self.verbatim_to:
            if self.verbatim_to > self.verbatim_from:
                self.out.append(self.verbatim_text[self.verbatim_from : self.verbatim_to])
            self.verbatim_from = start
        self.verbatim_to = stop

    def push(self, is_object):
        """A bracket opens: an object's (``True``) or an array's."""
        if self.depth < len(self.stack):
            self.stack[self.depth] = is_object
        else:
            self.stack.append(is_object)
        self.depth += 1

    def put(self, piece):
        """Write decoded or normalised output (never called in RAW or DISCARD mode)."""
        if self.verbatim_to > self.verbatim_from:  # the verbatim stretch comes first
            self.out.append(self.verbatim_text[self.verbatim_from : self.verbatim_to])
            self.verbatim_from = self.verbatim_to
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
        written = text  # as the model wrote it, when all of it is in s
        if self.num_parts:
            written = ""
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
            if text == written:
                self.same(run, i)
            else:
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
        # Where this slice's last ',' and ':' were read (ENCODE: to copy ", "
        # and ": " when the model wrote them so); -1 when not in this slice.
        comma_at = -1
        colon_at = -1
        if mode == M_ENCODE:
            self.verbatim_text = s
            self.verbatim_from = start
            self.verbatim_to = start
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
                if i > run:
                    if mode == M_ENCODE:
                        self.same(run, i)
                    elif mode == M_DECODE:
                        self.put(s[run:i])
                if i == end:
                    break
                c = s[i]
                if c == quote:
                    i += 1
                    if mode == M_ENCODE:
                        if c == '"':
                            self.same(i - 1, i)
                        else:
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
                if self.colon:  # a value follows ':' (ENCODE mode)
                    self.colon = False
                    if colon_at >= 0 and i == colon_at + 2 and s[colon_at + 1] == " ":
                        self.same(colon_at, i)
                    else:
                        self.put(": ")
                if state == R_ARR_FIRST and c == "]":
                    i += 1
                    self.depth -= 1
                    self.comma = False
                    if mode == M_ENCODE:
                        self.same(i - 1, i)
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
                        if comma_at >= 0 and i == comma_at + 2 and s[comma_at + 1] == " ":
                            self.same(comma_at, i)
                        else:
                            self.put(", ")
                if c == "{":
                    i += 1
                    self.push(True)
                    if mode == M_ENCODE:
                        self.same(i - 1, i)
                    self.state = R_OBJ_FIRST
                elif c == "[":
                    i += 1
                    self.push(False)
                    if mode == M_ENCODE:
                        self.same(i - 1, i)
                    self.state = R_ARR_FIRST
                elif c == '"' or (python and c == "'"):
                    i += 1
                    self.is_key = False
                    self.quote = c
                    if mode == M_ENCODE:
                        if c == '"':
                            self.same(i - 1, i)
                        else:
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
                if self.depth == 0:
                    self.status = DONE
                    self.state = R_DONE
                    break
                c = s[i]
                if c == " " or c == "\n" or c == "\r" or c == "\t":
                    i += 1
                elif c == ",":
                    comma_at = i
                    i += 1
                    self.comma = True
                    if self.stack[self.depth - 1]:
                        self.state = R_OBJ_FIRST if python else R_OBJ_KEY
                    else:
                        self.state = R_ARR_FIRST if python else R_VALUE
                elif c == "}" and self.stack[self.depth - 1]:
                    i += 1
                    self.depth -= 1
                    if mode == M_ENCODE:
                        self.same(i - 1, i)
                elif c == "]" and not self.stack[self.depth - 1]:
                    i += 1
                    self.depth -= 1
                    if mode == M_ENCODE:
                        self.same(i - 1, i)
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
                        if not self.comma:
                            if c == '"':
                                self.same(i - 1, i)
                            else:
                                self.put('"')
                        elif c == '"' and comma_at >= 0 and i == comma_at + 3 and s[comma_at + 1] == " ":
                            self.same(comma_at, i)
                        else:
                            self.put(', "')
                    self.comma = False
                    self.state = R_STR
                elif c == "}" and state == R_OBJ_FIRST:
                    i += 1
                    self.depth -= 1
                    self.comma = False
                    if mode == M_ENCODE:
                        self.same(i - 1, i)
                    self.state = R_AFTER
                else:
                    self.fail("expected a key")
                    break
            elif state == R_COLON:
                c = s[i]
                if c == " " or c == "\n" or c == "\r" or c == "\t":
                    i += 1
                elif c == ":":
                    if mode == M_ENCODE:
                        # Written when the value starts (or the slice ends):
                        # by then we know whether the model wrote ": " itself.
                        self.colon = True
                        colon_at = i
                    i += 1
                    self.state = R_VALUE
                else:
                    self.fail("expected ':'")
                    break
            elif state == R_ESC:
                c = s[i]
                i += 1
                self.escape_digits = 0
                self.escape_value = 0
                code = -1
                if c == "u":
                    self.escape_need = 4
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
                    self.escape_need = 2 if c == "x" else 8
                    self.state = R_HEX
                elif "0" <= c and c <= "7":
                    self.escape_value = ord(c) - 48
                    self.escape_digits = 1
                    self.state = R_OCT
                elif c == "N":
                    self.name_length = 0
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
                self.escape_value = self.escape_value * 16 + digit
                self.escape_digits += 1
                if self.escape_digits == self.escape_need:
                    if self.escape_value > 0x10FFFF:
                        self.fail("invalid \\U escape")
                        break
                    if writes:
                        self.code_point(self.escape_value)
                    else:
                        self.state = R_STR
            elif state == R_OCT:
                c = s[i]
                if "0" <= c and c <= "7" and self.escape_digits < 3:
                    i += 1
                    self.escape_value = self.escape_value * 8 + ord(c) - 48
                    self.escape_digits += 1
                elif writes:
                    self.code_point(self.escape_value)
                else:
                    self.state = R_STR
            elif state == R_NAMED:
                # \N{NAME}: the name is gathered in name_parts.
                c = s[i]
                if self.name_length == 0:
                    if c != "{":
                        self.fail("invalid \\N escape")
                        break
                    i += 1
                    self.name_length = 1
                    continue
                run = i
                while i < end and s[i] != "}" and i - run + self.name_length < 100:
                    i += 1
                self.name_parts.append(s[run:i])
                self.name_length += i - run
                if i == end:
                    break
                if s[i] != "}":
                    self.fail("invalid \\N escape")
                    break
                i += 1
                name = "".join(self.name_parts)
                self.name_parts.clear()
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
                        if not python and i - size >= start:  # all of it in this slice
                            self.same(i - size, i)
                        else:
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
        if self.state == R_AFTER and self.depth == 0:
            # The value's last character ended the slice: it is complete now,
            # not when the next character arrives (which may never come).
            self.status = DONE
            self.state = R_DONE
        if mode == M_ENCODE:
            if self.colon:  # the value starts in a later slice (or never)
                self.colon = False
                self.put(": ")
            if self.verbatim_to > self.verbatim_from:
                self.out.append(s[self.verbatim_from : self.verbatim_to])
                self.verbatim_from = self.verbatim_to
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


def plain_string_end(s, i, limit, cap):
    """Where the JSON string that opens at ``s[i]`` (a '"') closes, when it
    closes before ``limit``, holds at most ``cap`` characters and only plain
    ones (no escape, no control character): its value is then
    ``s[i + 1 : end]`` as it stands, which a body takes without setting a
    reader up (a name, a key).  -1 when any of that does not hold: the
    reader reads the string."""
    # The closing quote of a string of at most cap characters is at i + 1 + cap at most.
    stop = i + 2 + cap
    if stop > limit:
        stop = limit
    j = i + 1
    while j < stop:
        c = s[j]
        if c == '"':
            return j
        if c == "\\" or c < " ":
            return -1
        j += 1
    return -1


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
