"""The status line's cheap view of recent usage: log tails read backwards, merged by the ledger's rules."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from syncer import live
from syncer.events import Event
from syncer.ledger import COUNT_FIELDS
from syncer.schemas.ledger import parse_ledger
from syncer.sources.claude.parser import parse_line
from tests import logs

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_tail_reads_back_to_the_first_older_response_across_pieces(tmp_path: Path) -> None:
    f = tmp_path / "s.jsonl"
    old = [logs.assistant(f"old{i}", ts=stamp(T0 - timedelta(hours=20, minutes=i))) for i in range(50)]
    new = [logs.assistant(f"new{i}", ts=stamp(T0 + timedelta(minutes=i))) for i in range(300)]
    huge = logs.user("x" * 1_100_000, ts=stamp(T0 + timedelta(minutes=150)))  # a 1 MB line amid the new ones
    logs.write(f, *old, *new[:150], huge, *new[150:])
    data = f.read_bytes()
    f.write_bytes(data[:-1])  # no final newline: the last line is still complete JSON
    tail = live.tail_events(f, ms(T0), parse_line)
    recent = [e.key for e in tail.complete + tail.partial if e.time_ms >= ms(T0)]
    assert sorted(recent) == sorted(f"new{i}:req_1" for i in range(300))
    assert [e.key for e in tail.partial] == ["new299:req_1"]  # read again next time: it may grow
    assert tail.done == len(data) - len(logs.line(new[-1]))
    # a half-written last line is skipped, never an error
    with open(f, "ab") as out:
        out.write(b'\n{"type":"assistant","message":{"usage":{"input_tokens":')
    tail = live.tail_events(f, ms(T0), parse_line)
    assert len([e for e in tail.complete if e.time_ms >= ms(T0)]) == 300 and tail.partial == []
    assert tail.done == len(data)


def test_the_cache_resumes_where_it_stopped_and_notices_rewrites(claude_dir: Path, isolated_home: Path) -> None:
    env = dict(os.environ)
    since = ms(T0) - 3_600_000
    f = logs.write(logs.session_file(claude_dir, "s"), *(logs.assistant(f"a{i}", ts=stamp(T0)) for i in range(3)))
    cache: dict[str, object] = {}

    def keys() -> list[str]:
        return sorted(e.key for e in live.recent_events(env, isolated_home, since, cache=cache))

    assert keys() == ["a0:req_1", "a1:req_1", "a2:req_1"]
    with open(f, "ab") as out:  # a response streams in: its first line, then a larger one, unterminated
        out.write(logs.line(logs.assistant("b", ts=stamp(T0), tokens=logs.usage(3, 1))))
        out.write(logs.line(logs.assistant("b", ts=stamp(T0), tokens=logs.usage(3, 50)))[:-1])
    found = {e.key: e.tokens[1] for e in live.recent_events(env, isolated_home, since, cache=cache)}
    assert found == {"a0:req_1": 10, "a1:req_1": 10, "a2:req_1": 10, "b:req_1": 50}
    with open(f, "ab") as out:
        out.write(b"\n" + logs.line(logs.assistant("c", ts=stamp(T0))))
    assert keys() == ["a0:req_1", "a1:req_1", "a2:req_1", "b:req_1", "c:req_1"]
    with open(f, "r+b") as again:  # rewritten in place (compaction): same inode, other first bytes
        again.write(logs.line(logs.assistant("z", ts=stamp(T0))))
        again.truncate()
    assert keys() == ["z:req_1"]
    assert live.load_cache(tmp := f.parent / "nothing.json") == ({}, b"") and not tmp.exists()
    cache["since"] = since + 1  # a cache made for a later window is not trusted for an earlier one
    assert keys() == ["z:req_1"]


def test_merge_keeps_the_largest_fields_the_earliest_time_and_drops_btw_replays() -> None:
    def event(mid: str, rid: str, minute: int, out: int, *, sidechain: bool = False, model: str = "m") -> Event:
        parsed = parse_line(logs.line(logs.assistant(
            mid, rid, ts=stamp(T0 + timedelta(minutes=minute)), tokens=logs.usage(3, out, 100, 1000),
            sidechain=sidechain, model=model)))
        assert parsed is not None
        return parsed

    merged = live.merge_events([
        # one streamed response
        event("a", "r1", 5, 40), event("a", "r1", 3, 12, model="first"), event("a", "r1", 6, 25),
        event("b", "r2", 7, 9), event("b", "r-btw", 8, 9, sidechain=True),  # a /btw replay of b
        event("c", "r3", 9, 1, sidechain=True),  # a sidechain response of its own
    ])
    got = {e.key: (e.time_ms, e.tokens[1], e.model) for e in merged}
    assert got == {
        "a:r1": (ms(T0 + timedelta(minutes=3)), 40, "first"),
        "b:r2": (ms(T0 + timedelta(minutes=7)), 9, "m"),
        "c:r3": (ms(T0 + timedelta(minutes=9)), 1, "m"),
    }


def test_only_files_written_since_the_cut_are_opened(claude_dir: Path, isolated_home: Path) -> None:
    recent = logs.write(logs.session_file(claude_dir, "s-new"), logs.assistant("n", ts=stamp(T0)))
    stale = logs.write(logs.session_file(claude_dir, "s-old"), logs.assistant("o", ts=stamp(T0)))
    os.utime(stale, (ms(T0) / 1000 - 7200, ms(T0) / 1000 - 7200))  # last written before the cut
    os.utime(recent, (ms(T0) / 1000 + 60, ms(T0) / 1000 + 60))
    found = live.recent_events(dict(os.environ), isolated_home, ms(T0) - 3_600_000)
    assert [e.key for e in found] == ["n:req_1"]


def test_the_cut_reaches_back_to_the_last_scan() -> None:
    now = ms(T0) + 25 * 60_000
    assert live.cut_ms(now, now - 60_000) == ms(T0) - 12 * 3_600_000  # a fresh scan: 12 hours of logs
    assert live.cut_ms(now, now - 20 * 3_600_000) == ms(T0) - 20 * 3_600_000  # a day-old scan: back to it
    assert live.cut_ms(now, None) == ms(T0) - 36 * 3_600_000
    assert live.cut_ms(now, now - 90 * 24 * 3_600_000) == ms(T0) - 30 * 24 * 3_600_000  # never past what logs keep


def test_both_ledger_layouts_read_by_name() -> None:
    """Version 1 rows have no speed; the fast reader takes each by its own column names."""
    for path in sorted((Path(__file__).parent / "schemas").glob("ledger-v*.json")):
        raw = path.read_bytes()
        doc = orjson.loads(raw)
        acts = live.hour_activities(doc)
        strict = parse_ledger(raw, what=path.name)
        assert len(acts) == len(strict.hours)
        assert [sum(a.counts[i] for a in acts) for i in range(6)] == [getattr(strict.totals, f) for f in COUNT_FIELDS]
        assert [a.fast for a in acts] == [r.fast for r in strict.hours]
