"""`report.build` over a window: the rows it keeps are exactly those whose local day is in the
window, in the zones farthest from UTC (its label shortcut must never drop or keep a row the
local day would not)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncer import report
from syncer.ledger import HourRow, Ledger, Session, SessionUsage, hour_index, hour_label, sum_tokens

ZONES: list[tzinfo] = [UTC, ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Etc/GMT+12"), ZoneInfo("America/St_Johns"),
                       ZoneInfo("Asia/Kathmandu")]
START = datetime(2026, 3, 1, tzinfo=UTC)


def ledger(hours: list[HourRow]) -> Ledger:
    return Ledger(schema_version=2, device="laptop", install_id="a" * 32, generation=1, totals=sum_tokens(hours),
                  hours=hours, sessions=[])


@settings(max_examples=200, deadline=None)
@given(
    offsets=st.lists(st.integers(0, 24 * 20), min_size=1, max_size=40, unique=True),
    zone=st.sampled_from(ZONES),
    since=st.one_of(st.none(), st.integers(-2, 22)),
    length=st.one_of(st.none(), st.integers(0, 6)),
)
def test_a_window_keeps_exactly_the_rows_of_its_local_days(
    offsets: list[int], zone: tzinfo, since: int | None, length: int | None
) -> None:
    hours = sorted(
        HourRow((START + timedelta(hours=h)).strftime("%Y-%m-%dT%H"), "claude", "claude-sonnet-4-5", "p", "b",
                False, False, h + 1, 0, 0, 0, 0, 1)
        for h in offsets
    )
    first = date(2026, 3, 1)
    window = report.Window(
        since=first + timedelta(days=since) if since is not None else None,
        until=first + timedelta(days=(since or 0) + length) if length is not None else None,
    )
    built = report.build("daily", [ledger(hours)], zone=zone, window=window, pricer=lambda *_: None)
    want: dict[str, int] = {}
    for h in hours:
        local = datetime.strptime(h.hour, "%Y-%m-%dT%H").replace(tzinfo=UTC).astimezone(zone).date()
        if window.holds(local):
            want[local.isoformat()] = want.get(local.isoformat(), 0) + h.input_tokens
    assert {r.key: r.totals.usage.input_tokens for r in built.rows} == want


def test_windows_at_the_ends_of_the_calendar() -> None:
    hours = [HourRow("0001-01-01T05", "claude", "m", "p", "b", False, False, 1, 0, 0, 0, 0, 1),
             HourRow("9999-12-31T05", "claude", "m", "p", "b", False, False, 2, 0, 0, 0, 0, 1)]
    for window in (report.Window(since=date.min), report.Window(until=date.max),
                   report.Window(since=date.min, until=date.max)):
        built = report.build("daily", [ledger(hours)], zone=UTC, window=window, pricer=lambda *_: None)
        assert built.total.usage.input_tokens == 3


@given(moment=st.datetimes(timezones=st.sampled_from([UTC, ZoneInfo("Asia/Kathmandu")])))
def test_a_stamp_is_what_strftime_writes(moment: datetime) -> None:
    assert report.stamp(moment) == moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@settings(max_examples=300, deadline=None)
@given(hour=st.one_of(st.integers(hour_index("0001-01-01T00"), hour_index("9999-12-31T23")),
                      st.integers(hour_index("0001-01-01T00"), hour_index("0001-01-02T23")),
                      st.integers(hour_index("9999-12-30T00"), hour_index("9999-12-31T23"))),
       zone=st.sampled_from([*ZONES, ZoneInfo("Europe/Berlin"), ZoneInfo("Australia/Lord_Howe"),
                             timezone(timedelta(hours=-23, minutes=-59)), timezone(timedelta(hours=23, minutes=59))]))
def test_an_hour_labels_local_day_is_its_hours(hour: int, zone: tzinfo) -> None:
    """Reports read the local day straight from the label; it is the day of the hour's start,
    the calendar's first or last day past either end."""
    assert report.label_day(hour_label(hour), zone) == report.local_day(hour, zone)


@pytest.mark.parametrize("name", ["Europe/Berlin", "Australia/Lord_Howe", "Asia/Kathmandu", "America/St_Johns",
                                  "Pacific/Apia", "Africa/Casablanca", "Antarctica/Troll", "America/Sao_Paulo"])
def test_every_hour_of_years_with_odd_transitions_has_its_local_day(name: str) -> None:
    """The local day comes from the UTC day's offset where it holds all day: checked against
    converting each hour, through half-hour DST (Lord Howe), a skipped day (Apia, 2011-12-30),
    Ramadan's two changes a year (Casablanca) and a two-hour DST (Troll)."""
    zone = ZoneInfo(name)
    for hour in range(hour_index("2011-01-01T00"), hour_index("2013-01-01T00")):
        assert report.label_day(hour_label(hour), zone) == report.local_day(hour, zone), hour_label(hour)


