"""Google Gemini CLI: where its chat recordings live and how they are read (formats.md §3)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from syncer.sources.gemini.parser import GeminiParser

UNKNOWN_MODEL = "unknown"  # the model of usage no line named (never priced)


class Gemini:
    name = "gemini"
    env_var = "GEMINI_CLI_HOME"
    env_holds = ".gemini/"
    # Legacy chats are rewritten whole, and a message's latest write is the one that counts:
    # a changed file is read again from its start.
    resumable = False

    def log_roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        """`.gemini/tmp/` under `$GEMINI_CLI_HOME` (Gemini's own override of the home folder),
        default the home folder. Chats are in `tmp/<project>/chats/`."""
        configured = env.get("GEMINI_CLI_HOME", "").strip()
        base = Path(configured).expanduser() if configured else home
        return [base / ".gemini" / "tmp"]

    def is_log_file(self, name: str) -> bool:
        # Main chats are `session-*.json[l]`, subagents' `chats/<parent>/<id>.jsonl`; a
        # recovery leaves `*.unreadable-<time>` copies, which are not logs.
        return name.endswith(".jsonl") or (name.startswith("session-") and name.endswith(".json"))

    def fallback_project(self, path: Path, root: Path) -> str:
        """The project folder under `tmp/` (a slug, or the hash of older versions)."""
        try:
            return path.relative_to(root).parts[0]
        except (ValueError, IndexError):
            return ""

    def decode(self, path: Path, raw: bytes) -> bytes:
        return raw

    def parser(self, path: Path) -> GeminiParser:
        from syncer.sources.gemini.parser import GeminiParser  # noqa: PLC0415 - only scans read logs

        return GeminiParser(path.stem, whole_json=path.name.endswith(".json"))

    def price_name(self, model: str) -> str | None:
        """Google's id: the API's `models/` prefix dropped."""
        if model == UNKNOWN_MODEL:
            return None
        return model.lower().removeprefix("models/")


SOURCE = Gemini()
