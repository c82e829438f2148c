"""`ccsync schedule install|remove|status`: the nightly job in the system's scheduler."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from syncer import schedule
from syncer.commands.context import Context
from syncer.errors import UsageError


@dataclass
class ScheduleResult:
    scheduler: str  # the one installed with; for status and remove, the one install would use
    plan: schedule.Plan | None = None
    statuses: list[tuple[str, schedule.ScheduleStatus]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # schedulers a job of ours was taken from
    searched: list[str] = field(default_factory=list)


def _scheduler(runner: schedule.Runner, *, chosen: str | None, dry_run: bool) -> str:
    """`--scheduler` if given (on this machine only if it works here), else the detected one."""
    if chosen is None:
        return schedule.detect_scheduler(platform=sys.platform, which=shutil.which, runner=runner)
    scheduler = schedule.parse_scheduler(chosen)
    if not dry_run:
        schedule.check_usable(scheduler, platform=sys.platform, which=shutil.which, runner=runner)
    return scheduler


def schedule_install(
    ctx: Context, *, at: str, dry_run: bool, argv0: str, scheduler: str | None = None
) -> ScheduleResult:
    """Install (or with `dry_run` only plan) the nightly job for the running ccsync, `argv0`."""
    when = schedule.parse_at(at)
    runner = schedule.SubprocessRunner()
    chosen = _scheduler(runner, chosen=scheduler, dry_run=dry_run)
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
    runner = schedule.SubprocessRunner()
    searched = schedule.schedulers_to_search(platform=sys.platform, which=shutil.which, runner=runner)
    removed = [s for s in searched if schedule.remove(s, home=ctx.home, runner=runner, env=ctx.env)]
    return ScheduleResult(searched[0], removed=removed, searched=searched)


def schedule_status(ctx: Context) -> ScheduleResult:
    """The nightly job's state in every scheduler that may hold it, the preferred one first."""
    runner = schedule.SubprocessRunner()
    searched = schedule.schedulers_to_search(platform=sys.platform, which=shutil.which, runner=runner)
    statuses = [(s, schedule.status(s, home=ctx.home, runner=runner, env=ctx.env)) for s in searched]
    return ScheduleResult(searched[0], statuses=statuses, searched=searched)
