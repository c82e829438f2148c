"""Claude Code: where its transcripts live and how they are read (DESIGN.md §2)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from syncer.sources.claude.parser import ClaudeParser

__all__ = ["SOURCE", "log_roots"]

def log_roots(env: Mapping[str, str], home: Path) -> list[Path]:
    """`projects/` under each folder of `CLAUDE_CONFIG_DIR` (comma-separated; when set, only
    those), else under `~/.config/claude` and `~/.claude`."""
    configured = env.get("CLAUDE_CONFIG_DIR", "")
    if configured.strip():
        bases = [Path(p.strip()).expanduser() for p in configured.split(",") if p.strip()]
    else:
        bases = [home / ".config" / "claude", home / ".claude"]
    roots: list[Path] = []
    for base in bases:
        root = base / "projects"
        if base.name == "projects" and not root.is_dir() and base.is_dir():
            root = base  # `CLAUDE_CONFIG_DIR=~/.claude/projects`: the parent is meant
        if root not in roots:
            roots.append(root)
    return roots


def is_log_file(name: str) -> bool:
    return name.endswith(".jsonl")


def fallback_project(path: Path, root: Path) -> str:
    """The encoded working directory folder (`-home-ana-src-shop`) under `projects/`."""
    try:
        return path.relative_to(root).parts[0]
    except (ValueError, IndexError):
        return ""



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
        from syncer.sources.claude.parser import ClaudeParser  # noqa: PLC0415 - only scans read lines

        return ClaudeParser()

    def price_name(self, model: str) -> str | None:
        # The table knows Anthropic's ids; Bedrock, Vertex and `[1m]` spellings are matched there.
        return model


SOURCE = Claude()
