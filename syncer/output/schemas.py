"""The JSON Schemas of every `--json` document (data/output/<command>.schema.json). Pure.

Written from here so the token fields are defined once; `tests/test_output_schemas.py` checks the
files in data/output/ are current and that each command's real output validates against its
schema. Every object is closed (`additionalProperties: false`): a new field is a schema change,
made here, in the same commit.
"""

from __future__ import annotations

from typing import Any

import orjson

from syncer import report
from syncer.output.documents import OUTPUT_VERSION, TOKEN_FIELDS

Schema = dict[str, Any]

COUNT: Schema = {"type": "integer", "minimum": 0}
TIME: Schema = {"type": "string", "format": "date-time"}
DAY: Schema = {"type": "string", "format": "date"}
TEXT: Schema = {"type": "string"}
FLAG: Schema = {"type": "boolean"}
NUMBER: Schema = {"type": "number"}
WARNINGS: Schema = {"type": "array", "items": TEXT, "description": "Also printed on stderr in the table format."}


def _null(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(properties: dict[str, Schema], *, optional: tuple[str, ...] = ()) -> Schema:
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


_ABOUT = {
    "input_tokens": "Uncached input.",
    "output_tokens": "Every generated token, reasoning included.",
    "processed_tokens": "input + output + cache creation: what the default goal counts.",
    "total_tokens": "All four.",
    "messages": "Billable responses.",
}
TOKENS: dict[str, Schema] = {
    name: _null({**NUMBER, "minimum": 0, "description": "Null when no model in it has a price."})
    if name == "cost_usd" else {**COUNT, **({"description": _ABOUT[name]} if name in _ABOUT else {})}
    for name in TOKEN_FIELDS
}
TOTALS = _object({**TOKENS, "unpriced_models": {"type": "array", "items": TEXT}})
MODEL_TOTALS = _object({"model": TEXT, **TOKENS})
_MODELS: Schema = {"type": "array", "items": {"$ref": "#/$defs/model_totals"}}


def _document(title: str, properties: dict[str, Schema], *, optional: tuple[str, ...] = (),
              defs: dict[str, Schema] | None = None) -> Schema:
    doc: Schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        **_object({"schema_version": {"const": OUTPUT_VERSION}, **properties}, optional=optional),
    }
    doc["$defs"] = {"totals": TOTALS, "model_totals": MODEL_TOTALS, **(defs or {})}
    return doc


_KEYS = {"date": DAY, "week": DAY, "month": {"type": "string", "pattern": r"^\d{4}-\d{2}$"}, "session": TEXT,
         "model": TEXT, "project": TEXT, "branch": TEXT, "device": TEXT, "owner": TEXT, "source": TEXT}
_SESSION = {"first": TIME, "last": TIME}
REPORT_ROW: Schema = {
    **_object({**_KEYS, **_SESSION, **TOKENS, "unpriced_models": {"type": "array", "items": TEXT},
               "models": _MODELS}, optional=(*_KEYS, *_SESSION)),
    "description": "Each row has its key field (date, week, month, session, model, project, branch, source, "
                   "device or owner, by the report's kind); session rows add source, project, branch, device, "
                   "first and last.",
}
_ROWS: Schema = {"type": "array", "items": {"$ref": "#/$defs/row"}}

GOAL_FIELDS: dict[str, Schema] = {
    "target": {**NUMBER, "exclusiveMinimum": 0},
    "metric": {"enum": ["processed", "all", "output", "cost"]},
    "deadline": DAY,
    "start": _null(DAY),
    "source": _null({**TEXT, "description": "The one source the goal counts, or null: all of them."}),
    "current": NUMBER,
    "percent": NUMBER,
    "remaining": NUMBER,
    "days_left": COUNT,
    "required_per_day": NUMBER,
    "pace_7d": NUMBER,
    "pace_30d": NUMBER,
    "projected_date": _null(DAY),
    "on_track": FLAG,
    "reached_date": _null(DAY),
    "pending": {**FLAG, "description": "Set on this device while the remote was unreachable; the next sync "
                                       "pushes it."},
    "devices": {"type": "array", "items": _object({"device": TEXT, "current": NUMBER,
                                                     "share": {**NUMBER, "description": "Percent of current."}})},
}

_RUN = _null(_object({"time": TIME, "exit_code": {"type": "integer"}, "tokens_added": COUNT, "pushed": FLAG,
                      "error": _null(TEXT), "scheduled": FLAG}))
_BLOCK_TOTALS = {**TOKENS, "unpriced_models": {"type": "array", "items": TEXT}}


def report_schema() -> Schema:
    return _document("ccsync report KIND --json", {
        "kind": {"enum": list(report.KEY_FIELD)},
        "rows": _ROWS,
        "total": {"$ref": "#/$defs/totals"},
        "warnings": WARNINGS,
    }, defs={"row": REPORT_ROW})


