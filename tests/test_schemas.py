"""The plain value types and their pydantic schemas (`syncer/schemas/`) agree: every document a
schema accepts is built by the plain builder into the value pydantic made of it, and written
back byte for byte as the pydantic models wrote it (tests/golden/documents/, frozen from them)."""

from __future__ import annotations

import importlib.resources
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from syncer import checkpoints, goal, pricing, store
from syncer.errors import ConfigError, GoalCorrupt, SchemaTooNew, UsageError
from syncer.paths import StatePaths
from syncer.schemas.config import Config as ConfigSchema
from syncer.schemas.goal import Goal as Schema
from syncer.schemas.prices import PriceTable as TableSchema
from syncer.schemas.state import LocalState as StateSchema
from tests.test_pricing import CURRENT, OLD

GOLDEN = Path(__file__).resolve().parent / "golden" / "documents"


def _cases(name: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = orjson.loads((GOLDEN / name).read_bytes())
    return cases


def _fields(value: Any) -> dict[str, Any]:
    """A plain value's fields (a named tuple's, or a plain class's slots), nested values
    included, as pydantic's model_dump() gives them."""
    names = value._fields if hasattr(value, "_fields") else value.__slots__
    return {name: _plain(getattr(value, name)) for name in names}


def _plain(value: Any) -> Any:
    if hasattr(value, "_fields"):  # a named tuple
        return _fields(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("case", _cases("goals.json"), ids=lambda c: str(c["document"]))
def test_goal_json_bytes_are_those_pydantic_wrote(case: dict[str, Any]) -> None:
    data = orjson.dumps(case["document"])
    parsed = goal.parse_goal(data)
    assert goal.dump_goal(parsed) == case["dumped"].encode()
    assert _fields(parsed) == Schema.model_validate_json(data).model_dump()
    assert goal.goal_from_document(case["document"]) == parsed
    assert goal.parse_goal(goal.dump_goal(parsed)) == parsed._replace(
        schema_version=1 if parsed.start is None and parsed.source is None else 2)


@pytest.mark.parametrize("change", [
    {"set_at": "2026-11-01t10:00:00z"}, {"set_at": 1_700_000_000}, {"set_at": "2026-11-01T24:00:00Z"},
    {"deadline": "2026-12-31T00:00:00"}, {"target": "5"}, {"target": True},
], ids=str)
def test_a_goal_in_a_shape_the_builder_does_not_read_is_refused(change: dict[str, object]) -> None:
    # Strict JSON: what pydantic's lax mode would coerce (a string target, a timestamp) is
    # refused, so every goal the schema accepts is built the same way by goal_from_document.
    doc = {"target": 5, "deadline": "2026-12-31", "set_by": "a", "set_at": "2026-11-01T10:00:00Z", **change}
    with pytest.raises(GoalCorrupt, match="^goal.json in the sync repo is not valid; set it again"):
        goal.parse_goal(orjson.dumps(doc))


def test_a_goal_made_from_input_is_held_to_the_schema() -> None:
    made = goal.Goal(target=5, deadline=date(2026, 12, 31), set_by="ana", set_at=datetime(2026, 11, 1, tzinfo=UTC),
                     source="codex")
    assert goal.checked(made) == made._replace(schema_version=2)
    for bad in (made._replace(set_by="x" * 64), made._replace(source="Codex"),
                made._replace(target=10**18 + 1), made._replace(target=0.0)):
        with pytest.raises(UsageError, match=r"^the goal .* is not valid \(see data/goal.schema.json\); give another"):
            goal.checked(bad)


# --- the price table ----------------------------------------------------------------------------

PACKAGED = importlib.resources.files("syncer").joinpath("prices.json").read_bytes()


def _table_shapes() -> list[bytes]:
    """The packaged table, a table made from LiteLLM, and a hand-written one in the shapes a
    schema takes but a dump never writes: integer prices, optional members left out."""
    bare = {"input": 0, "output": 1, "cache_write_5m": 2, "cache_write_1h": 3e-6, "cache_read": 0.0,
            "litellm_version": "1.2.3"}
    tiered = {**bare, "long_context": {**{k: v for k, v in bare.items() if k != "litellm_version"}, "threshold": 1},
              "fast": 6, "derived": ["b", "a"]}
    hand = {"source": "hand", "litellm_version": "1.2.3", "extracted": "2026-02-28",
            "models": {"z-model": bare, "a-model": tiered, "gpt-x": {**bare, "fast": 1.5, "long_context": None}}}
    return [PACKAGED, (GOLDEN / "prices-from-litellm.json").read_bytes(), orjson.dumps(hand)]


@pytest.mark.parametrize("data", _table_shapes(), ids=["packaged", "from-litellm", "hand-written"])
def test_table_from_document_is_what_pydantic_made(data: bytes) -> None:
    built = pricing.table_from_document(orjson.loads(data))
    assert _fields(built) == TableSchema.model_validate_json(data).model_dump()
    assert pricing.parse_table(data) == built and hash(pricing.parse_table(data)) == hash(built)
    assert all(type(v) is float for p in built.models.values() for v in (p.input, p.cache_read, p.fast or 1.0))


def test_price_tables_are_written_as_pydantic_wrote_them() -> None:
    assert pricing.dump_table(pricing.load_table()) == PACKAGED
    made = pricing.table_from_litellm(("2.0", CURRENT), ("1.0", OLD), extracted=date(2026, 1, 1))
    assert pricing.dump_table(made) == (GOLDEN / "prices-from-litellm.json").read_bytes()


def test_a_table_that_breaks_the_schema_is_never_written() -> None:
    table = pricing.load_table()
    name, price = next(iter(table.models.items()))
    broken = table._replace(models={**table.models, name: price._replace(input=-1.0)})
    with pytest.raises(ValidationError):
        pricing.dump_table(broken)
    assert broken != table and hash(broken) == hash(table)  # equal hashes, told apart by equality


# --- the config and the scan state --------------------------------------------------------------


@pytest.mark.parametrize("case", _cases("configs.json"), ids=lambda c: c["document"]["device"][:8])
def test_config_json_bytes_are_those_pydantic_wrote(case: dict[str, Any], tmp_path: Path) -> None:
    paths = StatePaths(tmp_path)
    paths.config.write_bytes(orjson.dumps(case["document"]))
    loaded = store.load_config(paths)
    assert loaded is not None and loaded == store.config_from_document(case["document"])
    assert _fields(loaded) == {**ConfigSchema.model_validate(case["document"]).model_dump(),
                               "former_install_ids": tuple(case["document"].get("former_install_ids", ()))}
    store.save_config(paths, loaded)
    assert paths.config.read_bytes() == case["dumped"].encode()


def test_a_config_changed_against_its_rules_is_never_written(tmp_path: Path) -> None:
    paths = StatePaths(tmp_path)
    good = store.create_config(paths, store.new_config("ana-desk"))
    for bad in (good._replace(device="Ana Desk"), good._replace(owner="a\nb"),
                good._replace(former_install_ids=("not-hex",))):
        with pytest.raises(ValidationError):
            store.save_config(paths, bad)
    assert store.load_config(paths) == good


def test_the_scan_state_is_written_and_read_as_pydantic_did(tmp_path: Path) -> None:
    data = (GOLDEN / "state.json").read_bytes()
    state = checkpoints.state_from_document(orjson.loads(data))
    assert _fields(state) == StateSchema.model_validate_json(data).model_dump()
    paths = StatePaths(tmp_path)
    store.ensure_home(paths)
    store._write_state(paths, checkpoints.state_from_document({**orjson.loads(data), "generation": 1}), 3)
    assert paths.state(3).read_bytes() == data
    read = store.read_state(paths, 3)
    assert read is not None and _fields(read) == _fields(state) and store.read_state(paths, 2) is None
    paths.state(3).write_bytes(data.replace(b'"offset":290', b'"offset":-1'))
    assert store.read_state(paths, 3) is None  # a cache that fails its schema is dropped, not trusted


@pytest.mark.parametrize("data", [
    b"{", b"[]", b'{"device": "a"}', orjson.dumps({**_cases("configs.json")[0]["document"], "privacy": "secret"}),
])
def test_a_config_its_schema_refuses_is_an_error_naming_the_file(data: bytes) -> None:
    with pytest.raises(ConfigError) as refused:
        store.parse_config(data, what="/home/ana/.ccsync/config.json")
    assert refused.value.message == ("/home/ana/.ccsync/config.json is not a valid ccsync config; fix it or set it "
                                     "up again with: ccsync init --force")
    with pytest.raises(SchemaTooNew):
        store.parse_config(b'{"schema_version": 2}', what="config.json")
