"""Tests for syncer.schedule: renderers against golden files and real validators, the install/
scripts against the renderers, and install/remove/status on every scheduler through a fake OS.

Nothing here touches the machine's real crontab, systemd user instance, launchd or Task
Scheduler: commands go to `FakeOS`, or to fake `crontab`/`systemctl`/`launchctl` scripts put
first on PATH that store what they receive under tmp_path.
"""

from __future__ import annotations

import json
import os
import plistlib
import re
import shutil
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from syncer import schedule
from syncer.commands.context import Context
from syncer.commands.schedule import schedule_install
from syncer.errors import ConfigError, UsageError
from syncer.paths import StatePaths
from syncer.schedule import (
    CRON_MARKER,
    LAUNCHD_LABEL,
    SCHTASKS_NAME,
    Plan,
    SubprocessRunner,
    detect_scheduler,
    encode_task_xml,
    install,
    install_once,
    own_ccsync,
    parse_at,
    plan_install,
    present_schedulers,
    remove,
    render_cron_line,
    render_launchd_plist,
    render_schtasks_xml,
    render_systemd,
    schedulers_to_search,
    status,
)
from tests.cli_runner import Cli

GOLDEN = Path(__file__).parent / "golden" / "schedule"
INSTALL = Path(__file__).parent.parent / "install"
TASK_NS = "{http://schemas.microsoft.com/windows/2004/02/mit/task}"
LINUX_CCSYNC = "/home/ada/.local/bin/ccsync"
MAC_CCSYNC = "/Users/ada/.local/bin/ccsync"
WIN_CCSYNC = r"C:\Users\Ada\AppData\Roaming\Python\Scripts\ccsync.exe"
UID = 501
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="runs POSIX shell scripts")


