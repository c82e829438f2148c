from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncer import goal, pace, report
from syncer.errors import GoalCorrupt, SchemaTooNew, UsageError
from syncer.ledger import HourRow, Ledger, sum_tokens
from syncer.output.documents import goal_fields
from syncer.pricing import load_table
from syncer.usage import Usage
from tests.cli_runner import Cli

SET_AT = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "text, value",
    [("100M", 100_000_000), ("1.5B", 1_500_000_000), ("250k", 250_000), ("5000000", 5_000_000),
     ("1_000", 1000), ("2,500", 2500), (" 7m ", 7_000_000)],
)
def test_targets(text: str, value: int) -> None:
    assert goal.parse_target(text) == value


@pytest.mark.parametrize("text", ["", "lots", "-5M", "1.5.5", "10Q", "0"])
def test_bad_targets_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        goal.parse_target(text)


def make(target: int = 100_000_000, deadline: date = date(2026, 12, 31)) -> goal.Goal:
    return goal.Goal(target=target, deadline=deadline, set_by="a", set_at=SET_AT)


def test_progress_maths() -> None:
    today = date(2026, 11, 22)
    daily = {date(2026, 11, d): 1_000_000.0 for d in range(16, 23)}  # 1M/day for the last 7 days
    daily[date(2026, 10, 30)] = 23_000_000.0  # inside the 30-day window, outside the 7-day one
    p = goal.progress(make(), daily=daily, devices={"a": 30_000_000, "b": 10_000_000}, today=today)
    assert p.current == 40_000_000
    assert p.percent == 40.0
    assert p.remaining == 60_000_000
    assert p.days_left == 40  # 22 Nov .. 31 Dec, both counted
    assert p.required_per_day == 1_500_000
    assert p.pace_7d == 1_000_000
    assert p.pace_30d == pytest.approx(30_000_000 / 30)
    assert p.projected_date == date(2027, 1, 21)  # 60 more days at 1M/day
    assert p.on_track is False
    assert [(d, share) for d, _, share in p.devices] == [("a", 0.75), ("b", 0.25)]
    js = goal_fields(p)
    assert js["deadline"] == "2026-12-31" and js["projected_date"] == "2027-01-21"
    assert set(js) == {"target", "metric", "deadline", "start", "source", "current", "percent", "remaining",
                       "days_left", "required_per_day", "pace_7d", "pace_30d", "projected_date", "on_track",
                       "devices", "reached_date", "pending"}


def test_reached_goal_is_on_track_today() -> None:
    p = goal.progress(make(target=10), daily={}, devices={"a": 12}, today=date(2026, 11, 22))
    assert (p.remaining, p.on_track, p.projected_date) == (0, True, date(2026, 11, 22))


def test_no_pace_means_no_projection() -> None:
    p = goal.progress(make(), daily={}, devices={"a": 1}, today=date(2026, 11, 22))
    assert p.projected_date is None and p.on_track is False


def test_past_deadline_has_no_days_left() -> None:
    p = goal.progress(make(deadline=date(2026, 11, 1)), daily={}, devices={"a": 1}, today=date(2026, 11, 22))
    assert p.days_left == 0 and p.required_per_day == p.remaining


def test_goal_file_round_trip_and_validation() -> None:
    g = make()
    assert goal.parse_goal(goal.dump_goal(g)) == g
    with pytest.raises(GoalCorrupt):
        goal.parse_goal(b'{"target": -1}')
    with pytest.raises(SchemaTooNew):
        goal.parse_goal(b'{"schema_version": 9}')


@pytest.mark.parametrize("text, value", [("2.50", 2.5), ("$1.5k", 1500), ("0.05", 0.05), ("100", 100)])
def test_cost_targets_keep_cents(text: str, value: float) -> None:
    assert goal.parse_target(text, "cost") == value


def test_a_cost_target_below_a_cent_is_refused() -> None:
    with pytest.raises(UsageError):
        goal.parse_target("0.001", "cost")


def test_a_cost_goal_round_trips_with_its_cents() -> None:
    g = goal.Goal(target=2.5, metric="cost", deadline=date(2026, 12, 31), set_by="a", set_at=SET_AT)
    assert goal.parse_goal(goal.dump_goal(g)).target == 2.5
    assert goal.progress(g, daily={}, devices={"a": 1.25}, today=date(2026, 12, 1)).percent == 50.0


def test_a_projected_date_past_year_9999_is_no_date_not_a_crash() -> None:
    target = goal.Goal(target=100_000_000, metric="processed", deadline=date(2027, 1, 1), set_by="a",
                       set_at=datetime(2026, 12, 1, tzinfo=UTC))
    today = date(2026, 12, 1)
    progress = pace.progress(target, daily={today: 1}, devices={"a": 1}, today=today)
    assert progress.projected_date is None and not progress.on_track


