"""The command's fast lane: JSON Lines records read without building them.

Theory of operation
-------------------
``hermes-parse extract`` on a log of bare ``{"id", "completion"}`` records or
of ``chat.completion`` responses spends most of its time outside the parser:
``orjson.loads`` builds every record (dicts, keys, the whole text as a Python
string), and ``orjson.dumps`` encodes every message line back to UTF-8,
although 60% of a typical log's texts hold no call and come out unchanged.
This module reads such lines as bytes instead:

1. ``LineScanner.scan`` checks each line against the JSON grammar (RFC 8259:
   strict UTF-8, no lone surrogate escapes, no NaN) without building a value,
   and finds the record's text where the command's default field rule
   (``records.default_text``) finds it in its two common cases: the
   ``completion`` string of a record without ``choices``, and the
   ``choices[0].message.content`` string of a message without tool calls.
   The text is unescaped into one UTF-8 column (bytes and int32 offsets: the
   layout ``parse_utf8`` of the core reads).  A line it does not take
   (anything else: other shapes, a duplicate key on the way, a lone
   surrogate, a number Python reads and orjson does not...) is ``LINE_SLOW``
   and goes the usual way, so this lane changes speed, never output.
2. ``parse_utf8`` parses the column: only rows in which a block may start
   are decoded into strings.
3. ``write_messages`` writes each record's message line, byte for byte what
   ``orjson.dumps`` writes for the usual message dict.  A row without a block
   whose JSON string is already written as orjson writes strings
   (``LINE_SAME``: the same escapes, in the same case) is copied from the
   input line as it is; the others are dicts through ``dumps``.

This module is compiled by Cython (typed by ``lines.pxd``) like the machine;
the command uses the lane only when it is compiled (``COMPILED`` in
``hermes_parse.cli``): in pure Python it would be slower than orjson.  The
tests run the same source as plain Python too, against the compiled module
and against the usual path.
"""

from __future__ import annotations

from array import array

from hermes_parse.machine.codes import ROW_BLANK, ROW_TEXT

__all__ = ["LINE_SAME", "LINE_SLOW", "LINE_TEXT", "LineScanner", "MessageWriter", "buffers"]

# What ``LineScanner.scan`` makes of a line (its ``codes``).
LINE_SLOW = 0  # not taken here: orjson.loads and the record's fields, as usual
LINE_TEXT = 1  # its text is the column's next row
LINE_SAME = 2  # as LINE_TEXT, and its JSON string is written as orjson writes it

# Nested deeper than this, a line is LINE_SLOW (orjson reads 1,024 levels).
MAX_DEPTH = 64
# ``buffers`` makes room for a line every this many bytes (a record with a
# text is longer: '{"completion": ""}' and its newline are 19).
LINE_ROOM = 16
# A longer number makes its line LINE_SLOW (json.loads refuses an integer of
# more than 4,300 digits: its record is bad the usual way).
MAX_NUMBER = 40
# A column holds at most this many bytes (its offsets are int32): the lines
# past it in a block are LINE_SLOW.
MAX_COLUMN = 2**31 - 1

QUOTE = b'"'
NEWLINE = b"\n"
NO_COLUMN = bytearray(1)  # the scanner's column between scans

# 1 for the bytes a JSON string holds as they are, in ASCII (not ", \ or a
# control); a byte of another kind needs a closer look.
PLAIN_BYTES = bytes(1 if 32 <= c < 128 and c != 34 and c != 92 else 0 for c in range(256))

# The message of a row without a call, around its content's JSON string; and
# of a blank text.  (orjson.dumps of {"role": "assistant", "content": ...}.)
MESSAGE_HEAD = b'{"role":"assistant","content":'
MESSAGE_TAIL = b"}\n"
BLANK_MESSAGE = b'{"role":"assistant","content":null}\n'

# A key the scanner looks for, by the level it is looked for at.
K_OTHER = 0
K_CHOICES = 1  # the record's
K_COMPLETION = 2  # the record's
K_MESSAGE = 3  # choices[0]'s
K_CONTENT = 4  # the message's
K_TOOL_CALLS = 5  # the message's



def _skip_blank(p, i, n):
    """Past the blanks at ``i``: JSON's but the newline, which ends a line."""
    while i < n and (p[i] == 32 or p[i] == 9 or p[i] == 13):
        i += 1
    return i


