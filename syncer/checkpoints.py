"""The local scan state (`state-N.json`): where each log file was read up to. Plain values,
built by `state_from_document` from documents their schema (`syncer/schemas/state.py`)
accepted; saved by `store`. A module of its own so that the read commands, which never read
it (status aside), do not create its classes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NamedTuple


class Checkpoint(NamedTuple):
    """How far one log file has been read, and how to know it is still the same file."""

    source: str
    dev: int
    ino: int
    size: int
    mtime_ns: int
    offset: int
    # The last `tail` bytes before `offset` are a final line with no newline, counted because
    # it parsed as a whole JSON object (DESIGN §2 rule 4); the next read starts at that line
    # again, in case more was written onto it. (No default, which would move it after the
    # fields below: the file keeps the order pydantic wrote.)
    tail: int
    fingerprint: str
    fingerprint_len: int


class LocalState:
    """Where each log file was read up to. Small: read on every run, even when nothing is new.
    The scan updates it in place."""

    __slots__ = ("schema_version", "generation", "checkpoints", "bad_lines", "last_scan")

    def __init__(self, *, generation: int, checkpoints: dict[str, Checkpoint] | None = None, bad_lines: int = 0,
                 last_scan: str | None = None) -> None:
        self.schema_version: Literal[1] = 1
        self.generation = generation
        self.checkpoints = {} if checkpoints is None else checkpoints
        self.bad_lines = bad_lines
        self.last_scan = last_scan


def state_from_document(doc: Mapping[str, Any]) -> LocalState:
    """The scan state in a state-N.json document its schema accepted (pure: no validation here)."""
    return LocalState(
        generation=doc["generation"],
        checkpoints={path: Checkpoint(**{"tail": 0, **cp}) for path, cp in doc.get("checkpoints", {}).items()},
        bad_lines=doc.get("bad_lines", 0), last_scan=doc.get("last_scan"),
    )


def state_document(state: LocalState, *, generation: int) -> dict[str, Any]:
    """`state` as state-N.json holds it for ledger generation `generation`: keys in the order
    pydantic wrote them."""
    return {
        "schema_version": state.schema_version, "generation": generation,
        "checkpoints": {path: cp._asdict() for path, cp in state.checkpoints.items()},
        "bad_lines": state.bad_lines, "last_scan": state.last_scan,
    }
