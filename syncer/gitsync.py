"""The git boundary: the sync repo's local bare copy, fetch, compare-and-swap push, offline reads.

This is the only module that imports dulwich (STYLE.md habit 2). It never shells out to git and
never checks out a working tree: trees are read and built in memory from dulwich objects
(DESIGN.md §4). Everything dulwich says (progress, server messages, log records, exception
text) is captured and passed through `redact` before it can reach an error message.

Concurrency model: the caller holds the state-folder lock, so one process at a time writes the
local repository; any number of devices may push to the remote at once, and the remote's own
ref update is the compare-and-swap that keeps every device's file.
"""

from __future__ import annotations

import base64
import logging
import os
import random
import re
import socket
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

import urllib3.exceptions
from dulwich.client import (
    GitClient,
    HTTPProxyUnauthorized,
    HTTPUnauthorized,
    LocalGitClient,
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
from dulwich.objects import Blob, Commit, ObjectID, Tree
from dulwich.pack import UnpackedObject
from dulwich.refs import Ref
from dulwich.repo import Repo

from syncer.errors import ConfigError, RemoteUnavailable

__all__ = [
    "DEFAULT_BRANCH",
    "MAX_DEVICE_FILE",
    "README_TEXT",
    "Snapshot",
    "SyncResult",
    "credentials_for",
    "fetch",
    "init_bare_remote",
    "open_repo",
    "redact",
    "snapshot",
    "sync_files",
    "validate_remote",
]

MAX_DEVICE_FILE = 16 * 1024 * 1024
"""Largest device file (and goal.json) we will read from the sync repo: untrusted input."""

DEFAULT_BRANCH = "main"
DEVICE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
STALE_LOCK_SECONDS = 10.0
"""A git lock file older than this was left by a killed process: ref and object writes take
milliseconds. Younger ones are waited for, never broken."""

# Default for ssh remotes: a cron job must fail, not hang on a password or host-key prompt.
DEFAULT_SSH_COMMAND = "ssh -o BatchMode=yes"

README_TEXT = b"""\
# ccsync sync repo

This repository is written by [ccsync](https://pypi.org/project/ccsync/), which keeps a
permanent ledger of the tokens your AI coding CLIs spend, one ledger per machine.

- `data/<device-id>.json` - one file per device, written only by that device. Aggregates only
  (token counts per hour, model, project, session); no prompts, no code.
- `goal.json` - the shared goal (a target and a date), set with `ccsync goal set`.

Do not edit these files by hand: each device rewrites its own file on every sync, and
`ccsync total` skips files that do not validate. Commits are made by `ccsync <device>`.
"""

_TRACKING_PREFIX = "refs/remotes/origin/"
_TRACKING_HEAD = Ref(b"refs/remotes/origin/HEAD")
_UPSTREAM = Ref(b"refs/ccsync/upstream")
"""The remote commit our local branch was last built on: the base of the 3-way replay."""

_MODE_FILE = 0o100644
_MODE_EXEC = 0o100755
_MODE_TREE = 0o040000
_MODE_LINK = 0o120000
_MODE_GITLINK = 0o160000

_OBJ_COMMIT, _OBJ_TREE, _OBJ_BLOB = 1, 2, 3
_LOOSE_TYPES = {b"commit": 1, b"tree": 2, b"blob": 3, b"tag": 4}
_OFS_DELTA, _REF_DELTA = 6, 7

_LOCAL_SCHEMES = {"file"}
_REMOTE_SCHEMES = {"http", "https", "ssh", "git+ssh", "git"}
_SCP_LIKE = re.compile(r"^(?:(?P<user>[^@/\s]+)@)?(?P<host>[^:/\s]+):(?P<path>.*)$")
_URL_USERINFO = re.compile(r"(?i)\b(?P<scheme>[a-z][a-z0-9+.\-]*)://(?P<userinfo>[^/\s@]*)@")
_URL_QUERY = re.compile(r"(?i)\b(?P<url>[a-z][a-z0-9+.\-]*://[^\s?#]*)[?#][^\s]*")
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}

# dulwich logs through the `logging` module; with no handler configured, Python's last-resort
# handler would print its warnings (which can include URLs) straight to stderr. Keep them here.
_dulwich_log = logging.getLogger("dulwich")
_dulwich_log.addHandler(logging.NullHandler())
_dulwich_log.propagate = False


@dataclass(frozen=True)
class SyncResult:
    committed: bool
    """We made a new commit (our blob changed)."""
    pushed: bool
    """The remote now has our commit."""
    attempts: int
    tip: str
    """Hex sha of the remote tip after the sync."""


@dataclass(frozen=True)
class Snapshot:
    files: dict[str, bytes]
    """Device id -> raw bytes of data/<id>.json (only entries that pass the structural checks)."""
    goal: bytes | None
    warnings: list[str]
    tip: str | None


# ---------------------------------------------------------------------------------------------
# URLs, credentials, redaction


def redact(text: str) -> str:
    """Strip credentials from every URL in `text`.

    http(s) userinfo is always a secret (`token@host` is how tokens are passed), so it all goes;
    elsewhere (`ssh://git@host`) only a password part is removed.
    """

    def _sub(match: re.Match[str]) -> str:
        scheme = match.group("scheme")
        userinfo = match.group("userinfo")
        if scheme.lower() in {"http", "https", "ftp", "ftps"}:
            return f"{scheme}://***@"
        if ":" in userinfo:
            return f"{scheme}://{userinfo.split(':', 1)[0]}:***@"
        return match.group(0)

    # A query string is where some services take a token (`?access_token=`).
    return _URL_QUERY.sub(r"\g<url>?***", _URL_USERINFO.sub(_sub, text))


