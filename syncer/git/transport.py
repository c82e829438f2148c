"""Talking to the remote: fetch, the compare-and-swap push, and what dulwich says meanwhile.

Everything dulwich says (progress, server messages, log records, exception text) is captured
and passed through a `Scrubber` before it can reach an error message. dulwich traps handled
here (DESIGN.md §4): a refused push returns normally (the per-ref status is checked), and a
fetch trusts the server's pack (the tip's objects are checked).
"""

from __future__ import annotations

import errno
import logging
import re
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import urllib3
import urllib3.exceptions
from dulwich.client import (
    FetchPackResult,
    GitClient,
    HTTPProxyUnauthorized,
    HTTPUnauthorized,
    LocalGitClient,
    SSHGitClient,
    SubprocessSSHVendor,
    SubprocessWrapper,
    default_urllib3_manager,
    get_transport_and_path,
)
from dulwich.errors import (
    ApplyDeltaError,
    ChecksumMismatch,
    GitProtocolError,
    NotGitRepository,
    ObjectFormatException,
)
from dulwich.file import FileLocked
from dulwich.object_store import MissingObjectFinder
from dulwich.objects import ObjectID, ShaFile
from dulwich.pack import UnpackedObject
from dulwich.refs import Ref
from dulwich.repo import BaseRepo, Repo

from syncer.errors import CcsyncError, DiskError, RemoteCorrupt, RemoteRefused, RemoteUnavailable
from syncer.git import incoming, layout, limits, local, objects
from syncer.git.layout import DEFAULT_BRANCH
from syncer.git.limits import NETWORK_TIMEOUT, at_deadline, bounded, ssh_options
from syncer.git.locks import LockRecovery
from syncer.git.size import MALFORMED, object_header
from syncer.git.urls import Scrubber, local_remote_path, redact, validate_remote

# dulwich logs through the `logging` module; with no handler configured, Python's last-resort
# handler would print its warnings (which can include URLs) straight to stderr. Keep them here.
_dulwich_log = logging.getLogger("dulwich")
_dulwich_log.addHandler(logging.NullHandler())
_dulwich_log.propagate = False

# ---------------------------------------------------------------------------------------------
# Capturing what dulwich says


@dataclass
class Capture:
    scrub: Scrubber
    lines: list[str] = field(default_factory=list)

    def progress(self, data: bytes) -> None:
        text = data.decode("utf-8", "replace")
        for line in re.split(r"[\r\n]+", text):
            line = line.strip()
            if line:
                self.lines.append(self.scrub(line))
        del self.lines[:-50]

    def last(self) -> str:
        return self.lines[-1] if self.lines else ""


class _CaptureHandler(logging.Handler):
    def __init__(self, capture: Capture) -> None:
        super().__init__(logging.DEBUG)
        self._capture = capture
        self._thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        if threading.get_ident() == self._thread and record.levelno >= logging.WARNING:
            try:
                self._capture.progress(record.getMessage().encode("utf-8", "replace"))
            except Exception:  # a log record that cannot format must not break a sync
                pass


@contextmanager
def captured(scrub: Scrubber) -> Iterator[Capture]:
    capture = Capture(scrub)
    handler = _CaptureHandler(capture)
    _dulwich_log.addHandler(handler)
    try:
        yield capture
    finally:
        _dulwich_log.removeHandler(handler)



TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    GitProtocolError,
    NotGitRepository,
    HTTPUnauthorized,
    HTTPProxyUnauthorized,
    urllib3.exceptions.HTTPError,
    ObjectFormatException,
    ChecksumMismatch,
    ApplyDeltaError,
)


