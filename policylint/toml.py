"""Reading TOML text: every way tomli can refuse it, as one error with a position.

Besides ``TOMLDecodeError``, tomli lets through ``RecursionError`` (arrays or tables nested a few
hundred deep) and ``ValueError`` (an integer beyond Python's 4,300-digit conversion limit).
A user's file must never turn those into a crash.

tomli is the parser that decides. rtoml (the optional ``fast`` extra, a Rust parser about four
times faster) may read a document instead, only where its result is provably tomli's: version
0.14 on Python 3.11+, once a process has read :data:`FAST_AFTER` documents (a one-manifest
pre-commit run never imports it), never for text where it differs (:func:`_tomli_only`), and
every document it refuses goes to tomli, so what is accepted and every error stay tomli's.
``tests/test_toml_parsers.py`` is the proof; docs/performance.md records the decision.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from typing import Any

import tomli


class TOMLError(Exception):
    """The text is not TOML policylint can read; ``line`` and ``column`` are 1-based."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


def loads(text: str) -> dict[str, Any]:
    """``tomli.loads``, with its refusals as :class:`TOMLError` (or rtoml's identical result)."""
    global _calls, _fast
    if _calls < FAST_AFTER:
        _calls += 1
        if _calls == FAST_AFTER:
            _fast = _find_fast()
    elif _fast is not None and not _tomli_only(text):
        try:
            return _fast(text)  # type: ignore[no-any-return]
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:  # noqa: BLE001 - a refusal (or a Rust panic, a BaseException): tomli decides
            pass
    try:
        return tomli.loads(text)
    except tomli.TOMLDecodeError as exc:
        raise TOMLError(getattr(exc, "msg", str(exc)), getattr(exc, "lineno", 1), getattr(exc, "colno", 1)) from None
    except RecursionError:
        raise TOMLError("nested too deeply", *_position(text, _deep_bracket(text))) from None
    except ValueError:  # int("9" * 5000): Python's limit on converting long integers
        # Python's own text advises raising an interpreter limit: no fix for a manifest's author.
        match = _LONG_NUMBER.search(text)
        where = _position(text, match.start() if match else None)
        raise TOMLError("an integer with more than 4,300 digits cannot be read", *where) from None


#: Documents read with tomli alone before rtoml is looked for. A one-manifest check reads about
#: 35 (the built-in pack's 28 files, configuration, the manifest) and must start as fast as
#: without rtoml (importing it costs about 1 ms); a large run pays tomli for these few only.
FAST_AFTER = 128
#: The rtoml releases whose differences from tomli were measured (tests/test_toml_parsers.py).
FAST_VERSIONS = ("0.14.",)
_calls = 0
_fast: Callable[[str], Any] | None = None


def _find_fast() -> Callable[[str], Any] | None:
    """rtoml's parser if a verified release is installed, Python is 3.11+ (3.10 keeps tomli) and
    ``POLICYLINT_TOML`` does not say ``tomli``; else ``None``."""
    if sys.version_info < (3, 11) or os.environ.get("POLICYLINT_TOML", "").strip().lower() == "tomli":
        return None
    try:
        from rtoml import _rtoml  # the extension: rtoml.loads only adds a type check to it
    except ImportError:
        return None
    if not str(getattr(_rtoml, "__version__", "")).startswith(FAST_VERSIONS):
        return None  # another release may read some text differently: not proven, not used
    return _rtoml.deserialize  # type: ignore[no-any-return]


def fast_parser() -> str | None:
    """``"rtoml 0.14.0"`` when a large run reads manifests with rtoml, else ``None``: for
    showing the parser in force (it imports rtoml, about 1 ms)."""
    if _find_fast() is None:
        return None
    from rtoml import _rtoml

    return f"rtoml {_rtoml.__version__}"