def _same_bytes(p, start, stop, word):
    """Whether ``p[start:stop]`` is ``word`` (without slicing ``p``)."""
    if stop - start != len(word):
        return False
    for at in range(stop - start):
        if p[start + at] != word[at]:
            return False
    return True


class LineScanner:
    """Reads JSON Lines records as bytes (the module's docstring).

    ``scan`` reads a block of lines into buffers the caller made for it
    (``buffers``); between calls it keeps nothing.  While a line is read,
    ``string_same``/``string_escaped`` say how the last string read was
    written; the record's text, a candidate at a time, is copied (unescaped)
    into the column from ``size`` on (``copy_end``: where the last copy
    ended), and ``size`` only moves past it when the line is taken."""

    def __init__(self):
        self.string_same = True
        self.string_escaped = False
        self.text_start = -1
        self.text_stop = -1
        self.text_end = 0
        self.text_same = False
        self.candidate_start = -1  # _candidate's string
        self.candidate_stop = -1
        self.candidate_end = 0
        self.candidate_same = False
        self.taken = True
        self.key = K_OTHER
        self.size = 0
        self.copy_end = 0
        self.column = NO_COLUMN
        self.taken_lines = 0
        self.stop = 0
        self.closed = False

    def scan(self, data, start, column, offsets, spans, codes, bounds):
        """Read the lines of ``data`` from ``start`` (whole lines, each
        ending in ``\\n`` but the last, which may not), as many as ``codes``
        has room for: ``stop`` is where the next line starts (``len(data)``
        when all were read).  Line ``k`` is ``data[bounds[k]:bounds[k + 1] -
        1]`` and ``codes[k]`` its code; the ``t``-th line taken
        (``LINE_TEXT``, ``LINE_SAME``) is the column's row ``t``: its text,
        unescaped, is ``column[offsets[t]:offsets[t + 1]]`` (UTF-8) and its
        JSON string ``data[spans[2 * t]:spans[2 * t + 1]]`` (without the
        quotes).  Returns how many lines were read; ``taken`` is how many
        were taken, ``size`` the bytes of the column written."""
        p = data
        n = len(data)
        room = len(codes)
        self.column = column
        self.size = 0
        offsets[0] = 0
        taken = 0
        k = 0
        at = start
        while at < n and k < room:
            bounds[k] = at
            end = self._line(p, at, n)
            if end < 0:
                code = LINE_SLOW
                end = data.find(NEWLINE, at)
                if end < 0:
                    end = n
            else:
                code = LINE_SAME if self.text_same else LINE_TEXT
                taken += 1
                self.size = self.text_end
                offsets[taken] = self.text_end
                spans[2 * taken - 2] = self.text_start
                spans[2 * taken - 1] = self.text_stop
            codes[k] = code
            k += 1
            at = end + 1
        bounds[k] = at
        self.column = NO_COLUMN  # the caller's may go: nothing points to it
        self.taken_lines = taken
        self.stop = min(at, n)
        return k

    def _line(self, p, i, n):
        """Read the line that starts at ``i``: the index of its end (its
        newline, or ``n``) when it is taken (``text_*`` set), -1 when not."""
        self.text_start = -1
        self.taken = True
        i = _skip_blank(p, i, n)
        if i >= n or p[i] != 123:  # "{": only an object has the fields
            return -1
        i = self._record(p, i + 1, n)
        if i < 0:
            return -1
        i = _skip_blank(p, i, n)
        if i < n and p[i] != 10:
            return -1
        if not self.taken or self.text_start < 0 or self.text_end > MAX_COLUMN:
            return -1
        return i

    # --- the levels where the fields are ----------------------------------

    def _key(self, p, i, n, level):
        """Read a key whose opening quote is at ``i - 1`` and the colon after
        it: returns the index past the colon and its blanks (-1: not JSON),
        and sets ``key`` to which of the keys looked for at ``level`` it is."""
        stop = self._string(p, i, n)
        if stop < 0:
            return -1
        self.key = K_OTHER
        if level != 0:
            if self.string_escaped:
                self.taken = False  # it may be one of ours, escaped: the usual way decides
            elif level == 1:
                if _same_bytes(p, i, stop - 1, b"choices"):
                    self.key = K_CHOICES
                elif _same_bytes(p, i, stop - 1, b"completion"):
                    self.key = K_COMPLETION
            elif level == 2:
                if _same_bytes(p, i, stop - 1, b"message"):
                    self.key = K_MESSAGE
            elif level == 3:
                if _same_bytes(p, i, stop - 1, b"content"):
                    self.key = K_CONTENT
                elif _same_bytes(p, i, stop - 1, b"tool_calls"):
                    self.key = K_TOOL_CALLS
        i = _skip_blank(p, stop, n)
        if i >= n or p[i] != 58:  # ":"
            return -1
        return _skip_blank(p, i + 1, n)

    def _record(self, p, i, n):
        """The record's object, from past its "{": the index past its "}"
        (-1: not JSON).  Its text: ``completion`` when ``choices`` is absent
        or null, ``choices[0].message.content`` when ``choices`` is an array."""
        seen_choices = 0  # 0: absent or null, 1: an array, 2: anything else
        choices_keys = 0
        completion_keys = 0
        completion_start = -1
        completion_stop = -1
        completion_end = 0
        completion_same = False
        i = _skip_blank(p, i, n)
        if i < n and p[i] == 125:  # "}"
            return i + 1
        while True:
            if i >= n or p[i] != 34:
                return -1
            i = self._key(p, i + 1, n, 1)
            if i < 0 or i >= n:
                return -1
            key = self.key
            if key == K_CHOICES:
                choices_keys += 1
                if p[i] == 91:  # "["
                    seen_choices = 1
                    i = self._choices(p, i + 1, n)
                else:
                    seen_choices = 0 if p[i] == 110 else 2  # "n": null (checked below)
                    i = self._value(p, i, n, 1)
            elif key == K_COMPLETION:
                completion_keys += 1
                i = self._candidate(p, i, n, 1)
                completion_start, completion_stop = self.candidate_start, self.candidate_stop
                completion_end, completion_same = self.candidate_end, self.candidate_same
            else:
                i = self._value(p, i, n, 1)
            i = self._next_item(p, i, n, 125)
            if i < 0:
                return -1
            if self.closed:
                break
        if choices_keys > 1 or seen_choices == 2:
            self.taken = False  # the usual way knows what the last one means
        elif seen_choices == 0:
            # No choices: the completion string, if there is exactly one.
            if completion_keys != 1 or completion_start < 0:
                self.taken = False
            else:
                self._take_text(completion_start, completion_stop, completion_end, completion_same)
        # seen_choices == 1: _choices set text_* (or taken False)
        return i

    def _choices(self, p, i, n):
        """The ``choices`` array from past its "[": its first item's message
        holds the text."""
        i = _skip_blank(p, i, n)
        if i < n and p[i] == 93:  # "]": no choice (the usual way looks elsewhere)
            self.taken = False
            return i + 1
        first = True
        while True:
            if i >= n:
                return -1
            if first and p[i] == 123:
                i = self._choice(p, i + 1, n)
            else:
                if first:
                    self.taken = False
                i = self._value(p, i, n, 2)
            first = False
            i = self._next_item(p, i, n, 93)
            if i < 0 or self.closed:
                return i

    def _choice(self, p, i, n):
        """``choices[0]`` from past its "{"."""
        messages = 0
        i = _skip_blank(p, i, n)
        if i < n and p[i] == 125:
            self.taken = False
            return i + 1
        while True:
            if i >= n or p[i] != 34:
                return -1
            i = self._key(p, i + 1, n, 2)
            if i < 0 or i >= n:
                return -1
            if self.key == K_MESSAGE:
                messages += 1
                if p[i] == 123:
                    i = self._message(p, i + 1, n)
                else:
                    self.taken = False
                    i = self._value(p, i, n, 3)
            else:
                i = self._value(p, i, n, 3)
            i = self._next_item(p, i, n, 125)
            if i < 0:
                return -1
            if self.closed:
                break
        if messages != 1:
            self.taken = False
        return i

    def _message(self, p, i, n):
        """``choices[0].message`` from past its "{": its ``content`` string is
        the text when it has no ``tool_calls`` (absent, null or [])."""
        contents = 0
        calls = 0
        start = -1
        stop = -1
        end = 0
        same = False
        i = _skip_blank(p, i, n)
        if i < n and p[i] == 125:
            self.taken = False
            return i + 1
        while True:
            if i >= n or p[i] != 34:
                return -1
            i = self._key(p, i + 1, n, 3)
            if i < 0 or i >= n:
                return -1
            key = self.key
            if key == K_CONTENT:
                contents += 1
                i = self._candidate(p, i, n, 4)
                start, stop = self.candidate_start, self.candidate_stop
                end, same = self.candidate_end, self.candidate_same
            elif key == K_TOOL_CALLS:
                calls += 1
                at = i
                i = self._value(p, i, n, 4)
                if i >= 0 and not (
                    _same_bytes(p, at, i, b"null")
                    or (p[at] == 91 and _skip_blank(p, at + 1, i) == i - 1)  # [] (blanks inside)
                ):
                    self.taken = False  # calls the server parsed: the usual way keeps them
            else:
                i = self._value(p, i, n, 4)
            i = self._next_item(p, i, n, 125)
            if i < 0:
                return -1
            if self.closed:
                break
        if contents != 1 or calls > 1 or start < 0:
            self.taken = False
        else:
            self._take_text(start, stop, end, same)
        return i

    def _candidate(self, p, i, n, depth):
        """The value at ``i`` of a key whose string may be the record's text:
        a string is read (unescaped into the column) and where it lies kept
        in ``candidate_*`` (its content ``p[start:stop]``, copied up to
        ``end`` of the column, ``same`` as ``string_same``); any other value
        is only checked, ``candidate_start`` -1.  The index past it, or -1."""
        if p[i] == 34:
            self.candidate_start = i + 1
            i = self._text_string(p, i + 1, n)
            self.candidate_stop = i - 1
            self.candidate_end = self.copy_end
            self.candidate_same = self.string_same
            return i
        self.candidate_start = -1
        return self._value(p, i, n, depth)

    def _take_text(self, start, stop, end, same):
        """The record's text is the candidate string read at ``start``."""
        self.text_start = start
        self.text_stop = stop
        self.text_end = end
        self.text_same = same

    # --- any value, only checked ------------------------------------------

    def _value(self, p, i, n, depth):
        """Check the JSON value at ``i`` (no blank before it): the index past
        it, or -1 (not JSON, or nested deeper than ``MAX_DEPTH``)."""
        if i >= n:
            return -1
        c = p[i]
        if c == 34:
            return self._string(p, i + 1, n)
        if c == 123 or c == 91:
            if depth >= MAX_DEPTH:
                return -1
            close = 125 if c == 123 else 93
            i = _skip_blank(p, i + 1, n)
            if i < n and p[i] == close:
                return i + 1
            while True:
                if c == 123:
                    if i >= n or p[i] != 34:
                        return -1
                    i = self._key(p, i + 1, n, 0)
                    if i < 0:
                        return -1
                i = self._next_item(p, self._value(p, i, n, depth + 1), n, close)
                if i < 0 or self.closed:
                    return i
        if c == 116:  # true
            return i + 4 if _same_bytes(p, i, min(i + 4, n), b"true") else -1
        if c == 102:
            return i + 5 if _same_bytes(p, i, min(i + 5, n), b"false") else -1
        if c == 110:
            return i + 4 if _same_bytes(p, i, min(i + 4, n), b"null") else -1
        return _number(p, i, n)

    def _next_item(self, p, i, n, close):
        """After an item of an object or an array (``i``: past it, -1 when it
        was not JSON; ``close``: the container's closing byte): the index of
        the next item, past the comma and blanks, or the index past ``close``
        with ``closed`` set; -1 when neither follows."""
        if i < 0:
            return -1
        i = _skip_blank(p, i, n)
        if i >= n:
            return -1
        if p[i] == close:
            self.closed = True
            return i + 1
        if p[i] != 44:  # ","
            return -1
        self.closed = False
        return _skip_blank(p, i + 1, n)

    def _string(self, p, i, n):
        """Check the JSON string whose opening quote is at ``i - 1``: the
        index past its closing quote, or -1 (not JSON, invalid UTF-8, a lone
        surrogate escape).  Sets ``string_escaped`` (a backslash in it) and
        ``string_same`` (written as orjson writes strings: only the escapes
        it uses, in its case)."""
        return self._read_string(p, i, n, False)

    def _text_string(self, p, i, n):
        """``_string``, and the text of the string copied (unescaped, UTF-8)
        into the column from ``size`` on: ``copy_end`` is where it ends."""
        return self._read_string(p, i, n, True)

    def _read_string(self, p, i, n, copy):
        same = True
        escaped = False
        plain = PLAIN_BYTES
        q = self.column  # its bytes (a C pointer in the compiled twin)
        end = self.size
        run = i  # the bytes from run to i are copied as they are
        while i < n:
            c = p[i]
            # The common bytes first: printable ASCII but " and \.
            while plain[c]:
                i += 1
                if i >= n:
                    return -1
                c = p[i]
            if c == 34:
                self.string_same = same
                self.string_escaped = escaped
                if copy:
                    self.copy_end = _copy(q, end, p, run, i)
                return i + 1
            if c < 128:
                if c != 92 or i + 1 >= n:
                    return -1  # a control, or a string cut short
                escaped = True
                if copy:
                    end = _copy(q, end, p, run, i)
                c = p[i + 1]
                if c == 117:  # \uXXXX
                    code = _hex4(p, i + 2, n)
                    if code < 0 or 0xDC00 <= code <= 0xDFFF:
                        return -1  # a lone low surrogate: orjson refuses it
                    if 0xD800 <= code <= 0xDBFF:
                        if i + 7 >= n or p[i + 6] != 92 or p[i + 7] != 117:
                            return -1
                        low = _hex4(p, i + 8, n)
                        if not 0xDC00 <= low <= 0xDFFF:
                            return -1
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        same = False
                        i += 12
                    else:
                        # orjson writes \u00XX only for the controls without
                        # a short escape, its hex digits in lowercase.
                        if same and (
                            code >= 32
                            or code == 8 or code == 9 or code == 10 or code == 12 or code == 13
                            or not _lower_hex(p, i + 4)
                        ):
                            same = False
                        i += 6
                    if copy:
                        end = _put_utf8(q, end, code)
                    run = i
                    continue
                if c == 110:
                    c = 10
                elif c == 116:
                    c = 9
                elif c == 114:
                    c = 13
                elif c == 98:
                    c = 8
                elif c == 102:
                    c = 12
                elif c == 47:  # \/ : orjson writes "/"
                    same = False
                elif c != 34 and c != 92:
                    return -1
                if copy:
                    q[end] = c
                    end += 1
                i += 2
                run = i
                continue
            # UTF-8: the sequences RFC 3629 allows (no overlong forms, no
            # surrogates, nothing past U+10FFFF), as orjson checks them.
            if 0xC2 <= c <= 0xDF:
                if i + 1 >= n or not 0x80 <= p[i + 1] <= 0xBF:
                    return -1
                i += 2
            elif 0xE0 <= c <= 0xEF:
                low = 0xA0 if c == 0xE0 else 0x80
                high = 0x9F if c == 0xED else 0xBF
                if i + 2 >= n or not low <= p[i + 1] <= high or not 0x80 <= p[i + 2] <= 0xBF:
                    return -1
                i += 3
            elif 0xF0 <= c <= 0xF4:
                low = 0x90 if c == 0xF0 else 0x80
                high = 0x8F if c == 0xF4 else 0xBF
                if (
                    i + 3 >= n
                    or not low <= p[i + 1] <= high
                    or not 0x80 <= p[i + 2] <= 0xBF
                    or not 0x80 <= p[i + 3] <= 0xBF
                ):
                    return -1
                i += 4
            else:
                return -1
        return -1


