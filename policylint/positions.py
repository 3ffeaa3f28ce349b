"""Source positions for the key paths of a TOML document.

tomli parses TOML but throws away where things were, and findings must point at
"file:line:col". This module scans the text once more with a small scanner (one
forward pass) and records where each key path first appears. It assumes tomli has
already accepted the document, but it never raises: on malformed input it simply
keeps whatever it managed to index.

How the scan is fast: compiled regular expressions consume whole tokens (blanks and
comments, strings of the four kinds, bare keys, scalars) at C speed, and a fast path
(``_STATEMENT``) takes one whole top-level statement per match -- a `[header]` of bare
names, or `key = value` whose value is confined to its line, is a multi-line string,
or is an array holding no table or array. Anything else (quoted or oddly dotted keys,
inline tables, arrays holding tables or arrays, garbage) is handed to ``_Scanner``, a
recursive descent over the same tokens, for that one statement. Both give the same
result as a plain character-by-character reading: see the comments at each
expression for why every alternative parses in exactly one way. Positions are kept
as offsets and turned into (line, column) only when asked for.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping

KeyPath = tuple[str | int, ...]
Position = tuple[int, int]

_KEY_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-\"'")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
# Everything a number, boolean, date or time can be made of.
_SCALAR = re.compile(r"[A-Za-z0-9_+\-.:]+")
# A date followed by " HH:" is a date-time written with a space instead of "T".
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SPACE_TIME = re.compile(r" \d{2}:")
_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|x([0-9A-Fa-f]{2})|(.))", re.DOTALL)
_SIMPLE_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", "e": "\x1b", '"': '"', "\\": "\\"}
# Far deeper than any manifest; stops pathological input from exhausting the stack.
_MAX_DEPTH = 100

# ----------------------------------------------------------------------------- tokens
#
# Every expression below either always matches on its first (greedy) try, or its
# alternatives start with disjoint characters and each repetition is closed by a
# look-ahead, so it parses its input in exactly one way and fails in linear time.

# Spaces, tabs and CRs: the blanks allowed inside a line.
_BLANKS = re.compile(r"[ \t\r]*")
# Blanks, line ends and comments (a comment runs to, not through, its line end).
_SKIP_RE = r"[ \t\r\n]*(?:#[^\n]*[ \t\r\n]*)*"
_SKIP = re.compile(_SKIP_RE)
# One-line strings from the opening quote: the raw body in group 1, the closing quote
# if there is one before the line ends. In a basic string a backslash takes the next
# character with it unless that is a line end (or there is none).
_BASIC = re.compile(r'"([^"\\\n]*(?:\\[^\n]?[^"\\\n]*)*)"?')
_LITERAL = re.compile(r"'([^'\n]*)'?")
# Complete multi-line strings, with up to two quotes glued to the closing delimiter. A
# basic one ends at the first `\"\"\"` not taken by a backslash (which takes any one
# character, line ends included); a literal one at the first `'''`. No match means
# the string is never closed.
_ML_BASIC_RE = r'"""[^"\\]*(?:(?:\\[\s\S]|"(?!""))[^"\\]*)*"""(?:""?)?'
_ML_LITERAL_RE = r"'''[\s\S]*?'''(?:''?)?"
_ML_BASIC = re.compile(_ML_BASIC_RE)
_ML_LITERAL = re.compile(_ML_LITERAL_RE)

_BARE = r"[A-Za-z0-9_-]+"
# Dotted bare names; the look-ahead refuses a shorter reading (a name cut short, or a
# dot left over), so a key that goes on with a quoted name does not match at all.
_BARE_NAMES = rf"{_BARE}(?:[ \t\r]*\.[ \t\r]*{_BARE})*(?![ \t\r]*\.|[A-Za-z0-9_-])"
# An array that holds no table, no array and no multi-line string, and is closed: blanks,
# commas, comments, complete one-line strings and scalars. Nothing in it is indexed.
_FLAT_ARRAY_RE = (
    r"\[(?:"
    r"[ \t\r\n,]+(?![ \t\r\n,])"
    r"|#[^\n]*(?![^\n])"
    r'|"(?!"")[^"\\\n]*(?:\\[^\n][^"\\\n]*)*"'
    r"|'(?!'')[^'\n]*'"
    r"|[A-Za-z0-9_+\-.:]+(?![A-Za-z0-9_+\-.:])"
    r")*\]"
)
# One top-level statement and the blank lines and comments after it, so that a match
# starts where its statement does. Group 1 or 2: the bare or dotted key of `key = value`
# whose value leaves nothing to index -- a value confined to its line (skipping the rest
# of the line skips it), a complete multi-line string or a flat array (then the rest of
# the line it ends on is skipped) -- or of a key with no `=` at all. Group 3 or 4: the
# bare names of a `[table]` or `[[array]]` header. Group 5: a line that starts with
# neither a key nor `[`, skipped. When none applies (or at the end), the empty group 6
# matches where the statement starts, and ``_Scanner`` reads it.
_KEYVAL_RE = (
    r"[ \t\r]*(?:=[ \t\r]*(?:(?![\[{ \t\r]|" + '"""' + r"|''')|"
    + _ML_BASIC_RE
    + "|"
    + _ML_LITERAL_RE
    + "|"
    + _FLAT_ARRAY_RE
    + r")|(?![.= \t\rA-Za-z0-9_-]))"
)
_STATEMENT = re.compile(
    rf"(?:({_BARE}){_KEYVAL_RE}"
    rf"|({_BARE}(?:[ \t\r]*\.[ \t\r]*{_BARE})+){_KEYVAL_RE}"
    rf"|\[[ \t\r]*({_BARE_NAMES})"
    rf"|\[\[[ \t\r]*({_BARE_NAMES})"
    r"""|([^\[A-Za-z0-9_\-"']))[^\n]*"""
    + _SKIP_RE
    + r"|()"
)
_NOT_NAME = re.compile(r"[ \t\r]+")
_NEWLINE = re.compile(r"\n")


def _unescape(raw: str) -> str:
    """Decode the escapes of a basic-string key so it matches what tomli returns."""
    if "\\" not in raw:
        return raw

    def replace(match: re.Match[str]) -> str:
        digits = match.group(1) or match.group(2) or match.group(3)
        if digits:
            code = int(digits, 16)
            return chr(code) if code <= 0x10FFFF else match.group(0)
        return _SIMPLE_ESCAPES.get(match.group(4), match.group(0))

    return _ESCAPE.sub(replace, raw)


def _as_path(path: KeyPath | str) -> KeyPath:
    """Accept "a.b.c" as a shorthand for ("a", "b", "c")."""
    if isinstance(path, str):
        return tuple(path.split(".")) if path else ()
    return tuple(path)


def _scan(src: str) -> dict[KeyPath, int]:
    """Key path -> offset of its first appearance in ``src``."""
    positions: dict[KeyPath, int] = {}
    try:
        _run(src, positions)
    except Exception:  # pragma: no cover - last resort: keep what was indexed
        pass
    return positions


def _run(src: str, positions: dict[KeyPath, int]) -> None:
    """Top level: one ``_STATEMENT`` match per statement; the scanner for the rest.

    After each statement the rest of its (last) line is skipped: only blanks or a
    comment may follow it, and garbage is skipped too.
    """
    end = len(src)
    finditer = _STATEMENT.finditer
    record = positions.setdefault
    aot: dict[KeyPath, int] = {}  # [[array]] path -> elements so far
    scanner: _Scanner | None = None
    table: KeyPath = ()
    pos = _SKIP.match(src).end()
    while True:
        for match in finditer(src, pos):
            kind = match.lastindex
            if kind == 1:  # key = value
                record(table + (match[1],), match.start())
            elif kind == 3:  # [table]
                names = match[3]
                if "." in names or aot:
                    table = _header(positions, aot, _names(names), match.start(), False)
                else:
                    table = (names,)
                    record(table, match.start())
            elif kind == 2:  # dotted.key = value: every prefix sits at its start
                start = match.start()
                path = table
                for name in _names(match[2]):
                    path += (name,)
                    record(path, start)
            elif kind == 4:  # [[array]]
                table = _header(positions, aot, _names(match[4]), match.start(), True)
            elif kind == 6:  # the end, or a statement for the scanner
                break
        else:  # pragma: no cover - the empty alternative matches at the end
            return
        pos = match.end()
        if pos >= end:
            return
        if scanner is None:
            scanner = _Scanner(src, positions)
        if src[pos] == "[":
            start, is_array = pos, src.startswith("[[", pos)
            pos, names = scanner.key(pos + (2 if is_array else 1))
            table = _header(positions, aot, names, start, is_array)
        else:  # a key: `_STATEMENT` takes every other line
            pos = scanner.keyval(pos, table, 0)
        pos = src.find("\n", pos)
        if pos < 0:
            return
        pos = _SKIP.match(src, pos).end()


def _names(dotted: str) -> list[str]:
    """The names of a run of dotted bare names, blanks around the dots dropped."""
    if " " in dotted or "\t" in dotted or "\r" in dotted:
        dotted = _NOT_NAME.sub("", dotted)
    return dotted.split(".")


def _header(
    positions: dict[KeyPath, int], aot: dict[KeyPath, int], names: list[str], start: int, is_array: bool
) -> KeyPath:
    """Record the header `[a.b]` or `[[a.b]]` at ``start``; return its table's path."""
    record = positions.setdefault
    path: KeyPath = ()
    last = len(names) - 1
    for i, name in enumerate(names):
        path += (name,)
        if is_array and i == last:
            count = aot.get(path, 0)
            aot[path] = count + 1
            record(path, start)
            path += (count,)
        elif path in aot:  # headers below an array go to its last element
            path += (aot[path] - 1,)
        record(path, start)
    return path


class _Scanner:
    """Reads the statements the fast path leaves, filling ``positions`` with offsets.

    Methods take the offset to read at and return the offset after what they read;
    every loop either consumes at least one character or returns, so the scan
    terminates on any input.
    """

    def __init__(self, src: str, positions: dict[KeyPath, int]) -> None:
        self.src = src
        self.positions = positions

    def key(self, pos: int) -> tuple[int, list[str]]:
        """Read a (possibly dotted, possibly quoted) key; return the end and its names."""
        names: list[str] = []
        src = self.src
        blanks = _BLANKS.match
        while True:
            pos = blanks(src, pos).end()
            char = src[pos : pos + 1]
            if char == '"':
                match = _BASIC.match(src, pos)
                names.append(_unescape(match.group(1)))
            elif char == "'":
                match = _LITERAL.match(src, pos)
                names.append(match.group(1))
            else:
                match = _BARE_KEY.match(src, pos)
                if not match:
                    return pos, names
                names.append(match.group())
            pos = blanks(src, match.end()).end()
            if not src.startswith(".", pos):
                return pos, names
            pos += 1

    def keyval(self, pos: int, table: KeyPath, depth: int) -> int:
        """Read `a.b = value`; every prefix of the dotted key sits at its start."""
        start = pos
        record = self.positions.setdefault
        pos, names = self.key(pos)
        path = table
        for name in names:
            path += (name,)
            record(path, start)
        src = self.src
        pos = _BLANKS.match(src, pos).end()
        if src.startswith("=", pos):
            pos = self.value(_BLANKS.match(src, pos + 1).end(), path, depth)
        return pos

    def value(self, pos: int, path: KeyPath, depth: int) -> int:
        """Skip one value, indexing the keys of any inline tables inside it."""
        if depth > _MAX_DEPTH:
            return pos
        src = self.src
        char = src[pos : pos + 1]
        if char == "{":
            return self.inline_table(pos, path, depth)
        if char == "[":
            return self.array(pos, path, depth)
        if char == '"':
            if src.startswith('"""', pos):
                match = _ML_BASIC.match(src, pos)
                return match.end() if match else len(src)
            return _BASIC.match(src, pos).end()
        if char == "'":
            if src.startswith("'''", pos):
                match = _ML_LITERAL.match(src, pos)
                return match.end() if match else len(src)
            return _LITERAL.match(src, pos).end()
        match = _SCALAR.match(src, pos)
        if match:
            pos = match.end()
            if _DATE.fullmatch(match.group()) and _SPACE_TIME.match(src, pos):
                time = _SCALAR.match(src, pos + 1)
                if time:
                    pos = time.end()
        return pos

    def inline_table(self, pos: int, path: KeyPath, depth: int) -> int:
        """`{ k = v, ... }`; TOML 1.1 allows newlines, comments and a trailing comma."""
        src = self.src
        skip = _SKIP.match
        pos += 1
        while True:
            pos = skip(src, pos).end()
            char = src[pos : pos + 1]
            if not char:
                return pos
            if char == "}":
                return pos + 1
            if char in _KEY_START:
                pos = self.keyval(pos, path, depth + 1)
            else:  # the comma, or a stray character
                pos += 1

    def array(self, pos: int, path: KeyPath, depth: int) -> int:
        """`[ v, ... ]`; elements that are tables or arrays are indexed at their bracket."""
        src = self.src
        skip = _SKIP.match
        record = self.positions.setdefault
        pos += 1
        index = 0
        while True:
            pos = skip(src, pos).end()
            char = src[pos : pos + 1]
            if not char:
                return pos
            if char == "]":
                return pos + 1
            if char == ",":
                pos += 1
                continue
            element = path + (index,)
            if char in "{[":
                record(element, pos)
            after = self.value(pos, element, depth + 1)
            pos = after if after != pos else pos + 1  # not a value: step over it
            index += 1


class SourceIndex:
    """Where each key path of one TOML document first appears, as 1-based (line, column).

    Columns count code points (a tab is one column); a leading byte-order mark is not
    a column. Integers in a path index arrays of tables and inline tables in arrays.
    """

    __slots__ = ("_positions", "_offsets", "_text", "_line_starts")

    def __init__(self, positions: Mapping[KeyPath, Position] | None = None) -> None:
        self._positions: dict[KeyPath, Position] = dict(positions or {})
        self._offsets: dict[KeyPath, int] = {}  # from_text: resolved on demand
        self._text = ""
        self._line_starts: list[int] | None = None

    @classmethod
    def from_text(cls, text: str) -> SourceIndex:
        """Index ``text``; never raises, so a position lookup can't mask a finding."""
        if text.startswith("\ufeff"):
            text = text[1:]
        index = cls.__new__(cls)
        index._positions = {}
        index._offsets = _scan(text)
        index._text = text
        index._line_starts = None
        return index

    def _lookup(self, key: KeyPath) -> Position | None:
        found = self._positions.get(key)
        if found is None:
            offset = self._offsets.get(key)
            if offset is not None:
                starts = self._line_starts
                if starts is None:
                    starts = self._line_starts = [0] + [m.end() for m in _NEWLINE.finditer(self._text)]
                line = bisect_right(starts, offset)
                found = self._positions[key] = (line, offset - starts[line - 1] + 1)
        return found

    def position(self, path: KeyPath | str) -> Position | None:
        """Exact position of that key path, or None when it does not appear."""
        return self._lookup(_as_path(path))

    def locate(self, path: KeyPath | str) -> Position:
        """position(path); else that of the nearest enclosing path present; else (1, 1)."""
        key = _as_path(path)
        for end in range(len(key), 0, -1):
            found = self._lookup(key[:end])
            if found is not None:
                return found
        return (1, 1)
