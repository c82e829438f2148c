"""5-hour blocks: the boundaries ccusage draws, on corpora built block by block.

The expected blocks are not computed by running the rules: each corpus is constructed from
the blocks it must produce (a start on an hour floor, activity that stays within 5 hours of
the start and of the previous activity, then either a gap of more than 5 hours or activity
that goes on past the block's end), so the test and the code do not share a mistake.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from syncer import blocks
from syncer.blocks import BLOCK_MS, HOUR_MS, Activity

MIN_MS = 60_000


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def act(t: int, model: str = "claude-sonnet-4-5", out: int = 10) -> Activity:
    return Activity(t, model, False, (3, out, 100, 0, 1000, 1))


@dataclass
class Expected:
    start: int
    end: int
    is_gap: bool
    first: int | None = None
    last: int | None = None
    count: int = 0


def build_corpus(rng: random.Random, first_ms: int, *, until_ms: int | None = None, blocks_wanted: int = 12,
                 max_gap_ms: int = 3 * 24 * HOUR_MS) -> tuple[list[int], list[Expected]]:
    times: list[int] = []
    expected: list[Expected] = []
    t = first_ms
    for n in range(blocks_wanted):
        start = t - t % HOUR_MS
        end = start + BLOCK_MS
        block = [t]
        for _ in range(rng.randrange(6)):
            block.append(rng.randint(block[-1], end))  # within 5 h of the start and of the last
        if rng.random() < 0.25:
            block.append(end)  # exactly 5 h after the start still belongs to the block
        last = block[-1]
        times.extend(block)
        expected.append(Expected(start, end, False, block[0], last, len(block)))
        if n == blocks_wanted - 1:
            break
        mode = rng.choice(("gap", "gap", "continue", "exactly-5h"))
        if mode != "gap" and last + BLOCK_MS <= end:
            mode = "gap"  # the last activity sits on the start: no room to go on without a gap
        if mode == "gap":
            nxt = last + BLOCK_MS + rng.randint(1, max_gap_ms)
            expected.append(Expected(last + BLOCK_MS, nxt, True))
        elif mode == "continue":
            nxt = rng.randint(end + 1, last + BLOCK_MS)  # past the block's end, within 5 h of the last
        else:
            nxt = last + BLOCK_MS  # a pause of exactly 5 hours is not a gap
        if until_ms is not None and nxt >= until_ms:
            if expected[-1].is_gap:
                expected.pop()
            break
        t = nxt
    return times, expected


def check(found: list[blocks.Block], expected: list[Expected]) -> None:
    got = [(b.start_ms, b.end_ms, b.is_gap, b.first_ms, b.last_ms, sum(c[5] for c in b.models.values()))
           for b in found]
    want = [(e.start, e.end, e.is_gap, e.first, e.last, e.count) for e in expected]
    assert got == want


STARTS = [
    "2026-03-28T19:17:03.250+00:00",  # across Europe's change to summer time (29 March, 01:00 UTC)
    "2026-03-07T22:59:59.999+00:00",  # across the US change (8 March) and midnight
    "2026-10-24T21:00:00+00:00",      # across Europe's change back, starting on an hour exactly
    "2026-12-31T23:30:00+00:00",      # across the new year
    "2025-06-01T00:00:00.001+00:00",
]


@pytest.mark.parametrize("seed", range(40))
def test_boundaries_equal_ccusage_rules_on_generated_corpora(seed: int) -> None:
    rng = random.Random(seed)
    times, expected = build_corpus(rng, ms(STARTS[seed % len(STARTS)]) + rng.randrange(3 * HOUR_MS))
    activities = [act(t) for t in times]
    rng.shuffle(activities)  # any order in, time order out
    found = blocks.identify_blocks(activities, now_ms=times[-1] + 30 * 24 * HOUR_MS)
    check(found, expected)
    assert not any(b.is_active for b in found)


def test_the_last_block_is_active_while_within_5_hours_and_before_its_end() -> None:
    first = ms("2026-11-20T09:14:05+00:00")
    activities = [act(first), act(first + 90 * MIN_MS)]
    end = ms("2026-11-20T14:00:00+00:00")
    assert blocks.identify_blocks(activities, now_ms=first + 100 * MIN_MS)[-1].is_active
    assert blocks.identify_blocks(activities, now_ms=end - 1)[-1].is_active
    assert not blocks.identify_blocks(activities, now_ms=end)[-1].is_active
    # (within 5 hours of the last activity always holds before the end: the last is after the start)


def test_a_block_stamped_in_the_future_is_not_active() -> None:
    s = ms("2026-11-20T09:00:00+00:00")
    found = blocks.identify_blocks([act(s), act(s + 3 * HOUR_MS)], now_ms=s - HOUR_MS)  # a skewed clock
    assert [b.is_active for b in found] == [False]


def test_boundary_cases_by_hand() -> None:
    s = ms("2026-11-20T09:00:00+00:00")
    later = s + 99 * HOUR_MS
    found = blocks.identify_blocks([act(s + 59 * MIN_MS), act(s + BLOCK_MS), act(s + BLOCK_MS + 1)], now_ms=later)
    # 09:59 opens 09:00-14:00; 14:00:00.000 is exactly 5 h after the start (stays); 14:00:00.001 is not.
    assert [(b.start_ms, b.last_ms) for b in found] == [(s, s + BLOCK_MS), (s + BLOCK_MS, s + BLOCK_MS + 1)]
    gap = blocks.identify_blocks([act(s), act(s + BLOCK_MS + 1)], now_ms=s + 99 * HOUR_MS)
    assert [(b.is_gap, b.start_ms, b.end_ms) for b in gap] == [
        (False, s, s + BLOCK_MS), (True, s + BLOCK_MS, s + BLOCK_MS + 1), (False, s + BLOCK_MS, s + 2 * BLOCK_MS),
    ]
    assert blocks.identify_blocks([], now_ms=s) == []


def test_hourly_rows_sit_mid_hour() -> None:
    h = ms("2026-11-20T09:00:00+00:00") // HOUR_MS

    def rows(*hours: int) -> list[Activity]:
        return [Activity.from_hour(x, "m", False, (1, 1, 1, 0, 0, 1), fast=False) for x in hours]

    # rows 5 clock hours apart: not a gap, but past the block's end, so a new block
    found = blocks.identify_blocks(rows(h, h + 5), now_ms=(h + 99) * HOUR_MS)
    assert [(b.is_gap, b.start_ms // HOUR_MS) for b in found] == [(False, h), (False, h + 5)]
    assert not found[0].exact
    # 6 clock hours apart: a gap
    found = blocks.identify_blocks(rows(h, h + 6), now_ms=(h + 99) * HOUR_MS)
    assert [b.is_gap for b in found] == [False, True, False]
    # an exact event later in the last row's hour extends the same block
    mixed = rows(h, h + 4) + [act((h + 4) * HOUR_MS + 50 * MIN_MS)]
    found = blocks.identify_blocks(mixed, now_ms=(h + 99) * HOUR_MS)
    assert len(found) == 1 and found[0].last_ms == (h + 4) * HOUR_MS + 50 * MIN_MS


def test_burn_rate_and_projection_by_hand() -> None:
    s = ms("2026-11-20T09:00:00+00:00")
    found = blocks.identify_blocks([act(s + 10 * MIN_MS, out=0), act(s + 70 * MIN_MS, out=497)], now_ms=s + 2 * HOUR_MS)
    block = found[0]
    assert block.processed_tokens == 2 * 103 + 497  # input + output + cache creation; reads left out
    pace = blocks.burn(block, now_ms=s + 2 * HOUR_MS, cost=1.5)
    assert pace.tokens_per_minute == pytest.approx(703 / 60)
    assert pace.cost_per_hour == pytest.approx(1.5)
    assert pace.left_ms == 3 * HOUR_MS
    assert pace.projected_tokens == round(703 + 703 / 60 * 180)
    assert pace.projected_cost == pytest.approx(1.5 + 1.5 * 3)
    single = blocks.burn(blocks.identify_blocks([act(s)], now_ms=s + 1)[0], now_ms=s + 1, cost=None)
    assert single.tokens_per_minute is None and single.projected_tokens == 113


def test_largest_block_skips_gaps_and_the_active_block() -> None:
    s = ms("2026-11-20T09:00:00+00:00")
    found = blocks.identify_blocks([act(s, out=5), act(s + 20 * HOUR_MS, out=50), act(s + 40 * HOUR_MS, out=500)],
                                   now_ms=s + 40 * HOUR_MS + 1)
    assert found[-1].is_active
    assert blocks.largest_block(found) == 3 + 50 + 100


def test_week_windows_and_days_follow_local_time_across_dst() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    now = ms("2026-03-31T12:00:00+00:00")  # a Tuesday, after the change to summer time
    w = blocks.week_windows(now, berlin)
    assert w.calendar_start_ms == ms("2026-03-29T22:00:00+00:00")  # Monday 00:00 CEST
    assert w.rolling_start_ms == now - 7 * 24 * HOUR_MS
    sunday = ms("2026-03-29T20:00:00+00:00")  # the short day: midnight was 23:00 UTC the day before
    assert blocks.day_start_ms(sunday, berlin) == ms("2026-03-28T23:00:00+00:00")
    assert blocks.day_start_ms(now, ZoneInfo("America/New_York")) == ms("2026-03-31T04:00:00+00:00")
    inside = blocks.window_usage([act(w.calendar_start_ms), act(w.calendar_start_ms - 1)], w.calendar_start_ms, now)
    assert inside == {("claude-sonnet-4-5", False, False): [3, 10, 100, 0, 1000, 1]}


def test_times_read_as_utc_iso_and_durations() -> None:
    assert blocks.iso(ms("2026-11-20T09:14:05.999+00:00")) == "2026-11-20T09:14:05Z"
    assert blocks.duration(2 * HOUR_MS + 5 * MIN_MS + 59_999) == "2h05m"
    assert blocks.duration(45 * MIN_MS) == "45m"
    assert blocks.duration(-5) == "0m"
    assert datetime.fromtimestamp(0, UTC).year == 1970
