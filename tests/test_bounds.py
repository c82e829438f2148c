"""A peer's oversized object in the sync repo is refused before it is inflated (issue 15)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import zlib
from pathlib import Path

import orjson
import pytest
from dulwich.errors import ObjectFormatException
from dulwich.objects import ObjectID
from dulwich.repo import Repo

from syncer.errors import RemoteCorrupt
from syncer.git import incoming, limits, local, snapshot, transport
from tests.cli_runner import Cli
from tests.gitserver import SECRET_TOKEN, SECRET_USER, GitDaemon, GitHttpServer, git, make_bare, requires_git

pytestmark = requires_git

ROOT = Path(__file__).resolve().parent.parent
GIB = 1 << 30


def _zero_blob(server: Path, size: int) -> str:
    """Write a loose blob of `size` zero bytes, streamed: neither side of the test holds it."""
    header = b"blob %d\0" % size
    digest = hashlib.sha1(header)
    packer = zlib.compressobj(1)
    chunk = bytes(1 << 20)
    tmp = server / "objects" / "tmp-zero"
    with open(tmp, "wb") as f:
        f.write(packer.compress(header))
        for _ in range(size // len(chunk)):
            digest.update(chunk)
            f.write(packer.compress(chunk))
        f.write(packer.flush())
    sha = digest.hexdigest()
    (server / "objects" / sha[:2]).mkdir(exist_ok=True)
    tmp.rename(server / "objects" / sha[:2] / sha[2:])
    return sha


def _remote_with_zero_bomb(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    server = make_bare(path)
    big = _zero_blob(server, size)
    ok = (
        subprocess.run(
            ["git", "hash-object", "-w", "--stdin"], input=b'{"ok":1}', cwd=server, capture_output=True, check=True
        )
        .stdout.decode()
        .strip()
    )
    mktree = ["git", "mktree"]
    data = subprocess.run(
        mktree,
        input=f"100644 blob {big}\tbomb.json\n100644 blob {ok}\tpeer.json\n",
        text=True,
        cwd=server,
        capture_output=True,
        check=True,
    ).stdout.strip()
    root = subprocess.run(
        mktree, input=f"040000 tree {data}\tdata\n", text=True, cwd=server, capture_output=True, check=True
    ).stdout.strip()
    commit = git("commit-tree", root, "-m", "a peer's bomb", cwd=server).stdout.strip()
    git("update-ref", "refs/heads/main", commit, cwd=server)
    return server


_SYNC_AND_MEASURE = """
import json, resource, sys
from pathlib import Path
from syncer.git import snapshot, sync
repo, remote, ssh = Path(sys.argv[1]), sys.argv[2], sys.argv[3] or None
credentials = (sys.argv[4], sys.argv[5]) if len(sys.argv) > 5 else None
pushed = sync.sync_files(repo, remote, device="laptop", changes={"data/laptop.json": b'{"me":1}'},
                         message="ccsync: update laptop", credentials=credentials, ssh_command=ssh)
snap = snapshot.snapshot(repo)
again = sync.sync_files(repo, remote, device="laptop", changes={"data/laptop.json": b'{"me":2}'},
                        message="ccsync: update laptop", credentials=credentials, ssh_command=ssh)
