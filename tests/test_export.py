"""`ccsync export sqlite|csv`: every table agrees with `report --json` and `total --json`,
re-exports upsert, and the file opens in Datasette (queried through its JSON API)."""

from __future__ import annotations

import csv
import io
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests import logs
from tests.cli_runner import Cli
from tests.team import make_team

COUNTS = ("input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens", "total_tokens")


@pytest.fixture
def team(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Path:
    return make_team(tmp_path, cli, monkeypatch)


def as_json(cli: Cli, *args: str) -> dict[str, Any]:
    code, out, err = cli(*args)
    assert code == 0, err
    return orjson.loads(out)  # type: ignore[no-any-return]


def rows(db: Path, sql: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql)]
    finally:
        conn.close()


def close(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-6)


def test_every_table_agrees_with_the_reports(cli: Cli, team: Path, tmp_path: Path) -> None:
    db = tmp_path / "usage.db"
    code, out, err = cli("export", "sqlite", str(db), "--all-devices", "--timezone", "UTC")
    assert (code, out) == (0, ""), err
    assert "no price known for model claude-future-9-20270101" in err  # warned, counted, not priced

    daily = as_json(cli, "report", "daily", "--json", "--all-devices", "--timezone", "UTC")
    exported = {r["date"]: r for r in rows(db, "select * from daily_usage")}
    assert sorted(exported) == [r["date"] for r in daily["rows"]]
    assert "2026-06-03" in exported  # an old day months before the clock
    for row in daily["rows"]:
        mine = exported[row["date"]]
        assert all(mine[c] == row[c] for c in COUNTS), row["date"]
        assert close(mine["total_cost"], row["cost_usd"]) and mine["messages"] == row["messages"]
        assert orjson.loads(mine["models_used"]) == [m["model"] for m in row["models"]]

    breakdown = {(r["date"], r["model_name"]): r for r in rows(db, "select * from model_breakdown")}
    expected = {(r["date"], m["model"]): m for r in daily["rows"] for m in r["models"]}
    assert breakdown.keys() == expected.keys()
    for key, m in expected.items():
        assert all(breakdown[key][c] == m[c] for c in COUNTS) and close(breakdown[key]["cost"], m["cost_usd"])
    assert breakdown[("2026-11-20", "claude-future-9-20270101")]["cost"] is None

    sessions = as_json(cli, "report", "session", "--json", "--all-devices", "--timezone", "UTC")
    exported_sessions = {r["session_id"]: r for r in rows(db, "select * from session_usage")}
    assert len(exported_sessions) == len(sessions["rows"]) == 14
    for row in sessions["rows"]:
        mine = exported_sessions[row["session"]]
        assert all(mine[c] == row[c] for c in COUNTS) and close(mine["total_cost"], row["cost_usd"])
        assert (mine["project_path"], mine["last_activity"], mine["device"]) == (
            row["project"],
            row["last"],
            row["device"],
        )

    total = as_json(cli, "total", "--json", "--offline")
    hourly = rows(
        db,
        "select sum(input_tokens) input_tokens, sum(output_tokens) output_tokens, "
        "sum(cache_creation_tokens) cache_creation_tokens, sum(cache_read_tokens) cache_read_tokens, "
        "sum(total_tokens) total_tokens, sum(messages) messages from hourly_usage",
    )[0]
    assert all(hourly[c] == total["total"][c] for c in (*COUNTS, "messages"))
    devices = {r["device"]: r for r in rows(db, "select * from devices")}
    assert sorted(devices) == sorted(d["device"] for d in total["devices"])
    for d in total["devices"]:
        assert all(devices[d["device"]][c] == d[c] for c in COUNTS) and close(
            devices[d["device"]]["total_cost"], d["cost_usd"]
        )
    assert {k: v["owner"] for k, v in devices.items()} == {"ana-laptop": "Ana", "ana-desktop": "Ana", "ci-runner": None}

    goal = as_json(cli, "goal", "--json", "--offline", "--timezone", "UTC")
    [exported_goal] = rows(db, "select * from goal")
    assert (exported_goal["target"], exported_goal["metric"], exported_goal["deadline"]) == (
        2_000_000,
        "processed",
        "2026-12-31",
    )
    assert exported_goal["current"] == goal["current"] and exported_goal["on_track"] == int(goal["on_track"])


