"""Reading what is new in the log files into the ledger (the edge between logs and ledger).

Each log file has a checkpoint: its (device, inode), a fingerprint of its first bytes, and the
offset just past its last complete line. A file whose size and mtime are unchanged is not
opened; a grown one is read from its offset; a truncated, replaced or rewritten one is read
again from the start, which the ledger's max-wins rule makes harmless (DESIGN §2, rule 5).
"""

from __future__ import annotations

import gc
import hashlib
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from syncer import store
from syncer.checkpoints import Checkpoint, LocalState
from syncer.events import Event
from syncer.keystore import KeyStore
from syncer.ledger import MAX_TEXT, Ledger, fit
from syncer.logfiles import LogFile, find_logs, resume_at, unchanged
from syncer.paths import StatePaths
from syncer.pricing import long_context_threshold
from syncer.privacy import branch_name, hidden_names, project_name
from syncer.sources import SOURCES
from syncer.sources.adapter import Emit, LogParser
from syncer.store import Config
from syncer.tally import Batch, Tally

if TYPE_CHECKING:
    from concurrent.futures import Future

FINGERPRINT_BYTES = 4096
READ_CHUNK = 64 * 1024 * 1024
# Below this, starting a worker process costs more than it saves (measured on 2 cores: even
# at 16 MB, at 32 MB the pair is 20% faster, at 64 MB 20-30%).
PARALLEL_BYTES = 32 * 1024 * 1024
MAX_WORKERS = 4  # processes reading at once, this one included

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
    with _collector_paused():
        return _scan(paths, config, env=env, home=home, now=now, progress=progress)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector. A scan builds (and loads, with the dedup index)
    hundreds of thousands of small lists, tuples and strings, none of them in a cycle; with
    the collector on, each batch of new objects sets off a walk over all of them, which costs
    a tenth of a cold scan and a quarter of loading the index."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _scan(
    paths: StatePaths,
    config: Config,
    *,
    env: Mapping[str, str],
    home: Path,
    now: datetime,
    progress: Progress | None,
) -> ScanResult:
    result = ScanResult()
    result.roots, logs = find_logs(env, home, result.warnings, strict=True)
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
        if unchanged(log, cp):
            assert cp is not None
            kept[key] = cp
        else:
            pending.append((log, cp))

    if state is not None and not pending and set(kept) == set(checkpoints):
        return result  # nothing new: the ledger is not even opened

    ledger = store.read_ledger(paths)
    threshold = long_context_threshold()
    tally = Tally.from_ledger(ledger, threshold) if ledger else Tally(threshold)
    keys = store.open_keys(paths, generation)
    found = keys is not None
    if keys is None:
        keys = store.new_keys(paths, generation)
    try:
        return _read_and_save(
            paths, config, result, logs, pending, kept, state, ledger, tally, keys, found, now, progress
        )
    finally:
        keys.close()


