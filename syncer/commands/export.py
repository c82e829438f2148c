"""`ccsync export sqlite|csv` and `ccsync dashboard`: every device's usage, written to files.

The tables and the page are built by pure modules (`syncer.export`, `syncer.dashboard`); this
module gathers the ledgers, reads the bundled assets and writes the files.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from importlib import resources
from pathlib import Path

import orjson

from syncer import dashboard, entries, export, report, store
from syncer.commands.context import Context
from syncer.commands.total import gather as gather_all
from syncer.errors import DiskError, LedgerCorrupt, UsageError
from syncer.goal import Goal, GoalProgress, progress_over
from syncer.ledger import Ledger
from syncer.output.text import Rows, csv_text
from syncer.pricing import load_table


@dataclass
class Usage:
    """The ledgers an export covers, their daily and per-device reports (built once: every
    table and chart starts from them), and the goal when every device is in it."""

    ledgers: list[Ledger]
    daily: report.Report
    devices: report.Report
    goal: Goal | None
    progress: GoalProgress | None
    goal_daily: report.Report  # the daily report the goal counts: `daily`, or one source's
    pricer: report.Pricer
    warnings: list[str] = field(default_factory=list)


def gather(ctx: Context, *, all_devices: bool, zone: tzinfo) -> Usage:
    """This device's ledger, or every device's with the team's goal (a goal is the team's: one
    device's share of it would read as the whole)."""
    pricer = report.Pricer(load_table(ctx.paths.trusted))
    if all_devices:
        gathered = gather_all(ctx, offline=False)
        ledgers, goal, warnings = gathered.ledgers, gathered.goal, gathered.warnings
    else:
        own = store.read_ledger(ctx.paths)
        ledgers, goal, warnings = (entries.counted([own]) if own else []), None, []
    everything = report.Window()
    daily = report.build("daily", ledgers, zone=zone, window=everything, pricer=pricer)
    devices = report.build("device", ledgers, zone=zone, window=everything, pricer=pricer)
    progress, goal_daily = None, daily
    if goal is not None:
        progress, goal_daily = progress_over(goal, ledgers, zone=zone, pricer=pricer,
                                             today=ctx.now.astimezone(zone).date(), daily=daily, devices=devices)
    return Usage(ledgers, daily, devices, goal, progress, goal_daily, pricer, warnings + daily.warnings)


def tables(ctx: Context, usage: Usage, *, zone: tzinfo) -> list[export.Table]:
    return export.build_tables(
        usage.ledgers,
        daily=usage.daily,
        devices=usage.devices,
        goal=usage.goal,
        progress=usage.progress,
        zone=zone,
        pricer=usage.pricer,
        now=ctx.now,
    )


@dataclass
class Written:
    paths: list[Path]
    rows: dict[str, int]  # table -> rows written
    warnings: list[str]


def metadata_path(database: Path) -> Path:
    """Datasette's description of `usage.db` is `usage.metadata.json`, beside it."""
    return database.with_name(database.stem + ".metadata.json")


