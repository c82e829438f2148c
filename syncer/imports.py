"""Records kept by the tools ccsync replaces, read by shape, and the rule that imports them
without counting anything twice. Pure: bytes (or SQLite rows) in, records and a plan out.

Shapes:
- `tracker`: the cumulative tracker's `cumulative_usage.json` (every device) or one of its
  `data/<device>.json` files: one undated running total, plus the sessions it processed;
- `ccusage-db`: a SQLite database fed by ccusage (`daily_usage`, `model_breakdown`,
  `session_usage`);
- `toktrack`: toktrack's daily cache (`~/.toktrack/cache/<cli>_daily.json`), days in UTC;
- `ccusage-daily`: the output of `ccusage daily --json` saved to a file.

The rule (never double count), for each record of day D, source S (model M, session X):
1. the same record imported before (from any device) adds nothing: ids are derived from the
   record's identity, so importing a file again is a no-op;
2. a day another import already covers for S adds nothing (overlapping files);
3. if this device's ledger has no log-derived usage of S on D (D in the zone the tool dated
   its days in), the record is taken whole;
4. else, where the record is per model, M is taken only if the ledger has no usage of M on D;
   where the file has sessions, a session of D the ledger does not hold is taken on its own;
   anything else is skipped: the logs already count that day.
A tracker total is taken minus what any device's ledger counts of the sessions it lists (minus
this device's logged usage up to its date when it lists none), each field at least zero; a
tracker file for all devices and one for a single device overlap, so only the first is taken.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, Literal, TypeVar

import orjson

from syncer.entries import UNKNOWN_MODEL, entry_id, listing, noon
from syncer.errors import UsageError
from syncer.ledger import MAX_COUNT, Entry, HourRow, Ledger, Session, SessionUsage, fit, hour_index
from syncer.schemas.ledger import checked_entry

Shape = Literal["tracker", "ccusage-db", "toktrack", "ccusage-daily"]
FIELDS = ("input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens")
Counts = tuple[int, int, int, int]
T = TypeVar("T", dict[str, Any], list[Any])
_TOKTRACK_SOURCES = {"claude-code": "claude", "claude": "claude", "codex": "codex", "gemini": "gemini"}


class BadImport(UsageError):
    """The file is none of the shapes ccsync imports, or is one but broken."""

    exit_code = 65


@dataclass(frozen=True)
class Record:
    key: str  # the record's identity within its shape (a day, a day and model, a session)
    day: date
    source: str
    model: str
    counts: Counts
    session: str | None = None
    covers: frozenset[str] = frozenset()  # tracker: the sessions its total includes
    undated: bool = False  # tracker: one running total, dated by --until or the file


@dataclass
class Parsed:
    shape: Shape
    zone: Literal["utc", "local"]  # the zone the tool dated its days in
    records: list[Record]
    sessions: list[Record] = field(default_factory=list)  # ccusage-db: per session, for rule 4
    duplicates: int = 0


# -- reading each shape ------------------------------------------------------------------


def parse_json(data: bytes, *, name: str, dated: date) -> Parsed:
    """A JSON record file by its shape. `dated` dates an undated tracker total."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadImport(f"{name} is not valid JSON ({exc.args[0].splitlines()[0]}); is the file complete?") from None
    if isinstance(doc, dict) and isinstance(doc.get("cumulative_usage"), dict):
        return _tracker(doc, name=name, dated=dated)
    if isinstance(doc, dict) and isinstance(doc.get("summaries"), list) and "cli" in doc:
        return _toktrack(doc, name=name)
    if isinstance(doc, dict) and isinstance(doc.get("daily"), list):
        return _ccusage_daily(doc, name=name)
    raise BadImport(
        f"{name} is not a record ccsync imports: expected the tracker's cumulative_usage.json or data/<device>.json, "
        "toktrack's <cli>_daily.json, `ccusage daily --json` output, or a ccusage SQLite database"
    )


