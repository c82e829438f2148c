"""The shared file stays under the limit every device reads as history grows (issue 15, item 7):
old history is folded in the published copy, and no total or sum changes."""

from __future__ import annotations

import random
import subprocess
from collections import Counter
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest

from syncer import fold
from syncer.errors import LedgerCorrupt
from syncer.fold import holds_all, shared_bytes
from syncer.git.limits import MAX_DEVICE_FILE
from syncer.ledger import (
    SCHEMA_VERSION,
    HourRow,
    Ledger,
    Session,
    SessionUsage,
    dump_ledger,
    hour_index,
    hour_label,
    sum_tokens,
)
from syncer.report import local_day
from syncer.schemas.ledger import parse_ledger
from syncer.tally import Tally
from tests.cli_runner import Cli

END = date(2026, 11, 30)
MODELS = ("claude-opus-4-5-20251101", "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001", "gpt-5-codex")
ZONES: tuple[tzinfo, ...] = (UTC, ZoneInfo("America/Los_Angeles"), ZoneInfo("Asia/Tokyo"), ZoneInfo("Pacific/Honolulu"))


def five_years(*, per_day: int, install_id: str = "ab" * 16, device: str = "heavy", seed: int = 5) -> Ledger:
    """A heavy user's five years, in the shapes real ledgers have: sessions across midnight and
    across the end of a month, several models in one session, long-context and fast rows, empty
    and long branch names, a source other than claude. Each session's usage is split between
    the hours of its first and last line, so hours and sessions sum alike."""
    rng = random.Random(seed)
    projects = [f"project-{i}" for i in range(9)] + ["a" * 300, "weird|name with spaces"]
    branches = ["main", "", "feature/" + "x" * 200, "fix-1"]
    hours: dict[tuple[int, str, str, str, str, bool, bool], list[int]] = {}
    sessions: list[Session] = []
    start = datetime(END.year - 5, END.month, END.day, tzinfo=UTC) + timedelta(days=1)
    for day in range((END - start.date()).days + 1):
        for n in range(per_day):
            first = start + timedelta(days=day, seconds=rng.randrange(86_400), milliseconds=rng.randrange(1000))
            last = first + timedelta(seconds=rng.choice((0, 60, 3_600, 5 * 3_600, 30 * 3_600)))
            source = "codex" if n % 7 == 3 else "claude"
            project = rng.choices(projects, weights=(30, 20, 10, 5, 5, 2, 2, 1, 1, 1, 1))[0]
            branch = rng.choices(branches, weights=(20, 5, 1, 3))[0]
            usage = []
            for model in rng.sample(MODELS, rng.randrange(1, 3)):
                lc, fast = rng.random() < 0.05, rng.random() < 0.03
                counts = [rng.randrange(10**6), rng.randrange(10**5), rng.randrange(10**6), 0, rng.randrange(10**7)]
                counts[3] = counts[2] // 3
                messages = rng.randrange(1, 400)
                usage.append(SessionUsage(model, lc, fast, *counts[:5], messages))  # type: ignore[call-arg]
                early = [c // 2 for c in counts] + [messages // 2]
                late = [c - e for c, e in zip([*counts, messages], early, strict=True)]
                for moment, part in ((first, early), (last, late)):
                    key = (int(moment.timestamp()) // 3600, source, model, project, branch, lc, fast)
                    row = hours.setdefault(key, [0] * 6)
                    row[:] = [a + b for a, b in zip(row, part, strict=True)]
            sid = f"{rng.getrandbits(32):08x}-{rng.getrandbits(16):04x}-4abc-8000-{day:06d}{n:06d}"
            sessions.append(Session(sid, source, project, branch, first, last, sorted(usage)))
    rows = [HourRow(hour_label(k[0]), *k[1:], *v) for k, v in sorted(hours.items()) if any(v)]
    sessions.sort(key=lambda s: s.id)
    return Ledger(
        schema_version=SCHEMA_VERSION, device=device, install_id=install_id, owner=None, generation=7,
        totals=sum_tokens(rows), hours=rows, sessions=sessions, entries=[], removed=[], retired=[],
    )


def daily(
    ledger: Ledger, zone: tzinfo, *, since: date = date.min, monthly: bool = False
) -> dict[tuple[date, str], tuple[int, ...]]:
    """Counts per local day (or month) and model, from `since` on."""
    days: dict[tuple[date, str], tuple[int, ...]] = {}
    for row in ledger.hours:
        day = local_day(hour_index(row.hour), zone)
        if day < since:
            continue
        key = (day.replace(day=1) if monthly else day, row.model)
        days[key] = tuple(a + b for a, b in zip(days.get(key, (0,) * 6), row[-6:], strict=True))
    return days


def session_sums(ledger: Ledger) -> Counter[tuple[str, bool, bool, int]]:
    sums: Counter[tuple[str, bool, bool, int]] = Counter()
    for s in ledger.sessions:
        for u in s.usage:
            for i, value in enumerate(u[3:]):
                sums[(u.model, u.long_context, u.fast, i)] += value
    return sums


def test_a_five_year_ledger_is_published_folded_under_the_limit_with_every_sum_kept() -> None:
    whole = five_years(per_day=6)
    data = dump_ledger(whole)
    limit = len(data) * 2 // 3  # this ledger is half again what other devices would read
    shared = shared_bytes(whole, limit)
    assert len(shared) <= limit * fold.TARGET * 1.05  # (the boundary is chosen on estimates)
    published = parse_ledger(shared, what="the shared copy")  # an ordinary version 2 ledger
    assert published.totals == whole.totals
    assert session_sums(published) == session_sums(whole)
    days, months = fold.folded_through([published])
    assert days is not None and months is not None  # this one needed both
    assert dump_ledger(fold.fold(whole, days=days, months=months)) == shared
    # Folded rows keep UTC days (and months): exact per UTC day after the folded months, per
    # UTC month throughout; in any zone exact in total, and per day where nothing was folded.
    assert daily(published, UTC, monthly=True) == daily(whole, UTC, monthly=True)
    since = date.fromisoformat(months)
    assert daily(published, UTC, since=since) == daily(whole, UTC, since=since)
    for zone in ZONES:
        whole_sum, published_sum = daily(whole, zone, since=date.min), daily(published, zone, since=date.min)
        assert sum(sum(v) for v in published_sum.values()) == sum(sum(v) for v in whole_sum.values())
        since = date.fromisoformat(days) + timedelta(days=1)
        assert daily(published, zone, since=since) == daily(whole, zone, since=since), zone
    # The last year is kept at full grain; only older history folds.
    year_ago = max(s.first for s in whole.sessions) - timedelta(days=330)
    kept = {s.id: s for s in published.sessions}
    assert all(kept[s.id] == s for s in whole.sessions if s.first >= year_ago)
    assert {r for r in whole.hours if r.hour >= hour_label(int(year_ago.timestamp()) // 3600)} <= set(published.hours)
    folded = {s.id.split(":")[1] for s in published.sessions if s.id.startswith(fold.PREFIX)}
    assert "2022-01" in folded and "2025-06-30" in folded  # the oldest to months, then to days
    # The same ledger gives the same bytes, and publishing the folded copy changes nothing.
    assert shared_bytes(whole, limit) == shared
    assert shared_bytes(published, limit) == shared
    # The local record and its folded copy hold each other; a record with less does not.
    assert holds_all(whole, published) and holds_all(published, whole)
    smaller = whole._replace(sessions=whole.sessions[1:])
    assert not holds_all(smaller, published)
    # A project renamed since (by a change of privacy) leaves the folded copy ours.
    renamed = [s._replace(project="p-" + s.project[:8]) for s in whole.sessions]
    assert holds_all(whole._replace(sessions=renamed), published)
    # Restored from the shared copy, a rebuild takes lines of folded sessions as counted.
    assert Tally.from_ledger(published).folded_before == hour_index(days + "T00") * 3_600_000


def test_a_ledger_that_fits_is_published_as_it_is() -> None:
    small = five_years(per_day=1)
    data = dump_ledger(small)
    assert shared_bytes(small, 2 * len(data)) == data
    assert not [s for s in parse_ledger(data, what="x").sessions if s.id.startswith(fold.PREFIX)]


def test_a_ledger_too_large_even_folded_is_refused() -> None:
    whole = five_years(per_day=2)
    with pytest.raises(LedgerCorrupt) as info:
        shared_bytes(whole, 20_000)
    assert "nothing was pushed" in info.value.message and "20000 byte limit" in info.value.message


@pytest.mark.slow
def test_a_heavy_five_year_device_stays_in_every_total(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = tmp_path / "remote.git"
    monkeypatch.setenv("CCSYNC_HOME", str(tmp_path / "heavy"))
    code, _, err = cli("init", "--device", "heavy", "--remote", str(remote))
    assert code == 0, err
    config = orjson.loads((tmp_path / "heavy" / "config.json").read_bytes())
    whole = five_years(per_day=30, install_id=config["install_id"])
    data = dump_ledger(whole)
    assert len(data) > MAX_DEVICE_FILE  # what other devices used to drop
    (tmp_path / "heavy" / "ledger.json").write_bytes(data)
    code, _, err = cli("sync", "--no-scan")
    assert code == 0, err
    tip = subprocess.run(["git", "rev-parse", "main"], cwd=remote, capture_output=True, text=True).stdout
    code, _, err = cli("sync", "--no-scan")  # the published copy is ours, folded: nothing to push
    assert code == 0, err
    assert subprocess.run(["git", "rev-parse", "main"], cwd=remote, capture_output=True, text=True).stdout == tip
    assert (tmp_path / "heavy" / "ledger.json").read_bytes() == data  # the local ledger keeps every row

    monkeypatch.setenv("CCSYNC_HOME", str(tmp_path / "light"))
    code, _, err = cli("init", "--device", "light", "--remote", str(remote))
    assert code == 0, err
    code, out, err = cli("total", "--json")
    assert code == 0, err
    doc = orjson.loads(out)
    assert not [w for w in doc["warnings"] if "heavy" in w]
    heavy = next(d for d in doc["devices"] if d["device"] == "heavy")
    assert heavy["input_tokens"] == whole.totals.input_tokens
    assert heavy["output_tokens"] == whole.totals.output_tokens
    # Every UTC month exact; the last year (never folded here) exact per day in any zone.
    code, out, err = cli("report", "monthly", "--all-devices", "--json", "--timezone", "UTC")
    assert code == 0, err
    got = {row["month"]: row["output_tokens"] for row in orjson.loads(out)["rows"]}
    want: Counter[str] = Counter()
    for (month, _), counts in daily(whole, UTC, monthly=True).items():
        want[month.isoformat()[:7]] += counts[1]
    assert got == dict(want)
    zone = ZoneInfo("America/Los_Angeles")
    code, out, err = cli("report", "daily", "--all-devices", "--json", "--timezone", str(zone), "--since", "2026-01-01")
    assert code == 0, err
    got = {row["date"]: row["output_tokens"] for row in orjson.loads(out)["rows"]}
    want = Counter()
    for (day, _), counts in daily(whole, zone, since=date(2026, 1, 1)).items():
        want[day.isoformat()] += counts[1]
    assert got == dict(want)
