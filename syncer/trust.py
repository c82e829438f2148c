"""Bytes a pydantic schema has accepted once, trusted by their digest ever after.

Every file ccsync reads is validated by its schema (`syncer/schemas/`), but importing pydantic
and building its validators costs a read command about 150 ms, more than half of the 250 ms it
may take. So the digest of every document a schema accepts is remembered in the state folder;
bytes whose digest is remembered are built into values straight from their JSON, by the same
builder the validating path ends in, and pydantic is never imported. Anything else (a peer's new
file, a ledger edited by hand, a file damaged on disk) is validated as before, errors and all.

A digest covers the kind of document and the schemas' own source: bytes accepted as a goal are
never trusted as a ledger, and a ccsync whose schemas changed trusts nothing remembered before it.
The memo only ever speeds a read up: lost, damaged or stale, it costs one validation, never a
wrong answer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import orjson

from syncer.blake import blake2b
from syncer.paths import write_disposable

T = TypeVar("T")

KEPT = 4096
"""Digests remembered, the newest: every device file of a large team many times over (only the
bytes on disk now are ever read again)."""

_SCHEMAS = Path(__file__).parent / "schemas"
_known: set[str] = set()
"""Digests known valid in this process: a fact that stays true, whatever state folder is in use."""
_loaded: set[Path] = set()


def _fingerprint() -> bytes | None:
    """What the schemas accept, as the digest of their source; None if it cannot be read (then
    nothing is trusted)."""
    try:
        sources = sorted(_SCHEMAS.glob("*.py"))
        h = blake2b(digest_size=16)
        for source in sources:
            h.update(source.name.encode() + b"\0" + source.read_bytes() + b"\0")
    except OSError:
        return None
    return h.digest() if sources else None


_FINGERPRINT = _fingerprint()


def content_digest(data: bytes | memoryview) -> bytes:
    """The digest of a document's bytes, which the memo knows them by (with their kind). A caller
    that holds it already, checked against these very bytes, hands it to `parse` as `known_as`:
    the kept view of the sync repo (syncer/git/view.py) checks each file's bytes this way, and a
    team's files are not hashed twice."""
    return blake2b(data, digest_size=20).digest()


def digest(kind: str, data: bytes, known_as: bytes | None = None) -> str | None:
    """What the memo knows `kind`'s `data` by, in hex as the memo file holds it."""
    if _FINGERPRINT is None:
        return None
    content = content_digest(data) if known_as is None else known_as
    return blake2b(_FINGERPRINT + kind.encode() + b"\0" + content, digest_size=20).hexdigest()


def _load(memo: Path) -> list[str]:
    """The digests in the memo, the oldest first. Kept as the hex they are written in: a team's
    memo holds thousands, and a string that is not a digest's hex never matches one anyway."""
    try:
        found = orjson.loads(memo.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return []
    return [d for d in found if type(d) is str and len(d) == 40] if type(found) is list else []


def known(memo: Path, kind: str, data: bytes, known_as: bytes | None = None) -> bool:
    if memo not in _loaded:
        _known.update(_load(memo))
        _loaded.add(memo)
    d = digest(kind, data, known_as)
    return d is not None and d in _known


def remember(memo: Path, kind: str, data: bytes, known_as: bytes | None = None) -> None:
    """Record that `kind`'s schema accepted `data`. Best effort: a memo that cannot be written
    costs later reads a validation, nothing else."""
    d = digest(kind, data, known_as)
    if d is None:
        return
    _known.add(d)
    kept = [old for old in _load(memo) if old != d][-(KEPT - 1):] + [d]
    write_disposable(memo, orjson.dumps(kept))


def parse(memo: Path, kind: str, data: bytes, *, validate: Callable[[bytes], T], build: Callable[[Any], T],
          decode: Callable[[bytes], Any] = orjson.loads, known_as: bytes | None = None) -> T:
    """`data` as a value: built from its JSON (as `decode` reads it) if `kind`'s schema accepted
    these bytes before, else validated by `validate` (which raises on bad bytes) and remembered.
    `known_as`: `content_digest(data)`, if the caller has it (see there)."""
    if known(memo, kind, data, known_as):
        return build(decode(data))
    value = validate(data)
    remember(memo, kind, data, known_as)
    return value
