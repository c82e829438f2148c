"""`ccsync sync`: scan (optionally), then publish this device's ledger: only `data/<device>.json`
changes in the sync repo."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from syncer import entries, store
from syncer.commands.context import DEFAULT_WAIT, Context, config, writer_lock
from syncer.commands.remote import Access, access, remote_of
from syncer.fold import shared_bytes
from syncer.git import local, transport, urls
from syncer.git.layout import GOAL
from syncer.git.limits import MAX_DEVICE_FILE, bounded
from syncer.git.snapshot import snapshot
from syncer.git.sync import PushResult, sync_files
from syncer.ledger import Ledger, dump_ledger
from syncer.peers import former_names, published_record
from syncer.published import already_published, encode_sync, read_last_sync
from syncer.scan import Progress, ScanResult, scan
from syncer.store import Config
from syncer.tally import Tally

if TYPE_CHECKING:
    from syncer.goal import Goal, Settled


@dataclass
class SyncResult:
    scan: ScanResult | None
    sync: PushResult | None  # None: the remote already had this ledger
    remote: str  # redacted, for display
    tokens_added: int
    goal: GoalOutcome | None = None  # what became of a goal that was waiting to be pushed


@dataclass(frozen=True)
class GoalOutcome:
    """A goal set here while the remote was unreachable, settled by this sync."""

    goal: Goal
    settled: Settled
    shared: Goal | None  # the sync repo's goal it was weighed against


def sync(
    ctx: Context,
    *,
    run_scan: bool = True,
    wait: float = DEFAULT_WAIT,
    progress: Progress | None = None,
    unless_published: bool = False,
) -> SyncResult:
    """Scan (optionally), then publish this device's ledger: only `data/<device>.json` changes.
    With `unless_published`, stop after one look at the remote's refs when the last sync
    pushed this very ledger to this remote and the remote has not moved since."""
    with writer_lock(ctx, wait=wait):
        cfg = config(ctx)
        scanned = scan(ctx.paths, cfg, env=ctx.env, home=ctx.home, now=ctx.now, progress=progress) if run_scan else None
        ledger = store.read_ledger(ctx.paths) or Tally().ledger(
            device=cfg.device, install_id=cfg.install_id, generation=0, owner=cfg.owner
        )
        if ledger.install_id != cfg.install_id:
            # An adoption cut short after its commit point: the ledger's identity wins.
            cfg = cfg._replace(install_id=ledger.install_id)
            store.save_config(ctx.paths, cfg)
        # The digest of the local ledger (what the idle run hashes): what is published is a
        # function of it (`shared_bytes`).
        data = dump_ledger(ledger)
        digest = hashlib.sha256(data).hexdigest()
        remote = remote_of(ctx, cfg)
        how = access(ctx, remote)
        last = read_last_sync(ctx.paths)
        waiting = store.read_pending_goal(ctx.paths) is not None
        if unless_published and not waiting and already_published(last, digest=digest, remote=remote):
            # Only this device writes its file, but another writer may have deleted or rolled
            # it back: one look at the remote's branch (no objects) tells whether anything moved.
            assert last is not None
            if transport.remote_tip(remote, **how) == last.get("tip"):
                return SyncResult(scanned, None, urls.redact(remote), 0)
        local.open_repo(ctx.paths.repo)
        with bounded(how["timeout"]):  # one deadline over the fetch and the push
            result, added, data, goal_outcome = _publish(ctx, cfg, ledger, data, remote, how)
        digest = hashlib.sha256(data).hexdigest()  # entries may have been taken back
        store.write_atomic(ctx.paths.last_sync, encode_sync(
            now=ctx.now, tip=result.tip, committed=result.committed, pushed=result.pushed, remote=remote, digest=digest,
        ))
        if goal_outcome is not None:
            store.clear_pending_goal(ctx.paths)
    return SyncResult(scanned, result, urls.redact(remote), added if result.committed else 0, goal_outcome)


def _publish(
    ctx: Context, cfg: Config, ledger: Ledger, data: bytes, remote: str, how: Access
) -> tuple[PushResult, int, bytes, GoalOutcome | None]:
    """Fetch, check what the sync repo holds under our name, and push our file (the local
    ledger's bytes are returned: the entries of the published copy are taken back first), with
    a goal that was waiting to be pushed unless the sync repo has a newer one."""
    # Here, not at the top: the nightly run's nothing-new path never gets this far.
    from syncer.commands.goal import goal_message  # noqa: PLC0415
    from syncer.commands.total import waiting_goal  # noqa: PLC0415
    from syncer.goal import dump_goal, settle  # noqa: PLC0415

    transport.fetch(ctx.paths.repo, remote, **how)
    snap = snapshot(ctx.paths.repo)
    waiting = waiting_goal(ctx.paths)
    published = published_record(snap.files.get(cfg.device), device=cfg.device, ours=ledger)
    # Entries, removals and retirements are append-only: an older local copy (a restored
    # backup) takes back what its published copy holds, so a sync can neither lose nor
    # resurrect one.
    merged = entries.union(ledger, published) if published else None
    if merged is not None:
        store.record(ctx.paths, merged)
        ledger, data = merged, dump_ledger(merged)
    added = _processed(ledger) - (_processed(published) if published else 0)
    shared = shared_bytes(ledger, MAX_DEVICE_FILE, data)  # old history folded if it would not fit
    outcome = (GoalOutcome(waiting, settle(waiting, shared_goal := _readable(snap.goal)), shared_goal)
               if waiting else None)

    def push() -> PushResult:
        changes = {f"data/{cfg.device}.json": shared}
        message = f"{cfg.device}: {added:+,} tokens (ledger generation {ledger.generation})"
        if outcome is not None and outcome.settled == "push":
            changes["goal.json"] = dump_goal(outcome.goal)
            message += f"; {goal_message(cfg.device, outcome.goal)}, set {outcome.goal.set_at.isoformat()}"
        return sync_files(
            ctx.paths.repo, remote, device=cfg.device, changes=changes,
            retire=former_names(
                snap.files, ledger, device=cfg.device, install_ids={ledger.install_id, *cfg.former_install_ids}
            ),
            guard=_guard(cfg.device, ledger, outcome.goal if outcome else None), message=message, **how,
        )

    try:
        result = push()
    except _NewerGoal as newer:
        # Another device set a goal after our fetch, and after ours: it stays.
        assert outcome is not None
        outcome = GoalOutcome(outcome.goal, "superseded", newer.goal)
        result = push()
    return result, added, data, outcome


class _NewerGoal(Exception):
    def __init__(self, goal: Goal) -> None:
        super().__init__(goal.set_at.isoformat())
        self.goal = goal


def _readable(raw: bytes | None) -> Goal | None:
    """The sync repo's goal, or None when there is none or it cannot be read (ours replaces it)."""
    from syncer.errors import GoalCorrupt, SchemaTooNew  # noqa: PLC0415
    from syncer.goal import parse_goal  # noqa: PLC0415

    try:
        return parse_goal(raw) if raw is not None else None
    except (GoalCorrupt, SchemaTooNew):
        return None


def _processed(ledger: Ledger) -> int:
    t = ledger.totals
    return t.input_tokens + t.output_tokens + t.cache_creation_tokens


def _guard(device: str, ledger: Ledger, waiting: Goal | None) -> Callable[[str, bytes], None]:
    """At push time, against the tip being built on: the check `published_record` makes, and
    whether the goal there is still older than the one waiting here."""
    from syncer.goal import settle  # noqa: PLC0415

    def guard(path: str, raw: bytes) -> None:
        if path == GOAL:
            shared = _readable(raw)
            if waiting is not None and shared is not None and settle(waiting, shared) == "superseded":
                raise _NewerGoal(shared)
            return
        published_record(raw, device=device, ours=ledger)
    return guard
