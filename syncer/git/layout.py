"""The sync repo's layout: which paths ccsync writes, their modes, and the refs it keeps.

`data/<device-id>.json` (one per device), `goal.json` and `README.md` (DESIGN.md §4). Our own refs
in the local copy: `refs/remotes/origin/<branch>` (the last fetched tip, read offline) and
`refs/ccsync/upstream` (the remote commit our local branch was last built on).
"""

from __future__ import annotations

import re

from dulwich.refs import Ref

from syncer.ledger import DEVICE_ID_PATTERN

DEFAULT_BRANCH = "main"
DEVICE_ID = re.compile(DEVICE_ID_PATTERN)
GOAL = "goal.json"

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

MODE_FILE = 0o100644
MODE_EXEC = 0o100755
MODE_TREE = 0o040000
MODE_LINK = 0o120000
MODE_GITLINK = 0o160000

TRACKING_HEAD = Ref(b"refs/remotes/origin/HEAD")
UPSTREAM = Ref(b"refs/ccsync/upstream")
"""The remote commit our local branch was last built on: the base of the 3-way replay."""


def device_file(device: str) -> str:
    return f"data/{device}.json"


def branch_ref(branch: str) -> Ref:
    return Ref(b"refs/heads/" + branch.encode())


def tracking_ref(branch: str) -> Ref:
    return Ref(b"refs/remotes/origin/" + branch.encode())


def check_path(path: str) -> tuple[str, ...]:
    """The parts of a path ccsync may write; anything else is a bug in the caller (ValueError)."""
    parts = tuple(path.split("/"))
    if path in (GOAL, "README.md"):
        return parts
    if len(parts) == 2 and parts[0] == "data" and parts[1].endswith(".json") and DEVICE_ID.fullmatch(parts[1][:-5]):
        return parts
    raise ValueError(f"ccsync writes only goal.json, README.md and data/<device-id>.json, not {path!r}")
