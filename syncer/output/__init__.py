"""The one output layer: a command's result in the format asked for, table, JSON, CSV or
Markdown (`--format`). JSON documents are built in `documents`, CSV and Markdown in `text`,
tables and lines in syncer/render.py; the CLI prints what a `Shown` holds and nothing else.
Pure: results in, text (or a table to print) out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from typing import TYPE_CHECKING, Literal, NamedTuple

from syncer import render, report
from syncer.output import documents, text

if TYPE_CHECKING:
    from syncer.commands.blocks import BlocksResult
    from syncer.commands.status import StatusResult
    from syncer.commands.total import TotalResult
    from syncer.pace import GoalProgress

Format = Literal["table", "json", "csv", "markdown"]


class Shown(NamedTuple):
    """What a command prints: blocks of text or tables on stdout, in order, then warnings on
    stderr (JSON and Markdown carry theirs inside). (NamedTuples, like the other records a read
    command only passes along: a frozen dataclass costs each command 1.5 ms to create.)"""

    parts: list[str | render.TableText]
    warnings: Sequence[str] = ()


def _csv(rows: text.Rows, warnings: list[str]) -> Shown:
    return Shown([text.csv_text(rows).removesuffix("\n")], warnings)


def report_output(
    result: report.Report, fmt: Format, *, title: str, warnings: list[str], width: int, zone: tzinfo,
    compact: bool = False, breakdown: bool = False,
) -> Shown:
    if fmt == "json":
        return Shown([documents.encode(documents.report_doc(result, warnings=warnings))])
    if fmt == "markdown":
        return Shown([text.report_markdown(result, title=title, warnings=warnings)])
    if fmt == "csv":
        return _csv(text.report_rows(result), warnings)
    parts: list[str | render.TableText] = [
        render.report_table(result, title=title, width=width, compact=compact, breakdown=breakdown, zone=zone)
    ]
    if result.left_out:
        parts.append(render.left_out_line(result))
    return Shown(parts, warnings)


def total_output(
    result: TotalResult, fmt: Format, *, by: str, title: str, width: int, compact: bool = False
) -> Shown:
    if fmt == "json":
        return Shown([documents.encode(documents.total_doc(result, by=by))])
    if fmt == "markdown":
        goal = "\n" + text.goal_markdown(result.goal) if result.goal else ""
        return Shown([text.report_markdown(result.grouped, title=title, warnings=result.warnings) + goal])
    if fmt == "csv":
        return _csv(text.report_rows(result.grouped), result.warnings)
    parts: list[str | render.TableText] = [
        render.report_table(result.grouped, title=title, width=width, compact=compact)
    ]
    if result.goal:
        parts.append("\n".join(render.goal_lines(result.goal)))
    return Shown(parts, result.warnings)


def goal_output(progress: GoalProgress, fmt: Format, *, warnings: list[str]) -> Shown:
    if fmt == "json":
        return Shown([documents.encode(documents.goal_doc(progress, warnings=warnings))])
    if fmt == "markdown":
        return Shown([text.goal_markdown(progress)], warnings)
    if fmt == "csv":
        return _csv(text.goal_rows(progress), warnings)
    return Shown(["\n".join(render.goal_lines(progress))], warnings)


def status_output(result: StatusResult, fmt: Format, *, zone: tzinfo) -> Shown:
    if fmt == "json":
        return Shown([documents.encode(documents.status_doc(result))])
    if fmt == "markdown":
        return Shown([text.status_markdown(result)], result.warnings)
    if fmt == "csv":
        return _csv(text.status_rows(result), result.warnings)
    return Shown(["\n".join(render.status_lines(documents.status_fields(result), result.totals, zone))],
                 result.warnings)


def blocks_output(
    result: BlocksResult, fmt: Format, *, zone: tzinfo, breakdown: bool, active_only: bool
) -> Shown:
    lines = render.active_lines(result, zone=zone) if active_only else [
        *render.week_lines(result), *render.active_lines(result, zone=zone)]
    if fmt == "json":
        return Shown([documents.encode(documents.blocks_doc(result))])
    if fmt == "markdown":
        return Shown([text.blocks_markdown(result, lines=lines)])
    if fmt == "csv":
        return _csv(text.block_rows(result), result.warnings)
    if active_only:
        return Shown(["\n".join(lines)], result.warnings)
    return Shown([render.blocks_table(result, zone=zone, breakdown=breakdown), "\n".join(lines)], result.warnings)
