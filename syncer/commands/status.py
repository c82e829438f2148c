"""`ccsync status`: config, log roots, last scan and sync, pending bytes and health."""

from __future__ import annotations

from datetime import UTC
from typing import NamedTuple

from syncer import report, runlog, store
from syncer.commands.context import Context
from syncer.errors import LedgerCorrupt
from syncer.git import urls
from syncer.logfiles import LogFile, find_logs, resume_at
from syncer.paths import StatePaths
from syncer.pricing import load_table
from syncer.published import LastSync, read_last_sync
from syncer.sources import SOURCES
from syncer.store import Config


class StatusResult(NamedTuple):
    config: Config | None
    paths: StatePaths
    roots: list[str]
    files: int
    pending_bytes: int
    last_scan: str | None
    last_sync: LastSync | None
    bad_lines: int
    totals: report.Totals | None
    warnings: list[str]
    remote: str
    last_run: runlog.RunRecord | None
    last_scheduled_run: runlog.RunRecord | None
    sources: list[dict[str, object]]


def _sources_found(ctx: Context, roots: list[str], logs: list[LogFile]) -> list[dict[str, object]]:
    """Each source's log folders that exist, its log files, and the variable that moves them."""
    return [
        {
            "source": name,
            "env_var": source.env_var,
            "log_roots": [str(r) for r in source.log_roots(ctx.env, ctx.home) if str(r) in roots],
            "log_files": sum(1 for log in logs if log.source == name),
        }
        for name, source in SOURCES.items()
    ]


def status(ctx: Context) -> StatusResult:
    cfg = store.load_config(ctx.paths)
    warnings: list[str] = []
    roots, logs = find_logs(ctx.env, ctx.home, warnings)
    generation = store.ledger_generation(ctx.paths)
    state = store.read_state(ctx.paths, generation) if generation >= 0 else None
    checkpoints = state.checkpoints if state else {}
    pending = 0
    for log in logs:
        cp = checkpoints.get(str(log.path))
        pending += log.size - resume_at(log, cp)
    totals = None
    try:
        ledger = store.read_ledger(ctx.paths)
    except LedgerCorrupt as exc:
        ledger = None
        warnings.append(exc.message)
    if ledger is not None:
        totals = report.build("device", [ledger], zone=UTC, window=report.Window(),
                              pricer=report.Pricer(load_table(ctx.paths.trusted))).total
    sources = _sources_found(ctx, roots, logs)
    runs = runlog.read_runs(ctx.paths.runlog)
    health = runlog.health(runs, ctx.now)
    if health and cfg is not None:
        warnings.append(health)
    remote = (cfg.remote if cfg and cfg.remote else f"{ctx.paths.embedded_remote} (embedded default)")
    return StatusResult(
        cfg, ctx.paths, roots, len(logs), pending, state.last_scan if state else None, read_last_sync(ctx.paths),
        state.bad_lines if state else 0, totals, warnings, urls.redact(remote), runs[-1] if runs else None,
        runlog.last_scheduled(runs), sources,
    )
