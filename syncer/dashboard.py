"""The dashboard: ledgers in, one self-contained HTML page out. Pure.

`build` computes the page's figures (all from `report.build` and the hourly rows, so the page
agrees with every report); `render` puts them as JSON into the bundled template beside the
vendored charting library (Chart.js, MIT, `assets/`). The page loads nothing: no CDN, no font,
no image, and its Content-Security-Policy forbids every request.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo

import orjson

from syncer import blocks, report
from syncer.goal import GoalProgress, metric_value
from syncer.ledger import Ledger
from syncer.output.documents import goal_fields
from syncer.report import PricedRow

TOP = 10  # rows in each "top" table
BLOCKS = 30  # the latest 5-hour blocks drawn
SERIES = {"device": 12, "source": 6, "model": 8, "owner": 12}  # stacked series before "other"
OTHER = "other"
WEEKLY_AFTER = 120  # days


def build(
    ledgers: Sequence[Ledger],
    *,
    daily: report.Report,
    progress: GoalProgress | None,
    goal_daily: report.Report,
    zone: tzinfo,
    pricer: Callable[[str, PricedRow], float | None],
    now: datetime,
) -> dict[str, object]:
    """The page's figures; `daily` is the ledgers' daily report in `zone`, `goal_daily` the one
    the goal counts (`daily`, or a narrowed goal's one source)."""
    everything = report.Window()
    today = now.astimezone(zone).date()
    first = date.fromisoformat(daily.rows[0].key) if daily.rows else today
    last = max(today, date.fromisoformat(daily.rows[-1].key)) if daily.rows else today
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    # Two years of daily bars are noise: past WEEKLY_AFTER days, a bar is a week (from Monday).
    weekly = len(days) > WEEKLY_AFTER
    monday = first - timedelta(days=first.weekday())
    position = {d.isoformat(): (d - monday).days // 7 if weekly else i for i, d in enumerate(days)}
    labels = (
        sorted({(monday + timedelta(weeks=i)).isoformat() for i in position.values()}) if weekly else list(position)
    )
    cost = [0.0] * len(labels)
    for row in daily.rows:
        cost[position[row.key]] += row.totals.cost_usd
    total = daily.total
    return {
        "generated": now.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "zone": str(zone),
        "devices": sum(1 for ledger in ledgers if ledger.hours),  # a reader-only device (CI) adds nothing
        "period": "week" if weekly else "day",
        "labels": labels,
        "stacks": _stacks(ledgers, position, len(labels), zone),
        "cost": [round(c, 2) for c in cost],
        "totals": {
            "processed_tokens": total.usage.processed_tokens,
            "total_tokens": total.usage.total_tokens,
            "cost_usd": round(total.cost_usd, 2),
            "messages": total.messages,
            "unpriced_models": sorted(total.unpriced),
        },
        "goal": _burn_up(progress, goal_daily, days, today) if progress else None,
        "blocks": _blocks(ledgers, pricer, now, zone),
        "top": {
            **{
                kind: _top(report.build(kind, ledgers, zone=zone, window=everything, pricer=pricer).rows)
                for kind in ("project", "branch", "owner")
            },
            "session": _top(_top_sessions(ledgers, pricer)),
        },
    }


def _stacks(
    ledgers: Sequence[Ledger], position: dict[str, int], width: int, zone: tzinfo
) -> dict[str, list[dict[str, object]]]:
    """Processed tokens per period (the local day's bar), by device, source, model and owner."""
    sums: dict[str, dict[str, list[int]]] = {name: {} for name in SERIES}
    day_of: dict[str, int] = {}
    for ledger in ledgers:
        for h in ledger.hours:
            i = day_of.get(h.hour)
            if i is None:
                i = day_of[h.hour] = position[report.label_day(h.hour, zone).isoformat()]
            processed = h.input_tokens + h.output_tokens + h.cache_creation_tokens
            for name, key in (
                ("device", ledger.device),
                ("source", h.source),
                ("model", h.model),
                ("owner", ledger.owner or "(no owner)"),
            ):
                series = sums[name].get(key)
                if series is None:
                    series = sums[name][key] = [0] * width
                series[i] += processed
    return {name: _biggest(found, SERIES[name]) for name, found in sums.items()}


def _biggest(series: dict[str, list[int]], keep: int) -> list[dict[str, object]]:
    """The `keep` biggest series by sum, the rest summed as "other" (a legend of 40 models
    helps no one)."""
    ordered = sorted(series.items(), key=lambda kv: (-sum(kv[1]), kv[0]))
    kept: list[dict[str, object]] = [{"label": k, "values": v} for k, v in ordered[:keep]]
    rest = ordered[keep:]
    if rest:
        kept.append({"label": OTHER, "values": [sum(column) for column in zip(*(v for _, v in rest), strict=True)]})
    return kept


def _burn_up(progress: GoalProgress, daily: report.Report, days: list[date], today: date) -> dict[str, object]:
    """Cumulative progress per day up to today; from today, the straight line that meets the
    target on the deadline (the required pace) and the line the 7-day pace draws."""
    end = max(progress.deadline, days[-1])
    if progress.projected_date is not None:
        end = max(end, min(progress.projected_date, progress.deadline + timedelta(days=90)))
    axis = [days[0] + timedelta(days=i) for i in range((end - days[0]).days + 1)]
    per_day = {row.key: metric_value(row.totals, progress.metric) for row in daily.rows}
    actual: list[float | None] = []
    running = 0.0
    for d in axis:
        running += per_day.get(d.isoformat(), 0.0)
        actual.append(round(running, 2) if d <= today else None)
    current = progress.current
    pace = progress.pace_7d or progress.pace_30d
    span = max(1, (progress.deadline - today).days)
    required: list[float | None] = []
    projection: list[float | None] = []
    for d in axis:
        ahead = (d - today).days
        on_time = today <= d <= progress.deadline
        required.append(round(current + (progress.target - current) * ahead / span, 2) if on_time else None)
        projection.append(round(current + pace * ahead, 2) if ahead >= 0 else None)
    return {
        **goal_fields(progress),
        "today": today.isoformat(),
        "days": [d.isoformat() for d in axis],
        "actual": actual,
        "required": required,
        "projection": projection,
    }


def _blocks(
    ledgers: Sequence[Ledger], pricer: Callable[[str, PricedRow], float | None], now: datetime, zone: tzinfo
) -> dict[str, object] | None:
    """The latest 5-hour blocks of every ledger's hourly rows together, as `report blocks
    --all-devices` draws them from the ledgers (the page has no logs, so no minute precision);
    None when there is no usage at all."""
    now_ms = int(now.timestamp() * 1000)
    activities = [a for ledger in ledgers for a in report.hour_activities(ledger)]
    found = [b for b in blocks.identify_blocks(activities, now_ms=now_ms) if not b.is_gap]
    if not found:
        return None
    rows = []
    for block in found[-BLOCKS:]:
        totals, by_model = report.price_tiers(block.models, pricer)
        rows.append({
            "start": blocks.iso(block.start_ms),
            "label": datetime.fromtimestamp(block.start_ms / 1000, UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            "processed_tokens": totals.usage.processed_tokens,
            "cost_usd": round(totals.cost_usd, 2) if totals.cost_known else None,
            "models": sorted(by_model),
            "unpriced_models": sorted(totals.unpriced),
            "active": block.is_active,
        })
    return {"count": len(found), "largest": blocks.largest_block(found), "rows": rows}


def _top_sessions(ledgers: Sequence[Ledger], pricer: Callable[[str, PricedRow], float | None]) -> list[report.Row]:
    """The biggest sessions, priced: only those (a team has tens of thousands of sessions)."""
    sessions = [(ledger.device, s) for ledger in ledgers for s in ledger.sessions]
    biggest = heapq.nlargest(
        TOP, sessions,
        key=lambda pair: sum(u.input_tokens + u.output_tokens + u.cache_creation_tokens for u in pair[1].usage),
    )
    rows = []
    for device, s in biggest:
        row = report.Row(s.id, extra={"project": s.project, "device": device,
                                      "last": s.last.strftime("%Y-%m-%dT%H:%M:%SZ")})
        for u in s.usage:
            row.totals.add_row(u, pricer(s.source, u), u.model)
        rows.append(row)
    return rows


def _top(rows: list[report.Row]) -> list[dict[str, object]]:
    ordered = sorted(rows, key=lambda r: (-r.totals.usage.processed_tokens, r.key))[:TOP]
    return [
        {
            "name": r.key or "(none)",
            "processed_tokens": r.totals.usage.processed_tokens,
            "cost_usd": round(r.totals.cost_usd, 2) if r.totals.cost_known else None,
            **{k: str(v) for k, v in r.extra.items() if k in ("project", "device", "last")},
        }
        for r in ordered
    ]


def render(data: dict[str, object], *, template: str, library: str) -> str:
    """The page: the template with the library and the figures inlined. The figures are JSON
    inside a script element, with every `<` escaped so no name can close the element."""
    figures = orjson.dumps(data).decode().replace("<", "\\u003c")
    return template.replace("/*CHART_JS*/", library.replace("</script", "<\\/script")).replace("/*DATA*/", figures)
