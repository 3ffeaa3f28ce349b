"""Source positions for the key paths of a TOML document.

tomli parses TOML but throws away where things were, and findings must point at
"file:line:col". This module scans the text once more with a small hand-written
scanner (one forward pass, no backtracking) and records where each key path first
appears. It assumes tomli has already accepted the document, but it never raises:
on malformed input it simply keeps whatever it managed to index.
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


def _unescape(raw: str) -> str:
    """Decode the escapes of a basic-string key so it matches what tomli returns."""

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


class _Scanner:
    """One forward pass over the text, filling ``positions``.

    Every loop either consumes at least one character or returns, so the scan
    terminates on any input; offsets are turned into (line, column) on record.
    """

    def __init__(self, text: str) -> None:
        self.src = text
        self.pos = 0
        self.positions: dict[KeyPath, Position] = {}
        self._aot_length: dict[KeyPath, int] = {}  # [[array]] path -> elements so far
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self._line = 0  # index into _line_starts of the last recorded offset

    def run(self) -> None:
        src = self.src
        table: KeyPath = ()
        while True:
            self._skip_blank(newlines=True)
            if self.pos >= len(src):
                return
            char = src[self.pos]
            if char == "[":
                table = self._header()
            elif char in _KEY_START:
                self._keyval(table, 0)
            self._skip_line()  # only blanks or a comment may follow; skip garbage too

    def _record(self, path: KeyPath, offset: int) -> None:
        """First appearance wins. Offsets arrive in source order, so a cursor suffices."""
        if path in self.positions:
            return
        starts = self._line_starts
        if offset < starts[self._line]:
            self._line = bisect_right(starts, offset) - 1
        while self._line + 1 < len(starts) and starts[self._line + 1] <= offset:
            self._line += 1
        self.positions[path] = (self._line + 1, offset - starts[self._line] + 1)

    def _header(self) -> KeyPath:
        """Read `[a.b]` or `[[a.b]]`; return the concrete path of the table it opens."""
        start = self.pos
        is_array = self.src.startswith("[[", start)
        self.pos += 2 if is_array else 1
        names = self._key()
        path: KeyPath = ()
        for i, name in enumerate(names):
            path += (name,)
            if is_array and i == len(names) - 1:
                count = self._aot_length.get(path, 0)
                self._aot_length[path] = count + 1
                self._record(path, start)
                path += (count,)
            elif path in self._aot_length:  # headers below an array go to its last element
                path += (self._aot_length[path] - 1,)
            self._record(path, start)
        return path

    def _keyval(self, table: KeyPath, depth: int) -> None:
        """Read `a.b = value`; every prefix of the dotted key sits at its start."""
        start = self.pos
        path = table
        for name in self._key():
            path += (name,)
            self._record(path, start)
        self._skip_blank()
        if self.src.startswith("=", self.pos):
            self.pos += 1
            self._skip_blank()
            self._value(path, depth)

    def _key(self) -> list[str]:
        """Read a (possibly dotted, possibly quoted) key; return its components."""
        names: list[str] = []
        src = self.src
        while True:
            self._skip_blank()
            char = src[self.pos : self.pos + 1]
            if char == '"':
                names.append(_unescape(self._string()))
            elif char == "'":
                names.append(self._string())
            else:
                match = _BARE_KEY.match(src, self.pos)
                if not match:
                    return names
                names.append(match.group())
                self.pos = match.end()
            self._skip_blank()
            if not src.startswith(".", self.pos):
                return names
            self.pos += 1

    def _value(self, path: KeyPath, depth: int) -> None:
        """Skip one value, indexing the keys of any inline tables inside it."""
        if depth > _MAX_DEPTH:
            return
        src, start = self.src, self.pos
        char = src[start : start + 1]
        if char == "{":
            self._inline_table(path, depth)
        elif char == "[":
            self._array(path, depth)
        elif src.startswith(('"""', "'''"), start):
            self._multiline_string()
        elif char in ('"', "'"):
            self._string()
        else:
            match = _SCALAR.match(src, start)
            if match:
                self.pos = match.end()
                if _DATE.fullmatch(match.group()) and _SPACE_TIME.match(src, self.pos):
                    time = _SCALAR.match(src, self.pos + 1)
                    self.pos = time.end() if time else self.pos

    def _inline_table(self, path: KeyPath, depth: int) -> None:
        """`{ k = v, ... }`; TOML 1.1 allows newlines, comments and a trailing comma."""
        src = self.src
        self.pos += 1
        while True:
            self._skip_blank(newlines=True)
            if self.pos >= len(src):
                return
            char = src[self.pos]
            if char == "}":
                self.pos += 1
                return
            if char in _KEY_START:
                self._keyval(path, depth + 1)
            else:  # the comma, or a stray character
                self.pos += 1

    def _array(self, path: KeyPath, depth: int) -> None:
        """`[ v, ... ]`; elements that are tables or arrays are indexed at their bracket."""
        src = self.src
        self.pos += 1
        index = 0
        while True:
            self._skip_blank(newlines=True)
            if self.pos >= len(src):
                return
            char = src[self.pos]
            if char == "]":
                self.pos += 1
                return
            if char == ",":
                self.pos += 1
                continue
            element = path + (index,)
            if char in "{[":
                self._record(element, self.pos)
            before = self.pos
            self._value(element, depth + 1)
            if self.pos == before:  # not a value: step over it
                self.pos += 1
            index += 1

    def _string(self) -> str:
        """Skip a one-line string at pos; return its raw body (escapes untouched)."""
        src = self.src
        quote = src[self.pos]
        start = end = self.pos + 1
        while end < len(src) and src[end] not in (quote, "\n"):
            escaped = quote == '"' and src[end] == "\\" and src[end + 1 : end + 2] not in ("", "\n")
            end += 2 if escaped else 1
        self.pos = end + 1 if src[end : end + 1] == quote else end
        return src[start:end]

    def _multiline_string(self) -> None:
        """Skip `\"\"\"...\"\"\"` or `'''...'''`, with up to two quotes glued to the end."""
        src = self.src
        quote = src[self.pos]
        delimiter = quote * 3
        end = self.pos + 3
        if quote == "'":
            end = src.find(delimiter, end)
        else:
            while end < len(src) and not src.startswith(delimiter, end):
                end += 2 if src[end] == "\\" else 1
        if end < 0 or end >= len(src):
            self.pos = len(src)
            return
        end += 3
        for _ in range(2):
            if src.startswith(quote, end):
                end += 1
        self.pos = end

    def _skip_blank(self, newlines: bool = False) -> None:
        """Skip spaces and tabs; with ``newlines``, also line ends and comments."""
        src, pos = self.src, self.pos
        while pos < len(src):
            char = src[pos]
            if char in " \t\r" or (newlines and char == "\n"):
                pos += 1
            elif newlines and char == "#":
                pos = src.find("\n", pos)
                if pos < 0:
                    pos = len(src)
            else:
                break
        self.pos = pos

    def _skip_line(self) -> None:
        end = self.src.find("\n", self.pos)
        self.pos = len(self.src) if end < 0 else end


class SourceIndex:
    """Where each key path of one TOML document first appears, as 1-based (line, column).

    Columns count code points (a tab is one column); a leading byte-order mark is not
    a column. Integers in a path index arrays of tables and inline tables in arrays.
    """

    __slots__ = ("_positions",)

    def __init__(self, positions: Mapping[KeyPath, Position] | None = None) -> None:
        self._positions: dict[KeyPath, Position] = dict(positions or {})

    @classmethod
    def from_text(cls, text: str) -> SourceIndex:
        """Index ``text``; never raises, so a position lookup can't mask a finding."""
        if text.startswith("\ufeff"):
            text = text[1:]
        scanner = _Scanner(text)
        try:
            scanner.run()
        except Exception:  # pragma: no cover - last resort: keep what was indexed
            pass
        return cls(scanner.positions)

    def position(self, path: KeyPath | str) -> Position | None:
        """Exact position of that key path, or None when it does not appear."""
        return self._positions.get(_as_path(path))

    def locate(self, path: KeyPath | str) -> Position:
        """position(path); else that of the nearest enclosing path present; else (1, 1)."""
        key = _as_path(path)
        for end in range(len(key), 0, -1):
            found = self._positions.get(key[:end])
            if found is not None:
                return found
        return (1, 1)
