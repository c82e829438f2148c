"""Several devices, one remote: real `ccsync` processes, each with its own state folder and
logs, against real git servers on 127.0.0.1 (DESIGN.md §4)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from syncer import peers, store
from syncer.paths import StatePaths
from tests import logs
from tests.gitserver import SECRET_TOKEN, SECRET_USER, GitDaemon, GitHttpServer, fsck, git, make_bare, requires_git

pytestmark = [requires_git, pytest.mark.slow]  # every device is real ccsync processes


class Device:
    def __init__(self, root: Path, name: str, remote: str, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.home = root / name / "ccsync"
        self.claude = root / name / "claude"
        (self.claude / "projects").mkdir(parents=True)
        self.remote = remote
        self.env = {**os.environ, "CCSYNC_HOME": str(self.home), "CLAUDE_CONFIG_DIR": str(self.claude),
                    "HOME": str(root / name), **(env or {})}
        self.sessions = 0

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "syncer", *args], env=self.env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def run(self, *args: str, timeout: float = 120) -> tuple[int, str, str]:
        proc = self.start(*args)
        out, err = proc.communicate(timeout=timeout)
        return proc.returncode, out, err

    def init(self) -> None:
        code, out, err = self.run("init", "--device", self.name, "--remote", self.remote)
        assert code == 0, err

    def work(self, responses: int = 3) -> None:
        """A new session of this device's usage: `responses` streamed responses."""
        self.sessions += 1
        sid = f"{self.name}-{self.sessions}"
        records = []
        for r in range(responses):
            for out in (1, 10, 100 + r):
                records.append(logs.assistant(f"{sid}-m{r}", f"{sid}-q{r}", session=sid,
                                              tokens=logs.usage(2, out, 30, 400),
                                              ts=f"2026-11-{10 + self.sessions % 15:02d}T1{r}:00:00Z"))
        logs.write(logs.session_file(self.claude, sid), *records)

    def ledger(self) -> dict[str, Any]:
        found: dict[str, Any] = orjson.loads((self.home / "ledger.json").read_bytes())
        return found


def start(*devices: Device) -> None:
    """Each device joins the remote with one session of usage and syncs it."""
    for d in devices:
        d.init()
        d.work()
        assert d.run()[0] == 0


def summed(devices: list[Device]) -> dict[str, int]:
    fields = ("input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens", "messages")
    return {f: sum(d.ledger()["totals"][f] for d in devices) for f in fields}


def picked(total: dict[str, int]) -> dict[str, int]:
    fields = ("input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens", "messages")
    return {f: total[f] for f in fields}


def test_three_devices_syncing_at_once_over_http_with_auth(tmp_path: Path, http_server: GitHttpServer) -> None:
    make_bare(http_server.root / "shared.git")
    env = {"CCSYNC_GIT_USERNAME": SECRET_USER, "CCSYNC_GIT_TOKEN": SECRET_TOKEN}
    devices = [Device(tmp_path, n, http_server.url("shared.git"), env) for n in ("alpha", "beta", "gamma")]
    for d in devices:
        d.init()
    outputs: list[str] = []
    failures: list[str] = []

    def rounds(device: Device) -> None:
        for _ in range(4):
            device.work()
            code, out, err = device.run()
            outputs.append(out + err)
            if code != 0:
                failures.append(f"{device.name}: {code} {err}")

    threads = [threading.Thread(target=rounds, args=(d,)) for d in devices]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    for d in devices:  # a last round with nothing new: everyone has everyone's final file
        assert d.run()[0] == 0

    expected = summed(devices)
    assert expected["messages"] == 3 * 4 * 3
    for d in devices:
        code, out, err = d.run("total", "--json")
        assert code == 0, err
        total = orjson.loads(out)
        assert sorted(x["device"] for x in total["devices"]) == ["alpha", "beta", "gamma"]
        assert picked(total["total"]) == expected
        assert total["warnings"] == []
        outputs.append(out + err)
    assert fsck(http_server.root / "shared.git").returncode == 0
    log = git("log", "--format=%an|%s", "main", cwd=http_server.root / "shared.git").stdout.splitlines()
    assert {line.split("|")[0] for line in log} == {"ccsync alpha", "ccsync beta", "ccsync gamma"}
    everything = "\n".join(outputs + http_server.log)
    assert SECRET_TOKEN not in everything