def _read_and_save(
    paths: StatePaths, config: Config, result: ScanResult, logs: list[LogFile],
    pending: list[tuple[LogFile, Checkpoint | None]], kept: dict[str, Checkpoint], state: LocalState | None,
    ledger: Ledger | None, tally: Tally, keys: KeyStore, found: bool, now: datetime, progress: Progress | None,
) -> ScanResult:
    generation = ledger.generation if ledger else 0
    if found:
        tally.attach(keys.fetch, keys.covered_before)
    else:
        legacy = store.read_index(paths, generation) if state is not None else None
        if legacy is not None:  # written by 0.1: moved into the new index at this save
            tally.load_index(legacy.entries, legacy.covered_before)
        elif ledger is not None and ledger.sessions:
            tally.start_rebuild()
            result.rebuilt = True
            kept, pending = {}, [(log, None) for log in logs]  # the checkpoints lean on the lost index
    state = state or LocalState(generation=generation)

    total = sum(log.size - resume_at(log, cp) for log, cp in pending)
    jobs = [ReadJob(log, cp, config.privacy, config.hash_key) for log, cp in pending]
    workers = min(MAX_WORKERS, _usable_cpus()) if total >= PARALLEL_BYTES else 1
    named: list[str] = []
    hidden: dict[str, str] = {}
    for outcome in read_all(jobs, workers=workers):
        hidden.update(outcome.hidden)
        if outcome.warning:
            result.warnings.append(outcome.warning)
        if outcome.batch is not None:
            tally.apply_batch(outcome.batch)
        if outcome.checkpoint is not None:
            kept[outcome.path] = outcome.checkpoint
            result.files_read += 1
        result.bytes_read += outcome.bytes_read
        result.bad_lines += outcome.bad_lines
        for line, why in outcome.bad:
            if len(named) < BAD_LINES_NAMED:
                named.append(f"{outcome.path}:{line}: skipped a bad line ({why})")
        if progress is not None:
            progress(result.bytes_read, total)

    result.warnings += named
    refused = tally.stats.refused
    if refused:
        result.warnings.append(
            f"{len(refused)} responses not counted: they would take a total past 2**53 tokens "
            f"(a corrupt log?), first {', '.join(refused[:BAD_LINES_NAMED])}"
        )
    if result.bad_lines > len(named):
        result.warnings.append(f"{result.bad_lines - len(named)} more bad lines skipped")
    state.checkpoints = kept
    state.bad_lines += result.bad_lines
    state.last_scan = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    result.events = tally.stats.new_events
    result.tokens = tally.stats.tokens
    result.lines = tally.stats.lines
    result.ledger_changed = store.save(paths, tally, state, keys, config=config, old=ledger) is not None
    store.remember_names(paths, hidden)
    return result


def _usable_cpus() -> int:
    """CPUs this process may run on (a container or `taskset` may allow fewer than exist)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # not on macOS or Windows
        return os.cpu_count() or 1


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
    # The first few bad lines: (line number, why), for warnings that say where to look.
    bad: list[tuple[int, str]] = field(default_factory=list)
    warning: str | None = None
    hidden: dict[str, str] = field(default_factory=dict)  # privacy hashed: hash -> the folder name it hides


BAD_LINES_NAMED = 5  # per scan, bad lines named one by one in warnings; the rest are counted


def read_log(job: ReadJob) -> ReadOutcome:
    """Read what is new in one log file into a Batch. Touches nothing but that file, so cold
    scans can run it in worker processes."""
    log, cp = job.log, job.checkpoint
    outcome = ReadOutcome(str(log.path))
    try:
        fd = os.open(log.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        outcome.warning = f"skipped {log.path}: {exc.strerror}"
        return outcome
    batch = outcome.batch = Batch()
    bad: list[tuple[int, str]] = []  # (byte offset of the line, why)
    # Unbuffered reads of exactly the bytes the file holds: a buffered read(64 MiB) allocates
    # and shrinks a 64 MiB object per file, and costs five times the copy itself.
    try:
        info = os.fstat(fd)
        head = os.read(fd, FINGERPRINT_BYTES)
        offset = 0
        if (
            cp is not None
            and (cp.dev, cp.ino) == (info.st_dev, info.st_ino)
            and cp.offset <= info.st_size
            and len(head) >= cp.fingerprint_len
            and _fingerprint(head[: cp.fingerprint_len]) == cp.fingerprint
        ):
            offset = cp.offset - cp.tail  # a final line read without its newline is read again
        if offset and os.lseek(fd, offset - 1, os.SEEK_SET) >= 0 and os.read(fd, 1) != b"\n":
            offset = 0  # rewritten in place with the same first bytes: not where we stopped
        source = SOURCES[log.source]
        if not source.resumable:
            offset = 0  # read again from the start; its event keys make that harmless
        start = offset
        os.lseek(fd, offset, os.SEEK_SET)
        names = _Names(source.fallback_project(log.path, log.root), job.privacy, job.hash_key)
        parser = source.parser(log.path)
        emit = _Emitter(batch, names, source.name, log.path.stem)
        tail = 0
        if source.resumable:
            position, offset, tail, outcome.bad_lines = _read_lines(fd, offset, info.st_size, parser, emit, bad)
            if bad:
                outcome.bad = _numbered(fd, bad)
        else:
            raw = _read_exactly(fd, info.st_size)
            position = offset = len(raw)
            try:
                data = source.decode(log.path, raw)
            except ValueError as exc:  # a compressed file still being written, or corrupt
                return ReadOutcome(str(log.path), warning=f"skipped {log.path}: {exc}")
            end = data.rfind(b"\n") + 1
            reject = _Rejects(0, bad)
            parser.feed(data, end, emit, reject)
            parser.finish(data[end:], emit, reject)
            outcome.bad_lines = reject.count
            # Line numbers straight from the bytes in hand (decompressed ones have no file offsets).
            outcome.bad = [(data.count(b"\n", 0, at) + 1, why) for at, why in bad]
    except OSError as exc:  # a failing disk or a vanished network share: next run retries
        return ReadOutcome(str(log.path), warning=f"skipped {log.path}: {exc.strerror or exc}")
    finally:
        os.close(fd)
    outcome.bytes_read = position - start
    if job.privacy == "hashed":
        outcome.hidden = hidden_names((cwd or names.fallback for cwd, _ in names.known), key=job.hash_key)
    outcome.checkpoint = Checkpoint(
        source=log.source,
        dev=info.st_dev,
        ino=info.st_ino,
        size=info.st_size,
        mtime_ns=info.st_mtime_ns,
        offset=offset,
        tail=tail,
        fingerprint=_fingerprint(head),
        fingerprint_len=len(head),
    )
    return outcome


def _whole_object(line: bytes) -> bool:
    try:
        return type(orjson.loads(line)) is dict
    except orjson.JSONDecodeError:
        return False


def _numbered(fd: int, bad: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Line numbers for bad lines found by byte offset: the newlines before each, counted by
    reading the file again up to the last of them (only ever done for a file with bad lines)."""
    numbered: list[tuple[int, str]] = []
    line, position = 1, 0
    for at, why in bad:
        while position < at:
            chunk = os.pread(fd, min(at - position, READ_CHUNK), position)
            if not chunk:
                break
            line += chunk.count(b"\n")
            position += len(chunk)
        numbered.append((line, why))
    return numbered


