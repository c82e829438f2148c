"""Tiny hand-written Claude Code log records for tests, in the shape of tests/samples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

SESSION = "5b0c1d2e-0000-4000-8000-00000000000a"


def usage(inp: int = 0, out: int = 0, create: int = 0, read: int = 0, one_hour: int | None = None) -> dict[str, Any]:
    u: dict[str, Any] = {
        "input_tokens": inp, "output_tokens": out,
        "cache_creation_input_tokens": create, "cache_read_input_tokens": read,
    }
    if one_hour is not None:
        u["cache_creation"] = {"ephemeral_5m_input_tokens": create - one_hour, "ephemeral_1h_input_tokens": one_hour}
    return u


def assistant(
    mid: str | None,
    rid: str | None = "req_1",
    *,
    model: str = "claude-sonnet-4-5-20250929",
    tokens: dict[str, Any] | None = None,
    ts: str = "2026-11-20T09:14:05.301Z",
    session: str = SESSION,
    cwd: str = "/home/ana/src/shop",
    branch: str = "main",
    sidechain: bool = False,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "isSidechain": sidechain, "userType": "external", "cwd": cwd, "sessionId": session,
        "version": "2.0.31", "gitBranch": branch, "type": "assistant", "uuid": "a", "timestamp": ts,
        "message": {
            "model": model, "type": "message", "role": "assistant",
            "content": [{"type": "text", "text": "ok"}],
            "usage": tokens if tokens is not None else usage(3, 10, 100, 1000),
        },
    }
    if mid is not None:
        record["message"]["id"] = mid
    if rid is not None:
        record["requestId"] = rid
    return record


def progress(inner: dict[str, Any], *, session: str = SESSION, ts: str = "2026-11-20T09:15:01.520Z") -> dict[str, Any]:
    return {
        "isSidechain": False, "cwd": inner.get("cwd", ""), "sessionId": session, "type": "progress",
        "timestamp": ts, "data": {"type": "agent_progress", "message": inner},
    }


def user(text: str = "hello", *, ts: str = "2026-11-20T09:14:02.120Z") -> dict[str, Any]:
    return {"type": "user", "sessionId": SESSION, "message": {"role": "user", "content": text}, "timestamp": ts}


def line(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record) + b"\n"


def write(path: Path, *records: dict[str, Any], append: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab" if append else "wb") as f:
        for record in records:
            f.write(line(record))
    return path


def session_file(claude_dir: Path, name: str = SESSION, project: str = "-home-ana-src-shop") -> Path:
    return claude_dir / "projects" / project / f"{name}.jsonl"


def lose_local_state(state: Path) -> None:
    """What a lost cache looks like: the checkpoints and the key index gone, the ledger kept."""
    for local in [*state.glob("state-*.json"), *state.glob("index-*.json"), *state.glob("keys.sqlite3*")]:
        local.unlink()
