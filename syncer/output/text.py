"""Results as CSV and Markdown. Pure.

A result becomes `Rows` (column names and typed values) once; every text format is a function
of those rows, so CSV, Markdown, SQLite and the dashboard show the same numbers.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from syncer import report
from syncer.output.documents import TOKEN_FIELDS, block_fields, goal_fields, status_fields, totals_fields

if TYPE_CHECKING:
    from syncer.commands.blocks import BlocksResult
    from syncer.commands.status import StatusResult
    from syncer.pace import GoalProgress

Value = str | int | float | None


class Rows(NamedTuple):
    columns: list[str]
    rows: list[list[Value]]
    total: list[Value] | None = None  # shown under a table; CSV leaves it out (it is a sum)


COUNT_COLUMNS = list(TOKEN_FIELDS)
_HEADINGS = {
    "input_tokens": "Input",
    "output_tokens": "Output",
    "cache_creation_tokens": "Cache create",
    "cache_read_tokens": "Cache read",
    "total_tokens": "All tokens",
    "cost_usd": "Cost",
    "messages": "Responses",
    "processed_tokens": "Processed",
}


def _figures(t: report.Totals) -> list[Value]:
    fields = totals_fields(t, model=True)
    return [fields[c] for c in COUNT_COLUMNS]


def report_rows(result: report.Report) -> Rows:
    """One row per report row (its key first); session rows keep their project and times."""
    key = report.KEY_FIELD[result.kind]
    extra = ["source", "project", "branch", "device", "first", "last"] if result.kind == "session" else []
    rows = [[row.key, *(_extra(row.extra.get(name)) for name in extra), *_figures(row.totals)] for row in result.rows]
    total = ["Total", *([None] * len(extra)), *_figures(result.total)]
    return Rows([key, *extra, *COUNT_COLUMNS], rows, total)


def _extra(value: object) -> Value:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str | int | float) or value is None else str(value)


def csv_text(rows: Rows) -> str:
    """RFC 4180 CSV with a header line; empty cells for unknown values (a cost with no price)."""
    import csv  # noqa: PLC0415 - only --csv needs it

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(rows.columns)
    writer.writerows(["" if v is None else v for v in row] for row in rows.rows)
    return out.getvalue()


def markdown_table(rows: Rows) -> str:
    """A GitHub-flavoured Markdown table: numbers right-aligned with thousands separators,
    the total (if any) in bold, `|` and line breaks in names escaped."""
    numeric = [
        any(isinstance(r[i], int | float) for r in [*rows.rows, rows.total or []] if i < len(r))
        for i in range(len(rows.columns))
    ]
    head = "| " + " | ".join(_HEADINGS.get(c, c.replace("_", " ").capitalize()) for c in rows.columns) + " |"
    rule = "|" + "|".join("---:" if n else "---" for n in numeric) + "|"
    lines = [head, rule]
    for row in rows.rows:
        lines.append("| " + " | ".join(_cell(c, v) for c, v in zip(rows.columns, row, strict=True)) + " |")
    if rows.total is not None:
        lines.append(
            "| "
            + " | ".join(
                f"**{_cell(c, v)}**" if v is not None else "" for c, v in zip(rows.columns, rows.total, strict=True)
            )
            + " |"
        )
    return "\n".join(lines) + "\n"


def _cell(column: str, value: Value) -> str:
    if value is None:
        return "unknown" if column == "cost_usd" else ""
    if isinstance(value, float) and column == "cost_usd":
        return f"${value:,.2f}"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    if isinstance(value, int | float):
        return f"{int(value):,}"
    text = value or "(none)"
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def report_markdown(result: report.Report, *, title: str, warnings: Sequence[str] = ()) -> str:
    parts = [f"### {title}\n", markdown_table(report_rows(result))]
    parts.extend(f"\n> warning: {w}\n" for w in warnings)
    return "".join(parts)


def goal_markdown(progress: GoalProgress) -> str:
    """The goal as a short Markdown section: the figures a team looks at in a job summary."""
    p = goal_fields(progress)
    metric = progress.metric
    unit = "$" if metric == "cost" else ""
    projected = p["projected_date"] or "never at the current pace"
    state = "on track" if progress.on_track else "behind"
    pending = " (set on this device, not pushed yet)" if progress.pending else ""
    lines = [
        f"### Goal: {unit}{_number(progress.target)} {metric} by {p['deadline']}{pending}\n",
        f"**{progress.percent:.1f}%** done ({unit}{_number(progress.current)}), {unit}{_number(progress.remaining)} "
        f"to go, {progress.days_left} days left: **{state}** (projected {projected}).\n",
        markdown_table(
            Rows(
                ["needed_per_day", "pace_7d", "pace_30d"],
                [[round(progress.required_per_day, 2), round(progress.pace_7d, 2), round(progress.pace_30d, 2)]],
            )
        ),
    ]
    if progress.devices:
        lines.append(
            "\n"
            + markdown_table(
                Rows(
                    ["device", "current", "share_percent"],
                    [[d, round(v, 2), round(share * 100, 1)] for d, v, share in progress.devices],
                )
            )
        )
    return "\n".join(lines)


def goal_rows(progress: GoalProgress) -> Rows:
    """The goal as one CSV row of its figures (each device's share is in --json)."""
    fields = {k: v for k, v in goal_fields(progress).items() if k != "devices"}
    return Rows(list(fields), [[_extra(v) for v in fields.values()]])


def status_rows(result: StatusResult) -> Rows:
    """`status` as field,value rows of text."""
    return Rows(["field", "value"], [[name, _flat(value)] for name, value in status_fields(result).items()])


def status_markdown(result: StatusResult) -> str:
    return "### ccsync status\n" + markdown_table(status_rows(result))


def _flat(value: object) -> str:
    """A status value as text: lists joined, objects as `name=value` pairs, nothing as empty."""
    if isinstance(value, list):
        return "; ".join(_flat(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    flat = _extra(value)
    return "" if flat is None else str(flat)


BLOCK_COLUMNS = ["start", "end", "last_activity", "is_gap", "is_active", "over_limit"]


def block_rows(result: BlocksResult) -> Rows:
    """One row per 5-hour block (gaps included): its times, state and figures."""
    rows = []
    for row in result.rows:
        doc = block_fields(row)
        rows.append([*(_extra(doc[c]) for c in [*BLOCK_COLUMNS, *COUNT_COLUMNS])])
    total = ["Total", *([None] * (len(BLOCK_COLUMNS) - 1)), *_figures(result.total)]
    return Rows([*BLOCK_COLUMNS, *COUNT_COLUMNS], rows, total)


def blocks_markdown(result: BlocksResult, *, lines: Sequence[str]) -> str:
    """The blocks' table, then the week and active-block lines as a list."""
    return ("### 5-hour blocks\n" + markdown_table(block_rows(result)) + "\n"
            + "".join(f"- {line}\n" for line in lines) + "".join(f"\n> warning: {w}\n" for w in result.warnings))


def _number(value: float) -> str:
    return f"{value:,.2f}" if isinstance(value, float) and not value.is_integer() else f"{int(value):,}"
