"""Tests for syncer.runlog: the JSON-lines run log, its rotation, torn lines, and `health`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from syncer.errors import DiskError
from syncer.runlog import (
    RunRecord,
    append_run,
    encode_record,
    health,
    last_scheduled,
    parse_record,
    read_runs,
)

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def run(hours_ago: float, code: int = 0, *, tokens: int = 1000, pushed: bool = True,
        error: str | None = None, scheduled: bool | None = None) -> RunRecord:
    return RunRecord(NOW - timedelta(hours=hours_ago), code, tokens, pushed, error, scheduled)


def test_one_json_line_per_run_with_the_agreed_fields(tmp_path: Path) -> None:
    log = tmp_path / "runs.log"
    append_run(log, RunRecord(datetime(2025, 3, 9, 23, 59, 1, 500, tzinfo=UTC), 0, 12345, True, None))
    append_run(log, RunRecord(datetime(2025, 3, 10, 1, 0, tzinfo=timezone(timedelta(hours=2))), 75, 0,
                              False, "remote unreachable", scheduled=True))
    lines = log.read_bytes().split(b"\n")
    assert lines[-1] == b""
    assert [json.loads(line) for line in lines[:-1]] == [
        {"time": "2025-03-09T23:59:01Z", "exit_code": 0, "tokens_added": 12345, "pushed": True, "error": None,
         "scheduled": None},
        {"time": "2025-03-09T23:00:00Z", "exit_code": 75, "tokens_added": 0, "pushed": False,
         "error": "remote unreachable", "scheduled": True},
    ]


def test_scheduled_flag_round_trips_and_old_lines_read_as_unknown(tmp_path: Path) -> None:
    log = tmp_path / "runs.log"
    old = b'{"error":null,"exit_code":0,"pushed":true,"time":"2025-03-09T00:00:00Z","tokens_added":1}\n'
    log.write_bytes(old)
    append_run(log, run(2, scheduled=True))
    append_run(log, run(1, scheduled=False))
    assert [r.scheduled for r in read_runs(log)] == [None, True, False]
    assert parse_record(old.replace(b"}", b',"scheduled":"yes"}')) is None


def test_read_runs_round_trips(tmp_path: Path) -> None:
    log = tmp_path / "runs.log"
    records = [run(30, tokens=5), run(20, 75, pushed=False, error="lock busy"), run(1, tokens=0)]
    for r in records:
        append_run(log, r)
    assert read_runs(log) == records


def test_missing_log_reads_as_no_runs(tmp_path: Path) -> None:
    assert read_runs(tmp_path / "runs.log") == []


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError):
        encode_record(RunRecord(datetime(2025, 1, 1), 0, 0, False))


def test_torn_last_line_is_skipped_and_the_next_run_is_not_swallowed(tmp_path: Path) -> None:
    log = tmp_path / "runs.log"
    first = run(5)
    append_run(log, first)
    torn = encode_record(run(4))[:25]  # a run killed mid-write
    with log.open("ab") as f:
        f.write(torn)
    assert read_runs(log) == [first]
    later = run(1, 65, error="ledger does not parse")
    append_run(log, later)
    assert read_runs(log) == [first, later]


_WORKER = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from syncer.runlog import RunRecord, append_run
log, worker, count, max_bytes = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
for i in range(count):
    append_run(log, RunRecord(datetime.now(UTC), 0, worker * 100000 + i, False, None, True), max_bytes=max_bytes)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="timing of POSIX process start-up")
def test_concurrent_runs_rotate_without_losing_the_kept_generation(tmp_path: Path) -> None:
    # A manual run during the nightly one: both may find the log full at once. Rotating twice
    # (or moving a file the other just moved) would leave `.1` short, or fail with a DiskError.
    log = tmp_path / "runs.log"
    line_size = len(encode_record(RunRecord(NOW, 0, 100000, False, None, True)))
    max_bytes = line_size * 4
    workers = [
        subprocess.Popen([sys.executable, "-c", _WORKER, str(log), str(w), "300", str(max_bytes)],
                         stderr=subprocess.PIPE)
        for w in range(1, 7)
    ]
    errors = [p.communicate(timeout=120)[1] for p in workers]
    assert [p.returncode for p in workers] == [0] * len(workers), errors
    kept = (tmp_path / "runs.log.1").read_bytes()
    current = log.read_bytes()
    # Every rotation moved a file that was full: the kept generation is 3 or 4 whole records.
    assert len(kept) > max_bytes - line_size and len(current) <= max_bytes
    for part in (kept, current):
        lines = part.split(b"\n")
        assert lines[-1] == b""
        assert all(parse_record(line) is not None for line in lines[:-1])
    # Each worker's records are in the order it wrote them.
    runs = read_runs(log)
    for w in range(1, 7):
        mine = [r.tokens_added for r in runs if r.tokens_added // 100000 == w]
        assert mine == sorted(mine)


@pytest.mark.parametrize(
    "line",
    [
        b"",
        b"not json",
        b"[1, 2]",
        b'{"time": "2025-03-10T00:00:00Z"}',
        b'{"time": "yesterday", "exit_code": 0, "tokens_added": 1, "pushed": true, "error": null}',
        b'{"time": "2025-03-10T00:00:00", "exit_code": 0, "tokens_added": 1, "pushed": true, "error": null}',
        b'{"time": "2025-03-10T00:00:00Z", "exit_code": true, "tokens_added": 1, "pushed": true, "error": null}',
        b'{"time": "2025-03-10T00:00:00Z", "exit_code": 0, "tokens_added": 1, "pushed": 1, "error": null}',
        b'{"time": "2025-03-10T00:00:00Z", "exit_code": 0, "tokens_added": 1, "pushed": true, "error": 3}',
        b"\xff\xfe{garbage",
    ],
)
def test_parse_record_rejects_malformed_lines(line: bytes) -> None:
    assert parse_record(line) is None


def test_bad_lines_in_the_middle_are_skipped(tmp_path: Path) -> None:
    log = tmp_path / "runs.log"
    a, b = run(3), run(2)
    log.write_bytes(encode_record(a) + b"{oops\n\xff\n" + encode_record(b))
    assert read_runs(log) == [a, b]


def test_rotation_keeps_one_previous_generation(tmp_path: Path) -> None:
    log = tmp_path / "runs.log"
    line_size = len(encode_record(run(0)))
    max_bytes = line_size * 3
    records = [run(100 - i, tokens=i) for i in range(8)]
    for r in records:
        append_run(log, r, max_bytes=max_bytes)
        assert log.stat().st_size <= max_bytes
    old = tmp_path / "runs.log.1"
    assert old.exists()
    assert old.stat().st_size <= max_bytes
    assert not (tmp_path / "runs.log.2").exists()
    # Reading spans both generations, oldest first, and ends with the newest run.
    got = read_runs(log)
    assert got == records[-len(got):]
    assert len(got) >= 4


def test_a_line_larger_than_max_bytes_is_still_written(tmp_path: Path) -> None:
    log = tmp_path / "runs.log"
    big = run(1, 1, error="x" * 500)
    append_run(log, big, max_bytes=100)
    append_run(log, run(0), max_bytes=100)
    assert read_runs(log)[-2:] == [big, run(0)]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_log_is_private(tmp_path: Path) -> None:
    log = tmp_path / "runs.log"
    append_run(log, run(0))
    assert log.stat().st_mode & 0o777 == 0o600


def test_unwritable_folder_is_a_disk_error(tmp_path: Path) -> None:
    with pytest.raises(DiskError, match="run log"):
        append_run(tmp_path / "missing-folder" / "runs.log", run(0))


# --------------------------------------------------------------------------------------------
# health


def test_healthy_when_a_run_succeeded_within_48_hours() -> None:
    assert health([run(47.9)], NOW) is None
    assert health([run(100, 75), run(47), run(1, 75)], NOW) is None


def test_no_runs_at_all_points_at_schedule_install() -> None:
    warning = health([], NOW)
    assert warning is not None and "ccsync schedule install" in warning


def test_nothing_ran_since_an_old_success_points_at_schedule_status() -> None:
    warning = health([run(60), run(49)], NOW)
    assert warning == (
        "no ccsync run in the last 48 hours (the last one, at 2025-03-08T11:00:00Z, succeeded); "
        "check the nightly job with: ccsync schedule status"
    )


def test_failing_runs_report_the_last_success_and_the_latest_error() -> None:
    warning = health([run(72), run(30, 75, error="remote unreachable"), run(6, 74, error="disk full")], NOW)
    assert warning == (
        "no successful ccsync run in the last 48 hours (last success 2025-03-07T12:00:00Z; the latest "
        "run, at 2025-03-10T06:00:00Z, exited 74: disk full); run it now to see the error: ccsync"
    )


def test_manual_runs_do_not_hide_a_broken_nightly_job() -> None:
    nightly_failing = [run(70, scheduled=True), run(30, 75, error="remote unreachable", scheduled=True)]
    manual = [run(5, scheduled=False), run(1, scheduled=False)]
    warning = health(nightly_failing + manual, NOW)
    assert warning == (
        "no successful ccsync run in the last 48 hours (last success 2025-03-07T14:00:00Z; the latest "
        "run, at 2025-03-09T06:00:00Z, exited 75: remote unreachable); run it now to see the error: ccsync"
    )
    assert health([*manual, run(20, scheduled=True)], NOW) is None
    # Records that predate the flag still count as the nightly job's.
    assert health([*manual, run(20)], NOW) is None


def test_only_manual_runs_point_at_schedule_status() -> None:
    warning = health([run(1, scheduled=False)], NOW)
    assert warning == (
        "only manual ccsync runs are recorded, none by the nightly job; check it with: ccsync schedule status"
    )


def test_last_scheduled_skips_manual_runs() -> None:
    nightly = run(20, scheduled=True)
    assert last_scheduled([run(30), nightly, run(1, scheduled=False)]) == nightly
    assert last_scheduled([run(1, scheduled=False)]) is None
    assert last_scheduled([]) is None


def test_never_succeeded() -> None:
    warning = health([run(2, 78)], NOW)
    assert warning is not None and "no run has succeeded" in warning and "exited 78)" in warning


def test_health_reads_records_from_disk_across_rotation(tmp_path: Path) -> None:
    # Right after a rotation the newest file may hold only a failure; the success before it
    # is in runs.log.1 and must still count.
    log = tmp_path / "runs.log"
    line_size = len(encode_record(run(0)))
    append_run(log, run(10), max_bytes=line_size)
    append_run(log, run(1, 75, error="remote unreachable"), max_bytes=line_size)
    assert (tmp_path / "runs.log.1").exists()
    assert health(read_runs(log), NOW) is None


def test_window_boundary_is_inclusive() -> None:
    assert health([run(48)], NOW) is None
    assert health([run(48.001)], NOW) is not None


def test_append_is_one_write_per_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Concurrent appenders (a manual run during the nightly one) must interleave whole lines.
    writes: list[bytes] = []
    real_write = os.write

    def spy(fd: int, data: bytes) -> int:
        writes.append(bytes(data))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", spy)
    log = tmp_path / "runs.log"
    append_run(log, run(1))
    append_run(log, run(0))
    assert writes == [encode_record(run(1)), encode_record(run(0))]
