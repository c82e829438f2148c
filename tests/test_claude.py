from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from syncer.events import BadLine, Event
from syncer.sources import claude
from syncer.sources.claude.parser import parse_line
from tests import logs


def parse_any(record: dict[str, Any]) -> Event | None:
    return parse_line(logs.line(record).rstrip(b"\n"))


def parse(record: dict[str, Any]) -> Event:
    event = parse_any(record)
    assert event is not None, record
    return event


def test_key_is_message_id_and_request_id() -> None:
    event = parse(logs.assistant("msg_1", "req_9"))
    assert event.key == "msg_1:req_9"
    assert event.tokens == (3, 10, 100, 0, 1000)
    where = (event.session, event.cwd, event.branch, event.sidechain)
    assert where == (logs.SESSION, "/home/ana/src/shop", "main", False)


def test_key_falls_back_to_message_id_then_line_hash() -> None:
    assert parse(logs.assistant("msg_1", None)).key == "msg_1"
    a = parse(logs.assistant(None, None, ts="2026-11-20T09:00:00Z"))
    b = parse(logs.assistant(None, None, ts="2026-11-20T09:00:01Z"))
    assert a.key.startswith("line:") and a.key != b.key


def test_one_hour_cache_split_is_read() -> None:
    event = parse(logs.assistant("m", tokens=logs.usage(1, 2, 300, 4, one_hour=200)))
    assert event.tokens == (1, 2, 300, 200, 4)


@pytest.mark.parametrize(
    "stamp, expected_ms",
    [
        ("2026-11-20T09:14:05.301Z", 1795166045301),
        ("2026-11-20T09:14:05.301123Z", 1795166045301),
        ("2026-11-20T10:14:05.301+01:00", 1795166045301),
        ("2026-11-20T09:14:05Z", 1795166045000),
    ],
)
def test_timestamps_in_every_shape(stamp: str, expected_ms: int) -> None:
    assert parse(logs.assistant("m", ts=stamp)).time_ms == expected_ms


def test_lines_without_usage_are_not_events() -> None:
    assert parse_any(logs.user()) is None
    assert parse_any({"type": "summary", "summary": "x", "leafUuid": "a"}) is None
    assert parse_any(logs.assistant("m", model="<synthetic>", tokens=logs.usage())) is None
    # a user line whose tool result carries a usage block (Task tool) is not an assistant response
    assert parse_any({"type": "user", "toolUseResult": {"usage": {"input_tokens": 5}}}) is None


def test_progress_line_yields_the_embedded_subagent_response() -> None:
    inner = logs.assistant("msg_sub", "req_sub", model="claude-haiku-4-5-20251001", sidechain=True,
                           ts="2026-11-20T09:15:01.500Z")
    event = parse(logs.progress(inner))
    assert event.key == "msg_sub:req_sub"
    assert event.sidechain is True
    assert event.model == "claude-haiku-4-5-20251001"


@pytest.mark.parametrize(
    "raw",
    [
        b'{"type":"assistant","message":{"usage":',  # truncated
        b'{"type":"assistant","timestamp":"2026-11-20T09:14:05Z","message":{"model":"m","usage":{"input_tokens":-1}}}',
        b'{"type":"assistant","timestamp":"2026-11-20T09:14:05Z","message":{"model":"m","usage":{"input_tokens":"7"}}}',
        b'{"type":"assistant","timestamp":"yesterday","message":{"model":"m","usage":{"input_tokens":1}}}',
        b'{"type":"assistant","timestamp":"2026-11-20T09:14:05Z","message":{"usage":{"input_tokens":1}}}',
        b'["usage"]',
    ],
)
def test_malformed_usage_lines_are_bad(raw: bytes) -> None:
    with pytest.raises(BadLine):
        parse_line(raw)


def test_log_roots(tmp_path: Path) -> None:
    home = tmp_path / "h"
    assert claude.log_roots({}, home) == [home / ".config/claude/projects", home / ".claude/projects"]
    env = {"CLAUDE_CONFIG_DIR": f"{tmp_path}/a, {tmp_path}/b,"}
    assert claude.log_roots(env, home) == [tmp_path / "a/projects", tmp_path / "b/projects"]


def test_shared_samples_parse_to_their_documented_totals() -> None:
    samples = Path(__file__).resolve().parent / "samples" / "claude" / "projects"
    best: dict[str, tuple[int, ...]] = {}
    for path in samples.rglob("*.jsonl"):
        for raw in path.read_bytes().splitlines():
            event = parse_line(raw)
            if event is not None:
                seen = best.get(event.key, (0,) * 5)
                best[event.key] = tuple(max(a, b) for a, b in zip(seen, event.tokens, strict=True))
    sums = [sum(t[i] for t in best.values()) for i in range(5)]
    assert len(best) == 3
    assert sums == [23, 324, 2311, 0, 57736]
    assert orjson.loads(b"1") == 1