def systemd_verify(analyze: str, tmp_path: Path, units: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`systemd-analyze --user verify` on the timer and service, written to a scratch folder."""
    unit_dir = tmp_path / "units"
    unit_dir.mkdir()
    for name, text in units.items():
        (unit_dir / name).write_text(text)
    runtime = tmp_path / "rt"
    runtime.mkdir(mode=0o700)
    return subprocess.run(
        [analyze, "--user", "verify", str(unit_dir / "ccsync.timer"), str(unit_dir / "ccsync.service")],
        capture_output=True, text=True, env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)}, check=False,
    )


def script_env(**extra: str) -> dict[str, str]:
    """The environment for an install/ script: this test's PATH and HOME (conftest points HOME
    at tmp_path), without the ccsync variables the scripts would copy into the job."""
    env = {k: v for k, v in os.environ.items() if k not in ("CCSYNC_HOME", "CLAUDE_CONFIG_DIR")}
    return {**env, **extra}


def check_golden(name: str, data: bytes) -> None:
    """Compare with tests/golden/schedule/<name>, byte for byte as the product writes the file;
    CCSYNC_UPDATE_GOLDEN=1 rewrites it."""
    path = GOLDEN / name
    if os.environ.get("CCSYNC_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    assert path.read_bytes() == data


# --------------------------------------------------------------------------------------------
# A fake OS: every scheduler's commands, with the state they would change.


class FakeOS:
    """Answers `systemctl --user`, `crontab`, `launchctl` and `schtasks` like the real ones
    (including their failures: bootstrap of a loaded agent, enable of a missing unit)."""

    def __init__(self, home: Path, *, crontab: str | None = None) -> None:
        self.home = home
        self.crontab = crontab
        self.calls: list[list[str]] = []
        self.systemd_loaded: dict[str, str] = {}
        self.enabled: set[str] = set()
        self.active: set[str] = set()
        self.launchd_loaded: dict[str, bytes] = {}
        self.tasks: dict[str, str] = {}
        self.user_manager = True

    def run(self, argv: Sequence[str], input: str | None = None) -> tuple[int, str, str]:
        argv = list(argv)
        self.calls.append(argv)
        prog, args = argv[0], argv[1:]
        if prog == "crontab":
            return self._crontab(args, input)
        if prog == "systemctl":
            assert args[0] == "--user", "only the user instance may be touched"
            return self._systemctl(args[1:])
        if prog == "launchctl":
            return self._launchctl(args)
        if prog == "schtasks":
            return self._schtasks(args)
        return 127, "", f"{prog}: command not found"

    def _crontab(self, args: list[str], input: str | None) -> tuple[int, str, str]:
        if args == ["-l"]:
            if self.crontab is None:
                return 1, "", "no crontab for ada\n"
            return 0, self.crontab, ""
        if args == ["-"]:
            assert input is not None
            self.crontab = input
            return 0, "", ""
        raise AssertionError(f"unexpected crontab {args}")

    def _systemctl(self, args: list[str]) -> tuple[int, str, str]:
        unit_dir = self.home / ".config" / "systemd" / "user"
        if args == ["show-environment"]:
            return (0, "HOME=/home/ada\n", "") if self.user_manager else (
                1, "", "Failed to connect to bus: No medium found\n")
        if args == ["daemon-reload"]:
            self.systemd_loaded = {
                p.name: p.read_text() for p in unit_dir.glob("ccsync.*")
            } if unit_dir.exists() else {}
            return 0, "", ""
        if args[0] == "enable":
            if args[1] not in self.systemd_loaded:
                return 1, "", f"Failed to enable unit: Unit file {args[1]} does not exist.\n"
            self.enabled.add(args[1])
            return 0, "", ""
        if args[0] == "restart":
            if args[1] not in self.systemd_loaded:
                return 5, "", f"Failed to restart {args[1]}: Unit {args[1]} not found.\n"
            self.active.add(args[1])
            return 0, "", ""
        if args[:2] == ["disable", "--now"]:
            self.enabled.discard(args[2])
            self.active.discard(args[2])
            return 0, "", ""
        if args[0] == "show":
            unit = args[1]
            state = "enabled" if unit in self.enabled else "disabled"
            active = "active" if unit in self.active else "inactive"
            return 0, f"UnitFileState={state}\nActiveState={active}\nLastTriggerUSec=n/a\n", ""
        raise AssertionError(f"unexpected systemctl {args}")

    def _launchctl(self, args: list[str]) -> tuple[int, str, str]:
        label_target = f"gui/{UID}/{LAUNCHD_LABEL}"
        if args[0] == "bootstrap":
            assert args[1] == f"gui/{UID}"
            if LAUNCHD_LABEL in self.launchd_loaded:
                return 5, "", "Bootstrap failed: 5: Input/output error\n"
            self.launchd_loaded[LAUNCHD_LABEL] = Path(args[2]).read_bytes()
            return 0, "", ""
        if args[0] == "bootout":
            assert args[1] == label_target
            if self.launchd_loaded.pop(LAUNCHD_LABEL, None) is None:
                return 3, "", "Boot-out failed: 3: No such process\n"
            return 0, "", ""
        if args[0] == "print":
            assert args[1] == label_target
            return (0, "state = not running\n", "") if LAUNCHD_LABEL in self.launchd_loaded else (
                113, "", f"Could not find service \"{LAUNCHD_LABEL}\" in domain for user gui: {UID}\n")
        raise AssertionError(f"unexpected launchctl {args}")

    def _schtasks(self, args: list[str]) -> tuple[int, str, str]:
        name = args[args.index("/TN") + 1]
        missing = (1, "", "ERROR: The system cannot find the file specified.\n")
        if args[0] == "/Create":
            if name in self.tasks and "/F" not in args:
                return 1, "", "ERROR: Cannot create a file when that file already exists.\n"
            self.tasks[name] = Path(args[args.index("/XML") + 1]).read_bytes().decode("utf-16")
            return 0, f'SUCCESS: The scheduled task "{name}" has successfully been created.\n', ""
        if args[0] == "/Query":
            return (0, self.tasks[name], "") if name in self.tasks else missing
        if args[0] == "/Delete":
            return (0, "SUCCESS\n", "") if self.tasks.pop(name, None) is not None else missing
        raise AssertionError(f"unexpected schtasks {args}")


def ccsync_for(scheduler: str) -> str:
    return {"schtasks": WIN_CCSYNC, "launchd": MAC_CCSYNC}.get(scheduler, LINUX_CCSYNC)


def job_count(fake: FakeOS, scheduler: str) -> int:
    if scheduler == "systemd":
        return int("ccsync.timer" in fake.enabled)
    if scheduler == "cron":
        return sum(line.endswith(CRON_MARKER) for line in (fake.crontab or "").splitlines())
    if scheduler == "launchd":
        return len(fake.launchd_loaded)
    return len(fake.tasks)


# --------------------------------------------------------------------------------------------
# parse_at


@pytest.mark.parametrize(
    ("text", "expected"),
    [("23:59", time(23, 59)), ("00:00", time(0, 0)), ("7:05", time(7, 5)), (" 09:30 ", time(9, 30))],
)
def test_parse_at_accepts_24_hour_times(text: str, expected: time) -> None:
    assert parse_at(text) == expected


@pytest.mark.parametrize("text", ["24:00", "23:60", "2359", "11pm", "", "23:5", "-1:00", "23:59:00", "１2:00"])
def test_parse_at_rejects_anything_else(text: str) -> None:
    with pytest.raises(UsageError, match="HH:MM"):
        parse_at(text)


# --------------------------------------------------------------------------------------------
# Renderers: golden files and real validators


def test_systemd_units_match_golden() -> None:
    units = render_systemd(LINUX_CCSYNC, time(23, 59))
    assert sorted(units) == ["ccsync.service", "ccsync.timer"]
    check_golden("ccsync.service", units["ccsync.service"].encode())
    check_golden("ccsync.timer", units["ccsync.timer"].encode())


def test_cron_line_matches_golden() -> None:
    check_golden("crontab.txt", render_cron_line(LINUX_CCSYNC, time(23, 59)).encode())


def test_launchd_plist_matches_golden() -> None:
    log = "/Users/ada/Library/Logs/ccsync.log"
    check_golden("ccsync.nightly.plist", render_launchd_plist(MAC_CCSYNC, time(23, 59), log=log).encode())


def test_schtasks_xml_matches_golden() -> None:
    check_golden("ccsync-nightly.xml", encode_task_xml(render_schtasks_xml(WIN_CCSYNC, time(23, 59))))


def test_golden_task_xml_parses_as_its_declaration_says() -> None:
    data = (GOLDEN / "ccsync-nightly.xml").read_bytes()
    assert data.startswith(b"\xff\xfe")  # UTF-16 little-endian with its BOM, as Windows writes it
    root = ET.fromstring(data)
    assert root.findtext(f"{TASK_NS}Actions/{TASK_NS}Exec/{TASK_NS}Command") == WIN_CCSYNC


def test_service_stops_a_hung_run_and_accepts_a_temporary_failure() -> None:
    service = render_systemd(LINUX_CCSYNC, time(23, 59))["ccsync.service"]
    assert "TimeoutStartSec=2h\n" in service
    assert "SuccessExitStatus=75\n" in service


def test_timer_catches_up_and_fires_at_the_time() -> None:
    timer = render_systemd(LINUX_CCSYNC, time(7, 5))["ccsync.timer"]
    assert "OnCalendar=*-*-* 07:05:00\n" in timer
    assert "Persistent=true\n" in timer
    delay = int(timer.split("RandomizedDelaySec=")[1].split()[0])
    assert 0 < delay <= 300


def test_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    # verify checks that ExecStart exists and is executable: give it a real file, with a space
    # and a % in the path and the values to exercise the quoting.
    folder = tmp_path / "bin dir"
    folder.mkdir()
    exe = folder / "ccsync"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    units = render_systemd(str(exe), time(23, 59), env={"CCSYNC_HOME": '/data/%zone "cc"\\sync'})
    done = systemd_verify(analyze, tmp_path, units)
    assert done.returncode == 0, done.stderr
    # Warnings (bad quoting, unknown %-specifiers, unknown keys) leave the exit code at 0 and
    # name the file: none may name our units.
    assert "ccsync." not in done.stderr, done.stderr


def test_systemd_escapes_quotes_backslashes_and_percent() -> None:
    service = render_systemd("/opt/100%/ccsync", time(23, 59), env={"CCSYNC_HOME": '/d/"q"\\x%h'})["ccsync.service"]
    assert 'ExecStart="/opt/100%%/ccsync" --scheduled\n' in service
    assert 'Environment="CCSYNC_HOME=/d/\\"q\\"\\\\x%%h"\n' in service


def test_launchd_plist_parses_as_a_property_list() -> None:
    text = render_launchd_plist(
        MAC_CCSYNC, time(6, 7), env={"CCSYNC_HOME": "/Users/ada/cc & <sync>"}, log="/tmp/x.log"
    )
    agent = plistlib.loads(text.encode("utf-8"))
    assert agent["Label"] == LAUNCHD_LABEL
    assert agent["ProgramArguments"] == [MAC_CCSYNC, "--scheduled"]
    assert agent["StartCalendarInterval"] == {"Hour": 6, "Minute": 7}
    assert agent["EnvironmentVariables"]["CCSYNC_HOME"] == "/Users/ada/cc & <sync>"
    assert agent["EnvironmentVariables"]["PATH"].split(":")[:2] == ["/Users/ada/.local/bin", "/opt/homebrew/bin"]
    assert agent["StandardErrorPath"] == "/tmp/x.log"
    assert agent["StandardOutPath"] == "/dev/null"


def test_schtasks_xml_parses_and_has_the_trigger_and_catch_up() -> None:
    text = render_schtasks_xml(WIN_CCSYNC, time(7, 5))
    # Parse the bytes as install() writes them (UTF-16 with BOM), declaration included.
    root = ET.fromstring(text.encode("utf-16"))
    assert root.tag == f"{TASK_NS}Task"
    trigger = root.find(f"{TASK_NS}Triggers/{TASK_NS}CalendarTrigger")
    assert trigger is not None
    assert trigger.findtext(f"{TASK_NS}StartBoundary") == "2024-01-01T07:05:00"
    assert trigger.findtext(f"{TASK_NS}ScheduleByDay/{TASK_NS}DaysInterval") == "1"
    assert root.findtext(f"{TASK_NS}Settings/{TASK_NS}StartWhenAvailable") == "true"
    assert root.findtext(f"{TASK_NS}Actions/{TASK_NS}Exec/{TASK_NS}Command") == WIN_CCSYNC
    assert root.findtext(f"{TASK_NS}Actions/{TASK_NS}Exec/{TASK_NS}Arguments") == "--scheduled"


def test_schtasks_passes_variables_through_cmd() -> None:
    text = render_schtasks_xml(WIN_CCSYNC, time(23, 59), env={"CCSYNC_HOME": r"D:\sync & co"})
    root = ET.fromstring(text.encode("utf-16"))
    assert root.findtext(f"{TASK_NS}Actions/{TASK_NS}Exec/{TASK_NS}Command") == "cmd.exe"
    assert root.findtext(f"{TASK_NS}Actions/{TASK_NS}Exec/{TASK_NS}Arguments") == (
        f'/d /c set "CCSYNC_HOME=D:\\sync & co" && "{WIN_CCSYNC}" --scheduled'
    )


@pytest.mark.parametrize("value", ['D:\\a"b', "D:\\%USERPROFILE%\\x"])
def test_schtasks_refuses_values_cmd_would_mangle(value: str) -> None:
    with pytest.raises(ConfigError, match="CCSYNC_HOME"):
        render_schtasks_xml(WIN_CCSYNC, time(23, 59), env={"CCSYNC_HOME": value})


def test_cron_line_quotes_and_escapes_percent() -> None:
    line = render_cron_line("/opt/my apps/100%/ccsync", time(7, 5), env={"CCSYNC_HOME": "/x/it's"})
    assert line == (
        "5 7 * * * PATH='/opt/my apps/100\\%:/usr/local/bin:/usr/bin:/bin' "
        "CCSYNC_HOME='/x/it'\"'\"'s' '/opt/my apps/100\\%/ccsync' --scheduled >/dev/null # ccsync:nightly\n"
    )


def test_cron_line_keeps_stderr_for_cron_mail() -> None:
    line = render_cron_line(LINUX_CCSYNC, time(23, 59))
    assert ">/dev/null" in line
    assert "2>" not in line and "&>" not in line


@pytest.mark.parametrize("render", [render_cron_line, render_launchd_plist])
@pytest.mark.parametrize("bad", ["ccsync", "bin/ccsync", "/usr/bin/cc\nsync", "/usr/bin/ccsync\r"])
def test_renderers_refuse_relative_or_control_character_paths(render: Callable[..., str], bad: str) -> None:
    with pytest.raises(ConfigError):
        render(bad, time(23, 59))


def test_systemd_refuses_dollar_and_newline_values() -> None:
    with pytest.raises(ConfigError, match=r"\$"):
        render_systemd("/home/$USER/bin/ccsync", time(23, 59))
    with pytest.raises(ConfigError, match="CCSYNC_HOME"):
        render_systemd(LINUX_CCSYNC, time(23, 59), env={"CCSYNC_HOME": "/a\nExecStart=/bin/rm"})


def test_schtasks_refuses_relative_path() -> None:
    with pytest.raises(ConfigError):
        render_schtasks_xml("ccsync.exe", time(23, 59))


# --------------------------------------------------------------------------------------------
# The install/ folder says the same thing as the renderers


def test_install_timer_file_is_the_rendered_timer() -> None:
    rendered = render_systemd(LINUX_CCSYNC, time(23, 59))["ccsync.timer"]
    assert (INSTALL / "systemd" / "ccsync.timer").read_text() == rendered


def test_install_templates_fill_in_to_the_rendered_files() -> None:
    path = "/home/ada/.local/bin:/usr/local/bin:/usr/bin:/bin"
    service = (INSTALL / "systemd" / "ccsync.service").read_text()
    service = service.replace("@CCSYNC@", LINUX_CCSYNC).replace("@PATH@", path)
    assert service == render_systemd(LINUX_CCSYNC, time(23, 59))["ccsync.service"]

    cron = (INSTALL / "cron" / "ccsync.cron").read_text()
    assert cron.replace("@CCSYNC@", LINUX_CCSYNC).replace("@PATH@", path) == render_cron_line(
        LINUX_CCSYNC, time(23, 59)
    )

    log = "/Users/ada/Library/Logs/ccsync.log"
    mac_path = schedule.job_path(MAC_CCSYNC, macos=True)
    plist = (INSTALL / "launchd" / f"{LAUNCHD_LABEL}.plist").read_text()
    plist = (plist.replace("@CCSYNC@", MAC_CCSYNC).replace("@PATH@", mac_path)
             .replace("@LOG@", log).replace("@HOUR@", "23").replace("@MINUTE@", "59"))
    assert plist == render_launchd_plist(MAC_CCSYNC, time(23, 59), log=log)


def test_install_scripts_use_the_installed_ccsync_and_shared_names() -> None:
    assert "ccsync=$(command -v ccsync)" in (INSTALL / "common.sh").read_text()
    for script in ["cron/install.sh", "systemd/install.sh", "launchd/install.sh"]:
        text = (INSTALL / script).read_text()
        assert '. "$here/../common.sh"' in text and "\nfind_ccsync\n" in text, script
    assert CRON_MARKER in (INSTALL / "cron" / "install.sh").read_text()
    assert f"LABEL={LAUNCHD_LABEL}" in (INSTALL / "launchd" / "install.sh").read_text()
    for script in ["install.ps1", "remove.ps1"]:
        assert f'$TaskName = "{SCHTASKS_NAME}"' in (INSTALL / "windows" / script).read_text()
    for folder in ["cron", "systemd", "launchd", "windows"]:
        assert (INSTALL / folder / "README.md").is_file()


def test_windows_install_script_registers_a_daily_2359_task_running_ccsync() -> None:
    text = (INSTALL / "windows" / "install.ps1").read_text()
    assert 'param([string]$At = "23:59")' in text
    assert "$trigger = New-ScheduledTaskTrigger -Daily -At $time " in text
    # The installed ccsync, found on PATH, is what the task runs (directly, or after cmd's `set`).
    assert "$cmd = Get-Command ccsync -CommandType Application" in text
    assert "$exe = $cmd.Source" in text
    assert 'New-ScheduledTaskAction -Execute $exe -Argument "--scheduled"\n' in text
    assert "Register-ScheduledTask -TaskName $TaskName -Action $action -Trigger $trigger " in text
    assert "-Force" in text.split("Register-ScheduledTask", 1)[1]  # a second run replaces the task


def test_windows_remove_script_unregisters_the_task() -> None:
    text = (INSTALL / "windows" / "remove.ps1").read_text()
    assert "Unregister-ScheduledTask -TaskName $TaskName -Confirm:$false" in text


@pytest.mark.parametrize("script", ["install.ps1", "remove.ps1"])
def test_windows_scripts_parse_in_powershell(script: str) -> None:
    pwsh = shutil.which("pwsh") or shutil.which("powershell")
    if pwsh is None:
        pytest.skip("PowerShell (pwsh) is not installed; the scripts' text is checked above")
    path = str(INSTALL / "windows" / script).replace("'", "''")
    check = (f"$e = $null; [void][System.Management.Automation.Language.Parser]::ParseFile('{path}', "
             "[ref]$null, [ref]$e); if ($e) { $e | ForEach-Object { $_.ToString() }; exit 1 }")
    done = subprocess.run([pwsh, "-NoProfile", "-NonInteractive", "-Command", check],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


# --------------------------------------------------------------------------------------------
# detect_scheduler


def which_of(*present: str) -> Callable[[str], str | None]:
    return lambda name: f"/usr/bin/{name}" if name in present else None


@pytest.mark.parametrize(
    ("platform", "present", "user_manager", "expected"),
    [
        ("linux", ("systemctl", "crontab"), True, "systemd"),
        ("linux", ("systemctl", "crontab"), False, "cron"),
        ("linux", ("crontab",), True, "cron"),
        ("freebsd13", ("crontab",), False, "cron"),
        ("darwin", ("launchctl", "crontab"), False, "launchd"),
        ("darwin", ("crontab",), False, "cron"),
        ("win32", ("schtasks",), False, "schtasks"),
    ],
)
def test_detect_scheduler(
    tmp_path: Path, platform: str, present: tuple[str, ...], user_manager: bool, expected: str
) -> None:
    fake = FakeOS(tmp_path)
    fake.user_manager = user_manager
    got = detect_scheduler(platform=platform, which=which_of(*present), runner=fake)
    assert got == expected


@pytest.mark.parametrize(
    ("platform", "present"), [("linux", ()), ("linux", ("systemctl",)), ("darwin", ()), ("win32", ("crontab",))]
)
def test_detect_scheduler_without_one_is_a_config_error(
    tmp_path: Path, platform: str, present: tuple[str, ...]
) -> None:
    fake = FakeOS(tmp_path)
    fake.user_manager = False
    with pytest.raises(ConfigError):
        detect_scheduler(platform=platform, which=which_of(*present), runner=fake)


# --------------------------------------------------------------------------------------------
# install / status / remove through the fake OS, for every scheduler


def plan_for(scheduler: str, home: Path, at: time = time(23, 59), env: dict[str, str] | None = None) -> Plan:
    return plan_install(scheduler, ccsync=ccsync_for(scheduler), at=at, home=home, env=env or {}, uid=UID)


@pytest.mark.parametrize("scheduler", schedule.SCHEDULERS)
def test_install_status_remove_round_trip(tmp_path: Path, scheduler: str) -> None:
    home = tmp_path / "home"
    fake = FakeOS(home)
    assert status(scheduler, home=home, runner=fake, uid=UID).installed is False

    install(plan_for(scheduler, home), fake)
    st = status(scheduler, home=home, runner=fake, uid=UID)
    assert st.installed is True
    assert st.at == "23:59"
    assert job_count(fake, scheduler) == 1

    assert remove(scheduler, home=home, runner=fake, uid=UID) is True
    assert job_count(fake, scheduler) == 0
    assert status(scheduler, home=home, runner=fake, uid=UID).installed is False
    assert remove(scheduler, home=home, runner=fake, uid=UID) is False


@pytest.mark.parametrize("scheduler", schedule.SCHEDULERS)
def test_installing_twice_leaves_one_job_with_the_new_time(tmp_path: Path, scheduler: str) -> None:
    home = tmp_path / "home"
    fake = FakeOS(home)
    install(plan_for(scheduler, home), fake)
    install(plan_for(scheduler, home), fake)
    install(plan_for(scheduler, home, at=time(7, 5)), fake)
    last_install_call = fake.calls[-1]
    assert job_count(fake, scheduler) == 1
    assert status(scheduler, home=home, runner=fake, uid=UID).at == "07:05"
    # What the scheduler actually holds is the new definition, not the first one.
    if scheduler == "systemd":
        assert "OnCalendar=*-*-* 07:05:00" in fake.systemd_loaded["ccsync.timer"]
        assert last_install_call == ["systemctl", "--user", "restart", "ccsync.timer"]
    if scheduler == "launchd":
        loaded = plistlib.loads(fake.launchd_loaded[LAUNCHD_LABEL])
        assert loaded["StartCalendarInterval"] == {"Hour": 7, "Minute": 5}
    if scheduler == "schtasks":
        assert "T07:05:00" in fake.tasks[SCHTASKS_NAME]


@pytest.mark.parametrize("scheduler", schedule.SCHEDULERS)
def test_plan_writes_nothing(tmp_path: Path, scheduler: str) -> None:
    home = tmp_path / "home"
    plan = plan_for(scheduler, home)
    assert plan.scheduler == scheduler
    assert plan.description
    assert list(home.iterdir()) == []
    for path in plan.files:
        assert path.is_relative_to(home)


def test_cron_keeps_every_other_byte_of_the_users_table(tmp_path: Path) -> None:
    users = (
        "# m h  dom mon dow   command\n"
        "MAILTO=ada@example.org\n"
        "\n"
        "*/5 * * * *  /usr/bin/backup   --quiet   # not ours: ccsync:nightly in the middle\n"
        "@reboot /home/ada/bin/start\t\n"
    )
    fake = FakeOS(tmp_path, crontab=users)
    install(plan_for("cron", tmp_path), fake)
    install(plan_for("cron", tmp_path, at=time(1, 2)), fake)
    assert fake.crontab == users + render_cron_line(LINUX_CCSYNC, time(1, 2))
    assert remove("cron", home=tmp_path, runner=fake) is True
    assert fake.crontab == users


def test_cron_adds_a_newline_the_users_last_line_lacks(tmp_path: Path) -> None:
    fake = FakeOS(tmp_path, crontab="0 1 * * * /bin/true")
    install(plan_for("cron", tmp_path), fake)
    assert fake.crontab == "0 1 * * * /bin/true\n" + render_cron_line(LINUX_CCSYNC, time(23, 59))


def test_cron_removes_stray_duplicates_of_our_line(tmp_path: Path) -> None:
    ours = render_cron_line(LINUX_CCSYNC, time(23, 59))
    fake = FakeOS(tmp_path, crontab=ours + "0 1 * * * /bin/true\n" + ours.replace("59 23", "0 3"))
    install(plan_for("cron", tmp_path, at=time(4, 0)), fake)
    assert fake.crontab == "0 1 * * * /bin/true\n" + render_cron_line(LINUX_CCSYNC, time(4, 0))


def test_cron_never_writes_a_table_it_could_not_read(tmp_path: Path) -> None:
    class Denied(FakeOS):
        def _crontab(self, args: list[str], input: str | None) -> tuple[int, str, str]:
            if args == ["-l"]:
                return 1, "", "You (ada) are not allowed to use this program (crontab)\n"
            return super()._crontab(args, input)

    fake = Denied(tmp_path, crontab="0 1 * * * /bin/true\n")
    with pytest.raises(ConfigError, match="not allowed"):
        install(plan_for("cron", tmp_path), fake)
    with pytest.raises(ConfigError):
        remove("cron", home=tmp_path, runner=fake)
    assert ["crontab", "-"] not in fake.calls
    assert fake.crontab == "0 1 * * * /bin/true\n"


def test_a_failing_command_is_a_config_error_naming_it(tmp_path: Path) -> None:
    class NoEnable(FakeOS):
        def _systemctl(self, args: list[str]) -> tuple[int, str, str]:
            if args[0] == "enable":
                return 1, "", "Failed to enable unit: Access denied\n"
            return super()._systemctl(args)

    with pytest.raises(ConfigError, match="systemctl --user enable ccsync.timer.*Access denied"):
        install(plan_for("systemd", tmp_path / "home"), NoEnable(tmp_path / "home"))


def test_systemd_status_when_the_user_manager_does_not_answer(tmp_path: Path) -> None:
    home = tmp_path / "home"
    fake = FakeOS(home)
    install(plan_for("systemd", home), fake)

    class Silent(FakeOS):
        def _systemctl(self, args: list[str]) -> tuple[int, str, str]:
            return 1, "", "Failed to connect to bus: No medium found\n"

    st = status("systemd", home=home, runner=Silent(home), uid=UID)
    assert st.installed is False and st.at == "23:59"
    assert "does not answer" in st.detail


def test_systemd_respects_xdg_config_home(tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    plan = plan_install("systemd", ccsync=LINUX_CCSYNC, at=time(23, 59), home=tmp_path,
                        env={"XDG_CONFIG_HOME": str(xdg)})
    assert set(plan.files) == {xdg / "systemd" / "user" / "ccsync.service", xdg / "systemd" / "user" / "ccsync.timer"}
    relative = plan_install("systemd", ccsync=LINUX_CCSYNC, at=time(23, 59), home=tmp_path,
                            env={"XDG_CONFIG_HOME": "relative/dir"})
    assert all(p.is_relative_to(tmp_path / ".config") for p in relative.files)


@pytest.mark.parametrize("scheduler", schedule.SCHEDULERS)
def test_plan_passes_ccsync_home_and_claude_config_dir_only(tmp_path: Path, scheduler: str) -> None:
    env = {"CCSYNC_HOME": "/data/ccsync", "CLAUDE_CONFIG_DIR": "/a/claude,/b/claude",
           "GITHUB_TOKEN": "secret", "HOME": "/home/ada"}
    if scheduler == "schtasks":
        env = {**env, "CCSYNC_HOME": r"D:\ccsync", "CLAUDE_CONFIG_DIR": r"C:\a\claude,D:\b\claude",
               "LOCALAPPDATA": str(tmp_path / "local")}
    plan = plan_for(scheduler, tmp_path, env=env)
    text = "".join(plan.files.values()) + (plan.cron_line or "")
    assert env["CCSYNC_HOME"] in text
    assert env["CLAUDE_CONFIG_DIR"] in text
    assert "secret" not in text


def test_plan_expands_tilde_and_refuses_relative_folders(tmp_path: Path) -> None:
    plan = plan_install("cron", ccsync=LINUX_CCSYNC, at=time(1, 0), home=Path("/home/ada"),
                        env={"CCSYNC_HOME": "~/cc", "CLAUDE_CONFIG_DIR": "~/.claude,/srv/claude"})
    assert "CCSYNC_HOME=/home/ada/cc CLAUDE_CONFIG_DIR=/home/ada/.claude,/srv/claude " in (plan.cron_line or "")
    with pytest.raises(ConfigError, match="CCSYNC_HOME is a relative path"):
        plan_install("systemd", ccsync=LINUX_CCSYNC, at=time(1, 0), home=tmp_path, env={"CCSYNC_HOME": "cc"})
    with pytest.raises(ConfigError, match="CLAUDE_CONFIG_DIR"):
        plan_install("launchd", ccsync=MAC_CCSYNC, at=time(1, 0), home=tmp_path, env={"CLAUDE_CONFIG_DIR": "/a,b"})
    # Windows folders are judged as Windows paths.
    win = plan_install("schtasks", ccsync=WIN_CCSYNC, at=time(1, 0), home=tmp_path,
                       env={"CCSYNC_HOME": r"D:\cc", "LOCALAPPDATA": str(tmp_path)})
    assert r'set "CCSYNC_HOME=D:\cc"' in "".join(win.files.values())


def test_schtasks_xml_goes_to_the_state_folder_as_utf16(tmp_path: Path) -> None:
    env = {"LOCALAPPDATA": str(tmp_path / "local")}
    plan = plan_install("schtasks", ccsync=WIN_CCSYNC, at=time(23, 59), home=tmp_path, env=env)
    (xml_path,) = plan.files
    assert xml_path == tmp_path / "local" / "ccsync" / "ccsync-task.xml"
    install(plan, FakeOS(tmp_path))
    data = xml_path.read_bytes()
    assert data[:2] in (b"\xff\xfe", b"\xfe\xff")
    assert data.decode("utf-16") == plan.files[xml_path]


def test_unknown_scheduler_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        plan_install("at", ccsync=LINUX_CCSYNC, at=time(1, 0), home=tmp_path, env={})
    with pytest.raises(UsageError):
        status("at", home=tmp_path, runner=FakeOS(tmp_path))


# --------------------------------------------------------------------------------------------
# Real processes: SubprocessRunner, and the install/ scripts, against fake scheduler binaries


def write_exe(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@pytest.fixture
def fake_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder first on PATH with a fake `crontab` storing into tmp_path/spool, a logging
    `systemctl` and `launchctl`, and an installed-looking `ccsync`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    spool = tmp_path / "spool"
    write_exe(bin_dir / "crontab", f"""
