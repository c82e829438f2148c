"""The `ccsync` command: parse options, call one library function, render its result.

The only module that imports typer. It prints through `syncer.console`, and errors cross into
output in one place (`console.run`), where each error class carries its exit code (DESIGN.md §5).
The read commands' bodies live in `syncer.views`, which `syncer.quick` runs without typer.
"""

from __future__ import annotations

import copy
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from syncer import __version__, console, render, views
from syncer.commands.context import DEFAULT_WAIT
from syncer.console import say, warn
from syncer.errors import LockBusy
from syncer.output import documents
from syncer.views import By, Format, Order, ReportKind, Weekday
from syncer.zones import system_zone

MAX_COUNT = 2**53  # what a ledger field may hold (syncer.ledger.MAX_COUNT, not imported: cli stays light)

if TYPE_CHECKING:
    from syncer.commands.statusline import SetupResult
    from syncer.commands.sync import SyncResult

# Each command imports its use case's module when it runs (`from syncer.commands import ...`
# below): a command pays only for the libraries it uses, and dulwich alone takes longer to
# import than the nightly run with nothing new may take.

app = typer.Typer(
    help="A permanent, exact record of the tokens your AI coding CLIs spend, synced across machines.\n\n"
    "With no command: the nightly job (scan new usage, then sync), silent on success off a terminal.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 120},
)
goal_app = typer.Typer(help="Show or set the shared goal.", invoke_without_command=True)
app.add_typer(goal_app, name="goal")
export_app = typer.Typer(help="Write every figure to files other tools open: SQLite, CSV.", no_args_is_help=True)
app.add_typer(export_app, name="export")
schedule_app = typer.Typer(help="Run ccsync every night with the system's scheduler.", no_args_is_help=True)
app.add_typer(schedule_app, name="schedule")
statusline_app = typer.Typer(help="Claude Code's status line: print it, or install it in Claude Code's settings.")
app.add_typer(statusline_app, name="statusline")
entries_app = typer.Typer(help="List manual and imported entries, or remove one.", invoke_without_command=True)
app.add_typer(entries_app, name="entries")
devices_app = typer.Typer(help="Every device in the sync repo, or retire one.", invoke_without_command=True)
app.add_typer(devices_app, name="devices")


@contextmanager
def _progress_bar() -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on a terminal, shown once a scan has taken more than a second."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console  # here, not at the top: see _say
    from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TransferSpeedColumn

    started = time.monotonic()
    bar: Progress | None = None
    task: TaskID | None = None

    def update(done: int, total: int) -> None:
        nonlocal bar, task
        if bar is None:
            if time.monotonic() - started < 1:
                return
            bar = Progress("Scanning logs", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                           console=Console(stderr=True), transient=True)
            bar.start()
            task = bar.add_task("scan", total=total)
        if task is not None:
            bar.update(task, completed=done, total=total)

    try:
        yield update
    finally:
        if bar is not None:
            bar.stop()


ZoneOption = Annotated[
    str | None, typer.Option("--timezone", "-z", help="IANA zone for days (default: the system's).")
]
JsonOption = Annotated[bool, typer.Option("--json", "-j", help="Print as JSON.")]
CompactOption = Annotated[
    bool, typer.Option("--compact", help="Leave out the cache columns, as on a narrow terminal.")
]
WaitOption = Annotated[bool, typer.Option("--no-wait", help="Exit 75 at once if another ccsync is running.")]
OfflineOption = Annotated[bool, typer.Option("--offline", help="Use what was fetched last; no network.")]


SOURCE_HELP = "Only this source's usage: claude, codex or gemini."


