"""One line a ledger cannot hold must never stop a device recording (issue 15, item 6): it is
shortened, or skipped with a warning that names it, and everything else is counted."""

from __future__ import annotations

import os
from pathlib import Path

import orjson

from syncer import store
from syncer.ledger import MAX_COUNT, MAX_TEXT
from syncer.logfiles import find_logs
from syncer.paths import StatePaths
from syncer.scan import scan
from syncer.schemas.ledger import parse_ledger
from tests import logs
from tests.cli_runner import Cli
from tests.test_late_lines import CLOCK


def scan_all(state: Path, claude: Path, home: Path, *, privacy: store.Privacy = "names"):  # type: ignore[no-untyped-def]
    paths = StatePaths(state)
    store.ensure_home(paths)
    cfg = store.new_config("hostile")._replace(privacy=privacy)
    result = scan(paths, cfg, env={"CLAUDE_CONFIG_DIR": str(claude)}, home=home, now=CLOCK)
    ledger = store.read_ledger(paths)
    assert ledger is not None
    parse_ledger(paths.ledger.read_bytes(), what="written")  # what is on disk validates
    return result, ledger


def test_names_over_1024_characters_are_shortened_and_stay_distinct(tmp_path: Path, claude_dir: Path) -> None:
    deep = "/home/ana/" + "x" * 1490
    f = logs.write(logs.session_file(claude_dir),
                   logs.assistant("m1", "r1", cwd=deep + "/a", branch="b" * 1500, model="claude-" + "m" * 1500),
                   logs.assistant("m2", "r2", cwd=deep + "/b", session="s" * 1500))
    result, ledger = scan_all(tmp_path / "state", claude_dir, tmp_path, privacy="full")
    assert f.exists() and result.bad_lines == 0 and ledger.totals.messages == 2
    projects = {h.project for h in ledger.hours}
    assert len(projects) == 2 and all(len(p) == MAX_TEXT and p.startswith(deep[:900]) for p in projects)
    assert {len(s.id) for s in ledger.sessions} == {len(logs.SESSION), MAX_TEXT}
    assert max(len(h.model) for h in ledger.hours) == MAX_TEXT
    # Deterministic: the same names give the same fields on another scan of the same logs.
    _, again = scan_all(tmp_path / "again", claude_dir, tmp_path, privacy="full")
    assert again.hours == ledger.hours


def test_timestamps_before_year_1000_count_and_impossible_ones_are_named(tmp_path: Path, claude_dir: Path) -> None:
    f = logs.write(logs.session_file(claude_dir),
                   logs.assistant("m1", "r1", ts="0999-05-02T10:00:00Z"),
                   logs.assistant("m2", "r2", ts="0001-01-01T00:00:00+05:00"),
                   logs.assistant("m3", "r3", ts="2026-05-02T10:00:00Z"))
    result, ledger = scan_all(tmp_path / "state", claude_dir, tmp_path)
    assert ledger.totals.messages == 2
    assert sorted(h.hour for h in ledger.hours) == ["0999-05-02T10", "2026-05-02T10"]
    assert result.bad_lines == 1
    assert any(w.startswith(f"{f}:2: skipped a bad line") and "outside years" in w for w in result.warnings)


