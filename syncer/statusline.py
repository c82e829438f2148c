"""`ccsync statusline`: the one line Claude Code shows under its prompt, after every message.

Claude Code pipes a JSON description of the session on stdin and shows the first line printed.
This path must never slow Claude Code down or break its display: standard library and orjson
only (no typer, pydantic or dulwich to import), no network, no lock, and any failure still
prints a line and exits 0. The one file it writes is a disposable cache of where it stopped
reading each recent log (`live-cache.json` in the state folder), so that the next run, a
message later, reads only the new lines.

Segments (in the order asked for; default: model, session, today, block, goal):
- model:   the model's display name, as Claude Code sends it
- session: this session's processed tokens (ledger + the log lines since the last scan) and
           Claude Code's own cost estimate for it
- today:   processed tokens since local midnight on this device
- block:   the plan's 5-hour window: Claude Code's own `rate_limits` when it sends them
           (percent used, time to reset, and the 7-day window), else ccsync's estimate of
           the active 5-hour block (time left); with the burn rate either way
- goal:    the shared goal across all devices (others as of the last `ccsync total`)
"""

from __future__ import annotations

import select
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple, get_args

import orjson

from syncer import blocks, goalcache, live, pace
from syncer.paths import StatePaths, state_paths
from syncer.zones import system_zone

SEGMENTS = ("model", "session", "today", "block", "goal")
SEPARATOR = " · "
STDIN_LIMIT = 1 << 20
STDIN_WAIT = 0.5  # seconds: Claude Code writes its JSON at once; a terminal never does


def compact(n: float) -> str:
    """As render.compact (which this path cannot import): 1.2M, 340k, 12."""
    for size, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "k")):
        if abs(n) >= size:
            return f"{n / size:.1f}".removesuffix(".0") + suffix
    return f"{n:.0f}"


def parse_segments(argv: Sequence[str]) -> tuple[str, ...]:
    """`--segments model,block` (or `--segments=...`); unknown names are left out."""
    chosen: tuple[str, ...] = SEGMENTS
    for i, arg in enumerate(argv):
        value = None
        if arg == "--segments" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--segments="):
            value = arg.split("=", 1)[1]
        if value is not None:
            chosen = tuple(s for s in (p.strip() for p in value.split(",")) if s in SEGMENTS)
    return chosen


