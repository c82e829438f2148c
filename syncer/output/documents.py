"""Results as JSON documents: the one place `--json` output is built. Pure.

Every document carries `schema_version` and has one shape per command, described by the JSON
Schemas in the project's data/output/ (syncer/output/schemas.py writes them; the tests check
each command's real output against its schema).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from syncer import blocks, report

if TYPE_CHECKING:  # only the types: `status --json` must not import git through commands.total
    from syncer import runlog
    from syncer.commands.blocks import BlockRow, BlocksResult
    from syncer.commands.devices import DevicesResult
    from syncer.commands.entries import Listing
    from syncer.commands.status import StatusResult
    from syncer.commands.total import TotalResult
    from syncer.pace import GoalProgress
    from syncer.scan import ScanResult

OUTPUT_VERSION = 1
"""`schema_version` of every `--json` document: a field is only ever added within a version;
renaming or removing one makes the next."""

Document = dict[str, Any]


def encode(doc: Document) -> str:
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode()


def _versioned(payload: Document) -> Document:
    return {"schema_version": OUTPUT_VERSION, **payload}


TOKEN_FIELDS = ("input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens", "processed_tokens",
                "total_tokens", "cost_usd", "messages")
"""The token fields of every document, row and table column, in this order."""


def totals_fields(totals: report.Totals, *, model: bool = False) -> Document:
    """The token fields, defined once for every document. `cost_usd` is null when nothing in it
    has a price; a sum that leaves models out names them in `unpriced_models` (a model's own
    entry needs only the null)."""
    u = totals.usage
    cost = round(totals.cost_usd, 6) if totals.cost_known else None
    doc: Document = dict(zip(TOKEN_FIELDS, (
        u.input_tokens, u.output_tokens, u.cache_creation_tokens, u.cache_read_tokens, u.processed_tokens,
        u.total_tokens, cost, totals.messages), strict=True))
    if not model:
        doc["unpriced_models"] = sorted(totals.unpriced)
    return doc


def _models(models: dict[str, report.Totals]) -> list[Document]:
    return [{"model": m, **totals_fields(t, model=True)} for m, t in sorted(models.items())]


def _report_body(result: report.Report) -> Document:
    field_name = report.KEY_FIELD[result.kind]
    return {
        "rows": [
            {field_name: row.key, **row.extra, **totals_fields(row.totals), "models": _models(row.models)}
            for row in result.rows
        ],
        "total": totals_fields(result.total),
        "warnings": result.warnings,
    }


def report_doc(result: report.Report, *, warnings: list[str] | None = None) -> Document:
    """`report KIND --json`: `kind`, `rows` (each with its key field), `total`, `warnings`."""
    body = _report_body(result)
    if warnings is not None:
        body["warnings"] = [*body["warnings"], *(w for w in warnings if w not in body["warnings"])]
    return _versioned({"kind": result.kind, **body})


def total_doc(result: TotalResult, *, by: str) -> Document:
    """`total --json`: `by`, `devices`, `rows` (grouped `by`), `total`, `goal` (or null), `warnings`."""
    devices = _report_body(result.devices)
    return _versioned({
        "by": by,
        "devices": devices["rows"],
        "rows": _report_body(result.grouped)["rows"],
        "total": devices["total"],
        "goal": goal_fields(result.goal) if result.goal else None,
        "warnings": result.warnings,
    })


def _number(value: float) -> float | int:
    return round(value, 2) if isinstance(value, float) and not value.is_integer() else int(value)


def goal_fields(p: GoalProgress) -> Document:
    """The goal's progress (in `goal --json`, in `total --json`'s `goal`, in the dashboard)."""
    return {
        "target": p.target,
        "metric": p.metric,
        "deadline": p.deadline.isoformat(),
        "start": p.start.isoformat() if p.start else None,
        "source": p.source,
        "current": _number(p.current),
        "percent": round(p.percent, 2),
        "remaining": _number(p.remaining),
        "days_left": p.days_left,
        "required_per_day": _number(p.required_per_day),
        "pace_7d": _number(p.pace_7d),
        "pace_30d": _number(p.pace_30d),
        "projected_date": p.projected_date.isoformat() if p.projected_date else None,
        "on_track": p.on_track,
        "reached_date": p.reached_date.isoformat() if p.reached_date else None,
        "pending": p.pending,
        "devices": [{"device": d, "current": _number(v), "share": round(share * 100, 2)} for d, v, share in p.devices],
    }


def goal_doc(p: GoalProgress, *, warnings: list[str]) -> Document:
    return _versioned({**goal_fields(p), "warnings": warnings})


def scan_doc(result: ScanResult) -> Document:
    t = result.tokens
    return _versioned({
        "files": result.files, "files_read": result.files_read, "bytes_read": result.bytes_read,
        "new_events": result.events, "bad_lines": result.bad_lines, "rebuilt": result.rebuilt,
        "added": {
            "input_tokens": t[0], "output_tokens": t[1], "cache_creation_tokens": t[2],
            "cache_read_tokens": t[4], "processed_tokens": t[0] + t[1] + t[2],
            "total_tokens": t[0] + t[1] + t[2] + t[4], "messages": t[5],
        },
        "warnings": result.warnings,
    })


def status_fields(result: StatusResult) -> Document:
    """`status --json` without its version: also what the table and CSV show, field by field."""
    cfg = result.config
    return {
        "device": cfg.device if cfg else None,
        "privacy": cfg.privacy if cfg else None,
        "state_folder": str(result.paths.home),
        "remote": result.remote,
        "log_roots": result.roots,
        "log_files": result.files,
        "sources": result.sources,
        "pending_bytes": result.pending_bytes,
        "last_scan": result.last_scan,
        "last_sync": {k: result.last_sync.get(k) for k in ("time", "tip", "committed", "pushed")}
        if result.last_sync
        else None,
        "bad_lines": result.bad_lines,
        "last_run": _run(result.last_run),
        "last_scheduled_run": _run(result.last_scheduled_run),
        "totals": totals_fields(result.totals) if result.totals else None,
        "warnings": result.warnings,
    }


def status_doc(result: StatusResult) -> Document:
    return _versioned(status_fields(result))


def _run(record: runlog.RunRecord | None) -> object:
    from syncer import runlog  # noqa: PLC0415 - status's alone (its RunRecord costs the others 2 ms)

    return orjson.loads(runlog.encode_record(record)) if record else None


def block_fields(row: BlockRow) -> Document:
    b = row.block
    return {
        "start": blocks.iso(b.start_ms),
        "end": blocks.iso(b.end_ms),
        "last_activity": blocks.iso(b.last_ms) if b.last_ms is not None else None,
        "is_gap": b.is_gap,
        "is_active": b.is_active,
        "exact": b.exact,
        **totals_fields(row.totals),
        "over_limit": row.over_limit,
        "models": _models(row.models),
    }


def blocks_doc(result: BlocksResult) -> Document:
    """`report blocks --json`: `rows`, `total`, `active` (burn rate and projection, or null),
    `token_limit`, `week` (rolling 7 days and the calendar week), `exact_from`, `warnings`."""
    active = None
    if result.active is not None:
        a = result.active.burn
        active = {
            "start": blocks.iso(result.active.row.block.start_ms),
            "end": blocks.iso(result.active.row.block.end_ms),
            "elapsed_minutes": a.elapsed_ms // 60_000,
            "remaining_minutes": a.left_ms // 60_000,
            "tokens_per_minute": round(a.tokens_per_minute, 2) if a.tokens_per_minute is not None else None,
            "cost_per_hour": round(a.cost_per_hour, 4) if a.cost_per_hour is not None else None,
            "projected_processed_tokens": a.projected_tokens,
            "projected_cost_usd": round(a.projected_cost, 6) if a.projected_cost is not None else None,
            "projected_over_limit": result.active.projected_over,
        }
    return _versioned({
        "rows": [block_fields(r) for r in result.rows],
        "total": totals_fields(result.total),
        "active": active,
        "token_limit": result.token_limit,
        "week": {
            "rolling_7d": {"start": blocks.iso(result.week.rolling_start_ms), **totals_fields(result.rolling_week)},
            "calendar_week": {"start": blocks.iso(result.week.calendar_start_ms),
                              **totals_fields(result.calendar_week)},
        },
        "exact_from": blocks.iso(result.exact_from_ms),
        "warnings": result.warnings,
    })


def devices_doc(result: DevicesResult) -> Document:
    return _versioned({"devices": [row.as_json() for row in result.rows], "warnings": result.warnings})


def entries_doc(result: Listing) -> Document:
    return _versioned({"entries": [item.as_json() for item in result.items], "warnings": result.warnings})
