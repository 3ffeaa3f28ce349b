"""Reading TOML text: every way tomli can refuse it, as one error with a position.

Besides ``TOMLDecodeError``, tomli lets through ``RecursionError`` (arrays or tables nested a few
hundred deep) and ``ValueError`` (an integer beyond Python's 4,300-digit conversion limit).
A user's file must never turn those into a crash.
"""

from __future__ import annotations

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
        raise TOMLError("nested too deeply") from None
    except ValueError as exc:  # int("9" * 5000): Python's limit on converting long integers
        raise TOMLError(f"a value cannot be read: {exc}") from None
