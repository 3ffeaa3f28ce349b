"""Source positions for the key paths of a TOML document.

tomli parses TOML but throws away where things were, and findings must point at
"file:line:col". This module scans the text once more (one forward pass) and records
where each key path first appears. It assumes tomli has already accepted the document,
but it never raises: on malformed input it simply keeps whatever it managed to index.

The scan is made of compiled regular expressions that consume whole tokens at C speed
(blanks and comments, the four kinds of strings, keys, scalars) and a little Python
around them:

- ``_STATEMENT`` takes one whole top-level statement per match: a header of bare or
  simply quoted names, or `key = value` whose value holds nothing to index (a value
  confined to its line, a complete multi-line string, an array holding no table or
  array). That is nearly every line of a manifest.
- ``_Scanner`` reads whatever else starts a statement (keys with escapes, inline
  tables, arrays of tables, garbage): arrays and inline tables with one loop over a
  stack of open brackets, each turn one ``_ARRAY_ITEM`` or ``_TABLE_ITEM`` match.

Both read any text exactly as a character-by-character scanner with these rules
would: a key is bare or quoted names joined by dots; after `=` comes a value; the
rest of a top-level line after a statement is skipped; in arrays and inline tables,
newlines, comments and commas are skipped, a stray character is stepped over (in an
array it counts as an element); an unclosed string ends at its line end, an unclosed
multi-line string at the end of the text. Offsets are kept, and turned into
(line, column) only for the paths asked for.
"""

from __future__ import annotations

import re
from typing import Any, Protocol, cast
from bisect import bisect_right
from collections.abc import Mapping

KeyPath = tuple[str | int, ...]
Position = tuple[int, int]

_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|x([0-9A-Fa-f]{2})|(.))", re.DOTALL)
_SIMPLE_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", "e": "\x1b", '"': '"', "\\": "\\"}
# Far deeper than any manifest; stops pathological input from exhausting the stack.
_MAX_DEPTH = 100

# ----------------------------------------------------------------------------- tokens
#
# Each expression either matches on its first (greedy) try whatever follows -- it
# ends in optional parts -- or, where a failure makes the engine backtrack, its
# alternatives start with different characters and every repetition is closed by a
# look-ahead, so that there is exactly one reading: no shorter or different reading
# can match instead, and a failure takes linear time.

# Spaces, tabs and CRs: the blanks allowed inside a line.
class _AlwaysMatches(Protocol):
    """A pattern that matches wherever it is tried: it may match the empty string, or it reads
    text the TOML parser already accepted. Typed so, ``match`` never gives None (no check at
    run time: these run once per character class in the scan)."""

    def match(self, string: str, pos: int = ..., endpos: int = ...) -> re.Match[str]: ...


def _always(pattern: str) -> _AlwaysMatches:
    return cast(_AlwaysMatches, re.compile(pattern))


_BLANKS = _always(r"[ \t\r]*")
# Blanks, line ends and comments (a comment runs to, not through, its line end).
_SKIP_RE = r"[ \t\r\n]*(?:#[^\n]*[ \t\r\n]*)*"
_SKIP = _always(_SKIP_RE)

_BARE = r"[A-Za-z0-9_-]+"
_BARE_KEY = re.compile(_BARE)
# One-line strings from the opening quote: the raw body in group 1, then the closing
# quote if there is one before the line ends. In a basic string a backslash takes the
# next character with it, unless that is a line end or there is none.
_BASIC = _always(r'"([^"\\\n]*(?:\\[^\n]?[^"\\\n]*)*)"?')
_LITERAL = _always(r"'([^'\n]*)'?")
# Complete multi-line strings, with up to two quotes glued to the closing delimiter. A
# basic one ends at the first `"""` not taken by a backslash (which takes any one
# character, line ends included); a literal one at the first `'''`.
_ML_BASIC_RE = r'"""[^"\\]*(?:(?:\\[\s\S]|"(?!""))[^"\\]*)*"""(?:""?)?'
_ML_LITERAL_RE = r"'''[\s\S]*?'''(?:''?)?"
# A scalar or string value, to its end; the first alternative that matches is the
# reading. A multi-line string never closed runs to the end of the text. A scalar is
# made of everything a number, boolean, date or time can be made of; a date followed
# by " HH:" is a date-time written with a space instead of "T".
_SCALAR_RE = r"[A-Za-z0-9_+\-.:]+"
_VALUE_RE = (
    _ML_BASIC_RE
    + r'|"""[\s\S]*|"[^"\\\n]*(?:\\[^\n]?[^"\\\n]*)*"?|'
    + _ML_LITERAL_RE
    + r"|'''[\s\S]*|'[^'\n]*'?"
    + rf"|[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}} (?=\d{{2}}:){_SCALAR_RE}"
    + rf"|{_SCALAR_RE}"
)
_VALUE = _always(_VALUE_RE)