def _print_version(value: bool) -> None:
    if value:
        say(f"ccsync {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def nightly(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", "-V", callback=_print_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    scheduled: Annotated[bool, typer.Option("--scheduled", hidden=True,
                                            help="Set by the scheduler's job: a scheduled run.")] = False,
    color: Annotated[bool | None, typer.Option(
        "--color/--no-color", help="Style tables even when piped, or never (default: on a terminal, unless NO_COLOR).",
    )] = None,
) -> None:
    """With no command: the nightly job (scan new usage, then sync). Silent on success off a terminal."""
    console.color = color
    if ctx.invoked_subcommand is not None:
        return
    from syncer import store
    from syncer.commands.nightly import nightly as run_nightly

    context = console.context()
    first = console.interactive() and store.load_config(context.paths) is None
    try:
        with _progress_bar() as progress:
            outcome = run_nightly(context, progress=progress, scheduled=scheduled)
    except LockBusy:
        if console.interactive():
            raise
        raise typer.Exit(75) from None  # another run is at work: not worth a cron mail
    if console.interactive():
        if outcome.scan is not None:
            say(render.scan_line(outcome.scan))
        say(_sync_line(outcome))
        if outcome.scan is not None:
            warn(outcome.scan.warnings)
    _goal_outcome(outcome)
    if console.interactive():
        cfg = store.load_config(context.paths)
        if first and cfg is not None:
            say("\n".join(render.first_run_lines(
                cfg.device, outcome.scan.roots if outcome.scan else [], outcome.remote, context.now.year)))


class Privacy(StrEnum):
    names = "names"
    full = "full"
    hashed = "hashed"


@app.command()
def init(
    device: Annotated[str | None, typer.Option(help="This machine's id in the sync repo (default: host name).")] = None,
    remote: Annotated[
        str | None, typer.Option(help="The shared git repository: a path, file://, https:// or ssh URL.")
    ] = None,
    privacy: Annotated[
        Privacy | None, typer.Option(help="Project names: names (folder), full (path) or hashed.")
    ] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Rename a device whose file is shared; keep the settings even if the sync repo "
        "refuses the id (a machine that replaces another, before ccsync restore).")] = False,
    owner: Annotated[
        str | None, typer.Option(help="Who this device belongs to (shared; reports group by it). \"\" clears it.")
    ] = None,
) -> None:
    """Set up this device: its id, the shared remote, and how project names are recorded."""
    from syncer.commands.init import init as run_init

    result = run_init(console.context(), device=device, remote=remote, privacy=privacy.value if privacy else None,
                      force=force, owner=owner)
    cfg = result.config
    verb = "Set up" if result.created else "Updated"
    say(f"{verb} device {cfg.device} (privacy: {cfg.privacy}).")
    if result.renamed:
        say(f"Rewrote the project and branch names already recorded as privacy {cfg.privacy} records them; "
             "the next sync shares the rewritten file.")
    if result.pushed is not None:
        say(f"Pushed to {result.remote}.")


@app.command("scan")
def scan_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print what was added as JSON.")] = False,
    no_wait: WaitOption = False,
) -> None:
    """Read new usage from the logs into this device's ledger (no sync)."""
    from syncer.commands.scan import run_scan

    with _progress_bar() as progress:
        result = run_scan(console.context(), wait=0 if no_wait else DEFAULT_WAIT, progress=progress)
    if as_json:
        say(documents.encode(documents.scan_doc(result)))
        return
    if console.interactive():
        say(render.scan_line(result))
    warn(result.warnings)


def _goal_outcome(outcome: SyncResult) -> None:
    """A waiting goal that was pushed is news on a terminal; one that lost to a newer goal
    from another device is said always (it is what the user asked for, not done)."""
    settled = outcome.goal
    if settled is None or settled.settled == "shared":
        return
    if settled.settled == "push":
        if console.interactive():
            say(render.pending_pushed_line(settled.goal))
    elif settled.shared is not None:
        from syncer.commands.total import superseded_text

        warn([superseded_text(settled.goal, settled.shared) + "; it was dropped"])


def _sync_line(outcome: SyncResult) -> str:
    s = outcome.sync
    if s is None or not s.committed:
        return f"Sync: nothing new to push to {outcome.remote}."
    if not outcome.tokens_added:
        return f"Sync: pushed this device's record to {outcome.remote} ({s.tip[:10]}), no new tokens."
    return f"Sync: pushed {outcome.tokens_added:+,} tokens to {outcome.remote} ({s.tip[:10]})."


