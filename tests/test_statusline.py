"""`ccsync statusline`: the real command, fed what Claude Code pipes to it, always one line, exit 0."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from syncer import blocks, live, statusline, store
from syncer.ledger import SCHEMA_VERSION, HourRow, Session, SessionUsage
from syncer.paths import StatePaths
from syncer.pricing import LONG_CONTEXT_THRESHOLD
from tests import logs

HOUR = timedelta(hours=1)
PER_EVENT = 3 + 10 + 100  # logs.usage's default: input + output + cache creation


def run(stdin: bytes, *args: str) -> tuple[int, str, str]:
    done = subprocess.run([sys.executable, "-m", "syncer", "statusline", *args], input=stdin,
                          capture_output=True, timeout=60, env=dict(os.environ))
    return done.returncode, done.stdout.decode(), done.stderr.decode()


def ccsync(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "syncer", *args], check=True, capture_output=True, timeout=120,
                   env=dict(os.environ))


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


CLAUDE_JSON = {
    "hook_event_name": "Status",
    "session_id": "s2",
    "transcript_path": "/home/ana/.claude/projects/-home-ana-src-shop/s2.jsonl",
    "cwd": "/home/ana/src/shop",
    "model": {"id": "claude-opus-4-6", "display_name": "Opus 4.6"},
    "workspace": {"current_dir": "/home/ana/src/shop", "project_dir": "/home/ana/src/shop"},
    "version": "2.1.80",
    "output_style": {"name": "default"},
    "cost": {"total_cost_usd": 0.4213, "total_duration_ms": 45000, "total_api_duration_ms": 2300,
             "total_lines_added": 156, "total_lines_removed": 23},
    "context_window": {"total_input_tokens": 15234, "total_output_tokens": 4521, "context_window_size": 200000,
                       "used_percentage": 9.8},
    "exceeds_200k_tokens": False,
}


@pytest.fixture
def usage(claude_dir: Path) -> dict[str, object]:
    """A day of usage: yesterday's session, then today's active block (two sessions)."""
    now = datetime.now(UTC)
    times = {"old": now - 30 * HOUR, "a1": now - 2 * HOUR, "a2": now - HOUR, "b1": now - timedelta(minutes=10)}
    logs.write(logs.session_file(claude_dir, "s1"),
               *(logs.assistant(k, f"r-{k}", ts=stamp(t), session="s1") for k, t in times.items() if k != "b1"))
    f = logs.session_file(claude_dir, "s2")
    logs.write(f, logs.assistant("b1", "r-b1", ts=stamp(times["b1"]), session="s2"))
    with open(f, "ab") as out:
        out.write(b'{"type":"assistant","message":{"usage":')  # half-written: waits, never breaks
    return {"now": now, "times": times, "file": f}


def expected_today(times: dict[str, datetime]) -> str:
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return statusline.compact(PER_EVENT * sum(1 for t in times.values() if t >= midnight))


def block_left(times: dict[str, datetime]) -> str:
    """Either minute the run may have seen, as a pattern."""
    end = times["a1"].replace(minute=0, second=0, microsecond=0) + 5 * HOUR
    options = {blocks.duration(int((end - datetime.now(UTC) - d).total_seconds() * 1000))
               for d in (timedelta(0), timedelta(minutes=1))}
    return "(" + "|".join(options) + ")"


RATE = "3 tok/min"  # three responses (339 tokens) over the 110 minutes from the block's first to its last


def test_line_from_claude_codes_json(usage: dict[str, object]) -> None:
    times = usage["times"]
    assert isinstance(times, dict)
    code, out, err = run(orjson.dumps(CLAUDE_JSON))
    assert code == 0 and err == ""
    assert re.fullmatch(
        rf"Opus 4\.6 · session 113 \$0\.42 · today {expected_today(times)} · block {block_left(times)} left · {RATE}\n",
        out,
    ), out


def test_rate_limits_are_preferred_to_the_estimate(usage: dict[str, object]) -> None:
    now = datetime.now(UTC)
    doc = dict(CLAUDE_JSON, rate_limits={
        "five_hour": {"used_percentage": 23.5,
                      "resets_at": int((now + timedelta(hours=2, minutes=30, seconds=30)).timestamp())},
        "seven_day": {"used_percentage": 41.2, "resets_at": int((now + timedelta(days=3)).timestamp())},
    })
    code, out, _ = run(orjson.dumps(doc), "--segments", "block,model")
    assert code == 0
    assert re.fullmatch(rf"5h 24% \(resets in 2h(30|29)m\) · 7d 41% · {RATE} · Opus 4\.6\n", out), out


@pytest.mark.parametrize("stdin", [b"", b"not json {", b"[1, 2]", b'{"model": "opus", "session_id": 7, "cost": null}',
                                   b'{"model": {"display_name": null}, "rate_limits": {"five_hour": "soon"}}'])
def test_missing_fields_garbage_and_empty_stdin_still_give_a_line(usage: dict[str, object], stdin: bytes) -> None:
    times = usage["times"]
    assert isinstance(times, dict)
    code, out, err = run(stdin)
    assert code == 0 and err == ""
    want = rf"Claude · today {expected_today(times)} · block {block_left(times)} left · {RATE}\n"
    assert re.fullmatch(want, out), out


def test_session_counts_the_ledger_and_the_lines_since_the_last_scan(usage: dict[str, object]) -> None:
    ccsync("scan")
    f = usage["file"]
    assert isinstance(f, Path)
    later = stamp(datetime.now(UTC))  # written after the scan, as Claude Code stamps its lines
    with open(f, "ab") as log:  # completes the half-written line's place with a new response
        log.write(b"\n" + logs.line(logs.assistant("b2", "r-b2", ts=later, session="s2")))
    code, out, _ = run(orjson.dumps(CLAUDE_JSON), "--segments", "session")
    assert (code, out) == (0, f"session {2 * PER_EVENT} $0.42\n")


def test_no_state_at_all_and_no_logs(tmp_path: Path) -> None:
    code, out, err = run(orjson.dumps(CLAUDE_JSON))
    assert (code, out, err) == (0, "Opus 4.6 · session 0 $0.42 · today 0 · no active block\n", "")


def test_a_broken_ledger_gives_a_short_fallback(usage: dict[str, object], state_dir: Path) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / "ledger.json").write_bytes(b'{"schema_version": 1, "hours": [')
    code, out, _ = run(orjson.dumps(CLAUDE_JSON))
    assert (code, out) == (0, "Opus 4.6 · ccsync: ledger unreadable, run ccsync status\n")
    (state_dir / "ledger.json").write_bytes(b'{"schema_version": 9}')  # a later ccsync's
    assert run(orjson.dumps(CLAUDE_JSON))[1] == "Opus 4.6 · ccsync: ledger unreadable, run ccsync status\n"


def test_goal_across_devices_as_of_the_last_total(usage: dict[str, object]) -> None:
    deadline = (datetime.now(UTC) + timedelta(days=400)).date().isoformat()
    ccsync("scan")
    ccsync("goal", "set", "4000", "--by", deadline)
    ccsync("total", "--offline")
    code, out, _ = run(orjson.dumps(CLAUDE_JSON), "--segments", "goal")
    # four responses of 113 tokens toward 4000: 11%, and 452 a day would take 9 days
    assert (code, out) == (0, "goal 11% on track\n")


def test_a_goal_narrowed_to_one_source_counts_that_source_only(usage: dict[str, object]) -> None:
    deadline = (datetime.now(UTC) + timedelta(days=400)).date().isoformat()
    ccsync("scan")
    ccsync("goal", "set", "4000", "--by", deadline, "--source", "codex")
    ccsync("total", "--offline")
    # The live figures are Claude's: a Codex goal keeps the cache's (no Codex usage at all).
    assert run(orjson.dumps(CLAUDE_JSON), "--segments", "goal")[1] == "goal 0% behind\n"
    ccsync("goal", "set", "4000", "--by", deadline, "--source", "claude")
    ccsync("total", "--offline", "--source", "codex")  # what total shows does not narrow the cache
    assert run(orjson.dumps(CLAUDE_JSON), "--segments", "goal")[1] == "goal 11% on track\n"


def test_segments_are_chosen_and_ordered() -> None:
    assert statusline.parse_segments(["--segments", "goal,model,nonsense"]) == ("goal", "model")
    assert statusline.parse_segments(["--segments=block"]) == ("block",)
    assert statusline.parse_segments([]) == statusline.SEGMENTS


def test_the_fast_path_imports_no_pydantic_typer_dulwich_or_rich(usage: dict[str, object]) -> None:
    """Nor hashlib, which loads OpenSSL: a tenth of the status line's 100 ms."""
    code = (
        "import io, os, sys, pathlib; from syncer import statusline; "
        f"line = statusline.line([], io.BytesIO({orjson.dumps(CLAUDE_JSON)!r}), os.environ, pathlib.Path.home()); "
        "heavy = {'pydantic', 'typer', 'dulwich', 'rich', 'hashlib'} & set(sys.modules); "
        "print(line.startswith('Opus 4.6 · session'), sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ)).stdout
    assert out.strip() == "True []"


def test_the_fast_reader_knows_the_ledgers_row_layout() -> None:
    """live.py reads ledger rows by name without importing ledger.py: the names must agree."""
    assert live.HOUR_COLUMNS == HourRow._fields
    assert live.SESSION_COLUMNS == Session._fields
    assert live.SESSION_USAGE_COLUMNS == SessionUsage._fields
    assert live.LAYOUTS[SCHEMA_VERSION] == (HourRow._fields, SessionUsage._fields)
    assert live.LONG_CONTEXT_THRESHOLD == LONG_CONTEXT_THRESHOLD


@pytest.mark.slow  # two devices, each a real ccsync process
def test_goal_counts_the_other_devices_as_of_the_last_total(usage: dict[str, object], tmp_path: Path) -> None:
    remote = tmp_path / "shared.git"
    other = dict(os.environ, CCSYNC_HOME=str(tmp_path / "b-state"), CLAUDE_CONFIG_DIR=str(tmp_path / "b-claude"))
    recent = stamp(datetime.now(UTC) - HOUR)
    logs.write(logs.session_file(tmp_path / "b-claude", "sb"),
               *(logs.assistant(f"b{i}", ts=recent, session="sb") for i in range(6)))
    for env, device in ((other, "laptop-b"), (dict(os.environ), "laptop-a")):
        for args in (["init", "--device", device, "--remote", str(remote)], ["sync"]):
            subprocess.run([sys.executable, "-m", "syncer", *args], check=True, capture_output=True, timeout=120,
                           env=env)
    deadline = (datetime.now(UTC) + timedelta(days=400)).date().isoformat()
    ccsync("goal", "set", "5000", "--by", deadline)
    ccsync("total", "--offline")
    # this device's 4 responses and the other's 6, of 113 tokens each, toward 5000
    want = f"goal {100 * 10 * PER_EVENT / 5000:.0f}% on track\n"
    assert run(orjson.dumps(CLAUDE_JSON), "--segments", "goal")[1] == want


def test_never_waits_on_the_lock_a_running_scan_holds(usage: dict[str, object], state_dir: Path) -> None:
    ccsync("scan")
    with store.writer_lock(StatePaths(state_dir), wait=0):
        code, out, _ = run(orjson.dumps(CLAUDE_JSON), "--segments", "model,session")
    assert (code, out) == (0, "Opus 4.6 · session 113 $0.42\n")


def test_a_second_run_reads_on_from_its_cache(usage: dict[str, object], state_dir: Path) -> None:
    ccsync("scan")
    first = run(orjson.dumps(CLAUDE_JSON), "--segments", "session")[1]
    assert first == "session 113 $0.42\n" and (state_dir / "live-cache.json").exists()
    f = usage["file"]
    assert isinstance(f, Path)
    with open(f, "ab") as out:
        out.write(b"\n" + logs.line(logs.assistant("b3", "r-b3", ts=stamp(datetime.now(UTC)), session="s2")))
    assert run(orjson.dumps(CLAUDE_JSON), "--segments", "session")[1] == f"session {2 * PER_EVENT} $0.42\n"
    (state_dir / "live-cache.json").write_bytes(b"garbage")  # a broken cache is only a slower run
    assert run(orjson.dumps(CLAUDE_JSON), "--segments", "session")[1] == f"session {2 * PER_EVENT} $0.42\n"


def test_a_goal_counting_from_a_day_leaves_out_this_devices_usage_before_it(usage: dict[str, object]) -> None:
    times = usage["times"]
    assert isinstance(times, dict)
    deadline = (datetime.now(UTC) + timedelta(days=400)).date().isoformat()
    start = (times["old"] + timedelta(days=1)).date()  # yesterday's response is before it, the other three after
    ccsync("scan")
    ccsync("goal", "set", "4000", "--by", deadline, "--from", start.isoformat())
    ccsync("total", "--offline")
    # three responses of 113 tokens toward 4000: 8% (four, counted from the start of time, were 11%)
    assert run(orjson.dumps(CLAUDE_JSON), "--segments", "goal")[1] == "goal 8% on track\n"


def test_a_goal_counts_this_devices_manual_entries_as_total_does(usage: dict[str, object]) -> None:
    deadline = (datetime.now(UTC) + timedelta(days=400)).date().isoformat()
    ccsync("scan")
    ccsync("add", "800", "200")  # 1,000 processed tokens spent where no log shows them
    ccsync("goal", "set", "4000", "--by", deadline)
    ccsync("total", "--offline")
    # four responses of 113 tokens and the entry's 1,000 toward 4000: 36%
    assert run(orjson.dumps(CLAUDE_JSON), "--segments", "goal")[1] == "goal 36% on track\n"
