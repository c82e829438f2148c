"""Issue 10, "the first hour": one test per numbered item that is not a table (tables are in
test_tables.py), run through the real CLI."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest

from syncer import render
from tests import logs
from tests.cli_runner import Cli
from tests.gitserver import git


def test_processed_tokens_sit_beside_all_tokens_and_match_the_goal(cli: Cli, claude_dir: Path) -> None:
    """Item 2: the table's Processed is the number the default goal counts."""
    logs.write(logs.session_file(claude_dir), logs.assistant("m1", "r1", tokens=logs.usage(3, 10, 100, 1000)))
    cli("scan")
    cli("goal", "set", "1k", "--by", "2099-12-31")
    code, out, _ = cli("total", "--json")
    doc = orjson.loads(out)
    assert code == 0
    assert doc["total"]["processed_tokens"] == 113 == doc["goal"]["current"]
    assert doc["total"]["total_tokens"] == 1113
    assert doc["devices"][0]["processed_tokens"] == 113
    assert orjson.loads(cli("report", "daily", "-j")[1])["rows"][0]["processed_tokens"] == 113
    _, table, _ = cli("total")
    assert "┃ Processed ┃ All tokens ┃" in table
    assert "│       113 │      1,113 │" in table


def test_a_typo_in_claude_config_dir_is_an_error_in_the_nightly_run_too(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item 3: a configured log folder that is not there fails loudly (exit 78), with the fix."""
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "cluade"))
    for args in [("scan",), ("scan", "--json"), ()]:
        code, out, err = cli(*args)
        assert (code, out) == (78, "")
        assert err == (f"ccsync: CLAUDE_CONFIG_DIR={tmp_path / 'cluade'}, but there is no log folder "
                       f"{tmp_path / 'cluade' / 'projects'}; fix CLAUDE_CONFIG_DIR (the folder that holds "
                       "projects/), or unset it\n")
    assert orjson.loads(cli("status", "--json")[1])["warnings"]  # status still answers, and says it


def test_no_log_folder_at_all_is_an_error(cli: Cli, monkeypatch: pytest.MonkeyPatch, isolated_home: Path) -> None:
    monkeypatch.delenv("CLAUDE_CONFIG_DIR")
    code, _, err = cli()
    assert code == 78
    assert err.startswith(f"ccsync: no log folder found for any source (looked in "
                          f"{isolated_home / '.config/claude/projects'}, {isolated_home / '.claude/projects'}, "
                          f"{isolated_home / '.codex/sessions'}, {isolated_home / '.codex/archived_sessions'}, "
                          f"{isolated_home / '.gemini/tmp'}); ")
    assert err.endswith("use Claude Code, Codex or Gemini CLI once, or set CLAUDE_CONFIG_DIR to the folder that "
                        "holds projects/, CODEX_HOME to the folder that holds sessions/, GEMINI_CLI_HOME to the "
                        "folder that holds .gemini/\n")


@pytest.mark.parametrize(("variable", "holds", "missing"), [
    ("CODEX_HOME", "sessions/", "{0}/sessions or {0}/archived_sessions"),
    ("GEMINI_CLI_HOME", ".gemini/", "{0}/.gemini/tmp"),
])
def test_a_typo_in_codex_home_or_gemini_cli_home_is_an_error_too(
    cli: Cli, claude_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, holds: str,
    missing: str,
) -> None:
    """Claude's logs are there, but a source's variable names no log folder: fail loudly, as
    for CLAUDE_CONFIG_DIR, rather than count nothing of that source night after night."""
    logs.write(logs.session_file(claude_dir), logs.assistant("m1", "r1"))
    typo = tmp_path / "typo"
    monkeypatch.setenv(variable, str(typo))
    code, out, err = cli("scan")
    assert (code, out) == (78, "")
    assert err == (f"ccsync: {variable}={typo}, but there is no log folder {missing.format(typo)}; fix {variable} "
                   f"(the folder that holds {holds}), or unset it\n")
    assert err.removeprefix("ccsync: ").rstrip("\n") in orjson.loads(cli("status", "--json")[1])["warnings"]
    monkeypatch.delenv(variable)
    assert cli("scan")[0] == 0  # unset, the source is simply absent


def test_claude_config_dir_at_the_projects_folder_is_read_with_a_note(
    cli: Cli, claude_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logs.write(logs.session_file(claude_dir), logs.assistant("m1", "r1"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude_dir / "projects"))
    code, out, err = cli("scan", "--json")
    assert code == 0
    doc = orjson.loads(out)
    assert doc["new_events"] == 1
    assert doc["warnings"] == [f"CLAUDE_CONFIG_DIR names the log folder {claude_dir / 'projects'} itself; reading "
                               f"it (set CLAUDE_CONFIG_DIR={claude_dir} to silence this note)"]


def test_a_refused_init_changes_nothing_and_an_unshared_rename_needs_no_force(
    cli: Cli, claude_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item 5."""
    remote = str(tmp_path / "shared.git")
    logs.write(logs.session_file(claude_dir), logs.assistant("m1", "r1"))
    assert cli("init", "--device", "one", "--remote", remote)[0] == 0
    assert cli()[0] == 0  # data/one.json is shared
    other = tmp_path / "other"
    monkeypatch.setenv("CCSYNC_HOME", str(other))
    assert cli("init", "--device", "two")[0] == 0
    assert cli("scan")[0] == 0
    before = (other / "config.json").read_bytes(), (other / "ledger.json").read_bytes()
    code, out, err = cli("init", "--device", "one", "--remote", remote)
    assert (code, out) == (78, "")
    assert err.startswith("ccsync: device id 'one' is already used by another machine in the sync repo")
    assert err.endswith("This init changed nothing; if this machine replaces that one, run it again with "
                        "--force, then: ccsync restore\n")
    assert ((other / "config.json").read_bytes(), (other / "ledger.json").read_bytes()) == before
    assert cli("init", "--device", "three")[0] == 0  # nothing of "two" was shared yet: no --force needed
    assert orjson.loads((other / "ledger.json").read_bytes())["device"] == "three"




def test_only_runs_the_scheduler_marks_count_as_scheduled(cli: Cli, claude_dir: Path, state_dir: Path) -> None:
    """Item 7: a run from a script or an IDE is off a terminal too; it must not hide a nightly
    job that stopped."""
    logs.write(logs.session_file(claude_dir), logs.assistant("m1", "r1"))
    assert cli() == (0, "", "")  # off a terminal, not the scheduler
    runs = [orjson.loads(line) for line in (state_dir / "runs.log").read_bytes().splitlines()]
    assert [r["scheduled"] for r in runs] == [False]
    warnings = orjson.loads(cli("status", "--json")[1])["warnings"]
    assert "only manual ccsync runs are recorded, none by the nightly job; check it with: ccsync schedule status" \
        in warnings
    assert cli("--scheduled") == (0, "", "")  # what every job definition runs
    assert orjson.loads(cli("status", "--json")[1])["warnings"] == []


def test_the_first_run_on_a_terminal_says_what_it_set_up_and_what_next(
    cli: Cli, claude_dir: Path, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(socket, "gethostname", lambda: "Ana's MacBook.local")
    monkeypatch.setattr("syncer.console.interactive", lambda: True)
    logs.write(logs.session_file(claude_dir), logs.assistant("m1", "r1"))
    code, out, err = cli()
    assert (code, err) == (0, "")
    assert out.split("\n\n", 1)[1].splitlines()[:3] == [
        "Set up this machine as device ana-s-macbook (to rename it: ccsync init --device NEW-ID).",
        f"Log folders read: {claude_dir / 'projects'}",
        f"Sync repository: {state_dir / 'remote.git'} (on this machine until you add a remote)",
    ]
    assert "  ccsync init --remote URL                share one total with your other machines" in out
    assert "ccsync schedule install" in out
    assert "Set up this machine" not in cli()[1]  # said once


def test_every_json_document_carries_its_schema_version(cli: Cli, claude_dir: Path) -> None:
    logs.write(logs.session_file(claude_dir), logs.assistant("m1", "r1"))
    cli("goal", "set", "1k", "--by", "2099-12-31")
    for args in [("scan", "--json"), ("report", "daily", "-j"), ("total", "-j"), ("goal", "-j"), ("status", "-j")]:
        code, out, _ = cli(*args)
        assert code == 0
        assert orjson.loads(out)["schema_version"] == 1, args


def test_switching_to_hashed_names_rewrites_what_is_already_recorded(
    cli: Cli, claude_dir: Path, state_dir: Path
) -> None:
    """Item 6: the shared file keeps no plain name, and one project stays one row."""
    f = logs.write(logs.session_file(claude_dir), logs.assistant("m1", "r1", cwd="/home/ana/src/shop"),
                   logs.assistant("m2", "r2", cwd="/srv/api", branch="feature/secret"))
    assert cli("init", "--device", "one")[0] == 0
    assert cli()[0] == 0
    code, out, err = cli("init", "--privacy", "hashed")
    assert (code, err) == (0, "")
    assert out == ("Updated device one (privacy: hashed).\nRewrote the project and branch names already recorded "
                   "as privacy hashed records them; the next sync shares the rewritten file.\n")
    raw = (state_dir / "ledger.json").read_bytes()
    assert b"shop" not in raw and b"api" not in raw and b"feature/secret" not in raw
    logs.write(f, logs.assistant("m3", "r3", cwd="/home/ana/src/shop"), append=True)
    assert cli()[0] == 0
    rows = orjson.loads(cli("report", "project", "-j")[1])["rows"]
    # This device still shows its own projects by name; one project stays one row.
    assert [(r["project"], r["messages"]) for r in rows] == [("api", 1), ("shop", 2)]
    shared = orjson.loads(cli("total", "-j")[1])
    assert shared["total"]["messages"] == 3
    published = git("show", "main:data/one.json", cwd=state_dir / "remote.git").stdout
    assert orjson.loads(published)["totals"]["messages"] == 3
    assert "shop" not in published and "api" not in published


def test_in_hashed_mode_this_devices_reports_show_its_own_names(
    cli: Cli, claude_dir: Path, state_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item 6's last clause: the shared file has only hashes; this device's reports name its projects."""
    logs.write(logs.session_file(claude_dir), logs.assistant("m1", "r1", cwd="/home/ana/src/shop"))
    remote = str(tmp_path / "shared.git")
    assert cli("init", "--device", "one", "--privacy", "hashed", "--remote", remote)[0] == 0
    assert cli()[0] == 0
    assert b"shop" not in (state_dir / "ledger.json").read_bytes()
    session = orjson.loads(cli("report", "session", "-j")[1])["rows"][0]
    assert (session["project"], session["branch"]) == ("shop", "")  # branches are not kept in hashed mode
    assert "│ shop " in cli("report", "project")[1]
    monkeypatch.setenv("CCSYNC_HOME", str(tmp_path / "other"))  # another machine sees the hash only
    assert cli("init", "--device", "two", "--remote", remote)[0] == 0
    rows = orjson.loads(cli("report", "project", "-j", "--all-devices")[1])["rows"]
    assert [r["project"][:2] for r in rows] == ["p-"]


def test_restore_on_a_fresh_machine_lists_the_ids_it_could_restore(
    cli: Cli, claude_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = str(tmp_path / "shared.git")
    logs.write(logs.session_file(claude_dir), logs.assistant("m1", "r1"))
    assert cli("init", "--device", "studio", "--remote", remote)[0] == 0
    assert cli()[0] == 0
    monkeypatch.setenv("CCSYNC_HOME", str(tmp_path / "fresh"))
    assert cli("init", "--device", "laptop")[0] == 0
    (tmp_path / "fresh" / "config.json").write_bytes(
        (tmp_path / "fresh" / "config.json").read_bytes().replace(b'"remote": null', f'"remote": "{remote}"'.encode()))
    code, _, err = cli("restore")
    assert (code, err) == (2, "ccsync: the sync repo has no data/laptop.json (it holds: studio); pick the device "
                              "id to restore with: ccsync init --device ID --force\n")


def test_restore_from_backup_with_no_backup_yet_is_not_corrupt_data(cli: Cli, state_dir: Path) -> None:
    code, out, err = cli("restore", "--from-backup")
    assert (code, out) == (2, "")
    assert err == (f"ccsync: there are no backups in {state_dir / 'backups'} yet (one is kept each time the ledger "
                   "changes); rebuild from the sync repo with: ccsync restore\n")


def test_small_costs_and_single_days_read_right() -> None:
    assert [render.money(x) for x in (0, 0.004, 0.005, 1234.5)] == ["$0.00", "<$0.01", "$0.01", "$1,234.50"]
    assert (render.plural(1, "day"), render.plural(2, "day")) == ("1 day", "2 days")
    assert render.goal_amount(100_000_000, "processed") == "100M processed tokens"
    assert render.goal_amount(5000, "cost") == "$5,000.00"
    assert render.short_model("claude-opus-4-6") == "opus-4-6"
    assert render.short_model("claude-3-5-haiku-20241022") == "haiku-3-5"
    assert render.short_model("gpt-5-codex") == "gpt-5-codex"
    # Claude 4's first models have no minor version: the date is not one.
    assert render.short_model("claude-sonnet-4-20250514") == "sonnet-4"
    assert render.short_model("claude-opus-4-1-20250805") == "opus-4-1"
    assert render.short_model("claude-3-7-sonnet-20250219") == "sonnet-3-7"
    assert render.short_model("claude-opus-4-20250514-extra") == "claude-opus-4-20250514-extra"


def test_weeks_start_on_the_day_asked(cli: Cli, claude_dir: Path) -> None:
    logs.write(logs.session_file(claude_dir), logs.assistant("m1", "r1", ts="2026-11-22T10:00:00Z"))  # a Sunday
    cli("scan")
    weeks = [orjson.loads(cli("report", "weekly", "-j", "-z", "UTC", *extra)[1])["rows"][0]["week"]
             for extra in [(), ("--start-of-week", "sunday")]]
    assert weeks == ["2026-11-16", "2026-11-22"]
    code, _, err = cli("report", "daily", "--since", "2026/11/01")
    assert (code, err) == (2, "ccsync: --since '2026/11/01' is not a date; use YYYY-MM-DD or YYYYMMDD\n")
    assert orjson.loads(cli("report", "daily", "-j", "--since", "20261122")[1])["rows"][0]["date"] == "2026-11-22"


def test_status_shows_times_in_local_time_like_the_reports(
    cli: Cli, claude_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logs.write(logs.session_file(claude_dir), logs.assistant("m1", "r1"))
    cli("--scheduled")
    utc = orjson.loads(cli("status", "-j")[1])["last_run"]["time"]
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    out = cli("status")[1]
    expected = render.local_time(utc, ZoneInfo("Asia/Tokyo"))
    assert expected.endswith(" JST") and f"last_run: {expected}, ok" in out


def test_tables_are_plain_when_piped_and_styled_with_color(cli: Cli, claude_dir: Path) -> None:
    logs.write(logs.session_file(claude_dir), logs.assistant("m1", "r1"))
    cli("scan")
    assert "\x1b[" not in cli("report", "daily")[1]
    assert "\x1b[" in cli("--color", "report", "daily")[1]
    assert "\x1b[" not in cli("--no-color", "report", "daily")[1]


def test_shell_completion_completes_commands_and_options(cli: Cli, claude_dir: Path) -> None:
    """`ccsync completion SHELL` prints a script; in a real bash it completes commands and
    options by asking the installed `ccsync`, even where the nightly run has nothing to do
    (its fast path must not swallow the request: a completion also runs bare `ccsync`)."""
    logs.write(logs.session_file(claude_dir), logs.assistant("m1", "r1"))
    assert cli()[0] == 0
    code, script, err = cli("completion", "bash")
    assert (code, err) == (0, "")
    assert script.startswith("_ccsync_completion() {") and "_CCSYNC_COMPLETE=complete_bash" in script
    program = script + "".join(
        f'COMP_WORDS=({words}); COMP_CWORD={cword}; _ccsync_completion ccsync; echo "${{COMPREPLY[*]}}"\n'
        for words, cword in [("ccsync rep", 1), ("ccsync report w", 2), ("ccsync report daily --st", 3)]
    )
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "ccsync").exists(), "the test needs the installed ccsync (pip install -e .)"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", "--norc", "--noprofile", "-c", program], env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    assert done.stdout.splitlines() == ["report", "weekly", "--start-of-week"]
    assert cli("completion", "tcsh")[0] == 2


def _held_lock(*, seconds: float = 600) -> subprocess.Popen[str]:
    """Another ccsync process holding the writer lock until its stdin gets a line (or `seconds`)."""
    code = ("import select, sys; from syncer import store; from syncer.paths import state_paths\n"
            "with store.writer_lock(state_paths(), wait=0):\n"
            f"    print('held', flush=True); select.select([sys.stdin], [], [], {seconds})\n")
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    return holder


@pytest.mark.skipif(os.name != "posix", reason="a pseudo-terminal needs POSIX")
def test_a_wait_for_the_lock_is_said_on_a_terminal(claude_dir: Path) -> None:
    import pty  # noqa: PLC0415 - POSIX only

    logs.write(logs.session_file(claude_dir), logs.assistant("m1", "r1"))
    holder = _held_lock()
    master, terminal = pty.openpty()
    scan = subprocess.Popen([sys.executable, "-m", "syncer", "scan"], stdout=subprocess.DEVNULL, stderr=terminal)
    os.close(terminal)
    said = b""
    deadline = time.monotonic() + 120
    while b"\n" not in said and time.monotonic() < deadline:
        said += os.read(master, 4096)  # the scan waits on the lock until the holder lets go
    holder.communicate("done\n", timeout=60)
    assert scan.wait(timeout=120) == 0
    os.close(master)
    assert said.decode() == f"waiting for another ccsync (pid {holder.pid}) to finish…\r\n"


def test_a_wait_for_the_lock_off_a_terminal_is_silent(cli: Cli, claude_dir: Path) -> None:
    logs.write(logs.session_file(claude_dir), logs.assistant("m1", "r1"))
    holder = _held_lock(seconds=1.5)
    started = time.monotonic()
    assert cli("scan") == (0, "", "")  # off a terminal (cron, a pipe): a wait is just a wait
    assert time.monotonic() - started > 1  # it did wait
    holder.wait(timeout=60)


@pytest.mark.skipif(os.name != "posix", reason="a fake ssh script needs POSIX")
@pytest.mark.parametrize(("said", "shown"), [
    ("git@127.0.0.1: Permission denied (publickey).", "git@127.0.0.1: Permission denied (publickey)"),
    ("", "The remote server unexpectedly closed the connection"),
])
def test_an_ssh_failure_reads_as_what_ssh_said(
    cli: Cli, claude_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, said: str, shown: str
) -> None:
    """dulwich's HangupException: its class name means nothing to a user, ssh's words do."""
    ssh = tmp_path / "ssh"
    ssh.write_text(f'#!/bin/sh\necho "{said}" >&2\nexit 255\n' if said else "#!/bin/sh\nexit 255\n")
    ssh.chmod(0o755)
    monkeypatch.setenv("GIT_SSH_COMMAND", str(ssh))
    logs.write(logs.session_file(claude_dir), logs.assistant("m1", "r1"))
    code, out, err = cli("init", "--device", "laptop", "--remote", "ssh://git@127.0.0.1/usage.git")
    assert (code, out) == (75, "")
    assert err == (f"ccsync: sync remote ssh://git@127.0.0.1/usage.git unavailable: {shown}; local data is saved "
                   "and the next run retries\n")


def test_the_first_run_after_a_restore_says_nothing_is_new_not_plus_zero(
    cli: Cli, claude_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restored ledger covers the logs already: the scan after it meets every response again."""
    remote = str(tmp_path / "shared.git")
    logs.write(logs.session_file(claude_dir), logs.assistant("m1", "r1"), logs.assistant("m2", "r2"))
    assert cli("init", "--device", "studio", "--remote", remote)[0] == 0
    assert cli()[0] == 0
    monkeypatch.setenv("CCSYNC_HOME", str(tmp_path / "new-disk"))
    assert cli("init", "--device", "studio", "--remote", remote, "--force")[0] == 78  # taken: restore it
    assert cli("restore")[0] == 0
    monkeypatch.setattr("syncer.console.interactive", lambda: True)
    code, out, err = cli()
    assert (code, err) == (0, "")
    size = render.byte_size(next((claude_dir / "projects").rglob("*.jsonl")).stat().st_size)
    assert out == (f"Read 1 of 1 log file ({size}): nothing new (2 responses already counted)\n"
                   f"Sync: nothing new to push to {remote}.\n")
