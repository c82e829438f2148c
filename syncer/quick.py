"""The read commands (`report`, `total`, `goal`, `status`) without the CLI's imports.

Typer takes about a tenth of a second of every run (its import, then a pydantic validator it
builds for each option), as long as the rest of a read command. So the entry point asks this
module first: when the arguments are plainly one read command's, they are parsed here and run
by `syncer.views`, the same code the CLI calls. Anything this parser is not sure of (help, an
unknown or repeated option, an option before the command, a value it would have to judge) is
left to the CLI, which runs it, says what is wrong or prints the help. A test holds the tables
below to the CLI's own options, both ways.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Literal, NamedTuple

from syncer import views


class Option(NamedTuple):
    name: str  # the keyword of the `views` function
    flags: tuple[str, ...]
    takes: Literal["flag", "text", "count", "choice"] = "flag"  # a count is an integer from 1
    choices: tuple[str, ...] = ()


class Command(NamedTuple):
    run: Callable[..., None]
    argument: tuple[str, ...] | None  # the one positional argument's choices, if the command has one
    options: tuple[Option, ...]


def _choice(name: str, flag: str, choices: type[StrEnum]) -> Option:
    return Option(name, (flag,), "choice", tuple(c.value for c in choices))


JSON = Option("as_json", ("--json", "-j"))
FORMAT = _choice("fmt", "--format", views.Format)
ZONE = Option("timezone", ("--timezone", "-z"), "text")
OFFLINE = Option("offline", ("--offline",))
SOURCE = Option("source", ("--source",), "text")
COMPACT = Option("compact", ("--compact",))

COMMANDS = {
    "report": Command(views.report, tuple(k.value for k in views.ReportKind), (
        JSON, Option("since", ("--since",), "text"), Option("until", ("--until",), "text"), ZONE,
        Option("all_devices", ("--all-devices",)), FORMAT, Option("active", ("--active",)),
        Option("token_limit", ("--token-limit",), "text"), _choice("order", "--order", views.Order),
        Option("last", ("--last",), "count"), Option("breakdown", ("--breakdown",)), COMPACT,
        _choice("start_of_week", "--start-of-week", views.Weekday), SOURCE, OFFLINE,
        Option("all_sessions", ("--all-sessions",)),
    )),
    "total": Command(views.total, None, (JSON, OFFLINE, _choice("by", "--by", views.By), ZONE, SOURCE, FORMAT,
                                         COMPACT)),
    "goal": Command(views.goal, None, (JSON, OFFLINE, ZONE, FORMAT)),
    "status": Command(views.status, None, (JSON, FORMAT)),
}


def parse(argv: Sequence[str]) -> Callable[[], None] | None:
    """The read command `argv` (without the program name) asks for, ready to run, or None when
    the CLI should handle it."""
    if not argv or argv[0] not in COMMANDS:
        return None
    command = COMMANDS[argv[0]]
    by_flag = {flag: option for option in command.options for flag in option.flags}
    values: dict[str, object] = {}
    arguments: list[str] = []
    rest = iter(argv[1:])
    for arg in rest:
        if not arg.startswith("-"):
            arguments.append(arg)
            continue
        flag, equals, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        option = by_flag.get(flag)
        if option is None or option.name in values:
            return None
        if option.takes == "flag":
            if equals:
                return None
            values[option.name] = True
            continue
        text = inline if equals else next(rest, None)
        value = _value(option, text)
        if value is None or (not equals and text is not None and text.startswith("-")):
            return None
        values[option.name] = value
    if command.argument is None:
        return None if arguments else functools.partial(command.run, **values)
    if len(arguments) != 1 or arguments[0] not in command.argument:
        return None
    return functools.partial(command.run, arguments[0], **values)


def _value(option: Option, text: str | None) -> object | None:
    """The option's value, or None when it is missing or not plainly valid."""
    if not text:
        return None
    if option.takes == "count":
        return int(text) if text.isascii() and text.isdigit() and int(text) >= 1 else None
    if option.takes == "choice":
        return text if text in option.choices else None
    return text
