"""Nightly runs: the only module that talks to OS schedulers (systemd, cron, launchd, schtasks).

Three layers, so every OS can be tested on any OS:
- renderers (`render_systemd`, `render_cron_line`, `render_launchd_plist`, `render_schtasks_xml`)
  are pure: an absolute `ccsync` path and a time in, file text out;
- `plan_install` turns a scheduler name into a `Plan` (files to write, commands to run), still
  pure, so `ccsync schedule install --dry-run` can show it;
- `install`, `remove`, `status` act through a `Runner` (argv in, exit code and output out); the
  CLI passes `SubprocessRunner`, tests pass a fake.

A job may sit in any scheduler the OS has (an earlier install chose another, or an install/
script did): `status` and `remove` look in every one present, and `install_once` clears the
others, so one job runs a night.

Every scheduler entry carries one fixed name (`ccsync.timer`, the cron marker, the launchd label,
the task name) shared with the scripts in the project's `install/` folder, so installing twice
leaves one job, and `ccsync schedule status|remove` also see a job set up by those scripts.
"""

from __future__ import annotations

import codecs
import os
import plistlib
import posixpath
import re
import shlex
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Protocol
from xml.sax.saxutils import escape as xml_escape

from syncer.errors import ConfigError, UsageError
from syncer.paths import state_home
from syncer.sources import SOURCES

SCHEDULED_FLAG = "--scheduled"
"""Every job definition passes it: `status` tells the scheduler's runs from a user's, which a
terminal cannot (a run from a script or an IDE is off a terminal too)."""

SCHEDULERS = ("systemd", "cron", "launchd", "schtasks")
# What `ccsync schedule install --scheduler` accepts: the user-facing name of each scheduler.
SCHEDULER_NAMES = {"systemd": "systemd", "cron": "cron", "launchd": "launchd", "task-scheduler": "schtasks"}
# Where each OS may keep our job, preferred first. A job from an earlier install with another
# scheduler (or from an install/ script) would run ccsync twice a night, so status and remove
# look in all of them and install clears the others.
OS_SCHEDULERS = {"win32": ("schtasks",), "darwin": ("launchd", "cron")}
OTHER_OS_SCHEDULERS = ("systemd", "cron")
_COMMAND = {"systemd": "systemctl", "cron": "crontab", "launchd": "launchctl", "schtasks": "schtasks"}
# A dry run of another OS family's definition cannot use this machine's ccsync path.
STAND_IN_CCSYNC = {"posix": "/home/you/.local/bin/ccsync",
                   "windows": r"C:\Users\you\.local\bin\ccsync.exe"}

SYSTEMD_SERVICE = "ccsync.service"
SYSTEMD_TIMER = "ccsync.timer"
# Small: spreads devices that share a remote over a minute so their pushes rarely collide
# (sync retries on a moved remote anyway), while keeping the run close to the chosen time.
SYSTEMD_RANDOMIZED_DELAY_SEC = 60
# A run normally takes seconds; one stuck on a remote that never answers is killed after this,
# or the timer would never fire again (a oneshot service has no start timeout by default).
SYSTEMD_TIMEOUT = "2h"
# Ends our line in the user's crontab; the line is found, replaced and removed by it alone.
CRON_MARKER = "# ccsync:nightly"
LAUNCHD_LABEL = "ccsync.nightly"
LAUNCHD_PLIST = f"{LAUNCHD_LABEL}.plist"
SCHTASKS_NAME = "ccsync-nightly"
SCHTASKS_XML = "ccsync-task.xml"

# Variables that change what `ccsync` reads or writes. A scheduler starts jobs with its own,
# minimal environment, so the ones set when installing are written into the job; otherwise the
# nightly run would quietly use a different state folder than the user's shell does.
PASSED_ENV = ("CCSYNC_HOME", *(source.env_var for source in SOURCES.values()))

_AT_RE = re.compile(r"([0-9]{1,2}):([0-9]{2})")  # [0-9]: \d also matches non-ASCII digits
_TASK_NS = "http://schemas.microsoft.com/windows/2004/02/mit/task"


class Runner(Protocol):
    """Runs one command; the only way this module touches the OS besides writing files."""

    def run(self, argv: Sequence[str], input: str | None = None) -> tuple[int, str, str]: ...