class _Names:
    """Project and branch names as the privacy setting records them, worked out once each."""

    def __init__(self, fallback: str, privacy: str, key: str) -> None:
        self.fallback, self.privacy, self.key = fallback, privacy, key
        self.known: dict[tuple[str, str], tuple[str, str]] = {}

    def __call__(self, cwd: str, branch: str) -> tuple[str, str]:
        named = self.known.get((cwd, branch))
        if named is None:
            named = self.known[(cwd, branch)] = (
                fit(project_name(cwd or self.fallback, privacy=self.privacy, key=self.key)),
                fit(branch_name(branch, privacy=self.privacy)),
            )
        return named


def _read_lines(
    fd: int, offset: int, size: int, parser: LogParser, emit: Emit, bad: list[tuple[int, str]]
) -> tuple[int, int, int, int]:
    """Feed the complete lines from `offset` up to the size fstat saw (what comes later is read
    next run). A line cut by the chunk boundary, or half-written, is carried (rule 4: read it
    once complete). Returns (position read to, offset past what was read, of which a last line
    without its newline, bad lines)."""
    position = offset
    bad_lines = 0
    buffer = b""
    while position < size:
        chunk = os.read(fd, min(size - position, READ_CHUNK))
        if not chunk:
            break  # truncated while we read
        position += len(chunk)
        buffer = buffer + chunk if buffer else chunk
        end = buffer.rfind(b"\n") + 1
        if end:
            reject = _Rejects(offset, bad)
            parser.feed(buffer, end, emit, reject)
            bad_lines += reject.count
            offset += end
            buffer = buffer[end:]
    tail = 0
    if buffer and position == size and _whole_object(buffer):
        # Rule 4: a last line without its newline that parses whole counts now; if more is
        # written onto it later, it is read again, and max-wins makes that harmless.
        reject = _Rejects(offset, bad)
        parser.feed(buffer + b"\n", len(buffer) + 1, emit, reject)
        bad_lines += reject.count
        tail = len(buffer)
        offset += tail
    return position, offset, tail, bad_lines