@app.command("sync")
def sync_command(
    no_scan: Annotated[
        bool, typer.Option("--no-scan", help="Push the ledger as it is, without scanning first.")
    ] = False,
    no_wait: WaitOption = False,
) -> None:
    """Scan, commit this device's ledger, fetch the others', and push."""
    from syncer.commands.sync import sync

    with _progress_bar() as progress:
        outcome = sync(console.context(), run_scan=not no_scan, wait=0 if no_wait else DEFAULT_WAIT, progress=progress)
    if console.interactive():
        say(_sync_line(outcome))
    _goal_outcome(outcome)


FormatOption = Annotated[
    Format, typer.Option("--format", help="table, json, csv or markdown (for $GITHUB_STEP_SUMMARY).")
]


@app.command()
def total(
    as_json: JsonOption = False,
    offline: OfflineOption = False,
    by: Annotated[
        By, typer.Option(help="Group the devices' usage by device, owner, model, month or source.")
    ] = By.device,
    timezone: Annotated[
        str | None, typer.Option("--timezone", "-z", help="IANA zone for months and goal days (default: the system's).")
    ] = None,
    source: Annotated[str | None, typer.Option(help=SOURCE_HELP)] = None,
    fmt: FormatOption = Format.table,
    compact: CompactOption = False,
) -> None:
    """Every device's usage merged, with progress toward the goal."""
    views.total(**locals())


class Metric(StrEnum):
    processed = "processed"
    all = "all"
    output = "output"
    cost = "cost"


@goal_app.callback(invoke_without_command=True)
def goal_show(
    ctx: typer.Context,
    as_json: JsonOption = False,
    offline: OfflineOption = False,
    timezone: ZoneOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Progress toward the shared goal: percent, pace, projection, each device's share."""
    if ctx.invoked_subcommand is None:
        views.goal(as_json=as_json, offline=offline, timezone=timezone, fmt=fmt)


@goal_app.command("set")
def goal_set(
    target: Annotated[str, typer.Argument(help="Like 100M, 1.5B, 250k or 5000000 (dollars for --metric cost).")],
    by: Annotated[str | None, typer.Option(help="Deadline YYYY-MM-DD (default: 31 December this year).")] = None,
    metric: Annotated[
        Metric, typer.Option(help="processed = input+output+cache creation; all adds cache reads.")
    ] = Metric.processed,
    start: Annotated[
        str | None, typer.Option("--from", help="Count only usage from this day, YYYY-MM-DD (default: all of it).")
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Count only this source (claude, codex or gemini); default: all.")
    ] = None,
) -> None:
    """Set the goal every device shares (stored in the sync repo's goal.json)."""
    from syncer.commands.goal import set_goal

    new = set_goal(
        console.context(), target=target, by=console.day(by, "--by"), metric=metric.value, zone=system_zone(),
        start=console.day(start, "--from"), source=console.source(source),
    )
    only = f" ({new.source} only)" if new.source else ""
    window = f", counting from {new.start.isoformat()}" if new.start else ""
    say(f"Goal set: {render.metric_text(new.target, new.metric)} {new.metric} by {new.deadline.isoformat()}"
         f"{only}{window}.")


@app.command()
def add(
    input_tokens: Annotated[int, typer.Argument(min=0, max=MAX_COUNT, help="Input tokens (uncached).")],
    output_tokens: Annotated[int, typer.Argument(min=0, max=MAX_COUNT, help="Output tokens.")],
    cache_creation: Annotated[int, typer.Option(min=0, max=MAX_COUNT, help="Cache creation tokens.")] = 0,
    cache_read: Annotated[int, typer.Option(min=0, max=MAX_COUNT, help="Cache read tokens.")] = 0,
    model: Annotated[str, typer.Option(help="Model name (priced like logged usage).")] = "",
    source: Annotated[str, typer.Option(help="The CLI or service it was spent in.")] = "claude",
    on: Annotated[str | None, typer.Option("--date", help="Day it was spent, YYYY-MM-DD (default: now).")] = None,
    note: Annotated[str, typer.Option(help="What it was, for `ccsync entries`.")] = "",
) -> None:
    """Record usage no log shows (a web chat, an API script) in this device's ledger."""
    from syncer.commands.entries import add_entry

    entry = add_entry(
        console.context(), counts=(input_tokens, output_tokens, cache_creation, cache_read), model=model,
        source=source, day=console.day(on, "--date"), note=note, zone=system_zone(),
    )
    say(f"Added entry {entry.id}: {render.tokens(input_tokens + output_tokens + cache_creation)} tokens processed "
         f"(+{render.tokens(cache_read)} cache reads). Remove it with: ccsync entries remove {entry.id}")


@entries_app.callback(invoke_without_command=True)
def entries_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    offline: OfflineOption = False,
) -> None:
    """Every device's manual and imported entries, with their ids and removals."""
    if ctx.invoked_subcommand is not None:
        return
    from syncer.commands.entries import list_entries

    result = list_entries(console.context(), offline=offline)
    if as_json:
        say(documents.encode(documents.entries_doc(result)))
        return
    for item in result.items:
        e = item.entry
        gone = f"  removed by {item.removal.by}" if item.removal else ""
        say(f"{e.id}  {e.kind:<6}  {e.hour[:10]}  {item.device:<16}  "
             f"{render.tokens(e.input_tokens + e.output_tokens + e.cache_creation_tokens):>10}  "
             f"{e.model or '-'}  {e.note or e.origin}{gone}")
    if not result.items:
        say("No entries. Add one with: ccsync add INPUT OUTPUT, or import records with: ccsync import FILE")
    warn(result.warnings)


