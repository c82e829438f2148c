from __future__ import annotations

import os
import shutil
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from syncer import store
from syncer.ledger import Ledger
from syncer.paths import StatePaths
from syncer.scan import ScanResult, scan
from tests import logs

FsPath = str | bytes | os.PathLike[str] | os.PathLike[bytes]

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.fixture
def paths(state_dir: Path) -> StatePaths:
    p = StatePaths(state_dir)
    store.ensure_home(p)
    return p


@pytest.fixture
def cfg() -> store.Config:
    return store.new_config("test-device")


def run(paths: StatePaths, cfg: store.Config, claude_dir: Path, home: Path, now: datetime = NOW) -> ScanResult:
    return scan(paths, cfg, env={"CLAUDE_CONFIG_DIR": str(claude_dir)}, home=home, now=now)


def ledger(paths: StatePaths) -> Ledger:
    found = store.read_ledger(paths)
    assert found is not None
    return found


def out_tokens(paths: StatePaths) -> tuple[int, int]:
    t = ledger(paths).totals
    return t.output_tokens, t.messages


def test_samples_give_their_documented_totals(paths: StatePaths, cfg: store.Config, isolated_home: Path) -> None:
    samples = Path(__file__).resolve().parent / "samples" / "claude"
    result = run(paths, cfg, samples, isolated_home)
    t = ledger(paths).totals
    assert (t.input_tokens, t.output_tokens, t.cache_creation_tokens, t.cache_read_tokens, t.messages) == (
        23, 324, 2311, 57736, 3
    )
    assert result.events == 3 and result.bad_lines == 0


def test_appended_lines_are_read_from_the_checkpoint(
    paths: StatePaths, cfg: store.Config, claude_dir: Path, isolated_home: Path
) -> None:
    f = logs.write(logs.session_file(claude_dir), logs.user(), logs.assistant("m1", tokens=logs.usage(1, 5)))
    run(paths, cfg, claude_dir, isolated_home)
    size = f.stat().st_size
    logs.write(f, logs.assistant("m1", tokens=logs.usage(1, 9)), logs.assistant("m2", tokens=logs.usage(1, 7)),
               append=True)
    result = run(paths, cfg, claude_dir, isolated_home)
    assert result.bytes_read == f.stat().st_size - size
    assert out_tokens(paths) == (16, 2)


def test_nothing_new_reads_nothing_and_writes_nothing(
    paths: StatePaths, cfg: store.Config, claude_dir: Path, isolated_home: Path
) -> None:
    logs.write(logs.session_file(claude_dir), logs.assistant("m1"))
    run(paths, cfg, claude_dir, isolated_home)
    before = {p.name: p.stat().st_mtime_ns for p in paths.home.iterdir()}
    result = run(paths, cfg, claude_dir, isolated_home)
    assert (result.files, result.files_read, result.bytes_read) == (1, 0, 0)
    assert {p.name: p.stat().st_mtime_ns for p in paths.home.iterdir()} == before


def test_half_written_line_is_read_once_complete(
    paths: StatePaths, cfg: store.Config, claude_dir: Path, isolated_home: Path
) -> None:
    f = logs.session_file(claude_dir)
    whole = logs.line(logs.assistant("m1", tokens=logs.usage(1, 5)))
    logs.write(f, logs.assistant("m0", tokens=logs.usage(1, 1)))
    with open(f, "ab") as h:
        h.write(whole[:40])
    first = run(paths, cfg, claude_dir, isolated_home)
    assert first.bad_lines == 0 and out_tokens(paths) == (1, 1)
    with open(f, "ab") as h:
        h.write(whole[40:])
    run(paths, cfg, claude_dir, isolated_home)
    assert out_tokens(paths) == (6, 2)


def test_truncated_or_replaced_file_is_reread_without_double_counting(
    paths: StatePaths, cfg: store.Config, claude_dir: Path, isolated_home: Path
) -> None:
    f = logs.write(logs.session_file(claude_dir), logs.assistant("m1", tokens=logs.usage(1, 5)),
                   logs.assistant("m2", tokens=logs.usage(1, 5)))
    run(paths, cfg, claude_dir, isolated_home)
    # rewritten in place (compaction): shorter, same responses plus a new one
    logs.write(f, logs.assistant("m2", tokens=logs.usage(1, 5)), logs.assistant("m3", tokens=logs.usage(1, 5)))
    run(paths, cfg, claude_dir, isolated_home)
    assert out_tokens(paths) == (15, 3)
    # replaced by a new file (new inode) with the same name
    tmp = f.with_suffix(".new")
    logs.write(tmp, logs.assistant("m1", tokens=logs.usage(1, 5)), logs.assistant("m4", tokens=logs.usage(1, 5)))
    os.replace(tmp, f)
    run(paths, cfg, claude_dir, isolated_home)
    assert out_tokens(paths) == (20, 4)


