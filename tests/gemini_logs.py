"""Gemini CLI chat recordings in their real shapes, built message by message for tests.

A `Chat` remembers each model message's final tokens (`final`) and writes them the way
gemini-cli's ChatRecordingService does: the JSONL stream with every message written again on
each update, `$set` checkpoints and `$rewindTo` markers, or the legacy whole-file JSON.
`expected()` sums the final tokens in ledger columns, independently of the parser.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from tests.parsing import stamp

MODEL = "gemini-2.5-pro"


@dataclass
class Chat:
    session: str
    start: datetime = datetime(2026, 5, 17, 11, 7, tzinfo=UTC)
    kind: str | None = None
    records: list[dict[str, Any]] = field(default_factory=list)  # the JSONL stream
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # the current state
    final: dict[str, dict[str, int]] = field(default_factory=dict)
    clock: datetime = field(init=False)
    serial: int = 0

    def __post_init__(self) -> None:
        self.clock = self.start
        meta: dict[str, Any] = {"sessionId": self.session, "projectHash": "9f2c" * 16, "startTime": stamp(self.start),
                                "lastUpdated": stamp(self.start)}
        if self.kind:
            meta["kind"] = self.kind
        self.records.append(meta)

    def _id(self) -> str:
        self.serial += 1
        return f"{self.session[:8]}-{self.serial:04d}-4a1b-9c2d-7e3f00{self.serial:06d}"

    def _write(self, message: dict[str, Any]) -> None:
        self.messages[message["id"]] = message
        self.records.append(dict(message))

    def user(self, text: str = "refactor the parser") -> str:
        self.clock += timedelta(seconds=20)
        mid = self._id()
        self._write({"id": mid, "timestamp": stamp(self.clock), "type": "user", "content": [{"text": text}]})
        return mid

    def gemini(self, prompt: int, output: int, cached: int = 0, thoughts: int = 0, tool: int = 0,
               model: str = MODEL, updates: int = 2) -> str:
        """A model message written `updates` times: first without tokens, then as tool calls
        are added, last with its tokens."""
        self.clock += timedelta(seconds=3)
        mid = self._id()
        base = {"id": mid, "timestamp": stamp(self.clock), "type": "gemini", "content": "done", "model": model,
                "thoughts": [{"subject": "plan", "description": "x"}]}
        for n in range(updates - 1):
            self._write({**base, "tokens": None, "toolCalls": [{"id": f"t{k}", "name": "read_file"} for k in range(n)]})
        tokens = {"input": prompt, "output": output, "cached": cached, "thoughts": thoughts, "tool": tool,
                  "total": prompt + output + thoughts + tool}
        self._write({**base, "tokens": tokens})
        self.final[mid] = tokens
        return mid

    def checkpoint(self) -> Chat:
        """`$set.messages`: the whole history again (resume, /compress, masking)."""
        self.records.append({"$set": {"messages": list(self.messages.values()), "lastUpdated": stamp(self.clock)}})
        return self

    def rewind(self, to: str) -> Chat:
        """Drops messages from `to` on from the resumable history; they were still billed."""
        self.records.append({"$rewindTo": to})
        ids = list(self.messages)
        for mid in ids[ids.index(to):]:
            del self.messages[mid]
        return self

    def jsonl(self, *, final_newline: bool = True) -> bytes:
        body = b"\n".join(orjson.dumps(r) for r in self.records)
        return body + b"\n" if final_newline else body

    def legacy_json(self) -> bytes:
        """The pre-2026-04 file: one pretty-printed object, rewritten whole on every update."""
        doc = {"sessionId": self.session, "projectHash": "9f2c" * 16, "startTime": stamp(self.start),
               "lastUpdated": stamp(self.clock), "messages": list(self.messages.values())}
        return json.dumps(doc, indent=2).encode()

    def name(self, suffix: str = ".jsonl") -> str:
        return f"session-{self.start.strftime('%Y-%m-%dT%H-%M')}-{self.session[:8]}{suffix}"

    def write(
        self, gemini_home: Path, project: str = "shop", *, legacy: bool = False, parent: str | None = None
    ) -> Path:
        folder = gemini_home / ".gemini" / "tmp" / project / "chats"
        if parent:
            folder = folder / parent
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / (f"{self.session}.jsonl" if parent else self.name(".json" if legacy else ".jsonl"))
        path.write_bytes(self.legacy_json() if legacy else self.jsonl())
        return path


def expected(*chats: Chat) -> tuple[int, int, int, int, int]:
    """(input, output, cache creation, cache read, messages): cached out of input, tool prompt
    into it, thoughts into output, one message each."""
    sums = [0, 0, 0, 0]
    n = 0
    for chat in chats:
        for t in chat.final.values():
            n += 1
            sums[0] += t["input"] - t["cached"] + t["tool"]
            sums[1] += t["output"] + t["thoughts"]
            sums[3] += t["cached"]
    return (*sums, n)  # type: ignore[return-value]


def session_id(n: int) -> str:
    return f"{n:08x}-51c4-4e0a-8d7e-2f6b9a0c3e{n:02x}"