def _is_local_path(url: str) -> bool:
    """git's rule: no scheme, and either no colon or a slash before the first colon."""
    if "://" in url:
        return False
    colon = url.find(":")
    if colon < 0:
        return True
    if os.name == "nt" and colon == 1 and url[0].isalpha():
        return True
    slash = url.find("/")
    return 0 <= slash < colon


def validate_remote(url: str) -> str:
    """Check and normalise a remote URL; credentials embedded in it are a ConfigError.

    Accepted: a local path (made absolute), file://, https://, http://, ssh://, user@host:path,
    git://. Tokens belong in the environment (CCSYNC_GIT_TOKEN), never in the URL, because the
    URL is stored in the config file and shown in status output.
    """
    url = url.strip()
    if not url:
        raise ConfigError("the remote URL is empty; give one with: ccsync init --remote URL")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise ConfigError("the remote URL contains control characters; check it and run ccsync init --remote URL")
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*::", url):
        raise ConfigError(f"remote {redact(url)} names a git transport helper, which ccsync does not run")
    fix = "; remove them and put the token in CCSYNC_GIT_TOKEN instead, then run: ccsync init --remote URL"
    if _is_local_path(url):
        return os.path.abspath(os.path.expanduser(url))
    if "://" in url:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if parts.query or parts.fragment:
            raise ConfigError(f"remote {redact(url)} has a query string or fragment{fix}")
        if scheme in _LOCAL_SCHEMES:
            if parts.netloc not in ("", "localhost"):
                raise ConfigError("the remote names a host in a file:// URL; use file:///absolute/path")
            if not parts.path.startswith("/"):
                raise ConfigError(f"remote {redact(url)} needs an absolute path: file:///absolute/path")
            return url
        if scheme not in _REMOTE_SCHEMES:
            raise ConfigError(
                f"remote {redact(url)} uses an unsupported scheme {scheme!r}; "
                "use a path, file://, https://, ssh://, user@host:path or git://"
            )
        host = parts.hostname or ""
        if not host or host.startswith("-"):
            raise ConfigError(f"remote {redact(url)} has no valid host name")
        if scheme in {"http", "https"} and (parts.username is not None or parts.password is not None):
            raise ConfigError(f"remote {redact(url)} embeds credentials{fix}")
        if parts.password is not None:
            raise ConfigError(f"remote {redact(url)} embeds a password{fix}")
        if scheme == "git" and parts.username is not None:
            raise ConfigError(f"remote {redact(url)}: git:// URLs take no user name")
        return url
    match = _SCP_LIKE.match(url)
    if match is None:
        raise ConfigError(f"remote {redact(url)} is not a path or URL git understands")
    user = match.group("user") or ""
    if ":" in user:
        shown = f"{user.split(':', 1)[0]}:***@{match.group('host')}:{match.group('path')}"
        raise ConfigError(f"remote {shown} embeds a password{fix}")
    if match.group("host").startswith("-") or user.startswith("-"):
        raise ConfigError(f"remote {redact(url)} has no valid host name")
    return url


def credentials_for(url: str, env: Mapping[str, str]) -> tuple[str, str] | None:
    """Username and password for an https remote, from the environment or git's credential store.

    Order: CCSYNC_GIT_TOKEN (user CCSYNC_GIT_USERNAME, default "x-access-token"), GIT_TOKEN,
    GITHUB_TOKEN (only for github.com, so a GitHub token is never sent elsewhere), then the
    files of git's `store` credential helper ($HOME/.git-credentials,
    $XDG_CONFIG_HOME/git/credentials). dulwich 1.2.21 cannot run other credential helpers
    (osxkeychain, libsecret, manager) without shelling out to git, which ccsync does not do.
    Plain http gets credentials only on loopback: a token is never sent in clear text.
    """
    if "://" not in url:
        return None
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme != "https" and not (scheme == "http" and host in _LOOPBACK):
        return None
    username = env.get("CCSYNC_GIT_USERNAME") or "x-access-token"
    for name in ("CCSYNC_GIT_TOKEN", "GIT_TOKEN"):
        token = env.get(name)
        if token:
            return (username, token)
    token = env.get("GITHUB_TOKEN")
    if token and (host == "github.com" or host.endswith(".github.com")):
        return (username, token)
    return _credentials_from_store(scheme, host, parts.path, env)


def _credentials_from_store(scheme: str, host: str, path: str, env: Mapping[str, str]) -> tuple[str, str] | None:
    files: list[Path] = []
    if env.get("HOME"):
        files.append(Path(env["HOME"]) / ".git-credentials")
    xdg = env.get("XDG_CONFIG_HOME") or (str(Path(env["HOME"]) / ".config") if env.get("HOME") else "")
    if xdg:
        files.append(Path(xdg) / "git" / "credentials")
    for file in files:
        try:
            lines = file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        for line in lines:
            entry = urlsplit(line.strip())
            if entry.scheme != scheme or (entry.hostname or "").lower() != host:
                continue
            if entry.path not in ("", "/") and not path.startswith(entry.path):
                continue
            if entry.username and entry.password:
                return (unquote(entry.username), unquote(entry.password))
    return None