def test_remote_down_exits_75_keeps_data_and_catches_up(tmp_path: Path) -> None:
    daemon = GitDaemon(tmp_path / "srv")
    (tmp_path / "srv").mkdir()
    make_bare(tmp_path / "srv" / "shared.git")
    daemon.start()
    d = Device(tmp_path, "laptop", "")
    d.remote = daemon.url("shared.git")
    d.init()
    daemon.stop()
    d.work()
    code, out, err = d.run()
    assert code == 75
    assert err.startswith("ccsync: ") and err.count("\n") == 1 and "Traceback" not in err
    assert d.ledger()["totals"]["messages"] == 3  # scanned and saved despite the remote
    code, out, _ = d.run("status", "--json")
    last_run = orjson.loads(out)["last_run"]
    assert last_run["exit_code"] == 75
    assert last_run["tokens_added"] == 3 * (2 + 30) + 100 + 101 + 102  # the scan's, though the push failed
    daemon.start()
    try:
        assert d.run()[0] == 0
        code, out, _ = d.run("total", "--json")
        assert orjson.loads(out)["total"]["messages"] == 3
        shown = git("show", "main:data/laptop.json", cwd=tmp_path / "srv" / "shared.git").stdout
        assert orjson.loads(shown)["totals"]["messages"] == 3
    finally:
        daemon.stop()


def test_sigkill_during_sync_then_next_run_completes(tmp_path: Path) -> None:
    remote = make_bare(tmp_path / "shared.git")
    d = Device(tmp_path, "desk", str(remote))
    d.init()
    for delay in (0.05, 0.2, 0.4, 0.7):
        d.work(responses=20)
        proc = d.start("sync")
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        code, _, err = d.run("sync")
        assert code == 0, err
    code, out, _ = d.run("total", "--json")
    assert picked(orjson.loads(out)["total"]) == summed([d])
    assert fsck(remote).returncode == 0


def test_hostile_peer_files_are_skipped_with_warnings(tmp_path: Path) -> None:
    remote = make_bare(tmp_path / "shared.git")
    good = Device(tmp_path, "good", str(remote))
    good.init()
    good.work()
    assert good.run()[0] == 0
    work = tmp_path / "attacker"
    git("clone", "-q", str(remote), str(work))
    valid = (good.home / "ledger.json").read_text()
    data = work / "data"
    (data / "garbage.json").write_text("{not json")
    (data / "UPPER.json").write_text(valid)
    (data / "newer.json").write_text('{"schema_version": 99}')
    (data / "liar.json").write_text(valid)  # names device "good"
    (data / "big.json").write_bytes(b" " * (17 * 1024 * 1024))
    os.symlink("good.json", data / "link.json")
    (data / "folder.json").mkdir()
    (data / "folder.json" / "x").write_text("x")
    git("add", "-A", cwd=work)
    git("commit", "-qm", "hostile", cwd=work)
    git("push", "-q", "origin", "HEAD:main", cwd=work)

    code, out, err = good.run("total", "--json")
    assert code == 0, err
    total = orjson.loads(out)
    assert [x["device"] for x in total["devices"]] == ["good"]
    assert picked(total["total"]) == summed([good])
    warnings = "\n".join(total["warnings"])
    for name in ("garbage", "UPPER", "newer", "liar", "big", "link", "folder"):
        assert name in warnings, name
    assert "later ccsync" in warnings or "schema version 99" in warnings
    assert good.run()[0] == 0  # our own sync carries on beside them


