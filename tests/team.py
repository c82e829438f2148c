"""A small team for export and dashboard tests: three devices (two with owners) syncing to one
folder remote, run in-process, with usage over months, several models (one with no known
price), projects, branches, sessions and a goal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests import logs

DEVICES = (("ana-laptop", "Ana"), ("ana-desktop", "Ana"), ("ci-runner", None))
MODELS = (
    "claude-sonnet-4-5-20250929",
    "claude-opus-4-1-20250805",
    "claude-haiku-4-5-20251001",
    "claude-future-9-20270101",
)
# Old days months before the rest, a day across midnight, and a burst last week.
DAYS = (
    "2026-06-03T23:59:59.999Z",
    "2026-09-14T10:00:00Z",
    "2026-11-20T09:14:05.301Z",
    "2026-11-24T00:00:00.5Z",
    "2026-11-27T18:30:00+02:00",
)


def make_team(tmp_path: Path, cli: Callable[..., tuple[int, str, str]], monkeypatch: pytest.MonkeyPatch) -> Path:
    """Set up, scan and sync every device; the last one stays current. Returns the remote."""
    remote = tmp_path / "remote.git"
    for d, (device, owner) in enumerate(DEVICES):
        claude = tmp_path / device / "claude"
        monkeypatch.setenv("CCSYNC_HOME", str(tmp_path / device / "ccsync"))
        monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
        args = ["init", "--device", device, "--remote", str(remote)] + (["--owner", owner] if owner else [])
        code, _, err = cli(*args)
        assert code == 0, err
        for s, ts in enumerate(DAYS[d:] if d < 2 else DAYS):
            session = f"{device}-{s:02d}-0000-4000-8000-000000000000"
            records = []
            for m, model in enumerate(MODELS[: 2 + (s + d) % 3]):
                base = 1000 * (d + 1) + 100 * s + 10 * m
                records.append(
                    logs.assistant(
                        f"msg_{device}_{s}_{m}",
                        f"req_{s}_{m}",
                        model=model,
                        ts=ts,
                        session=session,
                        cwd=f"/home/ana/src/{('shop', 'api', 'pipe|line')[(s + m) % 3]}",
                        branch=("main", "feat/export", "")[(d + s) % 3],
                        tokens=logs.usage(base + 1, base * 3, base * 5, base * 40, one_hour=base if m == 0 else None),
                    )
                )
            path = logs.write(logs.session_file(claude, session, f"-home-ana-src-p{s}"), *records)
            if s == 1:  # no final newline: still counted
                path.write_bytes(path.read_bytes().rstrip(b"\n"))
        code, _, err = cli("sync")
        assert code == 0, err
    code, _, err = cli("goal", "set", "2M", "--by", "2026-12-31")
    assert code == 0, err
    return remote
