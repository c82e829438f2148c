"""The goal across all devices as of the last fetch, kept where the status line can read it.

The status line may not open the sync repo (dulwich, and a lock it must never wait on), so
every `ccsync total` and `ccsync goal` leaves behind, in the state folder, the goal and each
device's metric per day (last 30 days) and in all. The status line takes the other devices'
figures from here and this device's own from its fresh numbers.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

from syncer.paths import StatePaths, write_disposable

if TYPE_CHECKING:
    from syncer import goal

SCHEMA_VERSION = 1
PACE_DAYS = 30


class CachedGoal(NamedTuple):
    target: int | float
    metric: str
    deadline: date
    source: str | None  # the only source the figures count, or None for all of them
    start: date | None  # the first day the figures count, or None for all time
    device: str  # this device's id when the cache was written
    written: str
    devices: dict[str, tuple[float, dict[date, float]]]  # device -> (current, metric per local day)


def remember(
    paths: StatePaths, *, device: str, current: goal.Goal | None, standing: goal.Standing | None, zone: tzinfo,
    now: datetime,
) -> None:
    """Write the cache (best effort, not waited on to reach the disk: a lost or failed write only
    leaves the status line older figures, or none). `standing`: where `current` stands, with
    each device's figures (None without a goal)."""
    written = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    doc: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "written": written, "device": device, "goal": None,
                           "devices": {}}
    if current is not None and standing is not None:
        start = current.start
        doc["goal"] = {"target": current.target, "metric": current.metric, "deadline": current.deadline.isoformat(),
                       "source": current.source, "start": None if start is None else start.isoformat()}
        today = now.astimezone(zone).date()
        since = today - timedelta(days=PACE_DAYS)
        first = since if start is None else max(since, start)
        none = 0.0 if current.metric == "cost" else 0  # what a device with no usage has
        for name, daily in standing.daily.items():
            doc["devices"][name] = {
                "current": standing.shares.get(name, none),
                "daily": {day.isoformat(): value for day, value in daily.items() if first <= day <= today},
            }
    write_disposable(paths.goal_cache, orjson.dumps(doc, option=orjson.OPT_SORT_KEYS))


def read(paths: StatePaths) -> CachedGoal | None:
    """The cached goal, or None when there is none (or the cache is not in a known shape)."""
    try:
        doc = orjson.loads(paths.goal_cache.read_bytes())
        if doc.get("schema_version") != SCHEMA_VERSION or not doc.get("goal"):
            return None
        g = doc["goal"]
        devices = {
            name: (float(d["current"]), {date.fromisoformat(k): float(v) for k, v in d["daily"].items()})
            for name, d in doc["devices"].items()
        }
        source, start = g.get("source"), g.get("start")
        return CachedGoal(g["target"], str(g["metric"]), date.fromisoformat(g["deadline"]),
                          None if source is None else str(source),
                          None if start is None else date.fromisoformat(start), str(doc["device"]),
                          str(doc["written"]), devices)
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
