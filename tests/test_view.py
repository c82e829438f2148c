"""The kept view of the fetched sync repo (syncer/git/view.py): the same answers as reading the
local copy with dulwich, rebuilt whenever the fetched tip moves, and ignored when damaged."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from syncer import trust
from syncer.git import history, view
from syncer.git.snapshot import snapshot
from syncer.paths import StatePaths
from tests.team import DEVICES, make_team

Cli = Callable[..., tuple[int, str, str]]
SINCE = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def team(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> StatePaths:
    make_team(tmp_path, cli, monkeypatch)
    return StatePaths(Path(os.environ["CCSYNC_HOME"]))


def expected(paths: StatePaths, since: datetime) -> tuple[view.Snapshot, dict[str, datetime]]:
    """What the local copy holds, with the digests of its bytes that the view hands on."""
    snap = snapshot(paths.repo)
    snap = snap._replace(digests={name: trust.content_digest(raw) for name, raw in snap.files.items()},
                         goal_digest=None if snap.goal is None else trust.content_digest(snap.goal))
    return snap, history.last_commits(paths.repo, since=since)


def test_kept_view_answers_as_the_local_copy_does(team: StatePaths) -> None:
    first = view.fetched(team.repo, team.fetched, since=SINCE)
    assert team.fetched.exists()
    assert first == expected(team, SINCE)
    assert set(first[0].files) == {d for d, _ in DEVICES}
    assert set(first[1]) == {d for d, _ in DEVICES}
    # From the kept file, at the same and at a later horizon (time moves on between reads).
    assert view.fetched(team.repo, team.fetched, since=SINCE) == first
    later = datetime.now(UTC) + timedelta(days=1)
    assert view.fetched(team.repo, team.fetched, since=later) == expected(team, later)
    assert view.fetched(team.repo, team.fetched, since=later)[1] == {}


def test_an_earlier_horizon_than_kept_reads_the_copy_again(team: StatePaths) -> None:
    view.fetched(team.repo, team.fetched, since=datetime.now(UTC))
    assert view.fetched(team.repo, team.fetched, since=SINCE) == expected(team, SINCE)


def test_a_new_fetched_tip_rebuilds_the_view(
    tmp_path: Path, cli: Cli, team: StatePaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = view.fetched(team.repo, team.fetched, since=SINCE)
    monkeypatch.setenv("CCSYNC_HOME", str(tmp_path / "ana-laptop" / "ccsync"))  # another device
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "ana-laptop" / "claude"))
    assert cli("goal", "set", "5M", "--by", "2026-12-31")[0] == 0
    monkeypatch.setenv("CCSYNC_HOME", str(team.home))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "ci-runner" / "claude"))
    code, _, err = cli("sync")
    assert code == 0, err
    after = view.fetched(team.repo, team.fetched, since=SINCE)
    assert after[0].tip != before[0].tip
    assert after[0].goal is not None and before[0].goal != after[0].goal
    assert after == expected(team, SINCE)


def _header(data: bytes) -> dict[str, Any]:
    doc: dict[str, Any] = orjson.loads(data[: data.index(b"\n")])
    return doc


def _with_header(data: bytes, doc: dict[str, Any]) -> bytes:
    return orjson.dumps(doc) + data[data.index(b"\n"):]


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1:]


DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "empty": lambda data: b"",
    "no header end": lambda data: data[:20],
    "not JSON": lambda data: b"{" + data,
    "a list": lambda data: b"[]\n" + data,
    "cut short": lambda data: data[:-1],
    "longer": lambda data: data + b" ",
    "a size that is not a number": lambda data: _with_header(
        data, {**_header(data), "files": [[n, str(s), d] for n, s, d in _header(data)["files"]]}),
    "a negative size": lambda data: _with_header(
        data, {**_header(data), "files": [[n, -s, d] for n, s, d in _header(data)["files"]]}),
    "a digest that is not text": lambda data: _with_header(
        data, {**_header(data), "files": [[n, s, 0] for n, s, d in _header(data)["files"]]}),
    "a byte changed in the goal": lambda data: _flip(data, len(data) - 5),
    # The digest handed on to the trust memo is of the bytes handed on: one changed, the view is not used.
    "a byte changed in the first file": lambda data: _flip(data, data.index(b"\n") + 50),
    "two files swapped": lambda data: _with_header(data, {**_header(data), "files": [
        [n, s, d] for (n, _, _), (_, s, d) in zip(_header(data)["files"], reversed(_header(data)["files"]), strict=True)
    ]}),
    "another tip": lambda data: _with_header(data, {**_header(data), "key": {**_header(data)["key"], "tip": "0" * 40}}),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_view_is_ignored_and_rebuilt(team: StatePaths, damage: str) -> None:
    good = view.fetched(team.repo, team.fetched, since=SINCE)
    team.fetched.write_bytes(DAMAGE[damage](team.fetched.read_bytes()))
    assert view.fetched(team.repo, team.fetched, since=SINCE) == good
    assert _header(team.fetched.read_bytes())["key"]["tip"] == good[0].tip


def test_files_that_are_not_text_are_kept_as_they_are(team: StatePaths) -> None:
    """A peer's file that is not UTF-8 is refused later, by its schema, with the same warning."""
    snap, lately = view.fetched(team.repo, team.fetched, since=SINCE)
    odd = {**snap.files, "ci-runner": b"\xff\xfe{not text"}
    view._write(team.fetched, view._key(team.repo) or {}, SINCE, snap._replace(files=odd), [])
    assert view.fetched(team.repo, team.fetched, since=SINCE)[0].files == odd


