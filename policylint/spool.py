"""A spool: text written now, copied out later in the same order, in bounded memory.

A report whose start depends on its end (Markdown's summary sentence and table come before the
findings; SARIF's run properties list every manifest's decision after the results) writes the
part that grows with the run to a spool as results stream past, then writes its start and
copies the spool after it. Up to :data:`MEMORY_LIMIT` bytes of strings stay in memory; past
that, the whole spool moves to an unnamed temporary file (deleted when closed, or when the
process ends), so a run over 50,000 manifests holds a few MiB however long its report.

The temporary file is UTF-8 with ``surrogatepass`` and no newline translation: what is copied
out is exactly the text written, lone surrogates included (a file name that is not UTF-8), and
the stream it is copied to does its own encoding.
"""

from __future__ import annotations

import io
import sys
from typing import IO, Protocol

#: Bytes of strings (``sys.getsizeof``: a table row with an emoji takes two bytes a character)
#: a spool keeps in memory before it moves to a temporary file. Read when a spool is made:
#: tests lower it.
MEMORY_LIMIT = 256 << 10
#: Characters read from the temporary file at a time when copying out.
_CHUNK = 1 << 16


class Writable(Protocol):
    def write(self, text: str, /) -> int: ...


class Spool(io.TextIOBase):
    """Text kept in order until :meth:`copy_to`. A text stream (``write``, ``writelines``,
    ``flush``...), so a reporter may be handed one as its ``out``; use it as a context manager
    (or :meth:`close` it) so that a report that fails half-way leaves no temporary file behind."""

    def __init__(self, limit: int | None = None) -> None:
        super().__init__()
        self._limit = MEMORY_LIMIT if limit is None else limit
        self._parts: list[str] = []
        self._size = 0
        self._file: IO[str] | None = None

    @property
    def on_disk(self) -> bool:
        """Whether the spool has moved to its temporary file."""
        return self._file is not None

    def writable(self) -> bool:
        return True

    def write(self, text: str, /) -> int:
        if self._file is not None:
            # Gathered into writes of about _CHUNK characters: the file's encoder is called
            # once per chunk, not once per report line (about 2 us of every manifest).
            self._parts.append(text)
            self._size += len(text)
            if self._size >= _CHUNK:
                self._drain()
            return len(text)
        self._parts.append(text)
        self._size += sys.getsizeof(text)
        if self._size > self._limit:
            self._spill()
        return len(text)

    def _spill(self) -> None:
        import tempfile  # imported here: most reports never grow past the limit

        # An unnamed file where the platform allows (deleted on close on every platform).
        self._file = tempfile.TemporaryFile("w+", encoding="utf-8", errors="surrogatepass", newline="")  # noqa: SIM115
        self._drain()

    def _drain(self) -> None:
        """Write the text gathered in memory to the temporary file."""
        assert self._file is not None
        self._file.write("".join(self._parts))
        self._parts = []
        self._size = 0

    def copy_to(self, out: Writable) -> None:
        """Write everything spooled onto ``out``, in order; the spool is then empty."""
        if self._file is None:
            parts, self._parts, self._size = self._parts, [], 0
            for part in parts:
                out.write(part)
            return
        self._drain()
        self._file.seek(0)
        while chunk := self._file.read(_CHUNK):
            out.write(chunk)
        self._file.seek(0)
        self._file.truncate()

    def close(self) -> None:
        self._parts = []
        self._size = 0
        if self._file is not None:
            self._file.close()
            self._file = None
        super().close()
