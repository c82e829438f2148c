"""Crash and fault tests: the real ccsync in a subprocess, killed or starved at file operations."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from tests import logs

FAULTS = Path(__file__).resolve().parent / "faults"
pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.name != "posix", reason="SIGKILL and fault injection need POSIX")]


def start(*args: str, fault: str | None = None, log: Path | None = None) -> subprocess.Popen[str]:
    """A real `ccsync ARGS` process, with the fault injected when one is named."""
    env = dict(os.environ)
    if fault:
        env["PYTHONPATH"] = os.pathsep.join([str(FAULTS), env.get("PYTHONPATH", "")])
        env["CCSYNC_TEST_FAULT"] = fault
        if log:
            env["CCSYNC_TEST_FAULT_LOG"] = str(log)
    proc = subprocess.Popen([sys.executable, "-m", "syncer", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    return proc


def ccsync(*args: str, fault: str | None = None, log: Path | None = None) -> tuple[int, str, str]:
    """Run `ccsync ARGS` to the end: (exit code, stdout, stderr)."""
    out, err = (proc := start(*args, fault=fault, log=log)).communicate(timeout=120)
    return proc.returncode, out, err


def totals(state: Path) -> dict[str, int]:
    found: dict[str, int] = orjson.loads((state / "ledger.json").read_bytes())["totals"]
    return found


def write_sessions(claude_dir: Path, start: int, count: int) -> None:
    for s in range(start, start + count):
        records = [logs.user("x" * 2000)]
        for r in range(5):
            for out in (4, 40, 400 + r):  # streamed: output grows
                records.append(logs.assistant(f"m{s}-{r}", f"q{s}-{r}", tokens=logs.usage(3, out, 100, 1000),
                                              session=f"s{s}", ts=f"2026-11-{10 + s % 10:02d}T0{r}:00:00Z"))
        logs.write(logs.session_file(claude_dir, f"s{s}"), *records)


def a_save_to_break(claude_dir: Path, state_dir: Path, tmp_path: Path) -> tuple[bytes, bytes, Path, int]:
    """A scanned state (kept in `baseline`) and a scan that saves new usage over it: the
    ledger before and after, the baseline, and how many file operations that save makes."""
    write_sessions(claude_dir, 0, 2)
    assert ccsync("scan")[0] == 0
    old = (state_dir / "ledger.json").read_bytes()
    baseline = tmp_path / "baseline"
    shutil.copytree(state_dir, baseline)
    write_sessions(claude_dir, 2, 2)
    count_log = tmp_path / "ops"
    assert ccsync("scan", fault="count", log=count_log)[0] == 0
    return old, (state_dir / "ledger.json").read_bytes(), baseline, int(count_log.read_text())


def test_sigkill_at_every_file_operation_of_a_save(claude_dir: Path, state_dir: Path, tmp_path: Path) -> None:
    old, new, baseline, operations = a_save_to_break(claude_dir, state_dir, tmp_path)
    assert new != old and operations >= 8

    for n in range(1, operations + 1):
        shutil.rmtree(state_dir)
        shutil.copytree(baseline, state_dir)
        code, _, _ = ccsync("scan", fault=f"kill:{n}")
        assert code == -signal.SIGKILL, f"operation {n} of {operations} did not kill"
        assert (state_dir / "ledger.json").read_bytes() in (old, new), f"torn ledger after kill at {n}"
        code, _, err = ccsync("scan")
        assert code == 0, err
        assert (state_dir / "ledger.json").read_bytes() == new, f"wrong totals after kill at {n}"


def test_sigkill_at_random_points_of_a_scan(claude_dir: Path, state_dir: Path, tmp_path: Path) -> None:
    write_sessions(claude_dir, 0, 150)
    assert ccsync("scan")[0] == 0
    half = tmp_path / "half"
    shutil.copytree(state_dir, half)
    write_sessions(claude_dir, 150, 150)
    expected = {"output_tokens": sum(400 + r for r in range(5)) * 300, "messages": 1500}
    rng = random.Random(7)
    for attempt in range(6):
        shutil.rmtree(state_dir, ignore_errors=True)
        if attempt % 2:  # an incremental scan, not only a first one
            shutil.copytree(half, state_dir)
        proc = start("scan")
        time.sleep(rng.uniform(0.05, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        code, _, err = ccsync("scan")
        assert code == 0, err
        t = totals(state_dir)
        assert {k: t[k] for k in expected} == expected


@pytest.mark.parametrize("fault, reason", [("enospc", "the disk is full"), ("eio", "Input/output error")])
def test_disk_errors_exit_74_and_keep_the_old_ledger(
    claude_dir: Path, state_dir: Path, fault: str, reason: str
) -> None:
    write_sessions(claude_dir, 0, 1)
    assert ccsync("scan")[0] == 0
    old = (state_dir / "ledger.json").read_bytes()
    before = sorted(p.name for p in state_dir.iterdir())
    write_sessions(claude_dir, 1, 1)
    code, out, err = ccsync("scan", fault=fault)
    assert code == 74
    assert reason in err and err.count("\n") == 1 and "Traceback" not in err
    assert (state_dir / "ledger.json").read_bytes() == old
    assert sorted(p.name for p in state_dir.iterdir()) == before  # no temp files left behind
    assert ccsync("scan")[0] == 0
    assert totals(state_dir)["messages"] == 10


@pytest.mark.parametrize("kind", ["enospc", "eio"])
def test_disk_errors_at_every_step_of_a_save_lose_nothing(claude_dir: Path, state_dir: Path, tmp_path: Path,
                                                          kind: str) -> None:
    old, new, baseline, operations = a_save_to_break(claude_dir, state_dir, tmp_path)
    failed = 0
    for n in range(1, operations + 1):
        shutil.rmtree(state_dir)
        shutil.copytree(baseline, state_dir)
        code, _, err = ccsync("scan", fault=f"{kind}:{n}")
        if code != 0:
            failed += 1
            assert code == 74 and err.count("\n") == 1 and "Traceback" not in err, (n, err)
        assert (state_dir / "ledger.json").read_bytes() in (old, new), f"torn ledger after a fault at {n}"
        assert not [p.name for p in state_dir.iterdir() if p.name.endswith(".tmp")], f"temp file left at {n}"
        code, _, err = ccsync("scan")
        assert code == 0, err
        assert (state_dir / "ledger.json").read_bytes() == new, f"wrong totals after a fault at {n}"
    assert failed > 0


def test_two_scans_at_once_one_waits_or_exits_75(claude_dir: Path, state_dir: Path) -> None:
    write_sessions(claude_dir, 0, 3)
    assert ccsync("init", "--device", "one")[0] == 0
    holder = start("scan", fault="sleep:3")
    time.sleep(1.0)
    code, _, err = ccsync("scan", "--no-wait")
    assert code == 75 and "another ccsync" in err
    waiter = start("scan")
    assert holder.wait(60) == 0 and waiter.wait(60) == 0
    assert totals(state_dir)["messages"] == 15


def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds worker processes through /proc")
@pytest.mark.parametrize("delay", [0.0, 0.15, 0.4])
def test_worker_processes_end_with_a_killed_scan(claude_dir: Path, state_dir: Path, delay: float) -> None:
    """Issue 15 (9): a scan large enough to read in worker processes, SIGKILLed while they
    work: none of them may live on (they used to wait on their pipe forever)."""
    for s in range(6):  # 48 MB: above the size at which a scan starts workers
        records = [logs.user("x" * (1 << 20)) for _ in range(8)]
        records.append(logs.assistant(f"m{s}", f"q{s}", session=f"s{s}"))
        logs.write(logs.session_file(claude_dir, f"s{s}"), *records)
    proc = start("scan")
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 20
        while not workers and proc.poll() is None and time.monotonic() < deadline:
            workers = _children(proc.pid)
            time.sleep(0.005)
        assert workers, "the scan started no worker process"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()  # not communicate(): live workers would hold its pipes open
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        deadline = time.monotonic() + 10
        while any(map(_alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [w for w in workers if _alive(w)], "worker processes outlived the killed scan"
    finally:
        for w in workers:
            if _alive(w):
                os.kill(w, signal.SIGKILL)


def _age_git_locks(state: Path) -> None:
    """A killed run's git lock files, as the next night finds them: long stale."""
    past = time.time() - 3600
    for lock in state.rglob("*.lock"):
        os.utime(lock, (past, past))


