"""When each device last wrote to the sync repo: the time of its newest commit on the fetched
tip (every commit ccsync makes is authored `ccsync <device>`; DESIGN.md §4)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from syncer.git import local, objects

_AUTHOR = re.compile(rb"^ccsync ([a-z0-9][a-z0-9-]{0,62}) <")
MAX_COMMITS = 100_000


def last_commits(repo: Path, *, since: datetime | None = None) -> dict[str, datetime]:
    """Device id -> its newest commit's time, walking first parents from the fetched tip, and
    no further back than `since` (a warning about the last 7 days need not read years)."""
    if not repo.exists():
        return {}
    r = local.open_reader(repo)
    try:
        tip = local.tracking_tip(r)
        found: dict[str, datetime] = {}
        cutoff = since.timestamp() if since else None
        for _ in range(MAX_COMMITS):
            if tip is None:
                break
            try:
                commit = objects.commit(r, tip)
            except objects.UNREADABLE:
                break  # a shallow or damaged copy: what was read so far is what is known
            if cutoff is not None and commit.commit_time < cutoff:
                break
            match = _AUTHOR.match(commit.author)
            if match:
                found.setdefault(match.group(1).decode(), datetime.fromtimestamp(commit.commit_time, UTC))
            tip = commit.parents[0] if commit.parents else None
        return found
    finally:
        r.close()
