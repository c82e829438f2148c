"""When each device last wrote to the sync repo: the time of its newest commit on the fetched
tip (every commit ccsync makes is authored `ccsync <device>`; DESIGN.md §4)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from syncer.git import local, objects
from syncer.git.view import Chain, newest

_AUTHOR = re.compile(rb"^ccsync ([a-z0-9][a-z0-9-]{0,62}) <")
MAX_COMMITS = 100_000


def last_commits(repo: Path, *, since: datetime | None = None) -> dict[str, datetime]:
    """Device id -> its newest commit's time, walking first parents from the fetched tip, and
    no further back than `since` (a warning about the last 7 days need not read years)."""
    return newest(walk(repo, since=since), since=since)


def walk(repo: Path, *, since: datetime | None = None) -> Chain:
    """The first-parent chain from the fetched tip, stopping before the first commit older than
    `since`: `newest` over it answers for any later `since` as a new walk would."""
    if not repo.exists():
        return []
    r = local.open_reader(repo)
    try:
        tip = local.tracking_tip(r)
        chain: Chain = []
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
            chain.append((commit.commit_time, match.group(1).decode() if match else None))
            tip = commit.parents[0] if commit.parents else None
        return chain
    finally:
        r.close()
