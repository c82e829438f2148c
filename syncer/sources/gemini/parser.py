"""How a Gemini CLI chat recording becomes usage events: one per model message (pure, no I/O).

Two shapes (gemini-cli `chatRecordingService.ts`, ../shared/formats.md §3):
- legacy `session-*.json`: one JSON object `{sessionId, messages: [...]}`, rewritten whole on
  every update;
- `session-*.jsonl` (and subagents' `chats/<parent>/<id>.jsonl`): append-only lines — a metadata
  line `{sessionId, projectHash, startTime, ...}`, message records `{id, timestamp, type,
  model, tokens}` written again in full on every update (tokens are often attached later),
  `{"$set": {...}}` patches (a `messages` list re-emits the whole history), and
  `{"$rewindTo": id}` markers.

A message is identified by (session id, message id): repeated writes, `$set` checkpoints, a
legacy `.json` copied into a `.jsonl` on resume and a project folder copied by Gemini's folder
migration all give the same keys, so each message counts once. Within a file the latest write
wins; a rewind drops messages from the resumable history, not from the bill, so it is ignored.

Ledger columns are disjoint (DESIGN §8): Gemini's `input` (promptTokenCount) includes `cached`,
`tool` is extra prompt, `output` excludes `thoughts`; so input = input - cached + tool, cache
read = cached, output = output + thoughts.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from syncer.events import BadLine, Event, count, json_object, parse_time_ms
from syncer.sources.adapter import Emit, Reject, marked_lines
from syncer.sources.gemini import UNKNOWN_MODEL
from syncer.usage import TokenCounts, Usage

MARKER = re.compile(rb'"(?:tokens|sessionId)"')


def ledger_tokens(tokens: dict[str, Any]) -> TokenCounts:
    """A message's `tokens` in the ledger's disjoint columns."""
    get = tokens.get
    prompt = count(get("input"), "tokens.input")
    cached = min(count(get("cached"), "tokens.cached"), prompt)
    return Usage(
        input_tokens=prompt - cached + count(get("tool"), "tokens.tool"),
        output_tokens=count(get("output"), "tokens.output") + count(get("thoughts"), "tokens.thoughts"),
        cache_read_tokens=cached,
    ).as_tuple()


class GeminiParser:
    """Reads one chat file from its start; emits its messages once the file is read, so the
    latest write of each message is the one that counts."""

    def __init__(self, fallback_session: str, *, whole_json: bool) -> None:
        self.session = ""
        self.fallback_session = fallback_session
        self.model = UNKNOWN_MODEL  # legacy files name a model once, for the whole session
        self.whole_json = whole_json
        self.parts: list[bytes] = []  # a legacy file's bytes, parsed at the end
        self.messages: dict[str, dict[str, Any]] = {}
        self.offsets: dict[str, int] = {}  # where each message's latest write starts
        self.at = 0  # where the record being read starts

    def feed(self, data: bytes, end: int, emit: Emit, reject: Reject) -> None:
        if self.whole_json:
            self.parts.append(data[:end])
            return
        for start, line in marked_lines(data, end, MARKER):
            self.at = start
            try:
                self._read_record(json_object(line))
            except BadLine as exc:
                reject(start, str(exc))

    def finish(self, rest: bytes, emit: Emit, reject: Reject) -> None:
        if self.whole_json:
            try:
                self._read_legacy(json_object(b"".join(self.parts) + rest))
            except BadLine as exc:
                reject(0, str(exc))
        elif rest.strip():
            # A final line without its newline counts once it is a complete record; a
            # half-written one waits for the next run (the whole file is read again).
            self.at = -1  # unknown here; a bad message found later is named at the file's start
            try:
                self._read_record(orjson.loads(rest))
            except (orjson.JSONDecodeError, BadLine):
                pass
        for message in self.messages.values():
            try:
                event = self._event(message)
            except BadLine as exc:
                reject(max(self.offsets.get(message["id"], 0), 0), str(exc))
                continue
            if event is not None:
                emit(event)

    def _read_legacy(self, document: dict[str, Any]) -> None:
        self._metadata(document)
        self._messages(document.get("messages"))

    def _read_record(self, record: dict[str, Any]) -> None:
        if "$set" in record:
            patch = record["$set"]
            if type(patch) is dict:
                self._metadata(patch)
                self._messages(patch.get("messages"))
        elif "$rewindTo" in record:
            return  # the rewound messages were still billed
        elif type(record.get("id")) is str:
            self._message(record)
        else:
            self._metadata(record)

    def _metadata(self, record: dict[str, Any]) -> None:
        session = record.get("sessionId")
        if type(session) is str and session and not self.session:
            self.session = session
        model = record.get("model")
        if type(model) is str and model:
            self.model = model

    def _messages(self, messages: object) -> None:
        if type(messages) is list:
            for message in messages:
                if type(message) is dict and type(message.get("id")) is str:
                    self._message(message)

    def _message(self, message: dict[str, Any]) -> None:
        if message.get("type") == "gemini":
            self.messages[message["id"]] = message  # the latest write wins
            self.offsets[message["id"]] = self.at

    def _event(self, message: dict[str, Any]) -> Event | None:
        tokens = message.get("tokens")
        if tokens is None:
            return None  # written before its response finished, or by a build without tokens
        if type(tokens) is not dict:
            raise BadLine("tokens is not an object")
        model = message.get("model")
        session = self.session or self.fallback_session
        return Event(
            f"gemini:{session}:{message['id']}",
            None,
            parse_time_ms(message.get("timestamp")),
            model if type(model) is str and model else self.model,
            ledger_tokens(tokens),
            session,
            "",
            "",
            False,
        )

