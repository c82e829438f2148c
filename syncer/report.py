"""Reports: ledgers in, rows out. Pure: no clock, no files; costs priced at report time."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any, Literal, NamedTuple

from syncer import blocks
from syncer.ledger import HourRow, Ledger, SessionUsage, hour_index
from syncer.pricing import ModelPrice, PriceTable, counts_cost, find_price
from syncer.sources import SOURCES
from syncer.usage import Usage

Kind = Literal["daily", "weekly", "monthly", "session", "model", "project", "branch", "source"]
PricedRow = HourRow | SessionUsage
CountsPricer = Callable[[str, str, bool, bool, Sequence[int]], float | None]
KEY_FIELD: dict[str, str] = {
    "daily": "date", "weekly": "week", "monthly": "month", "session": "session",
    "model": "model", "project": "project", "branch": "branch", "device": "device", "owner": "owner",
    "source": "source",
}


# Plain classes and named tuples, not dataclasses: every read command imports this module, and
# creating a dataclass costs about a millisecond.


_PRICED: frozenset[str] = frozenset()


class Totals:
    """Summed counts with their cost; `cost_usd` leaves out unpriced models (see `unpriced`)."""

    __slots__ = ("usage", "messages", "cost_usd", "unpriced", "priced")

    def __init__(self, usage: Usage | None = None, messages: int = 0) -> None:
        self.usage = Usage() if usage is None else usage
        self.messages = messages
        self.cost_usd = 0.0
        self.unpriced = _PRICED  # replaced, never changed: most totals share the one empty set
        self.priced = False  # some of it has a price (else the cost is unknown, not $0)

    def add(self, other: Totals) -> None:
        self.usage.add(other.usage)
        self.messages += other.messages
        self.cost_usd += other.cost_usd
        if other.unpriced:
            self.unpriced |= other.unpriced
        self.priced = self.priced or other.priced

    def add_row(self, row: PricedRow | Totals, cost: float | None, model: str | None) -> None:
        if isinstance(row, Totals):
            self.add(row)
            return
        self.add_counts(row[-6:], cost, model)

    def add_counts(self, counts: Sequence[int], cost: float | None, model: str | None) -> None:
        """`counts` (COUNT_FIELDS, in order: a group's) and their cost: no `Usage` made for them."""
        usage = self.usage
        usage.input_tokens += counts[0]
        usage.output_tokens += counts[1]
        usage.cache_creation_tokens += counts[2]
        usage.cache_creation_1h_tokens += counts[3]
        usage.cache_read_tokens += counts[4]
        self.messages += counts[5]
        self.add_cost(cost, model)

    def add_cost(self, cost: float | None, model: str | None) -> None:
        """`cost` of `model`'s counts, None when it has no price."""
        if cost is None:
            if model is not None:
                self.unpriced |= {model}
        else:
            self.cost_usd += cost
            self.priced = True

    @property
    def cost_known(self) -> bool:
        return self.priced or not self.unpriced


def sum_totals(totals: Iterable[Totals]) -> Totals:
    """What adding each of `totals` to an empty one gives, the same sums in the same order, in
    one loop without a call per item: a report's total over a team's thousands of sessions."""
    inputs = outputs = created = created_1h = read = messages = 0
    cost = 0.0
    priced = False
    unpriced = _PRICED
    for t in totals:
        usage = t.usage
        inputs += usage.input_tokens
        outputs += usage.output_tokens
        created += usage.cache_creation_tokens
        created_1h += usage.cache_creation_1h_tokens
        read += usage.cache_read_tokens
        messages += t.messages
        cost += t.cost_usd
        if t.unpriced:
            unpriced = unpriced | t.unpriced
        priced = priced or t.priced
    total = Totals(Usage(inputs, outputs, created, created_1h, read), messages)
    total.cost_usd, total.priced, total.unpriced = cost, priced, unpriced
    return total


class Row:
    """A report row: its key (a day, a model, a session id...), its totals and each model's, and
    the fields a session row carries besides (`extra`: source, project, times...)."""

    __slots__ = ("key", "totals", "models", "extra")

    def __init__(self, key: str, totals: Totals | None = None, models: dict[str, Totals] | None = None,
                 extra: dict[str, object] | None = None) -> None:
        self.key = key
        self.totals = Totals() if totals is None else totals
        self.models = {} if models is None else models
        self.extra = {} if extra is None else extra


class Report(NamedTuple):
    kind: str
    rows: list[Row]
    total: Totals
    warnings: list[str]
    left_out: int = 0  # sessions older than the `newest` built


class Window(NamedTuple):
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
        return self.counts(source, row.model, row.long_context, row.fast, row[-6:])

    def counts(self, source: str, model: str, long_context: bool, fast: bool, counts: Sequence[int]) -> float | None:
        """The cost of counts in COUNT_FIELDS order (a report's groups), None without a price."""
        key = (source, model)
        if key in self._prices:
            price = self._prices[key]
        else:
            price = self._prices[key] = _lookup(self._table, source, model)
        return None if price is None else counts_cost(price, counts, long_context=long_context, fast=fast)


def _counts_pricer(pricer: Callable[[str, PricedRow], float | None]) -> CountsPricer:
    """`pricer` as `Pricer.counts` is called: a report prices thousands of groups."""
    if isinstance(pricer, Pricer):
        return pricer.counts
    return lambda source, model, long_context, fast, counts: pricer(
        source, SessionUsage(model, long_context, fast, *counts))


@lru_cache(maxsize=512)
def _lookup(table: PriceTable, source: str, model: str) -> ModelPrice | None:
    """A source names its models its own way; it says which table entry one is (DESIGN §8)."""
    adapter = SOURCES.get(source)
    name = adapter.price_name(model) if adapter is not None else model
    return find_price(table, name) if name else None


def stamp(moment: datetime) -> str:
    """`moment`'s own date and time as `YYYY-MM-DDTHH:MM:SSZ` (the ledger's times are UTC).
    A %-format of its fields is three times faster than strftime and twice isoformat, and a
    report session stamps each of a team's thousands of sessions twice; strftime writes a year
    before 1000 without its zeros, so that one keeps it."""
    if moment.year < 1000:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return "%d-%02d-%02dT%02d:%02d:%02dZ" % (  # noqa: UP031 - faster than an f-string of six fields
        moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


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
_DAY, _HOURS_23 = timedelta(days=1), timedelta(hours=23)  # made once: a timedelta costs a microsecond
_HOUR_SUFFIXES = [f"T{hour:02d}" for hour in range(24)]


@lru_cache(maxsize=1 << 17)
def label_day(label: str, zone: tzinfo) -> date:
    """`local_day` of an hour label: from its UTC day's offset in `zone` where that holds all
    day (a team's two years are thousands of hours, and converting each costs a read command
    tens of milliseconds), else by converting the hour."""
    through_day = _day_offset(label[:10], zone)
    if through_day is not None:
        day, minutes = through_day
        shift = (int(label[11:13]) * 60 + minutes) // 1440
        try:
            return day + timedelta(days=shift) if shift else day
        except OverflowError:
            pass
    try:
        return datetime.fromisoformat(label).replace(tzinfo=UTC).astimezone(zone).date()
    except (OverflowError, ValueError):  # past either end of the calendar in this zone
        return date.max if label > "5" else date.min


@lru_cache(maxsize=1 << 14)
def _day_offset(day: str, zone: tzinfo) -> tuple[date, int] | None:
    """The UTC day `day` and `zone`'s offset from UTC in minutes, if the offset is the same
    at its first and last hour (zones change their offset at most once a day); else None."""
    try:
        start = datetime.fromisoformat(day + "T00:00+00:00")  # replace(tzinfo=) costs several times more
        first = start.astimezone(zone).utcoffset()
        last = (start + _HOURS_23).astimezone(zone).utcoffset()
    except (OverflowError, ValueError):
        return None
    if first is None or first != last:
        return None
    return start.date(), int(first.total_seconds()) // 60


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
    newest: int | None = None,
) -> Report:
    """Group every ledger's hourly rows (or sessions) into one report; of the sessions, only
    the `newest` by last activity if given (the rows `arrange(..., last=newest)` keeps of the
    whole report, built without the others: a team's years are thousands of sessions).

    Counts are summed per (row, model, pricing tier) first and priced once per group: cost is
    linear in tokens, and 20 devices' two years are tens of thousands of hourly rows."""
    extra: dict[str, dict[str, object]] = {}
    if kind == "session":
        groups, moments, left_out = _session_groups(ledgers, zone, window, extra, newest)
        return _report(kind, groups, extra, pricer, moments)._replace(left_out=left_out)
    return _report(kind, _hour_groups(kind, ledgers, zone, window, week_start), extra, pricer)


Group = tuple[str, str, str, bool, bool]
"""A report row's key, and the source, model, pricing tier and speed of some of its counts."""


def _add_counts(groups: dict[Group, list[int]], group: Group, row: Sequence[Any]) -> None:
    """Adds the last six items of `row` (a row's counts, or a group's) to the group's."""
    counts = groups.get(group)
    if counts is None:
        groups[group] = list(row[-6:])
    else:  # the six counts, unrolled: this runs once per row of every device's years
        counts[0] += row[-6]
        counts[1] += row[-5]
        counts[2] += row[-4]
        counts[3] += row[-3]
        counts[4] += row[-2]
        counts[5] += row[-1]


def _session_groups(
    ledgers: Sequence[Ledger], zone: tzinfo, window: Window, extra: dict[str, dict[str, object]],
    newest: int | None,
) -> tuple[dict[Group, list[int]], dict[str, datetime], int]:
    """The sessions' groups, when each session (its id) was last active, and how many sessions
    with usage were left out as older than the `newest`. A session recorded by two devices is
    one row, with the fields (and time) of the last record read."""
    all_days = window.since is None and window.until is None
    sessions = [(ledger.device, session) for ledger in ledgers for session in ledger.sessions
                if (window.source is None or session.source == window.source)
                and (all_days or window.holds(_local_date(session.last, zone)))]
    # By the second, as `stamp` shows them: sessions that end in the same second go by id.
    moments = {session.id: session.last.replace(microsecond=0) for _, session in sessions}
    left_out = 0
    if newest is not None:
        used = {session.id for _, session in sessions if session.usage}  # the sessions that make rows
        if len(used) > newest:
            kept = {sid for _, sid in sorted((moments[sid], sid) for sid in used)[-newest:]}
            sessions = [(device, session) for device, session in sessions if session.id in kept]
            left_out = len(used) - newest
    groups: dict[Group, list[int]] = {}
    for device, (sid, source, project, branch, first, last, usages) in sessions:
        extra[sid] = {"source": source, "project": project, "branch": branch, "device": device,
                      "first": stamp(first), "last": stamp(last)}
        for usage in usages:
            _add_counts(groups, (sid, source, usage[0], usage[1], usage[2]), usage)
    return groups, moments, left_out


_FIELD_KEYS = {"model": 2, "project": 3, "branch": 4, "source": 1}
"""Report kinds keyed by one field of the hourly row: its index."""


def _hour_groups(
    kind: str, ledgers: Sequence[Ledger], zone: tzinfo, window: Window, week_start: int
) -> dict[Group, list[int]]:
    groups: dict[Group, list[int]] = {}
    field = _FIELD_KEYS.get(kind)
    timed = field is None and kind not in ("device", "owner")
    period = _period_keys(kind, zone, week_start) if timed else None
    known = _PERIODS[(kind, zone, week_start)] if timed else {}
    for ledger in ledgers:
        key = ledger.device if kind == "device" else (ledger.owner or "")  # owner: "" for a device naming none
        for row in _rows_in(ledger, zone, window):
            # Unpacked at once and added here, not by `_add_counts`: this runs for every row.
            hour, source, model, _, _, long_context, fast, inputs, outputs, created, created_1h, read, messages = row
            if period is not None:
                key = known.get(hour) or period(hour)  # the call only for an hour first seen
            elif field is not None:
                key = row[field]  # type: ignore[assignment]  # a text field: _FIELD_KEYS
            group = (key, source, model, long_context, fast)
            counts = groups.get(group)
            if counts is None:
                groups[group] = [inputs, outputs, created, created_1h, read, messages]
            else:
                counts[0] += inputs
                counts[1] += outputs
                counts[2] += created
                counts[3] += created_1h
                counts[4] += read
                counts[5] += messages
    return groups


_PERIODS: dict[tuple[str, tzinfo, int], dict[str, str]] = {}
"""(kind, zone, first day of the week) -> hour label -> its day, week or month: the reports of
one run (a total and its goal, an export) ask again for the same hours."""


_DAYS: dict[tuple[str, tzinfo, int], dict[str, tuple[int, tuple[str, str, str]] | None]] = {}
"""(kind, zone, first day of the week) -> UTC day -> its offset from UTC in minutes and the
periods of the local days its hours fall on (the day before, the same, the day after), where
one offset holds all day; else None."""


def _period_keys(kind: str, zone: tzinfo, week_start: int) -> Callable[[str], str]:
    if kind not in ("daily", "weekly", "monthly"):
        raise ValueError(f"unknown report kind {kind!r}")
    known = _PERIODS.setdefault((kind, zone, week_start), {})
    days = _DAYS.setdefault((kind, zone, week_start), {})

    def key_of(day: date) -> str:
        if kind == "daily":
            return day.isoformat()
        if kind == "weekly":
            return (day - timedelta(days=(day.weekday() - week_start) % 7)).isoformat()
        return f"{day.year:04d}-{day.month:02d}"  # strftime("%Y") does not pad years before 1000 everywhere

    def through_day(utc_day: str) -> tuple[int, tuple[str, str, str]] | None:
        offset = _day_offset(utc_day, zone)
        if offset is None or not date.min < offset[0] < date.max:
            return None
        day, minutes = offset
        return minutes, (key_of(day - _DAY), key_of(day), key_of(day + _DAY))

    def period(label: str) -> str:
        found = known.get(label)
        if found is None:
            utc_day = label[:10]
            through = days[utc_day] if utc_day in days else days.setdefault(utc_day, through_day(utc_day))
            if through is not None:  # every hour of the day at once: a team's rows share their days
                minutes, keys = through
                for hour, suffix in enumerate(_HOUR_SUFFIXES):
                    known[utc_day + suffix] = keys[(hour * 60 + minutes) // 1440 + 1]
                found = known.get(label)
            if found is None:
                found = known[label] = key_of(label_day(label, zone))
        return found

    return period


def day_groups(ledgers: Sequence[Ledger], *, zone: tzinfo, window: Window) -> list[dict[Group, list[int]]]:
    """Each ledger's hourly rows grouped as `build("daily", [ledger])` groups them: with
    `merge_groups`, the daily figures of every device and of each from one pass over the rows."""
    return [_hour_groups("daily", [ledger], zone, window, 0) for ledger in ledgers]


def day_tokens(ledger: Ledger, *, zone: tzinfo, window: Window, fields: Sequence[str]) -> dict[str, int]:
    """The ledger's hourly rows in `window` per local day, as the sum of their counts `fields`
    (a token goal's metric): the days and figures `build("daily", [ledger])` gives, without the
    per-model groups and totals only a price needs (over a team's years, a fifth of the time)."""
    period = _period_keys("daily", zone, 0)
    known = _PERIODS[("daily", zone, 0)]
    columns = [HourRow._fields.index(name) for name in fields]
    days: dict[str, int] = {}
    for row in _rows_in(ledger, zone, window):
        key = known.get(row[0]) or period(row[0])
        value = days.get(key, 0)
        for column in columns:
            value += row[column]  # type: ignore[operator]  # `fields` name counts
        days[key] = value
    return days


def _rows_in(ledger: Ledger, zone: tzinfo, window: Window) -> list[HourRow]:
    """The ledger's hourly rows in `window`. Hour labels sort as time does: rows a day or more
    outside it are left out by comparing labels (no zone is 24 hours from UTC), the rest by
    their local day."""
    rows = ledger.hours
    if window.source is not None:
        rows = [row for row in rows if row[1] == window.source]
    if window.since is None and window.until is None:
        return rows
    low = (window.since - timedelta(days=1)).isoformat() if window.since and window.since > date.min else ""
    high = (window.until + timedelta(days=2)).isoformat() if window.until and window.until < _NEAR_MAX else "~"
    return [row for row in rows if low <= row[0] < high and window.holds(label_day(row[0], zone))]


def merge_groups(parts: Iterable[dict[Group, list[int]]]) -> dict[Group, list[int]]:
    """The groups of several ledgers' rows, as one pass over all of them makes them: the same
    counts, first seen first (so their costs add up in the same order, to the same float)."""
    merged: dict[Group, list[int]] = {}
    for part in parts:
        for group, counts in part.items():
            _add_counts(merged, group, counts)
    return merged


def key_totals(groups: dict[Group, list[int]], pricer: Callable[[str, PricedRow], float | None]) -> dict[str, Totals]:
    """Each key's totals, priced as `build` prices its rows (without the per-model breakdown)."""
    price = _counts_pricer(pricer)
    totals: dict[str, Totals] = {}
    for (key, source, model, long_context, fast), counts in groups.items():
        found = totals.get(key)
        if found is None:
            found = totals[key] = Totals()
        found.add_counts(counts, price(source, model, long_context, fast, counts), model)
    return totals


def _report(
    kind: str, groups: dict[Group, list[int]], extra: dict[str, dict[str, object]],
    pricer: Callable[[str, PricedRow], float | None], moments: Mapping[str, datetime] | None = None,
) -> Report:
    """Each group priced and added to its row; rows in key order, or by `moments` (sessions by
    their last activity, then id)."""
    price = _counts_pricer(pricer)
    rows: dict[str, Row] = {}
    for (key, source, model, long_context, fast), counts in groups.items():
        cost = price(source, model, long_context, fast, counts)
        row = rows.get(key)
        if row is None:
            # Until a row has a second group its totals are its model's, one object (a report is
            # not changed once built): a team's two years are thousands of one-model sessions.
            totals = Totals()
            totals.add_counts(counts, cost, model)
            rows[key] = Row(key, totals, {model: totals}, extra.get(key))
            continue
        first = row.totals
        if len(row.models) == 1 and next(iter(row.models.values())) is first:  # its second group
            row.totals = Totals()
            row.totals.add(first)
        row.totals.add_counts(counts, cost, model)
        by_model = row.models.get(model)
        if by_model is None:
            by_model = row.models[model] = Totals()
        by_model.add_counts(counts, cost, model)
    if moments is not None:
        ordered = sorted(rows.values(), key=lambda r: (moments[r.key], r.key))
    else:
        ordered = sorted(rows.values(), key=lambda r: r.key)
    total = sum_totals([row.totals for row in ordered])
    return Report(kind, ordered, total, unpriced_warnings(total.unpriced))


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
        return result._replace(rows=rows)
    return result._replace(rows=rows, total=sum_totals([row.totals for row in rows]))


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
        Row(names.get(row.key, row.key) if result.kind == "project" else row.key, row.totals, row.models,
            {**row.extra, "project": names.get(str(row.extra["project"]), row.extra["project"])}
            if "project" in row.extra else row.extra)
        for row in result.rows
    ]
    if result.kind == "project":
        rows.sort(key=lambda r: r.key)  # in name order, as any other report's rows
    return result._replace(rows=rows)