class SubprocessRunner:
    """The real runner. A missing program is exit code 127, as a shell reports it."""

    def __init__(self, *, timeout: float = 60.0) -> None:
        self.timeout = timeout

    def run(self, argv: Sequence[str], input: str | None = None) -> tuple[int, str, str]:
        try:
            done = subprocess.run(
                list(argv),
                input=input,
                capture_output=True,
                # surrogateescape: a crontab line in another encoding is read and written back
                # byte for byte. Windows tools answer in the console code page: use the locale.
                encoding="utf-8" if os.name != "nt" else None,
                errors="surrogateescape" if os.name != "nt" else "replace",
                timeout=self.timeout,
                check=False,
            )
        except FileNotFoundError:
            return 127, "", f"{argv[0]}: command not found"
        except subprocess.TimeoutExpired:
            return 124, "", f"{argv[0]}: no answer after {self.timeout:g} seconds"
        return done.returncode, done.stdout, done.stderr


@dataclass(frozen=True)
class Plan:
    """What `install` will do; printable as is for `--dry-run`.

    `before` removes an earlier copy of the job and may fail (there may be nothing to remove);
    `commands` must all succeed. `cron_line` is set for cron, whose table is shared with the
    user's own jobs and so is edited (read, replace our line, write) rather than overwritten;
    its `commands` only show the two crontab calls that edit does.
    """

    scheduler: str
    files: dict[Path, str]
    commands: list[list[str]]
    description: str
    before: list[list[str]] = field(default_factory=list)
    cron_line: str | None = None


@dataclass(frozen=True)
class ScheduleStatus:
    installed: bool
    at: str | None
    detail: str


# ---------------------------------------------------------------------------------------------
# Time


def parse_at(text: str) -> time:
    """`"23:59"` -> `time(23, 59)`; anything but a 24-hour HH:MM is a usage error."""
    m = _AT_RE.fullmatch(text.strip())
    if m is None or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise UsageError(f"--at expects a 24-hour time HH:MM, such as 23:59; got {text!r}")
    return time(int(m.group(1)), int(m.group(2)))


def _hhmm(at: time) -> str:
    return f"{at.hour:02d}:{at.minute:02d}"


# ---------------------------------------------------------------------------------------------
# Renderers (pure)


def _check_text(value: str, what: str) -> None:
    # A newline or control character would end the unit line, cron line or XML attribute early:
    # refuse rather than write a job that runs something else.
    if any(ord(c) < 0x20 or c == "\x7f" for c in value):
        raise ConfigError(f"{what} contains a control character: {value!r}; it cannot be scheduled")


def _check_posix_ccsync(ccsync: str) -> None:
    _check_text(ccsync, "the ccsync path")
    if not PurePosixPath(ccsync).is_absolute():
        raise ConfigError(
            f"the nightly job needs the absolute path of ccsync, got {ccsync!r}; "
            "install ccsync (pipx install ccsync) and run: ccsync schedule install"
        )


def job_path(ccsync: str, *, macos: bool = False) -> str:
    """PATH for the job: ccsync's own folder first, then the usual system folders.

    Schedulers start jobs with a bare PATH (cron: /usr/bin:/bin); ssh remotes and git credential
    helpers need `ssh` and `git`, which often live in /usr/local/bin or Homebrew's folder.
    """
    dirs = [posixpath.dirname(ccsync)]
    if macos:
        dirs += ["/opt/homebrew/bin", "/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"]
    else:
        dirs += ["/usr/local/bin", "/usr/bin", "/bin"]
    seen: list[str] = []
    for d in dirs:
        if d and d not in seen:
            seen.append(d)
    return ":".join(seen)


def _systemd_quote(value: str) -> str:
    # systemd unquotes C-style escapes and expands %-specifiers in ExecStart and Environment.
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%") + '"'