def test_a_view_is_not_kept_for_a_tip_it_cannot_read_plainly(team: StatePaths) -> None:
    head = team.repo / "refs" / "remotes" / "origin" / "HEAD"
    head.write_text("ref: refs/../../outside\n")
    assert view.fetched(team.repo, team.fetched, since=SINCE)[0].files == {}
    assert not team.fetched.exists()


@pytest.mark.parametrize(("name", "plain"), [
    ("refs/remotes/origin/main", True), ("refs/heads/feature_x-1.2", True), ("refs/x", True),
    ("refs", False), ("refs/", False), ("refs//x", False), ("refs/../../outside", False), ("refs/.hidden", False),
    ("heads/main", False), ("/refs/x", False), ("refs/x y", False), ("refs/caf\u00e9", False), ("refs/a\\b", False),
])
def test_only_a_plain_ref_name_is_followed(name: str, plain: bool) -> None:
    assert view._plain_ref(name) is plain


def test_a_kept_view_is_read_without_dulwich(team: StatePaths) -> None:
    view.fetched(team.repo, team.fetched, since=SINCE)
    code = (
        "import sys, datetime as d; from pathlib import Path; from syncer.git import view; "
        f"s, c = view.fetched(Path({str(team.repo)!r}), Path({str(team.fetched)!r}), "
        "since=d.datetime(2026, 1, 1, tzinfo=d.UTC)); "
        "print(len(s.files), len(c), sorted(m for m in sys.modules if m.startswith('dulwich')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == [str(len(DEVICES)), str(len(DEVICES)), "[]"]


@pytest.mark.parametrize("args", [
    ("report", "daily", "--all-devices", "--offline"), ("report", "session", "--all-devices", "--offline"),
    ("total", "--offline"), ("goal", "--offline"), ("status",),
])
def test_read_commands_on_a_team_import_neither_pydantic_nor_dulwich(team: StatePaths, args: tuple[str, ...]) -> None:
    """Together a third of a read command's time: after the first read, every file it reads is
    one a schema accepted before, and the fetched sync repo is kept in plain files."""
    imported: list[list[str]] = []
    for _ in range(2):
        run = subprocess.run([sys.executable, "-X", "importtime", "-m", "syncer", *args],
                             capture_output=True, text=True, check=False)
        assert run.returncode == 0, run.stderr
        imported.append([line.rsplit("|", 1)[1].strip() for line in run.stderr.splitlines()
                         if line.startswith("import time:")])
    assert "syncer.views" in imported[1]
    assert not [m for m in imported[1] if m.split(".")[0] in ("pydantic", "pydantic_core", "dulwich")]
