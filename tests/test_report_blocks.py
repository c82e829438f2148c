"""`ccsync report blocks` end to end: real log files in, the blocks ccusage would draw out."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest

from syncer import blocks, render
from syncer.blocks import BLOCK_MS, HOUR_MS, iso
from syncer.commands.blocks import Active, BlockRow, BlocksResult
from syncer.report import Totals, price_tiers
from tests import logs
from tests.test_blocks import build_corpus

Cli = Callable[..., tuple[int, str, str]]
PER_EVENT = 3 + 10 + 100


def stamp(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def write_times(claude_dir: Path, times: list[int]) -> None:
    records = (logs.assistant(f"m{i}", f"r{i}", ts=stamp(t)) for i, t in enumerate(times))
    logs.write(logs.session_file(claude_dir), *records)


def write_corpus(claude_dir: Path, times: list[int]) -> None:
    # split across two sessions' files, one of them written out of order
    records = [logs.assistant(f"m{i}", f"r{i}", ts=stamp(t), session=f"s{i % 2}") for i, t in enumerate(times)]
    logs.write(logs.session_file(claude_dir, "s0"), *records[0::2])
    logs.write(logs.session_file(claude_dir, "s1"), *reversed(records[1::2]))


@pytest.mark.parametrize("seed", range(6))
def test_blocks_json_from_the_logs_equals_the_constructed_blocks(cli: Cli, claude_dir: Path, seed: int) -> None:
    now = int(datetime.now(UTC).timestamp() * 1000)
    rng = random.Random(seed)
    times, expected = build_corpus(rng, now - 30 * HOUR_MS, until_ms=now - 60_000, blocks_wanted=20,
                                   max_gap_ms=3 * HOUR_MS)
    write_corpus(claude_dir, times)
    code, out, err = cli("report", "blocks", "--json")
    assert (code, err) == (0, "")
    doc = orjson.loads(out)
    got = [(r["start"], r["end"], r["is_gap"], r["last_activity"] if not r["is_gap"] else None, r["messages"])
           for r in doc["rows"]]
    want = [(iso(e.start), iso(e.end), e.is_gap, iso(e.last) if e.last is not None else None, e.count)
            for e in expected]
    assert got == want
    actives = [r for r in doc["rows"] if r["is_active"]]
    assert len(actives) == (1 if now < expected[-1].end else 0)
    assert doc["total"]["processed_tokens"] == PER_EVENT * len(times)
    assert doc["schema_version"] == 1 and all(r["exact"] for r in doc["rows"])


def test_active_view_token_limit_and_breakdown(cli: Cli, claude_dir: Path) -> None:
    now = int(datetime.now(UTC).timestamp() * 1000)
    old = now - 48 * HOUR_MS  # a finished block of 2 responses, then an active one of 3
    times = [old, old + 60_000, now - 50 * 60_000, now - 30 * 60_000, now - 10 * 60_000]
    models = ["claude-sonnet-4-5-20250929"] * 4 + ["claude-opus-4-6"]
    records = [logs.assistant(f"m{i}", f"r{i}", ts=stamp(t), model=m)
               for i, (t, m) in enumerate(zip(times, models, strict=True))]
    logs.write(logs.session_file(claude_dir), *records)
    assert cli("scan")[0] == 0  # the old block from the ledger, the active one from the logs
    code, out, err = cli("report", "blocks", "--active", "--token-limit", "max", "--json")
    assert code == 0
    doc = orjson.loads(out)
    assert [r["is_active"] for r in doc["rows"]] == [True]
    assert doc["token_limit"] == 2 * PER_EVENT
    active = doc["active"]
    assert active["tokens_per_minute"] == round(3 * PER_EVENT / 40, 2)
    assert active["projected_over_limit"] is True and doc["rows"][0]["over_limit"] is True
    rate = 3 * PER_EVENT / 40  # three responses over the 40 minutes from the first to the last
    by_whole_minutes = 3 * PER_EVENT + rate * active["remaining_minutes"]
    assert 0 <= active["projected_processed_tokens"] - by_whole_minutes <= rate + 1  # plus the part-minute
    assert [m["model"] for m in doc["rows"][0]["models"]] == ["claude-opus-4-6", "claude-sonnet-4-5-20250929"]
    assert "over the limit of 226" in doc["warnings"][0]

    code, out, err = cli("report", "blocks", "--active", "--token-limit", "1M")
    assert code == 0 and out.startswith(f"Active block: {3 * PER_EVENT} tokens processed, <$0.01; ")
    assert "Burn rate: 8 tokens/min, <$0.01/h" in out and "Token limit: 1,000,000 (0% used)" in out

    code, out, _ = cli("report", "blocks", "--breakdown")
    assert code == 0
    assert "  claude-opus-4-6" in out and "Last 7 days (rolling): 565 tokens processed" in out


def test_the_active_block_reads_on_from_where_the_last_read_stopped(cli: Cli, claude_dir: Path,
                                                                     state_dir: Path) -> None:
    """Like the status line, `report blocks` keeps where it stopped reading each recent log
    (live-cache.json): what it shows is what reading every log afresh shows, as logs grow,
    are written back by another tool, or vanish."""
    now = int(datetime.now(UTC).timestamp() * 1000)
    session = logs.session_file(claude_dir)
    other = logs.session_file(claude_dir, "s2")
    logs.write(session, *(logs.assistant(f"m{i}", f"r{i}", ts=stamp(now - (50 - i) * 60_000)) for i in range(3)))
    logs.write(other, logs.assistant("o1", "q1", ts=stamp(now - 20 * 60_000), session="s2"))
    assert cli("scan")[0] == 0  # the state folder, where the positions are kept

    def active() -> dict[str, object]:
        code, out, err = cli("report", "blocks", "--active", "--json")
        assert (code, err) == (0, "")
        row: dict[str, object] = orjson.loads(out)["rows"][0]
        return row

    def afresh() -> dict[str, object]:
        (state_dir / "live-cache.json").unlink()
        return active()

    first = active()
    assert first["messages"] == 4 and (state_dir / "live-cache.json").exists()
    assert active() == first == afresh()
    logs.write(session, logs.assistant("m9", "r9", ts=stamp(now - 60_000)), append=True)  # grown
    grown = active()
    assert grown["messages"] == 5 and grown == afresh()
    logs.write(other, logs.assistant("o2", "q2", ts=stamp(now - 5 * 60_000), session="s2"))  # written back whole
    assert active()["messages"] == 5 and active() == afresh()
    other.unlink()
    assert active()["messages"] == 4 and active() == afresh()


def test_since_until_pick_blocks_by_their_local_start_day(cli: Cli, claude_dir: Path) -> None:
    day = 24 * HOUR_MS
    now = int(datetime.now(UTC).timestamp() * 1000)
    base = now - now % day - 3 * day  # midnight UTC, three days ago
    times = [base + 23 * HOUR_MS + 30 * 60_000, base + day + 12 * HOUR_MS]  # 23:30 UTC is the next day in Tokyo
    write_times(claude_dir, times)
    assert cli("scan")[0] == 0
    first_day = datetime.fromtimestamp(base / 1000, UTC).date().isoformat()
    code, out, _ = cli("report", "blocks", "--json", "--since", first_day, "--until", first_day)
    assert [r["start"] for r in orjson.loads(out)["rows"]] == [iso(base + 23 * HOUR_MS)]
    code, out, _ = cli("report", "blocks", "--json", "--since", first_day, "--until", first_day,
                       "--timezone", "Asia/Tokyo")
    assert orjson.loads(out)["rows"] == []


def test_ledger_hours_serve_blocks_older_than_the_live_window(cli: Cli, claude_dir: Path) -> None:
    now = int(datetime.now(UTC).timestamp() * 1000)
    start = now - now % HOUR_MS - 40 * HOUR_MS
    times = [start + 10 * 60_000, start + 70 * 60_000, now - 5 * 60_000]
    write_times(claude_dir, times)
    assert cli("scan")[0] == 0
    doc = orjson.loads(cli("report", "blocks", "--json")[1])
    old, gap, current = doc["rows"]
    assert (old["start"], old["exact"], old["messages"]) == (iso(start), False, 2)
    assert old["last_activity"] == iso(start + HOUR_MS + HOUR_MS // 2)  # to the hour: the middle of it
    assert gap["is_gap"] and current["exact"] and current["is_active"]
    assert current["last_activity"] == iso(times[2])


def test_options_only_for_blocks_and_bad_limits(cli: Cli) -> None:
    assert cli("report", "daily", "--active") == (
        2, "", "ccsync: --active and --token-limit apply to: ccsync report blocks\n")
    assert cli("report", "blocks", "--token-limit", "lots") == (
        2, "", "ccsync: --token-limit 'lots' is not a number like 500k or 20M, or max\n")


def test_all_devices_reads_the_sync_repo(cli: Cli, claude_dir: Path) -> None:
    now = int(datetime.now(UTC).timestamp() * 1000)
    logs.write(logs.session_file(claude_dir), logs.assistant("m1", "r1", ts=stamp(now - 60_000)))
    assert cli("sync")[0] == 0
    code, out, _ = cli("report", "blocks", "--all-devices", "--json")
    assert code == 0 and orjson.loads(out)["total"]["processed_tokens"] == PER_EVENT
    assert BLOCK_MS == 5 * HOUR_MS


def test_the_active_view_in_words_exactly() -> None:
    s = int(datetime(2026, 11, 20, 9, 0, tzinfo=UTC).timestamp() * 1000)
    now = s + 2 * HOUR_MS
    acts = [blocks.Activity(s + 10 * 60_000, "claude-sonnet-4-5", False, (3, 0, 100, 0, 1000, 1)),
            blocks.Activity(s + 70 * 60_000, "claude-sonnet-4-5", False, (3, 497, 100, 0, 1000, 1))]
    block = blocks.identify_blocks(acts, now_ms=now)[0]
    totals, models = price_tiers(block.models, lambda source, usage: 1.5)
    row = BlockRow(block, totals, models)
    pace = blocks.burn(block, now_ms=now, cost=1.5)
    result = BlocksResult([row], totals, Active(row, pace, projected_over=True), 1000, Totals(), Totals(),
                          blocks.week_windows(now, UTC), now - 12 * HOUR_MS)
    assert render.active_lines(result, zone=ZoneInfo("Europe/Berlin")) == [
        "Active block: 703 tokens processed, $1.50; 3h00m left (ends 15:00)",
        "Burn rate: 12 tokens/min, $1.50/h",
        "Projected by the block's end: 2,812 tokens, $6.00",
        "Token limit: 1,000 (70% used, projected over it)",
    ]
