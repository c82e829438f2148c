"""`ccsync statusline install|remove|status`: the `statusLine` entry of Claude Code's user settings.

Claude Code reads `settings.json` from its config folder (the first of `CLAUDE_CONFIG_DIR`, else
`~/.claude`). The file is the user's, often kept in a dotfiles repository: the edit touches the
`statusLine` member only, as text, so every other key keeps its order, spacing and indentation.
A backup is written first, another tool's status line is replaced only when asked (`force`),
and a read-only file is left alone.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple

from syncer.errors import ConfigError, DiskError
from syncer.store import write_atomic

KEY = "statusLine"
MARKER = "statusline"  # with "ccsync", how a command is known to be ours


class Member(NamedTuple):
    key: str
    key_start: int
    value_start: int
    value_end: int


@dataclass(frozen=True)
class Plan:
    path: Path
    before: str | None  # the file's text, None when it does not exist
    after: str | None  # None: nothing to change
    current: dict[str, Any] | None  # the status line found
    action: Literal["install", "remove", "none"]


def settings_path(env: Mapping[str, str], home: Path) -> Path:
    folders = [p.strip() for p in env.get("CLAUDE_CONFIG_DIR", "").split(",") if p.strip()]
    base = Path(folders[0]).expanduser() if folders else home / ".claude"
    return base / "settings.json"


def entry(command: str) -> dict[str, Any]:
    return {"type": "command", "command": command, "padding": 0}


def is_ours(current: object) -> bool:
    command = current.get("command") if isinstance(current, dict) else None
    return isinstance(command, str) and "ccsync" in command and MARKER in command


# -- editing JSON text ---------------------------------------------------------------------------


def members(text: str) -> tuple[list[Member], int, int]:
    """The top-level members of a JSON object (already known to be valid), with the positions
    of its opening and closing braces."""
    n = len(text)

    def skip(p: int) -> int:
        while p < n and text[p] in " \t\r\n":
            p += 1
        return p

    def end_string(p: int) -> int:
        p += 1
        while text[p] != '"':
            p += 2 if text[p] == "\\" else 1
        return p + 1

    def end_value(p: int) -> int:
        if text[p] == '"':
            return end_string(p)
        if text[p] in "{[":
            depth = 0
            while True:
                c = text[p]
                if c == '"':
                    p = end_string(p)
                    continue
                if c in "{[":
                    depth += 1
                elif c in "}]":
                    depth -= 1
                    if depth == 0:
                        return p + 1
                p += 1
        while p < n and text[p] not in ",}] \t\r\n":
            p += 1
        return p

    opening = skip(0)
    found: list[Member] = []
    p = skip(opening + 1)
    if text[p] == "}":
        return found, opening, p
    while True:
        key_end = end_string(p)
        colon = skip(key_end)
        start = skip(colon + 1)
        end = end_value(start)
        found.append(Member(json.loads(text[p:key_end]), p, start, end))
        p = skip(end)
        if text[p] == ",":
            p = skip(p + 1)
            continue
        return found, opening, p


def _line_indent(text: str, at: int) -> str:
    start = text.rfind("\n", 0, at) + 1
    return text[start:at] if not text[start:at].strip() else ""


def set_member(text: str, key: str, value: object) -> str:
    """`text` with top-level `key` set to `value`, formatted like the rest of the file."""
    found, opening, closing = members(text)
    multiline = "\n" in text[opening:closing]
    indent = _line_indent(text, found[0].key_start) if found else "  "
    nl = "\r\n" if "\r\n" in text else "\n"

    def dump(at_indent: str) -> str:
        if not multiline and found:
            return json.dumps(value, ensure_ascii=False)
        step = indent if found and indent else "  "
        return json.dumps(value, indent=step, ensure_ascii=False).replace("\n", nl + at_indent)

    for m in found:
        if m.key == key:
            return text[: m.value_start] + dump(_line_indent(text, m.key_start)) + text[m.value_end:]
    member = json.dumps(key) + ": "
    if not found:
        return text[: opening + 1] + nl + "  " + member + dump("  ") + nl + text[closing:]
    last = found[-1]
    if not multiline:
        return text[: last.value_end] + ", " + member + dump("") + text[last.value_end:]
    return text[: last.value_end] + "," + nl + indent + member + dump(indent) + text[last.value_end:]


def remove_member(text: str, key: str) -> str:
    found, opening, closing = members(text)
    for i, m in enumerate(found):
        if m.key != key:
            continue
        if i + 1 < len(found):
            return text[: m.key_start] + text[found[i + 1].key_start:]
        if i > 0:
            return text[: found[i - 1].value_end] + text[m.value_end:]
        return text[: opening + 1] + text[closing:]
    return text


# -- the use cases ---------------------------------------------------------------------------------


def _read(path: Path) -> tuple[str | None, dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        doc = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path} is not plain JSON (line {exc.lineno}: {exc.msg}); it was not modified. "
            "Fix it, or add the status line by hand as the README shows"
        ) from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{path} does not hold a JSON object; it was not modified")
    return text, doc


def plan_install(path: Path, command: str, *, force: bool) -> Plan:
    text, doc = _read(path)
    current = doc.get(KEY)
    wanted = entry(command)
    if current == wanted:
        return Plan(path, text, None, current, "none")
    if current is not None and not is_ours(current) and not force:
        shown = current.get("command") if isinstance(current, dict) else current
        raise ConfigError(
            f"{path} already has another status line ({shown!r}); nothing was changed. "
            "Replace it with: ccsync statusline install --force"
        )
    base = text if text is not None and text.strip() else "{}\n"
    return Plan(path, text, set_member(base, KEY, wanted), current, "install")


def plan_remove(path: Path, *, force: bool) -> Plan:
    text, doc = _read(path)
    current = doc.get(KEY)
    if text is None or current is None:
        return Plan(path, text, None, None, "none")
    if not is_ours(current) and not force:
        raise ConfigError(
            f"the status line in {path} is not ccsync's; nothing was changed. Remove it anyway with: "
            "ccsync statusline remove --force"
        )
    return Plan(path, text, remove_member(text, KEY), current, "remove")


def status(path: Path) -> dict[str, Any] | None:
    return _read(path)[1].get(KEY)


def apply(plan: Plan, *, now: datetime) -> Path | None:
    """Write the plan: back the file up, then replace it atomically (keeping its mode, and
    writing through a symlink to the file it points at). Returns the backup's path."""
    if plan.after is None:
        return None
    target = plan.path.resolve() if plan.path.is_symlink() else plan.path
    backup = None
    if plan.before is not None:
        if not os.access(target, os.W_OK) or not target.stat().st_mode & stat.S_IWUSR:
            raise ConfigError(
                f"{plan.path} is read-only; it was not modified. Make it writable (chmod u+w) and run this again"
            )
        backup = target.with_name(f"{target.name}.ccsync-backup-{now.strftime('%Y%m%dT%H%M%S')}")
        try:
            shutil.copy2(target, backup)
        except OSError as exc:
            raise DiskError(f"cannot back up {target} to {backup}: {exc.strerror}; nothing was changed") from None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DiskError(f"cannot create {target.parent}: {exc.strerror}") from None
    mode = target.stat().st_mode & 0o7777 if plan.before is not None else None
    write_atomic(target, plan.after.encode("utf-8"))
    if mode is not None:
        os.chmod(target, mode)
    return backup
