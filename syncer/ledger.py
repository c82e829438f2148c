"""The ledger: one device's permanent record, `data/<device>.json` (DESIGN.md §3), as plain
values, and its deterministic bytes. The counting rules that grow it live in `tally`; its strict
schema (pydantic, which validates every file's bytes once) lives in `syncer.schemas.ledger`.

Schema version 2 adds `fast` to every hourly and session row (Opus fast mode is billed at a
multiple of the standard rates). Version 1 files (ours from before, or a peer's) are read by
adding `fast: false` to each row: version 1 never recorded fast mode. Version 2 also adds
`entries` (usage added by hand or imported from another tool's records), `removed` (entries
taken back out) and `retired` (devices marked as never syncing again): all append-only, and left
out of the file while empty.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from itertools import repeat
from typing import Any, Literal, NamedTuple

import orjson

from syncer.blake import blake2b

SCHEMA_VERSION: Literal[2] = 2
DEVICE_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
OWNER_PATTERN = r"^[^\x00-\x1f\x7f]{1,64}$"

MAX_COUNT = 2**53
MAX_TEXT = 1024


def fit(text: str) -> str:
    """`text` as a ledger field can hold it: names longer than MAX_TEXT characters (a deep
    working directory, a hostile log) keep their start plus a hash of the whole, so the same
    name always gives the same field and different names stay apart."""
    if len(text) <= MAX_TEXT:
        return text
    digest = blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    return text[: MAX_TEXT - len(digest) - 1] + "~" + digest


# Named tuples, not dataclasses, which cost every command about a millisecond each to create
# (tests/test_layers.py). The records (Tokens, Entry, Removal, Retirement) are written as JSON
# objects, the rows as arrays (see `_plain`).


class Tokens(NamedTuple):
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_creation_1h_tokens: int = 0
    cache_read_tokens: int = 0
    messages: int = 0


class HourRow(NamedTuple):
    """Tokens of one UTC hour for one (source, model, project, branch, pricing tier, speed).

    Rows are JSON arrays in this order (a device file holds tens of thousands of them: as
    arrays they are a quarter of the size and validate five times faster than objects)."""

    hour: str
    source: str
    model: str
    project: str
    branch: str
    long_context: bool
    fast: bool
    input_tokens: int
    output_tokens: int
    cache_creation_tokens: int
    cache_creation_1h_tokens: int
    cache_read_tokens: int
    messages: int


class SessionUsage(NamedTuple):
    """One model's (and pricing tier's and speed's) tokens within a session."""

    model: str
    long_context: bool
    fast: bool
    input_tokens: int
    output_tokens: int
    cache_creation_tokens: int
    cache_creation_1h_tokens: int
    cache_read_tokens: int
    messages: int


class Session(NamedTuple):
    id: str
    source: str
    project: str
    branch: str
    first: datetime
    last: datetime
    usage: list[SessionUsage]


class Entry(NamedTuple):
    """Usage no log on this device shows: added by hand (`manual`) or taken from another
    tool's records (`import`). Counted in its UTC hour like logged usage; never edited, only
    removed by a `Removal` naming its id."""

    id: str
    kind: Literal["manual", "import"]
    hour: str
    source: str
    model: str
    added_at: datetime
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0
    note: str = ""
    origin: str = ""  # for an import: the file's format and the record it came from


class Removal(NamedTuple):
    """An entry taken back out, by any device (an entry lives in the file of the device that
    added it, and only that device writes that file)."""

    id: str
    by: str
    at: datetime


class Retirement(NamedTuple):
    """A device marked as never syncing again (`ccsync devices retire`), recorded by the device
    that retired it: every device reads every file, and no two devices write one."""

    device: str
    by: str
    at: datetime


class Ledger(NamedTuple):
    """`data/<device>.json`: what one device has spent, aggregated; never prompt text."""

    schema_version: Literal[2]
    device: str
    install_id: str
    generation: int
    totals: Tokens
    hours: list[HourRow]
    sessions: list[Session]
    # Who the device belongs to (`ccsync init --owner`), so a team's reports group by person.
    owner: str | None = None
    # Each default list is shared by every ledger that leaves it out: no list of a ledger is
    # changed in place (a change makes a new ledger, with `_replace`).
    entries: list[Entry] = []
    removed: list[Removal] = []
    retired: list[Retirement] = []


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


def upgrade_document(doc: dict[str, Any]) -> dict[str, Any]:
    """A version 1 document in version 2's shape (every row not fast); any other document as it
    is. A document not shaped like version 1 raises KeyError, TypeError or IndexError."""
    if doc.get("schema_version") != 1:
        return doc
    return {
        **doc,
        "schema_version": 2,
        "hours": [[*row[:6], False, *row[6:]] for row in doc["hours"]],
        "sessions": [[*s[:6], [[*u[:2], False, *u[2:]] for u in s[6]], *s[7:]] for s in doc["sessions"]],
    }


