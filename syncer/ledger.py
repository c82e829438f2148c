"""The ledger: one device's permanent record, and the pure rules that grow it (DESIGN.md §2–3).

`Ledger` is the strict schema of `data/<device>.json`. `Tally` is the same record in memory
together with the local dedup index; `Tally.apply` adds an event line's growth over what its
key already contributed, so any order and any split of the same lines gives the same result.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, NamedTuple

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from syncer.documents import json_schema as json_schema_of
from syncer.documents import refuse_newer
from syncer.errors import LedgerCorrupt
from syncer.events import Event

SCHEMA_VERSION: Literal[1] = 1
DEVICE_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
LONG_CONTEXT_THRESHOLD = 200_000
HOUR_MS = 3_600_000

Count = Annotated[int, Field(ge=0, le=2**53)]
Text = Annotated[str, Field(max_length=1024)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


class Tokens(_Strict):
    input_tokens: Count = 0
    output_tokens: Count = 0
    cache_creation_tokens: Count = 0
    cache_creation_1h_tokens: Count = 0
    cache_read_tokens: Count = 0
    messages: Count = 0

    @model_validator(mode="after")
    def _one_hour_is_part_of_creation(self) -> Tokens:
        if self.cache_creation_1h_tokens > self.cache_creation_tokens:
            raise ValueError("cache_creation_1h_tokens exceeds cache_creation_tokens")
        return self


Source = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")]


class HourRow(NamedTuple):
    """Tokens of one UTC hour for one (source, model, project, branch, pricing tier).

    Rows are JSON arrays in this order (a device file holds tens of thousands of them: as
    arrays they are a quarter of the size and validate five times faster than objects)."""

    hour: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}$")]
    source: Source
    model: Text
    project: Text
    branch: Text
    long_context: bool
    input_tokens: Count
    output_tokens: Count
    cache_creation_tokens: Count
    cache_creation_1h_tokens: Count
    cache_read_tokens: Count
    messages: Count


class SessionUsage(NamedTuple):
    """One model's (and pricing tier's) tokens within a session."""

    model: Text
    long_context: bool
    input_tokens: Count
    output_tokens: Count
    cache_creation_tokens: Count
    cache_creation_1h_tokens: Count
    cache_read_tokens: Count
    messages: Count


class Session(NamedTuple):
    id: Text
    source: Source
    project: Text
    branch: Text
    first: datetime
    last: datetime
    usage: list[SessionUsage]


class Ledger(_Strict):
    """`data/<device>.json`: what one device has spent, aggregated; never prompt text."""

    schema_version: Literal[1]
    device: Annotated[str, Field(pattern=DEVICE_ID_PATTERN)]
    install_id: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    generation: Count
    totals: Tokens
    hours: list[HourRow]
    sessions: list[Session]

    @model_validator(mode="after")
    def _rows_add_up(self) -> Ledger:
        rows: list[HourRow | SessionUsage] = [*self.hours, *(u for s in self.sessions for u in s.usage)]
        if any(r.cache_creation_1h_tokens > r.cache_creation_tokens for r in rows):
            raise ValueError("cache_creation_1h_tokens exceeds cache_creation_tokens")
        if self.totals != _sum_tokens(self.hours):
            raise ValueError("totals do not equal the sum of the hourly rows")
        return self


def _sum_tokens(rows: Iterable[HourRow | SessionUsage]) -> Tokens:
    columns = zip(*(_counts(row) for row in rows), strict=True)
    return Tokens(**{name: sum(column) for name, column in zip(COUNT_FIELDS, columns, strict=False)})


COUNT_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_tokens",
    "cache_creation_1h_tokens",
    "cache_read_tokens",
    "messages",
)


def _counts(row: HourRow | SessionUsage) -> tuple[int, ...]:
    return row[-6:]


def parse_ledger(data: bytes, *, what: str) -> Ledger:
    """Validate a ledger document. `what` names it in errors (a path, or a peer's file)."""
    try:
        return Ledger.model_validate_json(data)
    except ValidationError as exc:
        error = exc
    # Why it failed decides the message: not JSON, written by a later ccsync, or invalid.
    try:
        header = orjson.loads(data)
    except orjson.JSONDecodeError as json_error:
        raise LedgerCorrupt(f"{what} is not valid JSON ({json_error.args[0].splitlines()[0]})") from None
    refuse_newer(header, supported=SCHEMA_VERSION, what=what)
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "document"
    raise LedgerCorrupt(f"{what} is not a valid ledger ({where}: {first['msg']})") from None


def hour_label(hour: int) -> str:
    return datetime.fromtimestamp(hour * 3600, UTC).strftime("%Y-%m-%dT%H")


def hour_index(label: str) -> int:
    return int(datetime.fromisoformat(label).replace(tzinfo=UTC).timestamp()) // 3600


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)