@pytest.mark.parametrize("kind", ["kill", "enospc"])
def test_a_fault_at_every_file_operation_of_a_first_sync(claude_dir: Path, state_dir: Path, tmp_path: Path,
                                                          kind: str) -> None:
    """The git operations of a first sync (making the local repository, fetch, commit, push):
    SIGKILL or a full disk at each one; the next sync completes and the local copy stays sound."""
    remote = tmp_path / "remote.git"  # outside the state folder: only our side's operations count
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    write_sessions(claude_dir, 0, 2)
    assert ccsync("init", "--device", "desk")[0] == 0
    assert ccsync("scan")[0] == 0
    config = orjson.loads((state_dir / "config.json").read_bytes())
    (state_dir / "config.json").write_bytes(orjson.dumps({**config, "remote": str(remote)}))
    baseline = tmp_path / "baseline"
    shutil.copytree(state_dir, baseline)
    count_log = tmp_path / "ops"
    assert ccsync("sync", "--no-scan", fault="count", log=count_log)[0] == 0
    expected = subprocess.run(["git", "show", "main:data/desk.json"], cwd=remote, capture_output=True).stdout
    operations = int(count_log.read_text())
    assert operations >= 10
    for n in range(1, operations + 1):
        shutil.rmtree(state_dir)
        shutil.copytree(baseline, state_dir)
        shutil.rmtree(remote)
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
        code, _, err = ccsync("sync", "--no-scan", fault=f"{kind}:{n}")
        if kind == "kill":
            assert code == -signal.SIGKILL, f"operation {n} of {operations} did not kill"
            _age_git_locks(state_dir)
        else:
            assert code in (0, 74), (n, err)
            assert err.count("\n") == (code != 0) and "Traceback" not in err and "Exception" not in err, (n, err)
        code, _, err = ccsync("sync", "--no-scan")
        assert code == 0, (n, err)
        shown = subprocess.run(["git", "show", "main:data/desk.json"], cwd=remote, capture_output=True).stdout
        assert shown == expected, n
        check = subprocess.run(["git", "fsck", "--no-dangling"], cwd=state_dir / "repo.git",
                               capture_output=True, text=True)
        assert check.returncode == 0, (n, check.stderr)
