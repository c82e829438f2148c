"""Every test runs with its own home, state folder and each source's log folder under tmp_path:
no test can read the real ~/.claude, ~/.config/claude, ~/.codex, ~/.gemini or ~/.ccsync."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from syncer.__main__ import run
from tests.cli_runner import Cli

pytest_plugins = ["tests.gitserver"]  # its git server fixtures, for every test module


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    monkeypatch.setenv("CCSYNC_HOME", str(tmp_path / "ccsync"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    monkeypatch.setenv("TZ", "UTC")
    # Codex and Gemini read ~/.codex and ~/.gemini under the home above unless a test names a
    # folder (`codex_dir`, `gemini_dir`): a variable naming a missing folder is an error.
    for name in ("CODEX_HOME", "GEMINI_CLI_HOME", "GEMINI_HOME", "XDG_CONFIG_HOME",
                 "CCSYNC_GIT_TOKEN", "GIT_TOKEN", "GITHUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: home))
    return home


@pytest.fixture
def claude_dir(tmp_path: Path) -> Path:
    path = tmp_path / "claude"
    (path / "projects").mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def codex_dir(tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`$CODEX_HOME` with its (empty) sessions folder."""
    path = tmp_path / "codex"
    (path / "sessions").mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("CODEX_HOME", str(path))
    return path


@pytest.fixture
def gemini_dir(tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`$GEMINI_CLI_HOME`, holding `.gemini/tmp/`."""
    path = tmp_path / "gemini"
    (path / ".gemini" / "tmp").mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("GEMINI_CLI_HOME", str(path))
    return path


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "ccsync"


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """Run `ccsync ARGS` in-process, as the entry point does after its idle and status line
    checks (read commands without typer when they can): (exit code, stdout, stderr)."""
    def call(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["ccsync", *args])
        capsys.readouterr()
        try:
            run(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call
