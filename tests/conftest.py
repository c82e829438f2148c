"""Every test runs with its own home, state folder and Claude config folder under tmp_path:
no test can read the real ~/.claude, ~/.config/claude or ~/.ccsync."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from syncer.cli import main
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
    for name in ("CODEX_HOME", "GEMINI_HOME", "XDG_CONFIG_HOME", "CCSYNC_GIT_TOKEN", "GIT_TOKEN", "GITHUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: home))
    return home


@pytest.fixture
def claude_dir(tmp_path: Path) -> Path:
    path = tmp_path / "claude"
    (path / "projects").mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "ccsync"


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """Run `ccsync ARGS` in-process: (exit code, stdout, stderr)."""
    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["ccsync", *args])
        capsys.readouterr()
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
