"""The ledger: the strict schema of one device's permanent record, `data/<device>.json`
(DESIGN.md §3), and its deterministic bytes. The counting rules that grow it live in `tally`.

Schema version 2 adds `fast` to every hourly and session row (Opus fast mode is billed at a
multiple of the standard rates). Version 1 files (ours from before, or a peer's) are read by
adding `fast: false` to each row: version 1 never recorded fast mode. Version 2 also adds
`entries` (usage added by hand or imported from another tool's records), `removed` (entries
taken back out) and `retired` (devices marked as never syncing again): all append-only, and left
out of the file while empty.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Literal, NamedTuple

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from syncer.documents import json_schema as json_schema_of
from syncer.documents import refuse_newer
from syncer.errors import LedgerCorrupt, SchemaTooNew

SCHEMA_VERSION: Literal[2] = 2
DEVICE_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"

MAX_COUNT = 2**53
MAX_TEXT = 1024
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
Text = Annotated[str, Field(max_length=MAX_TEXT)]


def fit(text: str) -> str:
    """`text` as a ledger field can hold it: names longer than MAX_TEXT characters (a deep
    working directory, a hostile log) keep their start plus a hash of the whole, so the same
    name always gives the same field and different names stay apart."""
    if len(text) <= MAX_TEXT:
        return text
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    return text[: MAX_TEXT - len(digest) - 1] + "~" + digest


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


OWNER_PATTERN = r"^[^\x00-\x1f\x7f]{1,64}$"
Owner = Annotated[str, Field(pattern=OWNER_PATTERN)]
Source = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")]
HourLabel = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}$")]
EntryId = Annotated[str, Field(pattern=r"^[mi]-[0-9a-f]{10}$")]
DeviceId = Annotated[str, Field(pattern=DEVICE_ID_PATTERN)]


class HourRow(NamedTuple):
    """Tokens of one UTC hour for one (source, model, project, branch, pricing tier, speed).

    Rows are JSON arrays in this order (a device file holds tens of thousands of them: as
    arrays they are a quarter of the size and validate five times faster than objects)."""

    hour: HourLabel
    source: Source
    model: Text
    project: Text
    branch: Text
    long_context: bool
    fast: bool
    input_tokens: Count
    output_tokens: Count
    cache_creation_tokens: Count
    cache_creation_1h_tokens: Count
    cache_read_tokens: Count
    messages: Count


class SessionUsage(NamedTuple):
    """One model's (and pricing tier's and speed's) tokens within a session."""

    model: Text
    long_context: bool
    fast: bool
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


class Entry(_Strict):
    """Usage no log on this device shows: added by hand (`manual`) or taken from another
    tool's records (`import`). Counted in its UTC hour like logged usage; never edited, only
    removed by a `Removal` naming its id."""

    id: EntryId
    kind: Literal["manual", "import"]
    hour: HourLabel
    source: Source
    model: Text
    input_tokens: Count = 0
    output_tokens: Count = 0
    cache_creation_tokens: Count = 0
    cache_read_tokens: Count = 0
    note: Text = ""
    origin: Text = ""  # for an import: the file's format and the record it came from
    added_at: datetime


class Removal(_Strict):
    """An entry taken back out, by any device (an entry lives in the file of the device that
    added it, and only that device writes that file)."""

    id: EntryId
    by: DeviceId
    at: datetime


class Retirement(_Strict):
    """A device marked as never syncing again (`ccsync devices retire`), recorded by the device
    that retired it: every device reads every file, and no two devices write one."""

    device: DeviceId
    by: DeviceId
    at: datetime


class Ledger(_Strict):
    """`data/<device>.json`: what one device has spent, aggregated; never prompt text."""

    schema_version: Literal[2]
    device: DeviceId
    install_id: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    # Who the device belongs to (`ccsync init --owner`), so a team's reports group by person.
    owner: Owner | None = None
    generation: Count
    totals: Tokens
    hours: list[HourRow]
    sessions: list[Session]
    entries: list[Entry] = []
    removed: list[Removal] = []
    retired: list[Retirement] = []

    @model_validator(mode="after")
    def _rows_add_up(self) -> Ledger:
        rows: list[HourRow | SessionUsage] = [*self.hours, *(u for s in self.sessions for u in s.usage)]
        if any(r.cache_creation_1h_tokens > r.cache_creation_tokens for r in rows):
            raise ValueError("cache_creation_1h_tokens exceeds cache_creation_tokens")
        if self.totals != sum_tokens(self.hours):
            raise ValueError("totals do not equal the sum of the hourly rows")
        if len({e.id for e in self.entries}) != len(self.entries):
            raise ValueError("two entries share one id")
        return self


