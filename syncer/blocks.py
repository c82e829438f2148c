"""5-hour blocks, burn rate and the weekly windows: pure maths over timed usage. No I/O, no clock.

The block rules are ccusage's (`identifySessionBlocks`), so the blocks people know from it are
the blocks they see here:
- a block starts at the UTC hour floor of its first activity and ends 5 hours later;
- an activity more than 5 hours after its block's start, or more than 5 hours after the last
  activity, starts a new block; in the second case a gap row spans from 5 hours after the last
  activity to the next activity;
- a block is active while `now` is before its end and within 5 hours of its last activity
  (and not before its start, which only lines stamped by a skewed clock could put ahead).

These are estimates of Anthropic's window, not the window itself: Anthropic's meter may start
a window elsewhere and counts usage from every client of the account.

Activities come at two precisions: from log lines, to the millisecond, and from the ledger's
hourly rows, where only the hour is known. An hourly row is placed at the middle of its hour,
so "more than 5 hours" between two hourly rows means six clock hours or more, and an hourly
row five hours after its block's start opens a new block, as nearly every real one would.

Block tokens (limits, burn rate, projection) are processed tokens: input + output + cache
creation, the same measure as the default goal; cache reads are shown but not counted there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import NamedTuple

HOUR_MS = 3_600_000
BLOCK_MS = 5 * HOUR_MS
WEEK_MS = 7 * 24 * HOUR_MS
COUNTS = 6  # the five token fields of `usage.FIELDS`, then messages
Tier = tuple[str, bool, bool]  # model, long context, fast: what a price depends on


class Activity(NamedTuple):
    """Usage at one moment: one response from a log, or one hourly row of a ledger."""

    time_ms: int
    model: str
    long_context: bool
    counts: tuple[int, int, int, int, int, int]  # usage.FIELDS, then messages
    exact: bool = True  # False: an hourly row, placed at the middle of its hour
    fast: bool = False  # fast mode, priced at a multiple of the rates

    @property
    def tier(self) -> Tier:
        return self.model, self.long_context, self.fast

    @classmethod
    def from_hour(cls, hour: int, model: str, long_context: bool, counts: Sequence[int], *, fast: bool) -> Activity:
        c = tuple(counts)
        assert len(c) == COUNTS
        return cls(hour * HOUR_MS + HOUR_MS // 2, model, long_context, c, exact=False, fast=fast)  # type: ignore[arg-type]


def processed(counts: Sequence[int]) -> int:
    """Input + output + cache creation (usage.FIELDS order: cache_creation_1h is part of creation)."""
    return counts[0] + counts[1] + counts[2]


class Block:
    # A plain class: a dataclass costs every read command (which imports this module through
    # the reports) a millisecond to create, and nothing compares or copies blocks.
    __slots__ = ("start_ms", "end_ms", "is_gap", "is_active", "first_ms", "last_ms", "exact", "models")

    def __init__(self, start_ms: int, end_ms: int, *, is_gap: bool = False) -> None:
        self.start_ms = start_ms
        self.end_ms = end_ms
        self.is_gap = is_gap
        self.is_active = False
        self.first_ms: int | None = None  # first and last activity (None in a gap)
        self.last_ms: int | None = None
        self.exact = True  # every activity in it is known to the millisecond
        self.models: dict[Tier, list[int]] = {}  # counts per (model, long context, fast)

    def add(self, activity: Activity) -> None:
        counts = self.models.setdefault(activity.tier, [0] * COUNTS)
        for i, value in enumerate(activity.counts):
            counts[i] += value
        if self.first_ms is None:
            self.first_ms = activity.time_ms
        self.last_ms = activity.time_ms
        self.exact = self.exact and activity.exact

    @property
    def counts(self) -> list[int]:
        total = [0] * COUNTS
        for counts in self.models.values():
            for i, value in enumerate(counts):
                total[i] += value
        return total

    @property
    def processed_tokens(self) -> int:
        return processed(self.counts)


def floor_hour(ms: int) -> int:
    return ms - ms % HOUR_MS


def identify_blocks(activities: Iterable[Activity], *, now_ms: int) -> list[Block]:
    """Blocks and gap rows, oldest first, by ccusage's rules (see the module docstring)."""
    blocks: list[Block] = []
    current: Block | None = None
    for activity in sorted(activities, key=lambda a: a.time_ms):
        t = activity.time_ms
        if current is not None:
            assert current.last_ms is not None
            since_last = t - current.last_ms
            if t - current.start_ms > BLOCK_MS or since_last > BLOCK_MS:
                blocks.append(_close(current, now_ms))
                if since_last > BLOCK_MS:
                    blocks.append(Block(current.last_ms + BLOCK_MS, t, is_gap=True))
                current = None
        if current is None:
            start = floor_hour(t)
            current = Block(start, start + BLOCK_MS)
        current.add(activity)
    if current is not None:
        blocks.append(_close(current, now_ms))
    return blocks


