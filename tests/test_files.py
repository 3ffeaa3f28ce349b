"""read_bounded: whole files up to the limit, the limit enforced whatever size the file reports."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from policylint.files import FileRefused, read_bounded


def test_a_file_under_the_limit_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_bytes(b"x" * 1000)
    assert read_bounded(path, 1000) == b"x" * 1000


def test_one_byte_over_the_limit_is_refused_or_cut(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_bytes(b"x" * 1001)
    with pytest.raises(FileRefused, match="larger than 1,000 bytes"):
        read_bounded(path, 1000)
    assert read_bounded(path, 1000, cut=True) == b"x" * 1001


def test_a_file_that_grew_after_its_size_was_read_is_still_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The size from ``stat`` is only a hint: a file reported smaller than it is (it grew, or it
    is a /proc file that reports 0) is read on, up to the limit and no further."""
    path = tmp_path / "m.toml"
    path.write_bytes(b"y" * 5000)
    asked = []

    def shrunk(real: Any) -> Any:
        def ask(target: object, *args: object, **kwargs: object) -> os.stat_result:
            asked.append(target)
            status = real(target, *args, **kwargs)
            return os.stat_result((status.st_mode, *status[1:6], 10, *status[7:]))
        return ask

    monkeypatch.setattr(os, "stat", shrunk(os.stat))
    monkeypatch.setattr(os, "fstat", shrunk(os.fstat))  # asked again of the file opened (POSIX)
    assert read_bounded(path, 100_000) == b"y" * 5000
    assert read_bounded(path, 3000, cut=True) == b"y" * 3001
    with pytest.raises(FileRefused):
        read_bounded(path, 3000)
    assert asked  # the shrunk size was the one read


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc files report a size of 0 on Linux only")
def test_a_file_that_reports_no_size_is_read_whole() -> None:
    assert read_bounded("/proc/self/cmdline", 1 << 20) == Path("/proc/self/cmdline").read_bytes()


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileRefused, match="not a regular file"):
        read_bounded(tmp_path, 1000)


@pytest.mark.parametrize("size", [0, 6, 7, 100, 1_000])
def test_short_reads_still_give_the_whole_file_and_its_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            size: int) -> None:
    """``os.read`` may return fewer bytes than asked (it does on some file systems): the file
    is read to its end all the same, and the limit still holds."""
    path = tmp_path / "mlproject.toml"
    path.write_bytes(bytes(range(256)) * (size // 256) + bytes(range(size % 256)))
    read = os.read
    monkeypatch.setattr(os, "read", lambda descriptor, count: read(descriptor, min(count, 7)))
    assert read_bounded(path, 1_000) == path.read_bytes()
    assert read_bounded(path, 99, cut=True) == path.read_bytes()[:100]
    if size > 99:
        with pytest.raises(FileRefused):
            read_bounded(path, 99)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("swapped", [False, True], ids=["fifo", "fifo-swapped-in-after-stat"])
def test_a_fifo_is_refused_at_once_even_with_a_writer_waiting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              swapped: bool) -> None:
    """Refused before a byte is read, a writer with data ready changing nothing: by ``stat``
    before opening, or (a FIFO put in the file's place after that) opened without blocking
    and refused by ``fstat`` of what was opened."""
    fifo = tmp_path / "m.toml"
    os.mkfifo(fifo)
    if swapped:
        if not hasattr(os, "O_NONBLOCK"):
            pytest.skip("without O_NONBLOCK only the stat before opening protects")
        regular = tmp_path / "regular.toml"
        regular.write_bytes(b"")
        real_stat = os.stat
        monkeypatch.setattr(os, "stat", lambda path, *a, **k: real_stat(regular if Path(path) == fifo else path, *a, **k))
    writer = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # holds the FIFO open, with data in it
    try:
        os.write(writer, b'schema_version = 1\n')
        with pytest.raises(FileRefused, match="not a regular file \\(a FIFO\\)"):
            read_bounded(fifo, 1000)
        assert os.read(writer, 100) == b"schema_version = 1\n"  # still there: nothing was read
    finally:
        os.close(writer)


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="no /dev/null here")
def test_a_device_is_refused_without_being_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening a device can act (a serial port resets its board, a watchdog arms): a manifest
    that is a symlink to one is refused by what ``stat`` says, and never opened."""
    link = tmp_path / "mlproject.toml"
    link.symlink_to("/dev/null")
    opened: list[object] = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda path, *a, **k: opened.append(path) or real_open(path, *a, **k))
    with pytest.raises(FileRefused, match=r"not a regular file \(a device or socket\)"):
        read_bounded(link, 1000)
    assert opened == []
    regular = tmp_path / "regular.toml"
    regular.write_bytes(b"x = 1\n")
    assert read_bounded(regular, 1000) == b"x = 1\n"
    assert opened == [regular]  # the spy sees the opens that do happen


def test_a_folder_is_refused_and_no_descriptor_is_left_open(tmp_path: Path) -> None:
    before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    for _ in range(50):
        with pytest.raises(FileRefused, match="a folder"):
            read_bounded(tmp_path, 1000)
    if before is not None:
        assert len(os.listdir("/proc/self/fd")) == before


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no Unix sockets here")
def test_a_socket_is_refused_as_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A socket cannot be opened: the refusal still says what it is, not the open's error."""
    monkeypatch.chdir(tmp_path)  # a relative name: a socket's path has a length limit
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind("m.toml")
        with pytest.raises(FileRefused, match=r"not a regular file \(a device or socket\)"):
            read_bounded("m.toml", 1000)