@pytest.mark.parametrize("kind", ["daily", "weekly", "monthly"])
@pytest.mark.parametrize("name", ["Australia/Lord_Howe", "Pacific/Apia", "Africa/Casablanca", "America/St_Johns",
                                  "Pacific/Kiritimati", "Etc/GMT+12"])
def test_every_hour_falls_in_the_period_of_its_local_day(kind: str, name: str) -> None:
    zone = ZoneInfo(name)
    period = report._period_keys(kind, zone, 2)
    for hour in range(hour_index("2011-01-01T00"), hour_index("2012-03-01T00")):
        day = report.local_day(hour, zone)
        expected = {"daily": day.isoformat(), "monthly": day.isoformat()[:7],
                    "weekly": (day - timedelta(days=(day.weekday() - 2) % 7)).isoformat()}[kind]
        assert period(hour_label(hour)) == expected, hour_label(hour)
    if kind != "weekly":  # the calendar's ends: the hour's own day, as before
        for label in ("0001-01-01T00", "9999-12-31T23"):
            assert period(label) == (label[:10] if kind == "daily" else label[:7])


def test_a_rows_totals_are_its_models_summed_and_each_models_its_own() -> None:
    """A row of one group shares its totals with its model; a second group (another tier of
    the model, or another model) must not change what the first model's totals say."""
    def usage(model: str, long_context: bool, n: int) -> SessionUsage:
        return SessionUsage(model, long_context, False, n, 10 * n, 0, 0, 100 * n, 1)

    moment = datetime(2026, 11, 20, 9, tzinfo=UTC)
    sessions = [Session("mixed", "claude", "p", "b", moment, moment,
                        [usage("claude-a", False, 1), usage("claude-a", True, 2), usage("unknown", False, 4)]),
                Session("plain", "claude", "p", "b", moment, moment + timedelta(hours=1),
                        [usage("claude-a", False, 8)])]
    book = Ledger(schema_version=2, device="laptop", install_id="a" * 32, generation=1, totals=sum_tokens([]),
                  hours=[], sessions=sessions)

    def price(source: str, row: report.PricedRow) -> float | None:
        return None if row.model == "unknown" else row.input_tokens * (2.0 if row.long_context else 1.0)

    built = report.build("session", [book], zone=UTC, window=report.Window(), pricer=price)
    mixed, plain = built.rows
    assert (mixed.key, plain.key) == ("mixed", "plain")
    assert (mixed.totals.usage.input_tokens, mixed.totals.messages, mixed.totals.cost_usd) == (7, 3, 5.0)
    assert mixed.totals.unpriced == {"unknown"} and mixed.totals.cost_known
    a, unknown = mixed.models["claude-a"], mixed.models["unknown"]
    assert (a.usage.input_tokens, a.usage.output_tokens, a.messages, a.cost_usd) == (3, 30, 2, 5.0)
    assert not a.unpriced
    assert (unknown.usage.input_tokens, unknown.cost_known, unknown.unpriced) == (4, False, frozenset({"unknown"}))
    assert (plain.totals.usage.input_tokens, plain.models["claude-a"].usage.input_tokens) == (8, 8)
    assert (built.total.usage.input_tokens, built.total.cost_usd) == (15, 13.0)
    assert built.total.unpriced == {"unknown"}


_counts = st.integers(min_value=0, max_value=10**12)


@st.composite
def _totals(draw: st.DrawFn) -> report.Totals:
    t = report.Totals()
    for _ in range(draw(st.integers(0, 3))):
        counts = draw(st.lists(_counts, min_size=6, max_size=6))
        cost = draw(st.none() | st.floats(min_value=0, max_value=1e6, allow_nan=False))
        t.add_counts(counts, cost, draw(st.sampled_from(["claude-opus-4-6", "gpt-9", "mystery"])))
    return t


@given(st.lists(_totals(), max_size=30))
def test_summing_totals_at_once_is_adding_them_one_by_one(parts: list[report.Totals]) -> None:
    """`sum_totals` is a faster loop of `Totals.add`: the same counts, and the same float cost to
    the last bit (costs added in the same order), the same unpriced models and priced flag."""
    one_by_one = report.Totals()
    for t in parts:
        one_by_one.add(t)
    at_once = report.sum_totals(parts)
    assert at_once.usage.as_tuple() == one_by_one.usage.as_tuple() and at_once.messages == one_by_one.messages
    assert (at_once.cost_usd, at_once.unpriced, at_once.priced) == (
        one_by_one.cost_usd, one_by_one.unpriced, one_by_one.priced)


_SESSION_IDS = ["s1", "s2", "s3", "s4"]