def test_two_machines_claiming_one_device_id_are_refused(tmp_path: Path) -> None:
    remote = make_bare(tmp_path / "shared.git")
    first = Device(tmp_path, "one", str(remote))
    first.init()
    first.work()
    assert first.run()[0] == 0
    second = Device(tmp_path / "other", "one", str(remote))
    code, out, err = second.run("init", "--device", "one", "--remote", str(remote))
    assert code == 78
    assert "already used by another machine" in err and "ccsync init --device" in err
    shown = git("show", "main:data/one.json", cwd=remote).stdout
    assert orjson.loads(shown)["install_id"] == first.ledger()["install_id"]


def test_credentials_in_a_url_are_refused_and_never_printed(tmp_path: Path) -> None:
    d = Device(tmp_path, "x", "")
    code, out, err = d.run("init", "--remote", f"https://{SECRET_USER}:{SECRET_TOKEN}@example.com/r.git")
    assert code == 78
    assert SECRET_TOKEN not in out + err and err.count("\n") == 1


def test_restore_on_a_new_machine_adds_nothing_twice(tmp_path: Path) -> None:
    remote = make_bare(tmp_path / "shared.git")
    old = Device(tmp_path, "studio", str(remote))
    old.init()
    old.work()
    old.work()
    assert old.run()[0] == 0
    new = Device(tmp_path / "new", "studio", str(remote))
    new.sessions = old.sessions
    for path in old.claude.rglob("*.jsonl"):  # the logs came along (a restored home folder)
        target = new.claude / path.relative_to(old.claude)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    assert new.run("init", "--device", "studio")[0] == 0
    code, out, err = new.run("init", "--remote", str(remote))
    assert code == 78  # a different install: refused until it adopts the record
    assert "changed nothing" in err and "--force" in err
    assert new.run("init", "--remote", str(remote), "--force")[0] == 78  # kept, to adopt it
    code, out, err = new.run("restore")
    assert code == 0, err
    assert new.run()[0] == 0
    assert new.ledger()["totals"] == old.ledger()["totals"]
    new.work()
    assert new.run()[0] == 0
    assert new.ledger()["totals"]["messages"] == old.ledger()["totals"]["messages"] + 3


def test_goal_is_shared_by_every_device(tmp_path: Path) -> None:
    remote = make_bare(tmp_path / "shared.git")
    a, b = Device(tmp_path, "a", str(remote)), Device(tmp_path, "b", str(remote))
    start(a, b)
    code, out, err = a.run("goal", "set", "1.5k", "--by", "2099-12-31", "--metric", "output")
    assert code == 0, err
    code, out, err = b.run("goal", "--json")
    assert code == 0, err
    goal = orjson.loads(out)
    assert goal["target"] == 1500 and goal["metric"] == "output"
    assert goal["current"] == 2 * (100 + 101 + 102)
    assert sorted(x["device"] for x in goal["devices"]) == ["a", "b"]


def test_embedded_default_then_a_real_remote_gets_the_history(tmp_path: Path) -> None:
    d = Device(tmp_path, "solo", "")
    assert d.run("init", "--device", "solo")[0] == 0
    d.work()
    assert d.run()[0] == 0  # no remote yet: the embedded one in the state folder
    embedded_tip = git("rev-parse", "main", cwd=d.home / "remote.git").stdout
    remote = make_bare(tmp_path / "later.git")
    code, out, err = d.run("init", "--remote", str(remote))
    assert code == 0, err
    shown = git("show", "main:data/solo.json", cwd=remote).stdout
    assert orjson.loads(shown)["totals"]["messages"] == 3
    assert git("rev-parse", "main", cwd=remote).stdout == embedded_tip  # the same history, not a copy