@entries_app.command("remove")
def entries_remove(
    entry_id: Annotated[str, typer.Argument(help="The entry's id, as `ccsync entries` lists it.")],
    offline: OfflineOption = False,
) -> None:
    """Remove an entry (any device's): the removal is recorded and synced, never silent."""
    from syncer.commands.entries import remove_entry

    removed = remove_entry(console.context(), entry_id, offline=offline)
    say(f"Removed entry {entry_id} ({removed.entry.kind}, added on {removed.device}); "
         "every total leaves it out after the next sync.")


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="A record file of another tool (see the README).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be added and skipped; change nothing.")
    ] = False,
    until: Annotated[str | None, typer.Option(help="Date of a running total without dates, YYYY-MM-DD.")] = None,
    timezone: Annotated[
        str | None, typer.Option(help="IANA zone the tool dated its days in (default: the system's).")
    ] = None,
    offline: OfflineOption = False,
) -> None:
    """Take over another tool's history, never counting a day the logs already count."""
    from syncer.commands.import_file import import_file

    plan = import_file(console.context(), file, dry_run=dry_run, until=console.day(until, "--until"),
                       zone=console.zone(timezone), offline=offline)
    for decision in plan.decisions:
        record = decision.record
        what = f"{record.day}  {record.model or record.session or '(all models)'}"
        verb = "add " if decision.entry else "skip"
        say(f"{verb}  {what}  {render.tokens(sum(decision.counts[:3]))}  {decision.reason}")
    added = plan.added()
    head = "Would add" if dry_run else "Added"
    say(f"{head} {len(plan.taken)} of {len(plan.decisions)} records from {plan.shape} {plan.file}: "
         f"{render.tokens(sum(added[:3]))} tokens processed (+{render.tokens(added[3])} cache reads)"
         + (f"; {plan.duplicates} duplicated rows counted once" if plan.duplicates else ""))


@devices_app.callback(invoke_without_command=True)
def devices_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    offline: OfflineOption = False,
) -> None:
    """Every device in the sync repo: sources, first and last usage, last sync, size, totals."""
    if ctx.invoked_subcommand is not None:
        return
    from syncer.commands.devices import list_devices

    result = list_devices(console.context(), offline=offline)
    if as_json:
        say(documents.encode(documents.devices_doc(result)))
        return
    for row in result.rows:
        state = " (retired)" if row.retired else (" (this device)" if row.this_device else "")
        state = f" [{row.ledger.owner}]{state}" if row.ledger.owner else state
        span = row.usage_span
        used = f"{span[0]:%Y-%m-%d} to {span[1]:%Y-%m-%d}" if span else "none"
        synced = f"{row.last_sync:%Y-%m-%d %H:%M} UTC" if row.last_sync else "never"
        say(f"{row.ledger.device}{state}: {render.tokens(row.processed)} tokens processed, "
             f"sources {', '.join(row.sources) or '-'}, usage {used}, last sync {synced}, {row.size or 0:,} bytes")
    warn(result.warnings)


