"""Where ccsync meets the terminal: lines on stdout and stderr, tables, the colour choice, the
context a command runs in, and the option values every command converts the same way.

Typer-free: the read commands run through here without the CLI (`syncer.quick`), and the CLI
(`syncer.cli`) uses the same functions, so both say everything the same way.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from syncer.errors import CcsyncError, UsageError
from syncer.paths import state_paths
from syncer.zones import system_zone

if TYPE_CHECKING:
    from syncer import output, render
    from syncer.commands.context import Context

color: bool | None = None  # --color / --no-color; None: rich decides (terminal, NO_COLOR)


def say(text: str) -> None:
    """A line of plain text on stdout. rich is for tables and the progress bar only: importing
    it costs more than a whole nightly run with nothing to do."""
    sys.stdout.write(text + "\n")


def complain(text: str) -> None:
    sys.stderr.write(text + "\n")


def width() -> int:
    """The terminal's width (or `COLUMNS`); piped output has no width to fit, so a wide one."""
    # shutil.get_terminal_size's rule, without importing shutil (and its bz2 and lzma): 4 ms.
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0 and sys.__stdout__ is not None:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 160


def show_table(shown: render.TableText) -> None:
    from syncer import boxtext

    # rich's characters (and escape codes) without rich, unless only rich can lay the table out
    # or rich writes to a Windows console by its own means. A dumb terminal gets no styles.
    styled = terminal() and os.environ.get("TERM", "").lower() not in ("dumb", "unknown")
    text = None if sys.platform == "win32" and styled else boxtext.draw(shown.table, width(), styled=styled)
    if text is not None:
        sys.stdout.write(text)
    else:
        from rich.console import Console  # here, not at the top: see say

        # rich already leaves styling out when piped and honours NO_COLOR; --color forces it on.
        Console(highlight=False, soft_wrap=True, width=width(), no_color=color is False,
                force_terminal=True if color else None).print(boxtext.to_rich(shown.table))
    if shown.note:
        say(shown.note)


def terminal() -> bool:
    """Whether rich would style its output (its own test, `Console.is_terminal`)."""
    if color:
        return True
    compatible, force = os.environ.get("TTY_COMPATIBLE", ""), os.environ.get("FORCE_COLOR")
    if compatible in ("0", "1"):
        return compatible == "1"
    return force != "" if force is not None else sys.stdout.isatty()


def interactive() -> bool:
    return sys.stdout.isatty()


def context() -> Context:
    from syncer.commands.context import Context

    return Context(paths=state_paths(), env=dict(os.environ), home=Path.home(), now=datetime.now(UTC),
                   on_lock_wait=_waiting if sys.stderr.isatty() else None)


def _waiting(pid: int | None) -> None:
    """A wait for the lock is said on a terminal (off one, e.g. in cron, it is just a wait)."""
    complain(f"waiting for another ccsync{f' (pid {pid})' if pid else ''} to finish…")


def show(shown: output.Shown) -> None:
    """A result as the output layer laid it out: text and tables on stdout, warnings on stderr."""
    for part in shown.parts:
        if isinstance(part, str):
            say(part)
        else:
            show_table(part)
    warn(shown.warnings)


def warn(warnings: Sequence[str]) -> None:
    from syncer import render

    for line in render.warning_lines(warnings):
        complain(line)


def zone(name: str | None) -> tzinfo:
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise UsageError(f"unknown time zone {name!r}; use an IANA name such as Europe/Berlin or UTC") from None
    return system_zone()


def day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    for pattern in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise UsageError(f"{option} {text!r} is not a date; use YYYY-MM-DD or YYYYMMDD")


def source(name: str | None) -> str | None:
    from syncer.sources import SOURCES

    if name is None or name in SOURCES:
        return name
    raise UsageError(f"unknown source {name!r}; use one of: {', '.join(SOURCES)}")


def run(command: Callable[[], object]) -> NoReturn:
    """Run a command to its exit: one line on stderr and the error's exit code for every
    expected failure (DESIGN.md §5); anything else is a bug and keeps its traceback."""
    global color
    color = None  # rich's own choice, unless the CLI's --color/--no-color says otherwise
    try:
        command()
    except CcsyncError as exc:
        complain(f"ccsync: {exc.message}")
        raise SystemExit(exc.exit_code) from None
    raise SystemExit(0)
