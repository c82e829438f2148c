"""The read commands' path without typer (`syncer.quick`): it takes exactly the CLI's options,
answers exactly as the CLI does, and leaves everything it is not sure of to the CLI."""

from __future__ import annotations

import difflib
import inspect
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path

import orjson
import pytest
import typer.main
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from syncer import cli as cli_module
from syncer import console, quick
from tests import logs
from tests.cli_runner import Cli

SAMPLES = Path(__file__).parent / "samples" / "claude"


def click_command(name: str) -> TyperCommand | TyperGroup:
    group = typer.main.get_command(cli_module.app)
    assert isinstance(group, TyperGroup)
    command = group.commands[name]
    assert isinstance(command, TyperCommand | TyperGroup)
    return command


@pytest.mark.parametrize("name", sorted(quick.COMMANDS))
def test_the_tables_hold_exactly_the_cli_options(name: str) -> None:
    command, spec = click_command(name), quick.COMMANDS[name]
    defaults = {p.name: p.default for p in inspect.signature(spec.run).parameters.values()}
    options = {o.name: o for o in spec.options}
    seen = set()
    for param in command.params:
        assert isinstance(param, TyperArgument | TyperOption) and param.name is not None
        annotation = param.type_descriptor.annotation
        choices = tuple(c.value for c in annotation) if isinstance(annotation, type) and issubclass(
            annotation, Enum) else ()
        if param.param_type_name == "argument":
            assert spec.argument == choices and param.required, param.name
            continue
        option = options.get(param.name)
        assert option is not None, f"{name} {param.opts}: quick.py does not know it"
        seen.add(param.name)
        assert option.flags == (*param.opts, *param.secondary_opts), param.name
        assert not param.secondary_opts and not param.multiple and param.envvar is None and not param.is_eager
        if getattr(param, "is_flag", False):
            assert option.takes == "flag" and param.default is False, param.name
        elif annotation is int:
            assert option.takes == "count" and param.min == 1 and param.max is None, param.name
        elif choices:
            assert (option.takes, option.choices) == ("choice", choices), param.name
        else:
            assert annotation is str and option.takes == "text", param.name
        # The same default either way: the views function's own, which the CLI passes too.
        assert defaults[param.name] == param.default, param.name
    assert seen == set(options), f"quick.py knows options the CLI does not: {set(options) - seen}"


@pytest.fixture
def scanned(cli: Cli, claude_dir: Path) -> None:
    shutil.copytree(SAMPLES, claude_dir, dirs_exist_ok=True)
    assert cli("scan")[0] == 0
    assert cli("goal", "set", "100k", "--by", "2026-12-31")[0] == 0


def through_typer(cli: Cli, *args: str) -> tuple[int, str, str]:
    # An option before the command is one quick.py leaves to the CLI; off a terminal,
    # --no-color changes nothing else.
    assert quick.parse(["--no-color", *args]) is None
    return cli("--no-color", *args)