def test_token_counts_summing_past_2_53_are_refused_not_fatal(tmp_path: Path, claude_dir: Path) -> None:
    big = 2**40 - 1
    path = logs.session_file(claude_dir)
    path.parent.mkdir(parents=True)
    with open(path, "wb") as out:
        for n in range(MAX_COUNT // big + 3):
            out.write(logs.line(logs.assistant(f"m{n}", "r", tokens=logs.usage(big, 1))))
    result, ledger = scan_all(tmp_path / "state", claude_dir, tmp_path)
    assert ledger.totals.input_tokens <= MAX_COUNT
    assert ledger.totals.messages == MAX_COUNT // big
    assert any("not counted" in w and "2**53" in w for w in result.warnings)


def test_bad_lines_are_named_by_file_and_line_then_counted(tmp_path: Path, claude_dir: Path) -> None:
    f = logs.session_file(claude_dir)
    f.parent.mkdir(parents=True)
    good = logs.line(logs.assistant("m0", "r0"))
    bad = b'{"type":"assistant","message":{"model":"x","usage":{"input_tokens":"lots"}}}\n'
    f.write_bytes(good + logs.line(logs.user()) + bad * 7 + good)
    result, ledger = scan_all(tmp_path / "state", claude_dir, tmp_path)
    assert result.bad_lines == 7 and ledger.totals.messages == 1
    assert result.warnings[:5] == [f"{f}:{n}: skipped a bad line (usage.input_tokens is not a token count)"
                                   for n in range(3, 8)]
    assert result.warnings[5] == "2 more bad lines skipped"
    # A bad line past the checkpoint is numbered from the start of the file, not of the read.
    with open(f, "ab") as out:
        out.write(bad)
    result, _ = scan_all(tmp_path / "state", claude_dir, tmp_path)
    assert result.warnings == [f"{f}:11: skipped a bad line (usage.input_tokens is not a token count)"]


def test_1100_nested_folders_are_walked(tmp_path: Path, claude_dir: Path) -> None:
    folder = claude_dir / "projects" / "-deep"
    folder.mkdir(parents=True)
    fd = os.open(folder, os.O_RDONLY)
    try:  # relative mkdirs: the whole path would pass PATH_MAX before 1100 levels on some systems
        for _ in range(1100):
            os.mkdir("d", dir_fd=fd)
            inner = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
        out = os.open("s.jsonl", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=fd)
        os.write(out, orjson.dumps(logs.assistant("m1", "r1")) + b"\n")
        os.close(out)
    finally:
        os.close(fd)
    try:
        warnings: list[str] = []
        _, found = find_logs({"CLAUDE_CONFIG_DIR": str(claude_dir)}, tmp_path, warnings)
        assert len(found) == 1 and not warnings
        _, ledger = scan_all(tmp_path / "state", claude_dir, tmp_path)
        assert ledger.totals.messages == 1
    finally:  # deepest first: shutil.rmtree (and pytest's clean-up) would recurse too deep
        deepest = folder.joinpath(*["d"] * 1100)
        (deepest / "s.jsonl").unlink()
        for level in range(1100, 0, -1):
            os.rmdir(folder.joinpath(*["d"] * level))


def test_compaction_and_advisor_steps_billed_apart_are_counted(tmp_path: Path, claude_dir: Path) -> None:
    """`usage.iterations` (Anthropic's compaction and advisor docs): the top-level usage is the
    executor's `message` steps only; `compaction` and `advisor_message` steps are billed on
    top, the advisor at its own model's rates. Streamed: only the final line carries them."""
    top = logs.usage(23_000, 1_000)
    final = {**logs.usage(23_000, 1_200), "iterations": [
        {"type": "compaction", "input_tokens": 180_000, "output_tokens": 3_500,
         "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
        {"type": "message", "input_tokens": 11_000, "output_tokens": 600},
        {"type": "advisor_message", "model": "claude-opus-4-6", "input_tokens": 823, "output_tokens": 1_612,
         "cache_read_input_tokens": 400, "cache_creation_input_tokens": 0},
        {"type": "message", "input_tokens": 12_000, "output_tokens": 600},
    ]}
    logs.write(logs.session_file(claude_dir),
               logs.assistant("msg_1", "req_1", model="claude-sonnet-4-6", tokens=top),
               logs.assistant("msg_1", "req_1", model="claude-sonnet-4-6", tokens=final),
               logs.assistant("msg_1", "req_1", model="claude-sonnet-4-6", tokens=final))  # a replay
    _, ledger = scan_all(tmp_path / "state", claude_dir, tmp_path)
    t = ledger.totals
    assert (t.input_tokens, t.output_tokens, t.cache_read_tokens) == (
        23_000 + 180_000 + 823, 1_200 + 3_500 + 1_612, 400)
    by_model: dict[str, int] = {}
    for h in ledger.hours:
        by_model[h.model] = by_model.get(h.model, 0) + h.input_tokens
    assert by_model == {"claude-sonnet-4-6": 203_000, "claude-opus-4-6": 823}


def test_scan_json_names_the_bad_lines(cli: Cli, claude_dir: Path) -> None:
    f = logs.session_file(claude_dir)
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_bytes(logs.line(logs.assistant("m0", "r0")) + b'{"type":"assistant","usage" oops\n')
    code, out, _ = cli("scan", "--json")
    doc = orjson.loads(out)
    assert code == 0 and doc["bad_lines"] == 1
    assert doc["warnings"] == [f"{f}:2: skipped a bad line (not JSON)"]
