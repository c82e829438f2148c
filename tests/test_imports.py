"""Imports of the records other tools kept: each shape, broken files, and the rule that never
counts a day twice (day boundaries and time zones included)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import orjson
import pytest

from syncer import entries
from syncer.imports import BadImport, Parsed, Plan, parse_ccusage_db, parse_json, plan
from syncer.ledger import HourRow, Ledger, Session, SessionUsage, sum_tokens

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
LA = ZoneInfo("America/Los_Angeles")
SONNET = "claude-sonnet-4-5-20250929"
OPUS = "claude-opus-4-5-20251101"


def ledger(hours: list[HourRow] = [], sessions: list[Session] = [], device: str = "laptop") -> Ledger:  # noqa: B006
    return Ledger(
        schema_version=2, device=device, install_id="a" * 32, generation=1,
        totals=sum_tokens(hours), hours=hours, sessions=sessions,
    )


def row(hour: str, model: str = SONNET, source: str = "claude", tokens: int = 1000) -> HourRow:
    return HourRow(hour, source, model, "shop", "main", False, False, tokens, tokens, 0, 0, 0, 1)


def ccusage_daily(*days: dict[str, object]) -> bytes:
    return orjson.dumps({"daily": list(days), "totals": {"inputTokens": 0}})


def day(d: str, *models: tuple[str, int], flat: int | None = None) -> dict[str, object]:
    breakdowns = [
        {"modelName": m, "inputTokens": n, "outputTokens": n * 2, "cacheCreationTokens": n * 3,
         "cacheReadTokens": n * 40, "cost": 0.5}
        for m, n in models
    ]
    total = sum(n for _, n in models) if flat is None else flat
    return {
        "date": d, "inputTokens": total, "outputTokens": total * 2, "cacheCreationTokens": total * 3,
        "cacheReadTokens": total * 40, "totalTokens": total * 46, "totalCost": 1.0,
        "modelsUsed": [m for m, _ in models], "modelBreakdowns": breakdowns,
    }


def session(sid: str, inp: int, out: int, create: int, read: int) -> Session:
    usage = SessionUsage(SONNET, False, False, inp, out, create, 0, read, 4)
    return Session(sid, "claude", "shop", "main", NOW, NOW, [usage])


def decide(parsed: Parsed, own: Ledger, zone: ZoneInfo | None = None, everyone: list[Ledger] = []) -> Plan:  # noqa: B006
    return plan(parsed, file="f.json", own=own, everyone=everyone, zone=zone or ZoneInfo("UTC"), now=NOW)


def reasons(p: Plan) -> list[tuple[str, str, int]]:
    return [(d.record.key, d.reason, d.counts[0]) for d in p.decisions]


def test_ccusage_daily_days_without_logs_are_taken_per_model_and_logged_models_are_skipped() -> None:
    parsed = parse_json(
        ccusage_daily(day("2026-03-09", (SONNET, 500)), day("2026-03-10", (SONNET, 700), (OPUS, 90))),
        name="daily.json", dated=NOW.date(),
    )
    assert parsed.shape == "ccusage-daily"
    own = ledger([row("2026-03-10T15", SONNET)])
    p = decide(parsed, own)
    assert reasons(p) == [
        (f"ccusage|claude|2026-03-09|{SONNET}", "no usage of this day in this device's logs", 500),
        (f"ccusage|claude|2026-03-10|{OPUS}", f"the logs of 2026-03-10 have no {OPUS}", 90),
        (f"ccusage|claude|2026-03-10|{SONNET}", f"the logs of 2026-03-10 already count {SONNET}", 0),
    ]
    assert p.added() == (590, 1180, 1770, 23600)
    taken = p.taken[0].entry
    assert taken is not None and taken.kind == "import" and taken.hour == "2026-03-09T12"


def test_a_day_is_the_zone_the_tool_dated_it_in_at_both_boundaries() -> None:
    """ccusage dates by the local day. Log usage at 2026-03-11T02 UTC is 19:00 on 03-10 in Los
    Angeles: that import day is covered there, and not in UTC (where it is 03-11)."""
    parsed = parse_json(ccusage_daily(day("2026-03-10", flat=100), day("2026-03-11", flat=100)),
                        name="d.json", dated=NOW.date())
    own = ledger([row("2026-03-11T02")])
    in_la = decide(parsed, own, LA)
    assert [d.entry is not None for d in in_la.decisions] == [False, True]
    in_utc = decide(parsed, own, ZoneInfo("UTC"))
    assert [d.entry is not None for d in in_utc.decisions] == [True, False]
    # The first hour of a local day, and the last hour of the day before.
    edge = ledger([row("2026-03-10T07")])  # 00:00 on 03-10 in LA (summer time began on 03-08)
    assert [d.entry is not None for d in decide(parsed, edge, LA).decisions] == [False, True]
    before = ledger([row("2026-03-10T06")])  # 23:00 on 03-09 in LA
    assert [d.entry is not None for d in decide(parsed, before, LA).decisions] == [True, True]
    # An imported day lands on its own day when reported in the zone it was dated in.
    entry = in_utc.taken[0].entry
    assert entry is not None and entry.hour == "2026-03-10T12"
    la_entry = decide(parsed, ledger(), LA).taken[0].entry
    assert la_entry is not None and la_entry.hour == "2026-03-10T19"


def test_toktrack_days_are_utc_days_whatever_the_local_zone() -> None:
    cache = {
        "cli": "claude-code", "updated_at": 1767225600,
        "summaries": [
            {"date": "2026-03-10", "total_input_tokens": 10, "total_output_tokens": 20, "total_cache_read_tokens": 30,
             "total_cache_creation_tokens": 40, "total_cost_usd": 0.1,
             "models": {SONNET: {"input_tokens": 10, "output_tokens": 20, "cache_read_tokens": 30,
                                 "cache_creation_tokens": 40, "cost_usd": 0.1, "count": 3}}},
            {"date": "2026-03-11", "total_input_tokens": 5, "total_output_tokens": 5, "total_cache_read_tokens": 0,
             "total_cache_creation_tokens": 0, "total_cost_usd": 0.0, "models": {}},
        ],
    }
    parsed = parse_json(orjson.dumps(cache), name="claude-code_daily.json", dated=NOW.date())
    assert (parsed.shape, parsed.zone) == ("toktrack", "utc")
    own = ledger([row("2026-03-11T02")])  # 03-11 in UTC, 03-10 in Los Angeles
    p = decide(parsed, own, LA)
    assert [(d.record.day.isoformat(), d.entry is not None) for d in p.decisions] == [
        ("2026-03-10", True), ("2026-03-11", False),
    ]
    first = p.taken[0]
    assert first.counts == (10, 20, 40, 30) and first.record.source == "claude"


def test_a_tracker_total_is_taken_minus_what_the_logs_count_of_its_sessions() -> None:
    doc = {
        "cumulative_usage": {"input_tokens": 5000, "output_tokens": 8000, "cache_creation_tokens": 900,
                             "cache_read_tokens": 70000},
        "processed_sessions": ["s-old-1", "s-old-2", "s-both"],
        "last_updated": "2026-10-02T08:00:00Z",
    }
    parsed = parse_json(orjson.dumps(doc), name="cumulative_usage.json", dated=date(2026, 10, 2))
    both, other = session("s-both", 1000, 500, 100, 20000), session("s-new", 99, 99, 99, 99)
    p = decide(parsed, ledger([row("2026-11-01T10")], [both, other]))
    assert reasons(p) == [("tracker|all", "the tracker's total minus the 1 of its sessions the logs count", 4000)]
    assert p.added() == (4000, 7500, 800, 50000)
    # A session another device's logs count is taken out too: session ids are unique.
    elsewhere = decide(parsed, ledger([], [other]), everyone=[ledger([], [both], device="desk")])
    assert elsewhere.added() == (4000, 7500, 800, 50000)
    # Everything it lists counted already: nothing to take.
    full = session("s-both", 9000, 9000, 900, 90000)
    assert decide(parsed, ledger([], [full])).taken == []


def test_tracker_files_for_all_devices_and_for_one_overlap() -> None:
    per_device = {"device": "old-mac", "cumulative_usage": {"input_tokens": 10, "output_tokens": 10},
                  "processed_sessions": []}
    everything = {"cumulative_usage": {"input_tokens": 30, "output_tokens": 30}, "processed_sessions": []}
    first = decide(parse_json(orjson.dumps(per_device), name="data/old-mac.json", dated=date(2026, 1, 5)), ledger())
    assert first.taken and first.taken[0].counts == (10, 10, 0, 0)
    own = entries.add(ledger(), [d.entry for d in first.taken if d.entry])
    again = decide(parse_json(orjson.dumps(everything), name="cumulative_usage.json", dated=date(2026, 1, 5)), own)
    assert again.taken == [] and again.decisions[0].reason.startswith("overlaps the tracker total imported as i-")
    other_device = {**per_device, "device": "desk"}
    third = decide(parse_json(orjson.dumps(other_device), name="data/desk.json", dated=date(2026, 1, 5)), own)
    assert third.taken and third.taken[0].counts == (10, 10, 0, 0)


def test_reimporting_the_same_file_is_a_no_op_even_from_another_device() -> None:
    raw = ccusage_daily(day("2026-02-01", (SONNET, 10)), day("2026-02-02", (SONNET, 20)))
    parsed = parse_json(raw, name="d.json", dated=NOW.date())
    first = decide(parsed, ledger())
    own = entries.add(ledger(), [d.entry for d in first.taken if d.entry])
    again = decide(parsed, own)
    assert again.taken == [] and all(d.reason.startswith("already imported as i-") for d in again.decisions)
    elsewhere = decide(parsed, ledger(device="desk"), everyone=[own])
    assert elsewhere.taken == []


def test_an_overlapping_file_of_another_tool_does_not_count_a_day_twice() -> None:
    first = decide(parse_json(ccusage_daily(day("2026-02-01", flat=10)), name="a.json", dated=NOW.date()), ledger())
    own = entries.add(ledger(), [d.entry for d in first.taken if d.entry])
    cache = {"cli": "claude-code", "updated_at": 0, "summaries": [
        {"date": "2026-02-01", "total_input_tokens": 10, "total_output_tokens": 0, "total_cache_read_tokens": 0,
         "total_cache_creation_tokens": 0, "models": {}},
        {"date": "2026-02-03", "total_input_tokens": 7, "total_output_tokens": 0, "total_cache_read_tokens": 0,
         "total_cache_creation_tokens": 0, "models": {}},
    ]}
    p = decide(parse_json(orjson.dumps(cache), name="claude-code_daily.json", dated=NOW.date()), own)
    assert reasons(p) == [
        ("toktrack|claude|2026-02-01|", "2026-02-01 of claude is covered by an earlier import", 0),
        ("toktrack|claude|2026-02-03|", "no usage of this day in this device's logs", 7),
    ]


def test_duplicated_rows_count_once_at_their_larger_reading() -> None:
    parsed = parse_json(ccusage_daily(day("2026-02-01", (SONNET, 10)), day("2026-02-01", (SONNET, 12))),
                        name="d.json", dated=NOW.date())
    assert parsed.duplicates == 1
    assert [r.counts for r in parsed.records] == [(12, 24, 36, 480)]


def test_a_ccusage_database_adds_sessions_the_logs_miss_on_a_day_they_cover() -> None:
    daily = [
        {"date": "2026-04-01", "input_tokens": 300, "output_tokens": 300, "cache_creation_tokens": 0},
        {"date": "2026-04-02", "input_tokens": 50, "output_tokens": 50, "cache_read_tokens": 0},
    ]
    models = [{"date": "2026-04-02", "model_name": SONNET, "input_tokens": 50, "output_tokens": 50,
               "cache_creation_tokens": None, "cache_read_tokens": 0}]
    sessions = [
        {"session_id": "s-known", "last_activity": "2026-04-01T10:00:00", "input_tokens": 100, "output_tokens": 100},
        {"session_id": "s-lost", "last_activity": "2026-04-01T22:00:00", "input_tokens": 200, "output_tokens": 200},
    ]
    parsed = parse_ccusage_db(daily, models, sessions, name="usage.db")
    known = session("s-known", 100, 100, 0, 0)
    p = decide(parsed, ledger([row("2026-04-01T10")], [known]))
    assert reasons(p) == [
        ("ccusage|claude|2026-04-01|", "the logs of 2026-04-01 already count usage", 0),
        (f"ccusage|claude|2026-04-02|{SONNET}", "no usage of this day in this device's logs", 50),
        ("ccusage-session|claude|s-known", "the logs count this session", 0),
        ("ccusage-session|claude|s-lost", "a session of 2026-04-01 the logs do not hold", 200),
    ]


@pytest.mark.parametrize("raw, message", [
    (b'{"daily": [{"date": "2026-01-01", "inputTokens": 5', "d.json is not valid JSON"),
    (b"", "d.json is not valid JSON"),
    (b'{"sessions": []}', "d.json is not a record ccsync imports"),
    (b"[1, 2]", "d.json is not a record ccsync imports"),
    (b'{"daily": [{"date": "yesterday", "inputTokens": 5}]}', "d.json: daily[0] has date 'yesterday', not YYYY-MM-DD"),
    (b'{"daily": [{"date": "2026-01-01", "inputTokens": -5}]}', "daily[0]: inputTokens is -5, not a token count"),
    (b'{"daily": [{"date": "2026-01-01", "inputTokens": "5"}]}', "daily[0]: inputTokens is '5', not a token count"),
    (b'{"cumulative_usage": {"input_tokens": 1}, "processed_sessions": 7}', "processed_sessions is not a list"),
    (b'{"cli": "codex", "summaries": [3]}', "d.json: summaries[0] is not an object"),
])
def test_broken_files_are_refused_with_one_clear_line(raw: bytes, message: str) -> None:
    with pytest.raises(BadImport) as caught:
        parse_json(raw, name="d.json", dated=NOW.date())
    assert message in caught.value.message and "\n" not in caught.value.message
