"""The shared copy of a ledger, kept under the size every device reads (issue 15, item 7).

A heavy user's ledger outgrows the limit on a device file in a few years (75k sessions made
24 MB), and every other device would then drop that device from `total`. So the bytes a device
publishes fold its oldest history, only as far as needed: the local ledger keeps every row.

Folding is a change of grain, never of counts: before a month boundary, the hourly rows of each
UTC day become one row at noon of that day (noon UTC reads as the same date in most zones: a
folded day's usage shows on its UTC date, where hourly rows split it by local day) and the
sessions that began that day become
one row per (source, project, branch), named `folded:<day>:<hash>`, with their first and last
times and their usage per model added up. If folding to days is not enough, the oldest months
fold the same way to one row per month (the 15th, at noon; `folded:<month>:<hash>`). Totals,
and every report's sum, stay exactly what they were: a folded file is an ordinary version 2
ledger, read by every version 2 reader.

What folds first: months more than a year older than the ledger's newest row (to days, then to
months, oldest first), and only then the last year. The boundaries are a function of the ledger
alone (the earliest month boundaries at which the file fits in three quarters of the limit), so
the same ledger always gives the same bytes, and folding only moves forward as the ledger grows.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import orjson

from syncer.blake import blake2b
from syncer.errors import LedgerCorrupt
from syncer.ledger import COUNT_FIELDS, HourRow, Ledger, Session, SessionUsage, dump_ledger, sum_tokens

PREFIX = "folded:"
TARGET = 3 / 4
"""A shared copy over this share of the limit is folded until it fits in it again."""
RECENT_MONTHS = 12
"""The months kept at full grain the longest (before the newest row's month, it included)."""

_ROW_OVERHEAD = len("    ,\n")  # a row's indent, comma and newline in `dump_ledger`

HourKey = tuple[str, str, str, str, str, bool, bool]
UsageKey = tuple[str, bool, bool]


def shared_bytes(ledger: Ledger, limit: int, data: bytes | None = None) -> bytes:
    """The bytes of `ledger` to publish (`data`: its bytes, if already made): as they are while
    they fit in TARGET of `limit`, else with the oldest history folded until they do. A ledger
    that cannot fit even folded to months is refused (exit 65), never published for other
    devices to drop."""
    data = dump_ledger(ledger) if data is None else data
    target = int(limit * TARGET)
    if len(data) <= target // 2:
        return data  # far from the limit: not worth estimating
    # Decided on the estimate alone, so a folded copy, published again, stays as it is.
    estimate = _size(ledger.hours, ledger.sessions)
    if estimate <= target:
        return data
    folded = dump_ledger(_fitted(ledger, target, estimate))
    if len(folded) > limit:
        raise LedgerCorrupt(
            f"this device's ledger is {len(folded)} bytes even with its history folded to months, over the "
            f"{limit} byte limit every device reads; nothing was pushed"
        )
    return folded


def fold(ledger: Ledger, *, days: str | None, months: str | None) -> Ledger:
    """`ledger` with the rows of UTC days before `days` (an ISO date) folded to one per day,
    and those before `months` (not after `days`) to one per month. Folding folded rows again
    changes nothing; totals and every sum stay as they were."""
    hours = _fold_hours(ledger.hours, days, months)
    sessions = _fold_sessions(ledger.sessions, ledger.install_id, days, months)
    return ledger._replace(hours=hours, sessions=sessions, totals=sum_tokens(hours))


def _period(day: str, days: str | None, months: str | None) -> str | None:
    """The folded row a UTC day's rows go to ("YYYY-MM-DD" or "YYYY-MM"), or None (kept)."""
    if months is not None and day < months:
        return day[:7]
    if days is not None and day < days:
        return day
    return None


def _fold_hours(rows: Iterable[HourRow], days: str | None, months: str | None) -> list[HourRow]:
    kept: list[HourRow] = []
    folded: dict[HourKey, list[int]] = {}
    for row in rows:
        period = _period(row.hour[:10], days, months)
        if period is None:
            kept.append(row)
            continue
        # Noon UTC: the same date from UTC-12 to UTC+11, so a folded day shows on its UTC date.
        label = (period if len(period) == 10 else period + "-15") + "T12"
        key = (label, row.source, row.model, row.project, row.branch, row.long_context, row.fast)
        _add(folded, key, row[7:])
    merged = kept + [HourRow(*key, *counts) for key, counts in folded.items()]
    merged.sort()
    return merged


def _fold_sessions(
    sessions: Iterable[Session], install_id: str, days: str | None, months: str | None
) -> list[Session]:
    kept: list[Session] = []
    groups: dict[str, list[Any]] = {}  # id -> source, project, branch, first, last, usage
    names: dict[tuple[str, str, str], str] = {}
    for s in sessions:
        period = _period(s.first.date().isoformat(), days, months)
        if period is None:
            kept.append(s)
            continue
        where = (s.source, s.project, s.branch)
        name = names.get(where)
        if name is None:
            name = names[where] = _digest(install_id, *where)
        sid = f"{PREFIX}{period}:{name}"
        group = groups.get(sid)
        if group is None:
            group = groups[sid] = [s.source, s.project, s.branch, s.first, s.last, {}]
        else:
            group[3], group[4] = min(group[3], s.first), max(group[4], s.last)
        for u in s.usage:
            _add(group[5], (u.model, u.long_context, u.fast), u[3:])
    folded = [
        Session(sid, g[0], g[1], g[2], g[3], g[4], [SessionUsage(*k, *v) for k, v in sorted(g[5].items())])
        for sid, g in groups.items()
    ]
    return sorted(kept + folded, key=lambda s: s.id)


def holds_all(newer: Ledger, older: Ledger) -> bool:
    """Whether `newer` counts everything `older` does: every session of it, at least as large.
    (Totals alone cannot tell a renamed record from a copy that went on on another machine.)
    Where either was folded, both are compared at the grain of the more folded one, folded
    rows by period alone (a project renamed since, by a change of privacy, names them anew)."""
    a, b = newer.totals, older.totals
    if any(getattr(a, f) < getattr(b, f) for f in COUNT_FIELDS):
        return False
    days, months = folded_through((newer, older))
    ours = _by_period(_fold_sessions(newer.sessions, newer.install_id, days, months) if days else newer.sessions)
    theirs = _fold_sessions(older.sessions, older.install_id, days, months) if days else older.sessions
    for key, usage in _by_period(theirs).items():
        held = ours.get(key)
        if held is None:
            return False
        for what, counts in usage.items():
            have = held.get(what)
            if have is None or any(x < y for x, y in zip(have, counts, strict=True)):
                return False
    return True


def _by_period(sessions: Iterable[Session]) -> dict[str, dict[UsageKey, list[int]]]:
    """Each session's usage by id, folded rows added up by their period."""
    table: dict[str, dict[UsageKey, list[int]]] = {}
    for s in sessions:
        key = s.id.rsplit(":", 1)[0] if s.id.startswith(PREFIX) else s.id
        usage = table.setdefault(key, {})
        for u in s.usage:
            _add(usage, (u.model, u.long_context, u.fast), u[3:])
    return table


def folded_through(ledgers: Iterable[Ledger]) -> tuple[str | None, str | None]:
    """The boundaries (days, months) the folded rows of `ledgers` show: the day after the
    latest folded day (or month), and the first day after the latest folded month."""
    days: str | None = None
    months: str | None = None
    for ledger in ledgers:
        for s in ledger.sessions:
            if not s.id.startswith(PREFIX):
                continue
            name = s.id[len(PREFIX):].split(":", 1)[0]
            try:
                if len(name) == 7:
                    end = _next_month(name + "-01")
                    months = max(months or end, end)
                else:
                    end = date.fromordinal(date.fromisoformat(name).toordinal() + 1).isoformat()
                days = max(days or end, end)
            except ValueError:
                continue  # a session id that only looks like ours
    return days, months


def folded_before_ms(ledger: Ledger) -> int | None:
    """Milliseconds since the epoch before which this ledger's sessions may be folded."""
    days, _ = folded_through([ledger])
    if days is None:
        return None
    moment = datetime.fromisoformat(days + "T00:00:00+00:00")
    return int(moment.timestamp()) * 1000


# -- choosing the boundaries -----------------------------------------------------------------


Part = tuple[list[HourRow], list[Session]]


def _fitted(ledger: Ledger, target: int, estimate: int) -> Ledger:
    """`ledger` folded at the earliest month boundaries at which it fits in `target` bytes, as
    estimated from each row's size (the caller checks the real bytes). Each month is folded on
    its own (a folded row never spans two), so the result is `fold` at those boundaries."""
    hours: dict[str, list[HourRow]] = {}
    sessions: dict[str, list[Session]] = {}
    for row in ledger.hours:
        hours.setdefault(row.hour[:7], []).append(row)
    for s in ledger.sessions:
        sessions.setdefault(s.first.date().isoformat()[:7], []).append(s)
    order = sorted(hours.keys() | sessions.keys())
    # Each month's rows as they are, then folded to days, then to one month: made as needed.
    grains: dict[str, list[Part]] = {m: [(hours.get(m, []), sessions.get(m, []))] for m in order}
    sizes: dict[str, list[int]] = {}
    recent = order[-RECENT_MONTHS:]
    old = order[: len(order) - len(recent)]
    size = estimate
    for group in (old, recent):  # the older months first, and each to days before any to months
        for to_months in (False, True):
            for month in group:
                end = _next_month(month + "-01")
                until = end if to_months else None
                last = grains[month][-1]
                sizes.setdefault(month, [_size(*last)])
                grains[month].append(
                    (_fold_hours(last[0], end, until), _fold_sessions(last[1], ledger.install_id, end, until))
                )
                sizes[month].append(_size(*grains[month][-1]))
                size -= sizes[month][-2] - sizes[month][-1]
                if size <= target:
                    return _assembled(ledger, [grains[m][-1] for m in order])
    return _assembled(ledger, [grains[m][-1] for m in order])


def _assembled(ledger: Ledger, parts: Sequence[Part]) -> Ledger:
    hours = sorted(row for part in parts for row in part[0])
    sessions = sorted((s for part in parts for s in part[1]), key=lambda s: s.id)
    return ledger._replace(hours=hours, sessions=sessions, totals=sum_tokens(hours))


def _size(hours: Sequence[HourRow], sessions: Sequence[Session]) -> int:
    """About the bytes `dump_ledger` gives these rows (times are written a little differently)."""
    hour_bytes = sum(len(orjson.dumps(list(row))) for row in hours)
    session_bytes = sum(len(orjson.dumps([*s[:6], [list(u) for u in s.usage]])) for s in sessions)
    return hour_bytes + session_bytes + _ROW_OVERHEAD * (len(hours) + len(sessions))


def _next_month(day: str) -> str:
    year, month = int(day[:4]), int(day[5:7])
    return f"{year + 1:04d}-01-01" if month == 12 else f"{year:04d}-{month + 1:02d}-01"


def _digest(*parts: str) -> str:
    return blake2b("\0".join(parts).encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()


def _add(table: dict[Any, list[int]], key: Any, counts: Sequence[int]) -> None:
    found = table.get(key)
    if found is None:
        table[key] = list(counts)
    else:  # the six counts, unrolled: this runs once per row of years of history
        found[0] += counts[0]
        found[1] += counts[1]
        found[2] += counts[2]
        found[3] += counts[3]
        found[4] += counts[4]
        found[5] += counts[5]