def describe(exc: BaseException) -> str:
    if isinstance(exc, HTTPUnauthorized):
        return "authentication was refused (check CCSYNC_GIT_TOKEN and its access to this repository)"
    if isinstance(exc, HTTPProxyUnauthorized):
        return "the HTTP proxy refused our credentials"
    if isinstance(exc, NotGitRepository):
        return "it is not a git repository (for a local remote, create it with: ccsync init)"
    text = " ".join(str(exc).split())
    if isinstance(exc, TimeoutError | urllib3.exceptions.TimeoutError) or "no answer before the deadline" in text:
        return "the server did not answer in time"
    errno_reason = re.search(r"\[Errno -?\d+\] ([^\"'()]+)", text)
    if errno_reason and (
        isinstance(exc, ConnectionError | urllib3.exceptions.HTTPError | socket.gaierror) or "Max retries" in text
    ):
        # urllib3 and socket errors repeat the whole request; the OS reason is the useful part.
        return f"could not connect ({errno_reason.group(1).strip()})"
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}" + (f": {exc.filename}" if exc.filename else "")
    if isinstance(exc, GitProtocolError):
        # dulwich's class names (HangupException) mean nothing to a user; its text does.
        return text.rstrip(".") or "the connection was closed by the remote"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def unavailable(remote: str, what: str, capture: Capture) -> RemoteUnavailable:
    detail = capture.last()
    line = f"sync remote {remote} unavailable: {what}"
    if detail and detail not in line:
        line += f" (remote said: {detail})"
    line += "; local data is saved and the next run retries"
    return RemoteUnavailable(capture.scrub(" ".join(line.split())))


def failure(remote: str, exc: BaseException, capture: Capture) -> CcsyncError:
    """The error a transport failure ends the run with: temporary (75) unless retrying alone
    cannot help, which is a configuration error (78) naming the fix."""
    local = local_remote_path(remote)
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        where = f" writing {exc.filename}" if exc.filename else ""
        return DiskError(
            f"{exc.strerror or 'disk error'}{where} during a sync with {remote}; the ledger is saved and the "
            "local copy of the sync repo stays usable. Free some space and run: ccsync sync"
        )
    if isinstance(exc, incoming.PackTooLarge):
        return RemoteCorrupt(
            f"sync remote {remote} sent more than {limits.MAX_INCOMING_PACK} bytes in one fetch, which no device "
            "takes in; nothing was fetched and local data is saved. A sync repo holds only small files: check "
            "what was pushed to it"
        )
    if isinstance(exc, HTTPUnauthorized | HTTPProxyUnauthorized):
        return RemoteRefused(capture.scrub(
            f"sync remote {remote} refused our credentials: {describe(exc)}; local data is saved. Set a token "
            "with read and write access in CCSYNC_GIT_TOKEN (or git's credential store), then run: ccsync sync"
        ))
    if isinstance(exc, PermissionError):
        where = exc.filename or remote
        return RemoteRefused(capture.scrub(
            f"permission denied on {where}; local data is saved. Give your user read and write access to it "
            f"(chmod -R u+rwX {where}), then run: ccsync sync"
        ))
    if local is not None and isinstance(exc, NotGitRepository | FileNotFoundError) and not local.exists():
        return RemoteRefused(
            f"sync remote {local} is missing (an unplugged disk or an unmounted share?); local data is saved. "
            "Plug it in and run ccsync sync, or name another remote with: ccsync init --remote URL"
        )
    return unavailable(remote, describe(exc), capture)


def client_for(
    remote: str, credentials: tuple[str, str] | None, ssh_command: str | None, timeout: float = NETWORK_TIMEOUT
) -> tuple[GitClient, str]:
    """A client for `remote` whose every connect and read gives up after `timeout` seconds."""
    local_path = local_remote_path(remote)
    if local_path is not None:
        # Built directly: get_transport_and_path would read a path containing ":" as ssh.
        return CappedLocalClient(), str(local_path)
    scheme = urlsplit(remote).scheme.lower() if "://" in remote else "ssh"
    username, password = credentials if credentials and scheme in {"http", "https"} else (None, None)
    ssh = f"{ssh_command or 'ssh'} {ssh_options(timeout)}" if scheme in {"ssh", "git+ssh"} else None
    client, path = get_transport_and_path(
        remote,
        config=None,  # never the user's ~/.gitconfig: no insteadOf or extraHeader surprises
        quiet=True,
        username=username,
        password=password,
        ssh_command=ssh,
        pool_manager=_http_pool(remote, timeout) if scheme in {"http", "https"} else None,
    )
    if isinstance(client, SSHGitClient):
        client.ssh_vendor = _EndingSSHVendor()
    return client, path


