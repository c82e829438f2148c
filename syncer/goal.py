"""The shared goal (a target and a date) and the maths of progress toward it. Pure."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from syncer.documents import canonical, refuse_newer
from syncer.documents import json_schema as json_schema_of
from syncer.errors import GoalCorrupt, UsageError
from syncer.report import Report, Totals

Metric = Literal["processed", "all", "output", "cost"]
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
            raise UsageError(f"target {text!r} is out of range: give at least a cent")
        cents = round(value, 2)
        return int(cents) if cents.is_integer() else cents
    if value < 1 or value > 10**18:
        raise UsageError(f"target {text!r} is out of range")
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


@dataclass(frozen=True)
class GoalProgress:
    target: int | float
    metric: Metric
    deadline: date
    current: float
    percent: float
    remaining: float
    days_left: int
    required_per_day: float
    pace_7d: float
    pace_30d: float
    projected_date: date | None
    on_track: bool
    devices: list[tuple[str, float, float]]  # device, its current, its share of current (0..1)

    def as_json(self) -> dict[str, object]:
        return {
            "target": self.target,
            "metric": self.metric,
            "deadline": self.deadline.isoformat(),
            "current": _number(self.current),
            "percent": round(self.percent, 2),
            "remaining": _number(self.remaining),
            "days_left": self.days_left,
            "required_per_day": _number(self.required_per_day),
            "pace_7d": _number(self.pace_7d),
            "pace_30d": _number(self.pace_30d),
            "projected_date": self.projected_date.isoformat() if self.projected_date else None,
            "on_track": self.on_track,
            "devices": [
                {"device": d, "current": _number(v), "share": round(share * 100, 2)} for d, v, share in self.devices
            ],
        }


def _number(value: float) -> float | int:
    return round(value, 2) if isinstance(value, float) and not value.is_integer() else int(value)


def progress(goal: Goal, *, daily: Mapping[date, float], devices: Mapping[str, float], today: date) -> GoalProgress:
    """Where the goal stands on `today` (the user's local date), from every device's usage.

    `daily` is the metric per local day over all devices; paces are averages over the last 7
    and 30 days including today; `days_left` counts today and the deadline.
    """
    current = sum(devices.values())
    remaining = max(0.0, goal.target - current)
    days_left = max(0, (goal.deadline - today).days + 1)
    pace_7d = _pace(daily, today, 7)
    pace_30d = _pace(daily, today, 30)
    pace = pace_7d or pace_30d
    if remaining == 0:
        projected: date | None = today
    elif pace > 0:
        # Today counts toward the pace already, so finishing takes whole days after it.
        projected = today + timedelta(days=math.ceil(remaining / pace))
    else:
        projected = None
    shares = [
        (device, value, value / current if current else 0.0)
        for device, value in sorted(devices.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return GoalProgress(
        target=goal.target,
        metric=goal.metric,
        deadline=goal.deadline,
        current=current,
        percent=100.0 * current / goal.target,
        remaining=remaining,
        days_left=days_left,
        required_per_day=remaining / days_left if days_left else remaining,
        pace_7d=pace_7d,
        pace_30d=pace_30d,
        projected_date=projected,
        on_track=remaining == 0 or (projected is not None and projected <= goal.deadline),
        devices=shares,
    )


def _pace(daily: Mapping[date, float], today: date, days: int) -> float:
    return sum(daily.get(today - timedelta(days=i), 0) for i in range(days)) / days


def json_schema() -> bytes:
    """The JSON Schema of the sync repo's `goal.json`."""
    return json_schema_of(Goal, title="ccsync goal (goal.json)")


def progress_from(goal: Goal, *, daily: Report, devices: Report, today: date) -> GoalProgress:
    """`progress` from a daily report and a by-device report over every device."""
    series = {date.fromisoformat(row.key): metric_value(row.totals, goal.metric) for row in daily.rows}
    shares = {row.key: metric_value(row.totals, goal.metric) for row in devices.rows}
    return progress(goal, daily=series, devices=shares, today=today)
