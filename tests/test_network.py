"""Every network call is bounded: a server that accepts and never answers ends the run with
exit 75, the scan saved (issue 15, item 10). Real sockets on 127.0.0.1, a real fake `ssh`."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.test_crash import write_sessions

pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.name != "posix", reason="a fake ssh on PATH needs POSIX")]


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A server on 127.0.0.1 that accepts every connection and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str, float]:
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "syncer", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "CCSYNC_NETWORK_TIMEOUT": "0.5", **(env or {})})
    return proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started


def fake_ssh(tmp_path: Path) -> dict[str, str]:
    """An `ssh` first on PATH that records its arguments and then never answers."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "ssh"
    script.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "ssh-args"}\nexec sleep 3600\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


@pytest.mark.parametrize("scheme", ["http", "git", "ssh"])
def test_a_server_that_never_answers_ends_the_run_with_75_and_the_scan_saved(
    tmp_path: Path, claude_dir: Path, state_dir: Path, silent_server: int, scheme: str
) -> None:
    env = fake_ssh(tmp_path) if scheme == "ssh" else {}
    url = f"{scheme}://127.0.0.1:{silent_server}/shared.git"
    assert run("init", "--device", "desk")[0] == 0
    code, _, err, took = run("init", "--remote", url, env=env)
    assert code == 75 and "Traceback" not in err and took < 20, (code, err, took)
    write_sessions(claude_dir, 0, 1)
    code, _, err, took = run(env=env)  # the nightly
    assert code == 75 and err.startswith("ccsync: ") and err.count("\n") == 1, err
    assert took < 20
    assert orjson.loads((state_dir / "ledger.json").read_bytes())["totals"]["messages"] == 5
    code, out, err, took = run("total", "--json", env=env)
    assert code == 0 and took < 20 and orjson.loads(out)["total"]["messages"] == 5
    assert run("restore", env=env)[0] == 75
    if scheme == "ssh":
        args = (tmp_path / "ssh-args").read_text()
        for option in ("BatchMode=yes", "ConnectTimeout=", "ServerAliveInterval=", "ServerAliveCountMax="):
            assert option in args
        leftover = subprocess.run(["pgrep", "-f", str(tmp_path / "bin")], capture_output=True, text=True)
        assert leftover.stdout == "", "the ssh of a timed-out run was left running"
