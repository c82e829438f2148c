"""Result rows as CSV and Markdown: one place that turns rows into text formats.

Pure. A result becomes `Rows` (column names and typed values) once; every text format is a
function of those rows, so CSV, Markdown, SQLite and the dashboard show the same numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from syncer import goal as goal_mod
from syncer import report

Value = str | int | float | None


@dataclass(frozen=True)
class Rows:
    columns: list[str]
    rows: list[list[Value]]
    total: list[Value] | None = None  # shown under a table; CSV leaves it out (it is a sum)


COUNT_COLUMNS = [
    "input_tokens",
    "output_tokens",
    "cache_creation_tokens",
    "cache_read_tokens",
    "processed_tokens",
    "total_tokens",
    "cost_usd",
    "messages",
]
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
    u = t.usage
    return [
        u.input_tokens,
        u.output_tokens,
        u.cache_creation_tokens,
        u.cache_read_tokens,
        u.processed_tokens,
        u.total_tokens,
        round(t.cost_usd, 6) if t.cost_known else None,
        t.messages,
    ]


def report_rows(result: report.Report) -> Rows:
    """One row per report row (its key first); session rows keep their project and times."""
    key = report.KEY_FIELD[result.kind]
    extra = ["project", "branch", "device", "first", "last"] if result.kind == "session" else []
    rows = [[row.key, *(_extra(row.extra.get(name)) for name in extra), *_figures(row.totals)] for row in result.rows]
    total = ["Total", *([None] * len(extra)), *_figures(result.total)]
    return Rows([key, *extra, *COUNT_COLUMNS], rows, total)


def _extra(value: object) -> Value:
    return value if isinstance(value, str | int | float) or value is None else str(value)


def csv_text(rows: Rows) -> str:
    """RFC 4180 CSV with a header line; empty cells for unknown values (a cost with no price)."""
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


def goal_markdown(progress: goal_mod.GoalProgress) -> str:
    """The goal as a short Markdown section: the figures a team looks at in a job summary."""
    p = progress.as_json()
    metric = progress.metric
    unit = "$" if metric == "cost" else ""
    projected = p["projected_date"] or "never at the current pace"
    state = "on track" if progress.on_track else "behind"
    lines = [
        f"### Goal: {unit}{_number(progress.target)} {metric} by {p['deadline']}\n",
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


def _number(value: float) -> str:
    return f"{value:,.2f}" if isinstance(value, float) and not value.is_integer() else f"{int(value):,}"
