"""`ccsync import FILE [--dry-run]`: take over the records another tool kept (see `syncer.imports`
for the shapes and the rule that never counts a day twice)."""

from __future__ import annotations

import re
import sqlite3
from datetime import date, datetime, tzinfo
from pathlib import Path

from syncer import entries, imports, store
from syncer.commands.context import DEFAULT_WAIT, Context, writer_lock
from syncer.commands.entries import own_ledger
from syncer.errors import DiskError

MAX_FILE = 512 * 2**20
_SQLITE = b"SQLite format 3\x00"


def import_file(
    ctx: Context, file: Path, *, dry_run: bool, until: date | None, zone: tzinfo, offline: bool
) -> imports.Plan:
    """What importing `file` adds and skips, and why; recorded unless `dry_run`."""
    from syncer.commands.total import gather  # noqa: PLC0415  (imports made on other devices)

    parsed = read(file, until=until, zone=zone)
    everyone = gather(ctx, offline=offline).ledgers
    with writer_lock(ctx, wait=DEFAULT_WAIT):
        own = own_ledger(ctx)
        plan = imports.plan(parsed, file=file.name, own=own, everyone=everyone, zone=zone, now=ctx.now)
        taken = [d.entry for d in plan.taken if d.entry is not None]
        if taken and not dry_run:
            store.record(ctx.paths, entries.add(own, taken))
    return plan


def read(file: Path, *, until: date | None, zone: tzinfo) -> imports.Parsed:
    try:
        size = file.stat().st_size
        if size > MAX_FILE:
            raise imports.BadImport(f"{file} is {size:,} bytes; records ccsync imports are far smaller")
        with file.open("rb") as stream:
            head = stream.read(len(_SQLITE))
        if head == _SQLITE:
            return _read_database(file)
        data = file.read_bytes()
        mtime = datetime.fromtimestamp(file.stat().st_mtime, zone).date()
    except FileNotFoundError:
        raise imports.BadImport(f"{file} does not exist") from None
    except IsADirectoryError:
        raise imports.BadImport(f"{file} is a folder; give one of its files") from None
    except OSError as exc:
        raise DiskError(f"cannot read {file}: {exc.strerror}") from None
    # An undated running total is dated by --until, else by its own last_updated, else the file's time.
    dated = until or imports.tracker_date(data) or mtime
    return imports.parse_json(data, name=file.name, dated=dated)


def _read_database(file: Path) -> imports.Parsed:
    try:
        db = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise imports.BadImport(f"{file.name} cannot be opened as SQLite ({exc})") from None
    try:
        db.row_factory = sqlite3.Row
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "daily_usage" not in tables:
            raise imports.BadImport(
                f"{file.name} is a SQLite database without a daily_usage table: not one ccsync imports"
            )
        rows = {
            table: [_snake(dict(row)) for row in db.execute(f"SELECT * FROM {table}")]  # noqa: S608 (fixed names)
            if table in tables else []
            for table in ("daily_usage", "model_breakdown", "session_usage")
        }
    except sqlite3.DatabaseError as exc:
        raise imports.BadImport(
            f"{file.name} is not a readable SQLite database ({exc}); is the file complete?"
        ) from None
    finally:
        db.close()
    return imports.parse_ccusage_db(
        rows["daily_usage"], rows["model_breakdown"], rows["session_usage"], name=file.name
    )


def _snake(row: dict[str, object]) -> dict[str, object]:
    """Column names as snake case: `inputTokens` and `input_tokens` alike."""
    return {re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).lower(): value for key, value in row.items()}
