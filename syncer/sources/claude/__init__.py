"""Claude Code: where its transcripts live and how they are read (DESIGN.md §2)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from syncer.events import BadLine
from syncer.sources.adapter import Emit, Reject
from syncer.sources.claude.parser import (
    fallback_project,
    is_log_file,
    log_roots,
    parse_line,
    parse_marked_line,
)

__all__ = ["SOURCE", "parse_line", "log_roots"]

USAGE_MARK = b'"usage"'


class ClaudeParser:
    """Claude lines stand alone: only those that mention usage are parsed; most bytes are
    tool results, never parsed."""

    def feed(self, data: bytes, end: int, emit: Emit, reject: Reject) -> None:
        find, rfind = data.find, data.rfind
        position = 0
        while True:
            mark = find(USAGE_MARK, position, end)
            if mark < 0:
                return
            start = rfind(b"\n", position, mark) + 1 or position
            stop = find(b"\n", mark, end)
            position = stop + 1
            try:
                event = parse_marked_line(data[start:stop])
            except BadLine as exc:
                reject(start, str(exc))
                continue
            if event is not None:
                emit(event)

    def finish(self, rest: bytes, emit: Emit, reject: Reject) -> None:
        """Claude logs are resumable: the scanner reads a final line without its newline."""


class Claude:
    name = "claude"
    env_var = "CLAUDE_CONFIG_DIR"
    env_holds = "projects/"
    resumable = True

    def log_roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        return log_roots(env, home)

    def is_log_file(self, name: str) -> bool:
        return is_log_file(name)

    def fallback_project(self, path: Path, root: Path) -> str:
        return fallback_project(path, root)

    def decode(self, path: Path, raw: bytes) -> bytes:
        return raw

    def parser(self, path: Path) -> ClaudeParser:
        return ClaudeParser()

    def price_name(self, model: str) -> str | None:
        # The table knows Anthropic's ids; Bedrock, Vertex and `[1m]` spellings are matched there.
        return model


SOURCE = Claude()