def _close(block: Block, now_ms: int) -> Block:
    assert block.last_ms is not None
    # (a block whose start is still ahead holds lines stamped in the future: a skewed clock)
    block.is_active = block.start_ms <= now_ms < block.end_ms and now_ms - block.last_ms < BLOCK_MS
    return block


class Burn(NamedTuple):
    """The active block's pace and where it leads by the block's end."""

    elapsed_ms: int
    left_ms: int
    tokens_per_minute: float | None  # None until the block has two moments of activity
    cost_per_hour: float | None
    projected_tokens: int
    projected_cost: float | None


def burn(block: Block, *, now_ms: int, cost: float | None) -> Burn:
    """ccusage's burn rate: the block's tokens over the minutes from its first to its last
    activity, carried on to the block's end."""
    tokens = block.processed_tokens
    left = max(0, block.end_ms - now_ms)
    minutes = 0.0 if block.first_ms is None or block.last_ms is None else (block.last_ms - block.first_ms) / 60_000
    if minutes <= 0:
        return Burn(now_ms - block.start_ms, left, None, None, tokens, cost)
    rate = tokens / minutes
    per_hour = cost / minutes * 60 if cost is not None else None
    return Burn(
        now_ms - block.start_ms, left, rate, per_hour,
        round(tokens + rate * left / 60_000),
        cost + per_hour * left / HOUR_MS if per_hour is not None and cost is not None else None,
    )


def largest_block(blocks: Iterable[Block]) -> int:
    """The most processed tokens of any finished block (`--token-limit max`)."""
    return max((b.processed_tokens for b in blocks if not b.is_gap and not b.is_active), default=0)


class Windows(NamedTuple):
    """The two weeks plan limits are counted over: the last 7 × 24 hours, and the calendar
    week (Monday 00:00 local time) so far."""

    rolling_start_ms: int
    calendar_start_ms: int
    now_ms: int


def week_windows(now_ms: int, zone: tzinfo) -> Windows:
    local = datetime.fromtimestamp(now_ms / 1000, UTC).astimezone(zone)
    monday = (local - timedelta(days=local.weekday())).date()
    start = datetime(monday.year, monday.month, monday.day, tzinfo=zone)
    return Windows(now_ms - WEEK_MS, int(start.timestamp() * 1000), now_ms)


def window_usage(activities: Iterable[Activity], start_ms: int, end_ms: int) -> dict[Tier, list[int]]:
    """Counts per (model, long context, fast) of the activities in [start, end]."""
    models: dict[Tier, list[int]] = {}
    for a in activities:
        if start_ms <= a.time_ms <= end_ms:
            counts = models.setdefault(a.tier, [0] * COUNTS)
            for i, value in enumerate(a.counts):
                counts[i] += value
    return models


def day_start_ms(now_ms: int, zone: tzinfo) -> int:
    """Local midnight of `now`'s day, in epoch milliseconds."""
    local = datetime.fromtimestamp(now_ms / 1000, UTC).astimezone(zone)
    midnight = datetime(local.year, local.month, local.day, tzinfo=zone)
    return int(midnight.timestamp() * 1000)


def iso(ms: int) -> str:
    """ISO-8601 UTC to the second, as every JSON time of ccsync."""
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def duration(ms: int) -> str:
    """`2h05m`, `45m`: how long, to the minute."""
    minutes = max(0, ms) // 60_000
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"
