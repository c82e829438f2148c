"""How a Codex CLI rollout becomes usage events: one per billable model call (pure, no I/O).

A rollout (`rollout-<time>-<thread id>.jsonl`) is a JSONL stream of `{timestamp, type, payload}`.
Usage lives only in `event_msg` lines whose payload is a `token_count`, and these carry no call
id: only the thread's running totals (`total_token_usage`) and the last call's usage
(`last_token_usage`). So a call is identified by its place in its thread's history: the root
thread and the running totals it brought the thread to. What that settles (../shared/formats.md
§2.5, each pitfall checked against Codex's `protocol.rs` / `codex.rs` and peers' bug trackers):

- rows repeated on every rate-limit refresh carry the same totals: the same key, counted once;
- `info: null` rows carry only rate limits: skipped;
- compaction and context-overflow rows (every component 0, only `total_tokens` set) are not
  spend and do not move the baseline;
- a fork or a subagent's rollout replays its parent's rows: keyed by the root thread (followed
  through every `forked_from_id` / `thread_spawn` parent the file names), they are the parent's
  keys, counted once whichever file is read first;
- a real reset (the totals restart lower) counts that row's own `last_token_usage`;
- a brief backward step (a stale snapshot between the last two totals) is skipped;
- the same rollout under `sessions/` and `archived_sessions/`, plain or `.zst`, gives the same
  keys: identity is never the path.

Ledger columns are disjoint (DESIGN §8): Codex's `input_tokens` includes the cached and
cache-written prompt, and `output_tokens` includes reasoning; so input = input - cached -
cache writes, cache read = cached, output = output (reasoning is never added again).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from syncer.events import MAX_TOKENS, BadLine, Event, count, json_object, parse_time_ms
from syncer.sources.adapter import Emit, Reject, marked_lines
from syncer.sources.codex import UNKNOWN_MODEL
from syncer.usage import TokenCounts, Usage

MARKER = re.compile(rb'"(?:t(?:oken_count|urn_context|hread_settings_applied)|session_meta)"')


class Totals(NamedTuple):
    """One `TokenUsage` as Codex writes it (cached and cache writes are part of input,
    reasoning part of output)."""

    prompt: int
    cached: int
    output: int
    reasoning: int
    cache_write: int
    total: int

    @property
    def degenerate(self) -> bool:
        """A compaction or context-overflow artefact: no component, only a total."""
        return not (self.prompt or self.cached or self.output or self.reasoning or self.cache_write)

    def covers(self, other: Totals) -> bool:
        return (
            self.prompt >= other.prompt and self.cached >= other.cached and self.output >= other.output
            and self.reasoning >= other.reasoning and self.cache_write >= other.cache_write
        )

    def minus(self, other: Totals) -> Totals:
        return Totals(self.prompt - other.prompt, self.cached - other.cached, self.output - other.output,
                      self.reasoning - other.reasoning, self.cache_write - other.cache_write, self.total - other.total)


def totals(value: object, name: str) -> Totals | None:
    if value is None:
        return None
    if type(value) is not dict:
        raise BadLine(f"{name} is not an object")
    get = value.get
    counts = (get("input_tokens", 0), get("cached_input_tokens", 0), get("output_tokens", 0),
              get("reasoning_output_tokens", 0), get("cache_write_input_tokens", 0), get("total_tokens", 0))
    # The common shape, every count an int in range, takes one pass; `count` decides the rest.
    if all(type(c) is int and 0 <= c < MAX_TOKENS for c in counts):
        return Totals(*counts)
    return Totals(*(count(c, f"{name}.{f}") for c, f in zip(counts, _FIELDS, strict=True)))


_FIELDS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens",
           "cache_write_input_tokens", "total_tokens")


def ledger_tokens(call: Totals) -> TokenCounts:
    """The call in the ledger's disjoint columns."""
    cached = min(call.cached, call.prompt)
    written = min(call.cache_write, call.prompt - cached)
    return Usage(
        input_tokens=call.prompt - cached - written, output_tokens=call.output,
        cache_creation_tokens=written, cache_read_tokens=cached,
    ).as_tuple()


