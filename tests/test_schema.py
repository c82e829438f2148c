"""The published schemas in data/ match the models, and every past ledger version still loads."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from syncer import entries, goal, ledger
from syncer.schemas import ledger as schema

ROOT = Path(__file__).resolve().parent.parent
FROZEN = Path(__file__).resolve().parent / "schemas"


@pytest.mark.parametrize("name, generate", [("device.schema.json", schema.json_schema),
                                            ("goal.schema.json", goal.json_schema)])
def test_published_schema_is_current(name: str, generate: Callable[[], bytes]) -> None:
    path = ROOT / "data" / name
    if os.environ.get("CCSYNC_UPDATE_SCHEMA"):
        path.write_bytes(generate())
    assert path.read_bytes() == generate(), f"data/{name} is stale: CCSYNC_UPDATE_SCHEMA=1 pytest tests/test_schema.py"


def test_every_frozen_ledger_version_still_loads() -> None:
    examples = sorted(FROZEN.glob("ledger-v*.json"))
    assert [p.name for p in examples] == [f"ledger-v{v}.json" for v in range(1, ledger.SCHEMA_VERSION + 1)]
    for path in examples:
        loaded = schema.parse_ledger(path.read_bytes(), what=path.name)
        assert loaded.totals.messages > 0 and loaded.sessions


def test_a_version_1_ledger_reads_as_version_2_without_fast_rows() -> None:
    v1 = schema.parse_ledger((FROZEN / "ledger-v1.json").read_bytes(), what="v1")
    assert v1.schema_version == 2
    assert [h.fast for h in v1.hours] == [False] * 3 and v1.totals.messages == 3
    assert not any(u.fast for s in v1.sessions for u in s.usage)
    # Written back as version 2, byte for byte what a version 2 ccsync writes.
    assert schema.parse_ledger(ledger.dump_ledger(v1), what="v2") == v1


def test_a_version_1_ledger_takes_entries_and_is_written_as_version_2() -> None:
    v1 = schema.parse_ledger((FROZEN / "ledger-v1.json").read_bytes(), what="v1")
    v2 = schema.parse_ledger((FROZEN / "ledger-v2.json").read_bytes(), what="v2")
    grown = entries.add(v1, v2.entries)
    written = ledger.dump_ledger(grown)
    assert b'"schema_version": 2' in written and written.count(b'"kind"') == 2
    assert schema.parse_ledger(written, what="migrated") == grown
    assert [e.id for e in v2.entries] == ["m-3f9a0c21b7", "i-77c1d0e5a2"] and v2.removed[0].by == "ana-desk"


def test_the_schema_and_the_plain_values_have_the_same_fields() -> None:
    """The schema validates what `ledger_from_document` builds: the same fields and defaults (the
    records' fields in any order: they are written as objects with sorted keys)."""
    for name in ("Tokens", "Entry", "Removal", "Retirement", "Ledger"):
        plain = getattr(ledger, name)
        strict = getattr(schema, name).model_fields
        assert sorted(plain._fields) == sorted(strict), name
        for field, spec in strict.items():
            if spec.is_required():
                assert field not in plain._field_defaults, (name, field)
            else:
                assert plain._field_defaults[field] == spec.default, (name, field)
    for name in ("HourRow", "SessionUsage", "Session"):
        assert getattr(ledger, name)._fields == getattr(schema, name)._fields, name