@devices_app.command("retire")
def devices_retire(
    device: Annotated[str, typer.Argument(help="The device id, as `ccsync devices` lists it.")],
    offline: Annotated[bool, typer.Option("--offline", help="Record it now; the next sync publishes it.")] = False,
) -> None:
    """Mark a device that will never sync again: its usage keeps counting, the warnings stop."""
    from syncer.commands.devices import retire_device

    retire_device(console.context(), device, offline=offline)
    say(f"Retired {device}: its usage keeps counting; total no longer warns that it has not synced.")


@app.command("report", short_help="Usage by day, week, month, session, model, project, branch or source.")
def report_command(
    kind: Annotated[ReportKind, typer.Argument(help="How to group usage.")],
    as_json: JsonOption = False,
    since: Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD or YYYYMMDD (inclusive).")] = None,
    until: Annotated[str | None, typer.Option(help="Last day, YYYY-MM-DD or YYYYMMDD (inclusive).")] = None,
    timezone: ZoneOption = None,
    all_devices: Annotated[
        bool, typer.Option("--all-devices", help="Every device in the sync repo, not just this one.")
    ] = False,
    fmt: FormatOption = Format.table,
    active: Annotated[
        bool, typer.Option("--active", help="blocks: only the block in progress, with burn rate and projection.")
    ] = False,
    token_limit: Annotated[
        str | None, typer.Option(help="blocks: mark blocks over N tokens (or max: the largest past block).")
    ] = None,
    order: Annotated[Order, typer.Option(help="Oldest (or smallest key) first, or newest first.")] = Order.asc,
    last: Annotated[int | None, typer.Option(min=1, help="Only the last N rows (after ordering by key).")] = None,
    breakdown: Annotated[bool, typer.Option("--breakdown", help="A row per model under each row.")] = False,
    compact: CompactOption = False,
    start_of_week: Annotated[Weekday, typer.Option(help="The day weekly rows start on.")] = Weekday.monday,
    source: Annotated[str | None, typer.Option(help=SOURCE_HELP)] = None,
    offline: Annotated[bool, typer.Option(
        "--offline", help="--all-devices: use what was fetched last; no network.")] = False,
    all_sessions: Annotated[bool, typer.Option(
        "--all-sessions", help=f"session: every session in the table, not the newest {views.TABLE_SESSIONS:,} only."
    )] = False,
) -> None:
    """This device's usage (or every device's) by day, week, month, session, model, project,
    branch, source, or 5-hour block."""
    views.report(**locals())


@app.command(short_help="Config, log roots, last scan and sync, pending bytes, health.")
def status(as_json: JsonOption = False, fmt: FormatOption = Format.table) -> None:
    """Config, log roots, last scan and sync, pending bytes and health: paste this into bug reports."""
    views.status(**locals())


@app.command(short_help="Rebuild this device's local state from the sync repo or a backup.")
def restore(
    from_backup: Annotated[
        bool, typer.Option("--from-backup", help="Use the newest good local backup instead of the sync repo.")
    ] = False,
) -> None:
    """Rebuild this device's local state from its file in the sync repo (new machine, lost disk)."""
    from syncer.commands.restore import restore as run_restore

    result = run_restore(console.context(), from_backup=from_backup)
    u = result.ledger.totals
    say(
        f"Restored ledger generation {result.ledger.generation} from {result.source}: "
        f"{render.tokens(u.input_tokens + u.output_tokens + u.cache_creation_tokens)} tokens processed. "
        "The next scan adds only what it does not cover."
    )


@schedule_app.command("install")
def schedule_install(
    at: Annotated[str, typer.Option(help="Local time of the daily run, HH:MM.")] = "23:59",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print what would be installed; change nothing.")] = False,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", metavar="systemd|cron|launchd|task-scheduler",
        help="Use this scheduler instead of the detected one; with --dry-run, any OS's.")] = None,
) -> None:
    """Install the daily job (installing again replaces it)."""
    from syncer.commands.schedule import schedule_install as install

    result = install(console.context(), at=at, dry_run=dry_run, argv0=sys.argv[0], scheduler=scheduler)
    plan = result.plan
    assert plan is not None
    if not dry_run:
        say(f"Installed: {plan.description}")
        for other in result.removed:
            say(f"Removed the earlier {other} job, so the night runs once.")
        return
    say(f"Would install ({plan.scheduler}): {plan.description}")
    for path, text in plan.files.items():
        say(f"\n--- {path}\n{text}")
    if plan.cron_line:
        say(f"\n--- crontab line\n{plan.cron_line}")
    for argv in plan.before + plan.commands:
        say("$ " + " ".join(argv))


