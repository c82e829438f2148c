"""The unattended-run log: one JSON line per `ccsync` run, so `ccsync status` can tell a user
that the nightly job has quietly stopped working.

It is a log, not data of record: reading skips what it cannot parse (a run killed mid-write
leaves a torn last line), and writing keeps it small by rotating to `<path>.1` past a size.
The pure parts (`encode_record`, `parse_record`, `health`) take the time as a parameter.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import orjson

from syncer.errors import DiskError

# Two missed nights: one can be a laptop left closed, two means the job is not running.
HEALTH_WINDOW = timedelta(hours=48)
DEFAULT_MAX_BYTES = 256_000


class RunRecord(NamedTuple):
    time: datetime  # timezone-aware; stored in UTC
    exit_code: int
    tokens_added: int
    pushed: bool
    error: str | None = None
    # Started off a terminal (by the scheduler): only those show the nightly job works. None:
    # not known (lines written before the field existed), counted as scheduled.
    scheduled: bool | None = None

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def _iso_utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("run times must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def encode_record(record: RunRecord) -> bytes:
    """One line, newline included, keys sorted."""
    doc = {
        "time": _iso_utc(record.time),
        "exit_code": record.exit_code,
        "tokens_added": record.tokens_added,
        "pushed": record.pushed,
        "error": record.error,
        "scheduled": record.scheduled,
    }
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS) + b"\n"


def parse_record(line: bytes) -> RunRecord | None:
    """The record on `line`, or None when it is torn, foreign or malformed."""
    try:
        doc = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(doc, dict):
        return None
    when, code, tokens = doc.get("time"), doc.get("exit_code"), doc.get("tokens_added")
    pushed, error, scheduled = doc.get("pushed"), doc.get("error"), doc.get("scheduled")
    # bool is an int subclass: exclude it where an integer is meant.
    if not (
        isinstance(when, str)
        and isinstance(code, int) and not isinstance(code, bool)
        and isinstance(tokens, int) and not isinstance(tokens, bool)
        and isinstance(pushed, bool)
        and (error is None or isinstance(error, str))
        and (scheduled is None or isinstance(scheduled, bool))
    ):
        return None
    try:
        moment = datetime.fromisoformat(when)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return RunRecord(moment.astimezone(UTC), code, tokens, pushed, error, scheduled)


@contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    """Hold the run log's own lock. Not the ledger's writer lock: a run that finds that one
    held must still log its exit 75. The OS drops the lock when its holder dies, so a killed
    run never wedges the log."""
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if sys.platform == "win32":
            import msvcrt  # noqa: PLC0415 - each OS has only its own locking module
            msvcrt.locking(fd, msvcrt.LK_LOCK, 1)  # retries for 10 s, then OSError
        else:
            import fcntl  # noqa: PLC0415 - each OS has only its own locking module
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def append_run(path: Path, record: RunRecord, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """Add one line; first move the log to `<path>.1` (replacing it) if the line would pass
    `max_bytes`. A torn last line left by a killed run is closed off so it cannot swallow ours.

    All of it under `<path>.lock`: two runs finding the log full at once would otherwise both
    rotate, the second moving the first's fresh file over the generation just kept.
    """
    line = encode_record(record)
    try:
        with _exclusive(path.with_name(path.name + ".lock")):
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                size = 0
            if size and size + len(line) > max_bytes:
                os.replace(path, path.with_name(path.name + ".1"))
            flags = os.O_RDWR | os.O_CREAT | os.O_APPEND | getattr(os, "O_BINARY", 0)
            fd = os.open(path, flags, 0o600)
            try:
                end = os.lseek(fd, 0, os.SEEK_END)
                if end:
                    os.lseek(fd, end - 1, os.SEEK_SET)
                    if os.read(fd, 1) != b"\n":
                        line = b"\n" + line
                # One write of the whole line (O_APPEND puts it at the end whatever the offset).
                os.write(fd, line)
            finally:
                os.close(fd)
    except OSError as exc:
        raise DiskError(f"could not write the run log {path}: {exc.strerror or exc}") from exc


def _read_lines(path: Path) -> Iterable[bytes]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise DiskError(f"could not read the run log {path}: {exc.strerror or exc}") from exc
    return data.split(b"\n")


def read_runs(path: Path) -> list[RunRecord]:
    """Every readable record, oldest first, from `<path>.1` then `path`; bad lines skipped."""
    runs: list[RunRecord] = []
    for part in (path.with_name(path.name + ".1"), path):
        for line in _read_lines(part):
            if line.strip():
                record = parse_record(line)
                if record is not None:
                    runs.append(record)
    return runs


def last_scheduled(runs: Iterable[RunRecord]) -> RunRecord | None:
    """The latest run the scheduler started (or not known to be manual): what `status` shows."""
    scheduled = [r for r in runs if r.scheduled is not False]
    return max(scheduled, key=lambda r: r.time) if scheduled else None


def health(runs: Iterable[RunRecord], now: datetime) -> str | None:
    """A warning when no scheduled run succeeded in the last 48 hours before `now`, else None.

    Runs started on a terminal do not count: a manual run every day would otherwise hide a
    nightly job that stopped working.
    """
    everything = list(runs)
    runs = [r for r in everything if r.scheduled is not False]
    since = now - HEALTH_WINDOW
    if any(r.ok and r.time >= since for r in runs):
        return None
    if not runs:
        if everything:
            return (
                "only manual ccsync runs are recorded, none by the nightly job; "
                "check it with: ccsync schedule status"
            )
        return (
            "no ccsync run is recorded; set up the nightly run with: ccsync schedule install"
        )
    last = max(runs, key=lambda r: r.time)
    if last.ok:
        # Nothing ran since a success: the job itself is missing or not firing.
        return (
            f"no ccsync run in the last 48 hours (the last one, at {_iso_utc(last.time)}, "
            "succeeded); check the nightly job with: ccsync schedule status"
        )
    successes = [r.time for r in runs if r.ok]
    when = f"last success {_iso_utc(max(successes))}" if successes else "no run has succeeded"
    said = f"exited {last.exit_code}" + (f": {last.error}" if last.error else "")
    return (
        f"no successful ccsync run in the last 48 hours ({when}; the latest run, at "
        f"{_iso_utc(last.time)}, {said}); run it now to see the error: ccsync"
    )
