"""The usage event: one API response's tokens, as every source parses it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from syncer.usage import TokenCounts

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Times a ledger can label by UTC hour: years 1 to 9999 once converted to UTC.
_FIRST_MS = (datetime(1, 1, 1, tzinfo=UTC) - _EPOCH) // timedelta(milliseconds=1)
_LAST_MS = (datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC) - _EPOCH) // timedelta(milliseconds=1)
MAX_TOKENS = 2**40
"""Far above any real call's count; a larger value is a corrupt line."""


class BadLine(ValueError):
    """A log line that looks like usage but cannot be read as such; counted, then skipped."""


class Event:
    """One line's view of one API response (changed in place as a scan names it).

    Several lines may carry the same `key` (streamed snapshots, replays, copies); the ledger
    keeps, per key and per field, the largest value any of them showed.
    """

    __slots__ = ("key", "message_id", "time_ms", "model", "tokens", "session", "cwd", "branch", "sidechain", "fast",
                 "extra")

    def __init__(self, key: str, message_id: str | None, time_ms: int, model: str, tokens: TokenCounts, session: str,
                 cwd: str, branch: str, sidechain: bool, fast: bool = False, extra: list[Event] | None = None) -> None:
        self.key = key
        self.message_id = message_id
        self.time_ms = time_ms
        self.model = model
        self.tokens = tokens  # in `usage.FIELDS` order
        self.session = session
        self.cwd = cwd
        self.branch = branch
        self.sidechain = sidechain
        self.fast = fast  # Opus fast mode (`usage.speed: "fast"`), billed at a multiple of the rates
        # Steps of the same request billed apart from its top-level usage (compaction, advisor),
        # each an event of its own with a key derived from this one.
        self.extra = extra


def parse_time_ms(value: object) -> int:
    """Milliseconds since the epoch of an ISO 8601 time with a zone (`...Z`, `+02:00`)."""
    if not isinstance(value, str):
        raise BadLine("timestamp missing")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadLine(f"bad timestamp {value[:40]!r}") from None
    if moment.tzinfo is None:
        raise BadLine("timestamp without a time zone")
    # Integer arithmetic (no float rounding of milliseconds); the same as `// 1 ms`, faster.
    since = moment - _EPOCH
    ms = since.days * 86_400_000 + since.seconds * 1000 + since.microseconds // 1000
    if not _FIRST_MS <= ms <= _LAST_MS:
        raise BadLine(f"timestamp {value[:40]!r} is outside years 1-9999 in UTC")
    return ms


def count(value: object, name: str) -> int:
    """A token count as a log writes it: a non-negative int (absent or null reads as 0)."""
    if type(value) is int and 0 <= value < MAX_TOKENS:
        return value
    if value is None:
        return 0
    raise BadLine(f"{name} is not a token count")


def json_object(line: bytes) -> dict[str, Any]:
    """A log line that must be one JSON object."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        raise BadLine("not JSON") from None
    if type(record) is not dict:
        raise BadLine("not a JSON object")
    return record
