from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from syncer import trust
from syncer.errors import LedgerCorrupt, SchemaTooNew
from syncer.events import Event
from syncer.fold import holds_all
from syncer.ledger import (
    MAX_TEXT,
    Entry,
    HourRow,
    Ledger,
    SessionUsage,
    document_without_sessions,
    dump_ledger,
    ledger_from_document,
)
from syncer.paths import state_paths
from syncer.peers import count_once
from syncer.schemas.ledger import checked_entry, parse_ledger
from syncer.store import load_ledger
from syncer.tally import Batch, Tally
from tests.ledger_shapes import SHAPES

T0 = 1_795_166_045_000  # 2026-11-20T09:14:05Z
INSTALL = "0" * 32


def event(key: str, tokens: tuple[int, int, int, int, int], *, t: int = T0, mid: str | None = None,
          session: str = "s1", model: str = "claude-sonnet-4-5", sidechain: bool = False, fast: bool = False) -> Event:
    return Event(key=key, message_id=mid if mid is not None else key.split(":")[0], time_ms=t, model=model,
                 tokens=tokens, session=session, cwd="/p", branch="main", sidechain=sidechain, fast=fast)


def in_session(e: Event, session: str) -> Event:
    """A copy of `e` seen in another session (a resumed one replaying it)."""
    copied = copy.copy(e)
    copied.session = session
    return copied


def apply_all(tally: Tally, events: list[Event]) -> Tally:
    """Each line applied on its own (a batch of one), the finest split a scan could make."""
    for e in events:
        batch = Batch()
        batch.add(e, source="claude", project="p", branch="main")
        tally.apply_batch(batch)
    return tally


def ledger_of(tally: Tally) -> Ledger:
    return tally.ledger(device="d", install_id=INSTALL, generation=1)


def reload(tally: Tally) -> Tally:
    """What the next run sees: the saved ledger and index, read back."""
    ledger = parse_ledger(dump_ledger(ledger_of(tally)), what="test")
    again = Tally.from_ledger(ledger)
    again.load_index(orjson.loads(orjson.dumps(tally.index)), tally.covered_before)
    return again


def test_streamed_lines_count_once_at_final_size() -> None:
    tally = apply_all(Tally(), [
        event("m1:r1", (3, 4, 2311, 0, 18204)),
        event("m1:r1", (3, 4, 2311, 0, 18204), t=T0 + 700),
        event("m1:r1", (3, 187, 2311, 0, 18204), t=T0 + 4000),
    ])
    totals = ledger_of(tally).totals
    assert (totals.input_tokens, totals.output_tokens, totals.cache_creation_tokens, totals.cache_read_tokens,
            totals.messages) == (3, 187, 2311, 18204, 1)


def test_growth_in_a_later_run_adds_only_the_difference() -> None:
    tally = reload(apply_all(Tally(), [event("m1:r1", (3, 4, 10, 0, 100))]))
    apply_all(tally, [event("m1:r1", (3, 50, 10, 0, 100), t=T0 + 10)])
    assert ledger_of(tally).totals.output_tokens == 50
    assert tally.stats.tokens[1] == 46


def test_earliest_line_dates_the_event() -> None:
    late, early = T0 + 3 * 3_600_000, T0
    tally = reload(apply_all(Tally(), [event("m1:r1", (1, 5, 0, 0, 0), t=late)]))
    apply_all(tally, [event("m1:r1", (1, 2, 0, 0, 0), t=early)])
    hours = ledger_of(tally).hours
    assert [(h.hour, h.output_tokens) for h in hours] == [("2026-11-20T09", 5)]


def test_btw_sidechain_replay_counts_the_main_copy_only_in_any_order() -> None:
    main = event("m1:r1", (5, 50, 0, 0, 9000))
    replay = event("m1:r2", (5, 50, 0, 0, 9000), mid="m1", sidechain=True)
    for order in ([main, replay], [replay, main]):
        totals = ledger_of(apply_all(Tally(), order)).totals
        assert (totals.output_tokens, totals.messages) == (50, 1)


def test_subagent_responses_count() -> None:
    totals = ledger_of(apply_all(Tally(), [event("s1:r1", (1, 2, 0, 0, 0), sidechain=True)])).totals
    assert totals.messages == 1


