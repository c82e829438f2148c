"""The CLI contract (DESIGN.md §5), run in-process: exit codes and output, errors included."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import orjson
import pytest
from dulwich.objects import Commit, Tree
from dulwich.repo import Repo

from syncer import __version__
from syncer.git.sync import sync_files
from syncer.paths import StatePaths
from tests import logs
from tests.cli_runner import Cli
from tests.team import make_team

SAMPLES = Path(__file__).resolve().parent / "samples" / "claude"


@pytest.fixture
def sample_logs(claude_dir: Path) -> Path:
    """The sample tree (tests/samples/claude), copied into this test's Claude folder."""
    shutil.copytree(SAMPLES, claude_dir, dirs_exist_ok=True)
    return claude_dir


def test_scan_json_and_daily_report_match_the_sample_totals(cli: Cli, sample_logs: Path) -> None:
    code, out, err = cli("scan", "--json")
    assert (code, err) == (0, "")
    added = orjson.loads(out)["added"]
    assert (added["input_tokens"], added["output_tokens"], added["cache_creation_tokens"],
            added["cache_read_tokens"], added["messages"]) == (23, 324, 2311, 57736, 3)

    code, out, _ = cli("report", "daily", "--json", "--timezone", "UTC")
    assert code == 0
    report = orjson.loads(out)
    assert [r["date"] for r in report["rows"]] == ["2026-11-20"]
    row = report["rows"][0]
    by_model = {m["model"]: (m["input_tokens"], m["output_tokens"], m["cache_creation_tokens"],
                             m["cache_read_tokens"], m["messages"]) for m in row["models"]}
    assert by_model == {
        "claude-sonnet-4-5-20250929": (3, 187, 2311, 18204, 1),
        "claude-haiku-4-5-20251001": (12, 41, 0, 9120, 1),
        "claude-opus-4-1-20250805": (8, 96, 0, 30412, 1),
    }
    assert report["total"]["total_tokens"] == 23 + 324 + 2311 + 57736
    assert report["total"]["cost_usd"] > 0
    assert report["warnings"] == []


def test_scan_is_silent_off_a_terminal(cli: Cli, sample_logs: Path) -> None:
    assert cli("scan") == (0, "", "")
    assert cli() == (0, "", "")  # the nightly job, twice: nothing new, nothing said


@pytest.mark.parametrize("kind, key", [("weekly", "week"), ("monthly", "month"), ("session", "session"),
                                        ("model", "model"), ("project", "project"), ("branch", "branch")])
def test_every_report_kind_has_its_key(cli: Cli, sample_logs: Path, kind: str, key: str) -> None:
    cli("scan")
    code, out, _ = cli("report", kind, "--json")
    assert code == 0
    rows = orjson.loads(out)["rows"]
    assert rows and all(key in r and "models" in r and "cost_usd" in r for r in rows)


def test_an_unknown_model_is_counted_and_its_cost_marked_missing(cli: Cli, claude_dir: Path) -> None:
    logs.write(logs.session_file(claude_dir), logs.assistant("m1", "r1"),
               logs.assistant("m2", "r2", model="claude-future-9-20270101", tokens=logs.usage(5, 50)))
    cli("scan")
    code, out, err = cli("report", "daily", "--json")
    assert code == 0
    report = orjson.loads(out)
    models = {m["model"]: m for m in report["rows"][0]["models"]}
    assert models["claude-future-9-20270101"]["cost_usd"] is None
    assert models["claude-future-9-20270101"]["output_tokens"] == 50
    assert models["claude-sonnet-4-5-20250929"]["cost_usd"] > 0
    assert report["total"]["cost_usd"] == models["claude-sonnet-4-5-20250929"]["cost_usd"]
    assert report["total"]["unpriced_models"] == ["claude-future-9-20270101"]
    assert report["total"]["output_tokens"] == 60
    assert any("no price known for model claude-future-9-20270101" in w for w in report["warnings"])
    code, out, err = cli("report", "model")
    assert "unknown" in out and "no price known" in err
    status = orjson.loads(cli("status", "--json")[1])
    assert status["totals"]["cost_usd"] == report["total"]["cost_usd"]
    assert status["totals"]["unpriced_models"] == ["claude-future-9-20270101"]


def test_report_time_zone_moves_days(cli: Cli, claude_dir: Path) -> None:
    logs.write(logs.session_file(claude_dir), logs.assistant("m1", ts="2026-11-20T23:30:00Z"))
    cli("scan")

    def days(tz: str) -> list[str]:
        return [r["date"] for r in orjson.loads(cli("report", "daily", "--json", "--timezone", tz)[1])["rows"]]

    assert days("UTC") == ["2026-11-20"]
    assert days("Europe/Berlin") == ["2026-11-21"]
    assert days("America/New_York") == ["2026-11-20"]


