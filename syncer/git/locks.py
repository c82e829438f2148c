"""Git lock files left by killed processes: wait for a live one, break a provably stale one.

Only lock files inside our own repositories (the local copy and a local-path remote) are ever
removed; anything else is another program's business.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from pathlib import Path

from dulwich.file import FileLocked

from syncer.errors import RemoteUnavailable
from syncer.git.urls import local_remote_path

STALE_LOCK_SECONDS = 10.0
"""A git lock file older than this was left by a killed process: ref and object writes take
milliseconds. Younger ones are waited for, never broken."""


class LockRecovery:
    """What one fetch or sync may do about lock files: which repositories are ours, and until
    when a live lock is waited for."""

    def __init__(self, repo: Path, remote: str) -> None:
        local = local_remote_path(remote)
        self.roots = [repo] if local is None else [repo, local]
        self.deadline = time.monotonic() + STALE_LOCK_SECONDS * 1.5

    def recover(self, exc: FileLocked) -> None:
        """Wait for the lock file of `exc` to go away, or break it once it is provably stale."""
        lock = Path(os.fsdecode(exc.lockfilename)).absolute()
        inside = any(lock.is_relative_to(root.absolute()) for root in self.roots)
        if not inside or not lock.name.endswith(".lock"):
            raise RemoteUnavailable(f"git lock file {lock} is held by another program; retry later")
        try:
            before = lock.stat()
        except FileNotFoundError:
            return  # released meanwhile
        if time.time() - before.st_mtime >= STALE_LOCK_SECONDS:
            _break_lock(lock, before)
            return
        if time.monotonic() > self.deadline:
            raise RemoteUnavailable(f"git lock file {lock} stayed locked; another ccsync may be running, retry later")
        time.sleep(random.uniform(0.05, 0.25))


def _break_lock(lock: Path, judged: os.stat_result) -> None:
    # Move it aside first and check it is the same file we judged stale: a plain unlink could
    # delete a fresh lock that another process took a moment ago.
    aside = lock.with_name(f"{lock.name}.stale-{uuid.uuid4().hex}")
    try:
        os.rename(lock, aside)
    except FileNotFoundError:
        return
    now = aside.stat()
    if (now.st_ino, now.st_mtime_ns) != (judged.st_ino, judged.st_mtime_ns):
        try:
            os.link(aside, lock)  # give the fresh lock back unless someone took it again
        except FileExistsError:
            pass
    aside.unlink()