def _moment(ms: int) -> datetime:
    return _EPOCH + ms * _ONE_MS  # integer arithmetic: no float rounding of milliseconds


def _ms(moment: datetime) -> int:
    return (moment - _EPOCH) // _ONE_MS


# Dedup index entry, a list so the local state file stays compact.
_TIME, _SOURCE, _SESSION, _MODEL, _PROJECT, _BRANCH, _SIDECHAIN, _MID, _STATE = range(9)
_TOKENS = 9  # five token counts follow: the per-field maxima seen for the key
INDEX_ENTRY_LENGTH = _TOKENS + 5

COUNTED, SUPPRESSED, SETTLED, REPLAYED = 0, 1, 2, 3
"""An index entry's state: its maxima are in the ledger; it is a sidechain replay of a
main-session response (which counts instead); it was counted before the local index was lost
or pruned, so the ledger holds it somewhere we no longer know (its growth is not added); or,
for this run only, it is taken as a pruned response replayed by a session resumed long after
(a copy in a session of its own that started and ended before the prune line counts it)."""

RowKey = tuple[int, str, str, str, str, bool]
SessionUsageKey = tuple[str, bool]


@dataclass(slots=True)
class SessionState:
    source: str
    project: str
    branch: str
    first_ms: int
    last_ms: int
    usage: dict[SessionUsageKey, list[int]] = field(default_factory=dict)


def is_long_context(tokens: Sequence[int]) -> bool:
    """Requests whose prompt exceeds 200k tokens are billed at the long-context rate."""
    return tokens[0] + tokens[2] + tokens[4] > LONG_CONTEXT_THRESHOLD


class Batch:
    """Lines of one file, reduced per key before they reach the tally: max per field, the
    earliest line's attributes, and each session's first and last line. Applying a batch
    equals applying its lines one by one (both rules are associative) with a third of the work
    where responses stream as several lines. Records are plain lists in the dedup index's
    layout, so worker processes hand batches back cheaply."""

    __slots__ = ("records", "sessions", "lines", "_strings")

    def __init__(self) -> None:
        self.records: dict[str, list[Any]] = {}
        self.sessions: dict[str, tuple[int, str, str, int, str]] = {}  # first, project, branch, last, source
        self.lines = 0
        self._strings: dict[str, str] = {}

    def add(self, event: Event, *, source: str, project: str, branch: str) -> None:
        self.lines += 1
        time_ms = event.time_ms
        seen = self.sessions.get(event.session)
        if seen is None:
            self.sessions[event.session] = (time_ms, project, branch, time_ms, source)
        elif time_ms < seen[0] or time_ms > seen[3] or (time_ms == seen[0] and (project, branch) < seen[1:3]):
            first = min(seen[:3], (time_ms, project, branch))
            self.sessions[event.session] = (*first, max(seen[3], time_ms), seen[4])
        rec = self.records.get(event.key)
        model = self._strings.setdefault(event.model, event.model)  # one copy each, when pickled
        if rec is None:
            self.records[event.key] = [
                time_ms, source, event.session, model, project, branch,
                1 if event.sidechain else 0, event.message_id or "", COUNTED, *event.tokens,
            ]
            return
        t = event.tokens
        if rec[9:] != list(t):
            rec[9:] = [
                max(rec[9], t[0]), max(rec[10], t[1]), max(rec[11], t[2]), max(rec[12], t[3]), max(rec[13], t[4]),
            ]
        candidate = (time_ms, event.session, project, branch, model)
        if candidate < (rec[_TIME], rec[_SESSION], rec[_PROJECT], rec[_BRANCH], rec[_MODEL]):
            rec[_TIME], rec[_SESSION], rec[_PROJECT], rec[_BRANCH], rec[_MODEL] = candidate
            rec[_SOURCE] = source