class CappedLocalClient(LocalGitClient):
    """A folder remote whose objects are copied one by one, each size read from its header
    first: dulwich's own local fetch inflates every object into a pack, so a peer's 1 GiB blob
    of zeros (1 MB on disk) would cost a gigabyte of memory on every device. An object over
    MAX_DEVICE_FILE is left behind and counted in `dropped`; readers then skip that device's
    file with a warning, as they would if it had arrived."""

    def __init__(self) -> None:
        super().__init__(quiet=True)
        self.dropped = 0

    def fetch(  # noqa: PLR0913 - dulwich's signature; depth, filters and shallow are never asked for
        self,
        path: bytes | str,
        target: BaseRepo,
        determine_wants: Any = None,
        progress: Any = None,
        depth: int | None = None,
        ref_prefix: Any = None,
        filter_spec: bytes | None = None,
        protocol_version: int | None = None,
        shallow_since: str | None = None,
        shallow_exclude: list[str] | None = None,
    ) -> FetchPackResult:
        with self._open_repo(path) as source:
            refs = source.get_refs()
            wants = determine_wants(refs, None) if determine_wants else [s for s in refs.values() if s]
            haves = [sha for sha in target.refs.as_dict().values() if sha in source.object_store]
            copied: list[tuple[ShaFile, str | None]] = []
            for sha, _hint in MissingObjectFinder(source.object_store, haves, wants):
                try:
                    header = object_header(source, sha)
                except MALFORMED:
                    header = None  # unreadable here: dulwich reports it properly below
                if header is not None and header[1] > limits.MAX_DEVICE_FILE:
                    self.dropped += 1
                    continue
                copied.append((source.object_store[sha], None))
            if copied:
                target.object_store.add_objects(copied)
            return FetchPackResult(dict(refs), source.refs.get_symrefs(), None)


def _fetch_capped(
    client: GitClient, path: str, r: Repo, wants: Callable[..., list[ObjectID]], progress: Callable[[bytes], None]
) -> tuple[FetchPackResult, int]:
    """Fetch what `wants` asks for, leaving out every object over MAX_DEVICE_FILE before it is
    inflated; the number left out. Over the network the pack is kept on disk (at most
    MAX_INCOMING_PACK bytes) and filtered before dulwich indexes it (see `incoming`)."""
    if isinstance(client, CappedLocalClient):
        before = client.dropped
        return client.fetch(path, r, determine_wants=wants, progress=progress), client.dropped - before
    where = r.object_store.path
    with tempfile.TemporaryFile(dir=where) as raw:
        sink = incoming.CappedSink(raw, limits.MAX_INCOMING_PACK)
        result = client.fetch_pack(path, wants, r.get_graph_walker(), sink.write, progress=progress)
        if not sink.size:
            return result, 0
        raw.seek(0)
        return result, incoming.take_in(raw, r.object_store, limits.MAX_DEVICE_FILE, progress)


class _EndingSSHVendor(SubprocessSSHVendor):
    """The user's ssh, killed at the deadline: dulwich would wait a minute for it to exit."""

    def run_command(self, *args: Any, **kwargs: Any) -> SubprocessWrapper:
        wrapper = super().run_command(*args, **kwargs)
        at_deadline(wrapper.proc.kill)
        return wrapper


def _http_pool(remote: str, timeout: float) -> urllib3.PoolManager:
    # No callbacks given, so dulwich returns a plain (or proxy) pool manager.
    return cast(urllib3.PoolManager, default_urllib3_manager(None, base_url=remote, timeout=timeout))


