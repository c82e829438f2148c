"""`ccsync restore`: rebuild this device's local state from a backup or from the sync repo."""

from __future__ import annotations

from dataclasses import dataclass

from syncer import store
from syncer.commands.context import DEFAULT_WAIT, Context, config, writer_lock
from syncer.commands.remote import access, remote_of
from syncer.errors import LedgerCorrupt, UsageError
from syncer.git import local, transport, urls
from syncer.git.snapshot import snapshot
from syncer.ledger import Ledger
from syncer.schemas.ledger import parse_ledger


@dataclass
class RestoreResult:
    ledger: Ledger
    source: str


def restore(ctx: Context, *, from_backup: bool) -> RestoreResult:
    """Rebuild this device's local state: from the newest good backup, or from its file in the
    sync repo (a new machine adopting an old one's record, a lost disk, a state folder that came
    back from an old backup). Either way the next scan re-reads the logs and adds only what the
    restored ledger does not already cover."""
    cfg = config(ctx)
    with writer_lock(ctx, wait=DEFAULT_WAIT):
        if from_backup:
            ledger = store.restore_backup(ctx.paths)
            return RestoreResult(ledger, "backup")
        remote = remote_of(ctx, cfg)
        local.open_repo(ctx.paths.repo)
        transport.fetch(ctx.paths.repo, remote, **access(ctx, remote))
        files = snapshot(ctx.paths.repo).files
        raw = files.get(cfg.device)
        if raw is None:
            held = ", ".join(sorted(files)) or "no device yet"
            raise UsageError(
                f"the sync repo has no data/{cfg.device}.json (it holds: {held}); "
                "pick the device id to restore with: ccsync init --device ID --force"
            )
        record = parse_ledger(raw, what=f"data/{cfg.device}.json in the sync repo")
        try:
            own = store.read_ledger(ctx.paths)
        except LedgerCorrupt:
            own = None  # what restore is for; the sync repo's record replaces it
        store.adopt(ctx.paths, cfg, record, own=own)
        return RestoreResult(record, urls.redact(remote))