def test_since_until_filter_days(cli: Cli, claude_dir: Path) -> None:
    days = [logs.assistant(f"m{d}", ts=f"2026-11-{d:02d}T10:00:00Z") for d in (1, 2, 3)]
    logs.write(logs.session_file(claude_dir), *days)
    cli("scan")
    code, out, _ = cli("report", "daily", "--json", "--since", "2026-11-02", "--until", "20261102")
    assert [r["date"] for r in orjson.loads(out)["rows"]] == ["2026-11-02"]


@pytest.mark.parametrize(
    "args, message",
    [
        (("report", "daily", "--timezone", "Mars/Olympus"), "unknown time zone 'Mars/Olympus'"),
        (("report", "daily", "--since", "yesterday"), "--since 'yesterday' is not a date"),
        (("report", "daily", "--since", "2026-11-05", "--until", "2026-11-01"), "--since is after --until"),
        (("init", "--device", "My Laptop"), "device id 'My Laptop' is not valid"),
        (("goal", "set", "lots"), "target 'lots' is not a number"),
        (("goal", "set", "5M", "--by", "2020-01-01"), "is in the past"),
        (("schedule", "install", "--at", "25:00", "--dry-run"), "25:00"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli: Cli, args: tuple[str, ...], message: str) -> None:
    code, out, err = cli(*args)
    assert code == 2
    assert message in err
    assert err.startswith("ccsync: ") and err.count("\n") == 1


def test_unknown_flag_is_a_usage_error(cli: Cli) -> None:
    code, _, err = cli("scan", "--frobnicate")
    assert code == 2 and "--frobnicate" in err


def test_corrupt_ledger_exits_65_and_is_never_overwritten(cli: Cli, sample_logs: Path, state_dir: Path) -> None:
    cli("scan")
    logs.write(logs.session_file(sample_logs, "more"), logs.assistant("new-one"))
    ledger = state_dir / "ledger.json"
    ledger.write_bytes(ledger.read_bytes()[:-20])
    damaged = ledger.read_bytes()
    for args in (("scan",), (), ("sync",), ("report", "daily")):
        code, _, err = cli(*args)
        assert code == 65, args
        assert "does not parse" in err or "not valid JSON" in err
        assert "it was not modified" in err and "ccsync restore" in err
        assert err.count("\n") == 1
        assert ledger.read_bytes() == damaged


def test_restore_from_backup_recovers_a_corrupt_ledger(cli: Cli, sample_logs: Path, state_dir: Path) -> None:
    cli("scan")
    logs.write(logs.session_file(sample_logs, "more"),
               logs.assistant("new-one", tokens=logs.usage(1, 1), session="another-session"))
    cli("scan")  # a second generation: the first is now a backup
    (state_dir / "ledger.json").write_bytes(b"{broken")
    code, out, err = cli("restore", "--from-backup")
    assert code == 0, err
    assert "Restored ledger generation 1 from backup" in out
    cli("scan")  # re-derives the lost state: the new session counts, nothing twice
    total = orjson.loads((state_dir / "ledger.json").read_bytes())["totals"]
    assert (total["output_tokens"], total["messages"]) == (325, 4)


def test_status_json(cli: Cli, sample_logs: Path) -> None:
    cli("init", "--device", "studio")
    cli("--scheduled")  # as the scheduler runs it
    code, out, _ = cli("status", "--json")
    assert code == 0
    status = orjson.loads(out)
    assert status["device"] == "studio"
    assert status["log_files"] == 2 and status["pending_bytes"] == 0
    assert status["totals"]["messages"] == 3
    assert status["last_scan"] and status["last_sync"]["pushed"] is True
    assert status["last_run"]["exit_code"] == 0
    assert status["last_scheduled_run"] == status["last_run"]
    code, out, _ = cli("status")
    assert "last_run: " in out and "last_scheduled_run: " in out and ", ok, +" in out and "pushed (tip " in out


def test_state_folder_is_private(cli: Cli, sample_logs: Path, state_dir: Path) -> None:
    cli()
    assert cli("total")[0] == 0  # ... and the files read commands keep
    assert {"trusted.json", "fetched.json"} <= {p.name for p in state_dir.iterdir()}
    assert state_dir.stat().st_mode & 0o777 == 0o700
    for path in state_dir.iterdir():
        if path.is_file():
            assert path.stat().st_mode & 0o077 == 0, path


def test_total_and_goal_on_one_machine(cli: Cli, sample_logs: Path) -> None:
    cli("init", "--device", "solo")
    assert cli()[0] == 0
    code, out, err = cli("goal", "set", "1k", "--by", "2099-12-31")
    assert code == 0, err
    code, out, _ = cli("total", "--json")
    total = orjson.loads(out)
    assert [d["device"] for d in total["devices"]] == ["solo"]
    assert total["total"]["input_tokens"] == 23
    goal = total["goal"]
    assert goal["target"] == 1000 and goal["metric"] == "processed"
    assert goal["current"] == 23 + 324 + 2311 and goal["on_track"] is True
    code, out, _ = cli("goal", "--json")
    assert orjson.loads(out)["percent"] == 265.8


def test_a_folder_remote_is_created_when_missing(cli: Cli, sample_logs: Path, tmp_path: Path) -> None:
    target = tmp_path / "usb" / "ccsync-data.git"
    target.parent.mkdir()
    code, out, err = cli("init", "--device", "solo", "--remote", str(target))
    assert code == 0, err
    assert cli()[0] == 0
    with Repo(str(target)) as repo:
        head = repo[b"refs/heads/main"]
        assert isinstance(head, Commit)
        tree = repo[head.tree]
        assert isinstance(tree, Tree)
        assert repo.bare and b"data" in tree


@pytest.mark.parametrize("what, message", [
    ("missing-parent", "does not exist (is the disk mounted?)"),
    ("not-a-repo", "not a git repository"),
    ("a-file", "is a file"),
])
def test_a_folder_remote_that_cannot_be_used_is_a_config_error(
    cli: Cli, tmp_path: Path, what: str, message: str
) -> None:
    target = tmp_path / what
    if what == "missing-parent":
        target = target / "repo.git"
    elif what == "not-a-repo":
        (target / "photos").mkdir(parents=True)
    else:
        target.write_text("x")
    code, out, err = cli("init", "--remote", str(target))
    assert code == 78 and message in err and err.count("\n") == 1
    assert not (tmp_path / "missing-parent").exists()


def test_goal_text_shows_round_targets_plainly(cli: Cli, sample_logs: Path) -> None:
    assert cli()[0] == 0
    code, out, err = cli("goal", "set", "100k", "--by", "2099-12-31")
    assert (code, out) == (0, "Goal set: 100k processed by 2099-12-31.\n"), err
    code, out, err = cli("goal")
    assert code == 0 and "2.7% " in out and "2.7k done, 97.3k to go" in out


def test_a_cost_goal_is_set_to_the_cent(cli: Cli, sample_logs: Path) -> None:
    code, out, err = cli("goal", "set", "2.50", "--metric", "cost", "--by", "2099-12-31")
    assert (code, out) == (0, "Goal set: $2.50 cost by 2099-12-31.\n"), err
    goal = orjson.loads(cli("goal", "--json")[1])
    assert goal["target"] == 2.5 and goal["metric"] == "cost"


def test_goal_with_a_broken_goal_file_says_so(cli: Cli, sample_logs: Path, state_dir: Path) -> None:
    assert cli("goal", "set", "1M", "--by", "2099-12-31")[0] == 0
    paths = StatePaths(state_dir)
    sync_files(paths.repo, str(paths.embedded_remote), device=orjson.loads(
        (state_dir / "config.json").read_bytes())["device"], changes={"goal.json": b"{not json"}, message="break it")
    code, out, err = cli("goal")
    assert code == 65 and "goal.json in the sync repo is not valid" in err and err.count("\n") == 1


def test_goal_without_a_goal_says_how_to_set_one(cli: Cli) -> None:
    code, _, err = cli("goal")
    assert code == 2 and "ccsync goal set" in err


@pytest.mark.skipif(os.name != "posix", reason="fake scheduler binaries are shell scripts")
def test_schedule_install_status_remove_through_the_cli(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no systemd user instance, cron: a fake `crontab` first on PATH keeps its table in
    tmp_path, so the machine's own schedule is never touched."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    spool = tmp_path / "spool"
    spool.write_text("0 1 * * * /bin/true\n")
    scripts = {
        "crontab": f'case "$1" in -l) cat "{spool}" ;; -) cat > "{spool}" ;; *) exit 2 ;; esac\n',
        "systemctl": "exit 1\n",  # no user instance answers
        "ccsync": "exit 0\n",
    }
    for name, body in scripts.items():
        (bin_dir / name).write_text("#!/bin/sh\n" + body)
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")

    code, out, _ = cli("schedule", "install", "--at", "23:59", "--dry-run")
    assert code == 0 and "Would install (cron)" in out and "59 23 * * * " in out
    assert spool.read_text() == "0 1 * * * /bin/true\n"  # a dry run changes nothing

    for _ in range(2):  # idempotent
        assert cli("schedule", "install", "--at", "23:59")[0] == 0
    table = spool.read_text().splitlines()
    assert table[0] == "0 1 * * * /bin/true" and len(table) == 2
    assert table[1].startswith("59 23 * * * ") and str(bin_dir / "ccsync") in table[1]

    code, out, _ = cli("schedule", "status")
    assert code == 0 and out.startswith("Installed (cron) at 23:59")
    code, out, _ = cli("schedule", "remove")
    assert code == 0 and "Removed the cron job" in out
    assert spool.read_text() == "0 1 * * * /bin/true\n"
    assert cli("schedule", "status")[1].startswith("Not installed (cron)")


def test_version(cli: Cli) -> None:
    assert cli("--version") == (0, f"ccsync {__version__}\n", "")


def test_help_says_what_no_command_does(cli: Cli) -> None:
    code, out, _ = cli("--help")
    assert code == 0 and "With no command: the nightly job" in out


@pytest.mark.parametrize("kind", ["daily", "session"])
def test_a_log_dated_on_the_calendars_last_day_reports_east_of_utc(cli: Cli, claude_dir: Path, kind: str) -> None:
    logs.write(logs.session_file(claude_dir), logs.assistant("m1", ts="9999-12-31T23:30:00Z"))
    assert cli("scan")[0] == 0
    code, out, err = cli("report", kind, "--json", "--all-devices", "--timezone", "Asia/Tokyo")
    assert code == 0, err
    assert len(orjson.loads(out)["rows"]) == 1


@pytest.mark.parametrize("userinfo", ["oauth2:glpat-AB/CD9secret", "tok-AB@CD9secret", "x:glpat-AB/CD@9secret"])
def test_a_token_with_a_slash_or_an_at_sign_in_a_url_is_refused_and_never_shown(
    cli: Cli, state_dir: Path, userinfo: str
) -> None:
    assert cli("init", "--device", "desk")[0] == 0
    code, out, err = cli("init", "--remote", f"https://{userinfo}@git.example.com/x.git")
    assert code == 78 and "CCSYNC_GIT_TOKEN" in err and err.count("\n") == 1
    shown = out + err + (state_dir / "config.json").read_text()
    for part in ("glpat", "AB", "CD", "9secret"):
        assert part not in shown, part


def test_a_run_builds_only_the_command_it_names(cli: Cli) -> None:
    from syncer import cli as cli_module  # noqa: PLC0415

    only = cli_module._only_the_command_named(["report"])
    assert [c.name for c in only.registered_commands] == ["report"] and only.registered_groups == []
    assert [g.name for g in cli_module._only_the_command_named(["goal"]).registered_groups] == ["goal"]
    for first in ([], ["--help"], ["reprot"], ["--no-color"]):
        assert cli_module._only_the_command_named(first) is cli_module.app
    # A misspelt command still gets typer's message, which lists the real ones.
    code, _, err = cli("reprot", "daily")
    assert code == 2 and "No such command" in err and "reprot" in err


@pytest.mark.parametrize("kind", ["daily", "session", "model", "project"])
def test_a_report_with_no_rows_is_an_empty_table(cli: Cli, sample_logs: Path, kind: str) -> None:
    cli("scan")
    code, out, err = cli("report", kind, "--source", "codex")  # the sample tree has no Codex usage
    assert (code, err) == (0, "")
    assert "Codex only" in out or "codex only" in out


def test_a_report_of_every_device_offline_reads_what_was_fetched_last(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = make_team(tmp_path, cli, monkeypatch)
    fetched = {kind: cli("report", kind, "--all-devices", "--json")[1] for kind in ("daily", "blocks")}
    remote.rename(tmp_path / "unplugged")  # the disk the remote lives on is gone
    code, out, _ = cli("report", "daily", "--all-devices", "--json")
    doc, before = orjson.loads(out), orjson.loads(fetched["daily"])
    assert code == 0 and doc["rows"] == before["rows"]
    assert [w for w in doc["warnings"] if w not in before["warnings"]][0].endswith("showing what was fetched last")
    for kind in ("daily", "blocks"):
        code, out, err = cli("report", kind, "--all-devices", "--offline", "--json")
        assert (code, out, err) == (0, fetched[kind], "")  # not even tried: no warning