def total_schema() -> Schema:
    return _document("ccsync total --json", {
        "by": {"enum": ["device", "owner", "model", "month", "source"]},
        "devices": _ROWS,
        "rows": {**_ROWS, "description": "Grouped by `by` (the devices' rows again when by device)."},
        "total": {"$ref": "#/$defs/totals"},
        "goal": _null({"$ref": "#/$defs/goal"}),
        "warnings": WARNINGS,
    }, defs={"row": REPORT_ROW, "goal": _object(GOAL_FIELDS)})


def goal_schema() -> Schema:
    return _document("ccsync goal --json", {**GOAL_FIELDS, "warnings": WARNINGS})


def status_schema() -> Schema:
    return _document("ccsync status --json", {
        "device": _null(TEXT),
        "privacy": _null({"enum": ["names", "full", "hashed"]}),
        "state_folder": TEXT,
        "remote": TEXT,
        "log_roots": {"type": "array", "items": TEXT},
        "log_files": COUNT,
        "sources": {"type": "array", "items": _object({"source": TEXT, "env_var": TEXT,
                                                       "log_roots": {"type": "array", "items": TEXT},
                                                       "log_files": COUNT})},
        "pending_bytes": COUNT,
        "last_scan": _null(TIME),
        "last_sync": _null(_object({"time": _null(TIME), "tip": _null(TEXT), "committed": _null(FLAG),
                                    "pushed": _null(FLAG)})),
        "bad_lines": COUNT,
        "last_run": _RUN,
        "last_scheduled_run": _RUN,
        "totals": _null({"$ref": "#/$defs/totals"}),
        "warnings": WARNINGS,
    })


def blocks_schema() -> Schema:
    window = _object({"start": TIME, **_BLOCK_TOTALS})
    return _document("ccsync report blocks --json", {
        "rows": {"type": "array", "items": _object({
            "start": TIME, "end": TIME, "last_activity": _null(TIME), "is_gap": FLAG, "is_active": FLAG,
            "exact": {**FLAG, "description": "Known to the millisecond (from the logs), not by the hour."},
            **_BLOCK_TOTALS, "over_limit": FLAG, "models": _MODELS,
        })},
        "total": {"$ref": "#/$defs/totals"},
        "active": _null(_object({
            "start": TIME, "end": TIME, "elapsed_minutes": COUNT, "remaining_minutes": COUNT,
            "tokens_per_minute": _null(NUMBER), "cost_per_hour": _null(NUMBER),
            "projected_processed_tokens": COUNT, "projected_cost_usd": _null(NUMBER),
            "projected_over_limit": FLAG,
        })),
        "token_limit": _null(COUNT),
        "week": _object({"rolling_7d": window, "calendar_week": window}),
        "exact_from": TIME,
        "warnings": WARNINGS,
    })


def scan_schema() -> Schema:
    added = {name: COUNT for name in TOKENS if name != "cost_usd"}
    return _document("ccsync scan --json", {
        "files": COUNT, "files_read": COUNT, "bytes_read": COUNT, "new_events": COUNT, "bad_lines": COUNT,
        "rebuilt": FLAG, "added": _object(added), "warnings": WARNINGS,
    })


def devices_schema() -> Schema:
    counts = {name: COUNT for name in TOKENS if name != "cost_usd"}
    return _document("ccsync devices --json", {
        "devices": {"type": "array", "items": _object({
            "device": TEXT, "owner": _null(TEXT), "this_device": FLAG, "sources": {"type": "array", "items": TEXT},
            "first_usage": _null(TIME), "last_usage": _null(TIME), "last_sync": _null(TIME),
            "size_bytes": _null({**COUNT, "description": "Its file in the sync repo; null: not published yet."}),
            "retired": _null(_object({"by": TEXT, "at": TIME})), **counts,
        })},
        "warnings": WARNINGS,
    })


def entries_schema() -> Schema:
    counts = {name: COUNT for name in ("input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens",
                                       "processed_tokens")}
    return _document("ccsync entries --json", {
        "entries": {"type": "array", "items": _object({
            "id": TEXT, "kind": {"enum": ["manual", "import"]}, "device": TEXT, "date": DAY, "source": TEXT,
            "model": TEXT, **counts, "note": TEXT, "origin": TEXT, "added_at": TIME, "removed_by": _null(TEXT),
            "removed_at": _null(TIME),
        })},
        "warnings": WARNINGS,
    })


SCHEMAS = {
    "report": report_schema,
    "total": total_schema,
    "goal": goal_schema,
    "status": status_schema,
    "blocks": blocks_schema,
    "scan": scan_schema,
    "devices": devices_schema,
    "entries": entries_schema,
}
"""Command -> its schema, written to data/output/<command>.schema.json."""


def schema_bytes(command: str) -> bytes:
    return orjson.dumps(SCHEMAS[command](), option=orjson.OPT_INDENT_2) + b"\n"