def _tracker(doc: dict[str, Any], *, name: str, dated: date) -> Parsed:
    usage = doc["cumulative_usage"]
    counts = _counts(usage, ("input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens"), name)
    sessions = doc.get("processed_sessions", [])
    if isinstance(sessions, dict):
        sessions = list(sessions)
    if not isinstance(sessions, list) or not all(isinstance(s, str) for s in sessions):
        raise BadImport(f"{name}: processed_sessions is not a list of session ids")
    device = doc.get("device") or doc.get("hostname") or doc.get("device_id")
    whose = f"device {device}" if isinstance(device, str) and device else "all"
    record = Record(f"tracker|{whose}", dated, "claude", "", counts, covers=frozenset(sessions), undated=True)
    return Parsed("tracker", "local", [record])


def tracker_date(doc_bytes: bytes) -> date | None:
    """The `last_updated` date of a tracker file, if it has a readable one."""
    try:
        doc = orjson.loads(doc_bytes)
    except orjson.JSONDecodeError:
        return None
    stamp = doc.get("last_updated") if isinstance(doc, dict) else None
    if not isinstance(stamp, str):
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def _toktrack(doc: dict[str, Any], *, name: str) -> Parsed:
    cli = doc.get("cli")
    if not isinstance(cli, str) or not cli:
        raise BadImport(f"{name}: toktrack cache without a cli name")
    source = _TOKTRACK_SOURCES.get(cli, cli)
    keys = ("total_input_tokens", "total_output_tokens", "total_cache_creation_tokens", "total_cache_read_tokens")
    model_keys = ("input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens")
    records: list[Record] = []
    for where, summary, day in _dated_rows(doc, "summaries", name):
        models = _member(summary, "models", dict, where)
        if models:
            for model, usage in sorted(models.items()):
                if not isinstance(usage, dict):
                    raise BadImport(f"{where}.models.{model} is not an object")
                counts = _counts(usage, model_keys, f"{where}.models.{model}")
                records.append(Record(f"toktrack|{source}|{day}|{model}", day, source, fit(model), counts))
        else:
            counts = _counts(summary, keys, where)
            records.append(Record(f"toktrack|{source}|{day}|", day, source, "", counts))
    return _deduplicated("toktrack", "utc", records)


def _ccusage_daily(doc: dict[str, Any], *, name: str) -> Parsed:
    keys = ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens")
    records: list[Record] = []
    for where, row, day in _dated_rows(doc, "daily", name):
        breakdowns = _member(row, "modelBreakdowns", list, where)
        if breakdowns:
            for j, part in enumerate(breakdowns):
                if not isinstance(part, dict) or not isinstance(part.get("modelName"), str):
                    raise BadImport(f"{where}.modelBreakdowns[{j}] has no modelName")
                counts = _counts(part, keys, f"{where}.modelBreakdowns[{j}]")
                model = part["modelName"]
                records.append(Record(f"ccusage|claude|{day}|{model}", day, "claude", fit(model), counts))
        else:
            records.append(Record(f"ccusage|claude|{day}|", day, "claude", "", _counts(row, keys, where)))
    return _deduplicated("ccusage-daily", "local", records)


def parse_ccusage_db(
    daily: Sequence[Mapping[str, object]],
    models: Sequence[Mapping[str, object]],
    sessions: Sequence[Mapping[str, object]],
    *,
    name: str,
) -> Parsed:
    """The rows of a ccusage-fed database's three tables (`models` and `sessions` may be
    empty). Days with a model breakdown are imported per model."""
    keys = ("input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens")
    per_model: dict[date, list[Record]] = {}
    for i, row in enumerate(models):
        where = f"{name}: model_breakdown row {i + 1}"
        day = _day(row.get("date"), where)
        model = row.get("model_name") or row.get("model")
        if not isinstance(model, str) or not model:
            raise BadImport(f"{where} has no model_name")
        per_model.setdefault(day, []).append(
            Record(f"ccusage|claude|{day}|{model}", day, "claude", fit(model), _counts(row, keys, where))
        )
    records: list[Record] = []
    for i, row in enumerate(daily):
        where = f"{name}: daily_usage row {i + 1}"
        day = _day(row.get("date"), where)
        if day in per_model:
            continue
        records.append(Record(f"ccusage|claude|{day}|", day, "claude", "", _counts(row, keys, where)))
    for parts in per_model.values():
        records.extend(parts)
    session_records: list[Record] = []
    for i, row in enumerate(sessions):
        where = f"{name}: session_usage row {i + 1}"
        sid = row.get("session_id")
        if not isinstance(sid, str) or not sid:
            raise BadImport(f"{where} has no session_id")
        day = _day(str(row.get("last_activity") or "")[:10], where)
        model = row.get("model") or row.get("models_used") or ""
        session_records.append(Record(
            f"ccusage-session|claude|{sid}", day, "claude", fit(str(model)), _counts(row, keys, where), session=sid,
        ))
    parsed = _deduplicated("ccusage-db", "local", records)
    parsed.sessions = _deduplicated("ccusage-db", "local", session_records).records
    return parsed