spool='{spool}'
case "$1" in
  -l) if [ -f "$spool" ]; then cat "$spool"; else echo "no crontab for $(id -un)" >&2; exit 1; fi ;;
  -) cat > "$spool.new" && mv "$spool.new" "$spool" ;;
  *) echo "fake crontab: unexpected $*" >&2; exit 2 ;;
esac
""")
    for tool in ("systemctl", "launchctl"):
        write_exe(bin_dir / tool, f'echo "{tool} $*" >> "{tmp_path}/calls"\n')
    write_exe(bin_dir / "ccsync", "exit 0\n")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return bin_dir


@posix_only
def test_real_runner_with_fake_crontab_binary(tmp_path: Path, fake_bin: Path) -> None:
    spool = tmp_path / "spool"
    spool.write_text("MAILTO=\"\"\n0 1 * * * /bin/true\n")
    write_exe(fake_bin / "systemctl", 'echo "Failed to connect to bus: No medium found" >&2; exit 1\n')
    runner = SubprocessRunner()
    assert detect_scheduler(platform="linux", which=shutil.which, runner=runner) == "cron"
    ccsync = str(fake_bin / "ccsync")
    for at in (time(23, 59), time(23, 59), time(6, 30)):
        plan = plan_install("cron", ccsync=ccsync, at=at, home=tmp_path, env={})
        install(plan, runner)
    assert spool.read_text() == "MAILTO=\"\"\n0 1 * * * /bin/true\n" + render_cron_line(ccsync, time(6, 30))
    assert status("cron", home=tmp_path, runner=runner).at == "06:30"
    assert remove("cron", home=tmp_path, runner=runner) is True
    assert spool.read_text() == "MAILTO=\"\"\n0 1 * * * /bin/true\n"


@posix_only
def test_real_runner_keeps_non_utf8_crontab_bytes(tmp_path: Path, fake_bin: Path) -> None:
    spool = tmp_path / "spool"
    users = b"# caf\xe9 in latin-1\n0 1 * * * /bin/echo \xff\n"
    spool.write_bytes(users)
    runner = SubprocessRunner()
    ccsync = str(fake_bin / "ccsync")
    install(plan_install("cron", ccsync=ccsync, at=time(23, 59), home=tmp_path, env={}), runner)
    assert spool.read_bytes() == users + render_cron_line(ccsync, time(23, 59)).encode()
    assert remove("cron", home=tmp_path, runner=runner) is True
    assert spool.read_bytes() == users


@posix_only
def test_real_runner_reports_a_missing_program() -> None:
    code, out, err = SubprocessRunner().run(["ccsync-no-such-program-xyz"])
    assert code == 127 and out == "" and "not found" in err


@posix_only
def test_cron_install_script_writes_the_rendered_line(tmp_path: Path, fake_bin: Path) -> None:
    spool = tmp_path / "spool"
    spool.write_text("0 1 * * * /bin/true\n")
    script = str(INSTALL / "cron" / "install.sh")
    env = script_env(CCSYNC_HOME="/data/ccsync", CLAUDE_CONFIG_DIR="/a,/b")
    for args in ([], ["--at", "00:00"], ["--at", "7:05"]):  # 00: a zero hour or minute once ended the script
        subprocess.run(["sh", script, *args], env=env, check=True, capture_output=True)
    ccsync = str(fake_bin / "ccsync")
    expected = render_cron_line(ccsync, time(7, 5), env={"CCSYNC_HOME": "/data/ccsync", "CLAUDE_CONFIG_DIR": "/a,/b"})
    assert spool.read_text() == "0 1 * * * /bin/true\n" + expected
    # And the Python side recognises and removes the script's line.
    assert status("cron", home=tmp_path, runner=SubprocessRunner()).at == "07:05"
    subprocess.run(["sh", script, "--remove"], env=env, check=True, capture_output=True)
    assert spool.read_text() == "0 1 * * * /bin/true\n"


@posix_only
def test_cron_install_script_refuses_to_overwrite_an_unreadable_table(tmp_path: Path, fake_bin: Path) -> None:
    write_exe(fake_bin / "crontab", 'if [ "$1" = -l ]; then echo "crontab: permission denied" >&2; exit 1; fi\n'
              f'echo written > "{tmp_path}/written"\n')
    done = subprocess.run(["sh", str(INSTALL / "cron" / "install.sh")], env=script_env(),
                          capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "permission denied" in done.stderr
    assert not (tmp_path / "written").exists()


@posix_only
def test_systemd_install_script_writes_the_rendered_units(tmp_path: Path, fake_bin: Path) -> None:
    home = tmp_path / "home"
    env = script_env(HOME=str(home), CCSYNC_HOME="/data/cc sync")
    subprocess.run(["sh", str(INSTALL / "systemd" / "install.sh"), "--at", "06:30"], env=env, check=True,
                   capture_output=True)
    plan = plan_install("systemd", ccsync=str(fake_bin / "ccsync"), at=time(6, 30), home=home,
                        env={"CCSYNC_HOME": "/data/cc sync"})
    for path, text in plan.files.items():
        assert path.read_text() == text
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls == ["systemctl --user show-environment"] + [" ".join(c) for c in plan.commands]
    subprocess.run(["sh", str(INSTALL / "systemd" / "install.sh"), "--remove"], env=env, check=True,
                   capture_output=True)
    assert not any(path.exists() for path in plan.files)


@posix_only
def test_launchd_install_script_writes_the_rendered_plist(tmp_path: Path, fake_bin: Path) -> None:
    home = tmp_path / "home"
    env = script_env(HOME=str(home))
    subprocess.run(["sh", str(INSTALL / "launchd" / "install.sh"), "--at", "05:07"], env=env, check=True,
                   capture_output=True)
    plan = plan_install("launchd", ccsync=str(fake_bin / "ccsync"), at=time(5, 7), home=home, env={},
                        uid=os.getuid())
    for path, text in plan.files.items():
        assert path.read_text() == text
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls == [" ".join(c) for c in plan.before + plan.commands]


@posix_only
def test_launchd_install_script_checks_everything_before_unloading_the_agent(
    tmp_path: Path, fake_bin: Path
) -> None:
    env = script_env(HOME=str(tmp_path / "home"))
    script = str(INSTALL / "launchd" / "install.sh")
    done = subprocess.run(["sh", script, "--at", "25:00"], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "--at expects" in done.stderr
    (fake_bin / "ccsync").unlink()
    no_ccsync = {**env, "PATH": f"{fake_bin}{os.pathsep}/usr/bin{os.pathsep}/bin"}
    done = subprocess.run(["sh", script], env=no_ccsync, capture_output=True, text=True, check=False)
    assert done.returncode == 1 and "ccsync is not on PATH" in done.stderr
    # The agent loaded before is still loaded: nothing was booted out.
    assert not (tmp_path / "calls").exists()
    assert list((tmp_path / "home").rglob("*.tmp")) == []


@posix_only
def test_systemd_install_script_checks_values_before_writing(tmp_path: Path, fake_bin: Path) -> None:
    home = tmp_path / "home"
    script = str(INSTALL / "systemd" / "install.sh")
    subprocess.run(["sh", script], env=script_env(HOME=str(home)), check=True, capture_output=True)
    unit_dir = home / ".config" / "systemd" / "user"
    before = {p.name: p.read_bytes() for p in unit_dir.iterdir()}
    done = subprocess.run(["sh", script, "--at", "01:00"], env=script_env(HOME=str(home), CCSYNC_HOME="relative/cc"),
                          capture_output=True, text=True, check=False)
    assert done.returncode == 1 and "must hold absolute paths" in done.stderr
    assert {p.name: p.read_bytes() for p in unit_dir.iterdir()} == before  # no temp file left either


# --------------------------------------------------------------------------------------------
# Which ccsync the job runs


def test_own_ccsync_is_the_running_script_with_its_symlink_kept(tmp_path: Path) -> None:
    real = tmp_path / "Cellar" / "ccsync" / "1.2.0" / "bin" / "ccsync"
    real.parent.mkdir(parents=True)
    write_exe(real, "exit 0\n")
    link = tmp_path / "bin" / "ccsync"
    link.parent.mkdir()
    link.symlink_to(real)

    def find(argv0: str, cwd: Path = tmp_path, on_path: str | None = "/usr/bin/ccsync") -> str | None:
        return own_ccsync(argv0, cwd=str(cwd), which=lambda name: on_path, is_file=os.path.isfile, windows=False)

    # An upgrade replaces Cellar/ccsync/1.2.0; the link stays valid, so the link is scheduled.
    assert find(str(link)) == str(link)
    assert find("bin/ccsync") == str(link)  # as typed from tmp_path, made absolute
    assert find("../bin/ccsync", cwd=tmp_path / "Cellar") == str(tmp_path / "Cellar" / ".." / "bin" / "ccsync")
    # Not the console script (`python -m syncer`, a bare name, a missing file): the one on PATH.
    assert find(str(tmp_path / "syncer" / "__main__.py")) == "/usr/bin/ccsync"
    assert find("ccsync") == "/usr/bin/ccsync"
    assert find(str(tmp_path / "gone" / "ccsync")) == "/usr/bin/ccsync"
    assert find("ccsync", on_path=None) is None
    assert find("ccsync", on_path="bin/ccsync") == str(tmp_path / "bin" / "ccsync")


def test_own_ccsync_on_windows_adds_the_launchers_exe() -> None:
    scripts = r"C:\Users\Ada\AppData\Roaming\Python\Scripts"
    got = own_ccsync(scripts + r"\ccsync", cwd=r"C:\Users\Ada", which=lambda name: None,
                     is_file=lambda path: path == scripts + r"\ccsync.exe", windows=True)
    assert got == scripts + r"\ccsync.exe"


def test_install_schedules_the_running_ccsync_not_the_first_on_path(
    tmp_path: Path, fake_bin: Path, isolated_home: Path
) -> None:
    mine = tmp_path / "venv" / "bin" / "ccsync"
    mine.parent.mkdir(parents=True)
    mine.symlink_to(fake_bin / "ccsync")  # a symlink: scheduled as is, not what it points at
    ctx = Context(paths=StatePaths(tmp_path / "ccsync"), env=dict(os.environ), home=isolated_home,
                  now=datetime(2025, 3, 10, 12, 0, tzinfo=UTC))
    result = schedule_install(ctx, at="23:59", dry_run=True, argv0=str(mine), scheduler="cron")
    assert result.plan is not None and result.plan.cron_line is not None
    assert f" {mine} --scheduled >/dev/null" in result.plan.cron_line


# --------------------------------------------------------------------------------------------
# Every scheduler that may hold the job


@pytest.mark.parametrize(
    ("platform", "present", "user_manager", "expected"),
    [
        ("linux", ("systemctl", "crontab"), True, ["systemd", "cron"]),
        # No systemd user instance (this CI machine): cron is used, the units are still looked for.
        ("linux", ("systemctl", "crontab"), False, ["cron", "systemd"]),
        ("linux", ("systemctl",), False, ["systemd"]),
        ("linux", ("crontab",), False, ["cron"]),
        ("darwin", ("launchctl", "crontab"), False, ["launchd", "cron"]),
        ("win32", ("schtasks", "crontab"), False, ["schtasks"]),
    ],
)
def test_schedulers_to_search(
    tmp_path: Path, platform: str, present: tuple[str, ...], user_manager: bool, expected: list[str]
) -> None:
    fake = FakeOS(tmp_path)
    fake.user_manager = user_manager
    which = which_of(*present)
    assert schedulers_to_search(platform=platform, which=which, runner=fake) == expected
    assert sorted(present_schedulers(platform=platform, which=which)) == sorted(expected)


def test_schedulers_to_search_without_any_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="install cron"):
        schedulers_to_search(platform="linux", which=lambda name: None, runner=FakeOS(tmp_path))


@pytest.mark.parametrize(("new", "old"), [("systemd", "cron"), ("cron", "systemd"), ("launchd", "cron")])
def test_install_once_takes_the_job_out_of_the_other_scheduler(tmp_path: Path, new: str, old: str) -> None:
    home = tmp_path / "home"
    fake = FakeOS(home, crontab="0 1 * * * /bin/true\n")
    install(plan_for(old, home), fake)
    assert job_count(fake, old) == 1
    removed = install_once(plan_for(new, home), fake, elsewhere=["systemd", "cron", "launchd"], home=home, uid=UID)
    assert removed == [old]
    assert (job_count(fake, new), job_count(fake, old)) == (1, 0)
    assert "0 1 * * * /bin/true\n" in (fake.crontab or "")
    # Installing again finds nothing elsewhere to remove.
    assert install_once(plan_for(new, home), fake, elsewhere=["systemd", "cron", "launchd"], home=home, uid=UID) == []
    assert job_count(fake, new) == 1


def test_systemd_remove_leaves_the_user_manager_alone_without_our_units(tmp_path: Path) -> None:
    fake = FakeOS(tmp_path / "home")
    assert remove("systemd", home=tmp_path / "home", runner=fake) is False
    assert fake.calls == []


@posix_only
def test_cli_status_and_remove_cover_both_linux_schedulers(
    cli: Cli, tmp_path: Path, fake_bin: Path, isolated_home: Path
) -> None:
    spool = tmp_path / "spool"
    ours = render_cron_line(str(fake_bin / "ccsync"), time(3, 0))
    spool.write_text("0 1 * * * /bin/true\n" + ours)  # left by an earlier install with cron
    unit_dir = isolated_home / ".config" / "systemd" / "user"
    write_exe(fake_bin / "systemctl", f"""