# In an array, after blanks, line ends, comments and commas: group 1, the closing
# bracket; 2, an opening one; 3, a value (read). None: the end, or a stray character.
_ARRAY_SKIP_RE = r"[ \t\r\n,]*(?:#[^\n]*[ \t\r\n,]*)*"
_ARRAY_SKIP = _always(_ARRAY_SKIP_RE)
_ARRAY_ITEM = _always(_ARRAY_SKIP_RE + rf"(?:(\])|([\[{{])|(?:{_VALUE_RE})())?")
# In an inline table, after blanks, line ends, comments and stray characters (commas
# among them): group 1, the closing brace; 2, a bare key, then 3, a dot after it, or
# 4, `=`, then 5, an opening bracket, or 6, a value (read); 7, a quoted key. None: the end.
_TABLE_SKIP_RE = r"""[^}A-Za-z0-9_\-"'#]*(?:#[^\n]*[^}A-Za-z0-9_\-"'#]*)*"""
_TABLE_ITEM = _always(
    _TABLE_SKIP_RE
    + rf"""(?:(\}})|({_BARE})[ \t\r]*(?:(\.)|(=)[ \t\r]*(?:([\[{{])|(?:{_VALUE_RE})())?)?|(["']))?"""
)

# A key of bare and simply quoted names (no escapes), dotted. The look-ahead refuses a
# shorter reading (a bare name cut short, or names left over), so that a key going on
# in any other way (a name with escapes, say) does not match at all.
_NAME_RE = rf"""{_BARE}|"[^"\\\n]*"|'[^'\n]*'"""
_NAMES_RE = rf"(?:{_NAME_RE})(?:[ \t\r]*\.[ \t\r]*(?:{_NAME_RE}))*(?![ \t\r]*\.|[A-Za-z0-9_-])"
_NAME = re.compile(rf"""({_BARE})|"([^"\\\n]*)"|'([^'\n]*)'""")
_NOT_NAME = re.compile(r"[ \t\r]+")
# An array holding no table, no array and no multi-line string, and closed: nothing in
# it is indexed.
_FLAT_ARRAY_RE = (
    r"\[(?:"
    r"[ \t\r\n,]+(?![ \t\r\n,])"
    r"|#[^\n]*(?![^\n])"
    r'|"(?!"")[^"\\\n]*(?:\\[^\n][^"\\\n]*)*"'
    r"|'(?!'')[^'\n]*'"
    rf"|{_SCALAR_RE}(?![A-Za-z0-9_+\-.:])"
    r")*\]"
)
# After a key: `= value` where the value holds nothing to index -- one confined to its
# line (skipping the rest of the line skips it), a complete multi-line string, a flat
# array -- or no `=` at all.
_PLAIN_VALUE_RE = (
    r"[ \t\r]*(?:=[ \t\r]*(?:(?![\[{ \t\r]|" + '"""' + r"|''')|"
    + _ML_BASIC_RE
    + "|"
    + _ML_LITERAL_RE
    + "|"
    + _FLAT_ARRAY_RE
    + r")|(?![.= \t\rA-Za-z0-9_-]))"
)
# One top-level statement: a match starts where its statement does. Group 1 or 2: the
# bare name, or the names (dotted or quoted), of a key with a plain value or none; 3 or 4: a `[table]`
# header of a bare name or of names; 5: an `[[array]]` header; 6: a line starting
# with neither a key nor `[`. With any of these, the rest of the (last) line and the
# blank lines and comments after it. Group 7: a key whose value is an array or an
# inline table, up to its bracket. Else the empty group 8 matches: the end of the
# text, or a statement for ``_Scanner``.
_STATEMENT = re.compile(
    rf"(?:({_BARE}){_PLAIN_VALUE_RE}"
    rf"|(?=[\"']|{_BARE}[ \t\r]*\.)({_NAMES_RE}){_PLAIN_VALUE_RE}"
    rf"|\[[ \t\r]*({_BARE})(?![ \t\r]*\.|[A-Za-z0-9_-])"
    rf"|\[[ \t\r]*({_NAMES_RE})"
    rf"|\[\[[ \t\r]*({_NAMES_RE})"
    r"""|([^\[A-Za-z0-9_\-"']))[^\n]*"""
    + _SKIP_RE
    + rf"|({_NAMES_RE})[ \t\r]*=[ \t\r]*(?=[\[{{])"
    + r"|()"
)
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


