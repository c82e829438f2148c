"""Adopting an old machine's record (`ccsync restore` on a new machine): crash-safe at every
file operation, under a full disk at every step, and counting the new machine's usage once."""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from tests.gitserver import git, make_bare, requires_git
from tests.test_crash import ccsync, write_sessions
from tests.test_devices import Device, start

pytestmark = [
    pytest.mark.slow,
    requires_git,
    pytest.mark.skipif(os.name != "posix", reason="SIGKILL and fault injection need POSIX"),
]

Cli = Callable[..., tuple[int, str, str]]


def remote_files(remote: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    names = git("ls-tree", "--name-only", "main", "data/", cwd=remote).stdout.split()
    return {n: orjson.loads(git("show", f"main:{n}", cwd=remote).stdout) for n in names if n.endswith(".json")}


def a_new_machine_that_synced_under_its_own_id(tmp_path: Path, claude_dir: Path) -> tuple[Path, Device]:
    """The old machine `studio` with its record in the sync repo; this (new) machine, which has
    recorded and synced its own usage as `newbox`, renamed to `studio`, about to adopt."""
    remote = make_bare(tmp_path / "shared.git")
    old = Device(tmp_path / "old", "studio", str(remote))
    start(old)
    old.work()
    assert old.run()[0] == 0
    write_sessions(claude_dir, 0, 2)
    assert ccsync("init", "--device", "newbox", "--remote", str(remote))[0] == 0
    assert ccsync()[0] == 0
    # Refused (the id is the old machine's) but kept with --force, so this machine can adopt it.
    assert ccsync("init", "--device", "studio", "--force")[0] == 78
    return remote, old


def check_adopted(remote: Path, old: Device, cli: Cli) -> None:
    files = remote_files(remote)
    assert sorted(files) == ["data/studio.json"], "the new machine's own file went when its usage moved"
    assert files["data/studio.json"]["install_id"] == old.ledger()["install_id"]
    assert files["data/studio.json"]["totals"]["messages"] == old.ledger()["totals"]["messages"] + 10
    code, out, err = cli("total", "--json")
    assert code == 0, err
    assert orjson.loads(out)["total"]["messages"] == old.ledger()["totals"]["messages"] + 10


def test_adopting_after_syncing_under_its_own_id_counts_its_usage_once(
    tmp_path: Path, claude_dir: Path, cli: Cli
) -> None:
    remote, old = a_new_machine_that_synced_under_its_own_id(tmp_path, claude_dir)
    assert cli()[0] == 78  # another machine's record: refused until adopted
    code, out, err = cli("restore")
    assert code == 0, err
    assert cli()[0] == 0
    check_adopted(remote, old, cli)


def _age_git_locks(state: Path) -> None:
    """A killed run's git lock files, as the next night finds them: long stale."""
    past = time.time() - 3600
    for lock in state.rglob("*.lock"):
        os.utime(lock, (past, past))


def _sweep(tmp_path: Path, claude_dir: Path, state_dir: Path, cli: Cli, kind: str) -> None:
    remote, old = a_new_machine_that_synced_under_its_own_id(tmp_path, claude_dir)
    baseline, remote_baseline = tmp_path / "baseline", tmp_path / "remote-baseline"
    shutil.copytree(state_dir, baseline)
    shutil.copytree(remote, remote_baseline)
    count_log = tmp_path / "ops"
    assert ccsync("restore", fault="count", log=count_log)[0] == 0
    operations = int(count_log.read_text())
    assert operations >= 10
    for n in range(1, operations + 1):
        for target, source in ((state_dir, baseline), (remote, remote_baseline)):
            shutil.rmtree(target)
            shutil.copytree(source, target)
        code, _, err = ccsync("restore", fault=f"{kind}:{n}")
        if kind == "kill":
            assert code == -signal.SIGKILL, f"operation {n} of {operations} did not kill"
            _age_git_locks(state_dir)
        else:
            assert code in (0, 74), (n, err)
            assert code == 0 or (err.count("\n") == 1 and "Traceback" not in err), (n, err)
        code, _, err = cli()  # the next nightly, before anyone notices
        assert code in (0, 78), (n, err)
        studio = remote_files(remote)["data/studio.json"]
        assert studio["install_id"] == old.ledger()["install_id"], f"old record replaced after a fault at {n}"
        assert studio["totals"]["messages"] >= old.ledger()["totals"]["messages"], f"usage lost at {n}"
        code, _, err = cli("restore")
        assert code == 0, (n, err)
        assert cli()[0] == 0
        check_adopted(remote, old, cli)


def test_sigkill_at_every_file_operation_of_an_adoption(
    tmp_path: Path, claude_dir: Path, state_dir: Path, cli: Cli
) -> None:
    _sweep(tmp_path, claude_dir, state_dir, cli, "kill")


def test_a_full_disk_at_every_step_of_an_adoption(
    tmp_path: Path, claude_dir: Path, state_dir: Path, cli: Cli
) -> None:
    _sweep(tmp_path, claude_dir, state_dir, cli, "enospc")
