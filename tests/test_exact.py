"""ccsync against the generator's exact truth (DESIGN §2): per day and model, to the token,
through scans split any way, deleted logs, appends, time zones and parallel cold scans."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest

from bench.corpus import DAY_FIELDS, Truth, append_session, generate
from syncer import scan
from tests import logs
from tests.cli_runner import Cli

START = datetime(2026, 10, 1, tzinfo=UTC)


def daily(cli: Cli, zone: str = "UTC") -> dict[tuple[str, str], dict[str, int]]:
    code, out, err = cli("report", "daily", "--json", "--timezone", zone)
    assert code == 0, err
    return {
        (row["date"], m["model"]): {name: m[name] for name in DAY_FIELDS}
        for row in orjson.loads(out)["rows"] for m in row["models"]
    }


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Truth]:
    root = tmp_path / "claude"
    truth = generate(root, target_bytes=3_000_000, seed=11, start=START, days=12, session_bytes=(20_000, 400_000))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(root))
    return root, truth


def test_cold_scan_equals_the_truth_in_any_time_zone(cli: Cli, corpus: tuple[Path, Truth]) -> None:
    _, truth = corpus
    assert cli("scan")[0] == 0
    assert daily(cli) == truth.by_day()
    assert daily(cli, "Asia/Kolkata") != truth.by_day()  # the zone really moves days ...
    # ... and whole-hour zones match the truth exactly (hourly buckets, DESIGN §3)
    assert daily(cli, "America/Los_Angeles") == truth.by_day(ZoneInfo("America/Los_Angeles"))


def test_parallel_cold_scan_equals_the_truth(
    cli: Cli, corpus: tuple[Path, Truth], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, truth = corpus
    monkeypatch.setattr(scan, "PARALLEL_BYTES", 0)  # worker processes even for a small corpus
    assert cli("scan")[0] == 0
    assert daily(cli) == truth.by_day()


def test_deleting_half_the_logs_changes_nothing(cli: Cli, corpus: tuple[Path, Truth], state_dir: Path) -> None:
    root, truth = corpus
    assert cli("scan")[0] == 0
    before = (state_dir / "ledger.json").read_bytes()
    for i, path in enumerate(sorted(root.rglob("*.jsonl"))):
        if i % 2:
            path.unlink()
    assert cli("scan")[0] == 0
    assert (state_dir / "ledger.json").read_bytes() == before
    assert daily(cli) == truth.by_day()


def test_appends_add_exactly_the_new_usage(cli: Cli, corpus: tuple[Path, Truth]) -> None:
    root, truth = corpus
    assert cli("scan")[0] == 0
    for seed in range(3):  # old sessions grow, new ones start, one response is caught mid-write
        truth = truth + append_session(root, target_bytes=200_000, seed=seed,
                                       start=datetime(2026, 10, 13 + seed, tzinfo=UTC), partial_tail=True)
        assert cli("scan")[0] == 0
        assert daily(cli) == truth.by_day()


def test_losing_the_local_state_then_rescanning_adds_nothing(
    cli: Cli, corpus: tuple[Path, Truth], state_dir: Path
) -> None:
    root, truth = corpus
    assert cli("scan")[0] == 0
    logs.lose_local_state(state_dir)
    truth = truth + append_session(root, target_bytes=200_000, seed=9, start=datetime(2026, 10, 14, tzinfo=UTC),
                                   continue_share=0.0)
    code, out, _ = cli("scan", "--json")
    assert code == 0 and orjson.loads(out)["rebuilt"] is True
    assert daily(cli) == truth.by_day()
