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