echo "systemctl $*" >> "{tmp_path}/calls"
case "$2" in
  show) if [ -f "{unit_dir}/ccsync.timer" ]; then echo UnitFileState=enabled; echo ActiveState=active; fi ;;
esac
""")
    code, out, _ = cli("schedule", "install", "--at", "23:59")
    assert code == 0, out
    assert out.splitlines()[1] == "Removed the earlier cron job, so the night runs once."
    assert spool.read_text() == "0 1 * * * /bin/true\n"
    assert (unit_dir / "ccsync.timer").is_file()

    spool.write_text("0 1 * * * /bin/true\n" + ours)  # and now one in each
    code, out, _ = cli("schedule", "status")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2
    assert lines[0].startswith("Installed (systemd) at 23:59: ")
    assert lines[1].startswith("Installed (cron) at 03:00: ")
    code, out, _ = cli("schedule", "remove")
    assert code == 0 and out == "Removed the systemd job.\nRemoved the cron job.\n"
    assert spool.read_text() == "0 1 * * * /bin/true\n"
    assert not unit_dir.joinpath("ccsync.timer").exists()
    code, out, _ = cli("schedule", "remove")
    assert out == "No job was installed (looked in: systemd, cron).\n"


# --------------------------------------------------------------------------------------------
# `--dry-run --scheduler`: every OS's definition, printed anywhere, and valid


def dry_run_files(out: str) -> dict[str, str]:
    """The `--- name` sections of a dry run's output, by file name (or "crontab line")."""
    files = {}
    for chunk in out.split("\n--- ")[1:]:
        name, _, rest = chunk.partition("\n")
        files[name.replace("\\", "/").rsplit("/", 1)[-1]] = rest.split("\n$ ")[0].rstrip("\n") + "\n"
    return files


