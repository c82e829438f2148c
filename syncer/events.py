"""The usage event: one API response's tokens, as every source parses it."""

from __future__ import annotations

from dataclasses import dataclass


class BadLine(ValueError):
    """A log line that looks like usage but cannot be read as such; counted, then skipped."""


@dataclass(slots=True)
class Event:
    """One line's view of one API response.

    Several lines may carry the same `key` (streamed snapshots, replays, copies); the ledger
    keeps, per key and per field, the largest value any of them showed.
    """

    key: str
    message_id: str | None
    time_ms: int
    model: str
    # input, output, cache creation (all), cache creation written to the 1-hour cache, cache read
    tokens: tuple[int, int, int, int, int]
    session: str
    cwd: str
    branch: str
    sidechain: bool
    fast: bool = False  # Opus fast mode (`usage.speed: "fast"`), billed at a multiple of the rates
    # Steps of the same request billed apart from its top-level usage (compaction, advisor),
    # each an event of its own with a key derived from this one.
    extra: list[Event] | None = None
