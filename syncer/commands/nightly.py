"""`ccsync` with no command: the unattended nightly job, scan then sync, logged in the run log."""

from __future__ import annotations

from syncer import runlog
from syncer.commands.context import Context
from syncer.commands.scan import run_scan
from syncer.commands.sync import SyncResult, sync
from syncer.errors import CcsyncError, DiskError
from syncer.scan import Progress


def nightly(ctx: Context, *, progress: Progress | None = None, scheduled: bool = False) -> SyncResult:
    """The unattended job: scan, then sync, and one line in the run log either way. Another
    ccsync holding the lock ends it at once (exit 75): the next night catches up.
    `scheduled`: started by the scheduler (off a terminal), which the health check looks at."""
    added = 0  # what the scan saved counts even when the sync after it fails
    try:
        scanned = run_scan(ctx, wait=0, progress=progress)
        added = sum(scanned.tokens[:3])
        outcome = sync(ctx, run_scan=False, wait=0, unless_published=True)
    except CcsyncError as exc:
        _log_run(ctx, runlog.RunRecord(ctx.now, exc.exit_code, added, False, exc.message, scheduled))
        raise
    outcome.scan = scanned
    pushed = outcome.sync is not None and outcome.sync.pushed
    _log_run(ctx, runlog.RunRecord(ctx.now, 0, added, pushed, None, scheduled))
    return outcome


def _log_run(ctx: Context, record: runlog.RunRecord) -> None:
    try:
        runlog.append_run(ctx.paths.runlog, record)
    except DiskError:
        pass  # the run log is a health hint; its failure must not hide the run's own result
