"""Manual and imported entries: counted in reports, removed by any device, and never lost or
brought back by merging an older copy of a file."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from syncer import entries
from syncer.errors import UsageError
from syncer.ledger import MAX_COUNT, Entry, HourRow, Ledger, dump_ledger, sum_tokens
from syncer.peers import count_once
from syncer.schemas.ledger import parse_ledger
from tests.cli_runner import Cli

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def ledger(device: str, *new: Entry, hours: list[HourRow] = []) -> Ledger:  # noqa: B006
    base = Ledger(
        schema_version=2, device=device, install_id=device[0] * 32 if device[0] in "abcdef" else "f" * 32,
        generation=1, totals=sum_tokens(hours), hours=hours, sessions=[],
    )
    return entries.add(base, new)


def manual(seed: str, tokens: int, *, hour: str = "2026-11-30T09") -> Entry:
    return Entry(
        id=entries.entry_id("manual", seed.encode()), kind="manual", hour=hour, source="claude", model="web",
        input_tokens=tokens, output_tokens=tokens, note=f"chat {seed}", added_at=NOW,
    )


def input_total(ledgers: list[Ledger]) -> int:
    return sum(led.totals.input_tokens for led in entries.counted(ledgers))


def test_entries_round_trip_and_a_ledger_without_them_keeps_its_bytes() -> None:
    plain = ledger("alpha")
    assert b"entries" not in dump_ledger(plain) and b"removed" not in dump_ledger(plain)
    with_entry = entries.add(plain, [manual("a", 5)])
    assert parse_ledger(dump_ledger(with_entry), what="x") == with_entry


def test_entries_count_in_reports_under_their_provenance() -> None:
    row = HourRow("2026-11-30T09", "claude", "web", "shop", "", False, False, 7, 0, 0, 0, 0, 1)
    [counted] = entries.counted([ledger("alpha", manual("a", 5), hours=[row])])
    assert counted.totals.input_tokens == 12
    assert {(r.project, r.input_tokens) for r in counted.hours} == {("shop", 7), ("(manual)", 5)}


def test_a_removal_by_another_device_takes_the_entry_out_of_every_total() -> None:
    a = ledger("alpha", manual("a", 5), manual("b", 100))
    b, removed = entries.remove(ledger("beta"), manual("b", 0).id, [a], now=NOW)
    assert removed.device == "alpha" and removed.entry.note == "chat b"
    assert input_total([a, b]) == 5
    assert entries.summary([a, b]) == (
        "includes 1 manual and 0 imported entries; 1 removed entry is not counted (see: ccsync entries)"
    )
    with pytest.raises(UsageError, match="already removed by beta"):
        entries.remove(ledger("alpha"), manual("b", 0).id, [a, b], now=NOW)
    with pytest.raises(UsageError, match="no entry 'm-0000000000'; list the entries"):
        entries.remove(b, "m-0000000000", [a], now=NOW)


def test_the_same_import_on_two_devices_counts_once() -> None:
    same = manual("imported", 40)._replace(kind="import", id="i-0123456789")
    assert input_total([ledger("alpha", same), ledger("beta", same)]) == 40


def test_merging_an_older_copy_neither_loses_nor_resurrects_an_entry() -> None:
    """Three devices: alpha adds x and syncs; beta removes x while gamma adds y; then alpha's
    ledger is restored from a backup older than x. Every merge order ends the same."""
    x, y = manual("x", 10), manual("y", 1)
    alpha = ledger("alpha", x)
    beta, _ = entries.remove(ledger("beta"), x.id, [alpha], now=NOW)
    gamma = ledger("gamma", y)
    restored = ledger("alpha")  # the backup from before x
    merged = entries.union(restored, alpha)
    assert merged is not None and merged.entries == [x]
    assert entries.union(merged, alpha) is None  # nothing left to take: no commit
    # beta restored to before its removal, merged with what it published: the removal stays.
    beta_again = entries.union(ledger("beta"), beta)
    assert beta_again is not None and [r.id for r in beta_again.removed] == [x.id]
    for order in ([merged, beta_again, gamma], [gamma, beta_again, merged], [beta_again, gamma, merged]):
        assert input_total(order) == 1
        listed = entries.listing(order)
        assert {(i.entry.id, i.removal is not None) for i in listed} == {(x.id, True), (y.id, False)}


def test_entries_list_oldest_first() -> None:
    late = manual("late", 1)._replace(added_at=NOW + timedelta(hours=1))
    early = manual("early", 1)
    assert [i.entry.note for i in entries.listing([ledger("alpha", late), ledger("beta", early)])] == [
        "chat early", "chat late",
    ]


def test_two_entries_with_one_id_are_refused() -> None:
    a = manual("a", 5)
    once = dump_ledger(ledger("alpha", a))
    line = once.split(b'"entries": [\n')[1].split(b"\n")[0]
    doc = once.replace(b'"entries": [\n', b'"entries": [\n' + line + b",\n")
    with pytest.raises(Exception, match="two entries share one id"):
        parse_ledger(doc, what="x")


def test_a_peer_file_with_a_field_from_a_later_ccsync_is_skipped_with_a_warning_not_fatal() -> None:
    mine = ledger("alpha", manual("a", 5))
    later = dump_ledger(ledger("beta")).replace(b'"device": "beta",', b'"device": "beta",\n  "future": {"x": 1},')
    counted = count_once(mine, "alpha", {"beta": later, "gamma": dump_ledger(ledger("gamma", manual("g", 2)))})
    assert [led.device for led in counted.ledgers] == ["alpha", "gamma"]
    assert counted.warnings == [
        "skipped data/beta.json has a field this ccsync does not know (future); perhaps it was written by a "
        "later ccsync: upgrade with: pip install -U ccsync"
    ]
    assert sum(led.totals.input_tokens for led in counted.ledgers) == 7


def test_add_list_report_and_remove_on_one_machine(cli: Cli) -> None:
    code, out, err = cli("add", "1200", "300", "--cache-read", "5000", "--model", "claude-opus-4-6",
                         "--date", "2026-11-02", "--note", "claude.ai chat")
    assert code == 0, err
    entry = out.split("Added entry ")[1].split(":")[0]
    assert out.strip() == (f"Added entry {entry}: 1,500 tokens processed (+5,000 cache reads). "
                           f"Remove it with: ccsync entries remove {entry}")
    listed = orjson.loads(cli("entries", "--json", "--offline")[1])["entries"]
    assert [(e["id"], e["kind"], e["model"], e["processed_tokens"], e["note"], e["removed_by"]) for e in listed] == [
        (entry, "manual", "claude-opus-4-6", 1500, "claude.ai chat", None),
    ]
    rows = orjson.loads(cli("report", "project", "--json")[1])["rows"]
    assert [(r["project"], r["input_tokens"]) for r in rows] == [("(manual)", 1200)]
    code, out, err = cli("total", "--json", "--offline")
    assert orjson.loads(out)["total"]["cache_read_tokens"] == 5000
    assert "includes 1 manual and 0 imported entries (see: ccsync entries)" in orjson.loads(out)["warnings"]
    code, out, err = cli("entries", "remove", entry, "--offline")
    assert code == 0, err
    total = orjson.loads(cli("total", "--json", "--offline")[1])
    assert total["total"]["input_tokens"] == 0
    assert "includes 0 manual and 0 imported entries; 1 removed entry is not counted (see: ccsync entries)" in (
        total["warnings"]
    )


def test_bad_entries_are_one_line_and_exit_2(cli: Cli) -> None:
    code, _, err = cli("add", "10", "10", "--source", "Web Chat")
    assert code == 2 and err.strip() == "ccsync: --source 'Web Chat' is not a source name like claude, codex or gemini"
    code, _, err = cli("add", "--", "-5", "10")
    assert code == 2 and "Invalid value for 'input_tokens'" in err
    code, _, err = cli("add", str(2**60), "10")
    assert code == 2 and "less than or equal to 9007199254740992" in err
    code, _, err = cli("add", "10", "10", "--date", "02/11/2026")
    assert code == 2 and "--date" in err
    assert orjson.loads(cli("entries", "--json", "--offline")[1])["entries"] == []


def test_entries_adding_up_past_what_a_field_holds_do_not_break_a_total() -> None:
    huge = [manual(str(i), MAX_COUNT) for i in range(3)]
    [counted] = entries.counted([ledger("alpha", *huge)])
    assert counted.totals.input_tokens == 3 * MAX_COUNT


def test_an_entry_is_in_this_devices_export_under_its_provenance(cli: Cli, tmp_path: Path) -> None:
    assert cli("add", "40", "2", "--date", "2026-11-03", "--note", "api script")[0] == 0
    folder = tmp_path / "csv"
    code, _, err = cli("export", "csv", str(folder))
    assert code == 0, err
    hourly = list(csv.DictReader(io.StringIO((folder / "hourly_usage.csv").read_text())))
    assert [(r["project"], r["input_tokens"]) for r in hourly] == [("(manual)", "40")]
