"""The shared goal (a target and a date) and the maths of progress toward it. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Literal, NamedTuple

import orjson

from syncer.documents import canonical, refuse_newer
from syncer.documents import json_schema as json_schema_of
from syncer.errors import GoalCorrupt, UsageError
from syncer.ledger import Ledger
from syncer.pace import GoalProgress as GoalProgress  # the maths live apart, free of pydantic
from syncer.pace import Metric as Metric
from syncer.pace import progress as progress
from syncer.report import Pricer, Report, Totals, Window, build, day_groups, day_tokens, key_totals, merge_groups

_SUFFIX = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9, "t": 10**12}
_TARGET = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmbt]?)\s*$", re.IGNORECASE)


class Goal(NamedTuple):
    """`goal.json` in the sync repo: one goal shared by every device. Its rules are the schema's
    (`syncer.schemas.goal`): a Goal comes from bytes it validated, or is checked by it (`checked`)."""

    target: int | float  # tokens are whole; a cost target is dollars and cents
    deadline: date
    set_by: str
    set_at: datetime
    metric: Metric = "processed"
    # Version 2 adds `start` and `source`; a goal without either is still written as version 1,
    # which every ccsync reads, and a narrowed one is refused by a ccsync that would count all usage.
    schema_version: Literal[1, 2] = 1
    start: date | None = None  # only usage from this day on counts (else everything ever)
    source: str | None = None
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
    """The goal in goal.json's bytes, validated by its schema (GoalCorrupt, or SchemaTooNew for
    a later ccsync's)."""
    # Here, not at the top: reading a goal the digest memo trusts must not import pydantic.
    from pydantic import ValidationError  # noqa: PLC0415

    from syncer.schemas.goal import Goal as Schema  # noqa: PLC0415

    try:
        raw = orjson.loads(data)
        refuse_newer(raw, supported=2, what=what)
        Schema.model_validate_json(data)
    except (orjson.JSONDecodeError, ValidationError):
        raise GoalCorrupt(f"{what} is not valid; set it again with: ccsync goal set TARGET") from None
    return goal_from_document(raw)


def goal_from_document(doc: Mapping[str, Any]) -> Goal:
    """The goal in a goal.json document its schema accepted (pure: no validation here)."""
    start = doc.get("start")
    return Goal(
        schema_version=doc.get("schema_version", 1), target=doc["target"], metric=doc.get("metric", "processed"),
        deadline=date.fromisoformat(doc["deadline"]), start=None if start is None else date.fromisoformat(start),
        set_by=doc["set_by"], set_at=datetime.fromisoformat(doc["set_at"]), source=doc.get("source"),
    )


def checked(goal: Goal) -> Goal:
    """`goal`, made from the user's input, held to goal.json's rules before anything is written."""
    try:
        return parse_goal(dump_goal(goal), what="the new goal")
    except GoalCorrupt:
        raise UsageError(f"the goal {goal.target} {goal.metric} by {goal.deadline.isoformat()} is not valid "
                         "(see data/goal.schema.json); give another with: ccsync goal set TARGET") from None


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
    doc: dict[str, Any] = {
        "schema_version": 1 if goal.start is None and goal.source is None else 2,
        "target": goal.target, "metric": goal.metric, "deadline": goal.deadline.isoformat(),
        "set_by": goal.set_by, "set_at": _iso(goal.set_at),
    }
    if goal.start is not None:
        doc["start"] = goal.start.isoformat()
    if goal.source is not None:
        doc["source"] = goal.source
    return canonical(doc)


def _iso(moment: datetime) -> str:
    """As pydantic writes a datetime (the bytes of every goal.json written so far): ISO 8601,
    UTC as "Z"."""
    text = moment.isoformat()
    return text[:-6] + "Z" if moment.utcoffset() == timedelta(0) else text


TOKEN_FIELDS: dict[Metric, tuple[str, ...]] = {
    "processed": ("input_tokens", "output_tokens", "cache_creation_tokens"),
    "all": ("input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens"),
    "output": ("output_tokens",),
}
"""The counts each token metric adds up (`Usage.processed_tokens`, `total_tokens`, `output_tokens`)."""


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
    from syncer.schemas.goal import Goal as Schema  # noqa: PLC0415

    return json_schema_of(Schema, title="ccsync goal (goal.json)")


def progress_from(goal: Goal, *, daily: Report, devices: Report, today: date) -> GoalProgress:
    """`progress` from a daily report and a by-device report over every device, both made
    with the goal's window (see `progress_over`)."""
    series = {date.fromisoformat(row.key): metric_value(row.totals, goal.metric) for row in daily.rows}
    shares = {row.key: metric_value(row.totals, goal.metric) for row in devices.rows}
    return progress(goal, daily=series, devices=shares, today=today)


class Standing(NamedTuple):
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
    shares = {row.key: metric_value(row.totals, goal.metric) for row in devices.rows}
    every: dict[date, float] = {}
    if goal.metric == "cost":  # only a cost needs the per-model groups, to price them
        parts = day_groups(ledgers, zone=zone, window=window)
        every = _day_series(key_totals(merge_groups(parts), pricer), goal.metric)
        each = [_day_series(key_totals(part, pricer), goal.metric) for part in parts]
    else:  # whole tokens: adding each device's days up gives the team's exactly
        fields = TOKEN_FIELDS[goal.metric]
        each = [{date.fromisoformat(day): value for day, value in day_tokens(
            ledger, zone=zone, window=window, fields=fields).items()} for ledger in ledgers]
        for series in each:
            for day, value in series.items():
                every[day] = every.get(day, 0) + value
    return Standing(
        progress(goal, daily=every, devices=shares, today=today),
        shares,
        {ledger.device: {day: value for day, value in series.items() if day >= each_since}
         for ledger, series in zip(ledgers, each, strict=True)},
    )


def _day_series(totals: Mapping[str, Totals], metric: Metric) -> dict[date, float]:
    return {date.fromisoformat(day): metric_value(t, metric) for day, t in totals.items()}


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
