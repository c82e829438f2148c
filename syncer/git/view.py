"""The fetched state of the sync repo as read commands use it (every device file, the goal, who
committed lately), kept in one file beside the local copy: reading that needs no dulwich, whose
import and pack indexes cost a read command about 60 ms of its 250.

The view is a function of the fetched tip (and of the objects a fetch left out), so it is rebuilt
from the local copy whenever either differs from what it was made from. The tip is read from the
ref files directly; anything unusual there (packed refs, a detached tracking head) only means the
view is not used.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import orjson

from syncer.blake import blake2b
from syncer.paths import write_disposable

FORMAT = 3
_TRACKING_HEAD = "refs/remotes/origin/HEAD"
_REF_NAME = re.compile(r"refs/(?:[A-Za-z0-9_-][A-Za-z0-9._-]*/)*[A-Za-z0-9_-][A-Za-z0-9._-]*")
_SHA = re.compile(rb"[0-9a-f]{40}")
_LEFT_OUT = "ccsync-left-out"  # see local.LEFT_OUT, not imported: local imports dulwich


class Snapshot(NamedTuple):
    files: dict[str, bytes]
    """Device id -> raw bytes of data/<id>.json (only entries that pass the structural checks)."""
    goal: bytes | None
    warnings: list[str]
    tip: str | None
    goal_problem: str | None = None
    """Why a goal.json that is there cannot be read (a folder, a submodule, too large)."""


Chain = list[tuple[int, str | None]]
"""First-parent commits from the fetched tip back: (commit time, the ccsync device that made it)."""


def newest(chain: Chain, *, since: datetime | None = None) -> dict[str, datetime]:
    """Device id -> its newest commit's time in `chain`, no further back than `since`."""
    found: dict[str, datetime] = {}
    cutoff = since.timestamp() if since else None
    for when, device in chain:
        if cutoff is not None and when < cutoff:
            break
        if device is not None:
            found.setdefault(device, datetime.fromtimestamp(when, UTC))
    return found


def fetched(repo: Path, cache: Path, *, since: datetime) -> tuple[Snapshot, dict[str, datetime]]:
    """The last fetched snapshot, and each device's newest commit since `since` (as
    `snapshot` and `history.last_commits` give them)."""
    key = _key(repo)
    if key is not None:
        kept = _read(cache, key, since)
        if kept is not None:
            return kept
    from syncer.git import history, snapshot  # noqa: PLC0415 - dulwich, only to rebuild the view

    snap = snapshot.snapshot(repo)
    chain = history.walk(repo, since=since)
    if key is not None and snap.tip == key["tip"] and _key(repo) == key:
        _write(cache, key, since, snap, chain)
    return snap, newest(chain, since=since)


def _tip(repo: Path) -> str | None:
    name = _TRACKING_HEAD
    for _ in range(5):
        try:
            text = (repo / name).read_bytes().strip()
        except OSError:
            return None
        if _SHA.fullmatch(text):
            return text.decode()
        if not text.startswith(b"ref: "):
            return None
        name = text[5:].decode("ascii", "replace")
        if not _REF_NAME.fullmatch(name):
            return None
    return None


def _key(repo: Path) -> dict[str, object] | None:
    tip = _tip(repo)
    if tip is None:
        return None
    try:
        st = os.stat(repo / _LEFT_OUT)
        left_out: list[int] | None = [st.st_size, st.st_mtime_ns]
    except FileNotFoundError:
        left_out = None
    except OSError:
        return None
    return {"format": FORMAT, "tip": tip, "left_out": left_out}


def _read(cache: Path, key: dict[str, object], since: datetime) -> tuple[Snapshot, dict[str, datetime]] | None:
    """The kept view if it was made from `key` and reaches back to `since`; else None.

    The file is one line of JSON (what the view was made from, the sizes of the files and the
    digest of their bytes), then the files' bytes one after another: no escaping to undo over
    megabytes of JSON, and a file damaged on disk is never taken for what the repo holds."""
    try:
        data = cache.read_bytes()
        end = data.index(b"\n")
        doc = orjson.loads(data[:end])
    except (OSError, ValueError):  # orjson.JSONDecodeError is a ValueError
        return None
    try:
        if doc["key"] != key or not doc["horizon"] <= since.timestamp():
            return None
        if doc["payload"] != _digest(memoryview(data)[end + 1:]):  # in place: not a copy of every file
            return None
        at = end + 1
        files: dict[str, bytes] = {}
        for name, size in doc["files"]:
            files[_text(name)] = data[at:at + _int(size)]
            at += size
        goal = None
        if doc["goal"] is not None:
            goal = data[at:at + _int(doc["goal"])]
            at += doc["goal"]
        if at != len(data):
            return None  # cut short
        goal_problem = None if doc["goal_problem"] is None else _text(doc["goal_problem"])
        warnings = [_text(w) for w in doc["warnings"]]
        chain: Chain = [(_int(when), None if who is None else _text(who)) for when, who in doc["chain"]]
    except (KeyError, TypeError, ValueError):
        return None
    snap = Snapshot(files, goal, warnings, key["tip"], goal_problem)  # type: ignore[arg-type]
    return snap, newest(chain, since=since)


def _digest(payload: bytes | memoryview) -> str:
    return blake2b(payload, digest_size=16).hexdigest()


def _text(value: object) -> str:
    if type(value) is not str:
        raise TypeError
    return value


def _int(value: object) -> int:
    if type(value) is not int or value < 0:
        raise TypeError
    return value


def _write(cache: Path, key: dict[str, object], since: datetime, snap: Snapshot, chain: Chain) -> None:
    """Best effort: a view that cannot be kept (a full disk) only means the next read builds it again."""
    payload = [*snap.files.values(), *([] if snap.goal is None else [snap.goal])]
    doc = {
        "key": key,
        "horizon": since.timestamp(),
        "files": [[name, len(content)] for name, content in snap.files.items()],
        "goal": None if snap.goal is None else len(snap.goal),
        "goal_problem": snap.goal_problem,
        "warnings": snap.warnings,
        "chain": chain,
        "payload": _digest(b"".join(payload)),
    }
    parts = [orjson.dumps(doc), b"\n", *payload]
    write_disposable(cache, b"".join(parts))