def test_re_exporting_upserts(cli: Cli, team: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "usage.db"
    assert cli("export", "sqlite", str(db), "--all-devices")[0] == 0
    before = {
        t: rows(db, f"select count(*) n from {t}")[0]["n"] for t in ("daily_usage", "hourly_usage", "session_usage")
    }
    assert cli("export", "sqlite", str(db), "--all-devices")[0] == 0  # the same again: nothing doubles
    assert {t: rows(db, f"select count(*) n from {t}")[0]["n"] for t in before} == before

    # More usage on an existing day: that day's row is replaced, one new session row appears.
    claude = tmp_path / "ci-runner" / "claude"
    logs.write(
        logs.session_file(claude, "late-0000"),
        logs.assistant(
            "msg_late", "req_late", ts="2026-11-20T12:00:00Z", session="late-0000", tokens=logs.usage(7, 70, 0, 0)
        ),
    )
    assert cli("scan")[0] == 0
    [day] = rows(db, "select input_tokens from daily_usage where date = '2026-11-20'")
    assert cli("export", "sqlite", str(db), "--all-devices")[0] == 0
    assert rows(db, "select input_tokens from daily_usage where date = '2026-11-20'") == [
        {"input_tokens": day["input_tokens"] + 7}
    ]
    assert rows(db, "select count(*) n from session_usage")[0]["n"] == before["session_usage"] + 1


def test_indexes_serve_the_usual_queries(cli: Cli, team: Path, tmp_path: Path) -> None:
    db = tmp_path / "usage.db"
    assert cli("export", "sqlite", str(db), "--all-devices")[0] == 0
    conn = sqlite3.connect(db)
    plans = {
        sql: " ".join(r[3] for r in conn.execute("explain query plan " + sql))
        for sql in (
            "select sum(cost) from model_breakdown where model_name = 'x'",
            "select sum(total_tokens) from hourly_usage where project = 'shop'",
            "select sum(total_tokens) from hourly_usage where model = 'x' and hour >= '2026-11'",
            "select * from daily_usage where date between '2026-11-01' and '2026-11-30'",
            "select * from session_usage where project_path = 'shop'",
        )
    }
    conn.close()
    assert all("USING" in plan for plan in plans.values()), plans


def test_a_file_that_is_not_a_database_is_left_alone(cli: Cli, team: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.db"
    notes.write_bytes(b"my notes, not SQLite\n" * 100)
    code, out, err = cli("export", "sqlite", str(notes))
    assert code == 65 and out == ""
    assert (
        err.startswith(f"ccsync: cannot export into {notes}: file is not a database; it was not changed.")
        and err.count("\n") == 1
    )
    assert notes.read_bytes() == b"my notes, not SQLite\n" * 100
    code, _, err = cli("export", "sqlite", str(tmp_path / "missing" / "usage.db"))
    assert code == 74 and err.startswith("ccsync: cannot open ") and err.count("\n") == 1


def test_csv_one_file_per_table_or_one_table_on_stdout(cli: Cli, team: Path, tmp_path: Path) -> None:
    db, folder = tmp_path / "usage.db", tmp_path / "csv"
    assert cli("export", "sqlite", str(db), "--all-devices")[0] == 0
    code, out, err = cli("export", "csv", str(folder), "--all-devices")
    assert (code, out) == (0, "") and "no price known" in err
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "daily_usage.csv",
        "devices.csv",
        "export_info.csv",
        "goal.csv",
        "hourly_usage.csv",
        "model_breakdown.csv",
        "session_usage.csv",
    ]
    for name in names:
        table = name.removesuffix(".csv")
        if table == "export_info":
            continue
        parsed = list(csv.DictReader(io.StringIO((folder / name).read_text())))
        stored = rows(db, f"select * from {table}")
        assert len(parsed) == len(stored), table
        for got, want in zip(parsed, stored, strict=True):
            assert {k: float(v) if isinstance(want[k], float) else v for k, v in got.items()} == {
                k: "" if v is None else v if isinstance(v, float) else str(v) for k, v in want.items()
            }, table
    code, out, _ = cli("export", "csv", "-", "--table", "model_breakdown", "--all-devices")
    assert code == 0 and out == (folder / "model_breakdown.csv").read_text()
    code, out, err = cli("export", "csv", "-", "--table", "nope")
    assert (code, out) == (2, "") and err.startswith("ccsync: no table 'nope'; choose one of: daily_usage, ")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return orjson.loads(response.read())


def test_the_export_opens_in_datasette(cli: Cli, team: Path, tmp_path: Path) -> None:
    pytest.importorskip("datasette")
    db = tmp_path / "usage.db"
    assert cli("export", "sqlite", str(db), "--all-devices", "--timezone", "UTC")[0] == 0
    meta = tmp_path / "usage.metadata.json"
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "datasette",
            "serve",
            str(db),
            "--metadata",
            str(meta),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                get(f"{base}/-/versions.json")
                break
            except OSError:
                assert server.poll() is None, server.communicate()[0].decode()
                time.sleep(0.1)
        daily = get(f"{base}/usage/daily_usage.json?_shape=array&_size=max")
        report = orjson.loads(cli("report", "daily", "--json", "--all-devices", "--timezone", "UTC")[1])
        assert sorted(r["date"] for r in daily) == [r["date"] for r in report["rows"]]
        sql = (
            "select model_name, sum(input_tokens + output_tokens + cache_creation_tokens) processed "
            "from model_breakdown group by model_name order by model_name"
        )
        by_model = get(f"{base}/usage.json?_shape=array&sql={urllib.parse.quote(sql)}")
        expected: dict[str, int] = {}
        for row in report["rows"]:
            for m in row["models"]:
                expected[m["model"]] = (
                    expected.get(m["model"], 0) + m["input_tokens"] + m["output_tokens"] + m["cache_creation_tokens"]
                )
        assert {r["model_name"]: r["processed"] for r in by_model} == expected
        owners = get(
            f"{base}/usage.json?_shape=array&sql="
            + urllib.parse.quote(
                "select owner, sum(total_tokens) total from hourly_usage group by owner order by owner"
            )
        )
        total = orjson.loads(cli("total", "--json", "--offline", "--by", "owner")[1])
        assert {r["owner"] or "": r["total"] for r in owners} == {r["owner"]: r["total_tokens"] for r in total["rows"]}
        shown = get(f"{base}/-/metadata.json")
        assert shown["databases"]["usage"]["tables"]["daily_usage"]["title"] == "Daily usage"
        assert "(tokens)" in shown["databases"]["usage"]["tables"]["daily_usage"]["columns"]["input_tokens"]
        page = urllib.request.urlopen(f"{base}/usage/model_breakdown", timeout=10).read().decode()
        assert "Usage by day and model" in page and "(USD)" in page  # title and units on the table page
    finally:
        server.kill()
        server.wait()
