"""The strict schema of the local scan state (`state-N.json`: where each log file was read up
to). The state itself is the plain `syncer.checkpoints.LocalState`, built by `state_from_document`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

_STRICT = ConfigDict(extra="forbid", strict=True, defer_build=True)


class Checkpoint(BaseModel):
    model_config = _STRICT

    source: str
    dev: int
    ino: int
    size: int
    mtime_ns: int
    offset: Annotated[int, Field(ge=0)]
    tail: Annotated[int, Field(ge=0)] = 0
    fingerprint: str
    fingerprint_len: Annotated[int, Field(ge=0)]


class LocalState(BaseModel):
    model_config = _STRICT

    schema_version: Literal[1] = 1
    generation: int
    checkpoints: dict[str, Checkpoint] = {}
    bad_lines: int = 0
    last_scan: str | None = None
