"""The counting rules (DESIGN.md §2): how event lines grow a ledger, exactly once, ever.

`Tally` is the ledger in memory together with the permanent key index: for every event key
ever seen, its per-field maxima and the attributes of its earliest line. A line adds only its
growth over what its key already contributed, so any order and any split of the same lines,
across files and runs, gives the same ledger. The index is never pruned: a line however old,
arriving whenever, is judged against everything ever counted (rule 8).

Pure: no I/O. `store` saves and loads the index; `scan` feeds batches of lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from syncer.events import Event
from syncer.fold import folded_before_ms
from syncer.ledger import (
    COUNT_FIELDS,
    MAX_COUNT,
    SCHEMA_VERSION,
    Entry,
    HourRow,
    Ledger,
    Removal,
    Retirement,
    Session,
    SessionUsage,
    hour_index,
    hour_label,
    sum_tokens,
)

HOUR_MS = 3_600_000
DEFAULT_LONG_CONTEXT = 200_000
"""Prompt tokens above which a request of a model with no tier in the price table is recorded
as long-context (so a tier added to the table later can price it)."""

Fetch = Callable[[Sequence[str], Sequence[str]], dict[str, list[Any]]]
"""(keys, message ids) -> the stored index entries of those keys and of every key sharing one
of those message ids (the index on disk; see keystore)."""

Threshold = Callable[[str], int]
"""A model name -> prompt tokens above which its requests are long-context."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)


def _moment(ms: int) -> datetime:
    return _EPOCH + ms * _ONE_MS  # integer arithmetic: no float rounding of milliseconds


def _ms(moment: datetime) -> int:
    return (moment - _EPOCH) // _ONE_MS


# Index entry, a list so the local index stays compact. The earliest line's attributes, the
# key's state, whether any line said fast mode, the long-context tier its tokens were added
# to the ledger under (so they are taken back out of the same row even if the price table's
# threshold changed since), then the five per-field maxima.
_TIME, _SOURCE, _SESSION, _MODEL, _PROJECT, _BRANCH, _SIDECHAIN, _MID, _STATE, _FAST, _LONG = range(11)
_TOKENS = 11
INDEX_ENTRY_LENGTH = _TOKENS + 5
V1_ENTRY_LENGTH = 14  # before fast mode and per-model tiers: no _FAST, no _LONG

COUNTED, SUPPRESSED, SETTLED, REFUSED = 0, 1, 2, 3
"""An index entry's state: its maxima are in the ledger; it is a sidechain replay of a
main-session response (which counts instead); it was counted before the local index was
lost, so the ledger holds it somewhere we no longer know (its growth is not added); or
counting it would take a total past what a ledger may hold (a hostile log)."""

RowKey = tuple[int, str, str, str, str, bool, bool]
SessionUsageKey = tuple[str, bool, bool]


def upgrade_entry(entry: list[Any]) -> list[Any]:
    """An index entry written before fast mode and per-model tiers: not fast, and added to
    the ledger under the fixed 200k threshold those versions used."""
    tokens = entry[9:]
    long = entry[9] + entry[11] + entry[13] > DEFAULT_LONG_CONTEXT
    return [*entry[:9], 0, 1 if long else 0, *tokens]


@dataclass(slots=True)
class SessionState:
    source: str
    project: str
    branch: str
    first_ms: int
    last_ms: int
    usage: dict[SessionUsageKey, list[int]] = field(default_factory=dict)


class Batch:
    """Lines of one file, reduced per key before they reach the tally: max per field, the
    earliest line's attributes, and each session's first and last line. Applying a batch
    equals applying its lines one by one (both rules are associative) with a third of the work
    where responses stream as several lines. Records are plain lists in the index's layout,
    so worker processes hand batches back cheaply."""

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
                1 if event.sidechain else 0, event.message_id or "", COUNTED, 1 if event.fast else 0, 0,
                *event.tokens,
            ]
            return
        t = event.tokens
        if rec[_TOKENS:] != list(t):
            rec[_TOKENS:] = [max(a, b) for a, b in zip(rec[_TOKENS:], t, strict=True)]
        if event.fast:
            rec[_FAST] = 1
        candidate = (time_ms, event.session, project, branch, model)
        if candidate < (rec[_TIME], rec[_SESSION], rec[_PROJECT], rec[_BRANCH], rec[_MODEL]):
            rec[_TIME], rec[_SESSION], rec[_PROJECT], rec[_BRANCH], rec[_MODEL] = candidate
            rec[_SOURCE] = source


@dataclass(slots=True)
class ApplyStats:
    lines: int = 0
    new_events: int = 0
    tokens: list[int] = field(default_factory=lambda: [0] * 6)
    refused: list[str] = field(default_factory=list)  # keys not counted: a total would pass MAX_COUNT


