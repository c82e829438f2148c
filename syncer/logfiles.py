"""Finding every source's log files: a walk of the log roots that never follows a link.

Standard library only, so the idle check can use it without loading the rest of ccsync.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from syncer.sources import SOURCES


@dataclass(frozen=True)
class LogFile:
    source: str
    path: Path
    root: Path
    dev: int
    ino: int
    size: int
    mtime_ns: int


def find_logs(env: Mapping[str, str], home: Path, warnings: list[str]) -> tuple[list[str], list[LogFile]]:
    """Every log file under every source's roots. Symlinks, FIFOs, folders named like logs and
    unreadable folders are skipped with a warning: none of them may hang a nightly run."""
    roots: list[str] = []
    found: list[LogFile] = []
    for name, source in SOURCES.items():
        for root in source.log_roots(env, home):
            if root.is_dir():
                roots.append(str(root))
                _walk(name, source, root, root, found, warnings)
    return roots, found


def _walk(name: str, source: ModuleType, root: Path, top: Path, found: list[LogFile], warnings: list[str]) -> None:
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
