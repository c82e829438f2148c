"""Reading the last fetched state of the sync repo, offline: every device file and the goal."""

from __future__ import annotations

from pathlib import Path

from dulwich.objects import Tree

from syncer.git import layout, local, objects
from syncer.git.local import Reader
from syncer.git.view import Snapshot


def snapshot(repo: Path) -> Snapshot:
    """Every device file and the goal from the last fetched remote tip, without the network.

    Structural checks only (regular blob, exact name, size cap); the caller parses and validates
    the JSON. Bad entries become one warning line each and never stop the others.
    """
    if not repo.exists():
        return Snapshot({}, None, [], None)
    r = local.open_reader(repo)
    try:
        tip = local.tracking_tip(r)
        if tip is None:
            return Snapshot({}, None, [], None)
        warnings: list[str] = []
        try:
            root = objects.tree(r, objects.commit(r, tip).tree)
        except objects.UNREADABLE as exc:
            warnings.append(f"the local copy of the sync repo is damaged ({type(exc).__name__}); run: ccsync sync")
            return Snapshot({}, None, warnings, tip.decode())
        goal, goal_problem = _read_goal(r, root)
        if goal_problem:
            warnings.append(goal_problem)
        files = _read_device_files(r, root, warnings)
        return Snapshot(files, goal, warnings, tip.decode(), goal_problem)
    finally:
        r.close()


def _read_goal(r: Reader, root: Tree) -> tuple[bytes | None, str | None]:
    if layout.GOAL.encode() not in root:
        return None, None
    mode, sha = root[layout.GOAL.encode()]
    return objects.read_capped_blob(r, mode, sha, layout.GOAL, local.left_out(r))


def _read_device_files(r: Reader, root: Tree, warnings: list[str]) -> dict[str, bytes]:
    """`data/<device-id>.json` files: regular blobs, exactly named, under the size cap."""
    files: dict[str, bytes] = {}
    if b"data" not in root:
        return files
    mode, sha = root[b"data"]
    if mode != layout.MODE_TREE:
        warnings.append("skipped data: not a folder")
        return files
    try:
        data_tree = objects.tree(r, sha)
    except objects.UNREADABLE as exc:
        warnings.append(f"skipped data/: unreadable ({type(exc).__name__})")
        data_tree = Tree()
    left_out = local.left_out(r)
    for item in data_tree.iteritems(name_order=True):
        name = item.path.decode("utf-8", "replace")
        shown = "data/" + name.encode("unicode_escape").decode("ascii")
        if name == "README.md" or name.endswith(".schema.json"):
            continue
        device = name[: -len(".json")] if name.endswith(".json") else ""
        if not layout.DEVICE_ID.fullmatch(device) or device + ".json" != name:
            warnings.append(f"skipped {shown}: not named data/<device-id>.json with a valid device id")
            continue
        content, warning = objects.read_capped_blob(r, item.mode, item.sha, shown, left_out)
        if warning:
            warnings.append(warning)
        elif content is not None:
            files[device] = content
    return files