def remote_tip(
    remote: str,
    *,
    credentials: tuple[str, str] | None = None,
    ssh_command: str | None = None,
    timeout: float = NETWORK_TIMEOUT,
    branch: str | None = None,
) -> str | None:
    """The hex sha the remote's branch points at (one look at its refs, no objects), or None."""
    remote = validate_remote(remote)
    scrub = Scrubber(credentials)
    with captured(scrub) as capture, bounded(timeout):
        try:
            client, path = client_for(remote, credentials, ssh_command, timeout)
            refs = client.get_refs(path.encode()).refs
        except TRANSPORT_ERRORS as exc:
            raise failure(redact(remote), exc, capture) from None
    chosen = _choose_branch(refs, branch)
    sha = refs.get(layout.branch_ref(chosen)) if chosen else None
    return sha.decode() if sha else None


# ---------------------------------------------------------------------------------------------
# Fetch


def _choose_branch(refs: Mapping[Ref, ObjectID | None], preferred: str | None) -> str | None:
    heads = {
        ref[len(b"refs/heads/") :].decode("utf-8", "replace"): sha
        for ref, sha in refs.items()
        if ref.startswith(b"refs/heads/") and sha
    }
    if not heads:
        return None
    if preferred in heads:
        return preferred
    head = refs.get(Ref(b"HEAD"))
    matching = sorted(name for name, sha in heads.items() if head and sha == head)
    for candidates in (matching, sorted(heads)):
        for name in (DEFAULT_BRANCH, "master"):
            if name in candidates:
                return name
        if candidates:
            return candidates[0]
    return None