class Tally:
    """The ledger in memory plus the permanent index of keys seen, with their per-field maxima.

    `threshold` gives each model's long-context threshold (from the price table)."""

    def __init__(self, threshold: Threshold = lambda _: DEFAULT_LONG_CONTEXT) -> None:
        self.rows: dict[RowKey, list[int]] = {}
        self.totals = [0] * 6  # the sum of the rows, kept within what a ledger may hold
        self.sessions: dict[str, SessionState] = {}
        self.index: dict[str, list[Any]] = {}
        # Session last-times as the ledger held them before this run (see _covered).
        self.ledger_last: dict[str, int] = {}
        # Keys dated before this may be missing from the index although the ledger counts
        # them: the index was lost and rebuilt from the logs that remained, or a version
        # before 0.2 pruned it. Kept in the index for good: such a key may turn up any time.
        self.covered_before: int | None = None
        self._fresh: set[str] = set()  # keys first seen this run, dated before covered_before
        self.whole_seconds = False  # the ledger's session times predate millisecond times
        # Lines before this belong to sessions folded into daily or monthly rows (a shared
        # copy, restored: see `fold`), whose ids the ledger no longer holds.
        self.folded_before: int | None = None
        self._threshold = threshold
        self._thresholds: dict[str, int] = {}
        self._main_of: dict[str, str] = {}
        self._sidechains_of: dict[str, list[str]] = {}
        self._fetch: Fetch | None = None
        self._mids_fetched: set[str] = set()
        self.stats = ApplyStats()
        # Entries added by hand or imported, and removals: carried through a scan unchanged.
        self.entries: list[Entry] = []
        self.removed: list[Removal] = []
        self.retired: list[Retirement] = []

    # -- loading and saving ------------------------------------------------------------

    @classmethod
    def from_ledger(cls, ledger: Ledger, threshold: Threshold = lambda _: DEFAULT_LONG_CONTEXT) -> Tally:
        tally = cls(threshold)
        for row in ledger.hours:
            key = (hour_index(row.hour), row.source, row.model, row.project, row.branch, row.long_context, row.fast)
            tally.rows[key] = list(row[-6:])
        tally.totals = [getattr(ledger.totals, f) for f in COUNT_FIELDS]
        tally.entries, tally.removed, tally.retired = list(ledger.entries), list(ledger.removed), list(ledger.retired)
        for s in ledger.sessions:
            state = SessionState(s.source, s.project, s.branch, _ms(s.first), _ms(s.last))
            for u in s.usage:
                state.usage[(u.model, u.long_context, u.fast)] = list(u[-6:])
            tally.sessions[s.id] = state
            tally.ledger_last[s.id] = state.last_ms
        tally.folded_before = folded_before_ms(ledger)
        # One session in a thousand ends on a whole second; all of them only in an old ledger.
        tally.whole_seconds = bool(ledger.sessions) and all(
            s.first.microsecond == 0 and s.last.microsecond == 0 for s in ledger.sessions
        )
        return tally

    def attach(self, fetch: Fetch, covered_before: int | None) -> None:
        """Use an index on disk: each batch first fetches the entries its keys (and message
        ids) need, so only those are ever in memory (`index` then holds just them)."""
        self._fetch = fetch
        self.covered_before = covered_before

    def load_index(self, entries: dict[str, list[Any]], covered_before: int | None) -> None:
        """Use an index held in memory whole."""
        self.index = entries
        self.covered_before = covered_before
        # What `_link` builds one key at a time, built in bulk: the first main copy of a
        # message id wins, so the comprehension walks the keys newest first.
        self._main_of = {e[_MID]: k for k, e in reversed(entries.items()) if e[_MID] and not e[_SIDECHAIN]}
        self._sidechains_of = {}
        for key, entry in entries.items():
            if entry[_SIDECHAIN] and entry[_MID]:
                self._sidechains_of.setdefault(entry[_MID], []).append(key)

    def start_rebuild(self) -> None:
        """The local index is gone: treat what the ledger's sessions already cover as counted,
        now and in every later run (a line that old may turn up any time)."""
        if self.ledger_last:
            self.covered_before = max(self.ledger_last.values()) + 1000

    def ledger(self, *, device: str, install_id: str, generation: int, owner: str | None = None) -> Ledger:
        hours = [HourRow(hour_label(k[0]), *k[1:], *v) for k, v in sorted(self.rows.items())]
        sessions = [
            Session(
                sid, s.source, s.project, s.branch,
                # To the millisecond: a rebuild tells "counted already" from "new" by these.
                _moment(s.first_ms),
                _moment(s.last_ms),
                [SessionUsage(m, lc, f, *v) for (m, lc, f), v in sorted(s.usage.items())],
            )
            for sid, s in sorted(self.sessions.items())
        ]
        # Plain values, not checked here: what is written is validated as bytes, by
        # `checked_bytes`, before it reaches the disk.
        return Ledger(
            schema_version=SCHEMA_VERSION, device=device, install_id=install_id, owner=owner, generation=generation,
            totals=sum_tokens(hours), hours=hours, sessions=sessions, entries=self.entries, removed=self.removed,
            retired=self.retired,
        )

    # -- the counting rules ----------------------------------------------------------------

    def apply_batch(self, batch: Batch) -> None:
        if self._fetch is not None:
            self._prefetch(batch, self._fetch)
        self.stats.lines += batch.lines
        for session, (first, project, branch, last, source) in batch.sessions.items():
            self._touch_session(session, source, (first, project, branch), last)
        for key, record in batch.records.items():
            self._apply(key, record)

    def _prefetch(self, batch: Batch, fetch: Fetch) -> None:
        keys = [k for k in batch.records if k not in self.index]
        mids = list({r[_MID] for r in batch.records.values() if r[_MID]} - self._mids_fetched)
        if not keys and not mids:
            return
        for key, entry in fetch(keys, mids).items():
            if key not in self.index:
                self.index[key] = entry
                self._link(key, entry)
        self._mids_fetched.update(mids)

    def _apply(self, key: str, record: list[Any]) -> None:
        entry = self.index.get(key)
        if entry is None:
            entry = record
            mid = entry[_MID]
            state = SETTLED if self._covered(entry) else COUNTED
            if state == COUNTED and entry[_SIDECHAIN] and mid and mid in self._main_of:
                state = SUPPRESSED  # a /btw replay of a main-session response
            if state == COUNTED and not self._fits(entry[_TOKENS:], 1):
                state = REFUSED
                self.stats.refused.append(key)
            entry[_STATE] = state
            self.index[key] = entry
            if self.covered_before is not None and entry[_TIME] < self.covered_before:
                self._fresh.add(key)
            self._link(key, entry)
            self.stats.new_events += 1
            if state == COUNTED:
                self._contribute(entry, +1)
                self._add_stats(entry[_TOKENS:], 1)
            if mid and not entry[_SIDECHAIN]:
                self._suppress_sidechains(mid)
            return

        if entry[_STATE] == COUNTED and key in self._fresh and self._covered(record):
            # The order files are read in must not decide: a copy the ledger covers was
            # counted by an earlier run, whichever copy came first.
            self._contribute(entry, -1)
            self._add_stats([-t for t in entry[_TOKENS:]], -1)
            entry[_STATE] = SETTLED
        old = entry[_TOKENS:]
        new = record[_TOKENS:]
        maxima = old if old == new else [max(a, b) for a, b in zip(old, new, strict=True)]
        candidate = (record[_TIME], record[_SESSION], record[_PROJECT], record[_BRANCH], record[_MODEL])
        earlier = candidate < (entry[_TIME], entry[_SESSION], entry[_PROJECT], entry[_BRANCH], entry[_MODEL])
        faster = record[_FAST] and not entry[_FAST]
        if maxima == old and not earlier and not faster:
            return
        if entry[_STATE] == COUNTED and not self._fits([m - o for m, o in zip(maxima, old, strict=True)], 0):
            self.stats.refused.append(key)
            return
        if entry[_STATE] == COUNTED:
            self._contribute(entry, -1)
            self._add_stats([m - o for m, o in zip(maxima, old, strict=True)], 0)
        if earlier:
            entry[_TIME], entry[_SESSION], entry[_PROJECT], entry[_BRANCH], entry[_MODEL] = candidate
            entry[_SOURCE] = record[_SOURCE]
        if faster:
            entry[_FAST] = 1
        entry[_TOKENS:] = maxima
        # A SETTLED key's growth is never added: the ledger may already hold its final size.
        if entry[_STATE] == COUNTED:
            self._contribute(entry, +1)

    def _covered(self, record: list[Any]) -> bool:
        """Whether a key the index does not know was counted by an earlier run all the same:
        the index was lost (or an old version pruned it), and the ledger as loaded (never
        this run's lines) covered its session up to that time."""
        if self.covered_before is None or record[_TIME] >= self.covered_before:
            return False
        if self.folded_before is not None and record[_TIME] < self.folded_before:
            return True
        last = self.ledger_last.get(record[_SESSION])
        # Ledgers written before millisecond times kept whole seconds: each covers its second.
        return last is not None and record[_TIME] <= (last + 999 if self.whole_seconds else last)

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

    def _fits(self, tokens: list[int], messages: int) -> bool:
        totals = self.totals
        return all(totals[i] + tokens[i] <= MAX_COUNT for i in range(5)) and totals[5] + messages <= MAX_COUNT

    def _long_context(self, model: str, tokens: list[int]) -> int:
        threshold = self._thresholds.get(model)
        if threshold is None:
            threshold = self._thresholds[model] = self._threshold(model)
        return 1 if tokens[0] + tokens[2] + tokens[4] > threshold else 0

    def _contribute(self, entry: list[Any], sign: int) -> None:
        tokens = entry[_TOKENS:]
        if sign > 0:  # taken back out later from the row it went into, whatever the table says then
            entry[_LONG] = self._long_context(entry[_MODEL], tokens)
        long_context, fast = entry[_LONG] == 1, entry[_FAST] == 1
        hour = entry[_TIME] // HOUR_MS
        row_key = (hour, entry[_SOURCE], entry[_MODEL], entry[_PROJECT], entry[_BRANCH], long_context, fast)
        _bump(self.rows, row_key, tokens, sign)
        totals = self.totals
        for i in range(5):
            totals[i] += sign * tokens[i]
        totals[5] += sign
        session = self.sessions.get(entry[_SESSION])
        if session is not None:
            _bump(session.usage, (entry[_MODEL], long_context, fast), tokens, sign)

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
