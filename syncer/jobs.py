"""What each command does, as library calls: open the state, do one job, return a result.

The CLI renders these results; tests call them directly. Everything that needs the clock,
the environment or the home folder gets it from the `Context` the caller built.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import socket
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from datetime import tzinfo
from typing import TYPE_CHECKING, TypedDict

import orjson

from syncer import store
from syncer.errors import (
    CcsyncError,
    ConfigError,
    DiskError,
    LedgerCorrupt,
    LockBusy,
    RemoteUnavailable,
    SchemaTooNew,
    UsageError,
)
from syncer.ledger import DEVICE_ID_PATTERN, Ledger, Tally, dump_ledger, holds_all, parse_ledger
from syncer.paths import StatePaths
from syncer.logfiles import find_logs
from syncer.scan import Progress, ScanResult, resume_at, scan
from syncer.idle import already_published
from syncer.store import Config, Privacy

if TYPE_CHECKING:
    from syncer import goal, report, runlog, schedule
    from syncer.git import local as git_local, snapshot as git_snapshot, sync as git_sync
    from syncer.git import transport as git_transport, urls as git_urls

# git, reports, goals and schedulers are imported where they are used: a nightly run with
# nothing new must start fast, and dulwich alone takes longer to import than that run.

DEFAULT_WAIT = 600.0
FETCH_WAIT = 30.0  # `total` would rather show the last fetch than wait out a long sync
SYNC_STATE = "sync.json"


@dataclass(frozen=True)
class Context:
    paths: StatePaths
    env: Mapping[str, str]
    home: Path
    now: datetime  # aware


def normalise_device(name: str) -> str:
    """A device id from a host name: `Ana's MacBook.local` -> `ana-s-macbook`."""
    name = name.split(".")[0].lower()
    cleaned = re.sub(r"[^a-z0-9-]+", "-", name).strip("-")
    return re.sub(r"-{2,}", "-", cleaned)[:63].strip("-") or "device"


def check_device(device: str) -> str:
    if not re.fullmatch(DEVICE_ID_PATTERN, device):
        raise UsageError(
            f"device id {device!r} is not valid: use 1-63 lowercase letters, digits and dashes, "
            "starting with a letter or digit (for example: ccsync init --device work-laptop)"
        )
    return device


def config(ctx: Context) -> Config:
    """The device's config, set up with defaults on first use so `ccsync` works at once."""
    found = store.load_config(ctx.paths)
    if found is None:
        found = store.create_config(ctx.paths, store.new_config(normalise_device(socket.gethostname())))
    return found


@dataclass
class InitResult:
    config: Config
    created: bool
    remote: str  # redacted, for display
    pushed: git_sync.PushResult | None = None


def init(
    ctx: Context, *, device: str | None, remote: str | None, privacy: Privacy | None, force: bool = False
) -> InitResult:
    """Create or change this device's config. Changing the device id of a device that already
    has a ledger would orphan its file in the sync repo, so that needs --force."""
    from syncer.git import local as git_local, snapshot as git_snapshot, sync as git_sync, transport as git_transport, urls as git_urls
    if device is not None:
        check_device(device)
    if remote is not None:
        remote = git_urls.validate_remote(remote)
        git_local.prepare_local_remote(remote)
    with store.writer_lock(ctx.paths, wait=DEFAULT_WAIT):
        try:
            existing = store.load_config(ctx.paths)
        except ConfigError:
            if not force:
                raise
            existing = None
        if existing is None:
            cfg = store.new_config(device or normalise_device(socket.gethostname()), privacy=privacy or "names")
            created = True
        else:
            cfg, created = existing, False
            if device is not None and device != cfg.device:
                if ctx.paths.ledger.exists() and not force:
                    raise UsageError(
                        f"this device already records as {cfg.device!r}; renaming it starts a new file in the "
                        f"sync repo. To do it anyway: ccsync init --device {device} --force"
                    )
                cfg = cfg.model_copy(update={"device": device})
            if privacy is not None:
                cfg = cfg.model_copy(update={"privacy": privacy})
        if remote is not None:
            cfg = cfg.model_copy(update={"remote": remote})
        store.save_config(ctx.paths, cfg)
        store.rename_ledger(ctx.paths, cfg.device)
    result = InitResult(cfg, created, git_urls.redact(cfg.remote or ""))
    if remote is not None:
        # Push what this device has (and the embedded repo's history, if the remote is empty).
        result.pushed = sync(ctx, run_scan=False).sync
    return result


