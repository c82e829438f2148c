"""Progress toward a goal: pace, projection, on track or not. Pure, standard library only, so
the status line can show it without loading pydantic (`goal.py` holds the goal's schema)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Literal, NamedTuple, Protocol

Metric = Literal["processed", "all", "output", "cost"]


class Target(Protocol):
    """What progress needs of a goal (`goal.Goal` is one)."""

    @property
    def target(self) -> int | float: ...
    @property
    def metric(self) -> Metric: ...
    @property
    def deadline(self) -> date: ...
    @property
    def source(self) -> str | None: ...


class GoalProgress(NamedTuple):
    target: int | float
    metric: Metric
    deadline: date
    source: str | None  # the only source counted, or None for all of them
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
    reached_date: date | None = None  # the day the running total first met the target
    start: date | None = None  # a goal with a window counts usage from this day on
    pending: bool = False  # set on this device and not in the sync repo yet: the next sync pushes it


def progress(goal: Target, *, daily: Mapping[date, float], devices: Mapping[str, float], today: date) -> GoalProgress:
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
    elif pace > 0 and (days := math.ceil(remaining / pace)) <= (date.max - today).days:
        # Today counts toward the pace already, so finishing takes whole days after it.
        projected = today + timedelta(days=days)
    else:  # no pace, or not before the calendar ends (year 9999): no date to show
        projected = None
    shares = [
        (device, value, value / current if current else 0.0)
        for device, value in sorted(devices.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return GoalProgress(
        target=goal.target,
        metric=goal.metric,
        deadline=goal.deadline,
        source=goal.source,
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
        reached_date=_reached(daily, goal.target) if remaining == 0 else None,
        start=getattr(goal, "start", None),
    )


def _reached(daily: Mapping[date, float], target: float) -> date | None:
    running = 0.0
    for day in sorted(daily):
        running += daily[day]
        if running >= target:
            return day
    return None


def _pace(daily: Mapping[date, float], today: date, days: int) -> float:
    return sum(daily.get(today - timedelta(days=i), 0) for i in range(days)) / days
