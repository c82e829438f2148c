"""Results as JSON documents: pure functions from result objects to plain data for `--json`.

The text renderings live in render.py; the two read the same results.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from syncer import report, runlog

if TYPE_CHECKING:  # only the types: `status --json` must not import git through commands.total
    from syncer.commands.status import StatusResult
    from syncer.commands.total import TotalResult
    from syncer.scan import ScanResult


OUTPUT_VERSION = 1
"""`schema_version` of every `--json` document: a field is only ever added within a version;
renaming or removing one makes the next."""


def scan_json(result: ScanResult) -> dict[str, object]:
    t = result.tokens
    return {
        "files": result.files, "files_read": result.files_read, "bytes_read": result.bytes_read,
        "new_events": result.events, "bad_lines": result.bad_lines, "rebuilt": result.rebuilt,
        "added": {
            "input_tokens": t[0], "output_tokens": t[1], "cache_creation_tokens": t[2],
            "cache_read_tokens": t[4], "processed_tokens": t[0] + t[1] + t[2],
            "total_tokens": t[0] + t[1] + t[2] + t[4], "messages": t[5],
        },
        "warnings": result.warnings,
    }


def total_json(result: TotalResult, *, grouped: bool) -> dict[str, object]:
    """`devices`, `total`, `goal` and `warnings`; with `grouped`, the `rows` of the grouping too."""
    data = report.as_json(result.devices)
    payload: dict[str, Any] = {
        "devices": data["rows"],
        "total": data["total"],
        "goal": result.goal.as_json() if result.goal else None,
        "warnings": result.warnings,
    }
    if grouped:
        payload["rows"] = report.as_json(result.grouped)["rows"]
    return payload


def status_json(result: StatusResult) -> dict[str, object]:
    cfg = result.config
    totals = result.totals.as_json() if result.totals else None
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
        "last_run": _run_json(result.last_run),
        "last_scheduled_run": _run_json(result.last_scheduled_run),
        "totals": totals,
        "warnings": result.warnings,
    }


def _run_json(record: runlog.RunRecord | None) -> object:
    return orjson.loads(runlog.encode_record(record)) if record else None
