"""Source positions for the key paths of a TOML document.

tomli parses TOML but throws away where things were, and findings must point at
"file:line:col". This module scans the text once more (one forward pass) and records
where each key path first appears. It assumes tomli has already accepted the document,
but it never raises: on malformed input it simply keeps whatever it managed to index.

The scan is lazy, because a manifest with findings needs one to four positions: a
lookup runs it only until the path asked for has been seen (to the end for a path
that is absent), and offsets become (line, column) only for the paths asked for. A
path's first appearance is found at the step of the scan where it first shows up, so
the answer is the one a whole scan gives (``_run`` is that whole scan).

The scan is made of compiled regular expressions that consume whole tokens at C speed
(blanks and comments, the four kinds of strings, keys, scalars) and a little Python
around them; its cost is mostly per match, so each match takes as much as it can:

- ``_REGION_RE`` takes a run of whole lines that are `[table]` headers of bare names,
  `key = value` statements confined to their line with a bare key, comments or
  blank lines: most of a manifest, often all of it, in one match. A region is kept as
  its span; lookups search it with ``str.find`` for the names they want.
- ``_STATEMENT`` takes one whole top-level statement per match: a header of bare or
  simply quoted names, or `key = value` whose value holds nothing to index (a value
  confined to its line, a complete multi-line string, an array holding no table or
  array).
- ``_Scanner`` reads whatever else starts a statement (keys with escapes, inline
  tables, arrays of tables, garbage): arrays and inline tables with one loop over a
  stack of open brackets, each turn one ``_ARRAY_ITEM`` or ``_TABLE_ITEM`` match.

All read any text exactly as a character-by-character scanner with these rules
would: a key is bare or quoted names joined by dots; after `=` comes a value; the
rest of a top-level line after a statement is skipped; in arrays and inline tables,
newlines, comments and commas are skipped, a stray character is stepped over (in an
array it counts as an element); an unclosed string ends at its line end, an unclosed
multi-line string at the end of the text.
"""

from __future__ import annotations

import re
import sys
from typing import Any, NamedTuple, Protocol, cast
from bisect import bisect_right
from collections.abc import Iterator, Mapping
from functools import lru_cache

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

class _AlwaysMatches(Protocol):
    """A pattern that matches wherever it is tried: it may match the empty string, or it reads
    text the TOML parser already accepted. Typed so, ``match`` never gives None (no check at
    run time: these run once per character class in the scan)."""

    def match(self, string: str, pos: int = ..., endpos: int = ...) -> re.Match[str]: ...


def _always(pattern: str) -> _AlwaysMatches:
    return cast(_AlwaysMatches, re.compile(pattern))


