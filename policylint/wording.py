"""Phrasings every report shares, so one manifest reads the same in every format."""

from __future__ import annotations


def plural(count: int, noun: str) -> str:
    """``1 error``, ``2 errors``, ``1,000 manifests``; ``noun`` is ``singular`` or ``singular/plural``."""
    singular, _, irregular = noun.partition("/")
    return f"{count:,} {singular if count == 1 else irregular or singular + 's'}"
