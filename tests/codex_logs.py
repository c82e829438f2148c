"""Codex CLI rollouts in their real shape, built call by call for tests.

A `Rollout` records the calls it was asked to make (`calls`), and writes them the way Codex
does: running totals in `total_token_usage`, the call in `last_token_usage`, plus the noise
every pitfall in ../shared/formats.md §2.5 adds. `expected()` sums the calls themselves, in
ledger columns, so a test's truth never comes from the parser under test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from tests.parsing import stamp

MODEL = "gpt-5.2-codex"


@dataclass(frozen=True)
class Call:
    prompt: int  # Codex's input_tokens: cached and cache writes included
    cached: int
    output: int  # reasoning included
    reasoning: int = 0
    cache_write: int = 0

    def usage(self) -> dict[str, int]:
        return {
            "input_tokens": self.prompt, "cached_input_tokens": self.cached, "output_tokens": self.output,
            "reasoning_output_tokens": self.reasoning, "total_tokens": self.prompt + self.output,
            **({"cache_write_input_tokens": self.cache_write} if self.cache_write else {}),
        }

    def plus(self, other: Call) -> Call:
        return Call(self.prompt + other.prompt, self.cached + other.cached, self.output + other.output,
                    self.reasoning + other.reasoning, self.cache_write + other.cache_write)


ZERO = Call(0, 0, 0)


@dataclass
class Rollout:
    thread: str
    start: datetime = datetime(2026, 5, 13, 9, 0, tzinfo=UTC)
    cwd: str = "/home/ana/src/shop"
    branch: str = "main"
    forked_from: str | None = None
    spawned_by: str | None = None
    lines: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[Call, str]] = field(default_factory=list)  # (call, model)
    running: Call = ZERO
    clock: datetime = field(init=False)
    model: str | None = None

    def __post_init__(self) -> None:
        self.clock = self.start
        payload: dict[str, Any] = {
            "id": self.thread, "timestamp": stamp(self.start), "cwd": self.cwd, "originator": "codex_cli_rs",
            "cli_version": "0.144.6", "instructions": None, "source": "cli", "model_provider": "openai",
        }
        if self.forked_from:
            payload["forked_from_id"] = self.forked_from
        if self.spawned_by:
            spawn = {"parent_thread_id": self.spawned_by, "agent_role": "worker"}
            payload["source"] = {"subagent": {"thread_spawn": spawn}}
        self.add("session_meta", {**payload, "git": {"commit_hash": "abc123", "branch": self.branch}})

    def tick(self, seconds: float = 7.5) -> str:
        self.clock += timedelta(seconds=seconds)
        return stamp(self.clock)

    def add(self, kind: str, payload: dict[str, Any], ts: str | None = None) -> Rollout:
        self.lines.append({"timestamp": ts or stamp(self.clock), "type": kind, "payload": payload})
        return self

    def turn(self, model: str = MODEL) -> Rollout:
        self.model = model
        return self.add("turn_context", {"cwd": self.cwd, "approval_policy": "on-request", "model": model,
                                         "effort": "medium", "summary": "auto"}, self.tick(0.2))

    def settings(self, model: str) -> Rollout:
        """A 2026 build's `thread_settings_applied` event: the model changes mid-thread."""
        self.model = model
        settings = {"type": "thread_settings_applied", "model": model, "effort": "high"}
        return self.add("event_msg", settings, self.tick(0.1))

    def noise(self, size: int = 2_000) -> Rollout:
        """A user message and a tool result: most of a rollout's bytes, never parsed."""
        self.add("response_item", {"type": "message", "role": "user",
                                   "content": [{"type": "input_text", "text": "fix the tests " * 3}]}, self.tick(0.3))
        return self.add("response_item", {"type": "function_call_output", "call_id": "call_1",
                                          "output": "x" * size}, self.tick(0.3))

    def call(self, prompt: int, cached: int, output: int, reasoning: int = 0, cache_write: int = 0) -> Rollout:
        c = Call(prompt, cached, output, reasoning, cache_write)
        self.calls.append((c, self.model or "unknown"))
        self.running = self.running.plus(c)
        return self.row(self.running, c)

    def row(self, total: Call | dict[str, int], last: Call | dict[str, int], ts: str | None = None) -> Rollout:
        usage = total.usage() if isinstance(total, Call) else total
        last_usage = last.usage() if isinstance(last, Call) else last
        return self.add("event_msg", {"type": "token_count", "info": {
            "total_token_usage": usage, "last_token_usage": last_usage, "model_context_window": 272_000,
        }, "rate_limits": _limits()}, ts or self.tick())

    def reemit(self, times: int = 1) -> Rollout:
        """Codex sends the same totals again on every rate-limit refresh."""
        last = next(line for line in reversed(self.lines) if line["payload"].get("type") == "token_count")
        for _ in range(times):
            self.add("event_msg", last["payload"], self.tick(1))
        return self

    def rate_limits_only(self) -> Rollout:
        return self.add("event_msg", {"type": "token_count", "info": None, "rate_limits": _limits()}, self.tick(0.5))

    def compaction(self, context: int = 48_000) -> Rollout:
        """Token info re-estimated after /compact: every component 0, only a total; the
        running totals start again from nothing."""
        self.row({"input_tokens": 0, "cached_input_tokens": 0, "output_tokens": 0, "reasoning_output_tokens": 0,
                  "total_tokens": context}, {"input_tokens": 0, "cached_input_tokens": 0, "output_tokens": 0,
                                             "reasoning_output_tokens": 0, "total_tokens": context})
        self.running = ZERO
        return self

    def overflow(self, window: int = 272_000) -> Rollout:
        """`fill_to_context_window`: totals overwritten to the window, the last to a delta."""
        zero = {"input_tokens": 0, "cached_input_tokens": 0, "output_tokens": 0, "reasoning_output_tokens": 0}
        self.row({**zero, "total_tokens": window}, {**zero, "total_tokens": 1_234})
        self.running = ZERO
        return self

    def reset(self) -> Rollout:
        """An older build resumed: the running totals restart lower, with no marker."""
        self.running = ZERO
        return self

    def stale(self) -> Rollout:
        """A snapshot from just before the last call arrives late: a brief step backward."""
        last_call = self.calls[-1][0]
        back = Call(self.running.prompt - last_call.prompt // 2, self.running.cached - last_call.cached // 2,
                    self.running.output - last_call.output // 2, self.running.reasoning, self.running.cache_write)
        return self.row(back, Call(last_call.prompt // 2, last_call.cached // 2, last_call.output // 2))

    def replay(self, parent: Rollout, *, fork_time: datetime | None = None) -> Rollout:
        """A fork or subagent copies its parent's history, often restamped to the fork second,
        and goes on from the parent's running totals."""
        for line in parent.lines:
            copy = dict(line)
            if fork_time is not None:
                copy["timestamp"] = stamp(fork_time)
            self.lines.append(copy)
        self.running = parent.running
        self.model = parent.model
        return self

    def data(self, *, final_newline: bool = True) -> bytes:
        body = b"\n".join(orjson.dumps(line) for line in self.lines)
        return body + b"\n" if final_newline else body

    def name(self) -> str:
        return f"rollout-{self.start.strftime('%Y-%m-%dT%H-%M-%S')}-{self.thread}.jsonl"

    def write(self, codex_home: Path, *, archived: bool = False) -> Path:
        folder = codex_home / ("archived_sessions" if archived else "sessions/" + self.start.strftime("%Y/%m/%d"))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / self.name()
        path.write_bytes(self.data())
        return path


def _limits() -> dict[str, Any]:
    return {"primary": {"used_percent": 7.0, "window_minutes": 300, "resets_at": 1763483205},
            "secondary": {"used_percent": 77.0, "window_minutes": 10080, "resets_at": 1763606387}}


def ledger_columns(c: Call) -> tuple[int, int, int, int]:
    """(input, output, cache creation, cache read): cached and writes out of input, reasoning in output."""
    return (c.prompt - c.cached - c.cache_write, c.output, c.cache_write, c.cached)


def expected(*rollouts: Rollout) -> tuple[int, int, int, int, int]:
    """(input, output, cache creation, cache read, messages) of every call the rollouts made."""
    sums = [0, 0, 0, 0]
    n = 0
    for rollout in rollouts:
        for c, _model in rollout.calls:
            n += 1
            for i, v in enumerate(ledger_columns(c)):
                sums[i] += v
    return (*sums, n)  # type: ignore[return-value]


def thread_id(n: int) -> str:
    return f"019a{n:04x}-7c2e-7d41-9b3a-5e0f6c1d2a{n:02x}"