def test_long_context_requests_have_their_own_rows() -> None:
    tally = apply_all(Tally(), [event("a:1", (1, 1, 0, 0, 150_000)), event("b:1", (1, 1, 0, 0, 250_000))])
    assert sorted(h.long_context for h in ledger_of(tally).hours) == [False, True]


def test_one_hour_cache_tokens_are_kept_for_pricing() -> None:
    tally = apply_all(Tally(), [event("a:1", (1, 1, 300, 200, 0))])
    assert ledger_of(tally).totals.cache_creation_1h_tokens == 200


def test_rebuild_after_lost_index_adds_nothing_already_counted() -> None:
    first = [event("a:1", (1, 10, 0, 0, 0)), event("b:1", (2, 20, 0, 0, 0), t=T0 + 60_000)]
    ledger = ledger_of(apply_all(Tally(), first))
    rebuilt = Tally.from_ledger(ledger)
    rebuilt.start_rebuild()
    apply_all(rebuilt, first + [event("c:1", (4, 40, 0, 0, 0), t=T0 + 120_000)])
    totals = ledger_of(rebuilt).totals
    assert (totals.input_tokens, totals.output_tokens, totals.messages) == (7, 70, 3)


DAY = 86_400_000


def test_keys_are_never_forgotten_however_old() -> None:
    """Lines dated months before the clock: a late copy adds nothing, growth adds its growth."""
    old = T0 - 200 * DAY
    tally = reload(apply_all(Tally(), [event("a:1", (1, 10, 0, 0, 0), t=old)]))
    apply_all(tally, [event("a:1", (1, 10, 0, 0, 0), t=old), event("a:1", (1, 12, 0, 0, 0), t=old + 500)])
    totals = ledger_of(tally).totals
    assert (totals.output_tokens, totals.messages) == (12, 1)


def test_a_late_line_of_a_known_old_session_counts() -> None:
    """A response dated inside a session's span already counted, found later (a late file)."""
    old = T0 - 200 * DAY
    counted = [event("a:1", (1, 5, 0, 0, 0), t=old), event("c:1", (1, 5, 0, 0, 0), t=old + 9000)]
    tally = reload(apply_all(Tally(), counted))
    apply_all(tally, [event("b:1", (2, 268, 0, 0, 0), t=old + 4000)])
    totals = ledger_of(tally).totals
    assert (totals.output_tokens, totals.messages) == (278, 3)
    assert tally.stats.new_events == 1


def test_a_rebuild_remembers_what_the_ledger_covers_in_later_runs() -> None:
    """After the index was lost, a copy of an old counted response that turns up in a later
    run (not in the rebuild's) is still not counted again."""
    first = [event("a:1", (1, 10, 0, 0, 0)), event("b:1", (2, 20, 0, 0, 0), t=T0 + 60_000)]
    ledger = ledger_of(apply_all(Tally(), first))
    rebuilt = Tally.from_ledger(ledger)
    rebuilt.start_rebuild()
    apply_all(rebuilt, first[:1])
    later = reload(rebuilt)
    apply_all(later, [event("b:1", (2, 20, 0, 0, 0), t=T0 + 60_000), event("c:1", (4, 40, 0, 0, 0), t=T0 + 120_000)])
    totals = ledger_of(later).totals
    assert (totals.output_tokens, totals.messages) == (70, 3)


def test_long_context_threshold_is_the_models_own() -> None:
    thresholds = {"claude-haiku-5-5": 100_000}
    tally = Tally(lambda model: thresholds.get(model, 200_000))
    apply_all(tally, [event("a:1", (1, 1, 0, 0, 150_000), model="claude-haiku-5-5"),
                      event("b:1", (1, 1, 0, 0, 150_000), model="claude-sonnet-4-5")])
    assert sorted((h.model, h.long_context) for h in ledger_of(tally).hours) == [
        ("claude-haiku-5-5", True), ("claude-sonnet-4-5", False)]