print(json.dumps({"committed": pushed.committed and again.committed, "files": sorted(snap.files),
                  "warnings": snap.warnings, "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def _sync_in_child(repo: Path, remote: str, *extra: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _SYNC_AND_MEASURE, str(repo), remote, *(extra or ("",))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def _check_skipped(result: dict[str, object], server: Path, peak_mib: int) -> None:
    assert result["committed"] is True  # our own file still went out, twice
    assert git("show", "main:data/laptop.json", cwd=server).stdout == '{"me":2}'
    assert result["files"] == ["laptop", "peer"]
    warnings = result["warnings"]
    assert isinstance(warnings, list) and len(warnings) == 1
    assert "data/bomb.json" in warnings[0] and f"{limits.MAX_DEVICE_FILE} byte limit" in warnings[0]
    assert git("cat-file", "-s", "main:data/bomb.json", cwd=server).stdout.strip() != "0"  # still on the remote
    peak_kib = result["peak_kib"]
    assert isinstance(peak_kib, int) and peak_kib < peak_mib * 1024, peak_kib


@pytest.mark.slow
def test_a_peers_gigabyte_of_zeros_on_a_folder_remote_is_skipped_in_bounded_memory(tmp_path: Path) -> None:
    server = _remote_with_zero_bomb(tmp_path / "bomb.git", GIB)
    _check_skipped(_sync_in_child(tmp_path / "a.git", str(server)), server, 200)


BOMB = 256 << 20  # sixteen times the limit: dulwich alone would hold all of it


@pytest.mark.slow
def test_a_peers_zero_bomb_over_git_daemon_is_left_out_before_inflating(tmp_path: Path, git_daemon: GitDaemon) -> None:
    server = _remote_with_zero_bomb(git_daemon.root / "sync.git", BOMB)
    _check_skipped(_sync_in_child(tmp_path / "a.git", git_daemon.url("sync.git")), server, 160)


@pytest.mark.slow
def test_a_peers_zero_bomb_over_http_is_left_out_before_inflating(tmp_path: Path, http_server: GitHttpServer) -> None:
    server = _remote_with_zero_bomb(http_server.root / "sync.git", BOMB)
    result = _sync_in_child(tmp_path / "a.git", http_server.url("sync.git"), "", SECRET_USER, SECRET_TOKEN)
    _check_skipped(result, server, 160)


@pytest.mark.slow
def test_a_peers_zero_bomb_over_ssh_is_left_out_before_inflating(tmp_path: Path) -> None:
    # No sshd here: a stand-in `ssh` runs the remote command (git-upload-pack, git-receive-pack)
    # on this machine, so the ssh transport's own code path is the one exercised.
    ssh = tmp_path / "ssh"
    ssh.write_text('#!/bin/sh\nfor last; do :; done\nexec sh -c "$last"\n')
    ssh.chmod(0o755)
    server = _remote_with_zero_bomb(tmp_path / "srv" / "sync.git", BOMB)
    _check_skipped(_sync_in_child(tmp_path / "a.git", f"ssh://127.0.0.1{server}", str(ssh)), server, 160)


def test_a_pack_over_the_incoming_limit_stops_the_fetch_with_one_line(
    tmp_path: Path, git_daemon: GitDaemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = make_bare(git_daemon.root / "sync.git")
    blob = subprocess.run(
        ["git", "hash-object", "-w", "--stdin"], input=os.urandom(50_000), cwd=server, capture_output=True, check=True
    ).stdout.decode().strip()
    tree = subprocess.run(
        ["git", "mktree"], input=f"100644 blob {blob}\tpeer.json\n", text=True, cwd=server, capture_output=True,
        check=True,
    ).stdout.strip()
    git("update-ref", "refs/heads/main", git("commit-tree", tree, "-m", "big", cwd=server).stdout.strip(), cwd=server)
    monkeypatch.setattr(limits, "MAX_INCOMING_PACK", 20_000)
    local.open_repo(tmp_path / "a.git")
    with pytest.raises(RemoteCorrupt) as info:
        transport.fetch(tmp_path / "a.git", git_daemon.url("sync.git"))
    assert info.value.exit_code == 65 and "\n" not in info.value.message
    assert "more than 20000 bytes in one fetch" in info.value.message and "local data is saved" in info.value.message
    assert snapshot.snapshot(tmp_path / "a.git").tip is None  # nothing half-fetched is taken for the remote
    assert not [p for p in (tmp_path / "a.git" / "objects").rglob("*") if p.is_file() and "pack" in p.name]


def test_sync_and_total_skip_a_peers_zero_bomb_with_a_warning(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = _remote_with_zero_bomb(tmp_path / "bomb.git", BOMB)
    monkeypatch.setenv("CCSYNC_HOME", str(tmp_path / "state"))
    code, _, err = cli("init", "--device", "laptop", "--remote", str(server))
    assert code == 0, err
    code, _, err = cli("sync", "--no-scan")
    assert code == 0, err
    code, out, err = cli("total", "--json")
    assert code == 0, err
    warnings = orjson.loads(out)["warnings"]
    assert [w for w in warnings if "data/bomb.json" in w and "byte limit" in w], warnings
    code, out, err = cli("goal", "--json")
    assert "Traceback" not in err and "zlib" not in err


def test_filtering_a_pack_keeps_every_delta_whose_base_stays(tmp_path: Path) -> None:
    # History as a sync repo has it: a device file rewritten commit after commit (git stores the
    # versions as deltas of each other), and, part-way, a peer's file over the limit.
    server = make_bare(tmp_path / "sync.git")
    rows = [f'["2026-01-{d % 28 + 1:02d}T{d % 24:02d}","claude","m","p","main",{d},{d * 7}]' for d in range(400)]
    blobs: list[str] = []
    parent: list[str] = []
    for n in range(12):
        text = "[\n" + ",\n".join(rows[: 300 + n * 8]) + "\n]\n"
        blob = _git_in(server, text, "hash-object", "-w", "--stdin")
        entries = f"100644 blob {blob}\tlaptop.json\n"
        if n == 5:
            big = _git_in(server, "x" * 60_000, "hash-object", "-w", "--stdin")
            entries += f"100644 blob {big}\tbomb.json\n"
        data = _git_in(server, entries, "mktree")
        root = _git_in(server, f"040000 tree {data}\tdata\n", "mktree")
        commit = git("commit-tree", root, *parent, "-m", f"{n}", cwd=server).stdout.strip()
        parent = ["-p", commit]
        blobs.append(blob)
    git("update-ref", "refs/heads/main", commit, cwd=server)
    listing = git("rev-list", "--objects", "--all", cwd=server).stdout
    pack = subprocess.run(
        ["git", "pack-objects", "--stdout", "--delta-base-offset", "--depth=50", "--window=50"],
        input=listing.encode(), cwd=server, capture_output=True, check=True,
    ).stdout
    kept = tmp_path / "kept.pack"
    with open(kept, "w+b") as out:
        filtered = incoming.filter_pack(io.BytesIO(pack), out, 50_000)
    assert filtered.dropped == 1
    r = Repo.init_bare(str(tmp_path / "local.git"), mkdir=True)
    with open(kept, "rb") as f:
        r.object_store.add_thin_pack(f.read, None)
    idx = next((tmp_path / "local.git").rglob("*.idx"))
    assert "chain length" in git("verify-pack", "-v", str(idx)).stdout  # deltas kept, re-pointed at their bases
    for blob in blobs:
        want = git("cat-file", "blob", blob, cwd=server).stdout.encode()
        assert r.object_store[ObjectID(blob.encode())].as_raw_string() == want
    assert ObjectID(big.encode()) not in r.object_store


def _git_in(cwd: Path, text: str, *args: str) -> str:
    done = subprocess.run(["git", *args], input=text, text=True, cwd=cwd, capture_output=True, check=True)
    return done.stdout.strip()


def test_a_delta_on_a_left_out_base_fails_the_fetch_in_one_line(tmp_path: Path) -> None:
    # Without offset deltas a delta names its base by id, which a left-out entry never gets.
    server = make_bare(tmp_path / "sync.git")
    text = "".join(f'["row",{n},"{n * 7919 % 10007}"]\n' for n in range(3000))
    shas = [_git_in(server, text + "tail\n" * n, "hash-object", "-w", "--stdin") for n in range(3)]
    listing = ("\n".join(shas) + "\n").encode()
    pack_bytes = subprocess.run(
        ["git", "pack-objects", "--stdout", "--window=10"], input=listing, cwd=server, capture_output=True, check=True
    ).stdout
    r = Repo.init_bare(str(tmp_path / "local.git"), mkdir=True)
    with pytest.raises(ObjectFormatException) as info:
        incoming.take_in(io.BytesIO(pack_bytes), r.object_store, len(text) + 7, None)  # the largest is left out
    assert "has no base" in str(info.value)
