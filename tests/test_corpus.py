"""The benchmark's corpus generator (bench/corpus.py): valid JSONL in Claude Code's layout, every
trap of DESIGN.md §2 present, deterministic per seed, and a Truth that equals what an
independent reference counter finds in the files.

`reference_count` is a deliberately plain implementation of the counting rules (stdlib json,
no shared code with syncer/ or bench/): any reader can be checked against it.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bench.corpus import DAY_FIELDS, MANIFEST, Truth, append_session, corpus_bytes, generate
from bench.run import run

START = datetime(2026, 10, 1, tzinfo=UTC)


# -- the reference counter -----------------------------------------------------------------------


@dataclass
class KeyState:
    """What one event key (one API response) has shown across all lines and files."""

    first: datetime
    model: str
    sidechain: bool
    message_id: str | None
    maxima: list[int]  # input, output, cache creation, cache read
    files: set[str] = field(default_factory=set)
    first_line_output: int = 0  # what "first line wins" would count


@dataclass
class Reference:
    days: dict[tuple[str, str], dict[str, int]]
    keys: dict[str, KeyState]
    stats: dict[str, int]


def _usage_record(record: dict[str, Any]) -> dict[str, Any] | None:
    """The assistant record a line carries: itself, or a progress line's copy."""
    if record.get("type") == "assistant":
        return record
    if record.get("type") == "progress":
        inner = (record.get("data") or {}).get("message")
        if isinstance(inner, dict) and inner.get("type") == "assistant":
            return inner
    return None


def reference_count(root: Path, zone: tzinfo = UTC) -> Reference:
    """Count a Claude Code tree by the rules of DESIGN.md §2: key message.id:requestId (else
    message.id, else the line's hash); max per key and field; dated by the earliest line; a
    sidechain response whose message.id a main-session response also has does not count.
    Days are in `zone`."""
    keys: dict[str, KeyState] = {}
    stats = {"lines": 0, "progress": 0, "synthetic": 0, "no_request_id": 0, "no_message_id": 0,
             "micro": 0, "offset": 0, "sidechain_lines": 0, "streamed": 0, "half_lines": 0}
    for path in sorted((root / "projects").rglob("*.jsonl")):
        data = path.read_bytes()
        end = data.rfind(b"\n") + 1
        if end < len(data):
            stats["half_lines"] += 1  # never read past the last newline
        for raw in data[:end].split(b"\n")[:-1]:
            stats["lines"] += 1
            record = json.loads(raw)
            assert isinstance(record, dict)
            inner = _usage_record(record)
            if inner is None:
                continue
            stats["progress"] += record["type"] == "progress"
            message = inner["message"]
            if message["model"] == "<synthetic>":
                stats["synthetic"] += 1
                continue
            usage = message["usage"]
            values = [usage.get("input_tokens", 0), usage.get("output_tokens", 0),
                      usage.get("cache_creation_input_tokens", 0), usage.get("cache_read_input_tokens", 0)]
            mid, rid = message.get("id"), inner.get("requestId")
            if mid and rid:
                key = f"{mid}:{rid}"
            elif mid:
                key = mid
                stats["no_request_id"] += 1
            else:
                key = "line:" + hashlib.sha256(raw).hexdigest()
                stats["no_message_id"] += 1
            stamp = inner.get("timestamp") or record["timestamp"]
            stats["micro"] += len(stamp.split(".")[-1].rstrip("Z").split("+")[0].split("-")[0]) == 6
            stats["offset"] += not stamp.endswith("Z")
            moment = datetime.fromisoformat(stamp)
            sidechain = inner.get("isSidechain") is True
            stats["sidechain_lines"] += sidechain
            state = keys.get(key)
            if state is None:
                state = keys[key] = KeyState(moment, message["model"], sidechain, mid, values,
                                             first_line_output=values[1])
            else:
                stats["streamed"] += 1
                state.maxima = [max(a, b) for a, b in zip(state.maxima, values, strict=True)]
                if moment < state.first:
                    state.first, state.model = moment, message["model"]
            state.files.add(str(path))
    main_ids = {s.message_id for s in keys.values() if not s.sidechain and s.message_id}
    days: dict[tuple[str, str], dict[str, int]] = {}
    stats["suppressed"] = 0
    for state in keys.values():
        if state.sidechain and state.message_id in main_ids:
            stats["suppressed"] += 1
            continue
        day = state.first.astimezone(zone).date().isoformat()
        row = days.setdefault((day, state.model), dict.fromkeys(DAY_FIELDS, 0))
        for name, value in zip(("input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens"),
                               state.maxima, strict=True):
            row[name] += value
        row["messages"] += 1
    return Reference(dict(sorted(days.items())), keys, stats)


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Truth, Reference]:
    root = tmp_path_factory.mktemp("corpus") / "claude"
    truth = generate(root, target_bytes=2_000_000, seed=7, start=START, days=20, projects=5,
                     session_bytes=(20_000, 600_000))
    return root, truth, reference_count(root)


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file()
    }