@posix_only
def test_dry_run_systemd_flavour_passes_systemd_analyze(
    cli: Cli, tmp_path: Path, fake_bin: Path
) -> None:
    code, out, err = cli("schedule", "install", "--dry-run", "--scheduler", "systemd")
    assert code == 0, err
    assert out.startswith("Would install (systemd): ")
    files = dry_run_files(out)
    assert sorted(files) == ["ccsync.service", "ccsync.timer"]
    assert f'ExecStart="{fake_bin / "ccsync"}" --scheduled\n' in files["ccsync.service"]
    assert not (tmp_path / "calls").exists()  # a dry run runs no scheduler command
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    done = systemd_verify(analyze, tmp_path, files)
    assert done.returncode == 0, done.stderr
    assert "ccsync." not in done.stderr, done.stderr


@posix_only
def test_dry_run_launchd_flavour_is_a_property_list(
    cli: Cli, fake_bin: Path, isolated_home: Path
) -> None:
    code, out, err = cli("schedule", "install", "--dry-run", "--scheduler", "launchd", "--at", "06:07")
    assert code == 0, err
    agent = plistlib.loads(dry_run_files(out)[f"{LAUNCHD_LABEL}.plist"].encode())
    assert agent["ProgramArguments"] == [str(fake_bin / "ccsync"), "--scheduled"]
    assert agent["StartCalendarInterval"] == {"Hour": 6, "Minute": 7}
    assert agent["EnvironmentVariables"]["CCSYNC_HOME"] == os.environ["CCSYNC_HOME"]
    assert f"$ launchctl bootstrap gui/{os.getuid()} {isolated_home}/Library/LaunchAgents/" in out


