"""Validated once, trusted by digest (syncer/trust.py): bytes a schema accepted are built without
validating again; any other bytes, a damaged memo or changed schemas mean validating as before."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, NoReturn

import orjson
import pytest

from syncer import store, trust
from syncer.blake import blake2b
from syncer.errors import LedgerCorrupt
from syncer.paths import StatePaths
from syncer.schemas import ledger as schema


class Calls:
    def __init__(self) -> None:
        self.validated: list[bytes] = []

    def validate(self, data: bytes) -> dict[str, Any]:
        self.validated.append(data)
        doc = orjson.loads(data)
        if isinstance(doc, dict) and doc.get("bad"):
            raise ValueError("refused")
        return {"built": doc}

    @staticmethod
    def build(doc: Any) -> dict[str, Any]:
        return {"built": doc}


@pytest.fixture(autouse=True)
def forget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts from what its own memo file holds (the process keeps what it learnt)."""
    monkeypatch.setattr(trust, "_known", set())
    monkeypatch.setattr(trust, "_loaded", set())


def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trust, "_known", set())
    monkeypatch.setattr(trust, "_loaded", set())


def test_accepted_bytes_are_not_validated_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    memo, calls = tmp_path / "trusted.json", Calls()
    data = b'{"a": 1}'
    assert trust.parse(memo, "ledger", data, validate=calls.validate, build=calls.build) == {"built": {"a": 1}}
    fresh_process(monkeypatch)  # the next run knows it from the memo file
    assert trust.parse(memo, "ledger", data, validate=calls.validate, build=calls.build) == {"built": {"a": 1}}
    assert calls.validated == [data]


def test_bytes_are_known_by_their_digest_whoever_computed_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The kept view of the sync repo hands on the digests it checked its files' bytes against."""
    memo, calls = tmp_path / "trusted.json", Calls()
    data, other = b'{"a": 1}', b'{"a": 2}'
    trust.parse(memo, "ledger", data, validate=calls.validate, build=calls.build)
    fresh_process(monkeypatch)
    handed = trust.content_digest(data)
    assert trust.parse(memo, "ledger", data, validate=calls.validate, build=calls.build, known_as=handed) == {
        "built": {"a": 1}}
    trust.parse(memo, "ledger", other, validate=calls.validate, build=calls.build,
                known_as=trust.content_digest(other))
    fresh_process(monkeypatch)
    trust.parse(memo, "ledger", other, validate=calls.validate, build=calls.build)
    assert not trust.known(memo, "goal", data, known_as=handed)
    assert calls.validated == [data, other]


def test_other_bytes_and_other_kinds_are_validated(tmp_path: Path) -> None:
    memo, calls = tmp_path / "trusted.json", Calls()
    trust.parse(memo, "ledger", b'{"a": 1}', validate=calls.validate, build=calls.build)
    trust.parse(memo, "ledger", b'{"a": 1} ', validate=calls.validate, build=calls.build)
    trust.parse(memo, "goal", b'{"a": 1}', validate=calls.validate, build=calls.build)
    assert len(calls.validated) == 3


def test_refused_bytes_are_never_remembered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    memo, calls = tmp_path / "trusted.json", Calls()
    for _ in range(2):
        with pytest.raises(ValueError, match="refused"):
            trust.parse(memo, "ledger", b'{"bad": true}', validate=calls.validate, build=calls.build)
        fresh_process(monkeypatch)
    assert len(calls.validated) == 2
    assert not memo.exists()


@pytest.mark.parametrize("damage", [b"", b"{", b"{}", b'["zz"]', b"[1, null]", b'["' + b"0" * 39 + b'"]'])
def test_a_damaged_memo_only_costs_a_validation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: bytes) -> None:
    memo, calls = tmp_path / "trusted.json", Calls()
    memo.write_bytes(damage)
    assert trust.parse(memo, "ledger", b"[]", validate=calls.validate, build=calls.build) == {"built": []}
    fresh_process(monkeypatch)
    assert trust.parse(memo, "ledger", b"[]", validate=calls.validate, build=calls.build) == {"built": []}
    assert calls.validated == [b"[]"]