def export_sqlite(ctx: Context, path: Path, *, all_devices: bool, zone: tzinfo) -> Written:
    """Write (or update in place: rows are upserted by key) one SQLite file and its metadata."""
    usage = gather(ctx, all_devices=all_devices, zone=zone)
    built = tables(ctx, usage, zone=zone)
    try:
        conn = sqlite3.connect(path)
    except sqlite3.Error as exc:
        raise DiskError(f"cannot open {path} as a SQLite database: {exc}") from None
    try:
        write_sqlite(conn, built)
    except sqlite3.DatabaseError as exc:
        raise LedgerCorrupt(
            f"cannot export into {path}: {exc}; it was not changed. Export to a new file instead"
        ) from None
    finally:
        conn.close()
    meta = metadata_path(path)
    document = export.datasette_metadata(built, database=path.stem)
    store.write_atomic(meta, orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    return Written([path, meta], {t.name: len(t.rows) for t in built}, usage.warnings)


def write_sqlite(conn: sqlite3.Connection, tables: Sequence[export.Table]) -> None:
    """Create the tables and indexes if missing, then upsert every row by its primary key, in
    one transaction (the tables' creation included): a file exported every night stays one
    file, and a failed export leaves the previous one as it was."""
    conn.isolation_level = None  # our own BEGIN/COMMIT: Python's would commit each CREATE alone
    conn.execute("BEGIN IMMEDIATE")
    try:
        for table in tables:
            _upsert(conn, table)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _upsert(conn: sqlite3.Connection, table: export.Table) -> None:
    columns = ", ".join(f'"{c.name}" {c.type}' for c in table.columns)
    key = ", ".join(f'"{k}"' for k in table.key)
    conn.execute(f'CREATE TABLE IF NOT EXISTS "{table.name}" ({columns}, PRIMARY KEY ({key}))')
    have = {row[1] for row in conn.execute(f'PRAGMA table_info("{table.name}")')}
    for column in table.columns:
        if column.name not in have:  # written by an earlier ccsync: grows, never loses data
            conn.execute(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {column.type}')
    for index in table.indexes:
        name = f"idx_{table.name}_{'_'.join(index)}"
        conn.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table.name}" ({", ".join(index)})')
    names = ", ".join(f'"{n}"' for n in table.names)
    updates = ", ".join(f'"{n}" = excluded."{n}"' for n in table.names if n not in table.key)
    conn.executemany(
        f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join("?" * len(table.columns))}) '
        f"ON CONFLICT ({key}) DO UPDATE SET {updates}",
        table.rows,
    )


def csv_files(built: list[export.Table]) -> dict[str, str]:
    return {f"{t.name}.csv": csv_text(Rows(t.names, [list(r) for r in t.rows])) for t in built}


def export_csv(ctx: Context, folder: Path, *, all_devices: bool, zone: tzinfo) -> Written:
    """One CSV file per table in `folder` (created if missing), each replaced whole."""
    usage = gather(ctx, all_devices=all_devices, zone=zone)
    built = tables(ctx, usage, zone=zone)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DiskError(f"cannot create {folder}: {exc.strerror}") from None
    written = []
    for name, text in csv_files(built).items():
        store.write_atomic(folder / name, text.encode())
        written.append(folder / name)
    return Written(written, {t.name: len(t.rows) for t in built}, usage.warnings)


def table_csv(ctx: Context, table: str, *, all_devices: bool, zone: tzinfo) -> tuple[str, list[str]]:
    """One table as CSV text, for stdout."""
    usage = gather(ctx, all_devices=all_devices, zone=zone)
    built = {t.name: t for t in tables(ctx, usage, zone=zone)}
    if table not in built:
        raise UsageError(f"no table {table!r}; choose one of: {', '.join(built)}")
    t = built[table]
    return csv_text(Rows(t.names, [list(r) for r in t.rows])), usage.warnings


@dataclass
class Page:
    path: Path
    size: int
    warnings: list[str]


def _asset(name: str) -> str:
    return resources.files("syncer").joinpath("assets", name).read_text(encoding="utf-8")


def render_dashboard(ctx: Context, usage: Usage, *, zone: tzinfo) -> str:
    data = dashboard.build(
        usage.ledgers, daily=usage.daily, progress=usage.progress, goal_daily=usage.goal_daily, zone=zone,
        pricer=usage.pricer, now=ctx.now,
    )
    return dashboard.render(data, template=_asset("dashboard.html"), library=_asset("chart.umd.min.js"))


def write_dashboard(ctx: Context, out: Path, *, all_devices: bool, zone: tzinfo) -> Page:
    """The dashboard: one self-contained HTML file, written atomically."""
    usage = gather(ctx, all_devices=all_devices, zone=zone)
    html = render_dashboard(ctx, usage, zone=zone).encode()
    store.write_atomic(out, html)
    return Page(out, len(html), usage.warnings)
