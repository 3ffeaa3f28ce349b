"""Reading the files a repository controls, with bounds: a manifest, a policy or a config file
must never read forever (a symlink to ``/dev/zero``), block (a FIFO) or fill memory. And
writing where a repository may have put something first: never through a symlink, never
blocked on a FIFO."""

from __future__ import annotations

import errno
import os
import stat
from typing import Any, TextIO


class FileRefused(OSError):
    """A path that is not a regular file, or a file over the size limit; ``strerror`` says which."""

    def __str__(self) -> str:
        return self.strerror or "refused"


def read_bounded(path: str | os.PathLike[str], limit: int, *, cut: bool = False) -> bytes:
    """The file's bytes; :class:`FileRefused` for a device, FIFO or socket, or past ``limit`` bytes
    (with ``cut``, the first ``limit + 1`` bytes instead, for a caller that says so itself).

    Nothing but a regular file is opened (a symlink to one reads as that file); one swapped in
    for it between the two questions is opened without waiting (a FIFO) and refused before any
    read.
    """
    # Asked what it is before it is opened: opening a device can do something (a serial port
    # resets the board on it, a watchdog arms), and a symlink in a repository may point at one.
    status = os.stat(path)
    _refuse_unless_regular(status.st_mode)
    descriptor = os.open(path, os.O_RDONLY | _NONBLOCK | _NOCTTY | _BINARY)
    if _NONBLOCK:
        # Asked again of the file opened, should another have been put in its place since:
        # opened without waiting (a FIFO with no writer opens at once), refused before a read.
        try:
            status = os.fstat(descriptor)
            _refuse_unless_regular(status.st_mode)
        except BaseException:
            os.close(descriptor)
            raise
    # Asking for limit + 1 bytes at once would allocate that much for every file (a MiB for a
    # manifest of a few KiB); the size the file has is asked for instead, and reading goes on
    # only when it gives that much (the file grew, or reports no size, as /proc files do).
    # A descriptor and os.read rather than open(): no buffered file object is built for a
    # read that takes the whole file at once (a few microseconds of every manifest).
    wanted = min(status.st_size, limit) + 1
    try:
        data = _read(descriptor, wanted)
        if len(data) == wanted and wanted <= limit:
            data += _read(descriptor, limit + 1 - wanted)
    finally:
        os.close(descriptor)
    if len(data) > limit and not cut:
        raise FileRefused(0, f"larger than {limit:,} bytes, the limit for this kind of file")
    return data


#: Why a write is refused at a symlink, as the message's end.
SYMLINK_REFUSED = "it is a symlink, and policylint never writes through one: remove it, or give the path it points to"


def open_for_writing(path: str | os.PathLike[str], **text: Any) -> TextIO:
    """``path`` opened as text (``text``: ``open``'s encoding, errors, newline) to be written from
    its start: created, or truncated if it is a regular file.

    The repository under check may have put something at the name first: a symlink there is
    refused, never written through (it could lead out of the repository, or to a device), and a
    FIFO that nothing reads is refused at once rather than waited on. A path through a folder
    that is a symlink is followed as any path is; ``/dev/null`` (a device, not a link) is
    written, and so are the links that name this process's own streams when given as such
    (``/dev/stdout``, ``/dev/fd/N`` of ``-o >(command)``): only the user can type those, no
    repository can put one at another name. :class:`FileRefused` or ``OSError`` otherwise.
    """
    name = os.fspath(path)
    stream = name in ("/dev/stdout", "/dev/stderr") or name.startswith(("/dev/fd/", "/proc/self/fd/"))
    if not stream and os.path.islink(path):  # asked first, for the message (and where O_NOFOLLOW is missing)
        raise FileRefused(errno.ELOOP, SYMLINK_REFUSED)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _NONBLOCK | _NOCTTY | _BINARY | _CLOEXEC
    flags |= 0 if stream else _NOFOLLOW
    try:
        descriptor = os.open(path, flags, 0o666)
    except OSError as exc:
        if not stream and os.path.islink(path):  # put there since the question
            raise FileRefused(errno.ELOOP, SYMLINK_REFUSED) from None
        if exc.errno == errno.ENXIO:  # O_NONBLOCK: a FIFO with no reader
            raise FileRefused(exc.errno, "it is a FIFO that nothing reads") from None
        raise
    try:
        if _NONBLOCK:
            os.set_blocking(descriptor, True)  # the writes themselves wait, as a pipe's reader expects
        return open(descriptor, "w", **text)  # noqa: SIM115
    except BaseException:
        try:
            os.close(descriptor)
        except OSError:
            pass
        raise


_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NOCTTY = getattr(os, "O_NOCTTY", 0)  # a terminal device is refused, never made this process's
_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation


def _refuse_unless_regular(mode: int) -> None:
    if not stat.S_ISREG(mode):
        raise FileRefused(0, _not_regular(mode))


def _not_regular(mode: int) -> str:
    kind = "a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else "a device or socket"
    return f"not a regular file ({kind})"


def not_a_file(path: str | os.PathLike[str]) -> str:
    """Why a path named as a file is none (``os.path.isfile`` said no): "no such file", or
    what it is instead, so a FIFO is not reported as missing."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return "no such file"
    return _not_regular(mode) if not stat.S_ISREG(mode) else "no such file"


def _read(descriptor: int, count: int) -> bytes:
    """Up to ``count`` bytes, fewer only at the end of the file (``os.read`` may stop short)."""
    parts = []
    while count > 0:
        data = os.read(descriptor, count)
        if not data:
            break
        parts.append(data)
        count -= len(data)
    return b"".join(parts)
