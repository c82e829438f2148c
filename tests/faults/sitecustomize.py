"""Fault injection for crash tests, loaded into a real `ccsync` process via PYTHONPATH.

CCSYNC_TEST_FAULT picks the fault; only operations on files inside $CCSYNC_HOME count:
- `kill:N`   SIGKILL this process at the N-th file operation (open for writing, write,
             fsync, replace, unlink)
- `enospc`   every write fails with ENOSPC;  `eio` every fsync fails with EIO;
  `enospc:N`, `eio:N`: the same from the N-th file operation on (to hit one step of a save)
- `sleep:S`  sleep S seconds at the first write (to hold the writer lock)
SQLite does its own I/O, out of reach of these patches: each statement that writes to a
database inside $CCSYNC_HOME counts as one operation too (killed before it runs, or failing as
SQLite fails on a full disk, "database or disk is full", or a failed fsync, "disk I/O error").
Writes the number of operations seen to $CCSYNC_TEST_FAULT_LOG at exit (to find the last N).
"""

from __future__ import annotations

import atexit
import errno
import os
import signal
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed import FileDescriptorLike
    from typing_extensions import Buffer

FsPath = str | bytes | os.PathLike[str] | os.PathLike[bytes]

_spec = os.environ.get("CCSYNC_TEST_FAULT", "")
_home = os.path.realpath(os.environ.get("CCSYNC_HOME", "/nonexistent"))
_fds: set[int] = set()
_count = 0
_slept = False


def _inside(path: FsPath) -> bool:
    try:
        return os.path.realpath(os.fsdecode(path)).startswith(_home + os.sep)
    except (TypeError, ValueError):
        return False


def _step() -> None:
    global _count
    _count += 1
    kind, _, arg = _spec.partition(":")
    if kind == "kill" and _count == int(arg):
        os.kill(os.getpid(), signal.SIGKILL)


def _failing() -> bool:
    """Whether the disk fault is on at this operation (always, or from the N-th one)."""
    _, _, arg = _spec.partition(":")
    return not arg or _count >= int(arg)


if _spec:
    kind, _, arg = _spec.partition(":")
    real_open, real_write, real_fsync, real_replace, real_unlink = os.open, os.write, os.fsync, os.replace, os.unlink

    def fake_open(path: FsPath, flags: int, mode: int = 0o777, *, dir_fd: int | None = None) -> int:
        writing = flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
        if writing and _inside(path):
            _step()
        fd = real_open(path, flags, mode, dir_fd=dir_fd)
        if _inside(path):
            _fds.add(fd)
        return fd

    def fake_write(fd: int, data: Buffer) -> int:
        global _slept
        if fd in _fds:
            _step()
            if kind == "enospc" and _failing():
                raise OSError(errno.ENOSPC, "No space left on device")
            if kind == "sleep" and not _slept:
                _slept = True
                time.sleep(float(arg))
        return real_write(fd, data)

    def fake_fsync(fd: FileDescriptorLike) -> None:
        if fd in _fds:
            _step()
            if kind == "eio" and _failing():
                raise OSError(errno.EIO, "Input/output error")
        return real_fsync(fd)

    def fake_replace(src: FsPath, dst: FsPath, **kw: Any) -> None:
        if _inside(dst):
            _step()
        return real_replace(src, dst, **kw)

    def fake_unlink(path: FsPath, **kw: Any) -> None:
        if _inside(path):
            _step()
        return real_unlink(path, **kw)

    os.open, os.write, os.fsync, os.replace, os.unlink = fake_open, fake_write, fake_fsync, fake_replace, fake_unlink

    import sqlite3

    _WRITES = ("INSERT", "UPDATE", "DELETE", "CREATE", "DROP")

    class _FaultyConnection(sqlite3.Connection):
        def _fault(self, statement: str) -> None:
            if not statement.lstrip().upper().startswith(_WRITES):
                return
            _step()
            if kind == "enospc" and _failing():
                raise sqlite3.OperationalError("database or disk is full")
            if kind == "eio" and _failing():
                raise sqlite3.OperationalError("disk I/O error")

        def execute(self, statement, *args):  # type: ignore[no-untyped-def]
            self._fault(statement)
            return super().execute(statement, *args)

        def executemany(self, statement, *args):  # type: ignore[no-untyped-def]
            self._fault(statement)
            return super().executemany(statement, *args)

        def executescript(self, script):  # type: ignore[no-untyped-def]
            self._fault(script)
            return super().executescript(script)

    real_connect = sqlite3.connect

    def fake_connect(database, *args, **kwargs):  # type: ignore[no-untyped-def]
        if _inside(database):
            kwargs.setdefault("factory", _FaultyConnection)
        return real_connect(database, *args, **kwargs)

    sqlite3.connect = fake_connect


    def write_count(log: str) -> None:
        with open(log, "w") as f:
            f.write(str(_count))

    if "CCSYNC_TEST_FAULT_LOG" in os.environ:
        atexit.register(write_count, os.environ["CCSYNC_TEST_FAULT_LOG"])
