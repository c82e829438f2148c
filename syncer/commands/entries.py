"""`ccsync add`, `ccsync entries` and `ccsync entries remove`: usage no log shows, added by hand,
listed with imported entries, and removed (a recorded removal, never a silent edit)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, date, tzinfo

from syncer import entries, store
from syncer.commands.context import DEFAULT_WAIT, Context, config, writer_lock
from syncer.errors import UsageError
from syncer.ledger import Entry, Ledger, fit, hour_label
from syncer.schemas.ledger import checked_entry
from syncer.tally import Tally

SOURCE = re.compile(r"[a-z][a-z0-9-]{0,31}")


def own_ledger(ctx: Context) -> Ledger:
    """This device's ledger, or an empty one on a device that has recorded nothing yet."""
    cfg = config(ctx)
    return store.read_ledger(ctx.paths) or Tally().ledger(
        device=cfg.device, install_id=cfg.install_id, generation=0, owner=cfg.owner
    )


def add_entry(
    ctx: Context, *, counts: tuple[int, int, int, int], model: str, source: str, day: date | None, note: str,
    zone: tzinfo,
) -> Entry:
    """Record usage by hand in this device's ledger: dated `day` (midday in `zone`), else now."""
    if not SOURCE.fullmatch(source):
        raise UsageError(f"--source {source!r} is not a source name like claude, codex or gemini")
    now = ctx.now.astimezone(UTC).replace(microsecond=0)
    hour = entries.noon(day, zone) if day else hour_label(int(now.timestamp()) // 3600)
    with writer_lock(ctx, wait=DEFAULT_WAIT):
        ledger = own_ledger(ctx)
        entry = checked_entry(
            id=entries.entry_id("manual", os.urandom(16)), kind="manual", hour=hour, source=source,
            model=fit(model or entries.UNKNOWN_MODEL),
            input_tokens=counts[0], output_tokens=counts[1], cache_creation_tokens=counts[2],
            cache_read_tokens=counts[3], note=fit(note), added_at=now,
        )
        store.record(ctx.paths, entries.add(ledger, [entry]))
    return entry


@dataclass
class Listing:
    items: list[entries.Listed]
    warnings: list[str]


def list_entries(ctx: Context, *, offline: bool) -> Listing:
    """Every device's entries, with the removals any device recorded."""
    from syncer.commands.total import gather  # noqa: PLC0415  (git only when listing everyone's)

    gathered = gather(ctx, offline=offline)
    return Listing(entries.listing(gathered.ledgers), gathered.warnings)


def remove_entry(ctx: Context, entry_ref: str, *, offline: bool) -> entries.Listed:
    """Record the removal of entry `entry_ref` (any device's) in this device's ledger; the next
    sync publishes it and every total leaves the entry out."""
    from syncer.commands.total import gather  # noqa: PLC0415

    everyone = gather(ctx, offline=offline).ledgers
    with writer_lock(ctx, wait=DEFAULT_WAIT):
        own = own_ledger(ctx)
        updated, removed = entries.remove(own, entry_ref, everyone, now=ctx.now)
        store.record(ctx.paths, updated)
    return removed
