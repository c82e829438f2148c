"""`ccsync goal` and `ccsync goal set`: progress toward the shared goal, and setting it.

A goal set while the remote is unreachable waits in the state folder (`goal-pending.json`);
the next sync pushes it, unless another device set a newer goal meanwhile (goal.settle).
"""

from __future__ import annotations

from datetime import UTC, date, tzinfo

from syncer import goal, store
from syncer.commands.context import DEFAULT_WAIT, Context, config, writer_lock
from syncer.commands.total import TotalResult, total
from syncer.errors import RemoteRefused, RemoteUnavailable, UsageError


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
    """Set the shared goal. It is saved on this device first: when the remote cannot be
    reached, the error says so and the next sync pushes it."""
    cfg = config(ctx)
    today = ctx.now.astimezone(zone).date()
    deadline = by or date(today.year, 12, 31)
    if deadline < today:
        raise UsageError(f"the deadline {deadline.isoformat()} is in the past; give a later one with --by YYYY-MM-DD")
    if start is not None and start > deadline:
        raise UsageError(f"--from {start.isoformat()} is after the deadline {deadline.isoformat()}")
    new = goal.checked(goal.Goal(
        target=goal.parse_target(target, metric), metric=metric, deadline=deadline, start=start, set_by=cfg.device,
        set_at=ctx.now.astimezone(UTC).replace(microsecond=0), source=source,
    ))
    # Here, not at the top: reading a goal must not pay for the network client (a tenth of a second).
    from syncer.commands.remote import access, remote_of  # noqa: PLC0415
    from syncer.git import local  # noqa: PLC0415
    from syncer.git.sync import sync_files  # noqa: PLC0415

    with writer_lock(ctx, wait=DEFAULT_WAIT):  # the local repositories are made under it
        store.write_atomic(ctx.paths.pending_goal, goal.dump_goal(new))
        remote = remote_of(ctx, cfg)
        local.open_repo(ctx.paths.repo)
        try:
            sync_files(
                ctx.paths.repo, remote, device=cfg.device, changes={"goal.json": goal.dump_goal(new)},
                message=goal_message(cfg.device, new), **access(ctx, remote),
            )
        except (RemoteUnavailable, RemoteRefused) as exc:
            raise type(exc)(f"{exc.message}. The goal is saved on this device (ccsync goal shows it as "
                            "pending) and the next ccsync sync or nightly run pushes it") from None
        store.clear_pending_goal(ctx.paths)
    return new


def goal_message(device: str, new: goal.Goal) -> str:
    return (f"{device}: goal {new.target:,} {new.metric} by {new.deadline.isoformat()}"
            + (f" ({new.source} only)" if new.source else ""))