def read_stdin(stream: BinaryIO) -> dict[str, Any]:
    """Claude Code's JSON, or {} for nothing, garbage, or a terminal (never waits on one)."""
    try:
        if stream.isatty():
            return {}
        try:
            ready, _, _ = select.select([stream], [], [], STDIN_WAIT)
            if not ready:
                return {}
        except (OSError, ValueError):
            pass  # not selectable (Windows pipes): Claude Code closes stdin, so read
        data = orjson.loads(stream.read(STDIN_LIMIT) or b"{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _get(data: Mapping[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)  # type: ignore[assignment]
    return data


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class _Goal(NamedTuple):
    target: int | float
    metric: pace.Metric
    deadline: date
    source: str | None


def model_segment(data: Mapping[str, Any]) -> str:
    name = _get(data, "model", "display_name") or _get(data, "model", "id")
    return str(name)[:40] if isinstance(name, str) and name else "Claude"


def session_segment(data: Mapping[str, Any], now: live.Live) -> str | None:
    sid = data.get("session_id")
    cost = _number(_get(data, "cost", "total_cost_usd"))
    if not isinstance(sid, str) or not sid:
        return f"session ${cost:.2f}" if cost is not None else None
    counts = live.session_counts(now.ledger, sid) or [0] * 6
    for e in now.events:
        if e.session == sid and (now.last_scan_ms is None or e.time_ms > now.last_scan_ms):
            counts[0] += e.tokens[0]
            counts[1] += e.tokens[1]
            counts[2] += e.tokens[2]
    text = f"session {compact(blocks.processed(counts))}"
    return text + (f" ${cost:.2f}" if cost is not None else "")


def today_segment(now: live.Live, now_ms: int, zone: tzinfo) -> str:
    start = blocks.day_start_ms(now_ms, zone)
    tokens = sum(blocks.processed(a.counts) for a in now.activities if a.time_ms >= start)
    return f"today {compact(tokens)}"


def _reset(value: Any) -> int | None:
    """`resets_at` as epoch milliseconds: Claude Code sends epoch seconds (some builds, ISO)."""
    if isinstance(value, str):
        try:
            return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            return None
    seconds = _number(value)
    return int(seconds * 1000) if seconds is not None else None


def block_segment(data: Mapping[str, Any], now: live.Live, now_ms: int) -> str:
    found = blocks.identify_blocks(now.activities, now_ms=now_ms)  # the whole chain: it fixes the start
    active = next((b for b in reversed(found) if b.is_active), None)
    rate = None
    if active is not None:
        pace = blocks.burn(active, now_ms=now_ms, cost=None)
        if pace.tokens_per_minute is not None:
            rate = f"{compact(pace.tokens_per_minute)} tok/min"
    five = _get(data, "rate_limits", "five_hour")
    used = _number(_get(five, "used_percentage")) if isinstance(five, Mapping) else None
    if used is not None:  # the plan's own meter: better than any estimate
        parts = [f"5h {used:.0f}%"]
        reset = _reset(_get(five, "resets_at"))
        if reset is not None and reset > now_ms:
            parts[0] += f" (resets in {blocks.duration(reset - now_ms)})"
        week = _number(_get(data, "rate_limits", "seven_day", "used_percentage"))
        if week is not None:
            parts.append(f"7d {week:.0f}%")
    elif active is not None:
        parts = [f"block {blocks.duration(active.end_ms - now_ms)} left"]
    else:
        parts = ["no active block"]
    if rate:
        parts.append(rate)
    return SEPARATOR.join(parts)


def goal_segment(paths: StatePaths, now: live.Live, now_ms: int, zone: tzinfo) -> str | None:
    cached = goalcache.read(paths)
    metric = next((m for m in get_args(pace.Metric) if m == getattr(cached, "metric", None)), None)
    if cached is None or metric is None:
        return None
    devices = dict(cached.devices)
    # This device's own figures are fresher than the cache's; the live ones mix every source, so a
    # goal narrowed to one source keeps the cache's figures.
    if cached.metric != "cost" and cached.source is None:
        value = {"processed": blocks.processed, "all": _all_tokens, "output": _output}[cached.metric]
        daily: dict[date, float] = {}
        total = 0.0
        day_of: dict[int, date] = {}
        for a in [*now.activities, *_entry_activities(now.ledger)]:
            hour = a.time_ms // blocks.HOUR_MS
            day = day_of.get(hour)
            if day is None:
                day = day_of[hour] = datetime.fromtimestamp(hour * 3600, UTC).astimezone(zone).date()
            if cached.start is not None and day < cached.start:
                continue  # before the goal's start: the goal does not count it
            v = value(a.counts)
            total += v
            daily[day] = daily.get(day, 0.0) + v
        devices[cached.device] = (total, daily)
    merged: dict[date, float] = {}
    for _, per_day in devices.values():
        for day, amount in per_day.items():
            merged[day] = merged.get(day, 0.0) + amount
    today = datetime.fromtimestamp(now_ms / 1000, UTC).astimezone(zone).date()
    progress = pace.progress(
        _Goal(cached.target, metric, cached.deadline, cached.source),
        daily={d: v for d, v in merged.items() if d > today - timedelta(days=goalcache.PACE_DAYS)},
        devices={name: current for name, (current, _) in devices.items()},
        today=today,
    )
    return f"goal {progress.percent:.0f}% {'on track' if progress.on_track else 'behind'}"


def _entry_activities(ledger: Mapping[str, Any] | None) -> list[blocks.Activity]:
    """This device's entries added by hand or imported, as `total` counts them (less those this
    device removed; a removal by another device reaches the status line with the next total)."""
    if not ledger:
        return []
    removed = {r.get("id") for r in ledger.get("removed", ())}
    return [
        blocks.Activity.from_hour(
            live.hour_index(e["hour"]), e["model"], False,
            # usage.FIELDS order, then messages; an entry has no 1-hour cache creation of its own
            (e.get("input_tokens", 0), e.get("output_tokens", 0), e.get("cache_creation_tokens", 0), 0,
             e.get("cache_read_tokens", 0), 0),
            fast=False,
        )
        for e in ledger.get("entries", ()) if e.get("id") not in removed
    ]


def _all_tokens(c: Sequence[int]) -> int:
    return c[0] + c[1] + c[2] + c[4]


def _output(c: Sequence[int]) -> int:
    return c[1]


def render(
    data: Mapping[str, Any], segments: Sequence[str], *, paths: StatePaths, env: Mapping[str, str], home: Path,
    now_ms: int, zone: tzinfo,
) -> str:
    """The status line for `data` (Claude Code's JSON). Raises on anything unexpected; `main`
    turns that into the minimal line."""
    parts: list[str] = []
    needs_usage = any(s in segments for s in ("session", "today", "block", "goal"))
    try:
        now = live.gather(paths, env, home, now_ms=now_ms, cached=True) if needs_usage else None
    except live.Unreadable:
        now = None
        note = "ccsync: ledger unreadable, run ccsync status"
    else:
        note = ""
    for segment in segments:
        text: str | None = None
        if segment == "model":
            text = model_segment(data)
        elif now is None:
            continue
        elif segment == "session":
            text = session_segment(data, now)
        elif segment == "today":
            text = today_segment(now, now_ms, zone)
        elif segment == "block":
            text = block_segment(data, now, now_ms)
        elif segment == "goal":
            text = goal_segment(paths, now, now_ms, zone)
        if text:
            parts.append(text)
    if note:
        parts.append(note)
    return SEPARATOR.join(parts)


def line(argv: Sequence[str], stdin: BinaryIO, env: Mapping[str, str], home: Path) -> str:
    """The line to print, whatever happens (Claude Code blanks the line on a non-zero exit, so
    the caller always exits 0)."""
    data: dict[str, Any] = {}
    try:
        data = read_stdin(stdin)
        return render(
            data, parse_segments(argv), paths=state_paths(env, home), env=env, home=home,
            now_ms=int(datetime.now(UTC).timestamp() * 1000), zone=system_zone(),
        )
    except Exception:  # noqa: BLE001 - the status line must never fail; the line says so
        return f"{model_segment(data)}{SEPARATOR}ccsync: error, run ccsync status"