def test_resumed_session_replay_and_progress_copies_count_once(
    paths: StatePaths, cfg: store.Config, claude_dir: Path, isolated_home: Path
) -> None:
    sub = logs.assistant("msg_sub", "req_sub", model="claude-haiku-4-5-20251001", sidechain=True,
                         tokens=logs.usage(12, 41, 0, 9120))
    main = logs.assistant("m1", tokens=logs.usage(3, 187, 2311, 18204))
    logs.write(logs.session_file(claude_dir), main, logs.progress(sub))
    logs.write(logs.session_file(claude_dir).with_suffix("") / "subagents" / "agent-1.jsonl", sub)
    logs.write(logs.session_file(claude_dir, "resumed-session"), main, logs.assistant("m2", tokens=logs.usage(1, 2)))
    run(paths, cfg, claude_dir, isolated_home)
    assert out_tokens(paths) == (187 + 41 + 2, 3)


def test_vanished_files_change_nothing(
    paths: StatePaths, cfg: store.Config, claude_dir: Path, isolated_home: Path
) -> None:
    logs.write(logs.session_file(claude_dir, "a"), logs.assistant("m1", tokens=logs.usage(1, 5)))
    logs.write(logs.session_file(claude_dir, "b"), logs.assistant("m2", tokens=logs.usage(1, 5)))
    run(paths, cfg, claude_dir, isolated_home)
    before = ledger(paths)
    logs.session_file(claude_dir, "a").unlink()
    run(paths, cfg, claude_dir, isolated_home)
    assert ledger(paths).totals == before.totals


def test_lost_local_state_adds_nothing_on_rescan(
    paths: StatePaths, cfg: store.Config, claude_dir: Path, isolated_home: Path
) -> None:
    f = logs.write(logs.session_file(claude_dir), logs.assistant("m1", tokens=logs.usage(1, 5)),
                   logs.assistant("m2", tokens=logs.usage(1, 5), ts="2026-11-20T09:20:00Z"))
    run(paths, cfg, claude_dir, isolated_home)
    logs.lose_local_state(paths.home)
    logs.write(f, logs.assistant("m3", tokens=logs.usage(1, 5), ts="2026-11-20T10:00:00Z"), append=True)
    result = run(paths, cfg, claude_dir, isolated_home)
    assert result.rebuilt
    assert out_tokens(paths) == (15, 3)
    run(paths, cfg, claude_dir, isolated_home)
    assert out_tokens(paths) == (15, 3)


def _sql(paths: StatePaths, statement: str) -> list[tuple[object, ...]]:
    db = sqlite3.connect(paths.keys)
    try:
        with db:
            return db.execute(statement).fetchall()
    finally:
        db.close()


@pytest.mark.parametrize("damage", [
    lambda paths: paths.keys.write_bytes(b"not a database at all" * 100),
    lambda paths: _sql(paths, "UPDATE meta SET generation = 99"),
    lambda paths: _sql(paths, "UPDATE meta SET format = 99"),
    lambda paths: _sql(paths, "DELETE FROM meta"),
    lambda paths: _sql(paths, "DROP TABLE keys"),
])
def test_a_damaged_index_is_rebuilt_and_counts_nothing_twice(paths, cfg, claude_dir, isolated_home, damage) -> None:  # type: ignore[no-untyped-def]
    f = logs.write(logs.session_file(claude_dir), logs.assistant("m1", tokens=logs.usage(1, 5)))
    run(paths, cfg, claude_dir, isolated_home)
    damage(paths)
    logs.write(f, logs.assistant("m2", tokens=logs.usage(1, 5), ts="2026-11-20T10:00:00Z"), append=True)
    assert run(paths, cfg, claude_dir, isolated_home).rebuilt
    assert out_tokens(paths) == (10, 2)
    assert run(paths, cfg, claude_dir, isolated_home).files_read == 0