# Spaces, tabs and CRs: the blanks allowed inside a line.
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
_STATEMENT_RE = (
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
# A region: whole lines that the statement-at-a-time reading takes as headers of bare
# names, or as one-line `key = value` statements with a bare key, or skips (comments,
# blank lines); each of these lines ends with a line end, and headers and keys start
# their line. A value is one-line when it is no multi-line string, no inline table
# and no array unless a flat one closed on its line (``_PLAIN_VALUE_RE`` reads these
# within their line too). Nothing in a region hides a line, and a line starting with
# "[" is a header, so a region is read in one match (the scan's cost is mostly per
# match) and kept as its span; lookups search it with ``str.find`` for the names
# they want (``_first_in_region``). In arrays, each repetition is closed by a
# look-ahead, as in ``_FLAT_ARRAY_RE``, so that a failure takes linear time.
#
# Every repetition is possessive (``*+``, ``++``, ``?+``): what follows one never starts
# with what it repeats, so giving some back could never lead to a match, and the reading
# is the one the backtracking repetitions gave (tests/test_positions_region.py holds them
# to it); but the engine keeps no state to go back to, and reads a region in two thirds of
# the time: 2.6 us instead of 3.8 for the 520 characters of a manifest of
# benchmarks/corpus.py, most of it the repetition of lines.
#: Python 3.11's possessive repetition marker; Python 3.10 has none and reads the same
#: regions with backtracking repetitions, only slower.
_P = "+" if sys.version_info >= (3, 11) else ""
_BARE_POSSESSIVE = _BARE + _P  # [A-Za-z0-9_-]++
_ONE_LINE_FLAT_ARRAY_RE = (
    rf"""\[(?:[ \t\r,]+{_P}(?![ \t\r,])|"(?!"")[^"\\\n]*{_P}"|'(?!'')[^'\n]*{_P}'|"""
    + rf"{_SCALAR_RE}{_P}(?![A-Za-z0-9_+\-.:]))*{_P}\]"  # a scalar: [A-Za-z0-9_+\-.:]++
)
_ONE_LINE_VALUE_RE = r"""(?:[^\[{ \t\r"'\n]|"(?!"")|'(?!'')|(?=\n)|""" + _ONE_LINE_FLAT_ARRAY_RE + ")"
# (Empty lines first: the order costs or saves a tenth of the time, not the reading.)
_REGION_RE = (
    rf"(?<![^\n])(?:\n|{_BARE_POSSESSIVE}[ \t\r]*{_P}=[ \t\r]*{_P}{_ONE_LINE_VALUE_RE}[^\n]*{_P}\n"
    rf"|\[{_BARE_POSSESSIVE}(?:\.{_BARE_POSSESSIVE})*{_P}\][^\n]*{_P}\n|[ \t\r]*{_P}(?:#[^\n]*{_P})?{_P}\n)+{_P}"
)
# One step of the scan while no [[array]] has been seen (headers then depend on the
# arrays' lengths): group 1, a region; else ``_STATEMENT_RE``, its groups 1 further on.
_STEP = _always(rf"({_REGION_RE})|{_STATEMENT_RE}")
# The same without regions, its groups numbered as in ``_STEP`` (group 1 never matches);
# only a text with an [[array]] table needs it, so it is compiled then (3 to 4 ms).
_STATEMENT: _AlwaysMatches | None = None


def _statement() -> _AlwaysMatches:
    global _STATEMENT
    _STATEMENT = _always(rf"((?!))|{_STATEMENT_RE}")
    return _STATEMENT


# ``match.lastindex`` of each kind of step, in both.
_REGION = 1
_KEY, _DOTTED_KEY, _TABLE, _DOTTED_TABLE, _ARRAY_TABLE, _GARBAGE_LINE, _BRACKET_VALUE = range(2, 9)
_BARE_NAME = re.compile(rf"{_BARE}\Z")
_NEWLINE = re.compile(r"\n")
# In a region, a line that is a statement (group 1, its key) or a header (group 2, its names).
_REGION_KEY_OR_HEADER = re.compile(rf"^(?:({_BARE})[ \t\r]*=|\[({_BARE}(?:\.{_BARE})*)\])", re.MULTILINE)


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
    if type(path) is tuple:
        return path
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


def _run(src: str, positions: dict[KeyPath, int]) -> None:
    """The whole scan, raising what it meets: every key path -> the offset of its first appearance.

    Lookups read the same scan lazily (and swallow what it raises); this reads it all,
    regions included, for the fuzzing harness and the tests, which check one against the other.
    """
    regions: list[_Region] = []
    for _ in _steps(src, positions, regions):
        _record_regions(src, regions, positions)
    _record_regions(src, regions, positions)


def _record_regions(src: str, regions: list[_Region], positions: dict[KeyPath, int]) -> None:
    """Record every path the ``regions`` name, in order (and empty the list)."""
    record = positions.setdefault
    for start, end, table in regions:
        for line in _REGION_KEY_OR_HEADER.finditer(src, start, end):
            if line[1] is not None:  # key = value
                record(table + (line[1],), line.start())
            else:  # [a.b]: every prefix sits at its start
                table = ()
                for name in line[2].split("."):
                    table += (name,)
                    record(table, line.start())
    regions.clear()


def _table_after(src: str, start: int, end: int, table: KeyPath) -> KeyPath:
    """The table after a region: its last header's, `[a.b]` at the start of a line, if any."""
    last = src.rfind("\n[", start, end)
    last = last + 1 if last >= 0 else start if src.startswith("[", start) else -1
    return table if last < 0 else tuple(src[last + 1 : src.index("]", last)].split("."))


def _steps(
    src: str, offsets: dict[KeyPath, int], regions: list[_Region], pos: int = 0, table: KeyPath = ()
) -> Iterator[bool]:
    """The scan, one step at a time, so that a lookup reads only as far as it needs to.

    A step records in ``offsets`` the paths its statement names (the first appearance
    wins), or appends a region to ``regions``. Offsets only grow as the scan goes on,
    so a path seen after some steps is at the offset a whole scan would give.

    After a statement the rest of its (last) line is skipped: only blanks or a
    comment may follow it, and garbage is skipped too.
    """
    end = len(src)
    record = offsets.setdefault
    aot: dict[KeyPath, int] = {}  # [[array]] path -> elements so far
    scanner: _Scanner | None = None  # made when first needed
    pos = _SKIP.match(src, pos).end()
    while True:
        if aot:  # no more regions: `[a.b]` may now mean the last element of an array a
            match = (_STATEMENT or _statement()).match(src, pos)
        else:
            match = _STEP.match(src, pos)
        kind = cast(int, match.lastindex)
        if kind == _REGION:
            start, pos = match.span()
            regions.append((start, pos, table))
            if pos == end:
                return
            table = _table_after(src, start, pos, table)
            pos = _SKIP.match(src, pos).end()
            yield True
            continue
        if kind == _KEY:  # key = value, when no region takes it (a multi-line value, say)
            record(table + (match[_KEY],), match.start())
        elif kind == _TABLE:  # [table], when no region takes it
            table = _header(offsets, aot, [match[_TABLE]], match.start(), False)
        elif kind == _DOTTED_KEY:  # dotted.key = value: every prefix sits at its start
            start = match.start()
            path = table
            for name in _names(match[_DOTTED_KEY]):
                path += (name,)
                record(path, start)
        elif kind == _DOTTED_TABLE:  # [table.sub]
            table = _header(offsets, aot, _names(match[_DOTTED_TABLE]), match.start(), False)
        elif kind == _ARRAY_TABLE:  # [[array]]
            table = _header(offsets, aot, _names(match[_ARRAY_TABLE]), match.start(), True)
        if kind < _BRACKET_VALUE:  # a statement read to its end, or a line of garbage
            pos = match.end()
            yield True
            continue
        pos = match.end()
        if scanner is None:
            if pos >= end:
                return
            scanner = _Scanner(src, offsets)
        if kind == _BRACKET_VALUE:  # key = [ or key = {
            start = match.start()
            path = table
            for name in _names(match[_BRACKET_VALUE]):
                path += (name,)
                record(path, start)
            pos = scanner.brackets(pos, path, 0)
        elif pos >= end:
            return
        elif src[pos] == "[":
            start, is_array = pos, src.startswith("[[", pos)
            pos, names = scanner.key(pos + (2 if is_array else 1))
            table = _header(offsets, aot, names, start, is_array)
        else:  # a key: `_STATEMENT` takes every other line
            pos = scanner.keyval(pos, table)
        yield True
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


# A region's span, and the table its first lines are in.
_Region = tuple[int, int, KeyPath]


class _Plan(NamedTuple):
    """What a search of regions for one path looks for (see ``_first_in_region``)."""

    key: str  # "\n" and the last name: the start of a statement naming it
    table: KeyPath  # the path's table: where such a statement names the path
    table_header: str  # "\n[table]", or "" when that can't name the path
    path_header: str  # "\n[a.b": a header naming the path or a table in it, or ""


@lru_cache(maxsize=1024)
def _plan(path: KeyPath) -> _Plan | None:
    """None when no region can name ``path``: its last part is no bare name."""
    name = path[-1]
    if not isinstance(name, str) or not _BARE_NAME.match(name):
        return None
    table = path[:-1]
    if not all(isinstance(part, str) and _BARE_NAME.match(part) for part in table):
        return _Plan("\n" + name, table, "", "")
    names = ".".join(cast(tuple[str, ...], path))
    return _Plan("\n" + name, table, f"\n[{names[: -len(name) - 1]}]" if table else "", "\n[" + names)


def _key_in(lines: str, key: str, start: int, end: int) -> int:
    """In ``lines[start:end]`` of a region, the offset of the statement ``key`` starts, or -1."""
    while True:
        found = lines.find(key, start, end)
        if found < 0:
            return found
        after = found + len(key)
        while lines[after] in " \t\r":
            after += 1
        if lines[after] == "=":  # else the key goes on (a longer name), or it is no key
            return found
        start = found + 1


def _first_in_region(lines: str, region: _Region, plan: _Plan) -> int:
    """The offset where the path of ``plan`` first appears in ``region``, or -1.

    ``lines`` is "\n" and the text: every line of a region, the first too, follows a
    line end there, at the offset of the line's start in the text.
    """
    start, end, table = region
    key, path_table, table_header, path_header = plan
    if path_table == table:  # the statements before the region's first header
        header = lines.find("\n[", start, end)
        found = _key_in(lines, key, start, end if header < 0 else header)
        if found >= 0:
            return found
    if not path_header:
        return -1
    while True:
        # The first header naming the path or a table in it; the first naming the path's table.
        named = lines.find(path_header, start, end)
        while named >= 0 and lines[named + len(path_header)] not in ".]":
            named = lines.find(path_header, named + 1, end)
        header = lines.find(table_header, start, end if named < 0 else named) if table_header else -1
        if header < 0:
            return named
        start = lines.find("\n", header + 1)  # the statements of that table, up to the next header
        following = lines.find("\n[", start, end)
        found = _key_in(lines, key, start, end if following < 0 else following)
        if found >= 0 or following < 0:
            return found
        start = following


# After this many conversions of offsets into lines, a table of line starts is cheaper.
_LINES_COUNTED = 8


class SourceIndex:
    """Where each key path of one TOML document first appears, as 1-based (line, column).

    Columns count code points (a tab is one column); a leading byte-order mark is not
    a column. Integers in a path index arrays of tables and inline tables in arrays.

    From text, the index is lazy: a lookup scans only as far as the path's first
    appearance (to the end for a path that is absent), and searches the regions (most
    of a manifest) for the names it wants instead of recording every key. A manifest
    with findings needs one to four positions: a whole index would be mostly unused.
    """

    __slots__ = ("_counted", "_line_starts", "_lines", "_offsets", "_positions", "_regions", "_steps", "_text")

    def __init__(self, positions: Mapping[KeyPath, Position] | None = None) -> None:
        self._positions: dict[KeyPath, Position] = dict(positions or {})
        self._offsets: dict[KeyPath, int] = {}  # recorded by the scan so far
        self._regions: list[_Region] = []  # found by the scan so far
        self._steps: Iterator[bool] | None = None  # the rest of the scan; None once done
        self._text = ""
        self._lines = ""  # "\n" + text, made for the first search of a region
        self._line_starts: list[int] | None = None
        self._counted = 0

    @classmethod
    def from_text(cls, text: str) -> SourceIndex:
        """An index of ``text``, read as lookups need it; never raises, nor do lookups."""
        index = cls.__new__(cls)  # what __init__ does, without its arguments: this is per manifest
        index._positions = {}
        index._offsets = {}
        index._regions = []
        index._steps = None
        index._text = text = text.removeprefix("\ufeff")
        index._lines = ""
        index._line_starts = None
        index._counted = 0
        try:
            # A position is needed (else no index is made), and the first step is a region
            # that often reaches the end: take it here, and make the scan only if not.
            start = _SKIP.match(text).end()
            first = _STEP.match(text, start)
            if first.lastindex != _REGION:
                index._steps = _steps(text, index._offsets, index._regions, start)
                return index
            end = first.end()
            index._regions.append((start, end, ()))
            if end < len(text):
                index._steps = _steps(text, index._offsets, index._regions, end, _table_after(text, start, end, ()))
        except Exception:  # pragma: no cover - last resort: the whole scan, lazily
            index._regions.clear()
            index._steps = _steps(text, index._offsets, index._regions)
        return index

    def _offset(self, path: KeyPath) -> int:
        """Where ``path`` first appears, or -1: scan until it has been seen, or to the end."""
        offsets = self._offsets
        regions = self._regions
        plan = _plan(path)
        searched = 0  # regions already searched
        while True:
            found = offsets.get(path, -1)
            if plan is not None:
                while searched < len(regions):
                    lines = self._lines or self._join_lines()
                    in_region = _first_in_region(lines, regions[searched], plan)
                    if in_region >= 0:
                        # Offsets grow as the scan goes on: whichever was seen first is the earlier.
                        return in_region if found < 0 else min(found, in_region)
                    searched += 1
            if found >= 0 or self._steps is None:
                return found
            try:
                if not next(self._steps, False):
                    self._steps = None
            except Exception:  # pragma: no cover - last resort: keep what was indexed
                self._steps = None

    def _join_lines(self) -> str:
        self._lines = "\n" + self._text
        return self._lines

    def _line_column(self, offset: int) -> Position:
        """(line, column) of an offset: newlines counted for the first few, then a table."""
        text = self._text
        if self._counted < _LINES_COUNTED:
            self._counted += 1
            return (text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset))
        starts = self._line_starts
        if starts is None:
            starts = self._line_starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]
        line = bisect_right(starts, offset)
        return (line, offset - starts[line - 1] + 1)

    def _lookup(self, path: KeyPath) -> Position | None:
        found = self._positions.get(path)
        if found is None and path and self._text:
            offset = self._offset(path)
            if offset >= 0:
                found = self._positions[path] = self._line_column(offset)
        return found

    def position(self, path: KeyPath | str) -> Position | None:
        """Exact position of that key path, or None when it does not appear."""
        return self._lookup(_as_path(path))

    def locate(self, path: KeyPath | str) -> Position:
        """position(path); else that of the nearest enclosing path present; else (1, 1)."""
        key = _as_path(path)
        found = self._lookup(key)
        end = len(key) - 1
        while found is None and end > 0:
            found = self._lookup(key[:end])
            end -= 1
        return found or (1, 1)
