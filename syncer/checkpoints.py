"""The local scan state (`state-N.json`): where each log file was read up to. Plain values,
built by `state_from_document` from documents their schema (`syncer/schemas/state.py`)
accepted; saved by `store`. A module of its own so that the read commands, which never read
it (status aside), do not create its classes: a frozen dataclass costs 1.5 ms."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkpoint:
    """How far one log file has been read, and how to know it is still the same file."""

    source: str
    dev: int
    ino: int
    size: int
    mtime_ns: int
    offset: int
    # The last `tail` bytes before `offset` are a final line with no newline, counted because
    # it parsed as a whole JSON object (DESIGN §2 rule 4); the next read starts at that line
    # again, in case more was written onto it.
    tail: int = 0
    fingerprint: str
    fingerprint_len: int


@dataclass(slots=True, kw_only=True)
class LocalState:
    """Where each log file was read up to. Small: read on every run, even when nothing is new.
    The scan updates it in place."""

    schema_version: Literal[1] = 1
    generation: int
    checkpoints: dict[str, Checkpoint] = field(default_factory=dict)
    bad_lines: int = 0
    last_scan: str | None = None


def state_from_document(doc: Mapping[str, Any]) -> LocalState:
    """The scan state in a state-N.json document its schema accepted (pure: no validation here)."""
    return LocalState(
        schema_version=doc.get("schema_version", 1), generation=doc["generation"],
        checkpoints={path: Checkpoint(**cp) for path, cp in doc.get("checkpoints", {}).items()},
        bad_lines=doc.get("bad_lines", 0), last_scan=doc.get("last_scan"),
    )
