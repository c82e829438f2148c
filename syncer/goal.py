"""The shared goal (a target and a date) and the maths of progress toward it. Pure."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from syncer.documents import canonical, refuse_newer
from syncer.documents import json_schema as json_schema_of
from syncer.errors import GoalCorrupt, UsageError
from syncer.pace import GoalProgress as GoalProgress  # the maths live apart, free of pydantic
from syncer.pace import Metric as Metric
from syncer.pace import progress as progress
from syncer.report import Report, Totals

_SUFFIX = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9, "t": 10**12}
_TARGET = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmbt]?)\s*$", re.IGNORECASE)


class Goal(BaseModel):
    """`goal.json` in the sync repo: one goal shared by every device."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)

    schema_version: Literal[1] = 1
    # Tokens are whole; a cost target is dollars and cents.
    target: Annotated[int, Field(gt=0, le=10**18)] | Annotated[float, Field(gt=0, le=10**15)]
    metric: Metric = "processed"
    deadline: date
    set_by: Annotated[str, Field(max_length=63)]
    set_at: datetime


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


def parse_goal(data: bytes) -> Goal:
    try:
        raw = orjson.loads(data)
        refuse_newer(raw, supported=1, what="goal.json in the sync repo")
        return Goal.model_validate(raw, strict=False)
    except (orjson.JSONDecodeError, ValidationError):
        raise GoalCorrupt(
            "goal.json in the sync repo is not valid; set it again with: ccsync goal set TARGET"
        ) from None


def dump_goal(goal: Goal) -> bytes:
    return canonical(goal.model_dump(mode="json"))


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
    """`progress` from a daily report and a by-device report over every device."""
    series = {date.fromisoformat(row.key): metric_value(row.totals, goal.metric) for row in daily.rows}
    shares = {row.key: metric_value(row.totals, goal.metric) for row in devices.rows}
    return progress(goal, daily=series, devices=shares, today=today)
