"""The sync algorithm: put our files on the remote's branch without touching anyone else's.

fetch → build on the remote tip (replaying our unpushed edits onto it) → commit only if our
files changed → compare-and-swap push → on a race, fetch and repeat (bounded, with jitter).
Never force-pushes, never touches another device's file (DESIGN.md §4).

Concurrency model: the caller holds the state-folder lock, so one process at a time writes the
local repository; any number of devices may push to the remote at once, and the remote's own
ref update is the compare-and-swap that keeps every device's file.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from dulwich.client import GitClient
from dulwich.file import FileLocked
from dulwich.objects import Blob, Commit, ObjectID
from dulwich.refs import Ref
from dulwich.repo import Repo

from syncer.errors import ConfigError, RemoteUnavailable
from syncer.git import layout, local, objects, transport
from syncer.git.limits import NETWORK_TIMEOUT, bounded
from syncer.git.locks import LockRecovery
from syncer.git.urls import Scrubber, redact, validate_remote

Guard = Callable[[str, bytes], None]
"""Sees what the remote tip holds at a path about to change, and raises to refuse."""


@dataclass(frozen=True)
class PushResult:
    committed: bool
    """We made a new commit (our blob changed)."""
    pushed: bool
    """The remote now has our commit."""
    attempts: int
    tip: str
    """Hex sha of the remote tip after the sync."""


def sync_files(
    repo: Path,
    remote: str,
    *,
    device: str,
    changes: dict[str, bytes],
    message: str,
    retire: Mapping[str, bytes] | None = None,
    guard: Guard | None = None,
    max_attempts: int = 8,
    credentials: tuple[str, str] | None = None,
    ssh_command: str | None = None,
    timeout: float = NETWORK_TIMEOUT,
) -> PushResult:
    """Put `changes` (repo path -> bytes) on the remote's branch without touching anything else.

    fetch -> the remote tip's tree with only these paths replaced -> a commit on the remote tip
    (none if nothing changed) -> compare-and-swap push -> on a race, fetch and retry with jitter,
    at most `max_attempts` times. Never forces. `retire` (repo path -> the bytes the caller
    judged) removes files that are still exactly those bytes. `guard(path, bytes)` sees what
    the remote tip holds at each changed path and raises to refuse. Earlier local commits the remote lacks are
    pushed (or replayed onto a moved tip). Raises RemoteUnavailable (one redacted line) when
    the remote cannot be reached, refuses us, or keeps moving.
    """
    if not layout.DEVICE_ID.fullmatch(device):
        raise ConfigError(
            f"device id {device!r} must match {layout.DEVICE_ID.pattern}; set one with: ccsync init --device ID"
        )
    if not changes:
        raise ValueError("sync_files needs at least one change")
    for file_path in [*changes, *(retire or {})]:
        layout.check_path(file_path)
    retired = {file_path: Blob.from_string(content).id for file_path, content in (retire or {}).items()}
    remote = validate_remote(remote)
    body = " ".join(message.split()) or f"ccsync: update {device}"
    edit = _Edit(device, changes, retired, guard, (body + "\n").encode("utf-8"))
    scrub = Scrubber(credentials)
    shown = redact(remote)
    locks = LockRecovery(repo, remote)

    with transport.captured(scrub) as capture, bounded(timeout):
        r = local.open_local(repo)
        try:
            client, path = transport.client_for(remote, credentials, ssh_command, timeout)
            attempt = 0
            failures = 0
            committed = False
            refused: tuple[ObjectID | None, str] | None = None
            while True:
                attempt += 1
                try:
                    outcome = _sync_once(r, client, path, remote, edit, capture)
                except FileLocked as exc:
                    locks.recover(exc)
                    continue
                committed = committed or outcome.committed
                if outcome.pushed:
                    assert outcome.tip is not None
                    return PushResult(committed, True, attempt, outcome.tip.decode())
                if refused is not None and refused[0] == outcome.base and outcome.refused:
                    # Refused twice on an unmoved remote: a policy (hook, protected branch),
                    # not a race. Retrying cannot help.
                    raise RemoteUnavailable(
                        scrub(f"sync remote {shown} refused our update: {outcome.refused}; local data is saved")
                    )
                refused = (outcome.base, outcome.refused) if outcome.refused else None
                failures += 1
                if failures >= max_attempts:
                    raise RemoteUnavailable(
                        scrub(
                            f"sync remote {shown} kept changing under us ({failures} attempts"
                            + (f", last refusal: {outcome.refused}" if outcome.refused else "")
                            + "); local data is saved and the next run retries"
                        )
                    )
                time.sleep(_jitter(failures))
        except transport.TRANSPORT_ERRORS as exc:
            raise transport.failure(shown, exc, capture) from None
        finally:
            r.close()


@dataclass(frozen=True)
class _Edit:
    """What one sync puts on the remote, the same on every attempt."""

    device: str
    changes: Mapping[str, bytes]
    retire: Mapping[str, ObjectID]
    guard: Guard | None
    message: bytes


@dataclass(frozen=True)
class _Attempt:
    committed: bool
    pushed: bool
    tip: ObjectID | None
    """The remote tip after this attempt."""
    base: ObjectID | None
    """The remote tip this attempt built on."""
    refused: str | None = None


def _sync_once(r: Repo, client: GitClient, path: str, remote: str, edit: _Edit, capture: transport.Capture) -> _Attempt:
    """One attempt: fetch, build our commit on the remote tip, push it with compare-and-swap."""
    # A different remote: joining its history starts from its tip; an empty one receives our
    # whole history (`ccsync init --remote URL` after using the embedded remote). The switch is
    # recorded only once a push went through, so an interrupted join is simply joined again.
    joining = local.config_get(r, b"remote") != remote
    fetched = transport.fetch_into(r, client, path, capture, None if joining else local.config_get(r, b"branch"))
    branch_ref = layout.branch_ref(fetched.branch)
    tip = fetched.tip
    if joining:
        carried = _start_join(r, branch_ref, tip)
    else:
        carried = {}
        local.config_set(r, {b"branch": fetched.branch})

    ours, upstream = _our_history(r, branch_ref, tip, joining=joining)
    parent, replayed = _choose_parent(r, ours, upstream, tip, edit.device)
    base_tree = objects.commit(r, parent).tree if parent is not None else None
    if edit.guard is not None:
        _check_guard(r, base_tree, edit.changes, edit.guard)
    edits = _tree_edits(r, base_tree, {**carried, **replayed}, edit, fresh=parent is None)
    new_tree = objects.write_tree(r, base_tree, edits)
    new, committed = _commit(r, parent, base_tree, new_tree, edit)

    r.refs[branch_ref] = new
    if tip is not None:
        r.refs[layout.UPSTREAM] = tip
    if new == tip:
        if joining:
            local.config_set(r, {b"remote": remote, b"branch": fetched.branch})
        return _Attempt(committed, True, tip, tip)
    pushed = transport.push(r, client, path, branch_ref, old=tip, new=new, capture=capture)
    if not pushed.done:
        return _Attempt(committed, False, tip, tip, pushed.refused)
    _record_push(r, remote, fetched.branch, new, joining=joining, first=tip is None)
    return _Attempt(committed, True, new, tip)


def _start_join(r: Repo, branch_ref: Ref, tip: ObjectID | None) -> dict[str, ObjectID]:
    """Joining another remote: a goal set before joining comes along, unless the shared repo
    has one already. An empty remote gets our history, so there is no upstream to replay onto."""
    if tip is None:
        if layout.UPSTREAM in r.refs:
            del r.refs[layout.UPSTREAM]
        return {}
    before = r.refs[branch_ref] if branch_ref in r.refs else None
    ours = (
        objects.entry(r, objects.commit(r, before).tree, layout.GOAL)
        if before is not None and before in r.object_store
        else None
    )
    theirs = objects.entry(r, objects.commit(r, tip).tree, layout.GOAL)
    if ours is not None and ours[0] == layout.MODE_FILE and theirs is None:
        return {layout.GOAL: ours[1]}
    return {}


def _our_history(
    r: Repo, branch_ref: Ref, tip: ObjectID | None, *, joining: bool
) -> tuple[ObjectID | None, ObjectID | None]:
    """Our local branch and the remote commit it was built on (a join starts from the tip)."""
    if joining and tip is not None:
        return tip, tip
    ours = r.refs[branch_ref] if branch_ref in r.refs else None
    if ours is not None and ours not in r.object_store:
        ours = None
    return ours, r.refs[layout.UPSTREAM] if layout.UPSTREAM in r.refs else None


def _choose_parent(
    r: Repo, ours: ObjectID | None, upstream: ObjectID | None, tip: ObjectID | None, device: str
) -> tuple[ObjectID | None, dict[str, ObjectID]]:
    """The commit to build on, and our unpushed edits to replay onto it."""
    if tip is None or ours is None or ours == tip:
        return (ours if tip is None else tip), {}
    if _reaches(r, ours, tip):
        return ours, {}  # our unpushed commits sit on the remote tip: push them as they are
    return tip, _pending(r, upstream, ours, tip, [layout.device_file(device), layout.GOAL])


def _reaches(r: Repo, start: ObjectID, target: ObjectID, limit: int = 64) -> bool:
    """True if `target` is on the first-parent chain of `start` within `limit` commits."""
    current: ObjectID | None = start
    for _ in range(limit):
        if current is None:
            return False
        if current == target:
            return True
        try:
            parents = objects.commit(r, current).parents
        except KeyError:
            return False
        current = parents[0] if parents else None
    return False


def _pending(
    r: Repo, upstream: ObjectID | None, ours: ObjectID, tip: ObjectID, paths: Sequence[str]
) -> dict[str, ObjectID]:
    """Our unpushed edits to `paths`, as a 3-way merge: ours wins only where the remote tip
    still has what our local commit was built on (another device's newer goal is kept)."""
    base_tree = objects.commit(r, upstream).tree if upstream is not None and upstream in r.object_store else None
    our_tree = objects.commit(r, ours).tree
    tip_tree = objects.commit(r, tip).tree
    result: dict[str, ObjectID] = {}
    for path in paths:
        mine = objects.entry(r, our_tree, path)
        base = objects.entry(r, base_tree, path)
        theirs = objects.entry(r, tip_tree, path)
        if mine is None or mine == base or mine == theirs or mine[0] not in (layout.MODE_FILE, layout.MODE_EXEC):
            continue
        if base_tree is not None and theirs != base:
            continue
        result[path] = mine[1]
    return result


def _check_guard(r: Repo, base_tree: ObjectID | None, changes: Mapping[str, bytes], guard: Guard) -> None:
    """Checked against the very tip we build on, on every attempt: a file that another machine
    pushed since the caller looked is refused here, not overwritten."""
    for file_path in changes:
        found = objects.entry(r, base_tree, file_path)
        if found is not None:
            content, _ = objects.read_capped_blob(r, found[0], found[1], file_path)
            if content is not None:
                guard(file_path, content)


def _tree_edits(
    r: Repo, base_tree: ObjectID | None, kept: Mapping[str, ObjectID], edit: _Edit, *, fresh: bool
) -> dict[tuple[str, ...], ObjectID | None]:
    """Path parts -> new blob (None: remove): carried and replayed files, retired names, our
    changes, and a README in a repository's first commit."""
    blobs: dict[tuple[str, ...], ObjectID | None] = {}
    for file_path, sha in kept.items():
        blobs[tuple(file_path.split("/"))] = sha
    for file_path, expected in edit.retire.items():
        # Only the very file we were shown: a newer one there is not ours to remove.
        if objects.entry(r, base_tree, file_path) == (layout.MODE_FILE, expected):
            blobs[layout.check_path(file_path)] = None
    for file_path, content in edit.changes.items():
        blob = Blob.from_string(content)
        r.object_store.add_object(blob)
        blobs[layout.check_path(file_path)] = blob.id
    if fresh and ("README.md",) not in blobs:
        readme = Blob.from_string(layout.README_TEXT)
        r.object_store.add_object(readme)
        blobs[("README.md",)] = readme.id
    return blobs


def _commit(
    r: Repo, parent: ObjectID | None, base_tree: ObjectID | None, new_tree: ObjectID, edit: _Edit
) -> tuple[ObjectID, bool]:
    """A commit of `new_tree` on `parent`, or `parent` itself when nothing changed; and whether
    a commit was made. The author is fixed, never the user's identity (DESIGN.md §4)."""
    if parent is not None and new_tree == base_tree:
        return parent, False
    identity = f"ccsync {edit.device} <{edit.device}@ccsync.invalid>".encode()
    commit = Commit()
    commit.tree = new_tree
    commit.parents = [parent] if parent is not None else []
    commit.author = commit.committer = identity
    commit.author_time = commit.commit_time = int(time.time())
    commit.author_timezone = commit.commit_timezone = 0
    commit.message = edit.message
    r.object_store.add_object(commit)
    return commit.id, True


def _record_push(r: Repo, remote: str, branch: str, new: ObjectID, *, joining: bool, first: bool) -> None:
    """The remote has `new`: track it, build on it next time, and (once a join went through)
    remember this remote."""
    local.set_tracking(r, branch, new)
    r.refs[layout.UPSTREAM] = new
    if joining:
        local.config_set(r, {b"remote": remote, b"branch": branch})
    if first:
        local.point_local_remote_head(remote, layout.branch_ref(branch))


def _jitter(failures: int) -> float:
    return random.uniform(0.01, min(1.0, 0.04 * 2 ** min(failures, 5)))
