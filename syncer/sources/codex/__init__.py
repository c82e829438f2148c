"""OpenAI Codex CLI: where its rollouts live and how they are read (../shared/formats.md §2)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from syncer.sources.codex.parser import CodexParser

UNKNOWN_MODEL = "unknown"  # the model of usage no line named (never priced)

MAX_DECOMPRESSED = 4 * 2**30  # a corrupt or hostile frame must not fill the memory
INPUT_SLICE = 1 << 16


class Codex:
    name = "codex"
    env_var = "CODEX_HOME"
    env_holds = "sessions/"
    # Each call is known only against the running totals before it, and idle rollouts are
    # recompressed (`.jsonl.zst`): a changed file is read again from its start.
    resumable = False

    def log_roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        """`sessions/` (dated folders) and `archived_sessions/` (flat; `codex archive` moves
        rollouts there) under `$CODEX_HOME`, default `~/.codex`."""
        configured = env.get("CODEX_HOME", "").strip()
        base = Path(configured).expanduser() if configured else home / ".codex"
        return [base / "sessions", base / "archived_sessions"]

    def is_log_file(self, name: str) -> bool:
        return name.startswith("rollout-") and (name.endswith(".jsonl") or name.endswith(".jsonl.zst"))

    def fallback_project(self, path: Path, root: Path) -> str:
        return ""  # every rollout names its working directory

    def decode(self, path: Path, raw: bytes) -> bytes:
        if path.name.endswith(".zst"):
            import zstandard  # noqa: PLC0415 - only compressed rollouts need it

            # Fed a slice at a time, so the size cap holds however well the frame compresses.
            stream = zstandard.ZstdDecompressor().decompressobj()
            out = bytearray()
            try:
                for start in range(0, len(raw), INPUT_SLICE):
                    out += stream.decompress(raw[start:start + INPUT_SLICE])
                    if len(out) > MAX_DECOMPRESSED:
                        raise ValueError("decompresses to more than 4 GiB")
            except zstandard.ZstdError as exc:
                raise ValueError(f"not a readable zstd file ({exc})") from None
            if not stream.eof:
                raise ValueError("an incomplete zstd file (still being written?)")
            return bytes(out)
        return raw

    def parser(self, path: Path) -> CodexParser:
        from syncer.sources.codex.parser import CodexParser  # noqa: PLC0415 - only scans read logs

        return CodexParser(_thread_of(path.name))

    def price_name(self, model: str) -> str | None:
        """OpenAI's id: a provider prefix (`openai/gpt-5`) dropped; rows before any
        `turn_context` name no model."""
        if model == UNKNOWN_MODEL:
            return None
        return model.lower().removeprefix("openai/")


def _thread_of(name: str) -> str:
    """The thread id at the end of `rollout-2026-05-13T09-00-00-<uuid>.jsonl[.zst]`."""
    stem = name.removesuffix(".zst").removesuffix(".jsonl")
    return stem[-36:] if len(stem) > len("rollout-") + 36 else stem


SOURCE = Codex()
