"""The JSON documents ccsync owns (config, goal, price table, JSON Schemas): one canonical byte
form, and one refusal of a document a later ccsync wrote. Pure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from syncer.errors import SchemaTooNew

if TYPE_CHECKING:  # only the schemas are pydantic models, and only they import pydantic
    from pydantic import BaseModel


def canonical(doc: Any) -> bytes:
    """Sorted keys, two-space indent, a final newline: the same document always gives the same
    bytes, so an unchanged document never makes a commit or a diff."""
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"


def refuse_newer(raw: object, *, supported: int, what: str) -> None:
    """SchemaTooNew when the parsed document `raw` has a schema version above `supported`:
    refused rather than misread (exit 78)."""
    version = raw.get("schema_version") if isinstance(raw, dict) else None
    if isinstance(version, int) and version > supported:
        raise SchemaTooNew(
            f"{what} has schema version {version}; this ccsync reads up to {supported}. "
            "Perhaps it was written by a later ccsync: upgrade with: pip install -U ccsync"
        )


def json_schema(model: type[BaseModel], *, title: str) -> bytes:
    """The JSON Schema of `model`, as published in the project's `data/` folder."""
    schema = model.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = title
    return canonical(schema)