def _copy(q, end, p, start, stop):
    """Copy ``p[start:stop]`` to ``q`` at ``end``; returns the new end."""
    for at in range(stop - start):
        q[end + at] = p[start + at]
    return end + (stop - start)


def _lower_hex(p, i):
    """Whether the two hex digits at ``i`` are written in lowercase."""
    return not (65 <= p[i] <= 70) and not (65 <= p[i + 1] <= 70)


def _hex4(p, i, n):
    """The four hex digits at ``i`` as a number, or -1."""
    if i + 4 > n:
        return -1
    a = _hex(p[i])
    b = _hex(p[i + 1])
    c = _hex(p[i + 2])
    d = _hex(p[i + 3])
    if a < 0 or b < 0 or c < 0 or d < 0:
        return -1
    return (a << 12) | (b << 8) | (c << 4) | d


def _hex(c):
    """What the hex digit ``c`` (a byte) stands for, or -1."""
    if 48 <= c <= 57:
        return c - 48
    if 97 <= c <= 102:
        return c - 87
    if 65 <= c <= 70:
        return c - 55
    return -1


def _put_utf8(q, size, code):
    """Write ``code`` (a code point, not a surrogate) as UTF-8 at ``size``."""
    if code < 0x80:
        q[size] = code
        return size + 1
    if code < 0x800:
        q[size] = 0xC0 | (code >> 6)
        q[size + 1] = 0x80 | (code & 0x3F)
        return size + 2
    if code < 0x10000:
        q[size] = 0xE0 | (code >> 12)
        q[size + 1] = 0x80 | ((code >> 6) & 0x3F)
        q[size + 2] = 0x80 | (code & 0x3F)
        return size + 3
    q[size] = 0xF0 | (code >> 18)
    q[size + 1] = 0x80 | ((code >> 12) & 0x3F)
    q[size + 2] = 0x80 | ((code >> 6) & 0x3F)
    q[size + 3] = 0x80 | (code & 0x3F)
    return size + 4


