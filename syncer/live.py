"""Usage as of now, cheaply: the ledger's hourly rows for the past, and the newest log lines,
to the millisecond, for the live window the last scan may not have reached.

Standard library and orjson only, like the nightly shortcut (`idle.py`): the status line runs
after every message and must not pay for pydantic, typer or dulwich. The ledger is read
without validation (only this device writes it, and `ccsync` validates it on every load);
its rows are read by column name, and the names are checked against `ledger.py` by a test.
Nothing here writes, takes the lock or touches the network.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from syncer.blocks import HOUR_MS, Activity, floor_hour
from syncer.events import BadLine, Event
from syncer.paths import StatePaths
from syncer.sources import SOURCES

# The ledger's row layouts (ledger.HourRow, ledger.Session, ledger.SessionUsage), by name.
HOUR_COLUMNS = (
    "hour", "source", "model", "project", "branch", "long_context", "input_tokens", "output_tokens",
    "cache_creation_tokens", "cache_creation_1h_tokens", "cache_read_tokens", "messages",
)
SESSION_COLUMNS = ("id", "source", "project", "branch", "first", "last", "usage")
SESSION_USAGE_COLUMNS = (
    "model", "long_context", "input_tokens", "output_tokens", "cache_creation_tokens",
    "cache_creation_1h_tokens", "cache_read_tokens", "messages",
)
LEDGER_SCHEMAS = (1,)
COUNT_NAMES = HOUR_COLUMNS[-6:]

LIVE_MS = 12 * HOUR_MS  # always read from the logs: the active block and the gap before it
OLDEST_MS = 30 * 24 * HOUR_MS  # Claude Code deletes older logs by default
FIRST_CHUNK, LAST_CHUNK = 1 << 14, 1 << 20  # log files are read backwards in pieces of these sizes
LONG_CONTEXT_THRESHOLD = 200_000  # as ledger.is_long_context: prompts above it bill higher


class Unreadable(Exception):
    """The ledger or state is not in a shape this fast reader knows; the caller degrades."""


class Live(NamedTuple):
    ledger: dict[str, Any] | None  # the ledger document, as JSON
    cut_ms: int  # activities before this come from the ledger's hours, from it on from the logs
    last_scan_ms: int | None
    events: list[Event]  # deduplicated log events at or after cut_ms
    activities: list[Activity]  # ledger hours before cut_ms, then the events


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from `path`; None when there is no file."""
    try:
        data = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, orjson.JSONDecodeError) as exc:
        raise Unreadable(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise Unreadable(f"{path} is not a JSON object")
    return data


def read_ledger(paths: StatePaths) -> dict[str, Any] | None:
    doc = read_json(paths.ledger)
    if doc is not None and doc.get("schema_version") not in LEDGER_SCHEMAS:
        raise Unreadable("the ledger has a schema this ccsync does not know")
    return doc


def last_scan_ms(paths: StatePaths, generation: object) -> int | None:
    """When the scan that wrote ledger generation `generation` ran (its state file says)."""
    if not isinstance(generation, int):
        return None
    try:
        state = read_json(paths.state(generation))
    except Unreadable:
        return None
    stamp = state.get("last_scan") if state else None
    if not isinstance(stamp, str):
        return None
    try:
        return int(datetime.fromisoformat(stamp).timestamp() * 1000)
    except ValueError:
        return None


def cut_ms(now_ms: int, scanned_ms: int | None) -> int:
    """Where the logs take over from the ledger: the hour `LIVE_MS` back, or the last scan's
    hour if that is older (so what the scan has not reached comes from the logs), but never
    further back than logs are kept. With no scan yet, a day and a half of logs."""
    reach = now_ms - LIVE_MS if scanned_ms is not None else now_ms - 3 * LIVE_MS
    if scanned_ms is not None:
        reach = min(reach, scanned_ms)
    return floor_hour(max(reach, now_ms - OLDEST_MS))


def hour_activities(ledger: Mapping[str, Any], *, before_ms: int | None = None) -> list[Activity]:
    """The ledger's hourly rows as activities, those whose hour starts before `before_ms`."""
    col = {name: i for i, name in enumerate(HOUR_COLUMNS)}
    hour_at, model_at, lc_at = col["hour"], col["model"], col["long_context"]
    counts_at = [col[name] for name in COUNT_NAMES]
    limit = None if before_ms is None else before_ms // HOUR_MS
    out: list[Activity] = []
    for row in ledger.get("hours", ()):
        if len(row) != len(HOUR_COLUMNS):
            raise Unreadable("a ledger hour row has an unexpected shape")
        hour = hour_index(row[hour_at])
        if limit is None or hour < limit:
            out.append(Activity.from_hour(hour, row[model_at], row[lc_at], [row[i] for i in counts_at]))
    return out


_hours: dict[str, int] = {}


def hour_index(label: str) -> int:
    """`2026-11-20T09` -> hours since the epoch (as ledger.hour_index, memoised)."""
    found = _hours.get(label)
    if found is None:
        found = _hours[label] = int(datetime.fromisoformat(label + ":00+00:00").timestamp()) // 3600
    return found


def session_counts(ledger: Mapping[str, Any] | None, session_id: str) -> list[int] | None:
    """A session's counts (usage.FIELDS, then messages) as the ledger holds them."""
    if ledger is None:
        return None
    scol = {name: i for i, name in enumerate(SESSION_COLUMNS)}
    ucol = {name: i for i, name in enumerate(SESSION_USAGE_COLUMNS)}
    for session in ledger.get("sessions", ()):
        if session[scol["id"]] == session_id:
            total = [0] * len(COUNT_NAMES)
            for usage in session[scol["usage"]]:
                for i, name in enumerate(COUNT_NAMES):
                    total[i] += usage[ucol[name]]
            return total
    return None


def merge_events(events: Iterable[Event]) -> list[Event]:
    """One event per key by the ledger's rules (DESIGN.md §2): the largest value of each field,
    dated by the earliest line; a sidechain copy of a main-session response does not count."""
    by_key: dict[str, Event] = {}
    for e in events:
        seen = by_key.get(e.key)
        if seen is None:
            by_key[e.key] = e
            continue
        tokens = tuple(max(a, b) for a, b in zip(seen.tokens, e.tokens, strict=True))
        first = e if e.time_ms < seen.time_ms else seen
        by_key[e.key] = Event(first.key, first.message_id, first.time_ms, first.model, tokens,  # type: ignore[arg-type]
                              first.session, first.cwd, first.branch, first.sidechain)
    mains = {e.message_id for e in by_key.values() if e.message_id and not e.sidechain}
    return [e for e in by_key.values() if not (e.sidechain and e.message_id in mains)]


def to_activity(event: Event) -> Activity:
    i, o, c, h, r = event.tokens
    return Activity(event.time_ms, event.model, i + c + r > LONG_CONTEXT_THRESHOLD, (i, o, c, h, r, 1))


def recent_events(env: Mapping[str, str], home: Path, since_ms: int) -> list[Event]:
    """Every usage event at or after `since_ms` in the logs, deduplicated. Only files written to
    since then are opened, and each is read from its end back to the first older response."""
    found: list[Event] = []
    for source, path in recent_logs(env, home, since_ms * 1_000_000):
        try:
            found.extend(tail_events(Path(path), since_ms, SOURCES[source].parse_line))
        except OSError:
            continue  # deleted or unreadable since the walk: the scan will say so
    return merge_events(found)


def recent_logs(env: Mapping[str, str], home: Path, since_ns: int) -> Iterator[tuple[str, str]]:
    """(source, path) of the log files modified since `since_ns`. The walk `logfiles.find_logs`
    makes, cut to what this needs: no symlinks followed, folders told by their directory entry
    (no stat), only log files stat'ed, and no warnings (the scan gives those)."""
    for name, source in SOURCES.items():
        for root in source.log_roots(env, home):
            folders = [str(root)]
            while folders:
                try:
                    entries = os.scandir(folders.pop())
                except OSError:
                    continue
                with entries:
                    for entry in entries:
                        try:
                            if entry.is_dir(follow_symlinks=False):
                                if not source.is_log_file(entry.name):
                                    folders.append(entry.path)
                            elif (source.is_log_file(entry.name) and entry.is_file(follow_symlinks=False)
                                  and entry.stat(follow_symlinks=False).st_mtime_ns >= since_ns):
                                yield name, entry.path
                        except OSError:
                            continue


def tail_events(path: Path, since_ms: int, parse: Callable[[bytes], Event | None]) -> list[Event]:
    """The events at or after `since_ms` at the end of one log. Lines are appended in time
    order, so reading stops after the piece where an older response shows up (a resumed
    session's replayed history sits at its file's start). Pieces start small and double: most
    files touched lately hold only a few recent lines at their end."""
    out: list[Event] = []
    with open(path, "rb") as f:
        pos = f.seek(0, os.SEEK_END)
        carry = b""
        size = FIRST_CHUNK
        while pos > 0:
            size = min(size, pos)
            pos -= size
            f.seek(pos)
            lines = (f.read(size) + carry).split(b"\n")
            carry = lines.pop(0) if pos > 0 else b""
            older = False
            for line in lines:
                if b'"usage"' not in line:
                    continue
                try:
                    event = parse(line)
                except BadLine:
                    continue  # counted by the scan; a half-written last line waits for it
                if event is None:
                    continue
                if event.time_ms >= since_ms:
                    out.append(event)
                else:
                    older = True
            if older:
                break
            size = min(2 * size, LAST_CHUNK)
    return out


def gather(paths: StatePaths, env: Mapping[str, str], home: Path, *, now_ms: int) -> Live:
    """This device's usage up to now: the ledger's hours before the cut, the logs from it on."""
    ledger = read_ledger(paths)
    scanned = last_scan_ms(paths, ledger.get("generation")) if ledger else None
    cut = cut_ms(now_ms, scanned)
    events = recent_events(env, home, cut)
    activities = hour_activities(ledger, before_ms=cut) if ledger else []
    activities.extend(to_activity(e) for e in events)
    return Live(ledger, cut, scanned, events, activities)
