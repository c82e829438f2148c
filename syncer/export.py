"""Exports: every device's ledger as typed tables (for SQLite, CSV and Datasette).

Pure: ledgers and reports in, `Table`s out (`commands/export` writes them to SQLite).
The first three tables keep the names and columns other tools' SQLite exports use
(`daily_usage`, `model_breakdown`, `session_usage`), so queries written for those keep
working; the rest is ccsync's own detail. Every figure comes from `report.build`, so an
export always agrees with `ccsync report` and `ccsync total`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Literal

import orjson

from syncer import report
from syncer.goal import Goal, GoalProgress
from syncer.ledger import Ledger, Session
from syncer.output.documents import goal_fields
from syncer.report import PricedRow, Totals

SqlType = Literal["TEXT", "INTEGER", "REAL"]
Value = str | int | float | None


@dataclass(frozen=True)
class Column:
    name: str
    type: SqlType
    description: str


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # the primary key: re-exporting replaces rows by it
    indexes: tuple[tuple[str, ...], ...]
    rows: list[tuple[Value, ...]]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


def _counts(prefix: str = "") -> tuple[Column, ...]:
    what = f" {prefix}" if prefix else ""
    return (
        Column("input_tokens", "INTEGER", f"Uncached input tokens{what} (tokens)"),
        Column("output_tokens", "INTEGER", f"Generated tokens, reasoning included{what} (tokens)"),
        Column("cache_creation_tokens", "INTEGER", f"Tokens written to the prompt cache{what} (tokens)"),
        Column("cache_read_tokens", "INTEGER", f"Tokens read from the prompt cache{what} (tokens)"),
    )


_TOTAL = Column("total_tokens", "INTEGER", "All four token counts (tokens)")
_PROCESSED = Column("processed_tokens", "INTEGER", "Input + output + cache creation: what goals count (tokens)")
_MESSAGES = Column("messages", "INTEGER", "Billable API responses (count)")
_COST = Column("total_cost", "REAL", "Cost at ccsync's price table; null when no model in it has a price (USD)")
_STAMP = "%Y-%m-%dT%H:%M:%SZ"  # UTC, ISO 8601
_MODELS = Column("models_used", "TEXT", "The models used, as a JSON array")
_MODEL_COST = Column("cost", "REAL", "Cost; null when the model has no known price (USD)")
_DATE = Column("date", "TEXT", "Local day (YYYY-MM-DD)")
_DEVICE = Column("device", "TEXT", "Device id")
_OWNER = Column("owner", "TEXT", "The device's owner, if it names one")
_BRANCH = Column("branch", "TEXT", "Git branch")
_ONE = Column("id", "INTEGER", "Always 1")  # the key of a one-row table


def _figures(t: Totals) -> tuple[Value, ...]:
    u = t.usage
    return (u.input_tokens, u.output_tokens, u.cache_creation_tokens, u.cache_read_tokens)


def _cost(t: Totals) -> float | None:
    return round(t.cost_usd, 6) if t.cost_known else None


def _models(row: report.Row) -> str:
    return orjson.dumps(sorted(row.models)).decode()


def build_tables(
    ledgers: Sequence[Ledger],
    *,
    daily: report.Report,
    devices: report.Report,
    goal: Goal | None,
    progress: GoalProgress | None,
    zone: tzinfo,
    pricer: Callable[[str, PricedRow], float | None],
    now: datetime,
) -> list[Table]:
    """Every table of an export, from the ledgers and their daily and by-device reports. Days
    are local days in `zone`; hours stay UTC."""
    owners = {ledger.device: ledger.owner for ledger in ledgers}
    return [
        Table(
            "daily_usage",
            "Daily usage",
            "Tokens and cost per local day, every model together.",
            (
                _DATE,
                *_counts(),
                _TOTAL,
                _COST,
                _MODELS,
                _PROCESSED,
                _MESSAGES,
            ),
            ("date",),
            (),
            [
                (
                    r.key,
                    *_figures(r.totals),
                    r.totals.usage.total_tokens,
                    _cost(r.totals),
                    _models(r),
                    r.totals.usage.processed_tokens,
                    r.totals.messages,
                )
                for r in daily.rows
            ],
        ),
        Table(
            "model_breakdown",
            "Usage by day and model",
            "Each day's tokens and cost, one row per model.",
            (
                _DATE,
                Column("model_name", "TEXT", "Model"),
                *_counts(),
                _MODEL_COST,
                _TOTAL,
                _MESSAGES,
            ),
            ("date", "model_name"),
            (("model_name", "date"),),
            [
                (r.key, m, *_figures(t), _cost(t), t.usage.total_tokens, t.messages)
                for r in daily.rows
                for m, t in sorted(r.models.items())
            ],
        ),
        Table(
            "session_usage",
            "Sessions",
            "One row per CLI session, dated by its last activity.",
            (
                Column("session_id", "TEXT", "Session id"),
                *_counts(),
                _TOTAL,
                _COST,
                Column("last_activity", "TEXT", "Last response (UTC, ISO 8601)"),
                _MODELS,
                Column("project_path", "TEXT", "Project (as the device's privacy setting records it)"),
                Column("first_activity", "TEXT", "First response (UTC, ISO 8601)"),
                _BRANCH,
                _DEVICE,
                _OWNER,
                _MESSAGES,
            ),
            ("session_id",),
            (("last_activity",), ("project_path",), ("device",)),
            _sessions(ledgers, pricer),
        ),
        _hourly(ledgers, owners, pricer),
        Table(
            "devices",
            "Devices",
            "Each device in the sync repository and its whole record.",
            (
                _DEVICE,
                _OWNER,
                *_counts(),
                _TOTAL,
                _PROCESSED,
                _COST,
                _MESSAGES,
                Column("first_hour", "TEXT", "First hour with usage (UTC, YYYY-MM-DDTHH)"),
                Column("last_hour", "TEXT", "Last hour with usage (UTC, YYYY-MM-DDTHH)"),
                Column("generation", "INTEGER", "Ledger generation (grows with every save)"),
            ),
            ("device",),
            (("owner",),),
            [_device_row(r, ledgers) for r in devices.rows],
        ),
        _goal_table(goal, progress),
        Table(
            "export_info",
            "About this export",
            "When and how this file was last written.",
            (
                _ONE,
                Column("exported_at", "TEXT", "UTC, ISO 8601"),
                Column("time_zone", "TEXT", "Zone of the local days"),
                Column("devices", "INTEGER", "Devices included (count)"),
            ),
            ("id",),
            (),
            [(1, now.astimezone(UTC).strftime(_STAMP), str(zone), len(ledgers))],
        ),
    ]


def _sessions(ledgers: Sequence[Ledger], pricer: Callable[[str, PricedRow], float | None]) -> list[tuple[Value, ...]]:
    """Each session's row, priced per model and tier as `report session` prices it. Straight
    from the ledgers: a team has tens of thousands of sessions, and a report's per-model
    breakdown of each would only be thrown away here. An id on two devices (a copied log
    folder) is one row, described by the last device, as in reports."""
    totals: dict[str, Totals] = {}
    models: dict[str, set[str]] = {}
    latest: dict[str, tuple[Session, Ledger]] = {}
    for ledger in ledgers:
        for s in ledger.sessions:
            t, m = totals.setdefault(s.id, Totals()), models.setdefault(s.id, set())
            for u in s.usage:
                t.add_row(u, pricer(s.source, u), u.model)
                m.add(u.model)
            latest[s.id] = (s, ledger)
    rows: list[tuple[Value, ...]] = []
    for sid, (s, ledger) in latest.items():
        t = totals[sid]
        rows.append(
            (
                sid,
                *_figures(t),
                t.usage.total_tokens,
                _cost(t),
                report.stamp(s.last),
                orjson.dumps(sorted(models[sid])).decode(),
                s.project,
                report.stamp(s.first),
                s.branch,
                ledger.device,
                ledger.owner,
                t.messages,
            )
        )
    return rows


def _hourly(
    ledgers: Sequence[Ledger], owners: dict[str, str | None], pricer: Callable[[str, PricedRow], float | None]
) -> Table:
    rows: list[tuple[Value, ...]] = []
    for ledger in ledgers:
        owner = owners[ledger.device]
        for h in ledger.hours:
            cost = pricer(h.source, h)
            rows.append(
                (
                    h.hour,
                    ledger.device,
                    owner,
                    h.source,
                    h.model,
                    h.project,
                    h.branch,
                    int(h.long_context),
                    int(h.fast),
                    h.input_tokens,
                    h.output_tokens,
                    h.cache_creation_tokens,
                    h.cache_read_tokens,
                    h.input_tokens + h.output_tokens + h.cache_creation_tokens + h.cache_read_tokens,
                    None if cost is None else round(cost, 6),
                    h.messages,
                    h.cache_creation_1h_tokens,
                )
            )
    return Table(
        "hourly_usage",
        "Usage by hour",
        "ccsync's finest grain: one UTC hour of one device, source, model, project and branch.",
        (
            Column("hour", "TEXT", "UTC hour (YYYY-MM-DDTHH)"),
            _DEVICE,
            _OWNER,
            Column("source", "TEXT", "The CLI the logs came from"),
            Column("model", "TEXT", "Model"),
            Column("project", "TEXT", "Project"),
            _BRANCH,
            Column("long_context", "INTEGER", "1 for requests over the model's long-context threshold (priced higher)"),
            Column("fast", "INTEGER", "1 for fast-mode requests (priced higher)"),
            *_counts(),
            _TOTAL,
            _MODEL_COST,
            _MESSAGES,
            Column(
                "cache_creation_1h_tokens", "INTEGER", "Part of cache creation written to the 1-hour cache (tokens)"
            ),
        ),
        ("hour", "device", "source", "model", "project", "branch", "long_context", "fast"),
        (("model", "hour"), ("project", "hour"), ("device", "hour"), ("owner",)),
        rows,
    )


def _device_row(row: report.Row, ledgers: Sequence[Ledger]) -> tuple[Value, ...]:
    ledger = next(x for x in ledgers if x.device == row.key)
    hours = [h.hour for h in ledger.hours]
    t = row.totals
    return (
        row.key,
        ledger.owner,
        *_figures(t),
        t.usage.total_tokens,
        t.usage.processed_tokens,
        _cost(t),
        t.messages,
        min(hours, default=None),
        max(hours, default=None),
        ledger.generation,
    )


def _goal_table(goal: Goal | None, progress: GoalProgress | None) -> Table:
    rows: list[tuple[Value, ...]] = []
    if goal is not None and progress is not None:
        p = goal_fields(progress)
        rows.append(
            (
                1,
                goal.target,
                goal.metric,
                goal.deadline.isoformat(),
                goal.set_by,
                goal.set_at.astimezone(UTC).strftime(_STAMP),
                _real(p["current"]),
                _real(p["percent"]),
                _real(p["remaining"]),
                progress.days_left,
                _real(p["required_per_day"]),
                _real(p["pace_7d"]),
                _real(p["pace_30d"]),
                _text(p["projected_date"]),
                int(progress.on_track),
            )
        )
    per_day = "(tokens per day, or USD per day for a cost goal)"
    return Table(
        "goal",
        "Goal",
        "The team's shared goal and where it stands; empty when no goal is set.",
        (
            _ONE,
            Column("target", "REAL", "Target (tokens, or USD for a cost goal)"),
            Column("metric", "TEXT", "processed, all, output or cost"),
            Column("deadline", "TEXT", "YYYY-MM-DD"),
            Column("set_by", "TEXT", "Device that set it"),
            Column("set_at", "TEXT", "UTC, ISO 8601"),
            Column("current", "REAL", "Done so far, in the metric"),
            Column("percent", "REAL", "Done (%)"),
            Column("remaining", "REAL", "Still to go, in the metric"),
            Column("days_left", "INTEGER", "Days left, today and the deadline included"),
            Column("required_per_day", "REAL", f"Pace needed to finish on time {per_day}"),
            Column("pace_7d", "REAL", f"Average of the last 7 days {per_day}"),
            Column("pace_30d", "REAL", f"Average of the last 30 days {per_day}"),
            Column("projected_date", "TEXT", "When the current pace reaches the target; null: never"),
            Column("on_track", "INTEGER", "1 when the projection is on or before the deadline"),
        ),
        ("id",),
        (),
        rows,
    )


def _real(value: object) -> float:
    assert isinstance(value, int | float)
    return float(value)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _newest_first(table: Table) -> dict[str, str]:
    for name in ("date", "hour", "last_activity"):
        if name in table.names:
            return {"sort_desc": name}
    return {}


def datasette_metadata(tables: Sequence[Table], *, database: str) -> dict[str, object]:
    """A Datasette `metadata.json`: titles and descriptions; units are in each column's
    description (Datasette's own `units` takes only physical units, not tokens or dollars)."""
    return {
        "title": "ccsync usage",
        "description": "Tokens and cost of AI coding CLIs, exported by ccsync.",
        "databases": {
            database: {
                "tables": {
                    t.name: {
                        "title": t.title,
                        "description": t.description,
                        "columns": {c.name: c.description for c in t.columns},
                        **_newest_first(t),
                    }
                    for t in tables
                }
            }
        },
    }
