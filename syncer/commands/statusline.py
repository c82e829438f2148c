"""`ccsync statusline install|remove|status`: point Claude Code's status line at ccsync, or stop."""

from __future__ import annotations

import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from syncer import claude_settings
from syncer.commands.context import Context
from syncer.errors import UsageError
from syncer.schedule import own_ccsync
from syncer.statusline import SEGMENTS


@dataclass
class SetupResult:
    plan: claude_settings.Plan
    backup: Path | None
    command: str | None = None


def command_line(ctx: Context, *, argv0: str, segments: str | None) -> str:
    """The command Claude Code will run: this very ccsync, by absolute path."""
    ccsync = own_ccsync(
        argv0, cwd=str(Path.cwd()), which=lambda name: shutil.which(name, path=ctx.env.get("PATH")),
        is_file=lambda path: Path(path).is_file(), windows=sys.platform == "win32",
    )
    if ccsync is None:
        raise UsageError("the ccsync command is not on PATH; install it (pip install ccsync) and run this again")
    command = f"{shlex.quote(ccsync)} statusline"
    if segments is not None:
        names = [s.strip() for s in segments.split(",") if s.strip()]
        unknown = [s for s in names if s not in SEGMENTS]
        if unknown or not names:
            raise UsageError(f"unknown segment {', '.join(unknown) or '(none)'}; choose from {','.join(SEGMENTS)}")
        command += f" --segments {','.join(names)}"
    return command


def install(ctx: Context, *, argv0: str, segments: str | None, force: bool, dry_run: bool) -> SetupResult:
    command = command_line(ctx, argv0=argv0, segments=segments)
    plan = claude_settings.plan_install(claude_settings.settings_path(ctx.env, ctx.home), command, force=force)
    backup = None if dry_run else claude_settings.apply(plan, now=ctx.now)
    return SetupResult(plan, backup, command)


def remove(ctx: Context, *, force: bool, dry_run: bool) -> SetupResult:
    plan = claude_settings.plan_remove(claude_settings.settings_path(ctx.env, ctx.home), force=force)
    backup = None if dry_run else claude_settings.apply(plan, now=ctx.now)
    return SetupResult(plan, backup)


def status(ctx: Context) -> tuple[Path, dict[str, Any] | None]:
    path = claude_settings.settings_path(ctx.env, ctx.home)
    return path, claude_settings.status(path)
