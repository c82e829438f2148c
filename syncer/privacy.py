"""What a project or branch is called in the ledger, by the device's privacy setting (DESIGN §4).

`names` keeps the folder's last component, `full` the whole path, `hashed` a keyed hash of the
path (and no branch), so the shared repo never learns what the projects are.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable

from syncer.ledger import COUNT_FIELDS, HourRow, Ledger, fit


def project_name(cwd: str, *, privacy: str, key: str) -> str:
    if not cwd:
        return ""
    if privacy == "full":
        return cwd
    if privacy == "hashed":
        return _hashed(_last_part(cwd), key)
    return _last_part(cwd)


def _last_part(path: str) -> str:
    trimmed = path.rstrip("/\\")
    return trimmed.replace("\\", "/").rsplit("/", 1)[-1] or trimmed


def _hashed(name: str, key: str) -> str:
    # The folder's name, not its path: a ledger recorded under `names` hashes to the same value
    # when the setting changes, so a project is never split in two.
    return "p-" + hmac.new(bytes.fromhex(key), name.encode(), hashlib.sha256).hexdigest()[:16]


_HASHED = re.compile(r"^p-[0-9a-f]{16}$")


def hidden_names(names: Iterable[str], *, key: str) -> dict[str, str]:
    """Hashed name -> the folder name it hides, for the paths or names given in the clear:
    this device's own reports show its projects by name, while the shared file keeps hashes."""
    return {_hashed(_last_part(n), key): fit(_last_part(n)) for n in names if n and not _HASHED.match(n)}


def branch_name(branch: str, *, privacy: str) -> str:
    return "" if privacy == "hashed" else branch


def renamed(name: str, *, privacy: str, key: str) -> str:
    """A project name already recorded, as `privacy` records it now. A path becomes its last
    part (`names`) or that part's hash (`hashed`); a hash cannot be turned back, and a bare
    name cannot become a path, so those stay as they are."""
    if not name or privacy == "full" or _HASHED.match(name):
        return name
    return _hashed(_last_part(name), key) if privacy == "hashed" else _last_part(name)


def apply_privacy(ledger: Ledger, *, privacy: str, key: str) -> Ledger:
    """The whole ledger with project and branch names as `privacy` records them: rows that
    now share a name are merged, so a report shows one project, not two."""
    rows: dict[tuple[object, ...], list[int]] = {}
    for row in ledger.hours:
        head = (row.hour, row.source, row.model, renamed(row.project, privacy=privacy, key=key),
                branch_name(row.branch, privacy=privacy), row.long_context, row.fast)
        counts = rows.setdefault(head, [0] * len(COUNT_FIELDS))
        for i, field in enumerate(COUNT_FIELDS):
            counts[i] += getattr(row, field)
    hours = [HourRow(*head, *counts) for head, counts in sorted(rows.items())]  # type: ignore[arg-type]
    sessions = [
        s._replace(project=renamed(s.project, privacy=privacy, key=key), branch=branch_name(s.branch, privacy=privacy))
        for s in ledger.sessions
    ]
    return ledger._replace(hours=hours, sessions=sessions)