@pytest.mark.parametrize("args", [
    ("report", "daily"), ("report", "daily", "--json"), ("report", "weekly", "--start-of-week", "sunday"),
    ("report", "monthly", "--format", "csv"), ("report", "session", "--format=markdown", "--order", "desc"),
    ("report", "model", "-z", "Asia/Tokyo", "--breakdown"), ("report", "daily", "--since", "20260101", "--last", "2"),
    ("report", "project", "--compact", "--source", "claude"), ("report", "blocks", "-j"),
    ("report", "daily", "--since", "2026-12-01", "--until", "2026-01-01"), ("report", "daily", "--source", "nope"),
    ("report", "daily", "--active"), ("report", "daily", "-z", "Mars/Base"),
    ("total", "--offline"), ("total", "--offline", "--by", "model", "--json"), ("goal", "--offline"),
    ("goal", "--offline", "--format", "json"), ("status",), ("status", "--json"),
])
def test_a_read_command_answers_as_the_cli_does(
    cli: Cli, scanned: None, args: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert quick.parse(list(args)) is not None
    # Both answer at one moment: a blocks report shows times counted back from now, and on a
    # busy machine the two runs may fall in different seconds.
    real, moment = console.context, datetime.now(UTC)
    monkeypatch.setattr(console, "context", lambda: real()._replace(now=moment))
    quick_answer, typer_answer = cli(*args), through_typer(cli, *args)
    for a, b in zip(quick_answer[1:], typer_answer[1:], strict=True):
        assert a == b, "\n".join(difflib.unified_diff(a.splitlines(), b.splitlines(), "quick", "typer", lineterm=""))
    assert quick_answer[0] == typer_answer[0] and quick_answer[0] in (0, 2, 75)


@pytest.mark.parametrize("args", [
    [], ["report"], ["report", "--help"], ["report", "daily", "-h"], ["report", "dayly"], ["report", "daily", "x"],
    ["report", "daily", "--json", "--json"], ["report", "daily", "--last", "0"], ["report", "daily", "--last", "2x"],
    ["report", "daily", "--last", "٣"], ["report", "daily", "--format", "xml"], ["report", "daily", "--since"],
    ["report", "daily", "--since", "--json"], ["report", "daily", "--since="], ["report", "daily", "-zUTC"],
    ["report", "daily", "--json=yes"], ["report", "daily", "--"], ["report", "daily", "--no-wait"],
    ["goal", "set", "100M"], ["goal", "--help"], ["total", "extra"], ["--no-color", "status"], ["scan"],
    ["status", "--format", "JSON"],
])
def test_anything_unsure_is_left_to_the_cli(args: list[str]) -> None:
    assert quick.parse(args) is None


def test_what_the_cli_would_refuse_it_refuses_through_the_cli(cli: Cli, scanned: None) -> None:
    code, out, err = cli("report", "daily", "--last", "0")
    assert code == 2 and out == "" and "--last" in err
    code, out, err = cli("report", "dayly")
    assert code == 2 and out == "" and "dayly" in err


def test_a_read_command_does_not_import_typer(tmp_path: Path) -> None:
    code = ("import sys\n"
            "from syncer.__main__ import run\n"
            "try:\n    run(['report', 'daily'])\nexcept SystemExit as exc:\n    assert exc.code == 0, exc.code\n"
            "sys.stdout.flush()\n"
            "assert not [m for m in sys.modules if m.split('.')[0] in ('typer', 'click')], 'typer imported'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "No usage recorded" in done.stdout or "Total" in done.stdout


def _main(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """`ccsync args` through the console entry point, in a process that says on stderr whether
    the interpreter's teardown ran (its exit handlers)."""
    code = ("import atexit, sys\n"
            "atexit.register(lambda: sys.stderr.write('torn down\\n'))\n"
            f"sys.argv = ['ccsync', *{list(args)!r}]\n"
            "from syncer.__main__ import main\n"
            "main()\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, input=stdin)


def test_a_read_command_ends_without_teardown_its_output_whole(cli: Cli, claude_dir: Path) -> None:
    """A finished read command leaves at once (the teardown would free every row one at a time),
    its output flushed first: a report bigger than a pipe's buffer arrives whole."""
    logs.write(logs.session_file(claude_dir), *(
        logs.assistant(f"msg_{day}", f"req_{day}", ts=f"{date.fromordinal(739_000 + day).isoformat()}T09:14:05.301Z")
        for day in range(600)))
    assert cli("scan")[0] == 0
    done = _main("report", "daily", "--json", "-z", "UTC")
    assert done.returncode == 0 and len(done.stdout) > 1 << 17, done.stderr
    assert len(orjson.loads(done.stdout)["rows"]) == 600
    assert "torn down" not in done.stderr
    # The CLI's commands (here the help) end as Python ends any program.
    helped = _main("report", "--help")
    assert helped.returncode == 0 and "Usage" in helped.stdout and "torn down" in helped.stderr


def test_a_read_command_that_fails_leaves_with_its_code_and_line(cli: Cli, scanned: None, state_dir: Path) -> None:
    ledger = state_dir / "ledger.json"
    ledger.write_bytes(ledger.read_bytes()[:-40])
    done = _main("total", "--offline")
    assert done.returncode == 65 and done.stdout == ""
    assert done.stderr.startswith("ccsync: ") and len(done.stderr.splitlines()) == 1, done.stderr


def test_the_status_line_and_a_night_with_nothing_new_end_without_teardown(claude_dir: Path) -> None:
    logs.write(logs.session_file(claude_dir), logs.assistant("m1"))
    first = _main()  # the full nightly job: it ends as any program does
    assert first.returncode == 0 and "torn down" in first.stderr, first.stderr
    idle = _main()
    assert (idle.returncode, idle.stdout, idle.stderr) == (0, "", "")
    line = _main("statusline", stdin="{}")
    assert line.returncode == 0 and line.stdout.endswith("\n") and line.stdout.strip() and line.stderr == ""