@pytest.mark.parametrize("damage", [
    lambda doc: doc["entries"].update({"k": [1, 2, 3]}),
    lambda doc: doc.update({"entries": []}),
    lambda doc: doc.update({"pruned_before": "yesterday"}),
    lambda doc: doc["entries"].update({"k": [0] * 15}),
    lambda doc: doc.update({"generation": 99}),
])
def test_a_damaged_index_of_version_0_1_is_rebuilt(
    paths: StatePaths, cfg: store.Config, claude_dir: Path, isolated_home: Path,
    damage: Callable[[dict[str, Any]], object],
) -> None:
    f = logs.write(logs.session_file(claude_dir), logs.assistant("m1", tokens=logs.usage(1, 5)))
    run(paths, cfg, claude_dir, isolated_home)
    doc = _legacy_index(paths)
    damage(doc)
    for stale in paths.home.glob("keys.sqlite3*"):
        stale.unlink()
    paths.index(ledger(paths).generation).write_bytes(orjson.dumps(doc))
    logs.write(f, logs.assistant("m2", tokens=logs.usage(1, 5), ts="2026-11-20T10:00:00Z"), append=True)
    assert run(paths, cfg, claude_dir, isolated_home).rebuilt
    assert out_tokens(paths) == (10, 2)


def _legacy_index(paths: StatePaths) -> dict[str, object]:
    """The key index as version 0.1 wrote it: JSON, entries without the fast and tier fields."""
    rows = _sql(paths, "SELECT key, entry FROM keys")
    entries = {str(k): [*orjson.loads(e)[:9], *orjson.loads(e)[11:]] for k, e in rows}  # type: ignore[arg-type]
    return {"generation": ledger(paths).generation, "pruned_before": None, "entries": entries}


def test_an_index_written_by_version_0_1_is_read_and_its_prune_line_kept(paths, cfg, claude_dir, isolated_home) -> None:  # type: ignore[no-untyped-def]
    """Before 0.2 the index forgot keys older than "pruned_before" and had shorter entries.
    Its entries are upgraded (not fast, tier by the fixed 200k), and what it forgot is judged
    by the ledger's sessions, in that run and every later one."""
    f = logs.write(logs.session_file(claude_dir),
                   logs.assistant("m1", tokens=logs.usage(1, 5), ts="2026-11-20T09:00:00Z"),
                   logs.assistant("m2", tokens=logs.usage(1, 5, read=250_000), ts="2026-11-20T10:00:00Z"))
    run(paths, cfg, claude_dir, isolated_home)
    doc = _legacy_index(paths)
    old_entries = {k: e for k, e in doc["entries"].items() if k.startswith("m2")}  # type: ignore[attr-defined]
    prune_line = 1_795_167_000_000  # 2026-11-20T09:30:00Z: m1 was forgotten
    for stale in paths.home.glob("keys.sqlite3*"):
        stale.unlink()
    paths.index(ledger(paths).generation).write_bytes(
        orjson.dumps({"generation": doc["generation"], "pruned_before": prune_line, "entries": old_entries}))
    logs.write(f, logs.assistant("m2", tokens=logs.usage(1, 9, read=250_000), ts="2026-11-20T10:00:01Z"),
               logs.assistant("m3", tokens=logs.usage(1, 5), ts="2026-11-20T11:00:00Z"), append=True)
    result = run(paths, cfg, claude_dir, isolated_home)
    assert not result.rebuilt and result.tokens[1] == 4 + 5
    assert out_tokens(paths) == (19, 3)
    assert {h.long_context for h in ledger(paths).hours} == {False, True}
    shutil.copy(f, f.with_name("copy.jsonl"))  # m1 again, in a later run: still counted once
    run(paths, cfg, claude_dir, isolated_home)
    assert out_tokens(paths) == (19, 3)