class CodexParser:
    """Reads one rollout from its start, keeping the thread's running totals."""

    def __init__(self, fallback_session: str) -> None:
        self.thread = ""  # this file's own thread: its first session_meta
        self.fallback_session = fallback_session
        self.parents: dict[str, str] = {}  # thread -> the thread it was forked or spawned from
        self.model = UNKNOWN_MODEL
        self.cwd = ""
        self.branch = ""
        self.previous: Totals | None = None  # the last row's totals, whatever became of it
        self.baseline: Totals | None = None  # the totals after the last counted call
        self.before: Totals | None = None  # the totals before that call, if they grew to it
        self.seen: set[Totals] = set()
        self.last_row = b""  # the last token_count line, from its `"type"` on
        self._root = ""  # `root()`, once worked out

    def feed(self, data: bytes, end: int, emit: Emit, reject: Reject) -> None:
        for start, line in marked_lines(data, end, MARKER):
            # Rate-limit refreshes re-emit the last row with only a new timestamp (up to half
            # the rows of a real rollout): the same bytes after it need no parsing.
            if b'"token_count"' in line:
                row = line[line.find(b'"type"'):]
                if row == self.last_row:
                    continue
                self.last_row = row
            try:
                self.read_line(line, emit)
            except BadLine as exc:
                reject(start, str(exc))

    def finish(self, rest: bytes, emit: Emit, reject: Reject) -> None:
        """Codex ends every line with a newline: an unterminated tail is still being written."""

    def read_line(self, line: bytes, emit: Emit) -> None:
        record = json_object(line)
        kind = record.get("type")
        payload = record.get("payload")
        if type(payload) is not dict:
            return
        if kind == "session_meta":
            self._session_meta(payload)
        elif kind == "turn_context":
            self._settings(payload)
        elif kind == "event_msg":
            event = payload.get("type")
            if event == "token_count":
                self._token_count(record, payload, emit)
            elif event == "thread_settings_applied":
                self._settings(payload)

    def _session_meta(self, meta: dict[str, Any]) -> None:
        thread = meta.get("id") or meta.get("thread_id")  # the thread id; `session_id` names a tree
        if type(thread) is not str or not thread:
            return
        parent = _parent_thread(meta)
        if parent and parent != thread and thread not in self.parents:
            self.parents[thread] = parent
            self._root = ""
        if not self.thread:  # later metas are the replayed ancestors' (or repeats)
            self.thread = thread
            self._root = ""
            cwd = meta.get("cwd")
            self.cwd = cwd if type(cwd) is str else ""
            git = meta.get("git")
            branch = git.get("branch") if type(git) is dict else None
            self.branch = branch if type(branch) is str else ""

    def _settings(self, payload: dict[str, Any]) -> None:
        model = payload.get("model")
        if type(model) is str and model:
            self.model = model
        cwd = payload.get("cwd")
        if type(cwd) is str and cwd:
            self.cwd = cwd

    def _token_count(self, record: dict[str, Any], payload: dict[str, Any], emit: Emit) -> None:
        info = payload.get("info")
        if info is None:
            return  # rate limits only
        if type(info) is not dict:
            raise BadLine("token_count info is not an object")
        now = totals(info.get("total_token_usage"), "total_token_usage")
        if now is None:
            raise BadLine("token_count without total_token_usage")
        if now.degenerate:
            return
        if now == self.previous or now in self.seen:
            self.previous = now
            return  # re-emitted on a rate-limit refresh, or an older snapshot again
        self.previous = now
        baseline = self.baseline
        grew = baseline is not None and now.covers(baseline)
        if grew:
            assert baseline is not None
            call = now.minus(baseline)
        elif baseline is not None and baseline.covers(now) and self.before is not None and now.covers(self.before):
            return  # a stale snapshot from within the last call: a brief step back
        else:  # the first row, or a real reset: the row's own call
            last = totals(info.get("last_token_usage"), "last_token_usage")
            call = last if last is not None and not last.degenerate else now
        if len(info) > 3 or len(payload) > 3:  # beyond the usual keys: some builds name the model here
            for name in ("model", "model_name"):
                model = payload.get(name) or info.get(name)
                if type(model) is str and model:
                    self.model = model
        self.before = baseline if grew else None
        self.baseline = now
        self.seen.add(now)
        key = f"codex:{self._root or self.root()}:{now.prompt}:{now.cached}:{now.output}:{now.reasoning}"
        emit(Event(
            f"{key}:{now.cache_write}", None, parse_time_ms(record.get("timestamp")), self.model, ledger_tokens(call),
            self.thread or self.fallback_session, self.cwd, self.branch, False,
        ))

    def root(self) -> str:
        """The thread at the top of this file's fork and subagent ancestry."""
        if self._root:
            return self._root
        thread = self.thread or self.fallback_session
        visited = {thread}
        while (parent := self.parents.get(thread)) is not None and parent not in visited:
            visited.add(parent)
            thread = parent
        self._root = thread
        return thread


def _parent_thread(meta: dict[str, Any]) -> str:
    """The thread whose history this one starts from: `forked_from_id` (a fork), a top-level
    `parent_thread_id` or `source.subagent.thread_spawn.parent_thread_id` (a subagent, as
    2026 and 2025 builds write it), or `history_base.thread_id` (a thread started on another's
    history)."""
    source = meta.get("source")
    subagent = source.get("subagent") if type(source) is dict else None
    spawn = subagent.get("thread_spawn") if type(subagent) is dict else None
    base = meta.get("history_base")
    for parent in (
        meta.get("forked_from_id"),
        meta.get("parent_thread_id"),
        spawn.get("parent_thread_id") if type(spawn) is dict else None,
        base.get("thread_id") if type(base) is dict else None,
    ):
        if type(parent) is str and parent:
            return parent
    return ""