def run_scan(ctx: Context, *, wait: float = DEFAULT_WAIT, progress: Progress | None = None) -> ScanResult:
    with store.writer_lock(ctx.paths, wait=wait):
        cfg = config(ctx)
        return scan(ctx.paths, cfg, env=ctx.env, home=ctx.home, now=ctx.now, progress=progress)


@dataclass
class SyncOutcome:
    scan: ScanResult | None
    sync: git_sync.PushResult | None  # None: the remote already had this ledger
    remote: str
    tokens_added: int


def remote_of(ctx: Context, cfg: Config) -> str:
    from syncer.git import local as git_local, snapshot as git_snapshot, sync as git_sync, transport as git_transport, urls as git_urls
    if cfg.remote:
        return cfg.remote
    git_local.init_bare_remote(ctx.paths.embedded_remote)
    return str(ctx.paths.embedded_remote)


class _Access(TypedDict):
    credentials: tuple[str, str] | None
    ssh_command: str | None


def _access(ctx: Context, remote: str) -> _Access:
    """How to reach `remote`: a token for https, the user's own ssh command (never a prompt)."""
    from syncer.git import local as git_local, snapshot as git_snapshot, sync as git_sync, transport as git_transport, urls as git_urls
    ssh = ctx.env.get("GIT_SSH_COMMAND")
    return {
        "credentials": git_urls.credentials_for(remote, ctx.env),
        "ssh_command": f"{ssh} -o BatchMode=yes" if ssh else None,
    }


def sync(
    ctx: Context,
    *,
    run_scan: bool = True,
    wait: float = DEFAULT_WAIT,
    progress: Progress | None = None,
    unless_published: bool = False,
) -> SyncOutcome:
    """Scan (optionally), then publish this device's ledger: only `data/<device>.json` changes.
    With `unless_published`, skip git altogether when the last sync already pushed this very
    ledger to this remote (only this device writes its file, so it is still there)."""
    from syncer.git import local as git_local, snapshot as git_snapshot, sync as git_sync, transport as git_transport, urls as git_urls

    with store.writer_lock(ctx.paths, wait=wait):
        cfg = config(ctx)
        scanned = scan(ctx.paths, cfg, env=ctx.env, home=ctx.home, now=ctx.now, progress=progress) if run_scan else None
        ledger = store.read_ledger(ctx.paths) or Tally().ledger(
            device=cfg.device, install_id=cfg.install_id, generation=0
        )
        data = dump_ledger(ledger)
        digest = hashlib.sha256(data).hexdigest()
        remote = remote_of(ctx, cfg)
        if unless_published and already_published(last_sync(ctx.paths), digest=digest, remote=remote):
            return SyncOutcome(scanned, None, git_urls.redact(remote), 0)
        access = _access(ctx, remote)
        git_local.open_repo(ctx.paths.repo)
        git_transport.fetch(ctx.paths.repo, remote, **access)
        snap = git_snapshot.snapshot(ctx.paths.repo)
        published = _published(snap.files.get(cfg.device), cfg)
        before = published.totals if published else None
        added = ledger.totals.input_tokens + ledger.totals.output_tokens + ledger.totals.cache_creation_tokens
        if before is not None:
            added -= before.input_tokens + before.output_tokens + before.cache_creation_tokens
        message = f"{cfg.device}: {added:+,} tokens (ledger generation {ledger.generation})"
        result = git_sync.sync_files(
            ctx.paths.repo, remote, device=cfg.device, changes={f"data/{cfg.device}.json": data},
            retire=_former_names(snap.files, cfg, ledger), guard=_refuse_other_machines(cfg),
            message=message, **access,
        )
        _record_sync(ctx, result, remote=remote, digest=digest)
    return SyncOutcome(scanned, result, git_urls.redact(remote), added if result.committed else 0)


