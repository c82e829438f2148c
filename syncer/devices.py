"""Devices over their lifetime: what each device in the sync repo has recorded, when it last
synced, and which are retired (they will never sync again: their history keeps counting, but
nobody is warned that they have gone quiet). Pure: ledgers and times in, rows out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from syncer.errors import UsageError
from syncer.ledger import Ledger, Retirement, hour_index

STALE_AFTER = timedelta(days=7)


class DeviceRow(NamedTuple):
    ledger: Ledger
    size: int | None  # bytes of its file in the sync repo (None: not published yet)
    last_sync: datetime | None
    retired: Retirement | None
    this_device: bool

    @property
    def sources(self) -> list[str]:
        return sorted({r.source for r in self.ledger.hours})

    @property
    def usage_span(self) -> tuple[datetime, datetime] | None:
        """The start of the first and of the last UTC hour with usage."""
        hours = [hour_index(r.hour) for r in self.ledger.hours]
        if not hours:
            return None
        return datetime.fromtimestamp(min(hours) * 3600, UTC), datetime.fromtimestamp(max(hours) * 3600, UTC)

    @property
    def processed(self) -> int:
        t = self.ledger.totals
        return t.input_tokens + t.output_tokens + t.cache_creation_tokens

    def as_json(self) -> dict[str, object]:
        led, t, span = self.ledger, self.ledger.totals, self.usage_span
        return {
            "device": led.device,
            "owner": led.owner,
            "this_device": self.this_device,
            "sources": self.sources,
            "first_usage": _iso(span[0]) if span else None,
            "last_usage": _iso(span[1]) if span else None,
            "last_sync": _iso(self.last_sync) if self.last_sync else None,
            "size_bytes": self.size,
            "retired": None if self.retired is None else {"by": self.retired.by, "at": _iso(self.retired.at)},
            "input_tokens": t.input_tokens, "output_tokens": t.output_tokens,
            "cache_creation_tokens": t.cache_creation_tokens, "cache_read_tokens": t.cache_read_tokens,
            "processed_tokens": self.processed, "total_tokens": self.processed + t.cache_read_tokens,
            "messages": t.messages,
        }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def retirements(ledgers: Sequence[Ledger]) -> dict[str, Retirement]:
    """Device id -> its first recorded retirement, whoever recorded it."""
    found: dict[str, Retirement] = {}
    for retirement in sorted((r for led in ledgers for r in led.retired), key=lambda r: (r.at, r.by)):
        found.setdefault(retirement.device, retirement)
    return found


def rows(
    ledgers: Sequence[Ledger], *, own: str, sizes: Mapping[str, int], last_sync: Mapping[str, datetime]
) -> list[DeviceRow]:
    retired = retirements(ledgers)
    return [
        DeviceRow(led, sizes.get(led.device), last_sync.get(led.device), retired.get(led.device), led.device == own)
        for led in sorted(ledgers, key=lambda led: led.device)
    ]


def stale_warnings(ledgers: Sequence[Ledger], *, own: str, synced_lately: set[str]) -> list[str]:
    """One warning per device, other than this one and the retired, with no commit in the sync
    repo for more than seven days (`synced_lately`: the devices that have one)."""
    retired = retirements(ledgers)
    days = STALE_AFTER.days
    return [
        f"device {led.device} has not synced for more than {days} days; if it never will again, "
        f"retire it with: ccsync devices retire {led.device}"
        for led in sorted(ledgers, key=lambda led: led.device)
        if led.device != own and led.device not in retired and led.device not in synced_lately
    ]


def retire(own: Ledger, device: str, everyone: Sequence[Ledger], *, now: datetime) -> Ledger:
    """`own` with `device` recorded as retired."""
    if device == own.device:
        raise UsageError(f"{device} is this device; retire it from another device, or stop its schedule with: "
                         "ccsync schedule remove")
    if device not in {led.device for led in everyone}:
        raise UsageError(f"no device {device!r} in the sync repo; list them with: ccsync devices")
    earlier = retirements([own, *everyone]).get(device)
    if earlier is not None:
        raise UsageError(f"device {device} was already retired by {earlier.by} on {earlier.at.date().isoformat()}")
    retirement = Retirement(device=device, by=own.device, at=now.astimezone(UTC).replace(microsecond=0))
    return own._replace(retired=[*own.retired, retirement])


def since(now: datetime) -> datetime:
    return now - STALE_AFTER