def test_dry_run_task_scheduler_flavour_parses_as_written(
    cli: Cli, fake_bin: Path
) -> None:
    code, out, err = cli("schedule", "install", "--dry-run", "--scheduler", "task-scheduler")
    assert code == 0, err
    assert out.startswith("Would install (schtasks): ")
    text = dry_run_files(out)["ccsync-task.xml"]
    root = ET.fromstring(encode_task_xml(text))  # the bytes install() writes, declaration and all
    trigger = root.find(f"{TASK_NS}Triggers/{TASK_NS}CalendarTrigger")
    assert trigger is not None and trigger.findtext(f"{TASK_NS}StartBoundary") == "2024-01-01T23:59:00"
    command = root.findtext(f"{TASK_NS}Actions/{TASK_NS}Exec/{TASK_NS}Command")
    # Off Windows the path is a stand-in: nothing of this machine fits a Windows task.
    assert command == (str(fake_bin / "ccsync.exe") if sys.platform == "win32" else schedule.STAND_IN_CCSYNC["windows"])


def test_dry_run_cron_flavour_is_one_crontab_line(
    cli: Cli, fake_bin: Path, codex_dir: Path, gemini_dir: Path
) -> None:
    """Each source's folder variable set at install reaches the job."""
    code, out, err = cli("schedule", "install", "--dry-run", "--scheduler", "cron", "--at", "7:05")
    assert code == 0, err
    line = dry_run_files(out)["crontab line"]
    shape = (r"5 7 \* \* \* PATH=\S+ CCSYNC_HOME=\S+ CLAUDE_CONFIG_DIR=\S+ CODEX_HOME=\S+ GEMINI_CLI_HOME=\S+ \S+ "
             r"--scheduled >/dev/null # ccsync:nightly\n")
    assert re.fullmatch(shape, line), line
    assert f" {fake_bin / 'ccsync'} --scheduled >/dev/null" in line


