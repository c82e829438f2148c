"""The strict schema of the sync repo's `goal.json`: validates its bytes and publishes its JSON
Schema. The goal itself is the plain `syncer.goal.Goal`, built by `goal_from_document`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from syncer.pace import Metric


def _iso_datetime(value: object) -> object:
    # Read by `datetime.fromisoformat`, as `goal_from_document` reads it: a time pydantic alone
    # would accept (a lowercase "t") must not pass here and break the builder later.
    return datetime.fromisoformat(value) if isinstance(value, str) else value


class Goal(BaseModel):
    """`goal.json` in the sync repo: one goal shared by every device."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)

    # Version 2 adds `start` and `source`; a goal without either is still written as version 1,
    # which every ccsync reads, and a narrowed one is refused by a ccsync that would count all usage.
    schema_version: Literal[1, 2] = 1
    # Tokens are whole; a cost target is dollars and cents.
    target: Annotated[int, Field(gt=0, le=10**18)] | Annotated[float, Field(gt=0, le=10**15)]
    metric: Metric = "processed"
    deadline: date
    start: date | None = None  # only usage from this day on counts (else everything ever)
    set_by: Annotated[str, Field(max_length=63)]
    set_at: Annotated[datetime, BeforeValidator(_iso_datetime)]
    source: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")] | None = None
    """Count only this source's usage; None (the default) counts every source."""
