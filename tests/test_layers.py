"""The package stays layered (STYLE.md): each external boundary's library is imported in one
module only, and the pure cores do no I/O."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.team import make_team

PACKAGE = Path(__file__).resolve().parent.parent / "syncer"

ONLY_IN = {
    "dulwich": {"git/"},
    "urllib3": {"git/transport.py"},
    "filelock": {"store.py"},
    "typer": {"cli.py"},
    "subprocess": {"schedule.py"},
    # The key index is ours; an export is written for the user; a ccusage database being
    # imported is someone else's, read only.
    "sqlite3": {"keystore.py", "commands/export.py", "commands/import_file.py"},
    "zstandard": {"sources/codex/__init__.py"},
    # The schemas validate bytes; every value ccsync computes with is plain (pydantic takes a
    # read command's whole time budget to import). TEMPORARY: the four modules after "schemas/"
    # become plain on branch `plainfiles`; remove them from this set when it is merged.
    "pydantic": {"schemas/", "goal.py", "store.py", "pricing.py", "documents.py"},
}
PURE = {
    "ledger.py", "tally.py", "report.py", "goal.py", "documents.py", "peers.py", "privacy.py", "events.py", "usage.py",
    "sources/adapter.py", "sources/claude/parser.py", "sources/codex/parser.py", "sources/gemini/parser.py",
    "dashboard.py", "export.py", "blocks.py", "pace.py", "entries.py", "imports.py", "devices.py", "fold.py",
    "output/__init__.py", "output/documents.py", "output/text.py", "output/schemas.py", "boxtext.py",
    "checkpoints.py",
}
IO_NAMES = {"open", "print", "input"}


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_each_boundary_library_is_imported_in_one_module() -> None:
    for path in modules():
        name = path.relative_to(PACKAGE).as_posix()
        for library, allowed in ONLY_IN.items():
            if library in imports(path):
                assert any(name == a or (a.endswith("/") and name.startswith(a)) for a in allowed), (
                    f"{name} imports {library}; only {sorted(allowed)} may"
                )


def test_commands_without_git_do_not_import_dulwich() -> None:
    # dulwich takes longer to import than a whole read command may (DESIGN.md §7): only the
    # commands that talk to the sync repo pay for it.
    light = "syncer.cli, syncer.commands.status, syncer.commands.report, syncer.commands.scan, syncer.git.urls"
    code = f"import sys, {light}; assert not [m for m in sys.modules if m.startswith('dulwich')]"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=PACKAGE.parent)


def test_read_commands_do_not_import_what_only_writes_or_fetches() -> None:
    # status reads checkpoints, not the scan engine (its index is sqlite3); total and goal
    # offline read the sync repo's objects, not the network client or dulwich's Repo.
    reads = "syncer.commands.status, syncer.commands.report, syncer.commands.total, syncer.commands.goal"
    heavy = ("sqlite3", "syncer.scan", "syncer.tally", "syncer.commands.remote", "syncer.git.transport",
             "dulwich.client", "dulwich.repo", "urllib3")
    code = f"import sys, {reads}; assert not {{*{heavy!r}}} & set(sys.modules), {{*{heavy!r}}} & set(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=PACKAGE.parent)


# What only other commands (or a first run) use: each costs every read command milliseconds.
NOT_FOR_READING = {"socket", "secrets", "shutil", "bz2", "lzma", "csv", "zipfile", "tempfile", "importlib.resources",
                   "syncer.events", "hashlib"}


def test_read_commands_import_only_what_they_use(
    tmp_path: Path, cli: Callable[..., tuple[int, str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    make_team(tmp_path, cli, monkeypatch)
    for args in (["report", "daily"], ["report", "session"], ["report", "model"], ["total", "--offline"],
                 ["goal", "--offline"], ["status"]):
        for _ in range(2):  # the second run trusts what the first validated (DESIGN.md §7)
            run = subprocess.run([sys.executable, "-X", "importtime", "-m", "syncer", *args],
                                 capture_output=True, text=True, check=False)
            assert run.returncode == 0, run.stderr
        imported = {line.rsplit("|", 1)[1].strip() for line in run.stderr.splitlines()
                    if line.startswith("import time:")}
        assert "syncer.console" in imported, args  # the read path, not the CLI's
        unwanted = NOT_FOR_READING if args == ["status"] else NOT_FOR_READING | {"syncer.runlog", "syncer.checkpoints"}
        assert not imported & unwanted, (args, imported & unwanted)


# A dataclass costs a read command (and the status line) about a millisecond to create (a named
# tuple a quarter of that, a plain class with __slots__ almost nothing): none is on their path.
# Runs `python -m syncer ARGS`, then names the modules of syncer it imported and every
# dataclass they define.
_DATACLASSES_MADE = """
import os, runpy, sys
sys.argv[0] = "ccsync"
os._exit = sys.exit  # a read command leaves without teardown: here, through the finally below
try:
    runpy.run_module("syncer", run_name="__main__", alter_sys=True)
