"""Reading what is new in the log files into the ledger (the edge between logs and ledger).

Each log file has a checkpoint: its (device, inode), a fingerprint of its first bytes, and the
offset just past its last complete line. A file whose size and mtime are unchanged is not
opened; a grown one is read from its offset; a truncated, replaced or rewritten one is read
again from the start, which the ledger's max-wins rule makes harmless (DESIGN §2, rule 5).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from syncer import store
from syncer.events import BadLine
from syncer.logfiles import LogFile, find_logs
from syncer.ledger import Batch, Tally
from syncer.paths import StatePaths
from syncer.privacy import branch_name, project_name
from syncer.sources import SOURCES
from syncer.store import Checkpoint, Config, LocalState

FINGERPRINT_BYTES = 4096
READ_CHUNK = 64 * 1024 * 1024
INDEX_RETENTION_MS = 60 * 24 * 3600 * 1000  # logs are deleted after 30 days by default
USAGE_MARK = b'"usage"'
PARALLEL_BYTES = 64 * 1024 * 1024  # below this, starting worker processes costs more than it saves
MAX_WORKERS = 4

Progress = Callable[[int, int], None]


@dataclass
class ScanResult:
    roots: list[str] = field(default_factory=list)
    files: int = 0
    files_read: int = 0
    bytes_read: int = 0
    lines: int = 0
    events: int = 0
    bad_lines: int = 0
    tokens: list[int] = field(default_factory=lambda: [0] * 6)
    warnings: list[str] = field(default_factory=list)
    ledger_changed: bool = False
    rebuilt: bool = False


def _unchanged(log: LogFile, cp: Checkpoint | None) -> bool:
    return (
        cp is not None
        and (cp.dev, cp.ino, cp.size, cp.mtime_ns) == (log.dev, log.ino, log.size, log.mtime_ns)
        and cp.offset <= log.size
    )


def scan(
    paths: StatePaths,
    config: Config,
    *,
    env: Mapping[str, str],
    home: Path,
    now: datetime,
    progress: Progress | None = None,
) -> ScanResult:
    """Ingest new usage into the ledger. The caller holds the writer lock."""
    result = ScanResult()
    result.roots, logs = find_logs(env, home, result.warnings)
    result.files = len(logs)
    generation = store.ledger_generation(paths)
    state = store.read_state(paths, generation) if generation >= 0 else None
    checkpoints = state.checkpoints if state else {}
    by_inode = {(cp.dev, cp.ino): path for path, cp in checkpoints.items()}

    pending: list[tuple[LogFile, Checkpoint | None]] = []
    kept: dict[str, Checkpoint] = {}
    for log in logs:
        key = str(log.path)
        cp = checkpoints.get(key)
        if cp is None or (cp.dev, cp.ino) != (log.dev, log.ino):
            moved = by_inode.get((log.dev, log.ino))  # renamed or moved: same file, new path
            cp = checkpoints.get(moved) if moved else None
        if _unchanged(log, cp):
            assert cp is not None
            kept[key] = cp
        else:
            pending.append((log, cp))

    if state is not None and not pending and set(kept) == set(checkpoints):
        return result  # nothing new: the ledger is not even opened

    ledger = store.read_ledger(paths)
    tally = Tally.from_ledger(ledger) if ledger else Tally()
    index = store.read_index(paths, generation) if state is not None else None
    if index is not None:
        tally.load_index(index.entries, index.pruned_before)
    elif ledger is not None and ledger.sessions:
        tally.start_rebuild()
        result.rebuilt = True
        kept, pending = {}, [(log, None) for log in logs]  # the checkpoints lean on the lost index
    state = state or LocalState(generation=ledger.generation if ledger else 0)

    total = sum(log.size - resume_at(log, cp) for log, cp in pending)
    jobs = [ReadJob(log, cp, config.privacy, config.hash_key) for log, cp in pending]
    workers = min(MAX_WORKERS, os.cpu_count() or 1) if total >= PARALLEL_BYTES else 1
    for outcome in read_all(jobs, workers=workers):
        if outcome.warning:
            result.warnings.append(outcome.warning)
        if outcome.batch is not None:
            tally.apply_batch(outcome.batch)
        if outcome.checkpoint is not None:
            kept[outcome.path] = outcome.checkpoint
            result.files_read += 1
        result.bytes_read += outcome.bytes_read
        result.bad_lines += outcome.bad_lines
        if progress is not None:
            progress(result.bytes_read, total)

    tally.prune(int(now.timestamp() * 1000) - INDEX_RETENTION_MS)
    state.checkpoints = kept
    state.bad_lines += result.bad_lines
    state.last_scan = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    result.events = tally.stats.new_events
    result.tokens = tally.stats.tokens
    result.lines = tally.stats.lines
    result.ledger_changed = store.save(paths, tally, state, config=config, old=ledger) is not None
    return result


def resume_at(log: LogFile, cp: Checkpoint | None) -> int:
    """Where reading `log` will likely start (for the progress bar; `_read_file` decides)."""
    if cp is not None and (cp.dev, cp.ino) == (log.dev, log.ino) and cp.offset <= log.size:
        return cp.offset
    return 0


def _fingerprint(head: bytes) -> str:
    return hashlib.blake2b(head, digest_size=16).hexdigest()


@dataclass(frozen=True)
class ReadJob:
    """One file to read: everything a worker process needs, and nothing it must not touch."""

    log: LogFile
    checkpoint: Checkpoint | None
    privacy: str
    hash_key: str


@dataclass
class ReadOutcome:
    path: str
    batch: Batch | None = None
    checkpoint: Checkpoint | None = None
    bytes_read: int = 0
    bad_lines: int = 0
    warning: str | None = None


def read_log(job: ReadJob) -> ReadOutcome:
    """Read what is new in one log file into a Batch. Touches nothing but that file, so cold
    scans can run it in worker processes."""
    log, cp = job.log, job.checkpoint
    outcome = ReadOutcome(str(log.path))
    try:
        handle = open(log.path, "rb")  # noqa: SIM115 - closed below, and fstat needs the handle
    except OSError as exc:
        outcome.warning = f"skipped {log.path}: {exc.strerror}"
        return outcome
    batch = outcome.batch = Batch()
    with handle:
        info = os.fstat(handle.fileno())
        head = handle.read(FINGERPRINT_BYTES)
        offset = 0
        if (
            cp is not None
            and (cp.dev, cp.ino) == (info.st_dev, info.st_ino)
            and cp.offset <= info.st_size
            and len(head) >= cp.fingerprint_len
            and _fingerprint(head[: cp.fingerprint_len]) == cp.fingerprint
        ):
            offset = cp.offset
        handle.seek(offset)
        source = SOURCES[log.source]
        names = _Names(source.fallback_project(log.path, log.root), job.privacy, job.hash_key)
        carry = b""  # a line cut by the chunk boundary, or half-written (rule 4: read it later)
        while chunk := handle.read(READ_CHUNK):
            buffer = carry + chunk if carry else chunk
            end = buffer.rfind(b"\n") + 1
            if end:
                outcome.bad_lines += _ingest(buffer[:end], source, batch, names, log.path.stem)
            offset += end
            carry = buffer[end:]
            outcome.bytes_read += len(chunk)
    outcome.checkpoint = Checkpoint(
        source=log.source,
        dev=info.st_dev,
        ino=info.st_ino,
        size=info.st_size,
        mtime_ns=info.st_mtime_ns,
        offset=offset,
        fingerprint=_fingerprint(head),
        fingerprint_len=len(head),
    )
    return outcome


class _Names:
    """Project and branch names as the privacy setting records them, worked out once each."""

    def __init__(self, fallback: str, privacy: str, key: str) -> None:
        self.fallback, self.privacy, self.key = fallback, privacy, key
        self.known: dict[tuple[str, str], tuple[str, str]] = {}

    def __call__(self, cwd: str, branch: str) -> tuple[str, str]:
        named = self.known.get((cwd, branch))
        if named is None:
            named = self.known[(cwd, branch)] = (
                project_name(cwd or self.fallback, privacy=self.privacy, key=self.key),
                branch_name(branch, privacy=self.privacy),
            )
        return named


def _ingest(buffer: bytes, source: ModuleType, batch: Batch, names: _Names, fallback_session: str) -> int:
    """Parse only the lines that mention usage: most bytes are tool results, never parsed.
    Returns the number of bad lines."""
    parse_line = source.parse_line
    name = source.NAME
    find = buffer.find
    rfind = buffer.rfind
    bad = 0
    position = 0
    while True:
        mark = find(USAGE_MARK, position)
        if mark < 0:
            return bad
        start = rfind(b"\n", 0, mark) + 1
        end = find(b"\n", mark)
        position = end + 1
        try:
            event = parse_line(buffer[start:end])
        except BadLine:
            bad += 1
            continue
        if event is None:
            continue
        project, branch = names(event.cwd, event.branch)
        if not event.session:
            event.session = fallback_session
        batch.add(event, source=name, project=project, branch=branch)


def read_all(jobs: list[ReadJob], *, workers: int) -> Iterator[ReadOutcome]:
    """Read every job's file, in worker processes when there is enough to read to pay for them."""
    if workers <= 1 or len(jobs) < 2:
        yield from map(read_log, jobs)
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        # Largest first, so one big file does not finish alone at the end.
        yield from pool.map(read_log, sorted(jobs, key=lambda j: -j.log.size), chunksize=1)