def sum_tokens(rows: Iterable[HourRow | SessionUsage]) -> Tokens:
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
    """Validate a ledger document (version 2, or 1 read as 2). `what` names it in errors."""
    try:
        return Ledger.model_validate_json(data)
    except ValidationError as exc:
        error = exc
    upgraded = _from_version_1(data)
    if upgraded is not None:
        try:
            return Ledger.model_validate_json(upgraded)
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
    if first["type"] == "extra_forbidden" and len(first["loc"]) == 1:
        # A field of this version that this ccsync does not know: version 2 grows by optional
        # fields, so a later ccsync's file is skipped (by `total`) with the fix, not misread.
        raise SchemaTooNew(
            f"{what} has a field this ccsync does not know ({where}); perhaps it was written by a later "
            "ccsync: upgrade with: pip install -U ccsync"
        )
    raise LedgerCorrupt(f"{what} is not a valid ledger ({where}: {first['msg']})") from None


def _from_version_1(data: bytes) -> bytes | None:
    """A version 1 document in version 2's shape (every row not fast), or None if it is not
    one. The result is validated as strictly as any version 2 document."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if type(doc) is not dict or doc.get("schema_version") != 1:
        return None
    try:
        doc["hours"] = [[*row[:6], False, *row[6:]] for row in doc["hours"]]
        doc["sessions"] = [
            [*s[:6], [[*u[:2], False, *u[2:]] for u in s[6]], *s[7:]] for s in doc["sessions"]
        ]
    except (KeyError, TypeError, IndexError):
        return None
    doc["schema_version"] = 2
    return orjson.dumps(doc)  # validated as JSON, as strictly as a version 2 file


def hour_label(hour: int) -> str:
    moment = datetime.fromtimestamp(hour * 3600, UTC)
    # strftime("%Y") does not pad years before 1000 on every platform; the schema wants four digits.
    return f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}"


def hour_index(label: str) -> int:
    return int(datetime.fromisoformat(label).replace(tzinfo=UTC).timestamp()) // 3600


def checked_bytes(ledger: Ledger) -> bytes:
    """The bytes of `ledger`, after proving they read back as a valid ledger: a bug must never
    write a file that the next run (or another device) would refuse."""
    data = dump_ledger(ledger)
    parse_ledger(data, what="the ledger about to be written")
    return data


HISTORY = ("entries", "removed", "retired")
"""The append-only lists: merged by union, absent from the file while empty."""


def dump_ledger(ledger: Ledger) -> bytes:
    """Deterministic bytes: same ledger, same bytes, so an unchanged ledger commits nothing.
    Sorted keys, two-space indent, and one row per line so git diffs stay readable."""
    doc = ledger.model_dump(mode="json")
    for optional in HISTORY:  # absent while empty: older files keep their bytes
        if not doc[optional]:
            del doc[optional]
    parts = []
    for key in sorted(doc):
        value = doc[key]
        if key == "owner" and value is None:
            continue  # a device without an owner writes the same bytes as before owners existed
        if key in ("hours", "sessions", *HISTORY) and value:
            rows = ",\n".join("    " + orjson.dumps(row, option=orjson.OPT_SORT_KEYS).decode() for row in value)
            parts.append(f'  "{key}": [\n{rows}\n  ]')
        else:
            parts.append(f'  "{key}": ' + orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode())
    return ("{\n" + ",\n".join(parts) + "\n}\n").encode()


def json_schema() -> bytes:
    """The JSON Schema of a device file, as published in the project's `data/` folder."""
    return json_schema_of(Ledger, title=f"ccsync device file (data/<device-id>.json), schema version {SCHEMA_VERSION}")