def test_a_renamed_device_is_counted_once_under_its_new_id(tmp_path: Path) -> None:
    remote = make_bare(tmp_path / "shared.git")
    a, b = Device(tmp_path, "old-name", str(remote)), Device(tmp_path, "b", str(remote))
    start(a, b)
    code, out, err = a.run("init", "--device", "new-name")
    assert code == 2 and "--force" in err  # renaming starts a new file: not by accident
    assert a.run("init", "--device", "new-name", "--force")[0] == 0
    assert a.ledger()["device"] == "new-name"
    assert a.run()[0] == 0
    for d in (a, b):
        code, out, err = d.run("total", "--json")
        assert code == 0, err
        total = orjson.loads(out)
        assert sorted(x["device"] for x in total["devices"]) == ["b", "new-name"]
        assert picked(total["total"]) == summed([a, b])
    shown = orjson.loads(git("show", "main:data/new-name.json", cwd=remote).stdout)
    assert shown["device"] == "new-name"
    files = git("ls-tree", "--name-only", "main", "data/", cwd=remote).stdout.split()
    assert files == ["data/b.json", "data/new-name.json"]  # the old name went in the same commit


def test_device_ids_with_a_trailing_newline_are_refused(tmp_path: Path) -> None:
    d = Device(tmp_path, "x", "")
    assert d.run("init", "--device", "x")[0] == 0
    code, out, err = d.run("init", "--device", "abc\n", "--force")
    assert code == 2 and "not valid" in err and err.count("\n") == 1
    assert d.run("status")[0] == 0


def test_a_goal_set_before_joining_comes_along_unless_the_repo_has_one(tmp_path: Path) -> None:
    remote = make_bare(tmp_path / "shared.git")
    other = Device(tmp_path, "other", str(remote))
    start(other)
    solo = Device(tmp_path, "solo", "")
    assert solo.run("init", "--device", "solo")[0] == 0
    solo.work()
    assert solo.run()[0] == 0
    assert solo.run("goal", "set", "1M", "--by", "2099-12-31")[0] == 0
    assert solo.run("init", "--remote", str(remote))[0] == 0
    assert orjson.loads(git("show", "main:goal.json", cwd=remote).stdout)["target"] == 1_000_000
    assert sorted(git("ls-tree", "--name-only", "main", "data/", cwd=remote).stdout.split()) == [
        "data/other.json", "data/solo.json"]

    late = Device(tmp_path, "late", "")
    assert late.run("init", "--device", "late")[0] == 0
    assert late.run("goal", "set", "5M", "--by", "2099-12-31")[0] == 0
    assert late.run("init", "--remote", str(remote))[0] == 0
    code, out, _ = late.run("goal", "--json")
    assert orjson.loads(out)["target"] == 1_000_000  # the shared goal stands


def test_a_copied_state_folder_renamed_never_removes_the_live_original(tmp_path: Path) -> None:
    remote = make_bare(tmp_path / "shared.git")
    a = Device(tmp_path, "a", str(remote))
    start(a)
    b = Device(tmp_path, "b", str(remote))
    shutil.copytree(a.home, b.home)  # a home folder copied to a new machine, state and all
    assert b.run("init", "--device", "b", "--force")[0] == 0
    a.work()
    assert a.run()[0] == 0
    b.work()
    assert b.run()[0] == 0
    files = git("ls-tree", "--name-only", "main", "data/", cwd=remote).stdout.split()
    assert files == ["data/a.json", "data/b.json"]
    code, out, err = a.run("total", "--json")
    total = orjson.loads(out)
    assert sorted(d["device"] for d in total["devices"]) == ["a", "b"]
    assert any("share one installation id" in w for w in total["warnings"])


def _push_as_another_writer(remote: Path, work: Path, change: Callable[[Path], None]) -> None:
    git("clone", "-q", str(remote), str(work))
    change(work)
    git("add", "-A", cwd=work)
    git("commit", "-qm", "another writer", cwd=work)
    git("push", "-q", "origin", "HEAD:main", cwd=work)


