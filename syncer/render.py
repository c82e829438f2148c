"""Results as text: pure functions from result objects to strings and rich tables."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING

from syncer import goal as goal_mod
from syncer import report
from syncer.blocks import duration
from syncer.scan import ScanResult

if TYPE_CHECKING:
    from rich.table import Table

    from syncer.commands.blocks import BlocksResult


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
    return f"${n:,.2f}"


def report_table(result: report.Report, *, title: str, breakdown: bool = True) -> Table:
    from rich.table import Table  # noqa: PLC0415 - only commands that print a table pay for rich

    key = report.KEY_FIELD[result.kind].capitalize()
    table = Table(title=title, title_justify="left")
    for name in (key, "Input", "Output", "Cache create", "Cache read", "Total", "Cost"):
        table.add_column(name, justify="left" if name == key else "right")
    for row in result.rows:
        _add(table, row.key or "(none)", row.totals, style="bold" if breakdown and len(row.models) > 1 else None)
        if breakdown and len(row.models) > 1:
            for model, totals in sorted(row.models.items()):
                _add(table, f"  {model}", totals, style="dim")
    table.add_section()
    _add(table, "Total", result.total, style="bold")
    return table


def _add(table: Table, label: str, totals: report.Totals, *, style: str | None) -> None:
    u = totals.usage
    cost = money(totals.cost_usd) + ("*" if totals.unpriced else "") if totals.cost_known else "unknown"
    table.add_row(
        label, tokens(u.input_tokens), tokens(u.output_tokens), tokens(u.cache_creation_tokens),
        tokens(u.cache_read_tokens), tokens(u.total_tokens), cost, style=style,
    )


def metric_text(value: float, metric: str) -> str:
    return money(value) if metric == "cost" else compact(value)


def goal_lines(progress: goal_mod.GoalProgress, *, width: int = 30) -> list[str]:
    filled = min(width, int(width * progress.percent / 100))
    bar = "█" * filled + "░" * (width - filled)
    m = progress.metric
    pace = "on track" if progress.on_track else "behind"
    projected = progress.projected_date.isoformat() if progress.projected_date else "never at the current pace"
    lines = [
        f"Goal: {metric_text(progress.target, m)} {m} by {progress.deadline.isoformat()}",
        f"[{bar}] {progress.percent:.1f}%  {metric_text(progress.current, m)} done, "
        f"{metric_text(progress.remaining, m)} to go",
        f"{progress.days_left} days left: {metric_text(progress.required_per_day, m)}/day needed; "
        f"pace {metric_text(progress.pace_7d, m)}/day (7 d), {metric_text(progress.pace_30d, m)}/day (30 d)",
        f"Projected: {projected} ({pace})",
    ]
    if len(progress.devices) > 1:
        shares = ", ".join(f"{d} {share * 100:.0f}%" for d, _, share in progress.devices)
        lines.append(f"Shares: {shares}")
    return lines


def scan_line(result: ScanResult) -> str:
    added = result.tokens
    if not result.events and not result.files_read:
        return f"Nothing new in {result.files} log files."
    return (
        f"Read {result.files_read} of {result.files} log files ({byte_size(result.bytes_read)}): "
        f"{result.events:,} new responses, +{tokens(added[0] + added[1] + added[2])} tokens "
        f"(+{tokens(added[4])} cache reads)" + (f", {result.bad_lines} bad lines skipped" if result.bad_lines else "")
    )


def warning_lines(warnings: Sequence[str]) -> list[str]:
    return [f"warning: {w}" for w in warnings]


def status_value(name: str, value: object) -> str:
    """One `ccsync status` field as text."""
    if value is None:
        return "never" if name.startswith("last_") else "-"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none found"
    if name == "last_sync" and isinstance(value, dict):
        pushed = "pushed" if value.get("pushed") else "nothing to push"
        return f"{value.get('time')}, {pushed} (tip {str(value.get('tip'))[:10]})"
    if name in ("last_run", "last_scheduled_run") and isinstance(value, dict):
        outcome = "ok" if value.get("exit_code") == 0 else f"exit {value.get('exit_code')}: {value.get('error')}"
        return f"{value.get('time')}, {outcome}, +{compact(float(str(value.get('tokens_added') or 0)))} tokens"
    if name == "pending_bytes" and isinstance(value, int):
        return f"{byte_size(value)} not yet read"
    return str(value)


def blocks_table(result: BlocksResult, *, zone: tzinfo, breakdown: bool) -> Table:
    """5-hour blocks, local times; gaps dimmed, blocks over the token limit marked."""
    from rich.table import Table  # noqa: PLC0415 - only commands that print a table pay for rich

    def at(ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M")

    table = Table(title="5-hour blocks", title_justify="left")
    for name in ("Block start", "Status", "Models", "Processed", "Cache read", "Cost"):
        table.add_column(name, justify="left" if name in ("Block start", "Status", "Models") else "right")
    for row in result.rows:
        b = row.block
        if b.is_gap:
            table.add_row(at(b.start_ms), f"gap {duration(b.end_ms - b.start_ms)}", "", "", "", "", style="dim")
            continue
        state = "ACTIVE" if b.is_active else f"ended {at(b.end_ms)[-5:]}"
        if row.over_limit:
            state += " over limit"
        _block_row(table, at(b.start_ms), state, ", ".join(_short(m) for m in sorted(row.models)), row.totals,
                   style="bold" if b.is_active else None)
        if breakdown and len(row.models) > 1:
            for model, totals in sorted(row.models.items()):
                _block_row(table, "", "", f"  {model}", totals, style="dim")
    table.add_section()
    _block_row(table, "Total", "", "", result.total, style="bold")
    return table


def _short(model: str) -> str:
    return model.removeprefix("claude-")


def _block_row(table: Table, start: str, state: str, models: str, totals: report.Totals, *, style: str | None) -> None:
    cost = money(totals.cost_usd) + ("*" if totals.unpriced else "") if totals.cost_known else "unknown"
    table.add_row(start, state, models, tokens(totals.usage.processed_tokens), tokens(totals.usage.cache_read_tokens),
                  cost, style=style)


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
    lines = difflib.unified_diff((before or "").splitlines(keepends=True), after.splitlines(keepends=True),
                                 fromfile=f"{path} (now)", tofile=f"{path} (after)")
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines).rstrip("\n")