def test_growth_is_taken_out_of_the_row_it_went_into_when_the_threshold_changed() -> None:
    """A price table update may move a model's threshold between runs: a key's earlier
    contribution must leave the row it was added to, or a row would go negative."""
    tally = reload(apply_all(Tally(), [event("a:1", (1, 1, 0, 0, 150_000))]))
    moved = Tally.from_ledger(parse_ledger(dump_ledger(ledger_of(tally)), what="t"), lambda _: 100_000)
    moved.load_index(tally.index, None)
    apply_all(moved, [event("a:1", (1, 9, 0, 0, 150_000))])
    ledger = parse_ledger(dump_ledger(ledger_of(moved)), what="t")
    assert [(h.long_context, h.output_tokens) for h in ledger.hours] == [(True, 9)]


def test_fast_mode_lines_have_their_own_rows() -> None:
    fast = event("a:1", (1, 2, 0, 0, 0), fast=True)
    tally = apply_all(Tally(), [event("a:1", (1, 1, 0, 0, 0)), fast, event("b:1", (1, 1, 0, 0, 0))])
    rows = sorted((h.fast, h.output_tokens, h.messages) for h in ledger_of(tally).hours)
    assert rows == [(False, 1, 1), (True, 2, 1)]


# -- property: any order and any split across runs gives the one-batch result ----------------

# "a:2" is a /btw replay of "a:1" (same message id, new request id, a sidechain); "s:1" is a
# subagent's response; "c" has no request id.
SIDECHAIN = {"a:2": True, "s:1": True}
keys = st.sampled_from(["a:1", "a:2", "b:1", "c", "s:1"])
line = st.builds(
    lambda key, tokens, dt, model, session: event(
        key, tokens, t=T0 + dt * 600_000, mid=key.split(":")[0], sidechain=SIDECHAIN.get(key, False),
        model=model, session=session,
    ),
    keys,
    st.tuples(*[st.integers(0, 1000)] * 3, st.just(0), st.integers(0, 300_000)),
    st.integers(0, 20),
    st.sampled_from(["claude-sonnet-4-5", "claude-opus-4-1"]),
    st.sampled_from(["s1", "s2"]),
)


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(line, min_size=1, max_size=25), data=st.data())
def test_any_order_and_any_chunking_gives_the_same_ledger(lines: list[Event], data: st.DataObject) -> None:
    batch = ledger_of(apply_all(Tally(), copy.deepcopy(lines)))
    shuffled = data.draw(st.permutations(lines))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(lines)), max_size=4)))
    tally = Tally()
    start = 0
    for cut in [*cuts, len(lines)]:
        tally = reload(apply_all(tally, copy.deepcopy(list(shuffled[start:cut]))))
        start = cut
    assert dump_ledger(ledger_of(tally)) == dump_ledger(batch)


def apply_files(tally: Tally, files: list[list[Event]]) -> Tally:
    """Each list is one file's lines, reduced to a Batch as a scan does."""
    for lines in files:
        batch = Batch()
        for e in lines:
            batch.add(e, source="claude", project="p", branch="main")
        tally.apply_batch(batch)
    return tally


@settings(max_examples=300, deadline=None)
@given(first=st.lists(line, min_size=1, max_size=15), data=st.data())
def test_a_rebuild_in_any_file_order_adds_exactly_what_is_new(first: list[Event], data: st.DataObject) -> None:
    """The local index is lost; every file is read again, in any order and grouping, along
    with a resumed session replaying old responses and a session that is new."""
    counted = ledger_of(apply_all(Tally(), copy.deepcopy(first)))
    replays = [in_session(e, "s3") for e in data.draw(st.lists(st.sampled_from(first), max_size=6))]
    fresh = data.draw(st.lists(st.builds(
        lambda n, dt, out: event(f"n{n}:1", (1, out, 0, 0, 0), t=T0 + dt * 600_000, session="s4"),
        st.integers(0, 3), st.integers(0, 20), st.integers(0, 500),
    ), max_size=6))
    intact = reload(apply_all(Tally(), copy.deepcopy(first)))
    apply_all(intact, copy.deepcopy(replays + fresh))

    everything = data.draw(st.permutations(first + replays + fresh))
    where = data.draw(st.lists(st.integers(0, 3), min_size=len(everything), max_size=len(everything)))
    files: list[list[Event]] = [[], [], [], []]
    for e, f in zip(everything, where, strict=True):
        files[f].append(copy.deepcopy(e))
    rebuilt = Tally.from_ledger(counted)
    rebuilt.start_rebuild()
    apply_files(rebuilt, data.draw(st.permutations(files)))
    assert ledger_of(rebuilt).totals == ledger_of(intact).totals
    assert ledger_of(rebuilt).hours == ledger_of(intact).hours


