"""Entries: usage no log on a device shows, added by hand (`ccsync add`) or imported from another
tool's records (`ccsync import`), and removals of them. Pure: ledgers in, ledgers out.

An entry lives in the file of the device that added it; a removal lives in the file of the
device that removed it (any device may remove any entry). Both are append-only, so merging two
copies of a file is a union: a copy from before an add or a removal can neither lose an entry
nor bring a removed one back. Reports see entries as hourly rows under the project `(manual)` or
`(imported)`, so every report, total, goal and export counts them and shows where they came from.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, tzinfo
from typing import NamedTuple

from syncer.blake import blake2b
from syncer.errors import UsageError
from syncer.ledger import COUNT_FIELDS, Entry, HourRow, Ledger, Removal, Tokens, hour_label

PROJECT = {"manual": "(manual)", "import": "(imported)"}
"""The project an entry's usage is reported under: its provenance."""
UNKNOWN_MODEL = "unknown"
"""The model of an entry whose record names none (its cost is then unknown, never $0)."""


def entry_id(kind: str, seed: bytes) -> str:
    return ("m-" if kind == "manual" else "i-") + blake2b(seed, digest_size=5).hexdigest()


def noon(day: date, zone: tzinfo) -> str:
    """The UTC hour label of midday on `day` in `zone`: a day-level record lands on its own
    day in that zone, and on the same day in any zone within twelve hours of it."""
    moment = datetime.combine(day, time(12), zone).astimezone(UTC)
    return hour_label(int(moment.timestamp()) // 3600)


class Listed(NamedTuple):
    entry: Entry
    device: str  # whose file holds it
    removal: Removal | None

    def as_json(self) -> dict[str, object]:
        e = self.entry
        return {
            "id": e.id, "kind": e.kind, "device": self.device, "date": e.hour[:10], "source": e.source,
            "model": e.model, "input_tokens": e.input_tokens, "output_tokens": e.output_tokens,
            "cache_creation_tokens": e.cache_creation_tokens, "cache_read_tokens": e.cache_read_tokens,
            "processed_tokens": e.input_tokens + e.output_tokens + e.cache_creation_tokens,
            "note": e.note, "origin": e.origin, "added_at": e.added_at.isoformat().replace("+00:00", "Z"),
            "removed_by": self.removal.by if self.removal else None,
            "removed_at": self.removal.at.isoformat().replace("+00:00", "Z") if self.removal else None,
        }


def listing(ledgers: Iterable[Ledger]) -> list[Listed]:
    """Every entry in any of `ledgers`, once (the same import on two devices is one entry),
    with its removal if some device recorded one; oldest first."""
    removals: dict[str, Removal] = {}
    held: dict[str, tuple[Entry, str]] = {}
    for ledger in sorted(ledgers, key=lambda led: led.device):
        for removal in ledger.removed:
            removals.setdefault(removal.id, removal)
        for entry in ledger.entries:
            held.setdefault(entry.id, (entry, ledger.device))
    return [
        Listed(entry, device, removals.get(entry.id))
        for entry, device in sorted(held.values(), key=lambda item: (item[0].added_at, item[0].id))
    ]


def counted(ledgers: Sequence[Ledger]) -> list[Ledger]:
    """`ledgers` with each live entry added to its holder's hourly rows (totals to match). A
    removal recorded by any device takes the entry out of every total."""
    live: dict[str, list[Entry]] = {}
    for item in listing(ledgers):
        if item.removal is None:
            live.setdefault(item.device, []).append(item.entry)
    result = []
    for ledger in ledgers:
        mine = live.pop(ledger.device, None) if ledger.entries else None
        if not mine:
            result.append(ledger)
            continue
        rows = [_row(e) for e in mine]
        # A peer's entries may add up past what one field of a file holds; a report adds Python
        # integers and shows them, it does not refuse the total.
        totals = Tokens(**{f: getattr(ledger.totals, f) + sum(getattr(r, f) for r in rows) for f in COUNT_FIELDS})
        # The entries' rows go last: reports group rows and need no order (a total over 20 devices
        # must not pay for sorting their hours again).
        result.append(ledger._replace(hours=[*ledger.hours, *rows], totals=totals))
    return result


def _row(entry: Entry) -> HourRow:
    return HourRow(
        entry.hour, entry.source, entry.model, PROJECT[entry.kind], "", False, False,
        entry.input_tokens, entry.output_tokens, entry.cache_creation_tokens, 0, entry.cache_read_tokens, 0,
    )


def add(ledger: Ledger, new: Sequence[Entry]) -> Ledger:
    known = {e.id for e in ledger.entries}
    fresh = [e for e in new if e.id not in known]
    return ledger._replace(entries=[*ledger.entries, *fresh])


def remove(own: Ledger, entry_ref: str, everyone: Sequence[Ledger], *, now: datetime) -> tuple[Ledger, Listed]:
    """`own` with a removal of the entry `entry_ref` (an id, as `ccsync entries` lists it),
    which any of `everyone` may hold."""
    for item in listing([own, *everyone]):
        if item.entry.id != entry_ref:
            continue
        if item.removal is not None:
            raise UsageError(
                f"entry {entry_ref} was already removed by {item.removal.by} on {item.removal.at.date().isoformat()}"
            )
        removal = Removal(id=entry_ref, by=own.device, at=now.astimezone(UTC).replace(microsecond=0))
        return own._replace(removed=[*own.removed, removal]), item
    raise UsageError(f"no entry {entry_ref!r}; list the entries and their ids with: ccsync entries")


def union(own: Ledger, other: Ledger) -> Ledger | None:
    """`own` with the entries, removals and retirements that `other` (another copy of the same
    device's file, as the sync repo holds it) has and `own` lacks; None when it lacks nothing."""
    have = {e.id for e in own.entries}
    entries = [e for e in other.entries if e.id not in have]
    gone = {r.id for r in own.removed}
    removed = [r for r in other.removed if r.id not in gone]
    retired_here = {r.device for r in own.retired}
    retired = [r for r in other.retired if r.device not in retired_here]
    if not entries and not removed and not retired:
        return None
    return own._replace(
        entries=sorted([*own.entries, *entries], key=lambda e: (e.added_at, e.id)),
        removed=sorted([*own.removed, *removed], key=lambda r: (r.at, r.id)),
        retired=sorted([*own.retired, *retired], key=lambda r: (r.at, r.device)),
    )


def summary(ledgers: Sequence[Ledger]) -> str | None:
    """One line for `total` saying what entries it includes and what was removed."""
    items = listing(ledgers)
    if not items:
        return None
    live = [i.entry for i in items if i.removal is None]
    manual = sum(1 for e in live if e.kind == "manual")
    parts = [f"{manual} manual and {len(live) - manual} imported entries"]
    gone = len(items) - len(live)
    if gone:
        parts.append(f"{gone} removed {'entry is' if gone == 1 else 'entries are'} not counted")
    return "includes " + "; ".join(parts) + " (see: ccsync entries)"