def ledger_from_document(doc: dict[str, Any]) -> Ledger:
    """The ledger a JSON document (version 2, or 1) holds, built with no checks at all: only for
    a document the schema (`syncer.schemas.ledger`) has accepted, now or, for the same bytes,
    before. Rows are built in bulk (a device file holds tens of thousands of them), each array
    made a row as it is: the schema checked its length and types."""
    doc = upgrade_document(doc)
    hours, sessions = doc["hours"], doc["sessions"]
    if _has_objects(hours, sessions):
        hours, sessions = _as_arrays(hours, sessions)
    new, moment = tuple.__new__, datetime.fromisoformat
    return Ledger(
        schema_version=SCHEMA_VERSION,
        device=doc["device"],
        install_id=doc["install_id"],
        owner=doc.get("owner"),
        generation=doc["generation"],
        totals=Tokens(**doc["totals"]),
        hours=list(map(new, repeat(HourRow), hours)),
        sessions=[
            new(Session, (sid, source, project, branch, moment(first), moment(last),
                          list(map(new, repeat(SessionUsage), usage))))
            for sid, source, project, branch, first, last, usage in sessions
        ],
        entries=[Entry(**{**e, "added_at": moment(e["added_at"])}) for e in doc.get("entries", ())],
        removed=[Removal(id=r["id"], by=r["by"], at=moment(r["at"])) for r in doc.get("removed", ())],
        retired=[Retirement(device=r["device"], by=r["by"], at=moment(r["at"])) for r in doc.get("retired", ())],
    )


_SESSIONS = b'\n  "sessions": ['
_SESSIONS_END = b"\n  ]"


def document_without_sessions(data: bytes) -> dict[str, Any]:
    """The JSON document of a ledger's bytes with an empty `sessions` list, for a caller that
    reads none: a team's sessions are half its files' bytes, and decoding them half of reading
    the team. In the layout `dump_ledger` writes, the list is the lines from its key to the
    first line that is only its closing bracket (no JSON string holds a line break), and is cut
    out before decoding; bytes in any other layout are decoded whole."""
    start = data.find(_SESSIONS + b"\n")
    end = data.find(_SESSIONS_END, start)
    if start >= 0 and end >= 0:
        try:
            doc = orjson.loads(data[:start + len(_SESSIONS)] + b"]" + data[end + len(_SESSIONS_END):])
        except orjson.JSONDecodeError:  # not that layout after all
            doc = None
        if type(doc) is dict and doc.get("sessions") == []:
            return doc
    whole: dict[str, Any] = orjson.loads(data)
    whole["sessions"] = []
    return whole


def _has_objects(hours: list[Any], sessions: list[Any]) -> bool:
    """Whether a row is a JSON object: the schema takes one by its field names; ccsync writes arrays."""
    return dict in {*map(type, hours), *map(type, sessions)} or any(
        type(u) is dict for s in sessions for u in s[6]
    )


def _as_arrays(hours: list[Any], sessions: list[Any]) -> tuple[list[Any], list[Any]]:
    def array(row: Any, names: tuple[str, ...]) -> Any:
        return [row[name] for name in names] if isinstance(row, dict) else row

    sessions = [array(s, Session._fields) for s in sessions]
    return [array(r, HourRow._fields) for r in hours], [
        [*s[:6], [array(u, SessionUsage._fields) for u in s[6]]] for s in sessions
    ]


def hour_label(hour: int) -> str:
    moment = datetime.fromtimestamp(hour * 3600, UTC)
    # strftime("%Y") does not pad years before 1000 on every platform; the schema wants four digits.
    return f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}"


def hour_index(label: str) -> int:
    return int(datetime.fromisoformat(label).replace(tzinfo=UTC).timestamp()) // 3600


HISTORY = ("entries", "removed", "retired")
"""The append-only lists: merged by union, absent from the file while empty."""
_KEYS = sorted(Ledger._fields)
_ROWS = ("hours", "sessions", *HISTORY)
# Times as pydantic wrote them before: "2026-11-01T10:00:00Z", microseconds only when there are some.
_JSON = orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z
_RECORDS = (Tokens, Entry, Removal, Retirement)


def _plain(value: tuple[object, ...]) -> object:
    """What orjson (which writes no named tuple) writes a record as, an object (its keys sorted),
    and a row as, an array."""
    return value._asdict() if isinstance(value, _RECORDS) else list(value)


def _json(value: object) -> str:
    return orjson.dumps(value, default=_plain, option=_JSON).decode()


def dump_ledger(ledger: Ledger) -> bytes:
    """Deterministic bytes: same ledger, same bytes, so an unchanged ledger commits nothing.
    Sorted keys, two-space indent, and one row per line so git diffs stay readable."""
    parts = []
    for key in _KEYS:
        value = getattr(ledger, key)
        if key == "owner" and value is None:
            continue  # a device without an owner writes the same bytes as before owners existed
        if key in HISTORY and not value:
            continue  # absent while empty: older files keep their bytes
        if key in _ROWS and value:
            rows = ",\n".join("    " + _json(row) for row in value)
            parts.append(f'  "{key}": [\n{rows}\n  ]')
        else:
            parts.append(f'  "{key}": ' + _json(value))
    return ("{\n" + ",\n".join(parts) + "\n}\n").encode()