finally:
    ours = {name: module for name, module in list(sys.modules.items()) if name.startswith("syncer")}
    made = [f"{name}.{key}" for name, module in ours.items() for key, value in vars(module).items()
            if isinstance(value, type) and value.__module__ == name and "__dataclass_fields__" in vars(value)]
    sys.stderr.write("\\nmodules: " + " ".join(ours) + "\\ndataclasses: " + " ".join(made) + "\\n")
"""


def test_read_commands_create_no_dataclass(
    tmp_path: Path, cli: Callable[..., tuple[int, str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    make_team(tmp_path, cli, monkeypatch)
    for args in (["report", "daily"], ["report", "session"], ["report", "model"], ["total", "--offline"],
                 ["goal", "--offline"], ["status"], ["statusline"]):
        run = subprocess.run([sys.executable, "-c", _DATACLASSES_MADE, *args], capture_output=True, text=True,
                             check=False, input="{}")
        assert run.returncode == 0, run.stderr
        modules, made = (set(line.split()[1:]) for line in run.stderr.splitlines()[-2:])
        ran = {"syncer.statusline", "syncer.events"} if args == ["statusline"] else {"syncer.console", "syncer.ledger"}
        assert ran <= modules, args  # the fast path, not the CLI
        assert not made, (args, made)


def test_the_ledger_and_what_computes_with_it_load_without_pydantic() -> None:
    plain = "syncer.ledger, syncer.peers, syncer.privacy, syncer.entries, syncer.fold, syncer.devices, syncer.tally"
    code = f"import sys, {plain}; assert not [m for m in sys.modules if m.startswith('pydantic')]"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=PACKAGE.parent)


def test_only_the_schemas_import_pydantic_at_module_level() -> None:
    # Importing pydantic costs a read command more than half its time (DESIGN.md §7): the value
    # types are plain, built from documents a schema accepted. A module imports pydantic only
    # through a schema (a command that writes may import one at its top; see the next test).
    for path in modules():
        name = path.relative_to(PACKAGE).as_posix()
        top = _module_imports_at_top(path)
        assert name.startswith("schemas/") or not {m for m in top if m.split(".")[0] == "pydantic"}, (
            f"{name} imports pydantic; only syncer/schemas/ may (import a schema inside the function that validates)"
        )


def test_reading_imports_no_schema() -> None:
    reads = ("syncer.goal, syncer.pricing, syncer.store, syncer.documents, syncer.commands.status, "
             "syncer.commands.report, syncer.commands.total, syncer.commands.goal, syncer.views, syncer.quick")
    code = (f"import sys, {reads}; "
            "assert not [m for m in sys.modules if m.startswith(('pydantic', 'syncer.schemas'))]")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=PACKAGE.parent)


def test_pure_modules_do_no_io() -> None:
    for name in PURE:
        tree = ast.parse((PACKAGE / name).read_text())
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} & IO_NAMES
        assert not used, f"{name} calls {used}"
        assert not imports(PACKAGE / name) & {"os", "subprocess", "socket", "shutil", "dulwich", "filelock"}, name


def test_only_the_cli_prints() -> None:
    for path in modules():
        if path.name == "cli.py":
            continue
        calls = [n for n in ast.walk(ast.parse(path.read_text()))
                 if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "print"]
        assert not calls, f"{path.name} prints"


def test_a_source_is_known_only_inside_its_folder() -> None:
    """Only the registry imports a source's folder; everything else goes through `Source`."""
    sources = PACKAGE / "sources"
    names = {p.name for p in sources.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert {"claude", "codex", "gemini"} <= names
    for path in modules():
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "sources" and (len(rel.parts) == 2 or rel.parts[1] in names):
            if len(rel.parts) > 2:  # a source's own folder imports no other source
                other = {f"syncer.sources.{n}" for n in names - {rel.parts[1]}}
                assert not _module_imports(path) & other, f"{rel} imports another source"
            continue
        used = {m for m in _module_imports(path) if m.split(".")[:2] == ["syncer", "sources"] and m.count(".") >= 2
                and m.split(".")[2] in names}
        assert not used, f"{rel} imports {sorted(used)}"


def _module_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _module_imports_at_top(path: Path) -> set[str]:
    """What a module imports when it is imported (not inside functions nor under TYPE_CHECKING)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found
