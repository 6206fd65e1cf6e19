"""Values a model wrote as text, written as JSON: for the XML dialects.

Qwen3-Coder and GLM bodies carry each argument as bare text between tags; the
called tool's JSON Schema says what it is (a type code, ``codes.T_*``, from
``_tools.param_types``).  A string value is streamed by its body as it
arrives, escaped here (``escape_into``); any other value is held until it
closes and then read here as JSON, or as a Python literal where the type
allows (Qwen3.5's template writes non-JSON values with ``str()``), by the
same ``JsonReader`` the JSON dialect uses, so it comes out in the same
``json.dumps`` form.  Neither function is per character in the envelope's
sense: ``escape_into`` is one pass over a stretch, ``json_value`` one pass
over a closed value.
"""

from .codes import (
    DONE,
    M_ENCODE,
    RUNNING,
    T_ANY,
    T_ARRAY,
    T_BOOLEAN,
    T_INTEGER,
    T_NULLABLE,
    T_NUMBER,
    T_OBJECT,
    T_STRING,
)

# The type codes' names (codes.T_*), for the bodies' invalid_value details.
TYPE_NAMES = ("any", "string", "integer", "number", "boolean", "object", "array", "null")

# json.dumps's escapes (ensure_ascii=False): '"', '\\' and the control characters.
ESCAPES = ['\\u%04x' % code for code in range(32)]
ESCAPES[8] = "\\b"
ESCAPES[9] = "\\t"
ESCAPES[10] = "\\n"
ESCAPES[12] = "\\f"
ESCAPES[13] = "\\r"


def escape_into(out, text, start, stop):
    """Append ``text[start:stop]`` to ``out`` as the inside of a JSON string,
    in ``json.dumps(..., ensure_ascii=False)`` form; runs that need no escape
    are appended as slices."""
    run = start
    i = start
    while i < stop:
        c = text[i]
        if c == '"' or c == "\\" or c < " ":
            if i > run:
                out.append(text[run:i])
            if c == '"':
                out.append('\\"')
            elif c == "\\":
                out.append("\\\\")
            else:
                out.append(ESCAPES[ord(c)])
            run = i + 1
        i += 1
    if stop > run:
        out.append(text[run:stop] if run or stop < len(text) else text)


def is_blank(c):
    return c == " " or c == "\n" or c == "\r" or c == "\t"


def skip_blank(text, i, limit):
    """Where the run of whitespace at ``text[i:limit]`` ends (``limit`` if it
    does not): the envelope and the bodies skip whitespace between tags."""
    while i < limit:
        c = text[i]
        if c == " " or c == "\n" or c == "\r" or c == "\t":
            i += 1
        else:
            break
    return i


def json_value(text, code, reader):
    """The JSON text of a non-string value of type ``code`` written as ``text``,
    or ``None`` when it does not fit the type.

    Whitespace around the value is ignored.  ``null``/``None`` is ``null``
    for every type but a string that does not allow null; a boolean is
    ``true``/``false`` in any case; an integer or a number is a JSON number;
    an object or an array is JSON or a Python literal (never evaluated: read
    by ``reader``), and must be one (a string holding one does not fit);
    ``T_ANY`` takes any JSON value or Python literal.  ``reader`` is the
    caller's ``JsonReader``, reset here.
    """
    kind = code & 15
    start = 0
    stop = len(text)
    while start < stop and is_blank(text[start]):
        start += 1
    while stop > start and is_blank(text[stop - 1]):
        stop -= 1
    if start == stop:
        return None
    c = text[start]
    if stop - start == 4 and (c == "n" or c == "N"):
        word = text[start:stop]
        if word == "null" or word == "None":
            if kind != T_STRING or code & T_NULLABLE:
                return "null"
            return None
    if kind == T_BOOLEAN:
        word = text[start:stop].lower()
        if word == "true" or word == "false":
            return word
        return None
    python = True
    if kind == T_INTEGER or kind == T_NUMBER:
        if not (c == "-" or ("0" <= c and c <= "9")):
            return None
        python = False
    elif kind == T_OBJECT:
        if c != "{":
            return None
    elif kind == T_ARRAY:
        if c != "[":
            return None
    elif kind != T_ANY:
        return None  # T_NULL (but not null) and T_STRING: no JSON reading
    out = []
    reader.reset(M_ENCODE, out, None, False, 0, python)
    end = reader.feed(text, start, stop)
    if end == stop and reader.status == RUNNING:
        # A number at the top level ends at the character after it.
        reader.feed(" ", 0, 1)
    if reader.status != DONE or end < stop:
        return None
    return "".join(out)
