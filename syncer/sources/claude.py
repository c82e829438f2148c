"""Claude Code: where its logs live and how one log line becomes a usage event (DESIGN.md §2)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from syncer.events import BadLine, Event

NAME = "claude"
_MAX_TOKENS = 2**40  # far above any real response; larger values are a corrupt line
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


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


def parse_time_ms(value: object) -> int:
    if not isinstance(value, str):
        raise BadLine("timestamp missing")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadLine(f"bad timestamp {value[:40]!r}") from None
    if moment.tzinfo is None:
        raise BadLine("timestamp without a time zone")
    return (moment - _EPOCH) // _MS  # integer arithmetic: no float rounding of milliseconds


def _count(value: object, name: str) -> int:
    if type(value) is int and 0 <= value < _MAX_TOKENS:
        return value
    if value is None:
        return 0
    raise BadLine(f"usage.{name} is not a token count")


def parse_line(line: bytes) -> Event | None:
    """The usage event a line carries, or None for lines that carry none (user turns,
    summaries, `<synthetic>` client errors). Raises BadLine for a line that should carry
    usage but cannot be read."""
    # Nine lines in ten are user turns and tool results: skip them without parsing JSON.
    if b'"usage"' not in line:
        return None
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        raise BadLine("not JSON") from None
    if type(record) is not dict:
        raise BadLine("not a JSON object")
    kind = record.get("type")
    inner: Any
    if kind == "assistant":
        inner = record
    elif kind == "progress":
        # Some builds copy a subagent's responses into the parent as progress lines.
        data = record.get("data")
        inner = data.get("message") if type(data) is dict else None
        if type(inner) is not dict or inner.get("type") != "assistant":
            return None
    else:
        return None
    message = inner.get("message")
    if type(message) is not dict:
        raise BadLine("assistant line without a message")
    model = message.get("model")
    if model == "<synthetic>":
        return None
    usage = message.get("usage")
    if type(usage) is not dict:
        raise BadLine("assistant line without usage")
    if type(model) is not str or not model:
        raise BadLine("assistant line without a model")

    get = usage.get
    cache_creation = _count(get("cache_creation_input_tokens", 0), "cache_creation_input_tokens")
    split = get("cache_creation")
    one_hour = _count(split.get("ephemeral_1h_input_tokens", 0), "ephemeral_1h") if type(split) is dict else 0
    tokens = (
        _count(get("input_tokens", 0), "input_tokens"),
        _count(get("output_tokens", 0), "output_tokens"),
        cache_creation,
        one_hour if one_hour <= cache_creation else cache_creation,
        _count(get("cache_read_input_tokens", 0), "cache_read_input_tokens"),
    )

    message_id = message.get("id")
    if type(message_id) is not str or not message_id:
        message_id = None
    request_id = inner.get("requestId")
    if message_id and type(request_id) is str and request_id:
        key = f"{message_id}:{request_id}"
    elif message_id:
        key = message_id
    else:
        key = "line:" + hashlib.blake2b(line.rstrip(b"\r"), digest_size=16).hexdigest()

    time_ms = parse_time_ms(inner.get("timestamp") or record.get("timestamp"))
    session = record.get("sessionId") or inner.get("sessionId") or ""
    cwd = record.get("cwd") or inner.get("cwd") or ""
    branch = record.get("gitBranch") or inner.get("gitBranch") or ""
    return Event(
        key,
        message_id,
        time_ms,
        model,
        tokens,
        session if type(session) is str else "",
        cwd if type(cwd) is str else "",
        branch if type(branch) is str else "",
        inner.get("isSidechain") is True,
    )