def test_scheduler_option_is_checked(cli: Cli, fake_bin: Path) -> None:
    code, _, err = cli("schedule", "install", "--dry-run", "--scheduler", "at")
    assert code == 2 and "--scheduler expects one of systemd, cron, launchd, task-scheduler" in err
    foreign = "task-scheduler" if sys.platform != "win32" else "launchd"
    code, _, err = cli("schedule", "install", "--scheduler", foreign)
    assert code == 2
    assert f"{foreign} is not available on this machine" in err
    assert f"ccsync schedule install --dry-run --scheduler {foreign}" in err


# --------------------------------------------------------------------------------------------
# The real cron: the installed ccsync against /usr/bin/crontab, spool on a private tmpfs

SPOOL = Path("/var/spool/cron")
REAL_CRON_DRIVER = """
import json, subprocess, sys
ccsync, users = sys.argv[1], sys.argv[2]

def run(*argv, input=None):
    done = subprocess.run(list(argv), input=input, capture_output=True, text=True)
    return {"argv": list(argv), "code": done.returncode, "out": done.stdout, "err": done.stderr}

steps = [
    run("crontab", "-", input=users),
    run(ccsync, "schedule", "install", "--at", "23:59"),
    run(ccsync, "schedule", "install", "--at", "23:59"),
    run("crontab", "-l"),
    run(ccsync, "schedule", "status"),
    run(ccsync, "schedule", "remove"),
    run("crontab", "-l"),
    run(ccsync, "schedule", "status"),
]
print(json.dumps(steps))
"""
# A private mount namespace with an empty tmpfs over the spool: the machine's own crontabs are
# neither read nor written, and the tmpfs vanishes with the namespace.
SANDBOX = ("mount -t tmpfs -o mode=0755 ccsync-test-spool /var/spool/cron && "
           "mkdir -m 1730 /var/spool/cron/crontabs && "
           "{ chgrp crontab /var/spool/cron/crontabs 2>/dev/null || true; } && "
           'exec "$0" "$@"')