def buffers(size):
    """``LineScanner.scan``'s buffers for ``size`` bytes of lines: (column,
    offsets, spans, codes, bounds).  The column is as large as it may need
    to be (a text is never longer than its JSON string); the others have
    room for a line every ``LINE_ROOM`` bytes (a shorter line is rare: the
    scan stops when they are full, and goes on with new ones)."""
    count = size // LINE_ROOM + 1
    return (
        bytearray(size),
        array("i", bytes(4 * (count + 1))),
        array("i", bytes(8 * count)),
        bytearray(count),
        array("i", bytes(4 * (count + 1))),
    )


def _number(p, i, n):
    """Check the JSON number at ``i``: the index past it, or -1 (also for a
    number of more than ``MAX_NUMBER`` characters, which Python may refuse
    to read: the usual way says what becomes of its record)."""
    start = i
    if i < n and p[i] == 45:  # "-"
        i += 1
    if i >= n:
        return -1
    if p[i] == 48:  # "0": no digit may follow
        i += 1
    elif 49 <= p[i] <= 57:
        i += 1
        while i < n and 48 <= p[i] <= 57:
            i += 1
    else:
        return -1
    if i < n and p[i] == 46:  # "."
        i += 1
        if i >= n or not 48 <= p[i] <= 57:
            return -1
        while i < n and 48 <= p[i] <= 57:
            i += 1
    if i < n and (p[i] == 101 or p[i] == 69):  # "e" "E"
        i += 1
        if i < n and (p[i] == 43 or p[i] == 45):
            i += 1
        if i >= n or not 48 <= p[i] <= 57:
            return -1
        while i < n and 48 <= p[i] <= 57:
            i += 1
    if i - start > MAX_NUMBER:
        return -1
    return i


