"""Reading the files a repository controls, with bounds: a manifest, a policy or a config file
must never read forever (a symlink to ``/dev/zero``), block (a FIFO) or fill memory."""

from __future__ import annotations

import os
import stat


class FileRefused(OSError):
    """A path that is not a regular file, or a file over the size limit; ``strerror`` says which."""

    def __str__(self) -> str:
        return self.strerror or "refused"


def read_bounded(path: str | os.PathLike[str], limit: int, *, cut: bool = False) -> bytes:
    """The file's bytes; :class:`FileRefused` for a device, FIFO or socket, or past ``limit`` bytes
    (with ``cut``, the first ``limit + 1`` bytes instead, for a caller that says so itself).

    The type is checked before opening (opening a FIFO would wait for a writer), following
    symlinks, so a symlink to a regular file reads as that file.
    """
    status = os.stat(path)
    mode = status.st_mode
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else "a device or socket"
        raise FileRefused(0, f"not a regular file ({kind})")
    # Asking for limit + 1 bytes at once would allocate that much for every file (a MiB for a
    # manifest of a few KiB); the size the file has is asked for instead, and reading goes on
    # only when it gives that much (the file grew, or reports no size, as /proc files do).
    wanted = min(status.st_size, limit) + 1
    with open(path, "rb") as stream:
        data = stream.read(wanted)
        if len(data) == wanted and wanted <= limit:
            data += stream.read(limit + 1 - wanted)
    if len(data) > limit and not cut:
        raise FileRefused(0, f"larger than {limit:,} bytes, the limit for this kind of file")
    return data