# -- tests ---------------------------------------------------------------------------------------


def test_files_are_jsonl_in_claude_codes_layout(corpus: tuple[Path, Truth, Reference]) -> None:
    root, _truth, _ref = corpus
    files = sorted((root / "projects").rglob("*.jsonl"))
    assert 1_500_000 < corpus_bytes(root) < 4_000_000
    subagents = [p for p in files if p.parent.name == "subagents"]
    sessions = [p for p in files if p.parent.parent.name == "projects"]
    assert subagents and len(sessions) >= 5
    for path in files:
        rel = path.relative_to(root / "projects").parts
        assert len(rel) in (2, 4), rel  # <project>/<session>.jsonl or <project>/<session>/subagents/agent-*.jsonl
        data = path.read_bytes()
        assert data.endswith(b"\n")
        for raw in data.split(b"\n")[:-1]:
            record = json.loads(raw.decode("utf-8"))
            assert isinstance(record, dict) and "type" in record
            if "sessionId" in record and len(rel) == 4:
                assert record["sessionId"] == rel[1]  # a subagent file sits under its session
    # Tool results dominate the bytes, as in real logs.
    big = sum(len(raw) for p in files for raw in p.read_bytes().split(b"\n") if b'"tool_result"' in raw)
    assert big > 0.5 * corpus_bytes(root)


def test_truth_matches_the_reference_counter(corpus: tuple[Path, Truth, Reference]) -> None:
    _root, truth, ref = corpus
    assert truth.by_day() == ref.days
    total = truth.total()
    assert total["messages"] == sum(r["messages"] for r in ref.days.values()) > 50
    assert total["long_context_messages"] > 0
    assert 0 < total["cache_creation_1h_tokens"] < total["cache_creation_tokens"]


def test_every_trap_is_present(corpus: tuple[Path, Truth, Reference]) -> None:
    _root, truth, ref = corpus
    s = ref.stats
    assert s["progress"] > 0 and s["synthetic"] > 0 and s["no_request_id"] > 0 and s["no_message_id"] > 0
    assert s["micro"] > 0 and s["offset"] > 0 and s["sidechain_lines"] > 0 and s["streamed"] > 0
    assert s["suppressed"] >= 2  # /btw replays of a main-session response
    assert s["half_lines"] == 0
    assert sum(1 for k in ref.keys.values() if len(k.files) >= 2) > 20  # resumed sessions, progress copies
    models = {model for _day, model in truth.by_day()}
    assert len(models) >= 3
    # "First line wins" undercounts output: the streamed lines really grow.
    first_wins = sum(k.first_line_output for k in ref.keys.values())
    assert first_wins < 0.9 * truth.total()["output_tokens"]


