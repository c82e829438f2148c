"""The nightly run's shortcut: when no log changed and the remote already holds this ledger,
there is nothing to do, and that is found out before the rest of ccsync is even imported.

Standard library and orjson only (pydantic, typer and dulwich take longer to import than the
whole idle run may take). Any doubt at all (a file it cannot read, a shape it does not expect,
a warning the walk would print) answers "not idle", and the full run decides.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from syncer import runlog
from syncer.errors import DiskError
from syncer.logfiles import find_logs
from syncer.paths import StatePaths
from syncer.published import already_published, read_last_sync

# The ledger is written with sorted keys, so `generation` is its second key, or its third after
# the entries (one per line, the block closed by a line of its own: JSON strings hold no newline).
_GENERATION = re.compile(
    rb'^\{\s*"device":\s*"[a-z0-9-]+",(?:\s*"entries":\s*\[.*?\n  \],)?\s*"generation":\s*(\d+),', re.DOTALL
)


def nothing_to_do(paths: StatePaths, env: Mapping[str, str], home: Path) -> bool:
    try:
        ledger = paths.ledger.read_bytes()
        match = _GENERATION.match(ledger)
        if match is None:
            return False
        generation = int(match.group(1))
        state = _load(paths.state(generation))
        config = _load(paths.config)
    except (OSError, ValueError):
        return False
    last = read_last_sync(paths)
    if last is None or paths.pending_goal.exists():  # a goal set while the remote was away waits
        return False
    if not (
        state.get("schema_version") == 1 and state.get("generation") == generation
        and isinstance(state.get("checkpoints"), dict) and config.get("schema_version") == 1
    ):
        return False
    warnings: list[str] = []
    _, logs = find_logs(env, home, warnings)  # a missing log folder warns: the full run says why
    checkpoints: dict[str, Any] = state["checkpoints"]
    if warnings or len(logs) != len(checkpoints):
        return False
    for log in logs:
        cp = checkpoints.get(str(log.path))
        if not isinstance(cp, dict) or (cp.get("dev"), cp.get("ino"), cp.get("size"), cp.get("mtime_ns")) != (
            log.dev, log.ino, log.size, log.mtime_ns
        ):
            return False
    remote = config.get("remote") or str(paths.embedded_remote)
    if not already_published(last, digest=hashlib.sha256(ledger).hexdigest(), remote=remote):
        return False
    # Another writer may have deleted or rolled back our file: idle only while the remote has
    # not moved since our last sync. That is cheap to see for a folder remote; a network
    # remote gets its one look at the refs from the full run.
    return isinstance(remote, str) and _folder_tip(remote) == last.get("tip")


def _folder_tip(remote: str) -> str | None:
    """The sha the HEAD branch of a bare repository in a folder points at, read as git keeps it
    (a loose ref file, else packed-refs); None when it cannot be told cheaply."""
    repo = Path(remote)
    if not repo.is_absolute():
        return None
    try:
        head = (repo / "HEAD").read_text("ascii").strip()
        if not head.startswith("ref: refs/heads/"):
            return None
        ref = head[5:]
        try:
            return (repo / ref).read_text("ascii").strip()
        except FileNotFoundError:
            for line in (repo / "packed-refs").read_text("ascii").splitlines():
                sha, _, name = line.partition(" ")
                if name == ref:
                    return sha
    except (OSError, UnicodeDecodeError):
        return None
    return None


def _load(path: Path) -> dict[str, Any]:
    data = orjson.loads(path.read_bytes())
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a JSON object")
    return data


def record_idle_run(paths: StatePaths, now: datetime, *, scheduled: bool) -> None:
    try:
        runlog.append_run(paths.runlog, runlog.RunRecord(now, 0, 0, False, None, scheduled))
    except DiskError:
        pass  # as in the full run: the run log is a hint, never the run's result
