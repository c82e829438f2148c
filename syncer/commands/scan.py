"""`ccsync scan`: read new usage from the logs into this device's ledger, under the writer lock."""

from __future__ import annotations

from syncer.commands.context import DEFAULT_WAIT, Context, config, writer_lock
from syncer.scan import Progress, ScanResult, scan


def run_scan(ctx: Context, *, wait: float = DEFAULT_WAIT, progress: Progress | None = None) -> ScanResult:
    with writer_lock(ctx, wait=wait):
        cfg = config(ctx)
        return scan(ctx.paths, cfg, env=ctx.env, home=ctx.home, now=ctx.now, progress=progress)
