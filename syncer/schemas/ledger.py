"""The strict schema of a device file (`syncer.ledger`'s values, as pydantic models): every
ledger's bytes are validated by it once, then built as plain values by `ledger_from_document`.
Also the validation of what is recorded from user input, and the published JSON Schema."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, NamedTuple

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from syncer import ledger as plain
from syncer.documents import json_schema as json_schema_of
from syncer.documents import refuse_newer
from syncer.errors import LedgerCorrupt, SchemaTooNew
from syncer.ledger import COUNT_FIELDS, DEVICE_ID_PATTERN, MAX_COUNT, MAX_TEXT, OWNER_PATTERN, SCHEMA_VERSION

Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
Text = Annotated[str, Field(max_length=MAX_TEXT)]
Owner = Annotated[str, Field(pattern=OWNER_PATTERN)]
Source = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")]
HourLabel = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}$")]
EntryId = Annotated[str, Field(pattern=r"^[mi]-[0-9a-f]{10}$")]
DeviceId = Annotated[str, Field(pattern=DEVICE_ID_PATTERN)]


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


class HourRow(NamedTuple):
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
    model: Text
    long_context: bool
    fast: bool
    input_tokens: Count
    output_tokens: Count
    cache_creation_tokens: Count
    cache_creation_1h_tokens: Count
    cache_read_tokens: Count
    messages: Count


# The published schema describes the rows as the plain types do.
HourRow.__doc__ = plain.HourRow.__doc__
SessionUsage.__doc__ = plain.SessionUsage.__doc__


class Session(NamedTuple):
    id: Text
    source: Source
    project: Text
    branch: Text
    first: datetime
    last: datetime
    usage: list[SessionUsage]


class Entry(_Strict):
    __doc__ = plain.Entry.__doc__

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
    origin: Text = ""
    added_at: datetime


class Removal(_Strict):
    __doc__ = plain.Removal.__doc__

    id: EntryId
    by: DeviceId
    at: datetime


class Retirement(_Strict):
    __doc__ = plain.Retirement.__doc__

    device: DeviceId
    by: DeviceId
    at: datetime


class Ledger(_Strict):
    __doc__ = plain.Ledger.__doc__

    schema_version: Literal[2]
    device: DeviceId
    install_id: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
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
        sums = [sum(column) for column in zip(*(row[-6:] for row in self.hours), strict=True)] or [0] * 6
        if [getattr(self.totals, name) for name in COUNT_FIELDS] != sums:
            raise ValueError("totals do not equal the sum of the hourly rows")
        if len({e.id for e in self.entries}) != len(self.entries):
            raise ValueError("two entries share one id")
        return self


def parse_ledger(data: bytes, *, what: str) -> plain.Ledger:
    """Validate a ledger document (version 2, or 1 read as 2) and build its plain value. `what`
    names it in errors."""
    try:
        Ledger.model_validate_json(data)
        return _built(orjson.loads(data), what=what)
    except ValidationError as exc:
        error = exc
    upgraded = _from_version_1(data)
    if upgraded is not None:
        try:
            Ledger.model_validate_json(orjson.dumps(upgraded))  # as JSON, as strictly as a version 2 file
            return _built(upgraded, what=what)
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


def _built(doc: dict[str, Any], *, what: str) -> plain.Ledger:
    try:
        return plain.ledger_from_document(doc)
    except ValueError as exc:
        # pydantic also reads a time written as a count of seconds, or in lower case; ccsync never
        # writes one, and the builder (which trusted files skip pydantic for) reads ISO 8601 only.
        raise LedgerCorrupt(f"{what} is not a valid ledger (a time is not in ISO 8601 form: {exc})") from None


def _from_version_1(data: bytes) -> dict[str, Any] | None:
    """A version 1 document in version 2's shape, or None if it is not one."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if type(doc) is not dict or doc.get("schema_version") != 1:
        return None
    try:
        return plain.upgrade_document(doc)
    except (KeyError, TypeError, IndexError):
        return None


def checked_bytes(ledger: plain.Ledger) -> bytes:
    """The bytes of `ledger`, after proving they read back as a valid ledger: a bug must never
    write a file that the next run (or another device) would refuse."""
    data = plain.dump_ledger(ledger)
    parse_ledger(data, what="the ledger about to be written")
    return data


def checked_entry(**fields: Any) -> plain.Entry:
    """An entry made from user input (`ccsync add`, `ccsync import`), refused (ValidationError)
    as the schema refuses it in a file."""
    Entry(**fields)
    return plain.Entry(**fields)


def json_schema() -> bytes:
    """The JSON Schema of a device file, as published in the project's `data/` folder."""
    return json_schema_of(Ledger, title=f"ccsync device file (data/<device-id>.json), schema version {SCHEMA_VERSION}")
