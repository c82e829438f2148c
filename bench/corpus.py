"""Realistic Claude Code log trees, generated from a seed, with their exact totals.

`generate` writes `root/projects/<encoded-cwd>/<session>.jsonl` (plus subagent and `/btw`
sidechain files) in the shape DESIGN.md §2 describes, with every trap it lists: responses
streamed as 1-4 lines with growing `output_tokens`, resumed sessions replaying earlier lines
into a new file, subagent responses copied into the parent as `progress` lines, `/btw` replays
of a main-session response under a new `requestId`, `<synthetic>` error lines, responses
without `requestId` or `message.id`, mixed timestamp formats, long-context requests, unicode.

The returned `Truth` comes from the generator's own model of each response it writes (ids,
model, final usage, time of its first line); it is never read back from the files, so it can
check any reader. `append_session` adds new lines and sessions to a tree for incremental runs
and returns the truth of what it added (add it to the earlier truth). A small manifest
(`root/.bench-corpus.json`, outside `projects/`) carries the generator's state between calls.
"""

from __future__ import annotations

import base64
import math
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

import orjson

MANIFEST = ".bench-corpus.json"
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
LONG_CONTEXT = 200_000  # prompts above this many tokens are billed at the long-context rate

FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_tokens",
    "cache_creation_1h_tokens",
    "cache_read_tokens",
    "messages",
    "long_context_messages",
)
DAY_FIELDS = ("input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens", "messages")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

MAIN_MODELS: tuple[tuple[str, int], ...] = (
    ("claude-sonnet-4-5-20250929", 42),
    ("claude-opus-4-5-20251101", 20),
    ("claude-opus-4-1-20250805", 12),
    ("claude-sonnet-4-6", 8),
    ("claude-opus-4-6", 8),
    ("claude-haiku-4-5-20251001", 5),
    ("claude-sonnet-4-20250514", 5),
)
SUBAGENT_MODELS: tuple[tuple[str, int], ...] = (
    ("claude-haiku-4-5-20251001", 55),
    ("claude-sonnet-4-5-20250929", 35),
    ("claude-opus-4-5-20251101", 10),
)
# Models offered with the 1M-token context window: only these sessions grow past 200k.
LONG_MODELS = ("claude-sonnet-4-5-20250929", "claude-sonnet-4-6", "claude-opus-4-6")
VERSIONS = ("1.0.128", "2.0.14", "2.0.31", "2.0.55", "2.1.3")

_PROJECT_NAMES = (
    "shop", "api-gateway", "café-app", "infra", "ml.pipeline", "dotfiles", "docs-site",
    "mobile", "data lake", "billing", "cli-tool", "notes",
)
_USERS = ("ana", "bo", "chen", "dara", "eli")
_BRANCHES = ("main", "main", "main", "feature/cart", "fix/login-timeout", "feature/日本語-i18n", "refactor/db", "")
_PROMPTS = (
    "add a quantity field to the cart",
    "why does the login test time out on CI?",
    "refactor the billing module to use the new client",
    "écris les tests pour le parseur de dates",
    "请帮我修复这个内存泄漏",
    "run the linter and fix what it finds 🚀",
    "explain how the cache invalidation works here",
    "bump the dependencies and make sure the build still passes",
    "Überprüfe die Fehlerbehandlung im Upload-Pfad",
    "write a migration for the orders table",
)
_TOOLS: tuple[tuple[str, int], ...] = (
    ("Read", 30), ("Bash", 25), ("Edit", 12), ("Grep", 10), ("Glob", 5), ("Write", 4), ("TodoWrite", 6),
    ("WebFetch", 2),
)
_WORDS = (
    "self value result config request user order item cart total price session token cache index parse "
    "load save update handle error path file name data items count limit offset batch stream client "
    "response header payload retry timeout queue worker schema record field status"
).split()
_UNICODE_LINES = (
    "# Überprüfe die Eingabe — naïve façade",
    "// 日本語のコメント: キャッシュを更新する",
    "print('✓ done 🚀')",
    "# Ελληνικά: υπολογισμός του συνόλου",
    "-- résumé of the café menu, 价格 ¥12",
    'msg = "Привет, мир"',
)
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# Features the first sessions of `generate` are made to show, so that even a 1 MB corpus has
# every trap in it: name -> how many times.
_FORCED: dict[str, int] = {
    "subagent": 3, "inline_sidechain": 1, "progress": 1, "resume": 2, "btw": 2, "synthetic": 1,
    "no_rid": 2, "no_mid": 1, "long": 1, "micro": 2, "offset": 2, "utc_offset": 2,
}


# -- the truth ---------------------------------------------------------------------------------


def _day_of_hour(hour: int, zone: tzinfo) -> str:
    return datetime.fromtimestamp(hour * 3600, UTC).astimezone(zone).date().isoformat()


