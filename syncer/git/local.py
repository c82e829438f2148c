"""Repositories on this machine: the local bare copy, the embedded default remote, a folder remote,
and the small state ccsync keeps in the local copy (its config section and tracking refs)."""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from dulwich.errors import NotGitRepository
from dulwich.object_store import DiskObjectStore
from dulwich.objects import ObjectID
from dulwich.refs import DiskRefsContainer, Ref

from syncer.errors import ConfigError, DiskError
from syncer.git import layout
from syncer.git.urls import local_remote_path

if TYPE_CHECKING:
    from dulwich.repo import Repo


def _make_private_dir(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.mkdir(mode=0o700)
    os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask


def _create_bare(path: Path) -> None:
    """A new private bare repository at `path`, made beside it and renamed into place: a kill or
    a full disk part-way leaves no half-made repository (a folder with only `HEAD.lock` in it,
    which git then calls "not a git repository")."""
    from dulwich.repo import Repo  # noqa: PLC0415 - see Reader

    tmp = path.with_name(f".{path.name}.{os.getpid()}.new")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        _make_private_dir(tmp)
        Repo.init_bare(str(tmp), default_branch=layout.DEFAULT_BRANCH.encode()).close()
        os.rename(tmp, path)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if path.is_dir() and exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
            return  # made meanwhile by another process
        reason = "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
        raise DiskError(f"cannot create the repository {path}: {reason}; nothing was changed") from None


def open_repo(path: Path) -> None:
    """Create the local bare repository at `path` (mode 0700) if it is missing."""
    open_local(path).close()


def open_local(path: Path) -> Repo:
    from dulwich.repo import Repo  # noqa: PLC0415 - see Reader

    try:
        if not path.exists():
            _create_bare(path)
        return Repo(str(path))
    except NotGitRepository:
        raise ConfigError(
            f"{path} exists but is not a git repository; move it aside and run: ccsync sync"
        ) from None
    except PermissionError:
        raise ConfigError(
            f"permission denied on {path}; give your user read and write access to it "
            f"(chmod -R u+rwX {path}), then run: ccsync sync"
        ) from None


def _is_repository(path: Path, *, otherwise: str) -> bool:
    """True for a git repository, False for a missing or empty folder; anything else is the
    ConfigError `otherwise`."""
    if not (path.is_dir() and any(path.iterdir())):
        return False
    from dulwich.repo import Repo  # noqa: PLC0415 - see Reader

    try:
        Repo(str(path)).close()
    except NotGitRepository:
        raise ConfigError(otherwise) from None
    return True


def init_bare_remote(path: Path) -> None:
    """Create the embedded default remote, a bare repository at `path`, if missing."""
    if _is_repository(path, otherwise=f"{path} exists and is not a git repository; move it aside and run: ccsync init"):
        return
    if path.exists():
        path.rmdir()  # an empty folder: made afresh, atomically
    _create_bare(path)


def prepare_local_remote(remote: str) -> None:
    """A remote that is a folder (a USB disk, a share) is made a bare repository when it is
    missing or empty, so `ccsync init --remote /media/usb/ccsync.git` is all it takes."""
    local = local_remote_path(remote)
    if local is None or _is_repository(local, otherwise=(
        f"remote {local} is a folder with files in it but not a git repository; "
        "name a new or empty folder instead: ccsync init --remote NEW-FOLDER"
    )):
        return
    if local.exists() and not local.is_dir():
        raise ConfigError(f"remote {local} is a file, not a git repository; name a folder: ccsync init --remote FOLDER")
    from dulwich.repo import Repo  # noqa: PLC0415 - see Reader

    if not local.parent.is_dir():
        # Never create the parents: a missing /media/usb is an unplugged disk, not a typo to fix.
        raise ConfigError(f"cannot create remote {local}: {local.parent} does not exist (is the disk mounted?)")
    try:
        Repo.init_bare(str(local), mkdir=not local.exists(), default_branch=layout.DEFAULT_BRANCH.encode()).close()
    except OSError as exc:
        raise ConfigError(f"cannot create remote {local}: {exc.strerror}") from None



def point_local_remote_head(remote: str, branch_ref: Ref) -> None:
    """A fresh local remote's HEAD may name another branch; point it at ours so clones work."""
    local = local_remote_path(remote)
    if local is None:
        return
    from dulwich.repo import Repo  # noqa: PLC0415 - see Reader

    with Repo(str(local)) as target:
        head = target.refs.read_ref(Ref(b"HEAD"))
        if head != b"ref: " + branch_ref and head is not None and head.startswith(b"ref: "):
            if Ref(head[5:]) not in target.refs:
                target.refs.set_symbolic_ref(Ref(b"HEAD"), branch_ref)


class Reader:
    """The local copy opened to read only its objects and refs (what `total --offline` and every
    read of the sync repo need): dulwich's `Repo` also imports and reads its config, hooks and
    worktree support, a third of a read command's time in git."""

    def __init__(self, path: Path) -> None:
        self.object_store = DiskObjectStore(str(path / "objects"))
        self.refs = DiskRefsContainer(str(path))
        self._path = str(path)

    def controldir(self) -> str:
        return self._path

    def close(self) -> None:
        self.object_store.close()


def open_reader(path: Path) -> Reader:
    """The local copy at `path` (which exists), to read; refused as `open_local` refuses it."""
    if not ((path / "objects").is_dir() and (path / "refs").is_dir()):
        raise ConfigError(f"{path} exists but is not a git repository; move it aside and run: ccsync sync")
    if not os.access(path / "objects", os.R_OK | os.X_OK) or not os.access(path / "refs", os.R_OK | os.X_OK):
        raise ConfigError(
            f"permission denied on {path}; give your user read and write access to it "
            f"(chmod -R u+rwX {path}), then run: ccsync sync"
        )
    return Reader(path)


def set_tracking(r: Repo, branch: str, tip: ObjectID) -> None:
    """Record `tip` as the remote's branch: what `snapshot` reads offline."""
    tracking = layout.tracking_ref(branch)
    r.refs[tracking] = tip
    if r.refs.read_ref(layout.TRACKING_HEAD) != b"ref: " + tracking:
        r.refs.set_symbolic_ref(layout.TRACKING_HEAD, tracking)


def tracking_tip(repo: Repo | Reader) -> ObjectID | None:
    try:
        _, sha = repo.refs.follow(layout.TRACKING_HEAD)
    except (KeyError, ValueError):
        return None
    return sha


def config_get(r: Repo, key: bytes) -> str | None:
    try:
        return r.get_config().get((b"ccsync",), key).decode("utf-8")
    except KeyError:
        return None


def config_set(r: Repo, values: Mapping[bytes, str]) -> None:
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



LEFT_OUT = "ccsync-left-out"
"""In the local copy: the objects a fetch left out as over MAX_DEVICE_FILE, one hex sha a line.
Later fetches never send them again (we hold the commits naming them), so their absence is
remembered rather than taken for a broken fetch."""


def left_out(r: Repo | Reader) -> set[ObjectID]:
    try:
        text = (Path(r.controldir()) / LEFT_OUT).read_bytes()
    except FileNotFoundError:
        return set()
    return {ObjectID(line) for line in text.split()}


def remember_left_out(r: Repo, shas: list[ObjectID]) -> None:
    path = Path(r.controldir()) / LEFT_OUT
    known = left_out(r)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(b"".join(sha + b"\n" for sha in sorted(known | set(shas))))
    os.replace(tmp, path)
