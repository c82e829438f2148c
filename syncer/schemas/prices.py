"""The strict schema of the packaged price table (`syncer/prices.json`). The table itself is the
plain `syncer.pricing.PriceTable`, built by `table_from_document`."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Price = Annotated[float, Field(ge=0, allow_inf_nan=False)]
"""USD per token."""

_STRICT = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


class Rates(BaseModel):
    """USD per token for each kind of token of one request."""

    model_config = _STRICT

    input: Price
    output: Price
    cache_write_5m: Price
    cache_write_1h: Price
    cache_read: Price


class LongContextRates(Rates):
    """Rates for every token of a request whose prompt exceeds `threshold` tokens."""

    threshold: int = Field(gt=0)


class ModelPrice(Rates):
    """One model's rates, its long-context tier if it has one, and where the numbers came from."""

    long_context: LongContextRates | None = None
    fast: float | None = Field(default=None, gt=0)
    litellm_version: str
    derived: tuple[str, ...] = ()


class PriceTable(BaseModel):
    """The packaged table: model name (as the provider's API reports it) -> price."""

    model_config = _STRICT

    source: str
    litellm_version: str
    backfill_litellm_version: str | None = None
    extracted: date
    notes: tuple[str, ...] = ()
    models: dict[str, ModelPrice]
