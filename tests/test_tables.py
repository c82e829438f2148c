"""Tables as a terminal shows them, at 80 and 120 columns: exact output kept in tests/golden/.

Regenerate after an intended change with `CCSYNC_UPDATE_GOLDEN=1 pytest tests/test_tables.py`
and read the diff: a cut number, date or model name is a bug (issue 10, item 1).
"""

from __future__ import annotations

import os
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