def test_a_device_file_deleted_or_rolled_back_by_another_writer_is_put_back(tmp_path: Path) -> None:
    remote = make_bare(tmp_path / "shared.git")
    d = Device(tmp_path, "desk", str(remote))
    start(d)
    first = git("show", "main:data/desk.json", cwd=remote).stdout
    d.work()
    assert d.run()[0] == 0
    latest = git("show", "main:data/desk.json", cwd=remote).stdout
    assert d.run()[0] == 0  # nothing new: the nightly takes its shortcut

    def delete(w: Path) -> None:
        (w / "data" / "desk.json").unlink()

    def roll_back(w: Path) -> None:
        (w / "data" / "desk.json").write_text(first)

    _push_as_another_writer(remote, tmp_path / "w1", delete)
    assert d.run()[0] == 0  # the nightly, with nothing new to scan
    assert git("show", "main:data/desk.json", cwd=remote).stdout == latest

    _push_as_another_writer(remote, tmp_path / "w2", roll_back)
    assert d.run()[0] == 0
    assert git("show", "main:data/desk.json", cwd=remote).stdout == latest


def test_a_state_folder_back_from_an_old_backup_never_overwrites_the_newer_record(tmp_path: Path) -> None:
    remote = make_bare(tmp_path / "shared.git")
    d = Device(tmp_path, "desk", str(remote))
    start(d)
    backup = tmp_path / "backup"
    shutil.copytree(d.home, backup)
    d.work()
    assert d.run()[0] == 0
    newer = orjson.loads(git("show", "main:data/desk.json", cwd=remote).stdout)
    for log in d.claude.rglob("desk-2.jsonl"):  # the week's logs are gone with the old disk
        log.unlink()
    shutil.rmtree(d.home)
    shutil.copytree(backup, d.home)
    d.work()
    code, out, err = d.run()
    assert code == 78 and err.count("\n") == 1
    assert "older backup" in err and "ccsync restore" in err
    assert orjson.loads(git("show", "main:data/desk.json", cwd=remote).stdout) == newer  # nothing lost
    assert d.run("restore")[0] == 0  # what the message says to do
    assert d.run()[0] == 0
    code, out, _ = d.run("total", "--json")
    assert orjson.loads(out)["total"]["messages"] == 9  # three sessions: none lost, none twice


def test_two_live_machines_with_one_state_folder_stop_the_one_that_is_not_the_owner(tmp_path: Path) -> None:
    remote = make_bare(tmp_path / "shared.git")
    a = Device(tmp_path, "a", str(remote))
    start(a)
    b = Device(tmp_path / "copy", "a", str(remote))
    shutil.copytree(a.home, b.home, dirs_exist_ok=True)  # the state folder copied to another machine
    a.work()
    assert a.run()[0] == 0
    pushed = git("show", "main:data/a.json", cwd=remote).stdout
    b.work()
    code, out, err = b.run()
    assert code == 78 and "another machine records" in err and "ccsync init --device NEW-ID" in err
    assert git("show", "main:data/a.json", cwd=remote).stdout == pushed
    a.work()
    assert a.run()[0] == 0  # the owner carries on
    assert b.run()[0] == 78


def test_terminal_escapes_in_a_peers_strings_never_reach_the_screen(tmp_path: Path) -> None:
    remote = make_bare(tmp_path / "shared.git")
    good = Device(tmp_path, "good", str(remote))
    start(good)
    evil = good.ledger()
    evil["device"], evil["install_id"] = "evil", "e" * 32
    bad = "\x1b]0;pwned\x07\x1b[2J\x9b31m"
    evil["hours"] = [[r[0], r[1], bad + r[2], bad + r[3], bad + r[4], *r[5:]] for r in evil["hours"]]
    evil["sessions"] = [[bad + s[0], s[1], bad + s[2], bad + s[3], s[4], s[5], [[bad + u[0], *u[1:]] for u in s[6]]]
                        for s in evil["sessions"]]
    def plant(w: Path) -> None:
        (w / "data" / "evil.json").write_bytes(orjson.dumps(evil))

    _push_as_another_writer(remote, tmp_path / "w", plant)
    for args in (("total", "--by", "model"), ("report", "session", "--all-devices"),
                 ("report", "project", "--all-devices"), ("report", "branch", "--all-devices"), ("total", "--json")):
        code, out, err = good.run(*args)
        assert code == 0, err
        assert not any(c in out + err for c in "\x1b\x07\x9b"), args