def _names(key: str) -> list[str]:
    """The names of a key that ``_NAMES_RE`` matched."""
    if '"' in key or "'" in key:
        return [bare or basic or literal for bare, basic, literal in _NAME.findall(key)]
    if " " in key or "\t" in key or "\r" in key:
        key = _NOT_NAME.sub("", key)
    return key.split(".")


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

    After a statement the rest of its (last) line is skipped: only blanks or a
    comment may follow it, and garbage is skipped too.
    """
    end = len(src)
    finditer = _STATEMENT.finditer
    record = positions.setdefault
    aot: dict[KeyPath, int] = {}  # [[array]] path -> elements so far
    scanner: _Scanner | None = None  # made when first needed
    table: KeyPath = ()
    pos = _SKIP.match(src).end()
    while True:
        for match in finditer(src, pos):
            kind = match.lastindex
            if kind == 1:  # key = value
                record(table + (match[1],), match.start())
            elif kind == 3:  # [table]
                if aot:
                    table = _header(positions, aot, [match[3]], match.start(), False)
                else:
                    table = (match[3],)
                    record(table, match.start())
            elif kind == 2:  # dotted.key = value: every prefix sits at its start
                start = match.start()
                path = table
                for name in _names(match[2]):
                    path += (name,)
                    record(path, start)
            elif kind == 4:  # [table.sub]
                table = _header(positions, aot, _names(match[4]), match.start(), False)
            elif kind == 5:  # [[array]]
                table = _header(positions, aot, _names(match[5]), match.start(), True)
            elif kind != 6:  # not a line of garbage: a statement to read further
                break
        else:  # pragma: no cover - the empty alternative matches at the end
            return
        pos = match.end()
        if scanner is None:
            if pos >= end:
                return
            scanner = _Scanner(src, positions)
        if kind == 7:  # key = [ or key = {
            start = match.start()
            path = table
            for name in _names(match[7]):
                path += (name,)
                record(path, start)
            pos = scanner.brackets(pos, path, 0)
        elif pos >= end:
            return
        elif src[pos] == "[":
            start, is_array = pos, src.startswith("[[", pos)
            pos, names = scanner.key(pos + (2 if is_array else 1))
            table = _header(positions, aot, names, start, is_array)
        else:  # a key: `_STATEMENT` takes every other line
            pos = scanner.keyval(pos, table)
        pos = src.find("\n", pos)
        if pos < 0:
            return
        pos = _SKIP.match(src, pos).end()


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

    Methods take the offset to read at and return the offset after what they read.
    Arrays and inline tables are read by one loop over a stack of open brackets; every
    turn of it consumes at least one character or closes a bracket, so the scan
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
                bare = _BARE_KEY.match(src, pos)
                if not bare:
                    return pos, names
                match = bare
                names.append(match.group())
            pos = blanks(src, match.end()).end()
            if not src.startswith(".", pos):
                return pos, names
            pos += 1

    def key_eq(self, pos: int, table: KeyPath) -> tuple[int, KeyPath | None]:
        """Read `a.b =`, recording every prefix of the key at its start.

        Return the offset after the blanks that follow, and the key's full path -- or
        None when no `=` follows, when there is no value to read.
        """
        src = self.src
        record = self.positions.setdefault
        start = pos
        pos, names = self.key(pos)
        path = table
        for name in names:
            path += (name,)
            record(path, start)
        pos = _BLANKS.match(src, pos).end()
        if not src.startswith("=", pos):
            return pos, None
        return _BLANKS.match(src, pos + 1).end(), path

    def keyval(self, pos: int, table: KeyPath) -> int:
        """Read a top-level `a.b = value`; every prefix of the key sits at its start."""
        pos, path = self.key_eq(pos, table)
        if path is None:
            return pos
        if self.src.startswith(("{", "["), pos):
            return self.brackets(pos, path, 0)
        match = _VALUE.match(self.src, pos)
        return match.end() if match else pos

    def brackets(self, pos: int, path: KeyPath, depth: int) -> int:
        """Read the array or inline table at ``pos`` (the value of ``path``) to its end.

        Inline tables hold `k = v` pairs (TOML 1.1 allows newlines, comments and a
        trailing comma in them); array elements that are tables or arrays are indexed
        at their bracket. A frame of the stack is [is_array, path, depth, next index];
        the values in a frame are one level deeper than the frame.
        """
        src = self.src
        end = len(src)
        record = self.positions.setdefault
        array_item = _ARRAY_ITEM.match
        table_item = _TABLE_ITEM.match
        value = _VALUE.match
        # [is_array, path, depth, next index], mutated in place (a list: cheaper than an object).
        frame: list[Any] = [src[pos] == "[", path, depth, 0]
        stack = [frame]
        pos += 1
        while True:
            is_array, path, depth, index = frame
            depth += 1  # the depth of the values in this frame
            if is_array:
                if depth > _MAX_DEPTH:  # too deep to read a value: step over each
                    pos = _ARRAY_SKIP.match(src, pos).end()
                    if pos >= end:
                        return pos
                    char = src[pos]
                    pos += 1
                    if char != "]":
                        if char in "{[":
                            record(path + (index,), pos - 1)
                        frame[3] = index + 1
                        continue
                else:
                    match = array_item(src, pos)
                    kind = match.lastindex
                    pos = match.end()
                    if kind == 2:  # a table or an array: open it
                        element = path + (index,)
                        record(element, pos - 1)
                        frame[3] = index + 1
                        frame = [src[pos - 1] == "[", element, depth, 0]
                        stack.append(frame)
                        continue
                    if kind != 1:  # a value (already read), or a stray character
                        if kind is None:
                            if pos >= end:
                                return pos
                            pos += 1
                        frame[3] = index + 1
                        continue
            else:
                match = table_item(src, pos)
                kind = match.lastindex
                if kind is None:  # the end: the skip stops only at `}`, a key or the end
                    return match.end()
                if kind > 1:  # a key
                    if kind == 6 and depth <= _MAX_DEPTH:  # k = scalar or string, all read
                        record(path + (match[2],), match.start(2))
                        pos = match.end()
                        continue
                    if kind == 5 and depth <= _MAX_DEPTH:  # k = { or k = [
                        element = path + (match[2],)
                        record(element, match.start(2))
                        pos = match.end()
                        frame = [src[pos - 1] == "[", element, depth, 0]
                        stack.append(frame)
                        continue
                    # A dotted or quoted key, no value, or too deep: read it in steps.
                    pos, read = self.key_eq(match.start(kind if kind == 7 else 2), path)
                    if read is None or depth > _MAX_DEPTH:
                        continue
                    element = read
                    char = src[pos : pos + 1]
                    if char == "{" or char == "[":
                        frame = [char == "[", element, depth, 0]
                        stack.append(frame)
                        pos += 1
                    else:
                        found = value(src, pos)
                        if found:
                            pos = found.end()
                    continue
                pos = match.end()
            # kind 1: the closing bracket
            stack.pop()
            if not stack:
                return pos
            frame = stack[-1]


class SourceIndex:
    """Where each key path of one TOML document first appears, as 1-based (line, column).

    Columns count code points (a tab is one column); a leading byte-order mark is not
    a column. Integers in a path index arrays of tables and inline tables in arrays.
    """

    __slots__ = ("_line_starts", "_offsets", "_positions", "_text")

    def __init__(self, positions: Mapping[KeyPath, Position] | None = None) -> None:
        self._positions: dict[KeyPath, Position] = dict(positions or {})
        self._offsets: dict[KeyPath, int] = {}  # from_text: resolved on demand
        self._text = ""
        self._line_starts: list[int] | None = None

    @classmethod
    def from_text(cls, text: str) -> SourceIndex:
        """Index ``text``; never raises, so a position lookup can't mask a finding."""
        text = text.removeprefix("\ufeff")
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