def _published(raw: bytes | None, cfg: Config) -> Ledger | None:
    """This device's file as the sync repo has it; refuses a file another machine wrote."""
    if raw is None:
        return None
    try:
        theirs = parse_ledger(raw, what=f"data/{cfg.device}.json in the sync repo")
    except (LedgerCorrupt, SchemaTooNew):
        return None  # ours to replace: only this device writes it
    if theirs.install_id != cfg.install_id:
        raise ConfigError(
            f"device id {cfg.device!r} is already used by another machine in the sync repo; nothing was pushed. "
            "Give this machine its own id with: ccsync init --device NEW-ID --force "
            "(or, if this machine replaces that one, adopt its record with: ccsync restore)"
        )
    return theirs


def _refuse_other_machines(cfg: Config) -> Callable[[str, bytes], None]:
    """The check `_published` makes, again at push time, against the tip being built on."""
    def guard(_: str, raw: bytes) -> None:
        _published(raw, cfg)
    return guard


def _former_names(files: Mapping[str, bytes], cfg: Config, ledger: Ledger) -> dict[str, bytes]:
    """Files this install published under an earlier device id (`init --device NEW --force`):
    they go in the same commit as the file under the new id. Only a record that this ledger
    holds in full: another live machine with a copy of this state folder keeps its file."""
    mine = cfg.install_id.encode()
    former: dict[str, bytes] = {}
    for device, raw in files.items():
        if device == cfg.device or mine not in raw:  # a cheap test first: most files are others'
            continue
        try:
            theirs = parse_ledger(raw, what=f"data/{device}.json")
        except (LedgerCorrupt, SchemaTooNew):
            continue
        if theirs.install_id == cfg.install_id and holds_all(ledger, theirs):
            former[f"data/{device}.json"] = raw
    return former


def _record_sync(ctx: Context, result: git_sync.PushResult, *, remote: str, digest: str) -> None:
    record = {
        "time": _stamp(ctx.now), "tip": result.tip, "committed": result.committed, "pushed": result.pushed,
        "remote": remote, "ledger_sha256": digest,
    }
    store.write_atomic(ctx.paths.home / SYNC_STATE, orjson.dumps(record))