@pytest.mark.parametrize(("text", "may"), [
    ("plain", False), ("C:\\Users\\ana \"quoted\"", False), ("café £5", False), ("\x1b[2J", True), ("a\x00", True),
    ("\x7f", True), ("\x9b", True), ("\\u001b as typed", True),  # a false alarm only costs the walk
])
def test_a_peers_bytes_are_looked_at_for_control_characters(text: str, may: bool) -> None:
    assert peers._may_hold_controls(orjson.dumps({"project": text})) is may


def test_a_peers_strings_are_shown_without_control_characters() -> None:
    everything = "".join(map(chr, range(0x250)))
    kept = peers.printable(everything)
    assert kept == "".join(c for c in everything if not (c < " " or "\x7f" <= c <= "\x9f"))
    assert kept.startswith(" !") and "\xa0" in kept and "\u024f" in kept


def test_a_goal_json_that_is_a_folder_is_invalid_data_not_an_unset_goal(tmp_path: Path) -> None:
    remote = make_bare(tmp_path / "shared.git")
    d = Device(tmp_path, "desk", str(remote))
    start(d)

    def folder_goal(w: Path) -> None:
        (w / "goal.json").mkdir()
        (w / "goal.json" / "x").write_text("x")

    _push_as_another_writer(remote, tmp_path / "w", folder_goal)
    code, out, err = d.run("goal")
    assert code == 65 and "goal.json" in err and "ccsync goal set" in err and err.count("\n") == 1
    assert d.run("goal", "set", "1M", "--by", "2099-12-31")[0] == 0  # the fix it names
    assert d.run("goal")[0] == 0


def test_total_never_makes_the_local_repositories_while_another_ccsync_holds_the_lock(tmp_path: Path) -> None:
    d = Device(tmp_path, "desk", "")
    d.work()
    assert d.run("scan")[0] == 0
    with store.writer_lock(StatePaths(d.home), wait=0):  # a first sync, about to make them
        reader = d.start("total", "--json")
        time.sleep(8)  # time enough to start, even on a loaded machine
        assert reader.poll() is None  # waiting for the lock
        assert not (d.home / "repo.git").exists() and not (d.home / "remote.git").exists()
    out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err
    assert orjson.loads(out)["total"]["messages"] == 3


def test_soak_five_devices_twenty_syncs_each_with_random_kills(tmp_path: Path) -> None:
    """Five machines syncing at once, twenty times each, a quarter of the runs SIGKILLed at a
    random moment: afterwards every machine's usage is in the total, exactly once. Bounded in
    time: rounds stop early when the budget is spent (a loaded machine), never the checks."""
    remote = make_bare(tmp_path / "shared.git")
    devices = [Device(tmp_path, f"d{i}", str(remote)) for i in range(5)]
    for d in devices:
        d.init()
    budget = time.monotonic() + 120
    failures: list[str] = []
    rounds: list[int] = []

    def soak(device: Device, seed: int) -> None:
        rng = random.Random(seed)
        done = 0
        for _ in range(20):
            if time.monotonic() > budget:
                break
            device.work()
            proc = device.start("sync")
            if rng.random() < 0.25:
                time.sleep(rng.uniform(0.05, 1.0))
                proc.send_signal(signal.SIGKILL)
                proc.communicate()
            else:
                _, err = proc.communicate(timeout=120)
                if proc.returncode not in (0, 75):  # 75: the remote kept moving; the next run catches up
                    failures.append(f"{device.name}: {proc.returncode} {err}")
            done += 1
        rounds.append(done)

    threads = [threading.Thread(target=soak, args=(d, i)) for i, d in enumerate(devices)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    assert min(rounds) >= 5
    for d in devices:  # one calm night each: every file reaches the remote
        code, _, err = d.run("sync")
        assert code == 0, err
    code, out, err = devices[0].run("total", "--json")
    assert code == 0, err
    total = orjson.loads(out)
    assert picked(total["total"]) == summed(devices)
    assert sum(summed([d])["messages"] for d in devices) == 3 * sum(d.sessions for d in devices)
    assert fsck(remote).returncode == 0