# -- the schema -------------------------------------------------------------------------------

def test_ledger_bytes_are_deterministic_and_validate() -> None:
    tally = apply_all(Tally(), [event("a:1", (1, 2, 3, 0, 4)), event("b:1", (5, 6, 7, 0, 8), session="s2")])
    data = dump_ledger(ledger_of(tally))
    assert dump_ledger(ledger_of(reload(tally))) == data
    assert parse_ledger(data, what="t") == ledger_of(tally)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["totals"].update(extra=1), "extra"),
        (lambda d: d["totals"].update(input_tokens=-1), "greater than or equal"),
        (lambda d: d["totals"].update(input_tokens=999), "totals do not equal"),
        (lambda d: d.update(device="Bad Id"), "device"),
        (lambda d: d["hours"][0].__setitem__(10, 10**6), "cache_creation_1h_tokens"),
        (lambda d: d["hours"][0].__setitem__(7, -1), "greater than or equal"),
        (lambda d: d["hours"][0].append(1), "hours.0"),
        (lambda d: d["sessions"][0][6][0].__setitem__(6, 10**6), "cache_creation_1h_tokens"),
    ],
)
def test_invalid_ledgers_are_refused(mutate: Callable[[dict[str, Any]], object], message: str) -> None:
    doc = orjson.loads(dump_ledger(ledger_of(apply_all(Tally(), [event("a:1", (1, 2, 3, 0, 4))]))))
    mutate(doc)
    with pytest.raises(LedgerCorrupt, match=message):
        parse_ledger(orjson.dumps(doc), what="t")


def test_newer_schema_is_refused_not_misread() -> None:
    with pytest.raises(SchemaTooNew):
        parse_ledger(b'{"schema_version": 3}', what="t")
    # A later ccsync's version 2 file, with a field this one does not know.
    doc = orjson.loads(dump_ledger(ledger_of(apply_all(Tally(), [event("a:1", (1, 2, 3, 0, 4))]))))
    doc["not_yet_a_field"] = "x"
    with pytest.raises(SchemaTooNew, match=r"has a field this ccsync does not know \(not_yet_a_field\)"):
        parse_ledger(orjson.dumps(doc), what="t")
    with pytest.raises(LedgerCorrupt):
        parse_ledger(b"{not json", what="t")


def test_a_rebuild_counts_a_new_response_in_the_same_second_as_the_last_one() -> None:
    counted = ledger_of(apply_all(Tally(), [event("a:1", (1, 10, 0, 0, 0), t=T0 + 301)]))
    rebuilt = Tally.from_ledger(parse_ledger(dump_ledger(counted), what="test"))
    rebuilt.start_rebuild()
    apply_all(rebuilt, [event("a:1", (1, 10, 0, 0, 0), t=T0 + 301), event("b:1", (2, 20, 0, 0, 0), t=T0 + 800)])
    assert ledger_of(rebuilt).totals.messages == 2


def test_a_rebuild_over_a_ledger_with_whole_second_times_adds_nothing_twice() -> None:
    counted = orjson.loads(dump_ledger(ledger_of(apply_all(Tally(), [event("a:1", (1, 10, 0, 0, 0), t=T0 + 301)]))))
    for column in (4, 5):  # first and last, as written before millisecond times
        counted["sessions"][0][column] = counted["sessions"][0][column].split(".")[0] + "Z"
    rebuilt = Tally.from_ledger(parse_ledger(orjson.dumps(counted), what="test"))
    rebuilt.start_rebuild()
    apply_all(rebuilt, [event("a:1", (1, 10, 0, 0, 0), t=T0 + 301)])
    assert ledger_of(rebuilt).totals.messages == 1


