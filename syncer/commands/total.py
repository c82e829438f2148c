"""`ccsync total`: every device's usage merged, with progress toward the goal."""

from __future__ import annotations

from datetime import timedelta, tzinfo
from typing import NamedTuple

from syncer import devices, entries, goal, report, store, trust
from syncer.commands.context import Context, config, writer_lock
from syncer.errors import CcsyncError, GoalCorrupt, LockBusy, RemoteRefused, RemoteUnavailable, SchemaTooNew
from syncer.git import view
from syncer.ledger import Ledger
from syncer.paths import StatePaths
from syncer.peers import count_once
from syncer.pricing import load_table


class Gathered(NamedTuple):
    ledgers: list[Ledger]
    goal: goal.Goal | None
    warnings: list[str]
    goal_error: CcsyncError | None = None  # why goal.json could not be used
    goal_pending: bool = False  # `goal` is the one set here that the next sync pushes


def waiting_goal(paths: StatePaths) -> goal.Goal | None:
    """The goal set on this device that the sync repo does not have yet (see set_goal)."""
    raw = store.read_pending_goal(paths)
    return None if raw is None else read_goal(paths, raw, what=f"the goal waiting to be pushed ({paths.pending_goal})")


def read_goal(paths: StatePaths, data: bytes, *, what: str = "goal.json in the sync repo",
              known_as: bytes | None = None) -> goal.Goal:
    """A goal's bytes as a value: validated, unless its schema accepted these bytes before
    (`known_as` as `trust.parse` takes it)."""
    return trust.parse(paths.trusted, "goal", data, validate=lambda data: goal.parse_goal(data, what=what),
                       build=goal.goal_from_document, known_as=known_as)


def gather(ctx: Context, *, offline: bool, sessions: bool = True) -> Gathered:
    """Every device's ledger: this device's from disk (the freshest), the others' from the
    sync repo. A peer's bad file is skipped with a warning, never fatal. Without `sessions`,
    other devices' ledgers may come without their sessions (see `peers.count_once`)."""
    cfg = config(ctx)
    warnings: list[str] = []
    if not offline:
        # Here, not at the top: the network client (urllib3, dulwich's client) is for fetching only.
        from syncer.commands.remote import FETCH_WAIT, access, remote_of  # noqa: PLC0415
        from syncer.git import local, transport  # noqa: PLC0415

        try:
            with writer_lock(ctx, wait=FETCH_WAIT):  # a first sync may be making them too
                remote = remote_of(ctx, cfg)
                local.open_repo(ctx.paths.repo)
                transport.fetch(ctx.paths.repo, remote, **access(ctx, remote))
        except (RemoteUnavailable, RemoteRefused, LockBusy) as exc:
            warnings.append(f"{exc.message}; showing what was fetched last")
    snap, lately = view.fetched(ctx.paths.repo, ctx.paths.fetched, since=devices.since(ctx.now))
    warnings.extend(snap.warnings)

    def parse(name: str, sessions: bool) -> Ledger:
        return store.load_ledger(ctx.paths, snap.files[name], f"data/{name}.json", sessions,
                                 known_as=snap.digests.get(name))

    counted = count_once(store.read_ledger(ctx.paths), cfg.device, snap.files, parse=parse, sessions=sessions)
    warnings.extend(counted.warnings)
    if len(counted.ledgers) > 1:
        warnings.extend(devices.stale_warnings(counted.ledgers, own=cfg.device, synced_lately=set(lately)))
    current_goal = None
    goal_error: CcsyncError | None = None
    if snap.goal_problem is not None:  # among the snapshot's warnings already
        goal_error = GoalCorrupt(
            f"{snap.goal_problem}; set the goal again with: ccsync goal set TARGET --by YYYY-MM-DD"
        )
    elif snap.goal is not None:
        try:
            current_goal = read_goal(ctx.paths, snap.goal, known_as=snap.goal_digest)
        except (GoalCorrupt, SchemaTooNew) as exc:
            warnings.append(exc.message)
            goal_error = exc
    waiting = waiting_goal(ctx.paths)
    settled = goal.settle(waiting, current_goal) if waiting is not None else None
    if waiting is not None and settled == "push":
        warnings.append(f"the goal set on this device at {_when(waiting)} is not in the sync repo yet; "
                        "the next ccsync sync or nightly run pushes it")
        return Gathered(counted.ledgers, waiting, warnings, None, goal_pending=True)
    if waiting is not None and current_goal is not None and settled == "superseded":
        warnings.append(superseded_text(waiting, current_goal) + "; the next sync drops it")
    return Gathered(counted.ledgers, current_goal, warnings, goal_error)


def _when(g: goal.Goal) -> str:
    return g.set_at.strftime("%Y-%m-%d %H:%M UTC")


def superseded_text(ours: goal.Goal, theirs: goal.Goal) -> str:
    return (f"the goal set on this device at {_when(ours)} was not pushed: {theirs.set_by} set a newer goal "
            f"at {_when(theirs)}, and the goal set last wins")


class TotalResult(NamedTuple):
    grouped: report.Report
    devices: report.Report
    goal: goal.GoalProgress | None  # `pending`: set here, not in the sync repo yet
    warnings: list[str]
    goal_error: CcsyncError | None = None


def total(ctx: Context, *, offline: bool, by: str, zone: tzinfo, source: str | None = None) -> TotalResult:
    from syncer import goalcache  # noqa: PLC0415 - here: a report of every device gathers, and needs none of it

    gathered = gather(ctx, offline=offline, sessions=False)
    pricer = report.Pricer(load_table(ctx.paths.trusted))
    window = report.Window(source=source)
    by_device = report.build("device", gathered.ledgers, zone=zone, window=window, pricer=pricer)
    grouped = (
        by_device if by == "device"
        else report.build(by, gathered.ledgers, zone=zone, window=window, pricer=pricer)
    )
    every_source = by_device if source is None else None
    today = ctx.now.astimezone(zone).date()
    standing = None if gathered.goal is None else goal.standing(
        gathered.goal, gathered.ledgers, zone=zone, pricer=pricer, today=today,
        each_since=today - timedelta(days=goalcache.PACE_DAYS), devices=every_source)
    # What the status line shows as the goal across devices, until the next total.
    goalcache.remember(ctx.paths, device=config(ctx).device, current=gathered.goal, standing=standing, zone=zone,
                       now=ctx.now)
    progress = None if standing is None else standing.progress
    if progress is not None and gathered.goal_pending:
        progress = progress._replace(pending=True)
    warnings = gathered.warnings + by_device.warnings
    included = entries.summary(gathered.ledgers)
    if included:
        warnings.append(included)  # a total says what was added by hand, imported, or removed
    return TotalResult(grouped, by_device, progress, warnings, gathered.goal_error)
