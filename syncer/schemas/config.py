"""The strict schema of this device's `config.json`. The config itself is the plain
`syncer.store.Config`, built by `config_from_document`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from syncer.schemas.ledger import DeviceId, Owner  # the config's device and owner are the ledger's

_INSTALL_ID = r"^[0-9a-f]{32}$"


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)

    schema_version: Literal[1] = 1
    device: DeviceId
    install_id: Annotated[str, Field(pattern=_INSTALL_ID)]
    privacy: Literal["names", "full", "hashed"] = "names"
    hash_key: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    remote: str | None = None
    owner: Owner | None = None
    former_install_ids: list[Annotated[str, Field(pattern=_INSTALL_ID)]] = []