def test_a_session_ending_on_a_whole_second_is_not_taken_for_an_old_ledger() -> None:
    counted = ledger_of(apply_all(Tally(), [event("a:1", (1, 10, 0, 0, 0), t=T0 + 301, session="s0"),
                                            event("b:1", (1, 10, 0, 0, 0), t=T0, session="s1")]))
    rebuilt = Tally.from_ledger(parse_ledger(dump_ledger(counted), what="test"))
    rebuilt.start_rebuild()
    apply_all(rebuilt, [event("b:1", (1, 10, 0, 0, 0), t=T0, session="s1"),
                        event("c:1", (2, 20, 0, 0, 0), t=T0 + 400, session="s1")])
    assert ledger_of(rebuilt).totals.messages == 3


def test_holds_all_tells_a_renamed_record_from_a_copy_that_went_on() -> None:
    base = [event("a:1", (1, 10, 0, 0, 0), session="s1")]
    old = ledger_of(apply_all(Tally(), copy.deepcopy(base)))
    renamed = ledger_of(apply_all(Tally(), copy.deepcopy(base) + [event("b:1", (1, 10, 0, 0, 0), session="s2")]))
    elsewhere = ledger_of(apply_all(Tally(), copy.deepcopy(base) + [event("c:1", (1, 10, 0, 0, 0), session="s3")]))
    assert holds_all(renamed, old) and holds_all(old, old)
    assert not holds_all(old, renamed)
    assert not holds_all(renamed, elsewhere)  # same totals, different sessions


@pytest.mark.parametrize("files", [("renamed", "old"), ("old", "renamed"), ("renamed", "elsewhere"), ("elsewhere",)])
def test_peers_read_without_sessions_are_still_told_apart_by_them(files: tuple[str, ...]) -> None:
    """A total reads other devices' ledgers without their sessions (it shows none), except where
    two records of one install meet: then both are read whole, to tell a renamed record (counted
    once) from a copy that went on (both count), as a reader of every session would."""
    base = [event("a:1", (1, 10, 0, 0, 0), session="s1")]
    more = {"old": [], "renamed": [event("b:1", (1, 10, 0, 0, 0), session="s2")],
            "elsewhere": [event("c:1", (1, 10, 0, 0, 0), session="s3")]}  # as large
    made = {name: ledger_of(apply_all(Tally(), copy.deepcopy(base) + events)) for name, events in more.items()}
    own = made["old"]._replace(device="me") if files == ("elsewhere",) else None
    raw = {name: dump_ledger(made[name]._replace(device=name, generation=9 - i))
           for i, name in enumerate(files)}  # the first the newest
    wanted: list[bool] = []

    def parse(name: str, sessions: bool) -> Ledger:
        wanted.append(sessions)
        whole = parse_ledger(raw[name], what=name)
        return whole if sessions else whole._replace(sessions=[])

    whole = count_once(own, "me", raw, parse=parse)
    lean = count_once(own, "me", raw, parse=parse, sessions=False)
    assert lean.warnings == whole.warnings and whole.warnings
    assert [(x.device, x.totals) for x in lean.ledgers] == [(x.device, x.totals) for x in whole.ledgers]
    assert wanted.count(False) == len(files)  # each read once without its sessions, then whole where it met another


def _two_sessions() -> bytes:
    tally = apply_all(Tally(), [event("a:1", (1, 2, 3, 0, 4)), event("b:1", (5, 6, 7, 0, 8), session="s2")])
    return dump_ledger(ledger_of(tally))


def _layouts() -> dict[str, bytes]:
    """One ledger's document in the layout ccsync writes, and in others a file may arrive in."""
    ours = _two_sessions()
    doc = orjson.loads(ours)
    usage = orjson.dumps(doc["sessions"][0][6]).decode()
    assert usage in ours.decode()
    return {
        "ours": ours,
        "one line": orjson.dumps(doc),
        "indented by two": orjson.dumps(doc, option=orjson.OPT_INDENT_2),  # every item on its own line
        "indented by four": orjson.dumps(doc, option=orjson.OPT_INDENT_2).replace(b"\n", b"\n  "),
        "crlf": ours.replace(b"\n", b"\r\n"),
        # A line that is only a closing bracket, two spaces in, inside the sessions: not their end.
        "misleading": ours.replace(usage.encode(), usage[:-1].encode() + b"\n  ]", 1),
        "no sessions": dump_ledger(ledger_of(Tally())),
    }


