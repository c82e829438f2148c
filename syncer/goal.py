"""The shared goal (a target and a date) and the maths of progress toward it. Pure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Annotated, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from syncer.documents import canonical, refuse_newer
from syncer.documents import json_schema as json_schema_of
from syncer.errors import GoalCorrupt, UsageError
from syncer.ledger import Ledger
from syncer.pace import GoalProgress as GoalProgress  # the maths live apart, free of pydantic
from syncer.pace import Metric as Metric
from syncer.pace import progress as progress
from syncer.report import Group, PricedRow, Pricer, Report, Totals, Window, build, day_groups, key_totals, merge_groups

_SUFFIX = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9, "t": 10**12}
_TARGET = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmbt]?)\s*$", re.IGNORECASE)


class Goal(BaseModel):
    """`goal.json` in the sync repo: one goal shared by every device."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)

    # Version 2 adds `start` and `source`; a goal without either is still written as version 1,
    # which every ccsync reads, and a narrowed one is refused by a ccsync that would count all usage.
    schema_version: Literal[1, 2] = 1
    # Tokens are whole; a cost target is dollars and cents.
    target: Annotated[int, Field(gt=0, le=10**18)] | Annotated[float, Field(gt=0, le=10**15)]
    metric: Metric = "processed"
    deadline: date
    start: date | None = None  # only usage from this day on counts (else everything ever)
    set_by: Annotated[str, Field(max_length=63)]
    set_at: datetime
    source: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")] | None = None
    """Count only this source's usage; None (the default) counts every source."""


def parse_target(text: str, metric: Metric = "processed") -> int | float:
    """`100M`, `1.5B`, `250k`, `1_000_000` or a plain integer; for the cost metric, dollars
    (`$2.50`, `1.5k`) to the cent."""
    cleaned = text.replace("_", "").replace(",", "")
    if metric == "cost":
        cleaned = cleaned.strip().removeprefix("$")
    match = _TARGET.match(cleaned)
    if not match:
        raise UsageError(f"target {text!r} is not a number like 100M, 1.5B, 250k or 5000000")
    value = float(match.group(1)) * _SUFFIX[match.group(2).lower()]
    if metric == "cost":
        if not 0.01 <= value <= 10**15:
            raise UsageError(f"target {text!r} is out of range: give between $0.01 and $1,000T")
        cents = round(value, 2)
        return int(cents) if cents.is_integer() else cents
    if value < 1 or value > 10**18:
        raise UsageError(f"target {text!r} is out of range: give between 1 and 1,000,000T tokens")
    return round(value)


def parse_goal(data: bytes, *, what: str = "goal.json in the sync repo") -> Goal:
    try:
        raw = orjson.loads(data)
        refuse_newer(raw, supported=2, what=what)
        return Goal.model_validate(raw, strict=False)
    except (orjson.JSONDecodeError, ValidationError):
        raise GoalCorrupt(f"{what} is not valid; set it again with: ccsync goal set TARGET") from None


Settled = Literal["push", "superseded", "shared"]


def settle(pending: Goal, shared: Goal | None) -> Settled:
    """What becomes of a goal set on this device while the remote was unreachable, once the
    sync repo's goal is known: the goal set last wins, by `set_at`. An older shared goal (or
    none, or an unreadable one: None) is replaced; a newer one, set by another device
    meanwhile, supersedes ours; a tie keeps the shared one, which reached the repo first."""
    if shared == pending:
        return "shared"
    if shared is None or pending.set_at > shared.set_at:
        return "push"
    return "superseded"


def dump_goal(goal: Goal) -> bytes:
    doc = goal.model_dump(mode="json", exclude_none=True)
    doc["schema_version"] = 1 if goal.start is None and goal.source is None else 2
    return canonical(doc)


def metric_value(totals: Totals, metric: Metric) -> float:
    u = totals.usage
    if metric == "processed":
        return u.processed_tokens
    if metric == "all":
        return u.total_tokens
    if metric == "output":
        return u.output_tokens
    return totals.cost_usd


def json_schema() -> bytes:
    """The JSON Schema of the sync repo's `goal.json`."""
    return json_schema_of(Goal, title="ccsync goal (goal.json)")


def progress_from(goal: Goal, *, daily: Report, devices: Report, today: date) -> GoalProgress:
    """`progress` from a daily report and a by-device report over every device, both made
    with the goal's window (see `progress_over`)."""
    series = {date.fromisoformat(row.key): metric_value(row.totals, goal.metric) for row in daily.rows}
    shares = {row.key: metric_value(row.totals, goal.metric) for row in devices.rows}
    return progress(goal, daily=series, devices=shares, today=today)


@dataclass(frozen=True)
class Standing:
    """Where the goal stands, with what each device adds to it (what `goalcache` keeps)."""

    progress: GoalProgress
    shares: dict[str, float]  # device -> its current
    daily: dict[str, dict[date, float]]  # device -> its metric per local day (from `each_since` on)


def standing(goal: Goal, ledgers: Sequence[Ledger], *, zone: tzinfo, pricer: Pricer, today: date,
             each_since: date, devices: Report | None = None) -> Standing:
    """`progress_over`'s progress, and each device's figures per day from `each_since` on, from
    one pass over the hourly rows: every device's daily figures are each device's added up.
    `devices`: the report by device over every source and all time, when the caller made it."""
    window = Window(since=goal.start, source=goal.source)
    if devices is None or goal.start is not None or goal.source is not None:
        devices = build("device", ledgers, zone=zone, window=window, pricer=pricer)
    # Only a cost needs a price; a token metric would pay for pricing every group of every day.
    priced = pricer if goal.metric == "cost" else _no_price
    parts = day_groups(ledgers, zone=zone, window=window)

    def series(groups: dict[Group, list[int]]) -> dict[date, float]:
        return {date.fromisoformat(key): metric_value(t, goal.metric) for key, t in key_totals(groups, priced).items()}

    first = each_since.isoformat()
    shares = {row.key: metric_value(row.totals, goal.metric) for row in devices.rows}
    return Standing(
        progress(goal, daily=series(merge_groups(parts)), devices=shares, today=today),
        shares,
        {ledger.device: series({g: c for g, c in part.items() if g[0] >= first})
         for ledger, part in zip(ledgers, parts, strict=True)},
    )


def _no_price(source: str, row: PricedRow) -> float | None:
    return None


def progress_over(
    goal: Goal, ledgers: Sequence[Ledger], *, zone: tzinfo, pricer: Pricer, today: date,
    daily: Report | None = None, devices: Report | None = None,
) -> tuple[GoalProgress, Report]:
    """The goal's progress over every device's ledgers, and the daily report it counted: only
    usage from the goal's start and of its source, when it names them. `daily` and `devices`
    are the reports over every source and all time when the caller made them already; they
    are reused when the goal narrows neither."""
    narrowed = goal.start is not None or goal.source is not None
    window = Window(since=goal.start, source=goal.source)
    if daily is None or narrowed:
        daily = build("daily", ledgers, zone=zone, window=window, pricer=pricer)
    if devices is None or narrowed:
        devices = build("device", ledgers, zone=zone, window=window, pricer=pricer)
    return progress_from(goal, daily=daily, devices=devices, today=today), daily
