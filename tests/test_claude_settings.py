"""`ccsync statusline install|remove|status`: Claude Code's settings.json edited in place, every
other byte kept, a backup first, and another tool's status line left alone unless forced."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from syncer import claude_settings

Cli = Callable[..., tuple[int, str, str]]

OTHER_KEYS = """{
    "model": "opus",
    "permissions": {
        "allow": ["Bash(npm run test:*)", "Read(~/.zshrc)"],
        "deny": []
    },
    "env": {"GREETING": "grüß dich {not a brace}", "QUOTE": "a \\"quoted\\" word"},
    "hooks": {}
}
"""


@pytest.fixture
def ccsync_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "ccsync"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return f"{exe} statusline"


def settings(tmp_path: Path) -> Path:
    return tmp_path / "claude" / "settings.json"


def entry_text(command: str, indent: str, step: str) -> str:
    return json.dumps(claude_settings.entry(command), indent=step).replace("\n", "\n" + indent)


def test_install_into_a_missing_folder_then_remove(cli: Cli, tmp_path: Path, ccsync_on_path: str) -> None:
    path = settings(tmp_path)
    assert not path.parent.exists()
    installed = f"Installed the status line in {path}.\nUndo with: ccsync statusline remove\n"
    assert cli("statusline", "install") == (0, installed, "")
    assert path.read_text() == '{\n  "statusLine": ' + entry_text(ccsync_on_path, "  ", "  ") + "\n}\n"
    assert json.loads(path.read_text())["statusLine"] == {"type": "command", "command": ccsync_on_path, "padding": 0}
    assert cli("statusline", "status") == (0, f"ccsync's status line is on in {path}: {ccsync_on_path}\n", "")
    assert cli("statusline", "install")[1] == f"Nothing to change in {path}.\n"
    code, out, _ = cli("statusline", "remove")
    assert code == 0 and out.startswith(f"Removed the status line from {path}.\nThe earlier file is saved as ")
    assert json.loads(path.read_text()) == {}
    assert cli("statusline", "status")[1] == (
        f"No status line in {path}. Turn ccsync's on with: ccsync statusline install\n")


def test_other_keys_keep_their_bytes_and_a_backup_is_made(cli: Cli, tmp_path: Path, ccsync_on_path: str) -> None:
    path = settings(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(OTHER_KEYS)
    code, out, err = cli("statusline", "install")
    assert code == 0 and err == ""
    backups = sorted(path.parent.glob("settings.json.ccsync-backup-*"))
    assert len(backups) == 1 and backups[0].read_text() == OTHER_KEYS
    assert out == (f"Installed the status line in {path}.\nThe earlier file is saved as {backups[0]}.\n"
                   f"Undo with: ccsync statusline remove (or put the backup back: cp {backups[0]} {path})\n")
    ours = entry_text(ccsync_on_path, "    ", "    ")
    want = OTHER_KEYS.replace('    "hooks": {}\n}', '    "hooks": {},\n    "statusLine": ' + ours + "\n}")
    assert path.read_text() == want
    assert cli("statusline", "remove")[0] == 0
    assert path.read_text() == OTHER_KEYS  # byte for byte


def test_another_tools_status_line_needs_force(cli: Cli, tmp_path: Path, ccsync_on_path: str) -> None:
    path = settings(tmp_path)
    path.parent.mkdir(parents=True)
    theirs = '{\n  "statusLine": {"type": "command", "command": "npx -y ccusage statusline"},\n  "model": "opus"\n}\n'
    path.write_text(theirs)
    assert cli("statusline", "install") == (
        78, "",
        f"ccsync: {path} already has another status line ('npx -y ccusage statusline'); nothing was changed. "
        "Replace it with: ccsync statusline install --force\n",
    )
    assert cli("statusline", "remove")[0] == 78
    assert cli("statusline", "status")[1] == (
        f"Another status line is set in {path}: npx -y ccusage statusline. "
        "Replace it with: ccsync statusline install --force\n")
    assert path.read_text() == theirs and not list(path.parent.glob("*backup*"))
    assert cli("statusline", "install", "--force")[0] == 0
    assert path.read_text() == theirs.replace('{"type": "command", "command": "npx -y ccusage statusline"}',
                                              entry_text(ccsync_on_path, "  ", "  "))
    backup = next(path.parent.glob("settings.json.ccsync-backup-*"))
    assert backup.read_text() == theirs


def test_a_read_only_file_is_left_alone(cli: Cli, tmp_path: Path, ccsync_on_path: str) -> None:
    path = settings(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(OTHER_KEYS)
    path.chmod(0o444)
    code, out, err = cli("statusline", "install")
    assert (code, out) == (78, "")
    assert err == f"ccsync: {path} is read-only; it was not modified. Make it writable (chmod u+w) and run this again\n"
    assert path.read_text() == OTHER_KEYS and oct(path.stat().st_mode & 0o777) == "0o444"


def test_dry_run_shows_the_change_and_writes_nothing(cli: Cli, tmp_path: Path, ccsync_on_path: str) -> None:
    path = settings(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text('{"model": "opus"}')  # one line, no final newline
    code, out, _ = cli("statusline", "install", "--dry-run", "--segments", "block,goal")
    assert code == 0
    assert out.splitlines()[-3:] == [
        '-{"model": "opus"}',
        '+{"model": "opus", "statusLine": {"type": "command", "command": "' + ccsync_on_path
        + ' --segments block,goal", "padding": 0}}',
        "(dry run: nothing was written)",
    ]
    assert path.read_text() == '{"model": "opus"}' and not list(path.parent.glob("*backup*"))


def test_bad_files_and_options_are_refused(cli: Cli, tmp_path: Path, ccsync_on_path: str) -> None:
    path = settings(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text('{\n  // a comment\n  "model": "opus"\n}\n')
    code, _, err = cli("statusline", "install")
    assert code == 78 and err.startswith(f"ccsync: {path} is not plain JSON (line 2:")
    assert cli("statusline", "install", "--segments", "model,weather") == (
        2, "", "ccsync: unknown segment weather; choose from model,session,today,block,goal\n")


def test_a_symlinked_settings_file_is_edited_where_it_lives(cli: Cli, tmp_path: Path, ccsync_on_path: str) -> None:
    dotfiles = tmp_path / "dotfiles" / "settings.json"
    dotfiles.parent.mkdir()
    dotfiles.write_text('{"model": "opus"}\n')
    path = settings(tmp_path)
    path.parent.mkdir(parents=True)
    path.symlink_to(dotfiles)
    assert cli("statusline", "install")[0] == 0
    assert path.is_symlink() and json.loads(dotfiles.read_text())["statusLine"]["command"] == ccsync_on_path


@pytest.mark.parametrize("text", ["{}", "{ }\n", '{"a": [1, {"b": "}"}], "c": null}', '{\r\n\t"a": 1\r\n}\r\n'])
def test_set_then_remove_gives_the_text_back(text: str) -> None:
    once = claude_settings.set_member(text, "statusLine", {"type": "command"})
    assert json.loads(once) == {**json.loads(text), "statusLine": {"type": "command"}}
    assert json.loads(claude_settings.remove_member(once, "statusLine")) == json.loads(text)
    if json.loads(text):
        assert claude_settings.remove_member(once, "statusLine") == text
    assert claude_settings.set_member(once, "statusLine", {"type": "command"}) == once