def _read_exactly(fd: int, size: int) -> bytes:
    parts = []
    while size > 0:
        chunk = os.read(fd, min(size, READ_CHUNK))
        if not chunk:
            break  # truncated while we read
        parts.append(chunk)
        size -= len(chunk)
    return b"".join(parts)


class _Rejects:
    """Counts a parser's bad lines and keeps the first few as (offset in the file, why)."""

    __slots__ = ("base", "count", "found")

    def __init__(self, base: int, found: list[tuple[int, str]]) -> None:
        self.base, self.count, self.found = base, 0, found

    def __call__(self, position: int, why: str) -> None:
        self.count += 1
        if len(self.found) < BAD_LINES_NAMED:
            self.found.append((self.base + position, why))


class _Emitter:
    """Hands a parser's events to the file's batch: names fitted, project and branch named
    once, the file's name as the session of events that carry none."""

    __slots__ = ("add", "fallback_session", "known", "names", "source")

    def __init__(self, batch: Batch, names: _Names, source: str, fallback_session: str) -> None:
        self.add, self.known, self.names, self.source = batch.add, names.known, names, source
        self.fallback_session = fallback_session

    def __call__(self, event: Event) -> None:
        if len(event.model) > MAX_TEXT or len(event.session) > MAX_TEXT:
            event.model, event.session = fit(event.model), fit(event.session)
        named = self.known.get((event.cwd, event.branch)) or self.names(event.cwd, event.branch)
        if not event.session:
            event.session = self.fallback_session
        self.add(event, source=self.source, project=named[0], branch=named[1])
        if event.extra:  # steps of the same request billed apart
            for step in event.extra:
                step.model, step.session = fit(step.model), event.session
                self.add(step, source=self.source, project=named[0], branch=named[1])


def read_all(jobs: list[ReadJob], *, workers: int) -> Iterator[ReadOutcome]:
    """Read every job's file, in worker processes when there is enough to read to pay for them.

    `workers` processes read in all, this one included: worker processes take the largest
    files first, this one the smallest (so it is never long away from handing out more work
    and returning results), until they meet. Outcomes come in any order; the ledger's rules
    make the order irrelevant.

    `scan` has paused the cyclic garbage collector (see `_collector_paused`)."""
    if workers <= 1 or len(jobs) < 2:
        yield from map(read_log, jobs)
        return
    import multiprocessing  # noqa: PLC0415 - only a large scan pays for importing these
    from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    queue = deque(sorted(jobs, key=lambda j: -j.log.size))
    depth = 4 * (workers - 1)  # files handed out ahead, so a worker never waits for this one
    gc.freeze()  # forked workers then share this process's objects without copying pages
    try:
        with ProcessPoolExecutor(
            max_workers=workers - 1, mp_context=context, initializer=_start_worker, initargs=(os.getpid(),)
        ) as pool:
            running: deque[Future[ReadOutcome]] = deque()
            while queue:
                while queue and len(running) < depth:
                    running.append(pool.submit(read_log, queue.popleft()))
                while running and running[0].done():
                    yield running.popleft().result()
                if queue:
                    yield read_log(queue.pop())
            while running:
                yield running.popleft().result()
    finally:
        gc.unfreeze()


def _start_worker(parent: int) -> None:
    """In each worker process: no cyclic collector (see `_collector_paused`), and death with
    the parent. A scan killed with SIGKILL cannot shut its pool down, and its workers would
    otherwise wait on their pipe forever."""
    gc.disable()
    if sys.platform.startswith("linux"):
        import ctypes  # noqa: PLC0415 - only worker processes need it

        pr_set_pdeathsig = 1
        try:
            armed = ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
        if armed:
            if os.getppid() != parent:  # the parent died before the signal was armed
                os._exit(1)
            return
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    """Where there is no parent-death signal: end when this process is handed to another parent."""
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(1)
