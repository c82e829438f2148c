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
from syncer.paths import StatePaths, write_disposable
from syncer.sources import SOURCES, line_parsers

LINE_PARSERS = line_parsers()
# The ledger's row layouts (ledger.HourRow, ledger.Session, ledger.SessionUsage), by name.
HOUR_COLUMNS = (
    "hour", "source", "model", "project", "branch", "long_context", "fast", "input_tokens", "output_tokens",
    "cache_creation_tokens", "cache_creation_1h_tokens", "cache_read_tokens", "messages",
)
SESSION_COLUMNS = ("id", "source", "project", "branch", "first", "last", "usage")
SESSION_USAGE_COLUMNS = (
    "model", "long_context", "fast", "input_tokens", "output_tokens", "cache_creation_tokens",
    "cache_creation_1h_tokens", "cache_read_tokens", "messages",
)
COUNT_NAMES = HOUR_COLUMNS[-6:]
# Schema version -> (hour row, session usage) layouts; version 1 had no speed.
LAYOUTS = {
    2: (HOUR_COLUMNS, SESSION_USAGE_COLUMNS),
    1: (tuple(c for c in HOUR_COLUMNS if c != "fast"), tuple(c for c in SESSION_USAGE_COLUMNS if c != "fast")),
}

LIVE_MS = 12 * HOUR_MS  # always read from the logs: the active block and the gap before it
OLDEST_MS = 30 * 24 * HOUR_MS  # Claude Code deletes older logs by default
FIRST_CHUNK, LAST_CHUNK = 1 << 14, 1 << 20  # log files are read backwards in pieces of these sizes
LONG_CONTEXT_THRESHOLD = 200_000  # pricing's default: prompts above it bill higher


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
    if doc is not None and doc.get("schema_version") not in LAYOUTS:
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
    columns = LAYOUTS[ledger["schema_version"]][0]
    col = {name: i for i, name in enumerate(columns)}
    hour_at, model_at, lc_at, fast_at = col["hour"], col["model"], col["long_context"], col.get("fast")
    counts_at = [col[name] for name in COUNT_NAMES]
    limit = None if before_ms is None else before_ms // HOUR_MS
    out: list[Activity] = []
    for row in ledger.get("hours", ()):
        if len(row) != len(columns):
            raise Unreadable("a ledger hour row has an unexpected shape")
        hour = hour_index(row[hour_at])
        if limit is None or hour < limit:
            fast = fast_at is not None and row[fast_at] is True
            out.append(Activity.from_hour(hour, row[model_at], row[lc_at], [row[i] for i in counts_at], fast=fast))
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
    ucol = {name: i for i, name in enumerate(LAYOUTS[ledger["schema_version"]][1])}
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
    merged = reduce_keys(events)
    mains = {e.message_id for e in merged if e.message_id and not e.sidechain}
    return [e for e in merged if not (e.sidechain and e.message_id in mains)]


def reduce_keys(events: Iterable[Event]) -> list[Event]:
    """One event per key: the largest value of each field, the earliest line's time and names.
    Associative, so a file's events may be reduced alone first."""
    by_key: dict[str, Event] = {}
    for e in events:
        seen = by_key.get(e.key)
        if seen is None:
            by_key[e.key] = e
            continue
        first = e if e.time_ms < seen.time_ms else seen
        if seen.tokens == e.tokens and first is seen:
            continue
        tokens = seen.tokens if seen.tokens == e.tokens else tuple(map(max, seen.tokens, e.tokens))
        by_key[e.key] = Event(first.key, first.message_id, first.time_ms, first.model, tokens,  # type: ignore[arg-type]
                              first.session, first.cwd, first.branch, first.sidechain, first.fast)
    return list(by_key.values())


def to_activity(event: Event, threshold: Callable[[str], int] | None = None) -> Activity:
    """`threshold`: the model's long-context threshold from the price table (`pricing`), for
    callers that price; the status line does not, and takes the common 200k."""
    i, o, c, h, r = event.tokens
    limit = threshold(event.model) if threshold is not None else LONG_CONTEXT_THRESHOLD
    return Activity(event.time_ms, event.model, i + c + r > limit, (i, o, c, h, r, 1), fast=event.fast)


