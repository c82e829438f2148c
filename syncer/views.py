"""The read commands (`report`, `total`, `goal`, `status`), from parsed options to output.

Typer-free, so that a read command can run without the CLI's imports (`syncer.quick`, a
tenth of a second of every run); `syncer.cli` declares their options and calls these. Option
values arrive as the strings the user typed: the enums below are the choices both accept.
"""

from __future__ import annotations

from datetime import tzinfo
from enum import StrEnum
from typing import TYPE_CHECKING

from syncer import console
from syncer.errors import UsageError

if TYPE_CHECKING:
    from syncer.output import Format as OutputFormat
    from syncer.report import Window


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


class By(StrEnum):
    device = "device"
    owner = "owner"
    model = "model"
    month = "month"
    source = "source"


class ReportKind(StrEnum):
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"
    session = "session"
    model = "model"
    project = "project"
    branch = "branch"
    source = "source"
    blocks = "blocks"


class Weekday(StrEnum):
    monday = "monday"
    tuesday = "tuesday"
    wednesday = "wednesday"
    thursday = "thursday"
    friday = "friday"
    saturday = "saturday"
    sunday = "sunday"


class Order(StrEnum):
    asc = "asc"
    desc = "desc"


TABLE_SESSIONS = 1000
"""The sessions a `report session` table lists unless asked for all (`--all-sessions`), the
newest: a team's years are thousands, more than anyone reads in a table, and each costs the
command about 50 µs. JSON, CSV and Markdown always hold every session."""


def _format(as_json: bool, chosen: str) -> OutputFormat:
    return "json" if as_json else Format(chosen).value


def total(*, as_json: bool = False, offline: bool = False, by: str = By.device, timezone: str | None = None,
          source: str | None = None, fmt: str = Format.table, compact: bool = False) -> None:
    from syncer import output
    from syncer.commands.total import total as run_total

    by = By(by).value
    kind = {"device": "device", "owner": "owner", "model": "model", "month": "monthly", "source": "source"}[by]
    result = run_total(console.context(), offline=offline, by=kind, zone=console.zone(timezone),
                       source=console.source(source))
    title = f"All devices, by {by}" + (f" ({source} only)" if source else "")
    console.show(output.total_output(result, _format(as_json, fmt), by=by, title=title, width=console.width(),
                                     compact=compact))


def goal(*, as_json: bool = False, offline: bool = False, timezone: str | None = None,
         fmt: str = Format.table) -> None:
    from syncer import output
    from syncer.commands.goal import goal_progress

    result = goal_progress(console.context(), offline=offline, zone=console.zone(timezone))
    assert result.goal is not None
    console.show(output.goal_output(result.goal, _format(as_json, fmt), warnings=result.warnings))


def report(kind: str, *, as_json: bool = False, since: str | None = None, until: str | None = None,
           timezone: str | None = None, all_devices: bool = False, fmt: str = Format.table, active: bool = False,
           token_limit: str | None = None, order: str = Order.asc, last: int | None = None,
           breakdown: bool = False, compact: bool = False, start_of_week: str = Weekday.monday,
           source: str | None = None, offline: bool = False, all_sessions: bool = False) -> None:
    from syncer import output, render
    from syncer import report as reports

    window = reports.Window(console.day(since, "--since"), console.day(until, "--until"), console.source(source))
    if window.since and window.until and window.since > window.until:
        raise UsageError("--since is after --until")
    fmt = _format(as_json, fmt)
    zone = console.zone(timezone)
    if ReportKind(kind) is ReportKind.blocks:
        _blocks(window, fmt=fmt, zone=zone, all_devices=all_devices, active=active, token_limit=token_limit,
                breakdown=breakdown, offline=offline)
        return
    if active or token_limit is not None:
        raise UsageError("--active and --token-limit apply to: ccsync report blocks")
    session = ReportKind(kind) is ReportKind.session
    if all_sessions and not session:
        raise UsageError("--all-sessions applies to: ccsync report session")
    if all_sessions and last:
        raise UsageError("--all-sessions and --last: give one of them")
    capped = session and fmt == "table" and not last and not all_sessions
    from syncer.commands.report import usage_report

    week_start = list(Weekday).index(Weekday(start_of_week))
    result, warnings = usage_report(console.context(), kind=kind, zone=zone, window=window, all_devices=all_devices,
                                    week_start=week_start, offline=offline,
                                    newest=TABLE_SESSIONS if capped else last if session else None)
    if not capped:
        result = result._replace(left_out=0)  # said only of the sessions a table leaves out unasked
    result = reports.arrange(result, descending=Order(order) is Order.desc, last=last)
    title = render.report_title(result, window=window, zone=zone, device=None if all_devices else _device_name())
    console.show(output.report_output(result, fmt, title=title, warnings=warnings, width=console.width(),
                                      zone=zone, compact=compact, breakdown=breakdown))


def _blocks(window: Window, *, fmt: OutputFormat, zone: tzinfo, all_devices: bool, active: bool,
            token_limit: str | None, breakdown: bool, offline: bool) -> None:
    from syncer import output
    from syncer.commands import blocks

    result = blocks.report_blocks(console.context(), zone=zone, window=window, all_devices=all_devices,
                                  active_only=active, token_limit=token_limit, offline=offline)
    console.show(output.blocks_output(result, fmt, zone=zone, breakdown=breakdown, active_only=active))


def _device_name() -> str:
    from syncer import store
    from syncer.paths import state_paths

    cfg = store.load_config(state_paths())
    return cfg.device if cfg else "this device"


def status(*, as_json: bool = False, fmt: str = Format.table) -> None:
    from syncer import output
    from syncer.commands.status import status as run_status
    from syncer.zones import system_zone

    console.show(output.status_output(run_status(console.context()), _format(as_json, fmt), zone=system_zone()))
