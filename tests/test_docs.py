"""Every command has help and is documented in the README; the quick start stays two commands;
ARCHITECTURE.md says what every module owns."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from syncer.cli import app
from tests.cli_runner import Cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def commands() -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    for command in app.registered_commands:
        assert command.callback is not None
        found.append((command.name or command.callback.__name__, command.callback.__doc__))
    for group in app.registered_groups:
        assert group.typer_instance is not None
        found.append((group.name or "", group.typer_instance.info.help))
        for command in group.typer_instance.registered_commands:
            assert command.callback is not None
            found.append((f"{group.name} {command.name}", command.callback.__doc__))
    return found


@pytest.mark.parametrize("name, doc", commands())
def test_command_has_help_and_is_in_the_readme(name: str, doc: str | None) -> None:
    assert doc and doc.strip(), f"ccsync {name} has no help"
    assert f"ccsync {name.split()[0]}" in README, f"ccsync {name} is missing from README.md"


def test_quick_start_is_two_commands_and_ci_runs_the_test_one() -> None:
    block = re.search(r"## Quick start\n\n```sh\n(.*?)```", README, re.S)
    assert block is not None
    lines = [line.split("#")[0].strip() for line in block.group(1).strip().splitlines()]
    assert len(lines) == 2
    assert lines[0].startswith("pip install . && ccsync")
    assert lines[1] in (ROOT / ".ci" / "run").read_text()


def test_architecture_names_every_module() -> None:
    architecture = (ROOT / "ARCHITECTURE.md").read_text()
    package = ROOT / "syncer"
    names = {p.stem for p in package.glob("*.py") if p.stem != "__init__"}
    names |= {f"{p.name}/" for p in package.iterdir() if (p / "__init__.py").is_file()}
    missing = sorted(name for name in names if f"`{name}`" not in architecture)
    assert not missing, f"ARCHITECTURE.md does not say what these own: {missing}"


REFERENCE = "## Command reference"
REFERENCE_INTRO = (
    "Every command's options exactly as `--help` prints them (checked by `tests/test_docs.py`; after\n"
    "changing an option, regenerate this section with `CCSYNC_UPDATE_README=1 pytest tests/test_docs.py`).\n"
)


def test_readme_shows_every_commands_options_as_help_prints_them(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    blocks = []
    for name in ["", *(n for n, _ in commands())]:
        code, out, err = cli(*name.split(), "--help")
        assert (code, err) == (0, ""), name
        blocks.append(f"### `ccsync{' ' + name if name else ''}`\n\n```text\n{out.rstrip()}\n```\n")
    section = f"{REFERENCE}\n\n{REFERENCE_INTRO}\n" + "\n".join(blocks)
    text = README
    if os.environ.get("CCSYNC_UPDATE_README"):
        start = text.find(REFERENCE + "\n")
        if start < 0:
            start = text.index("## How it counts")
            text = text[:start] + section + "\n" + text[start:]
        else:
            end = text.find("\n## ", start + len(REFERENCE))
            text = text[:start] + section + text[end:]
        (ROOT / "README.md").write_text(text)
    assert section in text, "README's command reference differs from --help: regenerate it (see its first lines)"
