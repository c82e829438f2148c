"""`ccsync goal` and `ccsync goal set`: progress toward the shared goal, and setting it."""

from __future__ import annotations

from datetime import UTC, date, tzinfo

from syncer import goal, store
from syncer.commands.context import DEFAULT_WAIT, Context, config
from syncer.commands.remote import access, remote_of
from syncer.commands.total import TotalResult, total
from syncer.errors import UsageError
from syncer.git import local
from syncer.git.sync import sync_files


def goal_progress(ctx: Context, *, offline: bool, zone: tzinfo) -> TotalResult:
    result = total(ctx, offline=offline, by="device", zone=zone)
    if result.goal_error is not None:
        raise result.goal_error
    if result.goal is None:
        raise UsageError("no goal is set for this sync repo; set one with: ccsync goal set 100M --by 2026-12-31")
    return result


def set_goal(
    ctx: Context, *, target: str, by: date | None, metric: goal.Metric, zone: tzinfo, start: date | None = None,
    source: str | None = None,
) -> goal.Goal:
    cfg = config(ctx)
    today = ctx.now.astimezone(zone).date()
    deadline = by or date(today.year, 12, 31)
    if deadline < today:
        raise UsageError(f"the deadline {deadline.isoformat()} is in the past; give a later one with --by YYYY-MM-DD")
    if start is not None and start > deadline:
        raise UsageError(f"--from {start.isoformat()} is after the deadline {deadline.isoformat()}")
    new = goal.Goal(
        target=goal.parse_target(target, metric), metric=metric, deadline=deadline, start=start, set_by=cfg.device,
        set_at=ctx.now.astimezone(UTC).replace(microsecond=0), source=source,
    )
    with store.writer_lock(ctx.paths, wait=DEFAULT_WAIT):  # the local repositories are made under it
        remote = remote_of(ctx, cfg)
        local.open_repo(ctx.paths.repo)
        sync_files(
            ctx.paths.repo, remote, device=cfg.device, changes={"goal.json": goal.dump_goal(new)},
            message=f"{cfg.device}: goal {new.target:,} {new.metric} by {new.deadline.isoformat()}"
            + (f" ({source} only)" if source else ""),
            **access(ctx, remote),
        )
    return new