def _deduplicated(shape: Shape, zone: Literal["utc", "local"], records: Iterable[Record]) -> Parsed:
    """One record per identity: a duplicated row is one reading of the same usage, and the
    larger reading of each field wins (as a growing log line does)."""
    merged: dict[str, Record] = {}
    duplicates = 0
    for record in records:
        seen = merged.get(record.key)
        if seen is not None:
            duplicates += 1
            record = Record(
                record.key, record.day, record.source, record.model,
                tuple(max(a, b) for a, b in zip(seen.counts, record.counts, strict=True)),  # type: ignore[arg-type]
                record.session,
            )
        merged[record.key] = record
    return Parsed(shape, zone, sorted(merged.values(), key=lambda r: (r.day, r.key)), duplicates=duplicates)


def _dated_rows(doc: dict[str, Any], field: str, name: str) -> Iterator[tuple[str, dict[str, Any], date]]:
    """Each object of a JSON record file's list of days, with where it is and its date."""
    for i, row in enumerate(doc[field]):
        where = f"{name}: {field}[{i}]"
        if not isinstance(row, dict):
            raise BadImport(f"{where} is not an object")
        yield where, row, _day(row.get("date"), where)


def _member(row: dict[str, Any], key: str, kind: type[T], where: str) -> T:
    """`row[key]` when it is a `kind` (missing or null: an empty one)."""
    value = row.get(key) or kind()
    if not isinstance(value, kind):
        raise BadImport(f"{where}.{key} is not {'an object' if kind is dict else 'a list'}")
    return value


def _day(value: object, where: str) -> date:
    if not isinstance(value, str):
        raise BadImport(f"{where} has no date")
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise BadImport(f"{where} has date {value!r}, not YYYY-MM-DD") from None


def _counts(row: Mapping[str, object], keys: Sequence[str], where: str) -> Counts:
    values = []
    for key in keys:
        value = row.get(key, 0)
        if value is None:
            value = 0
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if type(value) is not int or not 0 <= value <= MAX_COUNT:
            raise BadImport(f"{where}: {key} is {value!r}, not a token count")
        values.append(value)
    return values[0], values[1], values[2], values[3]


# -- the plan ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    record: Record
    counts: Counts  # what would be added (zero when skipped)
    reason: str  # why it is taken, or why not
    entry: Entry | None = None


@dataclass
class Plan:
    shape: Shape
    file: str
    decisions: list[Decision]
    duplicates: int

    @property
    def taken(self) -> list[Decision]:
        return [d for d in self.decisions if d.entry is not None]

    def added(self) -> Counts:
        sums = [sum(d.counts[i] for d in self.taken) for i in range(4)]
        return sums[0], sums[1], sums[2], sums[3]


