"""Where a scan's time goes, in-process: `python -m bench.phases CLAUDE_DIR [--state DIR] [--runs N]`.

Runs `syncer.scan.scan` on CLAUDE_DIR (a folder holding `projects/`) and prints the time spent in
each phase: finding the logs, loading the ledger and the dedup index, reading (worker processes
included), applying batches, pruning, saving. Without `--state` every run is a cold scan into a
fresh temp state folder; with `--state DIR` each run scans into a fresh copy of DIR (so an
appended-scan breakdown can be repeated on the same input). HOME is never read: the scan gets
CLAUDE_CONFIG_DIR only, and the state lives in temp folders.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

started = time.perf_counter()
from syncer import keystore, scan, store, tally  # noqa: E402
from syncer.paths import StatePaths  # noqa: E402

IMPORT_SECONDS = time.perf_counter() - started
timings: dict[str, float] = {}


def _timed(label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            timings[label] = timings.get(label, 0.0) + time.perf_counter() - t

    return wrapper


def _instrument() -> None:
    for name in ("ledger_generation", "read_state", "read_ledger", "open_keys", "read_index", "save"):
        setattr(store, name, _timed(f"store.{name}", getattr(store, name)))  # scan calls store.X
    for name in ("_write_state", "checked_bytes", "_backup"):
        setattr(store, name, _timed(f"  store.{name}", getattr(store, name)))
    for name in ("stage", "settle"):
        setattr(keystore.KeyStore, name, _timed(f"    KeyStore.{name}", getattr(keystore.KeyStore, name)))
    setattr(scan, "find_logs", _timed("find_logs", getattr(scan, "find_logs")))  # noqa: B009, B010
    for name in ("load_index", "apply_batch", "ledger"):
        setattr(tally.Tally, name, _timed(f"Tally.{name}", getattr(tally.Tally, name)))
    original = tally.Tally.from_ledger.__func__  # type: ignore[attr-defined]
    tally.Tally.from_ledger = classmethod(_timed("Tally.from_ledger", original))  # type: ignore[method-assign,assignment]
    read_all = scan.read_all

    def timed_read_all(jobs: list[scan.ReadJob], *, workers: int) -> Any:
        t = time.perf_counter()
        yield from read_all(jobs, workers=workers)
        timings[f"read_all (workers={workers}; applying included)"] = time.perf_counter() - t

    setattr(scan, "read_all", timed_read_all)  # noqa: B010


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.phases", description=__doc__.split("\n\n")[0])
    parser.add_argument("claude_dir", type=Path)
    parser.add_argument("--state", type=Path, help="a state folder to copy before each run (default: cold)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    _instrument()
    print(f"imports of syncer.scan/store/ledger: {IMPORT_SECONDS * 1000:.0f} ms")
    for _ in range(args.runs):
        timings.clear()
        with tempfile.TemporaryDirectory(prefix="ccsync-phases-") as tmp:
            home = Path(tmp) / "state"
            if args.state:
                shutil.copytree(args.state, home, symlinks=True)
                config = store.load_config(StatePaths(home))
            else:
                config = None
            paths = StatePaths(home)
            store.ensure_home(paths)
            config = config or store.new_config("bench-phases")
            t = time.perf_counter()
            result = scan.scan(paths, config, env={"CLAUDE_CONFIG_DIR": str(args.claude_dir)},
                               home=Path(tmp) / "home", now=datetime.now(UTC))
            total = time.perf_counter() - t
        rate = result.bytes_read / total / 1e6 if total else 0.0
        print(f"scan {total * 1000:.0f} ms: {result.bytes_read / 1e6:,.1f} MB from {result.files_read} files "
              f"({rate:,.0f} MB/s), {result.events:,} new events")
        for label, seconds in timings.items():
            print(f"  {label:48s} {seconds * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