@dataclass
class Truth:
    """Exact totals of a corpus: per (UTC hour index, model, project) the sums of `FIELDS`,
    each response counted once at its final size (a `/btw` replay never counts)."""

    cells: dict[tuple[int, str, str], list[int]] = field(default_factory=dict)

    def add(self, time_ms: int, model: str, project: str, counts: Sequence[int]) -> None:
        key = (time_ms // HOUR_MS, model, project)
        cell = self.cells.get(key)
        if cell is None:
            self.cells[key] = list(counts)
        else:
            for i, value in enumerate(counts):
                cell[i] += value

    def __add__(self, other: Truth) -> Truth:
        merged = Truth({k: list(v) for k, v in self.cells.items()})
        for (hour, model, project), counts in other.cells.items():
            merged.add(hour * HOUR_MS, model, project, counts)
        return merged

    def subset(
        self,
        *,
        since: date | None = None,
        until: date | None = None,
        models: Iterable[str] | None = None,
        projects: Iterable[str] | None = None,
    ) -> Truth:
        """The truth of the responses whose first line falls in [since, until] (UTC days,
        inclusive), of the given models and projects (cwd's last component)."""
        model_set = set(models) if models is not None else None
        project_set = set(projects) if projects is not None else None
        lo = since.isoformat() if since else ""
        hi = until.isoformat() if until else "9999"
        out = Truth()
        for (hour, model, project), counts in self.cells.items():
            day = _day_of_hour(hour, UTC)
            if lo <= day <= hi and (model_set is None or model in model_set) and (
                project_set is None or project in project_set
            ):
                out.add(hour * HOUR_MS, model, project, counts)
        return out

    def by_day(self, zone: tzinfo = UTC) -> dict[tuple[str, str], dict[str, int]]:
        """(date "YYYY-MM-DD", model) -> `DAY_FIELDS`. Days are UTC unless `zone` is given
        (exact for zones whose offset is whole hours)."""
        days: dict[tuple[str, str], list[int]] = {}
        for (hour, model, _project), counts in self.cells.items():
            key = (_day_of_hour(hour, zone), model)
            acc = days.setdefault(key, [0] * len(FIELDS))
            for i, value in enumerate(counts):
                acc[i] += value
        return {
            key: {name: acc[FIELDS.index(name)] for name in DAY_FIELDS}
            for key, acc in sorted(days.items())
            if any(acc)
        }

    def total(self) -> dict[str, int]:
        acc = [0] * len(FIELDS)
        for counts in self.cells.values():
            for i, value in enumerate(counts):
                acc[i] += value
        return dict(zip(FIELDS, acc, strict=True))

    def dump(self) -> bytes:
        """Every cell, for `load` (the benchmark keeps a reused corpus's truth this way)."""
        return orjson.dumps([[h, m, p, *c] for (h, m, p), c in sorted(self.cells.items())])

    @classmethod
    def load(cls, data: bytes) -> Truth:
        return cls({(int(r[0]), str(r[1]), str(r[2])): [int(v) for v in r[3:]] for r in orjson.loads(data)})

    def to_json(self) -> dict[str, Any]:
        """JSON-ready: `days` (date, model and every field; UTC), `total`."""
        days: dict[tuple[str, str], list[int]] = {}
        for (hour, model, _project), counts in self.cells.items():
            acc = days.setdefault((_day_of_hour(hour, UTC), model), [0] * len(FIELDS))
            for i, value in enumerate(counts):
                acc[i] += value
        return {
            "days": [
                {"date": day, "model": model, **dict(zip(FIELDS, acc, strict=True))}
                for (day, model), acc in sorted(days.items())
                if any(acc)
            ],
            "total": self.total(),
        }


# -- the generator -----------------------------------------------------------------------------


def _encode_cwd(cwd: str) -> str:
    """Claude Code's folder name for a working directory: every non-alphanumeric becomes '-'."""
    return re.sub(r"[^A-Za-z0-9]", "-", cwd)


def _weighted(rng: random.Random, table: Sequence[tuple[str, int]]) -> str:
    return rng.choices([name for name, _ in table], weights=[w for _, w in table])[0]


def _log_uniform(rng: random.Random, lo: float, hi: float) -> int:
    if hi <= lo:
        return int(lo)
    return int(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def _text_pool(rng: random.Random, size: int = 1 << 20) -> str:
    """About `size` characters of code-like text (and some unicode) that tool results and
    content blocks are cut from: building text per line would make the generator slow."""
    lines: list[str] = []
    total = 0
    number = 1
    while total < size:
        w = rng.sample(_WORDS, 4)
        indent = " " * (4 * rng.randrange(4))
        kind = rng.randrange(9)
        if kind == 0:
            text = f"{indent}def {w[0]}_{w[1]}(self, {w[2]}: int) -> {w[3].title()}:"
        elif kind == 1:
            text = f"{indent}{w[0]} = {w[1]}.{w[2]}({w[3]}, {rng.randrange(10000)})"
        elif kind == 2:
            text = f'{indent}raise ValueError("{w[0]} {w[1]} is missing: {{{w[2]}!r}}")'
        elif kind == 3:
            text = f"{indent}if {w[0]} is None or {w[1]} > {rng.randrange(100)}:"
        elif kind == 4:
            text = f"{indent}return {{'{w[0]}': {w[1]}, \"{w[2]}\": [{w[3]}]}}"
        elif kind == 5:
            text = f"src/{w[0]}/{w[1]}.py:{rng.randrange(1, 900)}: {w[2]} {w[3]}\t# noqa"
        elif kind == 6:
            text = rng.choice(_UNICODE_LINES)
        elif kind == 7:
            text = f"{number:>6}→{indent}{w[0]}.{w[1]} += 1  \\\\ {w[2]}"
        else:
            text = ""
        number += 1
        lines.append(text)
        total += len(text) + 1
    return "\n".join(lines)


@dataclass(slots=True)
class _Session:
    sid: str
    cwd: str
    project: str  # the cwd's last component: the ledger's default project name
    folder: str  # the encoded cwd under projects/
    branch: str
    version: str
    model: str
    t: int  # ms of the last line written
    context: int  # prompt tokens the next request sends
    cached: int  # of those, how many the previous request wrote to (or read from) the cache
    limit: int  # auto-compaction threshold
    one_hour: float  # share of cache writes going to the 1-hour cache
    split: bool  # usage carries the 5m/1h `cache_creation` object (newer builds)
    progress: bool  # this build copies subagent responses into the parent as progress lines
    last_uuid: str | None = None
    last_request: int = 0
    sidechain: bool = False
    agent: str | None = None
    lines: list[bytes] = field(default_factory=list)
    replayable: list[bool] = field(default_factory=list)
    size: int = 0
    # (message id, request id, model, input, cache creation, cache read, time): main-session
    # responses a /btw side question may replay
    answered: list[tuple[str, str, str, int, int, int, int]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)  # a subagent's assistant records

    def state(self) -> dict[str, Any]:
        return {
            "sid": self.sid, "cwd": self.cwd, "project": self.project, "folder": self.folder,
            "branch": self.branch, "version": self.version, "model": self.model, "t": self.t,
            "context": self.context, "cached": self.cached, "limit": self.limit, "one_hour": self.one_hour,
            "split": self.split, "progress": self.progress, "last_uuid": self.last_uuid,
            "last_request": self.last_request,
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> _Session:
        return cls(**data)


@dataclass(slots=True)
class _Response:
    """Where the last response's lines sit in its session, for leaving it half-written."""

    first_line: int
    outputs: list[int]
    time_ms: int
    model: str
    project: str
    counts: tuple[int, int, int, int, int, int, int]  # final, in FIELDS order


class _Generator:
    def __init__(
        self, root: Path, rng: random.Random, *, forced: dict[str, int], session_bytes: tuple[int, int]
    ) -> None:
        self.root = root
        self.rng = rng
        self.truth = Truth()
        self.need = dict(forced)
        self.pool = _text_pool(rng)
        self.written = 0
        self.session_bytes = session_bytes
        self.sessions: dict[str, _Session] = {}  # main sessions, for later appends
        self.last_response: _Response | None = None
        self.btw_count = 0

    # -- small helpers ---------------------------------------------------------------------

    def _chance(self, feature: str, p: float) -> bool:
        if self.need.get(feature, 0) > 0:
            self.need[feature] -= 1
            return True
        return self.rng.random() < p

    def _b62(self, n: int) -> str:
        x = self.rng.getrandbits(6 * n)
        out = []
        for _ in range(n):
            x, r = divmod(x, 62)
            out.append(_B62[r])
        return "".join(out)

    def _uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"

    def _text(self, lo: int, hi: int) -> str:
        n = self.rng.randint(lo, hi)
        if n >= len(self.pool):
            return self.pool
        start = self.rng.randrange(len(self.pool) - n)
        return self.pool[start : start + n]

    def _ts(self, ms: int) -> str:
        """Mostly `...T09:14:05.301Z`; some with microseconds, `+00:00` or another offset."""
        moment = _EPOCH + timedelta(milliseconds=ms)
        frac = ms % 1000
        if self._chance("micro", 0.05):
            return f"{moment:%Y-%m-%dT%H:%M:%S}.{frac:03d}{self.rng.randrange(1000):03d}Z"
        if self._chance("offset", 0.03):
            return f"{moment:%Y-%m-%dT%H:%M:%S}.{frac:03d}+00:00"
        if self._chance("utc_offset", 0.01):
            minutes = self.rng.choice((120, -300, 330, 60))
            local = moment + timedelta(minutes=minutes)
            sign = "+" if minutes >= 0 else "-"
            hh, mm = divmod(abs(minutes), 60)
            return f"{local:%Y-%m-%dT%H:%M:%S}.{frac:03d}{sign}{hh:02d}:{mm:02d}"
        return f"{moment:%Y-%m-%dT%H:%M:%S}.{frac:03d}Z"

    def _envelope(self, s: _Session, kind: str) -> dict[str, Any]:
        record: dict[str, Any] = {
            "parentUuid": s.last_uuid, "isSidechain": s.sidechain, "userType": "external", "cwd": s.cwd,
            "sessionId": s.sid, "version": s.version, "gitBranch": s.branch,
        }
        if s.agent is not None:
            record["agentId"] = s.agent
        record["type"] = kind
        return record

    def _emit(self, s: _Session, record: dict[str, Any], *, replayable: bool = True) -> None:
        line = orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
        s.lines.append(line)
        s.replayable.append(replayable)
        s.size += len(line)

    def _finish(
        self, s: _Session, record: dict[str, Any], ms: int, *, replayable: bool = True,
        tail: dict[str, Any] | None = None,
    ) -> None:
        """Give the record its uuid and timestamp (and `tail` fields after them), write it."""
        uid = self._uuid()
        record["uuid"] = uid
        record["timestamp"] = self._ts(ms)
        if tail:
            record.update(tail)
        s.last_uuid = uid
        self._emit(s, record, replayable=replayable)

    def _write(self, path: Path, data: bytes, *, append: bool = False) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "ab" if append else "wb") as f:
            f.write(data)
        self.written += len(data)

    def _count(self, ms: int, model: str, project: str, counts: Sequence[int]) -> None:
        self.truth.add(ms, model, project, counts)

    # -- sessions ----------------------------------------------------------------------------

    def new_session(self, cwd: str, t0: int, *, branch: str | None = None, model: str | None = None) -> _Session:
        rng = self.rng
        long_context = self._chance("long", 0.03)
        if long_context:
            model = rng.choice(LONG_MODELS)
        elif model is None:
            model = _weighted(rng, MAIN_MODELS)
        hour_share = rng.random()
        s = _Session(
            sid=self._uuid(), cwd=cwd, project=cwd.rsplit("/", 1)[-1], folder=_encode_cwd(cwd),
            branch=branch if branch is not None else rng.choice(_BRANCHES), version=rng.choice(VERSIONS),
            model=model, t=t0,
            # A long-context session starts from a huge prompt (attached files, a big CLAUDE.md).
            context=rng.randint(180_000, 260_000) if long_context else rng.randint(12_000, 26_000),
            cached=rng.choice((0, 11_800)), limit=520_000 if long_context else 160_000,
            one_hour=1.0 if hour_share < 0.25 else (0.5 if hour_share < 0.35 else 0.0),
            split=rng.random() < 0.8, progress=rng.random() < 0.6,
        )
        return s

    def run(self, s: _Session, target: int) -> None:
        """Turns until the session's lines reach `target` bytes."""
        while s.size < target:
            self._turn(s, target)

    def _turn(self, s: _Session, target: int) -> None:
        rng = self.rng
        # The user thinks; sometimes leaves long enough for the 5-minute cache to expire.
        s.t += rng.randint(60_000, 900_000) if rng.random() < 0.15 else rng.randint(4_000, 120_000)
        if not s.sidechain and rng.random() < 0.3:
            snap = {"type": "file-history-snapshot", "messageId": self._uuid(),
                    "snapshot": {"messageId": self._uuid(), "trackedFileBackups": {}, "timestamp": self._ts(s.t)},
                    "isSnapshotUpdate": False}
            self._emit(s, snap)
        record = self._envelope(s, "user")
        record["message"] = {"role": "user", "content": rng.choice(_PROMPTS)}
        self._finish(s, record, s.t)
        steps = min(1 + int(rng.expovariate(1 / 4)), 25)
        for step in range(steps):
            final = step == steps - 1 or s.size >= target
            tools = self.respond(s, final=final)
            if tools:
                self._tool_results(s, tools)
            if s.context > s.limit:
                self._compact(s)
            if final:
                break

    def _compact(self, s: _Session) -> None:
        rng = self.rng
        s.t += rng.randint(20_000, 90_000)
        record = self._envelope(s, "system")
        record.update({"subtype": "compact_boundary", "content": "Conversation compacted", "isMeta": False,
                       "level": "info", "compactMetadata": {"trigger": "auto", "preTokens": s.context}})
        self._finish(s, record, s.t)
        summary = self._envelope(s, "user")
        summary["message"] = {"role": "user", "content": "This session is being continued from a previous "
                              "conversation that ran out of context. Summary: " + self._text(800, 4000)}
        summary["isCompactSummary"] = True
        self._finish(s, summary, s.t + 5)
        s.context = rng.randint(18_000, 40_000)
        s.cached = 0

    def _usage(self, inp: int, out: int, cc: int, cc1h: int, cr: int, split: bool) -> dict[str, Any]:
        usage: dict[str, Any] = {"input_tokens": inp, "cache_creation_input_tokens": cc, "cache_read_input_tokens": cr}
        if split:
            usage["cache_creation"] = {"ephemeral_5m_input_tokens": cc - cc1h, "ephemeral_1h_input_tokens": cc1h}
        usage["output_tokens"] = out
        usage["service_tier"] = "standard"
        return usage

    def respond(self, s: _Session, *, final: bool, blocks_at_least: int = 1) -> list[tuple[str, str]]:
        """One API response streamed as 1-4 lines sharing its ids, `output_tokens` growing to the
        final value; returns the tool uses (id, name) it asked for."""
        rng = self.rng
        s.t += rng.randint(1_500, 25_000)
        if not s.sidechain and blocks_at_least == 1:
            if self._chance("synthetic", 0.004):
                self._synthetic(s)
                return []
            if self._chance("no_mid", 0.002):
                self._no_id_response(s)
                return []
        mid = "msg_01" + self._b62(22)
        rid = None if self._chance("no_rid", 0.015) else "req_011C" + self._b62(18)
        model = s.model

        # Usage: the prompt is the context so far; what the last request cached is read back
        # unless the cache expired (5 minutes, or an hour for the 1-hour cache).
        prompt = s.context
        ttl = 3_600_000 if s.one_hour >= 1.0 else 300_000
        cached = s.cached if s.t - s.last_request < ttl else min(s.cached, 11_800)
        inp = rng.randint(1, 9)
        cr = max(0, min(cached, prompt - inp))
        cc = max(0, prompt - inp - cr)
        cc1h = round(cc * s.one_hour) if s.split else 0
        s.cached = prompt
        s.last_request = s.t

        blocks: list[dict[str, Any]] = []
        tools: list[tuple[str, str]] = []
        if rng.random() < 0.45 or blocks_at_least >= 3:
            blocks.append({"type": "thinking", "thinking": self._text(200, 3000), "signature": self._b62(300)})
        if final or rng.random() < 0.5 or blocks_at_least >= 2:
            blocks.append({"type": "text", "text": self._text(40, 1500)})
        if not final:
            n_tools = 1 if rng.random() < 0.85 else rng.randint(2, 3)
            for _ in range(min(n_tools, 4 - len(blocks))):
                tools.append(self._tool_use(s, blocks))
        if not blocks:
            blocks.append({"type": "text", "text": self._text(40, 600)})

        chars = sum(len(orjson.dumps(b)) for b in blocks)
        out_final = max(1, chars * 10 // 38 + rng.randint(2, 60))
        n = len(blocks)
        outputs = sorted(rng.randint(1, out_final) for _ in range(n - 1)) + [out_final]
        long_context = 1 if inp + cc + cr > LONG_CONTEXT else 0

        first_ms = s.t
        counts = (inp, out_final, cc, cc1h, cr, 1, long_context)
        self.last_response = _Response(len(s.lines), outputs, first_ms, model, s.project, counts)
        for i, block in enumerate(blocks):
            if i:
                s.t += rng.randint(150, 4_000)
            last = i == n - 1
            message: dict[str, Any] = {
                "model": model, "id": mid, "type": "message", "role": "assistant", "content": [block],
                "stop_reason": ("tool_use" if tools else "end_turn") if last else None, "stop_sequence": None,
                "usage": self._usage(inp, outputs[i], cc, cc1h, cr, s.split),
            }
            record = self._envelope(s, "assistant")
            record["message"] = message
            if rid is not None:
                record["requestId"] = rid
            self._finish(s, record, s.t)
            if s.sidechain:
                s.records.append(record)
        self._count(first_ms, model, s.project, counts)
        if not s.sidechain and rid is not None:
            s.answered.append((mid, rid, model, inp, cc, cr, s.t))
        s.context = prompt + out_final
        return tools

    def _tool_use(self, s: _Session, blocks: list[dict[str, Any]]) -> tuple[str, str]:
        rng = self.rng
        name = _weighted(rng, _TOOLS)
        if not s.sidechain and self._chance("subagent", 0.03):
            name = "Task"
        tool_id = "toolu_01" + self._b62(22)
        path = f"{s.cwd}/src/{rng.choice(_WORDS)}/{rng.choice(_WORDS)}.py"
        tool_input: dict[str, Any]
        if name == "Task":
            tool_input = {
                "description": "Find callers", "prompt": self._text(200, 1200), "subagent_type": "general-purpose",
            }
        elif name == "Bash":
            tool_input = {"command": f"pytest -q tests/test_{rng.choice(_WORDS)}.py", "description": "Run the tests"}
        elif name == "Edit":
            tool_input = {"file_path": path, "old_string": self._text(40, 1500), "new_string": self._text(40, 1500)}
        elif name == "Write":
            tool_input = {"file_path": path, "content": self._text(500, 6000)}
        elif name == "Grep":
            tool_input = {"pattern": rng.choice(_WORDS), "path": s.cwd, "output_mode": "content"}
        elif name == "TodoWrite":
            tool_input = {"todos": [{"content": self._text(20, 80), "status": "pending", "activeForm": "Working"}
                                    for _ in range(rng.randint(1, 5))]}
        else:
            tool_input = {"file_path": path}
        blocks.append({"type": "tool_use", "id": tool_id, "name": name, "input": tool_input})
        return tool_id, name

    def _tool_results(self, s: _Session, tools: list[tuple[str, str]]) -> None:
        rng = self.rng
        for tool_id, name in tools:
            s.t += rng.randint(300, 20_000)
            result: dict[str, Any]
            if name == "Task":
                text = self._subagent(s)
                result = {"status": "completed", "content": [{"type": "text", "text": text}]}
            else:
                # Most results are a few KB to tens of KB, twice over: the content and
                # `toolUseResult` both carry the text. These lines are most of the bytes.
                if rng.random() < 0.5:
                    size = rng.randint(200, 2_500)
                else:
                    size = _log_uniform(rng, 2_000, 30_000 if s.sidechain else 60_000)
                text = self._text(size // 2, size // 2)
                if name == "Bash":
                    result = {"stdout": text, "stderr": "", "interrupted": False, "isImage": False}
                elif name == "Read":
                    result = {"type": "text", "file": {"filePath": f"{s.cwd}/src/x.py", "content": text,
                                                       "numLines": text.count("\n") + 1, "startLine": 1,
                                                       "totalLines": text.count("\n") + 1}}
                else:
                    result = {"type": "update", "content": text}
            record = self._envelope(s, "user")
            result = {"tool_use_id": tool_id, "type": "tool_result", "content": text}
            record["message"] = {"role": "user", "content": [result]}
            # `toolUseResult` comes after uuid and timestamp, as Claude Code writes it.
            self._finish(s, record, s.t, tail={"toolUseResult": result})
            s.context += len(text) * 10 // 35

    def _subagent(self, s: _Session) -> str:
        """A subagent transcript: its own file under `<session>/subagents/` (its responses
        copied into the parent as progress lines by some builds), or, in old builds, sidechain
        lines in the parent file itself."""
        rng = self.rng
        agent = f"{rng.getrandbits(32):08x}"
        sub = _Session(
            sid=s.sid, cwd=s.cwd, project=s.project, folder=s.folder, branch=s.branch, version=s.version,
            model=_weighted(rng, SUBAGENT_MODELS), t=s.t, context=rng.randint(9_000, 22_000), cached=0,
            limit=160_000, one_hour=s.one_hour, split=s.split, progress=False, sidechain=True, agent=agent,
        )
        record = self._envelope(sub, "user")
        record["message"] = {"role": "user", "content": self._text(100, 800)}
        self._finish(sub, record, sub.t)
        steps = rng.randint(2, 10)
        for step in range(steps):
            tools = self.respond(sub, final=step == steps - 1)
            if tools:
                self._tool_results(sub, tools)
        inline = self._chance("inline_sidechain", 0.15)
        if inline:
            s.lines.extend(sub.lines)
            s.replayable.extend(sub.replayable)
            s.size += sub.size
        else:
            path = self.root / "projects" / s.folder / s.sid / "subagents" / f"agent-{agent}.jsonl"
            self._write(path, b"".join(sub.lines))
            if self._chance("progress", 0.0) or s.progress:
                for inner in sub.records:
                    progress = self._envelope(s, "progress")
                    progress["data"] = {"type": "agent_progress", "message": inner, "prompt": "", "agentId": agent}
                    progress["toolUseID"] = "agent_msg_01" + self._b62(22)
                    inner_ms = self._inner_ms(inner)
                    self._finish(s, progress, inner_ms + rng.randint(5, 60))
        s.t = max(s.t, sub.t) + rng.randint(50, 2_000)
        return self._text(100, 1200)

    @staticmethod
    def _inner_ms(record: dict[str, Any]) -> int:
        moment = datetime.fromisoformat(str(record["timestamp"]))
        return (moment - _EPOCH) // timedelta(milliseconds=1)

    def _synthetic(self, s: _Session) -> None:
        record = self._envelope(s, "assistant")
        record["message"] = {
            "id": self._uuid(), "model": "<synthetic>", "role": "assistant", "type": "message",
            "stop_reason": "stop_sequence", "stop_sequence": "",
            "usage": {
                "input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
            },
            "content": [
                {
                    "type": "text",
                    "text": self.rng.choice(("API Error: 529 Overloaded", "API Error: Request timed out.")),
                },
            ],
        }
        record["isApiErrorMessage"] = True
        self._finish(s, record, s.t)

    def _no_id_response(self, s: _Session) -> None:
        """A response with neither message.id nor requestId: readers key it by the line's bytes,
        so it is written once, as one line, and never replayed."""
        rng = self.rng
        inp, out, cc, cr = rng.randint(1, 9), rng.randint(5, 400), rng.randint(0, 3_000), min(s.context, 40_000)
        record = self._envelope(s, "assistant")
        record["message"] = {
            "model": s.model, "type": "message", "role": "assistant",
            "content": [{"type": "text", "text": self._text(20, 300)}], "stop_reason": "end_turn",
            "stop_sequence": None, "usage": {"input_tokens": inp, "cache_creation_input_tokens": cc,
                                             "cache_read_input_tokens": cr, "output_tokens": out},
        }
        self._finish(s, record, s.t, replayable=False)
        self._count(s.t, s.model, s.project, (inp, out, cc, 0, cr, 1, 1 if inp + cc + cr > LONG_CONTEXT else 0))

    def btw(self, s: _Session) -> None:
        """A `/btw` side question: a sidechain file replaying a main-session response with the
        same message.id, a new requestId and the parent's cache reads. It never counts."""
        rng = self.rng
        if not s.answered:
            return
        mid, _rid, model, inp, cc, cr, t = rng.choice(s.answered)
        side = _Session(
            sid=s.sid, cwd=s.cwd, project=s.project, folder=s.folder, branch=s.branch, version=s.version,
            model=model, t=t + rng.randint(5_000, 600_000), context=0, cached=0, limit=0, one_hour=0.0,
            split=False, progress=False, sidechain=True,
        )
        record = self._envelope(side, "user")
        record["message"] = {"role": "user", "content": "/btw " + rng.choice(_PROMPTS)}
        self._finish(side, record, side.t)
        side.t += rng.randint(1_000, 9_000)
        record = self._envelope(side, "assistant")
        record["message"] = {
            "model": model, "id": mid, "type": "message", "role": "assistant",
            "content": [{"type": "text", "text": self._text(40, 600)}], "stop_reason": "end_turn",
            "stop_sequence": None, "usage": self._usage(inp, rng.randint(15, 400), 0, 0, cr + cc, False),
        }
        record["requestId"] = "req_011C" + self._b62(18)
        self._finish(side, record, side.t)
        self.btw_count += 1
        if self.btw_count % 2 == 1:
            path = self.root / "projects" / s.folder / f"{self._uuid()}.jsonl"
        else:
            path = self.root / "projects" / s.folder / s.sid / "subagents" / f"agent-{rng.getrandbits(32):08x}.jsonl"
        self._write(path, b"".join(side.lines))

    def session_path(self, s: _Session) -> Path:
        return self.root / "projects" / s.folder / f"{s.sid}.jsonl"

    def main_session(self, cwd: str, t0: int, target: int) -> None:
        """A main session, then perhaps a /btw file, then perhaps resumed (maybe repeatedly)."""
        rng = self.rng
        s = self.new_session(cwd, t0)
        self.run(s, target)
        if rng.random() < 0.2:
            summary = self._text(20, 60).replace("\n", " ")
            self._emit(s, {"type": "summary", "summary": summary, "leafUuid": s.last_uuid})
        self._write(self.session_path(s), b"".join(s.lines))
        if self._chance("btw", 0.04):
            self.btw(s)
        while self._chance("resume", 0.12):
            s = self._resume(s, _log_uniform(rng, self.session_bytes[0], max(self.session_bytes[0], target)))
        self.sessions[s.sid] = s
        s.lines, s.replayable, s.answered = [], [], []

    def _resume(self, old: _Session, extra: int) -> _Session:
        """`claude --resume`: a new file that replays the old one's lines under the new session
        id (same message ids, request ids, uuids and timestamps), then continues."""
        rng = self.rng
        new = self.new_session(old.cwd, old.t + rng.randint(600_000, 3 * DAY_MS), branch=old.branch,
                               model=old.model if rng.random() < 0.8 else None)
        new.context, new.cached, new.last_uuid = old.context, 0, old.last_uuid
        new.limit = max(new.limit, old.limit)
        summary = self._text(20, 60).replace("\n", " ")
        self._emit(new, {"type": "summary", "summary": summary, "leafUuid": old.last_uuid})
        old_id, new_id = old.sid.encode(), new.sid.encode()
        for line, ok in zip(old.lines, old.replayable, strict=True):
            if ok:
                self._emit_bytes(new, line.replace(old_id, new_id))
        new.answered = list(old.answered)
        self.run(new, new.size + extra)
        self._write(self.session_path(new), b"".join(new.lines))
        return new

    def _emit_bytes(self, s: _Session, line: bytes) -> None:
        s.lines.append(line)
        s.replayable.append(True)
        s.size += len(line)


# -- the public functions ----------------------------------------------------------------------


def _ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def _projects(rng: random.Random, count: int) -> list[str]:
    user = rng.choice(_USERS)
    names = list(_PROJECT_NAMES)
    rng.shuffle(names)
    cwds = []
    for i in range(count):
        name = names[i % len(names)] + (f"-{i // len(names)}" if i >= len(names) else "")
        cwds.append(f"/home/{user}/src/{name}")
    return cwds


def _session_start(rng: random.Random, start_ms: int, days: float) -> int:
    day = rng.randrange(max(1, int(days)))
    # Working hours mostly; some late sessions run past midnight.
    hour = rng.choices(range(24), weights=[1, 1, 0, 0, 0, 0, 1, 2, 5, 8, 9, 9, 6, 8, 9, 9, 8, 6, 4, 4, 4, 3, 3, 2])[0]
    offset = day * DAY_MS + hour * HOUR_MS + rng.randrange(HOUR_MS)
    span = int(days * DAY_MS)
    return start_ms + (offset % span if span > 0 else 0)


def _load_manifest(root: Path) -> dict[str, Any]:
    return dict(orjson.loads((root / MANIFEST).read_bytes()))


def _save_manifest(root: Path, gen: _Generator, manifest: dict[str, Any]) -> None:
    manifest["sessions"] = {sid: s.state() for sid, s in sorted(gen.sessions.items())}
    manifest["written_bytes"] = manifest.get("written_bytes", 0) + gen.written
    (root / MANIFEST).write_bytes(orjson.dumps(manifest, option=orjson.OPT_SORT_KEYS))


def _fill(gen: _Generator, cwds: list[str], start_ms: int, days: float, target_bytes: int,
          continue_share: float) -> None:
    rng = gen.rng
    lo, hi = gen.session_bytes
    weights = [1 / (i + 1) for i in range(len(cwds))]
    while gen.written < target_bytes:
        remaining = target_bytes - gen.written
        if gen.sessions and rng.random() < continue_share:
            # Come back to an earlier session: new turns at the end of its file.
            s = gen.sessions[rng.choice(sorted(gen.sessions))]
            s.t = max(s.t, _session_start(rng, start_ms, days))
            gen.run(s, _log_uniform(rng, min(lo, 5_000), max(5_000, min(hi, remaining))))
            gen._write(gen.session_path(s), b"".join(s.lines), append=True)
            s.lines, s.replayable, s.answered = [], [], []
            continue
        cwd = rng.choices(cwds, weights=weights)[0]
        target = min(_log_uniform(rng, lo, max(lo, min(hi, target_bytes // 4))), max(lo, remaining))
        gen.main_session(cwd, _session_start(rng, start_ms, days), target)


def _leave_partial(gen: _Generator, manifest: dict[str, Any], start_ms: int = 0) -> None:
    """Leave one session mid-response: some of its streamed lines complete, the next one cut
    in half (no newline). The truth counts only the complete lines; the next call finishes
    the response and adds the rest."""
    rng = gen.rng
    s = gen.sessions[rng.choice(sorted(gen.sessions))]
    s.t = max(s.t, start_ms)
    before = len(s.lines)
    gen.respond(s, final=True, blocks_at_least=3)
    resp = gen.last_response
    assert resp is not None and resp.first_line >= before
    lines = s.lines[resp.first_line :]
    complete = rng.randrange(len(lines))  # how many of the response's lines are whole
    cut = lines[complete]
    half = rng.randint(1, len(cut) - 2)
    head = b"".join(s.lines[: resp.first_line + complete]) + cut[:half]
    gen._write(gen.session_path(s), head, append=True)
    # Take back what is not yet written from the truth.
    final = resp.outputs[-1]
    shown = resp.outputs[complete - 1] if complete else 0
    # Nothing of it is readable yet when its first line is the cut one: all of it is missing.
    missing = list(resp.counts) if complete == 0 else [0, final - shown, 0, 0, 0, 0, 0]
    gen.truth.add(resp.time_ms, resp.model, resp.project, [-v for v in missing])
    manifest["pending"] = {
        "path": str(gen.session_path(s).relative_to(gen.root)),
        "rest": base64.b64encode(cut[half:] + b"".join(lines[complete + 1 :])).decode(),
        "time_ms": resp.time_ms, "model": resp.model, "project": resp.project, "counts": missing,
    }
    s.lines, s.replayable, s.answered = [], [], []


def _finish_pending(gen: _Generator, manifest: dict[str, Any]) -> None:
    pending = manifest.pop("pending", None)
    if not pending:
        return
    gen._write(gen.root / pending["path"], base64.b64decode(pending["rest"]), append=True)
    gen.truth.add(pending["time_ms"], pending["model"], pending["project"], pending["counts"])


def generate(
    root: Path,
    *,
    target_bytes: int,
    seed: int = 0,
    start: datetime,
    days: int = 30,
    projects: int = 6,
    session_bytes: tuple[int, int] = (20_000, 20_000_000),
    partial_tail: bool = False,
) -> Truth:
    """Write a Claude Code log tree of about `target_bytes` under `root` (usable as
    `CLAUDE_CONFIG_DIR`), sessions starting within `days` days from `start`. Same arguments,
    same bytes. With `partial_tail`, one session ends in a half-written line (see
    `append_session`). Returns the exact totals of what is readable."""
    if (root / MANIFEST).exists():
        raise FileExistsError(f"{root} already holds a generated corpus; use append_session")
    rng = random.Random(f"ccsync-corpus:{seed}")
    gen = _Generator(root, rng, forced=_FORCED, session_bytes=session_bytes)
    (root / "projects").mkdir(parents=True, exist_ok=True)
    cwds = _projects(rng, projects)
    start_ms = _ms(start)
    _fill(gen, cwds, start_ms, days, target_bytes, continue_share=0.0)
    manifest: dict[str, Any] = {"version": 1, "seed": seed, "calls": 1, "cwds": cwds}
    if partial_tail:
        _leave_partial(gen, manifest)
    _save_manifest(root, gen, manifest)
    return gen.truth


def append_session(
    root: Path,
    *,
    target_bytes: int,
    seed: int,
    start: datetime,
    days: float = 1.0,
    continue_share: float = 0.5,
    partial_tail: bool = False,
) -> Truth:
    """Append about `target_bytes` to a generated tree: new turns at the end of existing
    session files (about `continue_share` of the sessions touched) and new sessions starting
    within `days` from `start`. First completes a half-written tail left by the previous call.
    Returns the truth of what this call added: earlier truth + this = the tree's truth."""
    manifest = _load_manifest(root)
    calls = int(manifest["calls"])
    rng = random.Random(f"ccsync-corpus:{manifest['seed']}:append:{seed}:{calls}")
    gen = _Generator(root, rng, forced={}, session_bytes=(20_000, 20_000_000))
    gen.sessions = {sid: _Session.from_state(data) for sid, data in manifest["sessions"].items()}
    _finish_pending(gen, manifest)
    start_ms = _ms(start)
    _fill(gen, list(manifest["cwds"]), start_ms, days, gen.written + target_bytes, continue_share)
    manifest["calls"] = calls + 1
    if partial_tail:
        _leave_partial(gen, manifest, start_ms)
    _save_manifest(root, gen, manifest)
    return gen.truth


def corpus_bytes(root: Path) -> int:
    """Bytes of every log file under `root/projects`."""
    return sum(p.stat().st_size for p in (root / "projects").rglob("*.jsonl"))

