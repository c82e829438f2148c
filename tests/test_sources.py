"""Codex and Gemini logs through the real scanner: the same guarantees as Claude logs
(growth read in chunks, files that vanish, moved, compressed or rewritten files, SIGKILL at any
moment), and the three sources side by side in one ledger."""

from __future__ import annotations

import csv
import io
import os
import random
import re
import shutil
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
import zstandard

from syncer import store
from syncer.ledger import HourRow, Ledger
from syncer.paths import StatePaths
from syncer.scan import ScanResult, scan
from tests import logs, test_cli, test_scan
from tests.codex_logs import Rollout, thread_id
from tests.codex_logs import expected as codex_expected
from tests.gemini_logs import Chat, session_id
from tests.gemini_logs import expected as gemini_expected
from tests.test_crash import ccsync, start

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
FIELDS = ("input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens", "messages")
COLUMN = {name: i for i, name in enumerate(HourRow._fields)}  # a device file's rows are arrays
paths, cfg, sample_logs = test_scan.paths, test_scan.cfg, test_cli.sample_logs  # the fixtures those tests use


@pytest.fixture
def no_claude(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine without Claude Code: its variable unset and no folder of its own (a source
    whose folder does not exist is simply absent)."""
    monkeypatch.delenv("CLAUDE_CONFIG_DIR")


def run(paths: StatePaths, cfg: store.Config) -> ScanResult:
    return scan(paths, cfg, env=dict(os.environ), home=Path.home(), now=NOW)


def totals(paths: StatePaths, source: str | None = None) -> tuple[int, int, int, int, int]:
    ledger = store.read_ledger(paths)
    assert isinstance(ledger, Ledger)
    rows = [r for r in ledger.hours if source is None or r.source == source]
    return (sum(r.input_tokens for r in rows), sum(r.output_tokens for r in rows),
            sum(r.cache_creation_tokens for r in rows), sum(r.cache_read_tokens for r in rows),
            sum(r.messages for r in rows))


def a_rollout(n: int, calls: int = 4, start: datetime = datetime(2026, 11, 13, 9, 0, tzinfo=UTC)) -> Rollout:
    r = Rollout(thread_id(n), start=start).turn()
    for k in range(calls):
        r.noise().call(12_000 + 900 * k, 9_000 + 800 * k, 300 + 40 * k, reasoning=120 + k)
    return r


def a_chat(n: int, replies: int = 3) -> Chat:
    chat = Chat(session_id(n), start=datetime(2026, 11, 14, 8, 0, tzinfo=UTC))
    for k in range(replies):
        chat.user()
        chat.gemini(15_000 + 100 * k, 23 + k, cached=11_000, thoughts=900, tool=7)
    return chat


def test_codex_growth_read_in_pieces_counts_each_call_once(paths, cfg, codex_dir, no_claude) -> None:  # type: ignore[no-untyped-def]
    r = a_rollout(1, calls=1)
    path = r.write(codex_dir)
    data = r.data()
    rng = random.Random(3)
    for k in range(6):  # Codex appends; each scan may see a line cut anywhere
        r.noise().call(20_000 + k, 19_000, 100 + k).reemit(2)
        grown = r.data()
        cut = rng.randrange(len(data), len(grown))
        path.write_bytes(grown[:cut])
        run(paths, cfg)
        path.write_bytes(grown)
        run(paths, cfg)
        data = grown
    assert totals(paths, "codex") == codex_expected(r)


def test_gemini_growth_and_whole_rewrites_count_each_message_once(paths, cfg, gemini_dir, no_claude) -> None:  # type: ignore[no-untyped-def]
    chat = a_chat(1, replies=1)
    legacy = a_chat(2, replies=1)
    path = chat.write(gemini_dir)
    legacy_path = legacy.write(gemini_dir, legacy=True)
    for k in range(5):
        chat.user()
        chat.gemini(30_000 + k, 40, cached=20_000, updates=3)
        full = chat.jsonl()
        path.write_bytes(full[: len(full) - 25])  # the last write is half done
        legacy.user()
        legacy.gemini(9_000 + k, 30, cached=1_000)
        legacy_path.write_bytes(legacy.legacy_json())  # rewritten whole
        run(paths, cfg)
        path.write_bytes(full)
        run(paths, cfg)
    assert totals(paths, "gemini") == gemini_expected(chat, legacy)


def test_vanished_files_change_nothing(paths, cfg, codex_dir, gemini_dir, no_claude) -> None:  # type: ignore[no-untyped-def]
    r = a_rollout(2)
    chat = a_chat(3)
    files = [r.write(codex_dir), chat.write(gemini_dir)]
    run(paths, cfg)
    before = store.read_ledger(paths)
    for f in files:
        f.unlink()
    run(paths, cfg)
    assert store.read_ledger(paths) == before
    assert totals(paths, "codex") == codex_expected(r) and totals(paths, "gemini") == gemini_expected(chat)


def test_codex_archived_then_compressed_counts_once(paths, cfg, codex_dir, no_claude) -> None:  # type: ignore[no-untyped-def]
    r = a_rollout(4)
    path = r.write(codex_dir)
    run(paths, cfg)
    archived = codex_dir / "archived_sessions" / path.name
    archived.parent.mkdir()
    path.rename(archived)  # `codex archive` moves the file
    assert run(paths, cfg).files_read == 0
    # Idle for a week: Codex writes `.jsonl.zst` and deletes the plain file; a copy of the
    # plain one left behind (a backup restored) is the same rollout again.
    archived.with_name(archived.name + ".zst").write_bytes(zstandard.ZstdCompressor().compress(archived.read_bytes()))
    shutil.copy(archived, path)
    archived.unlink()
    result = run(paths, cfg)
    assert result.files_read == 2 and not result.warnings
    assert totals(paths, "codex") == codex_expected(r)


def test_codex_resumed_from_the_archive_adds_only_new_calls(paths, cfg, codex_dir, no_claude) -> None:  # type: ignore[no-untyped-def]
    r = a_rollout(5)
    path = r.write(codex_dir, archived=True)
    zst = path.with_name(path.name + ".zst")
    zst.write_bytes(zstandard.ZstdCompressor().compress(path.read_bytes()))
    path.unlink()
    run(paths, cfg)
    assert totals(paths, "codex") == codex_expected(r)
    r.call(50_000, 49_000, 10)  # resuming decompresses it back to .jsonl and appends
    path.write_bytes(r.data())
    zst.unlink()
    run(paths, cfg)
    assert totals(paths, "codex") == codex_expected(r)


def test_a_corrupt_compressed_rollout_is_a_warning(paths, cfg, codex_dir, no_claude) -> None:  # type: ignore[no-untyped-def]
    r = a_rollout(6)
    path = r.write(codex_dir)
    data = zstandard.ZstdCompressor().compress(r.data())
    path.with_name(path.name + ".zst").write_bytes(data[: len(data) // 2])  # still being written
    path.unlink()
    result = run(paths, cfg)
    assert len(result.warnings) == 1 and "incomplete zstd" in result.warnings[0]
    path.with_name(path.name + ".zst").write_bytes(data)
    run(paths, cfg)
    assert totals(paths, "codex") == codex_expected(r)


def test_three_sources_side_by_side(paths, cfg, claude_dir, codex_dir, gemini_dir) -> None:  # type: ignore[no-untyped-def]
    logs.write(logs.session_file(claude_dir), logs.assistant("m1", tokens=logs.usage(3, 10, 100, 1000)))
    r = a_rollout(7)
    chat = a_chat(8)
    r.write(codex_dir)
    chat.write(gemini_dir)
    result = run(paths, cfg)
    assert sorted(result.roots) == sorted([str(claude_dir / "projects"), str(codex_dir / "sessions"),
                                           str(gemini_dir / ".gemini" / "tmp")])
    assert totals(paths, "claude") == (3, 10, 100, 1000, 1)
    assert totals(paths, "codex") == codex_expected(r) and totals(paths, "gemini") == gemini_expected(chat)
    ledger = store.read_ledger(paths)
    assert ledger is not None
    sessions = {s.id: s for s in ledger.sessions}
    assert sessions[r.thread].source == "codex" and sessions[r.thread].project == "shop"
    assert sessions[chat.session].source == "gemini" and sessions[chat.session].project == "shop"


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="SIGKILL needs POSIX")
def test_sigkill_during_scans_of_codex_and_gemini_loses_and_doubles_nothing(  # type: ignore[no-untyped-def]
    codex_dir, gemini_dir, state_dir, tmp_path, no_claude
) -> None:
    rollouts = [a_rollout(100 + n, calls=6, start=datetime(2026, 11, 1, tzinfo=UTC) + timedelta(hours=n))
                for n in range(60)]
    chats = [a_chat(100 + n, replies=6) for n in range(60)]
    for r in rollouts[:30]:
        r.write(codex_dir)
    for c in chats[:30]:
        c.write(gemini_dir)
    assert ccsync("scan")[0] == 0
    half = tmp_path / "half"
    shutil.copytree(state_dir, half)
    for r in rollouts[30:]:
        r.write(codex_dir)
    for c in chats[30:]:
        c.write(gemini_dir)
    for r in rollouts[:30]:  # sessions that went on
        r.call(70_000, 69_000, 77)
        r.write(codex_dir)
    want_codex = codex_expected(*rollouts)
    want_gemini = gemini_expected(*chats)
    rng = random.Random(11)
    for attempt in range(4):
        shutil.rmtree(state_dir, ignore_errors=True)
        if attempt % 2:
            shutil.copytree(half, state_dir)
        proc = start("scan")
        time.sleep(rng.uniform(0.05, 0.5))
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        code, _, err = ccsync("scan")
        assert code == 0, err
        hours = orjson.loads((state_dir / "ledger.json").read_bytes())["hours"]
        for source, want in (("codex", want_codex), ("gemini", want_gemini)):
            rows = [h for h in hours if h[1] == source]
            got = tuple(sum(h[COLUMN[f]] for h in rows) for f in FIELDS)
            assert got == want, (attempt, source)


@pytest.fixture
def three_sources(sample_logs, codex_dir, gemini_dir) -> tuple[Rollout, Chat]:  # type: ignore[no-untyped-def]
    """The Claude sample tree, one Codex rollout and one Gemini chat, all of November 2026."""
    r = a_rollout(30, calls=3, start=datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    r.write(codex_dir)
    chat = a_chat(31, replies=2)
    chat.write(gemini_dir)
    return r, chat


def fields(doc: dict[str, object]) -> tuple[object, ...]:
    return tuple(doc[k] for k in FIELDS)


CLAUDE_SAMPLE = (23, 324, 2311, 57736, 3)


def test_reports_total_and_goal_show_and_filter_every_source(cli, three_sources, tmp_path) -> None:  # type: ignore[no-untyped-def]
    r, chat = three_sources
    assert cli("scan")[0] == 0
    want = {"claude": CLAUDE_SAMPLE, "codex": codex_expected(r), "gemini": gemini_expected(chat)}
    everything = tuple(sum(v[i] for v in want.values()) for i in range(5))

    code, out, err = cli("total", "--json", "--by", "source", "--offline")
    assert code == 0, err
    doc = orjson.loads(out)
    assert {row["source"]: fields(row) for row in doc["rows"]} == want
    assert fields(doc["total"]) == everything

    for source, counts in want.items():
        code, out, err = cli("report", "daily", "--json", "--source", source)
        assert code == 0, err
        assert fields(orjson.loads(out)["total"]) == counts
        code, out, _ = cli("report", "session", "--json", "--source", source)
        assert {row["source"] for row in orjson.loads(out)["rows"]} == {source}
        code, out, _ = cli("total", "--json", "--source", source, "--offline")
        assert fields(orjson.loads(out)["total"]) == counts

    assert cli("goal", "set", "1M")[0] == 0
    goal = orjson.loads(cli("goal", "--json", "--offline")[1])
    assert goal["source"] is None and goal["current"] == sum(everything[:3])  # processed: no cache reads
    code, out, _ = cli("goal", "set", "1M", "--source", "claude")
    assert (code, out) == (0, f"Goal set: 1M processed by {datetime.now().year}-12-31 (claude only).\n")
    goal = orjson.loads(cli("goal", "--json", "--offline")[1])
    assert goal["source"] == "claude" and goal["current"] == sum(CLAUDE_SAMPLE[:3])
    # The dashboard's burn-up and the export's goal table count what the goal counts.
    page = tmp_path / "page.html"
    code, _, err = cli("dashboard", "--out", str(page), "--all-devices", "--timezone", "UTC")
    assert code == 0, err
    found = re.search(r'<script id="data" type="application/json">(.*?)</script>', page.read_text(), re.S)
    assert found
    burn_up = orjson.loads(found.group(1))["goal"]
    assert burn_up["source"] == "claude" and burn_up["current"] == sum(CLAUDE_SAMPLE[:3])
    assert burn_up["actual"][burn_up["days"].index(burn_up["today"])] == burn_up["current"]


def test_status_lists_each_source_with_its_folders_and_files(  # type: ignore[no-untyped-def]
    cli, three_sources, claude_dir, codex_dir, gemini_dir
) -> None:
    code, out, err = cli("status", "--json")
    assert code == 0, err
    assert orjson.loads(out)["sources"] == [
        {"source": "claude", "env_var": "CLAUDE_CONFIG_DIR", "log_roots": [str(claude_dir / "projects")],
         "log_files": 2},
        {"source": "codex", "env_var": "CODEX_HOME", "log_roots": [str(codex_dir / "sessions")], "log_files": 1},
        {"source": "gemini", "env_var": "GEMINI_CLI_HOME", "log_roots": [str(gemini_dir / ".gemini" / "tmp")],
         "log_files": 1},
    ]
    code, out, _ = cli("status")
    assert f"codex 1 files in {codex_dir / 'sessions'} ($CODEX_HOME)" in out
    assert cli("scan")[0] == 0
    assert orjson.loads(cli("status", "--json")[1])["pending_bytes"] == 0  # unchanged files wait for nothing


def test_an_unknown_source_is_a_usage_error(cli) -> None:  # type: ignore[no-untyped-def]
    for args in (("report", "daily", "--source", "cursor"), ("total", "--source", "cursor"),
                 ("goal", "set", "1M", "--source", "cursor")):
        code, out, err = cli(*args)
        assert (code, out, err) == (2, "", "ccsync: unknown source 'cursor'; use one of: claude, codex, gemini\n")


def test_a_missing_source_folder_is_simply_absent(cli, sample_logs) -> None:  # type: ignore[no-untyped-def]
    code, out, err = cli("scan", "--json")
    assert (code, err) == (0, "")
    assert orjson.loads(out)["warnings"] == []


def test_codex_and_gemini_usage_is_priced_by_its_own_names(cli, codex_dir, gemini_dir, no_claude) -> None:  # type: ignore[no-untyped-def]
    r = Rollout(thread_id(40), start=datetime(2026, 11, 13, 9, 0, tzinfo=UTC))
    r.call(10, 0, 1)  # before any turn_context: model unknown, unpriced
    r.turn().call(12_000, 9_000, 300).call(5_000, 1_000, 100)
    r.write(codex_dir)
    chat = a_chat(41, replies=1)
    chat.gemini(100_000, 1_000, cached=40_000, thoughts=500, model="models/gemini-2.5-flash")
    chat.write(gemini_dir)
    assert cli("scan")[0] == 0
    calls = [c for c, model in r.calls if model == "gpt-5.2-codex"]
    want = sum((c.prompt - c.cached) * 1.75e-6 + c.cached * 1.75e-7 + c.output * 1.4e-5 for c in calls)
    code, out, _ = cli("report", "model", "--json", "--source", "codex")
    doc = orjson.loads(out)
    costs = {row["model"]: row["cost_usd"] for row in doc["rows"]}
    assert costs["gpt-5.2-codex"] == pytest.approx(want, abs=1e-6) and costs["unknown"] is None
    assert doc["total"]["unpriced_models"] == ["unknown"]
    code, out, _ = cli("report", "model", "--json", "--source", "gemini")
    costs = {row["model"]: row["cost_usd"] for row in orjson.loads(out)["rows"]}
    want = 60_000 * 3e-7 + 40_000 * 3e-8 + 1_500 * 2.5e-6
    assert costs["models/gemini-2.5-flash"] == pytest.approx(want, abs=1e-6)  # JSON rounds to 1e-6


def test_codex_and_gemini_rows_flow_through_the_exports_and_the_dashboard(  # type: ignore[no-untyped-def]
    cli, three_sources, tmp_path
) -> None:
    r, chat = three_sources
    assert cli("scan")[0] == 0
    want = {"claude": CLAUDE_SAMPLE, "codex": codex_expected(r), "gemini": gemini_expected(chat)}
    code, out, err = cli("export", "csv", "-", "--table", "hourly_usage")
    assert code == 0, err
    by_source: dict[str, list[int]] = {}
    for row in csv.DictReader(io.StringIO(out)):
        sums = by_source.setdefault(row["source"], [0] * len(FIELDS))
        for i, name in enumerate(FIELDS):
            sums[i] += int(row[name])
    assert {source: tuple(sums) for source, sums in by_source.items()} == want
    code, out, _ = cli("export", "csv", "-", "--table", "model_breakdown")
    models = {row["model_name"]: row["cost"] for row in csv.DictReader(io.StringIO(out))}
    assert r.model in models and models[r.model] != ""  # priced by OpenAI's id
    page = tmp_path / "page.html"
    assert cli("dashboard", "--out", str(page), "--timezone", "UTC")[0] == 0
    found = re.search(r'<script id="data" type="application/json">(.*?)</script>', page.read_text(), re.S)
    assert found
    stacks = {s["label"]: sum(s["values"]) for s in orjson.loads(found.group(1))["stacks"]["source"]}
    assert stacks == {source: sum(counts[:3]) for source, counts in want.items()}  # processed tokens
