"""`ccsync devices [--json]` and `ccsync devices retire ID`: every device in the sync repo over
its lifetime, and marking one that will never sync again."""

from __future__ import annotations

from dataclasses import dataclass

from syncer import devices, store
from syncer.commands.context import DEFAULT_WAIT, Context, config, writer_lock
from syncer.commands.entries import own_ledger
from syncer.commands.total import gather
from syncer.git import history
from syncer.git.snapshot import snapshot


@dataclass
class DevicesResult:
    rows: list[devices.DeviceRow]
    warnings: list[str]


def list_devices(ctx: Context, *, offline: bool) -> DevicesResult:
    cfg = config(ctx)
    gathered = gather(ctx, offline=offline)
    files = snapshot(ctx.paths.repo).files
    sizes = {name: len(raw) for name, raw in files.items()}
    last = history.last_commits(ctx.paths.repo)
    return DevicesResult(devices.rows(gathered.ledgers, own=cfg.device, sizes=sizes, last_sync=last), gathered.warnings)


def retire_device(ctx: Context, device: str, *, offline: bool) -> None:
    """Record `device` as retired in this device's ledger and publish it (unless `offline`)."""
    everyone = gather(ctx, offline=offline).ledgers
    with writer_lock(ctx, wait=DEFAULT_WAIT):
        store.record(ctx.paths, devices.retire(own_ledger(ctx), device, everyone, now=ctx.now))
    if not offline:
        from syncer.commands.sync import sync  # noqa: PLC0415  (only when publishing)

        sync(ctx, run_scan=False)