def real_cron_unavailable() -> str | None:
    """Why the real-cron test cannot run here, or None."""
    if shutil.which("crontab") is None:
        return "no crontab command (apt-get install cron; .ci/run installs it)"
    if shutil.which("unshare") is None or not SPOOL.is_dir():
        return "no unshare command or no /var/spool/cron to isolate"
    probe = subprocess.run(["unshare", "-m", "sh", "-c", SANDBOX, "true"], capture_output=True, text=True,
                           check=False)
    if probe.returncode != 0:
        return f"cannot mount a private tmpfs over {SPOOL} (needs root): {probe.stderr.strip()}"
    return None


def spool_listing() -> list[tuple[str, int, int]]:
    return sorted((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in SPOOL.rglob("*"))


@pytest.mark.skipif(sys.platform != "linux", reason="unshare and a tmpfs spool are Linux-only")
def test_installed_ccsync_with_the_real_crontab(tmp_path: Path) -> None:
    reason = real_cron_unavailable()
    if reason is not None:
        pytest.skip(reason)
    ccsync = Path(sys.executable).with_name("ccsync")
    if not ccsync.is_file():
        pytest.skip(f"no installed ccsync console script beside {sys.executable}")
    env = dict(os.environ)
    if subprocess.run(["systemctl", "--user", "show-environment"], capture_output=True, check=False).returncode == 0:
        # A user manager answers: shadow it, so this test never touches the machine's own units.
        shadow = tmp_path / "no-systemd"
        shadow.mkdir()
        write_exe(shadow / "systemctl", "exit 1\n")
        env["PATH"] = f"{shadow}{os.pathsep}{env['PATH']}"
    users = 'MAILTO=""\n0 1 * * * /usr/bin/backup --quiet\n'
    before = spool_listing()
    done = subprocess.run(["unshare", "-m", "sh", "-c", SANDBOX, sys.executable, "-c", REAL_CRON_DRIVER,
                           str(ccsync), users], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert spool_listing() == before  # the machine's spool was never touched
    seeded, first, second, table, st, removed, after, st_after = json.loads(done.stdout)
    for step in (seeded, first, second, table, st, removed, after, st_after):
        assert step["code"] == 0, step
    assert first["out"].startswith("Installed: crontab line")
    ours = render_cron_line(str(ccsync), time(23, 59),
                            env={"CCSYNC_HOME": env["CCSYNC_HOME"], "CLAUDE_CONFIG_DIR": env["CLAUDE_CONFIG_DIR"]})
    # Installed twice: the user's lines as they were, and one line of ours, for this very ccsync.
    assert table["out"] == users + ours
    assert st["out"].splitlines()[0].startswith("Installed (cron) at 23:59: crontab line: 59 23 * * * ")
    assert removed["out"] == "Removed the cron job.\n"
    assert after["out"] == users
    assert st_after["out"].startswith("Not installed (cron): no ccsync line in your crontab\n")


@posix_only
def test_ci_installs_cron_when_crontab_is_missing(tmp_path: Path) -> None:
    # The lines of .ci/run before the virtual environment, run where git is there and crontab
    # is not, with an apt-get that only records what it is asked for.
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text()
    assert "\npython3 -m venv" in ci  # the prefix below is everything before the venv
    prefix = ci.split("\npython3 -m venv", 1)[0]
    (tmp_path / ".ci").mkdir()
    (tmp_path / ".ci" / "run").write_text(prefix + "\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    write_exe(bin_dir / "apt-get", f'echo "$*" >> "{tmp_path}/apt"\n')
    write_exe(bin_dir / "git", "exit 0\n")
    write_exe(bin_dir / "chromium", "exit 0\n")  # the dashboard tests' browser is there too
    for tool in ("dirname",):
        found = shutil.which(tool)
        assert found is not None
        (bin_dir / tool).symlink_to(found)
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    subprocess.run([bash, str(tmp_path / ".ci" / "run")], env={"PATH": str(bin_dir)}, check=True,
                   capture_output=True)
    assert (tmp_path / "apt").read_text().splitlines() == ["update -qq", "install -y -qq cron"]
