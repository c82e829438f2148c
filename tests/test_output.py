"""CSV and Markdown output (`--format csv|markdown`), exact to the character, and device
owners (`init --owner`, `total --by owner`)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import orjson
import pytest

from syncer import views
from syncer.output import text
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
    header = next(csv.reader(io.StringIO(out)))
    assert header[:7] == ["session", "source", "project", "branch", "device", "first", "last"]


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
    code, out, err = cli("goal", "--format", "csv", "--offline")
    header, row = csv.reader(io.StringIO(out))
    assert code == 0 and err.startswith("warning: no price known for model claude-future-9")  # on stderr, not in it
    assert dict(zip(header, row, strict=True)) == {  # the JSON's figures, one CSV row
        name: "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
        for name, value in goal.items() if name not in ("schema_version", "devices", "warnings")
    }


def test_markdown_escapes_what_would_break_a_table() -> None:
    rows = text.Rows(["project", "total_tokens"], [["a|b\nc", 1200], ["", 3]], ["Total", 1203])
    assert text.markdown_table(rows) == (
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


def test_status_and_blocks_in_every_format_agree(cli: Cli, two_models: Path) -> None:
    """status and report blocks take --format like the reports: CSV and Markdown show the JSON's figures."""
    cli("init", "--device", "laptop")
    assert cli("scan")[0] == 0
    status = orjson.loads(cli("status", "--format", "json")[1])
    code, out, err = cli("status", "--format", "csv")
    assert (code, err) == (0, "warning: no ccsync run is recorded; set up the nightly run with: ccsync schedule "
                              "install\n")
    fields = dict(csv.reader(io.StringIO(out)))
    assert fields.pop("field") == "value"
    assert list(fields) == [k for k in status if k != "schema_version"]
    assert (fields["device"], fields["log_files"], fields["last_run"]) == ("laptop", "1", "")
    assert fields["totals"].startswith("input_tokens=8, output_tokens=237, cache_creation_tokens=2311, ")
    code, out, _ = cli("status", "--format", "markdown")
    assert out.startswith("### ccsync status\n| Field | Value |\n|---|---|\n| device | laptop |\n")

    blocks = orjson.loads(cli("report", "blocks", "--json")[1])
    code, out, err = cli("report", "blocks", "--format", "csv")
    assert code == 0 and err.startswith("warning: no price known")
    parsed = list(csv.reader(io.StringIO(out)))
    assert parsed[0] == ["start", "end", "last_activity", "is_gap", "is_active", "over_limit", "input_tokens",
                         "output_tokens", "cache_creation_tokens", "cache_read_tokens", "processed_tokens",
                         "total_tokens", "cost_usd", "messages"]
    assert [(r[0], r[3], r[10]) for r in parsed[1:]] == [
        (b["start"], str(b["is_gap"]).lower(), str(b["processed_tokens"])) for b in blocks["rows"]]
    code, out, _ = cli("report", "blocks", "--format", "markdown")
    assert out.startswith("### 5-hour blocks\n| Start | End | Last activity | Is gap | Is active | Over limit |")
    assert "\n- Last 7 days (rolling): " in out and "\n> warning: no price known" in out


def _sessions(claude_dir: Path, days: list[str]) -> list[str]:
    """A session a day (months before the clock too), the last one of two models; their ids."""
    ids = []
    for k, day in enumerate(days):
        sid = f"{k:08x}-0000-4000-8000-00000000000{k % 10}"
        records = [logs.assistant(f"m{k}", f"r{k}", session=sid, tokens=logs.usage(k + 1, 10), ts=f"{day}T12:00:00Z")]
        if k == len(days) - 1:
            records.append(logs.assistant(f"m{k}b", f"r{k}b", session=sid, model="claude-opus-4-6",
                                          tokens=logs.usage(5, 5), ts=f"{day}T13:00:00Z"))
        logs.write(logs.session_file(claude_dir, name=sid), *records)
        ids.append(sid)
    return ids


def test_a_session_table_lists_the_newest_and_says_how_to_see_all(
    cli: Cli, claude_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past `TABLE_SESSIONS` the table lists the newest sessions (as --last would) and says
    so; --all-sessions and the other formats list every one."""
    ids = _sessions(claude_dir, ["2026-03-02", "2026-07-14", "2026-11-01", "2026-11-20", "2026-11-30"])
    cli("scan")
    monkeypatch.setattr(views, "TABLE_SESSIONS", 3)

    def keys(out: str) -> list[str]:
        return [line.split("│")[1].strip() for line in out.splitlines() if line.startswith("│ 0")]

    code, out, err = cli("report", "session")
    assert (code, err) == (0, "")
    assert keys(out) == [sid[:8] for sid in ids[-3:]]
    assert out.endswith("The newest 3 of 5 sessions, and their total; --all-sessions lists every one.\n")
    assert out == cli("report", "session", "--last", "3")[1] + (
        "The newest 3 of 5 sessions, and their total; --all-sessions lists every one.\n")
    code, out, _ = cli("report", "session", "--order", "desc")
    assert keys(out) == [sid[:8] for sid in ids[::-1][:3]] and "newest 3 of 5" in out
    code, out, err = cli("report", "session", "--all-sessions")
    assert (code, err) == (0, "") and keys(out) == [sid[:8] for sid in ids] and "newest" not in out
    assert [r["session"] for r in orjson.loads(cli("report", "session", "--json")[1])["rows"]] == ids
    assert len(cli("report", "session", "--format", "csv")[1].splitlines()) == 1 + len(ids)
    code, out, _ = cli("report", "session", "--last", "2")
    assert keys(out) == [sid[:8] for sid in ids[-2:]] and "newest" not in out
    code, out, _ = cli("report", "session", "--since", "2026-11-01")
    assert keys(out) == [sid[:8] for sid in ids[-3:]] and "newest" not in out


@pytest.mark.parametrize(("args", "error"), [
    (("report", "daily", "--all-sessions"), "ccsync: --all-sessions applies to: ccsync report session\n"),
    (("report", "session", "--all-sessions", "--last", "2"), "ccsync: --all-sessions and --last: give one of them\n"),
])
def test_all_sessions_is_refused_where_it_means_nothing(
    cli: Cli, claude_dir: Path, args: tuple[str, ...], error: str
) -> None:
    _sessions(claude_dir, ["2026-11-01"])
    cli("scan")
    assert cli(*args) == (2, "", error)


def test_a_sessions_last_activity_is_its_day_in_the_reports_zone(cli: Cli, claude_dir: Path) -> None:
    """The day a session table shows is the day `--since/--until` count it on in that zone;
    JSON keeps the UTC time."""
    logs.write(logs.session_file(claude_dir), logs.assistant("m1", "r1", ts="2026-11-20T23:30:00Z"))
    cli("scan")

    def last_activity(*args: str) -> list[str]:
        code, out, err = cli("report", "session", *args)
        assert (code, err) == (0, "")
        return [line.split("│")[3].strip() for line in out.splitlines() if line.startswith("│ 5b0c1d2e")]

    assert last_activity("-z", "Asia/Tokyo") == ["2026-11-21"]
    assert last_activity("-z", "Asia/Tokyo", "--until", "2026-11-20") == []
    assert last_activity("-z", "Asia/Tokyo", "--since", "2026-11-21") == ["2026-11-21"]
    assert last_activity("-z", "America/Los_Angeles") == ["2026-11-20"]
    assert last_activity("-z", "UTC") == ["2026-11-20"]
    assert orjson.loads(cli("report", "session", "-z", "Asia/Tokyo", "--json")[1])["rows"][0]["last"] == (
        "2026-11-20T23:30:00Z")
