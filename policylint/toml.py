"""Reading TOML text: every way tomli can refuse it, as one error with a position.

Besides ``TOMLDecodeError``, tomli lets through ``RecursionError`` (arrays or tables nested a few
hundred deep) and ``ValueError`` (an integer beyond Python's 4,300-digit conversion limit).
A user's file must never turn those into a crash.
"""

from __future__ import annotations

import re
from typing import Any

import tomli


class TOMLError(Exception):
    """The text is not TOML policylint can read; ``line`` and ``column`` are 1-based."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


def loads(text: str) -> dict[str, Any]:
    """``tomli.loads``, with its refusals as :class:`TOMLError`."""
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