def recent_events(
    env: Mapping[str, str], home: Path, since_ms: int, *, cache: dict[str, Any] | None = None,
) -> list[Event]:
    """Every usage event at or after `since_ms` in the logs, deduplicated. Only files written to
    since then are opened, and each is read from its end back to the first older response.

    With `cache` (what an earlier call left in it; see `load_cache`), a file read before is read
    only from where that call stopped, and the cache is updated for the next call: the status
    line runs after every message, when a few kilobytes are new."""
    files: dict[str, Any] = {}
    if cache is not None:
        if cache.get("version") == CACHE_VERSION and isinstance(cache.get("since"), int) and cache["since"] <= since_ms:
            files = cache.get("files") or {}
        cache.clear()
        cache.update(version=CACHE_VERSION, since=since_ms, files={})
    found: list[Event] = []
    for source, path, st in recent_logs(env, home, since_ms * 1_000_000):
        parse = LINE_PARSERS[source]
        seen = files.get(path)
        try:
            if seen is not None and seen[:4] == [st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size]:
                head, done = seen[4], seen[5]
                complete, partial = [_decode(r) for r in seen[6]], [_decode(r) for r in seen[7]]
            else:
                head = _head(path)
                same = seen is not None and seen[:2] == [st.st_dev, st.st_ino] and seen[4] == head
                if seen is not None and same and seen[5] <= st.st_size:
                    more = read_from(Path(path), seen[5], parse)  # the same file, grown
                    done, complete, partial = more.done, [_decode(r) for r in seen[6]] + more.complete, more.partial
                else:  # new to the cache, replaced, truncated or rewritten in place
                    tail = tail_events(Path(path), since_ms, parse)
                    done, complete, partial = tail.done, tail.complete, tail.partial
        except OSError:
            continue  # deleted or unreadable since the walk: the scan will say so
        complete = reduce_keys(e for e in complete if e.time_ms >= since_ms)  # streamed lines: one each
        partial = [e for e in partial if e.time_ms >= since_ms]
        found.extend(complete)
        found.extend(partial)
        if cache is not None:
            cache["files"][path] = [st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size, head, done,
                                    [_encode(e) for e in complete], [_encode(e) for e in partial]]
    return merge_events(found)


CACHE_VERSION = 2
HEAD_BYTES = 256  # a file whose first bytes changed was rewritten, not appended to


def _head(path: str) -> str:
    with open(path, "rb") as f:
        return f.read(HEAD_BYTES).hex()


def _encode(e: Event) -> list[Any]:
    return [e.key, e.message_id, e.time_ms, e.model, *e.tokens, e.session, e.sidechain, e.fast]


def _decode(r: list[Any]) -> Event:
    return Event(r[0], r[1], r[2], r[3], (r[4], r[5], r[6], r[7], r[8]), r[9], "", "", r[10], r[11])


def load_cache(path: Path) -> tuple[dict[str, Any], bytes]:
    """The status line's read positions and recent events, and the file's bytes; {} when
    missing or unreadable (a cache only: the logs are read afresh)."""
    try:
        raw = path.read_bytes()
        data = orjson.loads(raw)
    except (OSError, orjson.JSONDecodeError):
        return {}, b""
    return (data, raw) if isinstance(data, dict) else ({}, b"")


def save_cache(path: Path, cache: Mapping[str, Any], *, was: bytes = b"") -> None:
    """Replace the cache file whole (a rename, so a reader sees the old or the new) unless it
    holds this already; only into a state folder that exists, and silently not at all when
    that fails."""
    data = orjson.dumps(cache)
    if data == was or not path.parent.is_dir():
        return
    write_disposable(path, data)