def test_deterministic_for_a_seed(tmp_path: Path) -> None:
    kwargs: dict[str, Any] = {"target_bytes": 300_000, "start": START, "days": 5, "session_bytes": (20_000, 100_000)}
    generate(tmp_path / "a", seed=3, **kwargs)
    generate(tmp_path / "b", seed=3, **kwargs)
    generate(tmp_path / "c", seed=4, **kwargs)
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    assert _tree(tmp_path / "a") != _tree(tmp_path / "c")
    with pytest.raises(FileExistsError):
        generate(tmp_path / "a", seed=3, **kwargs)


def test_appends_and_half_written_tails(tmp_path: Path) -> None:
    root = tmp_path / "claude"
    truth = generate(root, target_bytes=400_000, seed=11, start=START, days=10, session_bytes=(20_000, 120_000),
                     partial_tail=True)
    ref = reference_count(root)
    assert ref.stats["half_lines"] == 1
    assert truth.by_day() == ref.days
    before = {str(p): p.stat().st_size for p in root.rglob("*.jsonl")}

    added = append_session(root, target_bytes=200_000, seed=1, start=datetime(2026, 10, 12, tzinfo=UTC))
    truth = truth + added
    ref = reference_count(root)
    assert ref.stats["half_lines"] == 0
    assert truth.by_day() == ref.days
    after = {str(p): p.stat().st_size for p in root.rglob("*.jsonl")}
    grown = [p for p, size in before.items() if after[p] > size]
    assert grown and len(after) > len(before)  # old sessions grew and new ones appeared
    assert added.total()["messages"] > 0

    added = append_session(root, target_bytes=100_000, seed=2, start=datetime(2026, 10, 13, tzinfo=UTC),
                           partial_tail=True)
    truth = truth + added
    ref = reference_count(root)
    assert ref.stats["half_lines"] == 1 and truth.by_day() == ref.days
    truth = truth + append_session(root, target_bytes=1, seed=3, start=datetime(2026, 10, 14, tzinfo=UTC))
    assert truth.by_day() == reference_count(root).days
    assert (root / MANIFEST).exists()


def test_subset_by_day_model_and_project(corpus: tuple[Path, Truth, Reference]) -> None:
    _root, truth, ref = corpus
    days = sorted({day for day, _model in ref.days})
    lo, hi = date.fromisoformat(days[1]), date.fromisoformat(days[-2])
    expect = {k: v for k, v in ref.days.items() if lo.isoformat() <= k[0] <= hi.isoformat()}
    assert truth.subset(since=lo, until=hi).by_day() == expect
    model = next(iter(ref.days))[1]
    assert truth.subset(models=[model]).by_day() == {k: v for k, v in ref.days.items() if k[1] == model}
    projects = sorted({project for _hour, _model, project in truth.cells})
    parts = [truth.subset(projects=[p]) for p in projects]
    merged = parts[0]
    for part in parts[1:]:
        merged = merged + part
    assert merged.by_day() == ref.days
    assert truth.to_json()["total"] == truth.total()
    assert Truth.load(truth.dump()) == truth


def test_days_in_another_time_zone(corpus: tuple[Path, Truth, Reference]) -> None:
    root, truth, _ref = corpus
    zone = ZoneInfo("Asia/Tokyo")  # a whole-hour offset, so hourly truth cells convert exactly
    assert truth.by_day(zone) == reference_count(root, zone).days != truth.by_day()


def test_the_bench_times_a_run_on_the_wall_and_on_the_cpu() -> None:
    """The bench reports CPU time beside each read command's wall time (see bench/run.py)."""
    busy = run([sys.executable, "-c", "sum(range(3_000_000))"], os.environ)
    idle = run([sys.executable, "-c", "import time; time.sleep(0.3)"], os.environ)
    assert busy.code == idle.code == 0
    assert busy.cpu_seconds is not None and idle.cpu_seconds is not None
    assert 0 < busy.cpu_seconds <= busy.seconds + 0.05
    assert idle.seconds >= 0.3 and idle.cpu_seconds < idle.seconds - 0.2  # asleep: on the wall, not the CPU
