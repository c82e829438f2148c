"""Tests for syncer/git/ against real repositories and real git servers on 127.0.0.1."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from dulwich.client import FetchPackResult, LocalGitClient
from dulwich.object_store import DiskObjectStore
from dulwich.objects import ObjectID
from dulwich.repo import Repo

from syncer.errors import ConfigError, RemoteRefused, RemoteUnavailable
from syncer.git import history, layout, limits, locks, objects, transport, urls, view
from syncer.git import local as git_local
from syncer.git import snapshot as git_snapshot
from syncer.git import sync as git_sync
from syncer.git.size import object_header
from tests.gitserver import SECRET_TOKEN, SECRET_USER, GitDaemon, GitHttpServer, fsck, git, make_bare, requires_git

pytestmark = requires_git

ROOT = Path(__file__).resolve().parent.parent
CRED = (SECRET_USER, SECRET_TOKEN)


def sync(repo: Path, remote: str, device: str, content: bytes, **kwargs: Any) -> git_sync.PushResult:
    return git_sync.sync_files(
        repo,
        remote,
        device=device,
        changes={f"data/{device}.json": content},
        message=f"ccsync: update {device}",
        **kwargs,
    )


def log(remote: Path, ref: str = "HEAD") -> list[list[str]]:
    """[sha, parents..., author] per commit, newest first, from real git."""
    out = git("log", "--format=%H %P|%an <%ae>|%s", ref, cwd=remote).stdout
    rows = []
    for line in out.splitlines():
        shas, author, subject = line.split("|")
        rows.append([*shas.split(), author, subject])
    return rows


def show(remote: Path, path: str, ref: str = "HEAD") -> bytes:
    return subprocess.run(
        ["git", "show", f"{ref}:{path}"], cwd=remote, capture_output=True, check=True
    ).stdout


def ls_tree(remote: Path, ref: str = "HEAD") -> dict[str, tuple[str, str]]:
    out = git("ls-tree", "-r", "--full-tree", ref, cwd=remote).stdout
    result = {}
    for line in out.splitlines():
        meta, name = line.split("\t", 1)
        mode, _kind, sha = meta.split()
        result[name] = (mode, sha)
    return result


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    path = tmp_path / "remote.git"
    git_local.init_bare_remote(path)
    return path


# --- URLs, credentials, redaction ------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/ana/usage.git",
        "http://127.0.0.1:8080/sync.git",
        "ssh://git@example.com/ana/usage.git",
        "git@github.com:ana/usage.git",
        "git://127.0.0.1/sync.git",
        "file:///srv/git/usage.git",
    ],
)
def test_validate_remote_accepts_supported_urls(url: str) -> None:
    assert urls.validate_remote(f"  {url} ") == url


def test_validate_remote_makes_local_paths_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert urls.validate_remote("sync.git") == str(tmp_path / "sync.git")
    assert urls.validate_remote("./a:b/sync.git") == str(tmp_path / "a:b" / "sync.git")


@pytest.mark.parametrize(
    "url",
    [
        f"https://{SECRET_USER}:{SECRET_TOKEN}@github.com/ana/usage.git",
        f"https://{SECRET_TOKEN}@github.com/ana/usage.git",
        f"http://x:{SECRET_TOKEN}@127.0.0.1/sync.git",
        f"ssh://git:{SECRET_TOKEN}@example.com/usage.git",
        f"git:{SECRET_TOKEN}@example.com:usage.git",
        f"https://example.com/usage.git?access_token={SECRET_TOKEN}",
        f"https://example.com/usage.git#{SECRET_TOKEN}",
    ],
)
def test_validate_remote_refuses_credentials_without_echoing_them(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        urls.validate_remote(url)
    assert info.value.exit_code == 78
    assert SECRET_TOKEN not in str(info.value)
    assert "CCSYNC_GIT_TOKEN" in str(info.value)


@pytest.mark.parametrize(
    "url", ["", "ftp://example.com/x.git", "ext::sh -c touch% /tmp/pwned", "ssh://-oProxyCommand=x/y", "https://a\nb/"]
)
def test_validate_remote_refuses_unsupported(url: str) -> None:
    with pytest.raises(ConfigError):
        urls.validate_remote(url)


def test_a_file_url_with_a_host_is_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigError) as info:
        urls.validate_remote(f"file://{SECRET_TOKEN}@host/usage.git")
    assert SECRET_TOKEN not in str(info.value) and "file:///absolute/path" in str(info.value)


def test_redact_strips_query_strings_from_urls() -> None:
    clean = urls.redact(f"fetch https://h.example/r.git?access_token={SECRET_TOKEN} failed")
    assert clean == "fetch https://h.example/r.git?*** failed"
    # A ? or # inside the user info is part of the secret, not the start of a query.
    assert urls.redact("https://alice:s3cr?t@h.example/r.git") == "https://***@h.example/r.git"
    assert urls.redact("https://tok#en@h.example/r.git") == "https://***@h.example/r.git"


def test_redact_strips_credentials_from_urls() -> None:
    text = (
        f"Push to https://{SECRET_USER}:{SECRET_TOKEN}@h.example/r.git failed; "
        f"see https://{SECRET_TOKEN}@h.example/r.git and ssh://git:{SECRET_TOKEN}@h/x ssh://git@h/y"
    )
    clean = urls.redact(text)
    assert SECRET_TOKEN not in clean and SECRET_USER not in clean
    assert "https://***@h.example/r.git" in clean
    assert "ssh://git:***@h/x" in clean
    assert "ssh://git@h/y" in clean  # a bare ssh user name is not a secret


def test_credentials_for_env_order_and_scope(tmp_path: Path) -> None:
    url = "https://git.example.com/ana/usage.git"
    assert urls.credentials_for(url, {"CCSYNC_GIT_TOKEN": "t1", "GIT_TOKEN": "t2"}) == ("x-access-token", "t1")
    assert urls.credentials_for(url, {"CCSYNC_GIT_TOKEN": "t1", "CCSYNC_GIT_USERNAME": "ana"}) == ("ana", "t1")
    assert urls.credentials_for(url, {"GIT_TOKEN": "t2", "GITHUB_TOKEN": "t3"}) == ("x-access-token", "t2")
    # A GitHub token goes to GitHub only.
    assert urls.credentials_for(url, {"GITHUB_TOKEN": "t3", "HOME": str(tmp_path)}) is None
    assert urls.credentials_for("https://github.com/a/b.git", {"GITHUB_TOKEN": "t3"}) == ("x-access-token", "t3")
    # Never over clear-text http to another host, never for ssh or local paths.
    assert urls.credentials_for("http://git.example.com/a.git", {"CCSYNC_GIT_TOKEN": "t1"}) is None
    assert urls.credentials_for("http://127.0.0.1:9/a.git", {"CCSYNC_GIT_TOKEN": "t1"}) == ("x-access-token", "t1")
    assert urls.credentials_for("git@github.com:a/b.git", {"CCSYNC_GIT_TOKEN": "t1"}) is None
    assert urls.credentials_for("/srv/a.git", {"CCSYNC_GIT_TOKEN": "t1"}) is None


def test_credentials_for_reads_git_credential_store(tmp_path: Path) -> None:
    (tmp_path / ".git-credentials").write_text(
        "https://bob:other@elsewhere.example\nhttps://ana:p%40ss@git.example.com\n", encoding="utf-8"
    )
    env = {"HOME": str(tmp_path)}
    assert urls.credentials_for("https://git.example.com/ana/usage.git", env) == ("ana", "p@ss")
    assert urls.credentials_for("https://nowhere.example/x.git", env) is None


# --- local repositories ----------------------------------------------------------------------


def test_open_repo_creates_private_bare_repo(tmp_path: Path) -> None:
    path = tmp_path / "state" / "repo.git"
    git_local.open_repo(path)
    assert path.stat().st_mode & 0o777 == 0o700
    assert Repo(str(path)).bare
    git_local.open_repo(path)  # idempotent


def test_open_repo_refuses_a_folder_that_is_not_a_repo(tmp_path: Path) -> None:
    path = tmp_path / "repo.git"
    path.mkdir()
    (path / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError):
        git_local.open_repo(path)
    assert (path / "notes.txt").read_text() == "mine"


# --- syncing ---------------------------------------------------------------------------------


def test_first_sync_initialises_empty_remote(tmp_path: Path, remote: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = sync(tmp_path / "laptop.git", str(remote), "laptop", b'{"v":1}')
    assert result.committed and result.pushed and result.attempts == 1
    assert result.tip == git("rev-parse", "refs/heads/main", cwd=remote).stdout.strip()
    assert set(ls_tree(remote)) == {"README.md", "data/laptop.json"}
    assert show(remote, "data/laptop.json") == b'{"v":1}'
    assert show(remote, "README.md") == layout.README_TEXT
    [[sha, author, subject]] = log(remote)
    assert author == "ccsync laptop <laptop@ccsync.invalid>"
    assert subject == "ccsync: update laptop"
    assert fsck(remote).returncode == 0
    assert capsys.readouterr() == ("", "")  # a library never prints


def test_file_url_and_git_made_remote_with_other_head(tmp_path: Path) -> None:
    server = make_bare(tmp_path / "srv.git", branch="trunk")  # empty, HEAD -> unborn trunk
    result = sync(tmp_path / "a.git", f"file://{server}", "laptop", b"1")
    assert result.pushed
    # No branch existed, so ccsync made "main" and pointed the local remote's HEAD at it.
    assert git("symbolic-ref", "HEAD", cwd=server).stdout.strip() == "refs/heads/main"
    clone = tmp_path / "clone"
    git("clone", "--quiet", str(server), str(clone))
    assert (clone / "data" / "laptop.json").read_bytes() == b"1"
    assert fsck(server).returncode == 0


def test_existing_branch_and_foreign_files_are_kept_byte_for_byte(tmp_path: Path) -> None:
    server = make_bare(tmp_path / "srv.git", branch="trunk")
    work = tmp_path / "work"
    git("clone", "--quiet", str(server), str(work))
    (work / "data").mkdir()
    (work / "data" / "desk.json").write_bytes(b'{"desk": "\xc3\xa9 exact bytes\\r\\n"}\r\n')
    (work / "notes.txt").write_bytes(b"hand-written notes\n")
    (work / "run.sh").write_bytes(b"#!/bin/sh\n")
    (work / "run.sh").chmod(0o755)
    git("add", "-A", cwd=work)
    git("-c", "user.name=Human", "-c", "user.email=h@example.com", "commit", "-qm", "by hand", cwd=work)
    git("push", "-q", "origin", "HEAD:trunk", cwd=work)
    before = ls_tree(server, "trunk")
    human = git("rev-parse", "trunk", cwd=server).stdout.strip()

    result = sync(tmp_path / "a.git", str(server), "laptop", b"mine")
    assert result.pushed
    after = ls_tree(server, "trunk")
    assert {k: v for k, v in after.items() if k != "data/laptop.json"} == before
    assert show(server, "data/laptop.json", "trunk") == b"mine"
    rows = log(server, "trunk")
    assert rows[0][1] == human  # built on the remote tip (the default branch, found via HEAD)
    assert git("branch", "--list", cwd=server).stdout.split() == ["*", "trunk"]  # no new branch
    assert fsck(server).returncode == 0


def test_guard_sees_the_tip_built_on_and_can_refuse(tmp_path: Path, remote: Path) -> None:
    """Two machines claiming one id, racing: the loser's check runs against the winner's push."""
    sync(tmp_path / "first.git", str(remote), "laptop", b'{"install":"A"}')
    tip = git("rev-parse", "refs/heads/main", cwd=remote).stdout.strip()
    seen: list[tuple[str, bytes]] = []

    def guard(path: str, content: bytes) -> None:
        seen.append((path, content))
        if content != b'{"install":"B"}':
            raise ConfigError("device id 'laptop' is already used by another machine")

    with pytest.raises(ConfigError):
        sync(tmp_path / "second.git", str(remote), "laptop", b'{"install":"B"}', guard=guard)
    assert seen == [("data/laptop.json", b'{"install":"A"}')]
    assert git("rev-parse", "refs/heads/main", cwd=remote).stdout.strip() == tip
    assert show(remote, "data/laptop.json") == b'{"install":"A"}'


def test_retired_files_go_only_if_unchanged(tmp_path: Path, remote: Path) -> None:
    sync(tmp_path / "laptop.git", str(remote), "old-name", b'{"install":"A","v":1}')
    sync(tmp_path / "laptop.git", str(remote), "new-name", b'{"install":"A","v":2}',
         retire={"data/old-name.json": b'{"install":"A","v":0}'})  # not what is there: kept
    assert "data/old-name.json" in ls_tree(remote)
    sync(tmp_path / "laptop.git", str(remote), "new-name", b'{"install":"A","v":3}',
         retire={"data/old-name.json": b'{"install":"A","v":1}'})
    assert set(ls_tree(remote)) == {"README.md", "data/new-name.json"}


def test_a_join_cut_short_is_joined_again_with_the_goal(tmp_path: Path, remote: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    embedded = tmp_path / "embedded.git"
    git_local.init_bare_remote(embedded)
    local = tmp_path / "local.git"
    git_sync.sync_files(local, str(embedded), device="solo", changes={"goal.json": b'{"g":1}'}, message="goal")
    sync(tmp_path / "other.git", str(remote), "other", b'{"v":1}')
    real_write_tree = objects.write_tree
    calls: list[int] = []

    def interrupted(*args: Any, **kwargs: Any) -> ObjectID:
        calls.append(1)
        if len(calls) == 1:
            raise KeyboardInterrupt
        return real_write_tree(*args, **kwargs)

    monkeypatch.setattr(objects, "write_tree", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sync(local, str(remote), "solo", b'{"v":2}')
    sync(local, str(remote), "solo", b'{"v":2}')
    assert set(ls_tree(remote)) == {"README.md", "goal.json", "data/other.json", "data/solo.json"}
    assert show(remote, "goal.json") == b'{"g":1}'


def test_unchanged_blob_makes_no_commit(tmp_path: Path, remote: Path) -> None:
    first = sync(tmp_path / "a.git", str(remote), "laptop", b"same")
    again = sync(tmp_path / "a.git", str(remote), "laptop", b"same")
    assert not again.committed and again.pushed and again.tip == first.tip
    assert len(log(remote)) == 1
    changed = sync(tmp_path / "a.git", str(remote), "laptop", b"new")
    assert changed.committed and changed.tip != first.tip
    rows = log(remote)
    assert len(rows) == 2 and rows[0][1] == first.tip


def test_goal_and_data_are_separate_paths(tmp_path: Path, remote: Path) -> None:
    sync(tmp_path / "a.git", str(remote), "laptop", b"L")
    sync(tmp_path / "b.git", str(remote), "desk", b"D")
    git_sync.sync_files(
        tmp_path / "b.git", str(remote), device="desk", changes={"goal.json": b'{"target":1}'}, message="goal"
    )
    snap_before = git_snapshot.snapshot(tmp_path / "a.git")
    sync(tmp_path / "a.git", str(remote), "laptop", b"L2")
    snap = git_snapshot.snapshot(tmp_path / "a.git")
    assert snap.files == {"laptop": b"L2", "desk": b"D"}
    assert snap.goal == b'{"target":1}'
    assert snap.warnings == []
    assert snap_before.files == {"laptop": b"L"}  # snapshot is the last *fetched* state


def test_rejects_bad_device_and_paths(tmp_path: Path, remote: Path) -> None:
    with pytest.raises(ConfigError):
        sync(tmp_path / "a.git", str(remote), "Laptop", b"x")
    for path in ("data/other/x.json", "../x", "data/BAD.json", ".git/config", "data/a.txt"):
        with pytest.raises(ValueError):
            git_sync.sync_files(tmp_path / "a.git", str(remote), device="laptop", changes={path: b"x"}, message="m")
    assert not (remote / "refs" / "heads" / "main").exists()


def test_snapshot_works_offline(tmp_path: Path, remote: Path) -> None:
    sync(tmp_path / "a.git", str(remote), "laptop", b"L")
    sync(tmp_path / "b.git", str(remote), "desk", b"D")
    assert transport.fetch(tmp_path / "a.git", str(remote)) == log(remote)[0][0]
    remote.rename(tmp_path / "gone.git")
    snap = git_snapshot.snapshot(tmp_path / "a.git")
    assert snap.files == {"laptop": b"L", "desk": b"D"}
    assert git_snapshot.snapshot(tmp_path / "never.git") == view.Snapshot({}, None, [], None)


def test_offline_reads_open_the_copy_without_dulwich_repo(tmp_path: Path, remote: Path) -> None:
    """`snapshot` and `last_commits` read objects and refs only: they open the local copy
    without `Repo` (its import and config are a third of `total --offline`'s time in git), see
    what `Repo` sees, and refuse a folder that is not a repository as `open_local` does."""
    sync(tmp_path / "a.git", str(remote), "laptop", b"L")
    sync(tmp_path / "b.git", str(remote), "desk", b"D")
    transport.fetch(tmp_path / "a.git", str(remote))
    with Repo(str(tmp_path / "a.git")) as r:
        tip = git_local.tracking_tip(r)
    reader = git_local.open_reader(tmp_path / "a.git")
    try:
        assert git_local.tracking_tip(reader) == tip and tip is not None
    finally:
        reader.close()
    assert git_snapshot.snapshot(tmp_path / "a.git").files == {"laptop": b"L", "desk": b"D"}
    assert set(history.last_commits(tmp_path / "a.git")) == {"laptop", "desk"}
    (tmp_path / "photos" / "2024").mkdir(parents=True)
    for read in (git_snapshot.snapshot, history.last_commits):
        with pytest.raises(ConfigError, match="photos exists but is not a git repository; move it aside"):
            read(tmp_path / "photos")
    copy = str(tmp_path / "a.git")
    code = ("import sys; from pathlib import Path; from syncer.git import history, snapshot; "
            f"snapshot.snapshot(Path({copy!r})); history.last_commits(Path({copy!r})); "
            "print('dulwich.repo' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


def test_fetch_of_empty_remote_returns_none(tmp_path: Path, remote: Path) -> None:
    assert transport.fetch(tmp_path / "a.git", str(remote)) is None
    assert git_snapshot.snapshot(tmp_path / "a.git").tip is None


# --- races -----------------------------------------------------------------------------------


def test_remote_moving_between_fetch_and_push_is_retried(
    tmp_path: Path, remote: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync(tmp_path / "b.git", str(remote), "desk", b"D0")
    real_fetch = transport.fetch_into
    calls = []

    def fetch_then_race(*args: Any, **kwargs: Any) -> transport.Fetched:
        fetched = real_fetch(*args, **kwargs)
        calls.append(1)
        if len(calls) == 1:  # another device pushes after our fetch, before our push
            monkeypatch.setattr(transport, "fetch_into", real_fetch)
            sync(tmp_path / "b.git", str(remote), "desk", b"D1")
            monkeypatch.setattr(transport, "fetch_into", fetch_then_race)
        return fetched

    monkeypatch.setattr(transport, "fetch_into", fetch_then_race)
    result = sync(tmp_path / "a.git", str(remote), "laptop", b"L")
    assert result.pushed and result.attempts == 2
    assert show(remote, "data/desk.json") == b"D1" and show(remote, "data/laptop.json") == b"L"
    rows = log(remote)
    assert [len(r) for r in rows] == [4, 4, 3]  # linear: sha, parent, author, subject
    assert fsck(remote).returncode == 0


def test_remote_that_keeps_moving_gives_up_without_forcing(
    tmp_path: Path, remote: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync(tmp_path / "b.git", str(remote), "desk", b"D0")
    real_fetch = transport.fetch_into
    counter = iter(range(1, 100))

    def fetch_then_race(*args: Any, **kwargs: Any) -> transport.Fetched:
        fetched = real_fetch(*args, **kwargs)
        monkeypatch.setattr(transport, "fetch_into", real_fetch)
        sync(tmp_path / "b.git", str(remote), "desk", b"D%d" % next(counter))
        monkeypatch.setattr(transport, "fetch_into", fetch_then_race)
        return fetched

    monkeypatch.setattr(transport, "fetch_into", fetch_then_race)
    with pytest.raises(RemoteUnavailable) as info:
        sync(tmp_path / "a.git", str(remote), "laptop", b"L", max_attempts=3)
    assert "kept changing" in str(info.value) and info.value.exit_code == 75
    assert "data/laptop.json" not in ls_tree(remote)
    assert show(remote, "data/desk.json") == b"D3"  # every desk update survived, nothing forced
    assert len(log(remote)) == 4

    monkeypatch.setattr(transport, "fetch_into", real_fetch)
    result = sync(tmp_path / "a.git", str(remote), "laptop", b"L")
    assert result.pushed and show(remote, "data/laptop.json") == b"L"


WORKER = r"""
import json, sys
from pathlib import Path
from syncer.git.sync import sync_files
repo, remote, device, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
user, token = (sys.argv[5], sys.argv[6]) if len(sys.argv) > 6 else (None, None)
creds = (user, token) if user else None
for n in range(count):
    r = sync_files(Path(repo), remote, device=device, changes={f"data/{device}.json": b"%d" % n},
                           message=f"ccsync: {device} {n}", max_attempts=50, credentials=creds)
    print(json.dumps({"n": n, "committed": r.committed, "pushed": r.pushed, "attempts": r.attempts}), flush=True)
"""


def _workers(
    tmp_path: Path, url: str, devices: list[str], count: int, creds: tuple[str, str] | None = None
) -> list[subprocess.Popen[str]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)}
    extra = list(creds) if creds else []
    return [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(tmp_path / f"{d}.git"), url, d, str(count), *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for d in devices
    ]


def _check_history(server: Path, devices: list[str], count: int) -> None:
    assert fsck(server).returncode == 0, fsck(server).stderr
    rows = log(server, "main")
    assert [len(r) for r in rows] == [4] * (len(rows) - 1) + [3]  # linear, one root
    for i, row in enumerate(rows[:-1]):
        assert row[1] == rows[i + 1][0]
    # Every sync of every device made exactly one commit (a new value each time): none lost.
    assert len(rows) == len(devices) * count
    for device in devices:
        assert show(server, f"data/{device}.json", "main") == str(count - 1).encode()
        mine = [int(r[-1].split()[-1]) for r in rows if r[-2].startswith(f"ccsync {device} ")]
        assert mine == list(range(count - 1, -1, -1))


@pytest.mark.slow
def test_three_devices_concurrently_on_a_local_remote(tmp_path: Path, remote: Path) -> None:
    devices, count = ["alpha", "beta", "gamma"], 12
    procs = _workers(tmp_path, str(remote), devices, count)
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
        assert err == ""
        assert len(out.splitlines()) == count
    _check_history(remote, devices, count)


@pytest.mark.slow
def test_three_devices_concurrently_over_http_with_auth(tmp_path: Path, http_server: GitHttpServer) -> None:
    make_bare(http_server.root / "sync.git")
    devices, count = ["alpha", "beta", "gamma"], 5
    procs = _workers(tmp_path, http_server.url("sync.git"), devices, count, CRED)
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
        assert SECRET_TOKEN not in out + err
    _check_history(http_server.root / "sync.git", devices, count)


# --- network remotes, failures, secrets ------------------------------------------------------


def test_git_daemon_roundtrip(tmp_path: Path, git_daemon: GitDaemon) -> None:
    server = make_bare(git_daemon.root / "sync.git")
    url = git_daemon.url("sync.git")
    sync(tmp_path / "a.git", url, "laptop", b"L")
    sync(tmp_path / "b.git", url, "desk", b"D")
    assert not sync(tmp_path / "a.git", url, "laptop", b"L").committed
    assert git_snapshot.snapshot(tmp_path / "a.git").files == {"laptop": b"L", "desk": b"D"}
    assert fsck(server).returncode == 0


def test_http_auth_refused_and_secrets_never_escape(
    tmp_path: Path,
    http_server: GitHttpServer,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    make_bare(http_server.root / "sync.git")
    url = http_server.url("sync.git")
    wrong = (SECRET_USER, SECRET_TOKEN + "-wrong")
    with pytest.raises(RemoteRefused) as info:
        sync(tmp_path / "a.git", url, "laptop", b"L", credentials=wrong)
    message = str(info.value)
    # Retrying cannot help a refused token: a configuration error, with the fix.
    assert "authentication was refused" in message and info.value.exit_code == 78
    assert "CCSYNC_GIT_TOKEN" in message and "\n" not in message
    with pytest.raises(RemoteRefused):
        sync(tmp_path / "a.git", url, "laptop", b"L")  # no credentials at all

    result = sync(tmp_path / "a.git", url, "laptop", b"L", credentials=CRED)
    assert result.pushed
    assert transport.fetch(tmp_path / "a.git", url, credentials=CRED) == result.tip

    exc_text = message + repr(info.value) + str(info.value.__cause__) + str(info.value.__context__ or "")
    seen = capsys.readouterr()
    everything = exc_text + seen.out + seen.err + caplog.text + "\n".join(http_server.log)
    for secret in (SECRET_TOKEN, wrong[1]):
        assert secret not in everything
    assert info.value.__suppress_context__  # a traceback will not show dulwich's exception


def test_remote_down_then_recovery_over_http(tmp_path: Path, http_server: GitHttpServer) -> None:
    make_bare(http_server.root / "sync.git")
    url = http_server.url("sync.git")
    sync(tmp_path / "a.git", url, "laptop", b"L1", credentials=CRED)
    http_server.stop()
    with pytest.raises(RemoteUnavailable) as info:
        sync(tmp_path / "a.git", url, "laptop", b"L2", credentials=CRED)
    assert "could not connect" in str(info.value)
    assert "\n" not in str(info.value)
    restarted = GitHttpServer(http_server.root, auth=CRED, port=http_server.port).start()
    try:
        result = sync(tmp_path / "a.git", url, "laptop", b"L2", credentials=CRED)
    finally:
        restarted.stop()
    assert result.pushed and result.committed
    assert show(http_server.root / "sync.git", "data/laptop.json") == b"L2"


def test_local_remote_missing_then_back(tmp_path: Path, remote: Path) -> None:
    sync(tmp_path / "a.git", str(remote), "laptop", b"L1")
    remote.rename(tmp_path / "away.git")
    with pytest.raises(RemoteRefused) as info:  # an unplugged disk: retrying alone cannot help
        sync(tmp_path / "a.git", str(remote), "laptop", b"L2")
    assert info.value.exit_code == 78 and "is missing" in str(info.value) and "Plug it in" in str(info.value)
    assert "ccsync init\n" not in str(info.value) + "\n" and "create it" not in str(info.value)
    (tmp_path / "away.git").rename(remote)
    assert sync(tmp_path / "a.git", str(remote), "laptop", b"L2").pushed
    assert show(remote, "data/laptop.json") == b"L2"


def _install_refusing_hook(server: Path) -> Path:
    hook = server / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'protected by policy' >&2\nexit 1\n")
    hook.chmod(0o755)
    return hook


def test_refused_update_is_not_reported_as_pushed(tmp_path: Path, http_server: GitHttpServer) -> None:
    server = make_bare(http_server.root / "sync.git")
    url = http_server.url("sync.git")
    first = sync(tmp_path / "a.git", url, "laptop", b"L1", credentials=CRED)
    hook = _install_refusing_hook(server)
    with pytest.raises(RemoteUnavailable) as info:
        sync(tmp_path / "a.git", url, "laptop", b"L2", credentials=CRED)
    assert "refused" in str(info.value)
    assert git("rev-parse", "main", cwd=server).stdout.strip() == first.tip
    hook.unlink()
    # The commit made during the refused sync is pushed as it was: no new commit needed.
    again = sync(tmp_path / "a.git", url, "laptop", b"L2", credentials=CRED)
    assert again.pushed and not again.committed
    assert show(server, "data/laptop.json") == b"L2"
    assert len(log(server)) == 2


def test_unpushed_goal_is_replayed_onto_a_moved_remote(tmp_path: Path, git_daemon: GitDaemon) -> None:
    server = make_bare(git_daemon.root / "sync.git")
    url = git_daemon.url("sync.git")
    sync(tmp_path / "a.git", url, "laptop", b"L1")
    hook = _install_refusing_hook(server)
    with pytest.raises(RemoteUnavailable):
        git_sync.sync_files(tmp_path / "a.git", url, device="laptop", changes={"goal.json": b"G"}, message="goal")
    hook.unlink()
    sync(tmp_path / "b.git", url, "desk", b"D1")  # the remote moves on without our goal
    result = sync(tmp_path / "a.git", url, "laptop", b"L2")
    assert result.pushed
    assert show(server, "goal.json") == b"G"
    assert show(server, "data/desk.json") == b"D1" and show(server, "data/laptop.json") == b"L2"
    assert fsck(server).returncode == 0


def test_newer_goal_from_another_device_wins_over_our_stale_replay(
    tmp_path: Path, remote: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git_sync.sync_files(tmp_path / "a.git", str(remote), device="laptop", changes={"goal.json": b"G1"}, message="g")

    def broken_push(*args: object, **kwargs: object) -> object:
        raise OSError(5, "Input/output error")

    with monkeypatch.context() as patch:
        patch.setattr(LocalGitClient, "send_pack", broken_push)
        with pytest.raises(RemoteUnavailable) as info:
            git_sync.sync_files(tmp_path / "a.git", str(remote), device="laptop", changes={"goal.json": b"G2"},
                                message="g")
    assert "Input/output error" in str(info.value)
    git_sync.sync_files(tmp_path / "b.git", str(remote), device="desk", changes={"goal.json": b"G3"}, message="g")
    sync(tmp_path / "a.git", str(remote), "laptop", b"L")
    assert show(remote, "goal.json") == b"G3"  # both changed it: the remote's newer one is kept


def test_switching_to_an_empty_remote_pushes_history(tmp_path: Path, remote: Path) -> None:
    state = tmp_path / "a.git"
    sync(state, str(remote), "laptop", b"L1")
    git_sync.sync_files(state, str(remote), device="laptop", changes={"goal.json": b"G"}, message="goal")
    sync(state, str(remote), "laptop", b"L2")
    real = make_bare(tmp_path / "real.git")
    result = sync(state, str(real), "laptop", b"L2")
    assert result.pushed and not result.committed
    assert [r[0] for r in log(real)] == [r[0] for r in log(remote)]
    assert show(real, "goal.json") == b"G"

    # Joining a remote that already has other devices: build on its tip, keep its goal.
    shared = tmp_path / "shared.git"
    git_local.init_bare_remote(shared)
    git_sync.sync_files(tmp_path / "b.git", str(shared), device="desk", changes={"goal.json": b"THEIRS"}, message="g")
    joined = sync(state, str(shared), "laptop", b"L2")
    assert joined.pushed and joined.committed
    assert show(shared, "goal.json") == b"THEIRS"
    assert set(ls_tree(shared)) == {"README.md", "goal.json", "data/laptop.json"}
    assert len(log(shared)) == 2


# --- untrusted content -----------------------------------------------------------------------


def _hostile_remote(tmp_path: Path, big: int) -> Path:
    server = make_bare(tmp_path / "hostile.git")

    def blob(data: bytes) -> str:
        return subprocess.run(
            ["git", "hash-object", "-w", "--stdin"], input=data, cwd=server, capture_output=True, check=True
        ).stdout.decode().strip()

    def mktree(lines: list[str]) -> str:
        return subprocess.run(
            ["git", "mktree", "--missing"],
            input="".join(line + "\n" for line in lines),
            text=True,
            cwd=server,
            capture_output=True,
            check=True,
        ).stdout.strip()

    ok, exe = blob(b'{"ok":1}'), blob(b'{"exe":1}')
    target = blob(b"/etc/passwd")
    huge = blob(b"x" * big)
    inner = mktree([f"100644 blob {ok}\tz.json"])
    fake_commit = "1" * 40
    data_tree = mktree(
        [
            f"100644 blob {ok}\tok.json",
            f"100755 blob {exe}\texe-1.json",
            f"120000 blob {target}\tlink.json",
            f"040000 tree {inner}\tdir.json",
            f"100644 blob {ok}\tUPPER.json",
            f"100644 blob {ok}\t-dash.json",
            f"100644 blob {ok}\tnotes.txt",
            f"100644 blob {huge}\tbig.json",
            f"160000 commit {fake_commit}\tsub.json",
            f"100644 blob {ok}\tREADME.md",
            f"100644 blob {ok}\tdevice.schema.json",
        ]
    )
    root = mktree([f"040000 tree {data_tree}\tdata", f"120000 blob {target}\tgoal.json"])
    commit = git("commit-tree", root, "-m", "hostile", cwd=server).stdout.strip()
    git("update-ref", "refs/heads/main", commit, cwd=server)
    return server


def test_snapshot_skips_hostile_entries_with_warnings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_DEVICE_FILE", 1000)
    server = _hostile_remote(tmp_path, big=5000)
    huge_sha = git("rev-parse", "HEAD:data/big.json", cwd=server).stdout.strip()
    local = tmp_path / "a.git"
    transport.fetch(local, str(server))

    read: list[bytes] = []
    real_get_raw = DiskObjectStore.get_raw

    def spy(self: DiskObjectStore, name: ObjectID) -> tuple[int, bytes]:
        read.append(name)
        return real_get_raw(self, name)

    monkeypatch.setattr(DiskObjectStore, "get_raw", spy)
    snap = git_snapshot.snapshot(local)
    assert snap.files == {"ok": b'{"ok":1}', "exe-1": b'{"exe":1}'}
    assert snap.goal is None
    text = "\n".join(snap.warnings)
    for name in ("link.json", "dir.json", "UPPER.json", "-dash.json", "notes.txt", "big.json", "sub.json", "goal.json"):
        assert sum(name in w for w in snap.warnings) == 1, (name, text)
    assert len(snap.warnings) == 8
    assert "symbolic link" in text and "submodule" in text and "folder" in text and "1000 byte limit" in text
    assert huge_sha.encode() not in read  # the size came from the object header, not the body


def test_object_header_sizes_match_git_for_loose_packed_and_delta_objects(tmp_path: Path) -> None:
    remote = tmp_path / "r.git"
    git_local.init_bare_remote(remote)
    rng = random.Random(7)
    base = bytes(rng.randrange(256) for _ in range(20000))
    for n in range(4):  # similar versions: git repack stores them as deltas
        sync(tmp_path / "a.git", str(remote), "laptop", base[: 15000 + n * 1000] + b"v%d" % n)
    local = tmp_path / "a.git"
    shas = git("rev-list", "--objects", "--all", cwd=local).stdout.split()
    shas = [s for s in shas if len(s) == 40]
    repo = Repo(str(local))
    loose = {s: object_header(repo, ObjectID(s.encode())) for s in shas}
    git("repack", "-adf", "--depth=10", cwd=local)
    repo = Repo(str(local))
    packed = {s: object_header(repo, ObjectID(s.encode())) for s in shas}
    deltas = git("verify-pack", "-v", *[str(p) for p in (local / "objects" / "pack").glob("*.idx")], cwd=local).stdout
    assert any(len(line.split()) >= 7 for line in deltas.splitlines() if line[:40] in shas)  # some deltas exist
    for sha in shas:
        size = int(git("cat-file", "-s", sha, cwd=local).stdout)
        for header in (loose[sha], packed[sha]):
            assert header is not None and header[1] == size


def test_fetch_checks_the_objects_really_arrived(
    tmp_path: Path, remote: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync(tmp_path / "b.git", str(remote), "desk", b"D")

    def lying_fetch(self: LocalGitClient, path: str, target: object, *,
                    determine_wants: Callable[..., list[ObjectID]], **kwargs: object) -> FetchPackResult:
        # A server that advertises a tip, is asked for it, and sends an empty pack.
        refs = self.get_refs(path.encode() if isinstance(path, str) else path)
        assert determine_wants(dict(refs.refs))
        return FetchPackResult(dict(refs.refs), dict(refs.symrefs), None)

    monkeypatch.setattr(transport.CappedLocalClient, "fetch", lying_fetch)
    with pytest.raises(RemoteUnavailable) as info:
        transport.fetch(tmp_path / "a.git", str(remote))
    assert "did not arrive" in str(info.value)
    assert git_snapshot.snapshot(tmp_path / "a.git").tip is None  # nothing half-fetched is trusted


# --- crashes ---------------------------------------------------------------------------------


LOOP = r"""
import sys, itertools
from pathlib import Path
from syncer.git.sync import sync_files
repo, remote = Path(sys.argv[1]), sys.argv[2]
print("ready", flush=True)
for n in itertools.count():
    sync_files(repo, remote, device="laptop", changes={"data/laptop.json": b"%d" % n,
                       "goal.json": b"g%d" % (n % 3)}, message="loop")
"""


@pytest.mark.slow
def test_sigkill_mid_sync_leaves_everything_usable(tmp_path: Path, remote: Path) -> None:
    state = tmp_path / "a.git"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)}
    rng = random.Random(1234)
    for _ in range(6):
        proc = subprocess.Popen(
            [sys.executable, "-c", LOOP, str(state), str(remote)], stdout=subprocess.PIPE, env=env
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.05, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        result = sync(state, str(remote), "laptop", b"after")
        assert result.pushed
        assert show(remote, "data/laptop.json") == b"after"
        for repo in (remote, state):
            check = fsck(repo)
            assert check.returncode == 0, check.stdout + check.stderr
    assert git_snapshot.snapshot(state).files == {"laptop": b"after"}


def test_stale_lock_left_by_a_crash_is_broken(tmp_path: Path, remote: Path) -> None:
    sync(tmp_path / "a.git", str(remote), "laptop", b"L1")
    lock = remote / "refs" / "heads" / "main.lock"
    lock.write_text("")
    old = time.time() - locks.STALE_LOCK_SECONDS - 5
    os.utime(lock, (old, old))
    assert sync(tmp_path / "a.git", str(remote), "laptop", b"L2").pushed
    assert not lock.exists()
    assert show(remote, "data/laptop.json") == b"L2"


def test_fresh_lock_is_waited_for_not_broken(tmp_path: Path, remote: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sync(tmp_path / "a.git", str(remote), "laptop", b"L1")
    lock = remote / "refs" / "heads" / "main.lock"
    lock.write_text("")
    monkeypatch.setattr(locks, "STALE_LOCK_SECONDS", 60.0)
    released = threading.Timer(0.8, lock.unlink)
    released.start()
    started = time.monotonic()
    result = sync(tmp_path / "a.git", str(remote), "laptop", b"L2")
    released.join()
    assert result.pushed and time.monotonic() - started >= 0.7
    assert show(remote, "data/laptop.json") == b"L2"


def test_lock_that_never_goes_away_is_temporary_failure(
    tmp_path: Path, remote: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync(tmp_path / "a.git", str(remote), "laptop", b"L1")
    lock = remote / "refs" / "heads" / "main.lock"
    lock.write_text("")
    monkeypatch.setattr(locks, "STALE_LOCK_SECONDS", 1.0)
    # Keep the lock fresh so it is never judged stale.
    stop = threading.Event()

    def touch() -> None:
        while not stop.is_set():
            os.utime(lock)
            time.sleep(0.1)

    toucher = threading.Thread(target=touch)
    toucher.start()
    try:
        with pytest.raises(RemoteUnavailable) as info:
            sync(tmp_path / "a.git", str(remote), "laptop", b"L2")
    finally:
        stop.set()
        toucher.join()
    assert "lock" in str(info.value) and info.value.exit_code == 75
    assert json.dumps(str(info.value))  # one plain line