@dataclass(slots=True)
class ApplyStats:
    lines: int = 0
    new_events: int = 0
    tokens: list[int] = field(default_factory=lambda: [0] * 6)


class Tally:
    """The ledger in memory plus the dedup index of keys seen, with their per-field maxima."""

    def __init__(self) -> None:
        self.rows: dict[RowKey, list[int]] = {}
        self.sessions: dict[str, SessionState] = {}
        self.index: dict[str, list[Any]] = {}
        # Keys older than this were dropped from the index (their logs are long gone).
        self.pruned_before: int | None = None
        # Session last-times as the ledger held them before this run (see _covered).
        self.ledger_last: dict[str, int] = {}
        self.rebuilding = False  # the local index was lost
        self.whole_seconds = False  # the ledger's session times predate millisecond times
        self._main_of: dict[str, str] = {}
        self._sidechains_of: dict[str, list[str]] = {}
        self.stats = ApplyStats()

    # -- loading and saving ------------------------------------------------------------

    @classmethod
    def from_ledger(cls, ledger: Ledger) -> Tally:
        tally = cls()
        for row in ledger.hours:
            key = (hour_index(row.hour), row.source, row.model, row.project, row.branch, row.long_context)
            tally.rows[key] = list(_counts(row))
        for s in ledger.sessions:
            state = SessionState(s.source, s.project, s.branch, _ms(s.first), _ms(s.last))
            for u in s.usage:
                state.usage[(u.model, u.long_context)] = list(_counts(u))
            tally.sessions[s.id] = state
            tally.ledger_last[s.id] = state.last_ms
        # One session in a thousand ends on a whole second; all of them only in an old ledger.
        tally.whole_seconds = bool(ledger.sessions) and all(
            s.first.microsecond == 0 and s.last.microsecond == 0 for s in ledger.sessions
        )
        return tally

    def load_index(self, entries: dict[str, list[Any]], pruned_before: int | None) -> None:
        self.index = entries
        self.pruned_before = pruned_before
        # What `_link` builds one key at a time, built in bulk: the first main copy of a
        # message id wins, so the comprehension walks the keys newest first.
        self._main_of = {e[_MID]: k for k, e in reversed(entries.items()) if e[_MID] and not e[_SIDECHAIN]}
        self._sidechains_of = {}
        for key, entry in entries.items():
            if entry[_SIDECHAIN] and entry[_MID]:
                self._sidechains_of.setdefault(entry[_MID], []).append(key)

    def start_rebuild(self) -> None:
        """The local index is gone: treat what the ledger's sessions already cover as counted."""
        self.rebuilding = True

    def ledger(self, *, device: str, install_id: str, generation: int) -> Ledger:
        hours = [HourRow(hour_label(k[0]), *k[1:], *v) for k, v in sorted(self.rows.items())]
        sessions = [
            Session(
                sid, s.source, s.project, s.branch,
                # To the millisecond: a rebuild tells "counted already" from "new" by these.
                _moment(s.first_ms),
                _moment(s.last_ms),
                [SessionUsage(m, lc, *v) for (m, lc), v in sorted(s.usage.items())],
            )
            for sid, s in sorted(self.sessions.items())
        ]
        # Built unvalidated (validating 20k rows costs more than building them); what is
        # written is validated as bytes, by `checked_bytes`, before it reaches the disk.
        return Ledger.model_construct(
            schema_version=SCHEMA_VERSION, device=device, install_id=install_id, generation=generation,
            totals=_sum_tokens(hours), hours=hours, sessions=sessions,
        )

    def prune(self, cutoff_ms: int) -> None:
        """Forget index keys dated before `cutoff_ms`: logs that old have been deleted."""
        old = [k for k, e in self.index.items() if e[_TIME] < cutoff_ms]
        for key in old:
            entry = self.index.pop(key)
            mid = entry[_MID]
            if mid and self._main_of.get(mid) == key:
                del self._main_of[mid]
            if mid and key in self._sidechains_of.get(mid, ()):
                self._sidechains_of[mid].remove(key)
                if not self._sidechains_of[mid]:
                    del self._sidechains_of[mid]
        if old:
            self.pruned_before = max(self.pruned_before or 0, cutoff_ms)

    # -- the counting rules ----------------------------------------------------------------

    def apply(self, event: Event, *, source: str, project: str, branch: str) -> None:
        """Add what this line shows beyond what its key already contributed (DESIGN §2)."""
        batch = Batch()
        batch.add(event, source=source, project=project, branch=branch)
        self.apply_batch(batch)

    def apply_batch(self, batch: Batch) -> None:
        self.stats.lines += batch.lines
        for session, (first, project, branch, last, source) in batch.sessions.items():
            self._touch_session(session, source, (first, project, branch), last)
        for key, record in batch.records.items():
            self._apply(key, record)

    def _apply(self, key: str, record: list[Any]) -> None:
        entry = self.index.get(key)
        if entry is None:
            entry = record
            mid = entry[_MID]
            state = SETTLED if self._covered(entry) else REPLAYED if self._resumed(entry) else COUNTED
            if state == COUNTED and entry[_SIDECHAIN] and mid and mid in self._main_of:
                state = SUPPRESSED  # a /btw replay of a main-session response
            entry[_STATE] = state
            self.index[key] = entry
            self._link(key, entry)
            self.stats.new_events += 1
            if state == COUNTED:
                self._contribute(entry, +1)
                self._add_stats(entry[_TOKENS:], 1)
            if mid and not entry[_SIDECHAIN]:
                self._suppress_sidechains(mid)
            return

        if entry[_STATE] in (COUNTED, REPLAYED) and self._new_this_run(entry):
            # Whatever copy came first, the order files are read in must not decide: a copy the
            # ledger covers was counted by an earlier run; a copy in a session that is neither
            # known nor resumed is a response never counted.
            if self._covered(record):
                if entry[_STATE] == COUNTED:
                    self._contribute(entry, -1)
                    self._add_stats([-t for t in entry[_TOKENS:]], -1)
                entry[_STATE] = SETTLED
            elif entry[_STATE] == REPLAYED and not self._resumed(record):
                mid = entry[_MID]
                if entry[_SIDECHAIN] and mid and mid in self._main_of:
                    entry[_STATE] = SUPPRESSED
                else:
                    entry[_STATE] = COUNTED
                    self._contribute(entry, +1)
                    self._add_stats(entry[_TOKENS:], 1)
        old = entry[_TOKENS:]
        new = record[_TOKENS:]
        maxima = old if old == new else [max(a, b) for a, b in zip(old, new, strict=True)]
        candidate = (record[_TIME], record[_SESSION], record[_PROJECT], record[_BRANCH], record[_MODEL])
        earlier = candidate < (entry[_TIME], entry[_SESSION], entry[_PROJECT], entry[_BRANCH], entry[_MODEL])
        if maxima == old and not earlier:
            return
        if entry[_STATE] == COUNTED:
            self._contribute(entry, -1)
            self._add_stats([m - o for m, o in zip(maxima, old, strict=True)], 0)
        if earlier:
            entry[_TIME], entry[_SESSION], entry[_PROJECT], entry[_BRANCH], entry[_MODEL] = candidate
            entry[_SOURCE] = record[_SOURCE]
        entry[_TOKENS:] = maxima
        # A SETTLED key's growth is never added: the ledger may already hold its final size.
        if entry[_STATE] == COUNTED:
            self._contribute(entry, +1)

    def _covered(self, record: list[Any]) -> bool:
        """Whether a key the index does not know was counted by an earlier run all the same:
        the index was lost, or the key was pruned from it, and the ledger as loaded (never
        this run's lines) covered its session up to that time."""
        time_ms = record[_TIME]
        if not self.rebuilding and (self.pruned_before is None or time_ms >= self.pruned_before):
            return False
        last = self.ledger_last.get(record[_SESSION])
        # Ledgers written before millisecond times kept whole seconds: each covers its second.
        return last is not None and time_ms <= (last + 999 if self.whole_seconds else last)

    def _resumed(self, record: list[Any]) -> bool:
        """A copy older than the prune line in a session that runs on past it: a session
        resumed long after, replaying old responses that were counted and then pruned."""
        if self.rebuilding or self.pruned_before is None or record[_TIME] >= self.pruned_before:
            return False
        current = self.sessions.get(record[_SESSION])
        return current is not None and current.last_ms >= self.pruned_before

    def _new_this_run(self, entry: list[Any]) -> bool:
        """Entries loaded from the index are at or after the prune line; older ones, or any
        entry while rebuilding, were made by this run."""
        return self.rebuilding or (self.pruned_before is not None and entry[_TIME] < self.pruned_before)

    def _link(self, key: str, entry: list[Any]) -> None:
        mid = entry[_MID]
        if not mid:
            return
        if entry[_SIDECHAIN]:
            self._sidechains_of.setdefault(mid, []).append(key)
        else:
            self._main_of.setdefault(mid, key)

    def _suppress_sidechains(self, mid: str) -> None:
        for key in self._sidechains_of.get(mid, ()):
            entry = self.index[key]
            if entry[_STATE] == COUNTED:
                self._contribute(entry, -1)
                self._add_stats([-t for t in entry[_TOKENS:]], -1)
                entry[_STATE] = SUPPRESSED

    def _contribute(self, entry: list[Any], sign: int) -> None:
        tokens = entry[_TOKENS:]
        long_context = is_long_context(tokens)
        hour = entry[_TIME] // HOUR_MS
        row_key = (hour, entry[_SOURCE], entry[_MODEL], entry[_PROJECT], entry[_BRANCH], long_context)
        _bump(self.rows, row_key, tokens, sign)
        session = self.sessions.get(entry[_SESSION])
        if session is not None:
            _bump(session.usage, (entry[_MODEL], long_context), tokens, sign)

    def _touch_session(self, sid: str, source: str, first: tuple[int, str, str], last: int) -> None:
        session = self.sessions.get(sid)
        if session is None:
            self.sessions[sid] = SessionState(source, first[1], first[2], first[0], last)
            return
        if first < (session.first_ms, session.project, session.branch):
            session.first_ms, session.project, session.branch = first
        session.last_ms = max(session.last_ms, last)

    def _add_stats(self, tokens: Iterable[int], messages: int) -> None:
        totals = self.stats.tokens
        for i, value in enumerate(tokens):
            totals[i] += value
        totals[5] += messages