def test_old_logs_that_appear_later_are_counted(
    paths: StatePaths, cfg: store.Config, claude_dir: Path, isolated_home: Path
) -> None:
    """A log root added late, or logs copied back from a backup: months old, never counted."""
    f = logs.write(logs.session_file(claude_dir), logs.assistant("m1", tokens=logs.usage(1, 5)))
    run(paths, cfg, claude_dir, isolated_home)
    logs.write(f, logs.assistant("m2", tokens=logs.usage(1, 5), ts="2027-02-27T09:00:00Z"), append=True)
    run(paths, cfg, claude_dir, isolated_home, now=NOW.replace(year=2027, month=3))
    logs.write(logs.session_file(claude_dir, "old-session", "-home-ana-src-old"),
               logs.assistant("o1", "r1", tokens=logs.usage(2, 7), ts="2026-05-02T10:00:00Z", session="old-session"),
               logs.assistant("o2", "r2", tokens=logs.usage(2, 7), ts="2026-05-02T10:05:00Z", session="old-session"))
    result = run(paths, cfg, claude_dir, isolated_home, now=NOW.replace(year=2027, month=3))
    assert result.tokens[1] == 14
    assert out_tokens(paths) == (24, 4)


def test_a_session_resumed_months_later_replays_nothing_twice(
    paths: StatePaths, cfg: store.Config, claude_dir: Path, isolated_home: Path
) -> None:
    old = [logs.assistant("o1", "r1", tokens=logs.usage(2, 7), ts="2026-05-02T10:00:00Z", session="s-old"),
           logs.assistant("o2", "r2", tokens=logs.usage(2, 7), ts="2026-05-02T10:05:00Z", session="s-old")]
    logs.write(logs.session_file(claude_dir, "s-old"), *old)
    later = NOW.replace(year=2027, month=3)
    run(paths, cfg, claude_dir, isolated_home, now=later)
    resumed = [{**r, "sessionId": "s-new"} for r in old]
    logs.write(logs.session_file(claude_dir, "s-new"), *resumed,
               logs.assistant("n1", "r3", tokens=logs.usage(1, 3), ts="2027-03-01T09:00:00Z", session="s-new"))
    result = run(paths, cfg, claude_dir, isolated_home, now=later)
    assert result.tokens[1] == 3
    assert out_tokens(paths) == (17, 3)


def test_bad_lines_are_counted_and_skipped(
    paths: StatePaths, cfg: store.Config, claude_dir: Path, isolated_home: Path
) -> None:
    f = logs.write(logs.session_file(claude_dir), logs.assistant("m1", tokens=logs.usage(1, 5)))
    with open(f, "ab") as h:
        h.write(b'{"type":"assistant","message":{"usage":{"input_tokens":"x"}}}\n{"usage" garbage\n')
    result = run(paths, cfg, claude_dir, isolated_home)
    assert result.bad_lines == 2
    assert out_tokens(paths) == (5, 1)
    state = store.read_state(paths, ledger(paths).generation)
    assert state is not None and state.bad_lines == 2


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_symlinks_fifos_and_folders_named_jsonl_are_skipped(
    paths: StatePaths, cfg: store.Config, claude_dir: Path, isolated_home: Path, tmp_path: Path
) -> None:
    project = claude_dir / "projects" / "p"
    logs.write(project / "real.jsonl", logs.assistant("m1", tokens=logs.usage(1, 5)))
    outside = logs.write(tmp_path / "outside.jsonl", logs.assistant("m9", tokens=logs.usage(1, 500)))
    (project / "link.jsonl").symlink_to(outside)
    os.mkfifo(project / "pipe.jsonl")
    (project / "folder.jsonl").mkdir()
    done = threading.Event()
    result: list[ScanResult] = []
    def scan_then_say_so() -> None:
        result.append(run(paths, cfg, claude_dir, isolated_home))
        done.set()

    worker = threading.Thread(target=scan_then_say_so)
    worker.start()
    assert done.wait(20), "a FIFO hung the scan"
    assert out_tokens(paths) == (5, 1)
    text = "\n".join(result[0].warnings)
    assert "link.jsonl: a symbolic link" in text
    assert "pipe.jsonl: not a regular file" in text
    assert "folder.jsonl: a folder named like a log file" in text


def test_unreadable_file_is_skipped_with_a_warning(
    paths: StatePaths, cfg: store.Config, claude_dir: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = logs.write(logs.session_file(claude_dir, "good"), logs.assistant("m1", tokens=logs.usage(1, 5)))
    bad = logs.write(logs.session_file(claude_dir, "bad"), logs.assistant("m2", tokens=logs.usage(1, 50)))
    real_open = os.open

    def refusing_open(path: FsPath, flags: int, *args: Any, **kwargs: Any) -> int:
        if str(path) == str(bad):  # as chmod 0 does for anyone but root
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)
    result = run(paths, cfg, claude_dir, isolated_home)
    assert result.warnings == [f"skipped {bad}: Permission denied"]
    assert out_tokens(paths) == (5, 1)
    monkeypatch.setattr(os, "open", real_open)
    run(paths, cfg, claude_dir, isolated_home)  # readable again: read in full, nothing twice
    assert out_tokens(paths) == (55, 2)
    assert good.exists()


