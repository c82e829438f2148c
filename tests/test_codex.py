"""Codex CLI rollouts: one event per billable call, exactly once, whatever Codex repeats.

Each pitfall of ../shared/formats.md §2.5 has its test; the expected totals are the calls the
fixture made (`codex_logs.expected`), never something the parser computed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syncer.events import Event
from syncer.sources import SOURCES
from tests import parsing
from tests.codex_logs import Rollout, expected, thread_id

codex = SOURCES["codex"]


def events_of(data: bytes, name: str = "rollout-x.jsonl", *, chunk: int | None = None) -> tuple[list[Event], int]:
    return parsing.events_of("codex", data, name, chunk=chunk)


def counted(*files: bytes) -> tuple[int, int, int, int, int]:
    return parsing.counted("codex", *((data, "rollout-x.jsonl") for data in files))


def a_session(n: int = 1, calls: int = 4) -> Rollout:
    r = Rollout(thread_id(n)).turn()
    for k in range(calls):
        r.noise().call(12_000 + 900 * k, 9_000 + 800 * k, 300 + 40 * k, reasoning=120 + k)
    return r


def test_plain_session_counts_each_call() -> None:
    r = a_session()
    assert counted(r.data()) == expected(r)
    events, bad = events_of(r.data())
    assert bad == 0 and [e.model for e in events] == ["gpt-5.2-codex"] * 4
    assert {e.session for e in events} == {r.thread} and events[0].cwd == "/home/ana/src/shop"
    assert events[0].branch == "main" and events[0].time_ms == int(r.start.timestamp() * 1000) + 7_500 + 800


def test_cached_input_is_taken_out_of_input_and_reasoning_stays_in_output() -> None:
    r = Rollout(thread_id(2)).turn().call(1000, 250, 125, reasoning=75)
    (event,), _ = events_of(r.data())
    assert event.tokens == (750, 125, 0, 0, 250)  # input, output, creation, 1h, cache read


def test_cache_writes_are_part_of_input_too() -> None:
    """2026 builds add `cache_write_input_tokens` (input 100 = cached 40 + written 60)."""
    r = Rollout(thread_id(3)).turn("gpt-5.6").call(100, 40, 10, cache_write=60)
    (event,), _ = events_of(r.data())
    assert event.tokens == (0, 10, 60, 0, 40)


def test_rate_limit_reemits_count_once() -> None:
    r = Rollout(thread_id(4)).turn()
    for k in range(5):
        r.call(5_000 + k, 4_000, 200).reemit(times=k + 1)  # 46% of real rows are re-emits
    assert counted(r.data()) == expected(r) and len(events_of(r.data())[0]) == 5


def test_info_null_rows_are_skipped() -> None:
    r = Rollout(thread_id(5)).rate_limits_only().turn().call(3_000, 0, 90).rate_limits_only().call(4_000, 2_500, 70)
    assert counted(r.data()) == expected(r)


def test_compaction_rows_are_not_spend_and_the_totals_restart() -> None:
    r = a_session(6, calls=3).compaction()
    r.call(30_000, 0, 500).call(31_000, 29_000, 400)
    assert counted(r.data()) == expected(r)


def test_context_overflow_resets_are_followed_exactly() -> None:
    r = a_session(7, calls=3).overflow()
    r.call(272_000, 200_000, 50).call(8_000, 1_000, 60)
    assert counted(r.data()) == expected(r)


def test_a_real_reset_counts_the_row_own_usage() -> None:
    r = a_session(8, calls=3).reset()
    r.call(2_000, 0, 100).call(2_500, 1_900, 80)
    assert counted(r.data()) == expected(r)


def test_a_brief_backward_step_is_not_counted_again() -> None:
    r = a_session(9, calls=2)
    r.stale().call(20_000, 15_000, 700).call(21_000, 20_000, 650)
    assert counted(r.data()) == expected(r)


def test_fork_replaying_its_parent_counts_the_parent_once() -> None:
    parent = a_session(10, calls=3)
    fork_time = parent.clock + timedelta(minutes=5)
    child = Rollout(thread_id(11), start=fork_time, forked_from=parent.thread)
    child.replay(parent, fork_time=fork_time).turn().call(40_000, 38_000, 900)
    parent.call(35_000, 33_000, 800)  # the parent goes on after the fork
    assert counted(parent.data(), child.data()) == expected(parent, child)
    assert counted(child.data(), parent.data()) == expected(parent, child)  # any order
    # Alone (the parent's file deleted or never seen) the fork still counts the parent's calls once.
    assert counted(child.data())[4] == len(child.calls) + 3


def test_fork_of_a_fork_keys_by_the_root_thread() -> None:
    parent = a_session(12, calls=2)
    child = Rollout(thread_id(13), forked_from=parent.thread).replay(parent).turn().call(50_000, 49_000, 10)
    grandchild = Rollout(thread_id(14), forked_from=child.thread).replay(child).turn().call(60_000, 59_000, 20)
    assert counted(parent.data(), child.data(), grandchild.data()) == expected(parent, child, grandchild)


def test_subagent_replaying_the_parent_counts_once() -> None:
    parent = a_session(15, calls=3)
    sub = Rollout(thread_id(16), spawned_by=parent.thread)
    sub.replay(parent, fork_time=parent.clock + timedelta(milliseconds=300)).turn("gpt-5.1-codex-mini")
    sub.call(9_000, 0, 400, reasoning=300).call(9_500, 8_800, 350)
    assert counted(parent.data(), sub.data()) == expected(parent, sub)
    assert {e.model for e in events_of(sub.data())[0][-2:]} == {"gpt-5.1-codex-mini"}


@pytest.mark.parametrize("link", [
    {"parent_thread_id": thread_id(30)},  # 2026 subagents name their parent at the top level
    {"history_base": {"thread_id": thread_id(30)}},  # a thread started on another's history
])
def test_other_ways_of_naming_the_parent_thread(link: dict[str, object]) -> None:
    parent = a_session(30, calls=2)
    child = Rollout(thread_id(31))
    child.lines[0]["payload"].update(link)
    child.replay(parent).turn().call(40_000, 39_000, 10)
    assert counted(parent.data(), child.data()) == expected(parent, child)


def test_repeated_session_meta_lines_change_nothing() -> None:
    r = a_session(17, calls=2)
    r.lines.insert(3, r.lines[0])
    r.lines.append(r.lines[0])
    r.call(7_000, 6_000, 100)
    assert counted(r.data()) == expected(r)
    assert {e.session for e in events_of(r.data())[0]} == {r.thread}


def test_model_comes_from_the_latest_turn_context_or_thread_settings() -> None:
    r = Rollout(thread_id(18)).turn("gpt-5.2-codex").call(1_000, 0, 10).settings("gpt-5.5").call(2_000, 900, 20)
    r.turn("gpt-5.4").call(3_000, 1_900, 30)
    assert [e.model for e in events_of(r.data())[0]] == ["gpt-5.2-codex", "gpt-5.5", "gpt-5.4"]


def test_rows_before_any_turn_context_are_an_unknown_model() -> None:
    r = Rollout(thread_id(19)).call(1_000, 0, 10)
    (event,), _ = events_of(r.data())
    assert event.model == "unknown"


def test_torn_last_line_waits_for_its_newline() -> None:
    r = a_session(20, calls=2)
    data = r.data()
    torn = data + data[: len(data) // 3].replace(b"\n", b" ")[:50]  # half of a line being written
    assert counted(torn) == expected(r)


def test_unterminated_final_row_is_left_for_the_next_run() -> None:
    r = a_session(21, calls=2)
    before = expected(r)
    r.call(9_999, 0, 99)
    assert counted(r.data(final_newline=False)) == before
    assert counted(r.data()) == expected(r)


def test_bad_rows_are_counted_and_skipped() -> None:
    r = a_session(22, calls=2)
    data = r.data() + (b'{"type":"event_msg","payload":{"type":"token_count",'
                       b'"info":{"total_token_usage":{"input_tokens":-5}}}}\n')
    data += b'{"type":"event_msg","payload":{"type":"token_count" ... not json\n'
    events, bad = events_of(data)
    assert bad == 2 and len(events) == 2


def test_reading_in_chunks_gives_the_same_events() -> None:
    r = a_session(23, calls=6)
    whole = [e.key for e in events_of(r.data())[0]]
    for chunk in (1, 7, 4096):
        assert [e.key for e in events_of(r.data(), chunk=chunk)[0]] == whole


def test_a_megabyte_line_and_old_dates() -> None:
    r = Rollout(thread_id(24), start=datetime(2025, 9, 6, 23, 59, 59, tzinfo=UTC)).turn("gpt-5")
    r.noise(size=1_000_000).call(100_000, 0, 5_000, reasoning=4_000).noise(size=1_000_000).call(101_000, 99_000, 10)
    assert counted(r.data()) == expected(r)


@pytest.mark.parametrize("name", ["rollout-2026-05-13T09-00-00-019a0001-7c2e-7d41-9b3a-5e0f6c1d2a01.jsonl",
                                  "rollout-2026-05-13T09-00-00-019a0001-7c2e-7d41-9b3a-5e0f6c1d2a01.jsonl.zst"])
def test_rollout_names_are_logs(name: str) -> None:
    assert codex.is_log_file(name)
    assert not codex.is_log_file("history.jsonl") and not codex.is_log_file("state_5.sqlite")


def test_log_roots_follow_codex_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert codex.log_roots({}, home) == [home / ".codex/sessions", home / ".codex/archived_sessions"]
    moved = codex.log_roots({"CODEX_HOME": str(tmp_path / "c")}, home)
    assert moved == [tmp_path / "c/sessions", tmp_path / "c/archived_sessions"]


def test_a_thread_without_session_meta_is_named_by_its_file() -> None:
    r = a_session(25, calls=1)
    r.lines.pop(0)
    (event,), _ = events_of(r.data(), r.name())
    assert event.session == r.thread and event.key.startswith(f"codex:{r.thread}:")


def test_a_session_meta_naming_its_thread_thread_id() -> None:
    r = a_session(26, calls=1)
    r.lines[0]["payload"]["thread_id"] = r.lines[0]["payload"].pop("id")
    (event,), _ = events_of(r.data(), "rollout-x.jsonl")
    assert event.session == r.thread and event.key.startswith(f"codex:{r.thread}:")
