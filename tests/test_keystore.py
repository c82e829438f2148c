"""The permanent key index commits with the ledger: old or new, never half (keystore)."""

from __future__ import annotations

from pathlib import Path

from syncer import keystore


def entry(mid: str, output: int, gen_time: int = 0) -> list[object]:
    return [gen_time, "claude", "s1", "m", "p", "b", 0, mid, 0, 0, 0, 1, output, 0, 0, 0]


def test_a_save_the_ledger_never_reached_is_rolled_back(tmp_path: Path) -> None:
    path = tmp_path / "keys.sqlite3"
    keys = keystore.create_index(path, 3)
    keys.stage({"a:1": entry("a", 5)}, None, 4)
    keys.settle(4)
    keys.close()

    reopened = keystore.open_index(path, 4)
    assert reopened is not None
    keys = reopened
    found = keys.fetch(["a:1"], [])
    found["a:1"][12] = 9  # grown
    keys.stage({**found, "b:1": entry("b", 7)}, 123, 5)  # staged for generation 5 ...
    keys.close()  # ... and the ledger of generation 5 was never written

    again = keystore.open_index(path, 4)
    assert again is not None and again.covered_before is None
    assert again.fetch(["a:1", "b:1"], []) == {"a:1": entry("a", 5)}
    again.close()


def test_a_save_whose_ledger_was_written_is_finished(tmp_path: Path) -> None:
    path = tmp_path / "keys.sqlite3"
    keys = keystore.create_index(path, 0)
    keys.stage({"a:1": entry("a", 5)}, 77, 1)
    keys.close()  # the ledger of generation 1 was written; settle() never ran

    again = keystore.open_index(path, 1)
    assert again is not None and again.covered_before == 77
    assert again.fetch([], ["a"]) == {"a:1": entry("a", 5)}
    again.stage({"a:1": entry("a", 6)}, 77, 2)
    again.close()
    rolled = keystore.open_index(path, 1)  # generation 2 never reached the ledger
    assert rolled is not None and rolled.fetch(["a:1"], []) == {"a:1": entry("a", 5)}
    rolled.close()


def test_an_index_of_another_ledger_is_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "keys.sqlite3"
    keystore.create_index(path, 7).close()
    assert keystore.open_index(path, 2) is None
    assert not path.exists()
    assert keystore.open_index(path, 7) is None  # gone, not guessed at
