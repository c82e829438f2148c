"""install/github/: the workflow is valid against GitHub's workflow schema, and its shell steps,
run here against a real sync repository, write the summary and the dashboard and leave the
repository unchanged."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML  # check-jsonschema's YAML reader (a test extra)

from tests.cli_runner import Cli
from tests.gitserver import requires_git
from tests.team import make_team

WORKFLOW = Path(__file__).resolve().parent.parent / "install" / "github" / "ccsync-summary.yml"
CHECK = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or shutil.which("check-jsonschema")
needs_checker = pytest.mark.skipif(CHECK is None, reason="check-jsonschema is a test extra: pip install -e '.[test]'")


def check(path: Path) -> subprocess.CompletedProcess[str]:
    assert CHECK is not None
    return subprocess.run(
        [CHECK, "--builtin-schema", "vendor.github-workflows", str(path)], capture_output=True, text=True, timeout=120
    )


@needs_checker
def test_the_workflow_is_valid() -> None:
    result = check(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_checker
def test_the_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest", 1))
    assert check(broken).returncode != 0


def refs(repo: Path) -> str:
    return subprocess.run(["git", "-C", str(repo), "for-each-ref"], capture_output=True, text=True, check=True).stdout


@requires_git
def test_the_workflow_steps_summarise_a_real_sync_repo(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = make_team(tmp_path, cli, monkeypatch)
    before = refs(remote)
    workspace, temp = tmp_path / "workspace", tmp_path / "runner-temp"
    temp.mkdir()
    subprocess.run(["git", "clone", "--quiet", str(remote), str(workspace)], check=True)  # as actions/checkout
    summary, github_env = temp / "summary.md", temp / "github-env"
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path / "runner-home"),
        "GITHUB_WORKSPACE": str(workspace),
        "RUNNER_TEMP": str(temp),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_ENV": str(github_env),
        "TZ": "UTC",
    }
    steps = YAML(typ="safe").load(WORKFLOW.read_text())["jobs"]["summary"]["steps"]
    ran = []
    for step in steps:
        if "run" not in step or step.get("id") == "install":  # ccsync is this checkout's
            continue
        if github_env.exists():
            env.update(line.split("=", 1) for line in github_env.read_text().splitlines() if "=" in line)  # type: ignore[misc]
        result = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", step["run"]],
            env=env,
            cwd=workspace,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, (step["id"], result.stderr)
        ran.append(step["id"])
    assert ran == ["read", "summary", "dashboard"]
    text = summary.read_text()
    assert text.startswith("## Token usage\n\n### All devices, by device\n| Device |")
    assert "| ana-laptop |" in text and "| ci-runner |" in text and "ci-summary" not in text
    assert "### All devices, by owner" in text and "| Ana |" in text
    assert "### Goal: 2,000,000 processed by 2026-12-31" in text and "### Usage by month" in text
    assert (temp / "site" / "index.html").stat().st_size > 100_000 and (temp / "site" / "usage.db").exists()
    assert refs(remote) == before  # it only read the sync repo
    assert (
        subprocess.run(
            ["git", "-C", str(workspace), "status", "--porcelain"], capture_output=True, text=True, check=True
        ).stdout
        == ""
    )
