"""Every location ccsync reads or writes, resolved in one place: environment, then OS default.

Functions take the environment and home folder as parameters so tests (and `ccsync status`)
can resolve them without touching the real ones.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path


class StatePaths:
    """The files in the state folder (DESIGN.md §3)."""

    __slots__ = ("home",)

    def __init__(self, home: Path) -> None:
        self.home = home

    @property
    def config(self) -> Path:
        return self.home / "config.json"

    @property
    def ledger(self) -> Path:
        return self.home / "ledger.json"

    @property
    def lock(self) -> Path:
        return self.home / "ccsync.lock"

    @property
    def lock_holder(self) -> Path:
        """The process id of the ccsync holding the lock, for a message to whoever waits."""
        return self.home / "ccsync.pid"

    @property
    def backups(self) -> Path:
        return self.home / "backups"

    @property
    def repo(self) -> Path:
        """The local bare copy of the sync repo."""
        return self.home / "repo.git"

    @property
    def embedded_remote(self) -> Path:
        """The default remote used until `ccsync init --remote URL` names a real one."""
        return self.home / "remote.git"

    @property
    def runlog(self) -> Path:
        return self.home / "runs.log"

    @property
    def goal_cache(self) -> Path:
        """The goal across devices as of the last `ccsync total` (syncer/goalcache.py)."""
        return self.home / "goal-cache.json"

    @property
    def pending_goal(self) -> Path:
        """A goal set here that the sync repo does not have yet (the remote was unreachable)."""
        return self.home / "goal-pending.json"

    @property
    def project_names(self) -> Path:
        """The folder names behind this device's hashed project names (privacy hashed); local only."""
        return self.home / "names.json"

    @property
    def live_cache(self) -> Path:
        """Where the status line stopped reading each recent log (syncer/live.py); disposable."""
        return self.home / "live-cache.json"

    @property
    def last_sync(self) -> Path:
        """What the last sync left on which remote (syncer/published.py)."""
        return self.home / "sync.json"

    @property
    def fetched(self) -> Path:
        """The last fetched sync repo as read commands use it (syncer/git/view.py); disposable."""
        return self.home / "fetched.json"

    @property
    def trusted(self) -> Path:
        """Digests of the documents a schema has accepted (syncer/trust.py); disposable."""
        return self.home / "trusted.json"

    def state(self, generation: int) -> Path:
        """The file checkpoints that belong to ledger generation `generation`."""
        return self.home / f"state-{generation}.json"

    def index(self, generation: int) -> Path:
        """The key index of ledger generation `generation` as versions before 0.2 kept it
        (read once, to move it into `keys`)."""
        return self.home / f"index-{generation}.json"

    @property
    def keys(self) -> Path:
        """The permanent key index (SQLite; see keystore)."""
        return self.home / "keys.sqlite3"


def state_home(env: Mapping[str, str], home: Path, *, platform: str = sys.platform) -> Path:
    """`$CCSYNC_HOME`, else `%LOCALAPPDATA%\\ccsync` on Windows, else `~/.ccsync`."""
    if env.get("CCSYNC_HOME"):
        return Path(env["CCSYNC_HOME"]).expanduser()
    if platform == "win32" and env.get("LOCALAPPDATA"):
        return Path(env["LOCALAPPDATA"]) / "ccsync"
    return home / ".ccsync"


def state_paths(env: Mapping[str, str] | None = None, home: Path | None = None) -> StatePaths:
    return StatePaths(state_home(os.environ if env is None else env, Path.home() if home is None else home))


def write_disposable(path: Path, data: bytes) -> None:
    """Replace `path` (private to this user) with `data`, best effort and without waiting for
    the disk: for files that only ever speed a read up, which a crash may lose or leave out."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
