"""Tables as a terminal shows them, at 80 and 120 columns: exact output kept in tests/golden/.

Regenerate after an intended change with `CCSYNC_UPDATE_GOLDEN=1 pytest tests/test_tables.py`
and read the diff: a cut number, date or model name is a bug (issue 10, item 1).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import logs
from tests.cli_runner import Cli

GOLDEN = Path(__file__).resolve().parent / "golden"


@pytest.fixture
def busy_logs(claude_dir: Path) -> Path:
    """Three models over three days with counts in the millions, two projects and a session
    with no branch: wide numbers, long model names."""
    records = []
    for i, (day, model, tokens) in enumerate([
        ("2026-11-18", "claude-sonnet-4-5-20250929", logs.usage(2_450_013, 184_204, 3_120_447, 48_772_310)),
        ("2026-11-18", "claude-haiku-4-5-20251001", logs.usage(12, 41, 0, 9120)),
        ("2026-11-19", "claude-opus-4-6", logs.usage(8_000, 96_221, 1_002_003, 30_412_998)),
        ("2026-11-20", "claude-3-5-sonnet-20241022", logs.usage(1, 2, 3, 4)),
    ]):
        records.append(logs.assistant(f"msg_{i}", f"req_{i}", model=model, tokens=tokens,
                                      ts=f"{day}T09:14:05.301Z", cwd="/home/ana/src/shop" if i % 2 else "/srv/api"))
    logs.write(logs.session_file(claude_dir), *records)
    return claude_dir


def _check(name: str, text: str, width: int) -> None:
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= width
    path = GOLDEN / name
    if os.environ.get("CCSYNC_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("args", [("report", "daily"), ("report", "model"), ("report", "daily", "--breakdown"),
                                  ("report", "session"), ("total",)])
def test_tables_fit_the_terminal_without_cutting(
    cli: Cli, busy_logs: Path, monkeypatch: pytest.MonkeyPatch, width: int, args: tuple[str, ...]
) -> None:
    assert cli("init", "--device", "laptop")[0] == 0
    assert cli("scan")[0] == 0
    monkeypatch.setenv("COLUMNS", str(width))
    code, out, err = cli(*args, "--timezone", "UTC")
    assert (code, err) == (0, "")
    _check(f"{'-'.join(a.strip('-') for a in args)}-{width}.txt", out, width)


def test_compact_forces_the_narrow_table_without_a_note(cli: Cli, busy_logs: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    cli("scan")
    monkeypatch.setenv("COLUMNS", "200")
    _, wide, _ = cli("report", "daily", "-z", "UTC")
    _, narrow, _ = cli("report", "daily", "-z", "UTC", "--compact")
    assert "Cache read" in wide and "Cache read" not in narrow
    assert "Processed" in narrow and "hidden" not in narrow
    assert "5,754,717" in narrow  # the processed tokens of 2026-11-18, whole: 200 columns need no units


@pytest.mark.parametrize("args", [("report", "daily"), ("report", "session", "--breakdown"), ("report", "blocks"),
                                  ("total", "--offline"), ("--color", "report", "session", "--breakdown")])
def test_a_table_imports_no_rich(cli: Cli, busy_logs: Path, args: tuple[str, ...]) -> None:
    """Importing rich's table costs a read command tens of milliseconds, and rich draws a team's
    thousands of sessions in seconds: tables are drawn without it, piped or on a terminal
    (`--color`: the escape codes rich would write), accented project names too (wide
    characters are rich's to measure)."""
    logs.write(logs.session_file(busy_logs, "s2", "-srv-cafe"),
               logs.assistant("msg_c", "req_c", session="s2", cwd="/srv/café", ts="2026-11-20T10:00:00.000Z"))
    assert cli("scan")[0] == 0
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE", "COLUMNS")}
    run = subprocess.run([sys.executable, "-X", "importtime", "-m", "syncer", *args], env={**env, "TERM": "xterm"},
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert "┏" in run.stdout and ("café" in run.stdout or "session" not in args)
    assert ("\x1b[1m" in run.stdout) == ("--color" in args)
    imported = [line.rsplit("|", 1)[1].strip() for line in run.stderr.splitlines() if line.startswith("import time:")]
    assert "syncer.boxtext" in imported and not [m for m in imported if m.split(".")[0] == "rich"]


def test_a_dumb_terminal_gets_the_table_without_styles(cli: Cli, busy_logs: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """As rich does: TERM=dumb takes no escape codes, even with --color."""
    cli("scan")
    monkeypatch.setenv("TERM", "xterm")
    styled = cli("--color", "report", "daily", "-z", "UTC")[1]
    monkeypatch.setenv("TERM", "dumb")
    plain = cli("--color", "report", "daily", "-z", "UTC")[1]
    assert "\x1b[1m" in styled and "\x1b[" not in plain and plain == cli("report", "daily", "-z", "UTC")[1]