def _bump(table: dict[Any, list[int]], key: Any, tokens: list[int], sign: int) -> None:
    counts = table.get(key)
    if counts is None:
        counts = table[key] = [0] * 6
    for i in range(5):
        counts[i] += sign * tokens[i]
    counts[5] += sign
    if not any(counts):
        del table[key]


def holds_all(newer: Ledger, older: Ledger) -> bool:
    """Whether `newer` counts everything `older` does: every session of it, at least as large.
    (Totals alone cannot tell a renamed record from a copy that went on on another machine.)"""
    a, b = newer.totals, older.totals
    if any(getattr(a, f) < getattr(b, f) for f in type(a).model_fields):
        return False
    sessions = {s.id: {(u.model, u.long_context): u[2:] for u in s.usage} for s in newer.sessions}
    for session in older.sessions:
        ours = sessions.get(session.id)
        if ours is None:
            return False
        for u in session.usage:
            counts = ours.get((u.model, u.long_context))
            if counts is None or any(x < y for x, y in zip(counts, u[2:], strict=True)):
                return False
    return True


def checked_bytes(ledger: Ledger) -> bytes:
    """The bytes of `ledger`, after proving they read back as a valid ledger: a bug must never
    write a file that the next run (or another device) would refuse."""
    data = dump_ledger(ledger)
    parse_ledger(data, what="the ledger about to be written")
    return data


def dump_ledger(ledger: Ledger) -> bytes:
    """Deterministic bytes: same ledger, same bytes, so an unchanged ledger commits nothing.
    Sorted keys, two-space indent, and one row per line so git diffs stay readable."""
    doc = ledger.model_dump(mode="json")
    parts = []
    for key in sorted(doc):
        value = doc[key]
        if key in ("hours", "sessions") and value:
            rows = ",\n".join("    " + orjson.dumps(row).decode() for row in value)
            parts.append(f'  "{key}": [\n{rows}\n  ]')
        else:
            parts.append(f'  "{key}": ' + orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode())
    return ("{\n" + ",\n".join(parts) + "\n}\n").encode()


def json_schema() -> bytes:
    """The JSON Schema of a device file, as published in the project's `data/` folder."""
    return json_schema_of(Ledger, title=f"ccsync device file (data/<device-id>.json), schema version {SCHEMA_VERSION}")
