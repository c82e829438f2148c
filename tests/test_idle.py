"""The nightly shortcut: idle only when the full run would do nothing, and light to import."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson

from syncer import idle
from syncer.paths import StatePaths
from tests import logs


def nightly(env: dict[str, str] | None = None) -> tuple[int, str, str]:
    done = subprocess.run([sys.executable, "-m", "syncer"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})
    return done.returncode, done.stdout, done.stderr


def test_idle_needs_no_pydantic_typer_or_dulwich() -> None:
    heavy = "{'pydantic', 'typer', 'dulwich', 'rich'}"
    code = f"import sys, syncer.idle, syncer.__main__; print(sorted({heavy} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_idle_only_when_nothing_changed_and_already_pushed(
    claude_dir: Path, state_dir: Path, isolated_home: Path
) -> None:
    paths = StatePaths(state_dir)
    f = logs.write(logs.session_file(claude_dir), logs.assistant("m1"))
    env = dict(os.environ)
    assert not idle.nothing_to_do(paths, env, isolated_home)  # nothing set up yet
    assert nightly()[0] == 0
    assert idle.nothing_to_do(paths, env, isolated_home)
    runs = (state_dir / "runs.log").read_bytes().splitlines()
    assert nightly() == (0, "", "")
    assert len((state_dir / "runs.log").read_bytes().splitlines()) == len(runs) + 1  # still logged

    logs.write(f, logs.assistant("m2"), append=True)
    assert not idle.nothing_to_do(paths, env, isolated_home)  # a log grew
    assert nightly()[0] == 0
    assert idle.nothing_to_do(paths, env, isolated_home)

    (state_dir / "sync.json").unlink()
    assert not idle.nothing_to_do(paths, env, isolated_home)  # not known to be pushed


def test_a_corrupt_ledger_is_never_hidden_by_the_shortcut(claude_dir: Path, state_dir: Path) -> None:
    logs.write(logs.session_file(claude_dir), logs.assistant("m1"))
    assert nightly()[0] == 0
    ledger = state_dir / "ledger.json"
    doc = orjson.loads(ledger.read_bytes())
    doc["totals"]["output_tokens"] += 1  # still parses, no longer adds up
    ledger.write_bytes(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2))
    code, _, err = nightly()
    assert code == 65 and "totals do not equal" in err


def test_a_new_remote_is_not_idle(claude_dir: Path, state_dir: Path, tmp_path: Path) -> None:
    logs.write(logs.session_file(claude_dir), logs.assistant("m1"))
    assert nightly()[0] == 0
    config = orjson.loads((state_dir / "config.json").read_bytes())
    config["remote"] = str(tmp_path / "elsewhere.git")
    (state_dir / "config.json").write_bytes(orjson.dumps(config))
    assert not idle.nothing_to_do(StatePaths(state_dir), dict(os.environ), Path(os.environ["HOME"]))


def test_idle_after_an_entry_was_added_and_synced(claude_dir: Path, state_dir: Path, isolated_home: Path) -> None:
    paths = StatePaths(state_dir)
    logs.write(logs.session_file(claude_dir), logs.assistant("m1"))
    assert nightly()[0] == 0
    done = subprocess.run([sys.executable, "-m", "syncer", "add", "10", "20", "--note", 'a "quoted" ], note'],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert b'"entries": [' in paths.ledger.read_bytes()
    assert not idle.nothing_to_do(paths, dict(os.environ), isolated_home)  # the entry is not pushed yet
    assert nightly()[0] == 0
    assert idle.nothing_to_do(paths, dict(os.environ), isolated_home)
