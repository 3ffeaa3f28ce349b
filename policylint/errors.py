"""Error types and exit codes.

Errors are raised deep and caught once, in :mod:`policylint.cli`, which turns them into a
one-line message and exit code 2. Manifest problems are not errors: they are findings.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """What the process exit status means (a CI gate reads these)."""

    #: Every manifest passes.
    OK = 0
    #: At least one manifest fails, invalid manifests included.
    FAILED = 1
    #: The tool could not do its job: bad arguments, configuration, policy pack or plugin.
    TOOL_ERROR = 2


class PolicylintError(Exception):
    """A problem that stops the run with exit 2; its text is shown to the user as is."""


class UsageError(PolicylintError):
    """Bad command-line arguments, or a path that does not exist."""


class PackError(PolicylintError):
    """A policy pack that cannot be loaded: bad TOML, unknown key, bad condition."""


class ConfigError(PolicylintError):
    """Configuration that cannot be used."""


class PluginError(PolicylintError):
    """A plugin that fails to load, raises, or returns malformed data."""


#: What a call into a plugin's code is guarded against: its bugs, and ``sys.exit()``, which
#: left alone would end the run with the plugin's exit code (0 for a bare one: a passing gate
#: with no report). Each is a :class:`PluginError` worded by :func:`what_it_raised`.
PLUGIN_FAILURES = (Exception, SystemExit)


def what_it_raised(exc: BaseException) -> str:
    """How a plugin's failure reads in a message: ``ValueError: boom``, or ``sys.exit(0) was
    called`` for an exit (see :data:`PLUGIN_FAILURES`)."""
    if isinstance(exc, SystemExit):
        return "sys.exit() was called" if exc.code is None else f"sys.exit({exc.code!r}) was called"
    return f"{type(exc).__name__}: {exc}"


#: Control characters a user's file may smuggle into a message (a key like "a\nb", a terminal
#: escape), shown escaped: one message stays one line, and the terminal stays untouched.
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))} | {0x0A: "\\n", 0x09: "\\t"}
#: Characters that reorder or break a line without looking like control characters: bidi
#: embeddings, overrides and isolates (U+202E can make a message read backwards) and the
#: Unicode line and paragraph separators.
_CONTROLS |= {c: f"\\u{c:04x}" for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A),
                                          0x2028, 0x2029)}


_CONTROLS_BUT_NEWLINES = {c: e for c, e in _CONTROLS.items() if c not in (0x0A, 0x0D)}


def printable(text: str, keep_newlines: bool = False) -> str:
    """``text`` with control characters escaped, for terminals and line-based logs.

    ``keep_newlines`` is for formats that render a line break themselves (Markdown's ``<br>``).
    """
    return text.translate(_CONTROLS_BUT_NEWLINES if keep_newlines else _CONTROLS)


def located(path: str, line: int, column: int, message: str) -> str:
    """The ``path:line:col: message`` shape that editors and CI logs parse."""
    return f"{path}:{line}:{column}: {message}"