@schedule_app.command("remove")
def schedule_remove() -> None:
    """Remove the daily job."""
    from syncer.commands.schedule import schedule_remove as remove

    result = remove(console.context())
    for scheduler in result.removed:
        say(f"Removed the {scheduler} job.")
    if not result.removed:
        say(f"No job was installed (looked in: {', '.join(result.searched)}).")


@schedule_app.command("status")
def schedule_status() -> None:
    """Whether the daily job is installed, and when it runs."""
    from syncer.commands.schedule import schedule_status as job_status

    result = job_status(console.context())
    for scheduler, st in result.statuses:
        when = f" at {st.at}" if st.at else ""
        say(f"{'Installed' if st.installed else 'Not installed'} ({scheduler}){when}: {st.detail}")


AllDevices = Annotated[bool, typer.Option("--all-devices", help="Every device in the sync repo (and the goal).")]
TimezoneOption = Annotated[str | None, typer.Option("--timezone", help="IANA zone for days (default: the system's).")]


@export_app.command("sqlite")
def export_sqlite(
    file: Annotated[Path, typer.Argument(help="The database; updated in place if it exists (rows upserted).")],
    all_devices: AllDevices = False,
    timezone: TimezoneOption = None,
) -> None:
    """One SQLite file (daily_usage, model_breakdown, session_usage, hourly_usage, devices, goal)
    and FILE's .metadata.json for Datasette."""
    from syncer.commands import export
    written = export.export_sqlite(console.context(), file, all_devices=all_devices, zone=console.zone(timezone))
    if console.interactive():
        say(f"Wrote {written.paths[0]} ({sum(written.rows.values()):,} rows) and {written.paths[1]}.")
    warn(written.warnings)


@export_app.command("csv")
def export_csv(
    target: Annotated[str, typer.Argument(help="A folder for one CSV file per table, or - for one table on stdout.")],
    table: Annotated[str, typer.Option(help="With -, the table to print.")] = "daily_usage",
    all_devices: AllDevices = False,
    timezone: TimezoneOption = None,
) -> None:
    """CSV for spreadsheets: one file per table in a folder, or one table on stdout."""
    from syncer.commands import export
    if target == "-":
        text, warnings = export.table_csv(console.context(), table, all_devices=all_devices,
                                          zone=console.zone(timezone))
        sys.stdout.write(text)
    else:
        written = export.export_csv(console.context(), Path(target), all_devices=all_devices,
                                    zone=console.zone(timezone))
        if console.interactive():
            say(f"Wrote {len(written.paths)} CSV files to {target}.")
        warnings = written.warnings
    warn(warnings)


@app.command()
def dashboard(
    out: Annotated[Path, typer.Option("--out", help="The HTML file to write.")] = Path("ccsync-dashboard.html"),
    open_it: Annotated[bool, typer.Option("--open", help="Open it in the default browser.")] = False,
    all_devices: AllDevices = False,
    timezone: TimezoneOption = None,
) -> None:
    """One self-contained HTML page of charts (works offline, loads nothing)."""
    from syncer.commands import export
    page = export.write_dashboard(console.context(), out, all_devices=all_devices, zone=console.zone(timezone))
    if console.interactive():
        say(f"Wrote {page.path} ({render.byte_size(page.size)}).")
    warn(page.warnings)
    if open_it:
        import webbrowser  # only with --open
        webbrowser.open(page.path.resolve().as_uri())


SegmentsOption = Annotated[
    str | None, typer.Option(help="Which segments, in order: model,session,today,block,goal.")
]


