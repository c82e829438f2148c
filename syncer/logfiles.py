"""Finding every source's log files: a walk of the log roots that never follows a link.

Standard library only, so the idle check can use it without loading the rest of ccsync.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from syncer.errors import LogRootMissing
from syncer.sources import SOURCES
from syncer.sources.adapter import Source

if TYPE_CHECKING:
    from syncer.checkpoints import Checkpoint


class LogFile(NamedTuple):
    source: str
    path: Path
    root: Path
    dev: int
    ino: int
    size: int
    mtime_ns: int


def find_logs(
    env: Mapping[str, str], home: Path, warnings: list[str], *, strict: bool = False
) -> tuple[list[str], list[LogFile]]:
    """Every log file under every source's roots. Symlinks, FIFOs, folders named like logs and
    unreadable folders are skipped with a warning: none of them may hang a nightly run.
    A source's variable that names no log folder, or no log folder of any source at all, is
    `LogRootMissing` when `strict` (a scan), else a warning (`status` shows it); a source whose
    default folder does not exist is simply absent."""
    roots: list[str] = []
    found: list[LogFile] = []
    looked: list[str] = []
    problems: list[str] = []
    for name, source in SOURCES.items():
        present = 0
        source_roots = source.log_roots(env, home)
        configured = env.get(source.env_var, "").strip()
        for root in source_roots:
            looked.append(str(root))
            if root.is_dir():
                present += 1
                roots.append(str(root))
                _walk(name, source, root, root, found, warnings)
                if configured and str(root) in {str(Path(p.strip()).expanduser()) for p in configured.split(",")}:
                    warnings.append(f"{source.env_var} names the log folder {root} itself; reading it "
                                    f"(set {source.env_var}={root.parent} to silence this note)")
        if configured and not present:
            missing = [str(r) for r in source_roots if not r.is_dir()]
            problems.append(f"{source.env_var}={configured}, but there is no log folder {' or '.join(missing)}; "
                            f"fix {source.env_var} (the folder that holds {source.env_holds}), or unset it")
    if not roots and not problems:
        moves = ", ".join(f"{s.env_var} to the folder that holds {s.env_holds}" for s in SOURCES.values())
        problems.append(f"no log folder found for any source (looked in {', '.join(looked)}); use Claude Code, "
                        f"Codex or Gemini CLI once, or set {moves}")
    if problems and strict:
        raise LogRootMissing(problems[0])
    warnings.extend(problems)
    return roots, found


def _walk(name: str, source: Source, root: Path, top: Path, found: list[LogFile], warnings: list[str]) -> None:
    """Depth first with a stack of its own: a tree deeper than Python's recursion limit (a
    thousand nested folders) is walked like any other."""
    folders = [top]
    while folders:
        folder = folders.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            warnings.append(f"skipped folder {folder}: {exc.strerror}")
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError as exc:
                warnings.append(f"skipped {entry.path}: {exc.strerror}")
                continue
            is_log = source.is_log_file(entry.name)
            if stat.S_ISLNK(info.st_mode):
                if is_log:
                    warnings.append(f"skipped {entry.path}: a symbolic link")
            elif stat.S_ISDIR(info.st_mode):
                if is_log:
                    warnings.append(f"skipped {entry.path}: a folder named like a log file")
                else:
                    folders.append(folder / entry.name)
            elif is_log:
                if stat.S_ISREG(info.st_mode):
                    # `folder / name` parses one part; Path(entry.path) would parse the whole path again
                    found.append(LogFile(
                        name, folder / entry.name, root, info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns,
                    ))
                else:
                    warnings.append(f"skipped {entry.path}: not a regular file")


def unchanged(log: LogFile, cp: Checkpoint | None) -> bool:
    """Whether `log` is as its checkpoint saw it (same file, size and time): nothing to read."""
    return (
        cp is not None
        and (cp.dev, cp.ino, cp.size, cp.mtime_ns) == (log.dev, log.ino, log.size, log.mtime_ns)
        and cp.offset <= log.size
    )


def resume_at(log: LogFile, cp: Checkpoint | None) -> int:
    """Where reading `log` will likely start (for the progress bar and `status`; the scan's
    `read_log` decides): a file of a source that is not resumable is read whole unless unchanged.
    Here, not in the scan: `status` asks, and must not import the scan engine."""
    if cp is None or (cp.dev, cp.ino) != (log.dev, log.ino) or cp.offset > log.size:
        return 0
    if SOURCES[log.source].resumable:
        return cp.offset
    return log.size if unchanged(log, cp) else 0
