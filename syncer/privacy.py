"""What a project or branch is called in the ledger, by the device's privacy setting (DESIGN §4).

`names` keeps the folder's last component, `full` the whole path, `hashed` a keyed hash of the
path (and no branch), so the shared repo never learns what the projects are.
"""

from __future__ import annotations

import hashlib
import hmac


def project_name(cwd: str, *, privacy: str, key: str) -> str:
    if not cwd:
        return ""
    if privacy == "full":
        return cwd
    if privacy == "hashed":
        return "p-" + hmac.new(bytes.fromhex(key), cwd.encode(), hashlib.sha256).hexdigest()[:16]
    trimmed = cwd.rstrip("/\\")
    return trimmed.replace("\\", "/").rsplit("/", 1)[-1] or trimmed


def branch_name(branch: str, *, privacy: str) -> str:
    return "" if privacy == "hashed" else branch