def plan(
    parsed: Parsed, *, file: str, own: Ledger, everyone: Sequence[Ledger], zone: tzinfo, now: datetime
) -> Plan:
    """What importing `parsed` into `own` would add, record by record, and why (the rule in
    the module docstring). `everyone` is every device's ledger (for imports made elsewhere);
    `zone` is the zone a tool that dates by local day used. Days are compared with this
    device's logs only; sessions (unique ids) with every device's."""
    day_zone = UTC if parsed.zone == "utc" else zone
    logged = _logged_days(own, day_zone)
    sessions = {s.id: s for ledger in [*everyone, own] for s in ledger.sessions}
    imported = {item.entry.id: item for item in listing([own, *everyone])}
    imported_days = {
        (_day_of(item.entry.hour, day_zone), item.entry.source)
        for item in imported.values() if item.entry.kind == "import"
    }
    decisions: list[Decision] = []
    covered: set[tuple[date, str]] = set()  # days whose logs count some of a record: see sessions

    def take(record: Record, counts: Counts, reason: str) -> Decision:
        eid = entry_id("import", record.key.encode())
        entry = checked_entry(
            id=eid, kind="import", hour=noon(record.day, day_zone), source=record.source,
            model=record.model or UNKNOWN_MODEL,
            input_tokens=counts[0], output_tokens=counts[1],
            cache_creation_tokens=counts[2], cache_read_tokens=counts[3],
            origin=fit(f"{parsed.shape} {file}: {record.key}"), added_at=now.astimezone(UTC).replace(microsecond=0),
        )
        return Decision(record, counts, reason, entry)

    def skip(record: Record, reason: str) -> Decision:
        return Decision(record, (0, 0, 0, 0), reason)

    for record in parsed.records:
        eid = entry_id("import", record.key.encode())
        if eid in imported:
            item = imported[eid]
            state = f", removed by {item.removal.by}" if item.removal else ""
            decisions.append(skip(record, f"already imported as {eid}{state}"))
        elif record.undated:
            counts, why = _tracker_share(record, own, sessions, [i.entry for i in imported.values()])
            decisions.append(take(record, counts, why) if any(counts) else skip(record, why))
        elif (record.day, record.source) in imported_days:
            decisions.append(skip(record, f"{record.day} of {record.source} is covered by an earlier import"))
        elif not logged.get((record.day, record.source)):
            decisions.append(take(record, record.counts, "no usage of this day in this device's logs"))
        elif record.model and record.model not in logged[(record.day, record.source)]:
            decisions.append(take(record, record.counts, f"the logs of {record.day} have no {record.model}"))
        else:
            covered.add((record.day, record.source))
            what = record.model or "usage"
            decisions.append(skip(record, f"the logs of {record.day} already count {what}"))
    for session in parsed.sessions:
        if (session.day, session.source) not in covered:
            continue  # its day is taken whole (or skipped for another reason) above
        eid = entry_id("import", session.key.encode())
        if eid in imported:
            decisions.append(skip(session, f"already imported as {eid}"))
        elif session.session in sessions:
            decisions.append(skip(session, "the logs count this session"))
        else:
            decisions.append(take(session, session.counts, f"a session of {session.day} the logs do not hold"))
    return Plan(parsed.shape, file, decisions, parsed.duplicates)


def _tracker_share(
    record: Record, own: Ledger, sessions: Mapping[str, Session], entries: Iterable[Entry]
) -> tuple[Counts, str]:
    """What of a tracker total the logs do not count already, and why (zero: skip it)."""
    whose = record.key.removeprefix("tracker|")
    for entry in entries:
        theirs = entry.origin.rsplit(": tracker|", 1)[-1] if entry.origin.startswith("tracker ") else None
        if theirs is not None and (whose == "all" or theirs == "all"):
            return (0, 0, 0, 0), f"overlaps the tracker total imported as {entry.id}"
    rows: list[HourRow | SessionUsage]
    if record.covers:
        counted = [s for sid, s in sessions.items() if sid in record.covers]
        rows = [u for s in counted for u in s.usage]
        why = f"the tracker's total minus the {len(counted)} of its sessions the logs count"
    else:
        end = hour_index(f"{record.day + timedelta(days=1)}T00")
        rows = [r for r in own.hours if hour_index(r.hour) < end]
        why = f"the tracker's total minus what the logs count up to {record.day}"
    logged = (
        sum(r.input_tokens for r in rows), sum(r.output_tokens for r in rows),
        sum(r.cache_creation_tokens for r in rows), sum(r.cache_read_tokens for r in rows),
    )
    counts = (
        max(0, record.counts[0] - logged[0]), max(0, record.counts[1] - logged[1]),
        max(0, record.counts[2] - logged[2]), max(0, record.counts[3] - logged[3]),
    )
    if not any(counts):
        return counts, "the logs already count everything in the tracker's total"
    return counts, why


def _logged_days(ledger: Ledger, zone: tzinfo) -> dict[tuple[date, str], set[str]]:
    """(local day, source) -> the models the ledger's logs show usage of that day."""
    days: dict[tuple[date, str], set[str]] = {}
    for row in ledger.hours:
        days.setdefault((_day_of(row.hour, zone), row.source), set()).add(row.model)
    return days


def _day_of(label: str, zone: tzinfo) -> date:
    return datetime.fromtimestamp(hour_index(label) * 3600, zone).date()