class MessageWriter:
    """Writes the message lines of a block's taken lines (``LineScanner.scan``
    of ``data``, then ``parse_utf8`` of its column: ``rows`` and ``batch``),
    a run of them at a time, between the runs of lines the usual way writes;
    byte for byte what ``orjson.dumps`` writes for the usual message dicts.

    The lines are written as pieces appended to a list (the caller joins
    them): a list append costs a fraction of a ``bytearray +=``.

    ``ids``: the calls' ids (``batch.call_id``, or made from --seed);
    ``dumps_string``: ``orjson.dumps`` (a string that needs escapes is written
    by it); ``dumps_line`` writes a message dict that orjson refuses (a lone
    surrogate: ``records.dumps_line``)."""

    def __init__(self, data, codes, spans, column, offsets, rows, batch, ids, dumps_string, dumps_line):
        self.data = data
        self.codes = codes
        self.spans = spans
        self.column = column
        self.offsets = offsets
        self.rows = rows
        self.batch = batch
        self.content = batch.content
        self.call_offsets = batch.call_offsets
        self.names = batch.call_name
        self.arguments = batch.call_arguments
        self.ids = ids
        self.dumps_string = dumps_string
        self.dumps_line = dumps_line
        self.taken = 0  # the next taken line's row of the column
        self.record = 0  # the next parsed row's record of the batch

    def write(self, parts, start, stop):
        """Append to ``parts`` the messages of lines ``start`` to ``stop - 1``, all taken."""
        for at in range(start, stop):
            row = self.taken
            self.taken += 1
            kind = self.rows[row]
            if kind == ROW_TEXT and self.codes[at] == LINE_SAME:
                # The text came out whole, and its JSON string is as orjson writes it.
                parts.append(MESSAGE_HEAD)
                parts.append(self.data[self.spans[2 * row] - 1 : self.spans[2 * row + 1] + 1])
                parts.append(MESSAGE_TAIL)
            elif kind == ROW_BLANK:
                parts.append(BLANK_MESSAGE)
            elif kind == ROW_TEXT:
                parts.append(MESSAGE_HEAD)
                text = bytes(self.column[self.offsets[row] : self.offsets[row + 1]])
                _put_utf8_string(parts, text, None, self.dumps_string)
                parts.append(MESSAGE_TAIL)
            else:
                self._write_parsed(parts)

    def _write_parsed(self, parts):
        """The message of the batch's next record (``Extractor.messages``'
        dict, as orjson writes it)."""
        record = self.record
        self.record += 1
        mark = len(parts)
        try:
            parts.append(MESSAGE_HEAD)
            content = self.content[record]
            if content is None:
                parts.append(b"null")
            else:
                self._put_text(parts, content)
            start = self.call_offsets[record]
            stop = self.call_offsets[record + 1]
            if stop > start:
                parts.append(b',"tool_calls":[')
                for at in range(start, stop):
                    parts.append(b'{"id":' if at == start else b',{"id":')
                    self._put_text(parts, self.ids[at])
                    parts.append(b',"type":"function","function":{"name":')
                    self._put_text(parts, self.names[at])
                    parts.append(b',"arguments":')
                    self._put_text(parts, self.arguments[at])
                    parts.append(b"}}")
                parts.append(b"]")
            parts.append(MESSAGE_TAIL)
        except UnicodeEncodeError:
            # A lone surrogate (a "\\ud800" in a call): orjson refuses it, and
            # the usual way writes this message as json.dumps does.
            del parts[mark:]
            parts.append(self.dumps_line(_message(self.batch, record, self.ids)))

    def _put_text(self, parts, text):
        """Append ``text`` (a str) as orjson writes a string (UnicodeEncodeError:
        a lone surrogate)."""
        _put_utf8_string(parts, text.encode("utf-8"), text, self.dumps_string)