@pytest.mark.parametrize("layout", sorted(_layouts()))
def test_a_document_read_without_sessions_is_the_rest_of_it_in_any_layout(layout: str) -> None:
    data = _layouts()[layout]
    assert document_without_sessions(data) == {**orjson.loads(data), "sessions": []}


def test_a_ledger_read_without_sessions_is_the_whole_one_less_its_sessions(tmp_path: Path) -> None:
    paths = state_paths({"CCSYNC_HOME": str(tmp_path)}, tmp_path)
    data = _two_sessions()
    whole = load_ledger(paths, data, "test")  # validated, and its digest remembered
    assert trust.known(paths.trusted, "ledger", data) and len(whole.sessions) == 2
    assert load_ledger(paths, data, "test", sessions=False) == whole._replace(sessions=[])


# -- plain values, built from what the schema accepted ---------------------------------------

GOLDEN = Path(__file__).parent / "golden" / "ledger"


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_every_shape_is_written_as_the_pydantic_ledger_wrote_it(name: str) -> None:
    golden = (GOLDEN / f"{name}.json").read_bytes()  # written by the pydantic ledger, before it was plain
    doc = SHAPES[name]
    read = parse_ledger(orjson.dumps(doc), what=name)
    assert dump_ledger(read) == golden
    again = parse_ledger(golden, what=name)
    assert again == read == ledger_from_document(orjson.loads(golden))
    assert dump_ledger(again) == golden
    # The builder alone (what a file validated before is read with) makes the same value, and
    # keeps the document it was given as it was.
    kept = copy.deepcopy(doc)
    assert ledger_from_document(doc) == read and doc == kept


def test_built_values_have_the_types_of_the_schema() -> None:
    read = parse_ledger((GOLDEN / "history.json").read_bytes(), what="t")
    assert type(read.hours) is list and type(read.sessions) is list and type(read.sessions[0].usage) is list
    assert type(read.hours[0]) is HourRow and type(read.sessions[0].usage[0]) is SessionUsage
    assert read.sessions[1].first == datetime(2026, 11, 20, 10, 0, 0, 100, tzinfo=UTC)
    assert read.sessions[1].last.microsecond == 500_000
    times = (read.entries[1].added_at, read.removed[1].at, read.retired[0].at)
    assert all(m.utcoffset() == timedelta(0) for m in times)
    assert read.removed[1].at.microsecond == 1 and read.owner == "ana"
    odd = parse_ledger((GOLDEN / "odd-times.json").read_bytes(), what="t")
    assert odd.sessions[0].first.utcoffset() == timedelta(hours=2) and odd.sessions[1].first.tzinfo is None
    # Each row's columns in place, whatever order its object form held them in.
    assert parse_ledger((GOLDEN / "object-rows.json").read_bytes(), what="t").hours == read.hours
    mixed = copy.deepcopy(SHAPES["typical"])
    usage = mixed["sessions"][0][6]
    usage[1] = dict(reversed(list(zip(SessionUsage._fields, usage[1], strict=True))))
    assert ledger_from_document(mixed) == parse_ledger(orjson.dumps(SHAPES["typical"]), what="t")


@pytest.mark.parametrize("moment", ["1795166045", "2026-11-20t09:14:05z"])
def test_a_time_pydantic_reads_but_iso_8601_does_not_is_refused(moment: str) -> None:
    """ccsync never writes one; refused, so every file that validates builds without pydantic."""
    doc = copy.deepcopy(SHAPES["typical"])
    doc["sessions"][0][4] = moment
    with pytest.raises(LedgerCorrupt, match=r"is not a valid ledger \(a time is not in ISO 8601 form"):
        parse_ledger(orjson.dumps(doc), what="t")


def test_an_entry_from_user_input_is_checked_as_a_file_would_be() -> None:
    fields: dict[str, Any] = {"id": "m-0123456789", "kind": "manual", "hour": "2026-11-20T09", "source": "claude",
                              "model": "web", "input_tokens": 5, "added_at": datetime(2026, 11, 20, tzinfo=UTC)}
    assert checked_entry(**fields) == Entry(**fields)
    for bad in ({"input_tokens": -1}, {"source": "Claude"}, {"note": "x" * (MAX_TEXT + 1)}, {"id": "x-1"}):
        with pytest.raises(ValidationError):
            checked_entry(**{**fields, **bad})
