"""Lines dated months before the clock, arriving in any order and timing, give the ledger one
pass over the finished files gives (DESIGN §2 rules 2, 4 and 8; issue 8)."""

from __future__ import annotations

import itertools
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syncer import store
from syncer.ledger import COUNT_FIELDS, Ledger
from syncer.paths import StatePaths
from syncer.scan import ScanResult, scan
from tests import logs

CLOCK = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)  # the lines below are from May 2026: ~300 days old
SESSION = "7c1e2f3a-0000-4000-8000-00000000002b"


def streamed(mid: str, rid: str, ts: str, outputs: list[int], *, read: int = 14_772) -> list[dict[str, Any]]:
    """One response as Claude Code writes it: one line per content block, output growing."""
    return [
        logs.assistant(mid, rid, ts=ts, session=SESSION, tokens=logs.usage(3, out, 120, read))
        for out in outputs
    ]


RESPONSES = [
    streamed("msg_01A", "req_01A", "2026-05-02T10:00:00.120Z", [1, 4, 273]),
    streamed("msg_01B", "req_01B", "2026-05-02T10:02:30.480Z", [2, 5]),
    streamed("msg_01C", "req_01C", "2026-05-02T10:05:10.009Z", [3, 11, 96, 130]),
]
LINES = [r for response in RESPONSES for r in response]


def content(records: list[dict[str, Any]]) -> bytes:
    return b"".join(logs.line(r) for r in records)


