"""Results as text: pure functions from result objects to strings and tables (`boxtext.Table`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from functools import cache
from typing import TYPE_CHECKING, NamedTuple

from syncer import boxtext, report
from syncer.blocks import duration

if TYPE_CHECKING:
    from syncer import goal as goal_mod
    from syncer.commands.blocks import BlocksResult
    from syncer.scan import ScanResult
    from syncer.usage import Usage


def tokens(n: float) -> str:
    return f"{n:,.0f}"


def compact(n: float) -> str:
    for size, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "k")):
        if abs(n) >= size:
            return f"{n / size:.1f}".removesuffix(".0") + suffix
    return f"{n:.0f}"


def byte_size(n: int) -> str:
    """Decimal units, as disks and the progress bar count them: 1.2 GB, 340 kB."""
    for size, unit in ((10**12, "TB"), (10**9, "GB"), (10**6, "MB"), (10**3, "kB")):
        if n >= size:
            return f"{n / size:.1f}".removesuffix(".0") + " " + unit
    return f"{n} B"


def money(n: float) -> str:
    """Dollars and cents; a cost under a cent is `<$0.01`, never a misleading `$0.00`."""
    if 0 < n < 0.005:
        return "<$0.01"
    return f"${n:,.2f}"


# A version is a major number and maybe a minor one of one or two digits: `-20250514` is a date.
_CLAUDE_MODEL = re.compile(r"^claude-(?:(\d+(?:-\d\d?)?)-([a-z]+)|([a-z]+)-(\d+(?:-\d\d?)?))(?:-\d{8})?$")


@cache
def short_model(model: str) -> str:
    """A model as people say it: `claude-sonnet-4-5-20250929` -> `sonnet-4-5`,
    `claude-3-5-haiku-20241022` -> `haiku-3-5`. Other names are kept whole."""
    m = _CLAUDE_MODEL.match(model)
    if m is None:
        return model
    return f"{m.group(2)}-{m.group(1)}" if m.group(1) else f"{m.group(3)}-{m.group(4)}"


def _cost(t: report.Totals) -> str:
    return money(t.cost_usd) + ("*" if t.unpriced else "") if t.cost_known else "unknown"


_FIGURES = {"input": "Input", "output": "Output", "create": "Cache create", "read": "Cache read",
            "processed": "Processed", "all": "All tokens"}
_FULL: tuple[str, ...] = ("input", "output", "create", "read", "processed", "all", "cost")
_NARROW: tuple[str, ...] = ("input", "output", "processed", "all", "cost")
_EXTRA_HEADINGS = {"project": "Project", "last": "Last activity", "models": "Models"}
_MINIMAL: tuple[str, ...] = ("processed", "cost")
_NOTES = {
    _NARROW: "Cache columns hidden to fit the terminal; All tokens includes them.",
    _MINIMAL: "Only processed tokens and cost fit the terminal; --json has every column.",
}


class TableText(NamedTuple):
    """A table sized for a width: every cell whole, the dropped columns named in `note`."""

    table: boxtext.Table
    note: str | None


def report_table(
    result: report.Report, *, title: str, width: int, compact: bool = False, breakdown: bool = False,
    zone: tzinfo = UTC,
) -> TableText:
    """Rows with their figures (a session's last activity on its day in `zone`). Nothing is
    ever cut: on a narrow terminal (or with `compact`) the cache columns go, then big counts
    switch to compact units (1.2M)."""
    key = report.KEY_FIELD[result.kind]
    extra = ("project", "last", "models") if result.kind == "session" else ()
    label = short_model if result.kind == "model" else _session_label if extra else _label
    # Column by column, each a pass over the rows: a report may have thousands (a team's sessions
    # over two years), and a comprehension per column costs less than one loop appending to all.
    rows: list[report.Row | None]  # the row whose extra cells each line shows, if any
    if breakdown:
        rows, labels, totals, styles = _broken_down(result.rows, label)
    else:
        rows, labels = [*result.rows], [label(row.key) for row in result.rows]
        totals, styles = [row.totals for row in result.rows], [None] * len(result.rows)
    rows.append(None)
    labels.append("Total")
    totals.append(result.total)
    styles.append("bold")
    label_columns = [boxtext.Column(key.capitalize(), labels),
                     *(boxtext.Column(_EXTRA_HEADINGS[e], _extra_cells(e, rows, zone), fold=e == "project")
                       for e in extra)]
    counts = _figure_counts([t.usage for t in totals])
    figures: dict[tuple[str, bool], boxtext.Column] = {}

    def figure(name: str, whole: bool) -> boxtext.Column:
        """A figure column, made (and measured) once however many layouts are tried."""
        whole = whole or name == "cost"  # a cost is always in dollars and cents
        if (name, whole) not in figures:
            if name == "cost":
                column = boxtext.Column("Cost", _costs(totals), right=True)
            elif whole:
                column = boxtext.Column(_FIGURES[name], counts=counts[name], right=True)
            else:
                column = boxtext.Column(_FIGURES[name], _compact_counts(counts[name]), right=True)
            figures[name, whole] = column
        return figures[name, whole]

    layouts = [(_NARROW, True), (_NARROW, False), (_MINIMAL, False)]
    if not compact:
        layouts.insert(0, (_FULL, True))
    for names, whole in layouts:
        table = boxtext.Table([*label_columns, *(figure(n, whole) for n in names)], title=title, styles=styles,
                              sections=(len(totals) - 1,))
        if table.width <= width:
            break
    note = None if names is _FULL or (compact and names is _NARROW) else _NOTES[names]
    return TableText(table, note)


def left_out_line(result: report.Report) -> str:
    """What a session table holds when it leaves the oldest out."""
    shown = len(result.rows)
    return (f"The newest {shown:,} of {shown + result.left_out:,} sessions, and their total; "
            "--all-sessions lists every one.")


def _label(key: str) -> str:
    return key or "(none)"


def _session_label(key: str) -> str:
    """A session by the first 8 characters of its id, as git shortens hashes (JSON has it whole)."""
    return key[:8]


def _broken_down(
    report_rows: list[report.Row], label: Callable[[str], str]
) -> tuple[list[report.Row | None], list[str], list[report.Totals], list[str | None]]:
    """The lines of `--breakdown`: a row of several models in bold, then a dim line per model."""
    rows: list[report.Row | None] = []
    labels: list[str] = []
    totals: list[report.Totals] = []
    styles: list[str | None] = []
    for row in report_rows:
        sub = len(row.models) > 1
        rows.append(row)
        labels.append(label(row.key))
        totals.append(row.totals)
        styles.append("bold" if sub else None)
        if sub:
            for model, model_totals in sorted(row.models.items()):
                rows.append(None)
                labels.append(f"  {short_model(model)}")
                totals.append(model_totals)
                styles.append("dim")
    return rows, labels, totals, styles


def _figure_counts(usages: list[Usage]) -> dict[str, list[int]]:
    """Each count column straight from the numbers; processed and all tokens summed here, not
    by a property per row (thousands of rows)."""
    inputs = [u.input_tokens for u in usages]
    outputs = [u.output_tokens for u in usages]
    creates = [u.cache_creation_tokens for u in usages]
    reads = [u.cache_read_tokens for u in usages]
    processed = [i + o + c for i, o, c in zip(inputs, outputs, creates, strict=True)]
    return {"input": inputs, "output": outputs, "create": creates, "read": reads, "processed": processed,
            "all": [p + r for p, r in zip(processed, reads, strict=True)]}


def _compact_counts(counts: list[int]) -> list[str]:
    """`compact_tokens` of each whole count, the whole ones (most of a session's) written here
    without its two calls and float: a narrow terminal's table of thousands of rows."""
    return [f"{n:,}" if -100_000 < n < 100_000 else compact(n) for n in counts]


def _costs(totals: list[report.Totals]) -> list[str]:
    """`_cost` of each, the common case written here without its calls: priced, from a cent to
    $999.99, where `%.2f` needs no separator and costs half of `,.2f` (thousands of rows)."""
    return ["$%.2f" % cost  # noqa: UP031 - a %-format of a float is faster than an f-string's
            if 0.005 <= (cost := t.cost_usd) < 999.99 and not t.unpriced else _cost(t) for t in totals]


def report_title(result: report.Report, *, window: report.Window, zone: tzinfo, device: str | None) -> str:
    """`Usage by date: work-laptop, 2026-11-01 to 2026-11-30, Europe/Berlin` (`codex only,` after
    the device when narrowed to one source)."""
    who = device if device is not None else "all devices"
    if window.source:
        who += f" ({window.source} only)"
    days = [r.key for r in result.rows] if result.kind == "daily" else []
    since = window.since.isoformat() if window.since else (min(days) if days else None)
    until = window.until.isoformat() if window.until else (max(days) if days else None)
    span = "all time" if since is None and until is None else f"{since or 'start'} to {until or 'today'}"
    return f"Usage by {report.KEY_FIELD[result.kind]}: {who}, {span}, {zone}"


def _extra_cells(name: str, rows: list[report.Row | None], zone: tzinfo) -> list[str]:
    """A session column's cells: empty under a session (its models' lines, the total)."""
    if name == "models":
        return [_models(tuple(r.models)) if r else "" for r in rows]
    if name == "last":
        return [_local_day(str(r.extra.get("last", "")), zone) if r else "" for r in rows]
    return [str(r.extra.get(name) or "(none)") if r else "" for r in rows]


def _local_day(stamp: str, zone: tzinfo) -> str:
    """The day of a UTC stamp in `zone`, the day a report in that zone counts it on."""
    try:
        return datetime.fromisoformat(stamp).astimezone(zone).date().isoformat()
    except (ValueError, OverflowError):  # past either end of the calendar in this zone
        return stamp[:10]


@cache
def _models(models: tuple[str, ...]) -> str:
    """A session's models, a line each: a handful of combinations over thousands of sessions."""
    return "\n".join(map(short_model, sorted(models)))


def compact_tokens(n: float) -> str:
    """Counts up to 99,999 whole, bigger ones in compact units: the narrow tables' numbers."""
    return tokens(n) if abs(n) < 100_000 else compact(n)


def metric_text(value: float, metric: str) -> str:
    return money(value) if metric == "cost" else compact(value)


_METRIC_NAMES = {"processed": "processed tokens", "all": "tokens (cache reads included)", "output": "output tokens"}


def goal_amount(value: float, metric: str) -> str:
    """`100M processed tokens`, `$5,000`: an amount with what it counts."""
    return money(value) if metric == "cost" else f"{compact(value)} {_METRIC_NAMES[metric]}"


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def goal_lines(progress: goal_mod.GoalProgress, *, width: int = 30) -> list[str]:
    filled = min(width, int(width * progress.percent / 100))
    bar = "█" * filled + "░" * (width - filled)
    m = progress.metric
    lines = [
        f"Goal: {goal_amount(progress.target, m)} by {progress.deadline.isoformat()}"
        + (f" ({progress.source} only)" if progress.source else "")
        + (f", counting from {progress.start.isoformat()}" if progress.start else "")
        + (" (pending: set here, not pushed yet)" if progress.pending else ""),
        f"[{bar}] {progress.percent:.1f}%  {metric_text(progress.current, m)} done, "
        f"{metric_text(progress.remaining, m)} to go",
    ]
    if progress.remaining == 0:
        reached = progress.reached_date or progress.projected_date
        lines.append(f"Reached {goal_amount(progress.target, m)}" + (f" on {reached.isoformat()}" if reached else ""))
    else:
        driver = "7-day" if progress.pace_7d else "30-day"
        state = "on track" if progress.on_track else "behind"
        projected = (
            f"{progress.projected_date.isoformat()} at the {driver} pace ({state})"
            if progress.projected_date else "never at the current pace (nothing in the last 30 days)"
        )
        lines += [
            f"{plural(progress.days_left, 'day')} left: {metric_text(progress.required_per_day, m)}/day needed; "
            f"pace {metric_text(progress.pace_7d, m)}/day (7 d), {metric_text(progress.pace_30d, m)}/day (30 d)",
            f"Projected: {projected}",
        ]
    if len(progress.devices) > 1:
        shares = ", ".join(f"{d} {share * 100:.0f}%" for d, _, share in progress.devices)
        lines.append(f"Shares: {shares}")
    return lines


def pending_pushed_line(g: goal_mod.Goal) -> str:
    return (f"Goal: pushed the goal set here at {g.set_at:%Y-%m-%d %H:%M} UTC "
            f"({goal_amount(g.target, g.metric)} by {g.deadline.isoformat()}).")


def scan_line(result: ScanResult) -> str:
    added = result.tokens
    files = plural(result.files, "log file")
    if not result.events and not result.files_read:
        return f"Nothing new in {files}."
    read = f"Read {result.files_read:,} of {files} ({byte_size(result.bytes_read)})"
    bad = f", {plural(result.bad_lines, 'bad line')} skipped" if result.bad_lines else ""
    if not (added[0] or added[1] or added[2] or added[4]):
        # After a restore the scan meets every response again: the ledger has them already.
        again = f" ({plural(result.events, 'response')} already counted)" if result.events else ""
        return f"{read}: nothing new{again}{bad}"
    return (f"{read}: {plural(result.events, 'new response')}, +{tokens(added[0] + added[1] + added[2])} tokens "
            f"(+{tokens(added[4])} cache reads){bad}")


def first_run_lines(device: str, roots: Sequence[str], remote: str, year: int) -> list[str]:
    """What the first run set up, and the three next steps."""
    return [
        "",
        f"Set up this machine as device {device} (to rename it: ccsync init --device NEW-ID).",
        "Log folders read: " + (", ".join(roots) or "none"),
        f"Sync repository: {remote} (on this machine until you add a remote)",
        "Next steps:",
        "  ccsync init --remote URL                share one total with your other machines",
        f"  ccsync goal set 100M --by {year}-12-31   set a goal (ccsync goal shows progress)",
        "  ccsync schedule install                 run every night",
    ]


def warning_lines(warnings: Sequence[str]) -> list[str]:
    return [f"warning: {w}" for w in warnings]


def local_time(text: object, zone: tzinfo) -> str:
    """A recorded UTC time (`2026-11-20T23:59:03Z`) as the reports show times: local."""
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return str(text)
    if moment.tzinfo is None:
        return str(text)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z").rstrip()


def status_value(name: str, value: object, zone: tzinfo = UTC) -> str:
    """One `ccsync status` field as text, times in `zone`."""
    if value is None:
        return "never" if name.startswith("last_") else "-"
    if name == "sources" and isinstance(value, list):
        return "; ".join(
            f"{s['source']} {s['log_files']} files in {', '.join(s['log_roots']) or 'no folder'} (${s['env_var']})"
            for s in value
        )
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none found"
    if name == "last_sync" and isinstance(value, dict):
        pushed = "pushed" if value.get("pushed") else "nothing to push"
        return f"{local_time(value.get('time'), zone)}, {pushed} (tip {str(value.get('tip'))[:10]})"
    if name in ("last_run", "last_scheduled_run") and isinstance(value, dict):
        outcome = "ok" if value.get("exit_code") == 0 else f"exit {value.get('exit_code')}: {value.get('error')}"
        added = compact(float(str(value.get("tokens_added") or 0)))
        return f"{local_time(value.get('time'), zone)}, {outcome}, +{added} tokens"
    if name == "last_scan":
        return local_time(value, zone)
    if name == "pending_bytes" and isinstance(value, int):
        return f"{byte_size(value)} not yet read"
    return str(value)


def status_lines(fields: Mapping[str, object], totals: report.Totals | None, zone: tzinfo) -> list[str]:
    """`ccsync status` as aligned `name: value` lines (its JSON fields), times in `zone`."""
    lines = [f"{name:>18}: {status_value(name, value, zone)}" for name, value in fields.items()
             if name not in ("warnings", "totals")]
    if totals is not None:
        u = totals.usage
        lines.append(f"{'ledger':>18}: {tokens(u.processed_tokens)} tokens processed "
                     f"(+{tokens(u.cache_read_tokens)} cache reads), {totals.messages:,} responses")
    return lines


def blocks_table(result: BlocksResult, *, zone: tzinfo, breakdown: bool) -> TableText:
    """5-hour blocks, local times; gaps dimmed, blocks over the token limit marked."""

    def at(ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M")

    def figures(t: report.Totals) -> tuple[str, str, str]:
        return tokens(t.usage.processed_tokens), tokens(t.usage.cache_read_tokens), _cost(t)

    rows: list[tuple[str, ...]] = []
    styles: list[str | None] = []
    for row in result.rows:
        b = row.block
        if b.is_gap:
            rows.append((at(b.start_ms), f"gap {duration(b.end_ms - b.start_ms)}", "", "", "", ""))
            styles.append("dim")
            continue
        state = "ACTIVE" if b.is_active else f"ended {at(b.end_ms)[-5:]}"
        if row.over_limit:
            state += " over limit"
        rows.append((at(b.start_ms), state, ", ".join(_short(m) for m in sorted(row.models)), *figures(row.totals)))
        styles.append("bold" if b.is_active else None)
        if breakdown and len(row.models) > 1:
            for model, totals in sorted(row.models.items()):
                rows.append(("", "", f"  {model}", *figures(totals)))
                styles.append("dim")
    rows.append(("Total", "", "", *figures(result.total)))
    styles.append("bold")
    headings = ("Block start", "Status", "Models", "Processed", "Cache read", "Cost")
    columns = [boxtext.Column(h, cells, right=i >= 3, fold=i < 3)
               for i, (h, cells) in enumerate(zip(headings, zip(*rows, strict=True), strict=True))]
    return TableText(boxtext.Table(columns, title="5-hour blocks", styles=styles, sections=(len(rows) - 1,)), None)


def _short(model: str) -> str:
    return model.removeprefix("claude-")


def active_lines(result: BlocksResult, *, zone: tzinfo) -> list[str]:
    """The active block in words: so far, time left, burn rate, projection."""
    if result.active is None:
        return ["No active block: nothing in the last 5 hours."]
    a, row = result.active.burn, result.active.row
    end = datetime.fromtimestamp(row.block.end_ms / 1000, UTC).astimezone(zone).strftime("%H:%M")
    cost = money(row.totals.cost_usd) if row.totals.cost_known else "unknown cost"
    lines = [
        f"Active block: {tokens(row.totals.usage.processed_tokens)} tokens processed, {cost}; "
        f"{duration(a.left_ms)} left (ends {end})",
    ]
    if a.tokens_per_minute is None:
        lines.append("Burn rate: not yet known (one moment of activity so far)")
    else:
        per_hour = f", {money(a.cost_per_hour)}/h" if a.cost_per_hour is not None else ""
        projected = f", {money(a.projected_cost)}" if a.projected_cost is not None else ""
        lines.append(f"Burn rate: {tokens(a.tokens_per_minute)} tokens/min{per_hour}")
        lines.append(f"Projected by the block's end: {tokens(a.projected_tokens)} tokens{projected}")
    if result.token_limit:
        used = 100 * row.totals.usage.processed_tokens / result.token_limit
        lines.append(f"Token limit: {tokens(result.token_limit)} ({used:.0f}% used"
                     + (", projected over it)" if result.active.projected_over else ")"))
    return lines


def week_lines(result: BlocksResult) -> list[str]:
    def part(totals: report.Totals) -> str:
        cost = money(totals.cost_usd) if totals.cost_known else "unknown cost"
        return f"{tokens(totals.usage.processed_tokens)} tokens processed, {cost}"

    return [f"Last 7 days (rolling): {part(result.rolling_week)}",
            f"This week (since Monday): {part(result.calendar_week)}"]


def settings_diff(before: str | None, after: str, *, path: str) -> str:
    """What a settings change would do, as a unified diff."""
    import difflib  # noqa: PLC0415 - one command's, not every read command's

    lines = difflib.unified_diff((before or "").splitlines(keepends=True), after.splitlines(keepends=True),
                                 fromfile=f"{path} (now)", tofile=f"{path} (after)")
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines).rstrip("\n")