def last_sync(paths: StatePaths) -> dict[str, object] | None:
    try:
        raw = orjson.loads((paths.home / SYNC_STATE).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return raw if isinstance(raw, dict) else None


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Gathered:
    ledgers: list[Ledger]
    goal: goal.Goal | None
    warnings: list[str] = field(default_factory=list)
    goal_error: CcsyncError | None = None  # why goal.json could not be used


def gather(ctx: Context, *, offline: bool) -> Gathered:
    """Every device's ledger: this device's from disk (the freshest), the others' from the
    sync repo. A peer's bad file is skipped with a warning, never fatal."""
    from syncer.git import local as git_local, snapshot as git_snapshot, sync as git_sync, transport as git_transport, urls as git_urls
    from syncer import goal
    cfg = config(ctx)
    warnings: list[str] = []
    remote = remote_of(ctx, cfg)
    git_local.open_repo(ctx.paths.repo)
    if not offline:
        try:
            with store.writer_lock(ctx.paths, wait=FETCH_WAIT):
                git_transport.fetch(ctx.paths.repo, remote, **_access(ctx, remote))
        except (RemoteUnavailable, LockBusy) as exc:
            warnings.append(f"{exc.message}; showing what was fetched last")
    snap = git_snapshot.snapshot(ctx.paths.repo)
    warnings.extend(snap.warnings)
    ledgers: list[Ledger] = []
    own = store.read_ledger(ctx.paths)
    counted: dict[str, tuple[str, Ledger]] = {}  # install id -> the device and record counted
    if own is not None:
        ledgers.append(own)
        counted[own.install_id] = (cfg.device, own)
    peers: list[tuple[str, Ledger]] = []
    for device, raw in sorted(snap.files.items()):
        if device == cfg.device:
            continue
        try:
            peer = parse_ledger(raw, what=f"data/{device}.json")
        except (LedgerCorrupt, SchemaTooNew) as exc:
            warnings.append(f"skipped {exc.message}")
            continue
        if peer.device != device:
            warnings.append(f"skipped data/{device}.json: it names device {peer.device!r}")
            continue
        peers.append((device, peer))
    # A machine renamed with `ccsync init --device` leaves its old file behind until its next
    # sync: the same install under two names is counted once, under its newest record. Two
    # live records of one install (a copied state folder) both count, with a warning.
    for device, peer in sorted(peers, key=lambda p: -p[1].generation):
        first = counted.get(peer.install_id)
        if first is not None and holds_all(first[1], peer):
            warnings.append(f"skipped data/{device}.json: an older record of device {first[0]!r}")
            continue
        if first is not None:
            warnings.append(
                f"data/{device}.json and device {first[0]!r} share one installation id, as when a state "
                "folder is copied to another machine: usage from before the copy counts twice"
            )
        counted.setdefault(peer.install_id, (device, peer))
        ledgers.append(peer)
    current_goal = None
    goal_error: CcsyncError | None = None
    if snap.goal is not None:
        try:
            current_goal = goal.parse_goal(snap.goal)
        except (LedgerCorrupt, SchemaTooNew) as exc:
            warnings.append(exc.message)
            goal_error = exc
    return Gathered(ledgers, current_goal, warnings, goal_error)


@dataclass
class TotalResult:
    grouped: report.Report
    devices: report.Report
    goal: goal.Progress | None
    warnings: list[str]
    goal_error: CcsyncError | None = None


def total(ctx: Context, *, offline: bool, by: str, zone: tzinfo) -> TotalResult:
    from syncer import report
    from syncer.pricing import load_table
    gathered = gather(ctx, offline=offline)
    pricer = report.Pricer(load_table())
    everything = report.Window()
    by_device = report.build("device", gathered.ledgers, zone=zone, window=everything, pricer=pricer)
    grouped = by_device if by == "device" else report.build(by, gathered.ledgers, zone=zone, window=everything, pricer=pricer)
    progress = _progress(gathered, by_device, zone, pricer, ctx.now)
    warnings = gathered.warnings + by_device.warnings
    return TotalResult(grouped, by_device, progress, warnings, gathered.goal_error)


def _progress(
    gathered: Gathered, by_device: report.Report, zone: tzinfo, pricer: report.Pricer, now: datetime
) -> goal.Progress | None:
    from syncer import goal, report
    if gathered.goal is None:
        return None
    metric = gathered.goal.metric
    today = now.astimezone(zone).date()
    daily = report.build("daily", gathered.ledgers, zone=zone, window=report.Window(), pricer=pricer)
    series = {date.fromisoformat(row.key): goal.metric_value(row.totals, metric) for row in daily.rows}
    devices = {row.key: goal.metric_value(row.totals, metric) for row in by_device.rows}
    return goal.progress(gathered.goal, daily=series, devices=devices, today=today)


def goal_progress(ctx: Context, *, offline: bool, zone: tzinfo) -> TotalResult:
    result = total(ctx, offline=offline, by="device", zone=zone)
    if result.goal_error is not None:
        raise result.goal_error
    if result.goal is None:
        raise UsageError("no goal is set for this sync repo; set one with: ccsync goal set 100M --by 2026-12-31")
    return result


def set_goal(ctx: Context, *, target: str, by: date | None, metric: goal.Metric, zone: tzinfo) -> goal.Goal:
    from syncer.git import local as git_local, snapshot as git_snapshot, sync as git_sync, transport as git_transport, urls as git_urls
    from syncer import goal
    cfg = config(ctx)
    today = ctx.now.astimezone(zone).date()
    deadline = by or date(today.year, 12, 31)
    if deadline < today:
        raise UsageError(f"the deadline {deadline.isoformat()} is in the past; give a later one with --by YYYY-MM-DD")
    new = goal.Goal(
        target=goal.parse_target(target, metric), metric=metric, deadline=deadline, set_by=cfg.device,
        set_at=ctx.now.astimezone(UTC).replace(microsecond=0),
    )
    remote = remote_of(ctx, cfg)
    git_local.open_repo(ctx.paths.repo)
    with store.writer_lock(ctx.paths, wait=DEFAULT_WAIT):
        git_sync.sync_files(
            ctx.paths.repo, remote, device=cfg.device, changes={"goal.json": goal.dump_goal(new)},
            message=f"{cfg.device}: goal {new.target:,} {new.metric} by {new.deadline.isoformat()}",
            **_access(ctx, remote),
        )
    return new


@dataclass
class RestoreResult:
    ledger: Ledger
    source: str


def restore(ctx: Context, *, from_backup: bool) -> RestoreResult:
    """Rebuild this device's local state: from the newest good backup, or from its file in the
    sync repo (a new machine or a lost disk). Either way the next scan re-reads the logs and
    adds only what the restored ledger does not already cover."""
    from syncer.git import local as git_local, snapshot as git_snapshot, sync as git_sync, transport as git_transport, urls as git_urls
    cfg = config(ctx)
    with store.writer_lock(ctx.paths, wait=DEFAULT_WAIT):
        if from_backup:
            ledger = store.restore_backup(ctx.paths)
            return RestoreResult(ledger, "backup")
        remote = remote_of(ctx, cfg)
        git_local.open_repo(ctx.paths.repo)
        git_transport.fetch(ctx.paths.repo, remote, **_access(ctx, remote))
        raw = git_snapshot.snapshot(ctx.paths.repo).files.get(cfg.device)
        if raw is None:
            raise UsageError(
                f"the sync repo has no data/{cfg.device}.json; pick the device id to restore with: "
                "ccsync init --device ID --force"
            )
        ledger = parse_ledger(raw, what=f"data/{cfg.device}.json in the sync repo")
        if ledger.install_id != cfg.install_id:
            store.save_config(ctx.paths, cfg.model_copy(update={"install_id": ledger.install_id}))
        store.write_ledger(ctx.paths, ledger)
        return RestoreResult(ledger, git_urls.redact(remote))


@dataclass
class StatusResult:
    config: Config | None
    paths: StatePaths
    roots: list[str]
    files: int
    pending_bytes: int
    last_scan: str | None
    last_sync: dict[str, object] | None
    bad_lines: int
    totals: report.Totals | None
    warnings: list[str]
    remote: str
    last_run: runlog.RunRecord | None
    last_scheduled_run: runlog.RunRecord | None


def status(ctx: Context) -> StatusResult:
    from syncer.git import local as git_local, snapshot as git_snapshot, sync as git_sync, transport as git_transport, urls as git_urls
    from syncer import report, runlog
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
        from syncer.pricing import load_table
        totals = report.build("device", [ledger], zone=UTC, window=report.Window(),
                              pricer=report.Pricer(load_table())).total
    if not roots:
        warnings.append("no Claude Code log folder found; set CLAUDE_CONFIG_DIR if your logs live elsewhere")
    runs = runlog.read_runs(ctx.paths.runlog)
    health = runlog.health(runs, ctx.now)
    if health and cfg is not None:
        warnings.append(health)
    remote = (cfg.remote if cfg and cfg.remote else f"{ctx.paths.embedded_remote} (embedded default)")
    return StatusResult(
        cfg, ctx.paths, roots, len(logs), pending, state.last_scan if state else None, last_sync(ctx.paths),
        state.bad_lines if state else 0, totals, warnings, git_urls.redact(remote), runs[-1] if runs else None,
        runlog.last_scheduled(runs),
    )


def status_json(result: StatusResult) -> dict[str, object]:
    from syncer import runlog
    cfg = result.config
    totals = result.totals.as_json() if result.totals else None
    return {
        "device": cfg.device if cfg else None,
        "privacy": cfg.privacy if cfg else None,
        "state_folder": str(result.paths.home),
        "remote": result.remote,
        "log_roots": result.roots,
        "log_files": result.files,
        "pending_bytes": result.pending_bytes,
        "last_scan": result.last_scan,
        "last_sync": {k: result.last_sync.get(k) for k in ("time", "tip", "committed", "pushed")}
        if result.last_sync
        else None,
        "bad_lines": result.bad_lines,
        "last_run": _run_json(result.last_run),
        "last_scheduled_run": _run_json(result.last_scheduled_run),
        "totals": totals,
        "warnings": result.warnings,
    }


def _run_json(record: runlog.RunRecord | None) -> object:
    from syncer import runlog
    return orjson.loads(runlog.encode_record(record)) if record else None


def usage_report(
    ctx: Context, *, kind: str, zone: tzinfo, window: report.Window, all_devices: bool
) -> tuple[report.Report, list[str]]:
    """A report over this device's ledger, or over every device's with `all_devices`."""
    from syncer import report
    from syncer.pricing import load_table
    if all_devices:
        gathered = gather(ctx, offline=False)
        ledgers, warnings = gathered.ledgers, gathered.warnings
    else:
        own = store.read_ledger(ctx.paths)
        ledgers, warnings = ([own] if own else []), []
    result = report.build(kind, ledgers, zone=zone, window=window, pricer=report.Pricer(load_table()))
    return result, warnings + result.warnings


def nightly(ctx: Context, *, progress: Progress | None = None, scheduled: bool = False) -> SyncOutcome:
    """The unattended job: scan, then sync, and one line in the run log either way. Another
    ccsync holding the lock ends it at once (exit 75): the next night catches up.
    `scheduled`: started by the scheduler (off a terminal), which the health check looks at."""
    from syncer import runlog
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
    from syncer import runlog
    try:
        runlog.append_run(ctx.paths.runlog, record)
    except DiskError:
        pass  # the run log is a health hint; its failure must not hide the run's own result


@dataclass
class ScheduleResult:
    scheduler: str  # the one installed with; for status and remove, the one install would use
    plan: schedule.Plan | None = None
    statuses: list[tuple[str, schedule.ScheduleStatus]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # schedulers a job of ours was taken from
    searched: list[str] = field(default_factory=list)


def _scheduler(ctx: Context, runner: schedule.Runner, *, chosen: str | None, dry_run: bool) -> str:
    """`--scheduler` if given (on this machine only if it works here), else the detected one."""
    from syncer import schedule
    if chosen is None:
        return schedule.detect_scheduler(platform=sys.platform, env=ctx.env, which=shutil.which, runner=runner)
    scheduler = schedule.parse_scheduler(chosen)
    if not dry_run:
        schedule.check_usable(scheduler, platform=sys.platform, which=shutil.which, runner=runner)
    return scheduler


def schedule_install(
    ctx: Context, *, at: str, dry_run: bool, argv0: str, scheduler: str | None = None
) -> ScheduleResult:
    """Install (or with `dry_run` only plan) the nightly job for the running ccsync, `argv0`."""
    from syncer import schedule
    when = schedule.parse_at(at)
    runner = schedule.SubprocessRunner()
    chosen = _scheduler(ctx, runner, chosen=scheduler, dry_run=dry_run)
    env: Mapping[str, str] = ctx.env
    if (chosen == "schtasks") != (sys.platform == "win32"):
        # A dry run of the other OS family: nothing of this machine fits its paths.
        ccsync: str | None = schedule.STAND_IN_CCSYNC["windows" if chosen == "schtasks" else "posix"]
        env = {}
    else:
        ccsync = schedule.own_ccsync(
            argv0, cwd=str(Path.cwd()), which=lambda name: shutil.which(name, path=ctx.env.get("PATH")),
            is_file=lambda path: Path(path).is_file(), windows=sys.platform == "win32",
        )
    if ccsync is None:
        raise UsageError("the ccsync command is not on PATH; install it (pip install ccsync) and run this again")
    plan = schedule.plan_install(chosen, ccsync=ccsync, at=when, home=ctx.home, env=env)
    if dry_run:
        return ScheduleResult(chosen, plan=plan)
    elsewhere = schedule.present_schedulers(platform=sys.platform, which=shutil.which)
    removed = schedule.install_once(plan, runner, elsewhere=elsewhere, home=ctx.home, env=ctx.env)
    return ScheduleResult(chosen, plan=plan, removed=removed)


def schedule_remove(ctx: Context) -> ScheduleResult:
    """Remove the nightly job from every scheduler that may hold it."""
    from syncer import schedule
    runner = schedule.SubprocessRunner()
    searched = schedule.schedulers_to_search(platform=sys.platform, env=ctx.env, which=shutil.which, runner=runner)
    removed = [s for s in searched if schedule.remove(s, home=ctx.home, runner=runner, env=ctx.env)]
    return ScheduleResult(searched[0], removed=removed, searched=searched)


def schedule_status(ctx: Context) -> ScheduleResult:
    """The nightly job's state in every scheduler that may hold it, the preferred one first."""
    from syncer import schedule
    runner = schedule.SubprocessRunner()
    searched = schedule.schedulers_to_search(platform=sys.platform, env=ctx.env, which=shutil.which, runner=runner)
    statuses = [(s, schedule.status(s, home=ctx.home, runner=runner, env=ctx.env)) for s in searched]
    return ScheduleResult(searched[0], statuses=statuses, searched=searched)