def test_a_read_error_skips_the_file_and_keeps_the_run_going(
    paths: StatePaths, cfg: store.Config, claude_dir: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logs.write(logs.session_file(claude_dir, "good"), logs.assistant("m1", tokens=logs.usage(1, 5)))
    bad = logs.write(logs.session_file(claude_dir, "bad"), logs.assistant("m2", tokens=logs.usage(1, 50)))
    real_open, real_read = os.open, os.read
    failing: set[int] = set()

    def tracking_open(path: FsPath, flags: int, *args: Any, **kwargs: Any) -> int:
        fd = real_open(path, flags, *args, **kwargs)
        if str(path) == str(bad):
            failing.add(fd)
        return fd

    def failing_read(fd: int, n: int) -> bytes:
        if fd in failing:
            raise OSError(5, "Input/output error")
        return real_read(fd, n)

    def tracking_close(fd: int) -> None:
        failing.discard(fd)  # the number is free for the next file
        real_close(fd)

    real_close = os.close
    monkeypatch.setattr(os, "open", tracking_open)
    monkeypatch.setattr(os, "read", failing_read)
    monkeypatch.setattr(os, "close", tracking_close)
    result = run(paths, cfg, claude_dir, isolated_home)
    assert result.warnings == [f"skipped {bad}: Input/output error"]
    assert out_tokens(paths) == (5, 1)
    monkeypatch.setattr(os, "read", real_read)
    failing.clear()
    run(paths, cfg, claude_dir, isolated_home)
    assert out_tokens(paths) == (55, 2)


def test_a_checkpoint_that_no_longer_ends_a_line_rereads_the_file(
    paths: StatePaths, cfg: store.Config, claude_dir: Path, isolated_home: Path
) -> None:
    """Rewritten in place, same first bytes (a long prompt), longer after them: the old offset
    lands mid-line."""
    prompt = logs.user("y" * 5000)
    first = logs.assistant("m1", tokens=logs.usage(1, 5))
    f = logs.write(logs.session_file(claude_dir), prompt, first)
    run(paths, cfg, claude_dir, isolated_home)
    longer = {**first, "message": {**first["message"], "content": [{"type": "text", "text": "x" * 300}]}}
    second = logs.assistant("m2", tokens=logs.usage(1, 7), ts="2026-11-20T09:30:00Z")
    logs.write(f, prompt, longer, second)
    result = run(paths, cfg, claude_dir, isolated_home)
    assert result.bad_lines == 0
    assert out_tokens(paths) == (12, 2)


def test_renamed_file_is_recognised_by_inode(
    paths: StatePaths, cfg: store.Config, claude_dir: Path, isolated_home: Path
) -> None:
    f = logs.write(logs.session_file(claude_dir, "a"), logs.assistant("m1", tokens=logs.usage(1, 5)))
    run(paths, cfg, claude_dir, isolated_home)
    moved = logs.session_file(claude_dir, "b")
    shutil.move(f, moved)
    result = run(paths, cfg, claude_dir, isolated_home)
    assert result.bytes_read == 0
    assert out_tokens(paths) == (5, 1)


def test_privacy_hashed_hides_projects_and_branches(paths: StatePaths, claude_dir: Path, isolated_home: Path) -> None:
    cfg = store.new_config("d", privacy="hashed")
    logs.write(logs.session_file(claude_dir), logs.assistant("m1", cwd="/home/ana/src/secret", branch="feat/x"))
    run(paths, cfg, claude_dir, isolated_home)
    raw = paths.ledger.read_bytes()
    assert b"secret" not in raw and b"feat/x" not in raw and b"/home/ana" not in raw


def test_privacy_names_keeps_only_the_folder_name(
    paths: StatePaths, cfg: store.Config, claude_dir: Path, isolated_home: Path
) -> None:
    logs.write(logs.session_file(claude_dir), logs.assistant("m1", cwd="/home/ana/src/shop"))
    run(paths, cfg, claude_dir, isolated_home)
    assert ledger(paths).hours[0].project == "shop"
    assert b"/home/ana" not in paths.ledger.read_bytes()
