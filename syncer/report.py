"""Reports: ledgers in, rows out. Pure: no clock, no files; costs priced at report time."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Literal

from syncer import blocks
from syncer.ledger import HourRow, Ledger, SessionUsage, hour_index
from syncer.pricing import ModelPrice, PriceTable, cost_usd, find_price
from syncer.sources import SOURCES
from syncer.usage import Usage

Kind = Literal["daily", "weekly", "monthly", "session", "model", "project", "branch", "source"]
PricedRow = HourRow | SessionUsage
KEY_FIELD: dict[str, str] = {
    "daily": "date", "weekly": "week", "monthly": "month", "session": "session",
    "model": "model", "project": "project", "branch": "branch", "device": "device", "owner": "owner",
    "source": "source",
}


@dataclass
class Totals:
    """Summed counts with their cost; `cost_usd` leaves out unpriced models (see `unpriced`)."""

    usage: Usage = field(default_factory=Usage)
    messages: int = 0
    cost_usd: float = 0.0
    unpriced: set[str] = field(default_factory=set)
    priced: bool = False  # some of it has a price (else the cost is unknown, not $0)

    def add_row(self, row: PricedRow | Totals, cost: float | None, model: str | None) -> None:
        if isinstance(row, Totals):
            self.usage.add(row.usage)
            self.messages += row.messages
            self.cost_usd += row.cost_usd
            self.unpriced |= row.unpriced
            self.priced = self.priced or row.priced
            return
        self.usage.add(
            Usage(row.input_tokens, row.output_tokens, row.cache_creation_tokens,
                  row.cache_creation_1h_tokens, row.cache_read_tokens)
        )
        self.messages += row.messages
        if cost is None:
            if model is not None:
                self.unpriced.add(model)
        else:
            self.cost_usd += cost
            self.priced = True

    @property
    def cost_known(self) -> bool:
        return self.priced or not self.unpriced


@dataclass
class Row:
    key: str
    totals: Totals = field(default_factory=Totals)
    models: dict[str, Totals] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)


@dataclass
class Report:
    kind: str
    rows: list[Row]
    total: Totals
    warnings: list[str]


@dataclass(frozen=True)
class Window:
    """Which usage a report covers: days (inclusive) and one source, or everything."""

    since: date | None = None
    until: date | None = None
    source: str | None = None

    def holds(self, day: date) -> bool:
        return (self.since is None or day >= self.since) and (self.until is None or day <= self.until)


class Pricer:
    """Prices rows by source, model and tier."""

    def __init__(self, table: PriceTable) -> None:
        self._table = table
        self._prices: dict[tuple[str, str], ModelPrice | None] = {}  # hashing the table costs more

    def __call__(self, source: str, row: PricedRow) -> float | None:
        key = (source, row.model)
        if key in self._prices:
            price = self._prices[key]
        else:
            price = self._prices[key] = _lookup(self._table, source, row.model)
        if price is None:
            return None
        usage = Usage(row.input_tokens, row.output_tokens, row.cache_creation_tokens,
                      row.cache_creation_1h_tokens, row.cache_read_tokens)
        return cost_usd(price, usage, long_context=row.long_context, fast=row.fast)


@lru_cache(maxsize=512)
def _lookup(table: PriceTable, source: str, model: str) -> ModelPrice | None:
    """A source names its models its own way; it says which table entry one is (DESIGN §8)."""
    adapter = SOURCES.get(source)
    name = adapter.price_name(model) if adapter is not None else model
    return find_price(table, name) if name else None


def stamp(moment: datetime) -> str:
    """`moment`'s own date and time as `YYYY-MM-DDTHH:MM:SSZ` (the ledger's times are UTC).
    isoformat is several times faster than strftime, and a team has tens of thousands of
    sessions; strftime writes a year before 1000 without its zeros, so that one keeps it."""
    return moment.isoformat()[:19] + "Z" if moment.year >= 1000 else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _local_date(moment: datetime, zone: tzinfo) -> date:
    try:
        return moment.astimezone(zone).date()
    except (OverflowError, ValueError):  # past year 9999 in this zone
        return date.max


def local_day(hour: int, zone: tzinfo) -> date:
    """The local date an hourly UTC bucket belongs to (by the hour's start)."""
    try:
        return datetime.fromtimestamp(hour * 3600, zone).date()
    except (OverflowError, ValueError):  # past year 9999 in this zone: the calendar's last day
        return date.max if hour > 0 else date.min


_NEAR_MAX = date.max - timedelta(days=2)


@lru_cache(maxsize=1 << 17)
def label_day(label: str, zone: tzinfo) -> date:
    """`local_day` of an hour label; every report of a run asks again for the same hours."""
    return local_day(hour_of(label), zone)


@lru_cache(maxsize=1 << 17)
def hour_of(label: str) -> int:
    """`hour_index`, remembered: a team's rows share their hours, and reports ask again."""
    return hour_index(label)


def build(
    kind: str,
    ledgers: Sequence[Ledger],
    *,
    zone: tzinfo,
    window: Window,
    pricer: Callable[[str, PricedRow], float | None],
    week_start: int = 0,
) -> Report:
    """Group every ledger's hourly rows (or sessions) into one report.

    Counts are summed per (row, model, pricing tier) first and priced once per group: cost is
    linear in tokens, and 20 devices' two years are tens of thousands of hourly rows."""
    groups: dict[tuple[str, str, str, bool, bool], list[int]] = {}
    extra: dict[str, dict[str, object]] = {}

    def add(key: str, source: str, row: PricedRow) -> None:
        counts = groups.get((key, source, row.model, row.long_context, row.fast))
        if counts is None:
            groups[(key, source, row.model, row.long_context, row.fast)] = list(row[-6:])
        else:
            for i, value in enumerate(row[-6:]):
                counts[i] += value

    if kind == "session":
        for ledger in ledgers:
            for session in ledger.sessions:
                if not window.holds(_local_date(session.last, zone)):
                    continue
                if window.source is not None and session.source != window.source:
                    continue
                extra[session.id] = {
                    "source": session.source, "project": session.project, "branch": session.branch,
                    "device": ledger.device,
                    "first": stamp(session.first),
                    "last": stamp(session.last),
                }
                for usage in session.usage:
                    add(session.id, session.source, usage)
    else:
        def day(label: str) -> date:
            return label_day(label, zone)

        key_of = _key_function(kind, day, week_start)
        if kind in ("daily", "weekly", "monthly"):
            key_of = _once_per_hour(key_of)
        all_days = window.since is None and window.until is None
        source = window.source
        # Hour labels sort as time does: rows a day or more outside the window are skipped by
        # comparing labels (no zone is 24 hours from UTC); the rest by their local day.
        low = (window.since - timedelta(days=1)).isoformat() if window.since and window.since > date.min else ""
        high = (window.until + timedelta(days=2)).isoformat() if window.until and window.until < _NEAR_MAX else "~"
        for ledger in ledgers:
            for hour_row in ledger.hours:
                if (source is None or hour_row.source == source) and (
                    all_days or (low <= hour_row.hour < high and window.holds(day(hour_row.hour)))
                ):
                    add(key_of(hour_row, ledger), hour_row.source, hour_row)

    rows: dict[str, Row] = {}
    for (key, source, model, long_context, fast), counts in groups.items():
        usage = SessionUsage(model, long_context, fast, *counts)
        row = rows.get(key)
        if row is None:
            row = rows[key] = Row(key, extra=extra.get(key, {}))
        _add(row, usage, pricer(source, usage))
    if kind == "session":
        ordered = sorted(rows.values(), key=lambda r: (str(r.extra["last"]), r.key))
    else:
        ordered = sorted(rows.values(), key=lambda r: r.key)
    total = Totals()
    for row in ordered:
        total.add_row(row.totals, None, None)
    return Report(kind, ordered, total, unpriced_warnings(total.unpriced))


def _add(row: Row, usage: SessionUsage, cost: float | None) -> None:
    row.totals.add_row(usage, cost, usage.model)
    model = row.models.get(usage.model)
    if model is None:
        model = row.models[usage.model] = Totals()
    model.add_row(usage, cost, usage.model)


def _key_function(
    kind: str, day: Callable[[str], date], week_start: int = 0
) -> Callable[[HourRow, Ledger], str]:
    if kind == "daily":
        return lambda r, _: day(r.hour).isoformat()
    if kind == "weekly":
        return lambda r, _: (day(r.hour) - timedelta(days=(day(r.hour).weekday() - week_start) % 7)).isoformat()
    if kind == "monthly":
        return lambda r, _: day(r.hour).strftime("%Y-%m")
    if kind == "model":
        return lambda r, _: r.model
    if kind == "project":
        return lambda r, _: r.project
    if kind == "branch":
        return lambda r, _: r.branch
    if kind == "source":
        return lambda r, _: r.source
    if kind == "device":
        return lambda _, ledger: ledger.device
    if kind == "owner":
        return lambda _, ledger: ledger.owner or ""  # a device that names no owner
    raise ValueError(f"unknown report kind {kind!r}")


def _once_per_hour(key_of: Callable[[HourRow, Ledger], str]) -> Callable[[HourRow, Ledger], str]:
    """A key that depends on the row's hour only, worked out once per hour label."""
    keys: dict[str, str] = {}

    def key(row: HourRow, ledger: Ledger) -> str:
        found = keys.get(row.hour)
        if found is None:
            found = keys[row.hour] = key_of(row, ledger)
        return found

    return key


def unpriced_warnings(models: Iterable[str]) -> list[str]:
    return [
        f"no price known for model {m}: its tokens are counted, its cost is left out "
        "(update ccsync for newer prices)"
        for m in sorted(models)
    ]


def arrange(result: Report, *, descending: bool, last: int | None) -> Report:
    """The rows in key order (sessions by last activity), newest first if asked, the last
    `last` of them only; the total is over the rows shown."""
    rows = result.rows[-last:] if last else result.rows
    if descending:
        rows = rows[::-1]
    if len(rows) == len(result.rows):
        return Report(result.kind, rows, result.total, result.warnings)
    total = Totals()
    for row in rows:
        total.add_row(row.totals, None, None)
    return Report(result.kind, rows, total, result.warnings)


def hour_activities(ledger: Ledger, before_ms: int | None = None) -> list[blocks.Activity]:
    """The ledger's hourly rows as block activities (those of hours before `before_ms`)."""
    limit = None if before_ms is None else before_ms // blocks.HOUR_MS
    out = []
    for row in ledger.hours:
        hour = hour_of(row.hour)
        if limit is None or hour < limit:
            out.append(blocks.Activity.from_hour(hour, row.model, row.long_context, row[-6:], fast=row.fast))
    return out


def price_tiers(
    models: dict[blocks.Tier, list[int]], pricer: Callable[[str, PricedRow], float | None]
) -> tuple[Totals, dict[str, Totals]]:
    """A block's (or a window's) counts per price tier, priced: the total and each model's."""
    total = Totals()
    by_model: dict[str, Totals] = {}
    for (model, long_context, fast), counts in sorted(models.items()):
        usage = SessionUsage(model, long_context, fast, *counts)  # counts: COUNT_FIELDS, in order
        # Blocks keep no source: each model is priced by its name as logged (Claude's rule), and
        # the price table holds OpenAI's and Google's ids too.
        cost = pricer("claude", usage)
        total.add_row(usage, cost, model)
        by_model.setdefault(model, Totals()).add_row(usage, cost, model)
    return total, by_model


def reveal(result: Report, names: Mapping[str, str]) -> Report:
    """Project names this device hashed (privacy hashed) shown as the folder names they hide:
    the shared file keeps the hashes, and only this device knows its own names."""
    if not names:
        return result
    rows = [
        replace(row, key=names.get(row.key, row.key) if result.kind == "project" else row.key,
                extra={**row.extra, "project": names.get(str(row.extra["project"]), row.extra["project"])}
                if "project" in row.extra else row.extra)
        for row in result.rows
    ]
    if result.kind == "project":
        rows.sort(key=lambda r: r.key)  # in name order, as any other report's rows
    return replace(result, rows=rows)
