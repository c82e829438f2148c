"""Gemini CLI chats: one event per model message, the latest write, counted once across copies.

Each pitfall of ../shared/formats.md §3.5 has its test; the expected totals are the messages the
fixture wrote (`gemini_logs.expected`), never something the parser computed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from syncer.events import Event
from syncer.sources import SOURCES
from tests import parsing
from tests.gemini_logs import Chat, expected, session_id

gemini = SOURCES["gemini"]


def events_of(data: bytes, name: str = "session-x.jsonl", *, chunk: int | None = None) -> tuple[list[Event], int]:
    return parsing.events_of("gemini", data, name, chunk=chunk)


def counted(*files: tuple[bytes, str]) -> tuple[int, int, int, int, int]:
    return parsing.counted("gemini", *files)


def a_chat(n: int = 1, replies: int = 3) -> Chat:
    chat = Chat(session_id(n))
    for k in range(replies):
        chat.user()
        chat.gemini(15_327 + 100 * k, 23 + k, cached=11_526, thoughts=919, tool=7)
    return chat


def test_a_chat_counts_each_model_message() -> None:
    chat = a_chat()
    assert counted((chat.jsonl(), chat.name())) == expected(chat)
    events, bad = events_of(chat.jsonl())
    assert bad == 0 and {e.session for e in events} == {chat.session} and events[0].model == "gemini-2.5-pro"
    assert events[0].time_ms == int(datetime(2026, 5, 17, 11, 7, 23, tzinfo=UTC).timestamp() * 1000)


def test_cached_is_part_of_input_tool_is_extra_and_thoughts_are_output() -> None:
    chat = Chat(session_id(2))
    chat.gemini(15_327, 23, cached=11_526, thoughts=919, tool=7)  # the documented sample: total 16,276
    (event,), _ = events_of(chat.jsonl())
    assert event.tokens == (15_327 - 11_526 + 7, 23 + 919, 0, 0, 11_526)
    assert sum(event.tokens) - event.tokens[3] == 16_276


def test_a_message_written_many_times_counts_once_with_its_last_write() -> None:
    chat = Chat(session_id(3))
    chat.user()
    chat.gemini(9_000, 400, cached=1_000, updates=5)
    assert counted((chat.jsonl(), chat.name())) == expected(chat)
    assert len(events_of(chat.jsonl())[0]) == 1


def test_the_latest_write_wins_even_when_it_is_smaller() -> None:
    chat = Chat(session_id(4))
    mid = chat.gemini(9_000, 400)
    again = dict(chat.messages[mid], tokens={"input": 8_000, "output": 300, "cached": 0, "thoughts": 0, "total": 8_300})
    chat.records.append(again)
    (event,), _ = events_of(chat.jsonl())
    assert event.tokens[:2] == (8_000, 300)


def test_set_checkpoints_repeat_history_without_double_counting() -> None:
    chat = a_chat(5)
    chat.checkpoint()
    chat.user()
    chat.gemini(20_000, 50, cached=15_000)
    chat.checkpoint().checkpoint()
    assert counted((chat.jsonl(), chat.name())) == expected(chat)


def test_messages_only_in_a_checkpoint_still_count() -> None:
    chat = a_chat(6, replies=2)
    history = chat.records[1:]
    chat.records[1:] = [{"$set": {"messages": [r for r in history if r.get("tokens") or r["type"] == "user"]}}]
    assert counted((chat.jsonl(), chat.name())) == expected(chat)


def test_rewound_messages_still_count() -> None:
    chat = a_chat(7, replies=3)
    first_reply = list(chat.final)[1]
    chat.rewind(first_reply)
    chat.user("try again")
    chat.gemini(30_000, 70, cached=2_000)
    assert counted((chat.jsonl(), chat.name())) == expected(chat)
    assert len(chat.final) == 4


def test_legacy_json_rewritten_whole_is_read_whole() -> None:
    chat = a_chat(8, replies=2)
    assert counted((chat.legacy_json(), chat.name(".json"))) == expected(chat)
    chat.user()
    chat.gemini(40_000, 80, cached=39_000)
    assert counted((chat.legacy_json(), chat.name(".json"))) == expected(chat)  # a rewrite adds only what changed


def test_legacy_json_copied_into_jsonl_on_resume_counts_once() -> None:
    chat = a_chat(9, replies=2)
    old = chat.legacy_json()
    chat.checkpoint()  # resuming writes a new .jsonl holding every message of the old .json
    chat.user()
    chat.gemini(50_000, 90, cached=45_000)
    assert counted((old, chat.name(".json")), (chat.jsonl(), chat.name())) == expected(chat)


def test_project_folder_migration_copies_count_once(tmp_path: Path) -> None:
    chat = a_chat(10)
    hashed = chat.write(tmp_path, project="9f2c" * 16)
    slug = chat.write(tmp_path, project="shop")
    assert counted((hashed.read_bytes(), hashed.name), (slug.read_bytes(), slug.name)) == expected(chat)


def test_subagent_chats_count_on_their_own() -> None:
    parent = a_chat(11, replies=1)
    sub = Chat(session_id(12), kind="subagent")
    sub.gemini(7_000, 300, cached=0, thoughts=100, model="gemini-2.5-flash")
    assert counted((parent.jsonl(), parent.name()), (sub.jsonl(), f"{sub.session}.jsonl")) == expected(parent, sub)
    (event,), _ = events_of(sub.jsonl(), f"{sub.session}.jsonl")
    assert event.model == "gemini-2.5-flash" and event.session == sub.session


def test_messages_without_tokens_are_not_counted() -> None:
    chat = Chat(session_id(13))
    chat.gemini(1_000, 10, updates=1)
    chat.records[-1]["tokens"] = None
    assert events_of(chat.jsonl())[0] == []


def test_legacy_top_level_model_is_the_fallback() -> None:
    chat = Chat(session_id(14))
    mid = chat.gemini(1_000, 10)
    del chat.messages[mid]["model"]
    data = chat.legacy_json().replace(b'"sessionId"', b'"model": "gemini-1.5-pro",\n  "sessionId"', 1)
    (event,), _ = events_of(data, chat.name(".json"))
    assert event.model == "gemini-1.5-pro"


def test_unterminated_final_record_counts_once_complete() -> None:
    chat = a_chat(15, replies=2)
    assert counted((chat.jsonl(final_newline=False), chat.name())) == expected(chat)
    half = chat.jsonl()[:-40]
    assert counted((half, chat.name()))[4] == 1


def test_bad_records_are_counted_and_skipped() -> None:
    chat = a_chat(16, replies=2)
    data = chat.jsonl() + b'{"id":"x","type":"gemini","tokens":{"input":"many"},"timestamp":"2026-05-17T11:00:00Z"}\n'
    data += b'{"tokens": oops}\n'
    events, bad = events_of(data)
    assert bad == 2 and len(events) == 2


def test_reading_in_chunks_gives_the_same_events() -> None:
    chat = a_chat(17, replies=5).checkpoint()
    whole = [(e.key, e.tokens) for e in events_of(chat.jsonl())[0]]
    for chunk in (1, 13, 4096):
        assert [(e.key, e.tokens) for e in events_of(chat.jsonl(), chunk=chunk)[0]] == whole


def test_a_megabyte_message_and_old_dates() -> None:
    chat = Chat(session_id(18), start=datetime(2025, 7, 1, tzinfo=UTC))
    chat.user("x" * 1_000_000)
    chat.gemini(1_200_000, 2_000, cached=900_000)
    assert counted((chat.jsonl(), chat.name())) == expected(chat)


def test_log_files_and_roots(tmp_path: Path) -> None:
    assert gemini.is_log_file("session-2026-05-17T11-07-abcdef12.jsonl")
    assert gemini.is_log_file("session-2026-01-15T10-00-abc12345.json")
    assert gemini.is_log_file("0a1b2c3d-51c4-4e0a-8d7e-2f6b9a0c3e01.jsonl")  # a subagent's chat
    assert not gemini.is_log_file("session-2026-01-15T10-00-abc12345.json.unreadable-1747480000")
    assert not gemini.is_log_file("logs.json") and not gemini.is_log_file("checkpoint-x.json")
    home = tmp_path / "home"
    assert gemini.log_roots({}, home) == [home / ".gemini/tmp"]
    assert gemini.log_roots({"GEMINI_CLI_HOME": str(tmp_path / "g")}, home) == [tmp_path / "g/.gemini/tmp"]
    assert gemini.fallback_project(home / ".gemini/tmp/shop/chats/s.jsonl", home / ".gemini/tmp") == "shop"