def recent_logs(env: Mapping[str, str], home: Path, since_ns: int) -> Iterator[tuple[str, str, os.stat_result]]:
    """(source, path, stat) of the log files modified since `since_ns`. The walk `logfiles.find_logs`
    makes, cut to what this needs: no symlinks followed, folders told by their directory entry
    (no stat), only log files stat'ed, and no warnings (the scan gives those)."""
    for name in LINE_PARSERS:
        source = SOURCES[name]
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
                            elif source.is_log_file(entry.name) and entry.is_file(follow_symlinks=False):
                                st = entry.stat(follow_symlinks=False)
                                if st.st_mtime_ns >= since_ns:
                                    yield name, entry.path, st
                        except OSError:
                            continue


class Tail(NamedTuple):
    complete: list[Event]  # from lines ending in a newline
    partial: list[Event]  # from a last line without one (read again next time: it may grow)
    done: int  # where the complete lines end


def _events(lines: Iterable[bytes], parse: Callable[[bytes], Event | None], out: list[Event]) -> int | None:
    """Parse usage lines into `out`; the earliest time seen, or None."""
    earliest = None
    for line in lines:
        if b'"usage"' not in line:
            continue
        try:
            event = parse(line)
        except BadLine:
            continue  # counted by the scan; a half-written last line waits for it
        if event is not None:
            out.append(event)
            for step in event.extra or ():  # compaction and advisor steps billed apart, as the scan counts them
                step.session = event.session
                out.append(step)
            earliest = event.time_ms if earliest is None else min(earliest, event.time_ms)
    return earliest


def tail_events(path: Path, since_ms: int, parse: Callable[[bytes], Event | None]) -> Tail:
    """The events at the end of one log, back to the first piece that shows a response older
    than `since_ms` (lines are appended in time order; a resumed session's replayed history
    sits at its file's start). Pieces start small and double: most files touched lately hold
    only a few recent lines at their end. Older events may be among those returned."""
    complete: list[Event] = []
    partial: list[Event] = []
    with open(path, "rb") as f:
        pos = done = f.seek(0, os.SEEK_END)
        carry = b""
        size = FIRST_CHUNK
        trailing_known = False
        while pos > 0:
            size = min(size, pos)
            pos -= size
            f.seek(pos)
            lines = (f.read(size) + carry).split(b"\n")
            carry = lines.pop(0) if pos > 0 else b""
            earliest = None
            if not trailing_known:
                if not lines:
                    continue  # no newline yet in what was read: it all belongs to one line
                trailing = lines.pop()
                done -= len(trailing)
                trailing_known = True
                earliest = _events([trailing], parse, partial)
            found = _events(lines, parse, complete)
            if found is not None and found < since_ms or earliest is not None and earliest < since_ms:
                break
            size = min(2 * size, LAST_CHUNK)
    return Tail(complete, partial, done)


def read_from(path: Path, start: int, parse: Callable[[bytes], Event | None]) -> Tail:
    """The events in one log from `start` (where complete lines ended last time) to its end."""
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read()
    lines = data.split(b"\n")
    trailing = lines.pop()
    complete: list[Event] = []
    partial: list[Event] = []
    _events(lines, parse, complete)
    _events([trailing], parse, partial)
    return Tail(complete, partial, start + len(data) - len(trailing))


def gather(paths: StatePaths, env: Mapping[str, str], home: Path, *, now_ms: int, cached: bool = False) -> Live:
    """This device's usage up to now: the ledger's hours before the cut, the logs from it on.
    With `cached`, log reading resumes where the last cached call stopped (the status line)."""
    ledger = read_ledger(paths)
    scanned = last_scan_ms(paths, ledger.get("generation")) if ledger else None
    cut = cut_ms(now_ms, scanned)
    cache, was = load_cache(paths.live_cache) if cached else (None, b"")
    events = recent_events(env, home, cut, cache=cache)
    if cache is not None:
        save_cache(paths.live_cache, cache, was=was)
    activities = hour_activities(ledger, before_ms=cut) if ledger else []
    activities.extend(to_activity(e) for e in events)
    return Live(ledger, cut, scanned, events, activities)
