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
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import orjson

from syncer.paths import write_disposable
from syncer.trust import content_digest

FORMAT = 4
_TRACKING_HEAD = "refs/remotes/origin/HEAD"
# Checked by sets, not patterns: compiling two patterns took a read command 0.2 ms.
_HEX = b"0123456789abcdef"
_REF_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
_LEFT_OUT = "ccsync-left-out"  # see local.LEFT_OUT, not imported: local imports dulwich


class Snapshot(NamedTuple):
    files: dict[str, bytes]
    """Device id -> raw bytes of data/<id>.json (only entries that pass the structural checks)."""
    goal: bytes | None
    warnings: list[str]
    tip: str | None
    goal_problem: str | None = None
    """Why a goal.json that is there cannot be read (a folder, a submodule, too large)."""
    digests: Mapping[str, bytes] = {}
    """Device id -> `trust.content_digest` of its file, where the view has checked the bytes
    against it (so the trust memo need not hash them again); empty from the repo itself."""
    goal_digest: bytes | None = None
    """The same for the goal's bytes."""


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
        snap = _write(cache, key, since, snap, chain)
    return snap, newest(chain, since=since)


def _tip(repo: Path) -> str | None:
    name = _TRACKING_HEAD
    for _ in range(5):
        try:
            text = (repo / name).read_bytes().strip()
        except OSError:
            return None
        if len(text) == 40 and not text.translate(None, _HEX):
            return text.decode()
        if not text.startswith(b"ref: "):
            return None
        name = text[5:].decode("ascii", "replace")
        if not _plain_ref(name):
            return None
    return None


def _plain_ref(name: str) -> bool:
    """`refs/` and then names of letters, digits, `.`, `_` and `-`, none starting with a dot:
    a ref file inside the repository."""
    head, *parts = name.split("/")
    return head == "refs" and bool(parts) and all(p and p[0] != "." and _REF_CHARS.issuperset(p) for p in parts)


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

    The file is one line of JSON (what the view was made from, each file's size and the digest
    of its bytes), then the files' bytes one after another: no escaping to undo over megabytes
    of JSON, and a file damaged on disk is never taken for what the repo holds."""
    try:
        data = cache.read_bytes()
        end = data.index(b"\n")
        doc = orjson.loads(data[:end])
    except (OSError, ValueError):  # orjson.JSONDecodeError is a ValueError
        return None
    try:
        if doc["key"] != key or not doc["horizon"] <= since.timestamp():
            return None
        at = end + 1
        files: dict[str, bytes] = {}
        digests: dict[str, bytes] = {}
        for name, size, digest in doc["files"]:
            device = _text(name)
            files[device], digests[device] = _checked(data, at, _int(size), digest)
            at += size
        goal = goal_digest = None
        if doc["goal"] is not None:
            size, digest = doc["goal"]
            goal, goal_digest = _checked(data, at, _int(size), digest)
            at += size
        if at != len(data):
            return None  # longer than its files
        goal_problem = None if doc["goal_problem"] is None else _text(doc["goal_problem"])
        warnings = [_text(w) for w in doc["warnings"]]
        chain: Chain = [(_int(when), None if who is None else _text(who)) for when, who in doc["chain"]]
    except (KeyError, TypeError, ValueError):
        return None
    snap = Snapshot(files, goal, warnings, key["tip"], goal_problem, digests, goal_digest)  # type: ignore[arg-type]
    return snap, newest(chain, since=since)


def _checked(data: bytes, at: int, size: int, digest: object) -> tuple[bytes, bytes]:
    """The `size` bytes at `at` and their digest, if it is `digest` (hex); else ValueError."""
    if at + size > len(data):
        raise ValueError("cut short")
    found = content_digest(memoryview(data)[at:at + size])  # in place: not a copy of the file
    if found.hex() != digest:
        raise ValueError("damaged")
    return data[at:at + size], found


def _text(value: object) -> str:
    if type(value) is not str:
        raise TypeError
    return value


def _int(value: object) -> int:
    if type(value) is not int or value < 0:
        raise TypeError
    return value


def _write(cache: Path, key: dict[str, object], since: datetime, snap: Snapshot, chain: Chain) -> Snapshot:
    """`snap` with its digests, kept. Best effort: a view that cannot be kept (a full disk) only
    means the next read builds it again."""
    digests = {name: content_digest(content) for name, content in snap.files.items()}
    goal = None if snap.goal is None else (len(snap.goal), content_digest(snap.goal))
    doc = {
        "key": key,
        "horizon": since.timestamp(),
        "files": [[name, len(content), digests[name].hex()] for name, content in snap.files.items()],
        "goal": None if goal is None else [goal[0], goal[1].hex()],
        "goal_problem": snap.goal_problem,
        "warnings": snap.warnings,
        "chain": chain,
    }
    payload = [*snap.files.values(), *([] if snap.goal is None else [snap.goal])]
    write_disposable(cache, b"".join([orjson.dumps(doc), b"\n", *payload]))
    return snap._replace(digests=digests, goal_digest=None if goal is None else goal[1])