def test_a_goal_window_counts_only_usage_from_its_start(cli: Cli) -> None:
    assert cli("add", "1000", "0", "--date", "2026-01-05")[0] == 0
    assert cli("add", "300", "0", "--date", "2026-11-20", "--note", "after the start")[0] == 0
    code, out, err = cli("goal", "set", "10k", "--by", "2030-12-31", "--from", "2026-06-01")
    assert code == 0 and out.strip() == "Goal set: 10k processed by 2030-12-31, counting from 2026-06-01.", err
    code, out, _ = cli("goal", "--json", "--timezone", "UTC")
    shown = orjson.loads(out)
    assert (shown["start"], shown["current"], shown["devices"][0]["current"]) == ("2026-06-01", 300, 300)
    code, out, _ = cli("goal", "--timezone", "UTC")
    assert out.splitlines()[0] == "Goal: 10k processed tokens by 2030-12-31, counting from 2026-06-01"
    assert cli("goal", "set", "10k", "--by", "2030-12-31")[0] == 0
    assert orjson.loads(cli("goal", "--json")[1])["current"] == 1300
    code, _, err = cli("goal", "set", "10k", "--by", "2030-12-31", "--from", "2031-01-01")
    assert code == 2 and err.strip() == "ccsync: --from 2031-01-01 is after the deadline 2030-12-31"


def test_a_goal_with_a_window_is_written_so_an_older_ccsync_refuses_it() -> None:
    windowed = goal.Goal(target=5, deadline=date(2026, 12, 31), start=date(2026, 10, 1), set_by="a", set_at=SET_AT)
    assert orjson.loads(goal.dump_goal(windowed))["schema_version"] == 2
    assert goal.parse_goal(goal.dump_goal(windowed)) == windowed._replace(schema_version=2)
    plain = orjson.loads(goal.dump_goal(make()))
    assert plain["schema_version"] == 1 and "start" not in plain


@given(st.tuples(*[st.integers(0, 10**12)] * 5))
def test_each_token_metric_adds_up_its_fields(counts: tuple[int, int, int, int, int]) -> None:
    """What a token goal sums per row (`TOKEN_FIELDS`) is what its figure on a report shows."""
    totals = report.Totals(Usage(*counts))
    for metric, fields in goal.TOKEN_FIELDS.items():
        assert sum(getattr(totals.usage, f) for f in fields) == goal.metric_value(totals, metric)


# -- one pass over every device's rows (`goal.standing`) ---------------------------------------

MODELS = ["claude-sonnet-4-5-20250929", "claude-opus-4-6", "gpt-5", "no-price-model"]


def team(draw: st.DrawFn) -> list[Ledger]:
    """Three devices whose rows share hours, models and sources (in any order), around midnight
    in zones far from UTC, some long-context or fast."""
    ledgers = []
    for name in ("ana", "bo", "ci"):
        hours = draw(st.lists(st.builds(
            lambda h, src, m, lc, fast, n: HourRow(
                (datetime(2026, 10, 20, tzinfo=UTC) + timedelta(hours=h)).strftime("%Y-%m-%dT%H"), src, m, "p", "b",
                lc, fast, n, 7 * n, 3 * n, n, 11 * n, 1),
            st.integers(0, 24 * 40), st.sampled_from(["claude", "codex"]), st.sampled_from(MODELS), st.booleans(),
            st.booleans(), st.integers(1, 10**6),
        ), max_size=40))
        ledgers.append(Ledger(schema_version=2, device=name, install_id=name[0] * 32, generation=1,
                              totals=sum_tokens(hours), hours=hours, sessions=[]))
    return ledgers


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), metric=st.sampled_from(["processed", "all", "output", "cost"]),
       start=st.sampled_from([None, date(2026, 11, 3)]), source=st.sampled_from([None, "codex"]),
       zone=st.sampled_from([UTC, ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Etc/GMT+12")]))
def test_the_one_pass_standing_is_what_a_report_per_device_gives(
    data: st.DataObject, metric: goal.Metric, start: date | None, source: str | None, zone: tzinfo
) -> None:
    """`total` works out the goal and every device's daily figures from one pass over the rows;
    they are exactly (to the float) what a daily report over all devices, a report by device and
    a daily report of each device give."""
    ledgers = data.draw(st.composite(lambda draw: team(draw))())
    g = goal.Goal(target=5000 if metric == "cost" else 10**8, metric=metric, deadline=date(2026, 12, 31),
                  start=start, source=source, set_by="ana", set_at=SET_AT)
    pricer = report.Pricer(load_table())
    today, since = date(2026, 11, 25), date(2026, 11, 10)
    by_device = report.build("device", ledgers, zone=zone, window=report.Window(), pricer=pricer)
    stand = goal.standing(g, ledgers, zone=zone, pricer=pricer, today=today, each_since=since, devices=by_device)
    want, _ = goal.progress_over(g, ledgers, zone=zone, pricer=pricer, today=today, devices=by_device)
    assert repr(stand.progress) == repr(want)
    window = report.Window(since=start, source=source)
    devices = report.build("device", ledgers, zone=zone, window=window, pricer=pricer)
    assert stand.shares == {r.key: goal.metric_value(r.totals, metric) for r in devices.rows}
    for ledger in ledgers:
        daily = report.build("daily", [ledger], zone=zone, window=window, pricer=pricer)
        want_daily = [(date.fromisoformat(r.key), goal.metric_value(r.totals, metric)) for r in daily.rows]
        assert repr(sorted(stand.daily[ledger.device].items())) == repr([d for d in want_daily if d[0] >= since])