def _safe_branch(name: str) -> bool:
    return (
        re.fullmatch(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*", name) is not None
        and ".." not in name
        and not name.endswith(".lock")
    )


@dataclass(frozen=True)
class Fetched:
    branch: str
    tip: ObjectID | None


def fetch_into(r: Repo, client: GitClient, path: str, capture: Capture, preferred: str | None) -> Fetched:
    chosen: list[str | None] = [preferred]
    wanted: list[ObjectID | None] = [None]

    def wants(refs: Mapping[Ref, ObjectID], depth: int | None = None) -> list[ObjectID]:
        # Remember the sha we asked for: the refs a fetch returns may be re-read afterwards
        # (dulwich's local client does) and can already name a newer commit we do not have.
        branch = _choose_branch(refs, chosen[0])
        chosen[0] = branch
        wanted[0] = None
        if branch is None or not _safe_branch(branch):
            return []
        sha = refs[layout.branch_ref(branch)]
        wanted[0] = sha
        return [] if sha in r.object_store else [sha]

    result, dropped = _fetch_capped(client, path, r, wants, capture.progress)
    head_target = result.symrefs.get(Ref(b"HEAD"))
    if head_target and head_target.startswith(b"refs/heads/") and result.refs.get(head_target):
        # The server named its default branch: follow it (a second, usually empty, fetch).
        named = head_target[len(b"refs/heads/") :].decode("utf-8", "replace")
        if named != chosen[0] and _safe_branch(named):
            chosen[0] = named
            dropped += _fetch_capped(client, path, r, wants, capture.progress)[1]
    branch = chosen[0]
    if branch is None:
        return Fetched(preferred if preferred and _safe_branch(preferred) else DEFAULT_BRANCH, None)
    if not _safe_branch(branch):
        raise ObjectFormatException(f"the remote's branch name {branch!r} is not one ccsync will use")
    tip = wanted[0]
    if tip is None:
        return Fetched(branch, None)
    _verify_tip(r, tip, dropped)
    local.set_tracking(r, branch, tip)
    return Fetched(branch, tip)


def _verify_tip(r: Repo, tip: ObjectID, dropped: int) -> None:
    """dulwich trusts the server's pack: check the objects we will read really arrived. A file
    missing because it was left out as too large (one of the `dropped` this fetch, or an earlier
    one) is remembered, and read as skipped; anything else missing fails the fetch."""
    if tip not in r.object_store:
        raise ObjectFormatException(f"fetch finished but the remote tip {tip.decode()} did not arrive")
    commit = objects.commit(r, tip)
    missing = [parent for parent in commit.parents[:1] if parent not in r.object_store]
    if commit.tree not in r.object_store:
        raise ObjectFormatException(f"fetch finished but the tree of {tip.decode()} did not arrive")
    files: list[ObjectID] = []  # missing entries whose readers skip them: files, or folders inside data/
    for item in objects.tree(r, commit.tree).iteritems():
        if item.mode == layout.MODE_GITLINK:
            continue  # a submodule's commit is never in this repository
        if item.sha not in r.object_store:
            (missing if item.mode == layout.MODE_TREE else files).append(item.sha)
        elif item.path == b"data" and item.mode == layout.MODE_TREE:
            for sub in objects.tree(r, item.sha).iteritems():
                if sub.mode != layout.MODE_GITLINK and sub.sha not in r.object_store:
                    files.append(sub.sha)
    left_out = local.left_out(r)
    unexplained = [sha for sha in files if sha not in left_out]
    if len(unexplained) > dropped:
        missing += unexplained
    if missing:
        raise ObjectFormatException(
            f"fetch finished but {len(missing)} objects of {tip.decode()} did not arrive (first {missing[0].decode()})"
        )
    if unexplained:
        local.remember_left_out(r, unexplained)


def fetch(
    repo: Path,
    remote: str,
    *,
    credentials: tuple[str, str] | None = None,
    ssh_command: str | None = None,
    timeout: float = NETWORK_TIMEOUT,
) -> str | None:
    """Fetch the remote's branch into the local copy; the tip's hex sha, or None if it is empty."""
    remote = validate_remote(remote)
    scrub = Scrubber(credentials)
    locks = LockRecovery(repo, remote)
    with captured(scrub) as capture, bounded(timeout):
        r = local.open_local(repo)
        try:
            client, path = client_for(remote, credentials, ssh_command, timeout)
            while True:
                try:
                    fetched = fetch_into(r, client, path, capture, local.config_get(r, b"branch"))
                    break
                except FileLocked as exc:
                    locks.recover(exc)
            return fetched.tip.decode() if fetched.tip is not None else None
        except TRANSPORT_ERRORS as exc:
            raise failure(redact(remote), exc, capture) from None
        finally:
            r.close()


# ---------------------------------------------------------------------------------------------
# Push


@dataclass(frozen=True)
class Pushed:
    done: bool
    """The remote's branch now points at our commit."""
    refused: str | None = None
    """Why the remote refused; None when it was not refused (or had simply moved on: a race)."""


def push(
    r: Repo, client: GitClient, path: str, branch_ref: Ref, *, old: ObjectID | None, new: ObjectID, capture: Capture
) -> Pushed:
    """Move the remote's `branch_ref` from `old` to `new` (compare-and-swap), never forcing."""
    declined: list[bool] = []

    def update_refs(refs: dict[Ref, ObjectID]) -> dict[Ref, ObjectID]:
        # Compare-and-swap: only move the branch if it is still where we built on. The server
        # checks the old value again under its own lock, so a race after this point fails too.
        if refs.get(branch_ref) != old:
            declined.append(True)
            return {}
        return {branch_ref: new}

    def pack_data(
        have: AbstractSet[ObjectID],
        want: AbstractSet[ObjectID],
        *,
        ofs_delta: bool = False,
        progress: Callable[[bytes], None] | None = None,
    ) -> tuple[int, Iterator[UnpackedObject]]:
        return r.generate_pack_data(set(have), set(want), ofs_delta=ofs_delta)

    result = client.send_pack(path.encode(), update_refs, pack_data, progress=capture.progress)
    if declined:
        return Pushed(False)
    status = result.ref_status
    if status is None or branch_ref not in status:
        # No per-ref report (a server without report-status; dulwich's local client reports
        # failures only): believe only what a fresh look at the remote's refs says.
        refs = client.get_refs(path.encode()).refs
        return Pushed(True) if refs.get(branch_ref) == new else Pushed(False, "the remote did not confirm the update")
    error = status[branch_ref]
    return Pushed(True) if error is None else Pushed(False, capture.scrub(" ".join(str(error).split())))