@statusline_app.callback(invoke_without_command=True)
def statusline_show(
    ctx: typer.Context,
    segments: SegmentsOption = None,
) -> None:
    """Print the status line for the JSON Claude Code sends on stdin (always exits 0)."""
    if ctx.invoked_subcommand is not None:
        return
    from syncer import statusline

    say(statusline.line(["--segments", segments] if segments else [], sys.stdin.buffer, os.environ, Path.home()))


@statusline_app.command("install")
def statusline_install(
    segments: SegmentsOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace another tool's status line.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the change; write nothing.")] = False,
) -> None:
    """Point Claude Code's status line at ccsync (settings.json is backed up first)."""
    from syncer.commands import statusline

    result = statusline.install(console.context(), argv0=sys.argv[0], segments=segments, force=force, dry_run=dry_run)
    _settings_outcome(result, dry_run=dry_run, undo="ccsync statusline remove")


@statusline_app.command("remove")
def statusline_remove(
    force: Annotated[bool, typer.Option("--force", help="Remove the status line even if it is not ccsync's.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the change; write nothing.")] = False,
) -> None:
    """Take ccsync's status line out of Claude Code's settings."""
    from syncer.commands import statusline

    result = statusline.remove(console.context(), force=force, dry_run=dry_run)
    _settings_outcome(result, dry_run=dry_run, undo="ccsync statusline install")


@statusline_app.command("status")
def statusline_status() -> None:
    """Which status line Claude Code's settings name."""
    from syncer import claude_settings
    from syncer.commands import statusline

    path, current = statusline.status(console.context())
    if current is None:
        say(f"No status line in {path}. Turn ccsync's on with: ccsync statusline install")
    elif claude_settings.is_ours(current):
        say(f"ccsync's status line is on in {path}: {current.get('command')}")
    else:
        shown = current.get("command") if isinstance(current, dict) else current
        say(f"Another status line is set in {path}: {shown}. Replace it with: ccsync statusline install --force")


def _settings_outcome(result: SetupResult, *, dry_run: bool, undo: str) -> None:
    plan = result.plan
    if plan.after is None:
        say(f"Nothing to change in {plan.path}.")
        return
    if dry_run:
        say(render.settings_diff(plan.before, plan.after, path=str(plan.path)))
        say("(dry run: nothing was written)")
        return
    verb = "Installed the status line in" if plan.action == "install" else "Removed the status line from"
    say(f"{verb} {plan.path}.")
    if result.backup is not None:
        say(f"The earlier file is saved as {result.backup}.")
    say(f"Undo with: {undo}" + (f" (or put the backup back: cp {result.backup} {plan.path})" if result.backup else ""))


class Shell(StrEnum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"
    powershell = "powershell"


COMPLETE_VAR = "_CCSYNC_COMPLETE"
"""Set by the completion script when the shell asks ccsync for completions."""


@app.command()
def completion(shell: Annotated[Shell, typer.Argument(help="bash, zsh, fish or powershell.")]) -> None:
    """Print the shell's completion script. Turn it on with: eval "$(ccsync completion bash)" in
    ~/.bashrc (zsh: the same in ~/.zshrc; fish: ccsync completion fish | source)."""
    from typer._completion_shared import get_completion_script

    say(get_completion_script(prog_name="ccsync", complete_var=COMPLETE_VAR, shell=shell.value))


def _only_the_command_named(first: list[str]) -> typer.Typer:
    """The app with only the command the arguments name: typer builds click's parser of every
    command on each run, and one command needs only its own (a tenth of a read command's time).
    No command, an option first, a misspelling: the whole app, so help and errors are typer's."""
    from typer.main import get_command_name  # noqa: PLC0415 - typer is imported already

    commands = [c for c in app.registered_commands
                if first and c.callback is not None and (c.name or get_command_name(c.callback.__name__)) == first[0]]
    groups = [g for g in app.registered_groups if first and g.name == first[0]]
    if not commands and not groups:
        return app
    only = copy.copy(app)
    only.registered_commands, only.registered_groups = commands, groups
    return only


def main() -> NoReturn:
    """Entry point: usage errors are typer's (exit 2), the rest `console.run`'s."""
    if COMPLETE_VAR in os.environ:
        from typer._completion_classes import completion_init

        completion_init()  # the scripts `completion` prints speak typer's protocol, not click's
    console.run(_only_the_command_named(sys.argv[1:2]))
