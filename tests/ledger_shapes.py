"""Ledger documents in every shape a device file takes (and a few odd ones the schema accepts):
their bytes as written by the pydantic ledger, before the ledger became plain dataclasses, are
kept in tests/golden/ledger/ so the plain ledger is proven to write the same bytes."""

from __future__ import annotations

from typing import Any

SONNET = "claude-sonnet-4-5-20250929"
INSTALL = "5f0e0c7a9b1d4e2f8a3b6c9d0e1f2a3b"
HOURS = [
    ["2026-11-20T09", "claude", SONNET, "shop", "feature/cart", False, False, 3, 187, 2311, 0, 18204, 1],
    ["2026-11-20T10", "codex", "gpt-5-codex", "caf\u00e9 \u2615", "", False, False, 12, 41, 300, 200, 9120, 2],
    ["2026-11-20T11", "claude", SONNET, "shop", "main", True, False, 8, 96, 0, 0, 230412, 1],
    ["2026-11-20T12", "claude", "claude-opus-4-6", "\"quoted\" \\ path", "x",
     False, True, 10, 3212, 42110, 0, 619004, 1],
]
SESSIONS = [
    ["5b0c1d2e-0000-4000-8000-000000000001", "claude", "shop", "feature/cart", "2026-11-20T09:14:05Z",
     "2026-11-20T12:03:41.118000Z",
     [["claude-opus-4-6", False, True, 10, 3212, 42110, 0, 619004, 1],
      ["claude-sonnet-4-5-20250929", True, False, 8, 96, 0, 0, 230412, 1]]],
    ["rollout-2026-11-20", "codex", "caf\u00e9 \u2615", "", "2026-11-20T10:00:00.000100Z", "2026-11-20T10:59:59.5Z",
     [["gpt-5-codex", False, False, 12, 41, 300, 200, 9120, 2]]],
]


def _totals(hours: list[list[Any]]) -> dict[str, int]:
    names = ("input_tokens", "output_tokens", "cache_creation_tokens", "cache_creation_1h_tokens",
             "cache_read_tokens", "messages")
    return {name: sum(row[-6 + i] for row in hours) for i, name in enumerate(names)}


def _ledger(**fields: Any) -> dict[str, Any]:
    hours = fields.pop("hours", HOURS)
    totals = fields.pop("totals", None) or _totals(hours)
    doc: dict[str, Any] = {"schema_version": 2, "device": "ana-laptop", "install_id": INSTALL,
                           "generation": 3, "totals": totals, "hours": hours, "sessions": SESSIONS}
    doc.update(fields)
    return doc


ENTRIES = [
    {"added_at": "2026-11-21T08:00:00Z", "hour": "2026-11-18T12", "id": "m-3f9a0c21b7", "input_tokens": 52000,
     "kind": "manual", "model": "claude-opus-4-6", "note": "claude.ai chat, design review", "output_tokens": 9100,
     "source": "claude"},
    {"added_at": "2026-11-21T08:05:00.250000+00:00", "cache_creation_tokens": 81000, "cache_read_tokens": 1200000,
     "hour": "2026-03-10T12", "id": "i-77c1d0e5a2", "input_tokens": 4100, "kind": "import", "model": "unknown",
     "note": "", "origin": "ccusage-daily daily.json: ccusage|claude|2026-03-10", "output_tokens": 30500,
     "source": "claude"},
]

SHAPES: dict[str, dict[str, Any]] = {
    "empty": _ledger(hours=[], sessions=[], generation=0),
    "typical": _ledger(),
    "owner": _ledger(owner="Ana Lima \u00e9quipe"),
    "owner-null": _ledger(owner=None),
    "history": _ledger(
        owner="ana", entries=ENTRIES,
        removed=[{"at": "2026-11-22T10:00:00Z", "by": "ana-desk", "id": "m-00aa11bb22"},
                 {"at": "2026-11-22T11:00:00.000001Z", "by": "bo", "id": "i-0123456789"}],
        retired=[{"at": "2026-11-23T00:00:00Z", "by": "ana-laptop", "device": "old-box"}],
    ),
    "empty-history": _ledger(entries=[], removed=[], retired=[]),
    "only-retired": _ledger(hours=[], sessions=[], retired=[{"at": "2026-11-23T00:00:00Z", "by": "a", "device": "b"}]),
    # Accepted by the schema, never written by ccsync: other offsets, naive times, rows as objects.
    "odd-times": _ledger(sessions=[
        ["s1", "claude", "p", "b", "2026-11-20T09:14:05+02:00", "2026-11-20 10:00:00.123456789Z", []],
        ["s2", "claude", "p", "b", "2026-11-20T09:14:05", "2026-11-20T09:14Z", []],
    ]),
    "object-rows": _ledger(
        totals=_totals(HOURS),
        hours=[dict(zip(("hour", "source", "model", "project", "branch", "long_context", "fast", "input_tokens",
                         "output_tokens", "cache_creation_tokens", "cache_creation_1h_tokens", "cache_read_tokens",
                         "messages"), row, strict=True)) for row in HOURS],
        sessions=[{"id": "s", "source": "claude", "project": "p", "branch": "", "first": "2026-11-20T09:00:00Z",
                   "last": "2026-11-20T09:00:01Z", "usage": [{"model": "m", "long_context": False, "fast": False,
                   "input_tokens": 1, "output_tokens": 2, "cache_creation_tokens": 3, "cache_creation_1h_tokens": 1,
                   "cache_read_tokens": 4, "messages": 5}]}],
    ),
    "big-counts": _ledger(hours=[["2026-11-20T09", "claude", "m", "p", "b", False, False, 2**53, 2**52, 7, 7, 0,
                                  2**53]]),
    "version-1": {
        "schema_version": 1, "device": "ana-laptop", "install_id": INSTALL, "generation": 3,
        "totals": _totals(HOURS[:2]), "hours": [[*row[:6], *row[7:]] for row in HOURS[:2]],
        "sessions": [["s", "claude", "shop", "main", "2026-11-20T09:14:05Z", "2026-11-20T11:17:25.5Z",
                      [[SONNET, False, 3, 187, 2311, 0, 18204, 1]]]],
    },
}