class Device:
    """A state folder and a Claude log folder of their own."""

    def __init__(self, root: Path, cfg: store.Config) -> None:
        self.paths = StatePaths(root / "state")
        store.ensure_home(self.paths)
        self.claude = root / "claude"
        self.home = root / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.cfg = cfg

    def file(self, name: str = SESSION) -> Path:
        path = logs.session_file(self.claude, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def scan(self, now: datetime = CLOCK) -> ScanResult:
        return scan(self.paths, self.cfg, env={"CLAUDE_CONFIG_DIR": str(self.claude)}, home=self.home, now=now)

    def ledger(self) -> Ledger:
        found = store.read_ledger(self.paths)
        assert found is not None
        return found


def counts(ledger: Ledger) -> tuple[object, ...]:
    """Everything a ledger counts (not its generation, which counts the writes)."""
    return ledger.totals, ledger.hours, ledger.sessions


@pytest.fixture
def cfg() -> store.Config:
    return store.new_config("test-device")


@pytest.fixture
def one_pass(tmp_path: Path, cfg: store.Config) -> tuple[object, ...]:
    device = Device(tmp_path / "one-pass", cfg)
    device.file().write_bytes(content(LINES))
    device.scan()
    return counts(device.ledger())


def test_the_one_pass_ledger_counts_each_response_at_its_final_size(one_pass: tuple[object, ...]) -> None:
    totals = one_pass[0]
    assert (totals.output_tokens, totals.cache_read_tokens, totals.messages) == (273 + 5 + 130, 3 * 14_772, 3)  # type: ignore[attr-defined]


def test_a_late_file_of_a_session_already_counted(
    tmp_path: Path, cfg: store.Config, one_pass: tuple[object, ...]
) -> None:
    device = Device(tmp_path, cfg)
    device.file().write_bytes(content(RESPONSES[0] + RESPONSES[2]))
    device.scan()
    device.file("restored-copy").write_bytes(content(RESPONSES[1]))  # same sessionId, dated between
    result = device.scan()
    assert result.events == 1 and result.tokens[1] == 5
    assert counts(device.ledger()) == one_pass


def test_a_response_split_across_scans(tmp_path: Path, cfg: store.Config, one_pass: tuple[object, ...]) -> None:
    device = Device(tmp_path, cfg)
    for cut in range(1, len(LINES) + 1):
        device.file().write_bytes(content(LINES[:cut]))
        device.scan()
    assert counts(device.ledger()) == one_pass


def test_a_file_cut_at_every_byte_of_a_response_and_completed(
    tmp_path: Path, cfg: store.Config, one_pass: tuple[object, ...]
) -> None:
    whole = content(LINES)
    first = len(content(RESPONSES[0]))
    for n, cut in enumerate(range(first, first + len(content(RESPONSES[1])) + 1)):
        device = Device(tmp_path / str(n), cfg)
        device.file().write_bytes(whole[:cut])
        device.scan()
        with open(device.file(), "ab") as f:
            f.write(whole[cut:])
        device.scan()
        assert counts(device.ledger()) == one_pass, f"cut at byte {cut}"
        shutil.rmtree(tmp_path / str(n))


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_files_completed_in_any_order(
    tmp_path: Path, cfg: store.Config, one_pass: tuple[object, ...], order: tuple[int, ...]
) -> None:
    """The session's responses spread over three files (a resume's replay, a subagent, a
    restored copy), each written half, scanned, then completed in any order."""
    device = Device(tmp_path, cfg)
    parts = [content(r) for r in RESPONSES]
    for i, part in enumerate(parts):
        device.file(f"part-{i}").write_bytes(part[: len(part) // 2])
    device.scan()
    for i in order:
        device.file(f"part-{i}").write_bytes(parts[i])
        device.scan()
    assert counts(device.ledger()) == one_pass


def test_an_index_lost_then_rescanned(tmp_path: Path, cfg: store.Config, one_pass: tuple[object, ...]) -> None:
    device = Device(tmp_path, cfg)
    device.file().write_bytes(content(LINES))
    device.scan()
    logs.lose_local_state(device.paths.home)
    assert device.scan().rebuilt
    assert counts(device.ledger()) == one_pass
    # A copy of an old, counted response found after the rebuild is still not counted again.
    device.file("copied-back").write_bytes(content(RESPONSES[1]))
    device.scan()
    assert counts(device.ledger()) == one_pass


def test_a_final_line_without_newline_counts_once(
    tmp_path: Path, cfg: store.Config, one_pass: tuple[object, ...]
) -> None:
    device = Device(tmp_path, cfg)
    whole = content(LINES)
    device.file().write_bytes(whole.rstrip(b"\n"))  # written back by another tool
    result = device.scan()
    assert result.events == 3
    assert counts(device.ledger()) == one_pass
    cp = store.read_state(device.paths, device.ledger().generation).checkpoints[str(device.file())]  # type: ignore[union-attr]
    assert cp.offset == len(whole) - 1  # nothing pending
    assert device.scan().files_read == 0
    with open(device.file(), "ab") as f:  # completed later, and Claude Code appends onto it
        f.write(b"\n" + content(streamed("msg_01D", "req_01D", "2026-05-02T10:09:00.000Z", [7])))
    result = device.scan()
    assert result.events == 1 and result.tokens[1] == 7
    assert device.ledger().totals.messages == 4


def test_a_half_written_final_line_waits(tmp_path: Path, cfg: store.Config, one_pass: tuple[object, ...]) -> None:
    device = Device(tmp_path, cfg)
    whole = content(LINES)
    device.file().write_bytes(whole[:-40])
    assert device.scan().bad_lines == 0
    cp = store.read_state(device.paths, device.ledger().generation).checkpoints[str(device.file())]  # type: ignore[union-attr]
    assert cp.tail == 0 and cp.offset < len(whole) - 40
    device.file().write_bytes(whole)
    device.scan()
    assert counts(device.ledger()) == one_pass


def test_a_clock_far_ahead_then_corrected_never_decreases_totals(
    tmp_path: Path, cfg: store.Config, one_pass: tuple[object, ...]
) -> None:
    """Issue 15 (5): a scan with the clock 90 days ahead, then scans at the right time that
    complete a response and add one dated between two already counted."""
    device = Device(tmp_path, cfg)
    device.file().write_bytes(content(RESPONSES[0] + RESPONSES[2][:2]))
    device.scan(now=CLOCK + timedelta(days=90))
    before = device.ledger().totals
    device.file().write_bytes(content(RESPONSES[0] + RESPONSES[2]))
    device.scan(now=CLOCK)
    device.file("copy").write_bytes(content(RESPONSES[0] + RESPONSES[1]))
    device.scan(now=CLOCK)
    after = device.ledger().totals
    assert all(getattr(after, f) >= getattr(before, f) for f in COUNT_FIELDS)
    assert counts(device.ledger()) == one_pass
