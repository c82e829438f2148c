"""Objects in the local copy: reading commits and trees, replacing tree entries, capped blob reads.

Trees are read and built in memory, never checked out (DESIGN.md §4).
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING

from dulwich.errors import ApplyDeltaError, ChecksumMismatch, ObjectFormatException
from dulwich.objects import Commit, ObjectID, Tree

from syncer.git import layout, limits
from syncer.git.size import MALFORMED, OBJ_BLOB, object_header

if TYPE_CHECKING:
    from dulwich.repo import Repo

    from syncer.git.local import Reader

UNREADABLE: tuple[type[Exception], ...] = (KeyError, OSError, ObjectFormatException, ChecksumMismatch, ApplyDeltaError)
"""What reading a damaged or missing object from the local copy can raise."""


def _read_object(repo: Repo | Reader, sha: ObjectID, kind: type[Commit] | type[Tree]) -> Commit | Tree:
    obj = repo.object_store[sha]
    if not isinstance(obj, kind):
        raise ObjectFormatException(
            f"object {sha.decode()} is a {obj.type_name.decode()}, not a {kind.type_name.decode()}"
        )
    return obj


def commit(repo: Repo | Reader, sha: ObjectID) -> Commit:
    obj = _read_object(repo, sha, Commit)
    assert isinstance(obj, Commit)
    return obj


def tree(repo: Repo | Reader, sha: ObjectID) -> Tree:
    obj = _read_object(repo, sha, Tree)
    assert isinstance(obj, Tree)
    return obj


def entry(repo: Repo, tree_sha: ObjectID | None, path: str) -> tuple[int, ObjectID] | None:
    """(mode, sha) at `path` below tree `tree_sha`, or None."""
    parts = path.split("/")
    current = tree_sha
    for depth, name in enumerate(parts):
        if current is None:
            return None
        found = tree(repo, current)
        try:
            mode, sha = found[name.encode()]
        except KeyError:
            return None
        if depth == len(parts) - 1:
            return (mode, sha)
        current = sha if mode == layout.MODE_TREE else None
    return None


def write_tree(
    repo: Repo, tree_sha: ObjectID | None, entries: Mapping[tuple[str, ...], ObjectID | None]
) -> ObjectID:
    """A copy of `tree_sha` with only `entries` (path parts -> blob sha, or None to remove) replaced.

    Untouched entries keep their mode and sha, so other devices' files stay byte-identical.
    Objects are written bottom-up: a tree never exists in the store before its children.
    """
    new = Tree()
    if tree_sha is not None:
        for item in tree(repo, tree_sha).iteritems():
            new.add(item.path, item.mode, item.sha)
    subdirs: dict[str, dict[tuple[str, ...], ObjectID | None]] = {}
    for parts, blob_sha in entries.items():
        if len(parts) > 1:
            subdirs.setdefault(parts[0], {})[parts[1:]] = blob_sha
        elif blob_sha is not None:
            new.add(parts[0].encode(), layout.MODE_FILE, blob_sha)
        elif parts[0].encode() in new:
            del new[parts[0].encode()]
    for name, sub in subdirs.items():
        existing: ObjectID | None = None
        try:
            mode, sha = new[name.encode()]
            existing = sha if mode == layout.MODE_TREE else None
        except KeyError:
            pass
        new.add(name.encode(), layout.MODE_TREE, write_tree(repo, existing, sub))
    repo.object_store.add_object(new)
    return new.id


def read_capped_blob(
    repo: Repo | Reader, mode: int, sha: ObjectID, where: str, left_out: AbstractSet[ObjectID] = frozenset()
) -> tuple[bytes | None, str | None]:
    """The bytes of a regular-file blob no larger than MAX_DEVICE_FILE, or a warning. `left_out`:
    the objects a fetch left out as too large (`local.left_out`)."""
    if mode == layout.MODE_LINK:
        return None, f"skipped {where}: a symbolic link, not a regular file"
    if mode == layout.MODE_TREE:
        return None, f"skipped {where}: a folder, not a file"
    if mode == layout.MODE_GITLINK:
        return None, f"skipped {where}: a submodule, not a file"
    if mode not in (layout.MODE_FILE, layout.MODE_EXEC):
        return None, f"skipped {where}: unexpected file mode {mode:o}"
    limit = limits.MAX_DEVICE_FILE
    try:
        header = object_header(repo, sha)
        if header is None:
            if sha in left_out:
                return None, f"skipped {where}: over the {limit} byte limit (left out when fetched)"
            return None, f"skipped {where}: its object {sha.decode()} is missing from the local copy"
        kind, size = header
        if kind is not None and kind != OBJ_BLOB:
            return None, f"skipped {where}: not a file object"
        if size > limit:
            return None, f"skipped {where}: {size} bytes is over the {limit} byte limit"
        kind_num, data = repo.object_store.get_raw(sha)
    except (*UNREADABLE, *MALFORMED) as exc:
        return None, f"skipped {where}: unreadable object ({type(exc).__name__})"
    if kind_num != OBJ_BLOB:
        return None, f"skipped {where}: not a file object"
    if len(data) > limit:
        return None, f"skipped {where}: {len(data)} bytes is over the {limit} byte limit"
    return data, None