def render_systemd(ccsync: str, at: time, *, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The user service and timer, keyed by unit file name. `env`: variables the job must see."""
    _check_posix_ccsync(ccsync)
    variables = {"PATH": job_path(ccsync), **dict(sorted((env or {}).items()))}
    env_lines = ""
    for key, value in variables.items():
        _check_text(value, key)
        env_lines += f"Environment={_systemd_quote(f'{key}={value}')}\n"
    if "$" in ccsync:
        # systemd expands $VARIABLES in command lines; `$$` is not reliably undone in the
        # executable's own path, so refuse rather than run a different file.
        raise ConfigError(f"the ccsync path {ccsync!r} contains '$', which systemd would expand")
    exec_start = f"{_systemd_quote(ccsync)} {SCHEDULED_FLAG}"
    service = (
        "[Unit]\n"
        "Description=ccsync nightly run: record AI coding token usage and sync it\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"ExecStart={exec_start}\n"
        f"TimeoutStartSec={SYSTEMD_TIMEOUT}\n"
        # 75: temporary (lock busy, remote unreachable). Already in the run log, and the next
        # night catches up: not a failed unit for `systemctl --user --failed` to report.
        "SuccessExitStatus=75\n"
        # Runs at night next to whatever else the user left running: stay out of its way.
        "Nice=10\n"
        "IOSchedulingClass=idle\n"
        # Last, so install/systemd/install.sh can append the same lines to its template.
        f"{env_lines}"
    )
    timer = (
        "[Unit]\n"
        "Description=Run ccsync every night\n"
        "\n"
        "[Timer]\n"
        f"OnCalendar=*-*-* {_hhmm(at)}:00\n"
        # A night the machine was off or asleep runs at the next boot or wake-up instead.
        "Persistent=true\n"
        f"RandomizedDelaySec={SYSTEMD_RANDOMIZED_DELAY_SEC}\n"
        "\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )
    return {SYSTEMD_SERVICE: service, SYSTEMD_TIMER: timer}


def render_cron_line(ccsync: str, at: time, *, env: Mapping[str, str] | None = None) -> str:
    """One crontab line (with its newline) ending in `CRON_MARKER`.

    Variables are set on the command itself: a `NAME=value` line in a crontab would change
    every job below it, and the rest of the table is the user's. Stdout goes to /dev/null;
    stderr is left alone so errors reach cron mail (ccsync prints nothing on success).
    """
    _check_posix_ccsync(ccsync)
    variables = {"PATH": job_path(ccsync), **dict(sorted((env or {}).items()))}
    assigns = []
    for key, value in variables.items():
        _check_text(value, key)
        assigns.append(f"{key}={shlex.quote(value)}")
    command = " ".join([*assigns, shlex.quote(ccsync), SCHEDULED_FLAG, ">/dev/null"])
    # In a crontab command an unescaped % ends the command (the rest becomes stdin).
    command = command.replace("%", "\\%")
    return f"{at.minute} {at.hour} * * * {command} {CRON_MARKER}\n"


def render_launchd_plist(
    ccsync: str, at: time, *, env: Mapping[str, str] | None = None, log: str | None = None
) -> str:
    """The LaunchAgent property list. `log`: where stderr goes (launchd has no cron mail)."""
    _check_posix_ccsync(ccsync)
    variables = {"PATH": job_path(ccsync, macos=True), **dict(sorted((env or {}).items()))}
    for key, value in variables.items():
        _check_text(value, key)
    agent: dict[str, object] = {
        "Label": LAUNCHD_LABEL,
        "ProgramArguments": [ccsync, SCHEDULED_FLAG],
        # Local time. A night the Mac slept through runs when it wakes (not after power-off).
        "StartCalendarInterval": {"Hour": at.hour, "Minute": at.minute},
        "EnvironmentVariables": variables,
        "ProcessType": "Background",
        "LowPriorityIO": True,
        "Nice": 10,
        "RunAtLoad": False,
        "StandardOutPath": "/dev/null",
    }
    if log is not None:
        agent["StandardErrorPath"] = log
    return plistlib.dumps(agent, sort_keys=True).decode("utf-8")


def _check_windows_ccsync(ccsync: str) -> None:
    _check_text(ccsync, "the ccsync path")
    if not PureWindowsPath(ccsync).is_absolute():
        raise ConfigError(
            f"the nightly task needs the absolute path of ccsync.exe, got {ccsync!r}; "
            "install ccsync (pipx install ccsync) and run: ccsync schedule install"
        )


def schtasks_action(ccsync: str, env: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(command, arguments) of the task's action.

    A task has no environment of its own, so when variables must be passed the action is
    `cmd.exe /d /c set "K=V" && "ccsync.exe"`; cmd expands `%` even in quotes and cannot escape
    `"`, so values holding either are refused rather than mangled.
    """
    _check_windows_ccsync(ccsync)
    if not env:
        return ccsync, SCHEDULED_FLAG
    parts = []
    for key, value in sorted(env.items()):
        _check_text(value, key)
        if '"' in value or "%" in value or '"' in ccsync or "%" in ccsync:
            raise ConfigError(
                f"{key}={value!r} cannot be passed to a scheduled task (it holds \" or %); "
                f"set {key} for your Windows account instead, then run: ccsync schedule install"
            )
        parts.append(f'set "{key}={value}"')
    parts.append(f'"{ccsync}" {SCHEDULED_FLAG}')
    return "cmd.exe", "/d /c " + " && ".join(parts)


def render_schtasks_xml(ccsync: str, at: time, *, env: Mapping[str, str] | None = None) -> str:
    """A Task Scheduler 1.2 task definition; `encode_task_xml` gives the bytes to write."""
    command, arguments = schtasks_action(ccsync, env)
    args_xml = f"      <Arguments>{xml_escape(arguments)}</Arguments>\n" if arguments else ""
    return (
        '<?xml version="1.0" encoding="UTF-16"?>\n'
        f'<Task version="1.2" xmlns="{_TASK_NS}">\n'
        "  <RegistrationInfo>\n"
        "    <Author>ccsync</Author>\n"
        "    <Description>ccsync nightly run: record AI coding token usage and sync it."
        " Remove with: ccsync schedule remove</Description>\n"
        "  </RegistrationInfo>\n"
        "  <Triggers>\n"
        "    <CalendarTrigger>\n"
        # No offset: local time, whatever the time zone is on the night.
        f"      <StartBoundary>2024-01-01T{_hhmm(at)}:00</StartBoundary>\n"
        "      <Enabled>true</Enabled>\n"
        "      <RandomDelay>PT1M</RandomDelay>\n"
        "      <ScheduleByDay>\n"
        "        <DaysInterval>1</DaysInterval>\n"
        "      </ScheduleByDay>\n"
        "    </CalendarTrigger>\n"
        "  </Triggers>\n"
        "  <Principals>\n"
        '    <Principal id="Author">\n'
        # Runs as the user who registers it, only while logged on: no stored password.
        "      <LogonType>InteractiveToken</LogonType>\n"
        "      <RunLevel>LeastPrivilege</RunLevel>\n"
        "    </Principal>\n"
        "  </Principals>\n"
        "  <Settings>\n"
        "    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>\n"
        "    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>\n"
        "    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>\n"
        # A missed night (machine off, user logged out) runs as soon as it can.
        "    <StartWhenAvailable>true</StartWhenAvailable>\n"
        "    <RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>\n"
        "    <AllowStartOnDemand>true</AllowStartOnDemand>\n"
        "    <Enabled>true</Enabled>\n"
        "    <Hidden>false</Hidden>\n"
        "    <ExecutionTimeLimit>PT2H</ExecutionTimeLimit>\n"
        "    <Priority>7</Priority>\n"
        "  </Settings>\n"
        '  <Actions Context="Author">\n'
        "    <Exec>\n"
        f"      <Command>{xml_escape(command)}</Command>\n"
        f"{args_xml}"
        "    </Exec>\n"
        "  </Actions>\n"
        "</Task>\n"
    )


def encode_task_xml(text: str) -> bytes:
    """The task file's bytes: UTF-16 as its declaration says, little-endian with a BOM as
    Windows tools write it (plain "utf-16" would follow the machine's byte order)."""
    return codecs.BOM_UTF16_LE + text.encode("utf-16-le")


# ---------------------------------------------------------------------------------------------
# Where each scheduler keeps our job


def systemd_unit_dir(home: Path, env: Mapping[str, str] | None = None) -> Path:
    xdg = (env or {}).get("XDG_CONFIG_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".config"
    return base / "systemd" / "user"


def launchd_plist_path(home: Path) -> Path:
    return home / "Library" / "LaunchAgents" / LAUNCHD_PLIST


def schtasks_xml_path(home: Path, env: Mapping[str, str] | None = None) -> Path:
    return state_home(env or {}, home, platform="win32") / SCHTASKS_XML


def _uid(uid: int | None) -> int:
    if uid is not None:
        return uid
    getuid: Callable[[], int] | None = getattr(os, "getuid", None)
    return getuid() if getuid is not None else 0


# ---------------------------------------------------------------------------------------------
# Detect, plan


def present_schedulers(*, platform: str, which: Callable[[str], str | None]) -> list[str]:
    """This OS's schedulers whose command exists, preferred first: where a job of ours can be."""
    names = OS_SCHEDULERS.get(platform, OTHER_OS_SCHEDULERS)
    return [name for name in names if which(_COMMAND[name])]


def _usable(scheduler: str, runner: Runner) -> bool:
    # A systemd user manager that does not answer (WSL without systemd, containers, `su`)
    # cannot enable a timer; its command being there is not enough.
    if scheduler == "systemd":
        return runner.run(["systemctl", "--user", "show-environment"])[0] == 0
    return True


def detect_scheduler(*, platform: str, which: Callable[[str], str | None], runner: Runner) -> str:
    """The scheduler to use on this machine; ConfigError when there is none.

    Linux prefers a systemd user timer (it catches up a missed night) when the user manager
    answers; cron otherwise.
    """
    for scheduler in present_schedulers(platform=platform, which=which):
        if _usable(scheduler, runner):
            return scheduler
    if platform == "win32":
        raise ConfigError(
            "schtasks.exe was not found, so no nightly task can be registered; "
            "see install/windows/README.md in the ccsync project"
        )
    if platform == "darwin":
        raise ConfigError("neither launchctl nor crontab was found; no nightly job can be set up")
    raise ConfigError(
        "no scheduler found: the systemd user instance does not answer (systemctl --user) and "
        "there is no crontab command; install cron (for example: sudo apt install cron), "
        "then run: ccsync schedule install"
    )


def parse_scheduler(name: str) -> str:
    """`--scheduler` value -> scheduler name; anything else is a usage error."""
    if name not in SCHEDULER_NAMES:
        raise UsageError(
            f"--scheduler expects one of {', '.join(SCHEDULER_NAMES)}; got {name!r}"
        )
    return SCHEDULER_NAMES[name]


def check_usable(
    scheduler: str, *, platform: str, which: Callable[[str], str | None], runner: Runner
) -> None:
    """UsageError unless `scheduler` can take a job on this machine now."""
    if scheduler in present_schedulers(platform=platform, which=which) and _usable(scheduler, runner):
        return
    shown = next(k for k, v in SCHEDULER_NAMES.items() if v == scheduler)
    raise UsageError(
        f"{shown} is not available on this machine, so no job can be installed with it; "
        f"to print its definition anyway, run: ccsync schedule install --dry-run --scheduler {shown}"
    )


def schedulers_to_search(*, platform: str, which: Callable[[str], str | None], runner: Runner) -> list[str]:
    """Every scheduler our job may be in here, the one `install` would use first."""
    present = present_schedulers(platform=platform, which=which)
    try:
        first = detect_scheduler(platform=platform, which=which, runner=runner)
    except ConfigError:
        if not present:
            raise
        return present  # e.g. units left in a systemd user manager that does not answer now
    return [first, *(s for s in present if s != first)]


def own_ccsync(
    argv0: str,
    *,
    cwd: str,
    which: Callable[[str], str | None],
    is_file: Callable[[str], bool],
    windows: bool,
) -> str | None:
    """The absolute path of the running ccsync, symlinks kept; None when none is found.

    `argv0` (the console script as started) counts when it names ccsync by a path: it is the
    copy the user runs, where the first on PATH may be another. Symlinks are not followed: a
    link such as Homebrew's /opt/homebrew/bin/ccsync survives upgrades, the versioned file it
    points at does not. Otherwise (`python -m syncer`, a bare name) the first ccsync on PATH.
    """
    flavour: type[PurePosixPath] | type[PureWindowsPath] = PureWindowsPath if windows else PurePosixPath
    seps = "/\\" if windows else "/"
    name = flavour(argv0).name
    if (name.lower() if windows else name) in ("ccsync", "ccsync.exe") and any(c in argv0 for c in seps):
        # Joining keeps `..` as typed: collapsing it would follow a symlink's parent by hand.
        path = str(flavour(cwd) / argv0)
        if windows and not path.lower().endswith(".exe") and is_file(path + ".exe"):
            path += ".exe"  # pip's launcher may report its own name without the suffix
        if is_file(path):
            return path
    found = which("ccsync")
    return str(flavour(cwd) / found) if found else None


def _passed_env(env: Mapping[str, str], home: Path, *, windows: bool) -> dict[str, str]:
    """PASSED_ENV as the job must see it: `~` expanded, every folder absolute (a job starts in
    a folder of the scheduler's choosing, so a relative one would point somewhere else)."""
    absolute = PureWindowsPath if windows else PurePosixPath
    passed = {}
    for key in PASSED_ENV:
        if not env.get(key):
            continue
        parts = []
        for part in env[key].split(","):  # a source may take a comma-separated list of folders
            if part == "~" or part.startswith(("~/", "~\\")):
                part = str(home) + part[1:]
            if part and not absolute(part).is_absolute():
                raise ConfigError(
                    f"{key} is a relative path ({env[key]!r}); the nightly job starts in another "
                    f"folder, so set {key} to an absolute path and run: ccsync schedule install"
                )
            parts.append(part)
        passed[key] = ",".join(parts)
    return passed


def plan_install(
    scheduler: str,
    *,
    ccsync: str,
    at: time,
    home: Path,
    env: Mapping[str, str],
    uid: int | None = None,
) -> Plan:
    """Files and commands that set up the nightly job (pure but for `uid`, read when None)."""
    backend = _backend(scheduler)
    return backend.plan(ccsync, at, home, env, _passed_env(env, home, windows=scheduler == "schtasks"), uid)


# ---------------------------------------------------------------------------------------------
# Act


def _write_file(path: Path, text: str) -> None:
    """Write atomically. Task XML is UTF-16, what its declaration says and schtasks reads best."""
    data = encode_task_xml(text) if path.suffix == ".xml" else text.encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        raise ConfigError(f"could not write {path}: {exc.strerror or exc}") from exc


def _must(runner: Runner, argv: list[str], input: str | None = None) -> str:
    code, out, err = runner.run(argv, input)
    if code != 0:
        why = (err or out).strip().splitlines()
        raise ConfigError(
            f"`{' '.join(argv)}` failed (exit {code})" + (f": {why[-1]}" if why else "")
        )
    return out


def _read_crontab(runner: Runner) -> str:
    code, out, err = runner.run(["crontab", "-l"])
    if code == 0:
        return out
    if "no crontab" in err.lower():
        return ""
    why = (err or out).strip()
    raise ConfigError(
        f"could not read your crontab (crontab -l exited {code}"
        + (f": {why.splitlines()[-1]}" if why else "")
        + "); check that you may use cron (/etc/cron.allow)"
    )


def _without_our_lines(table: str) -> tuple[str, int]:
    """The table minus lines carrying CRON_MARKER, every other byte kept; and how many went."""
    kept, dropped = [], 0
    for line in table.splitlines(keepends=True):
        if line.rstrip("\r\n").endswith(CRON_MARKER):
            dropped += 1
        else:
            kept.append(line)
    return "".join(kept), dropped


def install(plan: Plan, runner: Runner) -> None:
    """Carry out `plan`. Idempotent: a second install leaves exactly one job."""
    for argv in plan.before:
        runner.run(argv)  # failure means there was nothing to remove
    if plan.cron_line is not None:
        rest, _ = _without_our_lines(_read_crontab(runner))
        if rest and not rest.endswith("\n"):
            rest += "\n"  # cron ignores a last line without its newline
        _must(runner, ["crontab", "-"], rest + plan.cron_line)
        return
    for path, text in plan.files.items():
        _write_file(path, text)
    for argv in plan.commands:
        _must(runner, argv)


def install_once(
    plan: Plan,
    runner: Runner,
    *,
    elsewhere: Sequence[str],
    home: Path,
    env: Mapping[str, str] | None = None,
    uid: int | None = None,
) -> list[str]:
    """`install`, then remove our job from each scheduler in `elsewhere`, so exactly one job
    exists; returns those a job was removed from. The new job goes in first: if clearing
    another scheduler fails, the night still runs (twice) rather than not at all."""
    install(plan, runner)
    return [
        other for other in elsewhere
        if other != plan.scheduler and remove(other, home=home, runner=runner, env=env, uid=uid)
    ]


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise ConfigError(f"could not remove {path}: {exc.strerror or exc}") from exc
    return True


def remove(
    scheduler: str,
    *,
    home: Path,
    runner: Runner,
    env: Mapping[str, str] | None = None,
    uid: int | None = None,
) -> bool:
    """Remove the nightly job; True when there was one. The user's other jobs are untouched."""
    return _backend(scheduler).remove(home, runner, env, uid)


def _query_task(runner: Runner) -> str | None:
    code, out, _ = runner.run(["schtasks", "/Query", "/TN", SCHTASKS_NAME, "/XML"])
    return out if code == 0 else None


def _systemd_at(timer_text: str) -> str | None:
    m = re.search(r"^OnCalendar=\*-\*-\* (\d{2}):(\d{2})(?::00)?\s*$", timer_text, re.MULTILINE)
    return f"{m.group(1)}:{m.group(2)}" if m else None


def _cron_at(line: str) -> str | None:
    fields = line.split()
    if len(fields) >= 2 and fields[0].isdigit() and fields[1].isdigit():
        return f"{int(fields[1]):02d}:{int(fields[0]):02d}"
    return None


def _task_at(xml_text: str) -> str | None:
    # Drop the declaration: the runner already decoded the text, whatever encoding it names.
    body = re.sub(r"^\s*<\?xml[^>]*\?>", "", xml_text)
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    start = root.find(f".//{{{_TASK_NS}}}CalendarTrigger/{{{_TASK_NS}}}StartBoundary")
    m = re.search(r"T(\d{2}):(\d{2})", start.text or "") if start is not None else None
    return f"{m.group(1)}:{m.group(2)}" if m else None


def status(
    scheduler: str,
    *,
    home: Path,
    runner: Runner,
    env: Mapping[str, str] | None = None,
    uid: int | None = None,
) -> ScheduleStatus:
    """Whether the nightly job is set up, at what time, and one line of detail."""
    return _backend(scheduler).status(home, runner, env, uid)


# ---------------------------------------------------------------------------------------------
# Each scheduler's install plan, removal and status, side by side


# systemd user timer


def _plan_systemd(
    ccsync: str, at: time, home: Path, env: Mapping[str, str], job_env: dict[str, str], uid: int | None
) -> Plan:
    units = render_systemd(ccsync, at, env=job_env)
    unit_dir = systemd_unit_dir(home, env)
    return Plan(
        scheduler="systemd",
        files={unit_dir / name: text for name, text in units.items()},
        commands=[
            ["systemctl", "--user", "daemon-reload"],
            ["systemctl", "--user", "enable", SYSTEMD_TIMER],
            # restart, not start: an already running timer picks up a new --at.
            ["systemctl", "--user", "restart", SYSTEMD_TIMER],
        ],
        description=f"systemd user timer {SYSTEMD_TIMER}: runs {ccsync} every day at "
        f"{_hhmm(at)} (a missed night runs at the next start)",
    )


def _remove_systemd(home: Path, runner: Runner, env: Mapping[str, str] | None, uid: int | None) -> bool:
    units = [systemd_unit_dir(home, env) / n for n in (SYSTEMD_TIMER, SYSTEMD_SERVICE)]
    if not any(u.exists() for u in units):
        # Nothing of ours: leave the user manager alone (install clears this scheduler
        # whenever it uses another one, and the units are the only sign of our job).
        return False
    runner.run(["systemctl", "--user", "disable", "--now", SYSTEMD_TIMER])
    removed = [_unlink(u) for u in units]
    runner.run(["systemctl", "--user", "daemon-reload"])
    return any(removed)


def _status_systemd(home: Path, runner: Runner, env: Mapping[str, str] | None, uid: int | None) -> ScheduleStatus:
    timer = systemd_unit_dir(home, env) / SYSTEMD_TIMER
    if not timer.exists():
        return ScheduleStatus(False, None, f"no {SYSTEMD_TIMER} in {timer.parent}")
    at = _systemd_at(timer.read_text(encoding="utf-8", errors="replace"))
    code, out, _ = runner.run(
        ["systemctl", "--user", "show", SYSTEMD_TIMER,
         "--property=UnitFileState,ActiveState,LastTriggerUSec"]
    )
    if code != 0:
        return ScheduleStatus(
            False, at, f"{timer} exists, but systemctl --user does not answer, so whether "
            "the timer is enabled is unknown; run this in a login session of your own"
        )
    props = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    enabled = props.get("UnitFileState") == "enabled"
    active = props.get("ActiveState", "unknown")
    last = props.get("LastTriggerUSec") or "never"
    detail = (
        f"systemd user timer {SYSTEMD_TIMER}: {props.get('UnitFileState', 'unknown')}, "
        f"{active}; last run: {last}"
    )
    return ScheduleStatus(enabled, at, detail)


# cron


def _plan_cron(
    ccsync: str, at: time, home: Path, env: Mapping[str, str], job_env: dict[str, str], uid: int | None
) -> Plan:
    line = render_cron_line(ccsync, at, env=job_env)
    return Plan(
        scheduler="cron",
        files={},
        commands=[["crontab", "-l"], ["crontab", "-"]],
        description=f"crontab line (your other lines are kept as they are): {line.rstrip()}",
        cron_line=line,
    )


def _remove_cron(home: Path, runner: Runner, env: Mapping[str, str] | None, uid: int | None) -> bool:
    rest, dropped = _without_our_lines(_read_crontab(runner))
    if dropped:
        _must(runner, ["crontab", "-"], rest)
    return dropped > 0


def _status_cron(home: Path, runner: Runner, env: Mapping[str, str] | None, uid: int | None) -> ScheduleStatus:
    ours = [
        line for line in _read_crontab(runner).splitlines()
        if line.rstrip().endswith(CRON_MARKER)
    ]
    if not ours:
        return ScheduleStatus(False, None, "no ccsync line in your crontab")
    return ScheduleStatus(True, _cron_at(ours[-1]), f"crontab line: {ours[-1]}")


# launchd agent


def _plan_launchd(
    ccsync: str, at: time, home: Path, env: Mapping[str, str], job_env: dict[str, str], uid: int | None
) -> Plan:
    target = f"gui/{_uid(uid)}"
    plist = launchd_plist_path(home)
    log = str(home / "Library" / "Logs" / "ccsync.log")
    return Plan(
        scheduler="launchd",
        files={plist: render_launchd_plist(ccsync, at, env=job_env, log=log)},
        commands=[["launchctl", "bootstrap", target, str(plist)]],
        description=f"launchd agent {LAUNCHD_LABEL}: runs {ccsync} every day at "
        f"{_hhmm(at)}; errors go to {log}",
        before=[["launchctl", "bootout", f"{target}/{LAUNCHD_LABEL}"]],
    )


def _remove_launchd(home: Path, runner: Runner, env: Mapping[str, str] | None, uid: int | None) -> bool:
    code, _, _ = runner.run(["launchctl", "bootout", f"gui/{_uid(uid)}/{LAUNCHD_LABEL}"])
    return _unlink(launchd_plist_path(home)) or code == 0


def _status_launchd(home: Path, runner: Runner, env: Mapping[str, str] | None, uid: int | None) -> ScheduleStatus:
    plist = launchd_plist_path(home)
    if not plist.exists():
        return ScheduleStatus(False, None, f"no {plist}")
    at = None
    try:
        agent = plistlib.loads(plist.read_bytes())
        when = agent.get("StartCalendarInterval", {})
        at = f"{int(when['Hour']):02d}:{int(when['Minute']):02d}"
    except (plistlib.InvalidFileException, ValueError, KeyError, TypeError, AttributeError):
        pass
    code, _, _ = runner.run(["launchctl", "print", f"gui/{_uid(uid)}/{LAUNCHD_LABEL}"])
    loaded = code == 0
    detail = f"launchd agent {LAUNCHD_LABEL} ({plist}): " + (
        "loaded" if loaded else "not loaded; run: ccsync schedule install"
    )
    return ScheduleStatus(loaded, at, detail)


# Windows Task Scheduler


def _plan_schtasks(
    ccsync: str, at: time, home: Path, env: Mapping[str, str], job_env: dict[str, str], uid: int | None
) -> Plan:
    xml_file = schtasks_xml_path(home, env)
    return Plan(
        scheduler="schtasks",
        files={xml_file: render_schtasks_xml(ccsync, at, env=job_env)},
        # /F replaces a task of the same name: installing twice leaves one task.
        commands=[["schtasks", "/Create", "/TN", SCHTASKS_NAME, "/XML", str(xml_file), "/F"]],
        description=f"Task Scheduler task {SCHTASKS_NAME}: runs {ccsync} every day at "
        f"{_hhmm(at)} (a missed day runs as soon as possible)",
    )


def _remove_schtasks(home: Path, runner: Runner, env: Mapping[str, str] | None, uid: int | None) -> bool:
    code, out, err = runner.run(["schtasks", "/Delete", "/TN", SCHTASKS_NAME, "/F"])
    _unlink(schtasks_xml_path(home, env))
    if code == 0:
        return True
    if _query_task(runner) is None:
        return False
    raise ConfigError(f"could not delete task {SCHTASKS_NAME}: {(err or out).strip()}")


def _status_schtasks(home: Path, runner: Runner, env: Mapping[str, str] | None, uid: int | None) -> ScheduleStatus:
    xml_text = _query_task(runner)
    if xml_text is None:
        return ScheduleStatus(False, None, f"no task named {SCHTASKS_NAME}")
    return ScheduleStatus(True, _task_at(xml_text), f"Task Scheduler task {SCHTASKS_NAME}")


@dataclass(frozen=True)
class _Backend:
    plan: Callable[[str, time, Path, Mapping[str, str], dict[str, str], int | None], Plan]
    remove: Callable[[Path, Runner, Mapping[str, str] | None, int | None], bool]
    status: Callable[[Path, Runner, Mapping[str, str] | None, int | None], ScheduleStatus]


_BACKENDS = {
    "systemd": _Backend(_plan_systemd, _remove_systemd, _status_systemd),
    "cron": _Backend(_plan_cron, _remove_cron, _status_cron),
    "launchd": _Backend(_plan_launchd, _remove_launchd, _status_launchd),
    "schtasks": _Backend(_plan_schtasks, _remove_schtasks, _status_schtasks),
}


def _backend(scheduler: str) -> _Backend:
    backend = _BACKENDS.get(scheduler)
    if backend is None:
        raise UsageError(f"unknown scheduler {scheduler!r}; expected one of {', '.join(SCHEDULERS)}")
    return backend
