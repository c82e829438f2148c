"""The CLIs whose logs ccsync reads. Each source module offers the same names:

- `NAME`: the source's name in the ledger (`claude`)
- `log_roots(env, home) -> list[Path]`: folders to walk for its log files
- `is_log_file(name) -> bool`
- `parse_line(line: bytes) -> Event | None`: pure; raises `BadLine` for a malformed usage line
- `fallback_project(path) -> str`: a project name for lines that carry no working directory

Adding a source is one new module and one line in `SOURCES`.
"""

from __future__ import annotations

from types import ModuleType

from syncer.sources import claude

SOURCES: dict[str, ModuleType] = {claude.NAME: claude}