def _put_utf8_string(parts, data, text, dumps_string):
    """Append the UTF-8 ``data`` as orjson writes a string: in quotes, " and
    \\ after a backslash (the arguments of a call are full of "); a string
    with a control character in it is orjson's to write (``text``: the
    string, None to decode ``data``)."""
    p = data
    n = len(data)
    escapes = 0
    for i in range(n):
        c = p[i]
        if c < 32:
            parts.append(dumps_string(text if text is not None else data.decode("utf-8")))
            return 0
        if c == 34 or c == 92:
            escapes += 1
    if escapes == 0:
        parts.append(QUOTE)
        parts.append(data)
        parts.append(QUOTE)
        return 0
    written = bytearray(n + escapes + 2)
    q = written  # its bytes (a C pointer in the compiled twin)
    q[0] = 34
    end = 1
    for i in range(n):
        c = p[i]
        if c == 34 or c == 92:
            q[end] = 92
            end += 1
        q[end] = c
        end += 1
    q[end] = 34
    parts.append(written)
    return 0


def _message(batch, record, ids):
    """The message dict of a batch's record (as ``Extractor.messages``)."""
    message = {"role": "assistant", "content": batch.content[record]}
    start = batch.call_offsets[record]
    stop = batch.call_offsets[record + 1]
    if stop > start:
        message["tool_calls"] = [
            {"id": ids[at], "type": "function", "function": {"name": batch.call_name[at], "arguments": batch.call_arguments[at]}}
            for at in range(start, stop)
        ]
    return message