class _Scrubber:
    """Redacts URLs and also the literal secrets of this call, wherever dulwich put them."""

    def __init__(self, credentials: tuple[str, str] | None) -> None:
        self._secrets: list[str] = []
        if credentials is not None:
            user, password = credentials
            pair = f"{user}:{password}"
            for secret in (password, base64.b64encode(pair.encode()).decode(), pair):
                if len(secret) >= 4:
                    self._secrets.append(secret)
            self._secrets.sort(key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return redact(text)


# ---------------------------------------------------------------------------------------------
# Capturing what dulwich says


@dataclass
class _Capture:
    scrub: _Scrubber
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
    def __init__(self, capture: _Capture) -> None:
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
def _captured(scrub: _Scrubber) -> Iterator[_Capture]:
    capture = _Capture(scrub)
    handler = _CaptureHandler(capture)
    _dulwich_log.addHandler(handler)
    try:
        yield capture
    finally:
        _dulwich_log.removeHandler(handler)


_TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
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


_UNREADABLE: tuple[type[Exception], ...] = (KeyError, OSError, ObjectFormatException, ChecksumMismatch, ApplyDeltaError)
"""What reading a damaged or missing object from the local copy can raise."""
_UNREADABLE_BLOB: tuple[type[Exception], ...] = (*_UNREADABLE, IndexError, ValueError, zlib.error)
"""... plus what our own object-header parser raises on a malformed header."""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, HTTPUnauthorized):
        return "authentication was refused (check CCSYNC_GIT_TOKEN and its access to this repository)"
    if isinstance(exc, HTTPProxyUnauthorized):
        return "the HTTP proxy refused our credentials"
    if isinstance(exc, NotGitRepository):
        return "it is not a git repository (for a local remote, create it with: ccsync init)"
    text = " ".join(str(exc).split())
    errno_reason = re.search(r"\[Errno -?\d+\] ([^\"'()]+)", text)
    if errno_reason and (
        isinstance(exc, ConnectionError | urllib3.exceptions.HTTPError | socket.gaierror) or "Max retries" in text
    ):
        # urllib3 and socket errors repeat the whole request; the OS reason is the useful part.
        return f"could not connect ({errno_reason.group(1).strip()})"
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}" + (f": {exc.filename}" if exc.filename else "")
    if isinstance(exc, GitProtocolError) and not text:
        text = "the connection was closed by the remote"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _unavailable(remote: str, what: str, capture: _Capture) -> RemoteUnavailable:
    detail = capture.last()
    line = f"sync remote {remote} unavailable: {what}"
    if detail and detail not in line:
        line += f" (remote said: {detail})"
    line += "; local data is saved and the next run retries"
    return RemoteUnavailable(capture.scrub(" ".join(line.split())))


# ---------------------------------------------------------------------------------------------
# Local repositories


