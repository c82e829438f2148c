"""CSV and Markdown output (`--format csv|markdown`), exact to the character, and device
owners (`init --owner`, `total --by owner`)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import orjson
import pytest

from syncer import output
from tests import logs
from tests.cli_runner import Cli


@pytest.fixture
def two_models(claude_dir: Path) -> Path:
    logs.write(
        logs.session_file(claude_dir),
        logs.assistant("m1", "r1", tokens=logs.usage(3, 187, 2311, 18204)),
        logs.assistant(
            "m2",
            "r2",
            model="claude-future-9-20270101",
            tokens=logs.usage(5, 50),
            cwd="/home/ana/src/a|b",
            ts="2026-11-21T10:00:00Z",
        ),
    )
    return claude_dir


def test_report_markdown_is_exact(cli: Cli, two_models: Path) -> None:
    cli("init", "--device", "laptop")
    cli("scan")
    code, out, err = cli("report", "project", "--format", "markdown")
    assert (code, err) == (0, "")
    cost = orjson.loads(cli("report", "project", "--json")[1])["rows"][1]["cost_usd"]
    assert out == (
        "### Usage by project: laptop, all time, UTC\n"
        "| Project | Input | Output | Cache create | Cache read | Processed | All tokens | Cost | Responses |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        "| a\\|b | 5 | 50 | 0 | 0 | 55 | 55 | unknown | 1 |\n"
        f"| shop | 3 | 187 | 2,311 | 18,204 | 2,501 | 20,705 | ${cost:,.2f} | 1 |\n"
        f"| **Total** | **8** | **237** | **2,311** | **18,204** | **2,556** | **20,760** | **${cost:,.2f}** "
        "| **2** |\n"
        "\n"
        "> warning: no price known for model claude-future-9-20270101: its tokens are counted, its cost is left "
        "out (update ccsync for newer prices)\n\n"
    )


def test_report_csv_has_every_row_and_no_total(cli: Cli, two_models: Path) -> None:
    cli("scan")
    code, out, _ = cli("report", "daily", "--format", "csv")
    assert code == 0
    parsed = list(csv.reader(io.StringIO(out)))
    assert parsed[0] == [
        "date",
        "input_tokens",
        "output_tokens",
        "cache_creation_tokens",
        "cache_read_tokens",
        "processed_tokens",
        "total_tokens",
        "cost_usd",
        "messages",
    ]
    assert [r[:7] + r[8:] for r in parsed[1:]] == [
        ["2026-11-20", "3", "187", "2311", "18204", "2501", "20705", "1"],
        ["2026-11-21", "5", "50", "0", "0", "55", "55", "1"],
    ]
    assert parsed[2][7] == ""  # an unknown cost is empty, not 0
    code, out, _ = cli("report", "session", "--format", "csv")
    assert next(csv.reader(io.StringIO(out)))[:6] == ["session", "project", "branch", "device", "first", "last"]


def test_total_and_goal_markdown_fit_a_job_summary(cli: Cli, two_models: Path) -> None:
    assert cli("init", "--device", "ana-laptop", "--owner", "Ana")[0] == 0
    cli("sync")
    assert cli("goal", "set", "1M", "--by", "2026-12-31")[0] == 0
    code, out, _ = cli("total", "--format", "markdown", "--offline", "--by", "owner")
    assert code == 0
    lines = out.splitlines()
    assert lines[:3] == [
        "### All devices, by owner",
        "| Owner | Input | Output | Cache create | Cache read | Processed | All tokens | Cost | Responses |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    assert lines[3].startswith("| Ana | 8 | 237 | 2,311 | 18,204 | 2,556 | 20,760 | $")
    assert "### Goal: 1,000,000 processed by 2026-12-31" in lines
    goal = orjson.loads(cli("goal", "--json", "--offline")[1])
    code, out, _ = cli("goal", "--format", "markdown", "--offline")
    assert out.startswith(
        "### Goal: 1,000,000 processed by 2026-12-31\n\n"
        f"**{goal['percent']:.1f}%** done (2,556), 997,444 to go, {goal['days_left']} days left: **behind**"
    )
    assert "| ana-laptop | 2,556 | 100 |" in out
    assert cli("goal", "--format", "csv", "--offline")[:2] == (2, "")


def test_markdown_escapes_what_would_break_a_table() -> None:
    rows = output.Rows(["project", "total_tokens"], [["a|b\nc", 1200], ["", 3]], ["Total", 1203])
    assert output.markdown_table(rows) == (
        "| Project | All tokens |\n|---|---:|\n| a\\|b c | 1,200 |\n| (none) | 3 |\n| **Total** | **1,203** |\n"
    )


def test_owner_is_stored_in_the_ledger_and_groups_totals(cli: Cli, two_models: Path, state_dir: Path) -> None:
    cli("scan")
    before = (state_dir / "ledger.json").read_bytes()
    assert b'"owner"' not in before  # no owner: the same bytes as before owners existed
    assert cli("init", "--owner", "Ana Souza") == (
        0,
        "Updated device " + orjson.loads(cli("status", "--json")[1])["device"] + " (privacy: names).\n",
        "",
    )
    ledger = orjson.loads((state_dir / "ledger.json").read_bytes())
    assert ledger["owner"] == "Ana Souza"  # at once, not at the next scan with something new
    assert ledger["generation"] == orjson.loads(before)["generation"]
    cli("sync")
    total = orjson.loads(cli("total", "--json", "--offline", "--by", "owner")[1])
    assert [(r["owner"], r["total_tokens"]) for r in total["rows"]] == [("Ana Souza", 20760)]
    assert cli("init", "--owner", "")[0] == 0
    assert b'"owner"' not in (state_dir / "ledger.json").read_bytes()
    code, out, err = cli("init", "--owner", "bad\nname")
    assert (code, out) == (
        2,
        "",
    ) and err == "ccsync: owner 'bad\\nname' is not valid: use 1-64 characters, no control characters\n"