@st.composite
def _team(draw: st.DrawFn) -> list[Ledger]:
    """Ledgers whose sessions repeat ids across devices (a session copied with its folder) and
    models within a session, from several sources, some unpriced."""
    ledgers = []
    for d in range(draw(st.integers(1, 3))):
        sessions = []
        for sid in draw(st.lists(st.sampled_from(_SESSION_IDS), unique=True, max_size=4)):
            # Few distinct seconds, milliseconds apart: sessions that end in the same second.
            first = START + timedelta(hours=draw(st.sampled_from([0, 5, 24 * 39])), seconds=draw(st.integers(0, 1)))
            last = first + timedelta(seconds=draw(st.integers(0, 1)), milliseconds=draw(st.integers(0, 999)))
            usages = []
            for _ in range(draw(st.integers(0, 3))):
                n = draw(st.lists(st.integers(0, 10**9), min_size=5, max_size=5))
                usages.append(SessionUsage(draw(st.sampled_from(["claude-opus-4-6", "claude-haiku-4-5", "mystery"])),
                                           draw(st.booleans()), draw(st.booleans()), n[0], n[1], n[2],
                                           min(n[2], n[3]), n[4], draw(st.integers(1, 9))))
            sessions.append(Session(sid, draw(st.sampled_from(["claude", "codex"])), f"p{d}", "main", first, last,
                                    usages))
        ledgers.append(Ledger(schema_version=2, device=f"dev-{d}", install_id=f"{d:032x}", generation=1,
                              totals=sum_tokens([]), hours=[], sessions=sessions))
    return ledgers


def _session_price(source: str, row: report.PricedRow) -> float | None:
    if row.model == "mystery":
        return None
    rate = 3.1e-6 if row.model.endswith("opus-4-6") else 0.7e-6
    return (row.input_tokens * rate + row.output_tokens * 5 * rate + row.cache_read_tokens * 0.1 * rate) * (
        2 if row.long_context else 1) * (6 if row.fast else 1) + (0.1 if source == "codex" else 0.0)


@settings(max_examples=300, deadline=None)
@given(team=_team(), zone=st.sampled_from(ZONES), since=st.one_of(st.none(), st.integers(0, 40)),
       source=st.sampled_from([None, "claude", "codex"]), newest=st.one_of(st.none(), st.integers(1, 4)))
def test_session_rows_are_their_usages_grouped_then_priced(
    team: list[Ledger], zone: tzinfo, since: int | None, source: str | None, newest: int | None
) -> None:
    """A session's row (of several models, or of the same id on two devices) is what summing
    each (source, model, tier, speed) over all its usages and pricing each sum gives, added in
    the order first seen, to the last bit of the cost; its fields are those of its last record,
    and rows go by last activity. Built for the `newest` only, the report is those last rows
    of the whole, their total, and how many it left out."""
    window = report.Window(since=date(2026, 3, 1) + timedelta(days=since) if since is not None else None,
                           source=source)
    groups: dict[str, dict[tuple[str, str, bool, bool], list[int]]] = {}
    fields: dict[str, tuple[str, datetime]] = {}
    for book in team:
        for s in book.sessions:
            if not window.holds(s.last.astimezone(zone).date()) or source not in (None, s.source):
                continue
            fields[s.id] = (book.device, s.last)
            for u in s.usage:
                counts = groups.setdefault(s.id, {}).setdefault((s.source, u.model, u.long_context, u.fast), [0] * 6)
                counts[:] = [a + b for a, b in zip(counts, u[3:], strict=True)]
    want = {}
    for sid, by_group in groups.items():
        total = report.Totals()
        models: dict[str, report.Totals] = {}
        for (src, model, long_context, fast), counts in by_group.items():
            cost = _session_price(src, SessionUsage(model, long_context, fast, *counts))
            total.add_counts(counts, cost, model)
            models.setdefault(model, report.Totals()).add_counts(counts, cost, model)
        want[sid] = (total, models)

    def seen(t: report.Totals) -> tuple[object, ...]:
        u = t.usage
        return (u.input_tokens, u.output_tokens, u.cache_creation_tokens, u.cache_creation_1h_tokens,
                u.cache_read_tokens, t.messages, t.cost_usd, t.unpriced, t.priced)

    built = report.build("session", team, zone=zone, window=window, pricer=_session_price, newest=newest)
    order = sorted(want, key=lambda sid: (report.stamp(fields[sid][1]), sid))
    assert [r.key for r in built.rows] == (order[-newest:] if newest else order)
    assert built.left_out == (max(0, len(order) - newest) if newest else 0)
    for row in built.rows:
        total, models = want[row.key]
        assert seen(row.totals) == seen(total)
        assert {m: seen(t) for m, t in row.models.items()} == {m: seen(t) for m, t in models.items()}
        assert (row.extra["device"], row.extra["last"]) == (fields[row.key][0], report.stamp(fields[row.key][1]))
    assert seen(built.total) == seen(report.sum_totals([want[r.key][0] for r in built.rows]))