def test_changed_schemas_trust_nothing_remembered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    memo, calls = tmp_path / "trusted.json", Calls()
    trust.parse(memo, "ledger", b"[]", validate=calls.validate, build=calls.build)
    fresh_process(monkeypatch)
    monkeypatch.setattr(trust, "_FINGERPRINT", b"another ccsync's schemas")
    trust.parse(memo, "ledger", b"[]", validate=calls.validate, build=calls.build)
    assert len(calls.validated) == 2


def test_the_fingerprint_is_the_schemas_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert trust._FINGERPRINT is not None
    assert trust._fingerprint() == trust._FINGERPRINT
    copy = tmp_path / "schemas"
    copy.mkdir()
    for source in trust._SCHEMAS.glob("*.py"):
        (copy / source.name).write_bytes(source.read_bytes())
    monkeypatch.setattr(trust, "_SCHEMAS", copy)
    assert trust._fingerprint() == trust._FINGERPRINT
    first = sorted(copy.glob("*.py"))[-1]
    first.write_bytes(first.read_bytes() + b"\n# a schema that changed\n")
    assert trust._fingerprint() != trust._FINGERPRINT


def test_the_memo_keeps_the_newest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    memo, calls = tmp_path / "trusted.json", Calls()
    monkeypatch.setattr(trust, "KEPT", 3)
    for n in range(5):
        trust.parse(memo, "ledger", str(n).encode(), validate=calls.validate, build=calls.build)
    kept = orjson.loads(memo.read_bytes())
    assert len(kept) == 3
    fresh_process(monkeypatch)
    for n in range(5):
        trust.parse(memo, "ledger", str(n).encode(), validate=calls.validate, build=calls.build)
    assert calls.validated[5:] == [b"0", b"1"]


def test_blake2b_without_hashlib_gives_hashlibs_digests() -> None:
    # Every digest already in a memo, a view or a ledger (long names, entry ids) stays the same.
    for data in (b"", b"x", bytes(range(256)) * 300):
        for size in (5, 16, 20):
            assert blake2b(data, digest_size=size).digest() == hashlib.blake2b(data, digest_size=size).digest()


GOLDEN = Path(__file__).parent / "golden" / "ledger"


def refuse_to_validate(monkeypatch: pytest.MonkeyPatch) -> None:
    def no(*_: object, **__: object) -> NoReturn:
        raise AssertionError("validated bytes the schema accepted before")

    monkeypatch.setattr(schema, "parse_ledger", no)


@pytest.mark.parametrize("shape", sorted(p.name for p in GOLDEN.glob("*.json")))
def test_a_ledger_once_accepted_reads_back_equal_without_its_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: str
) -> None:
    paths = StatePaths(tmp_path)
    data = (GOLDEN / shape).read_bytes()
    validated = store.load_ledger(paths, data, f"data/{shape}")
    assert validated == schema.parse_ledger(data, what=shape)
    fresh_process(monkeypatch)
    refuse_to_validate(monkeypatch)
    assert store.load_ledger(paths, data, f"data/{shape}") == validated


def test_the_ledger_written_is_read_without_its_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = StatePaths(tmp_path)
    ledger = schema.parse_ledger((GOLDEN / "history.json").read_bytes(), what="history")
    store.record(paths, ledger)
    fresh_process(monkeypatch)
    refuse_to_validate(monkeypatch)
    assert store.read_ledger(paths) == ledger


def test_a_ledger_changed_on_disk_is_validated_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = StatePaths(tmp_path)
    store.record(paths, schema.parse_ledger((GOLDEN / "typical.json").read_bytes(), what="typical"))
    fresh_process(monkeypatch)
    data = paths.ledger.read_bytes()
    paths.ledger.write_bytes(data.replace(b'"generation": 3', b'"generation": -3'))
    with pytest.raises(LedgerCorrupt, match="generation"):
        store.read_ledger(paths)
    with pytest.raises(LedgerCorrupt, match="generation"):  # nothing remembered for the bad bytes
        store.read_ledger(paths)
