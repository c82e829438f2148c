"""`ccsync report`: this device's usage (or every device's) grouped by day, week, month, ..."""

from __future__ import annotations

from datetime import tzinfo

from syncer import entries, report, store
from syncer.commands.context import Context
from syncer.pricing import load_table


def usage_report(
    ctx: Context, *, kind: str, zone: tzinfo, window: report.Window, all_devices: bool, week_start: int = 0,
    offline: bool = False, newest: int | None = None,
) -> tuple[report.Report, list[str]]:
    """A report over this device's ledger, or over every device's with `all_devices` (as of
    the last fetch with `offline`); of the sessions, the `newest` only if given."""
    if all_devices:
        # Only here: a report of this device alone must not pay for the git import.
        from syncer.commands.total import gather  # noqa: PLC0415

        gathered = gather(ctx, offline=offline, sessions=kind == "session")
        ledgers, warnings = gathered.ledgers, gathered.warnings
    else:
        own = store.read_ledger(ctx.paths)
        ledgers, warnings = (entries.counted([own]) if own else []), []
    result = report.build(kind, ledgers, zone=zone, window=window, pricer=report.Pricer(load_table(ctx.paths.trusted)),
                          week_start=week_start, newest=newest)
    return report.reveal(result, store.read_names(ctx.paths)), warnings + result.warnings
