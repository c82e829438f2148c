"""Issue 10 item 4: a goal set while the remote is unreachable waits on this device, shows as
pending, and the next sync pushes it; a newer goal set by another device meanwhile wins (the
goal set last wins, by its set time). Real remotes: a folder moved away and back, a git daemon
stopped and started."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import orjson
import pytest

from syncer import console
from syncer.commands.context import Context
from syncer.commands.goal import set_goal
from syncer.git.snapshot import snapshot
from syncer.git.view import Snapshot
from syncer.paths import state_paths
from tests import logs
from tests.cli_runner import Cli
from tests.gitserver import GitDaemon, git, make_bare, requires_git

pytestmark = requires_git


def at(monkeypatch: pytest.MonkeyPatch, when: str) -> None:
    """Run the next commands as if it were `when` (UTC)."""
    real = console.context
    moment = datetime.fromisoformat(when).replace(tzinfo=UTC)
    monkeypatch.setattr(console, "context", lambda: real()._replace(now=moment))


def device(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str) -> Path:
    """Switch to device `name` (its own state and log folders); returns its state folder."""
    monkeypatch.setenv("CCSYNC_HOME", str(tmp_path / name / "ccsync"))
    claude = tmp_path / name / "claude"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    if not (claude / "projects").exists():
        logs.write(logs.session_file(claude), logs.assistant(f"m-{name}", "r1"))
    return tmp_path / name / "ccsync"


def two_devices(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """laptop and desktop, set up and synced to one folder remote (on a disk that can be unplugged)."""
    remote = make_bare(tmp_path / "disk" / "shared.git")
    for name in ("laptop", "desktop"):
        device(monkeypatch, tmp_path, name)
        assert cli("init", "--device", name, "--remote", str(remote))[0] == 0
        assert cli()[0] == 0
    return remote


def unplugged_goal_set(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, when: str) -> None:
    """On laptop, with the disk unplugged at `when`: goal set 1k (waits), then the disk is back."""
    device(monkeypatch, tmp_path, "laptop")
    (tmp_path / "disk").rename(tmp_path / "unplugged")
    at(monkeypatch, when)
    assert cli("goal", "set", "1k", "--by", "2099-12-31")[0] == 78
    (tmp_path / "unplugged").rename(tmp_path / "disk")


def shared_goal(remote: Path) -> dict[str, object]:
    doc: dict[str, object] = orjson.loads(git("show", "main:goal.json", cwd=remote).stdout)
    return doc


def test_a_goal_set_while_the_disk_is_unplugged_is_pushed_when_it_is_back(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = make_bare(tmp_path / "disk" / "shared.git")
    state = device(monkeypatch, tmp_path, "laptop")
    assert cli("init", "--device", "laptop", "--remote", str(remote))[0] == 0
    assert cli()[0] == 0
    (tmp_path / "disk").rename(tmp_path / "unplugged")

    code, out, err = cli("goal", "set", "1k", "--by", "2099-12-31")
    assert (code, out) == (78, "")
    assert err == (f"ccsync: sync remote {remote} is missing (an unplugged disk or an unmounted share?); local data "
                   "is saved. Plug it in and run ccsync sync, or name another remote with: ccsync init --remote URL. "
                   "The goal is saved on this device (ccsync goal shows it as pending) and the next ccsync sync or "
                   "nightly run pushes it\n")
    code, out, err = cli("goal", "-j")
    assert code == 0, err
    shown = orjson.loads(out)
    assert (shown["target"], shown["pending"]) == (1000, True)
    code, out, err = cli("goal")
    assert code == 0
    assert out.startswith("Goal: 1k processed tokens by 2099-12-31 (pending: set here, not pushed yet)\n")
    assert "is not in the sync repo yet; the next ccsync sync or nightly run pushes it" in err

    assert cli()[0] == 78  # still unplugged: still waiting
    assert (state / "goal-pending.json").exists()

    (tmp_path / "unplugged").rename(tmp_path / "disk")
    # The nightly run as the scheduler starts it: its shortcut for "nothing new" must not skip
    # a goal that waits to be pushed (nothing else changed since the last sync).
    night = subprocess.run([sys.executable, "-m", "syncer", "--scheduled"], capture_output=True, text=True,
                           timeout=300, check=False)
    assert (night.returncode, night.stdout, night.stderr) == (0, "", "")
    assert (shared_goal(remote)["target"], shared_goal(remote)["set_by"]) == (1000, "laptop")
    assert not (state / "goal-pending.json").exists()
    shown = orjson.loads(cli("goal", "-j")[1])
    assert (shown["target"], shown["pending"]) == (1000, False)
    assert "pending" not in cli("goal")[1]


def test_a_goal_set_while_the_server_is_down_is_pushed_by_the_next_sync(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, git_daemon: GitDaemon
) -> None:
    make_bare(git_daemon.root / "usage.git")
    device(monkeypatch, tmp_path, "laptop")
    monkeypatch.setenv("CCSYNC_NETWORK_TIMEOUT", "5")
    assert cli("init", "--device", "laptop", "--remote", git_daemon.url("usage.git"))[0] == 0
    assert cli()[0] == 0
    git_daemon.stop()

    code, out, err = cli("goal", "set", "2.5M", "--by", "2099-06-30")
    assert (code, out) == (75, "")
    assert err.startswith(f"ccsync: sync remote {git_daemon.url('usage.git')} unavailable: ")
    assert err.endswith("; local data is saved and the next run retries. The goal is saved on this device (ccsync "
                        "goal shows it as pending) and the next ccsync sync or nightly run pushes it\n")

    git_daemon.start()  # the same port
    code, out, err = cli("sync")
    assert code == 0, err
    assert shared_goal(git_daemon.root / "usage.git")["target"] == 2_500_000


def test_a_newer_goal_from_another_device_wins_over_a_waiting_one(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = two_devices(cli, tmp_path, monkeypatch)
    unplugged_goal_set(cli, tmp_path, monkeypatch, "2026-12-01T10:00:00")

    device(monkeypatch, tmp_path, "desktop")
    at(monkeypatch, "2026-12-01T11:30:00")
    assert cli("goal", "set", "5k", "--by", "2099-12-31")[0] == 0

    device(monkeypatch, tmp_path, "laptop")
    code, out, err = cli("goal", "-j")
    assert (code, orjson.loads(out)["target"], orjson.loads(out)["pending"]) == (0, 5000, False)
    code, out, err = cli("goal")
    assert ("warning: the goal set on this device at 2026-12-01 10:00 UTC was not pushed: desktop set a newer goal "
            "at 2026-12-01 11:30 UTC, and the goal set last wins; the next sync drops it\n") in err
    code, out, err = cli("sync")
    assert (code, out) == (0, "")
    assert err == ("warning: the goal set on this device at 2026-12-01 10:00 UTC was not pushed: desktop set a newer "
                   "goal at 2026-12-01 11:30 UTC, and the goal set last wins; it was dropped\n")
    assert (shared_goal(remote)["target"], shared_goal(remote)["set_by"]) == (5000, "desktop")
    assert not (tmp_path / "laptop" / "ccsync" / "goal-pending.json").exists()
    assert cli("sync") == (0, "", "")  # said once


def test_a_waiting_goal_set_after_the_shared_one_replaces_it(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = two_devices(cli, tmp_path, monkeypatch)
    at(monkeypatch, "2026-12-01T09:00:00")
    assert cli("goal", "set", "5k", "--by", "2099-12-31")[0] == 0  # desktop, online

    unplugged_goal_set(cli, tmp_path, monkeypatch, "2026-12-01T10:00:00")
    code, out, err = cli("goal", "-j")
    assert (orjson.loads(out)["target"], orjson.loads(out)["pending"]) == (1000, True)
    assert cli("sync") == (0, "", "")
    assert (shared_goal(remote)["target"], shared_goal(remote)["set_by"]) == (1000, "laptop")
    log = git("log", "--format=%s", "-1", "main", cwd=remote).stdout
    assert "laptop: goal 1,000 processed by 2099-12-31, set 2026-12-01T10:00:00+00:00" in log


def test_a_newer_goal_pushed_between_our_fetch_and_our_push_still_wins(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race: the sync looked at the repo before another device pushed its newer goal. The
    check at push time, against the very tip being built on, keeps the newer goal."""
    remote = two_devices(cli, tmp_path, monkeypatch)
    unplugged_goal_set(cli, tmp_path, monkeypatch, "2026-12-01T10:00:00")

    real_snapshot = snapshot

    def desktop_sets_a_goal_meanwhile(repo: Path) -> Snapshot:
        looked = real_snapshot(repo)
        if not pushed:  # once: while laptop's sync is between its look and its push
            pushed.append(True)
            desktop = Context(paths=state_paths({"CCSYNC_HOME": str(tmp_path / "desktop" / "ccsync")}, tmp_path),
                              env={}, home=tmp_path, now=datetime(2026, 12, 1, 11, tzinfo=UTC))
            set_goal(desktop, target="7k", by=date(2099, 12, 31), metric="processed", zone=UTC)
        return looked

    pushed: list[bool] = []
    monkeypatch.setattr("syncer.commands.sync.snapshot", desktop_sets_a_goal_meanwhile)
    code, out, err = cli("sync")
    assert pushed and (code, out) == (0, "")
    assert err == ("warning: the goal set on this device at 2026-12-01 10:00 UTC was not pushed: desktop set a newer "
                   "goal at 2026-12-01 11:00 UTC, and the goal set last wins; it was dropped\n")
    assert (shared_goal(remote)["target"], shared_goal(remote)["set_by"]) == (7000, "desktop")
    assert orjson.loads(git("show", "main:data/laptop.json", cwd=remote).stdout)["device"] == "laptop"
