"""`sync.json` in the state folder: what the last sync left on which remote. Its one owner.

Standard library and orjson only: the idle nightly run reads it before the rest of ccsync is
imported (see idle.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import orjson

from syncer.paths import StatePaths

LastSync = dict[str, object]


def encode_sync(*, now: datetime, tip: str, committed: bool, pushed: bool, remote: str, digest: str) -> bytes:
    """The record of a sync that left the ledger with sha256 `digest` on `remote` at `tip`."""
    record = {
        "time": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "tip": tip, "committed": committed,
        "pushed": pushed, "remote": remote, "ledger_sha256": digest,
    }
    return orjson.dumps(record)


def read_last_sync(paths: StatePaths) -> LastSync | None:
    """The last sync's record, or None when there is none (or it does not parse: a hint only)."""
    try:
        raw = orjson.loads(paths.last_sync.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return raw if isinstance(raw, dict) else None


def already_published(last: Mapping[str, object] | None, *, digest: str, remote: str) -> bool:
    """Whether the last sync left exactly this ledger on exactly this remote."""
    return last is not None and last.get("ledger_sha256") == digest and last.get("remote") == remote and (
        last.get("pushed") is True or last.get("committed") is False
    )