#: Text rtoml would read differently from tomli:
#: - ``\r``: tomli turns CRLF inside multi-line strings into LF, rtoml keeps it;
#: - a byte-order mark: tomli refuses one, rtoml skips it at the start;
#: - an offset datetime (a time's last ``:MM`` or ``:SS``, a fraction, then ``Z``, ``+`` or
#:   ``-``): rtoml's tzinfo is its own class, which compares equal but is neither
#:   ``datetime.timezone`` (``repr``) nor picklable (``--jobs`` results);
#: - see :func:`_late_super_table` for the last one.
#: A false alert (a URL's ``:80-`` in a string, a comment) only costs tomli's speed. The
#: patterns start with a literal, which the regex engine searches for fast: the whole gate takes
#: about 3 us on a manifest (one pattern with an alternation took 10 for the first three).
_OFFSET_TIME = r":[0-9][0-9](?:\.[0-9]+)?[Zz+-]"
#: Every table header: TOML starts one at the start of a line, after blanks (LF-ended lines:
#: text with a CR goes to tomli). Lines of a multi-line string may match too: false alerts.
#: After a newline (a literal first, fast to search), and on the first line.
_HEADER = r"\n[ \t]*\[\[?([^\]\n]*)"
_FIRST_HEADER = r"[ \t]*\[\[?([^\]\n]*)"
#: Compiled on first use: 0.25 ms that a one-manifest check, which never uses rtoml, skips.
_gate: tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]] | None = None


def _tomli_only(text: str) -> bool:
    """Whether ``text`` must be read by tomli because rtoml could read it differently."""
    global _gate
    if "\r" in text or "\ufeff" in text:
        return True
    if _gate is None:
        _gate = re.compile(_OFFSET_TIME), re.compile(_HEADER), re.compile(_FIRST_HEADER)
    offset_time, header, first_header = _gate
    if offset_time.search(text) is not None:
        return True
    headers = header.findall(text)
    first = first_header.match(text)
    if first is not None:
        headers.insert(0, first.group(1))
    return _late_super_table(headers)


#: :func:`_late_super_table`'s answers by the paths joined with newlines (which no path holds):
#: the manifests of a repository mostly share their headers (the benchmark's 10,000 have 8 lists
#: of them). The call costs 0.2 us instead of 1.2 (the gate 3.1 instead of 4.2; in a 1-worker
#: check of those 10,000, about 5.5 instead of 8). Bounded: the first 512 lists, short ones only.
_LATE_BY_HEADERS: dict[str, bool] = {}
_LATE_REMEMBERED = 512
_LATE_KEY_CHARS = 1_000


def _late_super_table(headers: list[str]) -> bool:
    """Whether a header names a table some earlier header made implicitly (``[a.b]`` ...
    ``[a]``), or has a quote or a blank inside its brackets.

    rtoml moves such a table to the end of its parent (tomli keeps it where it first appeared,
    and reports depend on that order), and below ``[[b.a]]`` ... ``[b]`` it accepts
    ``a.x.y = 1`` into the array's last table, which tomli refuses. Quoted keys (which could
    spell a bare one another way) and blanks around dots are rare enough to leave to tomli
    rather than to normalise here.
    """
    joined = "\n".join(headers)  # one list per string; [] and [""] share "", and their answer
    known = _LATE_BY_HEADERS.get(joined)
    if known is not None:
        return known
    late = _work_out_late_super_table(headers, joined)
    if len(_LATE_BY_HEADERS) < _LATE_REMEMBERED and len(joined) <= _LATE_KEY_CHARS:
        _LATE_BY_HEADERS[joined] = late
    return late


def _work_out_late_super_table(headers: list[str], joined: str) -> bool:
    """:func:`_late_super_table`'s answer, without the memo (``joined``: the paths, one a line)."""
    if '"' in joined or "'" in joined or " " in joined or "\t" in joined:
        return True
    if "." not in joined:
        return False
    implicit: set[str] = set()
    for path in headers:
        if path in implicit:
            return True
        parent, dot, _ = path.rpartition(".")
        while dot:
            implicit.add(parent)
            parent, dot, _ = parent.rpartition(".")
    return False


# tomli gives no position for these two refusals: find the culprit, for the finding's line.
_LONG_NUMBER = re.compile(r"[0-9][0-9_]{4299,}|0x[0-9A-Fa-f_]{3000,}")
_NESTING_LIMIT = 256


def _deep_bracket(text: str) -> int | None:
    """The offset of the first bracket nested deeper than anyone writes by hand."""
    depth = 0
    for offset, char in enumerate(text):
        if char in "[{":
            depth += 1
            if depth > _NESTING_LIMIT:
                return offset
        elif char in "]}":
            depth = max(depth - 1, 0)
    return None


def _position(text: str, offset: int | None) -> tuple[int, int]:
    if offset is None:
        return 1, 1
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1