def _make_private_dir(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.mkdir(mode=0o700)
    os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask


def open_repo(path: Path) -> None:
    """Create the local bare repository at `path` (mode 0700) if it is missing."""
    _open_local(path)


def _open_local(path: Path) -> Repo:
    try:
        if not path.exists():
            _make_private_dir(path)
            return Repo.init_bare(str(path), default_branch=DEFAULT_BRANCH.encode())
        return Repo(str(path))
    except NotGitRepository:
        raise ConfigError(
            f"{path} exists but is not a git repository; move it aside and run: ccsync sync"
        ) from None


def _is_repository(path: Path, *, otherwise: str) -> bool:
    """True for a git repository, False for a missing or empty folder; anything else is the
    ConfigError `otherwise`."""
    if not (path.is_dir() and any(path.iterdir())):
        return False
    try:
        Repo(str(path)).close()
    except NotGitRepository:
        raise ConfigError(otherwise) from None
    return True


def init_bare_remote(path: Path) -> None:
    """Create the embedded default remote, a bare repository at `path`, if missing."""
    if _is_repository(path, otherwise=f"{path} exists and is not a git repository; move it aside and run: ccsync init"):
        return
    if not path.exists():
        _make_private_dir(path)
    Repo.init_bare(str(path), default_branch=DEFAULT_BRANCH.encode()).close()


def prepare_local_remote(remote: str) -> None:
    """A remote that is a folder (a USB disk, a share) is made a bare repository when it is
    missing or empty, so `ccsync init --remote /media/usb/ccsync.git` is all it takes."""
    local = _local_remote_path(remote)
    if local is None or _is_repository(local, otherwise=(
        f"remote {local} is a folder with files in it but not a git repository; "
        "name a new or empty folder instead: ccsync init --remote NEW-FOLDER"
    )):
        return
    if local.exists() and not local.is_dir():
        raise ConfigError(f"remote {local} is a file, not a git repository; name a folder: ccsync init --remote FOLDER")
    if not local.parent.is_dir():
        # Never create the parents: a missing /media/usb is an unplugged disk, not a typo to fix.
        raise ConfigError(f"cannot create remote {local}: {local.parent} does not exist (is the disk mounted?)")
    try:
        Repo.init_bare(str(local), mkdir=not local.exists(), default_branch=DEFAULT_BRANCH.encode()).close()
    except OSError as exc:
        raise ConfigError(f"cannot create remote {local}: {exc.strerror}") from None


def _local_remote_path(remote: str) -> Path | None:
    if _is_local_path(remote):
        return Path(remote)
    parts = urlsplit(remote)
    if parts.scheme.lower() == "file":
        return Path(unquote(parts.path))
    return None


def _client_for(
    remote: str, credentials: tuple[str, str] | None, ssh_command: str | None
) -> tuple[GitClient, str]:
    local = _local_remote_path(remote)
    if local is not None:
        # Built directly: get_transport_and_path would read a path containing ":" as ssh.
        return LocalGitClient(quiet=True), str(local)
    scheme = urlsplit(remote).scheme.lower() if "://" in remote else "ssh"
    username, password = credentials if credentials and scheme in {"http", "https"} else (None, None)
    return get_transport_and_path(
        remote,
        config=None,  # never the user's ~/.gitconfig: no insteadOf or extraHeader surprises
        quiet=True,
        username=username,
        password=password,
        ssh_command=ssh_command or DEFAULT_SSH_COMMAND if scheme in {"ssh", "git+ssh"} else None,
    )


# ---------------------------------------------------------------------------------------------
# Lock files left by killed processes


def _recover_lock(exc: FileLocked, roots: Sequence[Path], deadline: float) -> None:
    """Wait for a git lock file to go away, or break it once it is provably stale.

    Only lock files inside our own repositories (the local copy and a local-path remote) are
    ever removed; anything else is another program's business.
    """
    lock = Path(os.fsdecode(exc.lockfilename)).absolute()
    inside = any(lock.is_relative_to(root.absolute()) for root in roots)
    if not inside or not lock.name.endswith(".lock"):
        raise RemoteUnavailable(f"git lock file {lock} is held by another program; retry later")
    try:
        before = lock.stat()
    except FileNotFoundError:
        return  # released meanwhile
    if time.time() - before.st_mtime >= STALE_LOCK_SECONDS:
        _break_lock(lock, before)
        return
    if time.monotonic() > deadline:
        raise RemoteUnavailable(f"git lock file {lock} stayed locked; another ccsync may be running, retry later")
    time.sleep(random.uniform(0.05, 0.25))


def _break_lock(lock: Path, judged: os.stat_result) -> None:
    # Move it aside first and check it is the same file we judged stale: a plain unlink could
    # delete a fresh lock that another process took a moment ago.
    aside = lock.with_name(f"{lock.name}.stale-{uuid.uuid4().hex}")
    try:
        os.rename(lock, aside)
    except FileNotFoundError:
        return
    now = aside.stat()
    if (now.st_ino, now.st_mtime_ns) != (judged.st_ino, judged.st_mtime_ns):
        try:
            os.link(aside, lock)  # give the fresh lock back unless someone took it again
        except FileExistsError:
            pass
    aside.unlink()


# ---------------------------------------------------------------------------------------------
# Objects


def _read_object(repo: Repo, sha: ObjectID, kind: type[Commit] | type[Tree]) -> Commit | Tree:
    obj = repo.object_store[sha]
    if not isinstance(obj, kind):
        raise ObjectFormatException(
            f"object {sha.decode()} is a {obj.type_name.decode()}, not a {kind.type_name.decode()}"
        )
    return obj


def _commit(repo: Repo, sha: ObjectID) -> Commit:
    obj = _read_object(repo, sha, Commit)
    assert isinstance(obj, Commit)
    return obj


def _tree(repo: Repo, sha: ObjectID) -> Tree:
    obj = _read_object(repo, sha, Tree)
    assert isinstance(obj, Tree)
    return obj


def _entry(repo: Repo, tree_sha: ObjectID | None, path: str) -> tuple[int, ObjectID] | None:
    """(mode, sha) at `path` below tree `tree_sha`, or None."""
    parts = path.split("/")
    current = tree_sha
    for depth, name in enumerate(parts):
        if current is None:
            return None
        tree = _tree(repo, current)
        try:
            mode, sha = tree[name.encode()]
        except KeyError:
            return None
        if depth == len(parts) - 1:
            return (mode, sha)
        current = sha if mode == _MODE_TREE else None
    return None


def _write_tree(
    repo: Repo, tree_sha: ObjectID | None, entries: Mapping[tuple[str, ...], ObjectID | None]
) -> ObjectID:
    """A copy of `tree_sha` with only `entries` (path parts -> blob sha, or None to remove) replaced.

    Untouched entries keep their mode and sha, so other devices' files stay byte-identical.
    Objects are written bottom-up: a tree never exists in the store before its children.
    """
    tree = Tree()
    if tree_sha is not None:
        for item in _tree(repo, tree_sha).iteritems():
            tree.add(item.path, item.mode, item.sha)
    subdirs: dict[str, dict[tuple[str, ...], ObjectID | None]] = {}
    for parts, blob_sha in entries.items():
        if len(parts) > 1:
            subdirs.setdefault(parts[0], {})[parts[1:]] = blob_sha
        elif blob_sha is not None:
            tree.add(parts[0].encode(), _MODE_FILE, blob_sha)
        elif parts[0].encode() in tree:
            del tree[parts[0].encode()]
    for name, sub in subdirs.items():
        existing: ObjectID | None = None
        try:
            mode, sha = tree[name.encode()]
            existing = sha if mode == _MODE_TREE else None
        except KeyError:
            pass
        tree.add(name.encode(), _MODE_TREE, _write_tree(repo, existing, sub))
    repo.object_store.add_object(tree)
    return tree.id


def _object_header(repo: Repo, sha: ObjectID) -> tuple[int | None, int] | None:
    """(type, size) of an object without inflating its body; None if it is not in the store.

    For a delta in a pack the type is None (known only after resolving the chain) and the size
    is the size of the result, read from the delta's own header.
    """
    hexsha = sha.decode("ascii")
    loose = Path(repo.object_store.path) / hexsha[:2] / hexsha[2:]
    try:
        with open(loose, "rb") as f:
            inflater = zlib.decompressobj()
            head = b""
            while b"\0" not in head and len(head) < 64:
                chunk = f.read(256)
                if not chunk:
                    break
                head += inflater.decompress(chunk, 64 - len(head))
            kind, _, size = head.split(b"\0", 1)[0].partition(b" ")
            return (_LOOSE_TYPES.get(kind, 0), int(size))
    except FileNotFoundError:
        pass
    for pack in repo.object_store.packs:
        try:
            offset = pack.index.object_offset(sha)
        except KeyError:
            continue
        with open(pack.data.path, "rb") as f:
            f.seek(offset)
            return _pack_entry_header(f)
    return None


def _pack_entry_header(f: BinaryIO) -> tuple[int | None, int]:
    byte = f.read(1)[0]
    kind = (byte >> 4) & 7
    size = byte & 0x0F
    shift = 4
    while byte & 0x80:
        byte = f.read(1)[0]
        size |= (byte & 0x7F) << shift
        shift += 7
    if kind not in (_OFS_DELTA, _REF_DELTA):
        return (kind, size)
    if kind == _OFS_DELTA:
        byte = f.read(1)[0]
        while byte & 0x80:
            byte = f.read(1)[0]
    else:
        f.read(20)
    inflater = zlib.decompressobj()
    data = inflater.decompress(f.read(64), 32)
    pos = 0
    values: list[int] = []
    while len(values) < 2:  # source size, then result size
        value = shift = 0
        while True:
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        values.append(value)
    return (None, values[1])


def _read_capped_blob(repo: Repo, mode: int, sha: ObjectID, where: str) -> tuple[bytes | None, str | None]:
    """The bytes of a regular-file blob no larger than MAX_DEVICE_FILE, or a warning."""
    if mode == _MODE_LINK:
        return None, f"skipped {where}: a symbolic link, not a regular file"
    if mode == _MODE_TREE:
        return None, f"skipped {where}: a folder, not a file"
    if mode == _MODE_GITLINK:
        return None, f"skipped {where}: a submodule, not a file"
    if mode not in (_MODE_FILE, _MODE_EXEC):
        return None, f"skipped {where}: unexpected file mode {mode:o}"
    try:
        header = _object_header(repo, sha)
        if header is None:
            return None, f"skipped {where}: its object {sha.decode()} is missing from the local copy"
        kind, size = header
        if kind is not None and kind != _OBJ_BLOB:
            return None, f"skipped {where}: not a file object"
        if size > MAX_DEVICE_FILE:
            return None, f"skipped {where}: {size} bytes is over the {MAX_DEVICE_FILE} byte limit"
        kind_num, data = repo.object_store.get_raw(sha)
    except _UNREADABLE_BLOB as exc:
        return None, f"skipped {where}: unreadable object ({type(exc).__name__})"
    if kind_num != _OBJ_BLOB:
        return None, f"skipped {where}: not a file object"
    if len(data) > MAX_DEVICE_FILE:
        return None, f"skipped {where}: {len(data)} bytes is over the {MAX_DEVICE_FILE} byte limit"
    return data, None


# ---------------------------------------------------------------------------------------------
# Reading the last fetched state (offline)


def _tracking_tip(repo: Repo) -> ObjectID | None:
    try:
        _, sha = repo.refs.follow(_TRACKING_HEAD)
    except (KeyError, ValueError):
        return None
    return sha


def snapshot(repo: Path) -> Snapshot:
    """Every device file and the goal from the last fetched remote tip, without the network.

    Structural checks only (regular blob, exact name, size cap); the caller parses and validates
    the JSON. Bad entries become one warning line each and never stop the others.
    """
    if not repo.exists():
        return Snapshot({}, None, [], None)
    r = _open_local(repo)
    try:
        tip = _tracking_tip(r)
        if tip is None:
            return Snapshot({}, None, [], None)
        warnings: list[str] = []
        files: dict[str, bytes] = {}
        goal: bytes | None = None
        try:
            root = _tree(r, _commit(r, tip).tree)
        except _UNREADABLE as exc:
            warnings.append(f"the local copy of the sync repo is damaged ({type(exc).__name__}); run: ccsync sync")
            return Snapshot({}, None, warnings, tip.decode())
        if b"goal.json" in root:
            mode, sha = root[b"goal.json"]
            goal, warning = _read_capped_blob(r, mode, sha, "goal.json")
            if warning:
                warnings.append(warning)
        if b"data" in root:
            mode, sha = root[b"data"]
            if mode != _MODE_TREE:
                warnings.append("skipped data: not a folder")
            else:
                try:
                    data_tree = _tree(r, sha)
                except _UNREADABLE as exc:
                    warnings.append(f"skipped data/: unreadable ({type(exc).__name__})")
                    data_tree = Tree()
                for item in data_tree.iteritems(name_order=True):
                    name = item.path.decode("utf-8", "replace")
                    shown = "data/" + name.encode("unicode_escape").decode("ascii")
                    if name == "README.md" or name.endswith(".schema.json"):
                        continue
                    device = name[: -len(".json")] if name.endswith(".json") else ""
                    if not DEVICE_ID.fullmatch(device) or device + ".json" != name:
                        warnings.append(f"skipped {shown}: not named data/<device-id>.json with a valid device id")
                        continue
                    content, warning = _read_capped_blob(r, item.mode, item.sha, shown)
                    if warning:
                        warnings.append(warning)
                    elif content is not None:
                        files[device] = content
        return Snapshot(files, goal, warnings, tip.decode())
    finally:
        r.close()


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
class _Fetched:
    branch: str
    tip: ObjectID | None


def _fetch_into(r: Repo, client: GitClient, path: str, capture: _Capture, preferred: str | None) -> _Fetched:
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
        sha = refs[Ref(b"refs/heads/" + branch.encode())]
        wanted[0] = sha
        return [] if sha in r.object_store else [sha]

    result = client.fetch(path, r, determine_wants=wants, progress=capture.progress)
    head_target = result.symrefs.get(Ref(b"HEAD"))
    if head_target and head_target.startswith(b"refs/heads/") and result.refs.get(head_target):
        # The server named its default branch: follow it (a second, usually empty, fetch).
        named = head_target[len(b"refs/heads/") :].decode("utf-8", "replace")
        if named != chosen[0] and _safe_branch(named):
            chosen[0] = named
            client.fetch(path, r, determine_wants=wants, progress=capture.progress)
    branch = chosen[0]
    if branch is None:
        return _Fetched(preferred if preferred and _safe_branch(preferred) else DEFAULT_BRANCH, None)
    if not _safe_branch(branch):
        raise ObjectFormatException(f"the remote's branch name {branch!r} is not one ccsync will use")
    tip = wanted[0]
    if tip is None:
        return _Fetched(branch, None)
    _verify_tip(r, tip)
    tracking = Ref((_TRACKING_PREFIX + branch).encode())
    r.refs[tracking] = tip
    if r.refs.read_ref(_TRACKING_HEAD) != b"ref: " + tracking:
        r.refs.set_symbolic_ref(_TRACKING_HEAD, tracking)
    return _Fetched(branch, tip)


def _verify_tip(r: Repo, tip: ObjectID) -> None:
    """dulwich trusts the server's pack: check the objects we will read really arrived."""
    missing: list[ObjectID] = []
    if tip not in r.object_store:
        raise ObjectFormatException(f"fetch finished but the remote tip {tip.decode()} did not arrive")
    commit = _commit(r, tip)
    for parent in commit.parents[:1]:
        if parent not in r.object_store:
            missing.append(parent)
    if commit.tree not in r.object_store:
        raise ObjectFormatException(f"fetch finished but the tree of {tip.decode()} did not arrive")
    root = _tree(r, commit.tree)
    for item in root.iteritems():
        if item.mode == _MODE_GITLINK:
            continue  # a submodule's commit is never in this repository
        if item.sha not in r.object_store:
            missing.append(item.sha)
        elif item.path == b"data" and item.mode == _MODE_TREE:
            for sub in _tree(r, item.sha).iteritems():
                if sub.mode != _MODE_GITLINK and sub.sha not in r.object_store:
                    missing.append(sub.sha)
    if missing:
        raise ObjectFormatException(
            f"fetch finished but {len(missing)} objects of {tip.decode()} did not arrive (first {missing[0].decode()})"
        )


def _config_get(r: Repo, key: bytes) -> str | None:
    try:
        return r.get_config().get((b"ccsync",), key).decode("utf-8")
    except KeyError:
        return None


def _config_set(r: Repo, values: Mapping[bytes, str]) -> None:
    config = r.get_config()
    changed = False
    for key, value in values.items():
        try:
            current: bytes | None = config.get((b"ccsync",), key)
        except KeyError:
            current = None
        if current != value.encode():
            config.set((b"ccsync",), key, value.encode())
            changed = True
    if changed:
        config.write_to_path()


def fetch(
    repo: Path,
    remote: str,
    *,
    credentials: tuple[str, str] | None = None,
    ssh_command: str | None = None,
) -> str | None:
    """Fetch the remote's branch into the local copy; the tip's hex sha, or None if it is empty."""
    remote = validate_remote(remote)
    scrub = _Scrubber(credentials)
    shown = redact(remote)
    with _captured(scrub) as capture:
        r = _open_local(repo)
        roots = [repo]
        local_remote = _local_remote_path(remote)
        if local_remote is not None:
            roots.append(local_remote)
        deadline = time.monotonic() + STALE_LOCK_SECONDS * 1.5
        try:
            client, path = _client_for(remote, credentials, ssh_command)
            while True:
                try:
                    fetched = _fetch_into(r, client, path, capture, _config_get(r, b"branch"))
                    break
                except FileLocked as exc:
                    _recover_lock(exc, roots, deadline)
            return fetched.tip.decode() if fetched.tip is not None else None
        except _TRANSPORT_ERRORS as exc:
            raise _unavailable(shown, _describe(exc), capture) from None
        finally:
            r.close()


# ---------------------------------------------------------------------------------------------
# Sync


def _check_path(path: str) -> tuple[str, ...]:
    parts = tuple(path.split("/"))
    if path in ("goal.json", "README.md"):
        return parts
    if len(parts) == 2 and parts[0] == "data" and parts[1].endswith(".json") and DEVICE_ID.fullmatch(parts[1][:-5]):
        return parts
    raise ValueError(f"ccsync writes only goal.json, README.md and data/<device-id>.json, not {path!r}")


def _reaches(r: Repo, start: ObjectID, target: ObjectID, limit: int = 64) -> bool:
    """True if `target` is on the first-parent chain of `start` within `limit` commits."""
    current: ObjectID | None = start
    for _ in range(limit):
        if current is None:
            return False
        if current == target:
            return True
        try:
            parents = _commit(r, current).parents
        except KeyError:
            return False
        current = parents[0] if parents else None
    return False


def _pending(
    r: Repo, upstream: ObjectID | None, local: ObjectID, tip: ObjectID, paths: Sequence[str]
) -> dict[str, ObjectID]:
    """Our unpushed edits to `paths`, as a 3-way merge: ours wins only where the remote tip
    still has what our local commit was built on (another device's newer goal is kept)."""
    base_tree = _commit(r, upstream).tree if upstream is not None and upstream in r.object_store else None
    local_tree = _commit(r, local).tree
    tip_tree = _commit(r, tip).tree
    result: dict[str, ObjectID] = {}
    for path in paths:
        ours = _entry(r, local_tree, path)
        base = _entry(r, base_tree, path)
        theirs = _entry(r, tip_tree, path)
        if ours is None or ours == base or ours == theirs or ours[0] not in (_MODE_FILE, _MODE_EXEC):
            continue
        if base_tree is not None and theirs != base:
            continue
        result[path] = ours[1]
    return result


@dataclass(frozen=True)
class _Outcome:
    committed: bool
    pushed: bool
    tip: ObjectID | None
    base: ObjectID | None
    refused: str | None = None


def _sync_once(
    r: Repo,
    client: GitClient,
    path: str,
    remote: str,
    *,
    device: str,
    changes: Mapping[str, bytes],
    retire: Mapping[str, ObjectID],
    guard: Callable[[str, bytes], None] | None,
    message: bytes,
    capture: _Capture,
) -> _Outcome:
    previous_remote = _config_get(r, b"remote")
    fetched = _fetch_into(r, client, path, capture, _config_get(r, b"branch") if previous_remote == remote else None)
    branch_ref = Ref(b"refs/heads/" + fetched.branch.encode())
    tip = fetched.tip
    carried: dict[str, ObjectID] = {}
    # A different remote: joining its history starts from its tip; an empty one receives our
    # whole history (`ccsync init --remote URL` after using the embedded remote). The switch is
    # recorded only once a push went through, so an interrupted join is simply joined again.
    joining = previous_remote != remote
    if joining:
        if tip is not None:
            # A goal set before joining comes along, unless the shared repo has one already.
            before = r.refs[branch_ref] if branch_ref in r.refs else None
            ours = (
                _entry(r, _commit(r, before).tree, "goal.json")
                if before is not None and before in r.object_store
                else None
            )
            if ours is not None and ours[0] == _MODE_FILE and _entry(r, _commit(r, tip).tree, "goal.json") is None:
                carried["goal.json"] = ours[1]
        elif _UPSTREAM in r.refs:
            del r.refs[_UPSTREAM]
    elif _config_get(r, b"branch") != fetched.branch:
        _config_set(r, {b"branch": fetched.branch})

    if joining and tip is not None:
        local: ObjectID | None = tip
        upstream: ObjectID | None = tip
    else:
        local = r.refs[branch_ref] if branch_ref in r.refs else None
        if local is not None and local not in r.object_store:
            local = None
        upstream = r.refs[_UPSTREAM] if _UPSTREAM in r.refs else None

    overlay: dict[str, ObjectID] = {}
    if tip is None or local is None or local == tip:
        parent = local if tip is None else tip
    elif _reaches(r, local, tip):
        parent = local  # our unpushed commits sit on the remote tip: push them as they are
    else:
        parent = tip
        overlay = _pending(r, upstream, local, tip, [f"data/{device}.json", "goal.json"])

    blobs: dict[tuple[str, ...], ObjectID | None] = {}
    for file_path, sha in {**carried, **overlay}.items():
        blobs[tuple(file_path.split("/"))] = sha
    base_tree = _commit(r, parent).tree if parent is not None else None
    if guard is not None:
        # Checked against the very tip we build on, on every attempt: a file that another
        # machine pushed since the caller looked is refused here, not overwritten.
        for file_path in changes:
            found = _entry(r, base_tree, file_path)
            if found is not None:
                content, _ = _read_capped_blob(r, found[0], found[1], file_path)
                if content is not None:
                    guard(file_path, content)
    for file_path, expected in retire.items():
        # Only the very file we were shown: a newer one there is not ours to remove.
        if _entry(r, base_tree, file_path) == (_MODE_FILE, expected):
            blobs[_check_path(file_path)] = None
    for file_path, content in changes.items():
        blob = Blob.from_string(content)
        r.object_store.add_object(blob)
        blobs[_check_path(file_path)] = blob.id
    if parent is None and ("README.md",) not in blobs:
        readme = Blob.from_string(README_TEXT)
        r.object_store.add_object(readme)
        blobs[("README.md",)] = readme.id
    new_tree = _write_tree(r, base_tree, blobs)

    committed = False
    if parent is not None and new_tree == base_tree:
        new = parent
    else:
        identity = f"ccsync {device} <{device}@ccsync.invalid>".encode()
        commit = Commit()
        commit.tree = new_tree
        commit.parents = [parent] if parent is not None else []
        commit.author = commit.committer = identity
        commit.author_time = commit.commit_time = int(time.time())
        commit.author_timezone = commit.commit_timezone = 0
        commit.message = message
        r.object_store.add_object(commit)
        new = commit.id
        committed = True
    r.refs[branch_ref] = new
    if tip is not None:
        r.refs[_UPSTREAM] = tip
    if new == tip:
        if joining:
            _config_set(r, {b"remote": remote, b"branch": fetched.branch})
        return _Outcome(committed, True, tip, tip)

    declined: list[bool] = []

    def update_refs(refs: dict[Ref, ObjectID]) -> dict[Ref, ObjectID]:
        # Compare-and-swap: only move the branch if it is still where we built on. The server
        # checks the old value again under its own lock, so a race after this point fails too.
        if refs.get(branch_ref) != tip:
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
        return _Outcome(committed, False, tip, tip)
    status = result.ref_status
    if status is None or branch_ref not in status:
        # No per-ref report (a server without report-status; dulwich's local client reports
        # failures only): believe only what a fresh look at the remote's refs says.
        refs = client.get_refs(path.encode()).refs
        if refs.get(branch_ref) != new:
            return _Outcome(committed, False, tip, tip, "the remote did not confirm the update")
    else:
        error = status[branch_ref]
        if error is not None:
            return _Outcome(committed, False, tip, tip, capture.scrub(" ".join(str(error).split())))
    tracking = Ref((_TRACKING_PREFIX + fetched.branch).encode())
    r.refs[tracking] = new
    if r.refs.read_ref(_TRACKING_HEAD) != b"ref: " + tracking:
        r.refs.set_symbolic_ref(_TRACKING_HEAD, tracking)
    r.refs[_UPSTREAM] = new
    if joining:
        _config_set(r, {b"remote": remote, b"branch": fetched.branch})
    if tip is None:
        _point_local_remote_head(remote, branch_ref)
    return _Outcome(committed, True, new, tip)


def _point_local_remote_head(remote: str, branch_ref: Ref) -> None:
    """A fresh local remote's HEAD may name another branch; point it at ours so clones work."""
    local = _local_remote_path(remote)
    if local is None:
        return
    with Repo(str(local)) as target:
        head = target.refs.read_ref(Ref(b"HEAD"))
        if head != b"ref: " + branch_ref and head is not None and head.startswith(b"ref: "):
            if Ref(head[5:]) not in target.refs:
                target.refs.set_symbolic_ref(Ref(b"HEAD"), branch_ref)


def _jitter(failures: int) -> float:
    return random.uniform(0.01, min(1.0, 0.04 * 2 ** min(failures, 5)))


def sync_files(
    repo: Path,
    remote: str,
    *,
    device: str,
    changes: dict[str, bytes],
    message: str,
    retire: Mapping[str, bytes] | None = None,
    guard: Callable[[str, bytes], None] | None = None,
    max_attempts: int = 8,
    credentials: tuple[str, str] | None = None,
    ssh_command: str | None = None,
) -> SyncResult:
    """Put `changes` (repo path -> bytes) on the remote's branch without touching anything else.

    fetch -> the remote tip's tree with only these paths replaced -> a commit on the remote tip
    (none if nothing changed) -> compare-and-swap push -> on a race, fetch and retry with jitter,
    at most `max_attempts` times. Never forces. `retire` (repo path -> the bytes the caller
    judged) removes files that are still exactly those bytes. `guard(path, bytes)` sees what
    the remote tip holds at each changed path and raises to refuse. Earlier local commits the remote lacks are
    pushed (or replayed onto a moved tip). Raises RemoteUnavailable (one redacted line) when
    the remote cannot be reached, refuses us, or keeps moving.
    """
    if not DEVICE_ID.fullmatch(device):
        raise ConfigError(f"device id {device!r} must match {DEVICE_ID.pattern}; set one with: ccsync init --device ID")
    if not changes:
        raise ValueError("sync_files needs at least one change")
    for file_path in [*changes, *(retire or {})]:
        _check_path(file_path)
    retired = {file_path: Blob.from_string(content).id for file_path, content in (retire or {}).items()}
    remote = validate_remote(remote)
    body = " ".join(message.split()) or f"ccsync: update {device}"
    message_bytes = (body + "\n").encode("utf-8")
    scrub = _Scrubber(credentials)
    shown = redact(remote)
    roots = [repo]
    local_remote = _local_remote_path(remote)
    if local_remote is not None:
        roots.append(local_remote)

    with _captured(scrub) as capture:
        r = _open_local(repo)
        try:
            client, path = _client_for(remote, credentials, ssh_command)
            deadline = time.monotonic() + STALE_LOCK_SECONDS * 1.5
            attempt = 0
            failures = 0
            committed = False
            refused: tuple[ObjectID | None, str] | None = None
            while True:
                attempt += 1
                try:
                    outcome = _sync_once(
                        r, client, path, remote, device=device, changes=changes, retire=retired, guard=guard,
                        message=message_bytes, capture=capture,
                    )
                except FileLocked as exc:
                    _recover_lock(exc, roots, deadline)
                    continue
                committed = committed or outcome.committed
                if outcome.pushed:
                    assert outcome.tip is not None
                    return SyncResult(committed, True, attempt, outcome.tip.decode())
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
        except _TRANSPORT_ERRORS as exc:
            raise _unavailable(shown, _describe(exc), capture) from None
        finally:
            r.close()
