"""`ccsync add`, `entries`, `entries remove` and `import` end to end: real processes, one
state folder per device, a shared bare remote."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson
import pytest

from tests import logs
from tests.gitserver import make_bare, requires_git
from tests.test_devices import Device

pytestmark = [requires_git, pytest.mark.slow]  # every device is real ccsync processes


def processed(device: Device) -> int:
    code, out, err = device.run("total", "--json")
    assert code == 0, err
    total = orjson.loads(out)["total"]
    return int(total["input_tokens"] + total["output_tokens"] + total["cache_creation_tokens"])


def entry_ids(device: Device) -> dict[str, str | None]:
    code, out, err = device.run("entries", "--json")
    assert code == 0, err
    return {e["id"]: e["removed_by"] for e in orjson.loads(out)["entries"]}


def added_id(out: str) -> str:
    return out.split("Added entry ")[1].split(":")[0]


def test_entries_survive_sync_from_three_devices_with_a_removal_racing_an_add(tmp_path: Path) -> None:
    remote = str(make_bare(tmp_path / "remote.git"))
    alpha, beta, gamma = (Device(tmp_path, name, remote) for name in ("alpha", "beta", "gamma"))
    for device in (alpha, beta, gamma):
        device.init()
    alpha.work(responses=1)
    assert alpha.run("scan")[0] == 0
    backup = (alpha.home / "ledger.json").read_bytes()  # alpha's ledger from before x
    code, out, err = alpha.run("add", "1000", "500", "--note", "claude.ai chat", "--date", "2026-11-02")
    assert code == 0, err
    x = added_id(out)
    assert alpha.run("sync")[0] == 0
    assert beta.run("sync")[0] == 0 and gamma.run("sync")[0] == 0
    assert processed(beta) == 1500 + 132
    # beta removes x while gamma adds y; both sync, in either order.
    code, out, err = beta.run("entries", "remove", x)
    assert code == 0 and "Removed entry" in out, err
    code, out, err = gamma.run("add", "7", "3", "--model", "claude-sonnet-4-5-20250929")
    y = added_id(out)
    racing = [gamma.start("sync"), beta.start("sync")]  # both push at once: one retries on the other's tip
    for proc in racing:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    # alpha is restored from a copy older than x and syncs: x is neither lost nor resurrected.
    (alpha.home / "ledger.json").write_bytes(backup)
    assert alpha.run("sync")[0] == 0
    for device in (alpha, beta, gamma):
        assert device.run("sync")[0] == 0
        assert processed(device) == 10 + 132
        assert entry_ids(device) == {x: "beta", y: None}
    # Removing it again says so; an unknown id is a usage error.
    code, _, err = alpha.run("entries", "remove", x)
    assert code == 2 and "already removed by beta" in err
    code, _, err = alpha.run("entries", "remove", "m-0123456789")
    assert code == 2 and err.strip() == (
        "ccsync: no entry 'm-0123456789'; list the entries and their ids with: ccsync entries"
    )


def test_import_dry_run_then_import_then_reimport_is_a_no_op(tmp_path: Path) -> None:
    remote = str(make_bare(tmp_path / "remote.git"))
    device = Device(tmp_path, "laptop", remote)
    device.init()
    logs.write(logs.session_file(device.claude, "s1"),
               logs.assistant("m1", "r1", session="s1", ts="2026-03-10T15:00:00Z", tokens=logs.usage(10, 20, 0, 0)))
    assert device.run("scan")[0] == 0
    export = tmp_path / "daily.json"
    export.write_bytes(orjson.dumps({"daily": [
        {"date": "2026-03-09", "inputTokens": 100, "outputTokens": 200, "cacheCreationTokens": 0, "cacheReadTokens": 0,
         "modelBreakdowns": []},
        {"date": "2026-03-10", "inputTokens": 10, "outputTokens": 20, "cacheCreationTokens": 0, "cacheReadTokens": 0,
         "modelBreakdowns": []},
    ]}))
    code, out, err = device.run("import", str(export), "--dry-run", "--timezone", "UTC", "--offline")
    assert code == 0, err
    assert out.splitlines() == [
        "add   2026-03-09  (all models)  300  no usage of this day in this device's logs",
        "skip  2026-03-10  (all models)  0  the logs of 2026-03-10 already count usage",
        "Would add 1 of 2 records from ccusage-daily daily.json: 300 tokens processed (+0 cache reads)",
    ]
    assert entry_ids(device) == {}
    assert device.run("import", str(export), "--timezone", "UTC", "--offline")[0] == 0
    assert processed(device) == 330
    code, out, _ = device.run("import", str(export), "--timezone", "UTC", "--offline")
    assert code == 0 and out.splitlines()[-1].startswith("Added 0 of 2 records")
    assert processed(device) == 330


def test_a_ccusage_database_imports_and_broken_files_change_nothing(tmp_path: Path) -> None:
    device = Device(tmp_path, "desk", str(make_bare(tmp_path / "remote.git")))
    device.init()
    db_path = tmp_path / "usage.db"
    db = sqlite3.connect(db_path)
    db.execute("CREATE TABLE daily_usage (date TEXT, inputTokens INTEGER, outputTokens INTEGER, "
               "cacheCreationTokens INTEGER, cacheReadTokens INTEGER, totalCost REAL)")
    db.execute("INSERT INTO daily_usage VALUES ('2025-06-01', 40, 60, 0, 900, 0.1)")
    db.commit()
    db.close()
    code, out, err = device.run("import", str(db_path), "--offline")
    assert code == 0 and "from ccusage-db usage.db: 100 tokens processed (+900 cache reads)" in out, err
    truncated = tmp_path / "cut.db"
    truncated.write_bytes(db_path.read_bytes()[:300])
    code, _, err = device.run("import", str(truncated), "--offline")
    assert code == 65 and err.startswith("ccsync: cut.db is not a readable SQLite database"), err
    other = tmp_path / "notes.json"
    other.write_text('{"hello": 1}')
    code, _, err = device.run("import", str(other), "--offline")
    assert code == 65 and err.startswith("ccsync: notes.json is not a record ccsync imports"), err
    assert processed(device) == 100
